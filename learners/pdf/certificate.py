"""The certificate PDF: a pure function of a certificate version's snapshot, rendered on demand.

Landscape, with everything the accreditation rules ask a certificate to show, a QR code to its
verification page, and fonts embedded so a name in any script prints as the learner wrote it. The same
version always gives the same bytes (ReportLab's invariant mode), so any machine can render any certificate.
"""

from datetime import date
from io import BytesIO

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from learners.models import CertificateVersion
from portal.lib.pdf_text import BOLD, REGULAR, draw_text, markup, register_fonts

INK = colors.HexColor("#1b2430")
ACCENT = colors.HexColor("#0b5cab")
MUTED = colors.HexColor("#4f5b69")
WIDTH, HEIGHT = landscape(LETTER)
MARGIN = 0.55 * inch


def _style(
    name: str, *, size: float, font: str = REGULAR, align=TA_CENTER, color=INK, leading=None
) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=font, fontSize=size, leading=leading or size * 1.25, alignment=align, textColor=color
    )


def _paragraph(canvas: Canvas, text: str, style: ParagraphStyle, x: float, top: float, width: float) -> float:
    """Draw wrapped text with its top at ``top``; return the y below it."""
    paragraph = Paragraph(text, style)
    _, height = paragraph.wrap(width, HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code (segno; error correction M, with its quiet zone) drawn as one rectangle per run of dark
    modules: far quicker than a shape per module."""
    matrix = segno.make_qr(data, error="m", boost_error=False).matrix
    count = len(matrix)
    module = size / (count + 8)  # four modules of quiet zone on each side
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row, cells in enumerate(matrix):
        top = y + size - (row + 5) * module
        col = 0
        while col < count:
            if cells[col]:
                start = col
                while col < count and cells[col]:
                    col += 1
                canvas.rect(x + (start + 4) * module, top, (col - start) * module, module, stroke=0, fill=1)
            else:
                col += 1
    canvas.restoreState()


def render_certificate(version: CertificateVersion) -> bytes:
    return render_snapshot(version.snapshot, version=version.number)


def render_snapshot(snapshot: dict, *, version: int = 1) -> bytes:
    register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), invariant=True, pageCompression=1)
    canvas.setTitle(f"{snapshot['title']}: {snapshot['activity_title']}")
    canvas.setAuthor(snapshot["provider"])
    canvas.setSubject(f"Certificate {snapshot['code']}")

    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN)
    canvas.setLineWidth(0.75)
    canvas.rect(MARGIN / 2 + 6, MARGIN / 2 + 6, WIDTH - MARGIN - 12, HEIGHT - MARGIN - 12)

    inner = WIDTH - 2 * MARGIN - 20
    left = MARGIN + 10
    canvas.setFillColor(MUTED)
    draw_text(
        canvas,
        WIDTH / 2,
        HEIGHT - MARGIN - 18,
        snapshot["provider"].upper(),
        font=BOLD,
        size=11,
        align="center",
    )
    canvas.setFillColor(ACCENT)
    draw_text(canvas, WIDTH / 2, HEIGHT - MARGIN - 52, snapshot["title"], font=BOLD, size=28, align="center")
    canvas.setFillColor(INK)
    y = HEIGHT - MARGIN - 78
    y = _paragraph(canvas, "This certifies that", _style("lead", size=11, color=MUTED), left, y, inner) - 6
    y = (
        _paragraph(
            canvas, markup(snapshot["learner_name"], BOLD), _style("name", size=26, font=BOLD), left, y, inner
        )
        - 6
    )
    verb = "completed" if snapshot["kind"] == "credit" else "participated in"
    y = _paragraph(canvas, f"{verb} the activity", _style("verb", size=11, color=MUTED), left, y, inner) - 4
    y = _paragraph(
        canvas,
        markup(snapshot["activity_title"], BOLD),
        _style("activity", size=15, font=BOLD),
        left + 40,
        y,
        inner - 80,
    )
    facts = [snapshot["activity_type"], snapshot["format"]]
    if snapshot.get("location"):
        facts.append(snapshot["location"])
    facts.append(snapshot["activity_dates"])
    y = _paragraph(
        canvas, markup(" · ".join(facts)), _style("facts", size=9.5, color=MUTED), left, y - 4, inner
    )
    if snapshot.get("sessions"):
        y = _paragraph(
            canvas,
            markup(sessions_line(snapshot["sessions"])),
            _style("facts", size=9.5, color=MUTED),
            left,
            y - 2,
            inner,
        )
    dates = (
        f"Completed {snapshot['completed_on']} · Credit claimed {snapshot['claimed_on']} · "
        f"Certificate issued {snapshot['issued_on']}"
    )
    y = _paragraph(canvas, dates, _style("dates", size=9.5, color=MUTED), left, y - 2, inner) - 10

    body = _style("body", size=9, align=TA_LEFT, leading=11.5)
    strong = _style("strong", size=11, font=BOLD, align=TA_LEFT, leading=14)
    column = inner - 1.9 * inch
    for credit in snapshot["credits"]:
        y = _paragraph(canvas, markup(f"{credit['amount']} {credit['type']}", BOLD), strong, left, y, column)
        text = credit["statement"]
        if credit.get("activity_number"):
            text += f" Activity number: {credit['activity_number']}."
        if text:
            y = _paragraph(canvas, markup(text), body, left, y - 1, column)
        y -= 5
    if snapshot.get("ama_designation"):
        y = (
            _paragraph(
                canvas,
                markup("This certificate confirms participation. " + snapshot["ama_designation"]),
                body,
                left,
                y,
                column,
            )
            - 5
        )
    if snapshot.get("moc"):
        moc = "; ".join(f"{m['board']} {m['points']} points ({m['credit_type']})" for m in snapshot["moc"])
        y = _paragraph(canvas, markup(f"Maintenance of Certification: {moc}."), body, left, y, column) - 5
    small = _style("small", size=8, align=TA_LEFT, leading=10, color=MUTED)
    for statement in (snapshot.get("joint_providership"), snapshot.get("accreditation_statement")):
        if statement:
            y = _paragraph(canvas, markup(statement), small, left, y, column) - 3

    size = 1.35 * inch
    qr_x, qr_y = WIDTH - MARGIN - 10 - size, MARGIN + 34
    draw_qr(canvas, snapshot["verification_url"], qr_x, qr_y, size)
    canvas.setFillColor(INK)
    draw_text(
        canvas, qr_x + size / 2, qr_y - 10, f"Code {snapshot['code']}", font=BOLD, size=9, align="center"
    )
    canvas.setFillColor(MUTED)
    draw_text(canvas, qr_x + size / 2, qr_y - 21, f"Version {version}", size=7.5, align="center")
    draw_text(
        canvas,
        WIDTH / 2,
        MARGIN + 6,
        f"Verify this certificate at {snapshot['verification_url']}",
        size=7.5,
        align="center",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sessions_line(sessions: list[dict]) -> str:
    """The sessions a certificate covers: one in full, several by their dates."""
    if len(sessions) == 1:
        return f"Session attended: {sessions[0]['text']}"
    days = [date.fromisoformat(s["date"]) for s in sessions]
    listed = ", ".join(f"{day:%b} {day.day}, {day.year}" for day in days)
    return f"Sessions attended ({len(sessions)}): {listed}"
