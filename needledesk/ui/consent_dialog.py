"""Consents in the window: signing one on screen, the signed form locked, and recording one
signed on paper.

- `SignConsentDialog`: the client reads the clinic's current form (or the one shipped with
  the program while the clinic has stored none), ticks each statement, signs; the
  practitioner countersigns. Sign is enabled once every required statement is ticked and
  both have signed; the consent is stored locked (`repo.add_consent`).
- `ConsentView`: a stored consent as it was signed: its text, the answers, both signatures
  replayed; nothing in it can be changed. Save as PDF… and Print….
- `PaperConsentDialog`: a consent the client signed on a printed form (Print a blank
  form… prints one), recorded with the day it was signed.

No SQL here: everything is read and written through the repository.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.consent import KIND_TEXT, signed_text
from needledesk.domain.consent_forms import default_template, paragraphs
from needledesk.domain.model import (
    Client,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentStatement,
    ConsentTemplate,
)
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.settings import ClinicSettings
from needledesk.ui.editor_rows import combo
from needledesk.ui.forms import (
    DateField,
    FieldMessage,
    remember_geometry,
    restore_geometry,
    window_state,
)
from needledesk.ui.signature_pad import SignatureBox

KIND_TITLE = {ConsentKind.TREATMENT: "Treatment consent", ConsentKind.PHOTO: "Photo consent"}


def consent_problem_text(problem: Problem | object) -> str:
    """A consent's problem in plain words, naming the part by its on-screen label
    (`labels.problem_text`): `Practitioner is longer than 200 characters`; a statement not
    ticked reads as it is (its message quotes the statement)."""
    from needledesk.domain import labels

    assert isinstance(problem, Problem)
    if problem.path.startswith("answers."):
        return problem.message[:1].upper() + problem.message[1:]
    return labels.problem_text(problem, kind="consent")


def form_for(repo, kind: ConsentKind) -> tuple[ConsentTemplate, bool]:
    """The form a new consent of `kind` is signed under: the clinic's current version, or
    the one shipped with the program (False: not stored yet; it is stored with the first
    consent signed under it)."""
    stored = repo.current_template(kind)
    if stored is not None:
        return stored, True
    return default_template(kind), False


def practitioner_names(repo, settings: ClinicSettings) -> list[str]:
    remembered: list[str] = []
    with contextlib.suppress(AttributeError, NeedleDeskError):
        remembered = list(repo.remembered("practitioner"))
    return list(dict.fromkeys(settings.practitioners + remembered))


# --- the form's parts, shared by signing and the locked view -----------------------------


class StatementCheck(QCheckBox):
    """A statement's tick box; `locked`: shown as answered, never changed by a click or a
    key."""

    def __init__(self, statement: ConsentStatement, locked: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.statement = statement
        self.locked = locked
        self.setAccessibleName(statement.text)
        if locked:
            self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def nextCheckState(self) -> None:  # noqa: N802 (Qt name)
        if not self.locked:
            super().nextCheckState()


class _ClickLabel(QLabel):
    """A statement's text: clicking it ticks its box, as on a paper form's line."""

    def __init__(self, text: str, box: QCheckBox):
        super().__init__(text)
        self.box = box
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.box.click()
        super().mouseReleaseEvent(event)


def _statement_rows(statements: list[ConsentStatement], answers: dict[str, bool],
                    locked: bool, kind: ConsentKind) -> tuple[QWidget, list[StatementCheck]]:
    box = QFrame()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 8, 0, 0)
    if locked:
        heading = QLabel("Uses as ticked when signed:" if kind == ConsentKind.PHOTO else
                         "Statements as ticked when signed:")
    else:
        heading = QLabel("Tick each use you agree to (each is your choice):"
                         if kind == ConsentKind.PHOTO else "Tick each statement:")
    heading.setStyleSheet("font-weight: 600;")
    layout.addWidget(heading)
    checks: list[StatementCheck] = []
    for statement in statements:
        check = StatementCheck(statement, locked)
        check.setChecked(bool(answers.get(statement.key)))
        text = statement.text + ("  (required)" if statement.required and
                                 kind != ConsentKind.PHOTO else "")
        label = _ClickLabel(text, check)
        row = QHBoxLayout()
        row.addWidget(check, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(label, 1)
        layout.addLayout(row)
        checks.append(check)
    return box, checks


def _form_column(title: str, lines: list[str], body: str, rows: QWidget) -> QScrollArea:
    """The form to read: its title, who and when, the text's paragraphs and the statements,
    scrolling as one page."""
    page = QWidget()
    layout = QVBoxLayout(page)
    heading = QLabel(title)
    heading.setWordWrap(True)
    heading.setStyleSheet("font-size: 15pt; font-weight: 600;")
    heading.setObjectName("consent-title")
    layout.addWidget(heading)
    for line in lines:
        label = QLabel(line)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(label)
    text = QLabel("\n\n".join(paragraphs(body)))
    text.setObjectName("consent-text")
    text.setWordWrap(True)
    text.setTextFormat(Qt.TextFormat.PlainText)
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text.setStyleSheet("font-size: 11pt; margin-top: 8px;")
    layout.addWidget(text)
    layout.addWidget(rows)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(page)
    scroll.setFrameShape(QFrame.Shape.StyledPanel)
    scroll.setMinimumWidth(360)
    return scroll


class RememberedDialog(QDialog):
    """A dialog whose size is kept under `GEOMETRY_KEY`."""

    GEOMETRY_KEY = ""
    DEFAULT_SIZE = QSize(900, 640)

    def _restore(self, state: QSettings | None) -> None:
        self._state = window_state(self.parent(), state)   # type: ignore[arg-type]
        restore_geometry(self, self._state, self.GEOMETRY_KEY, self.DEFAULT_SIZE)

    def done(self, result: int) -> None:
        remember_geometry(self, self._state, self.GEOMETRY_KEY)
        super().done(result)


class _AsksBeforeDiscarding(RememberedDialog):
    """A consent being entered. Escape, Cancel, the close button: what was entered
    (`is_dirty`) is dropped only once the practitioner says so (`ask_discard`, each dialog's
    own words, replaced in tests). `store` writes the consent or shows why not."""

    repo: Any
    by: str
    template: ConsentTemplate
    _template_stored: bool
    problems_message: FieldMessage
    saved: Consent | None

    def store(self, consent: Consent, refused: str, today: date | None = None) -> bool:
        """Stores the consent (with its form when not stored yet); False, the problems shown
        after `refused` ("Not signed: …") and nothing written, when the store refuses it."""
        try:
            self.saved = self.repo.add_consent(
                consent, by=self.by or consent.practitioner,
                template=None if self._template_stored else self.template, today=today)
        except ValidationError as exc:
            self.problems_message.show_error(
                f"{refused}: " + "; ".join(consent_problem_text(p) for p in exc.problems))
            return False
        except NeedleDeskError as exc:
            self.problems_message.show_error(f"{refused}: {exc}")
            return False
        return True

    def is_dirty(self) -> bool:
        raise NotImplementedError

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        raise NotImplementedError

    def reject(self) -> None:
        if self.is_dirty() and not self.ask_discard(self):
            return
        super().reject()


# --- signing on screen --------------------------------------------------------------------


class SignConsentDialog(_AsksBeforeDiscarding):
    """The client reads and signs the form on screen; the practitioner countersigns."""

    GEOMETRY_KEY = "sign_consent_geometry"
    DEFAULT_SIZE = QSize(1240, 760)

    def __init__(self, repo, client: Client, kind: ConsentKind, settings: ClinicSettings, *,
                 by: str = "", practitioner: str = "", now: Callable[[], datetime] = datetime.now,
                 parent: QWidget | None = None, state: QSettings | None = None):
        super().__init__(parent)
        self.repo, self.client, self.kind, self.settings = repo, client, kind, settings
        self.by = by
        self._now = now
        self.saved: Consent | None = None
        self.template, self._template_stored = form_for(repo, kind)
        self.setWindowTitle(f"Sign the {KIND_TEXT[kind]} — {client.full_name}")
        template = self.template
        lines = [f"Client: {client.full_name}"
                 + (f", born {day_text(client.date_of_birth)}" if client.date_of_birth else ""),
                 f"Date: {day_text(now().date())} · form version {template.version}"]
        rows, self.checks = _statement_rows(template.statements, {}, False, kind)
        self.form = _form_column(template.title, lines, template.body, rows)

        self.client_box = SignatureBox("Client's signature", "Client's signature")
        names = practitioner_names(repo, settings)
        self.practitioner = combo(names, current=practitioner or by or (names[:1] or [""])[0])
        self.practitioner.setAccessibleName("Practitioner")
        practitioner_label = QLabel("&Practitioner:")
        practitioner_label.setBuddy(self.practitioner)
        self.practitioner_box = SignatureBox("Practitioner's countersignature",
                                             "Practitioner's signature")
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setObjectName("consent-missing")
        self.problems_message = FieldMessage()

        self.buttons = QDialogButtonBox()
        self.sign_button = self.buttons.addButton("&Sign", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setToolTip("Store the signed consent, locked (Ctrl+Return)")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            sign_key = QShortcut(QKeySequence(key), self)
            sign_key.activated.connect(self.accept)

        side = QVBoxLayout()
        side.addWidget(self.client_box, 1)
        who = QHBoxLayout()
        who.addWidget(practitioner_label)
        who.addWidget(self.practitioner, 1)
        side.addLayout(who)
        side.addWidget(self.practitioner_box, 1)
        side.addWidget(self.missing)
        side.addWidget(self.problems_message)
        side.addWidget(self.buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.form, 5)
        layout.addLayout(side, 4)
        self.sign_button.setDefault(True)

        for check in self.checks:
            check.toggled.connect(self.revalidate)
        self.client_box.pad.changed.connect(self.revalidate)
        self.practitioner_box.pad.changed.connect(self.revalidate)
        self.practitioner.currentTextChanged.connect(self.revalidate)
        self._baseline = self._state_now()
        self.revalidate()
        self._restore(state)
        if self.checks:
            self.checks[0].setFocus()

    # --- what is entered ---------------------------------------------------------------

    def answers(self) -> dict[str, bool]:
        return {check.statement.key: check.isChecked() for check in self.checks}

    def still_needed(self) -> list[str]:
        """What keeps Sign off, in plain words."""
        needed = []
        unticked = [c for c in self.checks if c.statement.required and not c.isChecked()]
        if unticked:
            needed.append("tick the required statement" if len(unticked) == 1 else
                          f"tick the {len(unticked)} required statements")
        if self.client_box.pad.empty:
            needed.append("the client's signature")
        if not self.practitioner.currentText().strip():
            needed.append("the practitioner's name")
        if self.practitioner_box.pad.empty:
            needed.append("the practitioner's countersignature")
        return needed

    def revalidate(self, *_args) -> bool:
        needed = self.still_needed()
        self.sign_button.setEnabled(not needed)
        if needed:
            self.missing.setText("Still needed to sign: " + ", ".join(needed) + ".")
            self.missing.setStyleSheet("color: #5f6368;")
        else:
            self.missing.setText("Ready to sign.")
            self.missing.setStyleSheet("color: #1e6b35; font-weight: 600;")
        return not needed

    def consent(self) -> Consent:
        """The consent as entered, signed now (to the second)."""
        t = self.template
        return Consent(
            client_id=self.client.id, kind=self.kind,
            signed_at=self._now().replace(microsecond=0), method=ConsentMethod.ON_SCREEN,
            practitioner=self.practitioner.currentText().strip(), title=t.title, body=t.body,
            statements=list(t.statements), answers=self.answers(), template_id=t.id,
            template_version=t.version, client_signature=self.client_box.pad.signature(),
            practitioner_signature=self.practitioner_box.pad.signature())

    def accept(self) -> None:
        if not self.revalidate():
            return
        if self.store(self.consent(), "Not signed"):
            super().accept()

    def _state_now(self) -> tuple[object, ...]:
        return (self.answers(), len(self.client_box.pad.strokes),
                len(self.practitioner_box.pad.strokes), self.practitioner.currentText())

    def is_dirty(self) -> bool:
        return self._state_now() != self._baseline or not (
            self.client_box.pad.empty and self.practitioner_box.pad.empty)

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard this consent?",
                           "Statements were ticked or a signature drawn; the consent is not "
                           "signed yet.")


# --- the signed form, locked ---------------------------------------------------------------


def consent_heading(consent: Consent) -> str:
    """`Treatment consent, signed on screen on 3 Nov 2026 at 10:42`, saying where a consent
    carried from a screening's tick came from."""
    text = f"{KIND_TITLE.get(consent.kind, 'Consent')}, {signed_text(consent)}"
    if consent.carried_from is not None:
        text += f" (recorded with the screening of {day_text(consent.signed_at.date())})"
    return text


