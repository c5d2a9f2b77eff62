"""Where photos' bytes are kept: one interface, `PhotoStore`, that the Repository, `check`,
backups and the exchange go through, whatever holds the bytes.

For the clinic's SQLite file the bytes sit in a content-addressed folder beside it
(`needledesk.photos/` beside `needledesk.db`, as Anki keeps `collection.media` beside its
collection): each photo is a file named by the SHA-256 of its bytes, under a folder named by
the hash's first two digits. Photos are large and never change, and a folder keeps the
database small: start-up's whole-file check, search and the database's backups stay as fast
with 20,000 photos as with none, and a backup copies only the photos it has not copied
before. A clinic server (PostgreSQL) keeps them in its database instead (`photo_files`,
through `ServerPhotoStore`), behind this same interface, so every room sees them.

A photo is written before the row naming it commits: to a temporary file in the folder,
fsynced, renamed to its name, and the folder fsynced. A crash in between leaves at most a
file that no row names (an orphan: `check` lists it, `tidy` removes it), never a row
without its photo. Every file and folder is readable by its user only.

Thumbnails are a cache (`.thumbs/` inside the folder): made when first asked for, never
backed up or checked, remade if missing. A clinic server's thumbnails are not kept on the
server: each PC caches its own in the user's cache folder (`ThumbnailCache`), user-only,
never backed up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from needledesk.errors import NeedleDeskError

_PRIVATE_FILE, _PRIVATE_FOLDER = 0o600, 0o700
_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)
THUMBS = ".thumbs"


class PhotoFileError(NeedleDeskError):
    """A photo's bytes could not be written or read; no record was changed."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PhotoStore(Protocol):
    """Photos' bytes by their SHA-256. `put` is idempotent (the same bytes, the same name)
    and durable when it returns; `get` returns exactly what was put or raises."""

    def put(self, data: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...

    def has(self, sha256: str) -> bool: ...

    def discard(self, sha256: str) -> None: ...

    def hashes(self) -> Iterator[str]: ...

    def size(self, sha256: str) -> int: ...

    def thumbnail(self, sha256: str, side: int) -> bytes | None: ...

    def keep_thumbnail(self, sha256: str, side: int, data: bytes) -> None: ...


def photo_folder(db_path: str | os.PathLike[str]) -> Path:
    """`needledesk.photos` beside `needledesk.db`."""
    path = Path(db_path)
    return path.with_name(path.stem + ".photos")


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return   # Windows: a rename is durable once the file's own data is flushed
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, data: bytes, *, durable: bool = True) -> None:
    """`data` at `target`, whole or not at all: a temporary file beside it, fsynced,
    renamed over it, and the folder fsynced (not `durable`: no fsync, for a cache a crash
    may lose). Readable by its user only."""
    fd, temp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if os.name == "posix":
            os.chmod(temp, _PRIVATE_FILE)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        _fsync_folder(target.parent)


def _private_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(mode=_PRIVATE_FOLDER, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, _PRIVATE_FOLDER)


class FolderPhotoStore:
    """The photos of one SQLite file, in a content-addressed folder beside it."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _HASH.fullmatch(sha256):
            raise PhotoFileError(f"{sha256!s:.20}… is not a photo's name")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha = digest(data)
        target = self.path(sha)
        if target.is_file() and target.stat().st_size == len(data) and \
                digest(target.read_bytes()) == sha:
            return sha
        try:
            _private_folder(self.root)
            _private_folder(target.parent)
            write_atomically(target, data)
        except OSError as exc:
            raise PhotoFileError(f"the photo could not be saved in {self.root}: "
                                 f"{exc.strerror or exc}. Nothing was stored.") from None
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise PhotoFileError(f"the photo file {sha256[:12]}… is missing from "
                                 f"{self.root}; restore it from a backup") from None
        except OSError as exc:
            raise PhotoFileError(f"the photo file {sha256[:12]}… cannot be read: "
                                 f"{exc.strerror or exc}") from None

    def has(self, sha256: str) -> bool:
        return _HASH.fullmatch(sha256) is not None and self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def discard(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()
        for thumb in self._thumb_dir().glob(f"{sha256}-*.jpg"):
            with contextlib.suppress(OSError):
                thumb.unlink()

    def hashes(self) -> Iterator[str]:
        """Every photo file held (temporary files and thumbnails are not photos)."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for item in sorted(sub.iterdir()):
                if _HASH.fullmatch(item.name) and item.name[:2] == sub.name:
                    yield item.name

    def strays(self) -> list[Path]:
        """Files in the folder that are neither photos nor thumbnails: temporary files a
        crash left, or anything put there by hand."""
        if not self.root.is_dir():
            return []
        found = []
        for item in self.root.rglob("*"):
            if item.is_dir() or THUMBS in item.relative_to(self.root).parts:
                continue
            parts = item.relative_to(self.root).parts
            if len(parts) == 2 and _HASH.fullmatch(parts[1]) and parts[1][:2] == parts[0]:
                continue
            found.append(item)
        return sorted(found)

    def _thumb_dir(self) -> Path:
        return self.root / THUMBS

    def thumbnail(self, sha256: str, side: int) -> bytes | None:
        try:
            return (self._thumb_dir() / f"{sha256}-{side}.jpg").read_bytes()
        except OSError:
            return None

    def keep_thumbnail(self, sha256: str, side: int, data: bytes) -> None:
        with contextlib.suppress(OSError):   # a cache: not keeping one loses nothing
            _private_folder(self.root)
            _private_folder(self._thumb_dir())
            write_atomically(self._thumb_dir() / f"{sha256}-{side}.jpg", data, durable=False)


