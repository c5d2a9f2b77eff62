"""Small pieces every form shares: a message beside a field, and problem routing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = "color: #b3261e;"
WARNING_STYLE = "color: #8a5a00; background: #fff4d6; border-radius: 3px; padding: 0 4px;"


class FieldMessage(QLabel):
    """The line beside (or under) a field saying what is wrong and what is allowed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, ERROR_STYLE, "error")

    def show_warning(self, text: str) -> None:
        self._show(text, WARNING_STYLE, "warning")

    def _show(self, text: str, style: str, kind: str) -> None:
        self.kind = kind
        self.setStyleSheet(style)
        self.setText(text)
        self.setVisible(True)

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()


def route(problems: Iterable, messages: dict[str, FieldMessage],
          fallback: FieldMessage | None = None) -> list:
    """Put each problem (anything with `.path` and `.message`) beside its field; clear the
    rest. A path without a field of its own goes to `fallback`. Returns what was unplaced."""
    for message in messages.values():
        message.clear_message()
    if fallback is not None:
        fallback.clear_message()
    unplaced = []
    for problem in problems:
        target = messages.get(problem.path)
        if target is None:
            # `areas[0].depth_mm` may be shown by a row's own message keyed `areas[0]`
            head = problem.path.split(".")[0]
            target = messages.get(head)
        if target is None:
            unplaced.append(problem)
        elif target.text() and problem.message not in target.text().split("\n"):
            target.show_error(f"{target.text()}\n{problem.message}")
        elif not target.text():
            target.show_error(problem.message)
    if unplaced and fallback is not None:
        fallback.show_error("\n".join(f"{p.path}: {p.message}" for p in unplaced))
    return unplaced


def with_message(field: QWidget | QHBoxLayout, message: FieldMessage) -> QWidget:
    """A field (or a row of them) with its message line underneath, as one form cell."""
    cell = QWidget()
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    if isinstance(field, QWidget):
        layout.addWidget(field)
    else:
        layout.addLayout(field)
    layout.addWidget(message)
    return cell


def to_qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def save_cancel_buttons(dialog: QDialog) -> tuple[QDialogButtonBox, QPushButton]:
    """Save and Cancel wired to the dialog's accept and reject. Call `setDefault(True)` on
    the Save button only once the box is in the dialog's layout (Qt forgets it otherwise)."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setText("Save")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, save
