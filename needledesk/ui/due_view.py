"""Who is due: the courses whose next session is due, overdue or lapsed, with phone numbers
to ring, sortable, printable. Enter (or a double-click) opens the client in the main window.

The rows come from `store.lists.due`, read on a worker from a reader of its own; the words
are `domain.list_text`'s, the same as on paper (`reports.lists`). `ListWindow` is what this
window and the recall window (`ui.recall_view`) share: a table sorted by value (dates as
dates), its size remembered, Print… and Save as PDF… through the session editor's preview
and export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.list_text import due_count_text, due_session_text, state_text
from needledesk.domain.safety import DueRow, DueState
from needledesk.domain.text import day_text, digits, fold
from needledesk.ui.forms import remember_geometry, restore_geometry
from needledesk.ui.tasks import Tasks

#: The role the views sort by: a value that orders as the column means (a date's ordinal).
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 10
#: The role that gives a row's client id.
CLIENT_ROLE = int(Qt.ItemDataRole.UserRole) + 11

LAPSED_BACKGROUND = QColor("#EEEEEE")
LAPSED_TEXT = QColor("#66737A")
OVERDUE_TEXT = QColor("#8A4B00")


def already_open(window: QWidget | None, *, bring_forward: bool = True) -> bool:
    """True (and the window brought forward) when `window` is still open: a list asked for
    again is the one already on screen, not a second copy."""
    import shiboken6

    if window is None or not shiboken6.isValid(window) or not window.isVisible():
        return False
    if bring_forward:
        window.activateWindow()
    return True


class RowsModel(QAbstractTableModel):
    """A table over plain rows: `columns` is (header, text of a row, sort key of a row)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Any], str],
                                               Callable[[Any], Any]]], parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt's)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 (Qt's)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        _header, text, key = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text(row)
        if role == SORT_ROLE:
            return key(row)
        if role == CLIENT_ROLE:
            return row.client_id
        return self.style(row, index.column(), role)

    def style(self, row: Any, column: int, role: int) -> Any:
        return None


