"""The main window: find a client in a few keystrokes, see their card, start a session.

The window asks the repository for dataclasses and hands them to item models; it holds no
SQL. Window size, splitter positions and the last open client are kept in QSettings.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QByteArray, QEvent, QItemSelectionModel, QObject, QSettings, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from needledesk import __version__
from needledesk.errors import NeedleDeskError
from needledesk.ui.models import ClientListModel

# The first paint needs only the list: the card, the backups, the store and the domain
# rules load right after it (`MainWindow.attach`), and the editor on first use.
if TYPE_CHECKING:
    from collections.abc import Callable

    from needledesk.domain.model import Client
    from needledesk.settings import ClinicSettings
    from needledesk.store.first_page import FirstPage
    from needledesk.store.repository import Repository
    from needledesk.ui.backup_controller import BackupController
    from needledesk.ui.client_card import ClientCard
    from needledesk.ui.course_controller import CourseController
    from needledesk.ui.lock import IdleWatcher, LockScreen
    from needledesk.ui.models import HistoryModel
    from needledesk.ui.session_editor import SessionEditor


class _FirstPaint(QObject):
    """Runs `then` two event-loop turns after the window's first Paint event: after the
    paint pass and whatever it queued (a timer set at show() could fire before the window
    is drawn, and work queued in the paint's own turn would hold the paint pass's
    followers back)."""

    def __init__(self, window: QWidget, then: Callable[[], None]):
        super().__init__(window)
        self._then = then
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, lambda: QTimer.singleShot(0, self, self._then))
        return False


class MainWindow(QMainWindow):
    # Set by `attach` (at once when the window is built on a repository).
    repo: Repository
    settings: ClinicSettings
    backups: BackupController
    courses: CourseController
    card: ClientCard
    idle: IdleWatcher
    backup_timer: QTimer
    # The client card's widgets, under the names the window has always had (set by attach).
    name_label: QLabel
    details_label: QLabel
    screening_label: QLabel
    course_label: QLabel
    new_session_button: QPushButton
    screening_button: QPushButton
    edit_client_button: QPushButton
    course_print_button: QPushButton
    course_export_button: QPushButton
    audit_button: QPushButton
    history_model: HistoryModel
    history: QTableView
    # The editor hidden while the window is locked (unset until then).
    _hidden_editor: SessionEditor | None

    def __init__(self, repo: Repository | None, settings: ClinicSettings | None,
                 state: QSettings, *, db_label: str = "", today=date.today, parent=None,
                 first: FirstPage | None = None):
        """A window on `repo`, or (repo None) a first paint of `first`: the list's first
        page, the demo banner or the lock screen, until `attach(repo, settings)` (which
        `open_main_window` calls right after the first paint)."""
        super().__init__(parent)
        if repo is None and first is None:
            raise ValueError("a window needs its records or their first page")
        self._db_path = repo.path if repo is not None else str(first.path)  # type: ignore[union-attr]
        self.state = state
        #: Who the window's own writes (clients, screenings, settings, restores) are credited
        #: to: the person at the PC, the last practitioner when it opened. A session is
        #: credited to the practitioner chosen in its editor, which does not change this.
        self.user = str(state.value("last_practitioner", "") or "")
        self.today = today
        self.client: Client | None = None
        self.editor: SessionEditor | None = None
        self.attached = False      # the records, the card and the backups are in place
        self._pending_load: Callable[[], None] | None = None
        self.records_open = True   # False once a restore left them unopenable
        self._closing = False      # the backup on closing is under way
        self._may_close = False    # it has reported: the window may close
        self.setWindowTitle("NeedleDesk")
        demo = first.demo if first is not None else repo.is_demo()  # type: ignore[union-attr]
        self._build(db_label, demo)
        self._restore_layout()
        if repo is not None:
            self.attach(repo, settings if settings is not None else repo.settings())
        else:
            assert first is not None
            self.set_records_enabled(False)
            if first.locked:   # the first paint of a locked clinic is the lock screen
                self._show_lock_screen()
            else:
                self.client_model.set_search(first.search())
                self.count_label.setText(_clients_text(first.total))
            QTimer.singleShot(0, self.search.setFocus)

    def attach(self, repo: Repository, settings: ClinicSettings) -> None:
        """The records are open: build the card and the backups, list from the repository
        (the same rows as the first page), show the last client, lock if the clinic locks."""
        from needledesk.ui.backup_controller import BackupController
        from needledesk.ui.client_card import ClientCard
        from needledesk.ui.course_controller import CourseController
        from needledesk.ui.lock import IdleWatcher

        self.repo = repo
        self._db_path = repo.path
        self.settings = settings
        card = ClientCard()
        for name in ("name_label", "details_label", "screening_label", "course_label",
                     "new_session_button", "screening_button", "edit_client_button",
                     "course_print_button", "course_export_button", "history_model",
                     "history", "audit_button"):
            setattr(self, name, getattr(card, name))  # the names the window has always had
        self.card = card
        placeholder = self.splitter.replaceWidget(1, card)
        if placeholder is not None:
            placeholder.deleteLater()
        self.idle = IdleWatcher(self.settings.idle_lock_minutes, self)
        self.idle.idle.connect(self.lock)
        self.search.textChanged.connect(self.find)
        self.search.returnPressed.connect(self.open_first_match)
        self.client_list.selectionModel().currentChanged.connect(self._client_chosen)
        self.client_list.activated.connect(lambda _index: self.history.setFocus())
        self.new_session_button.clicked.connect(self.new_session)
        self.screening_button.clicked.connect(self.record_screening)
        card.consents_button.clicked.connect(self.show_consents)
        self.edit_client_button.clicked.connect(self.edit_client)
        self.course_print_button.clicked.connect(self.print_course_record)
        self.audit_button.clicked.connect(self.show_audit_trail)
        card.photos_button.clicked.connect(self.show_session_photos)
        card.compare_button.clicked.connect(self.compare_photos)
        self.course_export_button.clicked.connect(self.export_course_record)
        self.history.doubleClicked.connect(lambda index: self.open_session(
            self.history_model.session(index.row()).id))
        self.history.activated.connect(lambda index: self.open_session(
            self.history_model.session(index.row()).id))
        for act, key in self._shortcuts:
            act.setShortcut(QKeySequence(key))
        self.backups = BackupController(self)
        self.courses = CourseController(self)   # plan, change, end a course from the card
        self.attached = True
        self.set_records_enabled(True)
        self._show_client(None)
        self.find(self.search.text())
        last = self.state.value("last_client")
        if last:
            self._select_client(str(last))
        if self.settings.lock_hash:
            self.lock()
        elif self.is_locked:   # the first page saw a lock that the settings do not hold
            self.unlock()
        self.backup_timer = QTimer(self)
        self.backup_timer.timeout.connect(self._daily_backup)
        self.backup_timer.start(60 * 60 * 1000)  # hourly look: one generation a day
        QTimer.singleShot(60_000, self._daily_backup)
        self._show_store(repo)
        if repo.on_server:
            self._watch_changes()

    def load_after_first_paint(self, load: Callable[[], None]) -> None:
        """Run `load` (which attaches the records) one loop turn after the first paint, or
        at `finish_loading`, whichever comes first."""
        self._pending_load = load
        _FirstPaint(self, self.finish_loading)

    def finish_loading(self) -> None:
        """Attach now if it has not happened yet (a window that is not shown: scripts and
        tests). Nothing to do once attached."""
        load, self._pending_load = self._pending_load, None
        if load is not None:
            load()

    # --- layout -------------------------------------------------------------------------

    def _build(self, db_label: str, demo: bool) -> None:
        self.splitter = QSplitter()   # side by side (Qt's default orientation)
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
        self.splitter.addWidget(QWidget())   # the client card's place (`attach`)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self._lock_screen: LockScreen | None = None   # made when first locked
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
        self.demo_banner.setVisible(demo)
        column.addWidget(self.demo_banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        if demo:
            self.setWindowTitle("NeedleDesk — demonstration records")
        self.status_label = QLabel(f"File: {db_label}" if db_label else "")
        self.status_label.setObjectName("store-label")
        self.statusBar().addPermanentWidget(self.status_label)
        self._actions()

    def _actions(self) -> None:
        # The keys are bound in `attach`: until then every action is off anyway, and making a
        # QKeySequence builds all of Qt's namespace enums (~20 ms before the first paint).
        self._shortcuts: list[tuple[QAction, QKeySequence.StandardKey | str]] = []

        def action(menu, text, slot, shortcut=None):
            act = QAction(text, self)
            if shortcut is not None:
                self._shortcuts.append((act, shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.new_client_action = action(file_menu, "&New client…", self.new_client,
                                        QKeySequence.StandardKey.New)
        self.new_session_action = action(file_menu, "New &session…", self.new_session,
                                         "Ctrl+Shift+N")
        file_menu.addSeparator()
        settings_action = action(file_menu, "Se&ttings…", self.edit_settings, "Ctrl+,")
        self.catalogue_action = action(file_menu, "&Products and lots…", self.show_catalogue)
        self.consent_forms_action = action(file_menu, "Consent f&orms…",
                                           self.show_consent_forms)
        self.back_up_action = action(file_menu, "&Back up now",
                                     lambda: self.back_up_now(), "Ctrl+B")
        self.restore_action = action(file_menu, "&Restore a backup…", self.restore_backup)
        action(file_menu, "Backup &folder…", self.choose_backup_folder)
        file_menu.addSeparator()
        app_lock_action = action(file_menu, "App &lock…", self.set_app_lock)
        self.lock_action = action(file_menu, "Loc&k now", self.lock_now, "Ctrl+L")
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.find_action = action(edit_menu, "&Find client", self.focus_search,
                                  QKeySequence.StandardKey.Find)
        #: What reads or writes the records: off while a restore runs or failed to reopen.
        self.record_actions: tuple[QAction, ...]
        self.record_actions = (self.new_client_action, self.new_session_action,
                               settings_action, self.catalogue_action,
                               self.consent_forms_action,
                               self.back_up_action, self.restore_action,
                               app_lock_action, self.lock_action, self.find_action)
        #: The chosen client's consents (ui/consents_list.py): on only with a client.
        client_menu = self.menuBar().addMenu("&Client")
        self.consent_actions: tuple[QAction, ...] = (
            action(client_menu, "&Consents…", self.show_consents),
            action(client_menu, "Sign &treatment consent…", self.sign_consent, "Ctrl+Shift+G"),
            action(client_menu, "Sign &photo consent…", self.sign_photo_consent),
            action(client_menu, "Record a consent signed on p&aper…",
                   self.record_paper_consent))
        self.record_actions += self.consent_actions
        self.session_photos_action = action(client_menu, "P&hotos of the chosen session…",
                                            self.show_session_photos, "Ctrl+Shift+P")
        self.record_actions += (self.session_photos_action,)
        #: The chosen session's next missing view with a camera (ui/camera_dialog.py).
        self.take_photo_action = action(client_menu, "Take photo &with the camera…",
                                        self.take_photo)
        self.record_actions += (self.take_photo_action,)
        #: The chosen client's photos of a view from two sessions (ui/compare_view.py).
        self.compare_action = action(client_menu, "Co&mpare photos…", self.compare_photos,
                                     "Ctrl+Shift+C")
        self.consent_actions += (self.compare_action,)   # on only with a client, as those
        self.record_actions += (self.compare_action,)
        #: The clinic's lists and reports (more entries may join the reactions report here).
        self.reports_menu = self.menuBar().addMenu("&Reports")
        self.reactions_action = action(self.reports_menu, "Reactions &report…",
                                       self.show_reactions_report)
        self.record_actions += (self.reactions_action,)
        self.due_action = action(self.reports_menu, "Who is &due…", self.show_due_list,
                                 "Ctrl+Shift+D")
        self.recall_action = action(self.reports_menu, "Re&call a lot…", self.show_recall)
        self.record_actions += (self.due_action, self.recall_action)
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "&Keyboard shortcuts…", self.show_shortcuts, "F1")
        action(help_menu, "A short &guide…", self.show_guide)
        action(help_menu, "&Where the records are…", self.show_locations)
        action(help_menu, "&About NeedleDesk", self.about)

    # --- finding clients ----------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def find(self, text: str = "") -> None:  # type: ignore[override]  # not QWidget.find(id)
        found = self.repo.find_clients(text)
        self.client_model.set_search(found)
        if text.strip():
            self.count_label.setText(f"{found.total:,} of "
                                     f"{_clients_text(self.repo.count_clients())}")
        else:
            self.count_label.setText(_clients_text(found.total))
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

    # --- other rooms' changes (the clinic server) ---------------------------------------

    #: How often the window asks the clinic server whether anything changed (ms).
    CHANGE_POLL_MS = 4000

    def _show_store(self, repo: Repository) -> None:
        """The permanent status-bar label: which store this window is on."""
        where = repo.where
        self.status_label.setText(f"Clinic server: {where}" if repo.on_server
                                  else f"File: {where}")
        self.status_label.setToolTip(
            "The records are on the clinic server, shared by every room" if repo.on_server
            else "The records are in this file on this PC")

    def _watch_changes(self) -> None:
        """On the clinic server other rooms write too: every few seconds, while the window
        is shown, one cheap read (`Repository.change_marker`) on a worker thread and a
        connection of its own tells whether anything changed (a server gone quiet never
        freezes an idle window); the client list is then read again (`poll_changes`)."""
        try:
            self._change_marker: int | None = self.repo.change_marker()
        except NeedleDeskError:   # the server is away: the first look that reaches it reads
            self._change_marker = None
        self._polling: list[bool] = []   # [True] while a look is under way
        #: How many times other rooms' changes were read into the list (tests look).
        self.refreshes = 0
        self._marker_reader: list = []   # the worker's own connection, made on first use
        self.destroyed.connect(lambda *_, kept=self._marker_reader: _close_all(kept))
        self.change_timer = QTimer(self)
        self.change_timer.setInterval(self.CHANGE_POLL_MS)
        self.change_timer.timeout.connect(self.poll_changes)
        self.change_timer.start()

    def poll_changes(self) -> None:
        """Look whether another room (or this one) wrote since the last look and, if so,
        read the client list again (`refresh_clients`). Only while the window is shown,
        unlocked and on open records, and one look at a time."""
        if not self._may_poll() or self._polling:
            return
        from needledesk.ui.tasks import Tasks

        self._polling.append(True)
        kept, repo = self._marker_reader, self.repo

        def read() -> int | Exception:   # on the worker: its own connection, made again
            try:                          # after a failure
                if not kept:
                    kept.append(repo.reader())
                return kept[0].change_marker()
            except Exception as exc:
                _close_all(kept)
                if repo.server_away(exc):
                    return exc   # expected while the server is away: said, not logged
                raise

        Tasks.run(read, self._marker_read, self._marker_failed, owner=self,
                  on_finish=self._polling.clear)

    def _may_poll(self) -> bool:
        return (self.attached and self.records_open and not self.is_locked
                and self.isVisible() and not self.isMinimized())

    def _marker_failed(self, exc: Exception) -> None:
        """The look found the clinic server away: the status bar says so until a look
        reaches it again."""
        from needledesk.ui.server_away import STATUS_AWAY

        if self.repo.server_away(exc):
            self.statusBar().showMessage(STATUS_AWAY)

    def _marker_read(self, marker: int | Exception) -> None:
        from needledesk.ui.server_away import STATUS_AWAY, STATUS_BACK

        if isinstance(marker, Exception):
            self._marker_failed(marker)
            return
        editor_waiting = self.editor is not None and self.editor.away.waiting
        if self.statusBar().currentMessage() == STATUS_AWAY and not editor_waiting:
            self.statusBar().showMessage(STATUS_BACK, 10_000)
        if marker == self._change_marker or not self._may_poll():
            return
        # After an outage the window's own connection is made again before it reads.
        if not self.repo.server_reachable():
            return
        self._change_marker = marker
        self.refresh_clients()
        self.refreshes += 1

    def refresh_clients(self) -> None:
        """The list read again for the same search; the chosen client stays chosen, or the
        list stays where it was scrolled to. The chosen client's card is read again too (a
        session another room saved, a changed phone), keeping the session chosen in it."""
        bar = self.client_list.verticalScrollBar()
        position = bar.value()
        self.find(self.search.text())
        if self.client is None or self.client_model.row_of(self.client.id) is None:
            bar.setValue(position)
        if self.client is None:
            return
        index = self.history.currentIndex()
        chosen = self.history_model.session(index.row()).id if index.isValid() else None
        self.show_client(self.client.id)
        for row in range(self.history_model.rowCount()):
            if self.history_model.session(row).id == chosen:
                self.history.setCurrentIndex(self.history_model.index(row, index.column()))
                break

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Coming back to the window (or out of the taskbar) looks for changes at once."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ActivationChange, QEvent.Type.WindowStateChange) \
                and getattr(self, "change_timer", None) is not None and self.isActiveWindow():
            QTimer.singleShot(0, self, self.poll_changes)

    # --- the card -----------------------------------------------------------------------

    def show_client(self, client_id: str | None) -> None:
        try:
            client = self.repo.get_client(client_id) if client_id else None
        except NeedleDeskError:
            client = None
        self._show_client(client)

    def _show_client(self, client: Client | None) -> None:
        self.client = client
        self.new_session_action.setEnabled(client is not None)
        for act in self.consent_actions:
            act.setEnabled(client is not None)
        if client is not None:
            self.state.setValue("last_client", client.id)
        self.card.show_client(client, self.repo, self.settings, self.today())

    # --- actions ------------------------------------------------------------------------

    def _user(self) -> str:
        return str(self.state.value("last_practitioner", "") or "")

    def new_client(self) -> None:
        from needledesk.ui.client_dialog import ClientDialog

        client = ClientDialog.ask(self)
        if client is None:
            return
        if self._attempt(lambda: self.repo.add_client(client, by=self.user)) is None:
            return
        self.search.setText("")
        self.find("")
        self._select_client(client.id)

    def edit_client(self) -> None:
        from needledesk.ui.client_dialog import ClientDialog

        if self.client is None:
            return
        client = ClientDialog.ask(self, self.client)
        if client is None or self._attempt(
                lambda: self.repo.update_client(client, by=self.user)) is None:
            return
        self.find(self.search.text())
        self.show_client(client.id)

    def record_screening(self) -> None:
        from needledesk.ui.screening_dialog import ScreeningDialog

        if self.client is None:
            return
        from needledesk.domain.rules import latest_screening

        previous = latest_screening(self.repo.screenings(self.client.id))
        screening = ScreeningDialog.ask(self, self.client.id, previous)
        if screening is None or self._attempt(
                lambda: self.repo.add_screening(screening, by=self.user)) is None:
            return
        self.show_client(self.client.id)

    def show_consents(self) -> None:
        from needledesk.ui.consents_list import show_consents

        show_consents(self)

    def sign_consent(self, _checked: bool = False) -> None:
        from needledesk.ui.consents_list import sign_consent

        sign_consent(self)

    def sign_photo_consent(self) -> None:
        from needledesk.domain.model import ConsentKind
        from needledesk.ui.consents_list import sign_consent

        sign_consent(self, ConsentKind.PHOTO)

    def record_paper_consent(self) -> None:
        from needledesk.ui.consents_list import record_paper_consent

        record_paper_consent(self)

    def edit_settings(self) -> None:
        from needledesk.ui.settings_dialog import SettingsDialog

        settings = SettingsDialog.ask(self, self.settings, state=self.state)
        if settings is None or self._attempt(
                lambda: self.repo.save_settings(settings, by=self.user)) is None:
            return
        self.settings = settings

    def show_catalogue(self) -> None:
        from needledesk.ui.catalogue_dialog import CatalogueDialog

        CatalogueDialog.show_for(self, self.repo, user=self.user, state=self.state)

    def show_consent_forms(self) -> None:
        from needledesk.ui.consent_forms_dialog import ConsentFormsDialog

        ConsentFormsDialog.show_for(self, self.repo, user=self._user() or self.user,
                                    state=self.state)

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
        # a photo added or removed there: the card's photo counts follow
        editor.photos_panel.changed.connect(lambda: self._session_saved(editor.session_id))
        editor.destroyed.connect(lambda *_: self._editor_gone(editor))
        editor.away.changed.connect(self._server_away)
        editor.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.open()
        return editor

    def _server_away(self, state: str) -> None:
        """An open editor's save is waiting for the clinic server ("away"), or no longer
        ("back": the server answered; "kept": closed meanwhile, kept on this PC)."""
        from needledesk.ui.server_away import STATUS_AWAY, STATUS_BACK, STATUS_KEPT

        if state == "away":
            self.statusBar().showMessage(STATUS_AWAY)
        elif self.statusBar().currentMessage() == STATUS_AWAY:
            self.statusBar().showMessage(STATUS_KEPT if state == "kept" else STATUS_BACK,
                                         10_000)

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

    # --- backups (ui/backup_controller.py) -----------------------------------------------

    @property
    def db_path(self) -> str:
        """The records' file (kept, so it is known while the connection is closed)."""
        return self._db_path

    def _backup_folder(self):
        return self.backups.folder()

    def back_up_now(self, *, quietly: bool = False) -> None:
        """A new generation in the backup folder, taken off the UI thread."""
        self.backups.back_up_now(quietly=quietly)

    def _daily_backup(self) -> None:
        self.backups.daily()

    def choose_backup_folder(self) -> None:
        self.backups.choose_folder()

    def restore_backup(self) -> bool:
        return self.backups.restore()

    def set_records_enabled(self, enabled: bool) -> None:
        """While a restore runs (and after the records could not be reopened) nothing in
        the window may read or write them: the card, the list and the record actions."""
        self.splitter.setEnabled(enabled)
        for act in self.record_actions:
            act.setEnabled(enabled)
        if enabled:
            self.new_session_action.setEnabled(self.client is not None)
            for act in self.consent_actions:
                act.setEnabled(self.client is not None)

    def records_reopened(self, repo: Repository, settings: ClinicSettings) -> None:
        """After a restore: the window reads the restored records."""
        self.repo = repo
        self._db_path = repo.path
        self.settings = settings
        self.records_open = True
        self.set_records_enabled(True)
        self._show_store(repo)
        _close_all(getattr(self, "_marker_reader", []))   # the records' new connection
        self.find(self.search.text())
        self.show_client(self.client.id if self.client else None)

    def records_unavailable(self, reason: str) -> None:
        """The records could not be opened again after a restore: say so plainly, offer
        nothing that would read or write them, and offer to quit."""
        self.records_open = False
        self.backup_timer.stop()
        self.set_records_enabled(False)
        self.client = None
        self.statusBar().showMessage(f"The records are not open: {reason}")
        answer = QMessageBox.question(
            self, "The records could not be opened again",
            f"After the restore the records could not be opened again: {reason}\n\n"
            "Nothing can be recorded in this window. Quit NeedleDesk now and start it "
            "again?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            QTimer.singleShot(0, self, self.close)

    # --- audit trail ----------------------------------------------------------------------

    def show_audit_trail(self) -> None:
        index = self.history.currentIndex()
        if not index.isValid():
            QMessageBox.information(self, "Audit trail", "Select a session in the list first.")
            return
        from needledesk.ui.audit_view import audit_trail_html

        session_id = self.history_model.session(index.row()).id
        self.show_text("Audit trail", audit_trail_html(self.repo.audit.history(session_id)))

    def show_session_photos(self):
        """The chosen session's photos (signed or not): add, view, remove."""
        from needledesk.ui.photos_panel import PhotosDialog

        index = self.history.currentIndex()
        if self.client is None or not index.isValid():
            QMessageBox.information(self, "Photos", "Select a session in the list first.")
            return None
        session_id = self.history_model.session(index.row()).id
        dialog = PhotosDialog(self.repo, self.settings, self.client, session_id,
                              by=lambda: self._user() or self.user, parent=self)
        client_id = self.client.id
        dialog.finished.connect(lambda *_: self.show_client(client_id))   # photo counts
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.photos_page = dialog
        dialog.open()
        return dialog

    def compare_photos(self):
        """The chosen client's photos of a view, first and latest (or any two sessions),
        side by side or overlaid; a client without photos gets a message instead."""
        from needledesk.ui.compare_view import compare_photos

        if self.client is None:
            return None
        self.compare_page = compare_photos(self, self.repo, self.client.id, state=self.state,
                                           today=self.today)
        return self.compare_page

    def take_photo(self):
        """The chosen session's next missing view (the clinic's views) taken with a camera;
        the PhotoAdded, or None (loaded on first use: QtMultimedia only then)."""
        from needledesk.ui.camera_dialog import capture_photo, next_missing_view

        index = self.history.currentIndex()
        if self.client is None or not index.isValid():
            QMessageBox.information(self, "Take photo", "Select a session in the list first.")
            return None
        session_id = self.history_model.session(index.row()).id
        view = next_missing_view(self.repo, self.settings, session_id)
        added = capture_photo(self.repo, session_id, view, self,
                              by=lambda: self._user() or self.user, state=self.state)
        if added is not None and added.added:
            self.show_client(self.client.id)   # the session's photo count
            self.statusBar().showMessage("Photo taken.", 5000)
        return added

    def show_reactions_report(self):
        """Reactions by product, lot and depth band over a period (loaded on first use)."""
        from needledesk.ui.reactions_view import show_reactions_report

        return show_reactions_report(self, self.repo, state=self.state, today=self.today)

    def show_due_list(self):
        """Who is due: courses due, overdue or lapsed, with phones (loaded on first use)."""
        from needledesk.ui.due_view import DueView, already_open

        if already_open(getattr(self, "due_view", None)):
            return self.due_view
        self.due_view = DueView(self.repo, self.settings, today=self.today(),
                                open_client=self.open_client, state=self.state,
                                protected_folders=self.protected_folders, parent=self)
        self.due_view.show()
        return self.due_view

    def show_recall(self):
        """Who received a lot: every session that used it, with phones."""
        from needledesk.ui.due_view import already_open
        from needledesk.ui.recall_view import RecallView

        if already_open(getattr(self, "recall_view", None)):
            return self.recall_view
        self.recall_view = RecallView(self.repo, self.settings, today=self.today(),
                                      open_client=self.open_client, state=self.state,
                                      protected_folders=self.protected_folders, parent=self)
        self.recall_view.show()
        return self.recall_view

    def open_client(self, client_id: str) -> None:
        """Show a client picked in a list (who is due, a recall) on the card."""
        self._select_client(client_id)

    def show_text(self, title: str, html: str) -> None:
        from needledesk.ui.audit_view import show_text

        show_text(self, title, html)

    # --- the app lock -------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self._lock_screen is not None and self.pages.currentWidget() is self._lock_screen

    @property
    def lock_screen(self) -> LockScreen:
        """The page that hides the records while locked, made the first time it is needed
        (most windows are never locked; the first paint does not build it)."""
        if self._lock_screen is None:
            from needledesk.ui.lock import LockScreen

            self._lock_screen = LockScreen(self._verify_secret)
            self._lock_screen.unlocked.connect(self.unlock)
            self.pages.addWidget(self._lock_screen)
        return self._lock_screen

    def _verify_secret(self, secret: str) -> bool:
        from needledesk.security import verify_secret

        self.finish_loading()   # a secret typed during the first paint waits for it
        return self.attached and self.settings.lock_hash is not None and \
            verify_secret(self.settings.lock_hash, secret)

    def lock_now(self) -> None:
        """Ctrl+L: lock, or say why it cannot (no app lock set)."""
        if not self.settings.lock_hash:
            self.statusBar().showMessage(
                "There is no app lock to lock with: set a password or PIN with "
                "File › App lock… first.", 10_000)
            return
        self.lock()

    def lock(self) -> None:
        """Hide every client detail (the card and any open session) until unlocked."""
        if not self.settings.lock_hash or self.is_locked:
            return
        self._show_lock_screen()

    def _show_lock_screen(self) -> None:
        self.pages.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        if self.editor is not None and self.editor.isVisible():
            self._hidden_editor = self.editor
            self.editor.hide()
        self._close_lists()
        self.lock_screen.reset()

    def _close_lists(self) -> None:
        """The lists and reports (who is due, a recall with clients' phones, the reactions
        report) close on locking: they are made again from the records when asked for."""
        if "needledesk.ui.reactions_view" in sys.modules:
            from needledesk.ui.reactions_view import ReactionsView

            for report in self.findChildren(ReactionsView):
                report.close()
        if "needledesk.ui.consents_list" in sys.modules:
            from needledesk.ui.consents_list import ConsentsDialog

            for page in self.findChildren(ConsentsDialog):
                page.close()
        if "needledesk.ui.photos_panel" in sys.modules:
            # a session's photos, one opened large, the import folder (the editor's too)
            from needledesk.ui.photos_panel import photo_windows

            for photo_page in photo_windows(self):
                photo_page.close()
        if "needledesk.ui.compare_view" in sys.modules:
            from needledesk.ui.compare_view import CompareDialog

            for comparison in self.findChildren(CompareDialog):
                comparison.close()
        if "needledesk.ui.due_view" not in sys.modules:
            return   # never opened
        from needledesk.ui.due_view import already_open

        for name in ("due_view", "recall_view"):
            view = getattr(self, name, None)
            if view is not None and already_open(view, bring_forward=False):
                view.close()

    def unlock(self) -> None:
        self.pages.setCurrentWidget(self.splitter)
        self.menuBar().setEnabled(True)
        editor, self._hidden_editor = getattr(self, "_hidden_editor", None), None
        if editor is not None:
            editor.show()
        if self.attached:
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
        if self._attempt(lambda: self.repo.save_settings(settings, by=self.user)) is None:
            return
        self.settings = settings
        self.idle.set_interval_ms(minutes * 60_000)

    @staticmethod
    def ask_new_secret(parent, minutes: int) -> tuple[str, int] | None:
        """(new secret or "" to remove the lock, idle minutes), or None if cancelled."""
        first = _ask_input(parent, "New password or PIN (empty: no lock):", secret=True)
        if first is None:
            return None
        if first:
            again = _ask_input(parent, "The same again:", secret=True)
            if again is None or again != first:
                QMessageBox.warning(parent, "App lock", "The two entries differ; nothing "
                                    "was changed.")
                return None
        answer = _ask_input(parent, "Lock after this many idle minutes:", number=minutes)
        return None if answer is None else (first, answer)

    def locations(self) -> list[tuple[str, Path]]:
        """(what, where) of the records, their backups and the log on this PC."""
        from needledesk.logs import log_file
        from needledesk.ui.backups import backup_folder

        places = [("Backups", backup_folder(self.state, self.db_path)),
                  ("Log (details of any problem)", log_file())]
        if self.attached and self.repo.on_server:   # no folder here: `server_location`
            return places
        return [("Records (database)", Path(self.db_path)), *places]

    def server_location(self) -> str | None:
        """Where the records are when they are on the clinic server (no folder on this PC
        holds them), or None on the file."""
        if self.attached and self.repo.on_server:
            return f"On the clinic server {self.repo.where}, shared by every room"
        return None

    def show_locations(self) -> None:
        """Help > Where the records are: each place, with a button that opens its folder."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout

        dialog = QDialog(self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle("Where the records are")
        grid = QGridLayout(dialog)
        server = self.server_location()
        first = 0
        if server is not None:
            grid.addWidget(QLabel("<b>Records</b>"), 0, 0)
            grid.addWidget(QLabel(server), 0, 1, 1, 2)
            first = 1
        for row, (what, where) in enumerate(self.locations(), first):
            grid.addWidget(QLabel(f"<b>{what}</b>"), row, 0)
            path_label = QLabel(str(where))
            path_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(path_label, row, 1)
            folder = where if where.suffix == "" else where.parent
            button = QPushButton("Open folder")
            button.clicked.connect(
                lambda _=False, f=folder: QDesktopServices.openUrl(QUrl.fromLocalFile(str(f))))
            grid.addWidget(button, row, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.reject)
        grid.addWidget(close, len(self.locations()) + first, 0, 1, 3)
        dialog.open()
        self.locations_dialog = dialog

    def show_shortcuts(self) -> None:
        from needledesk.ui.help import shortcuts_html, show_page

        actions = [a for menu in self.menuBar().findChildren(QMenu) for a in menu.actions()]
        self.help_page = show_page(self, "Keyboard shortcuts", shortcuts_html(actions))

    def show_guide(self) -> None:
        from needledesk.ui.help import GUIDE, show_page

        self.help_page = show_page(self, "NeedleDesk: a short guide", GUIDE)

    def about(self) -> None:
        QMessageBox.about(self, "About NeedleDesk",
                          f"NeedleDesk {__version__}\nMicroneedling session records, offline.")

    # --- window state -------------------------------------------------------------------

    def _restore_layout(self) -> None:
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
        QTimer.singleShot(0, self.search.setFocus)

    def save_state(self) -> None:
        self.state.setValue("geometry", self.saveGeometry())
        self.state.setValue("splitter", self.splitter.saveState())
        self.state.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Closing takes a backup first, on a worker, with "Backing up…" shown; the window
        stays responsive and closes when the backup reports (a failure is said, and the
        window still closes)."""
        if self._may_close or not self.attached:   # nothing can have been written yet
            event.accept()
            return
        if self.backups.restoring:
            event.ignore()
            self.statusBar().showMessage("A restore is under way: NeedleDesk closes once "
                                         "it is finished.", 10_000)
            return
        if self.editor is not None and self.editor.isVisible():
            self.editor.close()
            if self.editor.isVisible():
                event.ignore()
                return
        self.save_state()
        if not self.records_open:  # nothing was written since the restore that failed
            event.accept()
            return
        event.ignore()
        if self._closing:
            return  # the backup on closing is already under way
        self._closing = True
        self.backup_timer.stop()
        try:
            self.backups.back_up_on_close(self._backed_up_on_close)
        except Exception as exc:  # noqa: BLE001 (a closing program must close; say why)
            QMessageBox.warning(self, "Backup on closing failed",
                                f"{exc}\n\nThe records themselves are saved.")
            self._may_close = True
            event.accept()

    def _backed_up_on_close(self) -> None:
        self._may_close = True
        QTimer.singleShot(0, self, self.close)


def _close_all(repos: list) -> None:
    """Close and forget the connections in `repos` (the change watcher's own)."""
    import contextlib

    while repos:
        with contextlib.suppress(Exception):   # already broken: nothing left to close
            repos.pop().db.close()


def _clients_text(count: int) -> str:
    from needledesk.domain.text import count_text  # light: no other domain module

    return count_text(count, "client")


def _ask_input(parent, label: str, *, secret: bool = False, number: int | None = None):
    """One App lock question in a dialog owned by `parent` and freed when answered: the text
    (or the number of minutes, 1 to 240), or None when cancelled."""
    from PySide6.QtWidgets import QDialog, QInputDialog

    dialog = QInputDialog(parent)
    dialog.setWindowTitle("App lock")
    dialog.setLabelText(label)
    if number is not None:
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, 240)
        dialog.setIntValue(number)
    elif secret:
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.intValue() if number is not None else dialog.textValue()
    finally:
        dialog.deleteLater()
