"""What the PDFs share: page size, colours, styles, the logo, the clinic's header, the
document with its one frame and the canvas that numbers pages "n of N"."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from needledesk.reports import text
from needledesk.reports.fonts import BOLD, REGULAR, draw_string, register_fonts
from needledesk.settings import ClinicSettings

# Binary streams rather than ASCII85: smaller files, and no pure-Python encoding pass over
# every page and image (a tenth of the time of a course record).
rl_config.useA85 = 0

ACCENT = colors.HexColor("#1E5A66")
INK = colors.HexColor("#1F2528")
MUTED = colors.HexColor("#66737A")
RULE = colors.HexColor("#C5D1D4")
SHADE = colors.HexColor("#EDF3F4")
DRAFT_HEX = "#B3261E"
DRAFT = colors.HexColor(DRAFT_HEX)
DRAFT_SHADE = colors.HexColor("#FBEAE8")


def page_size(settings: ClinicSettings) -> tuple[float, float]:
    return LETTER if str(settings.page_size).strip().lower() == "letter" else A4


class Styles:
    """The paragraph styles, made once per size (after the fonts are registered). `scale`
    enlarges everything: the client's handout reads at 10 pt, the clinical record at 9 pt."""

    def __init__(self, scale: float = 1.0) -> None:
        register_fonts()

        def style(name: str, parent: ParagraphStyle | None, size: float, leading: float,
                  **kwargs: Any) -> ParagraphStyle:
            return ParagraphStyle(name, parent, fontSize=size * scale,
                                  leading=leading * scale, **kwargs)

        base = style("base", None, 9, 12, fontName=REGULAR, textColor=INK)
        self.body = base
        self.small = style("small", base, 7.5, 9.5, textColor=MUTED)
        self.label = style("label", base, 7.5, 10, fontName=BOLD, textColor=MUTED)
        self.cell = style("cell", base, 8.5, 10.5)
        self.cell_bold = style("cell_bold", self.cell, 8.5, 10.5, fontName=BOLD)
        self.head = style("head", self.cell, 7.5, 10.5, fontName=BOLD, textColor=ACCENT)
        #: A column head over numbers, flush right like them.
        self.head_right = style("head_right", self.head, 7.5, 10.5, alignment=TA_RIGHT)
        self.title = style("title", base, 17, 21, fontName=BOLD, textColor=ACCENT)
        self.clinic = style("clinic", base, 13, 16, fontName=BOLD, textColor=INK)
        self.doc_title = style("doc_title", base, 12, 15, fontName=BOLD, textColor=ACCENT,
                               alignment=TA_RIGHT)
        self.doc_sub = style("doc_sub", self.small, 7.5, 9.5, alignment=TA_RIGHT)
        self.section = style("section", base, 10, 13, fontName=BOLD, textColor=ACCENT,
                             spaceBefore=9 * scale, spaceAfter=1, keepWithNext=1)
        self.bullet = style("bullet", base, 9, 12, leftIndent=10 * scale,
                            bulletIndent=1 * scale, bulletFontName=REGULAR)


def plain_style(*extra: Any, right_padding: float = 4) -> TableStyle:
    """No lines: cells aligned to the top, flush left, a little room to the right and between
    rows (label/value tables); `extra` commands follow and so win where they overlap."""
    return TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), right_padding),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        *extra,
    ])


@lru_cache(maxsize=4)
def styles(scale: float = 1.0) -> Styles:
    return Styles(scale)


#: The narrowest a column left to fill the rest of a table's width is made.
_MIN_COLUMN = 24.0


def fixed_widths(asked: list[Any], avail_width: float) -> list[float]:
    """Column widths in points for a table `avail_width` wide: percentages of it, fixed
    widths as given, and the rest shared by the columns left open (None)."""
    widths = [avail_width * float(w[:-1]) / 100 if isinstance(w, str) and w.endswith("%")
              else None if w is None or w == "*" else float(w) for w in asked]
    open_columns = widths.count(None)
    rest = (avail_width - sum(w for w in widths if w is not None)) / (open_columns or 1)
    return [max(rest, _MIN_COLUMN) if w is None else w for w in widths]


class FitTable(Table):
    """A table whose columns are fixed for the width it is offered, never sized by its
    content. Reportlab sizes open and percentage columns by their longest word, so one long
    unbroken word (`WWWW…`, a pasted link) pushed a table off the page or squeezed a column
    below nothing; a paragraph in a fixed column wraps such a word instead. The widths are
    worked out afresh for every width offered, so a table shrunk to fit a page scales too."""

    def __init__(self, data: Any, colWidths: Any = None,  # noqa: N803 (reportlab's name)
                 **kwargs: Any) -> None:
        super().__init__(data, colWidths=colWidths, **kwargs)
        self._asked_widths: list[Any] = list(self._argW)
        self._sized_for: float | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if avail_width != self._sized_for:
            self._argW = self._colWidths = fixed_widths(self._asked_widths, avail_width)
            self._width_calculated_once = None
            self._sized_for = avail_width
        return super().wrap(avail_width, avail_height)


def section(title: str, st: Styles) -> list[Flowable]:
    """A section heading with a thin rule under it (title is trusted text)."""
    rule = HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=1, spaceAfter=4)
    rule.keepWithNext = True  # never a heading alone at the foot of a page
    return [Paragraph(title, st.section), rule]


