"""A signature pad: the client or the practitioner signs with a finger, a pen or the mouse.

The strokes are kept as they are drawn (`StrokePoint`: x and y in the pad's own units, the
pen's pressure where the device reports one, 1.0 otherwise, and milliseconds since the
stroke began), so a signature can be replayed at any size; `signature()` adds the picture
as the signer saw it (PNG, twice the pad's size, white background).

The pad's units are its size when the first stroke began: a pad resized later keeps
drawing in those units, scaled to fit. A read-only pad (`show_signature`) replays a stored
signature and ignores every pen, finger, mouse and key.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QInputDevice,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QShortcut,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from needledesk.domain.consent_rules import (
    PAD_MAX,
    SIGNATURE_POINTS_MAX,
    SIGNATURE_STROKES_MAX,
)
from needledesk.domain.model import Signature, StrokePoint

#: The pen's width on the pad at full pressure, in the pad's units.
PEN_WIDTH = 3.2
#: The thinnest line a light touch draws, as a share of the full width.
LIGHTEST = 0.35
#: The picture kept with a signature is this many times the pad's size.
IMAGE_SCALE = 2
INK = QColor("#14213d")
HINT = QColor("#8a8f98")
#: A stroke's time stops counting here (the rules refuse more than an hour).
T_MAX_MS = 3_600_000


def _width(pressure: float, scale: float = 1.0) -> float:
    return PEN_WIDTH * scale * (LIGHTEST + (1 - LIGHTEST) * max(0.0, min(1.0, pressure)))


def paint_strokes(painter: QPainter, strokes: Iterable[list[StrokePoint]], scale: float,
                  offset: QPointF | None = None) -> None:
    """Draw `strokes` (in pad units) scaled by `scale` and moved by `offset`: smooth curves
    through the midpoints of the sampled points, each piece as wide as the pressure there."""
    offset = offset or QPointF(0, 0)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(INK)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)

    def at(p: StrokePoint) -> QPointF:
        return QPointF(p.x * scale, p.y * scale) + offset

    for stroke in strokes:
        if not stroke:
            continue
        if len(stroke) == 1:   # a dot: the pen touched and lifted
            pen.setWidthF(_width(stroke[0].pressure, scale))
            painter.setPen(pen)
            painter.drawPoint(at(stroke[0]))
            continue
        start = at(stroke[0])
        for i in range(1, len(stroke)):
            a, b = stroke[i - 1], stroke[i]
            control = at(a) if i > 1 else start
            end = (at(a) + at(b)) / 2 if i < len(stroke) - 1 else at(b)
            path = QPainterPath(start)
            path.quadTo(control, end)
            pen.setWidthF(_width((a.pressure + b.pressure) / 2, scale))
            painter.setPen(pen)
            painter.drawPath(path)
            start = end


def signature_png(strokes: list[list[StrokePoint]], width: float, height: float,
                  scale: int = IMAGE_SCALE) -> bytes:
    """The picture of the strokes on a white pad of `width` x `height`, `scale` times as
    large, as PNG bytes."""
    image = QImage(max(1, round(width * scale)), max(1, round(height * scale)),
                   QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        paint_strokes(painter, strokes, scale)
    finally:
        painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


class SignaturePad(QWidget):
    """Where one person signs: mouse, touch or pen; a baseline and "Sign here" like a paper
    form. `changed` is emitted when a stroke ends, on undo and on clear."""

    changed = Signal()

    def __init__(self, who: str = "Signature", parent: QWidget | None = None):
        super().__init__(parent)
        self.who = who
        self.setAccessibleName(who)
        self.setAccessibleDescription("Sign with a finger, a pen or the mouse")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(QSize(280, 120))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.strokes: list[list[StrokePoint]] = []
        #: The pad's units: its size when the first stroke began (or the signature shown).
        self.pad_size: tuple[float, float] | None = None
        self.read_only = False
        self._image = b""          # a shown signature's own picture, kept as it was
        self._drawing = False
        self._started = 0.0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(520, 170)

    # --- what was drawn ----------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not any(self.strokes)

    def signature(self) -> Signature | None:
        """The signature drawn (strokes in the pad's units and its picture); None when
        nothing was drawn."""
        if self.empty or self.pad_size is None:
            return None
        width, height = self.pad_size
        strokes = [list(s) for s in self.strokes if s]
        image = self._image if self.read_only and self._image else \
            signature_png(strokes, width, height)
        return Signature(strokes, width, height, image)

    def clear(self) -> None:
        """Wipe the pad (not a read-only one)."""
        if self.read_only or not self.strokes:
            return
        self.strokes = []
        self.pad_size = None
        self._drawing = False
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        """Take back the last stroke (not on a read-only pad)."""
        if self.read_only or not self.strokes:
            return
        self.strokes.pop()
        self._drawing = False
        if not self.strokes:
            self.pad_size = None
        self.update()
        self.changed.emit()

    def show_signature(self, signature: Signature | None) -> None:
        """Replay a stored signature, read-only from now on (None: an empty locked pad)."""
        self.read_only = True
        self._drawing = False
        self.setCursor(Qt.CursorShape.ArrowCursor)
        if signature is None:
            self.strokes, self.pad_size, self._image = [], None, b""
        else:
            self.strokes = [list(s) for s in signature.strokes]
            self.pad_size = (signature.width, signature.height)
            self._image = signature.image_png
        self.update()

    # --- geometry: pad units <-> the widget ----------------------------------------------

    def _units(self) -> tuple[float, float]:
        return self.pad_size or (float(self.width()), float(self.height()))

    def _scale_offset(self) -> tuple[float, QPointF]:
        """How pad units map onto the widget: one scale (the aspect kept), centred."""
        width, height = self._units()
        scale = min(self.width() / width, self.height() / height) if width and height else 1.0
        offset = QPointF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2)
        return scale, offset

    def _to_pad(self, pos: QPointF) -> tuple[float, float]:
        scale, offset = self._scale_offset()
        width, height = self._units()
        x = (pos.x() - offset.x()) / scale
        y = (pos.y() - offset.y()) / scale
        return round(max(0.0, min(width, x)), 2), round(max(0.0, min(height, y)), 2)

    # --- drawing -------------------------------------------------------------------------

    def _full(self) -> bool:
        points = sum(len(s) for s in self.strokes)
        return points >= SIGNATURE_POINTS_MAX

    def _begin(self, pos: QPointF, pressure: float) -> None:
        if self.read_only or len(self.strokes) >= SIGNATURE_STROKES_MAX or self._full():
            return
        if self.pad_size is None:
            self.pad_size = (float(min(self.width(), PAD_MAX)),
                             float(min(self.height(), PAD_MAX)))
        self._drawing = True
        self._started = time.monotonic()
        self.strokes.append([])
        self._add(pos, pressure)

    def _add(self, pos: QPointF, pressure: float) -> None:
        if not self._drawing or self._full():
            return
        x, y = self._to_pad(pos)
        stroke = self.strokes[-1]
        if stroke and (stroke[-1].x, stroke[-1].y) == (x, y):
            return
        t_ms = min(T_MAX_MS, int((time.monotonic() - self._started) * 1000)) if stroke else 0
        stroke.append(StrokePoint(x, y, round(max(0.0, min(1.0, pressure)), 3), t_ms))
        self.update()

    def _end(self, pos: QPointF | None, pressure: float) -> None:
        if not self._drawing:
            return
        if pos is not None:
            self._add(pos, pressure)
        self._drawing = False
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton and not self.read_only:
            self._begin(event.position(), 1.0)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._add(event.position(), 1.0)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self._end(event.position(), 1.0)
        event.accept()

    @staticmethod
    def _pressure(device: QInputDevice | None, pressure: float) -> float:
        """The device's pressure where it reports one; 1.0 for a device that has none."""
        if device is not None and device.capabilities() & QInputDevice.Capability.Pressure:
            return pressure
        return 1.0

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802 (Qt name)
        # Accepted, so Qt does not also make mouse events of the pen's moves.
        event.accept()
        if self.read_only:
            return
        pressure = self._pressure(event.pointingDevice(), event.pressure())
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position(), pressure)
        elif kind == QEvent.Type.TabletMove:
            self._add(event.position(), pressure)
        elif kind == QEvent.Type.TabletRelease:
            # Most pens report no pressure once lifted: the stroke ends as it was drawn.
            last = self.strokes[-1][-1].pressure if self._drawing and self.strokes[-1] else 1.0
            self._end(event.position(), pressure if pressure > 0 else last)

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                    QEvent.Type.TouchCancel) and isinstance(event, QTouchEvent):
            event.accept()   # no mouse events made from the finger's
            if self.read_only or not event.points():
                return True
            point = event.points()[0]
            pressure = self._pressure(event.pointingDevice(), point.pressure())
            if kind == QEvent.Type.TouchBegin:
                self._begin(point.position(), pressure)
            elif kind == QEvent.Type.TouchUpdate:
                self._add(point.position(), pressure)
            else:
                self._end(point.position() if kind == QEvent.Type.TouchEnd else None,
                          pressure)
            return True
        return super().event(event)

    # --- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.fillRect(self.rect(), QColor("#f4f4f4") if self.read_only else
                             QColor("white"))
            scale, offset = self._scale_offset()
            width, height = self._units()
            area = QRectF(offset.x(), offset.y(), width * scale, height * scale)
            painter.fillRect(area, QColor("white"))
            painter.setPen(QPen(QColor("#c9ccd1"), 1))
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
            base_y = area.top() + area.height() * 0.74
            painter.setPen(QPen(HINT, 1.2))
            painter.drawLine(QPointF(area.left() + 18, base_y),
                             QPointF(area.right() - 18, base_y))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            painter.drawText(QPointF(area.left() + 20, base_y - 8), "✕")
            if self.empty:
                hint = QFont(self.font())
                hint.setItalic(True)
                painter.setFont(hint)
                painter.drawText(QRectF(area.left(), base_y + 4, area.width(), 24),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 "No signature" if self.read_only else
                                 f"Sign here — {self.who.lower()}")
            paint_strokes(painter, self.strokes, scale, offset)
        finally:
            painter.end()


class SignatureBox(QWidget):
    """A pad with its heading and its Undo stroke (Ctrl+Z) and Clear (Ctrl+Delete)
    buttons; the keys act on the pad whose box holds the focus."""

    def __init__(self, heading: str, who: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.pad = SignaturePad(who)
        self.heading = QLabel(heading)
        self.heading.setStyleSheet("font-weight: 600;")
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.setToolTip("Take back the last stroke (Ctrl+Z)")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe this signature to sign again (Ctrl+Delete)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button.clicked.connect(self.pad.clear)
        for key, slot in (("Ctrl+Z", self.pad.undo), ("Ctrl+Delete", self.pad.clear)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.pad.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.undo_button)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pad, 1)
        self.pad.changed.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        drawn = not self.pad.empty and not self.pad.read_only
        self.undo_button.setEnabled(drawn)
        self.clear_button.setEnabled(drawn)

    def show_signature(self, signature: Signature | None) -> None:
        """Replay a stored signature, locked: no buttons."""
        self.pad.show_signature(signature)
        self.undo_button.hide()
        self.clear_button.hide()
