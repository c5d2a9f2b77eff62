"""Take a session's photo with a webcam or document camera, the previous session's photo of
the same view drawn over the live picture as a ghost to match the angle.

`capture_photo(repo, session_id, view, parent)` is the one entry point (the photos panel's
Take photo… and the main window's Client › Take photo…): it refuses at once, in plain words,
when the client's photo consent does not allow photos in the record or when no camera is
connected, and otherwise opens `CameraDialog`. The picture taken is encoded as JPEG and goes
to `repo.add_photo(..., source=PhotoSource.CAMERA)`: exactly the path of an imported file
(cleaned, hashed, stored, audited).

QtMultimedia is imported only here and only when a camera is used (`_multimedia`), so the
main window starts without it. The frame handler takes a QImage (`show_frame`), so what the
dialog does with a picture is tested without a camera.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSettings, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageWriter, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.labels import problem_text
from needledesk.domain.model import Photo, PhotoSource, PhotoView, Session
from needledesk.domain.photos import use_refusal, view_text
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.ui.forms import FieldMessage, remember_geometry, restore_geometry, window_state

log = logging.getLogger(__name__)

NO_CAMERA = ("No camera is connected to this PC. Connect a webcam or document camera, or add "
             "photos from files.")
CAMERA_FAILED = ("The camera could not be used: another program may be using it, or it was "
                 "unplugged. Close other programs that use the camera, check its cable, and "
                 "try again.")
CAMERA_GONE = "The camera was unplugged. Connect it again, or choose another camera."
NO_PICTURE = "No picture from the camera yet: wait until it shows, then take the photo."
#: JPEG quality of a captured picture (the stored copy is this JPEG, cleaned losslessly).
JPEG_QUALITY = 92
#: The ghost's opacity when the dialog opens, in per cent, and each step of [ and ].
GHOST_OPACITY = 40
GHOST_STEP = 10
#: Keys (listed in the dialog's tooltips).
TAKE_KEYS = ("Space", "Return", "Enter")
GHOST_KEY = "G"
#: QSettings keys (per PC): the camera last chosen, the dialog's size.
CAMERA_KEY = "camera/device"
GEOMETRY_KEY = "camera/geometry"


# --- what is shown ---------------------------------------------------------------------------

def previous_photo(repo, session_id: str, view: PhotoView, label: str = "") -> Photo | None:
    """The photo of `view` (a close-up: with `label`, when one has it) from the latest of the
    client's sessions before this one that has one; None when none has."""
    session = repo.get_session(session_id)
    earlier = {s.id: s for s in repo.sessions(session.client_id)
               if s.id != session.id and s.started_at < session.started_at}
    candidates = [p for p in repo.photos(client_id=session.client_id)
                  if p.session_id in earlier and p.view == view]
    if view == PhotoView.CLOSE_UP and label.strip():
        same = [p for p in candidates if p.label.strip().lower() == label.strip().lower()]
        candidates = same or candidates
    if not candidates:
        return None
    # the latest session first; within it, the last added
    order = {p.id: i for i, p in enumerate(candidates)}
    return max(candidates, key=lambda p: (earlier[p.session_id].started_at, order[p.id]))


def fitted(size: QSize, into: QRectF) -> QRectF:
    """`size` scaled to fit `into`, centred, its proportions kept."""
    if size.isEmpty() or into.isEmpty():
        return QRectF(into)
    scale = min(into.width() / size.width(), into.height() / size.height())
    width, height = size.width() * scale, size.height() * scale
    return QRectF(into.x() + (into.width() - width) / 2,
                  into.y() + (into.height() - height) / 2, width, height)


def draw_picture(painter: QPainter, area: QRectF, frame: QImage | None,
                 ghost: QImage | None, opacity: float) -> None:
    """The live picture fitted to `area`, and over it the ghost, stretched to the live
    picture's place (the two are compared where they lie), at `opacity` (0 to 1)."""
    painter.fillRect(area, QColor("#202020"))
    if frame is None or frame.isNull():
        return
    place = fitted(frame.size(), area)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(place, frame)
    if ghost is not None and not ghost.isNull() and opacity > 0:
        painter.setOpacity(max(0.0, min(1.0, opacity)))
        painter.drawImage(place, ghost)
        painter.setOpacity(1.0)


