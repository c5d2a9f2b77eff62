"""Small pieces every form shares: a message beside a field, and problem routing."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

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
        if target is not None and not target.text():
            target.show_error(problem.message)
        elif target is None:
            unplaced.append(problem)
    if unplaced and fallback is not None:
        fallback.show_error("\n".join(f"{p.path}: {p.message}" for p in unplaced))
    return unplaced