class SortProxy(QSortFilterProxyModel):
    """Sorts by `SORT_ROLE` (a tuple compares as Python compares it); `accept` filters."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.accept: Callable[[Any], bool] = lambda row: True
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left, right) -> bool:  # noqa: N802 (Qt's)
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:  # noqa: N802 (Qt's)
        model = self.sourceModel()
        return isinstance(model, RowsModel) and self.accept(model.rows[source_row])

    def refilter(self) -> None:
        if hasattr(self, "beginFilterChange"):   # Qt 6.9 and later
            self.beginFilterChange()
            self.endFilterChange()
        else:   # Qt 6.8
            self.invalidateFilter()

    def shown(self) -> list[Any]:
        """The rows as the view shows them: filtered, in the order sorted."""
        model = self.sourceModel()
        assert isinstance(model, RowsModel)
        return [model.rows[self.mapToSource(self.index(r, 0)).row()]
                for r in range(self.rowCount())]


class ListTable(QTableView):
    """The list: whole rows selected, sorted by clicking a header; Enter opens the client
    (`activated`, as a double-click does)."""

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class ListWindow(QDialog):
    """What the due list and the recall window share: a sortable table, a count line,
    Print… and Save as PDF…, the size remembered, Escape closes, Enter opens the client."""

    #: Where the window's size is kept in the main window's QSettings.
    GEOMETRY_KEY = ""
    DEFAULT_SIZE = QSize(980, 560)

    def __init__(self, repo, settings, *, today: date, open_client: Callable[[str], object],
                 state: QSettings | None = None, protected_folders: Callable[[], list] = list,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.repo = repo
        self.settings = settings
        self.today = today
        self.open_client = open_client
        self.state = state
        self.protected_folders = protected_folders
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.table = ListTable()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)   # one line a row; a long text shows in full as a tip
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive)
        self.table.activated.connect(self._open_row)   # Enter, and a double-click
        self.count = QLabel()
        self.count.setWordWrap(True)
        self.print_button = QPushButton("&Print…")
        self.print_button.setToolTip("Preview and print the list (Ctrl+P)")
        self.save_button = QPushButton("Save as P&DF…")
        self.close_button = QPushButton("Close")
        self.print_button.clicked.connect(self.print_list)
        self.save_button.clicked.connect(self.save_pdf)
        self.close_button.clicked.connect(self.close)
        QShortcut(QKeySequence.StandardKey.Print, self).activated.connect(self.print_list)
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.count, 1)
        for button in (self.print_button, self.save_button, self.close_button):
            self.buttons.addWidget(button)
            button.setAutoDefault(False)
        self.setMinimumSize(640, 360)

    def use_model(self, model: RowsModel) -> None:
        self.model = model
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(model)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)

    # --- size ---------------------------------------------------------------------------

    def restore_size(self) -> None:
        restore_geometry(self, self.state, self.GEOMETRY_KEY, self.DEFAULT_SIZE)

    def done(self, result: int) -> None:
        """Escape, Close and the title bar's close all end here: the size is kept."""
        remember_geometry(self, self.state, self.GEOMETRY_KEY)
        super().done(result)

    # --- rows ---------------------------------------------------------------------------

    def shown_rows(self) -> list[Any]:
        return self.proxy.shown()

    def _open_row(self, index: QModelIndex) -> None:
        client_id = index.data(CLIENT_ROLE)
        if client_id:
            self.open_client(str(client_id))

    def fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            header.resizeSection(column, min(header.sectionSize(column), 260) + 12)

    # --- print and save -----------------------------------------------------------------

    def pdf_maker(self) -> Callable[[], bytes] | None:
        """What makes the PDF of the rows shown (None: nothing to print yet)."""
        raise NotImplementedError

    def pdf_title(self) -> str:
        raise NotImplementedError

    def pdf_name(self) -> str:
        raise NotImplementedError

    def print_list(self) -> None:
        from needledesk.ui.printing import build_off_thread
        from needledesk.ui.session_editor import SessionEditor

        make = self.pdf_maker()
        if make is None:
            return
        title = self.pdf_title()
        build_off_thread(self, self.repo, lambda _reader: make(),
                         lambda data: SessionEditor.show_preview(self, data, title),
                         f"Printing {title[:1].lower()}{title[1:]}")

    def save_pdf(self) -> None:
        from needledesk.ui.printing import build_off_thread
        from needledesk.ui.session_editor import SessionEditor

        make = self.pdf_maker()
        if make is None:
            return
        name, path, folders = self.pdf_name(), self.repo.path, self.protected_folders()
        build_off_thread(self, self.repo, lambda _reader: make(),
                         lambda data: SessionEditor.export_pdf(self, data, name, path, folders),
                         "Saving the PDF")


