"""Restore: a backup checked in full in a copy beside the database, then put in place,
and the restore recorded in the restored database's audit trail.

The top of the store's stack (see `needledesk.store`): the copy of an older backup is
upgraded by the migrations and checked by `check` (which reads through a Repository), and
the restore is recorded through a Repository, so this sits above all of them.

Restore copies the backup beside the database and checks the copy in full (whose file,
which schema, exactly NeedleDesk's schema objects, integrity, `check`) before the database is
touched; only then does it keep the current database as a safety copy and rename the
checked copy into place. It must run with every connection to the database closed.

Photos: before anything is replaced, every photo the backup needs (its manifest's list,
which must name exactly the live photos of the backup's records) is read from the backup
folder's `photos/` and checked against its hash; a backup with no list of photos (one taken
before photos, or a copy taken before a schema upgrade) may instead find each in the live
photo folder. The ones missing from the live photo folder are then copied in (atomically,
read back) before the database is swapped. Photo files the restored records do not name
(photos added since the backup) are kept: the safety copy names them, `check` lists them as
belonging to no photo record, and `needledesk photos tidy` removes them once the safety
copy is no longer wanted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from needledesk.errors import NeedleDeskError
from needledesk.store import backup as _backup
from needledesk.store.backup import (
    _HASH,
    _SQLITE_BUSY,
    _SQLITE_CORRUPT,
    _SQLITE_FULL,
    _SQLITE_LOCKED,
    _SQLITE_NOTADB,
    STALE_TEMP_SECONDS,
    BackupError,
    BackupInfo,
    ManifestError,
    _begin_read,
    _first_problem,
    _fsync,
    _put_in_place,
    _read_only,
    _reason,
    _remove,
    _stamp_of,
    _write_temp,
    live_photos,
    manifest_photos,
    photos_of,
)
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.expected_schema import schema_problems
from needledesk.store.identity import DatabaseError, companions, identify
from needledesk.store.photo_files import (
    FolderPhotoStore,
    digest,
    photo_folder,
    write_atomically,
)
from needledesk.store.repository import Repository
from needledesk.store.schema import STEP_NAMES, migrations, schema_version

log = logging.getLogger(__name__)

#: How long restore waits for the database to be free before saying it is in use.
LOCK_TIMEOUT = 2.0


def _claim(db_path: Path) -> sqlite3.Connection | None:
    """A connection that has made sure no other connection has the database open, and that
    keeps it so: leaving WAL mode needs every other connection closed (each holds a lock
    while open), and the read transaction it then holds lets nobody write to the file or
    switch it back to WAL. None when the file is too damaged for SQLite to read."""
    conn = sqlite3.connect(db_path, timeout=LOCK_TIMEOUT, isolation_level=None,
                           check_same_thread=False)
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode.lower() != "delete":
            raise _in_use(db_path)
        _begin_read(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if exc.sqlite_errorcode & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
            raise _in_use(db_path) from None
        return None
    except BaseException:
        conn.close()
        raise
    return conn


def _in_use(db_path: Path) -> BackupError:
    return BackupError(f"{db_path}: is in use; close NeedleDesk (every window and command "
                       "using this file) and try again. Nothing was changed.")


def _safety_name(db_path: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    candidate = db_path.with_name(f"{db_path.stem}.before-restore-{stamp}{db_path.suffix}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = db_path.with_name(
            f"{db_path.stem}.before-restore-{stamp}-{number}{db_path.suffix}")
    return candidate


def _raw_copy(source: Path, target: Path) -> None:
    """Byte copy, private, fsynced: only for a file SQLite cannot read, which no connection
    can have open, so that a damaged database is kept as it was."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"cannot write into {target.parent}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        _remove(Path(name))
        raise BackupError(f"cannot write into {target.parent}: {_reason(exc)}") from None
    _put_in_place(Path(name), target)


def _keep_safety_copy(claimed: sqlite3.Connection | None, db_path: Path, target: Path
                      ) -> Path:
    if claimed is not None:
        try:
            temp, _ = _write_temp(claimed, target, verify=False)
        except DatabaseError:
            pass  # unreadable pages: keep the bytes as they are, below
        else:
            _put_in_place(temp, target)
            return target
    wal = companions(db_path)[1]
    _raw_copy(db_path, target)
    if wal.exists():
        _raw_copy(wal, companions(target)[1])
    return target


class RestoreIncomplete(NeedleDeskError):
    """The backup was put in place, but a step after that failed. The message says what
    state the files are in and where the records as they were are kept."""

    def __init__(self, restored: Restored, message: str):
        super().__init__(message)
        self.restored = restored


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    #: The file replaced: for a symlinked database, the link's target (the link stays).
    database: Path
    #: The backup restored: its date, and its counts as restored (after any upgrade).
    backup: BackupInfo
    #: The database as it was (`<name>.before-restore-<stamp>.db`), None if there was none.
    safety: Path | None
    #: The photo files copied back into the photo folder (the others were there already).
    photos_restored: int = 0


