"""PDF text in any script: embedded fonts, text split into runs each font can draw, shaped and in visual order.

Fonts, all vendored in ``portal/fonts`` (licenses in ``LICENSES.txt``) so that a certificate renders to
the same bytes on any machine, whatever fonts it has installed:

- DejaVu Sans (regular, bold, oblique, bold oblique) for Latin (Łukasz Żółć, José Ångström), Vietnamese
  (Nguyễn Thị Minh Khai), Greek and Cyrillic;
- a font per script for Korean (NanumSquare: all 11,172 Hangul syllables), Arabic, Hebrew, Devanagari and
  Thai (Noto Sans), regular and bold, used for every character of that script;
- Droid Sans Fallback for Chinese and Japanese (王小明), and anything else DejaVu Sans lacks.

ReportLab has no font fallback of its own, so text is cut into runs by which font draws each character.
Nor does it shape complex scripts or order right-to-left text, so:

- a line is put in visual order first (the Unicode bidirectional algorithm, python-bidi, on a left-to-right
  line: the documents are English, so "محمد أحمد, MD" prints as the name right to left, then ", MD");
- each run in an Arabic, Hebrew, Devanagari or Thai font is shaped by HarfBuzz (uharfbuzz): Arabic letters
  take their joined forms, Devanagari its conjuncts and reordered vowel signs, Thai and Hebrew their mark
  glyphs. The run is then written as the glyphs HarfBuzz chose, each as a character of the font: the
  glyph's own code point where the font maps one (Arabic presentation forms, which text extraction
  normalises back with NFKC), else a private-use code point fixed per glyph id when the font is registered,
  so the output does not depend on what was rendered before. Glyphs are placed at the font's advance
  widths; HarfBuzz's fine mark offsets and kerning are not applied.

Bold and italic: ``markup(text, BOLD)`` marks up text for a bold paragraph; ``markup(text, italic=True)``
(or ``italic(text)``) for italics, as the AMA asks of "AMA PRA Category 1 Credit™": the DejaVu runs are
wrapped in ``<i>`` and print in DejaVu Sans Oblique (``<i>`` and ``<b>`` are mapped for the DejaVu Sans
family), while the other fonts, which have no italics, stay upright in the weight they were shaped in
(inside ``<i>`` or ``<b>`` they map to themselves, so a shaped run never changes font under its glyphs).
Wrap only whole ``markup()`` results in ``<b>``/``<i>``, and pass the same weight and slant to ``markup()``.
A right-to-left run that a paragraph wraps onto two lines keeps the visual order of the whole line: fine for
names and short fields, which fit on a line.
"""

import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, cast
from xml.sax.saxutils import escape

import uharfbuzz
from bidi import get_display
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
FALLBACK = "DroidSansFallback"

# The main fonts' files, and the slanted face of each.
MAIN_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
}
ITALIC_OF = {REGULAR: ITALIC, BOLD: BOLD_ITALIC, ITALIC: ITALIC, BOLD_ITALIC: BOLD_ITALIC}
BOLD_FACES = {BOLD, BOLD_ITALIC}

# Scripts with a font of their own: the regular and bold font (each in ``<name>.ttf``), whether HarfBuzz
# shapes its runs, and its Unicode blocks. Hangul needs no shaping (names are written in precomposed
# syllables).
SCRIPTS = [
    ("NanumSquareR", "NanumSquareB", False, [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)]),
    ("NotoSansArabic-Regular", "NotoSansArabic-Bold", True,
     [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]),
    ("NotoSansHebrew-Regular", "NotoSansHebrew-Bold", True, [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)]),
    ("NotoSansDevanagari-Regular", "NotoSansDevanagari-Bold", True, [(0x0900, 0x097F), (0xA8E0, 0xA8FF)]),
    ("NotoSansThai-Regular", "NotoSansThai-Bold", True, [(0x0E00, 0x0E7F)]),
]  # fmt: skip
SHAPED = {font for regular, bold, shaped, _ in SCRIPTS if shaped for font in (regular, bold)}
# Zero-width joiners and non-joiners belong to the run they sit in (Arabic and Devanagari use them).
JOINERS = {"\u200c", "\u200d"}


@cache
def register_fonts() -> None:
    """Register every font with ReportLab, and the bold and italic mapping ``<b>`` and ``<i>`` use."""
    for name, filename in MAIN_FILES.items():
        pdfmetrics.registerFont(TTFont(name, FONT_DIR / filename))
    pdfmetrics.registerFont(TTFont(FALLBACK, FONT_DIR / "DroidSansFallbackFull.ttf"))
    for regular, bold, shaped, _ in SCRIPTS:
        for name in (regular, bold):
            font = TTFont(name, FONT_DIR / f"{name}.ttf")
            if shaped:
                _map_every_glyph(font)
            pdfmetrics.registerFont(font)
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, BOLD_ITALIC)
    # Fonts without italics map to themselves in every style, so a run keeps the glyphs it was given.
    for name in [FALLBACK, *(font for regular, bold, _, _ in SCRIPTS for font in (regular, bold))]:
        for bold_flag in (0, 1):
            for italic_flag in (0, 1):
                addMapping(name, bold_flag, italic_flag, name)


