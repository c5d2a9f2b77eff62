"""The question before every new session: "Anything changed since the screening of …?".

The practitioner answers "No change" (Enter), takes an updated screening (the screening
dialog, filled in from the last one and dated today), or cancels (no session is started).
A screening older than the clinic's limit is not re-confirmed: only a full screening is
offered. What is asked is the domain's (`domain.visit`); the new screening is written by the
caller's `save` (the repository, as the client card writes one).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape as _escape

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.model import Screening, ScreeningCheck
from needledesk.domain.visit import VisitCheck, updated
from needledesk.errors import NeedleDeskError


def escape(text: str) -> str:
    return _escape(text, quote=False)

#: What the dialog was answered with (`VisitScreeningDialog.choice`).
NO_CHANGE = "no_change"
UPDATE = "update"


class VisitScreeningDialog(QDialog):
    """Shows the screening's date, its flagged answers and the time-based questions to ask
    again; `choice` is NO_CHANGE or UPDATE once accepted (None when cancelled)."""

    def __init__(self, check: VisitCheck, parent: QWidget | None = None):
        super().__init__(parent)
        self.check = check
        self.choice: str | None = None
        self.setWindowTitle("Screening at this visit")
        layout = QVBoxLayout(self)

        heading = QLabel()
        heading.setWordWrap(True)
        if check.needs_full:
            heading.setText(f"<b>A full screening is needed.</b><br>"
                            f"{escape(check.full_needed_text)}")
        else:
            heading.setText(f"<b>{escape(check.question)}</b> {escape(check.age_text)}")
        self.heading = heading
        layout.addWidget(heading)

        if check.flagged:
            flagged = "".join(f"<li>{escape(line)}</li>" for line in check.flagged)
            flagged_text = f"<b>Flagged at the screening:</b><ul>{flagged}</ul>"
        else:
            flagged_text = "<b>Nothing was flagged at the screening.</b>"
        self.flagged = QLabel(flagged_text)
        self.flagged.setWordWrap(True)
        layout.addWidget(self.flagged)

        reminders = "".join(f"<li>{escape(line)}</li>" for line in check.reminders)
        self.reminders = QLabel(f"<b>Ask again — these change with time:</b><ul>{reminders}</ul>"
                                "Also ask about new medicines and any treatment in the area "
                                "since then.")
        self.reminders.setWordWrap(True)
        layout.addWidget(self.reminders)

        self.buttons = QDialogButtonBox()
        self.no_change_button: QPushButton | None = None
        if check.needs_full:
            self.update_button = self.buttons.addButton(
                "&Take a full screening…", QDialogButtonBox.ButtonRole.AcceptRole)
        else:
            self.no_change_button = self.buttons.addButton(
                "&No change", QDialogButtonBox.ButtonRole.AcceptRole)
            self.no_change_button.clicked.connect(lambda: self._answer(NO_CHANGE))
            self.update_button = self.buttons.addButton(
                "&Update the screening…", QDialogButtonBox.ButtonRole.ActionRole)
        self.update_button.clicked.connect(lambda: self._answer(UPDATE))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        default = self.no_change_button or self.update_button
        # Only once the button is inside the dialog does Qt keep it as the default (Enter).
        default.setDefault(True)
        default.setFocus()
        self.setMinimumWidth(520)

    def _answer(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def ask_visit_screening(parent: QWidget | None, check: VisitCheck,
                        save: Callable[[Screening], Screening]) -> ScreeningCheck | None:
    """Ask, and record the answer: no change (the screening re-confirmed), or a new
    screening taken and saved through `save` (then the check names the new one). None when
    the practitioner cancels: no session is started. Cancelling the screening dialog comes
    back to the question."""
    from needledesk.ui.screening_dialog import ScreeningDialog

    while True:
        dialog = VisitScreeningDialog(check, parent)
        try:
            dialog.exec()
            choice = dialog.choice
        finally:
            dialog.deleteLater()
        if choice is None:
            return None
        if choice == NO_CHANGE:
            return check.no_change()
        previous = None if check.needs_full else check.screening
        screening_dialog = ScreeningDialog(check.screening.client_id, previous, today=check.day,
                                           parent=parent)
        try:
            accepted = screening_dialog.exec() == QDialog.DialogCode.Accepted
            screening = screening_dialog.screening() if accepted else None
        finally:
            screening_dialog.deleteLater()
        if screening is None:
            continue
        try:
            saved = save(screening)
        except NeedleDeskError as exc:
            QMessageBox.warning(parent, "The screening was not saved", str(exc))
            continue
        return updated(saved)