_NOTHING = "Nothing was changed."


def _refused(backup: Path, why: str) -> DatabaseError:
    return DatabaseError(f"{backup}: {why}. {_NOTHING}")


def _some(problems: list[str], shown: int = 3) -> str:
    more = len(problems) - shown
    return "; ".join(problems[:shown]) + (f" (and {more} more)" if more > 0 else "")


def _sweep_restore_copies(db_path: Path) -> None:
    """Remove the hidden copies that a restore cut short by a crash left beside the database
    more than a day ago (they hold records too)."""
    limit = time.time() - STALE_TEMP_SECONDS
    prefix = f".{db_path.name}.restore."
    with contextlib.suppress(OSError):
        for path in db_path.parent.iterdir():
            if path.name.startswith(prefix) and ".tmp" in path.name and path.is_file():
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < limit:
                        path.unlink()


def _copy_beside(backup: Path, db_path: Path) -> Path:
    """The backup, copied page by page through SQLite into a hidden 0600 file beside the
    database (the same filesystem, so that putting it in place is one rename)."""
    folder = db_path.parent
    if not folder.is_dir():
        raise BackupError(f"cannot restore into {folder}: the folder is not there. {_NOTHING}")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{db_path.name}.restore.",
                                    suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"cannot write into {folder}: {_reason(exc)}. {_NOTHING}") from None
    os.close(fd)
    temp = Path(name)
    try:
        source = _read_only(backup)
        try:
            dest = sqlite3.connect(temp, isolation_level=None, check_same_thread=False)
            try:
                dest.execute("PRAGMA synchronous = OFF")  # fsynced once, before the rename
                source.backup(dest, pages=_backup.PAGES_PER_STEP)
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        _remove(temp)
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_FULL:
            raise BackupError(f"cannot write into {folder}: the disk is full. {_NOTHING}"
                              ) from None
        raise _refused(backup, f"is damaged or not a NeedleDesk database ({exc})") from None
    except OSError as exc:
        _remove(temp)
        raise BackupError(f"cannot write into {folder}: {_reason(exc)}. {_NOTHING}") from None
    except BaseException:
        _remove(temp)
        raise
    return temp


def _refuse_foreign_schema(conn: sqlite3.Connection, backup: Path, version: int) -> None:
    foreign = schema_problems(conn, version)
    if foreign:
        raise _refused(backup, f"is not a backup as NeedleDesk makes them: {_some(foreign)}")


def _check_and_prepare(conn: sqlite3.Connection, backup: Path, stage: list[str]
                       ) -> BackupInfo:
    """Every check, on the copy: whose file, which schema, exactly NeedleDesk's schema
    objects, SQLite's integrity check; then the upgrade of an older backup, and the full
    `check` (foreign keys, the audit chain, every record's rules and seals)."""
    found = identify(conn, backup)
    if found.newer:
        raise DatabaseError(
            f"{backup}: was written by a newer NeedleDesk (schema {found.version}, this program "
            f"knows {schema_version()}); update NeedleDesk to restore it. {_NOTHING}")
    if found.version < 1 or found.steps != set(STEP_NAMES[:found.version]):
        raise _refused(backup, f"is not a NeedleDesk database as it claims (schema "
                               f"{found.version}, but the steps recorded in it differ)")
    problem = _first_problem(conn, "integrity_check")
    if problem is not None:
        raise _refused(backup, f"is damaged and cannot be used as a backup "
                               f"(SQLite reports: {problem})")
    _refuse_foreign_schema(conn, backup, found.version)
    db = Database(conn, execute_plugins=False)
    upgrade = found.version < schema_version()
    if upgrade:
        stage[0] = "upgrading it to this NeedleDesk's schema"
        migrations.apply(db)
        _refuse_foreign_schema(conn, backup, schema_version())
    stage[0] = "checking it"
    # SQLite's integrity check just passed; it runs again only over what the upgrade wrote.
    # Its photo files are checked by `_plan_photos`, in the backup folder, not by `check`
    # (which would look beside this temporary copy).
    problems = check_database(db, integrity=upgrade, photo_files=False)
    if problems:
        raise _refused(backup, f"does not pass NeedleDesk's check: {_some(problems)}")
    clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
    sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    taken = _stamp_of(backup) or datetime.fromtimestamp(backup.stat().st_mtime)
    return BackupInfo(backup, taken, clients, sessions, schema_version(),
                      backup.stat().st_size)


@dataclass(frozen=True)
class _PhotoPlan:
    """The backup's photos, checked: those to copy into the live photo folder (each from
    the checked file it is to be copied from), and how many the backup holds."""

    copy: dict[str, Path]
    count: int