def _due_style(row: DueRow, column: int, role: int) -> Any:
    if row.state is DueState.LAPSED:
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(LAPSED_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(LAPSED_TEXT)
        if role == Qt.ItemDataRole.FontRole and column == 6:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setItalic(True)
            return font
    if row.state is DueState.OVERDUE and column == 6 and role == Qt.ItemDataRole.ForegroundRole:
        return QBrush(OVERDUE_TEXT)
    return None


class DueModel(RowsModel):
    def __init__(self, parent=None):
        super().__init__(DUE_COLUMNS, parent)

    def style(self, row: Any, column: int, role: int) -> Any:
        return _due_style(row, column, role)


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day is not None else -1


#: (header, text, sort key) of each column of the due list.
DUE_COLUMNS: list[tuple[str, Callable[[Any], str], Callable[[Any], Any]]] = [
    ("Client", lambda r: r.client_name, lambda r: fold(r.client_name)),
    ("Phone", lambda r: r.phone or "—", lambda r: digits(r.phone)),
    ("Concern", lambda r: r.concern, lambda r: fold(r.concern)),
    ("Session", due_session_text, lambda r: (r.sessions_done + 1, r.planned_sessions)),
    ("Last session", lambda r: day_text(r.last_session) or "none yet",
     lambda r: _ordinal(r.last_session)),
    ("Due", lambda r: day_text(r.due_on), lambda r: _ordinal(r.due_on)),
    # lapsed courses after the rest, each part by due day
    ("State", state_text, lambda r: (r.state is DueState.LAPSED, _ordinal(r.due_on))),
]
STATE_COLUMN = 6


class DueView(ListWindow):
    """The due list on `today`: Show also due within N days, Show lapsed courses."""

    GEOMETRY_KEY = "due/geometry"

    def __init__(self, repo, settings, **kwargs):
        super().__init__(repo, settings, **kwargs)
        self.setWindowTitle(f"Who is due — {day_text(self.today)}")
        self.rows: list[DueRow] = []
        self.use_model(DueModel(self))

        self.within = QSpinBox()
        self.within.setRange(0, 90)
        self.within.setSuffix(" days")
        self.within.setValue(int(self.state.value("due/within", 0) or 0)
                             if self.state is not None else 0)
        within_label = QLabel("Show also due &within")
        within_label.setBuddy(self.within)
        self.show_lapsed = QCheckBox("Show &lapsed courses")
        self.show_lapsed.setChecked(True)
        self.show_lapsed.setToolTip(
            f"Courses with no session for {settings.lapsed_after_intervals} of their "
            "intervals past the day the next one was due")
        controls = QHBoxLayout()
        controls.addWidget(within_label)
        controls.addWidget(self.within)
        controls.addSpacing(16)
        controls.addWidget(self.show_lapsed)
        controls.addStretch(1)
        self.loading = QLabel("Reading the courses…")

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.loading)
        layout.addLayout(self.buttons)
        self.proxy.accept = lambda row: (self.show_lapsed.isChecked()
                                         or row.state is not DueState.LAPSED)
        self.within.valueChanged.connect(self.load)
        self.show_lapsed.toggled.connect(self._refilter)
        self.restore_size()
        self.table.sortByColumn(STATE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setFocus()
        self.load()

    def load(self) -> None:
        """Read the list on a worker (a reader of its own), then show it."""
        from needledesk.store.lists import due

        today, within = self.today, self.within.value()
        lapse = self.settings.lapsed_after_intervals
        repo = self.repo
        if self.state is not None:
            self.state.setValue("due/within", within)
        self.loading.show()

        def work() -> list[DueRow]:
            reader = repo.reader()
            try:
                return due(reader.db, today, within_days=within,
                           lapsed_after_intervals=lapse)
            finally:
                reader.db.close()

        def done(rows: list[DueRow]) -> None:
            if within != self.within.value():
                return   # changed again meanwhile: that reading shows instead
            self.show_rows(rows)

        from needledesk.ui.printing import show_failure

        Tasks.run(work, done, show_failure(self, "Reading who is due"), owner=self)

    def show_rows(self, rows: list[DueRow]) -> None:
        self.rows = rows
        self.model.set_rows(rows)
        self.loading.hide()
        self.fit_columns()
        self._refilter()
        if self.proxy.rowCount():
            self.table.selectRow(0)

    def _refilter(self, *_args) -> None:
        self.proxy.refilter()
        shown = self.shown_rows()
        text = due_count_text(shown)
        hidden = sum(1 for r in self.rows if r.state is DueState.LAPSED) \
            if not self.show_lapsed.isChecked() else 0
        if hidden:
            text += f" ({hidden:,} lapsed not shown)"
        self.count.setText(text)

    # --- print --------------------------------------------------------------------------

    def pdf_maker(self) -> Callable[[], bytes] | None:
        rows, settings, today = self.shown_rows(), self.settings, self.today
        within = self.within.value()

        def make() -> bytes:   # on the worker: reportlab loads there
            from needledesk.reports.lists import due_list_pdf

            return due_list_pdf(rows, settings, today=today, within_days=within)
        return make

    def pdf_title(self) -> str:
        return "Who is due"

    def pdf_name(self) -> str:
        from needledesk.reports.lists import default_due_name

        return default_due_name(self.today)
