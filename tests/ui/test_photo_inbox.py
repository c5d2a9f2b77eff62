"""The watched import folder: real picture files written into a real folder appear (after a
reading, or by themselves when the folder changes), are assigned to a view of the open
session (stored with source "folder") and leave the list; the files themselves stay where
they are. A missing folder is a plain sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from needledesk.domain.model import PhotoSource, PhotoView
from needledesk.ui.photo_inbox import FOLDER_KEY, PhotoInboxDialog, scan_folder
from needledesk.ui.photos_panel import PhotosDialog
from tests.photo_helpers import client_with_session, make_jpeg, make_png

BY = "Jane Smith"


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "tablet"
    folder.mkdir()
    return folder


@pytest.fixture
def open_inbox(qtbot, ui_repo, state):
    kept = []

    def build(folder: Path | str):
        state.setValue(FOLDER_KEY, str(folder))
        client, session = client_with_session(ui_repo)
        dialog = PhotosDialog(ui_repo, ui_repo.settings(), client, session.id, by=BY,
                              state=state)
        qtbot.addWidget(dialog)
        kept.append(dialog)
        dialog.show()
        dialog.panel.show_inbox()
        inbox = dialog.panel.inbox
        assert isinstance(inbox, PhotoInboxDialog) and inbox.isVisible()
        return dialog.panel, inbox
    return build


def names(inbox: PhotoInboxDialog) -> list[str]:
    return [inbox.list.item(i).text() for i in range(inbox.list.count())]


def test_the_folders_photos_are_listed_assigned_and_leave_the_list(open_inbox, inbox,
                                                                   ui_repo):
    (inbox / "IMG_0001.JPG").write_bytes(make_jpeg(64, 48, orientation=6, seed=1))
    (inbox / "IMG_0002.jpg").write_bytes(make_jpeg(64, 48, seed=2))
    (inbox / "scan.png").write_bytes(make_png())
    (inbox / "notes.txt").write_text("not a photo")
    (inbox / "broken.jpg").write_bytes(b"\xff\xd8\xff half a file")
    panel, dialog = open_inbox(inbox)

    assert names(dialog) == ["broken.jpg", "IMG_0001.JPG", "IMG_0002.jpg", "scan.png"]
    assert dialog.list.item(0).toolTip() == \
        "broken.jpg: this file is not a picture NeedleDesk can read"
    assert "never moves, renames or deletes them" in dialog.note.text()
    # the clinic's first view not taken yet is offered
    assert dialog.view.currentData() == "front"

    dialog.list.clearSelection()
    for i in (1, 3):
        dialog.list.item(i).setSelected(True)
    dialog.view.setCurrentIndex(dialog.view.findData("right_45"))
    assert dialog.add_button.text() == "&Add 2 photos to the session"
    dialog.add_chosen()

    stored = ui_repo.photos(session_id=panel.session_id)
    assert sorted((p.view, p.source, p.media_type) for p in stored) == [
        (PhotoView.RIGHT_45, PhotoSource.FOLDER, "image/jpeg"),
        (PhotoView.RIGHT_45, PhotoSource.FOLDER, "image/png")]
    assert names(dialog) == ["broken.jpg", "IMG_0002.jpg"]
    # nothing was moved or deleted from the folder
    assert sorted(p.name for p in inbox.iterdir()) == [
        "IMG_0001.JPG", "IMG_0002.jpg", "broken.jpg", "notes.txt", "scan.png"]
    assert "Right 45°" in [panel.grid.item(i).text() for i in range(panel.grid.count())]
    assert panel.message.text() == "2 photos added"

    # a broken file cannot be chosen for adding
    dialog.list.clearSelection()
    dialog.list.item(0).setSelected(True)
    assert not dialog.add_button.isEnabled()


def test_a_close_up_from_the_folder_keeps_its_label(open_inbox, inbox, ui_repo):
    (inbox / "spot.jpg").write_bytes(make_jpeg(seed=4))
    panel, dialog = open_inbox(inbox)
    assert not dialog.label.isEnabled()
    dialog.view.setCurrentIndex(dialog.view.findData("close_up"))
    assert dialog.label.isEnabled()
    dialog.label.setText("left cheek scar")
    dialog.list.item(0).setSelected(True)
    dialog.add_chosen()
    [photo] = ui_repo.photos(session_id=panel.session_id)
    assert (photo.view, photo.label) == (PhotoView.CLOSE_UP, "left cheek scar")
    assert names(dialog) == []
    assert dialog.empty_label.text().startswith("No photo is waiting")


def test_a_file_already_taken_in_is_not_listed_whatever_its_name(open_inbox, inbox, ui_repo):
    data = make_jpeg(seed=7)
    other_client, other_session = client_with_session(ui_repo)
    ui_repo.add_photo(other_session.id, data, view=PhotoView.FRONT, by=BY)
    (inbox / "copy of it.jpg").write_bytes(data)
    (inbox / "new.jpg").write_bytes(make_jpeg(seed=8))
    _panel, dialog = open_inbox(inbox)
    assert names(dialog) == ["new.jpg"]


def test_a_photo_saved_into_the_folder_appears_by_itself(open_inbox, inbox, qtbot,
                                                         real_threads):
    _panel, dialog = open_inbox(inbox)
    qtbot.waitUntil(lambda: not dialog.scanning, timeout=5000)
    assert names(dialog) == []
    assert str(inbox) in dialog.watcher.directories()
    (inbox / "IMG_0100.jpg").write_bytes(make_jpeg(seed=10))   # the tablet syncs one
    qtbot.waitUntil(lambda: names(dialog) == ["IMG_0100.jpg"], timeout=10_000)
    qtbot.waitUntil(lambda: not dialog.scanning, timeout=5000)


def test_a_missing_folder_is_a_plain_message(open_inbox, tmp_path, ui_repo):
    _panel, dialog = open_inbox(tmp_path / "card-not-inserted")
    text = dialog.message.text()
    assert text.startswith(f"The import folder {tmp_path / 'card-not-inserted'} cannot be "
                           "found. Is the tablet")
    assert dialog.message.kind == "error" and names(dialog) == []
    assert "Traceback" not in text and "Errno" not in text


def test_the_folder_is_this_pcs_and_chosen_in_the_dialog(open_inbox, inbox, tmp_path, state,
                                                        monkeypatch):
    _panel, dialog = open_inbox("")
    assert dialog.message.text().startswith("No import folder is chosen for this PC yet")
    (inbox / "a.jpg").write_bytes(make_jpeg(seed=3))
    monkeypatch.setattr(PhotoInboxDialog, "ask_folder",
                        staticmethod(lambda parent, current: str(inbox)))
    dialog.choose_button.click()
    assert state.value(FOLDER_KEY) == str(inbox)
    assert names(dialog) == ["a.jpg"] and not dialog.message.isVisible()


def test_reading_the_folder_again_reuses_what_did_not_change(inbox):
    (inbox / "a.jpg").write_bytes(make_jpeg(seed=1))
    first = scan_folder(str(inbox), set())
    assert [f.name for f in first.files] == ["a.jpg"] and first.files[0].thumbnail
    (inbox / "a.jpg").unlink()
    (inbox / "b.jpg").write_bytes(make_jpeg(seed=2))
    second = scan_folder(str(inbox), {first.files[0].sha256}, first.cache)
    assert [f.name for f in second.files] == ["b.jpg"]
    assert len(second.cache or {}) == 1   # the gone file's entry is dropped
