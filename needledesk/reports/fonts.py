"""The fonts every PDF uses: DejaVu Sans (shipped in resources/), registered once, lazily.

A client's name can be in any script, so text is set in an embedded Unicode TTF rather than
the PDF base fonts (which cover Latin-1 only). DejaVu Sans covers Latin (Vietnamese too),
Greek, Cyrillic, Armenian, Georgian, Hebrew and more, but not CJK, Thai or the Indic
scripts; for those an optional `resources/fonts/fallback.ttf` is used when present.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from needledesk.paths import resource_path

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "NeedleDeskFallback"

_lock = threading.Lock()
_primary: frozenset[int] = frozenset()
_fallback: frozenset[int] | None = None
_registered = False


def register_fonts() -> None:
    """Register the fonts with reportlab, the first time only (parsing a TTF takes ~20 ms)."""
    global _registered, _primary, _fallback
    if _registered:
        return
    with _lock:
        if _registered:
            return
        regular = TTFont(REGULAR, str(resource_path("fonts", "DejaVuSans.ttf")))
        bold = TTFont(BOLD, str(resource_path("fonts", "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFont(regular)
        pdfmetrics.registerFont(bold)
        # The family makes <b> in paragraph markup pick the bold face; there is no italic.
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                      boldItalic=BOLD)
        _primary = frozenset(regular.face.charToGlyph) & frozenset(bold.face.charToGlyph)
        fallback_file = resource_path("fonts", "fallback.ttf")
        if fallback_file.is_file():
            try:
                fallback = TTFont(FALLBACK, str(fallback_file))
            except Exception:  # a broken optional font must never stop a printout
                fallback = None
            if fallback is not None:
                pdfmetrics.registerFont(fallback)
                pdfmetrics.registerFontFamily(FALLBACK, normal=FALLBACK, bold=FALLBACK,
                                              italic=FALLBACK, boldItalic=FALLBACK)
                _fallback = frozenset(fallback.face.charToGlyph)
        _registered = True


def runs(text: str) -> Iterator[tuple[str, bool]]:
    """Split `text` into (piece, use_fallback) runs: a piece is set in the fallback font
    only when DejaVu lacks its characters and the fallback has them."""
    register_fonts()
    if _fallback is None or text.isascii():
        yield text, False
        return
    missing = {ch for ch in set(text) if ord(ch) not in _primary and ord(ch) in _fallback}
    if not missing:
        yield text, False
        return
    start, current = 0, None
    for i, ch in enumerate(text):
        # Spaces and combining marks stay with the run they sit in.
        if ch.isspace() or unicodedata.combining(ch):
            continue
        flag = ch in missing
        if current is None:
            current = flag
        elif flag != current:
            yield text[start:i], current
            start, current = i, flag
    yield text[start:], bool(current)


def string_width(text: str, font: str, size: float) -> float:
    """The width of one line of plain text as `draw_string` draws it."""
    return sum(pdfmetrics.stringWidth(piece, FALLBACK if fallback else font, size)
               for piece, fallback in runs(text))


def draw_string(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, *,
                align: str = "left") -> float:
    """Draw one line of plain (unescaped) text on a canvas, switching to the fallback font for
    the characters DejaVu lacks. Returns the width drawn."""
    pieces = [(piece, FALLBACK if fallback else font) for piece, fallback in runs(text)]
    width = sum(pdfmetrics.stringWidth(piece, name, size) for piece, name in pieces)
    if align == "right":
        x -= width
    elif align == "center":
        x -= width / 2
    for piece, name in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, name, size)
    return width
