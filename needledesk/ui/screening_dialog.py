"""The screening questionnaire and consent; flagged answers are shown, never blocked here.

Escape, Cancel or closing a dialog with changes asks before discarding them.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
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
    DateField,
    FieldMessage,
    route,
    save_cancel_buttons,
)

FLAG_TEXT = "flag"
CONSENT_DATE_LABEL = "Consent signed on"


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
    would be a false flag), the consent and its date, and notes."""

    def __init__(self, client_id: str, previous: Screening | None = None,
                 today: date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._client_id = client_id
        self._today = today or date.today()
        self.setWindowTitle("Screening and consent")

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

        self.consent = QCheckBox("&Consent signed")
        # Typed as anywhere else in the program (`9 Jan 2025`, ISO or the PC's own order) and
        # shown as `9 Jan 2025` (forms.DateField, day_text).
        self.consent_date = DateField(CONSENT_DATE_LABEL)
        self.consent_date.set_value(self._today)
        self.consent_date.setPlaceholderText("e.g. 9 Jan 2025")
        self.consent_date.setEnabled(False)
        self.consent_message = FieldMessage()
        self.consent.toggled.connect(self.consent_date.setEnabled)
        signed_on = QLabel("signed &on")
        signed_on.setBuddy(self.consent_date)
        consent_row = QHBoxLayout()
        consent_row.addWidget(self.consent)
        consent_row.addSpacing(12)
        consent_row.addWidget(signed_on)
        consent_row.addWidget(self.consent_date)
        consent_row.addStretch(1)

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
        layout.addLayout(consent_row)
        layout.addWidget(self.consent_message)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems_message)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does Qt keep it as the dialog's default.
        self.save_button.setDefault(True)

        for group in self.answer_groups.values():
            group.buttonToggled.connect(self.revalidate)
        self.consent.toggled.connect(self.revalidate)
        self.consent_date.textChanged.connect(self.revalidate)
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
        """The screening as answered; dated the day consent was signed, else today."""
        signed = self.consent.isChecked()
        return Screening(
            client_id=self._client_id,
            date=(self.consent_date.value() or self._today) if signed else self._today,
            answers=self.answers(),
            consent_signed=signed,
            notes=self.notes.toPlainText().rstrip(),
        )

    def problems(self) -> list[Problem]:
        return validate_screening(self.screening())

    def consent_date_problem(self) -> str | None:
        """What is wrong with the consent's date as typed (only once consent is ticked)."""
        if not self.consent.isChecked():
            return None
        problem = self.consent_date.problem()
        if problem is not None:
            return f"{CONSENT_DATE_LABEL}: {problem}"
        signed_on = self.consent_date.value()
        if signed_on is None:
            return f"{CONSENT_DATE_LABEL} is needed: type the day the consent was signed"
        if signed_on > self._today:
            return (f"{CONSENT_DATE_LABEL} {day_text(signed_on)} is after today "
                    f"({day_text(self._today)}): a consent is recorded once signed")
        return None

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
        date_problem = self.consent_date_problem()
        if date_problem is None:
            self.consent_message.clear_message()
        else:
            self.consent_message.show_error(date_problem)
        ok = not problems and date_problem is None
        self.save_button.setEnabled(ok)
        return ok

    def accept(self) -> None:
        if self.revalidate():
            super().accept()

    def _state(self) -> tuple[object, ...]:
        return (self.answers(), self.consent.isChecked(), self.consent_date.text(),
                self.notes.toPlainText())

    def is_dirty(self) -> bool:
        """True when anything was answered, ticked or typed since the dialog opened."""
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
                           "The answers, consent or notes were changed and are not saved.")

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
