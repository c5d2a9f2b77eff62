"""Backups carry the photos and restore brings them back, on real files: a backup folder's
`photos/` shared by every generation (only new files copied), each generation's manifest
listing its photos, rotation removing the files no generation needs, and a restore that
checks every photo before it changes anything."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from needledesk.domain.model import PhotoView
from needledesk.errors import NeedleDeskError
from needledesk.store.anchors import manifest_path
from needledesk.store.backup import (
    BackupError,
    backup_to,
    describe,
    list_backups,
    take_backup,
)
from needledesk.store.check import check_file
from needledesk.store.database import DatabaseError, open_database
from needledesk.store.photo_files import FolderPhotoStore, digest, photo_folder
from needledesk.store.repository import Repository
from needledesk.store.restore import restore_and_record
from tests.photo_helpers import client_with_session, make_jpeg

BY = "Jane Smith"
DAY = datetime(2026, 11, 20, 9, 0)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
#: The backup folder and its `photos/` belong to the clinic's file; a clinic server's photos
#: are in its database and go with its `pg_dump` backups.
pytestmark = pytest.mark.sqlite_only


def _clinic(tmp_path: Path, photos: int = 3) -> tuple[Path, str, list[str]]:
    """A database with one client, one session and `photos` photos: (path, session id,
    the photos' hashes)."""
    path = tmp_path / "clinic.db"
    repo = Repository(open_database(path))
    try:
        _client, session = client_with_session(repo)
        hashes = [repo.add_photo(session.id, make_jpeg(seed=i + 1), view=PhotoView.FRONT,
                                 by=BY, name=f"p{i}.jpg").photo.sha256 for i in range(photos)]
    finally:
        repo.db.close()
    return path, session.id, hashes


def _add_photo(path: Path, session_id: str, seed: int) -> str:
    repo = Repository(open_database(path))
    try:
        return repo.add_photo(session_id, make_jpeg(seed=seed), view=PhotoView.LEFT_45, by=BY,
                              name="more.jpg").photo.sha256
    finally:
        repo.db.close()


def _check(path: Path) -> list[str]:
    db = open_database(path)
    try:
        return check_file(db).problems
    finally:
        db.close()


def _listed(backup: Path) -> list[str]:
    manifest = json.loads(manifest_path(backup).read_text(encoding="utf-8"))
    return [entry["sha256"] for entry in manifest["files"]["photos"]]


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name: bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- backing up ----------------------------------------------------------------------------

def test_backup_carries_the_photos_and_restore_brings_every_one_back(tmp_path):
    path, _session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    info = take_backup(path, folder, now=DAY)
    assert (info.photos, info.photos_copied) == (3, 3)
    kept = FolderPhotoStore(folder / "photos")
    assert sorted(kept.hashes()) == sorted(hashes) == _listed(info.path)
    for sha in hashes:
        assert digest(kept.get(sha)) == sha
    assert [(b.photos, b.ok) for b in list_backups(folder)] == [(3, True)]

    shutil.rmtree(photo_folder(path))  # the photos are lost
    assert any("missing from the photo folder" in p for p in _check(path))
    restored = restore_and_record(info.path, path, who=BY)
    assert restored.photos_restored == 3 and restored.backup.photos == 3
    assert _check(path) == []
    repo = Repository(open_database(path))
    try:
        assert sorted(digest(repo.photo_bytes(p)) for p in repo.photos(
            session_id=_session)) == sorted(hashes)
    finally:
        repo.db.close()


@posix_only
def test_backup_photos_are_readable_by_their_user_only(tmp_path):
    path, _session, hashes = _clinic(tmp_path, photos=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    old = os.umask(0o022)
    try:
        take_backup(path, folder, now=DAY)
    finally:
        os.umask(old)
    kept = FolderPhotoStore(folder / "photos")
    assert _mode(kept.root) == _mode(kept.path(hashes[0]).parent) == 0o700
    assert _mode(kept.path(hashes[0])) == 0o600


def test_a_second_backup_copies_only_the_new_photo(tmp_path):
    path, session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    take_backup(path, folder, now=DAY)
    kept = FolderPhotoStore(folder / "photos")
    before = {sha: (kept.path(sha).stat().st_ino, kept.path(sha).stat().st_mtime_ns)
              for sha in hashes}
    new = _add_photo(path, session, seed=9)
    info = take_backup(path, folder, now=DAY + timedelta(hours=1))
    assert (info.photos, info.photos_copied) == (4, 1)
    # The three already there were neither written again nor replaced.
    assert {sha: (kept.path(sha).stat().st_ino, kept.path(sha).stat().st_mtime_ns)
            for sha in hashes} == before
    assert sorted(kept.hashes()) == sorted([*hashes, new]) == _listed(info.path)


def test_progress_covers_the_photos_too(tmp_path):
    path, _session, _hashes = _clinic(tmp_path, photos=2)
    folder = tmp_path / "backups"
    folder.mkdir()
    seen: list[tuple[int, int]] = []
    take_backup(path, folder, now=DAY, on_progress=lambda d, t: seen.append((d, t)))
    conn = open_database(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert seen[-1][0] == seen[-1][1] > pages  # the photos' pages after the database's
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 3


def test_a_missing_photo_file_stops_the_backup_leaving_no_generation(tmp_path):
    path, _session, hashes = _clinic(tmp_path)
    FolderPhotoStore(photo_folder(path)).path(hashes[1]).unlink()
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(BackupError, match="is missing from") as caught:
        take_backup(path, folder, now=DAY)
    assert "needledesk check" in str(caught.value)
    assert not list(folder.glob("needledesk-*"))
    assert not [p for p in folder.iterdir() if p.name != "photos"]


def test_a_photo_removed_while_the_backup_is_taken_is_said_so(tmp_path):
    """The window keeps writing while a backup runs: a photo removed after the copy's
    snapshot has no file to carry; the backup stops and says why."""
    path, session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    other = Repository(open_database(path))

    def remove_once(done: int, total: int) -> None:
        if len(other.photos(session_id=session)) == 3:
            photo = next(p for p in other.photos(session_id=session) if p.sha256 == hashes[0])
            other.remove_photo(photo.id, "Photographed the wrong client", by=BY)

    try:
        with pytest.raises(BackupError, match="removed while the backup was being taken"):
            take_backup(path, folder, now=DAY, on_progress=remove_once)
    finally:
        other.db.close()
    assert not list(folder.glob("needledesk-*"))
    assert take_backup(path, folder, now=DAY).photos == 2  # the next one is whole


def test_the_copy_before_a_schema_upgrade_leaves_the_photos_where_they_are(tmp_path):
    """database.py's copy before a migration is `backup_to` without photos: no photo folder
    beside the database, and a manifest listing none."""
    path, _session, _hashes = _clinic(tmp_path)
    copy = tmp_path / "clinic.before-schema-11.db"
    info = backup_to(path, copy)
    assert info.photos == 0 and not (tmp_path / "photos").exists()
    manifest = json.loads(manifest_path(copy).read_text(encoding="utf-8"))
    assert "photos" not in manifest["files"]


# --- removal and rotation ------------------------------------------------------------------

def test_a_removed_photo_leaves_later_backups_and_its_file_goes_with_the_last_generation(
        tmp_path):
    path, session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    first = take_backup(path, folder, now=datetime(2025, 1, 10, 9, 0))
    repo = Repository(open_database(path))
    try:
        gone = next(p for p in repo.photos(session_id=session) if p.sha256 == hashes[0])
        repo.remove_photo(gone.id, "Photographed the wrong client", by=BY)
    finally:
        repo.db.close()
    later = take_backup(path, folder, now=datetime(2025, 2, 10, 9, 0))
    assert hashes[0] not in _listed(later.path) and later.photos == 2
    kept = FolderPhotoStore(folder / "photos")
    assert kept.has(hashes[0])  # the January generation still needs it
    # A year of monthly backups: the January one is rotated away (12 months are kept).
    for month in range(3, 15):
        latest = take_backup(path, folder, now=datetime(2025 + (month - 1) // 12,
                                                        (month - 1) % 12 + 1, 10, 9, 0))
    assert not first.path.exists() and not manifest_path(first.path).exists()
    # No generation names it now, but it was copied just now (this test): a backup being
    # taken by another program meanwhile may not have put its manifest in place yet.
    assert kept.has(hashes[0])
    aged = time.time() - 2 * 3600
    os.utime(kept.path(hashes[0]), (aged, aged))
    os.utime(kept.path(hashes[1]), (aged, aged))
    take_backup(path, folder, now=datetime(2026, 2, 11, 9, 0))
    assert not kept.has(hashes[0])
    assert sorted(kept.hashes()) == sorted(hashes[1:]) == _listed(latest.path)
    assert list_backups(folder)[-1].ok


def test_rotation_removes_no_photo_while_a_manifest_cannot_be_read(tmp_path):
    path, session, hashes = _clinic(tmp_path, photos=2)
    folder = tmp_path / "backups"
    folder.mkdir()
    first = take_backup(path, folder, now=datetime(2025, 1, 10, 9, 0))
    repo = Repository(open_database(path))
    try:
        photo = next(p for p in repo.photos(session_id=session) if p.sha256 == hashes[0])
        repo.remove_photo(photo.id, "Photographed the wrong client", by=BY)
    finally:
        repo.db.close()
    second = take_backup(path, folder, now=datetime(2025, 1, 11, 9, 0))
    kept = FolderPhotoStore(folder / "photos")
    aged = time.time() - 2 * 3600
    os.utime(kept.path(hashes[0]), (aged, aged))
    first.path.unlink()  # by hand, leaving its manifest; the other's is damaged
    manifest_path(first.path).unlink()
    manifest_path(second.path).write_text("{not json", encoding="utf-8")
    take_backup(path, folder, now=datetime(2025, 1, 12, 9, 0))
    assert kept.has(hashes[0])


# --- restore refusals ----------------------------------------------------------------------

def _tamper(how: str, backup: Path, kept: FolderPhotoStore, hashes: list[str]) -> None:
    manifest_file = manifest_path(backup)
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    listed = manifest["files"]["photos"]
    if how == "changed photo":
        target = kept.path(hashes[1])
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, other bytes
        os.chmod(target, 0o600)
        target.write_bytes(bytes(data))
    elif how == "missing photo":
        kept.path(hashes[2]).unlink()
    elif how == "path in manifest":
        listed[0]["sha256"] = "../../clinic.db"
    elif how == "upper-case name":
        listed[0]["sha256"] = listed[0]["sha256"].upper()
    elif how == "photo not in records":
        listed.append({"sha256": "ab" * 32, "size": 10})
    elif how == "photo not in manifest":
        del listed[0]
    elif how == "damaged manifest":
        manifest_file.write_text('{"format": "needledesk-backup-manif', encoding="utf-8")
        return
    elif how == "manifest removed":
        manifest_file.unlink()
        return
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("how, says", [
    ("changed photo", "does not match its hash"),
    ("missing photo", "1 of its 3 photos is missing from"),
    ("path in manifest", "not a photo's name"),
    ("upper-case name", "not a photo's name"),
    ("photo not in records", r"names 1 photo that its records do not"),
    ("photo not in manifest", r"name 1 photo that its list of photos \(the manifest\) does not"),
    ("damaged manifest", "is damaged"),
    ("manifest removed", "missing from"),
])
def test_a_crafted_or_damaged_backup_is_refused_with_nothing_changed(tmp_path, how, says):
    path, session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    info = take_backup(path, folder, now=DAY)
    _add_photo(path, session, seed=9)  # the records move on after the backup
    live = photo_folder(path)
    lost = FolderPhotoStore(live).path(hashes[2])
    lost.unlink()  # and a photo is lost: a restore would have to bring it back
    if how == "manifest removed":
        FolderPhotoStore(folder / "photos").path(hashes[2]).unlink()
    _tamper(how, info.path, FolderPhotoStore(folder / "photos"), hashes)
    files_before, db_before = _files(tmp_path / "clinic.photos"), path.read_bytes()
    beside_before = sorted(p.name for p in tmp_path.iterdir())

    shown = describe(info.path, thorough=True)
    assert not shown.ok and "photo" in str(shown.problem)
    assert "None" not in str(shown.problem) and "{" not in str(shown.problem)
    with pytest.raises(DatabaseError, match=says) as caught:
        restore_and_record(info.path, path, who=BY)
    assert "Nothing was changed" in str(caught.value)
    assert path.read_bytes() == db_before
    assert _files(live) == files_before and not lost.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == beside_before  # no safety copy


def test_the_restore_list_shows_a_backup_with_a_missing_photo_as_not_sound(tmp_path):
    path, _session, hashes = _clinic(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    take_backup(path, folder, now=DAY)
    good = take_backup(path, folder, now=DAY + timedelta(days=1))
    FolderPhotoStore(folder / "photos").path(hashes[0]).unlink()
    newest, older = list_backups(folder)
    assert newest.path == good.path
    assert not newest.ok and not older.ok
    assert newest.problem == ("1 of its 3 photos is missing or damaged in "
                              f"{folder / 'photos'}")
    # Without looking for each file (the list as it first shows): the count, read quickly.
    assert [(b.photos, b.ok) for b in list_backups(folder, check=False)] == [(3, True)] * 2


# --- restores that work --------------------------------------------------------------------

def test_restore_keeps_photos_added_since_as_files_check_lists_until_tidied(tmp_path):
    path, session, hashes = _clinic(tmp_path, photos=2)
    folder = tmp_path / "backups"
    folder.mkdir()
    info = take_backup(path, folder, now=DAY)
    newer = _add_photo(path, session, seed=9)
    restored = restore_and_record(info.path, path, who=BY)
    assert restored.photos_restored == 0  # both were still in the photo folder
    live = FolderPhotoStore(photo_folder(path))
    # The safety copy names the newer photo: its file stays, an orphan of the restored file.
    assert live.has(newer)
    assert restored.safety is not None
    assert any("1 picture file(s) belong to no photo record" in p for p in _check(path))
    repo = Repository(open_database(path))
    try:
        assert repo.tidy_photo_files() == 1
    finally:
        repo.db.close()
    assert _check(path) == [] and sorted(live.hashes()) == sorted(hashes)


def test_restore_replaces_a_damaged_photo_file_with_the_backups(tmp_path):
    path, _session, hashes = _clinic(tmp_path, photos=2)
    folder = tmp_path / "backups"
    folder.mkdir()
    info = take_backup(path, folder, now=DAY)
    damaged = FolderPhotoStore(photo_folder(path)).path(hashes[1])
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert any("no longer matches its hash" in p for p in _check(path))
    assert restore_and_record(info.path, path, who=BY).photos_restored == 1
    assert digest(damaged.read_bytes()) == hashes[1] and _check(path) == []


def test_a_backup_from_before_photos_restores_and_upgrades_as_before(tmp_path):
    path, _session, hashes = _clinic(tmp_path, photos=1)
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / "needledesk-2026-01-05T0900.db"
    shutil.copy(FIXTURE, old)  # schema 1: no photos table, no manifest
    [listed] = list_backups(folder)
    assert listed.ok and listed.photos == 0 and listed.schema == 1
    restored = restore_and_record(old, path, who=BY)
    assert restored.photos_restored == 0 and restored.backup.photos == 0
    repo = Repository(open_database(path))
    try:
        assert repo.get_client("11111111-1111-4111-8111-111111111111").last_name == "López"
        assert repo.photos(client_id="11111111-1111-4111-8111-111111111111") == []
    finally:
        repo.db.close()
    # The photo of the records before it stays, for the safety copy (see above).
    assert FolderPhotoStore(photo_folder(path)).has(hashes[0])


def test_a_copy_without_a_photo_list_restores_from_the_photo_folder(tmp_path):
    """The copy taken before a schema upgrade lists no photos: restoring it finds them in
    the photo folder, and is refused (nothing changed) when one is not there."""
    path, _session, hashes = _clinic(tmp_path, photos=2)
    copy = tmp_path / "copies" / "clinic.before-schema-11.db"
    copy.parent.mkdir()
    backup_to(path, copy)
    restored = restore_and_record(copy, path, who=BY)
    assert restored.photos_restored == 0 and restored.backup.photos == 2
    assert _check(path) == []
    FolderPhotoStore(photo_folder(path)).path(hashes[0]).unlink()
    with pytest.raises(NeedleDeskError, match="1 of its 2 photos is missing"):
        restore_and_record(copy, path, who=BY)


# --- the command line ----------------------------------------------------------------------

def test_the_backup_and_restore_commands_say_how_many_photos_they_copied(tmp_path, capsys):
    from needledesk.cli import main

    path, _session, _hashes = _clinic(tmp_path)
    assert main(["--db", str(path), "backup"]) == 0
    folder = tmp_path / "backups"
    assert f"photos: 3 copied into {folder / 'photos'}, 0 already there" in \
        capsys.readouterr().out
    stick = tmp_path / "stick"
    stick.mkdir()
    assert main(["--db", str(path), "backup", "-o", str(stick / "one.db")]) == 0
    assert f"photos: 3 copied into {stick / 'photos'}" in capsys.readouterr().out
    assert main(["--db", str(path), "backup", "-o", str(stick / "two.db")]) == 0
    assert "photos: 0 copied" in capsys.readouterr().out  # the folder holds them already

    shutil.rmtree(photo_folder(path))
    assert main(["--db", str(path), "restore", str(stick / "two.db")]) == 0
    assert "photos: 3 of 3 brought back into the photo folder" in capsys.readouterr().out
    assert main(["--db", str(path), "check"]) == 0
