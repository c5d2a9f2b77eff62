"""Backups with photos from the window: the restore list shows each backup's photos and a
backup whose photos are not all there as unusable; a restore brings the photos back and
says how many."""

from __future__ import annotations

import shutil
from datetime import datetime

from PySide6.QtCore import Qt

from needledesk.domain.model import PhotoView
from needledesk.store.backup import list_backups, take_backup
from needledesk.store.photo_files import FolderPhotoStore, digest, photo_folder
from needledesk.ui.backups import RestoreDialog
from tests.photo_helpers import client_with_session, make_jpeg

BY = "Jane Smith"


def _photos(repo, count: int = 2) -> tuple[str, list[str]]:
    _client, session = client_with_session(repo)
    return session.id, [repo.add_photo(session.id, make_jpeg(seed=i + 1), view=PhotoView.FRONT,
                                       by=BY).photo.sha256 for i in range(count)]


def test_the_restore_list_shows_photos_and_refuses_a_backup_missing_one(
        qtbot, window, ui_repo, tmp_path):
    _session, hashes = _photos(ui_repo)
    folder = tmp_path / "backups"
    take_backup(ui_repo.path, folder, now=datetime(2026, 11, 19, 9, 30))
    ui_repo.remove_photo(ui_repo.photos(client_id=ui_repo.photos(
        session_id=_session)[0].client_id)[0].id, "Photographed the wrong client", by=BY)
    take_backup(ui_repo.path, folder, now=datetime(2026, 11, 20, 9, 30))
    # The file only the older backup needs is lost from the backup folder.
    FolderPhotoStore(folder / "photos").path(hashes[0]).unlink()

    dialog = RestoreDialog(list_backups(folder, check=False), folder, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_checks()
    qtbot.waitUntil(lambda: dialog.progress.value() == 2, timeout=10_000)
    newest, older = (dialog.backups.item(row) for row in range(2))
    assert "1 photo, " in newest.text() and "cannot" not in newest.text()
    assert older.text().endswith(
        f"cannot be used: 1 of its 2 photos is missing or damaged in {folder / 'photos'}")
    assert not older.flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.backups.setCurrentRow(0)
    assert dialog.restore_button.isEnabled()
    dialog.resize(760, 240)
    dialog.grab().save(str(tmp_path / "restore-list.png"))


def test_restore_from_the_window_brings_the_photos_back(
        qtbot, window, ui_repo, tmp_path, monkeypatch, no_real_modals):
    session, hashes = _photos(ui_repo)
    take_backup(ui_repo.path, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    shutil.rmtree(photo_folder(ui_repo.path))
    monkeypatch.setattr(RestoreDialog, "ask", classmethod(
        lambda cls, parent, backups, folder: backups[0]))
    assert window.restore_backup()
    said = [text for text in no_real_modals if text.startswith("information")]
    assert said and "2 photos of its 2 were brought back into the photo folder" in said[-1]
    repo = window.repo
    assert sorted(digest(repo.photo_bytes(p)) for p in repo.photos(session_id=session)) == \
        sorted(hashes)
