"""The reactions report window: reactions by product and lot and by depth band over a period,
as sortable tables and a small bar chart, printable and savable as PDF. "Count reactions from"
chooses the mildest severity that counts a session as with a reaction (Moderate at first, as
mild redness follows every session); the choice is remembered like the window's size.

The counting runs on a worker (`store.reactions` on a reader connection, then
`domain.reactions_report`); the window holds no SQL. The PDF is `reports.reactions`, made
from the very report on screen, through the same preview and export as the other PDFs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.reactions_report import (
    CHART_LOTS,
    DEFAULT_DAYS,
    DEFAULT_THRESHOLD,
    DEPTH_BAND_SHORT,
    THRESHOLD_LABELS,
    DepthBand,
    ReactionCounts,
    ReactionsReport,
    percent_text,
    period_problems,
)
from needledesk.ui.forms import DateField, remember_geometry, restore_geometry
from needledesk.ui.tasks import Tasks

if TYPE_CHECKING:
    from needledesk.store.repository import Repository

TITLE = "Reactions report"
#: Where the window's size is remembered in the main window's QSettings.
GEOMETRY_KEY = "reactions/geometry"
#: Where the threshold chosen ("Count reactions from") is remembered.
THRESHOLD_KEY = "reactions/threshold"
DEFAULT_SIZE = QSize(1000, 680)
_ACCENT = QColor("#1E5A66")
_ABOVE = QColor("#B3261E")
_TRACK = QColor("#EDF3F4")


def default_period(today: date) -> tuple[date, date]:
    """The last `DEFAULT_DAYS` days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def default_pdf_name(report: ReactionsReport) -> str:
    """`2026-09-02 to 2026-11-30 reactions report.pdf`."""
    return f"{report.start.isoformat()} to {report.end.isoformat()} reactions report.pdf"


# --- the tables ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    title: str
    #: The shown text and the value it sorts by.
    text: Callable[[Any], str]
    key: Callable[[Any], Any]
    number: bool = False


#: The title of the column of sessions counted; the window heads it by the threshold.
COUNTED = "With a reaction"


def _counts_columns(counts: Callable[[Any], ReactionCounts]) -> list[Column]:
    return [
        Column("Sessions", lambda r: f"{counts(r).sessions:,}", lambda r: counts(r).sessions,
               True),
        Column(COUNTED, lambda r: f"{counts(r).with_reaction:,}",
               lambda r: counts(r).with_reaction, True),
        Column("Share", lambda r: counts(r).share_text, lambda r: counts(r).share, True),
        Column("Mild", lambda r: f"{counts(r).mild:,}", lambda r: counts(r).mild, True),
        Column("Moderate", lambda r: f"{counts(r).moderate:,}", lambda r: counts(r).moderate,
               True),
        Column("Severe", lambda r: f"{counts(r).severe:,}", lambda r: counts(r).severe, True),
        Column("Worst reactions", lambda r: counts(r).worst_text() or "—",
               lambda r: (counts(r).worst_severity, len(counts(r).worst_kinds))),
    ]


