"""SQLite's own integrity check, in a module that imports nothing heavy.

The window starts this check on a thread before it imports the store (sqlite-utils and the
records' modules) and the widgets: SQLite reads the whole file without holding the GIL, so on
a PC with two cores or more the check costs the start-up nothing while the imports run.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def quick_check(path: str | os.PathLike) -> list[str]:
    """SQLite's quick_check, read-only: [] when the file is sound, else what is wrong. A file
    that is damaged is never opened for writing (writing can spread the damage)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"cannot be opened: {exc}"]
    try:
        rows = [row[0] for row in conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
