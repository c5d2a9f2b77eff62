"""A client's consents: every one signed on screen or on paper, and those carried from old
screenings' "consent signed" ticks; each opens locked (`ConsentView`), and from here a new
treatment or photo consent is signed, or one signed on paper recorded.

The main window's Client menu and the card's Consents… button come here (`show_consents`,
`sign_consent`, `record_paper_consent`); the card is refreshed after each consent stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.consent import covering, signed_text
from needledesk.domain.model import Client, Consent, ConsentKind
from needledesk.domain.text import day_text
from needledesk.settings import ClinicSettings
from needledesk.ui.consent_dialog import (
    KIND_TITLE,
    ConsentView,
    PaperConsentDialog,
    RememberedDialog,
    SignConsentDialog,
)

COLUMNS = ("Consent", "Signed", "Form", "Practitioner", "Uses agreed / notes")


def consent_row(consent: Consent) -> list[str]:
    """A consent as one row of the list."""
    signed = signed_text(consent)
    if consent.carried_from is not None:
        signed += f" (recorded with the screening of {day_text(consent.signed_at.date())})"
    form = (f"version {consent.template_version}" if consent.template_version is not None
            else "not kept")
    if consent.kind == ConsentKind.PHOTO:
        uses = [s.text for s in consent.statements if consent.answers.get(s.key)]
        more = "; ".join(uses) if uses else "no use agreed"
    else:
        more = consent.notes if consent.carried_from is None else ""
    return [KIND_TITLE.get(consent.kind, "Consent"), signed[:1].upper() + signed[1:], form,
            consent.practitioner, more]


def run_dialog(dialog: QDialog) -> bool:
    """Run a consent dialog modally; True when it was accepted (tests replace this)."""
    return bool(dialog.exec() == QDialog.DialogCode.Accepted)


class ConsentsDialog(RememberedDialog):
    """The client's consents, newest first, with the ways to add one."""

    GEOMETRY_KEY = "consents_geometry"
    DEFAULT_SIZE = QSize(980, 420)
    #: Emitted after a consent was stored from here (the card refreshes).
    changed = Signal()

    def __init__(self, repo, client: Client, settings: ClinicSettings, *, by: str = "",
                 today: date | None = None, now: Callable[[], datetime] = datetime.now,
                 db_path: str = "", backup_dirs=(), parent: QWidget | None = None,
                 state: QSettings | None = None):
        super().__init__(parent)
        self.repo, self.client, self.settings, self.by = repo, client, settings, by
        self._now = now
        self._today = today
        self.db_path, self.backup_dirs = db_path, list(backup_dirs)
        self.state = state
        self.setWindowTitle(f"Consents — {client.full_name}")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The long columns share what is left (each cell's tooltip has its whole text).
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.doubleClicked.connect(lambda _index: self.open_chosen())
        self.empty_label = QLabel("No consent on record yet: sign one on screen, or record "
                                  "one signed on paper.")

        self.open_button = QPushButton("&Open…")
        self.open_button.setToolTip("The chosen consent as it was signed (Enter)")
        self.sign_treatment_button = QPushButton("Sign &treatment consent…")
        self.sign_photo_button = QPushButton("Sign p&hoto consent…")
        self.paper_button = QPushButton("Record a consent signed on &paper…")
        self.open_button.clicked.connect(self.open_chosen)
        self.sign_treatment_button.clicked.connect(lambda: self.sign(ConsentKind.TREATMENT))
        self.sign_photo_button.clicked.connect(lambda: self.sign(ConsentKind.PHOTO))
        self.paper_button.clicked.connect(self.record_paper)
        actions = QHBoxLayout()
        for button in (self.open_button, self.sign_treatment_button, self.sign_photo_button,
                       self.paper_button):
            actions.addWidget(button)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(actions)
        layout.addWidget(close)
        # Enter opens the chosen consent (once the button is in the dialog, Qt keeps it).
        self.open_button.setDefault(True)
        self.table.itemSelectionChanged.connect(self._chosen)
        self.refresh()
        self._restore(state)
        self.table.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        """Closing the list (the window locks) closes what was opened from it too: a form
        being signed, a signed one, a paper one. What was not signed yet is not kept."""
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.hide()   # ends its modal run: not accepted, nothing stored
        super().closeEvent(event)

    def today(self) -> date:
        return self._today or self._now().date()

    def refresh(self) -> None:
        """Read the client's consents again (newest first)."""
        self.consents = list(reversed(self.repo.consents(self.client.id, carried=True)))
        self.table.setRowCount(len(self.consents))
        for row, consent in enumerate(self.consents):
            for column, text in enumerate(consent_row(consent)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(self.consents))
        self.empty_label.setVisible(not self.consents)
        if self.consents:
            self.table.selectRow(0)
        current = {kind: covering(self.consents, self.today(), kind)
                   for kind in (ConsentKind.TREATMENT, ConsentKind.PHOTO)}
        parts = []
        for kind, consent in current.items():
            name = KIND_TITLE[kind]
            parts.append(f"{name}: {signed_text(consent)}" if consent is not None
                         else f"{name}: none on record")
        self.summary.setText(" · ".join(parts))
        self._chosen()

    def chosen(self) -> Consent | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.consents[rows[0].row()]

    def _chosen(self) -> None:
        self.open_button.setEnabled(self.chosen() is not None)

    # --- acting --------------------------------------------------------------------------

    def view(self, consent: Consent) -> ConsentView:
        return ConsentView(consent, self.client, self.settings, db_path=self.db_path,
                           backup_dirs=self.backup_dirs, parent=self, state=self.state)

    def open_chosen(self) -> None:
        consent = self.chosen()
        if consent is None:
            return
        dialog = self.view(consent)
        try:
            run_dialog(dialog)
        finally:
            dialog.deleteLater()

    def sign(self, kind: ConsentKind) -> Consent | None:
        dialog = SignConsentDialog(self.repo, self.client, kind, self.settings, by=self.by,
                                   now=self._now, parent=self, state=self.state)
        return self._stored(dialog)

    def record_paper(self) -> Consent | None:
        dialog = PaperConsentDialog(self.repo, self.client, self.settings, by=self.by,
                                    today=self._today, now=self._now, db_path=self.db_path,
                                    backup_dirs=self.backup_dirs, parent=self,
                                    state=self.state)
        return self._stored(dialog)

    def _stored(self, dialog: SignConsentDialog | PaperConsentDialog) -> Consent | None:
        try:
            saved = dialog.saved if run_dialog(dialog) else None
        finally:
            dialog.deleteLater()
        if saved is not None:
            self.refresh()
            self.changed.emit()
        return saved


# --- from the main window --------------------------------------------------------------------


def consents_dialog(window) -> ConsentsDialog | None:
    """The consents list for the window's client (None: no client chosen)."""
    if getattr(window, "client", None) is None:
        return None
    dialog = ConsentsDialog(
        window.repo, window.client, window.settings, by=window.user,
        today=window.today(), db_path=window.db_path,
        backup_dirs=window.protected_folders(), parent=window, state=window.state)
    client_id = window.client.id
    dialog.changed.connect(lambda: window.show_client(client_id))
    # Over the window, so a form opened from it unseen (the Client menu) is centred there.
    dialog.move(window.frameGeometry().center() - dialog.rect().center())
    return dialog


def show_consents(window) -> ConsentsDialog | None:
    """Client › Consents…: the list, open beside the window (freed when closed)."""
    dialog = consents_dialog(window)
    if dialog is not None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.consents_page = dialog
        dialog.open()
    return dialog


def sign_consent(window, kind: ConsentKind = ConsentKind.TREATMENT) -> Consent | None:
    """Client › Sign treatment / photo consent…, straight to the form."""
    dialog = consents_dialog(window)
    if dialog is None:
        return None
    try:
        return dialog.sign(kind)
    finally:
        dialog.deleteLater()


def record_paper_consent(window) -> Consent | None:
    """Client › Record a consent signed on paper…."""
    dialog = consents_dialog(window)
    if dialog is None:
        return None
    try:
        return dialog.record_paper()
    finally:
        dialog.deleteLater()
