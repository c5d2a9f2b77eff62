"""The face chart in the PDFs: a session's treated zones filled by depth on the drawing of
`resources/face-chart.svg`, as reportlab vector graphics (crisp at any zoom, text that reads
back), with the depth scale's legend and the areas without a zone listed beside.

`chart_drawing` is one chart, sized by the caller (the client summary puts it beside today's
treatment); `depth_charts` is the course record's "Depths by session": one small chart per
session in a grid, each captioned with its number and date, under one legend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, Spacer, TableStyle

from needledesk.domain.course import session_number
from needledesk.domain.face_chart import (
    DEPTH_SCALE,
    LINE,
    UNTREATED,
    ChartArt,
    ChartData,
    Shape,
    chart_art,
    chart_data,
    depth_label,
    text_colour_on,
)
from needledesk.domain.model import Course, Session, TreatedArea
from needledesk.reports.fonts import BOLD, REGULAR, register_fonts, shaped_runs, string_width
from needledesk.reports.layout import INK, MUTED, FitTable, Styles, section
from needledesk.reports.text import Paragraph, clean, fmt_day

LEGEND_TITLE = "Needle depth"
NOT_TREATED = "not treated"
ALSO_TREATED = "Also treated:"
#: The zones' borders (light, so an untreated zone reads as paper) and the face's lines.
_ZONE_EDGE = colors.HexColor("#c9cfd2")
_LINE = colors.HexColor(LINE)
#: A depth label's size in the drawing's units (the label grows and shrinks with the chart),
#: but never under this many points on paper.
_LABEL_UNITS = 6.5
_LABEL_MIN_PT = 4.3
#: The legend's and the "Also treated" list's type size, in points.
_TEXT_PT = 6.5
_CAPTION_PT = 8.0
_SWATCH = (9.0, 6.0)
_GAP = 3 * mm
#: Lines of "Also treated" under a chart without its legend; more are cut with "…".
_BELOW_LINES = 3
#: Sessions per row in the course record's grid (fewer sessions: three, a little larger).
_GRID_COLUMNS = 4


def chart_drawing(areas: Iterable[TreatedArea], area_zones: Mapping[str, str] | None,
                  width: float, height: float, *, legend: bool = True,
                  caption: Sequence[str] = (), art: ChartArt | None = None) -> Drawing:
    """One chart, `width` x `height` points: the drawing as large as fits, each treated zone
    filled by its depth with the depth written on it, untreated zones white, the face's lines
    over them. With `legend`, the depth scale and the areas without a zone stand in a column
    to the right; without, those areas are listed under the drawing. `caption`: lines over
    the chart, the first in bold (plain text)."""
    register_fonts()
    art = art or chart_art()
    data = chart_data(areas, area_zones)
    drawing = _ChartDrawing(width, height)
    for i, line in enumerate(caption):
        _add_text(drawing, 0.0, height - _CAPTION_PT * (1.25 * i + 1), _fit(line, width),
                  size=_CAPTION_PT, font=BOLD if i == 0 else REGULAR)
    height -= caption_height(len(caption))
    ratio = art.width / art.height
    if legend:
        column = legend_width()
        face_h = max(0.0, min(height, (width - column - _GAP) * (1 / ratio)))
        face_w = face_h * ratio
        _draw_face(drawing, art, data, 0.0, height, face_h / art.height)
        x = face_w + _GAP
        y = _draw_legend(drawing, x, height, vertical=True)
        if data.unplaced:
            _draw_also_treated(drawing, data, x, y - 4, width - x, max_lines=max(
                1, int((y - 4) // (_TEXT_PT * 1.3))))
    else:
        lines = _also_treated_lines(data, width) if data.unplaced else []
        lines = lines[:_BELOW_LINES]
        reserve = len(lines) * _TEXT_PT * 1.3 + (2 if lines else 0)
        face_h = max(0.0, min(height - reserve, width / ratio))
        face_w = face_h * ratio
        _draw_face(drawing, art, data, (width - face_w) / 2, height, face_h / art.height)
        if lines:
            _draw_also_treated(drawing, data, 0.0, height - face_h - 2, width,
                               max_lines=_BELOW_LINES)
    return drawing


def caption_height(lines: int) -> float:
    """The room `lines` of caption take over a chart."""
    return _CAPTION_PT * 1.25 * lines + 3 if lines else 0.0


def chart_height(width: float, *, legend: bool = True, art: ChartArt | None = None) -> float:
    """The height a chart `width` points wide needs (its drawing at full size)."""
    art = art or chart_art()
    face_w = width - (legend_width() + _GAP if legend else 0)
    return max(0.0, face_w) * art.height / art.width


# --- the drawing ------------------------------------------------------------------------------

class _ChartDrawing(Drawing):
    """A chart's Drawing whose faces are painted from PDF form XObjects: the drawing's
    zones and lines are written into the PDF once (`_face_forms`) and each chart only sets
    its colours and places them, so a course record of twenty charts costs little more than
    one. The depth labels are painted over the faces straight onto the canvas (as cheap);
    the other nodes (legend, captions, areas without a zone) after them."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__(width, height)
        self._faces: list[tuple[ChartArt, ChartData, float, float, float]] = []
        self._labels: list[_Label] = []

    def label_texts(self) -> list[str]:
        """The depths written on the chart, one per label (both cheeks: two)."""
        return [label.text for label in self._labels]

    def draw(self, showBoundary: Any = None) -> None:   # noqa: N803 (reportlab's name)
        canvas = self.canv
        for face in self._faces:
            _paint_face(canvas, *face)
        if self._labels:
            canvas.saveState()
            for label in self._labels:
                label.paint(canvas)
            canvas.restoreState()
        super().draw()


