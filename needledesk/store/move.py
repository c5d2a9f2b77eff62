"""Moving a clinic from its file to the clinic server, and back.

`move_to_server` copies every row of the file (records, settings, products and lots,
consent forms and consents with their signatures, photos' rows, the meta row with the
database's id, and the whole audit trail exactly as it is) and the photos' pictures into an
EMPTY server, in one transaction; `move_to_file` copies a server into a NEW file the same
way. Each row is copied in the order it was written (the trail in its own order, each row
passing the server's `audit_follows_head` trigger as any write's does).

Before the transaction commits, the copy is verified where it landed: each table's row
count and a SHA-256 of its rows in order (the same canonical form of each value read from
both sides), the trail's chain, the photos' bytes against their hashes, and `check`. Any
difference rolls everything back: nothing is left on the server, and a new file is removed
again. The side copied from is only read (the file is opened read-only).

The trail's anchors outside the database are keyed by its id, which moves with it: after a
move the new place's head is noted as a baseline, so `check` stays quiet there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needledesk.domain.text import count_text
from needledesk.errors import NeedleDeskError
from needledesk.store import anchors
from needledesk.store.audit import AuditLog
from needledesk.store.check import check_file
from needledesk.store.database import DatabaseError, open_database, open_readonly
from needledesk.store.engine import Database, dialect
from needledesk.store.photo_files import FolderPhotoStore, PhotoFileError, digest, photo_folder
from needledesk.store.schema import migrations, schema_version
from needledesk.store.targets import database_files

#: Every table of the clinic's records, parents before the rows that refer to them; the
#: trail last (its rows describe all the others).
TABLES = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
          "reactions", "acknowledged_warnings", "amendments", "settings", "meta", "products",
          "lots", "consent_templates", "consents", "photos", "audit")

#: Rows per batch written to the file, and per fetch from the server.
BATCH = 2000

#: `on_progress(done, total)`: rows and photos copied so far, of all.
Progress = Callable[[int, int], None]


class MoveError(NeedleDeskError):
    """A move refused or undone: nothing was left where the clinic was to go."""


@dataclass
class MoveResult:
    """What a move copied (rows per table, photos' pictures) and how long it took."""

    database_id: str
    rows: dict[str, int] = field(default_factory=dict)
    photos: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# --- the canonical form both sides are hashed in -------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value).hex()}
    return value


class _Digest:
    """A table's rows counted and hashed in order, in a form both engines give the same."""

    def __init__(self) -> None:
        self.count = 0
        self._sha = hashlib.sha256()

    def add(self, row: Sequence[Any]) -> None:
        self.count += 1
        self._sha.update(json.dumps([_plain(v) for v in row], ensure_ascii=False,
                                    separators=(",", ":")).encode("utf-8"))
        self._sha.update(b"\n")

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _order(table: str) -> str:
    return "seq" if table == "audit" else "rowid"


def _select(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'SELECT {names} FROM "{table}" ORDER BY {_order(table)}'


def _file_rows(db: Any, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    yield from db.conn.execute(_select(table, columns))


def _server_rows(db: Any, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """A table's rows from the server, fetched a batch at a time (a server-side cursor:
    the trail of a large clinic is not held in memory whole), in the transaction under way
    or in one of their own."""
    outside = contextlib.nullcontext() if db.in_transaction else db.raw.transaction()
    with outside, db.raw.cursor(name=f"needledesk_move_{table}") as cursor:
        cursor.itersize = BATCH
        cursor.execute(_select(table, columns))
        yield from cursor


def _rows_of(db: Any, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    return (_server_rows if dialect(db).server else _file_rows)(db, table, columns)


def _digest_of(db: Any, table: str, columns: Sequence[str]) -> _Digest:
    found = _Digest()
    for row in _rows_of(db, table, columns):
        found.add(row)
    return found


# --- writing rows where the clinic goes ------------------------------------------------------

def _write_rows(target: Any, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` into `table` in their order: COPY on the server, batches on the file."""
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect(target).server:
        with target.raw.cursor() as cursor, \
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            target.conn.executemany(sql, batch)
            batch = []
    if batch:
        target.conn.executemany(sql, batch)


def _counted(rows: Iterable[Sequence[Any]], into: _Digest,
             tick: Callable[[], None]) -> Iterator[Sequence[Any]]:
    """The rows as read, each hashed into `into` before it is written anywhere."""
    for row in rows:
        into.add(row)
        if into.count % BATCH == 0:
            tick()
        yield row


class _Copy:
    """One move's copying: rows table by table, the digests of what was read, progress."""

    def __init__(self, source: Any, target: Any, on_progress: Progress | None):
        self.source, self.target = source, target
        self.on_progress = on_progress
        self.columns: dict[str, list[str]] = {}
        self.read: dict[str, _Digest] = {}
        self.done = 0
        self.total = 0

    def plan(self, photos: int) -> None:
        for table in TABLES:
            mine = dialect(self.source).columns(self.source, table)
            theirs = set(dialect(self.target).columns(self.target, table))
            if set(mine) != theirs:
                raise MoveError(f"the {table} table is not the same at both places (a "
                                "NeedleDesk of another version made one of them); nothing was "
                                "written")
            self.columns[table] = mine
        self.total = sum(int(self.source.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
                         for t in TABLES) + photos
        self._tell()

    def _tell(self) -> None:
        if self.on_progress is not None:
            self.on_progress(min(self.done, self.total), self.total)

    def tick(self, rows: int = BATCH) -> None:
        self.done += rows
        self._tell()

    def rows(self) -> None:
        for table in TABLES:
            digest_ = self.read[table] = _Digest()
            columns = self.columns[table]
            trail = table == "audit" and dialect(self.target).server
            if trail:
                _follow_head(self.target, False)
            _write_rows(self.target, table, columns,
                        _counted(_rows_of(self.source, table, columns), digest_, self.tick))
            if trail:
                _follow_head(self.target, True)
            self.done += digest_.count % BATCH
            self._tell()

    def differences(self) -> list[str]:
        """Each table whose copy differs from what was read: count, then content."""
        found = []
        for table in TABLES:
            read = self.read[table]
            landed = _digest_of(self.target, table, self.columns[table])
            if landed.count != read.count:
                found.append(f"{table}: {read.count} row(s) read but {landed.count} arrived")
            elif landed.hexdigest() != read.hexdigest():
                found.append(f"{table}: the rows arrived changed")
        return found


def _follow_head(server_db: Any, on: bool) -> None:
    """Switch the server's `audit_follows_head` trigger off while the whole trail is
    copied, then set the head to its last row and switch it on again, all within the move's
    transaction (the ALTER holds a lock on the trail that no room can write past until it
    commits). Row by row through the trigger, a trail of 76,000 rows moved in one
    transaction took minutes: each row's update of the one head row leaves a version the
    next row's lock must step over. The copied chain is then verified from its first row,
    and `check` verifies the head names the last row and the trigger is on."""
    if not on:
        server_db.execute("ALTER TABLE audit DISABLE TRIGGER audit_follows_head")
        return
    server_db.execute("UPDATE audit_head SET seq = last.seq, hash = last.hash FROM "
                      "(SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1) AS last "
                      "WHERE audit_head.id = 1")
    server_db.execute("ALTER TABLE audit ENABLE TRIGGER audit_follows_head")


def _live_photo_hashes(db: Any) -> list[str]:
    return sorted({str(r[0]) for r in db.execute(
        "SELECT sha256 FROM photos WHERE removed_at IS NULL")})


def _photo_problems_on_server(db: Any, wanted: list[str]) -> list[str]:
    stored = {str(sha): str(made) for sha, made in db.execute(
        "SELECT sha256, encode(sha256(data), 'hex') FROM photo_files")}
    problems = []
    missing = [sha for sha in wanted if sha not in stored]
    if missing:
        problems.append(f"photos: {len(missing)} picture(s) did not arrive")
    changed = [sha for sha, made in stored.items() if made != sha]
    if changed:
        problems.append(f"photos: {len(changed)} picture(s) arrived changed")
    extra = set(stored) - set(wanted)
    if extra:
        problems.append(f"photos: {len(extra)} picture(s) arrived that no photo names")
    return problems


def _photo_problems_in_folder(store: FolderPhotoStore, wanted: list[str]) -> list[str]:
    problems = []
    for sha in wanted:
        try:
            ok = digest(store.get(sha)) == sha
        except PhotoFileError:
            ok = False
        if not ok:
            problems.append(f"photos: the picture {sha[:12]}… did not arrive whole")
    return problems


def _verify(copy: _Copy, photo_problems: list[str], **check: Any) -> None:
    """Refuse (MoveError, so the transaction rolls back) a copy that is not what was read
    or does not check sound where it landed."""
    target = copy.target
    problems = copy.differences()
    problems += AuditLog(target).verify_chain()
    problems += photo_problems
    if not problems:
        problems += check_file(target, **check).problems
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MoveError(f"the copy did not match the original: {problems[0]}{more}")


def _database_id(db: Any) -> str:
    row = db.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    if row is None:
        raise MoveError("it holds no clinic yet (no database id): there is nothing to move")
    return str(row[0])


def _elapsed(start: float) -> float:
    return round(time.monotonic() - start, 2)


# --- file -> server --------------------------------------------------------------------------

def move_to_server(file_path: str | os.PathLike[str], server_db: Database, *,
                   on_progress: Progress | None = None) -> MoveResult:
    """Copy the clinic in the file at `file_path` into the empty clinic server `server_db`
    (opened `bare`), verify the copy there, and commit it; the file is only read. Refused
    in plain words (MoveError, nothing written) for a server that holds records already."""
    start = time.monotonic()
    if not dialect(server_db).server:
        raise MoveError("the place to move to is not a clinic server")
    where = dialect(server_db).location(server_db)
    source = open_readonly(file_path)
    try:
        version = source.execute("PRAGMA user_version").fetchone()[0]
        if version != schema_version():
            raise MoveError(f"{file_path} is at schema {version}, not {schema_version()}: "
                            "open it once with this NeedleDesk (which brings it up to date), "
                            "then move it. Nothing was written.")
        # One read transaction on the file: a window writing it meanwhile changes nothing of
        # what is copied.
        source.conn.execute("BEGIN")
        database_id = _database_id(source)
        photos = FolderPhotoStore(photo_folder(file_path))
        wanted = _live_photo_hashes(source)
        copy = _Copy(source, server_db, on_progress)
        try:
            with server_db.atomic():
                # A room opening this server meanwhile waits here, then finds its id.
                if not _owns_tables(server_db):
                    raise MoveError(
                        f"the clinic server's user ({where}) does not own NeedleDesk's tables "
                        "there, so it may not write the clinic's id and trail as they are; "
                        "move the clinic as the user that set the server up")
                server_db.execute("LOCK TABLE meta, audit, photo_files IN EXCLUSIVE MODE")
                held = _held_on_server(server_db)
                if held:
                    raise MoveError(f"the clinic server ({where}) already holds {held}; a "
                                    "clinic can only be moved into an empty one")
                copy.plan(len(wanted))
                copy.rows()
                _write_photo_files(server_db, photos, wanted, copy)
                _verify(copy, _photo_problems_on_server(server_db, wanted),
                        photo_files=False)
        except MoveError as exc:
            raise MoveError(f"{exc}. Nothing was written to the clinic server ({where}); the "
                            "file was not changed.") from None
        except dialect(server_db).errors as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise MoveError(f"the clinic server ({where}) refused the copy ({first}). Nothing "
                            "was written to it; the file was not changed.") from None
        finally:
            source.conn.execute("ROLLBACK")
    finally:
        source.close()
    seq, head = anchors.chain_head(server_db)
    anchors.note_baseline(database_id, seq, head, path=_server_url(server_db))
    return MoveResult(database_id, {t: d.count for t, d in copy.read.items()}, len(wanted),
                      _elapsed(start))


def _server_url(db: Any) -> str:
    return str(db.address.url())


def _owns_tables(db: Any) -> bool:
    return bool(db.execute(
        "SELECT bool_and(pg_has_role(current_user, c.relowner, 'MEMBER')) FROM pg_class c "
        "WHERE c.oid IN ('audit'::regclass, 'meta'::regclass)").fetchone()[0])


def _held_on_server(db: Any) -> str:
    """What the server holds already, in words ('' when nothing)."""
    counts = {t: int(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
              for t in (*TABLES, "photo_files")}
    held = [count_text(counts[t], noun) for t, noun in (("clients", "client"),
                                                         ("sessions", "session")) if counts[t]]
    if counts["meta"]:
        held.append("a clinic's id")
    if counts["audit"]:
        held.append(f"an audit trail of {counts['audit']:,} "
                    + ("entry" if counts["audit"] == 1 else "entries"))
    if not held and any(counts.values()):
        held.append("records")
    return ", ".join(held[:-1]) + (" and " if len(held) > 1 else "") + (held[-1] if held
                                                                        else "")


def _write_photo_files(server_db: Any, photos: FolderPhotoStore, wanted: list[str],
                       copy: _Copy) -> None:
    def pictures() -> Iterator[tuple[str, bytes]]:
        for sha in wanted:
            try:
                data = photos.get(sha)
            except PhotoFileError as exc:
                raise MoveError(f"a photo's picture cannot be read ({exc})") from None
            if digest(data) != sha:
                raise MoveError(f"the picture file {sha[:12]}… no longer matches its photo "
                                "(run `needledesk check` on the file)")
            copy.tick(1)
            yield sha, data

    _write_rows(server_db, "photo_files", ("sha256", "data"), pictures())


# --- server -> file --------------------------------------------------------------------------

def move_to_file(server_db: Database, file_path: str | os.PathLike[str], *,
                 on_progress: Progress | None = None) -> MoveResult:
    """Copy the clinic on the server `server_db` into a NEW file at `file_path` (its
    photos into the folder beside it), verify the copy there and commit it; the server is
    only read. An existing file that is not empty is refused, nothing written; a copy
    that does not verify is removed again."""
    start = time.monotonic()
    if not dialect(server_db).server:
        raise MoveError("the place to move from is not a clinic server")
    path = Path(file_path)
    _refuse_existing(path)
    where = dialect(server_db).location(server_db)
    # What this move makes (an empty file already there included), removed if it fails.
    made: list[Path] = [p for p in (*database_files(path), photo_folder(path))
                        if not p.exists() or (p.is_file() and p.stat().st_size == 0)]
    raw = server_db.raw   # type: ignore[attr-defined]
    try:
        with raw.transaction():
            # One snapshot of the server: rooms writing meanwhile change nothing copied.
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                database_id = _database_id(server_db)
            except MoveError as exc:
                raise MoveError(f"the clinic server ({where}): {exc}") from None
            result = _into_new_file(server_db, path, database_id, on_progress)
    except BaseException:
        for leftover in made:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        raise
    result.seconds = _elapsed(start)
    return result


def _refuse_existing(path: Path) -> None:
    if path.is_dir():
        raise MoveError(f"{path} is a folder; name a new file. Nothing was written.")
    if path.exists() and path.stat().st_size > 0:
        raise MoveError(f"{path} exists already and holds data; a clinic can only be moved "
                        "into a new file. Nothing was written.")
    folder = photo_folder(path)
    if folder.exists() and any(folder.iterdir()):
        raise MoveError(f"{folder} (the photo folder of {path.name}) exists already and is "
                        "not empty; choose another file name. Nothing was written.")


def _into_new_file(server_db: Any, path: Path, database_id: str,
                   on_progress: Progress | None) -> MoveResult:
    try:
        target = open_database(path, migrate=False)
    except DatabaseError as exc:
        raise MoveError(str(exc)) from None
    try:
        # The file's own migrations, as a new file gets them (but no anchor for the id
        # they make: the server's id replaces it below).
        migrations.apply(target)
        wanted = _live_photo_hashes(server_db)
        photos = FolderPhotoStore(photo_folder(path))
        copy = _Copy(server_db, target, on_progress)
        copy.plan(len(wanted))
        # Pictures first, as every write of a photo does: a crash leaves files, never rows
        # naming a missing picture (and a failed move removes the folder).
        for _sha, data in _server_pictures(server_db, wanted):
            photos.put(data)
            copy.tick(1)
        with target.atomic():
            triggers = [r[0] for r in target.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit' "
                "ORDER BY name")]
            names = [r[0] for r in target.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit' "
                "ORDER BY name")]
            for name in names:
                target.execute(f'DROP TRIGGER "{name}"')
            # The new file's own id and first rows make way for the clinic's.
            target.execute("DELETE FROM audit")
            target.execute("DELETE FROM meta")
            held = [t for t in TABLES
                    if target.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is not None]
            if held:
                raise MoveError(f"the new file's {held[0]} table was not empty")
            copy.rows()
            for sql in triggers:
                target.execute(sql)
            _verify(copy, _photo_problems_in_folder(photos, wanted), db_path=path,
                    photos=photos)
        seq, head = anchors.chain_head(target)
        anchors.note_baseline(database_id, seq, head, path=path)
        return MoveResult(database_id, {t: d.count for t, d in copy.read.items()},
                          len(wanted))
    except MoveError as exc:
        raise MoveError(f"{exc}. The new file was removed again; the clinic server "
                        f"({dialect(server_db).location(server_db)}) was not changed.") from None
    except sqlite3.Error as exc:
        raise MoveError(f"{path} could not be written ({exc}); it was removed again and the "
                        "clinic server was not changed.") from None
    finally:
        target.close()


def _server_pictures(server_db: Any, wanted: list[str]) -> Iterator[tuple[str, bytes]]:
    for start in range(0, len(wanted), 50):
        chunk = wanted[start:start + 50]
        found = {str(sha): bytes(data) for sha, data in server_db.raw.execute(
            "SELECT sha256, data FROM photo_files WHERE sha256 = ANY(%s)", [chunk])}
        for sha in chunk:
            data = found.get(sha)
            if data is None or digest(data) != sha:
                raise MoveError(f"the picture {sha[:12]}… is missing or changed on the clinic "
                                "server (run `needledesk check` there)")
            yield sha, data
