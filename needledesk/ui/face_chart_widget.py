"""The face chart in the window: the drawing of `domain.face_chart.chart_art()` painted with
QPainter, each zone filled by the depth it was treated at, a legend of the depth scale, and
the areas without a zone listed below it ("Also: abdomen 1.5 mm").

`FaceChartWidget` is the whole panel; its `canvas` is the drawing. Clicking a zone (or
Enter/Space on the zone chosen with the arrow keys) emits `zone_clicked(zone)`: what that
means (add or select the area's row) is the session editor's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from needledesk.domain.face_chart import (
    DEPTH_SCALE,
    LINE,
    UNTREATED,
    ZONES,
    ChartArt,
    ChartData,
    Shape,
    area_for_zone,
    chart_art,
    chart_data,
    depth_label,
    text_colour_on,
    zones_in_art,
)
from needledesk.domain.model import TreatedArea

#: The outline of the zone whose row is selected, and of the zone under the mouse.
SELECTED_COLOUR = "#1d4f91"
HOVER_COLOUR = "#4a90d9"


def painter_path(shapes: Iterable[Shape]) -> QPainterPath:
    """The shapes as one QPainterPath, in the drawing's units (M, L, C, Z replayed)."""
    path = QPainterPath()
    for shape in shapes:
        for op in shape.ops:
            p = op.points
            if op.op == "M":
                path.moveTo(p[0], p[1])
            elif op.op == "L":
                path.lineTo(p[0], p[1])
            elif op.op == "C":
                path.cubicTo(p[0], p[1], p[2], p[3], p[4], p[5])
            elif op.op == "Z":
                path.closeSubpath()
    return path


