"""Comparing a client's photos of one view from two sessions: side by side, or the later one
revealed over the earlier by a divider, with zoom and pan kept in step on both.

Opening must be quick (`compare_open_ms`, budget 100 ms, with 12-megapixel photos): each
photo is decoded at about the size it is shown (`QImageReader.setScaledSize` at 1/2, 1/4 or
1/8 of its side, which libjpeg decodes without building the full picture), both at once on
worker threads; the full resolution is decoded only when zooming in past the size decoded,
off the UI thread too. A large photo compared once also gets a screen-sized copy in the photo
store's thumbnail cache (`PREVIEW_SIDE`), decoded instead the next time while it is sharp
enough. Photos' bytes are read (and their hashes checked) by the repository on the UI thread;
only decoding and making the copy run on the workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import shiboken6
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QEventLoop,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.model import Photo, PhotoView
from needledesk.domain.photos import (
    USE_RECORD,
    USE_SHOWN,
    by_view,
    first_and_latest,
    photo_consent,
    use_refusal,
    view_text,
)
from needledesk.domain.text import day_text
from needledesk.errors import NeedleDeskError
from needledesk.ui.forms import remember_geometry, restore_geometry, window_state
from needledesk.ui.tasks import Tasks

BEFORE, AFTER = 0, 1
SIDE_BY_SIDE, OVERLAY = "side", "overlay"
#: Zoom is relative to the photo fitted in its place (1: the whole photo shows).
ZOOM_MIN, ZOOM_MAX, ZOOM_STEP = 1.0, 16.0, 1.25
#: The divider's place in overlay mode, in thousandths of the width (the slider's range).
DIVIDER_STEPS = 1000
#: libjpeg decodes at these fractions of the side without building the full picture.
_DENOMINATORS = (8, 4, 2, 1)
_GAP = 8               # pixels between the two photos side by side
#: A photo larger than about this on its longer side is also kept as a screen-sized copy
#: in the photo store's thumbnail cache, made after its first comparison: opening again
#: decodes that (a few milliseconds) instead of the photo itself (tens of milliseconds
#: even at 1/8 of its size, all of its file having to be read).
PREVIEW_SIDE = 1600
_FROM_PREVIEW = -1     # what `pending` says while the screen-sized copy is decoded
_GRAB = 10             # how near the divider a press takes hold of it
_PAN_STEP = 0.1        # an arrow key moves this share of what shows
ViewKey = tuple[PhotoView, str]


# --- decoding (no widgets: runs on worker threads) -------------------------------------------

def decode_scale(width: int, height: int, box: QSize | QSizeF, ratio: float = 1.0,
                 zoom: float = 1.0) -> int:
    """The largest of 8, 4, 2, 1 by which a `width` x `height` photo may be divided and
    still give at least one pixel per device pixel when it is fitted in `box` (logical
    pixels, `ratio` device pixels each) and zoomed by `zoom`."""
    if width <= 0 or height <= 0 or box.width() <= 0 or box.height() <= 0:
        return 1
    shown = min(box.width() / width, box.height() / height) * ratio * zoom
    for denominator in _DENOMINATORS:
        if math.ceil(width / denominator) >= width * shown * 0.999:
            return denominator
    return 1


def decode(data: bytes, width: int, height: int, denominator: int = 1,
           fit: tuple[QSizeF, float] | None = None) -> QImage:
    """The photo's bytes as a picture, `1/denominator` of its size (the exact size libjpeg
    gives at that scale, so nothing is resampled afterwards); with `fit` (a place and its
    device pixel ratio) the denominator is chosen from the size the file gives, as
    `decode_scale` does. An unreadable file gives a null image."""
    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(False)   # the stored photo is upright and has no EXIF
    if fit is not None:
        size = reader.size()
        width, height = size.width(), size.height()
        denominator = decode_scale(width, height, fit[0], fit[1])
    if denominator > 1:
        reader.setScaledSize(QSize(math.ceil(width / denominator),
                                   math.ceil(height / denominator)))
    image = reader.read()
    buffer.close()
    return image


# --- the two photos, painted in step -----------------------------------------------------------

@dataclass
class _Side:
    """One of the two photos: its full size in pixels, the picture decoded so far (at
    `image.width() / width` of its size) and its bytes, kept for decoding it larger."""

    width: int = 0
    height: int = 0
    image: QImage | None = None
    data: bytes = b""
    error: str = ""
    label: str = ""
    token: int = 0
    pending: int = 0     # the denominator being decoded now (0: none)
    from_preview: bool = False   # the picture is the screen-sized copy's

    @property
    def scale(self) -> float:
        """How much of the full resolution is decoded (1: all of it)."""
        if self.image is None or self.image.isNull() or not self.width:
            return 0.0
        return self.image.width() / self.width

    @property
    def done(self) -> bool:
        return bool(self.error) or (self.image is not None and not self.image.isNull())


class PhotoPair(QWidget):
    """Two photos painted in step: side by side, or one over the other split by a vertical
    divider (the earlier left of it, the later right). Zoom and the centre shown are shared,
    the centre in shares of each photo's width and height, so both show the same part of the
    face however many pixels each has.

    Keys (when it has focus): + and - zoom, 0 fits; the arrows move what shows; in overlay,
    Shift+Left and Shift+Right move the divider. The wheel (or a pinch) zooms at the pointer;
    dragging moves both photos, or the divider when taken near it."""

    changed = Signal()            # zoom or centre
    divider_moved = Signal(int)   # thousandths of the width
    painted = Signal()            # a paint that showed both photos (or why one cannot show)
    sharpen = Signal(int, int)    # side, denominator: a larger decode is wanted

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sides = (_Side(), _Side())
        self.mode = SIDE_BY_SIDE
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)
        self.divider = DIVIDER_STEPS // 2
        self._drag: QPointF | None = None
        self._dragging_divider = False
        self._pinch = 1.0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("The two photos")
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.grabGesture(Qt.GestureType.PinchGesture)

    # --- geometry: where each photo is painted --------------------------------------------

    def areas(self) -> tuple[QRectF, QRectF]:
        """The place of each photo in the widget (the same place, in overlay)."""
        whole = QRectF(self.rect())
        if self.mode == OVERLAY:
            return whole, whole
        half = (whole.width() - _GAP) / 2
        return (QRectF(whole.left(), whole.top(), half, whole.height()),
                QRectF(whole.left() + half + _GAP, whole.top(), half, whole.height()))

    def _fit(self, side: int) -> float:
        s, area = self.sides[side], self.areas()[side]
        if not s.width or not s.height:
            return 1.0
        return min(area.width() / s.width, area.height() / s.height)

    def photo_rect(self, side: int) -> QRectF:
        """Where the whole photo lies in widget pixels (mostly outside when zoomed in)."""
        s, area = self.sides[side], self.areas()[side]
        k = self._fit(side) * self.zoom
        w, h = s.width * k, s.height * k
        return QRectF(area.center().x() - self.center.x() * w,
                      area.center().y() - self.center.y() * h, w, h)

    def visible_rect(self, side: int) -> QRectF:
        """The part of the photo that shows, in shares of its width and height (0 to 1)."""
        s = self.sides[side]
        placed, area = self.photo_rect(side), self.areas()[side]
        if not s.width or placed.width() <= 0 or placed.height() <= 0:
            return QRectF()
        shown = placed.intersected(area)
        return QRectF((shown.left() - placed.left()) / placed.width(),
                      (shown.top() - placed.top()) / placed.height(),
                      shown.width() / placed.width(), shown.height() / placed.height())

    def _clamp(self) -> None:
        """Keep the photos over their places: no panning past an edge (per axis, as far as
        the photo that reaches further allows)."""
        def allowed(side: int, axis: int) -> tuple[float, float]:
            s, area = self.sides[side], self.areas()[side]
            k = self._fit(side) * self.zoom
            extent = (s.width if axis == 0 else s.height) * k
            room = area.width() if axis == 0 else area.height()
            if extent <= room or extent <= 0:
                return 0.5, 0.5
            margin = room / (2 * extent)
            return margin, 1 - margin

        shown = [i for i in (BEFORE, AFTER) if self.sides[i].width]
        if not shown:
            return
        x_lo, x_hi = zip(*(allowed(i, 0) for i in shown), strict=True)
        y_lo, y_hi = zip(*(allowed(i, 1) for i in shown), strict=True)
        self.center = QPointF(min(max(self.center.x(), min(x_lo)), max(x_hi)),
                              min(max(self.center.y(), min(y_lo)), max(y_hi)))

    # --- the photos ----------------------------------------------------------------------

    def set_side(self, side: int, width: int, height: int, data: bytes, label: str,
                 error: str = "") -> int:
        """A new photo on one side (not decoded yet); returns the token its decode carries."""
        old = self.sides[side]
        self.sides = tuple(  # type: ignore[assignment]
            _Side(width, height, None, data, error, label, old.token + 1)
            if i == side else s for i, s in enumerate(self.sides))
        self._clamp()
        self.update()
        return old.token + 1

    def set_error(self, side: int, text: str) -> None:
        """Say in its place why the photo cannot be shown."""
        s = self.sides[side]
        s.error, s.pending = text, 0
        self.update()

    def set_image(self, side: int, token: int, image: QImage, denominator: int) -> bool:
        """A decoded picture arrives: kept unless the side shows another photo by now, or it
        is smaller than what is already there."""
        s = self.sides[side]
        if token != s.token:
            return False
        if s.pending == denominator:
            s.pending = 0
        if image.isNull():
            if s.image is None:
                s.error = "This photo could not be read."
            self.update()
            return True
        if s.image is None or image.width() > s.image.width():
            s.image = image
            s.from_preview = denominator == _FROM_PREVIEW
        self.update()
        self.check_sharpness()   # the place grew while it was decoded: a larger one
        return True

    def wanted_denominator(self, side: int) -> int:
        s = self.sides[side]
        return decode_scale(s.width, s.height, self.areas()[side].size(),
                            self.devicePixelRatioF(), self.zoom)

    def check_sharpness(self) -> None:
        """Ask for a larger decode of any photo now shown bigger than it was decoded."""
        for side, s in enumerate(self.sides):
            if not s.done or s.error or not s.data:
                continue
            wanted = self.wanted_denominator(side)
            if s.scale * wanted < 0.999 and (not s.pending or s.pending > wanted):
                s.pending = wanted
                self.sharpen.emit(side, wanted)

    # --- zoom, pan, divider ---------------------------------------------------------------

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom (1: fitted), keeping the point under `anchor` (widget pixels) in place."""
        zoom = min(max(zoom, ZOOM_MIN), ZOOM_MAX)
        if anchor is not None:
            side = self._side_at(anchor)
            placed = self.photo_rect(side)
            area = self.areas()[side]
            if placed.width() > 0 and placed.height() > 0:
                u = (anchor.x() - placed.left()) / placed.width()
                v = (anchor.y() - placed.top()) / placed.height()
                ratio = self.zoom / zoom
                self.center = QPointF(
                    u - (anchor.x() - area.center().x()) / placed.width() * ratio,
                    v - (anchor.y() - area.center().y()) / placed.height() * ratio)
        self.zoom = zoom
        if zoom == ZOOM_MIN:
            self.center = QPointF(0.5, 0.5)
        self._clamp()
        self.update()
        self.changed.emit()
        self.check_sharpness()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def fit(self) -> None:
        self.set_zoom(ZOOM_MIN)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move what shows by (dx, dy) shares of each photo's width and height."""
        self.center = QPointF(self.center.x() + dx, self.center.y() + dy)
        self._clamp()
        self.update()
        self.changed.emit()

    def pan_pixels(self, dx: float, dy: float, side: int = BEFORE) -> None:
        """Move both photos as a drag of (dx, dy) pixels moves the one on `side`."""
        placed = self.photo_rect(side)
        if placed.width() > 0 and placed.height() > 0:
            self.pan_by(-dx / placed.width(), -dy / placed.height())

    def set_divider(self, value: int) -> None:
        value = min(max(int(value), 0), DIVIDER_STEPS)
        if value != self.divider:
            self.divider = value
            self.update()
            self.divider_moved.emit(value)

    def divider_x(self) -> float:
        return self.width() * self.divider / DIVIDER_STEPS

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._clamp()
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.update()
        self.check_sharpness()

    def _side_at(self, point: QPointF) -> int:
        if self.mode == OVERLAY:
            return BEFORE if point.x() < self.divider_x() else AFTER
        return AFTER if point.x() >= self.areas()[AFTER].left() else BEFORE

    def _near_divider(self, point: QPointF) -> bool:
        return self.mode == OVERLAY and abs(point.x() - self.divider_x()) <= _GRAB

    # --- events ---------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        key, shift = event.key(), event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        step = DIVIDER_STEPS // 50
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        elif self.mode == OVERLAY and shift and key == Qt.Key.Key_Left:
            self.set_divider(self.divider - step)
        elif self.mode == OVERLAY and shift and key == Qt.Key.Key_Right:
            self.set_divider(self.divider + step)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            shown = self.visible_rect(BEFORE)
            dx = (key == Qt.Key.Key_Right) - (key == Qt.Key.Key_Left)
            dy = (key == Qt.Key.Key_Down) - (key == Qt.Key.Key_Up)
            self.pan_by(dx * _PAN_STEP * shown.width(), dy * _PAN_STEP * shown.height())
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt name)
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom * ZOOM_STEP ** steps, event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.NativeGesture and \
                event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:  # type: ignore[attr-defined]
            self.set_zoom(self.zoom * (1 + event.value()),  # type: ignore[attr-defined]
                          event.position())  # type: ignore[attr-defined]
            return True
        if kind == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)  # type: ignore[attr-defined]
            if pinch is not None:
                factor = pinch.totalScaleFactor()
                if pinch.state() == Qt.GestureState.GestureStarted:
                    self._pinch = 1.0
                if factor > 0 and self._pinch > 0:
                    self.set_zoom(self.zoom * factor / self._pinch,
                                  self.mapFromGlobal(pinch.centerPoint().toPoint()).toPointF())
                self._pinch = factor
                return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._drag = event.position()
        self._dragging_divider = self._near_divider(event.position())
        if self._dragging_divider:
            self._follow(event.position())
        else:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        position = event.position()
        if self._drag is None:
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(position)
                           else Qt.CursorShape.OpenHandCursor)
            return
        if self._dragging_divider:
            self._follow(position)
        else:
            self.pan_pixels(position.x() - self._drag.x(), position.y() - self._drag.y(),
                            self._side_at(self._drag))
            self._drag = position
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        self._drag = None
        self._dragging_divider = False
        self.setCursor(Qt.CursorShape.SplitHCursor if self._near_divider(event.position())
                       else Qt.CursorShape.OpenHandCursor)
        event.accept()

    def _follow(self, position: QPointF) -> None:
        if self.width() > 0:
            self.set_divider(round(position.x() / self.width() * DIVIDER_STEPS))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._clamp()
        self.check_sharpness()

    # --- painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(38, 38, 40))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        areas = self.areas()
        if self.mode == OVERLAY:
            split = self.divider_x()
            whole = QRectF(self.rect())
            self._paint_side(painter, BEFORE, QRectF(whole.left(), whole.top(),
                                                     split - whole.left(), whole.height()))
            self._paint_side(painter, AFTER, QRectF(split, whole.top(),
                                                    whole.right() - split + 1, whole.height()))
            painter.setClipping(False)
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(QPointF(split, whole.top()), QPointF(split, whole.bottom()))
            handle = QRectF(split - 7, whole.center().y() - 18, 14, 36)
            painter.setBrush(QColor(255, 255, 255))
            painter.setPen(QPen(QColor(60, 60, 60), 1))
            painter.drawRoundedRect(handle, 4, 4)
            self._tag(painter, BEFORE, whole, left=True)
            self._tag(painter, AFTER, whole, left=False)
        else:
            for side in (BEFORE, AFTER):
                self._paint_side(painter, side, areas[side])
                painter.setClipping(False)
                self._tag(painter, side, areas[side], left=True)
        painter.end()
        if all(s.done for s in self.sides if s.width or s.error):
            self.painted.emit()

    def _paint_side(self, painter: QPainter, side: int, clip: QRectF) -> None:
        s = self.sides[side]
        painter.setClipRect(clip)
        if s.error or s.image is None or s.image.isNull():
            painter.setFont(self.font())
            painter.setPen(QColor(220, 220, 220))
            text = s.error or ("Reading the photo…" if s.width else "")
            painter.drawText(self.areas()[side].adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            return
        placed = self.photo_rect(side)
        shown = placed.intersected(clip)
        if shown.isEmpty():
            return
        k = s.image.width() / placed.width()     # image pixels per widget pixel
        source = QRectF((shown.left() - placed.left()) * k, (shown.top() - placed.top()) * k,
                        shown.width() * k, shown.height() * k)
        painter.drawImage(shown, s.image, source)

    def _tag(self, painter: QPainter, side: int, area: QRectF, *, left: bool) -> None:
        text = self.sides[side].label
        if not text:
            return
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 14, metrics.height() + 8)
        box.moveTop(area.top() + 8)
        if left:
            box.moveLeft(area.left() + 8)
        else:
            box.moveRight(area.right() - 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


# --- the dialog ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Choice:
    """A photo that can be compared: its session's date and place in the course."""

    photo: Photo
    started_at: datetime
    number: int          # the session's number among the client's sessions (1: first)
    text: str


def _depths_text(session, limit: int = 4) -> str:
    """"Cheeks 1.5 mm · forehead 0.5 mm" (the first few areas, then how many more)."""
    parts = [f"{a.area} {a.depth_mm:g} mm" for a in session.areas]
    if not parts:
        return "No areas recorded"
    more = len(parts) - limit
    shown = parts[:limit] + ([f"{more} more"] if more > 0 else [])
    text = " · ".join(shown)
    return text[:1].upper() + text[1:]


class CompareDialog(QDialog):
    """A client's photos of one view from two sessions, compared.

    `CompareDialog(repo, client_id, parent=None, *, view=None, sessions=None)`: `view` a
    PhotoView (or (view, close-up label)) to start on, else the first view with photos;
    `sessions` (earlier id, later id) to start with, else the first and latest sessions
    having that view. `state` (QSettings) keeps its size, else the parent window's; `today`
    is the day whose photo consent rules the line about showing the photos.

    Ready: the dialog decodes both photos off the UI thread. `ready` is emitted once, at the
    first paint that shows both photos (or says why one cannot show, or says that the view
    has one session only); `is_ready` tells whether it has been. `wait_ready(timeout_ms)`
    runs the event loop until then (the dialog must be shown) and returns whether it came:

        dialog = CompareDialog(repo, client_id, view=PhotoView.FRONT)
        dialog.show()
        dialog.wait_ready()

    The benchmark's `compare_open_ms` is the time from construction to that point. The
    first comparison of a large photo decodes the photo itself (at 1/8 or 1/4 of its size)
    and then keeps its screen-sized copy (`PREVIEW_SIDE`) in the thumbnail cache; later ones
    decode the copy, several times faster.
    """

    ready = Signal()
    GEOMETRY_KEY = "compare_photos_geometry"
    DEFAULT_SIZE = QSize(1100, 760)

    def __init__(self, repo, client_id: str, parent: QWidget | None = None, *,
                 view: PhotoView | ViewKey | None = None,
                 sessions: Sequence[str] | None = None, state=None,
                 today: Callable[[], date] = date.today):
        super().__init__(parent)
        self.repo = repo
        self.state = window_state(parent, state)
        self.is_ready = False
        self._ready_sent = False
        self._session_cache: dict[str, object] = {}
        self.client = repo.get_client(client_id)
        self.setWindowTitle(f"Compare photos — {self.client.full_name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        photos = repo.photos(client_id=client_id)
        history = sorted(repo.history(client_id), key=lambda s: s.started_at)
        self.session_order = [s.id for s in history]
        started = {s.id: s.started_at for s in history}
        number = {s.id: i + 1 for i, s in enumerate(history)}
        self.total_sessions = len(history)
        order = list(PhotoView)
        self.groups: dict[ViewKey, list[_Choice]] = {}
        for key, group in sorted(by_view(photos).items(),
                                 key=lambda item: (order.index(item[0][0]), item[0][1])):
            known = sorted((p for p in group if p.session_id in started),
                           key=lambda p: (started[p.session_id], p.added_at))
            if known:
                self.groups[key] = self._choices(known, started, number)
        self.pairs = {(p.view, p.label.strip().casefold() if p.view == PhotoView.CLOSE_UP
                       else ""): p for p in first_and_latest(photos, self.session_order)}
        self._build(today())
        restore_geometry(self, self.state, self.GEOMETRY_KEY, self.DEFAULT_SIZE)
        self._wanted_sessions = tuple(sessions) if sessions else None
        start = self._start_index(view)
        self.view_box.setCurrentIndex(start)
        self._view_chosen(start)

    @staticmethod
    def _choices(photos: list[Photo], started: dict[str, datetime],
                 number: dict[str, int]) -> list[_Choice]:
        per_session: dict[str, int] = {}
        for p in photos:
            per_session[p.session_id] = per_session.get(p.session_id, 0) + 1
        seen: dict[str, int] = {}
        choices = []
        for p in photos:
            seen[p.session_id] = seen.get(p.session_id, 0) + 1
            text = f"{day_text(started[p.session_id].date())} (session {number[p.session_id]})"
            if per_session[p.session_id] > 1:
                text += f", photo {seen[p.session_id]} of {per_session[p.session_id]}"
            choices.append(_Choice(p, started[p.session_id], number[p.session_id], text))
        return choices

    # --- building ------------------------------------------------------------------------

    def _build(self, today: date) -> None:
        layout = QVBoxLayout(self)
        self.consent_label = QLabel(self._consent_text(today))
        self.consent_label.setWordWrap(True)
        layout.addWidget(self.consent_label)

        pickers = QGridLayout()
        self.view_box = QComboBox()
        self.view_box.setAccessibleName("View")
        for key, choices in self.groups.items():
            sessions = len({c.photo.session_id for c in choices})
            self.view_box.addItem(f"{view_text(key[0], choices[0].photo.label.strip())} "
                                  f"({sessions} session{'s' if sessions != 1 else ''})")
        view_label = QLabel("&View:")
        view_label.setBuddy(self.view_box)
        self.before_box, self.after_box = QComboBox(), QComboBox()
        self.before_box.setAccessibleName("Earlier session")
        self.after_box.setAccessibleName("Later session")
        before_label, after_label = QLabel("&Earlier:"), QLabel("&Later:")
        before_label.setBuddy(self.before_box)
        after_label.setBuddy(self.after_box)
        self.side_button = QRadioButton("Si&de by side")
        self.overlay_button = QRadioButton("&Overlay with a divider")
        self.side_button.setToolTip("Ctrl+1")
        self.overlay_button.setToolTip("Ctrl+2")
        self.side_button.setChecked(True)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.side_button)
        self.modes.addButton(self.overlay_button)
        modes = QHBoxLayout()
        modes.addWidget(self.side_button)
        modes.addWidget(self.overlay_button)
        modes.addStretch(1)
        pickers.addWidget(view_label, 0, 0)
        pickers.addWidget(self.view_box, 0, 1)
        pickers.addLayout(modes, 0, 3)
        pickers.addWidget(before_label, 1, 0)
        pickers.addWidget(self.before_box, 1, 1)
        pickers.addWidget(after_label, 1, 2)
        pickers.addWidget(self.after_box, 1, 3)
        pickers.setColumnStretch(1, 1)
        pickers.setColumnStretch(3, 1)
        layout.addLayout(pickers)

        captions = QHBoxLayout()
        self.before_caption, self.after_caption = QLabel(), QLabel()
        for caption in (self.before_caption, self.after_caption):
            caption.setWordWrap(True)
            caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            captions.addWidget(caption, 1)
        layout.addLayout(captions)

        self.stack = QStackedWidget()
        self.pane = PhotoPair()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMinimumSize(320, 240)
        self.stack.addWidget(self.pane)
        self.stack.addWidget(self.message)
        layout.addWidget(self.stack, 1)

        below = QHBoxLayout()
        self.slider_label = QLabel("&Reveal:")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, DIVIDER_STEPS)
        self.slider.setSingleStep(DIVIDER_STEPS // 100)
        self.slider.setPageStep(DIVIDER_STEPS // 10)
        self.slider.setValue(self.pane.divider)
        self.slider.setAccessibleName("Divider: the earlier photo left of it, the later right")
        self.slider_label.setBuddy(self.slider)
        self.zoom_label = QLabel()
        self.fit_button = QPushButton("&Fit")
        self.fit_button.setToolTip("Show the whole photos (0)")
        self.fit_button.setAutoDefault(False)
        self.hint = QLabel("Zoom: wheel or + and -, 0 fits. Move: drag, or the arrow keys "
                           "on the photos.")
        self.hint.setWordWrap(True)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        below.addWidget(self.slider_label)
        below.addWidget(self.slider, 1)
        below.addWidget(self.hint, 2)
        below.addWidget(self.zoom_label)
        below.addWidget(self.fit_button)
        below.addWidget(close)
        layout.addLayout(below)

        self.view_box.currentIndexChanged.connect(self._view_chosen)
        self.before_box.currentIndexChanged.connect(lambda _i: self._pair_chosen())
        self.after_box.currentIndexChanged.connect(lambda _i: self._pair_chosen())
        self.side_button.toggled.connect(lambda on: self._mode_toggled(SIDE_BY_SIDE, on))
        self.overlay_button.toggled.connect(lambda on: self._mode_toggled(OVERLAY, on))
        self.slider.valueChanged.connect(self.pane.set_divider)
        self.pane.divider_moved.connect(self._divider_moved)
        self.pane.changed.connect(self._show_zoom)
        self.pane.painted.connect(self._painted)
        self.pane.sharpen.connect(self._sharpen)
        self.fit_button.clicked.connect(self.pane.fit)
        close.clicked.connect(self.reject)
        for keys, slot in ((("Ctrl+1",), lambda: self.side_button.setChecked(True)),
                           (("Ctrl+2",), lambda: self.overlay_button.setChecked(True)),
                           (("Ctrl++", "Ctrl+="), self.pane.zoom_in),
                           (("Ctrl+-",), self.pane.zoom_out),
                           (("Ctrl+0",), self.pane.fit)):
            for sequence in keys:
                QShortcut(QKeySequence(sequence), self).activated.connect(slot)
        self.setTabOrder(self.view_box, self.side_button)
        self.setTabOrder(self.side_button, self.overlay_button)
        self.setTabOrder(self.overlay_button, self.before_box)
        self.setTabOrder(self.before_box, self.after_box)
        self.setTabOrder(self.after_box, self.pane)
        self.setTabOrder(self.pane, self.slider)
        self.setMinimumSize(640, 480)
        self._show_mode_parts()
        self._show_zoom()

    def _consent_text(self, today: date) -> str:
        consents = self.repo.consents(self.client.id)
        name = self.client.first_name or self.client.full_name
        record = use_refusal(consents, today, USE_RECORD)
        if record is not None:
            return f"<span style='color:#a61b1b'><b>{_escape(record)}</b></span>"
        shown = use_refusal(consents, today, USE_SHOWN)
        if shown is not None:
            return (f"<span style='color:#a61b1b'><b>{_escape(name)} has not allowed "
                    f"being shown these photos: keep the screen turned away.</b></span> "
                    f"{_escape(shown.replace('The client', name, 1))}")
        consent = photo_consent(consents, today)
        signed = f" (photo consent of {day_text(consent.signed_at.date())})" if consent else ""
        return f"{_escape(name)} has allowed being shown these photos{signed}."

    def _start_index(self, view: PhotoView | ViewKey | None) -> int:
        keys = list(self.groups)
        if view is None or not keys:
            return 0
        if isinstance(view, tuple):
            wanted = (PhotoView(view[0]), view[1].strip().casefold())
            if wanted in keys:
                return keys.index(wanted)
            view = wanted[0]
        for i, key in enumerate(keys):
            if key[0] == view:
                return i
        return 0

    # --- choosing --------------------------------------------------------------------------

    def view_key(self) -> ViewKey | None:
        keys = list(self.groups)
        index = self.view_box.currentIndex()
        return keys[index] if 0 <= index < len(keys) else None

    def _view_chosen(self, _index: int = -1) -> None:
        key = self.view_key()
        choices = self.groups.get(key, []) if key is not None else []
        for box in (self.before_box, self.after_box):
            box.blockSignals(True)
            box.clear()
            for choice in choices:
                box.addItem(choice.text)
            box.blockSignals(False)
        if key is None:
            self._say("No photos of this client are stored yet.")
            return
        sessions = {c.photo.session_id for c in choices}
        if len(sessions) < 2:
            only = choices[0]
            self._say(f"{view_text(key[0], only.photo.label.strip())} was photographed at one "
                      f"session only ({day_text(only.started_at.date())}). Two sessions are "
                      "needed to compare: add a photo of this view at another session.")
            self._caption(self.before_caption, "Photographed", only)
            self.after_caption.setText("")
            return
        before, after = self._defaults(key, choices)
        for box, index in ((self.before_box, before), (self.after_box, after)):
            box.blockSignals(True)
            box.setCurrentIndex(index)
            box.blockSignals(False)
        self._pair_chosen()

    def _defaults(self, key: ViewKey, choices: list[_Choice]) -> tuple[int, int]:
        ids = [c.photo.id for c in choices]
        wanted = self._wanted_sessions
        self._wanted_sessions = None     # only for the view it opened on
        if wanted is not None and len(wanted) == 2:
            sessions = [c.photo.session_id for c in choices]
            if wanted[0] in sessions and wanted[1] in sessions:
                return (sessions.index(wanted[0]),
                        len(sessions) - 1 - sessions[::-1].index(wanted[1]))
        pair = self.pairs.get(key)
        if pair is not None and pair.before.id in ids and pair.after.id in ids:
            return ids.index(pair.before.id), ids.index(pair.after.id)
        return 0, len(choices) - 1

    def chosen(self) -> tuple[_Choice | None, _Choice | None]:
        key = self.view_key()
        choices = self.groups.get(key, []) if key is not None else []

        def pick(box: QComboBox) -> _Choice | None:
            index = box.currentIndex()
            return choices[index] if 0 <= index < len(choices) else None
        return pick(self.before_box), pick(self.after_box)

    def _pair_chosen(self) -> None:
        before, after = self.chosen()
        if before is None or after is None:
            return
        self.stack.setCurrentWidget(self.pane)
        self._set_enabled(True)
        self._caption(self.before_caption, "Earlier", before)
        self._caption(self.after_caption, "Later", after)
        self.is_ready = self._ready_sent = False
        self.pane.zoom, self.pane.center = 1.0, QPointF(0.5, 0.5)
        for side, choice in ((BEFORE, before), (AFTER, after)):
            self._load(side, choice)
        self._show_zoom()

    def _load(self, side: int, choice: _Choice) -> None:
        """Read the photo (checked against its hash) and decode it at the size shown, on a
        worker thread: from the screen-sized copy when there is one sharp enough."""
        photo = choice.photo
        tag = f"{'Earlier' if side == BEFORE else 'Later'} · {day_text(choice.started_at.date())}"
        token = self.pane.set_side(side, photo.width, photo.height, b"", tag)
        size = self.pane.size() if self.pane.isVisible() else self._expected_pane_size()
        area = QSizeF(size.width(), size.height())
        if self.pane.mode == SIDE_BY_SIDE:
            area.setWidth((area.width() - _GAP) / 2)
        ratio = self.devicePixelRatioF()
        denominator = decode_scale(photo.width, photo.height, area, ratio)
        longest = max(photo.width, photo.height)
        large = longest > PREVIEW_SIDE * 1.2
        needed = min(area.width() / photo.width, area.height() / photo.height) * ratio
        preview_sharp = large and PREVIEW_SIDE / longest >= needed
        repo, store, pane = self.repo, self.repo.photo_store, self.pane

        def work() -> tuple[bytes, QImage, int, bool]:
            data = repo.photo_bytes(photo)   # no database: the file, and its hash checked
            preview = store.thumbnail(photo.sha256, PREVIEW_SIDE) if large else None
            if preview is not None and preview_sharp:
                return data, decode(preview, 0, 0, 1, (area, ratio)), _FROM_PREVIEW, False
            return (data, decode(data, photo.width, photo.height, denominator), denominator,
                    large and preview is None)

        def arrived(result: tuple[bytes, QImage, int, bool]) -> None:
            data, image, used, keep_preview = result
            if not shiboken6.isValid(pane) or pane.sides[side].token != token:
                return
            pane.sides[side].data = data
            pane.sides[side].pending = used   # done with: set_image clears it
            pane.set_image(side, token, image, used)
            if keep_preview:   # for the next time: a screen-sized copy in the cache
                Tasks.run(lambda: _keep_preview(store, photo.sha256, data),
                          lambda _none: None, lambda _exc: None)

        def failed(exc: Exception) -> None:
            if shiboken6.isValid(pane) and pane.sides[side].token == token:
                pane.set_error(side, _cannot_show(exc))

        pane.sides[side].pending = denominator
        Tasks.run(work, arrived, failed, owner=pane)

    def _expected_pane_size(self) -> QSize:
        """The photos' place before the dialog is first shown (what its layout will give)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        size = self.pane.size()
        if size.width() < 100 or size.height() < 100:
            return QSize(max(self.width() - 24, 320), max(self.height() - 190, 240))
        return size

    def _decode(self, side: int, token: int, data: bytes, width: int, height: int,
                denominator: int) -> None:
        """Decode the photo again, larger (zoomed in past the size decoded)."""
        self.pane.sides[side].pending = denominator
        pane = self.pane

        def arrived(image: QImage) -> None:
            if shiboken6.isValid(pane):
                pane.set_image(side, token, image, denominator)

        def failed(_exc: Exception) -> None:
            if shiboken6.isValid(pane):
                pane.set_image(side, token, QImage(), denominator)

        Tasks.run(lambda: decode(data, width, height, denominator), arrived, failed,
                  owner=pane)

    def _sharpen(self, side: int, denominator: int) -> None:
        s = self.pane.sides[side]
        self._decode(side, s.token, s.data, s.width, s.height, denominator)

    def _caption(self, label: QLabel, word: str, choice: _Choice) -> None:
        session_id = choice.photo.session_id
        session = self._session_cache.get(session_id)
        if session is None:
            try:
                session = self._session_cache[session_id] = self.repo.get_session(session_id)
            except NeedleDeskError:
                session = None
        depths = _depths_text(session) if session is not None else ""
        label.setText(f"<b>{word}: {day_text(choice.started_at.date())}</b>, session "
                      f"{choice.number} of {self.total_sessions}<br>{_escape(depths)}")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self._set_enabled(False)
        self.is_ready = self._ready_sent = False
        QTimer.singleShot(0, self._painted)

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.before_box, self.after_box, self.side_button, self.overlay_button,
                       self.slider, self.fit_button):
            widget.setEnabled(on)

    # --- mode, zoom, divider ----------------------------------------------------------------

    def mode(self) -> str:
        return self.pane.mode

    def set_mode(self, mode: str) -> None:
        (self.overlay_button if mode == OVERLAY else self.side_button).setChecked(True)
        self.pane.set_mode(mode)
        self._show_mode_parts()

    def _mode_toggled(self, mode: str, on: bool) -> None:
        if on:
            self.set_mode(mode)

    def _show_mode_parts(self) -> None:
        overlay = self.pane.mode == OVERLAY
        self.slider.setVisible(overlay)
        self.slider_label.setVisible(overlay)
        self.hint.setText("Zoom: wheel or + and -, 0 fits. Move: drag, or the arrow keys on "
                          "the photos." + (" Divider: drag it, Shift+Left and Shift+Right, or "
                                           "the Reveal slider." if overlay else ""))

    def _divider_moved(self, value: int) -> None:
        if self.slider.value() != value:
            self.slider.setValue(value)

    def _show_zoom(self) -> None:
        self.zoom_label.setText(f"Zoom {round(self.pane.zoom * 100)}%")

    # --- ready --------------------------------------------------------------------------------

    def _painted(self) -> None:
        if self._ready_sent or not shiboken6.isValid(self):
            return
        if self.stack.currentWidget() is self.pane and \
                not all(s.done for s in self.pane.sides):
            return
        self.is_ready = self._ready_sent = True
        self.ready.emit()

    def wait_ready(self, timeout_ms: int = 5000) -> bool:
        """Run the event loop until both photos have been decoded and painted (see the class
        docstring); False if that took longer than `timeout_ms`."""
        if self.is_ready:
            return True
        loop = QEventLoop()
        self.ready.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.ready.disconnect(loop.quit)
        return self.is_ready

    # --- closing ------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Escape, Close and the title bar's close all end here: the size is kept."""
        remember_geometry(self, self.state, self.GEOMETRY_KEY)
        super().done(result)


def _keep_preview(store, sha256: str, data: bytes) -> None:
    from needledesk import imaging

    store.keep_thumbnail(sha256, PREVIEW_SIDE, imaging.thumbnail(data, PREVIEW_SIDE))


def _cannot_show(exc: Exception) -> str:
    """Why a photo cannot be shown, in the words the store gave."""
    if not isinstance(exc, NeedleDeskError | OSError):
        return "This photo could not be read."
    message = str(exc).strip().rstrip(".") or "the photo file could not be read"
    return f"This photo cannot be shown: {message[:1].lower()}{message[1:]}."


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=False)


# --- opening it from the window -----------------------------------------------------------------

def compare_photos(parent: QWidget, repo, client_id: str, *, state=None,
                   today: Callable[[], date] = date.today,
                   view: PhotoView | None = None) -> CompareDialog | None:
    """Open the comparison for a client (Client › Compare photos…, the card's button); a
    client with no photos gets a plain message instead of an empty window."""
    if not repo.photos(client_id=client_id):
        client = repo.get_client(client_id)
        QMessageBox.information(
            parent, "Compare photos",
            f"No photos of {client.full_name} are stored yet. Add photos to their sessions "
            "(open a session, Photos) to compare them.")
        return None
    dialog = CompareDialog(repo, client_id, parent, view=view, state=state, today=today)
    dialog.open()   # window-modal: the card cannot change client under it
    return dialog
