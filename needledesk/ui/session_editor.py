"""The session editor: log a session in about a minute, sign it off, amend it with a reason.

The form builds a `Session` from its fields on every change and runs the domain rules on
it: problems appear beside their field (with the allowed range) and Save stays disabled
until there are none; guideline warnings appear in amber and are acknowledged on saving.
Whether there are unsaved changes is derived by comparing the built session with the
last saved one, never tracked by hand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTextBrowser,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.course import session_number
from needledesk.domain.guidelines import STANDARD_AREAS, lookup
from needledesk.domain.model import (
    REACTION_KINDS,
    SEVERITY_LABELS,
    AcknowledgedWarning,
    Anaesthetic,
    Client,
    Device,
    DeviceType,
    Fee,
    Observed,
    Reaction,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.rules import (
    GuidelineWarning,
    Problem,
    anaesthetic_warnings,
    depth_warnings,
    session_warnings,
    validate_session,
)
from needledesk.domain.text import day_text, moment_text
from needledesk.errors import NeedleDeskError
from needledesk.exchange import encode_session
from needledesk.settings import ClinicSettings
from needledesk.store.repository import Repository
from needledesk.ui.forms import FieldMessage, route

ENDPOINTS = ("even erythema", "pinpoint bleeding")
OBSERVED_LABELS = {Observed.IMMEDIATE: "immediately", Observed.NEXT_DAY: "next day",
                   Observed.FOLLOW_UP: "at follow-up", Observed.NEXT_VISIT: "at next visit"}


def _qdatetime(value: datetime) -> QDateTime:
    return QDateTime(QDate(value.year, value.month, value.day),
                     QTime(value.hour, value.minute, value.second))


def _combo(items, *, editable=True, current: str = "") -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    box.addItems(list(items))
    if editable:
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        box.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        box.setCurrentText(current)
    return box


def _remembering(line: QLineEdit, entries: list[str]) -> QLineEdit:
    completer = QCompleter(entries, line)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    line.setCompleter(completer)
    return line


def _text_or_none(line: QLineEdit) -> str | None:
    return line.text().strip() or None


# --- rows of the repeating parts --------------------------------------------------------------


class _Row(QWidget):
    """One row of a repeating part (an area, a serum, a reaction) with its own message."""

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


class AreaRow(_Row):
    def __init__(self, area: TreatedArea | None, areas: list[str], endpoints: list[str]):
        self.area = _combo(areas, current=area.area if area else "")
        self.area.lineEdit().setPlaceholderText("area")
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
        self.endpoint = _combo(endpoints, current=(area.endpoint or "") if area else "")
        self.endpoint.lineEdit().setPlaceholderText("endpoint")
        self.notes = area.notes if area else ""
        super().__init__([self.area, self.depth, self.passes, self.endpoint], [3, 2, 2, 3])

    def value(self) -> TreatedArea:
        return TreatedArea(self.area.currentText().strip(), round(self.depth.value(), 2),
                           self.passes.value() or None,
                           self.endpoint.currentText().strip() or None, self.notes)


class SerumRow(_Row):
    def __init__(self, serum: Serum | None, products: list[str], lots: list[str]):
        self.product = _remembering(QLineEdit(serum.product if serum else ""), products)
        self.product.setPlaceholderText("serum or calming product")
        self.lot = _remembering(QLineEdit((serum.lot or "") if serum else ""), lots)
        self.lot.setPlaceholderText("lot")
        super().__init__([self.product, self.lot], [3, 2])

    def value(self) -> Serum:
        return Serum(self.product.text().strip(), _text_or_none(self.lot))


class ReactionRow(_Row):
    def __init__(self, reaction: Reaction | None):
        self.kind = _combo(REACTION_KINDS, current=reaction.kind if reaction else "erythema")
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


class _RowList(QWidget):
    changed = Signal()

    def __init__(self, make_row: Callable[[object], _Row], add_label: str):
        super().__init__()
        self.make_row = make_row
        self.rows: list[_Row] = []
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

    def add(self, item=None) -> _Row:
        row = self.make_row(item)
        row.removed.connect(self.remove)
        row.changed.connect(self.changed.emit)
        self.rows.append(row)
        self.box.addWidget(row)
        row.setVisible(True)  # the layout would only show it on the next event loop turn
        self.changed.emit()
        return row

    def remove(self, row: _Row) -> None:
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


class _TimeStamp(QWidget):
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
        return day.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)


# --- the editor -------------------------------------------------------------------------------


class SessionEditor(QDialog):
    """Edit one session of one client. Emits `saved(session_id)` after every write."""

    saved = Signal(str)

    def __init__(self, repo: Repository, settings: ClinicSettings, client: Client,
                 session: Session | None = None, *, user: str = "",
                 now: Callable[[], datetime] = datetime.now, parent: QWidget | None = None):
        super().__init__(parent)
        self.repo = repo
        self.settings = settings
        self.client = client
        self.user = user
        self.now = lambda: now().replace(microsecond=0)
        self.amending = False
        self.courses = repo.courses(client.id)
        self.client_sessions = repo.sessions(client.id)
        self.stored: Session | None = None
        if session is None:
            session = Session(client.id, self.now().replace(second=0),
                              user or (settings.practitioners[:1] or [""])[0], areas=[],
                              fee=None, aftercare=[])
            session.course_id = self._open_course()
        else:
            self.stored = session
        self.session_id = session.id
        self.acknowledged: list[AcknowledgedWarning] = list(session.acknowledged_warnings)
        self.amendments = list(session.amendments)
        self.signed_at = session.signed_at
        self.setWindowTitle(f"Session — {client.full_name}")
        self._build()
        self._fill(session)
        self._baseline = self._snapshot()
        self._refresh()
        self._ticker = QTimer(self)
        self._ticker.timeout.connect(self._refresh_contact)
        self._ticker.start(15_000)

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        repo = self.repo
        outer = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        outer.addWidget(self.status)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
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
        self.started = QDateTimeEdit()
        self.started.setDisplayFormat("dd MMM yyyy  HH:mm")
        self.started.setCalendarPopup(True)
        form.addRow("&Started", self.started)
        practitioners = list(dict.fromkeys(self.settings.practitioners
                                           + repo.remembered("practitioner")))
        self.practitioner = _combo(practitioners)
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
        self.device_type = QComboBox()
        self.device_type.addItem("Pen (motorised, cartridges)", DeviceType.PEN)
        self.device_type.addItem("Roller", DeviceType.ROLLER)
        form.addRow("&Type", self.device_type)
        self.device_model = _remembering(QLineEdit(), repo.remembered("device_model"))
        form.addRow("&Model", self.device_model)
        self.cartridge = _remembering(QLineEdit(), repo.remembered("cartridge"))
        self.cartridge.setPlaceholderText("e.g. 16-pin, 36-pin, nano")
        form.addRow("&Cartridge", self.cartridge)
        self.cartridge_lot = _remembering(QLineEdit(), repo.remembered("cartridge_lot"))
        form.addRow("Cartridge &lot", self.cartridge_lot)
        self.device_message = FieldMessage()
        form.addRow("", self.device_message)
        left.addWidget(device)

        # topical anaesthetic
        numbing = QGroupBox("Topical anaesthetic")
        form = QFormLayout(numbing)
        products = list(dict.fromkeys(list(self.settings.anaesthetics)
                                      + repo.remembered("anaesthetic_product")))
        self.anaesthetic = _combo(["", *products])
        self.anaesthetic.lineEdit().setPlaceholderText("none used")
        form.addRow("Pro&duct", self.anaesthetic)
        self.applied = _TimeStamp("Applied at", self.now)
        self.removed = _TimeStamp("Removed at", self.now)
        form.addRow("", self.applied)
        form.addRow("", self.removed)
        self.contact = QLabel()
        form.addRow("Contact", self.contact)
        self.anaesthetic_message = FieldMessage()
        form.addRow("", self.anaesthetic_message)
        left.addWidget(numbing)

        # treated areas
        areas_box = QGroupBox("Treated areas")
        layout = QVBoxLayout(areas_box)
        area_names = list(dict.fromkeys([*STANDARD_AREAS, *self.settings.area_depths]))
        self.areas = _RowList(lambda a: AreaRow(a, area_names, list(ENDPOINTS)), "Add &area")
        layout.addWidget(self.areas)
        self.areas_message = FieldMessage()
        layout.addWidget(self.areas_message)
        left.addWidget(areas_box)
        left.addStretch(1)

        # serums, combined treatments
        serums_box = QGroupBox("Serums and calming products")
        layout = QVBoxLayout(serums_box)
        serum_products = repo.remembered("serum_product")
        serum_lots = repo.remembered("serum_lot")
        self.serums = _RowList(lambda s: SerumRow(s, serum_products, serum_lots), "Add s&erum")
        layout.addWidget(self.serums)
        self.combined = QLineEdit()
        self.combined.setPlaceholderText("combined in this visit, e.g. chemical peel")
        layout.addWidget(self.combined)
        right.addWidget(serums_box)

        reactions_box = QGroupBox("Reactions")
        layout = QVBoxLayout(reactions_box)
        self.reactions = _RowList(ReactionRow, "Add &reaction")
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
        self.notes = QPlainTextEdit()
        self.notes.setMaximumHeight(90)
        form.addRow("&Notes", self.notes)
        right.addWidget(other)

        self.history = QTextBrowser()
        self.history.setMaximumHeight(140)
        self.history_box = QGroupBox("Amendment history")
        QVBoxLayout(self.history_box).addWidget(self.history)
        right.addWidget(self.history_box)
        right.addStretch(1)

        self.copied = QLabel()
        self.copied.setWordWrap(True)
        self.copied.hide()
        outer.addWidget(self.copied)
        self.general_message = FieldMessage()
        outer.addWidget(self.general_message)

        buttons = QHBoxLayout()
        self.repeat_button = QPushButton("Repeat &last session")
        self.repeat_button.setToolTip("Fill from this client's previous session (Ctrl+R)")
        self.save_button = QPushButton("&Save draft")
        self.save_button.setToolTip("Ctrl+S")
        self.sign_button = QPushButton("Sign o&ff")
        self.amend_button = QPushButton("A&mend…")
        self.print_button = QPushButton("&Print summary…")
        self.print_button.setToolTip("Preview and print the client's one-page summary (Ctrl+P)")
        self.export_button = QPushButton("E&xport PDF…")
        self.close_button = QPushButton("Close")
        for button in (self.repeat_button, self.print_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.amend_button, self.save_button, self.sign_button, self.close_button):
            buttons.addWidget(button)
        outer.addLayout(buttons)
        self.save_button.setDefault(False)
        self.setMinimumSize(1000, 700)

        self.repeat_button.clicked.connect(self.repeat_last)
        self.save_button.clicked.connect(self.save)
        self.sign_button.clicked.connect(self.sign_off)
        self.amend_button.clicked.connect(self.start_amendment)
        self.close_button.clicked.connect(self.close)
        self.print_button.clicked.connect(self.print_summary)
        self.export_button.clicked.connect(self.export_summary)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.print_summary)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        QShortcut(QKeySequence("Ctrl+R"), self, activated=self.repeat_last)

        for signal in (self.started.dateTimeChanged, self.practitioner.currentTextChanged,
                       self.course.currentIndexChanged, self.device_type.currentIndexChanged,
                       self.device_model.textChanged, self.cartridge.textChanged,
                       self.cartridge_lot.textChanged, self.anaesthetic.currentTextChanged,
                       self.applied.changed, self.removed.changed, self.areas.changed,
                       self.serums.changed, self.combined.textChanged, self.reactions.changed,
                       self.aftercare.itemChanged, self.fee.textChanged,
                       self.notes.textChanged):
            signal.connect(self._refresh)

    # --- fields <-> session ---------------------------------------------------------------

    def _fill(self, s: Session) -> None:
        self.started.setDateTime(_qdatetime(s.started_at))
        self.practitioner.setCurrentText(s.practitioner)
        self.course.setCurrentIndex(max(0, self.course.findData(s.course_id)))
        self.device_type.setCurrentIndex(list(DeviceType).index(s.device.type))
        self.device_model.setText(s.device.model or "")
        self.cartridge.setText(s.device.cartridge or "")
        self.cartridge_lot.setText(s.device.cartridge_lot or "")
        self._fill_anaesthetic(s.anaesthetic.product if s.anaesthetic else "",
                               s.anaesthetic.applied_at if s.anaesthetic else None,
                               s.anaesthetic.removed_at if s.anaesthetic else None)
        self.areas.set_items(s.areas)
        self.serums.set_items(s.serums)
        self.combined.setText(", ".join(s.combined_with))
        self.reactions.set_items(s.reactions)
        self._fill_aftercare(s.aftercare)
        self.fee.setText(f"{s.fee.amount:.2f}" if s.fee else "")
        self.notes.setPlainText(s.notes)

    def _fill_anaesthetic(self, product: str, applied, removed) -> None:
        self.anaesthetic.setCurrentText(product)
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
        started = self.started.dateTime().toPython().replace(microsecond=0)
        anaesthetic = None
        product = self.anaesthetic.currentText().strip()
        applied = self.applied.value(started)
        removed = self.removed.value(started)
        if product or applied or removed:
            if applied is None:
                problems.append(Problem("anaesthetic.applied_at",
                                        "when was the anaesthetic applied? (Applied now)"))
            else:
                anaesthetic = Anaesthetic(product, applied, removed)
        fee = None
        if self.fee.text().strip():
            try:
                fee = Fee(Decimal(self.fee.text().strip()), self.settings.currency)
            except InvalidOperation:
                problems.append(Problem("fee.amount", f"{self.fee.text().strip()!r} is not an "
                                        "amount; type it like 250.00"))
        aftercare = [self.aftercare.item(i).text() for i in range(self.aftercare.count())
                     if self.aftercare.item(i).checkState() == Qt.CheckState.Checked]
        session = Session(
            client_id=self.client.id, started_at=started,
            practitioner=self.practitioner.currentText().strip(), areas=self.areas.values(),
            id=self.session_id, course_id=self.course.currentData(),
            device=Device(self.device_type.currentData(), _text_or_none(self.device_model),
                          _text_or_none(self.cartridge), _text_or_none(self.cartridge_lot)),
            anaesthetic=anaesthetic, serums=self.serums.values(),
            combined_with=[x.strip() for x in self.combined.text().split(",") if x.strip()],
            reactions=self.reactions.values(), aftercare=aftercare, fee=fee,
            notes=self.notes.toPlainText(), signed_at=self.signed_at,
            acknowledged_warnings=list(self.acknowledged), amendments=list(self.amendments))
        return session, problems

    def _snapshot(self):
        session, problems = self.session()
        return encode_session(session), [str(p) for p in problems]

    def is_dirty(self) -> bool:
        return self._snapshot() != self._baseline

    def problems(self) -> list[Problem]:
        session, problems = self.session()
        return problems + validate_session(session)

    # --- live state ---------------------------------------------------------------------

    def _refresh(self, *_args) -> None:
        session, problems = self.session()
        problems += validate_session(session)
        messages = {"practitioner": self.practitioner_message,
                    "device": self.device_message, "anaesthetic": self.anaesthetic_message,
                    "fee": self.fee_message, "areas": self.areas_message}
        for i, row in enumerate(self.areas.rows):
            messages[f"areas[{i}]"] = row.message
        for i, row in enumerate(self.serums.rows):
            messages[f"serums[{i}]"] = row.message
        for i, row in enumerate(self.reactions.rows):
            messages[f"reactions[{i}]"] = row.message
        route(problems, messages, self.general_message)
        for warning in depth_warnings(session, self.settings.area_depths):
            row = messages.get(warning.path.split(".")[0])
            if row is not None and not row.text():
                row.show_warning(f"⚠ {warning.message}")
        self._refresh_contact(session)
        editable = not self.signed_at or self.amending
        valid = not problems
        self.save_button.setEnabled(editable and valid)
        self.save_button.setVisible(editable)
        self.sign_button.setEnabled(valid and not self.signed_at)
        self.sign_button.setVisible(not self.signed_at)
        self.amend_button.setVisible(bool(self.signed_at) and not self.amending)
        self.repeat_button.setVisible(not self.signed_at)
        self.save_button.setText("&Save amendment…" if self.amending else "&Save draft")
        self._show_status(session)

    def _refresh_contact(self, session: Session | None = None) -> None:
        if session is None:
            session, _ = self.session()
        a = session.anaesthetic
        if a is None:
            self.contact.setText("—")
            return
        end = a.removed_at or self.now()
        minutes = int((end - a.applied_at).total_seconds() // 60)
        if minutes < 0:
            # removed before applied is a rule (shown beside the field); a future time
            # just has not come yet
            self.contact.setText("applied time is later than now" if not a.removed_at
                                 else "—")
            return
        usual = lookup(self.settings.anaesthetics, a.product)
        text = f"{minutes} min" + ("" if a.removed_at else " so far (still on)")
        if usual is not None:
            text += f" — usual {usual}"
        self.contact.setText(text)
        warnings = anaesthetic_warnings(replace(session, anaesthetic=Anaesthetic(
            a.product, a.applied_at, end)), self.settings.anaesthetics)
        if warnings and (a.removed_at or minutes > usual.high_min) \
                and self.anaesthetic_message.kind != "error":
            self.anaesthetic_message.show_warning(f"⚠ {warnings[0].message}")
        elif self.anaesthetic_message.kind == "warning":
            self.anaesthetic_message.clear_message()

    def _show_status(self, session: Session) -> None:
        course = next((c for c in self.courses if c.id == self.course.currentData()), None)
        n, of = session_number(session, self.client_sessions, course)
        place = f"session {n} of {of}" if of else f"session {n}"
        if self.signed_at:
            state = f"Signed off {moment_text(self.signed_at)} — read-only"
            if self.amending:
                state = "Amending a signed session — the original values are kept"
        else:
            state = "Draft — not signed off" if self.stored else "New session — not saved yet"
        acknowledged = "".join(f"<br>Acknowledged: {w.warning} ({w.by}, {w.at:%H:%M})"
                               for w in self.acknowledged)
        self.status.setText(f"<b>{self.client.full_name}</b> — {place} — {state}{acknowledged}")
        self._set_editable(not self.signed_at or self.amending)
        self.history_box.setVisible(bool(self.amendments))
        self.history.setHtml(amendment_history_html(self.amendments))

    def _set_editable(self, editable: bool) -> None:
        for widget in (self.started, self.practitioner, self.course, self.device_type,
                       self.device_model, self.cartridge, self.cartridge_lot, self.anaesthetic,
                       self.applied, self.removed, self.areas, self.serums, self.combined,
                       self.reactions, self.aftercare, self.fee):
            widget.setEnabled(editable)
        self.notes.setReadOnly(not editable)

    # --- actions ------------------------------------------------------------------------

    def repeat_last(self) -> list[str]:
        """Fill from the client's previous session, except times; say what was copied."""
        if self.signed_at:
            return []
        previous = next((s for s in reversed(self.client_sessions)
                         if s.id != self.session_id), None)
        if previous is None:
            self.copied.setText("This client has no earlier session to repeat.")
            self.copied.show()
            return []
        copied = ["device"]
        self.device_type.setCurrentIndex(list(DeviceType).index(previous.device.type))
        self.device_model.setText(previous.device.model or "")
        self.cartridge.setText(previous.device.cartridge or "")
        self.cartridge_lot.setText(previous.device.cartridge_lot or "")
        self.practitioner.setCurrentText(self.practitioner.currentText() or
                                         previous.practitioner)
        if previous.course_id and previous.course_id == self._open_course():
            self.course.setCurrentIndex(self.course.findData(previous.course_id))
            copied.append("course")
        if previous.anaesthetic:
            self.anaesthetic.setCurrentText(previous.anaesthetic.product)
            copied.append("anaesthetic product")
        self.areas.set_items([replace(a) for a in previous.areas])
        copied.append(f"{len(previous.areas)} area{'s' if len(previous.areas) != 1 else ''} "
                      "with depths")
        if previous.serums:
            self.serums.set_items([replace(s) for s in previous.serums])
            copied.append(f"{len(previous.serums)} serum{'s' if len(previous.serums) > 1 else ''}")
        if previous.combined_with:
            self.combined.setText(", ".join(previous.combined_with))
            copied.append("combined treatments")
        if previous.aftercare:
            self._fill_aftercare(previous.aftercare)
            copied.append("aftercare")
        if previous.fee:
            self.fee.setText(f"{previous.fee.amount:.2f}")
            copied.append("fee")
        self.copied.setText(f"Copied from {day_text(previous.started_at)}: "
                            + ", ".join(copied) + ". Not copied: times, reactions, notes.")
        self.copied.setStyleSheet("color: #1d4f91;")
        self.copied.show()
        self._refresh()
        return copied

    def _open_course(self) -> str | None:
        """The latest course still under way (a finished course takes no new session)."""
        from needledesk.domain.course import course_progress

        under_way = [c for c in self.courses
                     if not course_progress(c, self.client_sessions).finished]
        return under_way[-1].id if under_way else None

    def acknowledge_at_start(self) -> bool:
        """Before a new session: warn about the client's screening (a flagged answer, none
        on record, no consent). False when the practitioner stops; the acknowledgement is
        recorded on the session."""
        session, _ = self.session()
        screening = [w for w in session_warnings(session, self.repo.screenings(self.client.id))
                     if w.code.startswith("screening:")]
        if not screening:
            return True
        reason = self.ask_acknowledgement(self, screening)
        if reason is None:
            return False
        for warning in screening:
            text = f"{warning.code} — {reason}" if reason else warning.code
            self.acknowledged.append(AcknowledgedWarning(
                text, session.practitioner or self.user or "unknown", self.now()))
        self._baseline = self._snapshot()
        self._refresh()
        return True

    def _acknowledge(self, session: Session) -> Session | None:
        """Ask about guidelines not yet acknowledged; None when the practitioner stops."""
        known = {w.warning.split(" — ")[0] for w in self.acknowledged}
        pending = [w for w in session_warnings(session, self.repo.screenings(self.client.id),
                                               depths=self.settings.area_depths,
                                               anaesthetics=self.settings.anaesthetics)
                   if w.code not in known]
        if not pending:
            return session
        reason = self.ask_acknowledgement(self, pending)
        if reason is None:
            return None
        by = session.practitioner or self.user
        at = self.now()
        for warning in pending:
            text = f"{warning.code} — {reason}" if reason else warning.code
            self.acknowledged.append(AcknowledgedWarning(text, by, at))
        return replace(session, acknowledged_warnings=list(self.acknowledged))

    def save(self) -> bool:
        """Save the draft (or, when amending, the amendment). True when written."""
        if self.amending:
            return self._save_amendment()
        if self.signed_at:
            return False
        session, problems = self.session()
        problems += validate_session(session)
        if problems:
            self._refresh()
            return False
        session = self._acknowledge(session)
        if session is None:
            return False
        self.repo.user = session.practitioner  # who the audit trail names
        if not self._write(lambda: self.repo.save_draft(session)):
            return False
        self.stored = session
        self._saved()
        return True

    def sign_off(self) -> bool:
        if self.signed_at:
            return False
        if (self.is_dirty() or self.stored is None) and not self.save():
            return False
        self.repo.user = self.practitioner.currentText().strip() or self.repo.user
        signed = self._write(lambda: self.repo.sign_session(self.session_id, self.now()))
        if not signed:
            return False
        self.signed_at = signed.signed_at
        self.stored = signed
        self._saved()
        return True

    def start_amendment(self) -> None:
        if not self.signed_at:
            return
        self.amending = True
        self._refresh()

    def _save_amendment(self) -> bool:
        session, problems = self.session()
        problems += validate_session(session)
        if problems:
            self._refresh()
            return False
        if not self.is_dirty():
            self.general_message.show_error("Nothing was changed: there is nothing to amend.")
            return False
        answer = self.ask_amendment(self, self.user or session.practitioner)
        if answer is None:
            return False
        by, reason = answer
        self.repo.user = by
        amendment = self._write(lambda: self.repo.amend_session(session, by=by, reason=reason,
                                                                at=self.now()))
        if not amendment:
            return False
        self.amendments.append(amendment)
        self.amending = False
        self.stored = self.repo.get_session(self.session_id)
        self._saved()
        return True

    # --- the client's summary ---------------------------------------------------------

    def _ready_to_print(self) -> bool:
        """The summary is made from what is saved: save an unsaved draft first."""
        if self.signed_at and not self.amending:
            return True
        if self.amending:
            return self.stored is not None
        return self.save() if self.stored is None or self.is_dirty() else True

    def print_summary(self) -> None:
        from needledesk.reports.build import session_summary_pdf
        from needledesk.ui.printing import build_off_thread

        if not self._ready_to_print():
            return
        session_id, title = self.session_id, f"Summary — {self.client.full_name}"
        build_off_thread(self, self.repo, lambda reader: session_summary_pdf(reader, session_id),
                         lambda data: self.show_preview(self, data, title),
                         "Printing the summary")

    def export_summary(self) -> None:
        from needledesk.reports.build import default_summary_name, session_summary_pdf
        from needledesk.ui.printing import build_off_thread

        if not self._ready_to_print():
            return
        session_id = self.session_id
        name = default_summary_name(self.client, self.session()[0])
        owner = self.parent()
        folders = owner.protected_folders() if hasattr(owner, "protected_folders") else []
        build_off_thread(self, self.repo, lambda reader: session_summary_pdf(reader, session_id),
                         lambda data: self.export_pdf(self, data, name, self.repo.path, folders),
                         "Exporting the summary")

    @staticmethod
    def export_pdf(parent, data: bytes, default_name: str, db_path: str,
                   backup_dirs=()) -> str | None:
        """Ask where, then write the PDF (user-only, temporary file renamed into place).
        The database's own files and its backup folders are refused with one plain message
        and nothing is written."""
        from needledesk.errors import NeedleDeskError
        from needledesk.store.targets import refuse_protected_target
        from needledesk.transfer import write_private
        from needledesk.ui import printing

        path = printing.choose_save_path(parent, default_name)
        if not path:
            return None
        try:
            refuse_protected_target(path, db_path, backup_dirs=backup_dirs)
        except NeedleDeskError as exc:
            QMessageBox.warning(parent, "NeedleDesk", str(exc))
            return None
        try:
            write_private(path, data)
        except NeedleDeskError as exc:
            printing.show_failure(parent, "Saving the PDF")(exc)
            return None
        return path

    @staticmethod
    def show_preview(parent, data: bytes, title: str) -> None:
        from needledesk.ui.printing import preview

        preview(parent, data, title)

    def _write(self, action: Callable[[], object]):
        try:
            return action()
        except (NeedleDeskError, OSError, sqlite3.Error) as exc:
            # Nothing is lost: the form keeps every value, ready to save again.
            self.general_message.show_error(f"Not saved: {exc}. Your entries are kept here; "
                                            "try again when the problem is fixed.")
            self.show_error(self, "The session was not saved", str(exc))
            return None

    def _saved(self) -> None:
        self.client_sessions = self.repo.sessions(self.client.id)
        self._baseline = self._snapshot()
        self.general_message.clear_message()
        self._refresh()
        self.saved.emit(self.session_id)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.is_dirty():
            choice = self.ask_unsaved(self)
            if choice == "save" and not self.save():
                event.ignore()
                return
            if choice == "cancel":
                event.ignore()
                return
        self._ticker.stop()
        event.accept()

    def reject(self) -> None:
        self.close()

    # --- questions; tests replace these -------------------------------------------------

    @staticmethod
    def ask_acknowledgement(parent, warnings: list[GuidelineWarning]) -> str | None:
        text = "\n".join(f"• {w.message}" for w in warnings)
        reason, ok = QInputDialog.getText(
            parent, "Guidelines exceeded",
            f"{text}\n\nProceed as a qualified practitioner? The acknowledgement is recorded "
            "on the session.\nReason (optional):")
        return reason.strip() if ok else None

    @staticmethod
    def ask_amendment(parent, by: str) -> tuple[str, str] | None:
        reason, ok = QInputDialog.getText(parent, "Amend a signed session",
                                          "Why is this signed session being corrected?\n"
                                          "(The original values stay in the history.)")
        if not ok or not reason.strip():
            return None
        return by, reason.strip()

    @staticmethod
    def ask_unsaved(parent) -> str:
        answer = QMessageBox.question(
            parent, "Unsaved session", "This session has changes that are not saved.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    @staticmethod
    def show_error(parent, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)


def amendment_history_html(amendments) -> str:
    from html import escape

    parts = []
    for a in amendments:
        changes = "".join(f"<li><code>{escape(path)}</code>: {escape(_show(old))} → "
                          f"{escape(_show(new))}</li>" for path, (old, new) in a.changes.items())
        parts.append(f"<p><b>{moment_text(a.at)}</b> by {escape(a.by)} — "
                     f"{escape(a.reason)}<ul>{changes}</ul></p>")
    return "".join(parts)


def _show(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return "; ".join(_show(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_show(v)}" for k, v in value.items() if v not in (None, ""))
    return str(value)
