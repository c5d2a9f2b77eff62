"""The fonts every PDF uses, and the fonts of this PC for the scripts they lack.

A client's name can be in any script, so text is set in embedded Unicode TrueType fonts rather
than the PDF base fonts (which cover Latin-1 only). DejaVu Sans (shipped in resources/) covers
Latin (Vietnamese too), Greek, Cyrillic, Armenian, Georgian, Arabic, Hebrew and more, but not
Chinese, Japanese, Korean, Thai or the Indic scripts. For a character DejaVu lacks, a font of
this PC that has it is found on first need and kept for the life of the process:
`resources/fonts/fallback.ttf` when a clinic adds one, then Windows' own fonts (Microsoft
YaHei, SimSun, Malgun Gothic, Meiryo, Nirmala UI, Leelawadee UI ...), elsewhere fontconfig's
answer to "which fonts have this character" (`fc-list :charset=…`), then a few known paths.
reportlab reads TrueType outlines only: a CFF font (most `.otf` files) is passed over.

Arabic and Hebrew run right to left and Arabic letters join: a run of such text is shaped
with HarfBuzz (`uharfbuzz`, through reportlab's own shaping) and its words are laid out right
to left. Latin-only text takes none of these paths and costs what it did before.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

from needledesk.paths import resource_path

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
#: The name of a clinic's own `resources/fonts/fallback.ttf`; fonts found on the PC are
#: registered as `NeedleDeskFallback1`, `NeedleDeskFallback2` ...
FALLBACK = "NeedleDeskFallback"

#: Scripts whose letters change shape with their neighbours, or that run right to left:
#: Hebrew, Arabic, Syriac, Thaana, N'Ko ... (U+0590-08FF), the Indic scripts, Thai, Lao,
#: Tibetan, Myanmar, Khmer, and the Hebrew and Arabic presentation forms.
_COMPLEX = re.compile("[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff"
                      "\ufb1d-\ufdff\ufe70-\ufeff]")

#: Windows' own TrueType fonts, by the script they are there for (Windows 10 and 11 carry
#: the first of each; the rest come with language packs or older versions).
_WINDOWS_FONTS = {
    "hangul": ["malgun.ttf", "gulim.ttc", "batang.ttc"],
    "kana": ["meiryo.ttc", "YuGothR.ttc", "msgothic.ttc", "msmincho.ttc"],
    "han": ["msyh.ttc", "msyh.ttf", "simsun.ttc", "simhei.ttf", "msjh.ttc", "mingliub.ttc",
            "meiryo.ttc", "YuGothR.ttc", "msgothic.ttc", "malgun.ttf"],
    "other": ["segoeui.ttf", "arial.ttf", "tahoma.ttf", "Nirmala.ttf", "LeelawUI.ttf",
              "ebrima.ttf", "gadugi.ttf", "seguisym.ttf", "seguihis.ttf", "ARIALUNI.TTF"],
}
#: Known TrueType files elsewhere, for a machine without fontconfig's `fc-list`.
_KNOWN_PATHS = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
]
#: Fonts fontconfig offers for one character that are tried before giving up on it.
_TRIES_PER_CHARACTER = 4

_lock = threading.RLock()
_primary: frozenset[int] = frozenset()
_registered = False
#: Fonts found for characters DejaVu lacks, in the order they were found: (name, its chars).
_found: list[tuple[str, frozenset[int]]] = []
#: Every font file already tried (path, index), found useful or not.
_tried: set[tuple[str, int]] = set()
#: The font for each character looked up so far beyond DejaVu: a fallback's name, or None
#: for a character no font of this PC has.
_font_of: dict[int, str | None] = {}
#: The file each fallback font was read from: {name: "path" or "path, font 2" in a collection}.
files: dict[str, str] = {}
_collecting = threading.local()


def register_fonts() -> None:
    """Register the fonts with reportlab, the first time only (parsing a TTF takes ~20 ms).
    The PC's fonts are not looked at here, only when a character needs one."""
    global _registered, _primary
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
        _registered = True


