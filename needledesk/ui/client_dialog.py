"""The dialog that creates or edits a client's details; it returns a `Client`, never saves."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.contact import contact_problems
from needledesk.domain.model import COMMON_CONCERNS, Client, new_id
from needledesk.domain.rules import Problem, validate_client
from needledesk.ui.forms import (
    FieldMessage,
    from_qdate,
    route,
    save_cancel_buttons,
    to_qdate,
    with_message,
)

#: Fitzpatrick skin types with the usual one-line description, for the combo box.
FITZPATRICK_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("not recorded", None),
    ("I — always burns, never tans", 1),
    ("II — usually burns, tans minimally", 2),
    ("III — sometimes burns, tans gradually", 3),
    ("IV — burns minimally, tans well", 4),
    ("V — rarely burns, tans deeply", 5),
    ("VI — never burns", 6),
)

#: How each validated field is named in a message (problem paths come from `validate_client`).
FIELD_NAMES = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "fitzpatrick": "Fitzpatrick type",
    "concerns": "Concerns",
}

# Where the date-of-birth editor starts once "known" is ticked: near the middle of the usual
# clientele's ages, so the year is a few steps away rather than a scroll from 1900.
_FIRST_BIRTH_DATE = QDate(1985, 1, 1)
# The editor's minimum, shown as "not recorded" while no date of birth is known.
_NO_BIRTH_DATE = QDate(1899, 12, 31)


def parse_concerns(text: str) -> list[str]:
    """`"acne scars, , enlarged pores"` -> `["acne scars", "enlarged pores"]`, once each."""
    concerns: list[str] = []
    for part in text.split(","):
        concern = part.strip()
        if concern and concern.casefold() not in (c.casefold() for c in concerns):
            concerns.append(concern)
    return concerns


def named(problem: Problem, names: dict[str, str]) -> Problem:
    """The problem with its field named in the message, and a list item's path (`concerns[2]`)
    folded onto the list's one field."""
    path = problem.path.split("[", 1)[0]
    name = names.get(path)
    if name is None:
        return Problem(path, problem.message)
    joiner = " " if problem.message.startswith("is ") else ": "
    return Problem(path, f"{name}{joiner}{problem.message}")


class _ConcernCompleter(QCompleter):
    """Completes the concern being typed after the last comma, keeping the ones before it."""

    def splitPath(self, path: str) -> list[str]:
        return [path.rsplit(",", 1)[-1].strip()]

    def pathFromIndex(self, index) -> str:
        widget = self.widget()
        typed = widget.text() if isinstance(widget, QLineEdit) else ""
        head, comma, _ = typed.rpartition(",")
        done = f"{head.rstrip()}, " if comma else ""
        return done + index.data()


