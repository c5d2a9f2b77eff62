"""Who may do what on the clinic server: the database's owner sets it up with `needledesk
server init`; each room logs in as its own user, a member of `needledesk_room`, that may
read and write the records and add to the audit trail through NeedleDesk, but not change or
delete the trail, nor make tables. A room finding a migration step missing is told, in
plain words, that the server needs `needledesk server init`.

On the test server (NEEDLEDESK_TEST_SERVER): an owner role that is not a superuser, and a
room role, made per test with unique names and dropped after.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import replace

import pytest
from factories import make_client, make_session

from needledesk.cli import main

_NAMES = itertools.count(1)


class Roles:
    """Login roles made on the test server for one test, dropped after it."""

    def __init__(self, server):
        self.server = server
        self.made: list[str] = []
        self.databases: list[str] = []

    def role(self, kind: str, sql: str = "") -> str:
        name = f"nd_{kind}_{os.getpid()}_{next(_NAMES)}"
        self.server.admin.execute(f"CREATE ROLE {name} LOGIN {sql}")
        self.made.append(name)
        return name

    def room(self) -> str:
        return self.role("room", "IN ROLE needledesk_room")

    def database(self, owner: str) -> str:
        name = f"nd_owned_{os.getpid()}_{next(_NAMES)}"
        self.server.admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
        self.databases.append(name)
        return name

    def url(self, database_url: str, user: str) -> str:
        from needledesk.store.engine.postgres import parse_address

        return replace(parse_address(database_url), user=user).url()

    def drop(self) -> None:
        for name in self.databases:
            self.server.drop(name)
        for name in self.made:
            self.server.admin.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def roles(test_server):
    made = Roles(test_server)
    yield made
    made.drop()


@pytest.fixture
def clinic(server_url):
    """The clinic's server, set up and given its id by its owner, with one client."""
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    repo = Repository(open_server(server_url))
    client = repo.add_client(make_client(), by="Reception")
    repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.db.close()
    return server_url


def _room_repo(url):
    from needledesk.server_login import open_server_repository

    return open_server_repository(url)


def _refused(repo, sql):
    import psycopg

    with pytest.raises(psycopg.Error) as refused:
        repo.db.execute(sql)
    return refused.value


def test_server_init_as_the_databases_owner_makes_the_schema_and_prints_the_rooms_sql(
        roles, test_server, capsys):
    owner = roles.role("owner")   # not a superuser, may not make roles
    database = roles.database(owner)
    url = roles.url(test_server.url(database), owner)

    assert main(["server", "init", url]) == 0
    out = capsys.readouterr().out
    assert "applied 2 step(s): 0010_clinic_server, 0010_rights" in out
    assert "the server has its database id" in out
    assert "CREATE ROLE room1 LOGIN PASSWORD '…' IN ROLE needledesk_room;" in out
    assert f"hostssl {database} +needledesk_room" in out and "scram-sha-256" in out

    # The owner owns what it made: the tables, the trail's triggers' functions.
    from needledesk.server_login import connect_server

    db = connect_server(url)
    try:
        assert db.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit'"
                          ).fetchone()[0] == owner
        assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 2  # id, baseline
    finally:
        db.close()

    # Again: nothing to do, nothing changed.
    assert main(["server", "init", url]) == 0
    out = capsys.readouterr().out
    assert "nothing to apply: the schema is up to date" in out
    assert "holds the clinic's records" in out

    # And a room can use it straight away.
    room = roles.url(test_server.url(database), roles.room())
    assert main(["--server", room, "check"]) == 0
    assert "is sound" in capsys.readouterr().out


def test_server_init_for_a_move_leaves_the_server_without_records(roles, test_server,
                                                                   capsys):
    owner = roles.role("owner")
    url = roles.url(test_server.url(roles.database(owner)), owner)
    assert main(["server", "init", "--for-move", url]) == 0
    out = capsys.readouterr().out
    assert "holds no records" in out and "needledesk move-to-server" in out
    from needledesk.server_login import connect_server
    from needledesk.store.server import is_empty

    db = connect_server(url)
    try:
        assert is_empty(db)
    finally:
        db.close()