def composed(frame: QImage, ghost: QImage | None, opacity: float) -> QImage:
    """The live picture with the ghost over it, at the picture's own size (what the dialog
    shows, scaled)."""
    image = QImage(frame.size(), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    draw_picture(painter, QRectF(image.rect()), frame, ghost, opacity)
    painter.end()
    return image


def jpeg_bytes(image: QImage, quality: int = JPEG_QUALITY) -> bytes:
    """The picture as a JPEG file's bytes, written by Qt."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"jpeg"))
    writer.setQuality(quality)
    flat = image.convertToFormat(QImage.Format.Format_RGB32)
    if not writer.write(flat):
        raise NeedleDeskError("The camera's picture could not be saved as a JPEG "
                              f"({writer.errorString()}).")
    buffer.close()
    return bytes(data.data())


# --- QtMultimedia, loaded when a camera is used -----------------------------------------------

#: Qt's messages when its FFmpeg backend loads (every time, from source as in the bundles):
#: the optional libraries it looks for and most PCs lack (PipeWire, VA-API hardware
#: decoding), and its FFmpeg version. Silenced; QT_LOGGING_RULES still overrides.
QUIET_MULTIMEDIA = ("qt.multimedia.symbolsresolver=false\n"
                    "qt.multimedia.ffmpeg.info=false")


def _multimedia() -> Any:
    if "QtMultimedia" not in _loaded:   # before the import: it looks for PipeWire
        from PySide6.QtCore import QLoggingCategory

        QLoggingCategory.setFilterRules(QUIET_MULTIMEDIA)
        _loaded.add("QtMultimedia")
    from PySide6 import QtMultimedia

    return QtMultimedia


_loaded: set[str] = set()


def available_cameras() -> list[Any]:
    """The cameras connected to this PC (QCameraDevice), the system's default first."""
    devices = list(_multimedia().QMediaDevices.videoInputs())
    devices.sort(key=lambda d: not d.isDefault())
    return devices


def device_key(device: Any) -> str:
    return bytes(device.id().data()).hex()


class CameraView(QWidget):
    """The live picture, and the ghost over it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.frame: QImage | None = None
        self.ghost: QImage | None = None
        self.opacity = GHOST_OPACITY / 100
        self.ghost_shown = True
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        draw_picture(painter, QRectF(self.rect()), self.frame,
                     self.ghost if self.ghost_shown else None, self.opacity)
        if self.frame is None:
            painter.setPen(QColor("#dddddd"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Waiting for the camera…")
        painter.end()


class CameraDialog(QDialog):
    """The live picture of the chosen camera, the view being taken, the previous photo of
    that view as a ghost; Take photo (Space, Enter) stores the picture shown."""

    def __init__(self, repo, session_id: str, view: PhotoView, *,
                 by: Callable[[], str] | str = "", label: str = "",
                 cameras: list[Any] | None = None, state: QSettings | None = None,
                 parent: QWidget | None = None, start: bool = True):
        super().__init__(parent)
        self.repo = repo
        self.session_id = session_id
        self.view = PhotoView(view)
        self.label = label.strip() if self.view == PhotoView.CLOSE_UP else ""
        self._by = by if callable(by) else (lambda: by)
        self.state = window_state(parent, state)
        self.cameras = list(cameras or [])
        self.added = None          # the PhotoAdded once a photo is taken
        self.camera: Any = None
        self.capture_session: Any = None
        self.sink: Any = None
        self._devices: Any = None
        self.previous = previous_photo(repo, session_id, self.view, self.label)
        self.setWindowTitle(f"Take photo: {view_text(self.view, self.label)}")
        self._build()
        restore_geometry(self, self.state, GEOMETRY_KEY, QSize(900, 720))
        if start and self.cameras:
            self.start_camera(self.camera_choice.currentIndex())

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.view_label = QLabel(f"View: <b>{escape(view_text(self.view, self.label))}</b>")
        top.addWidget(self.view_label)
        top.addStretch(1)
        self.camera_choice = QComboBox()
        self.camera_choice.setToolTip("The camera to take the photo with (kept for this PC)")
        for device in self.cameras:
            self.camera_choice.addItem(device.description() or "Camera")
        chosen = str(self.state.value(CAMERA_KEY, "") or "") if self.state else ""
        keys = [device_key(d) for d in self.cameras]
        if chosen in keys:
            self.camera_choice.setCurrentIndex(keys.index(chosen))
        self.camera_choice.currentIndexChanged.connect(self.choose_camera)
        camera_label = QLabel("&Camera:")
        camera_label.setBuddy(self.camera_choice)
        # one camera: nothing to choose
        for chooser in (camera_label, self.camera_choice):
            chooser.setVisible(len(self.cameras) > 1)
            top.addWidget(chooser)
        layout.addLayout(top)

        self.picture = CameraView()
        layout.addWidget(self.picture, 1)

        ghost_row = QHBoxLayout()
        self.ghost_box = QCheckBox("&Ghost of the previous photo")
        self.ghost_box.setToolTip(f"Show the previous session's photo of this view over the "
                                  f"picture, to match the angle ({GHOST_KEY})")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setSingleStep(5)
        self.opacity_slider.setPageStep(GHOST_STEP)
        self.opacity_slider.setValue(GHOST_OPACITY)
        self.opacity_slider.setAccessibleName("Ghost opacity")
        self.opacity_slider.setToolTip("How strongly the previous photo shows ([ and ])")
        self.opacity_slider.valueChanged.connect(self._set_opacity)
        self.ghost_box.toggled.connect(self._show_ghost)
        if self.previous is not None:
            self.ghost_note = QLabel(
                f"Previous photo: {day_text(self._session_day(self.previous.session_id))}")
            self.picture.ghost = self._ghost_image(self.previous)
        else:
            self.ghost_note = QLabel("No earlier session has a photo of this view.")
        self.ghost_box.setChecked(self.picture.ghost is not None)
        self.ghost_box.setEnabled(self.picture.ghost is not None)
        self.opacity_slider.setEnabled(self.picture.ghost is not None)
        ghost_row.addWidget(self.ghost_box)
        ghost_row.addWidget(self.opacity_slider, 1)
        ghost_row.addWidget(self.ghost_note)
        layout.addLayout(ghost_row)

        hint = QLabel(f"Space or Enter takes the photo; {GHOST_KEY} shows or hides the ghost; "
                      "[ and ] make it fainter or stronger; Esc closes.")
        hint.setStyleSheet("color:#555")
        layout.addWidget(hint)

        self.message = FieldMessage()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.take_button = QPushButton("&Take photo")
        self.take_button.setToolTip("Store the picture shown in this session (Space or Enter)")
        self.take_button.setDefault(True)
        self.take_button.clicked.connect(self.capture)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close without taking a photo (Esc)")
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        for key, slot in ((GHOST_KEY, self.ghost_box.toggle),
                          ("[", lambda: self.step_opacity(-GHOST_STEP)),
                          ("]", lambda: self.step_opacity(GHOST_STEP)),
                          ("Space", self.capture)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
        self.take_button.setFocus()

    # --- the ghost ------------------------------------------------------------------------

    def _session_day(self, session_id: str) -> date | None:
        try:
            session: Session = self.repo.get_session(session_id)
        except NeedleDeskError:
            return None
        return session.started_at.date()

    def _ghost_image(self, photo: Photo) -> QImage | None:
        try:
            image = QImage.fromData(self.repo.photo_bytes(photo))
        except (NeedleDeskError, OSError) as exc:
            log.warning("the previous photo %s could not be read: %s", photo.id, exc)
            self.ghost_note.setText("The previous photo could not be read.")
            return None
        return None if image.isNull() else image

    def _show_ghost(self, shown: bool) -> None:
        self.picture.ghost_shown = shown
        self.opacity_slider.setEnabled(shown and self.picture.ghost is not None)
        self.picture.update()

    def _set_opacity(self, value: int) -> None:
        self.picture.opacity = value / 100
        self.picture.update()

    def step_opacity(self, step: int) -> None:
        if self.picture.ghost is not None:
            self.opacity_slider.setValue(self.opacity_slider.value() + step)

    def shown_picture(self) -> QImage | None:
        """The live picture with the ghost over it as the dialog shows it, at the picture's
        size (None before the first frame)."""
        frame = self.picture.frame
        if frame is None:
            return None
        return composed(frame, self.picture.ghost if self.picture.ghost_shown else None,
                        self.picture.opacity)

    # --- the camera -----------------------------------------------------------------------

    def start_camera(self, index: int) -> None:
        """Show the live picture of camera `index` (QCamera into a QVideoSink)."""
        mm = _multimedia()
        self.stop_camera()
        if not 0 <= index < len(self.cameras):
            return
        self.message.clear()
        self.camera = mm.QCamera(self.cameras[index], self)
        self.capture_session = mm.QMediaCaptureSession(self)
        self.sink = mm.QVideoSink(self)
        self.capture_session.setCamera(self.camera)
        self.capture_session.setVideoSink(self.sink)
        self.sink.videoFrameChanged.connect(self._video_frame)
        self.camera.errorOccurred.connect(self._camera_error)
        if self._devices is None:
            self._devices = mm.QMediaDevices(self)
            self._devices.videoInputsChanged.connect(self._inputs_changed)
        self.camera.start()

    def stop_camera(self) -> None:
        if self.camera is not None:
            self.camera.stop()
            self.camera.deleteLater()
            self.camera = None

    def choose_camera(self, index: int) -> None:
        if self.state is not None and 0 <= index < len(self.cameras):
            self.state.setValue(CAMERA_KEY, device_key(self.cameras[index]))
        self.picture.frame = None
        self.picture.update()
        self.start_camera(index)

    def _video_frame(self, frame: Any) -> None:
        if frame.isValid():
            self.show_frame(frame.toImage())

    def show_frame(self, image: QImage) -> None:
        """A picture from the camera: shown, the ghost over it; Take photo stores it."""
        if image.isNull():
            return
        self.picture.frame = image
        self.picture.update()

    def _camera_error(self, _error: Any, text: str) -> None:
        log.warning("camera error: %s", text)
        self.message.show_error(CAMERA_FAILED)

    def _inputs_changed(self) -> None:
        now = {device_key(d) for d in available_cameras()}
        index = self.camera_choice.currentIndex()
        if 0 <= index < len(self.cameras) and device_key(self.cameras[index]) not in now:
            self.stop_camera()
            self.message.show_error(CAMERA_GONE)

    # --- taking the photo -----------------------------------------------------------------

    def by(self) -> str:
        return self._by().strip() or "unknown"

    def capture(self):
        """Store the picture shown (as a JPEG, through `repo.add_photo` as a file would be):
        the PhotoAdded, and the dialog closes; None, with the reason shown, otherwise."""
        frame = self.picture.frame
        if frame is None or frame.isNull():
            self.message.show_error(NO_PICTURE)
            return None
        try:
            data = jpeg_bytes(frame)
            added = self.repo.add_photo(self.session_id, data, view=self.view, by=self.by(),
                                        label=self.label, source=PhotoSource.CAMERA,
                                        name="the camera's picture")
        except ValidationError as exc:
            self.message.show_error("No photo was added. " + "; ".join(
                problem_text(p, kind="photo") if isinstance(p, Problem) else str(p)
                for p in exc.problems))
            return None
        except NeedleDeskError as exc:
            self.message.show_error(f"No photo was added. {exc}")
            return None
        except OSError as exc:
            self.message.show_error(f"No photo was added: it could not be stored "
                                    f"({exc.strerror or exc}).")
            return None
        self.added = added
        self.accept()
        return added

    def done(self, result: int) -> None:
        self.stop_camera()
        remember_geometry(self, self.state, GEOMETRY_KEY)
        super().done(result)


# --- the entry point ---------------------------------------------------------------------------

def next_missing_view(repo, settings: Any, session_id: str) -> PhotoView:
    """The first of the clinic's views the session has no photo of, else a close-up."""
    from needledesk.settings import wanted_views

    taken = {p.view for p in repo.photos(session_id=session_id)}
    return next((v for v in wanted_views(settings) if v not in taken), PhotoView.CLOSE_UP)


def no_multimedia_text(exc: ImportError) -> str:
    """Why no camera can be used when QtMultimedia does not load, in plain words."""
    missing = re.search(r"([\w.+-]+\.so[\w.]*|[\w.+-]+\.dll)", str(exc))
    part = f" ({missing.group(1)})" if missing else ""
    return ("The camera cannot be used on this PC: a part of the system it needs is missing"
            f"{part}. Add photos from files instead, or ask whoever looks after this PC.")


def capture_refusal(repo, session_id: str, today: date | None = None) -> str | None:
    """Why no photo can be taken for the session today (the photo consent), else None."""
    session = repo.get_session(session_id)
    return use_refusal(repo.consents(session.client_id), today or date.today())


def capture_photo(repo, session_id: str, view: PhotoView, parent: QWidget | None = None, *,
                  by: Callable[[], str] | str = "", label: str = "",
                  state: QSettings | None = None):
    """Take the session's photo of `view` with a camera: the PhotoAdded, or None when none
    was taken (refused without photo consent or without a camera, in a message; or the
    dialog closed)."""
    refusal = capture_refusal(repo, session_id)
    if refusal is not None:
        QMessageBox.information(parent, "Take photo", f"No photo can be taken. {refusal}")
        return None
    try:
        cameras = available_cameras()
    except ImportError as exc:   # Linux: a system library QtMultimedia links to is missing
        log.warning("QtMultimedia could not be loaded: %s", exc)
        QMessageBox.information(parent, "Take photo", no_multimedia_text(exc))
        return None
    if not cameras:
        QMessageBox.information(parent, "Take photo", NO_CAMERA)
        return None
    dialog = CameraDialog(repo, session_id, view, by=by, label=label, cameras=cameras,
                          state=state, parent=parent)
    dialog.exec()
    return dialog.added
