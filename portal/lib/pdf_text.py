"""PDF text in any script: embedded fonts, and text split into runs each font can draw.

DejaVu Sans covers Latin (Łukasz Żółć, José Ångström), Vietnamese (Nguyễn Thị Minh Khai), Greek and
Cyrillic; Droid Sans Fallback covers Chinese and Japanese (王小明), but only a few Korean syllables, and no
Indic or Thai script (not yet covered). Both are embedded (subset) in every PDF, so a name prints the same
on any reader. ReportLab has no font fallback of its own, so text is
cut into runs by which font has the glyph.
"""

from functools import cache
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdfmetrics.registerFont(TTFont(FALLBACK, FONT_DIR / "DroidSansFallbackFull.ttf"))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    addMapping(FALLBACK, 0, 0, FALLBACK)
    addMapping(FALLBACK, 1, 0, FALLBACK)
    addMapping(FALLBACK, 0, 1, FALLBACK)
    addMapping(FALLBACK, 1, 1, FALLBACK)


@cache
def _covered(font: str) -> frozenset[int]:
    register_fonts()
    # Every font here is registered above as a TTFont; the stubs type getFont as the Type 1 Font.
    return frozenset(cast(TTFont, pdfmetrics.getFont(font)).face.charToGlyph)


def runs(text: str, font: str = REGULAR) -> list[tuple[str, str]]:
    """``text`` as ``(font, piece)`` runs: ``font`` where it has the glyph, the fallback elsewhere."""
    main = _covered(font)
    found: list[tuple[str, str]] = []
    for ch in text:
        use = font if ord(ch) in main or ch.isspace() else FALLBACK
        if found and found[-1][0] == use:
            found[-1] = (use, found[-1][1] + ch)
        else:
            found.append((use, ch))
    return found


def markup(text: str, font: str = REGULAR) -> str:
    """``text`` escaped for a ReportLab Paragraph, with fallback-font runs marked up."""
    return "".join(
        escape(piece) if use == font else f'<font name="{use}">{escape(piece)}</font>'
        for use, piece in runs(text, font)
    )


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(piece, use, size) for use, piece in runs(text, font))


def draw_text(
    canvas, x: float, y: float, text: str, *, font: str = REGULAR, size: float = 11, align: str = "left"
):
    """Draw one line of ``text`` at ``(x, y)``, switching to the fallback font where needed."""
    width = text_width(text, font, size)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    for use, piece in runs(text, font):
        canvas.setFont(use, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, use, size)
