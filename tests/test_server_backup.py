"""Backups of the clinic server with the real pg_dump, and restores checked in a scratch
database before anything is replaced (server only: the file's own are tests/store)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from needledesk.store import anchors
from needledesk.store import server_backup as sb
from needledesk.store.check import check_file
from needledesk.store.identity import DatabaseError
from needledesk.store.repository import Repository
from needledesk.store.server import open_server
from tests.factories import make_client, make_session

PG_BIN = "/usr/lib/postgresql/15/bin"
BY = "Jane Smith"


@pytest.fixture
def tools():
    found = sb.find_pg_tools(150000, search_path=PG_BIN, places=())
    assert isinstance(found, sb.PgTools), found
    return found


@pytest.fixture
def clinic(server_url):
    repo = Repository(open_server(server_url))
    ana = repo.add_client(make_client(), by=BY)
    repo.save_draft(make_session(ana.id), by=BY)
    repo.add_client(make_client(first_name="Bea", last_name="Ng"), by=BY)
    yield repo
    repo.db.close()


def _admin(repo):
    return psycopg.connect(**replace(repo.db.address, database="postgres").conninfo(),
                           autocommit=True)


def _scratch_databases(repo) -> list[str]:
    with _admin(repo) as admin:
        return [r[0] for r in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'needledesk\\_restore\\_%'")]


def _state(repo) -> tuple:
    """What must not change when a restore is refused: names, the trail's head."""
    names = sorted(c.full_name for c in repo.search_clients())
    return names, repo.audit.head(), repo.count_clients()


def _sound(repo) -> list[str]:
    return check_file(repo.db, db_path=repo.path).problems


def test_backup_then_restore_brings_back_the_records_and_the_trail_goes_on(
        clinic, tools, tmp_path):
    folder = tmp_path / "server-backups"
    folder.mkdir()
    moved: list[tuple[int, int]] = []
    info = sb.backup_server(clinic.db, folder, tools=tools,
                            on_progress=lambda d, t: moved.append((d, t)))
    # Named, private, whole, with its manifest; nothing temporary left.
    assert info.path.parent == folder and sb._NAME.fullmatch(info.path.name)
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [info.path.name, info.path.name + ".manifest.json"])
    manifest = json.loads(anchors.manifest_path(info.path).read_text())
    assert manifest["files"]["database"]["sha256"] == anchors.file_sha256(info.path)
    assert manifest["database_id"] == anchors.database_id(clinic.db)
    assert (manifest["audit"]["seq"], manifest["audit"]["hash"]) == tuple(clinic.audit.head())
    assert manifest["counts"]["clients"] == 2 and manifest["counts"]["sessions"] == 1
    assert manifest["pg_dump"].startswith("15.")
    assert (info.clients, info.sessions) == (2, 1)
    assert moved and moved[-1][0] == moved[-1][1]
    subprocess.run([str(tools.pg_restore), "--list", str(info.path)], check=True,
                   capture_output=True)
    before = _state(clinic)
    backed_up_head = clinic.audit.head()

    # Changes after the backup: a client added, one renamed.
    clinic.add_client(make_client(first_name="Cleo"), by=BY)
    bea = next(c for c in clinic.search_clients() if c.full_name.startswith("Bea"))
    changed = replace(clinic.get_client(bea.id), first_name="Beatrix")
    clinic.update_client(changed, by=BY)
    assert _state(clinic) != before

    restored = sb.restore_server(clinic.db, info.path, by=BY, tools=tools)
    assert _state(clinic)[0] == before[0] and clinic.count_clients() == 2
    assert clinic.get_client(bea.id).first_name == "Bea"
    assert len(clinic.sessions(clinic.search_clients()[0].id)
               + clinic.sessions(clinic.search_clients()[1].id)) == 1
    # The trail goes on from the backup's head with the restore itself.
    seq, _ = clinic.audit.head()
    assert seq == backed_up_head[0] + 1
    last = clinic.db.execute("SELECT action, who FROM audit ORDER BY seq DESC LIMIT 1"
                             ).fetchone()
    assert tuple(last) == ("restore", BY)
    assert _sound(clinic) == []
    # The server as it was before the restore is kept as an ordinary backup.
    assert restored.safety is not None and restored.safety != info.path
    assert sb.read_manifest(restored.safety).clients == 3
    assert _scratch_databases(clinic) == []
    # And the next write follows on: check still sound.
    clinic.add_client(make_client(first_name="Dana"), by=BY)
    assert _sound(clinic) == []


