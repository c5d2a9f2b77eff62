"""Where photos' bytes are kept: one interface, `PhotoStore`, that the Repository, `check`,
backups and the exchange go through, whatever holds the bytes.

For the clinic's SQLite file the bytes sit in a content-addressed folder beside it
(`needledesk.photos/` beside `needledesk.db`, as Anki keeps `collection.media` beside its
collection): each photo is a file named by the SHA-256 of its bytes, under a folder named by
the hash's first two digits. Photos are large and never change, and a folder keeps the
database small: start-up's whole-file check, search and the database's backups stay as fast
with 20,000 photos as with none, and a backup copies only the photos it has not copied
before. A clinic server (PostgreSQL) will keep them in the database instead, behind this
same interface, so every room sees them.

A photo is written before the row naming it commits: to a temporary file in the folder,
fsynced, renamed to its name, and the folder fsynced. A crash in between leaves at most a
file that no row names (an orphan: `check` lists it, `tidy` removes it), never a row
without its photo. Every file and folder is readable by its user only.

Thumbnails are a cache (`.thumbs/` inside the folder): made when first asked for, never
backed up or checked, remade if missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

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


def store_for(db_path: str) -> PhotoStore:
    """The photo store of the database file at `db_path` ('' for one in memory)."""
    if not db_path:
        return MemoryPhotoStore()
    return FolderPhotoStore(photo_folder(db_path))
