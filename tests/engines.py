"""Reaching the clinic's records OUTSIDE NeedleDesk, on either engine, as the tamper tests do.

On the file this is the sqlite3 module (what someone with the sqlite3 shell can do); on the
clinic server a psycopg connection of its own, as the server's owner (the test server's
superuser), with the same `?` placeholders. `raw(repo)` gives one; `tamper(repo, ...)` runs
statements in it and commits. On the server, whoever owns the tables can switch the trail's
triggers off (`audit_unguarded`), as the file's owner can drop them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from needledesk.store.repository import Repository


def on_server(repo: Repository) -> bool:
    return bool(repo.on_server)


def pick(repo: Repository, *, sqlite: Any, postgresql: Any) -> Any:
    """The engine's own spelling of something (SQL, a trigger's name, an error)."""
    return postgresql if repo.on_server else sqlite


class Raw:
    """A connection to `repo`'s records that is not NeedleDesk's: `execute` with `?` or
    `:name` placeholders, `commit`, `close`. `db` is what the store's functions accept
    (the sqlite3 connection, or the server's connection through the store's engine)."""

    def __init__(self, repo: Repository):
        self.server = repo.on_server
        if self.server:
            import psycopg

            from needledesk.store.engine.postgres import PgDatabase

            address = repo.db.address  # type: ignore[attr-defined]
            self.db: Any = PgDatabase(psycopg.connect(**address.conninfo(), autocommit=False),
                                      address)
        else:
            self.db = sqlite3.connect(repo.path)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        if params is None or (not params and not self.server):
            return self.db.execute(sql)
        return self.db.execute(sql, params)

    def columns(self, table: str) -> list[str]:
        from needledesk.store.engine import dialect

        return dialect(self.db).columns(self.db, table)

    def commit(self) -> None:
        (self.db.raw if self.server else self.db).commit()

    def rollback(self) -> None:
        (self.db.raw if self.server else self.db).rollback()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def audit_unguarded(self) -> Iterator[None]:
        """The trail's triggers off while the block runs, then back as they were: on the file
        dropped and made again, on the server switched off and on by its owner (the server's
        head row is then moved to the trail's last row, as a careful forger would)."""
        if self.server:
            self.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            yield
            self.execute("UPDATE audit_head SET seq = last.seq, hash = last.hash FROM "
                         "(SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1) AS last "
                         "WHERE audit_head.id = 1")
            self.execute("ALTER TABLE audit ENABLE TRIGGER USER")
            return
        self.execute("DROP TRIGGER audit_refuses_update")
        self.execute("DROP TRIGGER audit_refuses_delete")
        yield
        self.execute("CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit\n        "
                     "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END")
        self.execute("CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit\n        "
                     "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be deleted'); END")


@contextmanager
def raw(repo: Repository) -> Iterator[Raw]:
    """A connection outside NeedleDesk; committed when the block ends without an error."""
    conn = Raw(repo)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def tamper(repo: Repository, *statements: str | tuple[str, Any]) -> None:
    """Run `statements` (SQL, or (SQL, parameters)) outside NeedleDesk and commit them."""
    with raw(repo) as conn:
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, None)
            conn.execute(sql, params)


def refused(repo: Repository) -> type[Exception] | tuple[type[Exception], ...]:
    """What the engine raises when it refuses a statement (a trigger, a key)."""
    if repo.on_server:
        import psycopg

        return psycopg.Error
    return sqlite3.IntegrityError


@contextmanager
def reopened(repo: Repository) -> Iterator[Any]:
    """A second, fresh connection to the same records (the file opened read-only, or a new
    connection to the server), closed after the block."""
    if repo.on_server:
        db = repo.db.fresh()  # type: ignore[attr-defined]
    else:
        from needledesk.store.database import open_readonly

        db = open_readonly(repo.path)
    try:
        yield db
    finally:
        db.close()


def store_args(repo: Repository) -> list[str]:
    """The command line's options that name `repo`'s store: `--db FILE` or `--server URL`."""
    return ["--server", repo.path] if repo.on_server else ["--db", repo.path]


# --- a store named as the command line names it ----------------------------------------------

def new_store(engine: str, path: Path, request: Any) -> Path | str:
    """Where a test's clinic is, before anything opened it: the file `path`, or (on
    `postgresql`) the address of a new server database, dropped after the test."""
    if engine == "sqlite":
        return path
    server = request.getfixturevalue("test_server")
    name = server.new_database()
    request.addfinalizer(lambda: server.drop(name))
    return str(server.url(name))


def is_server(where: Path | str) -> bool:
    return str(where).startswith("postgresql:")


def argv(*args: Any) -> list[str]:
    """`args` for `main`, with `--db <a server's address>` said as `--server <address>`."""
    words = [str(a) for a in args]
    for i, word in enumerate(words[:-1]):
        if word == "--db" and is_server(words[i + 1]):
            words[i] = "--server"
    return words


def open_store(where: Path | str) -> Repository:
    """NeedleDesk's repository on the file or server `where` (the caller closes its db)."""
    if is_server(where):
        from needledesk.store.server import open_server

        return Repository(open_server(str(where)))
    from needledesk.store.database import open_database

    return Repository(open_database(where))
