"""Taking a photo with a camera (needledesk/ui/camera_dialog.py). No camera exists here: the
real QMediaDevices finds none (the message), and the dialog's frame handler is fed pictures
made in the test, which Take photo stores through the same path as an imported file."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QDialog

from needledesk import imaging
from needledesk.domain.model import PhotoSource, PhotoView
from needledesk.ui import camera_dialog
from needledesk.ui.camera_dialog import CameraDialog, capture_photo
from tests.factories import make_client, make_session
from tests.photo_helpers import client_with_session, make_jpeg, sign_photo_consent

BY = "Jane Smith"


def _frame(width: int = 320, height: int = 240) -> QImage:
    """A camera picture: green on the left half, white on the right."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(0, 0, width // 2, height, QColor(0, 200, 0))
    painter.end()
    return image


def _dialog(qtbot, repo, session_id, view=PhotoView.FRONT, **kwargs) -> CameraDialog:
    dialog = CameraDialog(repo, session_id, view, by=BY, cameras=[], start=False, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()))
    return dialog


def _key(qtbot, key) -> None:
    """A key press where the cursor is, as the practitioner's keyboard sends it."""
    qtbot.keyClick(QApplication.focusWidget(), key)


def _close(rgb: tuple[int, int, int], want: tuple[float, float, float], slack: int = 14):
    return all(abs(a - b) <= slack for a, b in zip(rgb, want, strict=True))