def _outline_path(canvas: Canvas, shapes: Iterable[Shape], height: float) -> Any:
    """`shapes` (SVG units, y down) as one path in a form's units (y up)."""
    path = canvas.beginPath()
    for shape in shapes:
        for op in shape.ops:
            p = op.points
            if op.op == "M":
                path.moveTo(p[0], height - p[1])
            elif op.op == "L":
                path.lineTo(p[0], height - p[1])
            elif op.op == "C":
                path.curveTo(p[0], height - p[1], p[2], height - p[3], p[4], height - p[5])
            elif op.op == "Z":
                path.close()
    return path


def _face_forms(canvas: Canvas, art: ChartArt) -> tuple[list[tuple[str, str]], str]:
    """The names of the forms holding each zone's shapes ((zone, name) in the drawing's
    order) and the face's lines, written into this PDF on first use. A form sets no colour
    and no line width: each chart's own are used."""
    key = f"ndFace{id(art):x}"
    zones = [(zone, f"{key}z{i}") for i, zone in enumerate(art.zones)]
    outline = f"{key}l"
    if not canvas.hasForm(outline):
        # (whole points: the stubs type the box as int; a stroke may stand over the edge)
        box = (-6, -6, round(art.width) + 6, round(art.height) + 6)
        for zone, name in zones:
            canvas.beginForm(name, *box)
            canvas.drawPath(_outline_path(canvas, art.zones[zone], art.height),
                            stroke=1, fill=1)
            canvas.endForm()
        canvas.beginForm(outline, *box)
        canvas.drawPath(_outline_path(canvas, art.outline, art.height), stroke=1, fill=0)
        canvas.endForm()
    return zones, outline


def _paint_face(canvas: Canvas, art: ChartArt, data: ChartData, x0: float, top: float,
                scale: float) -> None:
    """The face at `x0`, `top` (its top-left corner), `scale` points per drawing unit: each
    zone filled by its depth (white when untreated), the face's lines over them."""
    zones, outline = _face_forms(canvas, art)
    canvas.saveState()
    canvas.translate(x0, top - art.height * scale)
    canvas.scale(scale, scale)
    canvas.setStrokeColor(_ZONE_EDGE)
    canvas.setLineWidth(max(0.25, 0.5 * scale) / scale)
    for zone, name in zones:
        entry = data.zones.get(zone)
        canvas.setFillColor(colors.HexColor(entry.colour if entry else UNTREATED))
        canvas.doForm(name)
    canvas.setStrokeColor(_LINE)
    canvas.setLineWidth(max(0.35, 0.9 * scale) / scale)
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    canvas.doForm(outline)
    canvas.restoreState()


def _draw_face(drawing: Drawing, art: ChartArt, data: ChartData, x0: float, top: float,
               scale: float) -> None:
    if scale <= 0:
        return
    assert isinstance(drawing, _ChartDrawing)
    drawing._faces.append((art, data, x0, top, scale))
    size = max(_LABEL_MIN_PT, _LABEL_UNITS * scale)
    for zone, entry in data.zones.items():
        for lx, ly in art.labels.get(zone, ()):
            drawing._labels.append(_Label(x0 + lx * scale, top - ly * scale, entry.label,
                                          entry.colour, size, max(0.3, 0.4 * scale)))


