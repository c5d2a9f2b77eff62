"""The session editor's rows: a treated area, a serum, a reaction (each with its own
message line), the list that holds them, and an optional time with a "… now" button.

Widgets only: what the rows mean is `editor_form`'s, what is saved `session_editor`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QEvent, QObject, QStringListModel, Qt, QTime, Signal
from PySide6.QtGui import QBrush, QColor, QFocusEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.face_chart import zone_for_area
from needledesk.domain.labels import OBSERVED_LABELS
from needledesk.domain.model import (
    REACTION_KINDS,
    SEVERITY_LABELS,
    Lot,
    Observed,
    Product,
    ProductKind,
    Reaction,
    Serum,
    TreatedArea,
)
from needledesk.domain.products import (
    catalogue_product,
    expiry,
    find_lot,
    offered_lots,
    product_key,
)
from needledesk.ui.forms import WARNING_STYLE, DateField, FieldMessage

ENDPOINTS = ("even erythema", "pinpoint bleeding")


def qdatetime(value: datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day),
                     QTime(value.hour, value.minute, value.second))


def combo(items, *, editable=True, current: str = "") -> QComboBox:
    box = QComboBox()
    narrow(box)
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


def narrow(box: QComboBox, letters: int = 8) -> QComboBox:
    """A combo box whose width follows its column, not its longest item: a long item (a
    course, a remembered practitioner) must not widen the editor past the screen."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(letters)
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


# --- products and lots from the catalogue ----------------------------------------------------

#: Where a lot item keeps the words shown in the list ("L2391 — expires 3 Mar 2027"); its
#: own text stays the lot alone, which is what picking it puts in the field.
LOT_LABEL_ROLE = Qt.ItemDataRole.UserRole + 1
EXPIRED_COLOUR = "#b3261e"
EXPIRING_COLOUR = "#8a5a00"
WARNING_BACKGROUND = "#fff4d6"


@dataclass
class Offers:
    """The catalogue as the editor offers it (read once when the editor opens): products by
    kind and each product's lots. Empty when the clinic keeps no catalogue."""

    products: list[Product] = field(default_factory=list)
    lots: dict[str, list[Lot]] = field(default_factory=dict)

    @classmethod
    def read(cls, repo: Any) -> Offers:
        return cls(repo.products(), repo.lots_by_product())

    def names(self, kind: ProductKind) -> list[str]:
        """The products of `kind` still offered (retired ones are not)."""
        return [p.name for p in self.products if p.kind == kind and not p.retired]

    def lots_of(self, name: str | None, kind: ProductKind) -> list[Lot]:
        """The catalogue's lots of the product named `name` (none when it is not in the
        catalogue)."""
        product = catalogue_product(self.products, name, kind)
        return list(self.lots.get(product.id, [])) if product is not None else []


def lot_label(lot: Lot, on: date) -> str:
    """`L2391 — expires 3 Mar 2027`, `L2201 — expired 3 Nov 2026 (17 days ago)`."""
    state = expiry(lot, on)
    return f"{lot.lot} — {state.text() or 'no expiry date'}"