def _map_every_glyph(font: TTFont) -> None:
    """Give each glyph the font's cmap leaves unmapped (contextual forms, conjuncts) a private-use code
    point, in glyph-id order, so a shaped run can be written as characters and the same glyph is always the
    same character, whatever was rendered before."""
    face = _face(font)
    hb_font = _hb_font_for(font)
    scale = 1000 / hb_font.face.upem
    code = 0xE000
    for gid in range(1, face.numGlyphs):
        if gid in face.glyphToChar:
            continue
        while code in face.charToGlyph:
            code += 1
        face.charToGlyph[code] = gid
        face.glyphToChar[gid] = [code]
        face.charWidths[code] = hb_font.get_glyph_h_advance(gid) * scale
        code += 1
    if code > 0xF8FF:
        raise ValueError(f"{font.fontName} has more unmapped glyphs than the private use area holds")


def _face(font: TTFont) -> Any:
    # The stubs leave out the face's glyph-to-character map and its file's bytes.
    return font.face


def _hb_font_for(font: TTFont) -> uharfbuzz.Font:
    return uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob(_face(font)._ttf_data)))


@cache
def _hb_font(font: str) -> uharfbuzz.Font:
    return _hb_font_for(_ttf(font))


def _ttf(font: str) -> TTFont:
    register_fonts()
    # Every font here is registered above as a TTFont; the stubs type getFont as the Type 1 Font.
    return cast(TTFont, pdfmetrics.getFont(font))


@cache
def _covered(font: str) -> frozenset[int]:
    """The characters the font's own cmap maps (not the private-use code points given to its glyphs)."""
    face = _ttf(font).face
    return frozenset(c for c in face.charToGlyph if not 0xE000 <= c <= 0xF8FF)


@cache
def _script_font(ch: str, bold: bool) -> str | None:
    if unicodedata.bidirectional(ch) in ("AN", "EN"):
        # Digits run left to right even among Arabic letters: left out of the shaped right-to-left run,
        # which is reversed back to logical order whole.
        return None
    code = ord(ch)
    for regular, bold_font, _, blocks in SCRIPTS:
        if any(start <= code <= end for start, end in blocks):
            font = bold_font if bold else regular
            return font if code in _covered(font) else None
    return None


def _font_for(ch: str, font: str, previous: str | None) -> str:
    if previous is not None and (ch in JOINERS or (previous in SHAPED and unicodedata.combining(ch))):
        return previous
    script = _script_font(ch, font in BOLD_FACES)
    if script is not None:
        return script
    if ord(ch) in _covered(font) or ch.isspace():
        return font
    return FALLBACK


def _split(text: str, font: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for ch in text:
        use = _font_for(ch, font, found[-1][0] if found else None)
        if found and found[-1][0] == use:
            found[-1] = (use, found[-1][1] + ch)
        else:
            found.append((use, ch))
    return found


def _is_rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def _shape(piece: str, font: str) -> str:
    """``piece`` (logical order) as the characters of the glyphs HarfBuzz picks, left to right."""
    buffer = uharfbuzz.Buffer()
    buffer.add_str(piece)
    buffer.guess_segment_properties()
    uharfbuzz.shape(_hb_font(font), buffer, {"kern": False})
    glyph_to_char = _face(_ttf(font)).glyphToChar
    return "".join(chr(min(glyph_to_char[info.codepoint])) for info in buffer.glyph_infos if info.codepoint)


def runs(text: str, font: str = REGULAR) -> list[tuple[str, str]]:
    """``text`` as ``(font, piece)`` runs in visual order, left to right: a script's own font for its
    characters, ``font`` where it has the glyph, the fallback elsewhere. A piece in a shaped font holds
    the glyphs to draw (see the module docstring), not the text as written."""
    rtl = any(_is_rtl(ch) for ch in text)
    visual = get_display(text, base_dir="L") if rtl else text
    found = []
    for use, piece in _split(visual, font):
        if use in SHAPED:
            # python-bidi reversed the right-to-left run; HarfBuzz takes it in logical order and gives its
            # glyphs left to right.
            piece = _shape(piece[::-1] if any(_is_rtl(ch) for ch in piece) else piece, use)
        found.append((use, piece))
    return found


def markup(text: str, font: str = REGULAR, *, italic: bool = False) -> str:
    """``text`` escaped for a ReportLab Paragraph, with the runs in other fonts marked up.

    ``font`` is the paragraph's font (``REGULAR`` or ``BOLD``): the text is split by what it can draw.
    With ``italic``, the runs in ``font`` are wrapped in ``<i>`` and so print in its oblique face; runs in
    the script and fallback fonts stay upright. Put the result inside ``<b>`` only if ``font`` is bold.
    """
    main = ITALIC_OF[font] if italic else font
    return "".join(_piece(use, piece, main, italic) for use, piece in runs(text, main))


def italic(text: str, font: str = REGULAR) -> str:
    """``markup(text, font, italic=True)``: Paragraph markup printing ``text`` in italics."""
    return markup(text, font, italic=True)


def _piece(use: str, piece: str, main: str, italic: bool) -> str:
    if use != main:
        return f'<font name="{use}">{escape(piece)}</font>'
    return f"<i>{escape(piece)}</i>" if italic else escape(piece)


def text_width(text: str, font: str, size: float) -> float:
    return _width(runs(text, font), size)


def _width(found: Iterable[tuple[str, str]], size: float) -> float:
    return sum(pdfmetrics.stringWidth(piece, use, size) for use, piece in found)


def draw_text(
    canvas, x: float, y: float, text: str, *, font: str = REGULAR, size: float = 11, align: str = "left"
):
    """Draw one line of ``text`` at ``(x, y)``, each run in the font that has its glyphs."""
    found = runs(text, font)
    width = _width(found, size)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    for use, piece in found:
        canvas.setFont(use, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, use, size)
