"""File › Consent forms…: the clinic's consent forms (treatment and photo), each kept as
versions. The current version is edited and saved as the next one; older versions are shown
read-only. Saving never touches a consent already signed: each consent keeps the text it was
signed under (`store.repository.consents`).

Until the clinic saves a form, the form shipped with NeedleDesk is the one offered (and
marked so here); saving it, changed, stores it as version 1.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.consent_forms import default_template
from needledesk.domain.labels import problem_text
from needledesk.domain.model import PHOTO_USES, ConsentKind, ConsentStatement, ConsentTemplate
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.ui.forms import (
    FieldMessage,
    remember_geometry,
    restore_geometry,
    window_state,
)

GEOMETRY_KEY = "consent_forms_geometry"
DEFAULT_SIZE = QSize(980, 700)

KIND_TITLES = {ConsentKind.TREATMENT: "Treatment consent", ConsentKind.PHOTO: "Photo consent"}

#: Said once, above the forms.
SIGNED_STAY_TEXT = ("Saving a form stores it as a new version, used for consents signed from "
                    "then on. Consents already signed never change: each keeps the text it "
                    "was signed under.")

_STATEMENT = re.compile(r"statements\[(\d+)\](?:\.(\w+))?$")


def version_text(template: ConsentTemplate, *, stored: bool = True) -> str:
    """`Version 2 — saved 3 Nov 2026 by Jane Smith` / the shipped form, not saved yet."""
    if not stored:
        return f"Version {template.version} — shipped with NeedleDesk"
    when = f" {day_text(template.created_at.date())}" if template.created_at else ""
    who = f" by {template.created_by}" if template.created_by else ""
    return f"Version {template.version} — saved{when}{who}"


def form_problem_text(problem: Problem) -> str:
    """A form's problem in the dialog's words: `Statement 3 is required`, `Form title is
    required` (the fields' on-screen labels)."""
    found = _STATEMENT.match(problem.path)
    if found is not None:
        return f"Statement {int(found.group(1)) + 1} {problem.message}"
    return problem_text(problem, kind="consent_template")


class FormEditor(QWidget):
    """One form: its versions (newest first), and the selected one's title, text and
    statements; editable when it is the current version, read-only otherwise."""

    def __init__(self, repo: Any, kind: ConsentKind, user: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.repo = repo
        self.kind = kind
        self.user = user
        self.versions: list[ConsentTemplate] = []
        #: True while the clinic has stored no version (the shipped form is offered).
        self.shipped = False
        self._baseline: tuple[Any, ...] = ()
        #: The row of the version shown (0: the current one, editable).
        self._row = 0

        self.version_list = QListWidget()
        self.version_list.setAccessibleName(f"Versions of the {KIND_TITLES[kind].lower()}")
        self.version_list.setWordWrap(True)
        self.version_list.currentRowChanged.connect(self._show_version)
        versions_label = QLabel("&Versions:")
        versions_label.setBuddy(self.version_list)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(versions_label)
        left_layout.addWidget(self.version_list)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.title = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setTabChangesFocus(True)
        self.statements = QTableWidget(0, 2)
        self.statements.setHorizontalHeaderLabels(["Statement the client ticks",
                                                   "Must be ticked"])
        header = self.statements.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.statements.verticalHeader().setVisible(False)
        self.statements.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.statements.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.statements.setWordWrap(True)
        self.statements.setTabKeyNavigation(False)
        self.statements.currentCellChanged.connect(lambda *_: self._enable())
        self.add_button = QPushButton("&Add statement")
        self.add_button.clicked.connect(self.add_statement)
        self.remove_button = QPushButton("&Remove statement")
        self.remove_button.clicked.connect(self.remove_statement)
        self.save_button = QPushButton("&Save as new version")
        self.save_button.clicked.connect(self.save)
        self.message = FieldMessage()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        if kind == ConsentKind.PHOTO:
            self.hint.setText("The four uses of photos are fixed statements: each client "
                              "agrees to each use or not, and photos depend on those answers. "
                              "Their words may be changed; they cannot be removed or made "
                              "compulsory.")

        form = QFormLayout()
        form.addRow("Form &title:", self.title)
        form.addRow("Form te&xt:", self.body)
        statements_label = QLabel("State&ments:")
        statements_label.setBuddy(self.statements)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_button)
        row_buttons.addWidget(self.remove_button)
        row_buttons.addStretch(1)
        row_buttons.addWidget(self.save_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.status)
        right_layout.addLayout(form, 3)
        right_layout.addWidget(statements_label)
        right_layout.addWidget(self.statements, 2)
        if self.hint.text():
            right_layout.addWidget(self.hint)
        right_layout.addLayout(row_buttons)
        right_layout.addWidget(self.message)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()

    # --- versions -------------------------------------------------------------------------

    def reload(self, select: int = 0) -> None:
        """Read the versions again and show the one at row `select` (0: the current)."""
        stored = self.repo.consent_templates(self.kind)
        self.shipped = not stored
        self.versions = list(reversed(stored)) or [default_template(self.kind)]
        self.version_list.blockSignals(True)
        self.version_list.clear()
        for i, template in enumerate(self.versions):
            text = version_text(template, stored=not self.shipped)
            if i == 0:
                text += " (in use)"
            self.version_list.addItem(QListWidgetItem(text))
        self.version_list.blockSignals(False)
        self.version_list.setCurrentRow(select)
        self._show_version(select)

    @property
    def editing(self) -> bool:
        """True when the current version is shown (the one that can be saved as the next)."""
        return self._row == 0

    def shown(self) -> ConsentTemplate:
        return self.versions[self._row]

    def _show_version(self, row: int) -> None:
        if row < 0 or row >= len(self.versions):
            return
        if row != self._row and self.is_dirty() and not self.ask_discard(self):
            # the current version's edits are kept until saved or discarded
            self.version_list.blockSignals(True)
            self.version_list.setCurrentRow(self._row)
            self.version_list.blockSignals(False)
            return
        self._row = row
        template = self.versions[row]
        self.title.setText(template.title)
        self.body.setPlainText(template.body)
        self.statements.setRowCount(0)
        for statement in template.statements:
            self._add_row(statement)
        editable = row == 0
        self.title.setReadOnly(not editable)
        self.body.setReadOnly(not editable)
        self.statements.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers)
        for r in range(self.statements.rowCount()):
            self._lock_row(r, editable)
        if row > 0:
            self.status.setText(f"Version {template.version}, an older version, shown "
                                "read-only. Consents signed under it keep this text.")
        elif self.shipped:
            self.status.setText("The form shipped with NeedleDesk: the clinic has not "
                                "changed it. Change it and save to store your own version.")
        else:
            self.status.setText(f"Version {template.version}, the version in use: change it "
                                "and save to store the next version.")
        self.message.clear_message()
        if editable:
            self._baseline = self._state()
        self._enable()

    # --- statements -----------------------------------------------------------------------

    def _add_row(self, statement: ConsentStatement) -> int:
        row = self.statements.rowCount()
        self.statements.insertRow(row)
        text = QTableWidgetItem(statement.text)
        text.setData(Qt.ItemDataRole.UserRole, statement.key)
        required = QTableWidgetItem()
        required.setCheckState(Qt.CheckState.Checked if statement.required
                               else Qt.CheckState.Unchecked)
        required.setData(Qt.ItemDataRole.UserRole, statement.key)
        self.statements.setItem(row, 0, text)
        self.statements.setItem(row, 1, required)
        self._lock_row(row, self.editing)
        return row

    def _fixed(self, row: int) -> bool:
        """A photo use: part of every photo consent, never removed nor compulsory."""
        item = self.statements.item(row, 0)
        return self.kind == ConsentKind.PHOTO and item is not None and \
            item.data(Qt.ItemDataRole.UserRole) in PHOTO_USES

    def _cells(self, row: int) -> tuple[QTableWidgetItem, QTableWidgetItem]:
        text, required = self.statements.item(row, 0), self.statements.item(row, 1)
        assert text is not None and required is not None
        return text, required

    def _lock_row(self, row: int, editable: bool) -> None:
        text, required = self._cells(row)
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        text.setFlags(base | Qt.ItemFlag.ItemIsEditable if editable else base)
        checkable = editable and not self._fixed(row)
        required.setFlags(base | Qt.ItemFlag.ItemIsUserCheckable if checkable else base)
        if self._fixed(row):
            required.setToolTip("A photo use is the client's choice: never compulsory")

    def statement_list(self) -> list[ConsentStatement]:
        found = []
        for row in range(self.statements.rowCount()):
            text, required = self._cells(row)
            found.append(ConsentStatement(str(text.data(Qt.ItemDataRole.UserRole)),
                                          " ".join(text.text().split()),
                                          required.checkState() == Qt.CheckState.Checked))
        return found

    def _new_key(self) -> str:
        taken = {s.key for s in self.statement_list()}
        n = 1
        while f"statement_{n}" in taken:
            n += 1
        return f"statement_{n}"

    def add_statement(self) -> None:
        if not self.editing:
            return
        row = self._add_row(ConsentStatement(self._new_key(), "",
                                             required=self.kind == ConsentKind.TREATMENT))
        self.statements.setCurrentCell(row, 0)
        self.statements.setFocus()
        self.statements.editItem(self._cells(row)[0])

    def remove_statement(self) -> None:
        row = self.statements.currentRow()
        if not self.editing or row < 0:
            return
        if self._fixed(row):
            self.message.show_error("A photo use cannot be removed: the photo consent asks "
                                    "the client about each use.")
            return
        self.statements.removeRow(row)
        self._enable()

    # --- saving ---------------------------------------------------------------------------

    def _state(self) -> tuple[Any, ...]:
        return (self.title.text().strip(), self.body.toPlainText().strip(),
                self.statement_list())

    def is_dirty(self) -> bool:
        """True when the current version's title, text or statements were changed."""
        return bool(self._baseline) and self.editing and self._state() != self._baseline

    def _enable(self) -> None:
        row = self.statements.currentRow()
        self.add_button.setEnabled(self.editing)
        self.remove_button.setEnabled(self.editing and row >= 0 and not self._fixed(row))
        self.save_button.setEnabled(self.editing)

    def save(self) -> ConsentTemplate | None:
        """Store the form as shown as its next version; problems are shown and nothing is
        written."""
        if not self.editing:
            return None
        title, body, statements = self._state()
        if not self.shipped and not self.is_dirty():
            self.message.show_error("Nothing was changed in the consent form: there is no "
                                    "new version to save.")
            return None
        try:
            template = self.repo.add_template_version(self.kind, title, body, statements,
                                                      by=self.user)
        except ValidationError as exc:
            self.message.show_error("Not saved: " + "; ".join(
                form_problem_text(p) if isinstance(p, Problem) else str(p)
                for p in exc.problems))
            return None
        except NeedleDeskError as exc:
            self.message.show_error(f"Not saved: {exc}")
            return None
        self.reload()
        self.message.show_warning(f"Saved as version {template.version}. Consents already "
                                  "signed keep the text they were signed under.")
        return template

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard the changes to this consent form?",
                           "The form's title, text or statements were changed and are not "
                           "saved as a new version.")


