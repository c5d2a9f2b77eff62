"""The two engines a clinic's records can live on, behind one interface.

A store is either the clinic's SQLite file (through sqlite-utils, the zero-set-up default)
or a PostgreSQL clinic server (through psycopg 3) that several treatment rooms share. Both
are reached through the same small surface, `Database`: `execute` and `query` with `?`
placeholders, `atomic()` for a transaction, `db[table]` for inserts and updates. The SQL
that is not the same on both lives in exactly one place per engine: `sqlite.SQLite` and
`postgres.Postgres`, each a `Dialect`; `dialect(db)` picks the right one. Nothing above
`store/` imports this package's engines: the repository hides which one it talks to.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """What the store needs of a connection (sqlite_utils.Database is one as it is)."""

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None
                ) -> Any: ...
    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
              ) -> Iterator[dict[str, Any]]: ...
    def atomic(self) -> AbstractContextManager[Any]: ...
    def close(self) -> None: ...
    def __getitem__(self, name: str) -> Any: ...
    @property
    def conn(self) -> Any: ...


class Dialect(Protocol):
    """The SQL and facts that differ between the engines: each engine's answer in one place."""

    name: str
    #: True for the clinic server: real transactions, no file, no one-writer lock.
    server: bool
    #: What a failed statement raises on this engine.
    errors: tuple[type[Exception], ...]

    def columns(self, db: Any, table: str) -> list[str]: ...
    def has_table(self, db: Any, table: str) -> bool: ...
    def in_json_list(self) -> str: ...
    def text_list(self, expression: str, separator: str) -> str: ...
    def lock_audit_head(self, db: Any) -> tuple[int, str] | None: ...
    def location(self, db: Any) -> str: ...
    def in_transaction(self, db: Any) -> bool: ...
    def indexed_by(self, index: str) -> str: ...
    def lock_record(self, db: Any, table: str, record_id: str) -> None: ...
    def temp_table(self, name: str) -> str: ...
    def stored_table(self, name: str) -> str: ...
    def temp_index(self, name: str, table: str, columns: str) -> str: ...
    def differs(self, left: str, right: str) -> str: ...
    def integrity_problems(self, db: Any) -> list[str]: ...
    def foreign_key_problems(self, db: Any) -> list[str]: ...


def dialect(db: Any) -> Dialect:
    """The dialect of `db` (a sqlite_utils.Database, a sqlite3 connection, or a server
    connection)."""
    # The server's module (and psycopg) is imported only by a PC that uses the server, so
    # the file's start-up never pays for it.
    server = sys.modules.get("needledesk.store.engine.postgres")
    if server is not None and isinstance(db, server.PgDatabase):
        return server.DIALECT  # type: ignore[no-any-return]
    from needledesk.store.engine import sqlite

    return sqlite.DIALECT


def on_server(db: Any) -> bool:
    """True when `db` is a clinic server's connection rather than the clinic's file."""
    return dialect(db).server