class _LabelDelegate(QStyledItemDelegate):
    """Shows a lot item by its label (the lot with its expiry)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        label = index.data(LOT_LABEL_ROLE)
        if label:
            option.text = label


class LotField(QComboBox):
    """A lot typed or picked from the catalogue's lots of the product beside it, in the
    order `domain.products.offered_lots` gives (the newest lot still in date first), each
    shown with its expiry; a lot past or near it in amber (red once expired). Any text may
    still be typed. The field reads like the line it replaced (`text`, `setText`,
    `textChanged`, `textEdited`)."""

    textEdited = Signal(str)  # noqa: N815 (QLineEdit's name)
    textChanged = Signal(str)  # noqa: N815

    def __init__(self, offers: Offers, kind: ProductKind, product: Callable[[], str],
                 remembered: list[str] = (), hint: str = "lot"):  # type: ignore[assignment]
        super().__init__()
        narrow(self)
        self.offers, self.kind, self.product = offers, kind, product
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setItemDelegate(_LabelDelegate(self))
        self._remembered = list(remembered)
        self._completions = QStringListModel(self._remembered, self)
        completer = QCompleter(self._completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        line = self.lineEdit()
        assert line is not None   # an editable box has one
        line.setPlaceholderText(hint)
        line.textEdited.connect(self.textEdited)
        self.editTextChanged.connect(self.textChanged)
        self.activated.connect(self._picked_item)
        self.day = date.today()
        self._shown: tuple | None = None
        #: The catalogue lot last picked (or filled from the session): (product key, lot
        #: text, lot id). Its id holds while the product and the text stay as they were.
        self._picked: tuple[str, str, str] | None = None
        self.refresh()

    # --- the line's API ------------------------------------------------------------------

    def text(self) -> str:
        return self.currentText()

    def setText(self, text: str) -> None:  # noqa: N802 (QLineEdit's name)
        self.setEditText(text)

    # --- the catalogue -------------------------------------------------------------------

    def lots(self) -> list[Lot]:
        """The catalogue's lots of the product now named beside the field."""
        return self.offers.lots_of(self.product(), self.kind)

    def set_day(self, day: date) -> None:
        """The session's day: what the expiry of each lot is judged on."""
        self.day = day
        self.refresh()

    def refresh(self) -> None:
        """Offer the lots of the product now named (only when they or the day changed: the
        text typed stays as it is)."""
        lots = offered_lots(self.lots(), self.day)
        shown = (tuple((x.id, x.lot, x.expires_on) for x in lots), self.day)
        if shown == self._shown:
            return
        self._shown = shown
        text = self.currentText()
        line = self.lineEdit()
        self.blockSignals(True)
        if line is not None:
            line.blockSignals(True)
        try:
            self.clear()
            widest = 0
            for lot in lots:
                label = lot_label(lot, self.day)
                self.addItem(lot.lot, lot.id)
                index = self.count() - 1
                self.setItemData(index, label, LOT_LABEL_ROLE)
                self.setItemData(index, label, Qt.ItemDataRole.ToolTipRole)
                state = expiry(lot, self.day)
                if state.warn:
                    colour = EXPIRED_COLOUR if state.expired else EXPIRING_COLOUR
                    self.setItemData(index, QBrush(QColor(colour)),
                                     Qt.ItemDataRole.ForegroundRole)
                    self.setItemData(index, QBrush(QColor(WARNING_BACKGROUND)),
                                     Qt.ItemDataRole.BackgroundRole)
                widest = max(widest, self.fontMetrics().horizontalAdvance(label))
            self.view().setMinimumWidth(widest + 40 if widest else 0)
            self.setCurrentIndex(-1)
            self.setEditText(text)
        finally:
            self.blockSignals(False)
            if line is not None:
                line.blockSignals(False)
        self._completions.setStringList(list(dict.fromkeys(
            [x.lot for x in lots] + self._remembered)))

    def _picked_item(self, index: int) -> None:
        lot_id = self.itemData(index)
        if isinstance(lot_id, str):
            self._picked = (product_key(self.product()), self.itemText(index), lot_id)
            self.setEditText(self.itemText(index))
            self.textEdited.emit(self.itemText(index))   # chosen by hand, as if typed

    def set_value(self, text: str | None, lot_id: str | None) -> None:
        """Fill from a session: the lot as recorded, and the catalogue lot it was picked
        from (kept while neither the product nor the text is changed)."""
        self._picked = (product_key(self.product()), text or "", lot_id) \
            if text and lot_id else None
        self.setEditText(text or "")

    def value(self) -> tuple[str | None, str | None]:
        """(the lot as typed, or None; the catalogue lot's id, or None): the picked lot's id
        while the text is still the picked lot, else the catalogue lot of this product the
        text names (case and surrounding spaces ignored), if any."""
        text = self.currentText().strip() or None
        if text is None:
            return None, None
        if self._picked is not None and self._picked[0] == product_key(self.product()) \
                and self._picked[1] == text:
            return text, self._picked[2]
        match = find_lot(self.lots(), text)
        return text, match.id if match is not None else None


# --- rows of the repeating parts --------------------------------------------------------------


