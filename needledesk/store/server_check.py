"""`check` of the clinic server's schema: every table and column NeedleDesk's schema has,
of its type, and nothing more; the trail's triggers and functions in place.

The expected columns are the file's (its migrations replayed on an empty in-memory file,
`expected_schema`), each with the server's type for SQLite's (TEXT, BIGINT, DOUBLE
PRECISION, BYTEA) and each table's `rowid`; the server-only tables and triggers are named
here. A trigger dropped (the trail could then be edited) or added, a column changed or a
table added is reported, one line each.
"""

from __future__ import annotations

import functools
from typing import Any

from needledesk.store.engine import pg_schema

_TYPES = {"TEXT": "text", "INTEGER": "bigint", "REAL": "double precision", "BLOB": "bytea"}

#: Tables only the server has, with their columns and types.
_SERVER_TABLES: dict[str, dict[str, str]] = {
    "audit_head": {"id": "bigint", "seq": "bigint", "hash": "text"},
    "photo_files": {"sha256": "text", "data": "bytea",
                    "added_at": "timestamp with time zone"},
    "needledesk_migrations": {"name": "text", "applied_at": "text"},
}

#: (table, trigger) pairs the server's steps make.
_TRIGGERS = {("audit", "audit_follows_head"), ("audit", "audit_refuses_update"),
             ("audit", "audit_refuses_truncate")}

_FUNCTIONS = {"needledesk_audit_head", "needledesk_audit_follows", "needledesk_audit_refuses"}


@functools.cache
def expected_tables() -> dict[str, dict[str, str]]:
    """table -> {column: the server's type name}, as the server's steps make them."""
    from needledesk.store.expected_schema import replayed
    from needledesk.store.schema import schema_version

    conn = replayed(schema_version())
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'\\_sqlite%' ESCAPE '\\' ORDER BY name")]
        found: dict[str, dict[str, str]] = {}
        for table in tables:
            columns = {row[1]: _TYPES[row[2].upper()] for row in
                       conn.execute(f"PRAGMA table_info({table})")}
            if table != "audit":
                columns["rowid"] = "bigint"
            found[table] = columns
    finally:
        conn.close()
    return found | _SERVER_TABLES


def _actual(db: Any) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in db.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        found.setdefault(table, {})[column] = kind
    return found


def schema_problems(db: Any) -> list[str]:
    problems: list[str] = []
    steps = {r[0] for r in db.execute("SELECT name FROM needledesk_migrations")}
    known = {name for name, _ in pg_schema.STEPS}
    if steps != known:
        problems.append(f"schema: the record of applied steps ({len(steps)}) does not match "
                        "this NeedleDesk's server schema; it was changed behind NeedleDesk's "
                        "back, or the server needs `needledesk server init`")
    expected, actual = expected_tables(), _actual(db)
    for table in sorted(expected.keys() - actual.keys()):
        problems.append(f"schema: the table {table} is missing; it was dropped behind "
                        "NeedleDesk's back")
    for table in sorted(actual.keys() - expected.keys()):
        problems.append(f"schema: the table or view {table} is not part of NeedleDesk's "
                        "schema; it was added behind NeedleDesk's back")
    for table in sorted(expected.keys() & actual.keys()):
        if expected[table] != actual[table]:
            problems.append(f"schema: the table {table}'s columns differ from NeedleDesk's "
                            "schema; it was changed behind NeedleDesk's back")
    triggers = {(t, n) for t, n in db.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND "
        "n.nspname = current_schema()")}
    for table, name in sorted(_TRIGGERS - triggers):
        problems.append(f"schema: the trigger {name} on {table} is missing; it was dropped "
                        "behind NeedleDesk's back")
    for table, name in sorted(triggers - _TRIGGERS):
        problems.append(f"schema: the trigger {name} on {table} is not part of NeedleDesk's "
                        "schema; it was added behind NeedleDesk's back")
    disabled = [name for (name,) in db.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE "
        "c.relname = 'audit' AND NOT t.tgisinternal AND t.tgenabled = 'D'")]
    for name in sorted(disabled):
        problems.append(f"schema: the trigger {name} on audit is switched off; it was "
                        "switched off behind NeedleDesk's back")
    functions = {r[0] for r in db.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'needledesk\\_%'")}
    for name in sorted(_FUNCTIONS - functions):
        problems.append(f"schema: the function {name} is missing; it was dropped behind "
                        "NeedleDesk's back")
    return problems

