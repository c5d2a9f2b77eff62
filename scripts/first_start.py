"""Start the window as a person on a fresh machine would, then close it: CI's first-start check.

Run with the Python of an installed NeedleDesk (a wheel in a new virtual environment) under an
empty HOME. It starts `needledesk` (the program's own entry point, no --db), waits until a
window is shown, records what it is, closes it and checks what the first start left behind:
the data folder (user-only), the database and the log.

    python first_start.py setup   # a fresh clinic: the first-run set-up must be what shows
    python first_start.py window  # NEEDLEDESK_SKIP_SETUP=1: the main window must show

Prints one line and exits 0 when every check held, 1 otherwise.
"""

from __future__ import annotations

import os
import stat
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from needledesk import cli
from needledesk.paths import data_dir, default_db_path, log_path
from needledesk.ui.app import application

TIMEOUT_MS = 60_000


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "window"
    expected = {"setup": "needledesk.ui.first_run", "window": "needledesk.ui.main_window"}[mode]
    if data_dir().exists():
        print(f"first start: FAILED: {data_dir()} exists before the first start")
        return 1
    app = application()
    seen: list[str] = []
    waited = {"ms": 0}

    def probe() -> None:
        shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        if not shown and waited["ms"] < TIMEOUT_MS:
            waited["ms"] += 250
            QTimer.singleShot(250, probe)
            return
        for widget in shown:
            seen.append(f"{type(widget).__module__}.{type(widget).__name__}")
        for widget in shown:
            if hasattr(widget, "reject"):
                widget.reject()
            else:
                widget.close()
        if mode == "setup":  # the set-up was skipped: the main window follows; close it too
            QTimer.singleShot(500, close_rest)

    def close_rest() -> None:
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():
                widget.close()

    QTimer.singleShot(250, probe)
    code = cli.main([])
    app.processEvents()
    problems = []
    if code != 0:
        problems.append(f"needledesk exited with {code}")
    if not any(name.startswith(expected) for name in seen):
        problems.append(f"expected a window from {expected}, saw {seen or 'nothing'}")
    folder = data_dir()
    for path, mode_bits in ((folder, 0o700), (default_db_path(), 0o600), (log_path(), 0o600)):
        if not path.exists():
            problems.append(f"{path} was not made")
        elif os.name == "posix" and stat.S_IMODE(path.stat().st_mode) != mode_bits:
            problems.append(f"{path} is {oct(stat.S_IMODE(path.stat().st_mode))}, "
                            f"not {oct(mode_bits)}")
    if problems:
        print("first start: FAILED: " + "; ".join(problems))
        return 1
    print(f"first start: ok ({mode}): saw {', '.join(seen)}; made {folder} (0700) with the "
          "database and the log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