class Row(QWidget):
    """One row of a repeating part (an area, a serum, a reaction) with its own message."""

    #: The record the row describes (each kind of row defines it).
    value: Callable[[], Any]

    removed = Signal(object)
    changed = Signal()

    def __init__(self, widgets: list[QWidget], stretch: list[int],
                 below: list[QWidget] = ()):  # type: ignore[assignment]
        """`widgets` side by side on the row's first line, then each of `below` on a line
        of its own (a reaction's notes keep the row's whole width)."""
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, (widget, factor) in enumerate(zip(widgets, stretch, strict=True)):
            grid.addWidget(widget, 0, column)
            grid.setColumnStretch(column, factor)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this row")
        self.remove_button.setAccessibleName("Remove this row")
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.remove_button.clicked.connect(lambda: self.removed.emit(self))
        grid.addWidget(self.remove_button, 0, len(widgets))
        for line, widget in enumerate(below, start=1):
            grid.addWidget(widget, line, 0, 1, len(widgets))
        self.message = FieldMessage()
        grid.addWidget(self.message, len(below) + 1, 0, 1, len(widgets) + 1)
        #: The row's fields in the order Tab visits them (the remove button last).
        self.fields: list[QWidget] = [*widgets, *below]
        for widget in [*widgets, *below]:
            for signal in ("textChanged", "valueChanged", "currentTextChanged",
                           "currentIndexChanged"):
                if hasattr(widget, signal):
                    getattr(widget, signal).connect(lambda *_: self.changed.emit())
                    break

    def tab_chain(self) -> list[QWidget]:
        """The row's focusable parts in the order Tab visits them."""
        return [*self.fields, self.remove_button]


class AreaRow(Row):
    """A treated area: its name, depth, passes and endpoint, and the face-chart zone it is
    drawn in. The zone a row was given (from a session, or by a click on the chart) holds
    while its area's name stays as it was; a name typed since takes the zone the clinic's
    area list maps it to (`domain.face_chart.zone_for_area`)."""

    # The depth's spin box, under the name the editor and its tests use; it hides
    # QPaintDevice.depth() (colour depth), which nothing calls on a row.
    depth: QDoubleSpinBox  # type: ignore[assignment]
    #: The cursor came into one of the row's fields (the chart outlines the row's zone).
    entered = Signal(object)

    def __init__(self, area: TreatedArea | None, areas: list[str], endpoints: list[str],
                 area_zones: Mapping[str, str] | None = None):
        self.area = combo(areas, current=area.area if area else "")
        placeholder(self.area, "area")
        self.area_zones = area_zones
        #: (the area's name as given, the zone given with it)
        self._given = (area.area.strip(), area.zone) if area else ("", None)
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
        for widget in [*self.tab_chain(), self.area.lineEdit(), self.endpoint.lineEdit()]:
            if widget is not None:
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.FocusIn:
            self.entered.emit(self)
        return False

    def zone(self) -> str | None:
        """The zone the row is drawn in (see the class's note)."""
        name = self.area.currentText().strip()
        if name == self._given[0]:
            return self._given[1]
        return zone_for_area(name, self.area_zones) if name else None

    def value(self) -> TreatedArea:
        return TreatedArea(self.area.currentText().strip(), round(self.depth.value(), 2),
                           self.passes.value() or None,
                           self.endpoint.currentText().strip() or None, self.notes,
                           self.zone())


class SerumRow(Row):
    def __init__(self, serum: Serum | None, products: list[str], lots: list[str],
                 offers: Offers | None = None):
        offers = offers if offers is not None else Offers()
        names = list(dict.fromkeys([*offers.names(ProductKind.SERUM), *products]))
        self.product = remembering(QLineEdit(serum.product if serum else ""), names)
        self.product.setPlaceholderText("serum or calming product")
        self.lot = LotField(offers, ProductKind.SERUM, self.product.text, lots)
        self.lot.set_value(serum.lot if serum else None, serum.lot_id if serum else None)
        self.product.textChanged.connect(lambda *_: self.lot.refresh())
        self.lot_copied = CopiedMark(self.lot, "Lot checked")
        #: The lot's warning (expired, expiring, not in the catalogue), in amber.
        self.lot_message = FieldMessage()
        super().__init__([self.product, self.lot], [3, 2], [self.lot_copied, self.lot_message])
        self.fields = [self.product, self.lot, self.lot_copied.confirm]

    def value(self) -> Serum:
        lot, lot_id = self.lot.value()
        return Serum(self.product.text().strip(), lot, lot_id)


class ReactionRow(Row):
    def __init__(self, reaction: Reaction | None):
        self.kind = combo(REACTION_KINDS, current=reaction.kind if reaction else "erythema")
        self.severity = narrow(QComboBox())
        for level, label in SEVERITY_LABELS.items():
            self.severity.addItem(f"{level} {label}", level)
        self.severity.setCurrentIndex(reaction.severity if reaction else 1)
        self.observed = narrow(QComboBox())
        for observed, label in OBSERVED_LABELS.items():
            self.observed.addItem(label, observed)
        self.observed.setCurrentIndex(list(Observed).index(reaction.observed) if reaction else 0)
        self.notes = QLineEdit(reaction.notes if reaction else "")
        self.notes.setPlaceholderText("notes on this reaction")
        super().__init__([self.kind, self.severity, self.observed], [3, 2, 3], [self.notes])

    def tab_chain(self) -> list[QWidget]:
        # visual order: the first line, its remove button, then the notes line
        return [self.kind, self.severity, self.observed, self.remove_button, self.notes]

    def value(self) -> Reaction:
        return Reaction(self.kind.currentText().strip(), self.severity.currentData(),
                        self.observed.currentData(), self.notes.text())


