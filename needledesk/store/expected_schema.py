"""The schema objects a NeedleDesk file must hold, and what differs from them.

The expected set for schema version N is what the migrations' first N steps make: they are
replayed once on an empty in-memory database (so the migrations stay the one place that
says what the schema is). A file's tables, indexes, triggers and views are compared with
that set by their SQL, whitespace folded. Anything added, changed or dropped is reported:
a dropped trigger lets the audit trail be edited, an added trigger or view can make the
program read something other than what is stored.

`schema_problems(db)` is what `check` calls (against the file's own schema version), and
`schema_problems(conn, version)` what restore calls on a backup's copy: against the
backup's version before the copy is upgraded, and against this program's after. (It is the
one comparison; restore's own, `fileschema`, was merged into it.)
"""

from __future__ import annotations

import functools
import re
import sqlite3
from typing import Any

from sqlite_utils import Database

from needledesk.store.schema import MIGRATION_SET, STEP_NAMES, STEPS, schema_version

#: Kept by sqlite-utils for the migrations: compared by its rows, not by its SQL (which is
#: the library's, and may change between its versions).
MIGRATIONS_TABLE = "_sqlite_migrations"


# A quoted string or identifier: kept exactly as written.
_QUOTED = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])""")


def _normalised(sql: str | None) -> str | None:
    """The SQL with runs of whitespace outside quotes folded to one space: the same
    statement however it was indented, while a quoted string must match exactly."""
    if sql is None:
        return None
    parts = _QUOTED.split(sql)
    # split() with one group: even positions are outside quotes, odd ones are quoted.
    for at in range(0, len(parts), 2):
        parts[at] = re.sub(r"\s+", " ", parts[at])
    return "".join(parts).strip()


def _ignored(kind: str, name: str, table: str) -> bool:
    # SQLite's own statistics tables appear after ANALYZE / PRAGMA optimize; the migrations
    # table and its index are sqlite-utils' (a trigger on it is still reported).
    return name.startswith("sqlite_stat") or (table == MIGRATIONS_TABLE
                                              and kind in ("table", "index"))


def _objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str | None]:
    return {(kind, name): _normalised(sql) for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master") if not _ignored(kind, name, table)}


def replayed(version: int) -> sqlite3.Connection:
    """An empty in-memory file after the first `version` steps (the caller closes it)."""
    conn = sqlite3.connect(":memory:")
    db = Database(conn, execute_plugins=False)
    for run in STEPS[:version]:
        with db.atomic():
            run(db)
    return conn


@functools.cache
def expected_objects(version: int) -> dict[tuple[str, str], str | None]:
    """(type, name) -> normalised SQL of every object the first `version` steps make."""
    conn = replayed(version)
    try:
        return _objects(conn)
    finally:
        conn.close()


def schema_problems(db_or_conn: Any, version: int | None = None) -> list[str]:
    """Each schema object added, changed or dropped compared with what NeedleDesk's
    migrations make for schema `version` (default: the version the file says it is), and
    the record of applied steps, one line each; [] when it matches."""
    conn: sqlite3.Connection = getattr(db_or_conn, "conn", db_or_conn)
    if version is None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > schema_version():
        return [f"schema: the file is of schema {version}, newer than this NeedleDesk knows "
                f"({schema_version()})"]
    expected = expected_objects(version)
    actual = _objects(conn)
    problems = []
    for kind, name in sorted(expected.keys() - actual.keys()):
        problems.append(f"schema: the {kind} {name} is missing; it was dropped behind "
                        "NeedleDesk's back")
    for kind, name in sorted(actual.keys() - expected.keys()):
        problems.append(f"schema: the {kind} {name} is not part of NeedleDesk's schema "
                        f"{version}; it was added behind NeedleDesk's back")
    for key in sorted(expected.keys() & actual.keys()):
        if expected[key] != actual[key]:
            problems.append(f"schema: the {key[0]} {key[1]} differs from NeedleDesk's schema "
                            f"{version}; it was changed behind NeedleDesk's back")
    if version:
        try:
            applied = [r[0] for r in conn.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY name",
                [MIGRATION_SET])]
        except sqlite3.DatabaseError:
            applied = None
        if applied is None:
            problems.append(f"schema: the table {MIGRATIONS_TABLE} is missing; it was dropped "
                            "behind NeedleDesk's back")
        elif applied != sorted(STEP_NAMES[:version]):
            problems.append(f"schema: the record of applied steps ({len(applied)}) does not "
                            f"match schema {version}; it was changed behind NeedleDesk's back")
    return problems