def _needs_no_font(ch: str) -> bool:
    """Spaces, controls and invisible format characters (joiners, direction marks)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _script_key(code: int) -> str:
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return "kana"
    if (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF
            or 0xFF00 <= code <= 0xFFEF):
        return "han"
    return "other"


def _windows_candidates(code: int) -> list[tuple[str, int]]:
    folders = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    local = os.environ.get("LOCALAPPDATA")
    if local:
        folders.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    key = _script_key(code)
    names = _WINDOWS_FONTS[key] + [n for k, v in _WINDOWS_FONTS.items() if k != key for n in v]
    return [(str(folder / name), 0) for name in dict.fromkeys(names) for folder in folders
            if (folder / name).is_file()]


def _fontconfig_candidates(code: int) -> list[tuple[str, int]]:
    """TrueType files fontconfig says have the character: `fc-list :charset=4e2d`."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run([fc_list, "--format", "%{file}\t%{index}\n", f":charset={code:x}"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        path, _, index = line.partition("\t")
        if path.lower().endswith((".ttf", ".ttc")):
            found.append((path, int(index) if index.isdigit() else 0))
    # Regular faces first (fontconfig lists in no particular order), then by path for a
    # choice that is the same on every run.
    found.sort(key=lambda f: (any(w in Path(f[0]).stem.lower()
                                  for w in ("bold", "italic", "oblique", "light", "black")),
                              f))
    return found


def _candidates(code: int) -> list[tuple[str, int]]:
    own = resource_path("fonts", "fallback.ttf")
    found = [(str(own), 0)] if own.is_file() else []
    if sys.platform == "win32":
        found += _windows_candidates(code)
    else:
        found += _fontconfig_candidates(code)[:_TRIES_PER_CHARACTER]
        found += [(p, 0) for p in _KNOWN_PATHS if Path(p).is_file()]
    return found


def _load(path: str, index: int) -> tuple[str, frozenset[int]] | None:
    """Register one font file (once); None when reportlab cannot use it (CFF outlines, a
    broken file): a font of the PC must never stop a printout."""
    _tried.add((path, index))
    is_own = Path(path) == resource_path("fonts", "fallback.ttf")
    name = FALLBACK if is_own else f"{FALLBACK}{len(_found) + 1}"
    try:
        font = TTFont(name, path, subfontIndex=index)
    except Exception:
        return None
    pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    entry = (name, frozenset(font.face.charToGlyph))
    files[name] = path if not index else f"{path}, font {index + 1}"
    _found.append(entry)
    return entry


def font_for(code: int) -> str | None:
    """The fallback font that has character `code` (DejaVu lacks it), or None if no font of
    this PC has it. Looked up once per character."""
    try:
        return _font_of[code]
    except KeyError:
        pass
    with _lock:
        name = next((n for n, chars in _found if code in chars), None)
        if name is None:
            for path, index in _candidates(code):
                if (path, index) in _tried:
                    continue
                entry = _load(path, index)
                if entry is not None and code in entry[1]:
                    name = entry[0]
                    break
        _font_of[code] = name
        return name


def runs(text: str) -> Iterator[tuple[str, str | None]]:
    """Split `text` into (piece, font) runs: `font` is the fallback font for a piece DejaVu
    lacks the characters of, None for a piece set in the text's own font. A character no
    font has stays in the text's own font (it prints as an empty box) and is noted for
    `missing_characters`."""
    register_fonts()
    if text.isascii():
        yield text, None
        return
    lacking = {ch for ch in set(text) if ord(ch) not in _primary and not _needs_no_font(ch)}
    if not lacking:
        yield text, None
        return
    chosen = {ch: font_for(ord(ch)) for ch in lacking}
    absent = [ch for ch, name in chosen.items() if name is None]
    if absent:
        _note_missing(text, absent)
    start, current = 0, None
    first = True
    for i, ch in enumerate(text):
        # Spaces and combining marks stay with the run they sit in.
        if _needs_no_font(ch) or unicodedata.combining(ch):
            continue
        name = chosen.get(ch)
        if first:
            current, first = name, False
        elif name != current:
            yield text[start:i], current
            start, current = i, name
    yield text[start:], current


def needs_shaping(text: str) -> bool:
    """True for text in a script that is shaped (Arabic, Hebrew, Indic, Thai ...)."""
    return _COMPLEX.search(text) is not None


