"""The screening questionnaire; flagged answers are shown, never blocked here.

Consent is no longer recorded with a screening: the client signs it on its own form
(`ui.consent_dialog`). A screening that had the old "consent signed" tick keeps it; it counts
as a treatment consent signed on paper (`domain.consent.carried_consent`), and the dialog
shows it, read-only, when that screening's answers are re-confirmed.

Escape, Cancel or closing a dialog with changes asks before discarding them.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.labels import problem_text
from needledesk.domain.model import (
    ANSWER_TEXT,
    FLAGGED_ANSWER,
    NOT_APPLICABLE,
    NOT_APPLICABLE_ALLOWED,
    SCREENING_QUESTIONS,
    Answer,
    Screening,
)
from needledesk.domain.rules import Problem, validate_screening
from needledesk.domain.text import day_text
from needledesk.ui.forms import (
    ERROR_STYLE,
    FieldMessage,
    route,
    save_cancel_buttons,
)

FLAG_TEXT = "flag"
#: Where consent is recorded now, said once in the dialog.
CONSENT_HINT = ("Consent is not recorded with the screening: the client signs it on its own "
                "form (Client › Sign treatment consent…, or Consents… on the card).")


def carried_consent_text(screening: Screening) -> str:
    """How a screening's old "consent signed" tick reads: a consent signed on paper."""
    return (f"Consent signed on paper (recorded with the screening of "
            f"{day_text(screening.date)})")


def flag_name(key: str) -> str:
    """How a flagged question reads in the summary: `Pregnant`, or with the risky `no`."""
    question = SCREENING_QUESTIONS[key]
    return question if FLAGGED_ANSWER[key] else f"{question}: no"


def flag_summary(screening: Screening) -> str:
    flagged = screening.flagged
    if not flagged:
        return "No flagged answers"
    count = f"{len(flagged)} flagged answer{'s' if len(flagged) != 1 else ''}"
    return f"{count}: {', '.join(flag_name(key) for key in flagged)}"


