"""Start the window: open the database (or say plainly why not), then the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from needledesk import __version__
from needledesk.errors import NeedleDeskError
from needledesk.paths import default_db_path, resource_path

log = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName("NeedleDesk")
    app.setApplicationName("NeedleDesk")
    app.setApplicationVersion(__version__)
    icon = resource_path("icons", "needledesk.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def _install_excepthook() -> None:
    """An unexpected error becomes a message and a log line, never a silent crash."""
    def hook(kind, value, tb):
        log.error("unexpected error", exc_info=(kind, value, tb))
        QMessageBox.critical(None, "NeedleDesk", f"Something went wrong: {value}\n\n"
                             "Your saved records are safe. Details are in the log.")

    sys.excepthook = hook


def open_main_window(db_path: Path | None, state: QSettings | None = None):
    """Open the database and build the main window; raises NeedleDeskError plainly."""
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.ui.main_window import MainWindow

    path = Path(db_path) if db_path else default_db_path()
    repo = Repository(open_database(path))
    return MainWindow(repo, repo.settings(), state or QSettings(), db_label=str(path))


def run_window(db_path: Path | None) -> int:
    app = application()
    _install_excepthook()
    try:
        window = open_main_window(db_path)
    except NeedleDeskError as exc:
        QMessageBox.critical(None, "NeedleDesk cannot open the records", str(exc))
        return 1
    window.show()
    return app.exec()
