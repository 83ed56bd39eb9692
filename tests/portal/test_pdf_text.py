"""PDF text helpers: italics through ``<i>`` and ``markup(..., italic=True)``, with the other fonts' runs."""

from io import BytesIO

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from portal.lib.pdf_text import BOLD, REGULAR, draw_text, italic, markup, register_fonts, runs, text_width
from tests.helpers import drawn, glyphless

CREDIT = "AMA PRA Category 1 Credit™"


def paragraph_pdf(text: str, font: str = REGULAR) -> bytes:
    register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=True)
    paragraph = Paragraph(text, ParagraphStyle("p", fontName=font, fontSize=10))
    paragraph.wrap(400, 100)
    paragraph.drawOn(canvas, 72, 600)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_the_credit_name_prints_in_dejavu_sans_oblique():
    pdf = paragraph_pdf(f"1.50 {italic(CREDIT)} awarded")
    assert ("DejaVuSans-Oblique", CREDIT) in drawn(pdf)
    assert ("DejaVuSans", "1.50 ") in drawn(pdf)
    assert glyphless(pdf) == []


def test_italics_in_a_bold_paragraph_print_in_bold_oblique():
    pdf = paragraph_pdf(markup(CREDIT, BOLD, italic=True), BOLD)
    assert [font for font, text in drawn(pdf) if text.strip()] == ["DejaVuSans-BoldOblique"]


def test_other_scripts_stay_upright_inside_italics():
    pdf = paragraph_pdf(italic("王小明 김민준 محمد Credit"))
    fonts = [font for font, text in drawn(pdf) if text.strip()]
    assert fonts == ["DroidSansFallback", "NanumSquareR", "NotoSansArabic-Regular", "DejaVuSans-Oblique"]
    assert glyphless(pdf) == []


def test_markup_escapes_and_marks_up_each_run():
    assert markup("A & B") == "A &amp; B"
    assert italic("<b>") == "<i>&lt;b&gt;</i>"
    assert markup("Ada 김") == 'Ada <font name="NanumSquareR">김</font>'


def test_a_drawn_line_is_as_wide_as_its_runs():
    register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=True)
    draw_text(canvas, 300, 700, "محمد أحمد, MD", size=12, align="center")
    canvas.showPage()
    canvas.save()
    assert [text for _, text in drawn(buffer.getvalue())] == ["ﺪﻤﺣأ", " ", "ﺪﻤﺤﻣ", ", MD"]
    assert 60 < text_width("محمد أحمد, MD", REGULAR, 12) < 120


def test_i_around_a_whole_markup_keeps_each_shaped_run_in_its_font():
    pdf = paragraph_pdf(f"<i>{markup('محمد أحمد 王小明')}</i>")
    fonts = {font for font, text in drawn(pdf) if text.strip()}
    assert fonts == {"NotoSansArabic-Regular", "DroidSansFallback"}
    assert glyphless(pdf) == []


def test_digits_among_arabic_letters_read_left_to_right():
    assert runs("محمد ١٢٣") == [(REGULAR, "١٢٣ "), ("NotoSansArabic-Regular", "ﺪﻤﺤﻣ")]