def grid_style(*, header: bool = True) -> TableStyle:
    """Light table lines: a shaded header row and hairlines between rows."""
    commands: list[Any] = [
        # Plain-string cells (fixed words, dates, numbers) are much cheaper than paragraphs.
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5, 10.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ]
    if header:
        commands += [("FONT", (0, 0), (-1, 0), BOLD, 7.5, 10.5),
                     ("TEXTCOLOR", (0, 0), (-1, 0), ACCENT),
                     ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                     ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT)]
    return TableStyle(commands)


@lru_cache(maxsize=4)
def logo_image(data: bytes) -> ImageReader | None:
    """The clinic's logo ready to draw, or None when the bytes are not a readable image.

    Decoded and scaled down once per logo: a 3000-pixel logo would otherwise be re-encoded
    into every PDF."""
    try:
        from PIL import Image

        image: Image.Image = Image.open(BytesIO(data))
        image.load()
        if image.mode not in ("RGB", "RGBA", "L"):
            has_alpha = image.mode in ("LA", "PA", "P") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        image.thumbnail((1200, 400))
        reader = ImageReader(image)
        reader.getSize()
        return reader
    except Exception:  # a broken logo is left out; the summary still prints
        return None


class Logo(Flowable):
    """The logo scaled to fit a box, keeping its proportions."""

    def __init__(self, image: ImageReader, max_width: float, max_height: float):
        super().__init__()
        width, height = image.getSize()
        scale = min(max_width / width, max_height / height)
        self.image = image
        self.width, self.height = width * scale, height * scale

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.image, 0, 0, self.width, self.height, mask="auto")


def clinic_header(settings: ClinicSettings, st: Styles, title: str, subtitle: str, *,
                  logo_size: tuple[float, float], title_width: float | str,
                  title_width_alone: float | str | None = None,
                  space_after: float = 8) -> list[Flowable]:
    """The clinic (logo, name, address, phone) on the left, the document's `title` and
    `subtitle` (trusted markup) on the right, over an accent rule. The title column is
    `title_width` (points or a percentage) beside the logo, and `title_width_alone` (the same
    unless given) when the clinic has no readable logo."""
    clinic: list[Flowable] = [text.Paragraph(text.markup(settings.clinic_name), st.clinic)]
    contact = [line for line in (settings.address, settings.phone) if line and line.strip()]
    clinic += [text.Paragraph(text.markup(line.strip()), st.small) for line in contact]
    heading = [text.Paragraph(title, st.doc_title), text.Paragraph(subtitle, st.doc_sub)]
    image = logo_image(settings.logo) if settings.logo else None
    cells: list[list[Any]]
    widths: list[Any]
    if image is not None:
        logo = Logo(image, *logo_size)
        cells, widths = [[logo, clinic, heading]], [logo.width + 5 * mm, None, title_width]
    else:
        alone = title_width if title_width_alone is None else title_width_alone
        cells, widths = [[clinic, heading]], [None, alone]
    table = FitTable(cells, colWidths=widths)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
    ]))
    return [table, Spacer(1, space_after)]


def page_foot(canvas: Canvas, left: float, right: float, bottom: float, text: str,
              page: str) -> None:
    """The foot of a page between `left` and `right`: a hairline, `text` in small muted
    print under it on the left and `page` ("Page 2 of 3") on the right. Sets the colours and
    line width it uses; the caller saves and restores the canvas state."""
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, bottom + 9, right, bottom + 9)
    canvas.setFillColor(MUTED)
    draw_string(canvas, left, bottom, text, REGULAR, 7)
    canvas.setFillColor(INK)
    draw_string(canvas, right, bottom, page, REGULAR, 7.5, align="right")


def one_frame_document(buffer: BytesIO, settings: ClinicSettings, size: tuple[float, float], *,
                       margin_x: float, margin_top: float, margin_bottom: float, title: str,
                       template: str,
                       on_page: Callable[[Canvas, Any], None] | None = None) -> BaseDocTemplate:
    """A document of `size` with one frame filling the page inside its margins, by the
    clinic, and `on_page` drawn on every page when given."""
    width, height = size
    doc = BaseDocTemplate(
        buffer, pagesize=(width, height), leftMargin=margin_x, rightMargin=margin_x,
        topMargin=margin_top, bottomMargin=margin_bottom, title=title,
        author=settings.clinic_name, creator="NeedleDesk")
    frame = Frame(margin_x, margin_bottom, width - 2 * margin_x,
                  height - margin_top - margin_bottom, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0, id="body")
    page = (PageTemplate(template, [frame]) if on_page is None
            else PageTemplate(template, [frame], onPage=on_page))
    doc.addPageTemplates([page])
    return doc


def numbered_canvas(
        page_marks: Callable[[Canvas, int, str | None], None]) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so each can say "of N":
    `page_marks(canvas, total, continued)` draws on each, `continued` being the
    `needledesk_session` the page before left set (None on the first page)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._held.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's, not in its stubs

        def save(self) -> None:
            total = len(self._held)
            continued = None
            for state in self._held:
                self.__dict__.update(state)
                page_marks(self, total, continued)
                continued = state.get("needledesk_session")
                super().showPage()
            super().save()

    return NumberedCanvas