class ConsentFormsDialog(QDialog):
    """The treatment and photo consent forms, one tab each. Ctrl+S saves the shown form as a
    new version; Escape asks before discarding changes."""

    def __init__(self, repo: Any, *, user: str = "", parent: QWidget | None = None,
                 state: QSettings | None = None):
        super().__init__(parent)
        self.state = window_state(parent, state)
        self.setWindowTitle("Consent forms")
        self.setMinimumSize(640, 480)
        intro = QLabel(SIGNED_STAY_TEXT)
        intro.setWordWrap(True)
        self.tabs = QTabWidget()
        self.editors = {kind: FormEditor(repo, kind, user) for kind in ConsentKind}
        self.tabs.addTab(self.editors[ConsentKind.TREATMENT], "Treatment c&onsent")
        self.tabs.addTab(self.editors[ConsentKind.PHOTO], "&Photo consent")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        save = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save.activated.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        restore_geometry(self, self.state, GEOMETRY_KEY, DEFAULT_SIZE)
        self.editors[ConsentKind.TREATMENT].title.setFocus()

    def editor(self) -> FormEditor:
        widget = self.tabs.currentWidget()
        assert isinstance(widget, FormEditor)
        return widget

    def save(self) -> ConsentTemplate | None:
        return self.editor().save()

    def is_dirty(self) -> bool:
        return any(e.is_dirty() for e in self.editors.values())

    def reject(self) -> None:
        """Escape, Close and the window's frame: changed forms are discarded only once the
        practitioner says so."""
        if self.is_dirty() and not self.ask_discard(self):
            return
        super().reject()

    def done(self, result: int) -> None:
        remember_geometry(self, self.state, GEOMETRY_KEY)
        super().done(result)

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        """True to discard the changed forms, False to go back to them."""
        return FormEditor.ask_discard(parent)

    @classmethod
    def show_for(cls, parent: QWidget | None, repo: Any, *, user: str = "",
                 state: QSettings | None = None) -> None:
        dialog = cls(repo, user=user, parent=parent, state=state)
        try:
            dialog.exec()
        finally:
            dialog.deleteLater()
