"""A session's photos in the window: real JPEG and PNG files dropped (a QDropEvent carrying
their urls) or chosen in the file dialog, stored by the real repository with the view they
were dropped on, given another view, opened large and removed by amendment; the clinic's
views setting; no photo without a photo consent; the editor's Photos section and the card's
Photos of this session…."""

from __future__ import annotations

import io
import time
from dataclasses import replace

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from needledesk.domain.model import PhotoSource, PhotoView
from needledesk.settings import ClinicSettings, validate_settings, wanted_views
from needledesk.ui import help as help_pages
from needledesk.ui.photos_panel import PhotosDialog, PhotosPanel, RemovePhotoDialog
from needledesk.ui.settings_dialog import SettingsDialog
from needledesk.ui.tasks import Tasks
from tests.photo_helpers import (
    GPS_IFD,
    client_with_session,
    make_jpeg,
    make_png,
    sign_photo_consent,
)

BY = "Jane Smith"


@pytest.fixture
def files(tmp_path):
    """`files(n, ...)`: n different real JPEG files (EXIF orientation 6, GPS, a serial)."""
    folder = tmp_path / "camera"
    folder.mkdir()

    def write(count: int = 1, *, start: int = 1, orientation: int | None = 6):
        paths = []
        for seed in range(start, start + count):
            path = folder / f"IMG_{seed:04d}.JPG"
            path.write_bytes(make_jpeg(64, 48, orientation=orientation, seed=seed))
            paths.append(str(path))
        return paths
    return write


@pytest.fixture
def panel_for(qtbot, ui_repo, state):
    dialogs = []   # kept alive for the test

    def build(consent: bool = True, settings: ClinicSettings | None = None):
        client, session = client_with_session(ui_repo, consent=consent)
        dialog = PhotosDialog(ui_repo, settings or ui_repo.settings(), client, session.id,
                              by=BY, state=state)
        qtbot.addWidget(dialog)
        dialogs.append(dialog)
        dialog.show()
        return dialog.panel
    return build