def _pixel(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    colour = image.pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def test_no_camera_says_so_plainly_and_opens_nothing(qtbot, ui_repo, no_real_modals):
    if camera_dialog.available_cameras():
        pytest.skip("this machine has a camera")
    _client, session = client_with_session(ui_repo)
    assert capture_photo(ui_repo, session.id, PhotoView.FRONT, None, by=BY) is None
    assert no_real_modals == [f"information: {camera_dialog.NO_CAMERA}"]
    assert not ui_repo.photos(session_id=session.id)


def test_without_photo_consent_no_camera_is_looked_for(qtbot, ui_repo, no_real_modals,
                                                      monkeypatch):
    _client, session = client_with_session(ui_repo, consent=False)
    looked: list[bool] = []
    monkeypatch.setattr(camera_dialog, "available_cameras", lambda: looked.append(True) or [])
    assert capture_photo(ui_repo, session.id, PhotoView.FRONT, None, by=BY) is None
    assert looked == []
    assert len(no_real_modals) == 1
    text = no_real_modals[0]
    assert text.startswith("information: No photo can be taken. ") and "consent" in text
    assert "None" not in text


def test_take_photo_stores_the_picture_shown_as_an_imported_file_would_be(qtbot, ui_repo):
    _client, session = client_with_session(ui_repo)
    dialog = _dialog(qtbot, ui_repo, session.id, PhotoView.LEFT_45)
    assert dialog.windowTitle() == "Take photo: Left 45°"
    frame = _frame()
    dialog.show_frame(frame)
    _key(qtbot, Qt.Key.Key_Space)

    assert dialog.result() == QDialog.DialogCode.Accepted
    added = dialog.added
    assert added is not None and added.added
    [photo] = ui_repo.photos(session_id=session.id)
    assert photo == added.photo
    assert photo.source == PhotoSource.CAMERA and photo.view == PhotoView.LEFT_45
    assert photo.added_by == BY and (photo.width, photo.height) == (320, 240)
    # the same path as a file: the JPEG Qt wrote, cleaned by imaging.prepare
    written = camera_dialog.jpeg_bytes(frame)
    assert photo.sha256 == imaging.prepare(written).sha256
    data = ui_repo.photo_bytes(photo)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert _close(image.convert("RGB").getpixel((40, 120)), (0, 200, 0), 24)
    assert _close(image.convert("RGB").getpixel((280, 120)), (255, 255, 255), 24)


def test_enter_takes_the_photo_too_and_escape_closes_without_one(qtbot, ui_repo):
    _client, session = client_with_session(ui_repo)
    dialog = _dialog(qtbot, ui_repo, session.id)
    dialog.show_frame(_frame())
    _key(qtbot, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.added is None
    assert not ui_repo.photos(session_id=session.id)

    again = _dialog(qtbot, ui_repo, session.id)
    again.show_frame(_frame())
    assert QApplication.focusWidget() is again.take_button
    _key(qtbot, Qt.Key.Key_Return)
    assert again.added is not None and again.added.photo.view == PhotoView.FRONT


def test_before_the_first_picture_nothing_is_taken(qtbot, ui_repo):
    _client, session = client_with_session(ui_repo)
    dialog = _dialog(qtbot, ui_repo, session.id)
    assert dialog.capture() is None
    assert dialog.message.text() == camera_dialog.NO_PICTURE and dialog.isVisible()
    assert not ui_repo.photos(session_id=session.id)


def test_a_consent_withdrawn_while_the_camera_is_open_stops_the_photo(qtbot, ui_repo):
    client = ui_repo.add_client(make_client(), by=BY)
    # the consent allows photos to be shown, not kept in the record
    sign_photo_consent(ui_repo, client.id, uses=("photo_use_shown",))
    session = ui_repo.save_draft(make_session(client.id), by=BY)
    dialog = _dialog(qtbot, ui_repo, session.id)
    dialog.show_frame(_frame())
    assert dialog.capture() is None
    text = dialog.message.text()
    assert text.startswith("No photo was added. ") and "consent" in text
    assert "None" not in text and "photo_use" not in text
    assert not ui_repo.photos(session_id=session.id)


def _sessions_with_front_photos(repo):
    """A client with three sessions: the first and second each with a front photo (the
    second's red top-left quarter on blue; the first's all grey), the second also a left 45°
    one; returns the third (today's) session and the second's front photo."""
    client = repo.add_client(make_client(), by=BY)
    sign_photo_consent(repo, client.id)
    first, second, third = (repo.save_draft(make_session(client.id, started_at=when,
                                                         anaesthetic=None), by=BY)
                            for when in (datetime(2026, 9, 1, 10), datetime(2026, 10, 13, 10),
                                         datetime(2026, 11, 24, 10)))
    grey = io.BytesIO()
    Image.new("RGB", (64, 48), (128, 128, 128)).save(grey, "JPEG")
    repo.add_photo(first.id, grey.getvalue(), view=PhotoView.FRONT, by=BY)
    front = repo.add_photo(second.id, make_jpeg(64, 48), view=PhotoView.FRONT, by=BY).photo
    repo.add_photo(second.id, make_jpeg(64, 48, seed=3), view=PhotoView.LEFT_45, by=BY)
    return third, front


def test_the_ghost_is_the_previous_sessions_photo_of_the_same_view(qtbot, ui_repo):
    session, front = _sessions_with_front_photos(ui_repo)
    assert camera_dialog.previous_photo(ui_repo, session.id, PhotoView.FRONT) == front
    assert camera_dialog.previous_photo(ui_repo, session.id, PhotoView.RIGHT_45) is None

    dialog = _dialog(qtbot, ui_repo, session.id)
    assert dialog.ghost_note.text() == "Previous photo: 13 Oct 2026"
    white = QImage(320, 240, QImage.Format.Format_RGB32)
    white.fill(QColor("white"))
    dialog.show_frame(white)
    shown = dialog.shown_picture()
    # 40 % of the previous photo over white: its red quarter top left, blue elsewhere
    assert _close(_pixel(shown, 40, 30), (0.6 * 255 + 0.4 * 220, 0.6 * 255 + 0.4 * 20,
                                          0.6 * 255 + 0.4 * 20))
    assert _close(_pixel(shown, 280, 200), (0.6 * 255 + 0.4 * 20, 0.6 * 255 + 0.4 * 40,
                                            0.6 * 255 + 0.4 * 200))
    _key(qtbot, Qt.Key.Key_BracketRight)    # stronger: 50 %
    assert dialog.opacity_slider.value() == 50
    assert _close(_pixel(dialog.shown_picture(), 280, 200),
                  (0.5 * 255 + 0.5 * 20, 0.5 * 255 + 0.5 * 40, 0.5 * 255 + 0.5 * 200))
    _key(qtbot, Qt.Key.Key_G)               # the ghost off: the live picture only
    assert not dialog.ghost_box.isChecked()
    assert _pixel(dialog.shown_picture(), 40, 30) == (255, 255, 255)
    # the painted dialog shows it too (the ghost on again)
    _key(qtbot, Qt.Key.Key_G)
    grabbed = dialog.picture.grab().toImage()
    middle = _pixel(grabbed, grabbed.width() * 3 // 4, grabbed.height() * 3 // 4)
    assert middle[2] > middle[0] + 40   # bluish: the ghost's blue over the white picture


def test_no_ghost_without_an_earlier_photo_of_the_view(qtbot, ui_repo):
    session, _front = _sessions_with_front_photos(ui_repo)
    dialog = _dialog(qtbot, ui_repo, session.id, PhotoView.RIGHT_PROFILE)
    assert dialog.picture.ghost is None and not dialog.ghost_box.isEnabled()
    assert dialog.ghost_note.text() == "No earlier session has a photo of this view."
    dialog.show_frame(_frame())
    assert _pixel(dialog.shown_picture(), 40, 30) == (0, 200, 0)


def test_the_dialogs_size_is_remembered(qtbot, ui_repo, state):
    _client, session = client_with_session(ui_repo)
    dialog = _dialog(qtbot, ui_repo, session.id, state=state)
    dialog.resize(700, 560)
    dialog.reject()
    again = _dialog(qtbot, ui_repo, session.id, state=state)
    assert (again.width(), again.height()) == (700, 560)


def test_the_main_window_starts_without_qtmultimedia():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import needledesk.ui.main_window"],
                         capture_output=True, text=True, check=True)
    assert "needledesk.ui.main_window" in out.stderr
    assert "QtMultimedia" not in out.stderr and "camera_dialog" not in out.stderr


# --- Take photo… in a session's photos ----------------------------------------------------------

@pytest.fixture
def panel(qtbot, ui_repo, state):
    from needledesk.ui.photos_panel import PhotosDialog

    client, session = client_with_session(ui_repo)
    dialog = PhotosDialog(ui_repo, ui_repo.settings(), client, session.id, by=BY, state=state)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog.panel
    dialog.close()


def test_take_photo_in_a_session_without_a_camera_says_so(panel, no_real_modals):
    if camera_dialog.available_cameras():
        pytest.skip("this machine has a camera")
    assert panel.take_button.isEnabled()
    panel.take_button.click()
    assert no_real_modals == [f"information: {camera_dialog.NO_CAMERA}"]
    assert not panel.photos


def test_take_photo_takes_the_chosen_empty_places_view(panel, ui_repo, monkeypatch):
    """A camera stands in: the dialog's frame handler gets a picture and Take photo is
    pressed, as when a camera is connected."""
    from PySide6.QtMultimedia import QCameraDevice

    monkeypatch.setattr(camera_dialog, "available_cameras", lambda: [QCameraDevice()])
    monkeypatch.setattr(CameraDialog, "start_camera", lambda self, index: None)
    monkeypatch.setattr(CameraDialog, "exec", lambda self: (self.show_frame(_frame()),
                                                             self.capture()))
    grid = panel.grid
    slot = next(grid.item(i) for i in range(grid.count())
                if grid.view_at(grid.item(i)) == PhotoView.RIGHT_45)
    grid.setCurrentItem(slot)
    added = panel.take_photo()
    assert added is not None and added.photo.view == PhotoView.RIGHT_45
    assert [p.id for p in panel.photos] == [added.photo.id]
    assert panel.current_photo() == added.photo
    assert panel.message.text() == "Photo taken: Right 45°."
    assert ui_repo.photos(session_id=panel.session_id)[0].source == PhotoSource.CAMERA


def test_client_menu_take_photo_takes_the_chosen_sessions_next_missing_view(
        window, ui_repo, no_real_modals, monkeypatch):
    client, session = client_with_session(ui_repo)
    ui_repo.add_photo(session.id, make_jpeg(64, 48), view=PhotoView.FRONT, by=BY)
    window.open_client(client.id)
    window.take_photo_action.trigger()      # no session chosen yet
    assert no_real_modals == ["information: Select a session in the list first."]
    window.history.setCurrentIndex(window.history_model.index(0, 0))

    from PySide6.QtMultimedia import QCameraDevice

    monkeypatch.setattr(camera_dialog, "available_cameras", lambda: [QCameraDevice()])
    monkeypatch.setattr(CameraDialog, "start_camera", lambda self, index: None)
    monkeypatch.setattr(CameraDialog, "exec", lambda self: (self.show_frame(_frame()),
                                                             self.capture()))
    added = window.take_photo()
    assert added is not None and added.photo.view == PhotoView.LEFT_45   # front was taken
    assert [p.view for p in ui_repo.photos(session_id=session.id)] == [PhotoView.FRONT,
                                                                       PhotoView.LEFT_45]
    assert window.statusBar().currentMessage() == "Photo taken."


def test_a_pc_missing_what_qtmultimedia_links_to_gets_a_plain_message(qtbot, ui_repo,
                                                                      no_real_modals,
                                                                      monkeypatch):
    """Linux: QtMultimedia links to the system's PulseAudio library; without it the import
    fails, and the camera says so instead of a traceback."""
    _client, session = client_with_session(ui_repo)

    def missing():
        raise ImportError("libpulse.so.0: cannot open shared object file: No such file or "
                          "directory")
    monkeypatch.setattr(camera_dialog, "_multimedia", missing)
    assert capture_photo(ui_repo, session.id, PhotoView.FRONT, None, by=BY) is None
    assert no_real_modals == [
        "information: The camera cannot be used on this PC: a part of the system it needs is "
        "missing (libpulse.so.0). Add photos from files instead, or ask whoever looks after "
        "this PC."]
