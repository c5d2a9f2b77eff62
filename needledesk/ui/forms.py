"""Small pieces every form shares: a message beside a field, problem routing, a date field
that takes a date however it is typed, and a dialog's size remembered in QSettings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from PySide6.QtCore import QByteArray, QDate, QLocale, QSettings, QSize, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.text import MONTHS, day_text

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
          fallback: FieldMessage | None = None,
          describe: Callable[[Any], str] | None = None) -> list:
    """Put each problem (anything with `.path` and `.message`) beside its field; clear the
    rest. A path without a field of its own goes to `fallback`, written by `describe`
    (`path: message` unless given; a form whose messages already name their field by its
    label passes one that shows the message alone). Returns what was unplaced."""
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
        fallback.show_error("\n".join(describe(p) if describe else f"{p.path}: {p.message}"
                                      for p in unplaced))
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


def add_labelled_rows(form: QFormLayout,
                      rows: Iterable[tuple[str, QWidget, QWidget | QHBoxLayout, str | None]],
                      messages: dict[str, FieldMessage]) -> None:
    """Each (label, the widget its mnemonic focuses, the field, the problem path or None) as
    a row of `form`, with the path's message under the field."""
    for text, buddy, field, path in rows:
        label = QLabel(text)
        label.setBuddy(buddy)
        form.addRow(label, with_message(field, messages[path]) if path else field)


def lay_out_form_dialog(dialog: QDialog, form: QFormLayout, below: QWidget, *,
                        min_width: int) -> tuple[QDialogButtonBox, QPushButton]:
    """The form, a line for problems no field owns, then Save (the default) and Cancel."""
    buttons, save = save_cancel_buttons(dialog)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(below)
    layout.addWidget(buttons)
    # Only once the button is inside the dialog does Qt keep it as the dialog's default.
    save.setDefault(True)
    dialog.setMinimumWidth(min_width)
    return buttons, save


# --- dates as typed ---------------------------------------------------------------------------


def locale_order(locale: QLocale | None = None) -> str:
    """The order of day, month and year in the locale's short date: `dmy`, `mdy` or `ymd`."""
    pattern = (locale or QLocale()).dateFormat(QLocale.FormatType.ShortFormat)
    order = ""
    for letter in re.sub(r"'[^']*'", "", pattern):
        key = {"d": "d", "M": "m", "y": "y"}.get(letter)
        if key and key not in order:
            order += key
    return order if sorted(order) == ["d", "m", "y"] else "dmy"


def _month(word: str, locale: QLocale | None) -> int | None:
    word = word.casefold().rstrip(".")
    if len(word) < 3:
        return None
    names: list[tuple[int, str]] = [(i + 1, m.casefold()) for i, m in enumerate(MONTHS)]
    locale = locale or QLocale()
    for month in range(1, 13):
        for form in (QLocale.FormatType.LongFormat, QLocale.FormatType.ShortFormat):
            names.append((month, locale.monthName(month, form).casefold().rstrip(".")))
            names.append((month, locale.standaloneMonthName(month, form).casefold()
                          .rstrip(".")))
    found = {month for month, name in names if name and name.startswith(word)}
    return found.pop() if len(found) == 1 else None


def _year(text: str, today: date) -> int:
    """A two-digit year is the latest one not after this year (`90` -> 1990, `07` -> 2007)."""
    year = int(text)
    if len(text) <= 2:
        year += 2000
        if year > today.year:
            year -= 100
    return year


def parse_date(text: str, order: str = "dmy", locale: QLocale | None = None,
               today: date | None = None) -> date | None:
    """A date as people type it: ISO `1990-07-14`, the locale's own order (`14/07/1990`,
    `14.7.90`, or `07/14/1990` where month comes first), or with the month's name
    (`14 Jul 1990`, `July 14, 1990`). None when it is not a date; ValueError when its parts
    are not a day of the calendar (`1990-02-30`)."""
    today = today or date.today()
    text = text.strip()
    if not text:
        return None
    numbers = re.fullmatch(r"(\d{1,4})\s*[-./ ]\s*(\d{1,2})\s*[-./ ]\s*(\d{1,4})", text)
    if numbers:
        a, b, c = numbers.groups()
        if len(a) == 4:  # year first: always year-month-day (ISO)
            return date(int(a), int(b), int(c))
        if len(a) > 2 or len(c) == 3:
            return None
        parts = dict(zip(order, (a, b, c), strict=True))
        if len(parts["y"]) not in (2, 4) or len(parts["d"]) > 2 or len(parts["m"]) > 2:
            return None
        return date(_year(parts["y"], today), int(parts["m"]), int(parts["d"]))
    compact = re.fullmatch(r"(\d{8})", text)
    if compact:  # 19900714 (ISO without dashes) or 14071990 in the locale's order
        digits = compact.group(1)
        if order == "ymd" or digits[:2] in ("19", "20") and 1 <= int(digits[4:6]) <= 12:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        first, second, year = digits[:2], digits[2:4], digits[4:]
        day, month = (second, first) if order == "mdy" else (first, second)
        return date(int(year), int(month), int(day))
    words = re.fullmatch(r"(\d{1,2})\.?\s*([^\W\d_]+)\.?,?\s*(\d{2}|\d{4})", text) or \
        re.fullmatch(r"([^\W\d_]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s*(\d{2}|\d{4})", text)
    if words:
        first, second, year = words.groups()
        day, name = (first, second) if first.isdigit() else (second, first)
        month = _month(name, locale)
        if month is None:
            return None
        return date(_year(year, today), month, int(day))
    return None


