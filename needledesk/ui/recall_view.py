"""Recall a lot: every client who received it, with phone numbers, printable.

The lot is typed or picked from the catalogue's lots; a product kind and a date range narrow
it. Lots match ignoring case and surrounding spaces, free-text lots recorded before the
catalogue included (`store.lists.recall`); a lot changed after sign-off counts as amended.
Enter on a row (or a double-click) opens the client in the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from needledesk.domain.list_text import kind_text, recall_count_text, recall_filter_text
from needledesk.domain.model import ProductKind
from needledesk.domain.products import lot_key
from needledesk.domain.safety import RecallRow
from needledesk.domain.text import day_text, digits, fold
from needledesk.ui.due_view import ListWindow, RowsModel
from needledesk.ui.forms import DateField, FieldMessage
from needledesk.ui.tasks import Tasks

AMENDED_TEXT = QColor("#B3261E")


def note_text(row: RecallRow) -> str:
    """`amended` (the lot was changed after sign-off), `draft` (not signed off), both."""
    return ", ".join(word for word, on in (("amended", row.amended), ("draft", not row.signed))
                     if on)


#: (header, text, sort key) of each column of the recall list.
RECALL_COLUMNS: list[tuple[str, Callable[[Any], str], Callable[[Any], Any]]] = [
    ("Date", lambda r: day_text(r.started_at.date()), lambda r: r.started_at),
    ("Client", lambda r: r.client_name, lambda r: fold(r.client_name)),
    ("Phone", lambda r: r.phone or "—", lambda r: digits(r.phone)),
    ("Product", lambda r: f"{r.product or '—'} ({kind_text(r.kind).lower()})",
     lambda r: (fold(r.product), str(r.kind))),
    ("Lot", lambda r: r.lot, lambda r: fold(r.lot)),
    ("Note", note_text, note_text),
]
NOTE_COLUMN = 5


class RecallModel(RowsModel):
    def __init__(self, parent=None):
        super().__init__(RECALL_COLUMNS, parent)

    def style(self, row: Any, column: int, role: int) -> Any:
        if column == NOTE_COLUMN and row.amended and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(AMENDED_TEXT)
        return None


class RecallView(ListWindow):
    """Lot, product kind, From and To, Find; the sessions that used the lot below."""

    GEOMETRY_KEY = "recall/geometry"

    def __init__(self, repo, settings, **kwargs):
        super().__init__(repo, settings, **kwargs)
        self.setWindowTitle("Recall a lot")
        self.rows: list[RecallRow] = []
        #: What the rows shown were found with: (lot, kinds, start, end).
        self.found: tuple[str, list[ProductKind] | None, date | None, date | None] | None = None
        self.use_model(RecallModel(self))
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)   # by date, as found

        self.lot = QComboBox()
        self.lot.setEditable(True)
        self.lot.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.lot.setMinimumContentsLength(18)
        self.lot.lineEdit().setPlaceholderText("type or pick a lot, e.g. HA-0923")
        self._offer_lots()
        self.kind = QComboBox()
        self.kind.addItem("Any product", None)
        for kind in ProductKind:
            self.kind.addItem(kind_text(kind), kind)
        self.start = DateField("From")
        self.end = DateField("To")
        for field in (self.start, self.end):
            field.setPlaceholderText("any day — e.g. 1 Nov 2026")
        self.find_button = QPushButton("&Find")
        self.find_button.setDefault(True)
        self.message = FieldMessage()

        form = QFormLayout()
        form.addRow("&Lot", self.lot)
        form.addRow("&Used as", self.kind)
        dates = QHBoxLayout()
        dates.addWidget(self.start)
        to_label = QLabel("&To")
        to_label.setBuddy(self.end)
        dates.addWidget(to_label)
        dates.addWidget(self.end)
        dates.addWidget(self.find_button)
        from_label = QLabel("F&rom")
        from_label.setBuddy(self.start)
        form.addRow(from_label, dates)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)

        self.find_button.clicked.connect(self.find_lot)
        # Enter in any field presses Find (the default button); in the list it opens the client
        self.count.setText("Type or pick a lot, then Find (Enter).")
        self.restore_size()
        self.lot.setFocus()

    def _offer_lots(self) -> None:
        """The catalogue's lots, newest expiry first, each once (by `lot_key`), with the
        product and expiry as a tooltip."""
        names = {p.id: p.name for p in self.repo.products()}
        seen: set[str] = set()
        for lot in sorted(self.repo.lots(), key=lambda x: x.expires_on or date.max,
                          reverse=True):
            key = lot_key(lot.lot)
            if key in seen:
                continue
            seen.add(key)
            self.lot.addItem(lot.lot.strip())
            expiry = f", expires {day_text(lot.expires_on)}" if lot.expires_on else ""
            self.lot.setItemData(self.lot.count() - 1,
                                 f"{names.get(lot.product_id, 'unknown product')}{expiry}",
                                 Qt.ItemDataRole.ToolTipRole)
        self.lot.setCurrentIndex(-1)
        self.lot.setEditText("")

    def problems(self) -> list[str]:
        """What keeps the search from running, naming the field."""
        problems = []
        if not lot_key(self.lot.currentText()):
            problems.append("Lot is needed: type or pick the lot to recall")
        for label, field in (("From", self.start), ("To", self.end)):
            problem = field.problem()
            if problem:
                problems.append(f"{label}: {problem}")
        start, end = self.start.value(), self.end.value()
        if start and end and start > end:
            problems.append(f"From {day_text(start)} is after To {day_text(end)}: "
                            "the first day comes first")
        return problems

    def find_lot(self) -> None:
        """Find the sessions that used the lot (on a worker, from a reader of its own)."""
        from needledesk.store.lists import recall

        problems = self.problems()
        if problems:
            self.message.show_error("\n".join(problems))
            return
        self.message.clear_message()
        lot = self.lot.currentText().strip()
        kind = self.kind.currentData()
        kinds = [kind] if kind is not None else None
        start, end = self.start.value(), self.end.value()
        repo = self.repo
        self.count.setText(f"Looking for lot {lot}…")

        def work() -> list[RecallRow]:
            reader = repo.reader()
            try:
                return recall(reader.db, lot, kinds=kinds, start=start, end=end)
            finally:
                reader.db.close()

        def done(rows: list[RecallRow]) -> None:
            self.show_rows(rows, (lot, kinds, start, end))

        from needledesk.ui.printing import show_failure

        Tasks.run(work, done, show_failure(self, "Finding the lot"), owner=self)

    def show_rows(self, rows: list[RecallRow], found) -> None:
        self.rows, self.found = rows, found
        self.model.set_rows(rows)
        self.fit_columns()
        lot, kinds, start, end = found
        self.count.setText(f"Lot {lot} — {recall_filter_text(kinds, start, end)}: "
                           f"{recall_count_text(rows)}")
        if rows:
            self.table.selectRow(0)
            self.table.setFocus()

    # --- print --------------------------------------------------------------------------

    def pdf_maker(self) -> Callable[[], bytes] | None:
        if self.found is None:
            self.message.show_error("Find a lot first: the list printed is the one shown.")
            return None
        rows, settings, today = self.shown_rows(), self.settings, self.today
        lot, kinds, start, end = self.found

        def make() -> bytes:   # on the worker: reportlab loads there
            from needledesk.reports.lists import recall_list_pdf

            return recall_list_pdf(rows, lot, settings, today=today, kinds=kinds, start=start,
                                   end=end)
        return make

    def pdf_title(self) -> str:
        return f"Recall of lot {self.found[0] if self.found else ''}"

    def pdf_name(self) -> str:
        from needledesk.reports.lists import default_recall_name

        return default_recall_name(self.found[0] if self.found else "", self.today)
