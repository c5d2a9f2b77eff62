"""Where things live: the clinic's data folder, and resources both from source and bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "NeedleDesk"
DB_ENV = "NEEDLEDESK_DB"


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def default_db_path() -> Path:
    """`NEEDLEDESK_DB` if set, else `needledesk.db` in the platform's user data folder."""
    override = os.environ.get(DB_ENV)
    return Path(override) if override else data_dir() / "needledesk.db"


def resource_path(*parts: str) -> Path:
    """A file under `resources/`, from a source checkout or from the PyInstaller bundle."""
    base = getattr(sys, "_MEIPASS", None)
    root = Path(base) if base else Path(__file__).resolve().parent.parent
    return root.joinpath("resources", *parts)
