"""Opening the file: private permissions, WAL, migrations with a copy first, refusals."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from needledesk.store.database import DatabaseError, open_database
from needledesk.store.repository import Repository
from needledesk.store.schema import APPLICATION_ID, STEP_NAMES, schema_version

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_and_companions_are_private_whatever_the_umask(tmp_path):
    path = tmp_path / "clinic.db"
    old = os.umask(0o022)
    try:
        db = open_database(path)
        db.execute("CREATE TABLE scratch (x)")  # forces the WAL file into being
        for name in ("clinic.db", "clinic.db-wal", "clinic.db-shm"):
            assert (tmp_path / name).exists(), name
            assert _mode(tmp_path / name) == 0o600, name
        db.close()
    finally:
        os.umask(old)


def test_fresh_database_settings(db_path):
    db = open_database(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    applied = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert applied == STEP_NAMES


def test_reopening_runs_no_migration_and_makes_no_copy(db_path):
    open_database(db_path).close()
    open_database(db_path).close()
    assert not list(db_path.parent.glob("*before-schema*"))


def test_first_released_schema_upgrades_with_records_intact(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    before = _digest(path)
    db = open_database(path)
    repo = Repository(db)

    assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    client = repo.get_client("11111111-1111-4111-8111-111111111111")
    assert (client.first_name, client.last_name) == ("Ana", "López")
    assert [c.concern for c in repo.courses(client.id)] == ["acne scars"]
    assert repo.screenings(client.id)[0].consent_signed
    signed, draft = repo.sessions(client.id)
    assert signed.is_signed and not draft.is_signed
    assert signed.device.cartridge_lot == "L2311B"
    assert signed.amendments[0].changes == {"device.cartridge_lot": ["L2311A", "L2311B"]}
    assert [a.depth_mm for a in signed.areas] == [1.5, 0.5]
    assert repo.search_clients("lopez")[0].id == client.id
    # the second step's index is there and used
    plan = " ".join(str(r) for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE client_id = ? ORDER BY started_at",
        [client.id]))
    assert "sessions_by_client" in plan

    copies = list(tmp_path.glob("old.before-schema-*.db"))
    assert len(copies) == 1, "a copy is taken before migrating"
    assert _mode(copies[0]) == 0o600
    copy = sqlite3.connect(copies[0])
    assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
    assert copy.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
    copy.close()
    assert before != _digest(path)


def _claim_newer(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 1}")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('needledesk', '9999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "newer.db"
    shutil.copy(FIXTURE, path)
    _claim_newer(path)
    before = _digest(path)
    with pytest.raises(DatabaseError, match="newer NeedleDesk"):
        open_database(path)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer.db"]


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE songs (title)")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(DatabaseError, match="another program"):
        open_database(path)
    assert _digest(path) == before


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not records\n" * 100)
    with pytest.raises(DatabaseError, match="notes.db"):
        open_database(path)
    assert path.read_text().startswith("these are not records")


def test_the_client_list_reads_in_index_order(db_path):
    db = open_database(db_path)
    plan = " ".join(str(r) for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM clients WHERE search_key LIKE ? "
        "ORDER BY search_key, id LIMIT 200 OFFSET 400",
        ["% ana%"]))
    assert "clients_by_search_key" in plan and "TEMP B-TREE" not in plan
