"""Where NeedleDesk may write a file a person chose: never over the clinic's own database.

A PDF, an exchange file or a backup written with `-o clinic.db` would replace the records
while they are open; one written over `clinic.db.lock` would let a second writer in. So the
database, its `-wal`, `-shm` and `-journal`, its `.lock`, its photo folder and its backup
folder (each with everything in it) are refused as targets: by name, through symbolic
links (both sides are resolved) and by hard link (a target that is the same file on disk
as one of them).
No Qt here: the command line and the window both call `refuse_protected_target`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from needledesk.errors import NeedleDeskError

#: The database's own files: SQLite's companions and NeedleDesk's one-writer lock.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".lock")
#: The backup folder NeedleDesk keeps beside the database (see store.backup).
BACKUP_FOLDER = "backups"


class ProtectedTargetError(NeedleDeskError):
    """The chosen file is one of the database's own files or inside its backup folder."""

    def __init__(self, target: str | os.PathLike[str]):
        self.target = Path(target)
        super().__init__(f"{target} is the clinic's database (or its lock, photo or backup "
                         "folder); choose another file name — nothing was written")


def _real(path: str | os.PathLike[str]) -> str:
    """The absolute path with every symbolic link followed, spelled as the OS compares."""
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def _stat(path: str | os.PathLike[str]) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def database_files(db_path: str | os.PathLike[str]) -> list[Path]:
    """The database and its companions, beside the path as given and beside the file it
    leads to (SQLite and the lock name them after the resolved file)."""
    given = Path(os.path.abspath(db_path))
    files = []
    for base in (given, Path(os.path.realpath(given))):
        files += [base.with_name(base.name + suffix) for suffix in DATABASE_SUFFIXES]
    return files


def backup_folders(db_path: str | os.PathLike[str],
                   extra: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """The `backups` folder beside the database (as given and as resolved) and `extra`
    (the window's chosen backup folder)."""
    given = Path(os.path.abspath(db_path))
    return ([given.parent / BACKUP_FOLDER, Path(os.path.realpath(given)).parent / BACKUP_FOLDER]
            + [Path(os.path.abspath(folder)) for folder in extra if str(folder)])


def photo_folders(db_path: str | os.PathLike[str]) -> list[Path]:
    """The photo folder beside the database (`clinic.photos` beside `clinic.db`), as given
    and as resolved (named as `store.photo_files.photo_folder` names it, which this lower
    layer may not import; a test keeps the two equal)."""
    given = Path(os.path.abspath(db_path))
    return [base.with_name(base.stem + ".photos")
            for base in (given, Path(os.path.realpath(given)))]


def is_protected_target(target: str | os.PathLike[str], db_path: str | os.PathLike[str], *,
                        backup_dirs: Iterable[str | os.PathLike[str]] = (),
                        backups: bool = True) -> bool:
    """True when writing `target` could replace or land among the database's own files.
    With `backups=False` the backup folders are not considered (the backup writer itself
    puts its generations there)."""
    real = _real(target)
    target_stat = _stat(target)
    files = database_files(db_path)
    if real in {_real(file) for file in files}:
        return True
    if target_stat is not None and stat.S_ISREG(target_stat.st_mode):
        for file in files:
            if _same(target_stat, _stat(file)):
                return True
    for folder in photo_folders(db_path):
        if _inside(real, target, folder, target_stat):
            return True
    if not backups:
        return False
    for folder in backup_folders(db_path, backup_dirs):
        if _inside(real, target, folder, target_stat):
            return True
    return False


def _same(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    return a is not None and b is not None and os.path.samestat(a, b)


def _inside(real: str, target: str | os.PathLike[str], folder: Path,
            target_stat: os.stat_result | None) -> bool:
    """`target` is the folder or anything below it: by resolved name, by the folder's
    identity on disk (another spelling of it), or as a hard link to a file in it."""
    folder_real = _real(folder)
    if real == folder_real or real.startswith(folder_real.rstrip(os.sep) + os.sep):
        return True
    folder_stat = _stat(folder)
    if folder_stat is None or not stat.S_ISDIR(folder_stat.st_mode):
        return False
    for ancestor in [Path(real), *Path(real).parents]:
        if _same(_stat(ancestor), folder_stat):
            return True
    if target_stat is not None and stat.S_ISREG(target_stat.st_mode) \
            and target_stat.st_nlink > 1:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if _same(target_stat, _stat(entry.path)):
                    return True
    return False


def refuse_protected_target(target: str | os.PathLike[str], db_path: str | os.PathLike[str], *,
                            backup_dirs: Iterable[str | os.PathLike[str]] = (),
                            backups: bool = True) -> None:
    """Raise `ProtectedTargetError` (one plain line) when `target` is the database at
    `db_path`, its `-wal`/`-shm`/`-journal`/`.lock`, in its photo folder, or in its backup
    folder (the one beside it and any in `backup_dirs`). Call it before writing anything."""
    if is_protected_target(target, db_path, backup_dirs=backup_dirs, backups=backups):
        raise ProtectedTargetError(target)
