"""The session editor's form: its fields, and the mapping between them and a `Session`.

`SessionForm` is a mixin of `SessionEditor`: it builds the field groups (`_build_form`),
fills them from a session (`_fill`) and reads them back (`session()`), with the problems
the fields alone show (a fee that is not an amount). Saving, signing and amending are the
editor's (`session_editor`); the rows are `editor_rows`'.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.face_chart import ZONES, area_for_zone, zone_of
from needledesk.domain.guidelines import STANDARD_AREAS
from needledesk.domain.model import (
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    Client,
    Course,
    Device,
    DeviceType,
    Fee,
    ProductKind,
    Session,
    TreatedArea,
)
from needledesk.domain.products import session_lot_warnings
from needledesk.domain.rules import GuidelineWarning, Problem, validate_session
from needledesk.domain.text import day_text
from needledesk.exchange import encode_session
from needledesk.ui.editor_rows import (
    ENDPOINTS,
    AreaRow,
    CopiedMark,
    DateTimeField,
    LotField,
    Offers,
    ReactionRow,
    RowList,
    SerumRow,
    TimeStamp,
    combo,
    narrow,
    placeholder,
    qdatetime,
    remembering,
    text_or_none,
)
from needledesk.ui.face_chart_widget import FaceChartWidget
from needledesk.ui.forms import FieldMessage

if TYPE_CHECKING:
    from needledesk.settings import ClinicSettings
    from needledesk.store.repository import Repository


class SessionForm:
    """The fields of one session; mixed into `SessionEditor`, which supplies `repo`,
    `settings`, `client`, `courses`, `now`, `session_id`, `signed_at`, `acknowledged` and
    `amendments`."""

    # Supplied by SessionEditor (declared here for the type checker).
    repo: Repository
    settings: ClinicSettings
    client: Client
    courses: list[Course]
    now: Callable[[], datetime]
    session_id: str
    signed_at: datetime | None
    acknowledged: list[AcknowledgedWarning]
    amendments: list[Amendment]
    user: str
    state: Any
    _baseline: tuple[dict[str, Any], list[str]]
    stored: Session | None
    save: Callable[[], bool]
    saved: Any

    # --- the fields -------------------------------------------------------------------

    def _build_form(self, outer: QVBoxLayout) -> None:
        repo = self.repo
        #: The catalogue's products and lots, offered beside the remembered entries.
        self.offers = offers = Offers.read(repo)
        # The fields scroll up and down, never sideways: every row fits the width it is given
        # (see test_session_editor_layout) and a long list of rows just scrolls.
        self.fields_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the cursor starts in the first field
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        columns = QHBoxLayout(body)
        left, right = QVBoxLayout(), QVBoxLayout()
        columns.addLayout(left, 11)
        columns.addLayout(right, 10)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        # when, who, which course
        when = QGroupBox("Session")
        form = QFormLayout(when)
        self.started = DateTimeField("Started")
        started_label = QLabel("&Started")
        started_label.setBuddy(self.started.date)
        form.addRow(started_label, self.started)
        self.started_message = FieldMessage()
        form.addRow("", self.started_message)
        practitioners = list(dict.fromkeys(self.settings.practitioners
                                           + repo.remembered("practitioner")))
        self.practitioner = combo(practitioners)
        self.practitioner_message = FieldMessage()
        form.addRow("&Practitioner", self.practitioner)
        form.addRow("", self.practitioner_message)
        self.course = QComboBox()
        self.course.addItem("No course", None)
        for course in self.courses:
            self.course.addItem(f"{course.concern} — {course.planned_sessions} sessions from "
                                f"{day_text(course.started_on)}", course.id)
        form.addRow("C&ourse", self.course)
        left.addWidget(when)

        # device
        device = QGroupBox("Device")
        form = QFormLayout(device)
        self.device_type = narrow(QComboBox())
        self.device_type.addItem("Pen (motorised, cartridges)", DeviceType.PEN)
        self.device_type.addItem("Roller", DeviceType.ROLLER)
        form.addRow("&Type", self.device_type)
        self.device_model = remembering(QLineEdit(), repo.remembered("device_model"))
        form.addRow("&Model", self.device_model)
        self.cartridge = remembering(QLineEdit(), list(dict.fromkeys(
            offers.names(ProductKind.CARTRIDGE) + repo.remembered("cartridge"))))
        self.cartridge.setPlaceholderText("e.g. 16-pin, 36-pin, nano")
        form.addRow("&Cartridge", self.cartridge)
        self.cartridge_lot = LotField(offers, ProductKind.CARTRIDGE, self.cartridge.text,
                                      repo.remembered("cartridge_lot"))
        self.cartridge.textChanged.connect(lambda *_: self.cartridge_lot.refresh())
        form.addRow("Cartridge &lot", self.cartridge_lot)
        self.cartridge_lot_copied = CopiedMark(self.cartridge_lot, "Lot checked")
        form.addRow("", self.cartridge_lot_copied)
        self.cartridge_lot_message = FieldMessage()
        form.addRow("", self.cartridge_lot_message)
        self.device_message = FieldMessage()
        form.addRow("", self.device_message)
        left.addWidget(device)

        # topical anaesthetic
        numbing = QGroupBox("Topical anaesthetic")
        form = QFormLayout(numbing)
        products = list(dict.fromkeys(list(self.settings.anaesthetics)
                                      + offers.names(ProductKind.ANAESTHETIC)
                                      + repo.remembered("anaesthetic_product")))
        self.anaesthetic = combo(["", *products])  # (narrow, as every combo())
        placeholder(self.anaesthetic, "none used")
        self.anaesthetic_lot = LotField(offers, ProductKind.ANAESTHETIC,
                                        self.anaesthetic.currentText)
        self.anaesthetic.currentTextChanged.connect(lambda *_: self.anaesthetic_lot.refresh())
        product_row = QHBoxLayout()
        product_row.addWidget(self.anaesthetic, 3)
        lot_label = QLabel("Lot")  # (reached by Tab from the product; no Alt letter is free)
        lot_label.setBuddy(self.anaesthetic_lot)
        product_row.addWidget(lot_label)
        product_row.addWidget(self.anaesthetic_lot, 2)
        product_label = QLabel("Pro&duct")
        product_label.setBuddy(self.anaesthetic)
        form.addRow(product_label, product_row)
        self.anaesthetic_lot_copied = CopiedMark(self.anaesthetic_lot, "Lot checked")
        form.addRow("", self.anaesthetic_lot_copied)
        self.anaesthetic_lot_message = FieldMessage()
        form.addRow("", self.anaesthetic_lot_message)
        self.applied = TimeStamp("Applied at", self.now)
        self.removed = TimeStamp("Removed at", self.now)
        form.addRow("", self.applied)
        form.addRow("", self.removed)
        self.contact = QLabel()
        form.addRow("Contact", self.contact)
        self.anaesthetic_message = FieldMessage()
        form.addRow("", self.anaesthetic_message)
        left.addWidget(numbing)

        # treated areas, and the face chart of them beside the rows (below them when the
        # editor is too narrow for both side by side: `_place_chart`)
        areas_box = QGroupBox("Treated areas")
        self.chart_beside = beside = QBoxLayout(QBoxLayout.Direction.LeftToRight, areas_box)
        layout = QVBoxLayout()
        beside.addLayout(layout, 1)
        self.areas = RowList(self._area_row, "Add &area")
        layout.addWidget(self.areas)
        self.areas_message = FieldMessage()
        layout.addWidget(self.areas_message)
        layout.addStretch(1)
        self.chart = FaceChartWidget()
        self.chart.setToolTip("Click a zone to add its area, or to go to its row")
        self.chart.canvas.setAccessibleName("Face chart: the treated areas by depth")
        beside.addWidget(self.chart, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.chart.zone_clicked.connect(self._zone_clicked)
        #: The fields' width the chart needs to sit beside the rows (measured when it does).
        self._beside_width: int | None = None
        # (placed again when the room changes, and when the fields' own widths do)
        watcher = ResizeWatcher(scroll, self._place_chart)
        scroll.viewport().installEventFilter(watcher)
        body.installEventFilter(watcher)
        self.areas.changed.connect(self._update_chart)
        left.addWidget(areas_box)
        left.addStretch(1)

        # serums, combined treatments
        serums_box = QGroupBox("Serums and calming products")
        layout = QVBoxLayout(serums_box)
        serum_products = repo.remembered("serum_product")
        serum_lots = repo.remembered("serum_lot")
        self.serums = RowList(lambda s: SerumRow(s, serum_products, serum_lots, offers),
                              "Add s&erum")
        layout.addWidget(self.serums)
        self.combined = QLineEdit()
        self.combined.setPlaceholderText("combined in this visit, e.g. chemical peel")
        layout.addWidget(self.combined)
        right.addWidget(serums_box)

        reactions_box = QGroupBox("Reactions")
        layout = QVBoxLayout(reactions_box)
        self.reactions = RowList(ReactionRow, "Add &reaction")
        layout.addWidget(self.reactions)
        right.addWidget(reactions_box)

        aftercare_box = QGroupBox("Aftercare given")
        layout = QVBoxLayout(aftercare_box)
        self.aftercare = QListWidget()
        self.aftercare.setMaximumHeight(130)
        layout.addWidget(self.aftercare)
        right.addWidget(aftercare_box)

        other = QGroupBox("Fee and notes")
        form = QFormLayout(other)
        fee_row = QHBoxLayout()
        self.fee = QLineEdit()
        self.fee.setPlaceholderText("0.00")
        self.fee.setMaximumWidth(120)
        fee_row.addWidget(self.fee)
        fee_row.addWidget(QLabel(self.settings.currency))
        fee_row.addStretch(1)
        form.addRow("Fee", fee_row)
        self.fee_message = FieldMessage()
        form.addRow("", self.fee_message)
        self.notes = NotesEdit()
        self.notes.setMaximumHeight(90)
        form.addRow("&Notes", self.notes)
        right.addWidget(other)

        # the session's photos (ui/photos_panel.py): a new session is saved as a draft
        # before its first photo is taken in
        from needledesk.ui.photos_panel import PhotosPanel

        self.photos_box = QGroupBox("Photos")
        self.photos_panel = PhotosPanel(
            repo, self.settings, self.client, self.session_id,
            by=lambda: self.practitioner.currentText().strip() or self.user,
            state=self.state, ensure_saved=self._save_before_photos)
        self.photos_panel.setMinimumHeight(330)
        self.saved.connect(lambda *_: self.photos_panel.refresh())   # a new one now stored
        QVBoxLayout(self.photos_box).addWidget(self.photos_panel)
        right.addWidget(self.photos_box)

        self.history = QTextBrowser()
        self.history.setMaximumHeight(140)
        self.history_box = QGroupBox("Amendment history")
        QVBoxLayout(self.history_box).addWidget(self.history)
        right.addWidget(self.history_box)
        right.addStretch(1)

        for rows in (self.areas, self.serums, self.reactions):
            rows.rows_changed.connect(self._place_chart)

    def _form_tab_chain(self) -> list[QWidget]:
        """The fields in the order they are seen, top to bottom, left column first: Tab
        follows it, through every row added since (`RowList.tab_chain`)."""
        return [*self.started.tab_chain(), self.practitioner, self.course, self.device_type,
                self.device_model, self.cartridge, self.cartridge_lot,
                self.cartridge_lot_copied.confirm, self.anaesthetic, self.anaesthetic_lot,
                self.anaesthetic_lot_copied.confirm,
                *self.applied.tab_chain(), *self.removed.tab_chain(),
                *self.areas.tab_chain(), self.chart.canvas, *self.serums.tab_chain(),
                self.combined,
                *self.reactions.tab_chain(), self.aftercare, self.fee, self.notes,
                *self.photos_panel.tab_chain()]

    def _form_signals(self) -> list:
        """Every field's change signal: the editor re-reads the form on each."""
        return [self.started.dateTimeChanged, self.practitioner.currentTextChanged,
                self.course.currentIndexChanged, self.device_type.currentIndexChanged,
                self.device_model.textChanged, self.cartridge.textChanged,
                self.cartridge_lot.textChanged, self.anaesthetic.currentTextChanged,
                self.anaesthetic_lot.textChanged, self.applied.changed, self.removed.changed,
                self.areas.changed,
                self.serums.changed, self.combined.textChanged, self.reactions.changed,
                self.aftercare.itemChanged, self.fee.textChanged, self.notes.textChanged]

    def _touch_signals(self) -> list:
        """(the session's field, its change signals): which problems a change lets show."""
        return [("started_at", self.started.dateTimeChanged),
                ("anaesthetic", self.started.dateTimeChanged),
                ("signed_at", self.started.dateTimeChanged),
                ("practitioner", self.practitioner.currentTextChanged),
                ("device", self.device_type.currentIndexChanged),
                ("device", self.device_model.textChanged),
                ("device", self.cartridge.textChanged),
                ("device", self.cartridge_lot.textChanged),
                ("anaesthetic", self.anaesthetic.currentTextChanged),
                ("anaesthetic", self.anaesthetic_lot.textChanged),
                ("anaesthetic", self.applied.changed), ("anaesthetic", self.removed.changed),
                ("areas", self.areas.changed), ("serums", self.serums.changed),
                ("combined_with", self.combined.textChanged),
                ("reactions", self.reactions.changed),
                ("aftercare", self.aftercare.itemChanged), ("fee", self.fee.textChanged),
                ("notes", self.notes.textChanged)]

    def _field_messages(self) -> dict[str, FieldMessage]:
        """Where a problem with each place (`areas[1]`, `fee`) is shown."""
        messages = {"started_at": self.started_message,
                    "practitioner": self.practitioner_message,
                    "device": self.device_message, "anaesthetic": self.anaesthetic_message,
                    "fee": self.fee_message, "areas": self.areas_message}
        for i, row in enumerate(self.areas.rows):
            messages[f"areas[{i}]"] = row.message
        for i, row in enumerate(self.serums.rows):
            messages[f"serums[{i}]"] = row.message
        for i, row in enumerate(self.reactions.rows):
            messages[f"reactions[{i}]"] = row.message
        return messages

    def _set_editable(self, editable: bool) -> None:
        for widget in (self.started, self.practitioner, self.course, self.device_type,
                       self.device_model, self.cartridge, self.cartridge_lot, self.anaesthetic,
                       self.anaesthetic_lot, self.applied, self.removed, self.areas, self.serums,
                       self.combined, self.reactions, self.aftercare, self.fee):
            widget.setEnabled(editable)
        self.notes.setReadOnly(not editable)
        self.chart.set_interactive(editable)

    def _save_before_photos(self) -> bool:
        """A new session's first photo: its draft is saved first (the editor's usual Save:
        the form's rules, the guideline questions); False when it was not."""
        return self.stored is not None or self.save()

    # --- the face chart ---------------------------------------------------------------------

    def _place_chart(self) -> None:
        """The chart beside the area rows when the fields' width holds both (and the other
        column), else below them: the fields never scroll sideways."""
        body = self.fields_scroll.widget()
        if body is None:
            return
        body.ensurePolished()   # (a row just added measures its true width once polished)
        room = self.fields_scroll.viewport().width()
        layout = self.chart_beside
        if layout.direction() == QBoxLayout.Direction.LeftToRight:
            self._beside_width = body.minimumSizeHint().width()
            if self._beside_width > room:
                self._chart_direction(QBoxLayout.Direction.TopToBottom)
        elif self._beside_width is None or room >= self._beside_width:
            self._chart_direction(QBoxLayout.Direction.LeftToRight)
            self._beside_width = body.minimumSizeHint().width()
            if self._beside_width > room:   # (rows wider since): back below, and stays
                self._chart_direction(QBoxLayout.Direction.TopToBottom)

    def _chart_direction(self, direction: QBoxLayout.Direction) -> None:
        """Put the chart beside or below the rows, and lay the fields out again at once
        (their minimum width is read straight after)."""
        self.chart_beside.setDirection(direction)
        self.chart_beside.activate()
        body = self.fields_scroll.widget()
        box = self.chart_beside.parentWidget()
        if box is not None:
            box.updateGeometry()
        outer = body.layout() if body is not None else None
        if outer is not None:
            outer.activate()

    def _area_row(self, area: TreatedArea | None) -> AreaRow:
        names = list(dict.fromkeys([*STANDARD_AREAS, *self.settings.area_depths,
                                    *self.settings.area_zones]))
        row = AreaRow(area, names, list(ENDPOINTS), self.settings.area_zones)
        row.entered.connect(lambda row: self.chart.set_selected(row.zone()))
        return row

    def _update_chart(self) -> None:
        """The chart follows the rows: each zone's depth, and the zone of the row the cursor
        is in outlined."""
        self.chart.set_areas(self.areas.values(), self.settings.area_zones)
        widget = QApplication.focusWidget()
        focused = next((row for row in self.areas.rows if row.isAncestorOf(widget)), None) \
            if widget is not None else None
        if focused is not None:
            self.chart.set_selected(focused.zone())  # type: ignore[attr-defined]

    def area_row_of(self, zone: str) -> AreaRow | None:
        """The first row drawn in `zone`, if the session has one."""
        for row in self.areas.rows:
            if zone_of(row.value(), self.settings.area_zones) == zone:
                return row  # type: ignore[return-value]
        return None

    def _zone_clicked(self, zone: str) -> None:
        """A zone of the chart clicked: go to its area's row, or add one for the clinic's
        area drawn there (with the zone), with the cursor in its depth."""
        row = self.area_row_of(zone)
        editable = self.areas.isEnabled()
        if row is None:
            if not editable:
                return
            name = area_for_zone(zone, self.settings.area_zones) or area_for_zone(zone) \
                or ZONES[zone].lower()
            row = self.areas.add(TreatedArea(name, 0.5, 3, zone=zone))  # type: ignore[assignment]
            assert isinstance(row, AreaRow)
        self.chart.set_selected(zone)
        if editable:
            self.fields_scroll.ensureWidgetVisible(row.depth)
            row.depth.setFocus(Qt.FocusReason.OtherFocusReason)
            row.depth.selectAll()


    # --- fields <-> session ---------------------------------------------------------------

    def _fill(self, s: Session) -> None:
        self.started.setDateTime(qdatetime(s.started_at))
        self.practitioner.setCurrentText(s.practitioner)
        self.course.setCurrentIndex(max(0, self.course.findData(s.course_id)))
        self.device_type.setCurrentIndex(list(DeviceType).index(s.device.type))
        self.device_model.setText(s.device.model or "")
        self.cartridge.setText(s.device.cartridge or "")
        self.cartridge_lot.set_value(s.device.cartridge_lot, s.device.cartridge_lot_id)
        self._fill_anaesthetic(s.anaesthetic.product if s.anaesthetic else "",
                               s.anaesthetic.applied_at if s.anaesthetic else None,
                               s.anaesthetic.removed_at if s.anaesthetic else None,
                               s.anaesthetic.lot if s.anaesthetic else None,
                               s.anaesthetic.lot_id if s.anaesthetic else None)
        self.areas.set_items(s.areas)
        self.serums.set_items(s.serums)
        self.combined.setText(", ".join(s.combined_with))
        self.reactions.set_items(s.reactions)
        self._fill_aftercare(s.aftercare)
        self.fee.setText(f"{s.fee.amount:.2f}" if s.fee else "")
        self.notes.setPlainText(s.notes)

    def _fill_anaesthetic(self, product: str, applied, removed, lot: str | None = None,
                          lot_id: str | None = None) -> None:
        self.anaesthetic.setCurrentText(product)
        self.anaesthetic_lot.set_value(lot, lot_id)
        self.applied.set_value(applied)
        self.removed.set_value(removed)

    def _fill_aftercare(self, given: list[str]) -> None:
        # The items given come first, in their order, so re-reading them changes nothing.
        self.aftercare.clear()
        for item in dict.fromkeys([*given, *self.settings.aftercare]):
            entry = QListWidgetItem(item)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked if item in given
                                else Qt.CheckState.Unchecked)
            self.aftercare.addItem(entry)

    def session(self) -> tuple[Session, list[Problem]]:
        """The session as the fields describe it, and problems the fields alone show."""
        problems: list[Problem] = []
        unread = self.started.problem()
        if unread:
            problems.append(Problem("started_at", unread))
        picked = self.started.dateTime().toPython()
        assert isinstance(picked, datetime)
        started = picked.replace(microsecond=0)
        anaesthetic = None
        product = self.anaesthetic.currentText().strip()
        applied = self.applied.value(started)
        removed = self.removed.value(started)
        numbing_lot, numbing_lot_id = self.anaesthetic_lot.value()
        if product or applied or removed or numbing_lot:
            if applied is None:
                problems.append(Problem("anaesthetic.applied_at",
                                        "when was the anaesthetic applied? (Applied now)"))
            else:
                anaesthetic = Anaesthetic(product, applied, removed, numbing_lot,
                                          numbing_lot_id)
        fee = None
        if self.fee.text().strip():
            try:
                fee = Fee(Decimal(self.fee.text().strip()), self.settings.currency)
            except InvalidOperation:
                problems.append(Problem("fee.amount", f"{self.fee.text().strip()!r} is not an "
                                        "amount; type it like 250.00"))
        cartridge_lot, cartridge_lot_id = self.cartridge_lot.value()
        aftercare = [self.aftercare.item(i).text() for i in range(self.aftercare.count())
                     if self.aftercare.item(i).checkState() == Qt.CheckState.Checked]
        session = Session(
            client_id=self.client.id, started_at=started,
            practitioner=self.practitioner.currentText().strip(), areas=self.areas.values(),
            id=self.session_id, course_id=self.course.currentData(),
            device=Device(self.device_type.currentData(), text_or_none(self.device_model),
                          text_or_none(self.cartridge), cartridge_lot, cartridge_lot_id),
            anaesthetic=anaesthetic, serums=self.serums.values(),
            combined_with=[x.strip() for x in self.combined.text().split(",") if x.strip()],
            reactions=self.reactions.values(), aftercare=aftercare, fee=fee,
            notes=self.notes.toPlainText(), signed_at=self.signed_at,
            acknowledged_warnings=list(self.acknowledged), amendments=list(self.amendments))
        return session, problems

    # --- the lots' warnings ---------------------------------------------------------------

    def _lot_warnings(self, session: Session) -> list[GuidelineWarning]:
        """The session's lot warnings against the catalogue (domain.products, the same rule
        an import applies)."""
        return session_lot_warnings(session, self.offers.products, self.offers.lots)

    def _lot_fields(self) -> list[tuple[str, LotField, FieldMessage]]:
        """Each lot field with the path its warning names and the line it shows it on."""
        return [("device.cartridge_lot", self.cartridge_lot, self.cartridge_lot_message),
                ("anaesthetic.lot", self.anaesthetic_lot, self.anaesthetic_lot_message),
                *((f"serums[{i}].lot", row.lot, row.lot_message)  # type: ignore[attr-defined]
                  for i, row in enumerate(self.serums.rows))]

    def _refresh_lots(self, session: Session) -> None:
        """Offer each lot field the lots of its product as on the session's day, and show
        each lot's warning beside it in amber."""
        warnings = {w.path: w.message for w in self._lot_warnings(session)}
        for path, field, message in self._lot_fields():
            field.set_day(session.started_at.date())
            if path in warnings:
                message.show_warning(f"⚠ {warnings[path]}")
            else:
                message.clear_message()

    def _snapshot(self):
        session, problems = self.session()
        return encode_session(session), [str(p) for p in problems]

    def is_dirty(self) -> bool:
        return self._snapshot() != self._baseline

    def problems(self) -> list[Problem]:
        session, problems = self.session()
        return problems + validate_session(session)



class ResizeWatcher(QObject):
    """Calls `action` each time a watched widget is resized or its layout changes."""

    def __init__(self, parent: QObject, action: Callable[[], None]):
        super().__init__(parent)
        self.action = action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.action()
        return False


class NotesEdit(QPlainTextEdit):
    """The session's notes: Tab and Shift+Tab move on to the next field, as everywhere else
    in the form; Ctrl+Tab types a tab character for whoever wants one."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.key() == Qt.Key.Key_Tab and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.insertPlainText("\t")
            event.accept()
            return
        super().keyPressEvent(event)