def _shaped(piece: str, font: str, size: float) -> str:
    """`piece` ready for `Canvas.drawString`: for a script that needs it, shaped by HarfBuzz
    (a reportlab ShapedStr carrying the glyph positions)."""
    if not needs_shaping(piece):
        return piece
    try:
        # Word by word, as reportlab's paragraphs do: each word takes its own direction, and
        # reportlab lays a run of right-to-left words out from the right when it draws them.
        words = re.split(r"(\s+)", piece)
        shaped: str = shapeStr("", font, size, force=True)
        for word in words:
            shaped += shapeStr(word, font, size, force=True)
        return shaped
    except Exception:  # no HarfBuzz: the letters print unjoined rather than not at all
        return piece


def _width(text: str, font: str, size: float) -> float:
    if isinstance(text, ShapedStr):
        data = getattr(text, "__shapeData__", None) or []
        return float(sum(sd.x_advance for sd in data)) * size / 1000
    return float(pdfmetrics.stringWidth(text, font, size))


def string_width(text: str, font: str, size: float) -> float:
    """The width of one line of plain text as `draw_string` draws it."""
    return sum(_width(_shaped(piece, name or font, size), name or font, size)
               for piece, name in runs(text))


def shaped_runs(text: str, font: str, size: float) -> list[tuple[str, str, float]]:
    """One line of plain text as `draw_string` sets it: (piece ready to draw, its font, its
    width) runs, for drawings that place their own strings (reportlab graphics' String)."""
    pieces = []
    for piece, name in runs(text):
        name = name or font
        shaped = _shaped(piece, name, size)
        pieces.append((shaped, name, _width(shaped, name, size)))
    return pieces


def draw_string(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, *,
                align: str = "left") -> float:
    """Draw one line of plain (unescaped) text on a canvas, switching to a fallback font for
    the characters DejaVu lacks and shaping Arabic and the like. Returns the width drawn."""
    pieces = shaped_runs(text, font, size)
    width = sum(w for _p, _n, w in pieces)
    if align == "right":
        x -= width
    elif align == "center":
        x -= width / 2
    for shaped, name, piece_width in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, shaped)
        x += piece_width
    return width


# -- Characters no font of this PC has ------------------------------------------------------

def _note_missing(text: str, chars: list[str]) -> None:
    sink = getattr(_collecting, "sink", None)
    if sink is not None:
        sink.setdefault(text, set()).update(chars)


@contextmanager
def missing_characters() -> Iterator[dict[str, set[str]]]:
    """Collect, while building a PDF on this thread, each piece of text with characters no
    font of this PC has: {text: {characters}}."""
    outer = getattr(_collecting, "sink", None)
    sink: dict[str, set[str]] = {}
    _collecting.sink = sink
    try:
        yield sink
    finally:
        _collecting.sink = outer


def _script_name(ch: str) -> str:
    key = _script_key(ord(ch))
    if key != "other":
        return {"hangul": "Korean", "kana": "Japanese", "han": "Chinese"}[key]
    name = unicodedata.name(ch, "")
    word = name.split(" ")[0] if name else ""
    return word.capitalize() if word.isalpha() and word not in ("LATIN",) else ""


def unprintable(text: str) -> str | None:
    """A plain message when some characters of `text` would print as empty boxes because no
    font of this PC has them, or None when all of it prints."""
    register_fonts()
    absent = sorted({ch for ch in set(text) if ord(ch) not in _primary
                     and not _needs_no_font(ch) and not unicodedata.combining(ch)
                     and font_for(ord(ch)) is None})
    if not absent:
        return None
    scripts = list(dict.fromkeys(filter(None, (_script_name(ch) for ch in absent))))
    what = (" and ".join(scripts) + " letters") if scripts else "letters"
    quoted = text.strip()
    if len(quoted) > 40:
        quoted = quoted[:39] + "…"
    font = f"a {scripts[0]} font" if len(scripts) == 1 else "fonts for these letters"
    return (f"This PC has no font for the {what} in '{quoted}'; the printout would show "
            f"empty boxes in their place. Install {font} on this PC (on Windows: Settings, "
            "Time & language, Language & region, Add a language), then print again.")
