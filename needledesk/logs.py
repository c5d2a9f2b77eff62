"""The log: a rotating file in the data folder (5 × 1 MB, user-only), through `logging`.

The window has no console in the bundle, so every "details are in the log" message names
`log_file()`. Health data stays out of the log: it records what failed and where in the code,
never a client's name or notes (messages are written by the program, not copied from records).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

MAX_BYTES = 1_000_000
BACKUP_COUNT = 4  # the current file and four older ones: 5 × 1 MB at most
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

_handler: logging.Handler | None = None
_file: Path | None = None


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """Opens every generation of the log readable by the user only."""

    def _open(self):
        if os.name == "posix":
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(self.baseFilename, 0o600)
        return super()._open()


def setup_logging(path: Path | None = None, *, level: int = logging.INFO) -> Path | None:
    """Send the `needledesk` loggers to the rotating file `path` (default: the data folder's
    log, the folder made if missing). Safe to call twice. Returns the file, or None when it
    cannot be written (the program then runs without a log rather than not at all)."""
    global _handler, _file
    from needledesk.paths import ensure_private_dir, log_path

    target = Path(path) if path else log_path()
    if _handler is not None and _file == target:
        return _file
    try:
        ensure_private_dir(target.parent)
        handler = _PrivateRotatingHandler(target, maxBytes=MAX_BYTES,
                                          backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("needledesk")
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    root.addHandler(handler)
    root.setLevel(level)
    _handler, _file = handler, target
    return target


def log_file() -> Path:
    """Where the log is (or would be): what messages name as the place of the details."""
    from needledesk.paths import log_path

    return _file or log_path()


def shutdown_logging() -> None:
    """Detach and close the file (tests; the end of the program)."""
    global _handler, _file
    if _handler is not None:
        logging.getLogger("needledesk").removeHandler(_handler)
        _handler.close()
    _handler, _file = None, None
