"""`needledesk server init|status`: setting up the clinic server, and seeing its state.

`server init URL` is run once by whoever set up the server, as the database's owner (the
user `CREATE DATABASE … OWNER` names): it makes NeedleDesk's tables, the audit trail's
triggers and the rooms' rights (the server's migrations, `store.server.migrate`), gives a
new clinic's server its id (unless `--for-move`: a clinic's file is moved into it next),
and prints the SQL that gives each PC its own login, a member of `needledesk_room`.
Run again after an update of NeedleDesk that brings new steps; it changes nothing when
there are none.

`server status` says which server, how far its schema is, how many records it holds, what
this PC's user may do there, and how many NeedleDesk connections it has now; exit 0 when
the rooms can use it as it is, 1 when it needs `server init`.

Kept out of `cli.py` so the other commands do not load the server's driver; every expected
failure is one line (a `NeedleDeskError`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from needledesk.errors import NeedleDeskError

#: Exit status of a command given a bad server address (as argparse's usage errors).
EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """`needledesk server init|status` on the command line's sub-parsers."""
    server = sub.add_parser("server", help="set up the clinic server (once, as its owner) "
                                           "and see its state")
    actions = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    where = ("the server, postgresql://user@host:port/database (default: --server, else "
             "$NEEDLEDESK_SERVER)")
    init = actions.add_parser(
        "init", help="make or bring up to date NeedleDesk's tables on the server (as the "
                     "database's owner), and print how to give each PC its login",
        description="Run once by whoever set up the server, as the database's owner: makes "
        "NeedleDesk's tables, the audit trail's triggers and the rooms' group role's "
        "rights, and gives a new clinic's server its id. Changes nothing when the server "
        "is up to date. See docs/clinic-server.md.")
    init.add_argument("url", nargs="?", metavar="URL", help=where)
    init.add_argument("--for-move", action="store_true",
                      help="leave the server without records, for `needledesk "
                           "move-to-server` to move a clinic's file into it")
    status = actions.add_parser(
        "status", help="which server, its schema, its records, what this user may do there",
        description="Exit 0 when the rooms can use the server as it is, 1 when it needs "
        "`needledesk server init`.")
    status.add_argument("url", nargs="?", metavar="URL", help=where)


