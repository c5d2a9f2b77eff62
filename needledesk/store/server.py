"""Opening the clinic server: connect, bring its schema up to date, give a new one its id.

The server's counterpart of `store.database` for the file. Migrations run one room at a
time (a transaction-scoped advisory lock), each step in its own transaction with its record
in `needledesk_migrations`; a server written by a newer NeedleDesk is refused untouched.
A server with no records yet gets its database id and the first rows of its audit trail as
a new file does, unless it is opened `bare` to receive a clinic moved from its file.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from needledesk.store.engine import pg_schema
from needledesk.store.engine.postgres import (
    PgDatabase,
    ServerAddress,
    ServerSetupError,
    connect,
    parse_address,
)

#: Any number; the same on every room: the key of the advisory lock migrations hold.
_MIGRATION_LOCK = 0x4E444B31

#: The environment variable that points NeedleDesk at a clinic server (as --server does).
SERVER_VARIABLE = "NEEDLEDESK_SERVER"


def server_schema_version() -> int:
    """The file schema the server's newest step brings it to."""
    return max(int(name[:4]) for name, _ in pg_schema.STEPS)


def applied_steps(db: PgDatabase) -> set[str]:
    if not _has_migrations(db):
        return set()
    return {r[0] for r in db.execute("SELECT name FROM needledesk_migrations")}


def _has_migrations(db: PgDatabase) -> bool:
    return _one(db, "SELECT to_regclass('needledesk_migrations')") is not None


def _can_create(db: PgDatabase) -> bool:
    return bool(_one(db, "SELECT has_schema_privilege(current_schema(), 'CREATE')"))


def _one(db: PgDatabase, sql: str) -> Any:
    row = db.execute(sql).fetchone()
    return None if row is None else row[0]


def migrate(db: PgDatabase) -> list[str]:
    """Apply the steps this server lacks; the names applied. A room without the right to
    create tables (as rooms should be) gets a plain refusal if a step is missing."""
    known = {name for name, _ in pg_schema.STEPS}
    with db.atomic():
        db.execute("SELECT pg_advisory_xact_lock(?)", [_MIGRATION_LOCK])
        done = ({r[0] for r in db.execute("SELECT name FROM needledesk_migrations")}
                if _has_migrations(db) else set())
        newer = sorted(done - known)
        if newer:
            raise ServerSetupError(
                f"The clinic server ({db.address.display()}) was set up by a newer NeedleDesk "
                f"(it has {newer[-1]}); update NeedleDesk on this PC. Nothing was changed.")
        pending = [(name, sql) for name, sql in pg_schema.STEPS if name not in done]
        if pending and not _can_create(db):
            raise ServerSetupError(
                f"The clinic server ({db.address.display()}) needs its tables made or "
                "brought up to date, and this PC's user may not do that (as it should be). "
                "Whoever set up the server runs `needledesk server init` once as the "
                "database's owner (docs/clinic-server.md).")
        if not done:
            db.execute(pg_schema.MIGRATIONS_TABLE)
        for name, sql in pending:
            db.execute(sql)
            db.execute("INSERT INTO needledesk_migrations (name, applied_at) VALUES (?, ?)",
                       [name, datetime.now().replace(microsecond=0).isoformat()])
    return [name for name, _ in pending]


def is_empty(db: PgDatabase) -> bool:
    """True for a server with no records and no trail (a clinic can be moved into it)."""
    return _one(db, "SELECT NOT EXISTS (SELECT 1 FROM audit) AND "
                    "NOT EXISTS (SELECT 1 FROM meta)") is True


def identify(db: PgDatabase) -> None:
    """A new server's id and the first rows of its trail, exactly as a new file's step 5
    writes them (its id, and the settings' baseline)."""
    from needledesk.store import anchors
    from needledesk.store.schema import identify_new

    with db.atomic():
        db.execute("LOCK TABLE meta IN EXCLUSIVE MODE")
        if db.execute("SELECT 1 FROM meta WHERE key = 'database_id'").fetchone() is not None:
            return
        identify_new(db)
    # As for a new file: the PC that made the trail's first rows anchors them.
    made = anchors.database_id(db)
    if made:
        anchors.note_baseline(made, *anchors.chain_head(db), path=db.address.url())


def open_server(address: ServerAddress | str, password: str | None = None, *,
                migrate_schema: bool = True, bare: bool = False) -> PgDatabase:
    """The clinic server, its schema up to date. `bare`: leave a new server without an id
    (move-to-server then copies the clinic's own)."""
    if isinstance(address, str):
        address = parse_address(address)
    db = connect(address, password)
    try:
        if migrate_schema:
            migrate(db)
        elif not _has_migrations(db):
            raise ServerSetupError(f"The clinic server ({address.display()}) has no "
                                   "NeedleDesk records yet.")
        if not bare and is_empty(db):
            identify(db)
    except BaseException:
        db.close()
        raise
    return db


def server_from_environment(environ: Any = os.environ) -> str | None:
    """NEEDLEDESK_SERVER, when set and not blank."""
    value = environ.get(SERVER_VARIABLE, "").strip()
    return value or None
