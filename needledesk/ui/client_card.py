"""The client card: who the client is, their latest screening and consent, their courses
and their sessions, with the buttons that act on them.

The card shows what the window hands it (dataclasses from the repository); it holds no SQL
and keeps no state of its own beyond its widgets.
"""

from __future__ import annotations

from datetime import date
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.consent import consent_age_text, consent_expired
from needledesk.domain.course import course_progress
from needledesk.domain.model import (
    ANSWER_TEXT,
    NOT_APPLICABLE,
    SCREENING_QUESTIONS,
    Client,
    Screening,
)
from needledesk.domain.rules import latest_screening
from needledesk.ui.models import HistoryModel, format_date

FITZPATRICK = ("I", "II", "III", "IV", "V", "VI")


class ClientCard(QWidget):
    """The right-hand side of the main window."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.name_label = QLabel()
        self.name_label.setStyleSheet("font-size: 18pt; font-weight: 600;")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.name_label)
        self.details_label = QLabel()
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details_label)
        self.screening_label = QLabel()
        self.screening_label.setWordWrap(True)
        layout.addWidget(self.screening_label)
        self.course_label = QLabel()
        self.course_label.setWordWrap(True)
        layout.addWidget(self.course_label)
        buttons = QHBoxLayout()
        self.new_session_button = QPushButton("New &session")
        self.new_session_button.setToolTip("Ctrl+Shift+N")
        self.screening_button = QPushButton("Screening and &consent…")
        self.edit_client_button = QPushButton("&Edit client…")
        self.course_print_button = QPushButton("Print &record…")
        self.course_print_button.setToolTip("Preview and print the client's course record")
        self.course_export_button = QPushButton("Export record…")
        self.course_export_button.setToolTip("Save the client's course record as a PDF")
        for button in self.client_buttons():
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("<b>Sessions</b>"))
        self.history_model = HistoryModel(self)
        self.history = QTableView()
        self.history.setModel(self.history_model)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().hide()
        self.history.setAlternatingRowColors(True)
        header = self.history.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.history, 1)
        trail = QHBoxLayout()
        self.audit_button = QPushButton("&Audit trail of this session…")
        self.audit_button.setToolTip("Every write recorded for the selected session")
        trail.addWidget(self.audit_button)
        trail.addStretch(1)
        layout.addLayout(trail)

    def client_buttons(self) -> tuple[QPushButton, ...]:
        """The buttons that need a client."""
        return (self.new_session_button, self.screening_button, self.edit_client_button,
                self.course_print_button, self.course_export_button)

    def show_client(self, client: Client | None, repo=None, settings=None,
                    today: date | None = None) -> None:
        """Fill the card for `client` (read through `repo`), or the empty card."""
        for widget in self.client_buttons():
            widget.setEnabled(client is not None)
        if client is None:
            self.name_label.setText("No client selected")
            self.details_label.setText("Type a name or phone number to find a client, or "
                                       "press Ctrl+N to add one.")
            self.screening_label.clear()
            self.course_label.clear()
            self.history_model.set_sessions([])
            return
        today = today or date.today()   # ages and due dates need a day, whoever calls
        self.name_label.setText(escape(client.full_name))
        self.details_label.setText(client_details_html(client, today))
        self.screening_label.setText(screening_summary_html(
            latest_screening(repo.screenings(client.id)), today))
        history = repo.history(client.id)
        self.history_model.set_sessions(history)
        self.history.resizeColumnToContents(0)
        self.history.resizeColumnToContents(2)
        self.history.resizeColumnToContents(4)
        self.course_label.setText(courses_html(repo.courses(client.id), history, settings,
                                               today))


def client_details_html(client: Client, today: date) -> str:
    details = []
    if client.date_of_birth:
        details.append(f"born {format_date(client.date_of_birth)} "
                       f"({_age(client.date_of_birth, today)})")
    if client.phone:
        details.append(escape(client.phone))
    if client.email:
        details.append(escape(client.email))
    if client.fitzpatrick:
        details.append(f"Fitzpatrick {FITZPATRICK[client.fitzpatrick - 1]}")
    lines = [" · ".join(details)]
    if client.concerns:
        lines.append("Concerns: " + escape(", ".join(client.concerns)))
    if client.notes:
        lines.append(f"<i>{escape(client.notes)}</i>")
    return "<br>".join(lines)


def courses_html(courses, history, settings, today: date) -> str:
    lines = []
    for course in courses:
        progress = course_progress(course, history)
        overdue = (progress.next_due is not None and not progress.finished
                   and progress.next_due < today)
        text = (f"<b>{escape(course.concern)}</b> (from {format_date(course.started_on)}): "
                f"{escape(progress.describe())}")
        lines.append(f"<span style='color:#b3261e'>{text} (overdue)</span>" if overdue
                     else text)
    loose = course_progress(None, history, settings.default_interval_weeks)
    if loose.done:
        lines.append(f"<b>Outside a course</b>: {escape(loose.describe())}")
    return "<br>".join(lines) or "No course planned."


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def screening_summary_html(screening: Screening | None, today: date) -> str:
    """The card's screening and consent line (the consent's age: domain/consent.py)."""
    red = "color:#b3261e; font-weight:600"
    if screening is None:
        return f"<span style='{red}'>⚠ No screening on record</span>"
    parts = [f"Screening of {format_date(screening.date)}"]
    if screening.flagged:
        flags = ", ".join(escape(SCREENING_QUESTIONS[key]) for key in screening.flagged)
        parts.append(f"<span style='{red}'>⚠ flagged: {flags}</span>")
    else:
        parts.append("no flagged answers")
    parts += [f"{escape(SCREENING_QUESTIONS[key])}: {ANSWER_TEXT[NOT_APPLICABLE]}"
              for key in screening.not_applicable]
    if not screening.consent_signed:
        parts.append(f"<span style='{red}'>⚠ consent not signed</span>")
    elif consent_expired(screening, today):
        parts.append(f"<span style='{red}'>⚠ {escape(consent_age_text(screening, today))}"
                     "</span>")
    else:
        parts.append("consent signed")
    return " — ".join(parts)