def date_example(order: str) -> str:
    """How a date is typed in the locale's order: `14/07/1990`, `07/14/1990`."""
    parts = {"d": "14", "m": "07", "y": "1990"}
    return "/".join(parts[letter] for letter in order) if order != "ymd" else "1990-07-14"


class DateField(QLineEdit):
    """A date typed as text: `1990-07-14`, the locale's own order (`14/07/1990`) or
    `14 Jul 1990`. Once left it reads `14 Jul 1990`, so what was understood is seen. Typing
    never moves on to another field by itself (a spin-box date edit jumps sections and lets
    digits spill into the next field); empty means "not recorded"."""

    def __init__(self, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        self.order = locale_order()
        self.setPlaceholderText(f"not recorded — type e.g. 14 Jul 1990, 1990-07-14 or "
                                f"{date_example(self.order)}")
        self.setAccessibleName(label)
        self.editingFinished.connect(self.tidy)

    def value(self) -> date | None:
        """The date typed; None when empty or not a date (see `problem`)."""
        try:
            return parse_date(self.text(), self.order)
        except ValueError:
            return None

    def problem(self) -> str | None:
        """What is wrong with the text typed, in plain words; None when it is a date or
        empty."""
        text = self.text().strip()
        if not text:
            return None
        try:
            if parse_date(text, self.order) is not None:
                return None
        except ValueError:
            return f"{text} is not a day of the calendar"
        return (f"{text} is not a date: type it like 14 Jul 1990, 1990-07-14 or "
                f"{date_example(self.order)}")

    def set_value(self, value: date | None) -> None:
        self.setText(day_text(value) if value is not None else "")

    def tidy(self) -> None:
        """Show a date that was understood as the card shows it: `14 Jul 1990`."""
        value = self.value()
        if value is not None and self.text() != day_text(value):
            self.setText(day_text(value))

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt name)
        super().focusOutEvent(event)
        self.tidy()


def ask_discard(parent: QWidget, title: str, text: str) -> bool:
    """The one question a changed dialog asks on Escape, Cancel or close: True to discard
    the changes, False (the default, and Escape) to keep editing."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                      parent)
    box.button(QMessageBox.StandardButton.Cancel).setText("Keep editing")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    try:
        return box.exec() == QMessageBox.StandardButton.Discard
    finally:
        box.deleteLater()


# --- a window's size, remembered ------------------------------------------------------------

def window_state(parent: QWidget | None, state: QSettings | None) -> QSettings | None:
    """The QSettings a dialog keeps its size in: `state` when given, else its parent
    window's own (`parent.state`), else none."""
    if state is not None:
        return state
    parent_state = getattr(parent, "state", None)
    return parent_state if isinstance(parent_state, QSettings) else None


def restore_geometry(widget: QWidget, state: QSettings | None, key: str, default: QSize) -> None:
    """The size and place kept under `key`, else `default` (no larger than the screen has,
    no smaller than the widget's minimum)."""
    geometry = state.value(key) if state is not None else None
    if isinstance(geometry, QByteArray | bytes) and geometry and \
            widget.restoreGeometry(geometry):
        return
    size = QSize(default)
    screen = widget.screen()
    if screen is not None:  # a smaller screen than the default: as much as it has
        size = size.boundedTo(screen.availableGeometry().size() - QSize(40, 80))
    widget.resize(size.expandedTo(widget.minimumSize()))


def remember_geometry(widget: QWidget, state: QSettings | None, key: str) -> None:
    """Keep the widget's size and place under `key` (written at once)."""
    if state is not None:
        state.setValue(key, widget.saveGeometry())
        state.sync()
