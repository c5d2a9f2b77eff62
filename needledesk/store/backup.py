"""Backups of the clinic's file: consistent copies and rotated generations.

A backup is taken through SQLite's online backup API from a connection of its own, inside
one read transaction: the copy is the database exactly as it was when the backup began,
and (in WAL mode) the window keeps writing meanwhile. It is written to a hidden temporary
file, must pass `PRAGMA integrity_check`, is made a single self-contained file (journal
mode DELETE), fsynced, and only then renamed to its real name. So a file named like a
backup is always a whole, sound one. Every file written is readable by its user only.

Photos (`store.photo_files`) go into one content-addressed folder, `photos/` inside the
backup folder, shared by every generation (the layout of the folder beside the database, so
`FolderPhotoStore(folder / "photos")` reads it): a backup copies only the photo files not
there yet, each atomically and read back against its hash. The backup's manifest
(`<backup>.manifest.json`, `store.anchors`) lists the photos it needs (`files.photos`: the
live photos of the copy's own `photos` table, so one removed by amendment is in no backup
made afterwards), and is put in place before the backup itself: a file named like a backup
always has its photos and their list. Rotation deletes a generation's manifest with it, and
then the photo files no remaining manifest names.

Restoring one is `store.restore` (above the Repository and `check`, which it uses).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from needledesk.errors import NeedleDeskError
from needledesk.store import anchors
from needledesk.store.identity import DatabaseError, companions, identify
from needledesk.store.photo_files import (
    FolderPhotoStore,
    PhotoFileError,
    digest,
    photo_folder,
    write_atomically,
)
from needledesk.store.targets import refuse_protected_target

log = logging.getLogger(__name__)

#: Pages copied per step of the backup API: about 1 MB, so progress moves smoothly.
PAGES_PER_STEP = 256
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12

_STAMP = "%Y-%m-%dT%H%M"
_NAME = re.compile(r"needledesk-(\d{4}-\d{2}-\d{2}T\d{4})\.db")
#: A temporary file of a backup (and its SQLite side files) left by a crash mid-backup.
_TEMP = re.compile(r"\.needledesk-\d{4}-\d{2}-\d{2}T\d{4}\.db\..+\.tmp(-journal|-wal|-shm)?")
#: A temporary file older than this is a crash's leftover, not a backup being written.
STALE_TEMP_SECONDS = 24 * 3600
_PRIVATE_FILE, _PRIVATE_FOLDER = 0o600, 0o700
# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL = 5, 6, 13
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
#: The photo folder inside a backup folder, shared by every backup in it.
PHOTOS = "photos"
#: A photo file in a backup folder that no manifest names is removed by rotation only once
#: it is this old: a backup being taken meanwhile (another program) has not yet put its
#: manifest in place.
PHOTO_GRACE_SECONDS = 3600
_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)

Progress = Callable[[int, int], None]


class BackupError(NeedleDeskError):
    """A backup or restore could not be written; the database was not changed."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds, for the restore list. `problem` is None for a sound backup;
    `list_backups` reports an unreadable one with the reason there and zero counts."""

    path: Path
    taken_at: datetime
    clients: int
    sessions: int
    schema: int
    size: int
    problem: str | None = None
    #: The photos the backup holds (distinct files), and how many of them this backup copied
    #: into the backup folder's `photos/` (the others were there from an earlier backup).
    photos: int = 0
    photos_copied: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


# --- names and folders -------------------------------------------------------------------

def backup_name(taken: datetime) -> str:
    """`needledesk-2026-11-21T0930.db`: sorts by time, and has no colon (Windows-safe)."""
    return f"needledesk-{taken.strftime(_STAMP)}.db"


def _stamp_of(path: Path) -> datetime | None:
    """The time in a backup's name, or None for a file not named like a backup."""
    return stamp_in_name(path, _NAME, _STAMP)


def stamp_in_name(path: Path, name: re.Pattern[str], stamp: str) -> datetime | None:
    """The time in `path`'s name: the first group of `name` (matching the whole name) read
    with the strptime format `stamp`; None for a file not named so."""
    match = name.fullmatch(path.name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), stamp)
    except ValueError:  # e.g. month 13: someone else's file
        return None


