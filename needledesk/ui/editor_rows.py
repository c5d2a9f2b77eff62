"""The session editor's rows: a treated area, a serum, a reaction (each with its own
message line), the list that holds them, and an optional time with a "… now" button.

Widgets only: what the rows mean is `editor_form`'s, what is saved `session_editor`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.labels import OBSERVED_LABELS
from needledesk.domain.model import (
    REACTION_KINDS,
    SEVERITY_LABELS,
    Observed,
    Reaction,
    Serum,
    TreatedArea,
)
from needledesk.ui.forms import FieldMessage

ENDPOINTS = ("even erythema", "pinpoint bleeding")


def qdatetime(value: datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day),
                     QTime(value.hour, value.minute, value.second))


def combo(items, *, editable=True, current: str = "") -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItems(list(items))
    if editable:
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = box.completer()   # an editable box has one
        if completer is not None:
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        box.setCurrentText(current)
    return box


def placeholder(box: QComboBox, text: str) -> None:
    """The grey hint in an editable combo box's line."""
    line = box.lineEdit()
    if line is not None:
        line.setPlaceholderText(text)


def remembering(line: QLineEdit, entries: list[str]) -> QLineEdit:
    completer = QCompleter(entries, line)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    line.setCompleter(completer)
    return line


def text_or_none(line: QLineEdit) -> str | None:
    return line.text().strip() or None


# --- rows of the repeating parts --------------------------------------------------------------


class Row(QWidget):
    """One row of a repeating part (an area, a serum, a reaction) with its own message."""

    #: The record the row describes (each kind of row defines it).
    value: Callable[[], Any]

    removed = Signal(object)
    changed = Signal()

    def __init__(self, widgets: list[QWidget], stretch: list[int]):
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, (widget, factor) in enumerate(zip(widgets, stretch, strict=True)):
            grid.addWidget(widget, 0, column)
            grid.setColumnStretch(column, factor)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this row")
        self.remove_button.clicked.connect(lambda: self.removed.emit(self))
        grid.addWidget(self.remove_button, 0, len(widgets))
        self.message = FieldMessage()
        grid.addWidget(self.message, 1, 0, 1, len(widgets) + 1)
        for widget in widgets:
            for signal in ("textChanged", "valueChanged", "currentTextChanged",
                           "currentIndexChanged"):
                if hasattr(widget, signal):
                    getattr(widget, signal).connect(lambda *_: self.changed.emit())
                    break


class AreaRow(Row):
    # The depth's spin box, under the name the editor and its tests use; it hides
    # QPaintDevice.depth() (colour depth), which nothing calls on a row.
    depth: QDoubleSpinBox  # type: ignore[assignment]

    def __init__(self, area: TreatedArea | None, areas: list[str], endpoints: list[str]):
        self.area = combo(areas, current=area.area if area else "")
        placeholder(self.area, "area")
        self.depth = QDoubleSpinBox()
        # Wider than the valid 0.1–3.0 so a wrong value is seen and explained, not clamped.
        self.depth.setRange(0.0, 9.95)
        self.depth.setSingleStep(0.05)
        self.depth.setDecimals(2)
        self.depth.setSuffix(" mm")
        self.depth.setValue(area.depth_mm if area else 0.5)
        self.depth.setAccessibleName("depth in mm")
        self.passes = QSpinBox()
        self.passes.setRange(0, 99)
        self.passes.setSpecialValueText("passes —")
        self.passes.setSuffix(" passes")
        self.passes.setValue(area.passes or 0 if area else 3)
        self.endpoint = combo(endpoints, current=(area.endpoint or "") if area else "")
        placeholder(self.endpoint, "endpoint")
        self.notes = area.notes if area else ""
        super().__init__([self.area, self.depth, self.passes, self.endpoint], [3, 2, 2, 3])

    def value(self) -> TreatedArea:
        return TreatedArea(self.area.currentText().strip(), round(self.depth.value(), 2),
                           self.passes.value() or None,
                           self.endpoint.currentText().strip() or None, self.notes)


