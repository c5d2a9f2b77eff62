"""The comparison view: a client's photos of one view from two sessions, side by side or
overlaid, zoomed and moved in step, with dates, depths and the consent to show them.

Real SQLite files, real JPEGs made here (each session's photo a colour of its own, so which
photo is painted where can be read back from the screen), real widgets."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import PhotoView, TreatedArea
from needledesk.store.photo_files import FolderPhotoStore
from needledesk.ui.compare_view import (
    AFTER,
    BEFORE,
    OVERLAY,
    PREVIEW_SIDE,
    SIDE_BY_SIDE,
    CompareDialog,
    decode_scale,
)
from tests.factories import make_client, make_session
from tests.photo_helpers import make_jpeg, sign_photo_consent

BY = "Jane Smith"
TODAY = date(2026, 11, 2)
CONSENT = datetime(2026, 6, 2, 9)
#: Three sessions on three days, each with its depths and the colour of its front photo.
SESSIONS = [(datetime(2026, 6, 5, 10), 1.0, (200, 40, 40)),
            (datetime(2026, 7, 17, 10), 1.25, (40, 170, 60)),
            (datetime(2026, 9, 2, 10), 1.5, (40, 60, 210))]


def solid_jpeg(colour, width=300, height=400) -> bytes:
    """A real JPEG of one colour, with a camera's EXIF (orientation, GPS) like a phone's."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(
        buffer, "JPEG", quality=92, exif=Image.open(io.BytesIO(make_jpeg())).getexif())
    return buffer.getvalue()


@pytest.fixture
def clinic(ui_repo):
    """A client with a photo consent and three sessions on different days, a front photo at
    each and a left 45° photo at the first only; returns (client, [session ids])."""
    client = ui_repo.add_client(make_client(), by=BY)
    sign_photo_consent(ui_repo, client.id, signed_at=CONSENT)
    ids = []
    for started, depth, colour in SESSIONS:
        session = ui_repo.save_draft(make_session(
            client.id, started_at=started, anaesthetic=None,
            areas=[TreatedArea("cheeks", depth, 3, None),
                   TreatedArea("forehead", 0.5, 2, None)]), by=BY)
        ui_repo.add_photo(session.id, solid_jpeg(colour), view=PhotoView.FRONT, by=BY,
                          now=started)
        ids.append(session.id)
    ui_repo.add_photo(ids[0], solid_jpeg((230, 200, 30)), view=PhotoView.LEFT_45, by=BY,
                      now=SESSIONS[0][0])
    return client, ids


@pytest.fixture
def open_compare(qtbot, ui_repo, state):
    def build(client_id, **kwargs):
        dialog = CompareDialog(ui_repo, client_id, state=state, today=lambda: TODAY,
                               **kwargs)
        qtbot.addWidget(dialog)
        dialog.resize(900, 640)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.wait_ready(3000)
        return dialog
    return build


def colour_at(widget, point: QPointF) -> tuple[int, int, int]:
    """The colour on screen at a point of the widget (as painted now)."""
    image = widget.grab().toImage()
    ratio = image.devicePixelRatio()
    pixel = image.pixelColor(int(point.x() * ratio), int(point.y() * ratio))
    return pixel.red(), pixel.green(), pixel.blue()