def _generations(folder: Path) -> list[tuple[datetime, Path]]:
    """The backups in `folder` named like ours, newest first."""
    try:
        entries = list(Path(folder).iterdir())
    except FileNotFoundError:
        return []
    stamped = [(stamp, path) for path in entries
               if (stamp := _stamp_of(path)) is not None and path.is_file()]
    return sorted(stamped, reverse=True)


def default_backup_dir(db_path: str | os.PathLike[str]) -> Path:
    """A `backups` folder beside the database, created readable by its user only."""
    folder = Path(db_path).parent / "backups"
    _ensure_folder(folder, parents=True)
    return folder


def _ensure_folder(folder: Path, *, parents: bool = False) -> None:
    """Create the backup folder (0700) if it is missing. Without `parents`, a missing parent
    is an error: a USB stick that is not plugged in must not become a folder on this PC."""
    if folder.is_dir():
        return
    if folder.exists():
        raise BackupError(f"the backup folder {folder} is a file, not a folder")
    if not parents and not folder.parent.is_dir():
        raise BackupError(f"the backup folder {folder} cannot be reached ({folder.parent} is "
                          "not there); is the USB stick or network drive connected?")
    try:
        folder.mkdir(mode=_PRIVATE_FOLDER, parents=parents, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, _PRIVATE_FOLDER)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {folder}: {_reason(exc)}") from None


# --- photos -----------------------------------------------------------------------------

def photos_of(folder: str | os.PathLike[str]) -> FolderPhotoStore:
    """The photo folder shared by the backups in `folder`."""
    return FolderPhotoStore(Path(folder) / PHOTOS)


