"""One NeedleDesk per database file: a lock beside it, and a warning for network shares.

The lock is an OS lock on an open file (`flock` on POSIX, `msvcrt.locking` on Windows), so
the OS drops it when the process ends, however it ends: a crash never leaves a stale lock.
The file itself only tells the next comer who holds it (pid, host, user, since when).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import ntpath
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from needledesk.errors import NeedleDeskError

# sys.platform rather than os.name: the same test, and the one type checkers follow.
if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

PRIVATE = 0o600
#: O_BINARY: Windows would otherwise open in text mode and translate what is written.
#: O_NOFOLLOW (POSIX): a symbolic link at the lock's name is refused, never followed, so
#: `ln -s ~/victim clinic.db.lock` can neither create nor truncate the victim.
#: O_NONBLOCK: a FIFO planted there opens at once (and is refused) instead of hanging.
#: Never O_TRUNC: the holder line is written only once the file is known to be the lock.
_OPEN_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
               | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
#: A holder line is under 200 bytes: a bigger file at the lock's name is someone's data.
_MAX_LOCK_SIZE = 4096
#: Windows locks are mandatory: lock a byte far past the JSON so others can still read it.
_WINDOWS_LOCK_OFFSET = 0x40000000


class AlreadyOpenError(NeedleDeskError):
    """Another NeedleDesk (here or on another computer) has this database open."""

    def __init__(self, lock_path: Path, holder: dict[str, Any]):
        self.lock_path = lock_path
        self.holder = holder
        super().__init__(f"NeedleDesk is already open on this database ({_describe(holder)}). "
                         "Close it there first.")


class NotALockFileError(NeedleDeskError):
    """Something other than NeedleDesk's lock file has the lock's name; it is left as is."""

    def __init__(self, lock_path: Path, why: str):
        self.lock_path = lock_path
        super().__init__(f"{lock_path}: is not NeedleDesk's lock file ({why}); it was left "
                         "untouched and nothing was written. Move it out of the way, then "
                         "try again")


def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    """`clinic.db.lock` beside `clinic.db`, whichever way (symlink, relative) it is reached."""
    path = Path(db_path).resolve()
    return path.with_name(path.name + ".lock")


class DatabaseLock:
    """Held while this process may write the database; `release()` or leave the `with`."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: str | os.PathLike[str]) -> DatabaseLock:
        """Lock `db_path` for this process, or raise `AlreadyOpenError` naming the holder."""
        path = lock_path_for(db_path)
        # A releasing holder deletes the file while still holding it; whoever opened the
        # old file then locks a file nobody else will see, so check and try again.
        for _ in range(20):
            _refuse_odd(path, _lstat(path))  # Windows has no O_NOFOLLOW: look first
            try:
                fd = os.open(path, _OPEN_FLAGS, PRIVATE)
            except OSError as exc:
                _refuse_odd(path, _lstat(path))  # O_NOFOLLOW met a link made meanwhile
                raise NeedleDeskError(f"{path}: cannot be opened ({exc.strerror})") from None
            try:
                _refuse_odd(path, os.fstat(fd))
                if not _try_lock(fd):
                    raise AlreadyOpenError(path, _read_holder(fd))
                if _same_file(fd, path):
                    _refuse_odd(path, os.fstat(fd))  # again, just before writing to it
                    _write_holder(fd)
                    return cls(path, fd)
            except OSError as exc:
                os.close(fd)
                raise NeedleDeskError(f"{path}: cannot be locked ({exc.strerror})") from None
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise NeedleDeskError(f"{path}: cannot be locked (it keeps being replaced)")

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            os.close(fd)
            # Fails while another process has it open, which is just what we want.
            with contextlib.suppress(OSError):
                os.remove(self.path)
            return
        # Delete while still locked: whoever opened the file meanwhile finds, once it has the
        # lock, that the path no longer leads to it, and starts over (see `acquire`).
        if _same_file(fd, self.path):
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """True when this process now holds the lock; False when another process does."""
    if sys.platform == "win32":
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _refuse_odd(path: Path, info: os.stat_result | None) -> None:
    """Raise `NotALockFileError` unless `info` (of the lock's name, not followed, or of the
    opened file) is missing or a plain file with no other name and a lock's few bytes."""
    if info is None:
        return
    reparse = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    if stat.S_ISLNK(info.st_mode) or getattr(info, "st_file_attributes", 0) & reparse:
        raise NotALockFileError(path, "it is a symbolic link or junction")
    if not stat.S_ISREG(info.st_mode):
        raise NotALockFileError(path, "it is not a regular file")
    if info.st_nlink > 1:
        raise NotALockFileError(path, "it is a hard link: the same file has another name")
    if info.st_size > _MAX_LOCK_SIZE:
        raise NotALockFileError(path, f"it holds {info.st_size:,} bytes, more than a lock")


