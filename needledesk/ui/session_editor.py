"""The session editor: log a session in about a minute, sign it off, amend it with a reason.

The form builds a `Session` from its fields on every change and runs the domain rules on
it: problems appear beside their field (with the allowed range) and Save stays disabled
until there are none; guideline warnings appear in amber and are acknowledged on saving.
Whether there are unsaved changes is derived by comparing the built session with the
last saved one, never tracked by hand.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from html import escape

from PySide6.QtCore import QSettings, QSize, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.acknowledgements import acknowledge, pending
from needledesk.domain.consent import (
    CONSENT_MAX_DAYS,
    consent_age_text,
    consent_state,
    covering,
    signed_text,
)
from needledesk.domain.course import course_under_way, courses_offered, session_number
from needledesk.domain.face_chart import zone_of
from needledesk.domain.guidelines import lookup
from needledesk.domain.labels import (
    amendment_heading,
    amendment_lines,
    problem_text,
    warning_label,
)
from needledesk.domain.model import (
    Anaesthetic,
    Client,
    Consent,
    DeviceType,
    Screening,
    ScreeningCheck,
    Session,
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
from needledesk.domain.visit import check_text, visit_check
from needledesk.errors import ChangedElsewhereError, NeedleDeskError
from needledesk.exchange import encode_session
from needledesk.settings import ClinicSettings
from needledesk.store.repository import Repository
from needledesk.ui import acknowledge as acknowledge_dialog
from needledesk.ui import print_options
from needledesk.ui.editor_form import SessionForm
from needledesk.ui.editor_rows import narrow
from needledesk.ui.forms import (
    FieldMessage,
    remember_geometry,
    restore_geometry,
    route,
    window_state,
)
from needledesk.ui.server_away import AwayRetry, away_banner

#: The editor's size the first time, inside a 1280×800 screen with its title bar and taskbar.
DEFAULT_SIZE = QSize(1240, 720)
#: Where the editor's size is remembered in the window's QSettings.
GEOMETRY_KEY = "editor/geometry"

# --- the editor -------------------------------------------------------------------------------


class SessionEditor(SessionForm, QDialog):
    """Edit one session of one client. Emits `saved(session_id)` after every write."""

    saved = Signal(str)

    def __init__(self, repo: Repository, settings: ClinicSettings, client: Client,
                 session: Session | None = None, *, user: str = "",
                 now: Callable[[], datetime] = datetime.now, parent: QWidget | None = None,
                 state: QSettings | None = None):
        super().__init__(parent)
        # The window's own QSettings (where it keeps its size), unless one is given.
        self.state = window_state(parent, state)
        self.repo = repo
        self.settings = settings
        self.client = client
        self.user = user
        self.now = lambda: now().replace(microsecond=0)
        self.amending = False
        #: Why the last save was refused (empty when it was not), in plain words.
        self.refusal = ""
        self.client_sessions = repo.sessions(client.id)
        #: The courses the session may be put in: those under way and its own (ended or not).
        self.courses = courses_offered(repo.courses(client.id), self.client_sessions,
                                       session.course_id if session else None)
        self.stored: Session | None = None
        if session is None:
            session = Session(client.id, self.now().replace(second=0),
                              user or (settings.practitioners[:1] or [""])[0], areas=[],
                              fee=None, aftercare=[])
            session.course_id = self._open_course()
        else:
            self.stored = session
        self.session_id = session.id
        #: The session's version (its latest audit row's seq) as this editor last read or
        #: wrote it, passed as `expected=` with every save: a save over another room's (or
        #: window's) newer one is refused with who and when. 0: not saved yet.
        self.version: int | None = self._version_now() if self.stored is not None else 0
        self.acknowledged = list(session.acknowledged_warnings)
        #: The screening re-confirmed at the start of this session (None: not asked yet).
        self.screening_check: ScreeningCheck | None = session.screening_check
        self.screening_check_line = check_text(self.screening_check,
                                               repo.screenings(client.id)
                                               if self.screening_check else [])
        #: Days a consent lasts (a clinic setting for it is a later issue).
        self.consent_max_days = getattr(settings, "consent_max_days", CONSENT_MAX_DAYS)
        #: The client's consents (with those carried from screenings' ticks), read once: the
        #: editor is window-modal, so none is signed while it is open; the status line and
        #: the warnings read them on every change.
        self.consents = repo.consents(client.id, carried=True)
        self.amendments = list(session.amendments)
        self.signed_at = session.signed_at
        # A field's problem shows once the field was changed, or all once Save or Sign off
        # was pressed (or for a session already saved): a new session is not all red.
        self.touched: set[str] = set()
        self.show_all = self.stored is not None
        self.setWindowTitle(f"Session — {client.full_name}")
        self._build()
        self._restore_size()
        self._fill(session)
        self._baseline = self._snapshot()
        self.touched.clear()  # filling the form is not the practitioner's typing
        self._refresh()
        self._ticker = QTimer(self)
        self._ticker.timeout.connect(self._refresh_contact)
        self._ticker.start(15_000)

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        # While the clinic server is away: a plain banner, and the save retried (server_away).
        self.away_banner = away_banner()
        outer.addWidget(self.away_banner)
        self.away = AwayRetry(self.repo, self.away_banner, self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        outer.addWidget(self.status)

        self._build_form(outer)

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
        self.summary_photos = QCheckBox("With today's p&hotos")
        self.summary_photos.setToolTip(
            "Print and export the summary with a second page of this session's photos, when "
            "the client's photo consent allows showing them (remembered on this PC)")
        self.summary_photos.setChecked(print_options.summary_photos_wanted(self.state))
        self.summary_photos.toggled.connect(
            lambda on: print_options.remember_summary_photos(self.state, on))
        self.close_button = QPushButton("Close")
        for button in (self.repeat_button, self.print_button, self.export_button,
                       self.summary_photos):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.amend_button, self.save_button, self.sign_button, self.close_button):
            buttons.addWidget(button)
        outer.addLayout(buttons)
        self.save_button.setDefault(False)
        self.setMinimumSize(900, 600)
        narrow(self.course)  # a long course name must not widen the form past the screen

        self.repeat_button.clicked.connect(self.repeat_last)
        self.save_button.clicked.connect(self.save)
        self.sign_button.clicked.connect(self.sign_off)
        self.amend_button.clicked.connect(self.start_amendment)
        self.close_button.clicked.connect(self.close)
        self.print_button.clicked.connect(self.print_summary)
        self.export_button.clicked.connect(self.export_summary)
        QShortcut(QKeySequence.StandardKey.Print, self).activated.connect(self.print_summary)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        QShortcut(QKeySequence("Ctrl+R"), self).activated.connect(self.repeat_last)

        for name, signal in self._touch_signals():  # before _refresh, which reads them
            signal.connect(lambda *_args, name=name: self.touched.add(name))
        for signal in self._form_signals():
            signal.connect(self._refresh)
        for rows in (self.areas, self.serums, self.reactions):
            rows.rows_changed.connect(self._order_tabs)
        self._order_tabs()

    def _order_tabs(self) -> None:
        """Tab visits the fields as they are seen, rows added since included, then the
        buttons along the bottom."""
        chain = [*self._form_tab_chain(), self.repeat_button, self.print_button,
                 self.export_button, self.summary_photos, self.amend_button, self.save_button,
                 self.sign_button, self.close_button]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _restore_size(self) -> None:
        restore_geometry(self, self.state, GEOMETRY_KEY, DEFAULT_SIZE)

    def _remember_size(self) -> None:
        remember_geometry(self, self.state, GEOMETRY_KEY)

    # --- live state ---------------------------------------------------------------------

    def _refresh(self, *_args) -> None:
        session, problems = self.session()
        problems += validate_session(session)
        messages = self._field_messages()
        plain = encode_session(session)
        route([Problem(p.path, problem_text(p, plain)) for p in problems
               if self.show_all or _top(p.path) in self.touched],
              messages, self.general_message, describe=lambda p: p.message)
        for warning in depth_warnings(session, self.settings.area_depths):
            row = messages.get(warning.path.split(".")[0])
            if row is not None and not row.text():
                row.show_warning(f"⚠ {warning.message}")
        self._refresh_lots(session)
        self._refresh_contact(session)
        editable = not self.signed_at or self.amending
        valid = not problems
        self.save_button.setEnabled(editable and valid)
        # A field not typed in yet shows no red; the disabled buttons still say why.
        needed = "".join(f"\n• {problem_text(p, plain)}" for p in problems)
        self.save_button.setToolTip("Ctrl+S" + (f"\nStill needed:{needed}" if needed else ""))
        self.sign_button.setToolTip(f"Still needed:{needed}" if needed else "")
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
        # (warnings come only from a product with a usual contact time)
        if warnings and (a.removed_at or (usual is not None and minutes > usual.high_min)) \
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
        acknowledged = "".join(f"<br>Acknowledged: {escape(warning_label(w.code))}"
                               + (f" — {escape(w.reason)}" if w.reason else "")
                               + f" ({escape(w.by)}, {w.at:%H:%M})"
                               for w in self.acknowledged)
        checked = (f"<br>{escape(self.screening_check_line)}" if self.screening_check_line
                   else "")
        consent = "<br>" + consent_line_html(self.consents,
                                             session.started_at.date(),
                                             self.consent_max_days)
        self.status.setText(f"<b>{self.client.full_name}</b> — {place} — {state}{acknowledged}"
                            f"{checked}{consent}")
        self._set_editable(not self.signed_at or self.amending)
        self.history_box.setVisible(bool(self.amendments))
        self.history.setHtml(amendment_history_html(self.amendments, encode_session(session))
                             if self.amendments else "")

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
            if previous.anaesthetic.lot:
                self.anaesthetic_lot.setText(previous.anaesthetic.lot)
                copied[-1] = "anaesthetic product and lot"
        # each with the zone it was drawn in (one recorded before the chart: its name's)
        self.areas.set_items([replace(a, zone=zone_of(a, self.settings.area_zones))
                              for a in previous.areas])
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
        # Lots usually change from one session to the next: each copied one is marked
        # until it is edited or confirmed.
        self.cartridge_lot_copied.mark()
        self.anaesthetic_lot_copied.mark()
        for row in self.serums.rows:
            row.lot_copied.mark()  # type: ignore[attr-defined]
        self.copied.setText(f"Copied from {day_text(previous.started_at)}: "
                            + ", ".join(copied) + ". Not copied: times, reactions, notes."
                            + (" Check the lots marked below: they usually change."
                               if self.unchecked_lots() else ""))
        self.copied.setStyleSheet("color: #1d4f91;")
        self.copied.show()
        self._refresh()
        return copied

    def unchecked_lots(self) -> list[QWidget]:
        """The lot fields still marked "copied from last session"."""
        marks = [self.cartridge_lot_copied, self.anaesthetic_lot_copied,
                 *(row.lot_copied for row in self.serums.rows)]  # type: ignore[attr-defined]
        return [mark.field for mark in marks if mark.marked]

    def _open_course(self) -> str | None:
        """The latest course still under way (a finished or ended course takes no new
        session)."""
        under_way = course_under_way(self.courses, self.client_sessions)
        return under_way.id if under_way else None

    def _warnings(self, session: Session) -> list[GuidelineWarning]:
        """Every guideline the session goes past: the screening (flags, consent missing or
        older than the clinic's limit), depths and the anaesthetic's contact time."""
        return session_warnings(session, self.repo.screenings(self.client.id),
                                depths=self.settings.area_depths,
                                anaesthetics=self.settings.anaesthetics,
                                consent_max_days=self.consent_max_days,
                                consents=[c for c in self.consents
                                          if c.carried_from is None]) \
            + self._lot_warnings(session)

    def session(self) -> tuple[Session, list[Problem]]:
        """The form's session, with the screening re-confirmed at its start."""
        session, problems = super().session()
        session.screening_check = self.screening_check
        return session, problems

    def confirm_screening_at_start(self) -> bool:
        """Before a new session: "anything changed since the screening of …?" (or, past the
        clinic's limit, a full screening). The answer is recorded on the session; False when
        the practitioner stops. A client with no screening is not asked (the warnings say
        so)."""
        if self.stored is not None or self.screening_check is not None:
            return True
        session, _ = self.session()
        check = visit_check(self.repo.screenings(self.client.id), session.started_at.date(),
                            screening_max_days=self.settings.screening_max_days,
                            injectables_weeks=self.settings.injectables_weeks)
        if check is None:
            return True
        by = session.practitioner or self.user or "unknown"

        def save(screening: Screening) -> Screening:
            return self.repo.add_screening(screening, by=by)

        answer = self.ask_visit_screening(self, check, save)
        if answer is None:
            return False
        self.screening_check = answer
        self.screening_check_line = check_text(answer, self.repo.screenings(self.client.id))
        self._baseline = self._snapshot()
        self._refresh()
        return True

    def acknowledge_at_start(self) -> bool:
        """Before a new session: re-confirm the screening (`confirm_screening_at_start`),
        then warn about it (a flagged answer, none on record, no consent or an out-of-date
        one). False when the practitioner stops; the answers are recorded on the session."""
        if not self.confirm_screening_at_start():
            return False
        session, _ = self.session()
        screening = pending([w for w in self._warnings(session)
                             if w.code.startswith("screening:")], self.acknowledged)
        if not screening:
            return True
        reason = self.ask_acknowledgement(self, screening)
        if reason is None:
            return False
        self.acknowledged += acknowledge(screening, reason,
                                         session.practitioner or self.user or "unknown",
                                         self.now())
        self._baseline = self._snapshot()
        self._refresh()
        return True

    def _acknowledge(self, session: Session) -> Session | None:
        """Ask about guidelines not yet acknowledged; None when the practitioner stops."""
        asked = pending(self._warnings(session), self.acknowledged)
        if not asked:
            return session
        reason = self.ask_acknowledgement(self, asked)
        if reason is None:
            return None
        self.acknowledged += acknowledge(asked, reason, session.practitioner or self.user,
                                         self.now())
        return replace(session, acknowledged_warnings=list(self.acknowledged))

    def save(self) -> bool:
        """Save the draft (or, when amending, the amendment). True when written. The clinic
        server away (while reading what the save checks, or writing): the banner, and the
        save retried until it is back."""
        try:
            return self._save()
        except NeedleDeskError as exc:
            if not self.repo.server_away(exc):
                raise
            self._wait_for_server(self.save)
            return False

    def _save(self) -> bool:
        if self.amending:
            return self._save_amendment()
        if self.signed_at:
            return False
        session, problems = self.session()
        problems += validate_session(session)
        if problems:
            self._refuse(session, problems)
            return False
        acknowledged = self._acknowledge(session)
        if acknowledged is None:
            return False
        session = acknowledged
        # The audit trail names the practitioner chosen here (passed with the write; the
        # repository is shared with the main window, whose writes stay its own).
        if not self._write(lambda: self.repo.save_draft(session, by=session.practitioner,
                                                        expected=self.version),
                           retry=self.save):
            return False
        self.stored = session
        self._saved()
        return True

    def _refuse(self, session: Session, problems: list[Problem]) -> None:
        """Not saved: say what is wrong, under the form and in `refusal` for a caller that
        must say it louder (closing, signing off)."""
        self.show_all = True
        self._refresh()
        plain = encode_session(session)
        lines = list(dict.fromkeys(problem_sentence(p, plain) for p in problems))
        self.refusal = "Not saved — fix this first:\n" + "\n".join(f"• {x}" for x in lines)
        self.general_message.show_error(self.refusal)

    def sign_off(self) -> bool:
        """Asks once, showing what will be sealed; saves unsaved changes, then signs."""
        if self.signed_at:
            return False
        session, problems = self.session()
        problems += validate_session(session)
        if problems:
            self._refuse(session, problems)
            self.show_error(self, "The session was not signed off", self.refusal)
            return False
        if not self.ask_sign_off(self, sign_off_text(self.client, session)):
            return False
        if (self.is_dirty() or self.stored is None) and not self.save():
            return False
        by = self.practitioner.currentText().strip() or self.user
        return self._sign(by)

    def _sign(self, by: str) -> bool:
        signed = self._write(lambda: self.repo.sign_session(self.session_id, self.now(),
                                                            by=by, expected=self.version),
                             retry=lambda: self._sign(by))
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
            self._refuse(session, problems)
            return False
        if not self.is_dirty():
            self.general_message.show_error("Nothing was changed: there is nothing to amend.")
            return False
        answer = self.ask_amendment(self, self.user or session.practitioner)
        if answer is None:
            return False
        by, reason = answer
        return self._amend(by, reason)

    def _amend(self, by: str, reason: str) -> bool:
        """Write the amendment as the form now has it (a retry after the server was away
        takes what was typed meanwhile too)."""
        session, problems = self.session()
        problems += validate_session(session)
        if problems:
            self._refuse(session, problems)
            return False
        amendment = self._write(lambda: self.repo.amend_session(session, by=by, reason=reason,
                                                                at=self.now(),
                                                                expected=self.version),
                                retry=lambda: self._amend(by, reason))
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
        from needledesk.ui.printing import build_off_thread

        if not self._ready_to_print():
            return
        title, notes = f"Summary — {self.client.full_name}", list[str]()
        make = print_options.summary_maker(self.session_id, self.summary_photos.isChecked(), notes)
        build_off_thread(self, self.repo, make,
                         lambda data: self._summary_ready(notes, lambda: self.show_preview(
                             self, data, title)), "Printing the summary")

    def export_summary(self) -> None:
        from needledesk.reports.build import default_summary_name
        from needledesk.ui.printing import build_off_thread

        if not self._ready_to_print():
            return
        notes: list[str] = []
        make = print_options.summary_maker(self.session_id, self.summary_photos.isChecked(), notes)
        name = default_summary_name(self.client, self.session()[0])
        protected = getattr(self.parent(), "protected_folders", None)
        folders = protected() if protected is not None else []
        build_off_thread(self, self.repo, make,
                         lambda data: self._summary_ready(notes, lambda: self.export_pdf(
                             self, data, name, self.repo.path, folders)),
                         "Exporting the summary")

    def _summary_ready(self, notes: list[str], then: Callable[[], object]) -> None:
        """Say under the form why the summary has no photo page when one was asked for
        (no photos, or the client's photo consent), then show or save it."""
        if notes:
            self.general_message.show_warning(notes[0])
        then()

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
        printing.confirm_saved(parent, path)
        return path

    @staticmethod
    def show_preview(parent, data: bytes, title: str) -> None:
        from needledesk.ui.printing import preview

        preview(parent, data, title)

    def _write(self, action: Callable[[], object], retry: Callable[[], object] | None = None):
        """Run one write. Refused because another room or window saved the session since
        it was opened: say who and when, keep the entries. The clinic server away: the
        banner, and `retry` (the same save through the normal path) every few seconds
        until it is back (`server_away.AwayRetry`)."""
        try:
            return action()
        except ChangedElsewhereError as exc:
            self.general_message.show_error(str(exc))
            self.show_error(self, "The session was not saved", str(exc))
            return None
        except (NeedleDeskError, OSError, sqlite3.Error) as exc:
            if retry is not None and self.repo.server_away(exc):
                self._wait_for_server(retry)
                return None
            # Nothing is lost: the form keeps every value, ready to save again.
            self.general_message.show_error(f"Not saved: {exc}. Your entries are kept here; "
                                            "try again when the problem is fixed.")
            self.show_error(self, "The session was not saved", str(exc))
            return None

    def _wait_for_server(self, retry: Callable[[], object]) -> None:
        self.general_message.show_error(
            "Not saved yet: the clinic server can't be reached. Your entries are kept here "
            "and will be saved when it is back.")
        self.away.start(retry)

    def _version_now(self) -> int:
        now = self.repo.record_version("session", self.session_id)
        return 0 if now is None else now.seq

    def restore_entries(self, session: Session, version: int | None,
                        stored: Session | None) -> None:
        """Fill the editor with a recovery draft's entries (`server_away.open_recovered`):
        `stored` is the session as the records have it now (None: never saved), `version`
        the one the draft was waiting to save over, so the version check applies."""
        self.stored = stored
        self.session_id = session.id
        self.version = version
        self.acknowledged = list(session.acknowledged_warnings)
        self.screening_check = session.screening_check
        self.amending = bool(stored is not None and stored.is_signed)
        self._fill(session)
        self._baseline = ({}, [])   # not saved: it differs from anything stored
        self.show_all = True
        self._refresh()

    def _keep_for_recovery(self) -> bool:
        """Closing while the server is away with a save waiting: the entries are kept on
        this PC as a recovery draft (never in any record store). False if it could not be
        written (the editor then stays open)."""
        from needledesk import recovery

        session, _ = self.session()
        try:
            recovery.keep(self.repo.path, self.client.id, encode_session(session),
                          session.practitioner, self.version,
                          pending="amend" if self.amending else "draft")
        except (NeedleDeskError, OSError) as exc:
            self.show_error(self, "The session could not be kept on this PC",
                            f"{exc}\n\nThe editor stays open with your entries.")
            return False
        self.away.stop()
        self.show_error(self, "The session is kept on this PC",
                        "The clinic server can't be reached, so this session is kept on this "
                        "PC as a recovery draft that only you can read. When NeedleDesk next "
                        "starts on the clinic server it offers to save it.")
        return True

    def _saved(self) -> None:
        # What was just written is saved whatever happens next: the baseline first.
        self._baseline = self._snapshot()
        self.general_message.clear_message()
        self._read_back()

    def _read_back(self) -> bool:
        """After a write: the session's new version and the client's sessions read again,
        then `saved` (whose listeners read too). The server gone between the write and this
        read: read again once it is back (the write itself is not repeated, so it is never
        refused as changed by itself)."""
        try:
            self.version = self._version_now()
            self.client_sessions = self.repo.sessions(self.client.id)
        except NeedleDeskError as exc:
            if not self.repo.server_away(exc):
                raise
            self.away.start(self._read_back)
            return False
        self._refresh()
        self.saved.emit(self.session_id)
        return True

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.away.waiting and self.is_dirty():
            choice = self.ask_unsaved(self)
            if choice == "save":
                self.refusal = ""
                if not self.save() and not self.away.waiting:
                    if self.refusal:  # invalid: say what, and stay open to fix it
                        self.show_error(self, "The session was not saved", self.refusal)
                    event.ignore()
                    return
            if choice == "cancel":
                event.ignore()
                return
        if self.away.waiting and not self._keep_for_recovery():
            event.ignore()
            return
        self._ticker.stop()
        self._remember_size()
        event.accept()

    def reject(self) -> None:
        self.close()

    # --- questions; tests replace these -------------------------------------------------

    @staticmethod
    def ask_acknowledgement(parent, warnings: list[GuidelineWarning]) -> str | None:
        return acknowledge_dialog.ask_acknowledgement(parent, warnings)

    @staticmethod
    def ask_visit_screening(parent, check, save) -> ScreeningCheck | None:
        from needledesk.ui.visit_screening import ask_visit_screening

        return ask_visit_screening(parent, check, save)

    @staticmethod
    def ask_amendment(parent, by: str) -> tuple[str, str] | None:
        reason = acknowledge_dialog.ask_amendment_reason(parent)
        return None if reason is None else (by, reason)

    @staticmethod
    def ask_sign_off(parent, text: str) -> bool:
        return acknowledge_dialog.ask_sign_off(parent, text)

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


def problem_sentence(problem: Problem, plain: dict | None = None) -> str:
    """`Depth (cheeks): 3.5 is outside 0.1–3.0 mm`, `Practitioner is required …`."""
    return problem_text(problem, plain)


def _top(path: str) -> str:
    """The record's own field a problem's path starts with: `areas[0].depth_mm` -> `areas`."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def consent_line_html(consents: list[Consent], on: date,
                      max_days: int = CONSENT_MAX_DAYS) -> str:
    """Which treatment consent covers a visit on the day `on`: `Treatment consent: signed on
    screen on 3 Nov 2026 at 10:42 (form version 2)`, or in red when none does or it is past
    the clinic's limit (the same rule as the guideline warning: domain/consent.py)."""
    state = consent_state(covering(consents, on), on, max_days)
    red = "color:#b3261e; font-weight:600"
    if state.consent is None:
        return f"<span style='{red}'>⚠ No signed treatment consent covers this visit</span>"
    consent = state.consent
    how = signed_text(consent)
    if consent.carried_from is not None:
        how += " (recorded with the screening)"
    elif consent.template_version is not None:
        how += f" (form version {consent.template_version})"
    if state.expired:
        return (f"<span style='{red}'>⚠ Treatment consent {escape(how)}: "
                f"{escape(consent_age_text(consent, on, max_days))}</span>")
    return f"Treatment consent: {escape(how)}"


def sign_off_text(client: Client, session: Session) -> str:
    """What signing off seals, for the one question asked before it."""
    areas = ", ".join(f"{a.area} {a.depth_mm:g} mm" for a in session.areas) or "none"
    return (f"Sign off this session?\n\n"
            f"Client: {client.full_name}\n"
            f"Date: {moment_text(session.started_at)}\n"
            f"Practitioner: {session.practitioner}\n"
            f"Areas and depths: {areas}\n\n"
            "Once signed off, the session is sealed: it cannot be changed, only corrected "
            "by an amendment with a reason, which is kept in its history.")


def amendment_history_html(amendments, plain: dict | None = None) -> str:
    """The amendments as the course record lists them: when, who, why, and the renderer's
    lines (`domain.labels`); `plain` is the session's exchange form, for item names."""
    from html import escape

    parts = []
    for a in amendments:
        changes = "".join(f"<li>{escape(line)}</li>" for line in amendment_lines(a, plain))
        parts.append(f"<p><b>{escape(amendment_heading(a))}</b><ul>{changes}</ul></p>")
    return "".join(parts)
