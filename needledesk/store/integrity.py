"""SQLite's own integrity check, in a module that imports nothing heavy.

The window starts this check on a thread before it imports the store (sqlite-utils and the
records' modules) and the widgets: SQLite reads the whole file without holding the GIL, so on
a PC with two cores or more the check costs the start-up nothing while the imports run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path


def quick_check(path: str | os.PathLike[str]) -> list[str]:
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


def check_in_background(path: str | os.PathLike[str],
                        check: Callable[[Path], list[str]] = quick_check,
                        ) -> Future[list[str]]:
    """`check(path)` (quick_check) on a daemon thread; the Future holds what it found. A
    check that cannot run counts as a problem, never as a pass."""
    future: Future[list[str]] = Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        if sys.platform.startswith("linux"):   # a thread's nice value is its own there
            with contextlib.suppress(OSError):   # the window's thread comes first
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            future.set_result(list(check(Path(path))))
        except Exception as exc:
            future.set_result([f"the check could not run ({exc})"])

    threading.Thread(target=run, name="quick_check", daemon=True).start()
    return future
