"""The learner's transcript as a PDF (ReportLab), rendered on demand from the same rows as the page."""

from io import BytesIO

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from learners.selectors.learner import Transcript
from portal.lib.pdf_text import BOLD, REGULAR, markup, register_fonts


def transcript_pdf(*, learner_name: str, email: str, transcript: Transcript) -> bytes:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4)
    period = "{} – {}".format(
        transcript.start.isoformat() if transcript.start else "the beginning",
        transcript.end.isoformat() if transcript.end else timezone.localdate().isoformat(),
    )
    story = [
        Paragraph("Continuing education transcript", title),
        Paragraph(f"<b>{markup(learner_name, BOLD)}</b> ({markup(email)})", body),
        Paragraph(
            f"Credit claimed from {period}"
            + (f", {markup(transcript.credit_type.label)} only" if transcript.credit_type else ""),
            body,
        ),
        Paragraph(f"Printed {timezone.localtime():%Y-%m-%d %H:%M %Z}", body),
        Spacer(1, 0.15 * inch),
    ]
    rows: list[list[Paragraph | str]] = [
        [Paragraph(f"<b>{h}</b>", body) for h in ("Claimed", "Activity", "Provider", "Credit type", "Amount")]
    ]
    for line in transcript.lines:
        rows.append(
            [
                Paragraph(f"{timezone.localtime(line.claimed_at):%Y-%m-%d}", body),
                Paragraph(
                    markup(line.activity_title)
                    + (
                        f"<br/><font size=7>Sessions: {markup(', '.join(line.sessions))}</font>"
                        if line.sessions
                        else ""
                    ),
                    body,
                ),
                Paragraph(markup(line.provider), body),
                Paragraph(markup(line.credit_type), body),
                Paragraph(f"{line.amount}", body),
            ]
        )
    if not transcript.lines:
        rows.append([Paragraph("No credit claimed in this period.", body), "", "", "", ""])
    table = Table(rows, colWidths=[0.9 * inch, 3.6 * inch, 2.2 * inch, 2.1 * inch, 0.8 * inch], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c5ccd6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Paragraph("Totals", heading)]
    totals = [
        [Paragraph(markup(name), body), Paragraph(f"{amount}", body)] for name, amount in transcript.totals
    ]
    story.append(Table(totals or [[Paragraph("—", body), ""]], colWidths=[3.6 * inch, 1.0 * inch]))
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(LETTER),
        title="Continuing education transcript",
        author="CME Portal",
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.6 * inch,
    )
    document.build(story)
    return buffer.getvalue()
