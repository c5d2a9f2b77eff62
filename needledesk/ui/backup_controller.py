"""The window's backups: back up now, the daily generation, the backup on closing, restore
and the backup folder, each run off the UI thread with visible progress.

The copying and the checks are `store.backup`; this module only starts them through
`Tasks.run`, shows how far they are and tells the window what came of them. The window's
connection is closed before a restore and reopened after it; if it cannot be reopened the
window is told (`MainWindow.records_unavailable`) and stops offering record actions.

On the clinic server, Back up now and Restore are `store.server_backup` (pg_dump and
pg_restore) when this PC has a pg_dump as new as the server; otherwise both explain, in
plain words, that the server is backed up on the server (docs/clinic-server.md). The daily
backup and the backup on closing are the file's only: the server's own backups are
scheduled where it runs, and one room closing does not copy every room's records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QProgressBar, QProgressDialog

from needledesk.errors import NeedleDeskError
from needledesk.ui.tasks import Tasks

if TYPE_CHECKING:
    from needledesk.ui.main_window import MainWindow


class _Progress(QObject):
    """Made on the UI thread; the worker emits, the UI thread shows (a queued signal)."""

    moved = Signal(int, int)


def progress_dialog(parent, title: str, text: str) -> QProgressDialog:
    """A small window-modal progress dialog with no Cancel button, freed when closed."""
    dialog = QProgressDialog(text, "", 0, 0, parent)
    dialog.setCancelButton(None)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent is not None
                             else Qt.WindowModality.ApplicationModal)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(0)
    dialog.show()
    return dialog


def run_with_progress(parent, title: str, text: str, work: Callable[[], Any]) -> Any:
    """`work()` on a worker while a progress dialog shows `text` and the event loop runs
    (for the start-up, before there is a window); its result, or its exception raised."""
    loop, outcome = QEventLoop(), {}
    dialog = progress_dialog(parent, title, text)

    def settle(key: str, value) -> None:
        outcome[key] = value
        loop.quit()

    def finish() -> None:
        if shiboken6.isValid(dialog):
            dialog.close()

    Tasks.run(work, lambda result: settle("result", result),
              lambda exc: settle("error", exc), on_finish=finish)
    if not outcome:  # a worker: wait for it with the event loop running
        loop.exec()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _show_pages(widget, done: int, total: int) -> None:
    """Pages copied so far (photos counted by their size in pages); nothing once the widget
    is gone (its window was closed)."""
    if total > 0 and shiboken6.isValid(widget):
        widget.setMaximum(total)
        widget.setValue(min(done, total))


class BackupController(QObject):
    """Owned by the main window (its child): one backup or restore at a time."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.running = False       # a backup is being taken
        self.restoring = False     # a restore is under way: the connection is closed
        self._after_backup: list[Callable[[], object]] = []
        self.status_bar_progress = QProgressBar()
        self.status_bar_progress.setMaximumWidth(160)
        self.status_bar_progress.setTextVisible(True)
        self.status_bar_progress.hide()
        window.statusBar().addWidget(self.status_bar_progress)
        self.close_dialog: QProgressDialog | None = None
        self.restore_dialog: QProgressDialog | None = None
        self._tools: Any = None

    # --- where -------------------------------------------------------------------------

    @property
    def on_server(self) -> bool:
        """The window's records are on the clinic server."""
        from needledesk.ui.backups import on_server

        return on_server(self.window.db_path)

    def with_server_tools(self, then: Callable[[Any], object],
                          otherwise: Callable[[], object] = lambda: None) -> None:
        """`then(tools)` with PostgreSQL's pg_dump/pg_restore for the clinic server, looked
        for once on a worker (asking each candidate its version takes a moment); without
        any as new as the server, a box explains instead (and they are looked for again
        next time)."""
        from needledesk.store import server_backup

        if self._tools is not None:
            then(self._tools)
            return
        source, window = self.window.repo.db, self.window

        def found(tools) -> None:
            if isinstance(tools, server_backup.NoPgTools):
                QMessageBox.information(window, "Backups of the clinic server", tools.reason)
                otherwise()
                return
            self._tools = tools
            then(tools)

        def failed(exc: Exception) -> None:
            QMessageBox.warning(window, "Backups of the clinic server", str(exc))
            otherwise()

        Tasks.run(lambda: server_backup.find_pg_tools(server_backup.server_version(source)),
                  found, failed, owner=window)

    def folder(self) -> Path:
        from needledesk.ui.backups import backup_folder

        return backup_folder(self.window.state, self.window.db_path)

    def choose_folder(self) -> None:
        from needledesk.ui.backups import choose_folder, folder_setting

        folder = choose_folder(self.window, self.folder())
        if folder is not None:
            self.window.state.setValue(folder_setting(self.window.db_path), str(folder))
            self.window.statusBar().showMessage(f"Backups now go to {folder}", 10_000)

    # --- taking backups ------------------------------------------------------------------

    def _take(self, on_progress: Callable[[int, int], None], done, failed) -> None:
        """Take one generation on a worker; `done(info)` or `failed(exc)` on the UI thread.
        A second request while one runs waits for the first (no two copies at once)."""
        from needledesk.store import backup as store_backup

        if self.running:
            self._after_backup.append(lambda: self._take(on_progress, done, failed))
            return
        path, folder = self.window.db_path, self.folder()
        progress = _Progress()
        progress.moved.connect(on_progress)
        self.running = True

        def finish() -> None:
            progress.moved.disconnect()
            self.running = False
            waiting, self._after_backup = self._after_backup, []
            for start in waiting:
                start()

        if self.on_server:
            tools, source = self._tools, self.window.repo.db
            work = lambda: _server_backup(source, folder, tools, progress.moved.emit)  # noqa: E731
        else:
            work = lambda: store_backup.take_backup(path, folder,  # noqa: E731
                                                    on_progress=progress.moved.emit)
        Tasks.run(work, done, failed, owner=self.window, on_finish=finish)

    def back_up_now(self, *, quietly: bool = False) -> None:
        """A new generation in the backup folder, with a progress bar in the status bar.
        `quietly` (the daily one): a failure is said in the status bar, not in a box."""
        if self.restoring:
            return
        if self.on_server and self._tools is None:
            self.with_server_tools(lambda _tools: self.back_up_now(quietly=quietly))
            return
        bar, status = self.status_bar_progress, self.window.statusBar()
        folder = self.folder()
        status.showMessage(f"Backing up to {folder}…")
        bar.setRange(0, 0)
        bar.show()

        def done(info) -> None:
            bar.hide()
            from needledesk.domain.text import count_text

            photos = (f", {count_text(info.photos, 'photo')} ({info.photos_copied} new)"
                      if info.photos and not self.on_server else "")
            what = "Backed up the clinic server" if self.on_server else "Backed up"
            status.showMessage(
                f"{what}: {count_text(info.clients, 'client')}, "
                f"{count_text(info.sessions, 'session')}{photos} to {info.path}", 10_000)

        def failed(exc: Exception) -> None:
            bar.hide()
            status.showMessage(f"Backup failed: {exc}")
            if not quietly:
                QMessageBox.warning(self.window, "Backup failed", f"{exc}\n\nThe records are "
                                    "unchanged. Check the backup folder (File > Backup "
                                    "folder…).")

        self._take(lambda done_, total: _show_pages(bar, done_, total), done, failed)

    def daily(self) -> None:
        from needledesk.store.backup import due

        if self.restoring or not self.window.records_open or self.on_server:
            return
        if due(self.folder()):
            self.back_up_now(quietly=True)

    def back_up_on_close(self, then: Callable[[], None]) -> None:
        """The backup taken when the window closes, on a worker, with a small modal
        "Backing up…" dialog naming the folder; `then()` once it has reported (a failure is
        said first, and the window still closes). On the clinic server: none (`then()`)."""
        if self.on_server:
            then()
            return
        folder = self.folder()
        dialog = progress_dialog(self.window, "NeedleDesk",
                                 f"Backing up to {folder}…\nNeedleDesk closes when the "
                                 "backup is done.")
        self.close_dialog = dialog

        def close_dialog() -> None:
            self.close_dialog = None
            if shiboken6.isValid(dialog):
                dialog.close()

        def done(_info) -> None:
            close_dialog()
            then()

        def failed(exc: Exception) -> None:
            close_dialog()
            QMessageBox.warning(self.window, "Backup on closing failed",
                                f"The backup to {folder} failed: {exc}\n\nThe records "
                                "themselves are saved. NeedleDesk closes now.")
            then()

        self._take(lambda done_, total: _show_pages(dialog, done_, total), done, failed)

    # --- restore -------------------------------------------------------------------------

    def restore(self) -> bool:
        """Choose a backup (listed at once, each checked on a worker as the list shows) and
        restore it on a worker with a progress dialog. The window's connection is closed
        first and reopened after. True when the restore was started (with `Tasks.synchronous`:
        when it succeeded); False when there was nothing to restore or it was refused."""
        from needledesk.store import backup as store_backup
        from needledesk.ui.backups import RestoreDialog

        window = self.window
        if self.restoring or not window.records_open:
            return False
        if self.on_server:
            return self._restore_server()
        folder = self.folder()
        backups = store_backup.list_backups(folder, check=False) if folder.exists() else []
        if not backups:
            QMessageBox.information(window, "Restore", f"There are no backups in {folder}.")
            return False
        chosen = RestoreDialog.ask(window, backups, folder)
        if chosen is None:
            return False
        return self._when_free(lambda: self._start_restore(chosen))

    def _when_free(self, start: Callable[[], bool]) -> bool:
        """Close the session editor first (False where it stays open), then `start()` a
        restore, or once the running backup is done (True: it will start)."""
        window = self.window
        if window.editor is not None and window.editor.isVisible():
            window.editor.close()
            if window.editor is not None and window.editor.isVisible():
                return False
        if self.running:  # a backup is reading the records: restore once it is done
            self._after_backup.append(start)
            return True
        return start()

    def _start_restore(self, chosen) -> bool:
        from needledesk.domain.text import moment_text
        from needledesk.store import restore as store_restore
        from needledesk.store.integrity import quick_check

        window = self.window
        path, user = window.db_path, window.user
        self.restoring = True
        window.set_records_enabled(False)
        window.repo.db.close()  # restore replaces the file: no connection may stay open
        dialog = progress_dialog(window, "Restore",
                                 f"Restoring the backup of {moment_text(chosen.taken_at)}: "
                                 "checking it and its photos in full, then putting it in place…")
        self.restore_dialog = dialog
        outcome: dict = {"ok": True}

        def work():
            problem = None
            try:
                restored = store_restore.restore_and_record(chosen.path, Path(path),
                                                            who=user or "unknown")
            except store_restore.RestoreIncomplete as exc:  # in place; a later step failed
                restored, problem = exc.restored, str(exc)
            return restored, problem, quick_check(path)

        def finish() -> None:
            self.restoring = False
            self.restore_dialog = None
            if shiboken6.isValid(dialog):
                dialog.close()

        def done(result) -> None:
            from needledesk.ui.backups import restored_text

            restored, problem, checked = result
            if not self._reopen(path, user, checked):
                outcome["ok"] = False
                return
            if problem is not None:
                QMessageBox.warning(window, "Restored, with a problem", problem)
            else:
                QMessageBox.information(window, "Restored", restored_text(restored))

        def failed(exc: Exception) -> None:
            outcome["ok"] = False
            if isinstance(exc, NeedleDeskError):  # refused: the records are as they were
                text = str(exc)
            else:
                text = (f"The restore stopped: {exc}. Details are in the log.")
            try:
                checked = quick_check(path)
            except Exception as problem:  # noqa: BLE001 (said through the reopen below)
                checked = [str(problem)]
            if self._reopen(path, user, checked):
                QMessageBox.warning(window, "Restore failed", text)

        Tasks.run(work, done, failed, owner=window, on_finish=finish)
        return outcome["ok"]

    def _restore_server(self) -> bool:
        """Restore on the clinic server: a backup in the server backup folder, checked for
        its hash as the list shows, then `store.server_backup.restore_server` on a worker
        (checked in a scratch database before the server's records are replaced)."""
        outcome: dict = {}
        self.with_server_tools(lambda tools: outcome.update(ok=self._choose_server(tools)),
                               otherwise=lambda: outcome.update(ok=False))
        return outcome.get("ok", True)   # not settled yet: the tools are being looked for

    def _choose_server(self, tools) -> bool:
        from needledesk.store.server_backup import list_server_backups
        from needledesk.ui.backups import SERVER_NOTE, RestoreDialog, check_server_backup

        window = self.window
        folder = self.folder()
        backups: list[Any] = list(list_server_backups(folder))
        if not backups:
            QMessageBox.information(window, "Restore", "There are no backups of the clinic "
                                    f"server in {folder}.")
            return False
        chosen = RestoreDialog.ask(window, backups, folder, check=check_server_backup,
                                   note=SERVER_NOTE)
        if chosen is None:
            return False
        return self._when_free(lambda: self._start_server_restore(chosen, tools))

    def _start_server_restore(self, chosen, tools) -> bool:
        from needledesk.domain.text import moment_text
        from needledesk.store.server_backup import restore_server

        window = self.window
        source, user = window.repo.db, window.user
        self.restoring = True
        window.set_records_enabled(False)
        dialog = progress_dialog(window, "Restore",
                                 f"Restoring the clinic server's backup of "
                                 f"{moment_text(chosen.taken_at)}: checking it in full in a "
                                 "scratch database, then putting it in place for every room…")
        self.restore_dialog = dialog
        progress = _Progress()
        progress.moved.connect(lambda done_, total: _show_pages(dialog, done_, total))
        outcome: dict = {"ok": True}

        def work():
            db = source.fresh()   # the worker's own connection
            try:
                return restore_server(db, chosen.path, by=user or "unknown", tools=tools,
                                      on_progress=progress.moved.emit)
            finally:
                db.close()

        def finish() -> None:
            progress.moved.disconnect()
            self.restoring = False
            self.restore_dialog = None
            if shiboken6.isValid(dialog):
                dialog.close()

        def done(restored) -> None:
            from needledesk.ui.backups import server_restored_text

            if not self._reopen_server(source):
                outcome["ok"] = False
                return
            QMessageBox.information(window, "Restored", server_restored_text(restored))

        def failed(exc: Exception) -> None:
            outcome["ok"] = False
            text = (str(exc) if isinstance(exc, NeedleDeskError)
                    else f"The restore stopped: {exc}. Details are in the log.")
            if self._reopen_server(source):
                QMessageBox.warning(window, "Restore failed", text)

        Tasks.run(work, done, failed, owner=window, on_finish=finish)
        return outcome["ok"]

    def _reopen_server(self, db) -> bool:
        """Read the server's records again (they may all have changed)."""
        from needledesk.store.repository import Repository

        try:
            repo = Repository(db)
            settings = repo.settings()
        except NeedleDeskError as exc:
            self.window.records_unavailable(str(exc))
            return False
        self.window.records_reopened(repo, settings)
        return True

    def _reopen(self, path: str, user: str | None, checked: list[str]) -> bool:
        """Open the records again after a restore; if that fails, the window says so and
        offers no record actions (it is not left on the closed connection)."""
        from needledesk.store.database import open_checked
        from needledesk.store.repository import Repository

        try:
            repo = Repository(open_checked(path, checked=checked))
            settings = repo.settings()
        except (NeedleDeskError, OSError, sqlite3.Error) as exc:
            self.window.records_unavailable(str(exc))
            return False
        self.window.records_reopened(repo, settings)
        return True


def _server_backup(source, folder: Path, tools, on_progress: Callable[[int, int], None]):
    """A backup of the clinic server, on the worker's own connection."""
    from needledesk.store.server_backup import backup_server

    db = source.fresh()
    try:
        return backup_server(db, folder, tools=tools, on_progress=on_progress)
    finally:
        db.close()