def _same_file(fd: int, path: Path) -> bool:
    """The name leads to the opened file itself (not through a symbolic link)."""
    try:
        on_disk = os.lstat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _write_holder(fd: int) -> None:
    if os.name == "posix":
        with contextlib.suppress(OSError):  # someone else's file: the lock still holds
            os.fchmod(fd, PRIVATE)
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "user": _user(),
              "started": datetime.now().isoformat(timespec="seconds")}
    # Only a courtesy to the next comer: a full disk must not stop the lock from working.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(holder).encode("utf-8"))


def _read_holder(fd: int) -> dict[str, Any]:
    # The holder writes its JSON just after locking: give it a moment if it is mid-write.
    for attempt in range(5):
        with contextlib.suppress(OSError, ValueError):
            os.lseek(fd, 0, os.SEEK_SET)
            holder = json.loads(os.read(fd, 4096).decode("utf-8"))
            if isinstance(holder, dict):
                return holder
        if attempt < 4:
            time.sleep(0.05)
    return {}


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (getpass raises various things)
        return ""


def _describe(holder: dict[str, Any]) -> str:
    parts = []
    if isinstance(holder.get("pid"), int):
        parts.append(f"pid {holder['pid']}")
    if holder.get("host"):
        parts.append(f"on host {holder['host']}")
    since = _since(holder.get("started"))
    if since:
        parts.append(f"since {since}")
    return " ".join(parts) or "in another window or on another computer"


def _since(started: Any) -> str:
    try:
        when = datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return ""
    if when.date() == datetime.now().date():
        return when.strftime("%H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


# --- network file systems -------------------------------------------------------------------

#: File system types (as in /proc/mounts or `mount`) that live on another computer.
NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "coda", "ceph", "glusterfs",
    "lustre", "afpfs", "webdav", "davfs",
})
#: FUSE file systems whose files are on another computer (`fuse.sshfs` in /proc/mounts).
NETWORK_FUSE = frozenset({
    "sshfs", "rclone", "s3fs", "gcsfuse", "smbnetfs", "curlftpfs", "davfs2", "glusterfs",
    "cephfs", "ceph", "juicefs", "goofys", "afpfs",
})
_DRIVE_REMOTE = 4


def network_filesystem(path: str | os.PathLike[str], mounts: str | os.PathLike[str] = "/proc/mounts"
                       ) -> str | None:
    """The network file system type `path` is on ("nfs", "cifs", "fuse.sshfs", …), or None
    when it is local or cannot be told. Never raises: this only decides a warning."""
    try:
        if os.name == "nt":
            return _windows_network(os.path.abspath(path), _drive_type)
        where = os.path.realpath(path)
        if Path(mounts).exists():
            table = _parse_proc_mounts(Path(mounts).read_text(encoding="utf-8",
                                                              errors="replace"))
        elif sys.platform == "darwin":
            table = _parse_mount_output(subprocess.run(
                ["/sbin/mount"], capture_output=True, text=True, timeout=3, check=False).stdout)
        else:
            return None
        kind = _mount_type(where, table)
        return kind if kind and _is_network(kind) else None
    except Exception:
        return None


def _is_network(kind: str) -> bool:
    kind = kind.lower()
    if kind.startswith("fuse."):
        return kind.removeprefix("fuse.") in NETWORK_FUSE
    return kind in NETWORK_TYPES or kind.startswith("nfs")


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _parse_proc_mounts(text: str) -> list[tuple[str, str]]:
    table = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            table.append((_unescape(fields[1]), fields[2]))
    return table


def _parse_mount_output(text: str) -> list[tuple[str, str]]:
    """macOS `mount`: `//ana@nas/clinic on /Volumes/clinic (smbfs, nodev, nosuid, ...)`."""
    table = []
    for line in text.splitlines():
        found = re.match(r"^.+? on (.+) \(([^,)]+)", line)
        if found:
            table.append((found.group(1), found.group(2).strip()))
    return table


def _mount_type(where: str, table: list[tuple[str, str]]) -> str | None:
    """The type of the longest mount point that contains `where` (the last one mounted
    there wins, as it hides the ones below it)."""
    best, kind = -1, None
    for point, fstype in table:
        inside = (where == point or point == "/"
                  or where.startswith(point.rstrip("/") + "/"))
        if inside and len(point) >= best:
            best, kind = len(point), fstype
    return kind


def _drive_type(root: str) -> int:
    import ctypes

    windll: Any = getattr(ctypes, "windll")  # noqa: B009 (typeshed has it on Windows only)
    return int(windll.kernel32.GetDriveTypeW(root))


def _windows_network(path: str, drive_type: Callable[[str], int]) -> str | None:
    """A UNC path (`\\\\server\\share\\...`) or a drive letter mapped to a network share."""
    text = path.replace("/", "\\")
    if text.upper().startswith("\\\\?\\UNC\\"):
        return "network share"
    if text.startswith(("\\\\?\\", "\\\\.\\")):
        text = text[4:]
    elif text.startswith("\\\\"):
        return "network share"
    drive, _ = ntpath.splitdrive(text)
    if len(drive) == 2 and drive[1] == ":" and drive_type(drive + "\\") == _DRIVE_REMOTE:
        return "network drive"
    return None
