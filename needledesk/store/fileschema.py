"""Is a file's schema exactly NeedleDesk's own? Its sqlite_master against what the migrations make.

A file can carry NeedleDesk's application id and still hold objects of someone else's: a
trigger that rewrites every depth saved, a view, an index, a table, a column, or miss a
table. SQLite runs such a trigger on every write, so a backup is compared object for object
with a database the migrations build from nothing, before it may replace the clinic's file.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

from sqlite_utils import Database

from needledesk.store.schema import STEP_NAMES, migrations, schema_version

#: Statistics tables that `ANALYZE` adds: they steer the query planner and change no record.
_TOLERATED = {"sqlite_stat1", "sqlite_stat4"}
#: The table sqlite-utils keeps of the steps applied: its rows are checked (restore compares
#: them with the schema version), its SQL is the library's; a trigger on it is still reported.
_MIGRATIONS = "_sqlite_migrations"
_KIND_ORDER = {"table": 0, "index": 1, "trigger": 2, "view": 3}
# A quoted string or identifier: kept exactly as written.
_QUOTED = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])""")

Objects = dict[tuple[str, str], tuple[str, str | None]]


def _normalised(sql: str | None) -> str | None:
    """The SQL text with layout taken out: the same statement however it was indented."""
    if sql is None:
        return None

    parts = _QUOTED.split(sql)
    # split() with one group: even positions are outside quotes, odd ones are quoted.
    for at in range(0, len(parts), 2):
        bare = re.sub(r"\s+", " ", parts[at])
        parts[at] = re.sub(r" ?([(),;]) ?", r"\1", bare)
    return "".join(parts).strip()


def _objects(conn: sqlite3.Connection) -> Objects:
    """(type, name) -> (table, normalised SQL) of every schema object. SQLite's automatic
    indexes are left out: they follow from their table's SQL, which is compared."""
    found: Objects = {}
    for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"):
        if name.startswith("sqlite_autoindex_") or name in _TOLERATED:
            continue
        if table == _MIGRATIONS and kind in ("table", "index"):
            sql = None  # sqlite-utils' own SQL, which may change with its version
        found[(kind, name)] = (table, _normalised(sql))
    return found


@cache
def _expected(version: int) -> Objects:
    """What the first `version` migration steps make in a new, empty database."""
    conn = sqlite3.connect(":memory:")
    try:
        db = Database(conn, execute_plugins=False)
        if version < len(STEP_NAMES):
            migrations.apply(db, stop_before=STEP_NAMES[version])
        else:
            migrations.apply(db)
        return _objects(conn)
    finally:
        conn.close()


def _label(kind: str, name: str, table: str) -> str:
    on = f" on {table}" if kind in ("index", "trigger") and table != name else ""
    return f"the {kind} “{name}”{on}"


def foreign_schema_objects(conn: sqlite3.Connection, version: int | None = None) -> list[str]:
    """Every way the schema of `conn` differs from NeedleDesk's own at schema `version`
    (default: this program's), one plain line each, missing objects first; [] when the
    file's tables, indexes, triggers and views are exactly those the migrations make."""
    version = schema_version() if version is None else version
    if not 1 <= version <= schema_version():
        raise ValueError(f"NeedleDesk has no schema version {version}")
    expected, found = _expected(version), _objects(conn)

    def order(key: tuple[str, str]) -> tuple[int, str]:
        return _KIND_ORDER.get(key[0], 9), key[1]

    problems = [f"{_label(kind, name, expected[(kind, name)][0])} is missing"
                for kind, name in sorted(expected.keys() - found.keys(), key=order)]
    problems += [f"{_label(kind, name, found[(kind, name)][0])} differs from NeedleDesk's own"
                 for kind, name in sorted(expected.keys() & found.keys(), key=order)
                 if expected[(kind, name)] != found[(kind, name)]]
    problems += [f"{_label(kind, name, found[(kind, name)][0])} is not NeedleDesk's"
                 for kind, name in sorted(found.keys() - expected.keys(), key=order)]
    return problems