class FaceChartCanvas(QWidget):
    """The drawing itself, scaled to fit with its aspect kept. Focusable: the arrow keys
    move between zones, Enter or Space clicks the zone chosen."""

    zone_clicked = Signal(str)
    #: The zone the mouse or the keyboard is on, in words ("" when none): the caption.
    pointed = Signal(str)

    def __init__(self, art: ChartArt | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.art = art or chart_art()
        #: The zones in the order the arrow keys visit them (the drawing's, top to bottom).
        self.order: list[str] = list(zones_in_art(self.art))
        self.paths = {zone: painter_path(self.art.zones[zone]) for zone in self.order}
        self.outline = painter_path(self.art.outline)
        self.data = ChartData()
        self.area_zones: Mapping[str, str] | None = None
        self.selected: str | None = None
        self.hovered: str | None = None
        #: The zone the keyboard is on (Enter or Space clicks it).
        self.current: str | None = None
        #: False in a signed session's read-only view: the chart only shows.
        self.interactive = True
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(140, int(140 * self.art.height / self.art.width))
        self.setAccessibleName("Face chart")
        self._describe()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(190, int(190 * self.art.height / self.art.width))

    # --- what it shows ----------------------------------------------------------------------

    def set_areas(self, areas: Iterable[TreatedArea],
                  area_zones: Mapping[str, str] | None = None) -> None:
        self.area_zones = area_zones
        self.data = chart_data(areas, area_zones)
        self._describe()
        self.update()

    def set_selected(self, zone: str | None) -> None:
        if zone != self.selected:
            self.selected = zone
            self.update()

    def labels(self) -> dict[str, str]:
        """What is written on each treated zone ("1.5 mm")."""
        return {zone: entry.label for zone, entry in self.data.zones.items()}

    def fill_of(self, zone: str) -> str:
        """The colour a zone is filled with ("#rrggbb")."""
        entry = self.data.zones.get(zone)
        return entry.colour if entry is not None else UNTREATED

    def zone_text(self, zone: str) -> str:
        """`Cheeks — cheeks 1.5 mm`, `Nose — nose, not treated`: the tooltip of a zone."""
        entry = self.data.zones.get(zone)
        if entry is not None:
            return f"{ZONES[zone]} — {', '.join(entry.areas)} {entry.label}"
        area = area_for_zone(zone, self.area_zones)
        return f"{ZONES[zone]} — {area + ', ' if area else ''}not treated"

    def _describe(self) -> None:
        treated = "; ".join(f"{ZONES[z]} {e.label}" for z, e in self.data.zones.items())
        where = f" On {ZONES[self.current]}." if self.current else ""
        self.setAccessibleDescription(
            f"Treated: {treated or 'none'}.{where} Arrow keys choose a zone; Enter or Space "
            "adds or selects its area.")

    # --- geometry ---------------------------------------------------------------------------

    def transform(self) -> QTransform:
        """Drawing units to widget pixels: scaled to fit, aspect kept, centred."""
        scale = min(self.width() / self.art.width, self.height() / self.art.height)
        dx = (self.width() - self.art.width * scale) / 2
        dy = (self.height() - self.art.height * scale) / 2
        return QTransform(scale, 0, 0, scale, dx, dy)

    def zone_at(self, position: QPointF | QPoint) -> str | None:
        inverse, invertible = self.transform().inverted()
        if not invertible:
            return None
        point = inverse.map(QPointF(position))
        for zone in reversed(self.order):   # the one painted last is on top
            if self.paths[zone].contains(point):
                return zone
        return None

    def point_of(self, zone: str) -> QPoint:
        """Where the zone's (first) depth label sits, in widget pixels."""
        points = self.art.labels.get(zone)
        if points:
            x, y = points[0]
            return self.transform().map(QPointF(x, y)).toPoint()
        return self.transform().map(self.paths[zone].boundingRect().center()).toPoint()

    # --- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        transform = self.transform()
        painter.setTransform(transform)
        line = QPen(QColor(LINE), 1)
        line.setCosmetic(True)
        for zone in self.order:
            painter.setPen(line)
            painter.setBrush(QColor(self.fill_of(zone)))
            painter.drawPath(self.paths[zone])
        outline = QPen(QColor(LINE), 1.4)
        outline.setCosmetic(True)
        painter.setPen(outline)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.outline)
        marks: tuple[tuple[str | None, str, float, Qt.PenStyle], ...] = (
                (self.hovered, HOVER_COLOUR, 2.0, Qt.PenStyle.SolidLine),
                (self.selected, SELECTED_COLOUR, 3.0, Qt.PenStyle.SolidLine),
                (self.current if self.hasFocus() else None, "#000000", 1.5,
                 Qt.PenStyle.DotLine))
        for marked, colour, width, style in marks:
            if marked is None or marked not in self.paths:
                continue
            pen = QPen(QColor(colour), width, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawPath(self.paths[marked])
        # the depths, upright and unscaled, on each treated zone's label points
        painter.resetTransform()
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.72))
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for zone, entry in self.data.zones.items():
            for x, y in self.art.labels.get(zone, ()):
                centre = transform.map(QPointF(x, y))
                w = metrics.horizontalAdvance(entry.label) + 4
                h = metrics.height()
                box = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
                # on a tag of the zone's colour: readable where it runs past a small zone
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(entry.colour))
                painter.drawRoundedRect(box, 3, 3)
                painter.setPen(QColor(text_colour_on(entry.colour)))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, entry.label)
        painter.end()

    # --- mouse ------------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        zone = self.zone_at(event.position())
        if zone != self.hovered:
            self.hovered = zone
            self.pointed.emit(self.zone_text(zone) if zone else "")
            self.setCursor(Qt.CursorShape.PointingHandCursor if zone and self.interactive
                           else Qt.CursorShape.ArrowCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if self.hovered is not None:
            self.hovered = None
            self.pointed.emit(self.zone_text(self.current) if self.hasFocus() and self.current
                              else "")
            self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            zone = self.zone_at(event.position())
            if zone is not None:
                self.current = zone
                self._describe()
                self.update()
                self.zone_clicked.emit(zone)
                return
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            zone = self.zone_at(event.pos())
            if zone is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.zone_text(zone), self)
            return True
        return super().event(event)

    # --- keyboard ---------------------------------------------------------------------------

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt name)
        if self.current is None and self.order:
            self.current = self.selected if self.selected in self.order else self.order[0]
            self._describe()
        if self.current:
            self.pointed.emit(self.zone_text(self.current))
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt name)
        self.pointed.emit("")
        self.update()
        super().focusOutEvent(event)

    def step(self, step: int) -> None:
        """The keyboard's zone steps `step` along the drawing's zones (stops at the ends)."""
        if not self.order:
            return
        index = self.order.index(self.current) if self.current in self.order else -1
        index = min(max(index + step, 0), len(self.order) - 1) if index >= 0 else 0
        self.current = self.order[index]
        self._describe()
        self.pointed.emit(self.zone_text(self.current))
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        key = Qt.Key(event.key())
        steps = {Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1, Qt.Key.Key_Left: -1,
                 Qt.Key.Key_Up: -1, Qt.Key.Key_Home: -len(self.order),
                 Qt.Key.Key_End: len(self.order)}
        if key in steps:
            self.step(steps[key])
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.current:
            event.accept()
            self.zone_clicked.emit(self.current)
            return
        super().keyPressEvent(event)