class RowList(QWidget):
    changed = Signal()
    #: A row was added or removed: the form puts the rows back in its Tab order.
    rows_changed = Signal()

    def __init__(self, make_row: Callable[[Any], Row], add_label: str):
        super().__init__()
        self.make_row = make_row
        self.rows: list[Row] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.box = QVBoxLayout()
        layout.addLayout(self.box)
        self.add_button = QPushButton(add_label)
        self.add_button.clicked.connect(self.add_and_focus)
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
        self.rows_changed.emit()
        self.changed.emit()
        return row

    def add_and_focus(self) -> Row:
        """The "Add …" button: a new row, with the cursor in its first field."""
        row = self.add()
        row.fields[0].setFocus(Qt.FocusReason.TabFocusReason)
        return row

    def remove(self, row: Row) -> None:
        index = self.rows.index(row)
        focused = QApplication.focusWidget()
        had_focus = focused is not None and row.isAncestorOf(focused)
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.rows_changed.emit()
        if had_focus:  # the cursor goes to the row below (or above, or the Add button)
            rest = self.rows[index:index + 1] or self.rows[index - 1:index]
            target = rest[0].fields[0] if rest else self.add_button
            target.setFocus(Qt.FocusReason.TabFocusReason)
        self.changed.emit()

    def set_items(self, items) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        for item in items:
            self.add(item)
        self.rows_changed.emit()
        self.changed.emit()

    def tab_chain(self) -> list[QWidget]:
        """Every row's fields in visual order, then the Add button."""
        return [w for row in self.rows for w in row.tab_chain()] + [self.add_button]

    def values(self) -> list:
        return [row.value() for row in self.rows]

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802 (Qt name)
        super().setEnabled(enabled)
        self.add_button.setVisible(enabled)
        for row in self.rows:
            row.remove_button.setVisible(enabled)