class ScreeningDialog(QDialog):
    """One Yes / No row per screening question (with Not applicable where a truthful No
    would be a false flag) and notes; where consent is signed, and the previous screening's
    consent tick (read-only) when it had one."""

    def __init__(self, client_id: str, previous: Screening | None = None,
                 today: date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._client_id = client_id
        self._today = today or date.today()
        self.setWindowTitle("Screening")

        intro = QLabel("Ask each question and record the client's answer.")
        if previous is not None:
            intro.setText(f"Answers from the screening of {day_text(previous.date)}: "
                          "confirm each one with the client again.")
        intro.setWordWrap(True)

        questions = QGroupBox("Questions")
        grid = QGridLayout(questions)
        grid.setColumnStretch(0, 1)
        grid.setHorizontalSpacing(12)
        self.answer_groups: dict[str, QButtonGroup] = {}
        self.yes_buttons: dict[str, QRadioButton] = {}
        self.no_buttons: dict[str, QRadioButton] = {}
        self.not_applicable_buttons: dict[str, QRadioButton] = {}
        self.flag_labels: dict[str, QLabel] = {}
        for row, (key, question) in enumerate(SCREENING_QUESTIONS.items()):
            label = QLabel(question)
            yes, no = QRadioButton("Yes"), QRadioButton("No")
            yes.setAccessibleName(f"{question}: yes")
            no.setAccessibleName(f"{question}: no")
            group = QButtonGroup(self)
            group.addButton(yes)
            group.addButton(no)
            flag = QLabel()
            flag.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
            flag.setMinimumWidth(flag.fontMetrics().horizontalAdvance(FLAG_TEXT) + 12)
            for column, widget in enumerate((label, yes, no)):
                grid.addWidget(widget, row, column)
            if key in NOT_APPLICABLE_ALLOWED:
                not_applicable = QRadioButton(ANSWER_TEXT[NOT_APPLICABLE])
                not_applicable.setAccessibleName(f"{question}: not applicable")
                group.addButton(not_applicable)
                grid.addWidget(not_applicable, row, 3)
                self.not_applicable_buttons[key] = not_applicable
            grid.addWidget(flag, row, 4)
            self.answer_groups[key] = group
            self.yes_buttons[key] = yes
            self.no_buttons[key] = no
            self.flag_labels[key] = flag
            if previous is not None:
                button = self._button(key, previous.answers.get(key))
                if button is not None:
                    button.setChecked(True)

        #: The previous screening's consent tick, kept with it and shown read-only (None:
        #: it had none); a new screening records no consent.
        self.carried_consent: QLabel | None = None
        if previous is not None and previous.consent_signed:
            self.carried_consent = QLabel("✓ " + carried_consent_text(previous))
            self.carried_consent.setAccessibleName(carried_consent_text(previous))
        self.consent_hint = QLabel(CONSENT_HINT)
        self.consent_hint.setWordWrap(True)

        notes_label = QLabel("&Notes:")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * 4 + 12)
        notes_label.setBuddy(self.notes)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.problems_message = FieldMessage()

        self.buttons, self.save_button = save_cancel_buttons(self)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(questions)
        if self.carried_consent is not None:
            layout.addWidget(self.carried_consent)
        layout.addWidget(self.consent_hint)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems_message)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does Qt keep it as the dialog's default.
        self.save_button.setDefault(True)

        for group in self.answer_groups.values():
            group.buttonToggled.connect(self.revalidate)
        self.revalidate()
        #: What the dialog held when it opened: closing it unchanged asks nothing.
        self._baseline = self._state()

    def _button(self, key: str, answer: Answer) -> QRadioButton | None:
        """The radio button that records `answer` to the question `key` (None: not asked,
        or a "not applicable" the question does not offer)."""
        if answer == NOT_APPLICABLE:
            return self.not_applicable_buttons.get(key)
        if answer is None:
            return None
        return self.yes_buttons[key] if answer else self.no_buttons[key]

    def answer(self, key: str) -> Answer:
        if self.yes_buttons[key].isChecked():
            return True
        if self.no_buttons[key].isChecked():
            return False
        button = self.not_applicable_buttons.get(key)
        return NOT_APPLICABLE if button is not None and button.isChecked() else None

    def answers(self) -> dict[str, Answer]:
        return {key: self.answer(key) for key in SCREENING_QUESTIONS}

    def screening(self) -> Screening:
        """The screening as answered, dated today (it records no consent)."""
        return Screening(
            client_id=self._client_id,
            date=self._today,
            answers=self.answers(),
            consent_signed=False,
            notes=self.notes.toPlainText().rstrip(),
        )

    def problems(self) -> list[Problem]:
        return validate_screening(self.screening())

    def revalidate(self) -> bool:
        """Mark flagged answers and sum them up; Save is enabled only when the rules pass."""
        screening = self.screening()
        flagged = set(screening.flagged)
        for key, label in self.flag_labels.items():
            label.setText(FLAG_TEXT if key in flagged else "")
        self.summary.setText(flag_summary(screening))
        self.summary.setStyleSheet(ERROR_STYLE if flagged else "")
        problems = validate_screening(screening)
        route(problems, {}, self.problems_message,
              describe=lambda p: problem_text(p, kind="screening"))
        ok = not problems
        self.save_button.setEnabled(ok)
        return ok

    def accept(self) -> None:
        if self.revalidate():
            super().accept()

    def _state(self) -> tuple[object, ...]:
        return (self.answers(), self.notes.toPlainText())

    def is_dirty(self) -> bool:
        """True when anything was answered or typed since the dialog opened."""
        return self._state() != self._baseline

    def reject(self) -> None:
        """Escape, Cancel and the window's close button: a changed screening is discarded
        only once the practitioner says so."""
        if self.is_dirty() and not self.ask_discard(self):
            return
        super().reject()

    # --- questions; tests replace these -------------------------------------------------

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        """True to discard the changed screening, False to go back to it."""
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard this screening?",
                           "The answers or notes were changed and are not saved.")

    @classmethod
    def ask(cls, parent: QWidget | None, client_id: str,
            previous: Screening | None = None) -> Screening | None:
        """Run the dialog modally: the new screening, or None when cancelled."""
        dialog = cls(client_id, previous, parent=parent)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.screening() if accepted else None
        finally:
            dialog.deleteLater()