def live_photos(conn: sqlite3.Connection) -> set[str]:
    """The hashes of the live photos (not removed by amendment) a database names; none for
    one from before photos (no `photos` table)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'photos'"
                    ).fetchone() is None:
        return set()
    return {str(row[0]) for row in conn.execute(
        "SELECT DISTINCT sha256 FROM photos WHERE removed_at IS NULL")}


class ManifestError(ValueError):
    """A backup's manifest that cannot be read, or lists photos in a way NeedleDesk never
    writes (a name that is not a photo's hash, a size that is not a size, one twice)."""


def manifest_photos(backup: str | os.PathLike[str]) -> dict[str, int] | None:
    """The photos the manifest beside `backup` lists ({sha256: size}); None when there is
    no manifest, or one written before backups carried photos. Raises ManifestError (a plain
    sentence) for one that cannot be read or is not as NeedleDesk writes them."""
    path = anchors.manifest_path(backup)
    its = f"its list of photos ({path.name})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ManifestError(f"{its} cannot be read: {_reason(exc)}") from None
    try:
        manifest = json.loads(text)
    except ValueError:
        raise ManifestError(f"{its} is damaged: it cannot be read as a list") from None
    if not isinstance(manifest, dict) or manifest.get("format") != anchors.MANIFEST_FORMAT \
            or not isinstance(manifest.get("files"), dict):
        raise ManifestError(f"{its} is not a NeedleDesk backup manifest")
    listed = manifest["files"].get("photos")
    if listed is None:
        return None
    if not isinstance(listed, list):
        raise ManifestError(f"{its} does not list the photos as NeedleDesk does")
    found: dict[str, int] = {}
    for entry in listed:
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or not _HASH.fullmatch(sha):
            raise ManifestError(f"{its} names a photo file by something that is not a photo's "
                                "name (a photo is named by the 64 hexadecimal digits of its "
                                "hash)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"{its} gives a photo a size that is not a whole number of "
                                "bytes")
        if sha in found:
            raise ManifestError(f"{its} names the same photo twice")
        found[sha] = size
    return found


def _photo_problem(backup: Path, conn: sqlite3.Connection, *, files: bool,
                   read: bool = False) -> tuple[int, str | None]:
    """(photos held, why the backup's photos are not sound or None). `files`: also look for
    each listed photo file in the backup folder (its size); `read`: and read each against
    its hash (restore always does)."""
    needed = live_photos(conn)
    try:
        listed = manifest_photos(backup)
    except ManifestError as exc:
        return len(needed), str(exc)
    if listed is None:
        if needed:
            return len(needed), (f"its list of photos (the manifest) is missing, so its "
                                 f"{_photos_text(len(needed))} cannot be checked")
        return 0, None
    if set(listed) != needed:
        return len(needed), ("its list of photos (the manifest) does not match the photos its "
                             "records name")
    if files:
        store = photos_of(backup.parent)
        absent = [sha for sha, size in listed.items()
                  if not _kept_sound(store, sha, size, read=read)]
        if absent:
            return len(needed), (f"{len(absent)} of its {_photos_text(len(listed))} "
                                 f"{'is' if len(absent) == 1 else 'are'} missing or damaged "
                                 f"in {store.root}")
    return len(needed), None


def _kept_sound(store: FolderPhotoStore, sha: str, size: int, *, read: bool) -> bool:
    """The photo file is in `store` with its size (`read`: and its bytes match its hash)."""
    try:
        return store.has(sha) and store.size(sha) == size and \
            (not read or digest(store.get(sha)) == sha)
    except (OSError, PhotoFileError):
        return False


def _photos_text(count: int) -> str:
    return f"{count} photo" + ("" if count == 1 else "s")


def _carry_photos(hashes: list[str], source: FolderPhotoStore, target: FolderPhotoStore,
                  on_bytes: Callable[[int], None], still_named: Callable[[str], bool]
                  ) -> tuple[dict[str, int], int]:
    """Copy into `target` each photo of `hashes` it does not hold yet: atomically, and read
    back against its hash. Returns ({sha256: size} of all of them, how many were copied).
    A photo file missing from or changed in `source` stops the backup (BackupError), said
    as a removal meanwhile when the database (`still_named`) no longer names it."""
    listed: dict[str, int] = {}
    copied = 0
    for sha in hashes:
        try:
            size = source.size(sha)
        except OSError:
            if not still_named(sha):
                raise BackupError("a photo was removed while the backup was being taken; "
                                  "nothing was backed up: back up again") from None
            raise BackupError(f"a photo's file ({sha[:12]}…) is missing from {source.root}; "
                              "run `needledesk check`, restore it from a backup, and back up "
                              "again") from None
        there = target.path(sha)
        if there.is_file() and there.stat().st_size == size:
            listed[sha] = size  # an earlier backup copied it (and read it back) already
            continue
        try:
            data = source.get(sha)
        except PhotoFileError as exc:
            raise BackupError(f"{exc}; nothing was backed up") from None
        if digest(data) != sha:
            raise BackupError(f"a photo's file ({sha[:12]}…) in {source.root} was changed "
                              "outside NeedleDesk (it no longer matches its hash); run "
                              "`needledesk check`; nothing was backed up")
        try:
            for folder in (target.root, there.parent):
                _ensure_folder(folder)
            write_atomically(there, data)
            if digest(there.read_bytes()) != sha:
                there.unlink()
                raise BackupError(f"the photo {sha[:12]}… did not read back as written in "
                                  f"{target.root}; the backup drive may be failing")
        except OSError as exc:
            raise BackupError(f"cannot copy the photos into {target.root}: {_reason(exc)}"
                              ) from None
        listed[sha] = len(data)
        copied += 1
        on_bytes(len(data))
    return listed, copied


def _sweep_photos(folder: Path) -> list[Path]:
    """Remove the photo files in `folder`'s photo folder that no manifest there names (each
    older than PHOTO_GRACE_SECONDS), and temporary files a crash left a day ago. Nothing is
    removed while any manifest in the folder cannot be read."""
    store = photos_of(folder)
    if not store.root.is_dir():
        return []
    named: set[str] = set()
    try:
        manifests = sorted(folder.glob("*" + anchors.MANIFEST_SUFFIX))
    except OSError:
        return []
    for manifest in manifests:
        backup = manifest.with_name(manifest.name.removesuffix(anchors.MANIFEST_SUFFIX))
        try:
            named |= set(manifest_photos(backup) or {})
        except ManifestError as exc:
            log.warning("not removing unused backup photos from %s: %s", store.root, exc)
            return []
    now = time.time()
    removed = []
    for sha in list(store.hashes()):
        path = store.path(sha)
        with contextlib.suppress(OSError):
            if sha not in named and path.stat().st_mtime < now - PHOTO_GRACE_SECONDS:
                path.unlink()
                removed.append(path)
    for stray in store.strays():
        with contextlib.suppress(OSError):
            if stray.name.startswith(".incoming-") and \
                    stray.stat().st_mtime < now - STALE_TEMP_SECONDS:
                stray.unlink()
                removed.append(stray)
    return removed


# --- reading a backup --------------------------------------------------------------------

def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                           isolation_level=None, check_same_thread=False)