class ClientDialog(QDialog):
    """A client's name, date of birth, contact details, skin type, concerns and notes."""

    def __init__(self, client: Client | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._original = client
        self._client_id = client.id if client is not None else new_id()
        self.setWindowTitle(f"Edit client — {client.full_name}" if client else "New client")

        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        for edit in (self.first_name, self.last_name):
            edit.setPlaceholderText("required")

        self.birth_recorded = QCheckBox("known")
        self.birth_recorded.setToolTip("Tick when the date of birth is known")
        self.date_of_birth = QDateEdit()
        self.date_of_birth.setDisplayFormat("yyyy-MM-dd")
        self.date_of_birth.setCalendarPopup(True)
        self.date_of_birth.setMinimumDate(_NO_BIRTH_DATE)
        self.date_of_birth.setSpecialValueText("not recorded")
        self.date_of_birth.setDate(_NO_BIRTH_DATE)
        self.date_of_birth.setEnabled(False)

        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.fitzpatrick = QComboBox()
        for text, value in FITZPATRICK_CHOICES:
            self.fitzpatrick.addItem(text, value)

        self.concerns = QLineEdit()
        self.concerns.setPlaceholderText("e.g. acne scars, enlarged pores (comma between them)")
        completer = _ConcernCompleter(list(COMMON_CONCERNS), self.concerns)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.concerns.setCompleter(completer)

        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(70)

        self.messages = {path: FieldMessage() for path in FIELD_NAMES}
        self.other_problems = FieldMessage()

        birth_row = QHBoxLayout()
        birth_row.addWidget(self.birth_recorded)
        birth_row.addWidget(self.date_of_birth, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        rows: list[tuple[str, QWidget, QWidget | QHBoxLayout, str | None]] = [
            ("&First name:", self.first_name, self.first_name, "first_name"),
            ("&Last name:", self.last_name, self.last_name, "last_name"),
            ("Date of &birth:", self.birth_recorded, birth_row, "date_of_birth"),
            ("&Phone:", self.phone, self.phone, "phone"),
            ("&Email:", self.email, self.email, "email"),
            ("Fitzpatrick &type:", self.fitzpatrick, self.fitzpatrick, "fitzpatrick"),
            ("&Concerns:", self.concerns, self.concerns, "concerns"),
            ("&Notes:", self.notes, self.notes, None),
        ]
        for text, buddy, field, path in rows:
            label = QLabel(text)
            label.setBuddy(buddy)
            form.addRow(label, with_message(field, self.messages[path]) if path else field)

        self.buttons, self.save_button = save_cancel_buttons(self)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.other_problems)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does Qt keep it as the dialog's default.
        self.save_button.setDefault(True)
        self.setMinimumWidth(460)

        if client is not None:
            self.load(client)
        self.birth_recorded.toggled.connect(self._birth_date_known)
        for edit in (self.first_name, self.last_name, self.phone, self.email, self.concerns):
            edit.textChanged.connect(self.revalidate)
        self.birth_recorded.toggled.connect(self.revalidate)
        self.date_of_birth.dateChanged.connect(self.revalidate)
        self.fitzpatrick.currentIndexChanged.connect(self.revalidate)
        self.revalidate()
        self.first_name.setFocus()

    def load(self, client: Client) -> None:
        self.first_name.setText(client.first_name)
        self.last_name.setText(client.last_name)
        recorded = client.date_of_birth is not None
        self.birth_recorded.setChecked(recorded)
        self.date_of_birth.setEnabled(recorded)
        self.date_of_birth.setDate(to_qdate(client.date_of_birth)
                                   if client.date_of_birth is not None else _NO_BIRTH_DATE)
        self.phone.setText(client.phone or "")
        self.email.setText(client.email or "")
        index = self.fitzpatrick.findData(client.fitzpatrick)
        self.fitzpatrick.setCurrentIndex(max(index, 0))
        self.concerns.setText(", ".join(client.concerns))
        self.notes.setPlainText(client.notes)

    def _birth_date_known(self, known: bool) -> None:
        self.date_of_birth.setEnabled(known)
        if not known:
            self.date_of_birth.setDate(_NO_BIRTH_DATE)
        elif self.date_of_birth.date() == _NO_BIRTH_DATE:
            self.date_of_birth.setDate(_FIRST_BIRTH_DATE)

    def client(self) -> Client:
        """The client as the fields now describe it (an edited client keeps its id)."""
        values = {
            "first_name": _name(self.first_name.text()),
            "last_name": _name(self.last_name.text()),
            "date_of_birth": from_qdate(self.date_of_birth.date())
            if self.birth_recorded.isChecked() else None,
            "phone": self.phone.text().strip() or None,
            "email": self.email.text().strip() or None,
            "fitzpatrick": self.fitzpatrick.currentData(),
            "concerns": parse_concerns(self.concerns.text()),
            "notes": self.notes.toPlainText().rstrip(),
        }
        if self._original is not None:
            return replace(self._original, **values)
        return Client(id=self._client_id, **values)

    def problems(self) -> list[Problem]:
        client = self.client()
        return [named(p, FIELD_NAMES) for p in
                validate_client(client) + contact_problems(client, self._original)]

    def revalidate(self) -> bool:
        """Show each problem beside its field; Save is enabled only when there are none."""
        problems = self.problems()
        route(problems, self.messages, self.other_problems)
        self.save_button.setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        if self.revalidate():
            super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, client: Client | None = None) -> Client | None:
        """Run the dialog modally: the new or edited client, or None when cancelled."""
        dialog = cls(client, parent)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.client() if accepted else None
        finally:
            dialog.deleteLater()


def _name(text: str) -> str:
    # Composed form, so a name typed with a combining accent is stored as the same letters.
    return unicodedata.normalize("NFC", text.strip())