@dataclass(frozen=True)
class _Label:
    """A zone's depth written on the chart, centred at (x, y) on a tag of the zone's colour."""

    x: float
    y: float
    text: str
    colour: str
    size: float
    edge: float

    def paint(self, canvas: Canvas) -> None:
        w = string_width(self.text, BOLD, self.size)
        pad = self.size * 0.3
        canvas.setFillColor(colors.HexColor(self.colour))
        canvas.setStrokeColor(colors.white)
        canvas.setLineWidth(self.edge)
        canvas.roundRect(self.x - w / 2 - pad, self.y - self.size / 2 - pad * 0.6,
                         w + 2 * pad, self.size + pad * 1.2, self.size * 0.45,
                         stroke=1, fill=1)
        canvas.setFillColor(colors.HexColor(text_colour_on(self.colour)))
        canvas.setFont(BOLD, self.size)
        canvas.drawCentredString(self.x, self.y - self.size * 0.36, self.text)


# --- the legend ----------------------------------------------------------------------------------

def _legend_rows() -> list[tuple[str, str]]:
    return [(band.colour, band.label) for band in DEPTH_SCALE] + [(UNTREATED, NOT_TREATED)]


def legend_width() -> float:
    """The width of the legend as a column (swatch, gap, the widest label)."""
    register_fonts()
    widest = max([string_width(label, REGULAR, _TEXT_PT) for _c, label in _legend_rows()]
                 + [string_width(LEGEND_TITLE, BOLD, _TEXT_PT)])
    return _SWATCH[0] + 4 + widest + 2


def _swatch(drawing: Drawing, x: float, y: float, colour: str) -> None:
    style: Any = {"fillColor": colors.HexColor(colour), "strokeColor": _ZONE_EDGE,
                  "strokeWidth": 0.4}
    drawing.add(Rect(x, y, _SWATCH[0], _SWATCH[1], **style))


def _draw_legend(drawing: Drawing, x: float, top: float, *, vertical: bool) -> float:
    """The depth scale from `top` down at `x`: a column of swatches (`vertical`) or one row.
    Returns the y under it."""
    step = _TEXT_PT * 1.55
    y = top - _TEXT_PT
    drawing.add(String(x, y, LEGEND_TITLE, fontName=BOLD, fontSize=_TEXT_PT, fillColor=INK))
    if vertical:
        for colour, label in _legend_rows():
            y -= step
            _swatch(drawing, x, y - 1, colour)
            drawing.add(String(x + _SWATCH[0] + 4, y, label, fontName=REGULAR,
                               fontSize=_TEXT_PT, fillColor=INK))
        return y - step * 0.4
    cx = x + string_width(LEGEND_TITLE, BOLD, _TEXT_PT) + 8
    for colour, label in _legend_rows():
        _swatch(drawing, cx, y - 1, colour)
        drawing.add(String(cx + _SWATCH[0] + 3, y, label, fontName=REGULAR, fontSize=_TEXT_PT,
                           fillColor=INK))
        cx += _SWATCH[0] + 3 + string_width(label, REGULAR, _TEXT_PT) + 9
    return y - step * 0.4


def legend_drawing(width: float) -> Drawing:
    """The depth scale as one row (the course record's charts share it)."""
    register_fonts()
    drawing = Drawing(width, _TEXT_PT * 1.8)
    _draw_legend(drawing, 0.0, _TEXT_PT * 1.8, vertical=False)
    return drawing


def legend_row_width() -> float:
    register_fonts()
    return (string_width(LEGEND_TITLE, BOLD, _TEXT_PT) + 8
            + sum(_SWATCH[0] + 3 + string_width(label, REGULAR, _TEXT_PT) + 9
                  for _c, label in _legend_rows()))


# --- the areas without a zone -------------------------------------------------------------------

def _also_treated_items(data: ChartData) -> list[str]:
    return [f"{clean(name).replace(chr(10), ' ').strip()} {depth_label(depth)}"
            for name, depth in data.unplaced]


def _also_treated_lines(data: ChartData, width: float) -> list[str]:
    """`Also treated: abdomen 1.5 mm, stretch marks 2.5 mm`, broken into lines `width` wide
    (a word too long for a line is cut with "…")."""
    words = [ALSO_TREATED]
    items = _also_treated_items(data)
    for i, item in enumerate(items):
        pieces = (item + ("," if i < len(items) - 1 else "")).split(" ")
        words += [p for p in pieces if p]
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if _width(trial, first=not lines) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return [_fit(line, width, first=i == 0) for i, line in enumerate(lines)]