def _first_problem(conn: sqlite3.Connection, pragma: str) -> str | None:
    rows = [row[0] for row in conn.execute(f"PRAGMA {pragma}")]
    return None if rows == ["ok"] else (rows[0] if rows else "no answer")


def _facts(conn: sqlite3.Connection, path: Path) -> tuple[int, int, int, bool]:
    """(clients, sessions, schema version, written by a newer NeedleDesk). Raises
    DatabaseError for a SQLite file that is not NeedleDesk's (`database.identify`)."""
    found = identify(conn, path)
    if not {"clients", "sessions"} <= found.tables:
        raise DatabaseError(f"{path}: is not a NeedleDesk database (no client records)")
    clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
    sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    return clients, sessions, found.version, found.newer


def _inspect(path: Path, check: str | None) -> tuple[BackupInfo, bool]:
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"{path}: no such backup file")
    try:
        conn = _read_only(path)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: cannot be opened ({exc})") from None
    try:
        clients, sessions, version, newer = _facts(conn, path)
        problem = _first_problem(conn, check) if check else None
        if problem is not None:
            raise DatabaseError(f"{path}: is damaged and cannot be used as a backup "
                                f"(SQLite reports: {problem})")
        photos, photo_problem = _photo_problem(path, conn, files=check is not None,
                                               read=check == "integrity_check")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path}: is damaged or not a NeedleDesk database ({exc})") from None
    finally:
        conn.close()
    stamp = _stamp_of(path) or datetime.fromtimestamp(path.stat().st_mtime)
    return BackupInfo(path, stamp, clients, sessions, version, path.stat().st_size,
                      problem=photo_problem,
                      photos=photos), newer


def describe(path: str | os.PathLike[str], *, thorough: bool = False) -> BackupInfo:
    """What the backup at `path` holds, read without changing it. Raises DatabaseError if
    it is not a sound NeedleDesk database (`quick_check`; `thorough`: `integrity_check`).
    Its photos not being sound (the manifest missing, unreadable or not matching the
    records, a listed photo file absent or of another size; `thorough`: or not matching its
    hash) is said in `problem`."""
    return _inspect(Path(path), "integrity_check" if thorough else "quick_check")[0]


def list_backups(folder: str | os.PathLike[str], *, check: bool = True) -> list[BackupInfo]:
    """The backups in `folder` named like ours, newest first. One that cannot be read is
    listed too, with zero counts and the reason in `problem`, so that a damaged backup is
    seen rather than silently missing; so is one whose photos are not sound (`describe`).
    `check=False` skips `quick_check` (which reads every page: slow for many large backups on
    a USB stick) and looking for each photo file; restore checks in full anyway."""
    found = []
    for stamp, path in _generations(Path(folder)):
        try:
            found.append(_inspect(path, "quick_check" if check else None)[0])
        except (DatabaseError, OSError) as exc:
            size = path.stat().st_size if path.exists() else 0
            found.append(BackupInfo(path, stamp, 0, 0, 0, size, problem=str(exc)))
    return found


def due(folder: str | os.PathLike[str], now: datetime | None = None) -> bool:
    """True when `folder` holds no backup taken today: time for the day's automatic one."""
    today = (now or datetime.now()).date()
    return not any(stamp.date() == today for stamp, _ in _generations(Path(folder)))


# --- writing a copy ----------------------------------------------------------------------

