"""Whose file is this? The one identity check of a SQLite file, and its file facts.

Opening the database, reading a backup and restoring one all ask `identify`: NeedleDesk's
application id, the schema version and the migration steps recorded in the file. It sits
just above `schema` (it needs the steps' names) and below everything that opens a file.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from needledesk.errors import NeedleDeskError
from needledesk.store.schema import APPLICATION_ID, MIGRATION_SET, STEP_NAMES, schema_version

PRIVATE = 0o600


class DatabaseError(NeedleDeskError):
    """The file cannot be opened as this NeedleDesk's database; it was not changed."""


def make_private(path: Path) -> None:
    """Readable and writable by the user only (records are health data)."""
    if os.name == "posix" and path.exists():
        os.chmod(path, PRIVATE)


def companions(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


@dataclass(frozen=True)
class FileIdentity:
    """What a SQLite file says about itself: NeedleDesk's mark, schema version and steps."""

    application_id: int
    version: int
    steps: frozenset[str]
    tables: frozenset[str]

    @property
    def newer(self) -> bool:
        """Written by a newer NeedleDesk: a schema version or a step this one does not know."""
        return self.version > schema_version() or bool(self.steps - set(STEP_NAMES))


def identify(conn: sqlite3.Connection, path: str | os.PathLike[str], *,
             empty_ok: bool = False) -> FileIdentity:
    """Is the file behind `conn` NeedleDesk's? The one check that opening the database,
    reading a backup and restoring one all use. Reads only. Raises DatabaseError naming
    `path` for a SQLite file of another program; a file with no tables at all only passes
    with `empty_ok` (a database about to be made, never a backup). A newer NeedleDesk's
    file passes: the caller refuses or describes it (`FileIdentity.newer`). SQLite's own
    errors (not a database, damaged) reach the caller as sqlite3.DatabaseError."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = frozenset(row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"))
    steps: frozenset[str] = frozenset()
    if "_sqlite_migrations" in tables:
        steps = frozenset(row[0] for row in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]))
    if not tables:
        if app_id in (0, APPLICATION_ID) and empty_ok:
            return FileIdentity(app_id, version, steps, tables)
        raise DatabaseError(f"{path}: is not a NeedleDesk database (it holds no tables)")
    # Id 0 with NeedleDesk's steps recorded: accepted, as it always was (the steps say whose).
    if app_id not in (0, APPLICATION_ID) or not steps:
        raise DatabaseError(f"{path}: is not a NeedleDesk database (a SQLite file of another "
                            f"program, application id {app_id:#x})")
    return FileIdentity(app_id, version, steps, tables)


def inspect_file(path: Path, *, empty_ok: bool = True) -> FileIdentity:
    """`identify` on the file, read-only."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: cannot be opened ({exc})") from None
    try:
        return identify(conn, path, empty_ok=empty_ok)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path}: is not a NeedleDesk database ({exc})") from None
    finally:
        conn.close()