class MemoryPhotoStore:
    """Photos of a database held in memory (`:memory:` in tests and tools)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.thumbs: dict[tuple[str, int], bytes] = {}

    def put(self, data: bytes) -> str:
        sha = digest(data)
        self.files[sha] = bytes(data)
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            return self.files[sha256]
        except KeyError:
            raise PhotoFileError(f"the photo {sha256[:12]}… is missing") from None

    def has(self, sha256: str) -> bool:
        return sha256 in self.files

    def size(self, sha256: str) -> int:
        return len(self.files[sha256])

    def discard(self, sha256: str) -> None:
        self.files.pop(sha256, None)
        for key in [k for k in self.thumbs if k[0] == sha256]:
            del self.thumbs[key]

    def hashes(self) -> Iterator[str]:
        yield from sorted(self.files)

    def thumbnail(self, sha256: str, side: int) -> bytes | None:
        return self.thumbs.get((sha256, side))

    def keep_thumbnail(self, sha256: str, side: int, data: bytes) -> None:
        self.thumbs[(sha256, side)] = data


class ThumbnailCache:
    """Thumbnails kept on this PC only: a folder of `<sha256>-<side>.jpg` files under the
    hash's first two digits, user-only, written without fsync (a crash may lose some; they
    are made again)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, sha256: str, side: int) -> Path:
        if not _HASH.fullmatch(sha256):
            raise PhotoFileError(f"{sha256!s:.20}… is not a photo's name")
        return self.root / sha256[:2] / f"{sha256}-{int(side)}.jpg"

    def get(self, sha256: str, side: int) -> bytes | None:
        try:
            return self._path(sha256, side).read_bytes()
        except (OSError, PhotoFileError):
            return None

    def keep(self, sha256: str, side: int, data: bytes) -> None:
        with contextlib.suppress(OSError, PhotoFileError):   # a cache: losing one loses nothing
            target = self._path(sha256, side)
            _private_folders(self.root)
            _private_folder(target.parent)
            write_atomically(target, data, durable=False)

    def forget(self, sha256: str) -> None:
        if not _HASH.fullmatch(sha256):
            return
        for thumb in (self.root / sha256[:2]).glob(f"{sha256}-*.jpg"):
            with contextlib.suppress(OSError):
                thumb.unlink()

    def keep_only(self, hashes: set[str]) -> int:
        """Forget the thumbnails of photos not in `hashes` (removed in any room); returns how
        many files went."""
        gone = 0
        if not self.root.is_dir():
            return 0
        for thumb in self.root.glob("??/*.jpg"):
            if thumb.name.split("-", 1)[0] not in hashes:
                with contextlib.suppress(OSError):
                    thumb.unlink()
                    gone += 1
        return gone


def _private_folders(folder: Path) -> None:
    """`folder` and the parents made for it, each user-only (mkdir's parents are not)."""
    missing = []
    for level in [folder, *folder.parents]:
        if level.is_dir():
            break
        missing.append(level)
    for level in reversed(missing):
        _private_folder(level)


def server_thumbnail_folder(server_url: str) -> Path:
    """This PC's thumbnails of one clinic server's photos: in the user's cache folder (never
    in the server's tables, never in a backup), a folder per server address."""
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("NeedleDesk", appauthor=False))
    return cache / "server-thumbnails" / digest(server_url.encode())[:16]


