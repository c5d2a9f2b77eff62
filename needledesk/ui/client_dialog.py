"""The dialog that creates or edits a client's details; it returns a `Client`, never saves."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from needledesk.domain.contact import contact_problems
from needledesk.domain.labels import CLIENT_LABELS, problem_text
from needledesk.domain.model import COMMON_CONCERNS, Client, new_id
from needledesk.domain.rules import Problem, validate_client
from needledesk.ui.forms import (
    DateField,
    FieldMessage,
    add_labelled_rows,
    lay_out_form_dialog,
    route,
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

#: The validated fields, each with its message line, by the path `validate_client` gives;
#: each is named by its label from domain.labels (the one place labels live).
FIELD_NAMES = {path: CLIENT_LABELS[path] for path in (
    "first_name", "last_name", "date_of_birth", "phone", "email", "fitzpatrick", "concerns")}



def parse_concerns(text: str) -> list[str]:
    """`"acne scars, , enlarged pores"` -> `["acne scars", "enlarged pores"]`, once each."""
    concerns: list[str] = []
    for part in text.split(","):
        concern = part.strip()
        if concern and concern.casefold() not in (c.casefold() for c in concerns):
            concerns.append(concern)
    return concerns


def named(problem: Problem, names: dict[str, str] = FIELD_NAMES) -> Problem:
    """The problem as a sentence naming its field by label (`Last name is required`), and a
    list item's path (`concerns[2]`) folded onto the list's one field."""
    return Problem(problem.path.split("[", 1)[0], problem_text(problem, kind="client"))


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

        # Typed as text (1990-07-14, the locale's 14/07/1990, 14 Jul 1990); empty is "not
        # recorded". A date spin box took 1990-07-14 as 1990-01-07 and let digits spill
        # into Phone.
        self.date_of_birth = DateField("Date of birth")

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
        # A field's problem shows once the field was changed, or everything once Save was
        # pressed (or for a client already on record): an empty form is not all red.
        self.touched: set[str] = set()
        self.show_all = client is not None
        self.other_problems = FieldMessage()


        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        rows: list[tuple[str, QWidget, QWidget | QHBoxLayout, str | None]] = [
            ("&First name:", self.first_name, self.first_name, "first_name"),
            ("&Last name:", self.last_name, self.last_name, "last_name"),
            ("Date of &birth:", self.date_of_birth, self.date_of_birth, "date_of_birth"),
            ("&Phone:", self.phone, self.phone, "phone"),
            ("&Email:", self.email, self.email, "email"),
            ("Fitzpatrick &type:", self.fitzpatrick, self.fitzpatrick, "fitzpatrick"),
            ("&Concerns:", self.concerns, self.concerns, "concerns"),
            ("&Notes:", self.notes, self.notes, None),
        ]
        add_labelled_rows(form, rows, self.messages)
        self.buttons, self.save_button = lay_out_form_dialog(self, form, self.other_problems,
                                                             min_width=460)

        if client is not None:
            self.load(client)
        for path, signal in (("first_name", self.first_name.textChanged),
                             ("last_name", self.last_name.textChanged),
                             ("phone", self.phone.textChanged),
                             ("email", self.email.textChanged),
                             ("concerns", self.concerns.textChanged),
                             ("date_of_birth", self.date_of_birth.textChanged),
                             ("fitzpatrick", self.fitzpatrick.currentIndexChanged)):
            signal.connect(lambda *_args, path=path: self._touch(path))
        self.revalidate()
        self.first_name.setFocus()
        # What Escape compares with: the details as loaded (or empty, for a new client).
        self._as_opened = self._typed()

    def load(self, client: Client) -> None:
        self.first_name.setText(client.first_name)
        self.last_name.setText(client.last_name)
        self.date_of_birth.set_value(client.date_of_birth)
        self.phone.setText(client.phone or "")
        self.email.setText(client.email or "")
        index = self.fitzpatrick.findData(client.fitzpatrick)
        self.fitzpatrick.setCurrentIndex(max(index, 0))
        self.concerns.setText(", ".join(client.concerns))
        self.notes.setPlainText(client.notes)

    def client(self) -> Client:
        """The client as the fields now describe it (an edited client keeps its id)."""
        values = {
            "first_name": _name(self.first_name.text()),
            "last_name": _name(self.last_name.text()),
            "date_of_birth": self.date_of_birth.value(),
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
        typed = self.date_of_birth.problem()  # text that is not a date (value() is None)
        unread = [Problem("date_of_birth", typed)] if typed else []
        return [named(p, FIELD_NAMES) for p in
                unread + validate_client(client) + contact_problems(client, self._original)]

    def _touch(self, path: str) -> None:
        self.touched.add(path)
        self.revalidate()

    def revalidate(self) -> bool:
        """Show each problem beside its field once the field was touched (all of them once
        Save was pressed). True when there are none."""
        problems = self.problems()
        shown = [p for p in problems if self.show_all or p.path in self.touched]
        route(shown, self.messages, self.other_problems, describe=lambda p: p.message)
        # Off while a problem is on screen; on a form not yet typed in, Save says what is
        # missing when pressed (nothing is silent), and its tooltip says it beforehand.
        self.save_button.setEnabled(not shown)
        self.save_button.setToolTip("\n".join(p.message for p in problems))
        return not problems

    def accept(self) -> None:
        self.show_all = True
        if self.revalidate():
            super().accept()

    def _typed(self) -> tuple[Client, str]:
        return self.client(), self.date_of_birth.text().strip()

    def reject(self) -> None:
        """Escape or Cancel: changed details are discarded only once the practitioner says
        so."""
        if self._typed() != self._as_opened and not self.ask_discard(self):
            return
        super().reject()

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        """True to discard the changed details, False to go back to them."""
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard changes?",
                           "The changes to this client's details are not saved.")

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
