"""Where things live: the clinic's data folder, its log, and the resources the program reads.

The data folder (`data_dir()`) holds the database, its backups folder and the log. It is made
on first use, readable by the user only (0700), so a fresh machine needs nothing prepared.
Resources are found in the installed package (`needledesk/resources`, the wheel), in the
PyInstaller bundle (`sys._MEIPASS/resources`) or in a source checkout (`resources/` at the top).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "NeedleDesk"
DB_ENV = "NEEDLEDESK_DB"
DB_NAME = "needledesk.db"
LOG_NAME = "needledesk.log"


def data_dir() -> Path:
    """The platform's per-user data folder (e.g. ~/.local/share/NeedleDesk,
    %LOCALAPPDATA%\\NeedleDesk). Not created here: see `ensure_private_dir`."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def default_db_path() -> Path:
    """`NEEDLEDESK_DB` if set, else `needledesk.db` in the platform's user data folder."""
    override = os.environ.get(DB_ENV)
    return Path(override) if override else data_dir() / DB_NAME


def ensure_private_dir(folder: Path) -> Path:
    """Make `folder` (and missing parents) if absent; a folder made here is user-only (0700).
    An existing folder is left as it is: it may be one the clinic chose and shares rightly."""
    folder = Path(folder)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, 0o700)  # mkdir's mode is reduced by the umask
    return folder


def prepare_db_folder(db_path: Path) -> None:
    """Before a database is created or locked: the default data folder is made when missing
    (first start on a fresh machine); a folder the user named with --db must already exist,
    since making it would hide a mistyped path."""
    from needledesk.errors import NeedleDeskError

    folder = Path(db_path).parent
    if folder.is_dir():
        return
    if Path(db_path) == default_db_path():
        ensure_private_dir(folder)
        return
    raise NeedleDeskError(f"the folder {folder} does not exist; create it first or choose "
                          "another place for the database")


def log_path() -> Path:
    """The rotating log file, in the data folder."""
    return data_dir() / LOG_NAME


def _resource_roots() -> list[Path]:
    here = Path(__file__).resolve().parent
    roots = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.append(Path(frozen) / "resources")
    roots.append(here / "resources")           # an installed wheel
    roots.append(here.parent / "resources")    # a source checkout (editable install)
    return roots


def resources_root() -> Path:
    """The first resources folder that exists (the bundle's, the package's, the checkout's)."""
    roots = _resource_roots()
    return next((root for root in roots if root.is_dir()), roots[-1])


def resource_path(*parts: str) -> Path:
    """A file under `resources/`, wherever this copy of NeedleDesk was installed from."""
    return resources_root().joinpath(*parts)