def _width(text: str, *, first: bool = False) -> float:
    """The width of a line as `_add_text` draws it (the first line's head in bold)."""
    if first and text.startswith(ALSO_TREATED):
        return (string_width(ALSO_TREATED, BOLD, _TEXT_PT)
                + string_width(text[len(ALSO_TREATED):], REGULAR, _TEXT_PT))
    return string_width(text, REGULAR, _TEXT_PT)


def _fit(text: str, width: float, *, first: bool = False) -> str:
    if _width(text, first=first) <= width:
        return text
    while text and _width(text + "…", first=first) > width:
        text = text[:-1]
    return text + "…"


def _draw_also_treated(drawing: Drawing, data: ChartData, x: float, top: float, width: float,
                       *, max_lines: int) -> None:
    lines = _also_treated_lines(data, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + " …", width, first=max_lines == 1)
    y = top - _TEXT_PT
    for i, line in enumerate(lines):
        _add_text(drawing, x, y, line, bold_head=i == 0)
        y -= _TEXT_PT * 1.3


def _add_text(drawing: Drawing, x: float, y: float, text: str, *,
              bold_head: bool = False, size: float = _TEXT_PT, font: str = REGULAR) -> None:
    """One line of plain text from `x`, in `font` and, for characters DejaVu lacks, the
    fallback fonts, Arabic and the like shaped (`fonts.shaped_runs`, as `draw_string`);
    "Also treated:" at its start in bold."""
    if bold_head and text.startswith(ALSO_TREATED):
        drawing.add(String(x, y, ALSO_TREATED, fontName=BOLD, fontSize=size,
                           fillColor=MUTED))
        x += string_width(ALSO_TREATED, BOLD, size)
        text = text[len(ALSO_TREATED):]
    for piece, name, width in shaped_runs(text, font, size):
        drawing.add(String(x, y, piece, fontName=name, fontSize=size, fillColor=INK))
        x += width


# --- the course record's page -----------------------------------------------------------------

def chart_caption(session: Session, sessions: list[Session], course: Course | None
                  ) -> tuple[str, str]:
    """(`Session 2 of 4`, `3 Nov 2026`): a chart's caption in the course record."""
    n, of = session_number(session, sessions, course)
    number = f"Session {n} of {of}" if of else f"Session {n}"
    return number, fmt_day(session.started_at.date())


def depth_charts(sessions: Sequence[Session], courses: Mapping[str, Course],
                 area_zones: Mapping[str, str] | None, st: Styles, frame_w: float
                 ) -> list[Flowable]:
    """"Depths by session": a grid of one chart per session (oldest first), each under its
    caption, with one legend, so the course's depth progression shows at a glance."""
    ordered = sorted(sessions, key=lambda s: s.started_at)
    if not any(chart_data(s.areas, area_zones).zones for s in ordered):
        return []   # nothing on the face in any session (body treatments only)
    columns = 3 if len(ordered) <= 3 else _GRID_COLUMNS
    cell_w = frame_w / columns
    chart_w = cell_w - 4 * mm
    # room under the charts for the longest list of areas without a zone (none: no room)
    below = max(min(_BELOW_LINES, len(_also_treated_lines(data, chart_w)))
                if (data := chart_data(s.areas, area_zones)).unplaced else 0
                for s in ordered)
    chart_h = (chart_height(chart_w, legend=False) + below * _TEXT_PT * 1.3
               + (2 if below else 0) + caption_height(2))
    cells: list[Any] = []
    for session in ordered:
        course = courses.get(session.course_id or "")
        # Captions are drawn, not Paragraphs: a record's paragraphs are each broken once
        # (course.Paragraph), and a grid cell is measured more than once.
        cells.append(chart_drawing(session.areas, area_zones, chart_w, chart_h, legend=False,
                                   caption=chart_caption(session, list(ordered), course)))
    rows = [cells[i:i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [""] * (columns - len(rows[-1]))
    grid = FitTable(rows, colWidths=[cell_w] * columns)
    grid.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    legend = legend_drawing(min(frame_w, legend_row_width()))
    head = section("Depths by session", st)
    return [CondPageBreak(chart_h + 60), *head,
            Paragraph("The deepest needle depth in each zone of the face at each session; "
                      "areas without a zone on the chart are listed under it.", st.small),
            Spacer(1, 3), legend, Spacer(1, 2), grid]