LOT_COLUMNS = [
    Column("Product", lambda r: r.product_text, lambda r: r.product_text.casefold()),
    Column("Used as", lambda r: r.kind_text, lambda r: r.kind_text),
    Column("Lot", lambda r: r.lot_text, lambda r: r.lot_text.casefold()),
    *_counts_columns(lambda r: r.counts),
]
BAND_COLUMNS = [
    Column("Depth band", lambda r: r.label, lambda r: list(DepthBand).index(r.band)),
    Column("Treated areas", lambda r: f"{r.areas:,}", lambda r: r.areas, True),
    *_counts_columns(lambda r: r.counts),
]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class RowsModel(QAbstractTableModel):
    """Rows of the report under `columns`; sorted by each column's own value."""

    def __init__(self, columns: list[Column], parent: QWidget | None = None):
        super().__init__(parent)
        self.columns = columns
        self.rows: list[Any] = []
        #: Column titles shown instead of their own (the counted column, by threshold).
        self.titles: dict[str, str] = {}

    def set_rows(self, rows: list[Any], titles: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.titles = dict(titles or {})
        self.endResetModel()

    def title(self, section: int) -> str:
        """The column's title as shown."""
        own = self.columns[section].title
        return self.titles.get(own, own)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.title(section)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column, row = self.columns[index.column()], self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(row)
        if role == SORT_ROLE:
            return column.key(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.number:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class _SortProxy(QSortFilterProxyModel):
    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802 (Qt name)
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


def _table(model: RowsModel, name: str) -> QTableView:
    proxy = _SortProxy(model)
    proxy.setSourceModel(model)
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)   # the report's own order first
    return view


# --- the chart -------------------------------------------------------------------------------

class ReactionsChart(QWidget):
    """The share of sessions with a reaction, as horizontal bars: by depth band (above the
    usual range in red), and for the most used lots."""

    BAR, GAP, TOP = 14, 6, 22

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.report: ReactionsReport | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._height(4))
        self.setAccessibleName("Share of sessions with a reaction")

    def _height(self, rows: int) -> int:
        return self.TOP + rows * (self.BAR + self.GAP) + 4

    def groups(self) -> list[tuple[str, list[tuple[str, ReactionCounts, bool]]]]:
        """What the chart draws: each group's title and its bars (label, counts, in red)."""
        if self.report is None:
            return []
        bands = [(DEPTH_BAND_SHORT[b.band], b.counts, b.band is DepthBand.ABOVE)
                 for b in self.report.bands]
        lots = [(row.name, row.counts, False) for row in self.report.chart_lots(CHART_LOTS)]
        return [("By depth band", bands), (f"The {len(lots)} most used lots", lots)]

    def set_report(self, report: ReactionsReport | None) -> None:
        self.report = report
        rows = max((len(bars) for _t, bars in self.groups()), default=4)
        self.setFixedHeight(self._height(max(rows, 4)))
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        try:
            groups = self.groups()
            if not groups:
                return
            width = self.width()
            left = int((width - 16) * 0.4)
            self._group(painter, *groups[0], 0, left, label_w=70)
            self._group(painter, *groups[1], left + 16, width - left - 16, label_w=220)
        finally:
            painter.end()

    def _group(self, painter: QPainter, title: str, bars: list[tuple[str, ReactionCounts, bool]],
               x: int, width: int, *, label_w: int) -> None:
        palette = self.palette()
        metrics = QFontMetrics(self.font())
        bold = self.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.windowText().color())
        painter.drawText(x, 14, title)
        painter.setFont(self.font())
        value_w = metrics.horizontalAdvance("100% of 10,000") + 8
        x0 = x + label_w + 6
        track_w = max(width - label_w - 6 - value_w, 10)
        y = self.TOP
        for label, counts, warn in bars:
            text_rect = QRectF(x, y, label_w, self.BAR)
            shown = metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, label_w)
            painter.setPen(palette.windowText().color())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, shown)
            painter.fillRect(QRectF(x0, y, track_w, self.BAR), _TRACK)
            if counts.share:
                painter.fillRect(QRectF(x0, y, max(track_w * counts.share, 1.0), self.BAR),
                                 _ABOVE if warn else _ACCENT)
            value = (f"{percent_text(counts.share)} of {counts.sessions:,}" if counts.sessions
                     else "no session")
            painter.drawText(QRectF(x0 + track_w + 6, y, value_w, self.BAR),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, value)
            y += self.BAR + self.GAP


# --- the window ------------------------------------------------------------------------------