def near(colour, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def centre_of(dialog, side: int) -> QPointF:
    return dialog.pane.photo_rect(side).intersected(dialog.pane.areas()[side]).center()


def same_rect(a: QRectF, b: QRectF) -> bool:
    return all(abs(x - y) < 1e-6 for x, y in zip(
        (a.x(), a.y(), a.width(), a.height()), (b.x(), b.y(), b.width(), b.height()),
        strict=True))


# --- what is compared ------------------------------------------------------------------------

def test_it_opens_on_the_first_and_the_latest_session_with_dates_and_depths(
        open_compare, clinic):
    client, ids = clinic
    dialog = open_compare(client.id)
    before, after = dialog.chosen()
    assert (before.photo.session_id, after.photo.session_id) == (ids[0], ids[2])
    assert [dialog.view_box.itemText(i) for i in range(dialog.view_box.count())] == \
        ["Front (3 sessions)", "Left 45° (1 session)"]
    assert "Earlier: 5 Jun 2026</b>, session 1 of 3" in dialog.before_caption.text()
    assert "Cheeks 1 mm · forehead 0.5 mm" in dialog.before_caption.text()
    assert "Later: 2 Sep 2026</b>, session 3 of 3" in dialog.after_caption.text()
    assert "Cheeks 1.5 mm · forehead 0.5 mm" in dialog.after_caption.text()
    # what is painted: the first session's photo on the left, the latest's on the right
    assert near(colour_at(dialog.pane, centre_of(dialog, BEFORE)), SESSIONS[0][2])
    assert near(colour_at(dialog.pane, centre_of(dialog, AFTER)), SESSIONS[2][2])


def test_any_two_sessions_can_be_chosen(open_compare, clinic, qtbot):
    client, ids = clinic
    dialog = open_compare(client.id)
    dialog.after_box.setFocus()
    qtbot.keyClick(dialog.after_box, Qt.Key.Key_Up)     # the second session instead
    assert dialog.after_box.currentText() == "17 Jul 2026 (session 2)"
    assert dialog.wait_ready(3000)
    assert dialog.chosen()[1].photo.session_id == ids[1]
    assert "Later: 17 Jul 2026</b>, session 2 of 3" in dialog.after_caption.text()
    assert "Cheeks 1.25 mm" in dialog.after_caption.text()
    assert near(colour_at(dialog.pane, centre_of(dialog, AFTER)), SESSIONS[1][2])
    # and given when opened
    again = open_compare(client.id, view=PhotoView.FRONT, sessions=(ids[1], ids[2]))
    assert [c.photo.session_id for c in again.chosen()] == [ids[1], ids[2]]
    assert near(colour_at(again.pane, centre_of(again, BEFORE)), SESSIONS[1][2])


def test_a_view_photographed_at_one_session_says_two_are_needed(open_compare, clinic):
    client, _ids = clinic
    dialog = open_compare(client.id, view=PhotoView.LEFT_45)
    assert dialog.view_box.currentText() == "Left 45° (1 session)"
    assert dialog.stack.currentWidget() is dialog.message
    assert dialog.message.text() == (
        "Left 45° was photographed at one session only (5 Jun 2026). Two sessions are "
        "needed to compare: add a photo of this view at another session.")
    assert not dialog.after_box.isEnabled()
    dialog.view_box.setCurrentIndex(0)       # back to the front: the photos again
    assert dialog.stack.currentWidget() is dialog.pane
    assert dialog.wait_ready(3000)


# --- consent -----------------------------------------------------------------------------------

def test_the_consent_line_says_whether_the_client_may_be_shown(open_compare, clinic,
                                                                 ui_repo):
    client, _ids = clinic
    dialog = open_compare(client.id)
    assert dialog.consent_label.text() == (
        f"{client.first_name} has allowed being shown these photos (photo consent of "
        "2 Jun 2026).")
    # a later photo consent keeps the record but not showing them to the client
    sign_photo_consent(ui_repo, client.id, uses=("photo_use_record",),
                       signed_at=datetime(2026, 10, 10, 9))
    dialog = open_compare(client.id)
    text = dialog.consent_label.text()
    assert f"{client.first_name} has not allowed being shown these photos: keep the " \
        "screen turned away." in text
    assert f"{client.first_name}'s photo consent of 10 Oct 2026 does not allow showing " \
        "photos to the client." in text
    assert "None" not in text and "2026-10-10" not in text


# --- zoom and pan in step ------------------------------------------------------------------------

def test_zooming_one_photo_zooms_the_other_the_same(open_compare, ui_repo, qtbot):
    # photos of different sizes (a later camera): the same part of each face shows
    client = ui_repo.add_client(make_client(), by=BY)
    sign_photo_consent(ui_repo, client.id, signed_at=CONSENT)
    for started, size in ((SESSIONS[0][0], (300, 400)), (SESSIONS[1][0], (600, 800))):
        session = ui_repo.save_draft(make_session(client.id, started_at=started,
                                                  anaesthetic=None), by=BY)
        ui_repo.add_photo(session.id, make_jpeg(*size), view=PhotoView.FRONT, by=BY,
                          now=started)
    dialog = open_compare(client.id)
    pane = dialog.pane
    assert same_rect(pane.visible_rect(BEFORE), QRectF(0, 0, 1, 1))
    pane.setFocus()
    qtbot.keyClick(pane, Qt.Key.Key_Plus)
    qtbot.keyClick(pane, Qt.Key.Key_Plus)
    assert pane.zoom == pytest.approx(1.25 ** 2)
    assert pane.visible_rect(BEFORE).height() == pytest.approx(1 / 1.25 ** 2)
    assert same_rect(pane.visible_rect(BEFORE), pane.visible_rect(AFTER))
    # the wheel over the later photo zooms at the pointer: both still show the same part
    at = centre_of(dialog, AFTER) + QPointF(40, -60)
    wheel(pane, at, 120)
    assert pane.zoom == pytest.approx(1.25 ** 3)
    assert same_rect(pane.visible_rect(BEFORE), pane.visible_rect(AFTER))
    assert pane.visible_rect(AFTER).center().y() < 0.5, "zoomed towards the pointer"
    assert dialog.zoom_label.text() == "Zoom 195%"
    qtbot.keyClick(pane, Qt.Key.Key_0)
    assert pane.zoom == 1 and same_rect(pane.visible_rect(AFTER), QRectF(0, 0, 1, 1))
    qtbot.keyClick(dialog, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert pane.zoom == pytest.approx(1.25), "Ctrl+= zooms wherever the focus is"


def wheel(widget, at: QPointF, delta: int) -> None:
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(at, widget.mapToGlobal(at), QPoint(0, 0), QPoint(0, delta),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_dragging_either_photo_moves_both_the_same_way(open_compare, clinic, qtbot):
    client, _ids = clinic
    dialog = open_compare(client.id)
    pane = dialog.pane
    pane.set_zoom(3.0)
    start = pane.visible_rect(BEFORE)
    assert start.center().x() == pytest.approx(0.5)
    # drag the later photo 60 pixels right and 30 down: both show what was left and above
    at = centre_of(dialog, AFTER).toPoint()
    qtbot.mousePress(pane, Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseMove(pane, at + QPoint(30, 15))
    qtbot.mouseMove(pane, at + QPoint(60, 30))
    qtbot.mouseRelease(pane, Qt.MouseButton.LeftButton, pos=at + QPoint(60, 30))
    moved = pane.visible_rect(BEFORE)
    assert moved.left() < start.left() and moved.top() < start.top()
    assert same_rect(moved, pane.visible_rect(AFTER))
    shown = pane.photo_rect(AFTER)
    assert start.left() - moved.left() == pytest.approx(60 / shown.width(), rel=0.02)
    # the arrow keys move both too, and never past the photos' edges
    pane.setFocus()
    qtbot.keyClick(pane, Qt.Key.Key_Right)
    assert pane.visible_rect(AFTER).left() > moved.left()
    for _ in range(40):
        qtbot.keyClick(pane, Qt.Key.Key_Down)
    assert pane.visible_rect(BEFORE).bottom() == pytest.approx(1.0)
    assert same_rect(pane.visible_rect(BEFORE), pane.visible_rect(AFTER))


# --- overlay --------------------------------------------------------------------------------------

def test_the_divider_reveals_the_later_photo_over_the_earlier(open_compare, clinic, qtbot):
    client, _ids = clinic
    dialog = open_compare(client.id)
    assert not dialog.slider.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert dialog.mode() == OVERLAY and dialog.overlay_button.isChecked()
    assert dialog.slider.isVisible()
    pane = dialog.pane
    y = pane.height() / 2 + 60
    at_30 = QPointF(pane.width() * 0.3, y)
    at_70 = QPointF(pane.width() * 0.7, y)
    # half way: earlier left of the divider, later right of it
    assert near(colour_at(pane, at_30), SESSIONS[0][2])
    assert near(colour_at(pane, at_70), SESSIONS[2][2])
    # the slider moves the divider left: the later photo shows at 30% too
    dialog.slider.setValue(200)
    assert pane.divider == 200
    assert near(colour_at(pane, at_30), SESSIONS[2][2])
    # arrow keys on the slider, and Shift+arrows on the photos, move it back
    dialog.slider.setFocus()
    qtbot.keyClick(dialog.slider, Qt.Key.Key_PageUp)
    assert pane.divider == 300
    pane.setFocus()
    for _ in range(10):
        qtbot.keyClick(pane, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert pane.divider == 500 and dialog.slider.value() == 500
    assert near(colour_at(pane, at_30), SESSIONS[0][2])
    # dragged with the mouse: taken at the line, let go at 80%
    line = QPoint(round(pane.divider_x()), round(y))
    qtbot.mousePress(pane, Qt.MouseButton.LeftButton, pos=line)
    qtbot.mouseMove(pane, QPoint(round(pane.width() * 0.8), round(y)))
    qtbot.mouseRelease(pane, Qt.MouseButton.LeftButton,
                       pos=QPoint(round(pane.width() * 0.8), round(y)))
    assert dialog.slider.value() == pytest.approx(800, abs=3)
    assert near(colour_at(pane, at_70), SESSIONS[0][2])
    qtbot.keyClick(dialog, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert dialog.mode() == SIDE_BY_SIDE and not dialog.slider.isVisible()


# --- speed: decoded at the size shown, the full size only when zoomed in ------------------------

def test_decode_scale_picks_the_smallest_decode_that_is_sharp():
    box = QSize(450, 600)
    assert decode_scale(3024, 4032, box) == 4          # 756 x 1008 >= 450 x 600
    assert decode_scale(3024, 4032, QSize(300, 400)) == 8
    assert decode_scale(3024, 4032, box, ratio=2.0) == 2
    assert decode_scale(3024, 4032, box, zoom=4.0) == 1
    assert decode_scale(300, 400, box) == 1


def test_a_large_photo_is_decoded_small_first_and_in_full_when_zoomed(
        open_compare, ui_repo, qtbot):
    client = ui_repo.add_client(make_client(), by=BY)
    sign_photo_consent(ui_repo, client.id, signed_at=CONSENT)
    for i, started in enumerate((SESSIONS[0][0], SESSIONS[1][0])):
        session = ui_repo.save_draft(make_session(client.id, started_at=started,
                                                  anaesthetic=None), by=BY)
        ui_repo.add_photo(session.id, make_jpeg(2400, 3200, seed=i + 1),
                          view=PhotoView.FRONT, by=BY, now=started)
    dialog = open_compare(client.id)
    pane = dialog.pane
    scales = [side.scale for side in pane.sides]
    assert all(scale in (0.125, 0.25) for scale in scales), scales
    pane.set_zoom(10.0)
    assert [side.scale for side in pane.sides] == [1.0, 1.0]
    assert [side.image.width() for side in pane.sides] == [2400, 2400]
    # a screen-sized copy was kept: opening again decodes that, until zoomed in past it
    photos = ui_repo.photos(client_id=client.id)
    previews = [ui_repo.photo_store.thumbnail(p.sha256, PREVIEW_SIDE) for p in photos]
    assert all(Image.open(io.BytesIO(data)).size == (1200, 1600) for data in previews)
    assert not any(side.from_preview for side in pane.sides)
    again = open_compare(client.id)
    assert [side.from_preview for side in again.pane.sides] == [True, True]
    # decoded at the size shown from the copy too: 1/2 of it (the place is 400 to 800 high)
    assert [side.image.width() for side in again.pane.sides] == [600, 600]
    again.pane.set_zoom(10.0)
    assert [side.image.width() for side in again.pane.sides] == [2400, 2400]
    assert not any(side.from_preview for side in again.pane.sides)


def test_with_real_threads_it_is_ready_once_both_photos_are_painted(
        qtbot, ui_repo, state, clinic, real_threads):
    client, _ids = clinic
    dialog = CompareDialog(ui_repo, client.id, state=state, today=lambda: TODAY)
    qtbot.addWidget(dialog)
    ready = []
    dialog.ready.connect(lambda: ready.append(True))
    dialog.show()
    assert dialog.wait_ready(5000)
    assert ready == [True] and dialog.is_ready
    assert all(side.image is not None and not side.image.isNull() for side in dialog.pane.sides)


def test_a_missing_photo_file_is_said_in_its_place(open_compare, clinic, ui_repo):
    client, ids = clinic
    latest = ui_repo.photos(session_id=ids[2])[0]
    store = ui_repo.photo_store
    assert isinstance(store, FolderPhotoStore)
    store.path(latest.sha256).unlink()
    dialog = open_compare(client.id)
    assert dialog.pane.sides[AFTER].error.startswith("This photo cannot be shown: ")
    assert near(colour_at(dialog.pane, centre_of(dialog, BEFORE)), SESSIONS[0][2])


# --- from the window, by keyboard ------------------------------------------------------------

def test_the_menu_opens_it_and_escape_closes_it_keeping_its_size(
        qtbot, window, clinic, state):
    client, _ids = clinic
    window.show_client(client.id)
    assert window.compare_action.isEnabled() and window.card.compare_button.isEnabled()
    assert window.compare_action.shortcut().toString() == "Ctrl+Shift+C"
    window.compare_action.trigger()
    dialog = window.compare_page
    assert isinstance(dialog, CompareDialog) and dialog.isVisible()
    assert dialog.wait_ready(3000)
    assert dialog.focusWidget() is dialog.view_box or dialog.view_box.hasFocus()
    dialog.resize(700, 560)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    window.card.compare_button.click()
    again = window.compare_page
    assert again is not dialog and (again.width(), again.height()) == (700, 560)
    again.close()


def test_a_client_without_photos_gets_a_message_not_an_empty_window(
        window, ui_repo, no_real_modals):
    client = ui_repo.add_client(make_client(first_name="Bea"), by=BY)
    window.show_client(client.id)
    window.compare_action.trigger()
    assert window.compare_page is None
    assert not window.findChildren(CompareDialog)
    assert no_real_modals[-1].startswith("information: No photos of Bea ")


def test_the_keyboard_reaches_every_control_in_order(open_compare, clinic, qtbot):
    client, _ids = clinic
    dialog = open_compare(client.id)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.view_box)
    order = [QApplication.focusWidget()]
    for _ in range(5):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [dialog.view_box, dialog.side_button, dialog.before_box,
                     dialog.after_box, dialog.pane, dialog.fit_button]


def test_locking_the_app_closes_the_comparison(qtbot, ui_repo, tmp_path, clinic):
    from dataclasses import replace

    from PySide6.QtCore import QSettings

    from needledesk.security import hash_secret
    from needledesk.ui.main_window import MainWindow

    client, _ids = clinic
    ui_repo.save_settings(replace(ui_repo.settings(), lock_hash=hash_secret("4711")), by=BY)
    window = MainWindow(ui_repo, ui_repo.settings(),
                        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    window.lock_screen.secret.setText("4711")
    window.lock_screen.try_unlock()
    window.show_client(client.id)
    dialog = window.compare_photos()
    assert dialog.isVisible()
    window.lock()
    assert window.is_locked and not dialog.isVisible()
    qtbot.waitUntil(lambda: not window.findChildren(CompareDialog))   # and freed


def test_the_help_lists_the_keys_the_comparison_binds(window, clinic, open_compare):
    from PySide6.QtGui import QAction, QShortcut

    from needledesk.ui.help import COMPARE_KEYS, shortcuts_html

    html = shortcuts_html(window.findChildren(QAction))
    assert "Compare photos" in html and "Ctrl+Shift+C" in html
    assert "Comparing photos" in html and "Shift+Left / Shift+Right" in html
    listed = {part.strip() for key, _what in COMPARE_KEYS for part in key.split("/")}
    client, _ids = clinic
    dialog = open_compare(client.id)
    bound = {s.key().toString() for s in dialog.findChildren(QShortcut)}
    assert bound == {"Ctrl+1", "Ctrl+2", "Ctrl++", "Ctrl+=", "Ctrl+-", "Ctrl+0"}
    assert {"Ctrl+1", "Ctrl+2"} <= listed


def test_close_ups_are_compared_by_their_label(open_compare, clinic, ui_repo):
    client, ids = clinic
    for session_id, (started, _depth, colour) in zip(ids[:2], SESSIONS[:2], strict=True):
        ui_repo.add_photo(session_id, solid_jpeg(colour, 200, 200), view=PhotoView.CLOSE_UP,
                          label="Left cheek scar", by=BY, now=started)
    ui_repo.add_photo(ids[2], solid_jpeg((90, 90, 90), 200, 200), view=PhotoView.CLOSE_UP,
                      label="Chin", by=BY, now=SESSIONS[2][0])
    dialog = open_compare(client.id, view=(PhotoView.CLOSE_UP, "left cheek scar"))
    assert [dialog.view_box.itemText(i) for i in range(dialog.view_box.count())] == [
        "Front (3 sessions)", "Left 45° (1 session)", "Close-up: Chin (1 session)",
        "Close-up: Left cheek scar (2 sessions)"]   # close-ups by their label's order
    assert dialog.view_box.currentIndex() == 3
    assert [c.photo.session_id for c in dialog.chosen()] == ids[:2]
    assert near(colour_at(dialog.pane, centre_of(dialog, AFTER)), SESSIONS[1][2])


def test_a_trackpad_pinch_zooms_both_photos(open_compare, clinic):
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice

    client, _ids = clinic
    dialog = open_compare(client.id)
    pane = dialog.pane
    at = centre_of(dialog, BEFORE)
    event = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture,
                                QPointingDevice.primaryPointingDevice(), 2, at, at,
                                pane.mapToGlobal(at), 0.5, QPointF(0, 0))
    QApplication.sendEvent(pane, event)
    assert pane.zoom == pytest.approx(1.5)
    assert pane.visible_rect(BEFORE).height() == pytest.approx(1 / 1.5)   # fitted by height
    assert same_rect(pane.visible_rect(BEFORE), pane.visible_rect(AFTER))


def test_a_consent_no_longer_allowing_the_record_is_said_first(open_compare, clinic,
                                                                ui_repo):
    client, _ids = clinic
    sign_photo_consent(ui_repo, client.id, uses=(), signed_at=datetime(2026, 10, 10, 9))
    dialog = open_compare(client.id)
    text = dialog.consent_label.text()
    assert "photo consent of 10 Oct 2026 does not allow keeping photos in the treatment " \
        "record" in text
    assert "has allowed" not in text