def _refused_with_nothing_changed(repo, dump, tools, words: str) -> None:
    before = _state(repo)
    with pytest.raises(DatabaseError) as refused:
        sb.restore_server(repo.db, dump, by=BY, tools=tools, keep_safety=False)
    text = str(refused.value)
    assert words in text and "Nothing was changed" in text
    assert "Traceback" not in text and "psycopg" not in text
    assert _state(repo) == before
    assert _scratch_databases(repo) == []
    assert _sound(repo) == []


def _changes_after_backup(repo) -> None:
    repo.add_client(make_client(first_name="After"), by=BY)


def test_a_dump_whose_bytes_were_changed_is_refused(clinic, tools, tmp_path):
    info = sb.backup_server(clinic.db, tmp_path, tools=tools)
    _changes_after_backup(clinic)
    data = bytearray(info.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    info.path.write_bytes(bytes(data))
    _refused_with_nothing_changed(clinic, info.path, tools, "does not match its manifest")


def test_a_dump_without_its_manifest_is_refused(clinic, tools, tmp_path):
    info = sb.backup_server(clinic.db, tmp_path, tools=tools)
    anchors.manifest_path(info.path).unlink()
    _refused_with_nothing_changed(clinic, info.path, tools, "manifest")


def _pass_off_as_backup(dump: Path, genuine: Path) -> None:
    """Give `dump` a manifest copied from a genuine backup, its hash and size made to fit
    (as whoever crafted it would)."""
    manifest = json.loads(anchors.manifest_path(genuine).read_text())
    manifest["files"]["database"].update(sha256=anchors.file_sha256(dump),
                                         size=dump.stat().st_size,
                                         name=dump.name)
    anchors.manifest_path(dump).write_text(json.dumps(manifest))


def test_a_dump_of_another_programs_database_is_refused(clinic, tools, tmp_path,
                                                        test_server):
    genuine = sb.backup_server(clinic.db, tmp_path, tools=tools)
    name = test_server.new_database()
    try:
        other = psycopg.connect(**replace(clinic.db.address, database=name).conninfo(),
                                autocommit=True)
        with other:
            other.execute("CREATE TABLE orders (id bigint PRIMARY KEY, item text)")
            other.execute("INSERT INTO orders VALUES (1, 'gloves')")
        dump = tmp_path / "needledesk-server-20261130-120000.dump"
        env = sb._child_environment(clinic.db, None, name)
        subprocess.run([str(tools.pg_dump), "-Fc", f"--file={dump}"], env=env, check=True)
    finally:
        test_server.drop(name)
    _pass_off_as_backup(dump, genuine.path)
    _refused_with_nothing_changed(clinic, dump, tools, "not a backup of a NeedleDesk clinic "
                                                       "server: it holds")
    with pytest.raises(DatabaseError, match="the table orders"):
        sb.restore_server(clinic.db, dump, by=BY, tools=tools, keep_safety=False)


def test_a_dump_that_fails_check_is_refused(clinic, tools, tmp_path):
    # The records changed behind NeedleDesk's back (not through it), then backed up.
    clinic.db.execute("UPDATE clients SET first_name = 'Forged' WHERE first_name = 'Bea'")
    tampered = sb.backup_server(clinic.db, tmp_path, tools=tools)
    clinic.db.execute("UPDATE clients SET first_name = 'Bea' WHERE first_name = 'Forged'")
    assert _sound(clinic) == []
    _refused_with_nothing_changed(clinic, tampered.path, tools,
                                  "does not pass NeedleDesk's check")


def test_a_backup_of_another_clinics_server_is_refused(clinic, tools, tmp_path, test_server):
    name = test_server.new_database()
    try:
        other = Repository(open_server(replace(clinic.db.address, database=name).url()))
        other.add_client(make_client(first_name="Elsewhere"), by=BY)
        foreign = sb.backup_server(other.db, tmp_path, tools=tools)
        other.db.close()
    finally:
        test_server.drop(name)
    _refused_with_nothing_changed(clinic, foreign.path, tools, "another clinic's server")


def test_a_new_server_takes_a_backup_of_another(clinic, tools, tmp_path, test_server):
    """Disaster recovery: a new server (its own first rows only) takes the clinic's backup."""
    info = sb.backup_server(clinic.db, tmp_path, tools=tools)
    name = test_server.new_database()
    try:
        fresh = Repository(open_server(replace(clinic.db.address, database=name).url()))
        sb.restore_server(fresh.db, info.path, by=BY, tools=tools, keep_safety=False)
        assert fresh.count_clients() == 2
        assert anchors.database_id(fresh.db) == anchors.database_id(clinic.db)
        assert _sound(fresh) == []
        fresh.db.close()
    finally:
        test_server.drop(name)


def test_a_rooms_user_may_not_restore(clinic, tools, tmp_path):
    info = sb.backup_server(clinic.db, tmp_path, tools=tools)
    role = f"nd_room_{os.getpid()}"
    with _admin(clinic) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN IN ROLE needledesk_room")
    try:
        room = open_server(replace(clinic.db.address, user=role).url(), migrate_schema=False)
        try:
            before = _state(clinic)
            with pytest.raises(sb.BackupError, match="server owner's user") as refused:
                sb.restore_server(room, info.path, by=BY, tools=tools, keep_safety=False)
            assert "Nothing was changed" in str(refused.value)
            assert _state(clinic) == before
        finally:
            room.close()
    finally:
        with _admin(clinic) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_without_the_tools_the_reason_points_to_the_docs(tmp_path, clinic, monkeypatch):
    missing = sb.find_pg_tools(150000, search_path=str(tmp_path), places=())
    assert isinstance(missing, sb.NoPgTools)
    assert "not installed on this PC" in missing.reason
    assert "docs/clinic-server.md" in missing.reason
    # The backup itself says the same, with nothing written.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sb, "POSIX_PLACES", ())
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(sb.ToolsMissing, match="docs/clinic-server.md"):
        sb.backup_server(clinic.db, folder)
    assert list(folder.iterdir()) == []


def test_a_pg_dump_older_than_the_server_is_not_used(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        script = old / tool
        script.write_text(f"#!/bin/sh\necho '{tool} (PostgreSQL) 13.4'\n")
        script.chmod(0o755)
    found = sb.find_pg_tools(150018, search_path=str(old), places=())
    assert isinstance(found, sb.NoPgTools)
    assert "PostgreSQL 13's, older than the clinic server (PostgreSQL 15)" in found.reason
    # With a new enough one beside it, the newest usable one is chosen.
    both = sb.find_pg_tools(150018, search_path=os.pathsep.join([str(old), PG_BIN]),
                            places=())
    assert isinstance(both, sb.PgTools) and both.major == 15
    assert both.pg_dump == Path(PG_BIN) / "pg_dump"


def test_the_command_backs_up_and_restores_the_server(clinic, tmp_path, capsys):
    from needledesk.cli import main

    url = clinic.path
    folder = tmp_path / "usb"
    folder.mkdir()
    assert main(["--server", url, "backup", "-o", str(folder)]) == 0
    said = capsys.readouterr().out
    dump = next(folder.glob("needledesk-server-*.dump"))
    assert f"backup: {dump} (2 clients, 1 session) of the clinic server" in said
    clinic.add_client(make_client(first_name="Later"), by=BY)
    assert main(["--server", url, "restore", str(dump)]) == 0
    said = capsys.readouterr().out
    assert "restored:" in said and "(2 clients, 1 session)" in said
    assert "as they were are kept in" in said
    assert clinic.count_clients() == 2
    assert main(["--server", url, "check"]) == 0
    # A damaged dump: refused by the command in words, exit 1, nothing changed.
    dump.write_bytes(dump.read_bytes()[:-10])
    assert main(["--server", url, "restore", str(dump)]) == 1
    err = capsys.readouterr().err
    assert "does not match its manifest" in err and "Traceback" not in err
    assert clinic.count_clients() == 2


def test_a_dump_carrying_more_than_needledesks_schema_is_refused_before_it_is_read(
        clinic, tools, tmp_path):
    # A view (or a rule, an extension…) would be SQL run while the dump is read back.
    clinic.db.execute("CREATE VIEW everyone AS SELECT first_name FROM clients")
    crafted = sb.backup_server(clinic.db, tmp_path, tools=tools)
    clinic.db.execute("DROP VIEW everyone")
    _refused_with_nothing_changed(clinic, crafted.path, tools, "it holds a view (everyone)")