class ReactionsView(QDialog):
    """Choose a period (From, To: the last 90 days at first), see its reactions, print or
    save them. Escape closes; the window is freed when closed and its size remembered."""

    def __init__(self, repo: Repository, *, state: QSettings | None = None,
                 today: Callable[[], date] = date.today, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(TITLE)
        self.repo, self.state, self.today = repo, state, today
        self.report: ReactionsReport | None = None
        self.loading = False

        self.start_field = DateField("From")
        self.end_field = DateField("To")
        start, end = default_period(today())
        self.start_field.set_value(start)
        self.end_field.set_value(end)
        self.show_button = QPushButton("&Show")
        self.show_button.setToolTip("Count the reactions of the period (Enter)")
        self.show_button.clicked.connect(self.refresh)
        period = QHBoxLayout()
        for text, field in (("&From", self.start_field), ("&To", self.end_field)):
            label = QLabel(text)
            label.setBuddy(field)
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance(text) + 8)
            field.setFixedWidth(field.fontMetrics().horizontalAdvance("30 Sep 2026") + 40)
            period.addSpacing(8)
            period.addWidget(label)
            period.addWidget(field)
        self.threshold_combo = QComboBox()
        self.threshold_combo.setObjectName("threshold_combo")
        for severity, text in THRESHOLD_LABELS.items():
            self.threshold_combo.addItem(text, severity)
        self.threshold_combo.setToolTip(
            "The mildest reaction that counts a session as with a reaction (mild redness "
            "follows every session)")
        self.threshold_combo.setCurrentIndex(max(
            self.threshold_combo.findData(self._remembered_threshold()), 0))
        self.threshold_combo.currentIndexChanged.connect(self._threshold_changed)
        threshold_label = QLabel("&Count reactions from")
        threshold_label.setBuddy(self.threshold_combo)
        period.addSpacing(12)
        period.addWidget(threshold_label)
        period.addWidget(self.threshold_combo)
        period.addSpacing(8)
        period.addWidget(self.show_button)
        period.addStretch(1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("reactions_message")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart_caption = QLabel()
        self.chart_caption.setObjectName("chart_caption")
        caption_font = self.chart_caption.font()
        caption_font.setBold(True)
        self.chart_caption.setFont(caption_font)
        self.chart_caption.hide()

        self.lot_model = RowsModel(LOT_COLUMNS, self)
        self.band_model = RowsModel(BAND_COLUMNS, self)
        self.lot_table = _table(self.lot_model, "lot_table")
        self.band_table = _table(self.band_model, "band_table")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.lot_table, "By product and &lot")
        self.tabs.addTab(self.band_table, "By depth &band")
        self.chart = ReactionsChart()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton("Save as P&DF…",
                                                  QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button = self.buttons.addButton("&Print…",
                                                   QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setToolTip("Save the report as a PDF (Ctrl+S)")
        self.print_button.setToolTip("Preview and print the report (Ctrl+P)")
        for button in (self.save_button, self.print_button,
                       self.buttons.button(QDialogButtonBox.StandardButton.Close)):
            button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save_pdf)
        self.print_button.clicked.connect(self.print_report)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Print, self).activated.connect(self.print_report)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save_pdf)

        layout = QVBoxLayout(self)
        layout.addLayout(period)
        layout.addWidget(self.message)
        layout.addWidget(self.summary)
        layout.addWidget(self.chart_caption)
        layout.addWidget(self.chart)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        # Enter in a date field shows the period (once in the layout, Qt keeps the default)
        self.show_button.setDefault(True)
        self._set_message("")
        self._update_buttons()
        self._restore_size()
        self.start_field.setFocus()
        self.refresh()

    # --- size ------------------------------------------------------------------------------

    def _restore_size(self) -> None:
        restore_geometry(self, self.state, GEOMETRY_KEY, DEFAULT_SIZE)

    def _remember_size(self) -> None:
        remember_geometry(self, self.state, GEOMETRY_KEY)

    def done(self, result: int) -> None:
        self._remember_size()
        super().done(result)

    # --- the threshold ---------------------------------------------------------------------

    def _remembered_threshold(self) -> int:
        value = self.state.value(THRESHOLD_KEY) if self.state is not None else None
        try:
            threshold = int(str(value))
        except ValueError:
            return DEFAULT_THRESHOLD
        return threshold if threshold in THRESHOLD_LABELS else DEFAULT_THRESHOLD

    def threshold(self) -> int:
        """The severity chosen in Count reactions from."""
        data = self.threshold_combo.currentData()
        return data if isinstance(data, int) and data in THRESHOLD_LABELS \
            else DEFAULT_THRESHOLD

    def _threshold_changed(self) -> None:
        if self.state is not None:
            self.state.setValue(THRESHOLD_KEY, self.threshold())
            self.state.sync()
        self.refresh()

    # --- the period ------------------------------------------------------------------------

    def period(self) -> tuple[date, date] | None:
        """The period chosen, or None after saying what is wrong with it."""
        problems = [f"{field.label}: {problem}" for field in (self.start_field, self.end_field)
                    if (problem := field.problem()) is not None]
        if not problems:
            start, end = self.start_field.value(), self.end_field.value()
            problems = period_problems(start, end)
            if not problems and start is not None and end is not None:
                self._set_message("")
                return start, end
        self._set_message(" ".join(problems), error=True)
        return None

    def _set_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #B3261E;" if error else "")
        self.message.setVisible(bool(text))

    def refresh(self) -> None:
        """Count the period's reactions on a worker; the tables and chart follow."""
        for field in (self.start_field, self.end_field):
            field.tidy()
        period = self.period()
        if period is None:
            return
        start, end = period
        repo, threshold = self.repo, self.threshold()
        self.loading = True
        self.summary.setText("Counting the reactions…")
        self._update_buttons()

        def work() -> ReactionsReport:
            from needledesk.store.reactions import period_report

            reader = repo.reader()
            try:
                return period_report(reader.db, start, end, threshold)
            finally:
                reader.db.close()

        def failed(exc: Exception) -> None:
            self.summary.setText("")
            self._set_message(f"The report could not be counted: {exc}", error=True)

        def finish() -> None:
            self.loading = False
            self._update_buttons()

        Tasks.run(work, self.show_report, failed, owner=self, on_finish=finish)

    def show_report(self, report: ReactionsReport) -> None:
        from needledesk.reports.reactions import chart_caption, totals_text

        if report.threshold != self.threshold():
            return   # counted for a threshold changed since; its own count follows
        self.report = report
        self.summary.setText(f"{report.period_text}: {totals_text(report.total)}")
        self.chart_caption.setText(chart_caption(report) if report.total.sessions else "")
        self.chart_caption.setVisible(bool(report.total.sessions))
        self.chart.setAccessibleName(chart_caption(report))
        titles = {COUNTED: report.counted_title}
        self.lot_model.set_rows(report.lots, titles)
        self.band_model.set_rows(report.bands, titles)
        for table in (self.lot_table, self.band_table):
            table.resizeColumnsToContents()
            header = table.horizontalHeader()
            for column in range(header.count() - 1):
                header.resizeSection(column, min(header.sectionSize(column), 260))
        self.chart.set_report(report if report.total.sessions else None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.report is not None and not self.loading
        self.save_button.setEnabled(ready)
        self.print_button.setEnabled(ready)

    # --- print and save --------------------------------------------------------------------

    def _build(self, then: Callable[[bytes], object], what: str) -> None:
        from needledesk.ui.printing import build_off_thread

        report = self.report
        if report is None or self.loading:
            return
        today = self.today()

        def make(reader: Repository) -> bytes:
            from needledesk.reports.reactions import render_reactions_report

            return render_reactions_report(report, reader.settings(), today=today)

        build_off_thread(self, self.repo, make, then, what)

    def print_report(self) -> None:
        from needledesk.ui.session_editor import SessionEditor

        title = f"{TITLE} — {self.report.period_text}" if self.report else TITLE
        self._build(lambda data: SessionEditor.show_preview(self, data, title),
                    "Printing the reactions report")

    def save_pdf(self) -> None:
        from needledesk.ui.session_editor import SessionEditor

        if self.report is None:
            return
        name = default_pdf_name(self.report)
        protected = getattr(self.parent(), "protected_folders", None)
        folders = protected() if protected is not None else []
        path = self.repo.path
        self._build(lambda data: SessionEditor.export_pdf(self, data, name, path, folders),
                    "Saving the reactions report")


def show_reactions_report(parent: QWidget, repo: Repository, *, state: QSettings | None = None,
                          today: Callable[[], date] = date.today) -> ReactionsView:
    """Open the window (not modal: the practitioner may look up a client beside it); one
    already open comes forward instead."""
    open_views = [child for child in parent.findChildren(ReactionsView)
                  if shiboken6.isValid(child) and child.isVisible()]
    view = open_views[0] if open_views else ReactionsView(repo, state=state, today=today,
                                                          parent=parent)
    view.show()
    view.activateWindow()
    return view