def drop(widget, paths, pos: QPoint) -> None:
    """Files dragged in from a file manager and dropped at `pos` of `widget`: the drag
    enters (and is accepted), moves there, and drops."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    for event in (QDragEnterEvent(pos, *args), QDragMoveEvent(pos, *args)):
        QApplication.sendEvent(widget, event)
        assert event.isAccepted()
    event = QDropEvent(QPointF(pos), *args)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def item_texts(panel) -> list[str]:
    return [panel.grid.item(i).text() for i in range(panel.grid.count())]


def slot_pos(panel, text: str) -> QPoint:
    for i in range(panel.grid.count()):
        if panel.grid.item(i).text() == text:
            return panel.grid.visualItemRect(panel.grid.item(i)).center()
    raise AssertionError(f"no {text!r} in {item_texts(panel)}")


# --- the clinic's views ----------------------------------------------------------------------

def test_the_views_setting_is_checked_and_kept(ui_repo):
    assert wanted_views(ClinicSettings()) == [PhotoView.FRONT, PhotoView.LEFT_45,
                                              PhotoView.RIGHT_45]
    for views, words in (([], "choose at least one"), (["front", "front"], "chosen twice"),
                         (["front", "top"], "“top” is not a view")):
        problems = validate_settings(replace(ClinicSettings(), photo_views=views))
        assert [p.path for p in problems] == ["photo_views"]
        assert problems[0].message.startswith("Photo views asked for: ")
        assert words in problems[0].message
    ui_repo.save_settings(replace(ClinicSettings(), photo_views=["close_up", "front"]), by=BY)
    assert ui_repo.settings().photo_views == ["close_up", "front"]


def test_settings_choose_the_views_with_ticks(qtbot):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    boxes = dialog.photo_view_boxes
    assert [v for v, b in boxes.items() if b.isChecked()] == [
        PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45]
    boxes[PhotoView.LEFT_PROFILE].setChecked(True)
    boxes[PhotoView.LEFT_45].setChecked(False)
    assert dialog.settings().photo_views == ["front", "right_45", "left_profile"]
    for box in boxes.values():
        box.setChecked(False)
    assert not dialog.save_button.isEnabled()
    assert "Photo views asked for: choose at least one" in dialog.photo_views_message.text()
    assert "Photos" in dialog.summary.text()
    boxes[PhotoView.CLOSE_UP].setChecked(True)
    assert dialog.save_button.isEnabled() and dialog.settings().photo_views == ["close_up"]


# --- getting photos in -------------------------------------------------------------------------

def test_a_file_dropped_on_an_empty_view_is_stored_with_that_view(panel_for, files, ui_repo):
    panel = panel_for()
    assert item_texts(panel) == ["Front — drop a photo here", "Left 45° — drop a photo here",
                                 "Right 45° — drop a photo here"]
    [path] = files(1)
    drop(panel.grid.viewport(), [path], slot_pos(panel, "Left 45° — drop a photo here"))

    [photo] = ui_repo.photos(session_id=panel.session_id)
    assert (photo.view, photo.source, photo.added_by) == (PhotoView.LEFT_45,
                                                           PhotoSource.FILE, BY)
    stored = Image.open(io.BytesIO(ui_repo.photo_bytes(photo)))
    assert stored.size == (48, 64)                  # EXIF orientation 6 applied: upright
    assert not stored.getexif().get_ifd(GPS_IFD)    # the position is gone
    assert b"SN-0042-SECRET" not in ui_repo.photo_bytes(photo)
    assert item_texts(panel) == ["Front — drop a photo here", "Left 45°",
                                 "Right 45° — drop a photo here"]
    assert panel.thumbnails_shown() == 1
    assert panel.message.text() == "1 photo added"


def test_files_dropped_beside_the_views_fill_the_missing_ones_in_turn(panel_for, files,
                                                                      ui_repo):
    panel = panel_for()
    first = files(1)
    drop(panel.grid.viewport(), first, slot_pos(panel, "Left 45° — drop a photo here"))
    more = files(2, start=2)
    below = QPoint(10, panel.grid.viewport().height() - 5)   # no photo there
    assert panel.grid.itemAt(below) is None
    drop(panel.grid.viewport(), [*more, first[0]], below)

    views = sorted((p.view for p in ui_repo.photos(session_id=panel.session_id)),
                   key=list(PhotoView).index)
    assert views == [PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45]
    assert panel.message.text() == "2 photos added; 1 was already stored"
    assert item_texts(panel) == ["Front", "Left 45°", "Right 45°"]
    # dropped on the panel itself, outside the grid: the next views again (close-up now)
    drop(panel, files(1, start=9), QPoint(5, 5))
    assert item_texts(panel)[-1] == "Close-up"


def test_add_photos_opens_the_file_dialog_for_many_at_once(panel_for, files, ui_repo,
                                                           monkeypatch, tmp_path, qtbot):
    panel = panel_for()
    png = tmp_path / "camera" / "scan.png"
    png.write_bytes(make_png())
    broken = tmp_path / "camera" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a photo")
    chosen = [*files(2), str(png), str(broken)]
    asked = []

    def choose(parent, title, folder, filters):
        asked.append(filters)
        return chosen, filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose))
    panel.window().activateWindow()
    qtbot.waitUntil(panel.window().isActiveWindow)
    qtbot.keyClick(panel.grid, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)

    assert asked and "*.heic" in asked[0] and "*.jpg" in asked[0]
    photos = ui_repo.photos(session_id=panel.session_id)
    assert len(photos) == 3 and {p.media_type for p in photos} == {"image/jpeg", "image/png"}
    text = panel.message.text()
    assert text.startswith("3 photos added; 1 could not be added\n• broken.jpg: ")
    assert panel.message.kind == "error"
    for word in ("None", "Traceback", "sha256", "PhotoError"):
        assert word not in text


def test_without_a_photo_consent_nothing_is_stored_and_the_panel_says_why(
        panel_for, files, ui_repo):
    panel = panel_for(consent=False)
    assert panel.consent_box.isVisibleTo(panel)
    assert panel.consent_label.text().startswith("The client has not signed a photo consent")
    assert panel.sign_consent_button.isVisibleTo(panel)
    assert not panel.add_button.isEnabled()
    drop(panel.grid.viewport(), files(1), slot_pos(panel, "Front — drop a photo here"))
    assert ui_repo.photos(session_id=panel.session_id) == []
    assert panel.message.text().startswith("No photo was added. The client has not signed")

    sign_photo_consent(ui_repo, panel.client.id)   # signed meanwhile (the dialog's path)
    panel.refresh()
    assert not panel.consent_box.isVisibleTo(panel) and panel.add_button.isEnabled()
    drop(panel.grid.viewport(), files(1), slot_pos(panel, "Front — drop a photo here"))
    assert len(ui_repo.photos(session_id=panel.session_id)) == 1


def test_sign_photo_consent_opens_the_photo_form_and_the_panel_follows(
        panel_for, ui_repo, monkeypatch):
    from needledesk.domain.model import ConsentKind
    from needledesk.ui import consents_list

    panel = panel_for(consent=False)
    shown = []

    def run(dialog):   # the client signs: stored as the form's own Sign would
        shown.append(dialog.kind)
        sign_photo_consent(ui_repo, panel.client.id)
        return False

    monkeypatch.setattr(consents_list, "run_dialog", run)
    panel.sign_consent_button.click()
    assert shown == [ConsentKind.PHOTO]
    assert not panel.consent_box.isVisibleTo(panel) and panel.add_button.isEnabled()


def test_a_consent_that_does_not_allow_the_record_is_a_refusal(panel_for, ui_repo, files):
    client, session = client_with_session(ui_repo, consent=False)
    sign_photo_consent(ui_repo, client.id, uses=("photo_use_teaching",))
    panel = PhotosPanel(ui_repo, ui_repo.settings(), client, session.id, by=BY)
    assert "does not allow keeping photos in the treatment record" in \
        panel.consent_label.text()
    assert panel.add_files(files(1)).added == []
    assert ui_repo.photos(session_id=session.id) == []


# --- views, opening, removing ------------------------------------------------------------------

def _panel_with_photo(panel_for, files, view_slot="Front — drop a photo here"):
    panel = panel_for()
    drop(panel.grid.viewport(), files(1), slot_pos(panel, view_slot))
    return panel


def test_f2_changes_a_photos_view_and_a_close_up_asks_its_label(panel_for, files, ui_repo,
                                                                monkeypatch, qtbot):
    panel = _panel_with_photo(panel_for, files)
    [photo] = ui_repo.photos(session_id=panel.session_id)
    panel.select_photo(photo.id)
    monkeypatch.setattr(PhotosPanel, "ask_view",
                        staticmethod(lambda parent, names, current: "Left profile"))
    panel.grid.setFocus()
    qtbot.keyClick(panel.grid, Qt.Key.Key_F2)
    assert ui_repo.get_photo(photo.id).view == PhotoView.LEFT_PROFILE
    assert "Left profile" in item_texts(panel)
    assert "Front — drop a photo here" in item_texts(panel)   # wanted, now missing again

    # the photo's menu: View › Close-up… asks what the close-up shows
    monkeypatch.setattr(PhotosPanel, "ask_label",
                        staticmethod(lambda parent, current: "left cheek scar"))
    menu = panel.photo_menu()
    [view_menu] = [a.menu() for a in menu.actions() if a.menu() is not None]
    [close_up] = [a for a in view_menu.actions() if a.text() == "Close-up…"]
    close_up.trigger()
    changed = ui_repo.get_photo(photo.id)
    assert (changed.view, changed.label) == (PhotoView.CLOSE_UP, "left cheek scar")
    assert "Close-up: left cheek scar" in item_texts(panel)
    rows = [r for r in ui_repo.audit.history(photo.id) if r.action == "update"]
    assert [(r.who, r.after["view"]) for r in rows] == [(BY, "left_profile"),
                                                         (BY, "close_up")]


def test_delete_removes_a_photo_by_amendment_with_a_reason(panel_for, files, ui_repo,
                                                          monkeypatch, qtbot):
    panel = _panel_with_photo(panel_for, files)
    [photo] = ui_repo.photos(session_id=panel.session_id)
    panel.select_photo(photo.id)
    panel.grid.setFocus()
    reasons = iter([None, "blurred, taken again"])
    monkeypatch.setattr(PhotosPanel, "ask_reason",
                        staticmethod(lambda parent, what: next(reasons)))
    qtbot.keyClick(panel.grid, Qt.Key.Key_Delete)           # cancelled: nothing changes
    assert [p.id for p in ui_repo.photos(session_id=panel.session_id)] == [photo.id]
    qtbot.keyClick(panel.grid, Qt.Key.Key_Delete)

    assert ui_repo.photos(session_id=panel.session_id) == []
    gone = ui_repo.get_photo(photo.id)
    assert (gone.removed_by, gone.removed_reason) == (BY, "blurred, taken again")
    assert not ui_repo.photo_store.has(photo.sha256)
    [row] = [r for r in ui_repo.audit.history(photo.id) if r.action == "remove"]
    assert row.who == BY and row.after["sha256"] == photo.sha256
    assert row.after["removed_reason"] == "blurred, taken again"
    assert item_texts(panel)[0] == "Front — drop a photo here"
    assert panel.history_label.text().startswith("1 photo removed")
    tip = panel.history_label.toolTip()
    assert "Front" in tip and "by Jane Smith: blurred, taken again" in tip
    assert "None" not in tip and "T1" not in tip   # plain dates, no ISO times


def test_the_reason_is_required_to_remove(qtbot):
    dialog = RemovePhotoDialog("Front")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.reason.setText("  ")
    dialog.remove_button.click()
    assert dialog.isVisible()
    assert dialog.problem.text().startswith("Reason: write why the photo is removed (3 to 500")
    dialog.reason.setText("wrong client")
    dialog.remove_button.click()
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted


def test_enter_opens_the_photo_large_and_escape_closes_it(panel_for, files, ui_repo, qtbot):
    panel = _panel_with_photo(panel_for, files)
    [photo] = ui_repo.photos(session_id=panel.session_id)
    panel.select_photo(photo.id)
    panel.grid.setFocus()
    qtbot.keyClick(panel.grid, Qt.Key.Key_Return)
    viewer = panel.viewer
    assert viewer.isVisible() and viewer.pixmap.size().toTuple() == (48, 64)
    assert viewer.windowTitle().startswith("Front — ")
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
    assert panel.window().isVisible()   # Enter did not reach the dialog's default button


def test_arrows_go_through_the_sessions_photos_opened_large(panel_for, files, qtbot):
    panel = panel_for()
    drop(panel.grid.viewport(), files(1), slot_pos(panel, "Right 45° — drop a photo here"))
    drop(panel.grid.viewport(), files(1, start=2, orientation=None),
         slot_pos(panel, "Front — drop a photo here"))
    front, right = panel.shown_order()
    assert (front.view, right.view) == (PhotoView.FRONT, PhotoView.RIGHT_45)
    panel.select_photo(front.id)
    viewer = panel.open_photo(front)
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow)   # its keys work in its own window
    qtbot.keyClick(viewer, Qt.Key.Key_Left)          # nothing before the first
    assert viewer.windowTitle().startswith("Front — ")
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.windowTitle().startswith("Right 45° — ")
    assert viewer.pixmap.size().toTuple() == (48, 64)   # the turned one
    assert panel.current_photo().id == right.id      # the grid follows
    qtbot.keyClick(viewer, Qt.Key.Key_Right)          # nothing after the last
    assert viewer.windowTitle().startswith("Right 45° — ")
    viewer.close()


def test_the_panel_is_reached_by_tab_and_its_keys_are_listed(panel_for, files):
    panel = _panel_with_photo(panel_for, files)
    assert panel.grid.focusPolicy() & Qt.FocusPolicy.TabFocus
    listed = {key for key, _what in help_pages.PHOTO_KEYS}
    from PySide6.QtGui import QShortcut

    own = {s.key().toString() for s in panel.findChildren(QShortcut)}
    for key in ("Ctrl+Shift+A", "Ctrl+Shift+I"):
        assert key in listed and key in own
    assert "Add photos from files" in help_pages.shortcuts_html([])


def test_twenty_photos_open_at_once_their_thumbnails_made_off_the_ui_thread(
        qtbot, ui_repo, real_threads):
    client, session = client_with_session(ui_repo)
    for seed in range(1, 21):
        ui_repo.add_photo(session.id, make_jpeg(400, 300, seed=seed), view=PhotoView.FRONT,
                          by=BY)
    started = time.perf_counter()
    panel = PhotosPanel(ui_repo, ui_repo.settings(), client, session.id, by=BY)
    qtbot.addWidget(panel)
    assert time.perf_counter() - started < 2
    # every thumbnail was handed to a worker: none made while the panel was built
    assert panel.thumbnails_shown() == 0 and Tasks.pending() >= 20
    qtbot.waitUntil(lambda: panel.thumbnails_shown() == 20, timeout=20_000)
    assert panel.grid.count() == 22   # 20 fronts, and the two 45° views still missing


# --- where the photos are ------------------------------------------------------------------------

def test_the_editor_has_a_photos_section_and_saves_a_new_draft_first(
        editor_for, ui_repo, client, files, monkeypatch):
    sign_photo_consent(ui_repo, client.id)
    editor = editor_for()
    panel = editor.photos_panel
    assert panel.hint.text().startswith("A new session: it is saved as a draft")
    drop(panel.grid.viewport(), files(1), slot_pos(panel, "Front — drop a photo here"))
    assert ui_repo.photos(session_id=editor.session_id) == []   # the form is not complete
    assert panel.message.text().startswith("No photo was added: save the session first")

    editor.practitioner.setCurrentText(BY)
    editor.areas.add_button.click()
    editor.areas.rows[-1].area.setCurrentText("cheeks")
    editor.areas.rows[-1].depth.setValue(1.0)
    monkeypatch.setattr(type(editor), "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: ""))
    drop(panel.grid.viewport(), files(1), slot_pos(panel, "Front — drop a photo here"))
    assert ui_repo.get_session(editor.session_id).areas[0].area == "cheeks"
    [photo] = ui_repo.photos(session_id=editor.session_id)
    assert photo.view == PhotoView.FRONT and photo.added_by == BY


def test_a_signed_sessions_photos_open_from_the_card(qtbot, window, ui_repo, files):
    client, session = client_with_session(ui_repo)
    ui_repo.sign_session(session.id, session.started_at, by=BY)
    window.show_client(client.id)
    assert not window.card.photos_button.isEnabled()
    window.history.selectRow(0)
    assert window.card.photos_button.isEnabled()
    window.card.photos_button.click()
    dialog = window.photos_page
    assert isinstance(dialog, PhotosDialog) and dialog.isVisible()
    assert dialog.panel.session_id == session.id
    drop(dialog.panel.grid.viewport(), files(1),
         slot_pos(dialog.panel, "Right 45° — drop a photo here"))
    assert [p.view for p in ui_repo.photos(session_id=session.id)] == [PhotoView.RIGHT_45]
    assert window.history_model.headerData(5, Qt.Orientation.Horizontal) == "Photos"
    assert window.history_model.data(window.history_model.index(0, 5)) == ""
    dialog.close()   # the card's count follows
    assert window.history_model.data(window.history_model.index(0, 5)) == "1"


def test_photo_windows_close_when_the_window_locks(qtbot, window, ui_repo, files):
    client, session = client_with_session(ui_repo)
    ui_repo.add_photo(session.id, make_jpeg(seed=5), view=PhotoView.FRONT, by=BY)
    window.show_client(client.id)
    window.history.selectRow(0)
    dialog = window.show_session_photos()
    dialog.panel.select_photo(dialog.panel.photos[0].id)
    dialog.panel.open_current()
    viewer = dialog.panel.viewer
    assert viewer.isVisible()
    window._close_lists()   # what locking does, after hiding the card
    assert not viewer.isVisible() and not dialog.isVisible()
