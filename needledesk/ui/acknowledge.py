"""The questions a practitioner answers before a record-changing step: going past a guideline
(proceed, with an optional reason), signing a session off (what will be sealed), and amending
a signed session (a reason is required). Which warnings need asking, and how the answers are
recorded, is the domain's (`domain.acknowledgements`)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.rules import GuidelineWarning
from needledesk.ui.forms import FieldMessage


def acknowledgement_text(warnings: list[GuidelineWarning]) -> str:
    lines = "\n".join(f"• {w.message}" for w in warnings)
    return (f"{lines}\n\nProceed as a qualified practitioner? The acknowledgement is recorded "
            "on the session.\nReason (optional):")


def ask_acknowledgement(parent: QWidget | None, warnings: list[GuidelineWarning]) -> str | None:
    """The reason given (may be empty), or None when the practitioner does not proceed."""
    reason, ok = QInputDialog.getText(parent, "Guidelines exceeded",
                                      acknowledgement_text(warnings))
    return reason.strip() if ok else None


def ask_sign_off(parent: QWidget | None, text: str) -> bool:
    """The one question before signing off: `text` says what will be sealed."""
    box = QMessageBox(QMessageBox.Icon.Question, "Sign off the session", text,
                      QMessageBox.StandardButton.Cancel, parent)
    sign = box.addButton("Sign off", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(sign)
    box.exec()
    return box.clickedButton() is sign


class AmendmentReasonDialog(QDialog):
    """Why a signed session is being corrected. OK with no reason says that one is needed
    and keeps the dialog open; Cancel (or Escape) amends nothing."""

    NEEDED = ("A reason is needed: it is kept in the session's history with your name "
              "(for example \"lot number misread on the box\").")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Amend a signed session")
        layout = QVBoxLayout(self)
        prompt = QLabel("Why is this signed session being corrected?\n"
                        "(The original values stay in the history.)")
        self.reason = QLineEdit()
        prompt.setBuddy(self.reason)
        self.message = FieldMessage()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (prompt, self.reason, self.message, buttons):
            layout.addWidget(widget)
        self.reason.textChanged.connect(lambda *_: self.message.clear_message())
        self.setMinimumWidth(420)

    def accept(self) -> None:
        if not self.reason.text().strip():
            self.message.show_error(self.NEEDED)
            self.reason.setFocus()
            return
        super().accept()


def ask_amendment_reason(parent: QWidget | None) -> str | None:
    """The reason given (never empty), or None when the practitioner cancels."""
    dialog = AmendmentReasonDialog(parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.reason.text().strip()
    finally:
        dialog.deleteLater()
