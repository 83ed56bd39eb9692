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

from activities.statements import italic_credit_name
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
    verb = "participated in" if snapshot["kind"] == "participation" else "completed"
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

    _draw_body(canvas, body_items(snapshot), left=left, top=y, width=inner - 1.9 * inch, bottom=MARGIN + 20)

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


# The body's items, in order: ``(kind, markup)``. Kinds: "credit" (a bold line), "text", "small", "ja" (the
# Joint Accreditation statement, which stands alone between drawn lines).
Item = tuple[str, str]


def _text(text: str) -> str:
    return italic_credit_name(markup(text))


def body_items(snapshot: dict) -> list[Item]:
    """What the certificate states below the activity: each credit claimed with its designation statement
    (and, for ACPE credit, the UAN, activity type, CEUs and the CPE Monitor note), the AMA designation on a
    participation certificate, MOC and the boards' statements, the provider's address where nursing credit
    asks for it, the accreditation statements, and the Joint Accreditation statement last, alone."""
    items: list[Item] = []
    for credit in snapshot["credits"]:
        items.append(("credit", italic_credit_name(markup(f"{credit['amount']} {credit['type']}", BOLD))))
        text = credit_text(credit)
        if text:
            items.append(("text", _text(text)))
    if snapshot.get("cpe_monitor_note"):
        items.append(("text", _text(snapshot["cpe_monitor_note"])))
    if snapshot.get("ama_designation"):
        items.append(
            ("text", _text("This certificate confirms participation. " + snapshot["ama_designation"]))
        )
    if snapshot.get("moc"):
        moc = "; ".join(f"{m['board']} {m['points']} points ({m['credit_type']})" for m in snapshot["moc"])
        items.append(("text", markup(f"Maintenance of Certification: {moc}.")))
    for text in snapshot.get("moc_statements", []):
        items.append(("small", markup(text)))
    if snapshot.get("provider_address"):
        items.append(("small", markup(f"{snapshot['provider']} · {snapshot['provider_address']}")))
    if "accreditation_statements" in snapshot:
        others = snapshot["accreditation_statements"]
    else:  # a version issued before statements were kept per accreditation
        others = [snapshot.get("joint_providership"), snapshot.get("accreditation_statement")]
    items.extend(("small", markup(text)) for text in others if text)
    if snapshot.get("ja_statement"):
        items.append(("ja", markup(snapshot["ja_statement"])))
    return items


def credit_text(credit: dict) -> str:
    """A credit's designation statement, with its activity number; for ACPE credit the UAN, the ACPE activity
    type and the CEUs (0.1 CEU per contact hour)."""
    text = credit["statement"]
    if credit.get("code") != "pharmacy":
        number = credit.get("activity_number")
        return f"{text} Activity number: {number}." if number else text
    facts = []
    if credit.get("activity_number"):
        facts.append(f"UAN {credit['activity_number']}")
    if credit.get("acpe_activity_type"):
        facts.append(f"ACPE activity type: {credit['acpe_activity_type']}")
    if credit.get("ceus"):
        facts.append(f"{credit['amount']} contact hours ({credit['ceus']} CEUs)")
    return " ".join(part for part in (text, " · ".join(facts) + "." if facts else "") if part)


def _styles(scale: float) -> dict[str, ParagraphStyle]:
    return {
        "credit": _style("strong", size=11 * scale, font=BOLD, align=TA_LEFT, leading=14 * scale),
        "text": _style("body", size=9 * scale, align=TA_LEFT, leading=11.5 * scale),
        "small": _style("small", size=8 * scale, align=TA_LEFT, leading=10 * scale, color=MUTED),
        "ja": _style("ja", size=8 * scale, align=TA_LEFT, leading=10 * scale, color=INK),
    }


GAP = {"credit": 1, "text": 5, "small": 3, "ja": 0}
RULE_GAP = 5  # between the Joint Accreditation statement and the lines around it


def _layout(
    items: list[Item], width: float, scale: float
) -> tuple[list[tuple[str, Paragraph, float]], float]:
    """Each item as ``(kind, paragraph, height)``, and the total height, at ``scale``."""
    styles = _styles(scale)
    laid, total = [], 0.0
    for kind, text in items:
        paragraph = Paragraph(text, styles[kind])
        _, height = paragraph.wrap(width, HEIGHT)
        laid.append((kind, paragraph, height))
        total += height + GAP[kind] * scale + (2 * RULE_GAP if kind == "ja" else 0)
    return laid, total


def _draw_body(
    canvas: Canvas, items: list[Item], *, left: float, top: float, width: float, bottom: float
) -> None:
    """Draw ``items`` from ``top`` down, smaller when that is what it takes to fit above ``bottom``."""
    for scale in (1.0, 0.92, 0.85, 0.78, 0.7, 0.62):
        laid, total = _layout(items, width, scale)
        if top - total >= bottom:
            break
    y = top
    for kind, paragraph, height in laid:
        if kind == "ja":
            y -= RULE_GAP
            _rule(canvas, left, y, width)
            y -= RULE_GAP
        paragraph.drawOn(canvas, left, y - height)
        y -= height + GAP[kind] * scale
        if kind == "ja":
            y -= RULE_GAP
            _rule(canvas, left, y, width)


def _rule(canvas: Canvas, x: float, y: float, width: float) -> None:
    """A drawn line: Joint Accreditation's statement "must be separated by a line from any other
    statements"."""
    canvas.saveState()
    canvas.setStrokeColor(MUTED)
    canvas.setLineWidth(0.6)
    canvas.line(x, y, x + width, y)
    canvas.restoreState()
