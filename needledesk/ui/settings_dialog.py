"""The clinic settings dialog: it only loads a `ClinicSettings` and gives one back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QLocale, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.face_chart import DEFAULT_AREA_ZONES, ZONES, zone_for_area
from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
)
from needledesk.domain.model import PhotoView
from needledesk.domain.photos import VIEW_TEXT
from needledesk.domain.rules import (
    DEPTH_MAX_MM,
    DEPTH_MIN_MM,
    INTERVAL_WEEKS_MAX,
    INTERVAL_WEEKS_MIN,
    Problem,
)
from needledesk.domain.text import fold
from needledesk.settings import (
    CONTACT_MAX_MINUTES,
    CONTACT_MIN_MINUTES,
    FALLBACK_COUNTRY,
    PAGE_SIZES,
    ClinicSettings,
    currency_problems,
    default_country,
    phone_regions,
    photo_views_problems,
    table_problems,
)
from needledesk.ui.forms import FieldMessage, route, save_cancel_buttons, with_message

if TYPE_CHECKING:
    from needledesk.ui.server_settings import ServerSettingsPage

#: Bounds of the anaesthetic contact-time editor, in minutes.
DEPTH_STEP_MM = 0.05
LOGO_PREVIEW_SIZE = (180, 72)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_LOGO_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG


def merged(problems: Iterable[Problem]) -> list[Problem]:
    """One problem per field (a table's rows share its one message), lines joined."""
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.path.split("[", 1)[0], []).append(problem.message)
    return [Problem(path, "\n".join(lines)) for path, lines in by_field.items()]


def is_logo_image(data: bytes) -> bool:
    """PNG or JPEG (what the printed summary can embed) that Qt can actually decode."""
    return data.startswith(_LOGO_SIGNATURES) and QPixmap().loadFromData(data)


class _EnterFilter(QObject):
    """Calls `action` for Enter in the watched widget and keeps the key from the dialog, so
    Enter adds an entry or ends a cell edit instead of saving the whole dialog. When
    `action` returns False the key goes on to the dialog (Enter in an empty entry saves)."""

    def __init__(self, action, parent: QObject):
        super().__init__(parent)
        self._action = action

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in _ENTER_KEYS:
            return bool(self._action())
        return False


class EditableList(QWidget):
    """A list of short texts: type in the entry and press Enter (or Add); select and press
    Delete (or Remove); double-click or F2 to edit; drag to reorder."""

    changed = Signal()

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(placeholder)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.entry, 0, 0)
        grid.addWidget(self.add_button, 0, 1)
        grid.addWidget(self.list, 1, 0)
        grid.addWidget(self.remove_button, 1, 1, Qt.AlignmentFlag.AlignTop)
        self.setFocusProxy(self.entry)

        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self.entry.installEventFilter(_EnterFilter(self.add, self))
        self.list.installEventFilter(self)
        self.list.model().rowsInserted.connect(self.changed)
        self.list.model().rowsRemoved.connect(self.changed)
        self.list.model().rowsMoved.connect(self.changed)
        self.list.itemChanged.connect(self.changed)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.list and event.type() == QEvent.Type.KeyPress \
                and event.key() == Qt.Key.Key_Delete and self.list.selectedItems():
            self.remove_selected()
            return True
        return False

    def set_items(self, items: Iterable[str]) -> None:
        self.list.clear()
        for text in items:
            self._append(text)

    def items(self) -> list[str]:
        texts = (self.list.item(row).text().strip() for row in range(self.list.count()))
        return [text for text in texts if text]

    def add(self) -> bool:
        """Add the entry's text (once); False when there was nothing to add."""
        text = self.entry.text().strip()
        if not text:
            return False
        existing = [i for i in range(self.list.count())
                    if fold(self.list.item(i).text().strip()) == fold(text)]
        if existing:
            self.list.setCurrentRow(existing[0])
        else:
            self._append(text)
            self.list.setCurrentRow(self.list.count() - 1)
        self.entry.clear()
        return True

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))

    def _append(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))


