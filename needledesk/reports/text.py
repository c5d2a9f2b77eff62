"""User text made safe for reportlab markup, and the date and number formats the PDFs share.

Anything a person typed goes through `markup` (or `paragraphs`) before it meets a
`Paragraph`: `AT&T` and `<script>` print as typed instead of breaking the parser, and
characters DejaVu lacks switch to the fallback font when there is one. Long text is split on
line breaks and then into chunks, so no single flowable outgrows a page. `Paragraph` shapes text
in Arabic, Hebrew and the like (reportlab then lays a run of right-to-left words out from the
right).
"""

from __future__ import annotations

import html
import re
import unicodedata
import weakref
from datetime import date, datetime

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Spacer
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus.paragraph import (  # type: ignore[attr-defined]
    cleanBlockQuotedText,
    textTransformFrags,
)
from reportlab.platypus.paraparser import ParaFrag, ParaParser

from needledesk.domain.labels import observed_label
from needledesk.domain.model import SEVERITY_LABELS
from needledesk.domain.text import day_text
from needledesk.reports.fonts import needs_shaping, runs

#: Characters per paragraph for long text: about 30 lines across the page, well under a
#: frame's height, so splitting a paragraph across pages stays cheap. (Free text goes into
#: table cells only when short; see `course._in_cell`.)
CHUNK = 3000

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str | None) -> str:
    """Composed (NFC) text with Unix line breaks, tabs as spaces and no control characters."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def markup(text: str | None) -> str:
    """Paragraph markup that prints `text` exactly as typed; line breaks become <br/>."""
    out = []
    for line in clean(text).split("\n"):
        pieces = []
        for piece, font in runs(line):
            escaped = html.escape(piece, quote=False)
            pieces.append(f'<font name="{font}">{escaped}</font>' if font else escaped)
        out.append("".join(pieces))
    return "<br/>".join(out)


_shaped_styles: dict[int, tuple[ParagraphStyle, ParagraphStyle]] = {}


def shaped_style(style: ParagraphStyle) -> ParagraphStyle:
    """`style` with HarfBuzz shaping on (made once per style)."""
    known = _shaped_styles.get(id(style))
    if known is None or known[0] is not style:
        known = (style, ParagraphStyle(f"{style.name}-shaped", style, shaping=1))
        _shaped_styles[id(style)] = known
    return known[1]


#: Per style, the fragment reportlab's parser makes of a plain word in it (a weak mapping:
#: a style that is gone takes its entry along).
_plain_frag: weakref.WeakKeyDictionary[ParagraphStyle, ParaFrag | None] = (
    weakref.WeakKeyDictionary())


def _plain_frags(text: str, style: ParagraphStyle) -> list[ParaFrag] | None:
    """What reportlab's parser would make of `text` in `style` when the text holds no markup
    at all (no tag, no entity): one fragment, the style's, with the text cleaned as the
    parser cleans it. None when the text has markup (the parser then reads it). A course
    record has hundreds of such cells; parsing each with a new HTML parser was a fifth of
    its time. Same fragments, same PDF (tests/reports/test_plain_paragraphs.py)."""
    if "<" in text or "&" in text:
        return None
    cleaned = cleanBlockQuotedText(text)
    if not cleaned:
        return None
    if style not in _plain_frag:
        parsed_style, frags, bullet = ParaParser().parse("x", style)  # type: ignore[no-untyped-call]
        usable = parsed_style is style and frags is not None and len(frags) == 1 and not bullet
        _plain_frag[style] = frags[0] if usable else None
    template = _plain_frag[style]
    if template is None:
        return None
    frags = [template.clone(text=cleaned)]
    textTransformFrags(frags, style)
    return frags


class Paragraph(_Paragraph):
    """reportlab's Paragraph, shaped by HarfBuzz when its text holds Arabic, Hebrew, an Indic
    script or Thai (joined letters, marks in place). Latin text is laid out as before:
    shaping every word would cost a course record a good part of its time. Text without
    markup skips the parser (`_plain_frags`)."""

    def __init__(self, text: object, style: ParagraphStyle | None = None, *args: object,
                 **kwargs: object) -> None:
        if isinstance(text, str) and style is not None and needs_shaping(text):
            style = shaped_style(style)
        if (isinstance(text, str) and style is not None and not args and not kwargs
                and not getattr(style, "bulletText", None)):
            frags = _plain_frags(text, style)
            if frags is not None:
                super().__init__(text, style, frags=frags)
                return
        super().__init__(text, style, *args, **kwargs)  # type: ignore[arg-type]


def chunks(line: str, size: int = CHUNK) -> list[str]:
    """`line` cut into pieces of at most `size` characters, at a space where there is one in
    the second half of the piece, never between a letter and its combining mark."""
    if len(line) <= size:
        return [line]
    pieces, start = [], 0
    while len(line) - start > size:
        cut = line.rfind(" ", start + size // 2, start + size)
        if cut <= start:
            cut = start + size
            while cut > start + 1 and unicodedata.combining(line[cut]):
                cut -= 1
        pieces.append(line[start:cut])
        start = cut + 1 if line[cut] == " " else cut
    pieces.append(line[start:])
    return pieces


def paragraphs(text: str | None, style: ParagraphStyle, *, prefix: str = "") -> list[Flowable]:
    """Flowing paragraphs for free text of any length: one per line (a long line cut into
    chunks), a small gap for a blank line. `prefix` is trusted markup put before the first
    line. (One plain paragraph per line lays out faster than lines joined by <br/>.)"""
    flowables: list[Flowable] = []
    gap = False
    for line in clean(text).split("\n"):
        if not line.strip():
            gap = bool(flowables)
            continue
        if gap:
            flowables.append(Spacer(1, style.leading * 0.4))
            gap = False
        for piece in chunks(line):
            flowables.append(Paragraph(prefix + markup(piece), style))
            prefix = ""
    if not flowables and prefix:
        flowables.append(Paragraph(prefix, style))
    return flowables


def truncate(text: str | None, limit: int, tail: str = "…") -> str:
    """At most about `limit` characters of `text`, cut at a word and marked with `tail`."""
    text = clean(text).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[:cut if cut > 0 else limit].rstrip() + tail


def fmt_day(day: date | None) -> str:
    """`20 Nov 2026`, in English whatever the process locale (Qt sets it from the system)."""
    return day_text(day)


def fmt_clock(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.hour:02d}:{moment.minute:02d}"


def fmt_moment(moment: datetime | None) -> str:
    """`20 Nov 2026, 10:30`."""
    return "" if moment is None else f"{fmt_day(moment.date())}, {fmt_clock(moment)}"


def fmt_depth(depth_mm: float) -> str:
    return f"{depth_mm:.2f} mm"


def severity_word(severity: int) -> str:
    return SEVERITY_LABELS.get(severity, str(severity))


def observed_word(observed: str) -> str:
    """When a reaction was seen, in the editor's words (`domain.labels`)."""
    return observed_label(observed)