class SerumRow(Row):
    def __init__(self, serum: Serum | None, products: list[str], lots: list[str]):
        self.product = remembering(QLineEdit(serum.product if serum else ""), products)
        self.product.setPlaceholderText("serum or calming product")
        self.lot = remembering(QLineEdit((serum.lot or "") if serum else ""), lots)
        self.lot.setPlaceholderText("lot")
        super().__init__([self.product, self.lot], [3, 2])

    def value(self) -> Serum:
        return Serum(self.product.text().strip(), text_or_none(self.lot))


class ReactionRow(Row):
    def __init__(self, reaction: Reaction | None):
        self.kind = combo(REACTION_KINDS, current=reaction.kind if reaction else "erythema")
        self.severity = QComboBox()
        for level, label in SEVERITY_LABELS.items():
            self.severity.addItem(f"{level} {label}", level)
        self.severity.setCurrentIndex(reaction.severity if reaction else 1)
        self.observed = QComboBox()
        for observed, label in OBSERVED_LABELS.items():
            self.observed.addItem(label, observed)
        self.observed.setCurrentIndex(list(Observed).index(reaction.observed) if reaction else 0)
        self.notes = QLineEdit(reaction.notes if reaction else "")
        self.notes.setPlaceholderText("notes")
        super().__init__([self.kind, self.severity, self.observed, self.notes], [3, 2, 2, 3])

    def value(self) -> Reaction:
        return Reaction(self.kind.currentText().strip(), self.severity.currentData(),
                        self.observed.currentData(), self.notes.text())


class RowList(QWidget):
    changed = Signal()

    def __init__(self, make_row: Callable[[Any], Row], add_label: str):
        super().__init__()
        self.make_row = make_row
        self.rows: list[Row] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.box = QVBoxLayout()
        layout.addLayout(self.box)
        self.add_button = QPushButton(add_label)
        self.add_button.clicked.connect(lambda: self.add())
        bar = QHBoxLayout()
        bar.addWidget(self.add_button)
        bar.addStretch(1)
        layout.addLayout(bar)

    def add(self, item=None) -> Row:
        row = self.make_row(item)
        row.removed.connect(self.remove)
        row.changed.connect(self.changed.emit)
        self.rows.append(row)
        self.box.addWidget(row)
        row.setVisible(True)  # the layout would only show it on the next event loop turn
        self.changed.emit()
        return row

    def remove(self, row: Row) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.changed.emit()

    def set_items(self, items) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        for item in items:
            self.add(item)
        self.changed.emit()

    def values(self) -> list:
        return [row.value() for row in self.rows]

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802 (Qt name)
        super().setEnabled(enabled)
        self.add_button.setVisible(enabled)
        for row in self.rows:
            row.remove_button.setVisible(enabled)


class TimeStamp(QWidget):
    """An optional time on the session's day, with a "… now" button that stamps it."""

    changed = Signal()

    def __init__(self, label: str, now: Callable[[], datetime]):
        super().__init__()
        self.now = now
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(label)
        self.time = QTimeEdit()
        self.time.setDisplayFormat("HH:mm")
        self.time.setEnabled(False)
        self.button = QPushButton(f"{label.split(' ')[0]} now")
        layout.addWidget(self.check)
        layout.addWidget(self.time)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.check.toggled.connect(self.time.setEnabled)
        self.check.toggled.connect(lambda *_: self.changed.emit())
        self.time.timeChanged.connect(lambda *_: self.changed.emit())
        self.button.clicked.connect(self.stamp)

    def stamp(self) -> None:
        moment = self.now()
        self.time.setTime(QTime(moment.hour, moment.minute))
        self.check.setChecked(True)
        self.changed.emit()

    def set_value(self, value: datetime | None) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.time.setTime(QTime(value.hour, value.minute, value.second))

    def value(self, day: datetime) -> datetime | None:
        if not self.check.isChecked():
            return None
        t = self.time.time().toPython()
        assert isinstance(t, clock_time)
        return day.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)
