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
    existing = QApplication.instance()
    app = (existing if isinstance(existing, QApplication)
           else QApplication(argv or sys.argv[:1]))
    app.setOrganizationName("NeedleDesk")
    app.setApplicationName("NeedleDesk")
    app.setApplicationVersion(__version__)
    icon = resource_path("icons", "needledesk.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    _log_qt_messages()
    return app


_qt_logged = False


def _log_qt_messages() -> None:
    """Qt's own warnings go to the log too: the bundle has no console to print them on.
    Installed once; Qt's previous handler (the console, or a test's) still gets them."""
    global _qt_logged
    if _qt_logged:
        return
    _qt_logged = True
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("needledesk.qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}
    previous = None

    def handler(kind, context, message) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)
        if previous is not None:
            previous(kind, context, message)

    previous = qInstallMessageHandler(handler)


def _install_excepthook() -> None:
    """An unexpected error becomes a message and a log line, never a silent crash."""
    from needledesk.logs import log_file

    def hook(kind, value, tb):
        log.error("unexpected error", exc_info=(kind, value, tb))
        QMessageBox.critical(None, "NeedleDesk", f"Something went wrong: {value}\n\n"
                             f"Your saved records are safe. Details are in the log: {log_file()}")

    sys.excepthook = hook


def open_main_window(db_path: Path | None, state: QSettings | None = None, *, set_up=None,
                     check=None, on_damaged=None):
    """Open the file and build the main window. Raises NeedleDeskError (DamagedDatabaseError
    for a damaged file found before the window exists) plainly. `set_up(repo)`, when given,
    runs once the file is open and before the window reads the settings (the first-run
    set-up; `run_window` passes it, the smoke test and scripts do not).

    A file at this schema with clients in it is painted first and loaded after
    (`store.first_page`): the window shows the list's first page (or the lock screen) read
    with plain sqlite3, and the store, the domain rules and the card are imported and
    attached one loop turn after that first paint (`MainWindow.finish_loading` does it at
    once for a window that is not shown). Anything else (new, empty, older, newer, another
    program's) is opened before the window is built, as it always was.

    SQLite's whole-file check (`check`, quick_check by default) runs on a thread (from the
    first paint on, when there is one) and is not waited for: a file already at this schema
    is read from a read-only connection, and
    its writer opens only once the check has passed (`ui.startup.GatedRepository`: any write
    before then waits for it). A check that fails after the window is shown runs
    `on_damaged(window, problem)` (default `damaged_after_start`), and no writer is ever
    opened. A new file, or one needing an upgrade, waits for the check before opening."""
    from needledesk.store.first_page import read_first_page

    path = Path(db_path) if db_path else default_db_path()
    state = state or QSettings()
    first = read_first_page(path)
    from needledesk.ui.main_window import MainWindow

    def start_check():
        # The check reads the whole file inside SQLite, without the GIL, on a thread: while
        # the store's modules import, and on after that. With a first page it starts once
        # that page is painted (reading a large file would compete with the paint).
        from needledesk.store.integrity import check_in_background, quick_check

        return check_in_background(path, check or quick_check)

    if first is None:
        checking = start_check()
        repo = _open_records(path, checking)
        if set_up is not None:
            set_up(repo)
        window = MainWindow(repo, repo.settings(), state, db_label=str(path))
        _watch_check(window, repo, on_damaged)
        return window
    window = MainWindow(None, None, state, db_label=str(path), first=first)

    def load() -> None:
        try:
            repo = _open_records(path, start_check())
            if set_up is not None:
                set_up(repo)
            window.attach(repo, repo.settings())
        except NeedleDeskError as exc:   # the file changed under the first paint
            _could_not_load(window, exc)
            return
        _watch_check(window, repo, on_damaged)

    window.load_after_first_paint(load)
    return window


def _open_records(path: Path, checking):
    """The repository: read-only until the file check passes when the file is at this
    schema (writes wait for the check), else opened once the check has passed."""
    from needledesk.store.database import open_checked, open_for_reading
    from needledesk.store.repository import Repository
    from needledesk.ui.startup import FileCheck, GatedRepository

    reading = open_for_reading(path)
    if reading is None:   # new, empty or older: written at once, so the check comes first
        return Repository(open_checked(path, checked=checking.result()))
    return GatedRepository(reading, FileCheck(path, checking), path)


def _watch_check(window, repo, on_damaged) -> None:
    """The window's status line says when a write waits for the check; a failed check
    starts the damaged-file flow."""
    from needledesk.ui.startup import GatedRepository

    if isinstance(repo, GatedRepository):
        repo.on_status = window.statusBar().showMessage   # "" clears it
        damaged = on_damaged or damaged_after_start
        repo.on_damaged = lambda problem: damaged(window, problem)


def _could_not_load(window, exc: NeedleDeskError) -> None:
    """Loading after the first paint failed: a damaged file goes to the damaged-file flow,
    anything else is said plainly and the program ends; nothing was written."""
    from needledesk.store.database import DamagedDatabaseError

    if isinstance(exc, DamagedDatabaseError):
        damaged_after_start(window, str(exc))
        return
    window.hide()
    window.deleteLater()
    QMessageBox.critical(None, "NeedleDesk cannot open the records", str(exc))
    QApplication.exit(1)


_replacements: list = []   # a window opened on a restored backup, kept alive


def damaged_after_start(window, problem: str) -> None:
    """The check failed after the window was shown: nothing was written and no writer was
    opened. Say so plainly and offer the newest good backup (`offer_backup`); restored, a
    new window opens on it; otherwise the program ends, the damaged file untouched."""
    path = Path(window.db_path)
    state = window.state
    if window.attached:
        window.repo.db.close()   # a restore replaces the file: no connection may stay open
    window.hide()            # hide, not close: closing takes a backup of the file
    window.deleteLater()
    if not offer_backup(path, state, problem):
        QApplication.exit(1)
        return
    try:
        fresh = open_main_window(path, state, set_up=_first_run)
    except NeedleDeskError as exc:
        QMessageBox.critical(None, "NeedleDesk cannot open the records", str(exc))
        QApplication.exit(1)
        return
    _replacements.append(fresh)
    fresh.show()


def _first_run(repo) -> None:
    """The first-run set-up; imported here so the file check still overlaps the imports."""
    from needledesk.ui.first_run import set_up_if_needed

    set_up_if_needed(repo)


def offer_backup(path: Path, state: QSettings, problem: str) -> bool:
    """The file is damaged: offer the newest good backup. True when one was restored."""
    from needledesk.domain.text import moment_text
    from needledesk.store.backup import list_backups
    from needledesk.store.restore import RestoreIncomplete, restore_and_record
    from needledesk.ui.backup_controller import run_with_progress
    from needledesk.ui.backups import backup_folder, describe_backup, restored_text

    folder = backup_folder(state, path)
    # Each backup is checked (every page read): seconds for many on a USB stick.
    listed = run_with_progress(None, "NeedleDesk", f"Checking the backups in {folder}…",
                               lambda: list_backups(folder) if folder.exists() else [])
    good = [b for b in listed if b.ok]
    if not good:
        QMessageBox.critical(None, "NeedleDesk: the records file is damaged",
                             f"{problem}\n\nNo good backup was found in {folder}. The damaged "
                             "file has not been touched; keep it for a specialist.")
        return False
    newest = good[0]
    answer = QMessageBox.question(
        None, "NeedleDesk: the records file is damaged",
        f"{problem}\n\nRestore the newest good backup?\n{describe_backup(newest)}\n\nThe "
        "damaged file is kept beside it, untouched.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        return False
    try:
        restored = run_with_progress(
            None, "NeedleDesk", f"Restoring the backup of {moment_text(newest.taken_at)}: "
            "checking it in full, then putting it in place…",
            lambda: restore_and_record(newest.path, path, who="NeedleDesk start-up"))
    except RestoreIncomplete as exc:  # the backup is in place; a step after it failed
        QMessageBox.warning(None, "NeedleDesk", str(exc))
        return True
    except NeedleDeskError as exc:
        QMessageBox.critical(None, "NeedleDesk", f"The backup could not be restored: {exc}")
        return False
    QMessageBox.information(None, "NeedleDesk", restored_text(restored))
    return True


def window_on_server(url: str, state: QSettings, *, ask=None, when_unreachable=None):
    """The main window on the clinic server at `url`: no file, so no lock file, no file
    check and no first-page file reader; the password from this PC's password store, else
    asked in a small dialog (`ask`, default `server_settings.PasswordPrompt`). A server that
    cannot be opened is said plainly with Try again / Use the file on this PC instead /
    Quit (`when_unreachable(problem)`, default `server_settings.ask_when_unreachable`).
    Returns the window (not shown yet), `server_settings.USE_FILE`, or None to quit."""
    from needledesk.server_login import open_server_repository
    from needledesk.ui.main_window import MainWindow
    from needledesk.ui.server_settings import (
        RETRY,
        USE_FILE,
        PasswordPrompt,
        ask_when_unreachable,
        server_problem_text,
    )

    prompt = ask if ask is not None else PasswordPrompt()
    when_unreachable = when_unreachable or ask_when_unreachable
    while True:
        try:
            repo = open_server_repository(url, ask=prompt)
            try:
                _first_run(repo)
                window = MainWindow(repo, repo.settings(), state)
            except BaseException:
                repo.db.close()
                raise
        except NeedleDeskError as exc:
            log.warning("the clinic server could not be opened: %s", exc)
            choice = when_unreachable(server_problem_text(exc))
            if choice == RETRY:
                continue
            return USE_FILE if choice == USE_FILE else None
        keep = getattr(prompt, "keep_if_asked", None)
        if keep is not None:
            keep()   # a password typed and accepted: into the password store, if asked
        return window


def chosen_store(db_path: Path | None, server: str | None, state: QSettings,
                 environ=None) -> str | None:
    """The clinic server to open at start: `--server`/NEEDLEDESK_SERVER (`server`), else
    the one saved in Settings › Clinic server on this PC, unless a file was named
    (`--db` or NEEDLEDESK_DB): None for the file."""
    import os

    from needledesk.ui.server_settings import saved_server_url

    if server:
        return server
    environ = os.environ if environ is None else environ
    if db_path is not None or (environ.get("NEEDLEDESK_DB") or "").strip():
        return None
    return saved_server_url(state)


def run_window(db_path: Path | None, server: str | None = None) -> int:
    from needledesk.paths import prepare_db_folder
    from needledesk.store.database import DamagedDatabaseError
    from needledesk.store.lock import DatabaseLock, network_filesystem

    app = application()
    _install_excepthook()
    path = Path(db_path) if db_path else default_db_path()
    state = QSettings()
    url = chosen_store(db_path, server, state)
    if url:
        on_server = window_on_server(url, state)
        if on_server is None:
            return 1
        if not isinstance(on_server, str):   # else USE_FILE: the file, as below
            on_server.show()
            _offer_recovery_drafts(on_server)
            return app.exec()
    try:
        prepare_db_folder(path)  # a fresh machine: the data folder is made here (0700)
        lock = DatabaseLock.acquire(path)
    except NeedleDeskError as exc:
        QMessageBox.warning(None, "NeedleDesk", str(exc))
        return 1
    try:
        share = network_filesystem(path)
        if share:
            QMessageBox.warning(None, "NeedleDesk", f"The records are on a network share "
                                f"({share}): {path}. SQLite databases can be damaged when used "
                                "over a network. Keep them on this PC's own disk and back up "
                                "to the share instead.")
        try:
            window = open_main_window(path, state, set_up=_first_run)
        except DamagedDatabaseError as exc:
            if not offer_backup(path, state, str(exc)):
                return 1
            window = open_main_window(path, state, set_up=_first_run)
        except NeedleDeskError as exc:
            QMessageBox.critical(None, "NeedleDesk cannot open the records", str(exc))
            return 1
        window.show()
        _offer_recovery_drafts(window)
        return app.exec()
    finally:
        lock.release()


def _offer_recovery_drafts(window) -> None:
    """Sessions kept on this PC while the clinic server was away (`needledesk.recovery`):
    offered once the window is up (Save it now, Keep for later, Discard)."""
    from PySide6.QtCore import QTimer

    def offer() -> None:
        from needledesk.ui.server_away import offer_recovery

        try:
            offer_recovery(window)
        except NeedleDeskError as exc:   # the server away again: offered next time
            log.warning("the recovery drafts could not be offered: %s", exc)

    QTimer.singleShot(0, window, offer)
