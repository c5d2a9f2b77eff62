"""The screening questionnaire and consent; flagged answers are shown, never blocked here."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
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

from needledesk.domain.model import FLAGGED_ANSWER, SCREENING_QUESTIONS, Screening
from needledesk.domain.rules import Problem, validate_screening
from needledesk.ui.forms import (
    ERROR_STYLE,
    FieldMessage,
    from_qdate,
    route,
    save_cancel_buttons,
    to_qdate,
)

FLAG_TEXT = "flag"


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
    """One Yes / No row per screening question, the consent and its date, and notes."""

    def __init__(self, client_id: str, previous: Screening | None = None,
                 today: date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._client_id = client_id
        self._today = today or date.today()
        self.setWindowTitle("Screening and consent")

        intro = QLabel("Ask each question and record the client's answer.")
        if previous is not None:
            intro.setText(f"Answers from the screening of {previous.date.isoformat()}: "
                          "confirm each one with the client again.")
        intro.setWordWrap(True)

        questions = QGroupBox("Questions")
        grid = QGridLayout(questions)
        grid.setColumnStretch(0, 1)
        grid.setHorizontalSpacing(12)
        self.answer_groups: dict[str, QButtonGroup] = {}
        self.yes_buttons: dict[str, QRadioButton] = {}
        self.no_buttons: dict[str, QRadioButton] = {}
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
            for column, widget in enumerate((label, yes, no, flag)):
                grid.addWidget(widget, row, column)
            self.answer_groups[key] = group
            self.yes_buttons[key] = yes
            self.no_buttons[key] = no
            self.flag_labels[key] = flag
            if previous is not None:
                answer = previous.answers.get(key)
                if answer is not None:
                    (yes if answer else no).setChecked(True)

        self.consent = QCheckBox("&Consent signed")
        self.consent_date = QDateEdit(to_qdate(self._today))
        self.consent_date.setDisplayFormat("yyyy-MM-dd")
        self.consent_date.setCalendarPopup(True)
        self.consent_date.setMaximumDate(to_qdate(self._today))
        self.consent_date.setEnabled(False)
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

    def answers(self) -> dict[str, bool | None]:
        return {key: True if self.yes_buttons[key].isChecked()
                else False if self.no_buttons[key].isChecked() else None
                for key in SCREENING_QUESTIONS}

    def screening(self) -> Screening:
        """The screening as answered; dated the day consent was signed, else today."""
        signed = self.consent.isChecked()
        return Screening(
            client_id=self._client_id,
            date=from_qdate(self.consent_date.date()) if signed else self._today,
            answers=self.answers(),
            consent_signed=signed,
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
        route(problems, {}, self.problems_message)
        self.save_button.setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        if self.revalidate():
            super().accept()

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
