"""Opening the clinic's SQLite file safely: private permissions, WAL, migrations, refusals.

Before anything is written, the file is inspected read-only: a file that is not SQLite,
not NeedleDesk's, or written by a newer NeedleDesk is refused and left exactly as it was.
Before a migration runs, a copy of the file is taken with SQLite's backup API.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from needledesk.store import anchors
from needledesk.store.backup import backup_to

# Also this module's public names, as before identity.py held them (`X as X`: re-exported).
from needledesk.store.identity import PRIVATE as PRIVATE
from needledesk.store.identity import DatabaseError as DatabaseError
from needledesk.store.identity import FileIdentity as FileIdentity
from needledesk.store.identity import companions as companions
from needledesk.store.identity import identify as identify
from needledesk.store.identity import inspect_file as _inspect
from needledesk.store.identity import make_private as make_private
from needledesk.store.integrity import quick_check
from needledesk.store.schema import STEP_NAMES, migrations, schema_version


class DamagedDatabaseError(DatabaseError):
    """SQLite's own check found damage; the file is left exactly as it is."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        more = len(problems) - 1
        detail = problems[0] + (f" (and {more} more)" if more else "")
        super().__init__(f"{path}: the records file is damaged ({detail}). It has not been "
                         "changed. Restore the newest good backup.")


def open_readonly(path: str | os.PathLike[str]) -> Database:
    """The file for reading only (checks, backups): nothing is migrated or written."""
    path = Path(path)
    if not path.exists():
        raise DatabaseError(f"{path}: no such database")
    _inspect(path)
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                           check_same_thread=False)
    return Database(conn, execute_plugins=False)


def open_for_reading(path: str | os.PathLike[str]) -> Database | None:
    """The window's first connection, read-only, so it can paint and search while SQLite's
    whole-file check runs: only for a NeedleDesk file already at this schema. None for
    anything else (new, empty, needing an upgrade, a newer NeedleDesk's, another program's,
    unreadable): the caller then waits for the check and `open_checked`, which opens,
    upgrades or refuses it exactly as before. Writes nothing."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        found = _inspect(path)
    except DatabaseError:
        return None
    if (not found.tables or found.newer or found.version < schema_version()
            or set(STEP_NAMES) - found.steps):
        return None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10,
                               check_same_thread=False)
    except sqlite3.Error:
        return None
    return Database(conn, execute_plugins=False)


def _connect(path: Path) -> sqlite3.Connection:
    # check_same_thread=False: the window hands reads to a worker thread; each thread
    # still gets its own connection from `open_database`, this only lifts Python's guard.
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_checked(path: str | os.PathLike[str], *, checked: list[str] | None = None) -> Database:
    """What the window does at start: SQLite's quick_check read-only first, and only a sound
    file is opened for writing. `checked`: what `quick_check(path)` found, when the caller
    ran it already (the window runs it on a thread while it imports)."""
    problems = quick_check(path) if checked is None else checked
    if problems:
        raise DamagedDatabaseError(Path(path), problems)
    return open_database(path)


def open_database(path: str | os.PathLike[str], *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database at `path`, upgraded to this schema."""
    path = Path(path)
    fresh = not path.exists() or path.stat().st_size == 0
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    else:
        found = _inspect(path)
        if found.newer:
            raise DatabaseError(
                f"{path}: was written by a newer NeedleDesk (schema {found.version}, this "
                f"program knows {schema_version()}); update NeedleDesk to open it. The file was "
                "not changed.")
    make_private(path)

    conn = _connect(path)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise DatabaseError(f"{path}: cannot use write-ahead logging (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        db = Database(conn, execute_plugins=False)
        if migrate:
            pending = migrations.pending(db)
            if pending and not fresh and migrations.applied(db):
                # A checked copy (temp file, integrity_check, fsync, rename) before upgrading.
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                backup_to(path, path.with_name(
                    f"{path.stem}.before-schema-{schema_version()}-{stamp}{path.suffix}"))
            if pending:
                before = anchors.database_id(conn)
                migrations.apply(db)
                made = anchors.database_id(conn)
                if made is not None and made != before:
                    # A new database, or one just given its id: its trail so far is the
                    # baseline the anchors kept outside the file start from.
                    anchors.note_baseline(made, *anchors.chain_head(conn), path=path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(f"{path}: cannot be opened ({exc})") from None
    except BaseException:
        conn.close()
        raise
    for companion in companions(path):
        make_private(companion)
    return db