def test_server_init_by_a_room_is_refused_with_nothing_changed(roles, server_url, capsys):
    from needledesk.server_login import connect_server

    before = connect_server(server_url)
    steps = before.execute("SELECT count(*) FROM needledesk_migrations").fetchone()[0]
    before.execute("DELETE FROM needledesk_migrations WHERE name = '0010_rights'")
    room = roles.url(server_url, roles.room())

    assert main(["server", "init", room]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "may not make tables" in err and "database's owner" in err
    assert "Nothing was changed" in err
    assert before.execute("SELECT count(*) FROM needledesk_migrations").fetchone()[0] == \
        steps - 1
    before.close()


def test_server_init_without_the_rooms_role_tells_the_superuser_what_to_run(
        roles, test_server, capsys, monkeypatch):
    """An owner that may not make roles, on a server where `needledesk_room` does not
    exist: the one statement PostgreSQL's superuser runs first. (The role is not dropped
    here, others use it: a NeedleDesk whose group role has another name stands in.)"""
    from needledesk.store.engine import pg_schema

    missing = f"nd_norole_{os.getpid()}"
    monkeypatch.setattr(pg_schema, "ROOM_ROLE", missing)
    owner = roles.role("owner")
    url = roles.url(test_server.url(roles.database(owner)), owner)
    assert main(["server", "init", url]) == 1
    err = capsys.readouterr().err
    assert f"CREATE ROLE {missing} NOLOGIN;" in err and "superuser" in err
    assert "Nothing was changed" in err


def test_a_room_reads_and_writes_records_through_needledesk(roles, clinic):
    from needledesk.store.check import check_file

    room = roles.room()
    repo = _room_repo(roles.url(clinic, room))
    try:
        assert repo.db.execute("SELECT current_user").fetchone()[0] == room
        assert repo.count_clients() == 1
        assert len(repo.search_clients("lópez")) == 1
        client = repo.add_client(make_client(first_name="Bea", last_name="Quinn"), by=room)
        session = repo.save_draft(make_session(client.id), by=room)
        repo.sign_session(session.id, by=room)
        assert repo.get_session(session.id).signed_at is not None
        edited = repo.get_client(client.id)
        repo.update_client(replace(edited, phone="+1 555 0199"), by=room)
        last = repo.db.execute("SELECT who, action FROM audit ORDER BY seq DESC LIMIT 1"
                               ).fetchone()
        assert tuple(last) == (room, "update")
        assert check_file(repo.db).problems == []
    finally:
        repo.db.close()


def test_a_room_cannot_change_or_delete_the_trail_nor_make_tables(roles, clinic):
    room = roles.room()
    repo = _room_repo(roles.url(clinic, room))
    try:
        seq, head = repo.db.execute("SELECT seq, hash FROM audit_head").fetchone()
        for sql in ("UPDATE audit SET who = 'someone else'",
                    "DELETE FROM audit",
                    "TRUNCATE audit",
                    "UPDATE audit_head SET seq = 0",
                    "ALTER TABLE audit DISABLE TRIGGER audit_refuses_update",
                    "DROP TRIGGER audit_refuses_update ON audit",
                    "CREATE TABLE notes_of_my_own (x text)",
                    "CREATE FUNCTION nd_mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                    "DROP TABLE audit CASCADE"):
            refused = _refused(repo, sql)
            assert refused.sqlstate in ("42501",), (sql, refused)   # insufficient_privilege
        # An audit row written by hand that does not follow the trail's head is refused
        # by the trigger (a room's INSERT right is for NeedleDesk's own chained rows).
        refused = _refused(repo, "INSERT INTO audit (seq, at, who, action, kind, prev_hash, "
                                 f"hash) VALUES ({seq + 5}, '2026-12-01T10:00:00', 'x', "
                                 "'create', 'client', 'forged', 'forged')")
        assert "must continue from row" in str(refused)
        refused = _refused(repo, "INSERT INTO audit (seq, at, who, action, kind, prev_hash, "
                                 f"hash) VALUES ({seq + 1}, '2026-12-01T10:00:00', 'x', "
                                 "'create', 'client', 'forged', 'forged')")
        assert "must continue from row" in str(refused)
        assert tuple(repo.db.execute("SELECT seq, hash FROM audit_head").fetchone()) == \
            (seq, head)
        assert repo.db.execute("SELECT max(seq) FROM audit").fetchone()[0] == seq
    finally:
        repo.db.close()


def test_a_missing_step_gives_a_room_the_server_init_refusal_until_the_owner_runs_it(
        roles, clinic, capsys):
    from needledesk.server_login import connect_server
    from needledesk.store.engine.postgres import ServerSetupError

    owner = connect_server(clinic)
    owner.execute("DELETE FROM needledesk_migrations WHERE name = '0010_rights'")
    room = roles.url(clinic, roles.room())

    with pytest.raises(ServerSetupError) as refused:
        _room_repo(room)
    assert "needledesk server init" in str(refused.value)
    assert "database's owner" in str(refused.value)

    assert main(["--server", room, "export", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "needledesk server init" in lines[0]

    assert main(["server", "status", room]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 steps applied (0010_rights missing)" in out
    assert "needs `needledesk server init`" in out

    assert main(["server", "init", clinic]) == 0
    assert "applied 1 step(s): 0010_rights" in capsys.readouterr().out
    assert main(["server", "status", room]) == 0
    out = capsys.readouterr().out
    assert "schema: up to date" in out
    assert main(["--server", room, "export", "json"]) == 0
    assert '"clients"' in capsys.readouterr().out
    owner.close()


def test_server_status_says_what_a_room_and_the_owner_may_do(roles, clinic, capsys):
    room_name = roles.room()
    room = roles.url(clinic, room_name)
    assert main(["server", "status", room]) == 0
    out = capsys.readouterr().out
    assert f"this user ({room_name}): may read and write the records (a member of " \
           "needledesk_room); may not change the schema" in out
    assert "records: 1 client, 1 session, 0 photos" in out
    assert "schema: up to date (schema 10, 2 steps)" in out
    assert "connected now: 1 NeedleDesk connection" in out

    # A login that is no room: may read nothing, write nothing.
    stranger = roles.url(clinic, roles.role("stranger"))
    assert main(["server", "status", stranger]) == 1
    out = capsys.readouterr().out
    assert "schema: this user may not read it (not a member of needledesk_room)" in out
    assert "may not write the records; may not change the schema\n" in out


def test_a_room_opening_a_server_nobody_set_up_is_told_to_run_server_init(roles, server_url,
                                                                          capsys):
    """The server's tables made but no id given (as `init --for-move` leaves it): a room
    may not give it one; it is told who runs what, nothing written."""
    from needledesk.server_login import connect_server
    from needledesk.store.engine.postgres import ServerSetupError
    from needledesk.store.server import is_empty

    room = roles.url(server_url, roles.room())
    with pytest.raises(ServerSetupError) as refused:
        _room_repo(room)
    text = str(refused.value)
    assert "needledesk server init" in text and "database's owner" in text
    assert "\n" not in text

    assert main(["--server", room, "demo", "--clients", "1", "--photos", "0"]) == 1
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1 and "needledesk server init" in line
    assert "internal error" not in line

    db = connect_server(server_url)
    try:
        assert is_empty(db)
    finally:
        db.close()