class DepthLegend(QWidget):
    """The depth scale as swatches with their ranges, in two columns."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        self.setFont(font)
        rows = (len(DEPTH_SCALE) + 1) // 2
        self.setFixedHeight(rows * (self.fontMetrics().height() + 2) + 2)
        self.setMinimumWidth(2 * max(self.fontMetrics().horizontalAdvance(b.label)
                                     for b in DEPTH_SCALE) + 40)
        self.setToolTip("Needle depth: the darker the zone, the deeper")
        self.setAccessibleName("Depth scale: " + ", ".join(b.label for b in DEPTH_SCALE))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        metrics = self.fontMetrics()
        line = metrics.height() + 2
        rows = (len(DEPTH_SCALE) + 1) // 2
        column = self.width() / 2
        box = metrics.height() - 4
        for i, band in enumerate(DEPTH_SCALE):
            x = (i // rows) * column
            y = (i % rows) * line + 1
            painter.setPen(QColor(LINE))
            painter.setBrush(QColor(band.colour))
            painter.drawRect(QRectF(x + 1, y + 2, box, box))
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRectF(x + box + 5, y, column - box - 5, line - 2),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             band.label)
        painter.end()


class FaceChartWidget(QWidget):
    """The chart, its legend and the areas without a zone ("Also: abdomen 1.5 mm")."""

    zone_clicked = Signal(str)

    def __init__(self, art: ChartArt | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = FaceChartCanvas(art)
        self.legend = DepthLegend()
        #: The zone the mouse or keyboard is on, in words.
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #1d4f91;")
        self.also = QLabel()
        self.also.setWordWrap(True)
        self.also.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.legend)
        layout.addWidget(self.also)
        self.setFocusProxy(self.canvas)
        self.canvas.zone_clicked.connect(self.zone_clicked)
        self.canvas.pointed.connect(self._point)
        self.caption.setText("Click a zone to add its area")
        self.also.hide()

    def _point(self, text: str) -> None:
        self.caption.setText(text or ("Click a zone to add its area"
                                      if self.canvas.interactive else ""))

    def set_areas(self, areas: Iterable[TreatedArea],
                  area_zones: Mapping[str, str] | None = None) -> None:
        self.canvas.set_areas(areas, area_zones)
        # (a row whose area is not typed yet is not listed)
        unplaced = [(name, depth) for name, depth in self.canvas.data.unplaced if name.strip()]
        self.also.setText("Also: " + ", ".join(f"{name} {depth_label(depth)}"
                                               for name, depth in unplaced))
        self.also.setVisible(bool(unplaced))

    def set_selected(self, zone: str | None) -> None:
        self.canvas.set_selected(zone)

    def set_interactive(self, interactive: bool) -> None:
        if interactive != self.canvas.interactive:
            self.canvas.interactive = interactive
            self._point("")
