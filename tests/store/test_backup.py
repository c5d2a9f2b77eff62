"""Backups and restore on real files: consistent under writes, private, rotated, refusals."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from factories import make_client, make_session

from needledesk.errors import NeedleDeskError
from needledesk.store import backup
from needledesk.store import restore as store_restore
from needledesk.store.anchors import manifest_path
from needledesk.store.backup import (
    BackupError,
    backup_name,
    backup_to,
    default_backup_dir,
    describe,
    due,
    list_backups,
    rotate,
    take_backup,
)
from needledesk.store.database import DatabaseError, open_database
from needledesk.store.repository import Repository
from needledesk.store.restore import restore
from needledesk.store.schema import schema_version

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _fill(path: Path, clients: int, *, prefix: str = "Client") -> list[str]:
    """Add clients, each with one session; return their ids."""
    db = open_database(path)
    repo = Repository(db)
    ids = []
    for number in range(clients):
        client = repo.add_client(make_client(first_name=f"{prefix}{number}"), by="Jane Smith")
        repo.save_draft(make_session(client.id), by="Jane Smith")
        ids.append(client.id)
    db.close()
    return ids


def _client_ids(path: Path) -> set[str]:
    db = open_database(path)
    try:
        return {row[0] for row in db.execute("SELECT id FROM clients")}
    finally:
        db.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


# --- consistency under writes ----------------------------------------------------------

def test_backup_while_another_thread_writes_holds_every_record_committed_before(
        tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "PAGES_PER_STEP", 2)  # many steps, with writes between them
    path = tmp_path / "clinic.db"
    _fill(path, 20)
    committed: list[tuple[str, bool]] = []  # (client id, began after the copy started)
    copying, stop = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        db = open_database(path)
        repo = Repository(db)
        try:
            while not stop.is_set():
                late = copying.is_set()
                client = repo.add_client(make_client(first_name=f"Writer{len(committed)}"),
                                         by="Jane Smith")
                repo.save_draft(make_session(client.id), by="Jane Smith")
                committed.append((client.id, late))
        except BaseException as exc:
            failures.append(exc)
        finally:
            db.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        _wait_for(lambda: len(committed) >= 5)  # the writer is mid-stream
        before = [client_id for client_id, _ in committed]
        steps: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            steps.append((done, total))
            if not copying.is_set():
                copying.set()
                # The copy holds a read transaction; in WAL mode the writer goes on.
                _wait_for(lambda: sum(late for _, late in committed) >= 3)

        info = backup_to(path, tmp_path / "copy.db", on_progress=progress)
    finally:
        stop.set()
        writer.join()
    assert not failures
    assert len(steps) > 1 and steps[-1][0] == steps[-1][1]
    assert _integrity(info.path) == ["ok"]
    late = {client_id for client_id, was_late in committed if was_late}

    restored = tmp_path / "restored.db"
    assert restore(info.path, restored) is None  # nothing was there to keep
    ids = _client_ids(restored)
    assert set(before) <= ids
    assert not ids & late, "the backup is one snapshot: nothing begun after it started"
    assert info.clients == len(ids) and info.sessions >= 20
    assert _integrity(restored) == ["ok"]


def test_backup_is_one_self_contained_file(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 2)
    db = open_database(path)  # the window has it open: the backup reads beside it
    (tmp_path / "out").mkdir()
    info = backup_to(db, tmp_path / "out" / "copy.db")
    db.close()
    # The copy and its manifest (the audit trail's head, outside the file: store.anchors).
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "copy.db", "copy.db.manifest.json"]
    conn = sqlite3.connect(info.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert (info.clients, info.sessions, info.schema) == (2, 2, schema_version())
    assert info.size == info.path.stat().st_size


def test_backup_refuses_to_overwrite_the_database_itself(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 1)
    before = _digest(path)
    with pytest.raises(BackupError, match="the database itself"):
        backup_to(path, path)
    assert _digest(path) == before


# --- permissions -----------------------------------------------------------------------

@posix_only
def test_database_wal_backups_and_safety_copy_are_private_under_umask_022(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "clinic.db"
        db = open_database(path)
        Repository(db).add_client(make_client(), by="Jane Smith")
        folder = default_backup_dir(path)
        info = take_backup(path, folder)
        extra = backup_to(db, tmp_path / "extra.db")
        for name in ("clinic.db", "clinic.db-wal", "clinic.db-shm"):
            assert _mode(tmp_path / name) == 0o600, name
        db.close()
        safety = restore(info.path, path)
        db = open_database(path)
        Repository(db).add_client(make_client(first_name="After"), by="Jane Smith")
        for file in (path, tmp_path / "clinic.db-wal", tmp_path / "clinic.db-shm",
                     info.path, extra.path, safety):
            assert _mode(file) == 0o600, file.name
        db.close()
        assert _mode(folder) == 0o700
        assert _mode(manifest_path(info.path)) == 0o600
        assert sorted(folder.iterdir()) == [info.path, manifest_path(info.path)]
    finally:
        os.umask(old)


# --- rotation --------------------------------------------------------------------------

def test_rotation_keeps_7_daily_4_weekly_12_monthly_generations(tmp_path):
    path = tmp_path / "clinic.db"
    open_database(path).close()
    folder = tmp_path / "backups"
    folder.mkdir()
    others = ["notes.txt", "needledesk-2026-13-01T0000.db", "needledesk-manual.db",
              ".needledesk-2025-05-10T1200.db.abc.tmp"]
    for name in others:
        (folder / name).write_text("not ours to delete")

    months = [(2025, m) for m in range(5, 13)] + [(2026, m) for m in range(1, 10)]
    times = [datetime(year, month, day, 12, 0) for year, month in months for day in (10, 25)]
    times += [datetime(2026, 10, day, 9, 0) for day in (5, 12, 19, 26, 29)]  # Mondays, Thu
    times += [datetime(2026, 11, day, 17, 30) for day in range(1, 22)]
    times += [datetime(2026, 11, day, 9, 30) for day in range(18, 22)]
    for when in sorted(times):
        take_backup(path, folder, now=when)

    kept = sorted(p.name for p in folder.iterdir()
                  if p.name not in others and not p.name.endswith(".manifest.json"))
    # Each kept backup keeps its manifest; a rotated one's goes with it.
    assert sorted(p.name.removesuffix(".manifest.json") for p in folder.iterdir()
                  if p.name.endswith(".manifest.json")) == kept
    daily = [f"needledesk-2026-11-{day}T1730.db" for day in range(15, 22)]
    weekly = ["needledesk-2026-11-01T1730.db", "needledesk-2026-11-08T1730.db"]  # + 15, 21
    monthly = (["needledesk-2026-10-29T0900.db", "needledesk-2025-12-25T1200.db"]
               + [f"needledesk-2026-{month:02d}-25T1200.db" for month in range(1, 10)])
    assert kept == sorted(daily + weekly + monthly)
    assert sorted(p.name for p in folder.iterdir() if p.name in others) == sorted(others)
    assert rotate(folder, datetime(2026, 11, 21, 18, 0)) == []
    # A temporary file a crash left more than a day ago holds records too: it goes.
    stale = folder / others[-1]
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    assert rotate(folder, datetime(2026, 11, 21, 18, 0)) == [stale]


def test_rotation_never_removes_the_newest_and_keeps_a_future_one(tmp_path):
    path = tmp_path / "clinic.db"
    open_database(path).close()
    folder = tmp_path / "backups"
    early = take_backup(path, folder, now=datetime(2024, 1, 5, 9, 0)).path
    old = take_backup(path, folder, now=datetime(2024, 1, 5, 10, 0)).path
    assert not early.exists()  # the same day has a newer one
    assert rotate(folder, datetime(2026, 11, 21)) == []  # years old, but the newest
    # A clock that was wrong once: the file from the future is kept.
    future = take_backup(path, folder, now=datetime(2030, 1, 1, 0, 0)).path
    assert rotate(folder, datetime(2026, 11, 21)) == []
    assert sorted(folder.iterdir()) == sorted([old, future, manifest_path(old),
                                               manifest_path(future)])


def test_backup_names_sort_by_time_and_have_no_colon():
    name = backup_name(datetime(2026, 11, 21, 9, 30, 59))
    assert name == "needledesk-2026-11-21T0930.db"
    assert ":" not in name
    assert backup_name(datetime(2026, 11, 21, 10, 0)) > name > backup_name(
        datetime(2026, 2, 28, 23, 59))


# --- refusals --------------------------------------------------------------------------

def _damage(source: Path, target: Path) -> None:
    """Random bytes over whole pages in the middle of a copy."""
    data = bytearray(source.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle:middle + 3 * page] = random.Random(7).randbytes(3 * page)
    target.write_bytes(bytes(data))


def test_a_damaged_backup_is_refused_and_the_database_left_alone(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 60)
    folder = tmp_path / "backups"
    good = take_backup(path, folder, now=datetime(2026, 11, 21, 9, 30)).path
    damaged = tmp_path / "damaged.db"
    _damage(good, damaged)
    before = _digest(path)
    files = sorted(tmp_path.iterdir())

    with pytest.raises(DatabaseError, match="damaged.db: is damaged"):
        describe(damaged)
    with pytest.raises(DatabaseError, match="damaged.db: is damaged"):
        restore(damaged, path)
    assert _digest(path) == before
    assert sorted(tmp_path.iterdir()) == files  # no safety copy, no temporary file


def test_a_foreign_or_non_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 1)
    before = _digest(path)
    other = tmp_path / "songs.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE songs (title)")
    conn.commit()
    conn.close()
    text = tmp_path / "notes.db"
    text.write_text("these are not records\n" * 300)
    with pytest.raises(DatabaseError, match="songs.db: is not a NeedleDesk database"):
        restore(other, path)
    with pytest.raises(DatabaseError, match="notes.db: is damaged or not a NeedleDesk"):
        describe(text)
    with pytest.raises(DatabaseError, match="no such backup file"):
        restore(tmp_path / "missing.db", path)
    assert _digest(path) == before


def test_a_backup_from_a_newer_needledesk_is_refused(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 2)
    newer = backup_to(path, tmp_path / "newer.db").path
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {schema_version() + 1}")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('needledesk', '9999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()
    before = _digest(path)
    assert describe(newer).schema == schema_version() + 1
    with pytest.raises(DatabaseError, match="newer NeedleDesk .*Nothing was changed"):
        restore(newer, path)
    assert _digest(path) == before
    assert not list(tmp_path.glob("*before-restore*"))


# --- restore ---------------------------------------------------------------------------

def test_restore_keeps_a_safety_copy_holding_the_records_before_it(tmp_path):
    path = tmp_path / "clinic.db"
    first = _fill(path, 2)
    info = take_backup(path, tmp_path / "backups", now=datetime(2026, 11, 20, 17, 0))
    later = _fill(path, 1, prefix="Later")

    safety = restore(info.path, path, now=datetime(2026, 11, 21, 9, 30, 15))
    assert safety == tmp_path / "clinic.before-restore-20261121-093015.db"
    assert _client_ids(safety) == set(first + later)
    assert _client_ids(path) == set(first)
    assert _integrity(path) == ["ok"]


def test_restore_refuses_while_the_database_is_open(tmp_path, monkeypatch):
    monkeypatch.setattr(store_restore, "LOCK_TIMEOUT", 0.05)
    path = tmp_path / "clinic.db"
    _fill(path, 2)
    info = backup_to(path, tmp_path / "copy.db")
    db = open_database(path)
    Repository(db).add_client(make_client(first_name="Unsaved"), by="Jane Smith")
    with pytest.raises(BackupError, match="in use"):
        restore(info.path, path)
    db.close()
    assert len(_client_ids(path)) == 3
    assert not list(tmp_path.glob("*before-restore*"))


@pytest.mark.parametrize("where", ["pages", "header"])
def test_a_damaged_database_is_replaced_and_kept_as_it_was(tmp_path, where):
    path = tmp_path / "clinic.db"
    ids = _fill(path, 60)
    info = backup_to(path, tmp_path / "copy.db")
    if where == "pages":
        _damage(info.path, path)
    else:  # SQLite cannot even read the header: the bytes are kept as they are
        path.write_bytes(os.urandom(100) + info.path.read_bytes()[100:])
    damaged = path.read_bytes()

    safety = restore(info.path, path)
    # Through the backup API page by page (only the header's counters change), or bytewise.
    start = 4096 if where == "pages" else 0
    assert safety.read_bytes()[start:] == damaged[start:]
    assert _client_ids(path) == set(ids)
    assert _integrity(path) == ["ok"]


def test_an_older_backup_is_restored_and_upgraded_on_opening(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 1)
    old = tmp_path / "schema-1.db"
    shutil.copy(FIXTURE, old)
    assert describe(old).schema == 1
    restore(old, path)
    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    client = Repository(db).get_client("11111111-1111-4111-8111-111111111111")
    assert client.last_name == "López"
    db.close()


# --- failures while writing ------------------------------------------------------------

@pytest.mark.parametrize("failure", ["read-only folder", "fsync", "replace"])
def test_a_full_disk_or_read_only_folder_is_a_clear_error_leaving_nothing(
        tmp_path, monkeypatch, failure):
    path = tmp_path / "clinic.db"
    ids = _fill(path, 3)
    folder = tmp_path / "usb"
    folder.mkdir()
    before = _digest(path)
    if failure == "read-only folder":
        if os.name != "posix":
            pytest.skip("POSIX permissions")
        if os.geteuid() == 0:  # root ignores permissions: refuse the way the folder would
            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", refuse)
        os.chmod(folder, 0o500)
        reason = "read-only"
    else:
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, failure, full)
        reason = "the disk is full"
    try:
        with pytest.raises(NeedleDeskError) as caught:
            take_backup(path, folder, now=datetime(2026, 11, 21, 9, 30))
    finally:
        monkeypatch.undo()
        os.chmod(folder, 0o700)
    message = str(caught.value)
    assert str(folder) in message and reason in message
    assert list(folder.iterdir()) == []  # not even a hidden temporary file
    assert _digest(path) == before
    assert _client_ids(path) == set(ids)


def test_a_restore_that_cannot_be_written_changes_no_record(tmp_path, monkeypatch):
    path = tmp_path / "clinic.db"
    ids = _fill(path, 2)
    info = backup_to(path, tmp_path / "copy.db")
    _fill(path, 1, prefix="Later")
    files = set(tmp_path.iterdir())
    replace = os.replace

    def full_at_the_last_step(source, target):
        if Path(target) == path:
            raise OSError(errno.ENOSPC, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(os, "replace", full_at_the_last_step)
    with pytest.raises(BackupError, match="the disk is full"):
        restore(info.path, path)
    monkeypatch.undo()
    new = set(tmp_path.iterdir()) - files
    assert [p.name.startswith("clinic.before-restore-") for p in new] == [True]
    assert len(_client_ids(path)) == 3 and set(ids) < _client_ids(path)


def test_a_missing_usb_stick_is_not_created_as_a_folder(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 1)
    stick = tmp_path / "media" / "usb" / "backups"
    with pytest.raises(BackupError, match="USB stick"):
        take_backup(path, stick)
    assert not (tmp_path / "media").exists()


# --- the restore list ------------------------------------------------------------------

def test_list_backups_shows_dates_and_counts_and_due_says_when_one_is_wanted(tmp_path):
    path = tmp_path / "clinic.db"
    _fill(path, 2)
    folder = tmp_path / "backups"
    assert due(folder, datetime(2026, 11, 20, 8, 0))
    take_backup(path, folder, now=datetime(2026, 11, 20, 9, 30))
    db = open_database(path)
    repo = Repository(db)
    repo.add_client(make_client(first_name="Third"), by="Jane Smith")
    db.close()
    take_backup(path, folder, now=datetime(2026, 11, 21, 9, 30))
    (folder / "needledesk-2026-11-19T0930.db").write_bytes(os.urandom(8192))
    (folder / "notes.txt").write_text("not a backup")

    found = list_backups(folder)
    assert [(b.taken_at, b.clients, b.sessions, b.ok) for b in found] == [
        (datetime(2026, 11, 21, 9, 30), 3, 2, True),
        (datetime(2026, 11, 20, 9, 30), 2, 2, True),
        (datetime(2026, 11, 19, 9, 30), 0, 0, False),
    ]
    assert found[0].schema == schema_version()
    assert found[0].size == found[0].path.stat().st_size
    assert "needledesk-2026-11-19T0930.db" in found[2].problem
    assert list_backups(tmp_path / "nowhere") == []
    assert [b.clients for b in list_backups(folder, check=False)] == [3, 2, 0]

    assert not due(folder, datetime(2026, 11, 21, 18, 0))
    assert due(folder, datetime(2026, 11, 22, 8, 0))
    assert due(folder, datetime(2026, 11, 18, 8, 0))
