"""Restore checks a backup in full, in a copy beside the database, before it replaces it.

Issue 11, finding 3: a crafted file (NeedleDesk's application id, tables missing, an extra
trigger, a broken audit chain...) must be refused with the database left byte for byte as it
was, and a message that says so only when it is true. Real files on disk throughout, through
the command line and through the store function.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_client, make_session

from needledesk.cli import main
from needledesk.domain.model import TreatedArea
from needledesk.errors import NeedleDeskError
from needledesk.store import backup
from needledesk.store.backup import backup_to
from needledesk.store.check import check_database
from needledesk.store.database import open_database, open_readonly
from needledesk.store.expected_schema import schema_problems
from needledesk.store.repository import Repository
from needledesk.store.restore import restore, restore_and_record
from needledesk.store.schema import STEP_NAMES, schema_version

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "fixtures" / "schema-1.db"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")


# --- the clinic's file and its state ---------------------------------------------------

def _clinic(path: Path, clients: int = 30) -> None:
    """A database with clients, sessions (one signed) and an audit trail."""
    repo = Repository(open_database(path))
    for number in range(clients):
        client = repo.add_client(make_client(first_name=f"Client{number}"), by="Jane Smith")
        session = repo.save_draft(make_session(client.id), by="Jane Smith")
        if number == 0:
            repo.sign_session(session.id, by="Jane Smith")
    repo.db.close()


def _crash_leaving_a_wal(path: Path) -> None:
    """A writer that dies after committing: its write is only in the -wal (a hot journal)."""
    code = (f"import os, sys; sys.path.insert(0, {str(TESTS)!r})\n"
            "from factories import make_client\n"
            "from needledesk.store.database import open_database\n"
            "from needledesk.store.repository import Repository\n"
            f"Repository(open_database({str(path)!r})).add_client("
            "make_client(first_name='InTheWal'), by='Jane Smith')\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def _state(path: Path) -> dict[str, str]:
    """The database file and its -wal, byte for byte (a hash of each that exists)."""
    found = {}
    for name in (path.name, path.name + "-wal"):
        file = path.with_name(name)
        if file.exists():
            found[name] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.endswith(".lock")}


def _first_names(path: Path) -> set[str]:
    db = open_readonly(path)
    try:
        return {row[0] for row in db.execute("SELECT first_name FROM clients")}
    finally:
        db.close()


@pytest.fixture
def clinic(tmp_path) -> tuple[Path, Path]:
    """(the live database, holding a hot WAL; a good backup of it taken before)."""
    path = tmp_path / "clinic.db"
    _clinic(path)
    good = backup_to(path, tmp_path / "good.db").path
    _crash_leaving_a_wal(path)
    assert path.with_name("clinic.db-wal").stat().st_size > 0
    return path, good


# --- crafted backups -------------------------------------------------------------------

def _edit(good: Path, target: Path, *statements: str) -> Path:
    shutil.copy(good, target)
    conn = sqlite3.connect(target, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return target


SHALLOW = ("CREATE TRIGGER shallow AFTER INSERT ON treated_areas BEGIN "
           "UPDATE treated_areas SET depth_mm = 0.2 WHERE rowid = NEW.rowid; END")


def _missing_tables(good: Path, target: Path) -> Path:
    return _edit(good, target, "DROP TABLE reactions", "DROP TABLE acknowledged_warnings")


def _no_audit(good: Path, target: Path) -> Path:
    return _edit(good, target, "DROP TABLE audit")


def _extra_trigger(good: Path, target: Path) -> Path:
    return _edit(good, target, SHALLOW)


def _extra_view(good: Path, target: Path) -> Path:
    return _edit(good, target, "CREATE VIEW everyone AS SELECT * FROM clients")


def _extra_index(good: Path, target: Path) -> Path:
    return _edit(good, target, "CREATE INDEX sessions_by_notes ON sessions(notes)")


def _extra_table(good: Path, target: Path) -> Path:
    return _edit(good, target, "CREATE TABLE outbox (payload TEXT)")


def _extra_column(good: Path, target: Path) -> Path:
    return _edit(good, target, "ALTER TABLE sessions ADD COLUMN hidden TEXT")


def _newer(good: Path, target: Path) -> Path:
    return _edit(good, target, f"PRAGMA user_version = {schema_version() + 1}",
                 "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('needledesk', '9999_from_the_future', '2030-01-01')")


def _not_sqlite(good: Path, target: Path) -> Path:
    target.write_text("these are not records\n" * 300)
    return target


def _truncated(good: Path, target: Path) -> Path:
    data = good.read_bytes()
    target.write_bytes(data[:len(data) // 2])
    return target


def _broken_chain(good: Path, target: Path) -> Path:
    conn = sqlite3.connect(good)
    triggers = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")]
    conn.close()
    assert len(triggers) == 2
    return _edit(good, target, "DROP TRIGGER audit_refuses_update",
                 "DROP TRIGGER audit_refuses_delete",
                 "UPDATE audit SET who = 'Someone Else' WHERE seq = 2", *triggers)


def _orphan_rows(good: Path, target: Path) -> Path:
    return _edit(good, target, "INSERT INTO treated_areas (session_id, position, area, "
                 "depth_mm, notes) VALUES ('no-such-session', 0, 'cheeks', 0.2, '')")


CRAFTED = {
    # name: (how it is made, a word the refusal must name)
    "missing tables": (_missing_tables, "reactions"),
    "no audit table": (_no_audit, "audit"),
    "extra trigger": (_extra_trigger, "shallow"),
    "extra view": (_extra_view, "everyone"),
    "extra index": (_extra_index, "sessions_by_notes"),
    "extra table": (_extra_table, "outbox"),
    "extra column": (_extra_column, "sessions"),
    "newer schema": (_newer, "newer NeedleDesk"),
    "not SQLite": (_not_sqlite, "not a NeedleDesk database"),
    "truncated": (_truncated, "damaged"),
    "broken audit chain": (_broken_chain, "audit"),
    "orphan rows": (_orphan_rows, "treated_areas"),
}


def _depth_saved_now(path: Path) -> float:
    """Save a new session with a 1.5 mm area through the repository; read its depth back."""
    repo = Repository(open_database(path))
    try:
        client = repo.add_client(make_client(first_name="After"), by="Jane Smith")
        session = repo.save_draft(make_session(client.id, areas=[
            TreatedArea("cheeks", 1.5, 3, "pinpoint bleeding")]), by="Jane Smith")
        return repo.get_session(session.id).areas[0].depth_mm
    finally:
        repo.db.close()


@pytest.mark.parametrize("how", ["command line", "store"])
@pytest.mark.parametrize("kind", list(CRAFTED))
def test_a_crafted_backup_is_refused_and_the_database_left_byte_identical(
        clinic, tmp_path, capsys, kind, how):
    path, good = clinic
    make, named = CRAFTED[kind]
    candidate = make(good, tmp_path / "candidate.db")
    before, files = _state(path), _files(tmp_path)
    assert "clinic.db-wal" in before

    if how == "command line":
        assert main(["--db", str(path), "restore", str(candidate)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        message = captured.err
        assert message.count("\n") == 1 and message.startswith("needledesk: "), message
    else:
        with pytest.raises(NeedleDeskError) as caught:
            restore_and_record(candidate, path, who="Jane Smith")
        message = str(caught.value)
    assert _state(path) == before, "the database and its -wal are byte for byte as they were"
    assert _files(tmp_path) == files, "no safety copy, no temporary file left"
    assert "nothing was changed" in message.lower(), message
    assert named in message, message
    assert str(candidate) in message, message
    assert "Traceback" not in message and "sqlite3." not in message
    # The database still works as itself: the write in the -wal is there, and a depth saved
    # now is the depth given (the crafted trigger never reached this file).
    assert {"Client0", "InTheWal"} <= _first_names(path)
    assert _depth_saved_now(path) == 1.5


def test_the_plain_restore_function_refuses_the_same_way(clinic, tmp_path):
    path, good = clinic
    candidate = _extra_trigger(good, tmp_path / "candidate.db")
    before = _state(path)
    with pytest.raises(NeedleDeskError, match="shallow.*Nothing was changed"):
        restore(candidate, path)
    assert _state(path) == before


def test_a_failure_after_the_file_was_replaced_says_so_and_where_the_safety_copy_is(
        clinic, tmp_path, capsys, monkeypatch):
    path, good = clinic

    def fail(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Repository, "record_restore", fail)
    assert main(["--db", str(path), "restore", str(good)]) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1, message
    assert "nothing was changed" not in message.lower(), message
    (safety,) = tmp_path.glob("clinic.before-restore-*.db")
    assert f"{good} was restored into {path}" in message, message
    assert "disk I/O error" in message and "audit trail" in message, message
    assert f"kept in {safety}" in message, message
    assert "InTheWal" not in _first_names(path) and "InTheWal" in _first_names(safety)


# --- what a good restore does ----------------------------------------------------------

def _safety_in(out: str) -> Path:
    found = re.search(r"kept in (\S+\.db)", out)
    assert found, out
    return Path(found.group(1))


@posix_only
def test_an_older_good_backup_is_upgraded_in_the_copy_and_restored(clinic, tmp_path, capsys):
    path, _ = clinic
    old = tmp_path / "schema-1.db"
    shutil.copy(FIXTURE, old)
    before = _files(tmp_path)

    assert main(["--db", str(path), "restore", str(old)]) == 0
    out = capsys.readouterr().out
    safety = _safety_in(out)
    assert safety.parent == tmp_path and safety.exists()
    assert stat.S_IMODE(safety.stat().st_mode) == 0o600
    assert {"Client0", "InTheWal"} <= _first_names(safety), "the records as they were"
    # Upgraded before it was put in place: no pre-upgrade copy of the backup appears beside
    # the database, and the file is this program's schema already.
    assert _files(tmp_path) - before == {safety.name}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations "
                                       "ORDER BY id")] == STEP_NAMES
    assert conn.execute("SELECT action FROM audit ORDER BY seq DESC").fetchone()[0] == "restore"
    conn.close()
    assert _first_names(path) == {"Ana"}
    assert main(["--db", str(path), "check"]) == 0


def test_an_older_backup_upgraded_in_the_copy_is_anchored_at_the_real_database(
        clinic, tmp_path, monkeypatch):
    """The anchors kept outside the file name the database restored into, never the hidden
    copy the older backup was upgraded in (checked for issue 12: it already held)."""
    monkeypatch.setenv("NEEDLEDESK_ANCHORS", str(tmp_path / "anchors"))
    path, _ = clinic
    old = tmp_path / "schema-1.db"
    shutil.copy(FIXTURE, old)
    restore_and_record(old, path, who="Jane Smith")
    entries = [json.loads(line) for file in (tmp_path / "anchors").iterdir()
               for line in file.read_text(encoding="utf-8").splitlines()]
    assert entries and {e["kind"] for e in entries} >= {"epoch", "write"}
    assert {e["path"] for e in entries} == {os.path.realpath(path)}
    db = open_readonly(path)
    try:
        assert check_database(db) == []
    finally:
        db.close()


def test_a_good_backup_restores_with_the_safety_copy_printed(clinic, tmp_path, capsys):
    path, good = clinic
    assert main(["--db", str(path), "restore", str(good)]) == 0
    out = capsys.readouterr().out
    safety = _safety_in(out)
    assert safety.exists() and "InTheWal" in _first_names(safety)
    assert "InTheWal" not in _first_names(path) and "Client29" in _first_names(path)
    assert _depth_saved_now(path) == 1.5
    assert check_database(open_readonly(path)) == []
    assert schema_problems(sqlite3.connect(path)) == []


@posix_only
def test_a_symlinked_database_is_restored_through_the_link(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    real = data / "clinic.db"
    _clinic(real, clients=2)
    good = backup_to(real, tmp_path / "good.db").path
    repo = Repository(open_database(real))
    repo.add_client(make_client(first_name="Later"), by="Jane Smith")
    repo.db.close()
    link = tmp_path / "clinic-link.db"
    link.symlink_to(real)

    assert main(["--db", str(link), "restore", str(good)]) == 0
    safety = _safety_in(capsys.readouterr().out)
    assert link.is_symlink() and os.readlink(link) == str(real), "the link stays a link"
    assert real.is_file() and not real.is_symlink()
    assert "Later" not in _first_names(real) and "Client1" in _first_names(real)
    assert safety.parent == data and "Later" in _first_names(safety)
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


# --- the schema comparison -------------------------------------------------------------

def test_foreign_schema_objects_names_each_difference(tmp_path):
    path = tmp_path / "clinic.db"
    _clinic(path, clients=1)
    conn = sqlite3.connect(path)
    assert schema_problems(conn) == []
    conn.execute(SHALLOW)
    conn.execute("DROP INDEX clients_by_name")
    conn.execute("ALTER TABLE clients ADD COLUMN extra TEXT")
    problems = schema_problems(conn)
    conn.close()
    assert len(problems) == 3, problems
    assert any("trigger" in p and "shallow" in p for p in problems)
    assert any("clients_by_name" in p and "missing" in p for p in problems)
    assert any("clients" in p and "differs" in p for p in problems)


def test_an_older_file_is_compared_with_that_version_of_the_schema():
    conn = sqlite3.connect(FIXTURE.as_uri() + "?mode=ro", uri=True)
    try:
        assert schema_problems(conn, version=1) == []
        assert any("settings" in p for p in schema_problems(conn, schema_version()))
    finally:
        conn.close()


def test_a_restore_copy_left_by_a_crash_is_swept_after_a_day(clinic, tmp_path, capsys):
    path, good = clinic
    stale = tmp_path / ".clinic.db.restore.k3j9x.tmp"
    fresh = tmp_path / ".clinic.db.restore.a8b7c.tmp"
    for leftover in (stale, fresh):
        leftover.write_bytes(good.read_bytes())
    day_and_more = stale.stat().st_mtime - backup.STALE_TEMP_SECONDS - 60
    os.utime(stale, (day_and_more, day_and_more))
    assert main(["--db", str(path), "restore", str(good)]) == 0
    assert not stale.exists(), "a day-old copy holds records nobody will use"
    assert fresh.exists(), "one that young may be another restore under way"