def _reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_FULL:
        return "the disk is full"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is read-only or not writable by this user"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _remove(path: Path) -> None:
    for leftover in (*companions(path), path.with_name(path.name + "-journal")):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _begin_read(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the snapshot


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable. Windows cannot open a folder for this, and some filesystems
    (network, FUSE) refuse it: the file's own data is already on disk, so only warn."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("could not sync folder %s: %s", folder, exc)


def hidden_temp(target: Path) -> Path:
    """A new empty hidden file beside `target` (`.name.….tmp`, 0600) for a backup to be
    written into before it takes `target`'s name."""
    folder = target.parent
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise BackupError(f"cannot write into {folder}: {_reason(exc)}") from None
    os.close(fd)
    return Path(name)


def _write_temp(source: sqlite3.Connection, target: Path, *, verify: bool,
                on_progress: Progress | None = None
                ) -> tuple[Path, tuple[int, int, int, bool] | None]:
    """Copy `source` into a new hidden 0600 file beside `target`; the copy is one file in
    journal mode DELETE. With `verify`, it must pass integrity_check and be NeedleDesk's.
    Returns the temporary file and, with `verify`, its facts. Leaves nothing on failure."""
    folder = target.parent
    if not folder.is_dir():
        raise BackupError(f"cannot write {target.name}: the folder {folder} is not there")
    temp = hidden_temp(target)

    def progress(_status: int, remaining: int, total: int) -> None:
        if on_progress is not None:
            on_progress(total - remaining, total)

    facts = None
    try:
        dest = sqlite3.connect(temp, isolation_level=None, check_same_thread=False)
        try:
            # A temporary file that a crash leaves half-written is thrown away, never used:
            # one fsync before the rename (below) is all the durability it needs.
            dest.execute("PRAGMA synchronous = OFF")
            # One read transaction over every step: the steps copy one snapshot, so writes
            # by other connections neither restart the copy nor tear it.
            own = not source.in_transaction
            if own:
                _begin_read(source)
            try:
                source.backup(dest, pages=PAGES_PER_STEP, progress=progress)
            finally:
                if own:
                    source.execute("COMMIT")
            # The copied header says WAL; a backup is better as one self-contained file.
            dest.execute("PRAGMA journal_mode = DELETE")
            if verify:
                problem = _first_problem(dest, "integrity_check")
                if problem is not None:
                    raise BackupError(f"the copy failed SQLite's integrity check ({problem}); "
                                      "the database may be damaged: run `needledesk check`")
                facts = _facts(dest, target)
        finally:
            dest.close()
        _fsync(temp)
    except sqlite3.DatabaseError as exc:
        _remove(temp)
        if exc.sqlite_errorcode & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            raise DatabaseError(f"the database is damaged and cannot be copied ({exc})"
                                ) from None
        raise BackupError(f"cannot write into {folder}: {_reason(exc)}") from None
    except OSError as exc:
        _remove(temp)
        raise BackupError(f"cannot write into {folder}: {_reason(exc)}") from None
    except BaseException:
        _remove(temp)
        raise
    return temp, facts


def _put_in_place(temp: Path, target: Path) -> None:
    try:
        os.replace(temp, target)
    except OSError as exc:
        _remove(temp)
        raise BackupError(f"cannot write {target.name} into {target.parent}: {_reason(exc)}"
                          ) from None
    _fsync_folder(target.parent)


def _source_path(source: str | os.PathLike[str] | Database | sqlite3.Connection) -> Path:
    if isinstance(source, Database):
        source = source.conn
    if isinstance(source, sqlite3.Connection):
        # Only the file name is taken from it: the copy reads through a connection of its
        # own, so a worker thread never shares the window's connection.
        file = next((row[2] for row in source.execute("PRAGMA database_list")
                     if row[1] == "main"), "")
        if not file:
            raise BackupError("an in-memory database has no file to back up")
        return Path(file)
    return Path(source)


def backup_to(source: str | os.PathLike[str] | Database | sqlite3.Connection,
              target: str | os.PathLike[str], *, on_progress: Progress | None = None,
              photos: bool = False) -> BackupInfo:
    """Write a verified backup of the database `source` (its path, or an open connection to
    it) to `target`, replacing any file there. `on_progress(done, total)` is called after
    each step, on the calling thread (in pages of the database, photos counted by their size
    in pages). Safe on a worker thread while the window keeps writing; from a worker, pass
    the path rather than the window's connection.

    With `photos`, the photos the copy names are carried into the `photos/` folder beside
    `target` (only those not there yet) and listed in its manifest, which is put in place
    before the backup. Without (the copy taken before a schema upgrade, beside the database),
    the photos stay where they are and the manifest lists none."""
    db_path, target = _source_path(source), Path(target)
    if not db_path.is_file():
        raise BackupError(f"{db_path}: no database there to back up")
    if target.exists() and any(p.exists() and os.path.samefile(p, target)
                               for p in companions(db_path)):
        raise BackupError(f"{target}: is the database itself; choose another file")
    # Nor over its journal or lock (by name, symlink or hard link). The generations go into
    # the backup folder, so a caller taking a user's `-o` refuses that folder itself.
    refuse_protected_target(target, db_path, backups=False)
    started = datetime.now().replace(microsecond=0)
    try:
        conn = sqlite3.connect(db_path, timeout=10, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{db_path}: cannot be opened ({exc})") from None
    live = FolderPhotoStore(photo_folder(os.path.realpath(db_path)))
    kept = photos_of(target.parent)
    try:
        page = int(conn.execute("PRAGMA page_size").fetchone()[0]) or 4096
        # The photos still to copy, as the database is now: the bar's length from the start.
        ahead = sum(-(-_size_or_zero(live, sha) // page) for sha in live_photos(conn)
                    if not kept.has(sha)) if photos else 0

        def pages(done: int, total: int) -> None:
            if on_progress is not None:
                on_progress(done, total + ahead)

        temp, facts = _write_temp(conn, target, verify=True, on_progress=pages)
    finally:
        conn.close()
    listed: dict[str, int] | None = None
    copied = 0
    if photos:
        try:
            listed, copied = _carry_copy_photos(temp, db_path, live, kept, page,
                                                on_progress)
        except BaseException:
            _remove(temp)
            raise
    manifest = _manifest_temp(temp, target, listed)
    before = _put_manifest_in_place(manifest, target, temp)
    try:
        _put_in_place(temp, target)
    except BaseException:
        _undo_manifest(target, before)
        raise
    assert facts is not None
    clients, sessions, version, _ = facts
    return BackupInfo(target, _stamp_of(target) or started, clients, sessions, version,
                      target.stat().st_size, photos=len(listed or {}), photos_copied=copied)


def _size_or_zero(store: FolderPhotoStore, sha: str) -> int:
    try:
        return store.size(sha)
    except OSError:
        return 0


def _carry_copy_photos(temp: Path, db_path: Path, live: FolderPhotoStore,
                       kept: FolderPhotoStore, page: int, on_progress: Progress | None
                       ) -> tuple[dict[str, int], int]:
    """The photos the finished copy at `temp` names, carried into `kept` (`_carry_photos`),
    the progress going on from the copy's last page."""
    conn = _read_only(temp)
    try:
        pages_total = conn.execute("PRAGMA page_count").fetchone()[0]
        hashes = sorted(live_photos(conn))
    finally:
        conn.close()
    ahead = sum(-(-_size_or_zero(live, sha) // page) for sha in hashes if not kept.has(sha))
    done = [0]

    def copied_bytes(size: int) -> None:
        done[0] += -(-size // page)
        if on_progress is not None:
            on_progress(pages_total + min(done[0], ahead), pages_total + ahead)

    def still_named(sha: str) -> bool:
        """Whether the database (as it is now, not the copy) names the photo."""
        try:
            now = _read_only(db_path)
            try:
                return sha in live_photos(now)
            finally:
                now.close()
        except sqlite3.Error:
            return True

    return _carry_photos(hashes, live, kept, copied_bytes, still_named)


def _manifest_temp(temp: Path, target: Path, photos: dict[str, int] | None = None) -> Path:
    """The manifest of the finished copy at `temp` (database id, the audit trail's head,
    the restore epoch, the file's SHA-256: `store.anchors`; with `photos`, the photos it
    needs), in a hidden 0600 temporary file beside `target`. On failure the copy is removed
    too: nothing is left half-made."""
    try:
        manifest = anchors.manifest_for(temp, target.name)
        if photos is not None:
            manifest["files"]["photos"] = [{"sha256": sha, "size": size}
                                           for sha, size in sorted(photos.items())]
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.manifest.",
                                    suffix=".tmp")
    except (OSError, sqlite3.Error) as exc:
        _remove(temp)
        raise BackupError(f"cannot write the manifest of {target.name} into {target.parent}: "
                          f"{_reason(exc)}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(manifest, out, ensure_ascii=False, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        _remove(Path(name))
        _remove(temp)
        raise BackupError(f"cannot write the manifest of {target.name} into {target.parent}: "
                          f"{_reason(exc)}") from None
    return Path(name)


def _put_manifest_in_place(manifest: Path, target: Path, temp: Path) -> bytes | None:
    """The manifest in place before the backup it describes (`temp`, to be renamed to
    `target`): a file named like a backup always has its list of photos beside it. Returns
    the manifest that was there before (a backup replaced within the same minute), for
    `_undo_manifest` should the backup then not be put in place."""
    path = anchors.manifest_path(target)
    try:
        before: bytes | None = path.read_bytes()
    except OSError:
        before = None
    try:
        os.replace(manifest, path)
    except OSError as exc:
        _remove(manifest)
        _remove(temp)
        raise BackupError(f"cannot write the manifest of {target.name} into {target.parent}: "
                          f"{_reason(exc)}") from None
    _fsync_folder(target.parent)
    return before


def _undo_manifest(target: Path, before: bytes | None) -> None:
    """The backup was not put in place: its manifest goes, the earlier one comes back."""
    path = anchors.manifest_path(target)
    try:
        if before is None:
            path.unlink()
        else:
            write_atomically(path, before)
    except OSError as exc:
        log.warning("could not undo the manifest %s: %s", path, exc)


# --- generations -------------------------------------------------------------------------

def take_backup(db_path: str | os.PathLike[str], folder: str | os.PathLike[str], *,
                now: datetime | None = None, on_progress: Progress | None = None) -> BackupInfo:
    """Write a new generation into `folder` (created 0700 if missing), with its photos
    (`backup_to`), then `rotate` it. A second backup within the same minute replaces the
    first."""
    folder = Path(folder)
    now = (now or datetime.now()).replace(second=0, microsecond=0)
    _ensure_folder(folder)
    info = backup_to(db_path, folder / backup_name(now), on_progress=on_progress, photos=True)
    rotate(folder, now)
    return info


def rotate(folder: str | os.PathLike[str], now: datetime | None = None) -> list[Path]:
    """Delete the generations no rule keeps; return what was deleted.

    Kept: the newest backup of each of the last 7 days that have backups, of the last 4
    ISO weeks that have backups and of the last 12 months that have backups (a file kept by
    any rule stays), and the newest backup of all. As in borg's prune, periods without a
    backup (the clinic closed for a month) do not use up a rule's count. A backup stamped
    after `now` (a clock that was wrong) is kept and counted by no rule. Only files named
    like a backup are touched, and the hidden temporary files of one that a crash left
    behind more than a day ago. Then the photo files that no remaining manifest names go
    (`_sweep_photos`)."""
    now = now or datetime.now()
    removed = _sweep_temps(Path(folder))
    generations = _generations(Path(folder))
    if not generations:
        return removed + _sweep_photos(Path(folder))
    keep = {generations[0][1]} | {path for stamp, path in generations if stamp > now}
    past = [(stamp, path) for stamp, path in generations if stamp <= now]
    rules: list[tuple[Callable[[datetime], object], int]] = [
        (lambda t: t.date(), KEEP_DAILY),
        (lambda t: t.isocalendar()[:2], KEEP_WEEKLY),
        (lambda t: (t.year, t.month), KEEP_MONTHLY),
    ]
    for period, count in rules:
        seen: set[object] = set()
        for stamp, path in past:  # newest first: the first of a period is its newest
            key = period(stamp)
            if key not in seen:
                if len(seen) == count:
                    break
                seen.add(key)
                keep.add(path)
    for _, path in generations:
        if path in keep:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:  # a new backup was written; an old one lingering is no harm
            log.warning("could not remove old backup %s: %s", path, exc)
            continue
        removed.append(path)
        _remove_manifest(path)
    return removed + _sweep_photos(Path(folder))


def _remove_manifest(backup: Path) -> None:
    with contextlib.suppress(OSError):
        anchors.manifest_path(backup).unlink()


def _sweep_temps(folder: Path) -> list[Path]:
    """Remove the hidden temporary files a crash mid-backup left (they hold records too)."""
    removed = []
    limit = time.time() - STALE_TEMP_SECONDS
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    for path in entries:
        if _TEMP.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
    return removed
