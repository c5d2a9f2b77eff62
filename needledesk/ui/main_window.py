"""The main window: find a client in a few keystrokes, see their card, start a session.

The window asks the repository for dataclasses and hands them to item models; it holds no
SQL. Window size, splitter positions and the last open client are kept in QSettings.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QItemSelectionModel, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from needledesk import __version__
from needledesk.domain.consent import consent_age_text, consent_expired
from needledesk.domain.course import course_progress
from needledesk.domain.model import SCREENING_QUESTIONS, Client, Screening
from needledesk.domain.rules import latest_screening
from needledesk.domain.text import moment_text
from needledesk.errors import NeedleDeskError
from needledesk.settings import ClinicSettings
from needledesk.store.repository import Repository
from needledesk.ui.lock import IdleWatcher, LockScreen
from needledesk.ui.models import ClientListModel, HistoryModel, format_date

if TYPE_CHECKING:   # the editor (and its widgets) loads on first use, not at start-up
    from needledesk.ui.session_editor import SessionEditor

FITZPATRICK = ("I", "II", "III", "IV", "V", "VI")


class MainWindow(QMainWindow):
    def __init__(self, repo: Repository, settings: ClinicSettings, state: QSettings, *,
                 db_label: str = "", today=date.today, parent=None):
        super().__init__(parent)
        self.repo = repo
        self.settings = settings
        self.state = state
        self.today = today
        self.client: Client | None = None
        self.editor: SessionEditor | None = None
        self.setWindowTitle("NeedleDesk")
        self._build(db_label)
        self._restore()
        self.backup_timer = QTimer(self)
        self.backup_timer.timeout.connect(self._daily_backup)
        self.backup_timer.start(60 * 60 * 1000)  # hourly look: one generation a day
        QTimer.singleShot(60_000, self._daily_backup)

    # --- layout -------------------------------------------------------------------------

    def _build(self, db_label: str) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main-splitter")

        left = QWidget()
        layout = QVBoxLayout(left)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a client: name or phone (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.client_model = ClientListModel(self)
        self.client_list = QListView()
        self.client_list.setModel(self.client_model)
        self.client_list.setUniformItemSizes(True)  # no per-row measuring for big clinics
        self.client_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.client_list, 1)
        self.count_label = QLabel()
        layout.addWidget(self.count_label)
        self.splitter.addWidget(left)

        card = QWidget()
        layout = QVBoxLayout(card)
        self.name_label = QLabel()
        self.name_label.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.name_label)
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details_label)
        self.screening_label = QLabel()
        self.screening_label.setWordWrap(True)
        layout.addWidget(self.screening_label)
        self.course_label = QLabel()
        self.course_label.setWordWrap(True)
        layout.addWidget(self.course_label)
        buttons = QHBoxLayout()
        self.new_session_button = QPushButton("New &session")
        self.new_session_button.setToolTip("Ctrl+Shift+N")
        self.screening_button = QPushButton("Screening and &consent…")
        self.edit_client_button = QPushButton("&Edit client…")
        self.course_print_button = QPushButton("Print &record…")
        self.course_print_button.setToolTip("Preview and print the client's course record")
        self.course_export_button = QPushButton("Export record…")
        self.course_export_button.setToolTip("Save the client's course record as a PDF")
        for button in (self.new_session_button, self.screening_button,
                       self.edit_client_button, self.course_print_button,
                       self.course_export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("<b>Sessions</b>"))
        self.history_model = HistoryModel(self)
        self.history = QTableView()
        self.history.setModel(self.history_model)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().hide()
        self.history.setAlternatingRowColors(True)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.history, 1)
        trail = QHBoxLayout()
        self.audit_button = QPushButton("&Audit trail of this session…")
        self.audit_button.setToolTip("Every write recorded for the selected session")
        trail.addWidget(self.audit_button)
        trail.addStretch(1)
        layout.addLayout(trail)
        self.card = card
        self.splitter.addWidget(card)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.lock_screen = LockScreen(self._verify_secret)
        self.lock_screen.unlocked.connect(self.unlock)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.lock_screen)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        self.demo_banner = QLabel(
            "Demonstration records: every client here is made up. Keep real clients in "
            "the clinic's own database.")
        self.demo_banner.setObjectName("demo-banner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setStyleSheet(
            "background: #fff3cd; color: #5c4400; padding: 6px; font-weight: 600;")
        demo = self.repo.is_demo()
        self.demo_banner.setVisible(demo)
        column.addWidget(self.demo_banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        if demo:
            self.setWindowTitle("NeedleDesk — demonstration records")
        self.idle = IdleWatcher(self.settings.idle_lock_minutes, self)
        self.idle.idle.connect(self.lock)
        self.status_label = QLabel(db_label)
        self.statusBar().addPermanentWidget(self.status_label)

        self._actions()
        self.search.textChanged.connect(self.find)
        self.search.returnPressed.connect(self.open_first_match)
        self.client_list.selectionModel().currentChanged.connect(self._client_chosen)
        self.client_list.activated.connect(lambda _index: self.history.setFocus())
        self.new_session_button.clicked.connect(self.new_session)
        self.screening_button.clicked.connect(self.record_screening)
        self.edit_client_button.clicked.connect(self.edit_client)
        self.course_print_button.clicked.connect(self.print_course_record)
        self.audit_button.clicked.connect(self.show_audit_trail)
        self.course_export_button.clicked.connect(self.export_course_record)
        self.history.doubleClicked.connect(lambda index: self.open_session(
            self.history_model.session(index.row()).id))
        self.history.activated.connect(lambda index: self.open_session(
            self.history_model.session(index.row()).id))
        self._show_client(None)

    def _actions(self) -> None:
        def action(menu, text, slot, shortcut=None):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.new_client_action = action(file_menu, "&New client…", self.new_client,
                                        QKeySequence.StandardKey.New)
        self.new_session_action = action(file_menu, "New &session…", self.new_session,
                                         "Ctrl+Shift+N")
        file_menu.addSeparator()
        action(file_menu, "Se&ttings…", self.edit_settings, "Ctrl+,")
        action(file_menu, "&Back up now", self.back_up_now, "Ctrl+B")
        action(file_menu, "&Restore a backup…", self.restore_backup)
        action(file_menu, "Backup &folder…", self.choose_backup_folder)
        file_menu.addSeparator()
        action(file_menu, "App &lock…", self.set_app_lock)
        self.lock_action = action(file_menu, "Loc&k now", self.lock, "Ctrl+L")
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.find_action = action(edit_menu, "&Find client", self.focus_search,
                                  QKeySequence.StandardKey.Find)
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&Where the records are…", self.show_locations)
        action(help_menu, "&About NeedleDesk", self.about)

    # --- finding clients ----------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def find(self, text: str = "") -> None:
        found = self.repo.find_clients(text)
        self.client_model.set_search(found)
        if text.strip():
            self.count_label.setText(f"{found.total:,} of {self.repo.count_clients():,} "
                                     "clients")
        else:
            self.count_label.setText(f"{found.total:,} clients")
        if self.client is not None:
            row = self.client_model.row_of(self.client.id)
            if row is not None:
                self._select_row(row, notify=False)

    def open_first_match(self) -> None:
        if self.client_model.rowCount() == 0:
            return
        self._select_row(0)
        self.history.setFocus()

    def _select_row(self, row: int, notify: bool = True) -> None:
        index = self.client_model.index(row, 0)
        selection = self.client_list.selectionModel()
        if not notify:
            selection.blockSignals(True)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if not notify:
            selection.blockSignals(False)
        self.client_list.scrollTo(index)

    def _client_chosen(self, current, _previous=None) -> None:
        if current.isValid():
            self.show_client(self.client_model.client(current.row()).id)

    # --- the card -----------------------------------------------------------------------

    def show_client(self, client_id: str | None) -> None:
        try:
            client = self.repo.get_client(client_id) if client_id else None
        except NeedleDeskError:
            client = None
        self._show_client(client)

    def _show_client(self, client: Client | None) -> None:
        self.client = client
        for widget in (self.new_session_button, self.screening_button, self.edit_client_button,
                       self.course_print_button, self.course_export_button):
            widget.setEnabled(client is not None)
        self.new_session_action.setEnabled(client is not None)
        if client is None:
            self.name_label.setText("No client selected")
            self.details_label.setText("Type a name or phone number to find a client, or "
                                       "press Ctrl+N to add one.")
            self.screening_label.clear()
            self.course_label.clear()
            self.history_model.set_sessions([])
            return
        self.state.setValue("last_client", client.id)
        self.name_label.setText(escape(client.full_name))
        details = []
        if client.date_of_birth:
            details.append(f"born {format_date(client.date_of_birth)} "
                           f"({_age(client.date_of_birth, self.today())})")
        if client.phone:
            details.append(escape(client.phone))
        if client.email:
            details.append(escape(client.email))
        if client.fitzpatrick:
            details.append(f"Fitzpatrick {FITZPATRICK[client.fitzpatrick - 1]}")
        lines = [" · ".join(details)]
        if client.concerns:
            lines.append("Concerns: " + escape(", ".join(client.concerns)))
        if client.notes:
            lines.append(f"<i>{escape(client.notes)}</i>")
        self.details_label.setText("<br>".join(lines))
        self.screening_label.setText(screening_summary_html(
            latest_screening(self.repo.screenings(client.id)), self.today()))
        history = self.repo.history(client.id)
        self.history_model.set_sessions(history)
        self.history.resizeColumnToContents(0)
        self.history.resizeColumnToContents(2)
        self.history.resizeColumnToContents(4)
        self.course_label.setText(self._courses_html(client, history))

    def _courses_html(self, client: Client, history) -> str:
        lines = []
        for course in self.repo.courses(client.id):
            progress = course_progress(course, history)
            overdue = (progress.next_due is not None and not progress.finished
                       and progress.next_due < self.today())
            text = (f"<b>{escape(course.concern)}</b> (from {format_date(course.started_on)}): "
                    f"{escape(progress.describe())}")
            lines.append(f"<span style='color:#b3261e'>{text} (overdue)</span>" if overdue
                         else text)
        loose = course_progress(None, history, self.settings.default_interval_weeks)
        if loose.done:
            lines.append(f"<b>Outside a course</b>: {escape(loose.describe())}")
        return "<br>".join(lines) or "No course planned."

    # --- actions ------------------------------------------------------------------------

    def _user(self) -> str:
        return str(self.state.value("last_practitioner", "") or "")

    def new_client(self) -> None:
        from needledesk.ui.client_dialog import ClientDialog

        client = ClientDialog.ask(self)
        if client is None:
            return
        if self._attempt(lambda: self.repo.add_client(client)) is None:
            return
        self.search.setText("")
        self.find("")
        self._select_client(client.id)

    def edit_client(self) -> None:
        from needledesk.ui.client_dialog import ClientDialog

        if self.client is None:
            return
        client = ClientDialog.ask(self, self.client)
        if client is None or self._attempt(lambda: self.repo.update_client(client)) is None:
            return
        self.find(self.search.text())
        self.show_client(client.id)

    def record_screening(self) -> None:
        from needledesk.ui.screening_dialog import ScreeningDialog

        if self.client is None:
            return
        previous = latest_screening(self.repo.screenings(self.client.id))
        screening = ScreeningDialog.ask(self, self.client.id, previous)
        if screening is None or self._attempt(lambda: self.repo.add_screening(screening)) is None:
            return
        self.show_client(self.client.id)

    def edit_settings(self) -> None:
        from needledesk.ui.settings_dialog import SettingsDialog

        settings = SettingsDialog.ask(self, self.settings)
        if settings is None or self._attempt(lambda: self.repo.save_settings(settings)) is None:
            return
        self.settings = settings

    def new_session(self) -> SessionEditor | None:
        from needledesk.ui.session_editor import SessionEditor

        if self.client is None:
            return None
        editor = SessionEditor(self.repo, self.settings, self.client, user=self._user(),
                               parent=self)
        if not editor.acknowledge_at_start():
            editor.deleteLater()
            return None
        return self._open_editor(editor)

    def open_session(self, session_id: str) -> SessionEditor | None:
        from needledesk.ui.session_editor import SessionEditor

        if self.client is None:
            return None
        session = self._attempt(lambda: self.repo.get_session(session_id))
        if session is None:
            return None
        editor = SessionEditor(self.repo, self.settings, self.client, session,
                               user=self._user(), parent=self)
        return self._open_editor(editor)

    def _open_editor(self, editor: SessionEditor) -> SessionEditor:
        self.editor = editor
        editor.saved.connect(self._session_saved)
        editor.destroyed.connect(lambda *_: self._editor_gone(editor))
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.open()
        return editor

    def _editor_gone(self, editor) -> None:
        if self.editor is editor:
            self.editor = None

    def _session_saved(self, _session_id: str) -> None:
        if self.editor is not None:
            practitioner = self.editor.practitioner.currentText().strip()
            if practitioner:
                self.state.setValue("last_practitioner", practitioner)
        if self.client is not None:
            self.show_client(self.client.id)

    def print_course_record(self) -> None:
        from needledesk.reports.build import course_record_pdf
        from needledesk.ui.printing import build_off_thread
        from needledesk.ui.session_editor import SessionEditor

        if self.client is None:
            return
        client_id, title = self.client.id, f"Course record — {self.client.full_name}"
        build_off_thread(self, self.repo, lambda reader: course_record_pdf(reader, client_id),
                         lambda data: SessionEditor.show_preview(self, data, title),
                         "Printing the course record")

    def export_course_record(self) -> None:
        from needledesk.reports.build import course_record_pdf, default_course_name
        from needledesk.ui.printing import build_off_thread
        from needledesk.ui.session_editor import SessionEditor

        if self.client is None:
            return
        client_id, name = self.client.id, default_course_name(self.client, self.today())
        path, folders = self.db_path, self.protected_folders()
        build_off_thread(self, self.repo, lambda reader: course_record_pdf(reader, client_id),
                         lambda data: SessionEditor.export_pdf(self, data, name, path, folders),
                         "Exporting the course record")

    def protected_folders(self) -> list:
        """The backup folder in use, which no export may write into (the `backups` folder
        beside the database is refused in any case)."""
        try:
            return [self._backup_folder()]
        except (NeedleDeskError, OSError):  # it cannot even be made: nothing to protect
            return []

    def _select_client(self, client_id: str) -> None:
        row = self.client_model.row_of(client_id)
        if row is not None:
            self._select_row(row)
        else:
            self.show_client(client_id)

    def _attempt(self, action):
        try:
            result = action()
        except NeedleDeskError as exc:
            QMessageBox.warning(self, "NeedleDesk", str(exc))
            return None
        return True if result is None else result

    # --- backups ------------------------------------------------------------------------

    @property
    def db_path(self) -> str:
        return self.repo.path

    def _backup_folder(self):
        from needledesk.ui.backups import backup_folder

        return backup_folder(self.state, self.db_path)

    def back_up_now(self, *, quietly: bool = False) -> None:
        """A new generation in the backup folder, taken off the UI thread."""
        from PySide6.QtWidgets import QApplication

        from needledesk.store.backup import take_backup
        from needledesk.ui.tasks import Tasks

        path, folder = self.db_path, self._backup_folder()
        self.statusBar().showMessage(f"Backing up to {folder}…")
        if not quietly:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

        def done(info) -> None:
            if not quietly:
                QApplication.restoreOverrideCursor()
            self.statusBar().showMessage(
                f"Backed up: {info.clients:,} clients, {info.sessions:,} sessions to "
                f"{info.path}", 10_000)

        def failed(exc: Exception) -> None:
            if not quietly:
                QApplication.restoreOverrideCursor()
            self.statusBar().showMessage(f"Backup failed: {exc}")
            QMessageBox.warning(self, "Backup failed", f"{exc}\n\nThe records are "
                                "unchanged. Check the backup folder (File > Backup folder…).")

        Tasks.run(lambda: take_backup(path, folder), done, failed)

    def _daily_backup(self) -> None:
        from needledesk.store.backup import due

        if due(self._backup_folder()):
            self.back_up_now(quietly=True)

    def choose_backup_folder(self) -> None:
        from needledesk.ui.backups import choose_folder

        folder = choose_folder(self, self._backup_folder())
        if folder is not None:
            self.state.setValue("backup_folder", str(folder))
            self.statusBar().showMessage(f"Backups now go to {folder}", 10_000)

    def restore_backup(self) -> bool:
        from needledesk.store.backup import list_backups
        from needledesk.store.restore import RestoreIncomplete, restore_and_record
        from needledesk.store.database import open_checked
        from needledesk.ui.backups import RestoreDialog, restored_text

        folder = self._backup_folder()
        backups = list_backups(folder) if folder.exists() else []
        if not backups:
            QMessageBox.information(self, "Restore", f"There are no backups in {folder}.")
            return False
        chosen = RestoreDialog.ask(self, backups, folder)
        if chosen is None:
            return False
        if self.editor is not None and self.editor.isVisible():
            self.editor.close()
            if self.editor is not None and self.editor.isVisible():
                return False
        path, user = self.db_path, self.repo.user
        self.repo.db.close()  # restore replaces the file: no connection may stay open
        restored, problem = None, None
        try:
            restored = restore_and_record(chosen.path, Path(path), who=user or "unknown")
        except RestoreIncomplete as exc:  # the backup is in place; a step after it failed
            restored, problem = exc.restored, str(exc)
        except NeedleDeskError as exc:  # refused: the records are as they were
            QMessageBox.warning(self, "Restore failed", str(exc))
        self.repo = Repository(open_checked(path), user=user)
        self.settings = self.repo.settings()
        self.find(self.search.text())
        self.show_client(self.client.id if self.client else None)
        if problem is not None:
            QMessageBox.warning(self, "Restored, with a problem", problem)
        elif restored is not None:
            QMessageBox.information(self, "Restored", restored_text(restored))
        return restored is not None

    # --- audit trail ----------------------------------------------------------------------

    def show_audit_trail(self) -> None:
        index = self.history.currentIndex()
        if not index.isValid():
            QMessageBox.information(self, "Audit trail", "Select a session in the list first.")
            return
        session_id = self.history_model.session(index.row()).id
        self.show_text("Audit trail", audit_trail_html(self.repo.audit.history(session_id)))

    @staticmethod
    def show_text(title: str, html: str) -> None:
        from PySide6.QtWidgets import QDialog, QTextBrowser

        dialog = QDialog()
        dialog.setWindowTitle(title)
        browser = QTextBrowser(dialog)
        browser.setHtml(html)
        QVBoxLayout(dialog).addWidget(browser)
        dialog.resize(640, 480)
        dialog.exec()

    # --- the app lock -------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    def _verify_secret(self, secret: str) -> bool:
        from needledesk.security import verify_secret

        return self.settings.lock_hash is not None and \
            verify_secret(self.settings.lock_hash, secret)

    def lock(self) -> None:
        """Hide every client detail (the card and any open session) until unlocked."""
        if not self.settings.lock_hash or self.is_locked:
            return
        self.pages.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        if self.editor is not None and self.editor.isVisible():
            self._hidden_editor = self.editor
            self.editor.hide()
        self.lock_screen.reset()

    def unlock(self) -> None:
        self.pages.setCurrentWidget(self.splitter)
        self.menuBar().setEnabled(True)
        editor, self._hidden_editor = getattr(self, "_hidden_editor", None), None
        if editor is not None:
            editor.show()
        self.idle.timer.start()
        self.search.setFocus()

    def set_app_lock(self) -> None:
        from dataclasses import replace

        from needledesk.security import hash_secret

        answer = self.ask_new_secret(self, self.settings.idle_lock_minutes)
        if answer is None:
            return
        secret, minutes = answer
        try:
            lock_hash = hash_secret(secret) if secret else None
        except NeedleDeskError as exc:
            QMessageBox.warning(self, "App lock", str(exc))
            return
        settings = replace(self.settings, lock_hash=lock_hash, idle_lock_minutes=minutes)
        if self._attempt(lambda: self.repo.save_settings(settings)) is None:
            return
        self.settings = settings
        self.idle.set_interval_ms(minutes * 60_000)

    @staticmethod
    def ask_new_secret(parent, minutes: int) -> tuple[str, int] | None:
        """(new secret or "" to remove the lock, idle minutes), or None if cancelled."""
        from PySide6.QtWidgets import QInputDialog

        first, ok = QInputDialog.getText(parent, "App lock", "New password or PIN (empty: no "
                                         "lock):", QLineEdit.EchoMode.Password)
        if not ok:
            return None
        if first:
            again, ok = QInputDialog.getText(parent, "App lock", "The same again:",
                                             QLineEdit.EchoMode.Password)
            if not ok or again != first:
                QMessageBox.warning(parent, "App lock", "The two entries differ; nothing "
                                    "was changed.")
                return None
        minutes, ok = QInputDialog.getInt(parent, "App lock", "Lock after this many idle "
                                          "minutes:", minutes, 1, 240)
        return (first, minutes) if ok else None

    def locations(self) -> list[tuple[str, Path]]:
        """(what, where) of the records, their backups and the log on this PC."""
        from needledesk.logs import log_file
        from needledesk.ui.backups import backup_folder

        database = Path(self.repo.path)
        return [("Records (database)", database),
                ("Backups", backup_folder(self.state, database)),
                ("Log (details of any problem)", log_file())]

    def show_locations(self) -> None:
        """Help > Where the records are: each place, with a button that opens its folder."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout

        dialog = QDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Where the records are")
        grid = QGridLayout(dialog)
        for row, (what, where) in enumerate(self.locations()):
            grid.addWidget(QLabel(f"<b>{what}</b>"), row, 0)
            path_label = QLabel(str(where))
            path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(path_label, row, 1)
            folder = where if where.suffix == "" else where.parent
            button = QPushButton("Open folder")
            button.clicked.connect(
                lambda _=False, f=folder: QDesktopServices.openUrl(QUrl.fromLocalFile(str(f))))
            grid.addWidget(button, row, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.reject)
        grid.addWidget(close, len(self.locations()), 0, 1, 3)
        dialog.open()
        self.locations_dialog = dialog

    def about(self) -> None:
        QMessageBox.about(self, "About NeedleDesk",
                          f"NeedleDesk {__version__}\nMicroneedling session records, offline.")

    # --- window state -------------------------------------------------------------------

    def _restore(self) -> None:
        geometry = self.state.value("geometry")
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        splitter = self.state.value("splitter")
        if isinstance(splitter, QByteArray | bytes) and splitter:
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([320, 880])
        self.find("")
        last = self.state.value("last_client")
        if last:
            self._select_client(str(last))
        QTimer.singleShot(0, self.search.setFocus)
        if self.settings.lock_hash:
            self.lock()

    def save_state(self) -> None:
        self.state.setValue("geometry", self.saveGeometry())
        self.state.setValue("splitter", self.splitter.saveState())
        self.state.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.editor is not None and self.editor.isVisible():
            self.editor.close()
            if self.editor.isVisible():
                event.ignore()
                return
        self.save_state()
        self._backup_on_close()
        event.accept()

    def _backup_on_close(self) -> None:
        from needledesk.store.backup import take_backup

        try:
            take_backup(self.db_path, self._backup_folder())
        except Exception as exc:  # a closing program must close; say why there was none
            QMessageBox.warning(self, "Backup on closing failed",
                                f"{exc}\n\nThe records themselves are saved.")