class TimeField(QTimeEdit):
    """A time typed as HH:mm. A click that brings the cursor into the field selects the
    hours, so typing "15:50" straight after the click gives 15:50 (a plain QTimeEdit puts
    the cursor where the click fell and the digits go nowhere)."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setDisplayFormat("HH:mm")
        self.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.setKeyboardTracking(True)
        self._clicked_in = False
        self.timeChanged.connect(self._changed)

    def _changed(self, *_args) -> None:
        if self.hasFocus():  # typed or stepped by the practitioner, not set by the program
            self.edited.emit()

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 (Qt names)
        # Tab leaves the field (QTimeEdit would step from hours to minutes; ":" does that)
        return QWidget.focusNextPrevChild(self, next)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt name)
        super().focusInEvent(event)
        self._clicked_in = event.reason() == Qt.FocusReason.MouseFocusReason
        self.setSelectedSection(QDateTimeEdit.Section.HourSection)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        super().mouseReleaseEvent(event)
        if self._clicked_in:  # the click that brought the cursor in: ready for "15:50"
            self._clicked_in = False
            self.setSelectedSection(QDateTimeEdit.Section.HourSection)


class DateTimeField(QWidget):
    """A day typed as text (`20 Nov 2026`, `2026-11-20`, the locale's `20/11/2026`) and a
    time (`10:30`), side by side: one Tab each, nothing spills from one into the other."""

    dateTimeChanged = Signal()  # noqa: N815 (named as QDateTimeEdit's, which it replaces)

    def __init__(self, label: str):
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.date = DateField(label)
        self.date.setPlaceholderText("e.g. 20 Nov 2026 or 2026-11-20")
        self.time = TimeField()
        self.time.setAccessibleName(f"{label}, time")
        layout.addWidget(self.date, 3)
        layout.addWidget(self.time, 1)
        self.setFocusProxy(self.date)
        self._day = QDate.currentDate()
        self.date.textChanged.connect(self._date_typed)
        self.time.timeChanged.connect(lambda *_: self.dateTimeChanged.emit())

    def _date_typed(self, *_args) -> None:
        value = self.date.value()
        if value is not None:
            self._day = QDate(value.year, value.month, value.day)
        self.dateTimeChanged.emit()

    def tab_chain(self) -> list[QWidget]:
        return [self.date, self.time]

    def problem(self) -> str | None:
        """Plain words when the day typed is not a date."""
        return self.date.problem() if self.date.text().strip() else \
            "is required: type the day, e.g. 20 Nov 2026"

    def dateTime(self) -> QDateTime:  # noqa: N802 (as QDateTimeEdit)
        """The day typed (the last one understood, while the text is not a date) and time."""
        return QDateTime(self._day, self.time.time())

    def setDateTime(self, value: QDateTime) -> None:  # noqa: N802 (as QDateTimeEdit)
        day = value.date()
        self._day = day
        self.date.set_value(day.toPython())  # type: ignore[arg-type]
        self.time.setTime(value.time())


class TimeStamp(QWidget):
    """An optional time on the session's day: a tick box saying it was recorded, the time,
    and a "… now" button that stamps it. Ticking the box (or typing a time) records it; the
    time shown before then is the current one, so ticking means "now", never 00:00."""

    changed = Signal()

    def __init__(self, label: str, now: Callable[[], datetime]):
        super().__init__()
        self.now = now
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(label)
        self.time = TimeField()
        self.time.setAccessibleName(label)
        self.button = QPushButton(f"{label.split(' ')[0]} now")
        layout.addWidget(self.check)
        layout.addWidget(self.time)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self._show_now()
        self._grey()
        self.check.toggled.connect(self._ticked)
        self.time.edited.connect(self._typed)
        self.time.timeChanged.connect(lambda *_: self.changed.emit())
        self.button.clicked.connect(self.stamp)

    def tab_chain(self) -> list[QWidget]:
        return [self.check, self.time, self.button]

    def _show_now(self) -> None:
        moment = self.now()
        self.time.setTime(QTime(moment.hour, moment.minute))

    def _grey(self) -> None:
        """An unticked time is only a suggestion (now): shown grey until it is recorded."""
        self.time.setStyleSheet("" if self.check.isChecked() else "color: #8a8a8a;")

    def _ticked(self, checked: bool) -> None:
        if checked and not self.time.hasFocus():
            self._show_now()  # ticked by itself: the time is now, not what was shown
        self._grey()
        self.changed.emit()

    def _record(self, recorded: bool) -> None:
        """Tick (or untick) the box without taking the time now."""
        self.check.blockSignals(True)
        self.check.setChecked(recorded)
        self.check.blockSignals(False)
        self._grey()

    def _typed(self) -> None:
        if not self.check.isChecked():
            self._record(True)
        self.changed.emit()

    def stamp(self) -> None:
        moment = self.now()
        self.time.setTime(QTime(moment.hour, moment.minute))
        self._record(True)
        self.changed.emit()

    def set_value(self, value: datetime | None) -> None:
        self._record(value is not None)
        if value is not None:
            self.time.setTime(QTime(value.hour, value.minute, value.second))
        else:
            self._show_now()
        self.changed.emit()

    def value(self, day: datetime) -> datetime | None:
        if not self.check.isChecked():
            return None
        t = self.time.time().toPython()
        assert isinstance(t, clock_time)
        return day.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)


class CopiedMark(QWidget):
    """Under a field that "Repeat last session" filled but that usually changes from one
    session to the next (a lot number): "copied from last session — check the lot", and the
    field itself in amber, until the practitioner edits it or presses the confirm button."""

    def __init__(self, field: QLineEdit | LotField, confirm_text: str):
        super().__init__()
        self.field = field
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("⚠ copied from last session — check the lot")
        self.label.setStyleSheet(WARNING_STYLE)
        self.label.setWordWrap(True)
        self.confirm = QPushButton(confirm_text)
        self.confirm.setToolTip("The lot is the one in use today")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.confirm)
        self.confirm.clicked.connect(self.clear)
        field.textEdited.connect(lambda *_: self.clear())
        self.setVisible(False)

    @property
    def marked(self) -> bool:
        return not self.isHidden()

    def mark(self) -> None:
        """Only a field with something copied into it is marked."""
        if not self.field.text().strip():
            return
        self.field.setStyleSheet("QLineEdit { background: #fff4d6; }")
        self.field.setToolTip("Copied from the last session: check the lot")
        self.setVisible(True)

    def clear(self) -> None:
        had_focus = self.confirm.hasFocus()
        self.field.setStyleSheet("")
        self.field.setToolTip("")
        self.setVisible(False)
        if had_focus:
            self.field.setFocus(Qt.FocusReason.TabFocusReason)