def run(args: Any, ask: Callable[[Any], str | None]) -> int:
    from needledesk.server_login import address_problem, chosen_server

    url = args.url or chosen_server(getattr(args, "server", None))
    if not url:
        raise NeedleDeskError(
            f"name the clinic server: needledesk server {args.server_command} "
            "postgresql://user@host:5432/needledesk (or give --server, or set "
            "NEEDLEDESK_SERVER)")
    problem = address_problem(url)
    if problem:
        print(f"needledesk: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.server_command == "init":
        return _init(url, for_move=args.for_move, ask=ask)
    return _status(url, ask=ask)


@dataclass(frozen=True)
class _Facts:
    """What the server says about itself and this connection's user."""

    user: str
    database: str
    version: str
    encrypted: bool
    may_create: bool       # CREATE in the schema: the owner (or a superuser)
    may_create_roles: bool
    room_role_exists: bool
    has_migrations: bool


def _facts(db: Any) -> _Facts:
    from needledesk.server_login import room_role

    row = db.execute(
        "SELECT current_user, current_database(), current_setting('server_version'), "
        "COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), "
        "has_schema_privilege(current_schema(), 'CREATE'), "
        "COALESCE((SELECT rolsuper OR rolcreaterole FROM pg_roles "
        "          WHERE rolname = current_user), false), "
        "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?), "
        "to_regclass('needledesk_migrations') IS NOT NULL", [room_role()]).fetchone()
    version = str(row[2]).split(" ")[0]
    return _Facts(str(row[0]), str(row[1]), version, bool(row[3]), bool(row[4]),
                  bool(row[5]), bool(row[6]), bool(row[7]))


def _server_line(db: Any, facts: _Facts) -> str:
    checked = db.address.conninfo().get("sslmode") == "verify-full"
    if facts.encrypted:
        how = ("encrypted (TLS, its certificate checked)" if checked
               else "encrypted (TLS; its certificate not checked: on this PC)")
    else:
        how = "not encrypted: on this PC"
    return f"clinic server: {db.address.display()} (PostgreSQL {facts.version}, {how})"


def _privilege_refusal(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) == "42501"   # insufficient_privilege


def _init(url: str, *, for_move: bool, ask: Callable[[Any], str | None]) -> int:
    from needledesk.server_login import connect_server, room_role, server_steps
    from needledesk.store.server import (
        applied_steps,
        identify,
        is_empty,
        migrate,
        server_schema_version,
    )

    db = connect_server(url, ask=ask)
    try:
        facts = _facts(db)
        where = f"the clinic server ({db.address.display()})"
        if not facts.may_create:
            raise NeedleDeskError(
                f"{facts.user} may not make tables in the database {facts.database} on "
                f"{where}: run `needledesk server init` as the database's owner (the user "
                "its CREATE DATABASE … OWNER names; docs/clinic-server.md). Nothing was "
                "changed.")
        if not facts.room_role_exists and not facts.may_create_roles:
            raise NeedleDeskError(
                f"the rooms' group role {room_role()} does not exist on {where} yet, and "
                f"{facts.user} may not make roles: as PostgreSQL's superuser run "
                f"`CREATE ROLE {room_role()} NOLOGIN;` once, then `needledesk server init` "
                "again. Nothing was changed.")
        before = applied_steps(db)
        try:
            applied = migrate(db)
            made_id = not for_move and is_empty(db)
            if made_id:
                identify(db)
        except Exception as exc:
            if not _privilege_refusal(exc):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
            raise NeedleDeskError(
                f"{facts.user} lacks a right that setting up {where} needs ({first}): run "
                "`needledesk server init` as the database's owner (docs/clinic-server.md). "
                "Nothing was changed.") from None
        print(_server_line(db, facts))
        steps = server_steps()
        version = server_schema_version()
        if applied:
            print(f"applied {len(applied)} step(s): {', '.join(applied)}; the schema is now "
                  f"up to date (schema {version}, {len(steps)} steps)")
        else:
            print(f"nothing to apply: the schema is up to date (schema {version}, "
                  f"{len(before)} steps)")
        if made_id:
            print("the server has its database id: a new clinic's records start here")
        elif is_empty(db):
            print("the server holds no records: move a clinic's file into it with "
                  f"`needledesk move-to-server {db.address.url()} --db FILE`")
        else:
            print(f"the server holds the clinic's records (database id {_database_id(db)})")
        print()
        print(_rooms_text(db, facts.database, room_role()))
    finally:
        db.close()
    return 0


def _rooms_text(db: Any, database: str, role: str) -> str:
    address = db.address
    host = "SERVER" if address.host.startswith("/") else address.host
    example = address.url().replace(f"postgresql://{address.user}@", "postgresql://room1@", 1)
    if address.host.startswith("/"):
        example = f"postgresql://room1@{host}:{address.port}/{database}"
    if "sslrootcert=" not in example:
        example += ("&" if "?" in example else "?") + "sslrootcert=CLINIC-CA.crt"
    return "\n".join([
        f"Each PC (or practitioner) logs in as a user of its own, a member of {role}: it may",
        "read and write the records and add to the audit trail, but not change or delete the",
        "trail, nor make or change tables. As PostgreSQL's superuser (psql -U postgres), once",
        "for each PC, with a password of its own:",
        "",
        f"    CREATE ROLE room1 LOGIN PASSWORD '…' IN ROLE {role};",
        "",
        "and in the server's pg_hba.conf, TLS and a password, from the clinic's network only",
        "(then reload the server):",
        "",
        f"    hostssl {database} +{role} 192.168.1.0/24 scram-sha-256",
        "",
        "Then on that PC, in Settings › Clinic server, or on the command line:",
        "",
        f"    needledesk --server '{example}' server status",
    ])


def _database_id(db: Any) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    return None if row is None else str(row[0])


def _status(url: str, *, ask: Callable[[Any], str | None]) -> int:
    from needledesk.server_login import connect_server, room_role, server_steps
    from needledesk.store.server import applied_steps, server_schema_version

    db = connect_server(url, ask=ask)
    ready = True
    try:
        facts = _facts(db)
        print(_server_line(db, facts))
        steps = server_steps()
        try:
            done = applied_steps(db) if facts.has_migrations else set()
        except Exception as exc:
            if not _privilege_refusal(exc):
                raise
            print(f"schema: this user may not read it (not a member of {room_role()})")
            print(_user_line(db, facts, room_role()))
            return 1
        missing = [s for s in steps if s not in done]
        newer = sorted(done - set(steps))
        if newer:
            ready = False
            print(f"schema: set up by a newer NeedleDesk (it has {newer[-1]}): update "
                  "NeedleDesk on this PC")
        elif not done:
            ready = False
            print("schema: none yet: whoever set up the server runs `needledesk server init` "
                  "once, as the database's owner")
        elif missing:
            ready = False
            print(f"schema: {len(steps) - len(missing)} of {len(steps)} steps applied "
                  f"({', '.join(missing)} missing): needs `needledesk server init`, run once "
                  "as the database's owner")
        else:
            print(f"schema: up to date (schema {server_schema_version()}, {len(steps)} "
                  "steps)")
        if facts.has_migrations and not missing:
            print(_records_line(db))
        print(_user_line(db, facts, room_role()))
        print(_connections_line(db))
    finally:
        db.close()
    return 0 if ready else 1


def _records_line(db: Any) -> str:
    from needledesk.domain.text import count_text

    try:
        row = db.execute("SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM "
                         "sessions), (SELECT count(*) FROM photos WHERE removed_at IS NULL)"
                         ).fetchone()
    except Exception as exc:
        if _privilege_refusal(exc):
            return "records: this user may not read them"
        raise
    identity = _database_id(db)
    if identity is None:
        return ("records: none yet, and no database id: `needledesk server init` gives a new "
                "clinic's server its id, `needledesk move-to-server` moves a clinic into it")
    return (f"records: {count_text(int(row[0]), 'client')}, "
            f"{count_text(int(row[1]), 'session')}, {count_text(int(row[2]), 'photo')} "
            f"(database id {identity})")


def _user_line(db: Any, facts: _Facts, role: str) -> str:
    member = facts.room_role_exists and bool(db.execute(
        "SELECT pg_has_role(current_user, ?, 'MEMBER')", [role]).fetchone()[0])
    may_write = facts.has_migrations and bool(db.execute(
        "SELECT to_regclass('sessions') IS NOT NULL AND to_regclass('audit') IS NOT NULL "
        "AND has_table_privilege('sessions', 'INSERT, UPDATE') "
        "AND has_table_privilege('audit', 'INSERT') "
        "AND to_regprocedure('needledesk_audit_head()') IS NOT NULL "
        "AND has_function_privilege('needledesk_audit_head()', 'EXECUTE')").fetchone()[0])
    parts = [("may read and write the records" if may_write
              else "may not write the records")
             + (f" (a member of {role})" if member else "")]
    parts.append("may change the schema (`needledesk server init`)" if facts.may_create
                 else "may not change the schema" + (" (as a room should)" if member else ""))
    return f"this user ({facts.user}): " + "; ".join(parts)


def _connections_line(db: Any) -> str:
    from needledesk.domain.text import count_text

    count = int(db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "application_name = 'NeedleDesk'").fetchone()[0])
    return (f"connected now: {count_text(count, 'NeedleDesk connection')} "
            "(this one included)")