def audit_trail_html(entries) -> str:
    if not entries:
        return "<p>No writes are recorded for this session.</p>"
    rows = []
    for e in entries:
        changed = ""
        if isinstance(e.before, dict) and isinstance(e.after, dict):
            from needledesk.domain.amend import diff
            from needledesk.domain.labels import change_lines

            changes = diff(e.before, e.after, skip=frozenset())
            if e.kind == "session":   # the same lines as the editor's history and the PDFs
                changed = "<br>".join(escape(line) for line in change_lines(changes, e.after))
            else:
                changed = "<br>".join(f"{escape(k)}: {escape(str(a))} → {escape(str(b))}"
                                      for k, (a, b) in changes.items())
        seal = " · sealed" if e.seals else ""
        rows.append(f"<tr><td>#{e.seq}</td><td>{moment_text(e.at)}</td>"
                    f"<td>{escape(e.who)}</td><td>{escape(e.action)}{seal}</td>"
                    f"<td>{changed}</td></tr>")
    return ("<table cellpadding=4><tr><th>#</th><th>When</th><th>Who</th><th>What</th>"
            "<th>Changed</th></tr>" + "".join(rows) + "</table>")


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def screening_summary_html(screening: Screening | None, today: date) -> str:
    red = "color:#b3261e; font-weight:600"
    if screening is None:
        return f"<span style='{red}'>⚠ No screening on record</span>"
    parts = [f"Screening of {format_date(screening.date)}"]
    if screening.flagged:
        flags = ", ".join(escape(SCREENING_QUESTIONS[key]) for key in screening.flagged)
        parts.append(f"<span style='{red}'>⚠ flagged: {flags}</span>")
    else:
        parts.append("no flagged answers")
    if not screening.consent_signed:
        parts.append(f"<span style='{red}'>⚠ consent not signed</span>")
    elif consent_expired(screening, today):
        parts.append(f"<span style='{red}'>⚠ {escape(consent_age_text(screening, today))}"
                     "</span>")
    else:
        parts.append("consent signed")
    return " — ".join(parts)
