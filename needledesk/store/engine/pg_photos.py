"""The clinic server's photo bytes: the SQL of its `photo_files` table (sha256, data, added_at).

Only `store.photo_files.ServerPhotoStore` calls these; they take a `PgDatabase`. Pictures go
to and come from the server in binary (a 4 MB JPEG is 4 MB on the wire, not 8 MB of hex),
and their hashes are checked by the server itself (`sha256(data)`), so `check` does not pull
every picture across the network to hash it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from needledesk.store.engine.postgres import PgDatabase, _away

#: `%b`: the picture is sent in binary (about a third faster for a 3 MB one than as text).
_PUT = ("INSERT INTO photo_files (sha256, data) VALUES (%s, %b) "
        "ON CONFLICT (sha256) DO NOTHING")
#: True when the stored row is the picture named: its length and the server's own hash.
_SOUND = ("SELECT length(data) = %s AND encode(sha256(data), 'hex') = sha256 "
          "FROM photo_files WHERE sha256 = %s")


def _run(db: PgDatabase, sql: str, params: Any = None, *, binary: bool = False
         ) -> psycopg.Cursor[Any]:
    try:
        return db.raw.execute(sql, params, binary=binary)
    except psycopg.OperationalError as exc:
        if db.raw.closed or db.raw.broken:
            raise _away(exc, db.address) from exc
        raise


def put(db: PgDatabase, sha256: str, data: bytes) -> None:
    """Store `data` as `sha256` (the caller's hash of it). Idempotent; when a row under that
    name already holds other bytes (changed behind NeedleDesk's back), it is replaced in one
    transaction. Durable when it returns: its own transaction in autocommit, or the caller's
    when inside `db.atomic()`."""
    if _sound(db, sha256, len(data)):
        return   # already there: the picture is not sent again
    if _run(db, _PUT, [sha256, bytes(data)]).rowcount:
        return
    if _sound(db, sha256, len(data)):
        return   # another room put the same picture a moment ago
    with db.atomic():
        _run(db, "DELETE FROM photo_files WHERE sha256 = %s", [sha256])
        _run(db, _PUT, [sha256, bytes(data)])


def _sound(db: PgDatabase, sha256: str, length: int) -> bool:
    row = _run(db, _SOUND, [length, sha256]).fetchone()
    return bool(row is not None and row[0])


def get(db: PgDatabase, sha256: str) -> bytes | None:
    row = _run(db, "SELECT data FROM photo_files WHERE sha256 = %s", [sha256],
               binary=True).fetchone()
    return None if row is None else bytes(row[0])


def has(db: PgDatabase, sha256: str) -> bool:
    return _run(db, "SELECT 1 FROM photo_files WHERE sha256 = %s",
                [sha256]).fetchone() is not None


def size(db: PgDatabase, sha256: str) -> int | None:
    row = _run(db, "SELECT length(data) FROM photo_files WHERE sha256 = %s",
               [sha256]).fetchone()
    return None if row is None else int(row[0])


def discard(db: PgDatabase, sha256: str) -> None:
    _run(db, "DELETE FROM photo_files WHERE sha256 = %s", [sha256])


def hashes(db: PgDatabase) -> Iterator[str]:
    for row in _run(db, "SELECT sha256 FROM photo_files ORDER BY sha256").fetchall():
        yield str(row[0])


def changed(db: PgDatabase, names: list[str]) -> set[str]:
    """Of `names`, those whose stored bytes no longer hash to their name (hashed by the
    server, a batch at a time)."""
    found: set[str] = set()
    for start in range(0, len(names), 200):
        batch = names[start:start + 200]
        found |= {str(r[0]) for r in _run(
            db, "SELECT sha256 FROM photo_files WHERE sha256 = ANY(%s) AND "
                "encode(sha256(data), 'hex') <> sha256", [batch]).fetchall()}
    return found


def settled(db: PgDatabase, names: list[str], minutes: int) -> set[str]:
    """Of `names`, those stored more than `minutes` ago."""
    found: set[str] = set()
    for start in range(0, len(names), 500):
        batch = names[start:start + 500]
        found |= {str(r[0]) for r in _run(
            db, "SELECT sha256 FROM photo_files WHERE sha256 = ANY(%s) AND "
                "added_at < now() - make_interval(mins => %s)", [batch, minutes]).fetchall()}
    return found