def _sound(path: Path, sha: str, size: int | None = None) -> bool:
    """The file at `path` is there and holds the photo `sha` (read in full)."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
        return digest(path.read_bytes()) == sha
    except OSError:
        return False


def _photos_text(count: int) -> str:
    return f"{count} photo" + ("" if count == 1 else "s")


def _plan_photos(conn: sqlite3.Connection, backup: Path, live: FolderPhotoStore
                 ) -> _PhotoPlan:
    """Every photo the backup needs, found and read against its hash before anything is
    replaced (see the module's doc); a refusal raises DatabaseError."""
    needed = live_photos(conn)
    try:
        listed = manifest_photos(backup)
    except ManifestError as exc:
        raise _refused(backup, str(exc)) from None
    kept = photos_of(backup.parent)
    if listed is not None:
        extra, unlisted = set(listed) - needed, needed - set(listed)
        if extra:
            raise _refused(backup, f"its list of photos (the manifest) names "
                                   f"{_photos_text(len(extra))} that its records do not")
        if unlisted:
            raise _refused(backup, f"its records name {_photos_text(len(unlisted))} that its "
                                   "list of photos (the manifest) does not")
    copy: dict[str, Path] = {}
    missing: list[str] = []
    for sha in sorted(needed):
        if not _HASH.fullmatch(sha):
            raise _refused(backup, "its records name a photo file by something that is not a "
                                   "photo's name")
        source = kept.path(sha)
        if source.exists() or listed is not None:
            if not source.is_file():
                missing.append(sha)
                continue
            if not _sound(source, sha, listed[sha] if listed is not None else None):
                raise _refused(backup, f"the photo file {sha[:12]}… in {kept.root} does not "
                                       "match its hash (it is damaged or was changed)")
            if not _sound(live.path(sha), sha):
                copy[sha] = source
        elif not _sound(live.path(sha), sha):
            missing.append(sha)
    if missing:
        raise _refused(backup, f"{len(missing)} of its {_photos_text(len(needed))} "
                               f"{'is' if len(missing) == 1 else 'are'} missing from "
                               f"{kept.root}")
    return _PhotoPlan(copy, len(needed))


def _bring_back(plan: _PhotoPlan, live: FolderPhotoStore, put: list[Path]) -> int:
    """Copy the planned photos into the live photo folder, each atomically and read back
    against its hash; `put` collects the files written where there was none (for undoing)."""
    try:
        for sha, source in plan.copy.items():
            data = source.read_bytes()
            if digest(data) != sha:
                raise BackupError(f"the photo file {source} changed while it was restored")
            target = live.path(sha)
            for folder in (live.root, target.parent):
                if not folder.is_dir():
                    folder.mkdir(mode=0o700)
                    if os.name == "posix":
                        os.chmod(folder, 0o700)
            existed = target.exists()  # a damaged file, replaced: not undone
            write_atomically(target, data)
            if not existed:
                put.append(target)
            if not _sound(target, sha):
                raise BackupError(f"the photo {sha[:12]}… did not read back as written in "
                                  f"{live.root}")
    except OSError as exc:
        raise BackupError(f"cannot copy the photos into {live.root}: {_reason(exc)}"
                          ) from None
    return len(plan.copy)


def _checked_copy(backup: Path, db_path: Path) -> tuple[Path, BackupInfo, _PhotoPlan]:
    """The backup copied beside the database and fully checked there (see
    `_check_and_prepare`), fsynced. A refusal raises DatabaseError, a full disk BackupError;
    either way the copy is gone and the database was not touched."""
    temp = _copy_beside(backup, db_path)
    stage = ["checking it"]
    try:
        conn = sqlite3.connect(temp, check_same_thread=False)
        try:
            info = _check_and_prepare(conn, backup, stage)
            if conn.in_transaction:
                conn.commit()
            stage[0] = "checking its photos"
            plan = _plan_photos(conn, backup, FolderPhotoStore(photo_folder(db_path)))
        finally:
            conn.close()
        _fsync(temp)
    except NeedleDeskError:
        _remove(temp)
        raise
    except sqlite3.DatabaseError as exc:
        _remove(temp)
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            raise _refused(backup, f"is damaged or not a NeedleDesk database ({exc})"
                           ) from None
        if code == _SQLITE_FULL:
            raise BackupError(f"cannot write into {db_path.parent}: the disk is full. "
                              f"{_NOTHING}") from None
        raise _refused(backup, f"cannot be restored: {stage[0]} failed ({exc})") from None
    except OSError as exc:
        _remove(temp)
        raise BackupError(f"cannot write into {db_path.parent}: {_reason(exc)}. {_NOTHING}"
                          ) from None
    except BaseException:
        _remove(temp)
        raise
    return temp, replace(info, photos=plan.count), plan


def _restore(backup: str | os.PathLike[str], db_path: str | os.PathLike[str], *,
             now: datetime | None) -> Restored:
    backup = Path(backup)
    # A symlinked database: its target is restored, and the link keeps pointing to it.
    db_path = Path(os.path.realpath(db_path))
    now = now or datetime.now()
    if not backup.is_file():
        raise DatabaseError(f"{backup}: no such backup file. {_NOTHING}")
    present = db_path.is_file()
    if present and os.path.samefile(backup, db_path):
        raise BackupError(f"{backup}: is the database itself; choose a backup. {_NOTHING}")
    safety = _safety_name(db_path, now) if present else None

    # Everything about the backup is settled before the database is touched at all.
    _sweep_restore_copies(db_path)
    temp, info, plan = _checked_copy(backup, db_path)
    try:
        claimed = _claim(db_path) if present else None
    except BaseException:
        _remove(temp)
        raise
    wal_moved = False
    put: list[Path] = []
    try:
        # The photos first: a restored record never names a photo not yet in its folder.
        brought = _bring_back(plan, FolderPhotoStore(photo_folder(db_path)), put)
        if safety is not None:
            _keep_safety_copy(claimed, db_path, safety)
        # A log beside the new file would be replayed into it. With the file claimed there
        # is none (leaving WAL mode folded it in); an unreadable file's is in the safety copy.
        for stale in companions(db_path)[1:]:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                wal_moved = wal_moved or stale.name.endswith("-wal")
        if claimed is not None and os.name == "nt":
            claimed.close()  # Windows cannot replace a file that is open
            claimed = None
        _put_in_place(temp, db_path)
    except BackupError as exc:
        _remove(temp)
        _unput(put)
        kept = (f" (its write-ahead log is kept with the safety copy {safety}-wal)"
                if wal_moved else "")
        raise BackupError(f"{exc}. Nothing was restored: the records are as they were"
                          f"{kept}.") from None
    except BaseException:
        _remove(temp)
        _unput(put)
        raise
    finally:
        if claimed is not None:
            claimed.close()
    log.info("restored %s over %s (safety copy: %s; %d photo files brought back)", backup,
             db_path, safety, brought)
    return Restored(db_path, info, safety, photos_restored=brought)


def _unput(put: list[Path]) -> None:
    """The photo files a failed restore copied in (none was there before it) go again."""
    for path in put:
        with contextlib.suppress(OSError):
            path.unlink()


def restore(backup: str | os.PathLike[str], db_path: str | os.PathLike[str], *,
            now: datetime | None = None) -> Path | None:
    """Replace the database at `db_path` with the backup; return the safety copy of the
    database as it was (`<name>.before-restore-<stamp>.db` beside it), or None when there
    was no database. `restore_and_record` is what the window and the command use.

    The backup is copied beside the database and checked there in full before the database
    is touched: NeedleDesk's file, not newer than this program, schema objects exactly
    NeedleDesk's (no extra trigger, view, index or table), SQLite's integrity check, and
    `check` (foreign keys, the audit chain, the records' rules and seals). An older backup
    is upgraded in the copy. A refused backup raises DatabaseError and leaves the database
    byte for byte as it was. Every connection to the database must be closed first (the
    window's included); if one is open, BackupError is raised and nothing is changed. A
    symlinked `db_path` is followed: its target is replaced, the link stays."""
    return _restore(backup, db_path, now=now).safety


def restore_and_record(backup: str | os.PathLike[str], db_path: str | os.PathLike[str], *,
                       who: str, now: datetime | None = None) -> Restored:
    """`restore`, then the restore recorded in the restored database's audit trail, which
    also starts a new epoch for the tamper anchors (`Repository.record_restore`: right after
    the replacement, before anything else is written). Raises as `restore` while nothing has
    been replaced; RestoreIncomplete when the backup is in place but a step after it failed,
    saying so and where the records as they were are kept."""
    restored = _restore(backup, db_path, now=now)
    try:
        repo = Repository(open_database(restored.database))
        try:
            repo.record_restore(str(restored.backup.path),
                                str(restored.safety) if restored.safety else None, by=who)
        finally:
            repo.db.close()
    except (NeedleDeskError, OSError, sqlite3.Error) as exc:
        kept = (f"The records as they were are kept in {restored.safety}."
                if restored.safety else "There was no database before it.")
        raise RestoreIncomplete(restored, (
            f"{restored.backup.path} was restored into {restored.database} (it was checked in "
            f"full first), but recording the restore in its audit trail failed ({exc}); the "
            f"audit trail does not show this restore, and `needledesk check` may report it. "
            f"{kept}")) from None
    return restored