def consent_file_name(consent: Consent, client: Client) -> str:
    """`2026-11-03 López Ana treatment consent.pdf`."""
    from needledesk.reports.names import safe_file_name

    stem = safe_file_name(f"{consent.signed_at.date().isoformat()} {client.last_name} "
                          f"{client.first_name} {KIND_TEXT.get(consent.kind, 'consent')}")
    return f"{stem}.pdf"


class ConsentView(RememberedDialog):
    """A stored consent exactly as it was signed, locked: the ticks cannot be changed, the
    pads take no strokes, the text takes no typing."""

    GEOMETRY_KEY = "consent_view_geometry"
    DEFAULT_SIZE = QSize(1180, 740)

    def __init__(self, consent: Consent, client: Client, settings: ClinicSettings, *,
                 db_path: str = "", backup_dirs=(), parent: QWidget | None = None,
                 state: QSettings | None = None):
        super().__init__(parent)
        self.consent, self.client, self.settings = consent, client, settings
        self.db_path, self.backup_dirs = db_path, list(backup_dirs)
        self.setWindowTitle(f"{KIND_TITLE.get(consent.kind, 'Consent')} — {client.full_name}")
        lines = [f"Client: {client.full_name}", consent_heading(consent)[:1].upper()
                 + consent_heading(consent)[1:]]
        if consent.template_version is not None:
            lines.append(f"Form version {consent.template_version}")
        if consent.practitioner:
            lines.append(f"Practitioner: {consent.practitioner}")
        if consent.kind == ConsentKind.PHOTO:
            uses = [s.text for s in consent.statements if consent.answers.get(s.key)]
            lines.append("Uses agreed: " + ("; ".join(uses) if uses else "none"))
        if consent.notes:
            lines.append(f"Notes: {consent.notes}")
        lines.append("This consent is locked: it cannot be changed. If the client's consent "
                     "has changed, record a new one.")
        rows, self.checks = _statement_rows(consent.statements, consent.answers, True,
                                            consent.kind)
        if not consent.statements:
            rows.hide()
        body = consent.body or ("The text of this form was not kept: it was signed on paper."
                                if consent.method == ConsentMethod.ON_PAPER else "")
        self.form = _form_column(consent.title, lines, body, rows)

        self.client_box = SignatureBox("Client's signature", "Client's signature")
        self.client_box.show_signature(consent.client_signature)
        self.practitioner_box = SignatureBox("Practitioner's countersignature",
                                             "Practitioner's signature")
        self.practitioner_box.show_signature(consent.practitioner_signature)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.pdf_button = QPushButton("Save as P&DF…")
        self.print_button = QPushButton("&Print…")
        self.buttons.addButton(self.pdf_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.print_button.clicked.connect(self.print_pdf)
        self.print_button.setShortcut(QKeySequence("Ctrl+P"))
        if consent.carried_from is not None:   # as the command line says (reports.build)
            why = ("This is the tick on the screening of "
                   f"{day_text(consent.signed_at.date())}, from before consent forms were "
                   "kept in NeedleDesk: there is no form to print. Print a blank form from "
                   "Record a consent signed on paper….")
            for button in (self.pdf_button, self.print_button):
                button.setEnabled(False)
                button.setToolTip(why)

        side = QVBoxLayout()
        if consent.method == ConsentMethod.ON_SCREEN:
            side.addWidget(self.client_box, 1)
            side.addWidget(self.practitioner_box, 1)
        else:
            paper = QLabel("Signed on a printed form: the signatures are on the paper.")
            paper.setWordWrap(True)
            side.addWidget(paper)
            side.addStretch(1)
            self.client_box.hide()
            self.practitioner_box.hide()
        side.addWidget(self.buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.form, 5)
        # signed on paper: no pads, the text takes the room
        layout.addLayout(side, 4 if consent.method == ConsentMethod.ON_SCREEN else 2)
        self._restore(state)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setFocus()

    def pdf(self) -> bytes:
        from needledesk.reports.consent import consent_pdf

        data: bytes = consent_pdf(self.consent, self.client, self.settings)
        return data

    def _pdf_or_say(self) -> bytes | None:
        try:
            return self.pdf()
        except (NeedleDeskError, OSError, ImportError) as exc:
            QMessageBox.warning(self, "NeedleDesk", f"The consent's PDF could not be made: "
                                f"{exc}")
            return None

    def save_pdf(self) -> str | None:
        """Ask where, then write the PDF (never over the database's own files)."""
        from needledesk.ui.session_editor import SessionEditor

        data = self._pdf_or_say()
        if data is None:
            return None
        path: str | None = SessionEditor.export_pdf(
            self, data, consent_file_name(self.consent, self.client), self.db_path,
            self.backup_dirs)
        return path

    def print_pdf(self) -> None:
        from needledesk.ui.session_editor import SessionEditor

        data = self._pdf_or_say()
        if data is not None:
            SessionEditor.show_preview(self, data, self.windowTitle())


# --- signed on paper --------------------------------------------------------------------------


class PaperConsentDialog(_AsksBeforeDiscarding):
    """A consent the client signed on a printed form: which form, the day, the practitioner,
    the photo uses ticked on the paper, notes."""

    GEOMETRY_KEY = "paper_consent_geometry"
    DEFAULT_SIZE = QSize(640, 520)

    def __init__(self, repo, client: Client, settings: ClinicSettings, *,
                 kind: ConsentKind = ConsentKind.TREATMENT, by: str = "",
                 practitioner: str = "", today: date | None = None,
                 now: Callable[[], datetime] = datetime.now, db_path: str = "",
                 backup_dirs=(), parent: QWidget | None = None,
                 state: QSettings | None = None):
        super().__init__(parent)
        self.repo, self.client, self.settings, self.by = repo, client, settings, by
        self._now = now
        self._today = today or now().date()
        self.db_path, self.backup_dirs = db_path, list(backup_dirs)
        self.saved: Consent | None = None
        self.setWindowTitle(f"Record a consent signed on paper — {client.full_name}")

        intro = QLabel("The client signed a printed form. Record it here; keep the paper "
                       "with the client's file.")
        intro.setWordWrap(True)
        self.kind = QComboBox()
        for k in (ConsentKind.TREATMENT, ConsentKind.PHOTO):
            self.kind.addItem(KIND_TITLE[k], k)
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.signed_on = DateField("Date signed")
        self.signed_on.set_value(self._today)
        self.signed_on.setPlaceholderText("e.g. 3 Nov 2026")
        self.date_message = FieldMessage()
        names = practitioner_names(repo, settings)
        self.practitioner = combo(names, current=practitioner or by or (names[:1] or [""])[0])
        self.practitioner.setAccessibleName("Practitioner")
        self.form_label = QLabel()
        self.form_label.setWordWrap(True)
        self.uses_box = QWidget()
        self.uses_layout = QVBoxLayout(self.uses_box)
        self.uses_layout.setContentsMargins(0, 0, 0, 0)
        self.checks: list[StatementCheck] = []
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * 4 + 12)
        self.problems_message = FieldMessage()

        form = QFormLayout()
        for text, widget, field in (
                ("&Consent:", self.kind, self.kind),
                ("&Date signed:", self.signed_on, _with(self.signed_on, self.date_message)),
                ("&Practitioner:", self.practitioner, self.practitioner),
                ("Form:", None, self.form_label),
                ("Ticked on paper:", None, self.uses_box),
                ("&Notes:", self.notes, self.notes)):
            label = QLabel(text)
            if widget is not None:
                label.setBuddy(widget)
            form.addRow(label, field)
        self.uses_label = form.labelForField(self.uses_box)

        self.blank_button = QPushButton("Print a &blank form…")
        self.blank_button.setToolTip("Print the chosen form to sign on paper")
        self.blank_button.clicked.connect(self.print_blank)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.addButton(self.blank_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problems_message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.save_button.setDefault(True)

        self.kind.currentIndexChanged.connect(self._form_chosen)
        self.signed_on.textChanged.connect(self.revalidate)
        self._form_chosen()
        self._baseline = self._state_now()
        self._restore(state)
        self.kind.setFocus()

    def chosen_kind(self) -> ConsentKind:
        return ConsentKind(self.kind.currentData())

    def _form_chosen(self, *_args) -> None:
        """Show the chosen form's version and the statements the client may tick or leave
        on paper (the required ones count as ticked: the client signed the form)."""
        self.template, self._template_stored = form_for(self.repo, self.chosen_kind())
        self.form_label.setText(f"{self.template.title}, version {self.template.version}")
        for check in self.checks:
            check.setParent(None)
            check.deleteLater()
        self.checks = []
        for statement in self.template.statements:
            if statement.required:
                continue
            check = StatementCheck(statement)
            check.setText(statement.text)
            self.uses_layout.addWidget(check)
            self.checks.append(check)
        self.uses_box.setVisible(bool(self.checks))
        if self.uses_label is not None:
            self.uses_label.setVisible(bool(self.checks))
        self.revalidate()

    def day_problem(self) -> str | None:
        problem = self.signed_on.problem()
        if problem is not None:
            return f"Date signed: {problem}"
        day = self.signed_on.value()
        if day is None:
            return "Date signed is needed: type the day the client signed the form"
        if day > self._today:
            return (f"Date signed {day_text(day)} is after today ({day_text(self._today)}): "
                    "record a consent once it is signed")
        return None

    def revalidate(self, *_args) -> bool:
        problem = self.day_problem()
        if problem is None:
            self.date_message.clear_message()
        else:
            self.date_message.show_error(problem)
        self.save_button.setEnabled(problem is None)
        return problem is None

    def consent(self) -> Consent:
        t = self.template
        day = self.signed_on.value() or self._today
        now = self._now().replace(microsecond=0)
        signed_at = now if day == now.date() else datetime.combine(day, time())
        ticked = {c.statement.key: c.isChecked() for c in self.checks}
        answers = {s.key: True if s.required else ticked.get(s.key, False)
                   for s in t.statements}
        return Consent(
            client_id=self.client.id, kind=t.kind, signed_at=signed_at,
            method=ConsentMethod.ON_PAPER, practitioner=self.practitioner.currentText().strip(),
            title=t.title, body=t.body, statements=list(t.statements), answers=answers,
            template_id=t.id, template_version=t.version,
            notes=self.notes.toPlainText().strip())

    def accept(self) -> None:
        if not self.revalidate():
            return
        if self.store(self.consent(), "Not saved", today=self._today):
            super().accept()

    def blank_pdf(self) -> bytes:
        from needledesk.reports.consent import blank_consent_pdf

        data: bytes = blank_consent_pdf(self.template, self.settings, client=self.client)
        return data

    def print_blank(self) -> None:
        from needledesk.ui.session_editor import SessionEditor

        try:
            data = self.blank_pdf()
        except (NeedleDeskError, OSError, ImportError) as exc:
            QMessageBox.warning(self, "NeedleDesk", f"The blank form could not be made: {exc}")
            return
        SessionEditor.show_preview(self, data, f"{self.template.title} — to sign on paper")

    def _state_now(self) -> tuple[object, ...]:
        return (self.kind.currentIndex(), self.signed_on.text(),
                self.practitioner.currentText(), [c.isChecked() for c in self.checks],
                self.notes.toPlainText())

    def is_dirty(self) -> bool:
        return self._state_now() != self._baseline

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard this consent?",
                           "The consent signed on paper is not recorded yet.")


def _with(field: QWidget, message: FieldMessage) -> QWidget:
    from needledesk.ui.forms import with_message

    return with_message(field, message)