class _NumberDelegate(QStyledItemDelegate):
    """Edits a table's number cells with a spin box bounded like the guideline allows."""

    def __init__(self, low: float, high: float, *, decimals: int = 0, step: float = 1,
                 suffix: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.low, self.high, self.decimals, self.step, self.suffix = (
            low, high, decimals, step, suffix)

    def createEditor(self, parent, option, index):
        editor = QDoubleSpinBox(parent) if self.decimals else QSpinBox(parent)
        if self.decimals:
            editor.setDecimals(self.decimals)
        editor.setRange(self.low, self.high)
        editor.setSingleStep(self.step)
        editor.setSuffix(self.suffix)
        editor.setFrame(False)
        return editor

    def displayText(self, value, locale) -> str:
        if isinstance(value, int | float):
            return f"{value:.{self.decimals}f}{self.suffix}"
        return super().displayText(value, locale)


class GuidelineTable(QTableWidget):
    """A guideline table: a name and a usual low and high per row."""

    def __init__(self, headers: tuple[str, str, str], delegate: _NumberDelegate,
                 new_row: tuple[float, float], parent: QWidget | None = None):
        super().__init__(0, 3, parent)
        self._new_row = new_row
        self._number = float if delegate.decimals else int
        self.setHorizontalHeaderLabels(list(headers))
        self.setItemDelegateForColumn(1, delegate)
        self.setItemDelegateForColumn(2, delegate)
        delegate.setParent(self)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setTabKeyNavigation(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.installEventFilter(_EnterFilter(self._enter, self))

    def _enter(self) -> bool:
        # Enter while editing ends the edit (the delegate commits it); otherwise it starts one.
        if self.state() != QAbstractItemView.State.EditingState and self.currentIndex().isValid():
            self.edit(self.currentIndex())
        return True

    def set_rows(self, rows: Iterable[tuple[str, float, float]]) -> None:
        self.setRowCount(0)
        for name, low, high in rows:
            self._append(name, low, high)

    def rows(self) -> list[tuple[str, float, float]]:
        return [(self._text(row), self._value(row, 1), self._value(row, 2))
                for row in range(self.rowCount())]

    def add_row(self) -> int:
        """A new row with a blank name, ready to type it; its index."""
        self._append("", *self._new_row)
        row = self.rowCount() - 1
        self.setCurrentCell(row, 0)
        item = self.item(row, 0)
        if item is not None:   # _append has just set it
            self.editItem(item)
        return row

    def remove_selected(self) -> None:
        for row in sorted({index.row() for index in self.selectedIndexes()}, reverse=True):
            self.removeRow(row)

    def _append(self, name: str, low: float, high: float) -> None:
        row = self.rowCount()
        self.insertRow(row)
        self.setItem(row, 0, QTableWidgetItem(name))
        for column, value in ((1, low), (2, high)):
            item = QTableWidgetItem()
            item.setData(Qt.ItemDataRole.EditRole, self._number(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, column, item)

    def _text(self, row: int) -> str:
        item = self.item(row, 0)
        return item.text().strip() if item is not None else ""

    def _value(self, row: int, column: int) -> float:
        item = self.item(row, column)
        value = item.data(Qt.ItemDataRole.EditRole) if item is not None else None
        return self._number(value) if isinstance(value, int | float) else self._number(0)


#: The text of an area's zone cell when the area is drawn in no zone of the face chart.
NO_ZONE = "No zone"
#: Where a zone cell keeps its zone's key (None: no zone).
ZONE_ROLE = Qt.ItemDataRole.UserRole + 1
#: Marks a new row's name cell while the row's zone follows the name typed.
FOLLOWS_NAME_ROLE = Qt.ItemDataRole.UserRole + 2


class _ZoneDelegate(QStyledItemDelegate):
    """Edits an area's zone with a list of the face chart's zones and "No zone"."""

    def createEditor(self, parent, option, index):
        box = QComboBox(parent)
        box.addItem(NO_ZONE, None)
        for zone, label in ZONES.items():
            box.addItem(label, zone)
        box.setAccessibleName("Zone on the face chart")
        return box

    def setEditorData(self, editor, index) -> None:
        editor.setCurrentIndex(max(editor.findData(index.data(ZONE_ROLE)), 0))

    def setModelData(self, editor, model, index) -> None:
        zone = editor.currentData()
        model.setData(index, zone, ZONE_ROLE)
        model.setData(index, ZONES.get(zone or "", NO_ZONE), Qt.ItemDataRole.DisplayRole)


class AreaTable(GuidelineTable):
    """The clinic's area list: each area's usual depths and the zone of the face chart it is
    drawn in. A zone belongs to its row, so renaming an area keeps its zone; a new row takes
    the zone its name maps to (the clinic's earlier list, else NeedleDesk's) until a zone is
    chosen for it by hand."""

    def __init__(self, headers: tuple[str, str, str], delegate: _NumberDelegate,
                 new_row: tuple[float, float], known_zones: dict[str, str] | None = None,
                 parent: QWidget | None = None):
        super().__init__(headers, delegate, new_row, parent)
        #: The names' zones a new row's name is looked up in.
        self.known_zones = dict(known_zones or {})
        self.setColumnCount(4)
        self.setHorizontalHeaderLabels([*headers, "Zone on the chart"])
        self.setItemDelegateForColumn(3, _ZoneDelegate(self))
        self.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.itemChanged.connect(self._item_changed)

    def set_area_rows(self, rows: Iterable[tuple[str, float, float, str | None]]) -> None:
        self.setRowCount(0)
        for name, low, high, zone in rows:
            self._append(name, low, high)
            self._set_zone(self.rowCount() - 1, zone)

    def add_row(self) -> int:
        """A new row (its zone follows the name typed until one is chosen); its index."""
        row = super().add_row()
        self.blockSignals(True)   # (the table's itemChanged only: the view still repaints)
        try:
            self._set_zone(row, None)
            name = self.item(row, 0)
            if name is not None:
                name.setData(FOLLOWS_NAME_ROLE, True)
        finally:
            self.blockSignals(False)
        return row

    def zone(self, row: int) -> str | None:
        item = self.item(row, 3)
        zone = item.data(ZONE_ROLE) if item is not None else None
        return zone if zone in ZONES else None

    def zones(self) -> dict[str, str]:
        """Area name -> zone, for the areas drawn in a zone."""
        zones = {}
        for row in range(self.rowCount()):
            zone = self.zone(row)
            if zone is not None and self._text(row):
                zones[self._text(row)] = zone
        return zones

    def _set_zone(self, row: int, zone: str | None) -> None:
        item = self.item(row, 3)
        if item is None:
            item = QTableWidgetItem()
            self.setItem(row, 3, item)
        item.setData(ZONE_ROLE, zone)
        item.setData(Qt.ItemDataRole.DisplayRole, ZONES.get(zone or "", NO_ZONE))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        name_item = self.item(row, 0)
        if name_item is None or not name_item.data(FOLLOWS_NAME_ROLE):
            return
        if item.column() == 3:   # chosen by hand: the name no longer decides it
            self.blockSignals(True)
            name_item.setData(FOLLOWS_NAME_ROLE, False)
            self.blockSignals(False)
        elif item.column() == 0:
            name = name_item.text()
            zone = zone_for_area(name, self.known_zones) or zone_for_area(name)
            self.blockSignals(True)
            try:
                self._set_zone(row, zone)
            finally:
                self.blockSignals(False)


class LogoAndCurrencyFields:
    """The logo and currency fields' behaviour, shared by the Settings dialog's Clinic tab and
    the first-run set-up (mixed into both, whose widgets have these names)."""

    currency: QLineEdit
    logo_message: FieldMessage
    logo_preview: QLabel
    remove_logo_button: QPushButton
    choose_logo_button: QPushButton
    _logo: bytes | None

    def _logo_row(self) -> QHBoxLayout:
        """The logo's preview with Choose…/Remove beside it; makes the logo widgets."""
        self.logo_preview = QLabel()
        self.logo_preview.setFixedSize(*LOGO_PREVIEW_SIZE)
        self.logo_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.logo_preview.setStyleSheet("border: 1px solid palette(mid);")
        self.choose_logo_button = QPushButton("Choose…")
        self.remove_logo_button = QPushButton("Remove")
        self.logo_message = FieldMessage()
        self.choose_logo_button.clicked.connect(self._choose_logo)
        self.remove_logo_button.clicked.connect(lambda: self.set_logo(None))
        buttons = QVBoxLayout()
        buttons.addWidget(self.choose_logo_button)
        buttons.addWidget(self.remove_logo_button)
        row = QHBoxLayout()
        row.addWidget(self.logo_preview, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(buttons)
        row.setAlignment(buttons, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        return row

    def _currency_in_capitals(self, text: str) -> None:
        # Codes are capitals; typing `eur` is accepted and shown as the code it becomes.
        if text != text.upper():
            position = self.currency.cursorPosition()
            self.currency.setText(text.upper())
            self.currency.setCursorPosition(position)

    # --- logo -------------------------------------------------------------------------------

    def choose_logo_file(self) -> str | None:
        """Ask for a PNG or JPEG file; its path, or None. Tests replace this."""
        path, _ = QFileDialog.getOpenFileName(
            cast(QWidget, self), "Choose the clinic logo", "",
            "PNG or JPEG images (*.png *.jpg *.jpeg)")
        return path or None

    def _choose_logo(self) -> None:
        path = self.choose_logo_file()
        if path:
            self.load_logo_file(Path(path))

    def load_logo_file(self, path: Path) -> bool:
        """Take the logo from a file; on failure say why beside the logo and keep the old one."""
        try:
            data = path.read_bytes()
        except OSError as error:
            self.logo_message.show_error(f"Could not read {path.name}: {error.strerror}")
            return False
        if not is_logo_image(data):
            self.logo_message.show_error(f"{path.name} is not a PNG or JPEG image")
            return False
        self.set_logo(data)
        return True

    def set_logo(self, data: bytes | None) -> None:
        self._logo = data
        self.logo_message.clear_message()
        pixmap = QPixmap()
        if data is not None and pixmap.loadFromData(data):
            width, height = LOGO_PREVIEW_SIZE
            self.logo_preview.setPixmap(pixmap.scaled(
                width - 4, height - 4, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        else:
            self.logo_preview.setPixmap(QPixmap())
            self.logo_preview.setText("No logo" if data is None else "Cannot show this logo")
        self.remove_logo_button.setEnabled(data is not None)


class SettingsDialog(LogoAndCurrencyFields, QDialog):
    """Every clinic setting, on four tabs; `load()` fills the fields, `settings()` reads them."""

    def __init__(self, settings: ClinicSettings, parent: QWidget | None = None, *,
                 state: QSettings | None = None):
        """`state`: this PC's QSettings, for the Clinic server tab (shown only with it)."""
        super().__init__(parent)
        self.setWindowTitle("Clinic settings")
        self._loaded = settings
        self._logo: bytes | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._clinic_page(), "&Clinic")
        self.tabs.addTab(self._people_page(), "&People and aftercare")
        self.tabs.addTab(self._guidelines_page(), "&Guidelines")
        self.tabs.addTab(self._screening_page(), "&Screening and due list")
        self.tabs.addTab(self._photos_page(), "Pho&tos")

        self.messages = {"currency": self.currency_message,
                         "anaesthetics": self.anaesthetics_message,
                         "area_depths": self.area_depths_message,
                         "photo_views": self.photo_views_message}
        self._tab_of = {"currency": 0, "anaesthetics": 2, "area_depths": 2,
                        "photo_views": self.tabs.count() - 1}
        #: Settings › Clinic server: this PC's store (kept per PC, not in the records).
        self.server_page: ServerSettingsPage | None = None
        #: What Save changed about this PC's store, said once the dialog has closed.
        self.server_note = ""
        if state is not None:
            from needledesk.ui.server_settings import ServerSettingsPage

            self.server_page = ServerSettingsPage(state)
            self.tabs.addTab(self.server_page, "Clinic ser&ver")
            self.messages.update(self.server_page.messages)
            self._tab_of.update(dict.fromkeys(self.server_page.messages,
                                              self.tabs.count() - 1))
        self.summary = FieldMessage()

        self.buttons, self.save_button = save_cancel_buttons(self)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does Qt keep it as the dialog's default.
        self.save_button.setDefault(True)
        self.resize(660, 640)

        self.load(settings)
        self._as_opened = self.settings()   # what Escape compares with
        self.currency.textChanged.connect(self.revalidate)
        for table in (self.anaesthetics, self.area_depths):
            table.itemChanged.connect(self.revalidate)
            table.model().rowsInserted.connect(self.revalidate)
            table.model().rowsRemoved.connect(self.revalidate)
        for box in self.photo_view_boxes.values():
            box.toggled.connect(self.revalidate)
        if self.server_page is not None:
            page = self.server_page
            for line in (page.host, page.database, page.ca_file):
                line.textChanged.connect(self.revalidate)
            page.use_server.toggled.connect(self.revalidate)
        self.revalidate()

    # --- pages ------------------------------------------------------------------------------

    def _clinic_page(self) -> QWidget:
        self.clinic_name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(self.address.fontMetrics().lineSpacing() * 4 + 12)
        self.phone = QLineEdit()

        logo_row = self._logo_row()

        self.currency = QLineEdit()
        self.currency.setMaxLength(10)
        self.currency.setFixedWidth(self.currency.fontMetrics().horizontalAdvance("MMMMMM") + 12)
        self.currency.setToolTip("Three capital letters, such as USD, EUR or GBP")
        self.currency.textChanged.connect(self._currency_in_capitals)
        self.currency_message = FieldMessage()
        self.page_size = QComboBox()
        self.page_size.addItems(PAGE_SIZES)
        self.interval = QSpinBox()
        self.interval.setRange(INTERVAL_WEEKS_MIN, INTERVAL_WEEKS_MAX)
        self.interval.setSuffix(" weeks")
        self.interval.setToolTip("Between sessions that belong to no course")
        self.country = country_box()

        page = QWidget()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        column = QVBoxLayout(page)
        column.addLayout(form)
        column.addStretch(1)  # the rows keep their height; the spare room goes below them
        _add_row(form, "Clinic &name:", self.clinic_name)
        _add_row(form, "&Address:", self.address)
        _add_row(form, "P&hone:", self.phone)
        _add_row(form, "&Logo:", with_message(logo_row, self.logo_message),
                 buddy=self.choose_logo_button)
        _add_row(form, "C&urrency:", with_message(self.currency, self.currency_message),
                 buddy=self.currency)
        _add_row(form, "Page si&ze:", self.page_size)
        _add_row(form, "Default &interval:", self.interval)
        _add_row(form, "Clinic's c&ountry:", self.country)
        return page

    def _people_page(self) -> QWidget:
        self.practitioners = EditableList("A practitioner's name, then Enter")
        self.aftercare = EditableList("An aftercare instruction, then Enter")
        self.aftercare_text = QPlainTextEdit()
        self.aftercare_text.setTabChangesFocus(True)

        page = QWidget()
        form = QFormLayout(page)
        _add_row(form, "P&ractitioners:", self.practitioners, buddy=self.practitioners.entry)
        _add_row(form, "Aftercare &items:", self.aftercare, buddy=self.aftercare.entry)
        _add_row(form, "Aftercare &text:", self.aftercare_text)
        return page

    def _guidelines_page(self) -> QWidget:
        self.anaesthetics = GuidelineTable(
            ("Product", "Usual minimum", "Usual maximum"),
            _NumberDelegate(CONTACT_MIN_MINUTES, CONTACT_MAX_MINUTES, suffix=" min"),
            new_row=(30, 60))
        self.area_depths = AreaTable(
            ("Area", "Usual low", "Usual high"),
            _NumberDelegate(DEPTH_MIN_MM, DEPTH_MAX_MM, decimals=2, step=DEPTH_STEP_MM,
                            suffix=" mm"),
            new_row=(0.5, 1.0))
        self.area_depths.setToolTip("Each area's usual needle depth, and the zone of the face "
                                    "chart it is drawn in (a renamed area keeps its zone)")
        self.anaesthetics_message = FieldMessage()
        self.area_depths_message = FieldMessage()
        self.add_anaesthetic_button = QPushButton("Add product")
        self.remove_anaesthetic_button = QPushButton("Remove product")
        self.add_area_button = QPushButton("Add area")
        self.remove_area_button = QPushButton("Remove area")
        self.restore_defaults_button = QPushButton("&Restore defaults")
        self.restore_defaults_button.setToolTip(
            "Put back the anaesthetic and depth tables NeedleDesk ships with")
        self.add_anaesthetic_button.clicked.connect(self.anaesthetics.add_row)
        self.remove_anaesthetic_button.clicked.connect(self.anaesthetics.remove_selected)
        self.add_area_button.clicked.connect(self.area_depths.add_row)
        self.remove_area_button.clicked.connect(self.area_depths.remove_selected)
        self.restore_defaults_button.clicked.connect(self.restore_default_guidelines)

        note = QLabel("Guidelines warn during a session; they never block it.")
        note.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(note)
        for text, table, message, add, remove in (
                ("Topical &anaesthetics (usual contact time):", self.anaesthetics,
                 self.anaesthetics_message, self.add_anaesthetic_button,
                 self.remove_anaesthetic_button),
                ("Usual needle &depth per area, and its zone on the face chart:",
                 self.area_depths, self.area_depths_message,
                 self.add_area_button, self.remove_area_button)):
            label = QLabel(text)
            label.setBuddy(table)
            buttons = QHBoxLayout()
            buttons.addWidget(add)
            buttons.addWidget(remove)
            buttons.addStretch(1)
            layout.addWidget(label)
            layout.addWidget(table, 1)
            layout.addWidget(message)
            layout.addLayout(buttons)
        restore = QHBoxLayout()
        restore.addStretch(1)
        restore.addWidget(self.restore_defaults_button)
        layout.addLayout(restore)
        return page

    def _screening_page(self) -> QWidget:
        """How long a consent and a screening last, the wait after injectables, and when a
        course counts as lapsed on the due list (ranges as `settings.validate_settings`)."""
        self.consent_days = _spin(30, 1095, " days",
                                  "A signed consent older than this is warned about at a "
                                  "session (allowed: 30 to 1095 days)")
        self.screening_days = _spin(1, 1095, " days",
                                    "A screening older than this is not re-confirmed at a "
                                    "visit: a full one is asked for (allowed: 1 to 1095 days)")
        self.injectables_weeks = _spin(0, 26, " weeks",
                                       "Injectables (filler or toxin) in the area within this "
                                       "many weeks are raised at the visit (allowed: 0 to 26 "
                                       "weeks)")
        self.lapsed_after = _spin(1, 12, " intervals",
                                  "A course with no session for this many of its intervals "
                                  "past its due date is listed as lapsed (allowed: 1 to 12)")

        screening = QGroupBox("Screening and consent")
        form = QFormLayout(screening)
        _add_row(form, "Consent &lasts:", self.consent_days)
        form.addRow("", _hint("30 to 1095 days; a consent older than this is warned about"))
        _add_row(form, "&Full screening after:", self.screening_days)
        form.addRow("", _hint("1 to 1095 days; an older screening is not re-confirmed at a "
                              "visit: a full one is asked for"))
        _add_row(form, "&Injectables wait:", self.injectables_weeks)
        form.addRow("", _hint("0 to 26 weeks after filler or toxin in the area"))
        due = QGroupBox("Due list")
        form = QFormLayout(due)
        _add_row(form, "Course lapsed &after:", self.lapsed_after)
        form.addRow("", _hint("1 to 12 of the course's intervals past the day its next "
                              "session was due"))
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(screening)
        layout.addWidget(due)
        layout.addStretch(1)
        return page

    def _photos_page(self) -> QWidget:
        """The views asked for at each session: a session's photos show each one not taken
        yet as an empty place to drop a photo (at least one view)."""
        group = QGroupBox("Views asked for at each session")
        column = QVBoxLayout(group)
        self.photo_view_boxes: dict[PhotoView, QCheckBox] = {}
        for view in PhotoView:
            box = QCheckBox(VIEW_TEXT[view])
            self.photo_view_boxes[view] = box
            column.addWidget(box)
        self.photo_views_message = FieldMessage()
        column.addWidget(self.photo_views_message)
        column.addWidget(_hint("A session's photos show each chosen view not taken yet as an "
                               "empty place to drop a photo. Choose at least one."))
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(group)
        layout.addStretch(1)
        return page

    def _photo_views(self) -> list[str]:
        """The ticked views, in the order the loaded settings had them (new ones after, in
        the standard order)."""
        ticked = [str(v) for v, box in self.photo_view_boxes.items() if box.isChecked()]
        loaded = [v for v in self._loaded.photo_views if v in ticked]
        return loaded + [v for v in ticked if v not in loaded]

    # --- load and read ----------------------------------------------------------------------

    def load(self, settings: ClinicSettings) -> None:
        self._loaded = settings
        self.clinic_name.setText(settings.clinic_name)
        self.address.setPlainText(settings.address)
        self.phone.setText(settings.phone)
        self.set_logo(settings.logo)
        self.currency.setText(settings.currency)
        self.page_size.setCurrentIndex(max(self.page_size.findText(settings.page_size), 0))
        self.interval.setValue(settings.default_interval_weeks)
        # A file from before the setting has none: this PC's country is offered.
        set_country(self.country, settings.country or default_country())
        self.practitioners.set_items(settings.practitioners)
        self.aftercare.set_items(settings.aftercare)
        self.aftercare_text.setPlainText(settings.aftercare_text)
        self.area_depths.known_zones = dict(settings.area_zones)
        self._set_guidelines(settings.anaesthetics, settings.area_depths, settings.area_zones)
        self.consent_days.setValue(settings.consent_max_days)
        self.screening_days.setValue(settings.screening_max_days)
        self.injectables_weeks.setValue(settings.injectables_weeks)
        self.lapsed_after.setValue(settings.lapsed_after_intervals)
        for view, box in self.photo_view_boxes.items():
            box.setChecked(str(view) in settings.photo_views)

    def settings(self) -> ClinicSettings:
        """The settings as the fields now hold them (fields no page shows are kept)."""
        return replace(
            self._loaded,
            clinic_name=self.clinic_name.text().strip(),
            address=self.address.toPlainText().strip(),
            phone=self.phone.text().strip(),
            logo=self._logo,
            currency=self.currency.text().strip().upper(),
            page_size=self.page_size.currentText(),
            default_interval_weeks=self.interval.value(),
            country=self.country.currentData() or "",
            practitioners=self.practitioners.items(),
            aftercare=self.aftercare.items(),
            aftercare_text=self.aftercare_text.toPlainText().strip(),
            # Whole minutes: the anaesthetics table edits with a QSpinBox (ints already).
            anaesthetics={name: ContactTime(int(low), int(high))
                          for name, low, high in self.anaesthetics.rows()},
            area_depths={name: DepthRange(low, high)
                         for name, low, high in self.area_depths.rows()},
            area_zones=self._area_zones(),
            consent_max_days=self.consent_days.value(),
            screening_max_days=self.screening_days.value(),
            injectables_weeks=self.injectables_weeks.value(),
            lapsed_after_intervals=self.lapsed_after.value(),
            photo_views=self._photo_views(),
        )

    def _area_zones(self) -> dict[str, str]:
        """The zones of the table's areas, and those of areas the loaded settings zoned but
        the table never listed (no depth range): a page that does not show them keeps them."""
        shown = {fold(name.strip()) for name in self._loaded.area_depths}
        kept = {name: zone for name, zone in self._loaded.area_zones.items()
                if fold(name.strip()) not in shown}
        return {**kept, **self.area_depths.zones()}

    def restore_default_guidelines(self) -> None:
        self._set_guidelines(DEFAULT_ANAESTHETICS, DEFAULT_AREA_DEPTHS, DEFAULT_AREA_ZONES)

    def _set_guidelines(self, anaesthetics: dict[str, ContactTime],
                        area_depths: dict[str, DepthRange],
                        area_zones: dict[str, str]) -> None:
        self.anaesthetics.set_rows((name, t.low_min, t.high_min)
                                   for name, t in anaesthetics.items())
        self.area_depths.set_area_rows((name, d.low_mm, d.high_mm,
                                        zone_for_area(name, area_zones))
                                       for name, d in area_depths.items())

    # --- validation -------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        return (currency_problems(self.currency.text().strip().upper())
                + table_problems("anaesthetics", self.anaesthetics.rows(),
                                 what="product", unit="min",
                                 bounds=(CONTACT_MIN_MINUTES, CONTACT_MAX_MINUTES))
                + table_problems("area_depths", self.area_depths.rows(),
                                 what="area", unit="mm", bounds=(DEPTH_MIN_MM, DEPTH_MAX_MM))
                + photo_views_problems(self._photo_views())
                + (self.server_page.problems() if self.server_page is not None else []))

    def revalidate(self) -> bool:
        """Show each problem beside its field; Save is enabled only when there are none."""
        problems = merged(self.problems())
        unplaced = route(problems, self.messages)
        tabs = sorted({self._tab_of[p.path] for p in problems if p.path in self._tab_of})
        if problems:
            names = " and ".join(self.tabs.tabText(i).replace("&", "") for i in tabs)
            self.summary.show_error(
                f"Save is off until the problems marked on {names or 'the tabs'} are fixed."
                + "".join(f"\n{p.message}" for p in unplaced))
        else:
            self.summary.clear_message()
        self.save_button.setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        if self.revalidate():
            if self.server_page is not None:
                self.server_note = self.server_page.apply()
            super().accept()

    def reject(self) -> None:
        """Escape, Cancel or closing: changed settings are discarded only once the
        practitioner says so."""
        changed = self.settings() != self._as_opened or (
            self.server_page is not None and self.server_page.changed())
        if changed and not self.ask_discard(self):
            return
        super().reject()

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        """True to discard the changed settings, False to go back to them."""
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard changes?",
                           "The changes to the clinic settings are not saved.")

    @classmethod
    def ask(cls, parent: QWidget | None, settings: ClinicSettings, *,
            state: QSettings | None = None) -> ClinicSettings | None:
        """Run the dialog modally: the edited settings, or None when cancelled. With
        `state`, the Clinic server tab too; what its Save changed is said after."""
        dialog = cls(settings, parent, state=state)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            if accepted and dialog.server_note:
                from PySide6.QtWidgets import QMessageBox

                QMessageBox.information(parent, "Clinic server", dialog.server_note)
            return dialog.settings() if accepted else None
        finally:
            dialog.deleteLater()


def country_box() -> QComboBox:
    """The clinic's country, by name with its calling code ("United Kingdom (+44)"): the
    rules phone numbers written without a country code are read by when searching."""
    import phonenumbers

    box = QComboBox()
    names = []
    for code in phone_regions():
        territory = QLocale.codeToTerritory(code)
        name = QLocale.territoryToString(territory) \
            if territory != QLocale.Country.AnyTerritory else code
        names.append((fold(name), name, code))
    for _key, name, code in sorted(names):
        box.addItem(f"{name} (+{phonenumbers.country_code_for_region(code)})", code)
    box.setToolTip("Phone numbers written without their country code are read by this "
                   "country's rules: +44 7700 900123 then finds 07700 900 123")
    return box


def set_country(box: QComboBox, code: str) -> None:
    index = box.findData(code)
    box.setCurrentIndex(index if index >= 0 else max(box.findData(FALLBACK_COUNTRY), 0))


def _spin(low: int, high: int, suffix: str, tip: str) -> QSpinBox:
    """A whole number kept within the setting's allowed range (a number outside it cannot
    be typed)."""
    box = QSpinBox()
    box.setRange(low, high)
    box.setSuffix(suffix)
    box.setMaximumWidth(box.fontMetrics().horizontalAdvance(f"0000{suffix}") + 60)
    box.setToolTip(tip)
    box.setAccessibleDescription(tip)
    return box


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label


def _add_row(form: QFormLayout, text: str, field: QWidget, *,
             buddy: QWidget | None = None) -> None:
    label = QLabel(text)
    label.setBuddy(buddy or field)
    form.addRow(label, field)
