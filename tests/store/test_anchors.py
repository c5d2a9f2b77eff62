"""Tamper evidence outside the file: the anchor file, backup manifests, restore epochs, the
database id, and the expected schema objects."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from engines import on_server, pick, tamper
from factories import make_client
from sqlite_utils import Database

from needledesk.store import anchors, seals
from needledesk.store.anchors import (
    ANCHOR_ENV,
    GENESIS,
    anchor_file,
    database_id,
    manifest_path,
    read_anchors,
)
from needledesk.store.audit import chain_hash
from needledesk.store.backup import backup_to, take_backup
from needledesk.store.check import check_database, check_file
from needledesk.store.database import open_database, open_readonly
from needledesk.store.expected_schema import expected_objects, schema_problems
from needledesk.store.repository import Repository
from needledesk.store.restore import restore
from needledesk.store.schema import MIGRATION_SET, STEP_NAMES, STEPS, schema_version
from needledesk.store.server_check import schema_problems as server_schema_problems

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture(autouse=True)
def _anchors(tmp_path, monkeypatch):
    monkeypatch.setenv(ANCHOR_ENV, str(tmp_path / "anchors"))


def _lines(repo):
    path = anchor_file(database_id(repo.db))
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check(path):
    db = open_readonly(path)
    try:
        return check_database(db)
    finally:
        db.close()


def test_a_new_database_has_an_id_recorded_in_its_trail(repo):
    made = database_id(repo.db)
    assert len(made) == 36
    assert repo.audit.database_id() == made
    assert repo.db.execute("SELECT key, value FROM meta").fetchall() == [("database_id", made)]


@posix_only
def test_each_write_appends_the_trails_head_to_a_private_anchor_file(repo, tmp_path):
    repo.add_client(make_client(), by="Jane Smith")
    repo.add_client(make_client(first_name="Bea"), by="Jane Smith")
    path = anchor_file(database_id(repo.db))
    assert path.parent == tmp_path / "anchors"
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    lines = _lines(repo)
    assert [line["kind"] for line in lines] == ["baseline", "pending", "write", "pending",
                                                 "write"]
    seq, head = repo.audit.head()
    assert (lines[-1]["from"], lines[-1]["seq"], lines[-1]["hash"]) == (seq, seq, head)
    # The server's address is kept as it is (no password in it); a file by its real path.
    assert lines[-1]["path"] == pick(repo, sqlite=os.path.realpath(repo.path),
                                     postgresql=repo.path)


def test_an_explicit_folder_overrides_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ANCHOR_ENV)
    from needledesk.paths import data_dir

    assert anchors.anchor_dir() == data_dir() / "anchors"
    assert anchors.anchor_dir(tmp_path / "x") == tmp_path / "x"


def test_a_write_that_fails_leaves_no_write_anchor(repo):
    repo.add_client(make_client(), by="Jane Smith")
    before = _lines(repo)
    with pytest.raises(Exception, match="UNIQUE|unique constraint"):
        repo.add_client(make_client(id=repo.search_clients()[0].id), by="Jane Smith")
    assert _lines(repo) == before
    assert check_database(repo.db) == []


@pytest.mark.sqlite_only   # a backup and restore of the FILE
def test_a_backup_has_a_manifest_with_the_chain_head(repo, db_path, tmp_path):
    repo.add_client(make_client(), by="Jane Smith")
    info = take_backup(db_path, tmp_path / "backups")
    manifest = json.loads(manifest_path(info.path).read_text())
    seq, head = repo.audit.head()
    assert manifest["format"] == "needledesk-backup-manifest" and manifest["version"] == 1
    assert manifest["database_id"] == database_id(repo.db)
    assert manifest["audit"] == {"seq": seq, "hash": head}
    assert manifest["schema"] == schema_version() and manifest["epoch"] is None
    assert manifest["files"]["database"] == {
        "name": info.path.name, "size": info.path.stat().st_size,
        "sha256": hashlib.sha256(info.path.read_bytes()).hexdigest()}


@pytest.mark.sqlite_only   # a backup and restore of the FILE
def test_a_backup_checked_where_it_lies_is_not_a_rewind(repo, db_path, tmp_path):
    info = take_backup(db_path, tmp_path / "backups")
    repo.add_client(make_client(), by="Jane Smith")
    assert _check(info.path) == []


@pytest.mark.sqlite_only   # a backup and restore of the FILE
def test_a_restore_starts_an_epoch_so_the_rewind_is_not_tampering(repo, db_path, tmp_path):
    repo.add_client(make_client(), by="Jane Smith")
    info = backup_to(db_path, tmp_path / "older.db")
    repo.add_client(make_client(first_name="Later"), by="Jane Smith")
    repo.db.close()
    restore(info.path, db_path)
    assert _check(db_path) != []  # a rewind nobody recorded reads as tampering
    epoch = anchors.record_restore_epoch(db_path, backup=info.path)
    assert epoch and _check(db_path) == []
    after = Repository(open_database(db_path))
    try:
        after.add_client(make_client(first_name="After the restore"), by="Jane Smith")
        assert check_database(after.db) == []
        assert anchors.current_epoch(database_id(after.db)) == epoch
    finally:
        after.db.close()


@pytest.mark.sqlite_only   # a backup and restore of the FILE
def test_record_restore_writes_the_epoch_itself(repo, db_path, tmp_path):
    """The restore's own audit row (Repository.record_restore) starts the epoch too, so a
    restore that records itself is never reported, whichever code path ran it."""
    repo.add_client(make_client(), by="Jane Smith")
    info = backup_to(db_path, tmp_path / "older.db")
    repo.add_client(make_client(first_name="Later"), by="Jane Smith")
    repo.db.close()
    restore(info.path, db_path)
    again = Repository(open_database(db_path))
    try:
        again.record_restore(str(info.path), None, by="Jane Smith")
        assert check_database(again.db) == []
        assert [line["kind"] for line in _lines(again)][-3:] == ["epoch", "pending", "write"]
    finally:
        again.db.close()


def test_a_damaged_anchor_line_is_a_warning_not_damage(repo, db_path):
    repo.add_client(make_client(), by="Jane Smith")
    with open(anchor_file(database_id(repo.db)), "a") as f:
        f.write("{not json\n")
    report = check_file(repo.db)
    assert report.problems == []
    assert report.warnings == [f"anchors: line 4 of {anchor_file(database_id(repo.db))} is "
                               "damaged and was skipped"]


def test_rooms_on_one_server_each_anchor_the_rows_they_wrote(server_url, tmp_path,
                                                             monkeypatch):
    """Several rooms write one trail on the clinic server, each noting its own rows in its
    own anchor file: neither calls the other's rows added outside NeedleDesk, and each still
    finds the trail rewritten behind its back."""
    from engines import raw

    from needledesk.store.server import open_server

    folders = {room: tmp_path / room for room in ("reception", "room2")}
    monkeypatch.setenv(ANCHOR_ENV, str(folders["reception"]))
    reception = Repository(open_server(server_url))   # makes the trail: its baseline
    monkeypatch.setenv(ANCHOR_ENV, str(folders["room2"]))
    room2 = Repository(open_server(server_url))
    try:
        for room, repo, name in (("reception", reception, "Ana"), ("room2", room2, "Bea"),
                                 ("reception", reception, "Cai"), ("room2", room2, "Dan")):
            monkeypatch.setenv(ANCHOR_ENV, str(folders[room]))
            repo.add_client(make_client(first_name=name, phone=None), by=room)
        kinds = {room: [line["kind"] for line in read_anchors(database_id(reception.db),
                                                              folders[room])[0]]
                 for room in folders}
        assert kinds == {"reception": ["baseline", "pending", "write", "pending", "write"],
                         "room2": ["pending", "write", "pending", "write"]}
        for folder in folders.values():
            assert check_file(reception.db, anchor_folder=folder).problems == []

        # The second room's client edited and the trail recomputed from its start.
        bea = next(c.id for c in reception.search_clients() if c.first_name == "Bea")
        with raw(reception) as conn, conn.audit_unguarded():
            conn.execute("UPDATE clients SET notes = 'forged' WHERE id = ?", [bea])
            rows = [dict(zip(("seq", "at", "who", "action", "kind", "record_id", "before",
                              "after", "content_hash", "prev_hash", "hash"), r, strict=True))
                    for r in conn.execute("SELECT seq, at, who, action, kind, record_id, "
                                          "before, after, content_hash, prev_hash, hash "
                                          "FROM audit ORDER BY seq")]
            conn.execute("DELETE FROM audit")
            prev = GENESIS
            for row in rows:
                if row["record_id"] == bea:
                    row["content_hash"] = seals.record_hash(conn.db, "client", bea)
                row["prev_hash"], row["hash"] = prev, chain_hash(prev, row)
                prev = row["hash"]
                conn.execute("INSERT INTO audit VALUES (:seq, :at, :who, :action, :kind, "
                             ":record_id, :before, :after, :content_hash, :prev_hash, :hash)",
                             row)
        for folder in folders.values():
            (problem,) = check_file(reception.db, anchor_folder=folder).problems
            assert problem.startswith("audit: row #") and "the anchor file recorded" in problem
            assert "the trail was rewritten behind NeedleDesk's back" in problem
    finally:
        reception.db.close()
        room2.db.close()


def test_upgrading_the_first_schema_gives_an_id_and_a_baseline_anchor(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    repo = Repository(open_database(path))
    try:
        (line,) = _lines(repo)
        assert line["kind"] == "baseline" and (line["seq"], line["hash"]) == repo.audit.head()
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


def test_a_file_of_an_older_schema_is_checked_against_its_own_schema(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    assert _check(path) == []  # schema 1, read-only: nothing migrated


# --- expected schema -----------------------------------------------------------------------

def test_a_fresh_file_has_exactly_the_expected_objects(repo):
    if on_server(repo):
        assert server_schema_problems(repo.db) == []
        tamper(repo, "CREATE TABLE extra (x TEXT)")
        assert server_schema_problems(repo.db) == [
            "schema: the table or view extra is not part of NeedleDesk's schema; it was added "
            "behind NeedleDesk's back"]
        return
    assert schema_problems(repo.db) == []
    names = {name for _, name in expected_objects(schema_version())}
    assert {"clients", "audit", "audit_refuses_update", "audit_refuses_delete", "meta",
            "clients_by_search_key"} <= names


@pytest.mark.sqlite_only   # SQLite keeps each object's SQL text; the server's catalogue is read
def test_the_schema_comparison_folds_layout_but_not_quoted_text(repo):
    """One comparison for check and restore (issue 12): an object re-indented is the same
    object; one whose quoted text differs, even by a space, is not."""
    conn = repo.db.conn
    conn.execute("DROP TRIGGER audit_refuses_update")
    conn.execute("CREATE TRIGGER audit_refuses_update   BEFORE UPDATE ON audit\n"
                 "  BEGIN\n    SELECT RAISE(ABORT, 'the audit trail cannot be changed');\n"
                 "  END")
    conn.commit()
    assert schema_problems(repo.db) == []
    conn.execute("DROP TRIGGER audit_refuses_update")
    conn.execute("CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit BEGIN "
                 "SELECT RAISE(ABORT, 'the audit  trail cannot be changed'); END")
    conn.commit()
    assert schema_problems(repo.db) == [
        f"schema: the trigger audit_refuses_update differs from NeedleDesk's schema "
        f"{schema_version()}; it was changed behind NeedleDesk's back"]


@pytest.mark.parametrize("version", range(1, len(STEPS) + 1))
def test_each_schema_version_matches_its_own_expected_set(tmp_path, version):
    conn = sqlite3.connect(tmp_path / f"v{version}.db")
    try:
        db = Database(conn, execute_plugins=False)
        for run in STEPS[:version]:
            with db.atomic():
                run(db)
        # The record of applied steps (sqlite-utils' table), as `migrations.apply` keeps it.
        conn.execute("CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, "
                     "migration_set TEXT, name TEXT, applied_at TEXT)")
        for name in STEP_NAMES[:version]:
            conn.execute("INSERT INTO _sqlite_migrations (migration_set, name) VALUES (?, ?)",
                         [MIGRATION_SET, name])
        conn.commit()
        assert schema_problems(conn) == []
        conn.execute("CREATE INDEX extra ON clients(phone)")
        assert schema_problems(conn) == [
            f"schema: the index extra is not part of NeedleDesk's schema {version}; it was "
            "added behind NeedleDesk's back"]
    finally:
        conn.close()


def test_the_record_of_applied_steps_is_checked(repo, db_path):
    if on_server(repo):
        tamper(repo, "DELETE FROM needledesk_migrations WHERE name = '0010_rights'")
        assert check_database(repo.db) == [
            "schema: the record of applied steps (1) does not match this NeedleDesk's server "
            "schema; it was changed behind NeedleDesk's back, or the server needs "
            "`needledesk server init`"]
        return
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name LIKE '0002%'")
    conn.commit()
    conn.close()
    problems = _check(db_path)
    assert problems == [f"schema: the record of applied steps ({schema_version() - 1}) does "
                        f"not match schema {schema_version()}; it was changed behind "
                        "NeedleDesk's back"]
