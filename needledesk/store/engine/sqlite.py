"""The SQLite file's SQL where it differs from the server's (see `engine.Dialect`)."""

from __future__ import annotations

import sqlite3
from typing import Any


def _conn(db: Any) -> Any:
    return getattr(db, "conn", db)


class SQLite:
    name = "sqlite"
    server = False
    errors: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)

    def columns(self, db: Any, table: str) -> list[str]:
        return [row[1] for row in _conn(db).execute(f"PRAGMA table_info({table})")]

    def has_table(self, db: Any, table: str) -> bool:
        return _conn(db).execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                 "name = ?", [table]).fetchone() is not None

    def in_json_list(self) -> str:
        """A subquery of the values of a JSON array given as one `?` parameter."""
        return "(SELECT value FROM json_each(?))"

    def text_list(self, expression: str, separator: str) -> str:
        """An aggregate joining `expression` with `separator` (a SQL string literal)."""
        return f"group_concat({expression}, {separator})"

    def lock_audit_head(self, db: Any) -> tuple[int, str] | None:
        """Nothing to lock: the file has one writer at a time (its lock file and SQLite's
        own write lock). None: read the head from the trail itself."""
        return None

    def location(self, db: Any) -> str:
        row = _conn(db).execute("PRAGMA database_list").fetchone()
        return str(row[2])

    def in_transaction(self, db: Any) -> bool:
        return bool(_conn(db).in_transaction)

    def lock_record(self, db: Any, table: str, record_id: str) -> None:
        """Nothing to lock: one writer at a time."""

    def indexed_by(self, index: str) -> str:
        """Which index a subquery must use (SQLite's planner guesses wrong there)."""
        return f"INDEXED BY {index}"

    def temp_table(self, name: str) -> str:
        """A temporary table's name in a query (never in the file)."""
        return f"temp.{name}"

    def stored_table(self, name: str) -> str:
        """One of the store's own tables named beside temporary ones."""
        return f"main.{name}"

    def temp_index(self, name: str, table: str, columns: str) -> str:
        return f"CREATE INDEX temp.{name} ON {table} ({columns})"

    def differs(self, left: str, right: str) -> str:
        """True when the two differ, NULL counting as a value of its own."""
        return f"{left} IS NOT {right}"

    def integrity_problems(self, db: Any) -> list[str]:
        """SQLite's own check of the whole file (every b-tree and index)."""
        return [f"integrity: {row[0]}" for row in _conn(db).execute("PRAGMA integrity_check")
                if row[0] != "ok"]

    def foreign_key_problems(self, db: Any) -> list[str]:
        return [f"foreign key: {table} row {rowid} points to a missing {parent}"
                for table, rowid, parent, _ in _conn(db).execute("PRAGMA foreign_key_check")]


DIALECT = SQLite()