class ServerPhotoStore:
    """The photos of a clinic server, in its `photo_files` table: every room sees them.

    `put` stores the bytes under their own hash (idempotent; a row under that name holding
    other bytes is replaced), durable when it returns: its own transaction, or the caller's.
    Thumbnails are this PC's (`ThumbnailCache`), not the server's.

    A connection is not shared across threads while in use: the thread that made the store
    (the window's UI thread, the command's main thread) uses `db`; any other thread (a
    worker reading a photo or making a thumbnail) reads on a second connection of its own
    (`reader()`, opened when first needed, one at a time), closed by `close()` or when the
    store goes."""

    place = "the clinic server"
    #: A picture put less than this long ago and named by no photo yet may be one another
    #: room is saving right now (its bytes go first, its row after): it is not an orphan.
    SETTLING_MINUTES = 60

    def __init__(self, db: Any, *, thumbs: ThumbnailCache,
                 reader: Callable[[], Any] | None = None):
        from needledesk.store.engine import pg_photos

        self.db = db
        self.thumbs = thumbs
        self._sql = pg_photos
        self._open_reader = reader if reader is not None else db.fresh
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._reader: list[Any] = []   # the worker threads' connection, once opened
        self._closer = weakref.finalize(self, _close_all, self._reader)

    def _reading(self, read: Callable[[Any], Any]) -> Any:
        """`read(db)` on the store's connection from its own thread, else on the reader."""
        if threading.get_ident() == self._owner:
            return read(self.db)
        with self._lock:
            if self._reader and getattr(self._reader[0], "closed", False):
                self._reader.clear()
            if not self._reader:
                self._reader.append(self._open_reader())
            try:
                return read(self._reader[0])
            except NeedleDeskError:
                _close_all(self._reader)   # lost: the next read opens a new one
                raise

    def close(self) -> None:
        """Close the workers' reading connection (the store's own `db` is its owner's)."""
        with self._lock:
            _close_all(self._reader)

    def put(self, data: bytes) -> str:
        sha = digest(data)
        self._sql.put(self.db, sha, data)
        return sha

    def get(self, sha256: str) -> bytes:
        data = self._reading(lambda db: self._sql.get(db, sha256))
        if data is None:
            raise PhotoFileError(f"the photo {sha256[:12]}… is missing from the clinic "
                                 "server; restore it from a backup")
        return bytes(data)

    def has(self, sha256: str) -> bool:
        return _HASH.fullmatch(sha256) is not None and \
            bool(self._reading(lambda db: self._sql.has(db, sha256)))

    def size(self, sha256: str) -> int:
        found = self._reading(lambda db: self._sql.size(db, sha256))
        if found is None:
            raise PhotoFileError(f"the photo {sha256[:12]}… is missing from the clinic server")
        return int(found)

    def discard(self, sha256: str) -> None:
        self._sql.discard(self.db, sha256)
        self.thumbs.forget(sha256)

    def hashes(self) -> Iterator[str]:
        yield from self._reading(lambda db: list(self._sql.hashes(db)))

    def changed(self, hashes: list[str]) -> set[str]:
        """Of these stored photos, those whose bytes no longer match their hash (hashed by the
        server: no picture crosses the network)."""
        return set(self._reading(lambda db: self._sql.changed(db, hashes)))

    def settled(self, hashes: list[str]) -> set[str]:
        """Of these stored pictures, those put more than `SETTLING_MINUTES` ago."""
        return set(self._reading(lambda db: self._sql.settled(db, hashes,
                                                              self.SETTLING_MINUTES)))

    def thumbnail(self, sha256: str, side: int) -> bytes | None:
        return self.thumbs.get(sha256, side)

    def keep_thumbnail(self, sha256: str, side: int, data: bytes) -> None:
        self.thumbs.keep(sha256, side, data)


def _close_all(connections: list[Any]) -> None:
    while connections:
        with contextlib.suppress(Exception):   # closing a lost connection may fail: it is gone
            connections.pop().close()


def store_for(db_path: str) -> PhotoStore:
    """The photo store of the database file at `db_path` ('' for one in memory). A clinic
    server's photos are in the server (`ServerPhotoStore`): its address is refused here."""
    if not db_path:
        return MemoryPhotoStore()
    if "://" in db_path:
        raise ValueError("a clinic server's photos are in the server, not in a folder")
    return FolderPhotoStore(photo_folder(db_path))
