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
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.consent import (
    CONSENT_MAX_DAYS,
    all_consents,
    consent_age_text,
    consent_expired,
    covering,
    signed_text,
)
from needledesk.domain.course import course_line, course_progress, course_under_way
from needledesk.domain.model import (
    ANSWER_TEXT,
    NOT_APPLICABLE,
    SCREENING_QUESTIONS,
    Client,
    Consent,
    Course,
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
        # The consents beside the line that says which one covers today (ui/consents_list.py).
        self.consents_button = QPushButton("Consen&ts…")
        self.consents_button.setToolTip("The client's consents: open one, sign a new one or "
                                        "record one signed on paper")
        screening_row = QHBoxLayout()
        screening_row.addWidget(self.screening_label, 1)
        screening_row.addWidget(self.consents_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(screening_row)
        self.course_label = QLabel()
        self.course_label.setWordWrap(True)
        layout.addWidget(self.course_label)
        layout.addLayout(self._course_row())
        buttons = QHBoxLayout()
        self.new_session_button = QPushButton("New &session")
        self.new_session_button.setToolTip("Ctrl+Shift+N")
        self.screening_button = QPushButton("S&creening…")
        self.edit_client_button = QPushButton("&Edit client…")
        self.course_print_button = QPushButton("Print &record…")
        self.course_print_button.setToolTip("Preview and print the client's course record")
        self.course_export_button = QPushButton("Export record…")
        self.course_export_button.setToolTip("Save the client's course record as a PDF")
        self.compare_button = QPushButton("Co&mpare photos…")
        self.compare_button.setToolTip("The client's photos of a view from two sessions, side "
                                       "by side or overlaid (Ctrl+Shift+C)")
        for button in self.client_buttons():
            if button not in (self.consents_button, self.compare_button):  # theirs below
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
        self.photos_button = QPushButton("Photos of th&is session…")
        trail.addWidget(self.photos_button)
        trail.addWidget(self.compare_button)   # the client's, not the chosen session's
        trail.addStretch(1)
        layout.addLayout(trail)
        # The audit trail is a session's: the button waits for a session to be chosen.
        self.history.selectionModel().selectionChanged.connect(self._session_chosen)
        self.history_model.modelReset.connect(self._session_chosen)
        self._session_chosen()

    def _course_row(self) -> QHBoxLayout:
        """The course section's controls: which course, change it, end it, plan one
        (`ui/course_controller.py` acts on them)."""
        row = QHBoxLayout()
        self.course_choice_label = QLabel("Co&urse:")
        self.course_choice = QComboBox()
        # A long concern is elided, never widening the card past the window.
        self.course_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.course_choice.setMinimumContentsLength(26)
        self.course_choice_label.setBuddy(self.course_choice)
        self.change_course_button = QPushButton("Chan&ge…")
        self.change_course_button.setToolTip("Change the chosen course's plan")
        self.end_course_button = QPushButton("E&nd early…")
        self.end_course_button.setToolTip("End the chosen course before its planned "
                                          "sessions are done, saying why")
        self.course_history_button = QPushButton("Hist&ory…")
        self.course_history_button.setToolTip("Every change to the chosen course: who, when, "
                                              "what")
        self.plan_course_button = QPushButton("&Plan a course…")
        self.plan_course_button.setToolTip("Plan a course of sessions for this client")
        for widget in (self.course_choice_label, self.course_choice,
                       self.change_course_button, self.end_course_button,
                       self.course_history_button, self.plan_course_button):
            row.addWidget(widget)
        row.addStretch(1)
        self.course_choice.currentIndexChanged.connect(self._course_chosen)
        self._course_chosen()
        return row

    def chosen_course(self) -> Course | None:
        """The course chosen in the card's course list (the one under way at first)."""
        chosen: Course | None = self.course_choice.currentData()
        return chosen

    def _course_chosen(self, _index: int = -1) -> None:
        course = self.chosen_course()
        self.change_course_button.setEnabled(course is not None)
        self.course_history_button.setEnabled(course is not None)
        self.end_course_button.setEnabled(course is not None and course.ended_on is None)

    def _show_courses(self, courses: list[Course], history, chosen: str | None) -> None:
        """Fill the course list: every course, the one under way (or `chosen`) current."""
        self.course_choice.blockSignals(True)
        self.course_choice.clear()
        for course in courses:
            state = (" (ended)" if course.ended_on is not None else
                     " (complete)" if course_progress(course, history).finished else "")
            self.course_choice.addItem(f"{course.concern} from "
                                       f"{format_date(course.started_on)}{state}", course)
        under_way = course_under_way(courses, history)
        current = chosen if any(c.id == chosen for c in courses) else (
            under_way.id if under_way else None)
        index = next((i for i, c in enumerate(courses) if c.id == current), len(courses) - 1)
        self.course_choice.setCurrentIndex(index)
        self.course_choice.blockSignals(False)
        for widget in (self.course_choice_label, self.course_choice,
                       self.change_course_button, self.end_course_button,
                       self.course_history_button):
            widget.setVisible(bool(courses))
        self._course_chosen()

    def _session_chosen(self, *_args) -> None:
        # a selected row, not just Qt's current index (which focus alone sets to row 1)
        chosen = self.history.currentIndex().isValid() and \
            self.history.selectionModel().hasSelection()
        self.audit_button.setEnabled(chosen)
        self.audit_button.setToolTip("Every write recorded for the selected session" if chosen
                                     else "Select a session in the list to see its audit trail")
        self.photos_button.setEnabled(chosen)
        self.photos_button.setToolTip("The selected session's photos: add, view, remove "
                                      "(Ctrl+Shift+P)" if chosen else
                                      "Select a session in the list to see its photos")

    def client_buttons(self) -> tuple[QPushButton, ...]:
        """The buttons that need a client."""
        return (self.new_session_button, self.screening_button, self.consents_button,
                self.edit_client_button, self.course_print_button, self.course_export_button,
                self.compare_button)

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
            self.plan_course_button.setEnabled(False)
            self._show_courses([], [], None)
            self.history_model.set_sessions([])
            return
        today = today or date.today()   # ages and due dates need a day, whoever calls
        self.name_label.setText(escape(client.full_name))
        self.details_label.setText(client_details_html(client, today))
        screenings = repo.screenings(client.id)   # read once: the consents' ticks too
        self.screening_label.setText(screening_summary_html(
            latest_screening(screenings), today,
            consents=all_consents(repo.consents(client.id), screenings),
            max_days=settings.consent_max_days))
        history = repo.history(client.id)
        self.history_model.set_sessions(history, repo.photo_counts(s.id for s in history))
        self.history.resizeColumnToContents(0)
        self.history.resizeColumnToContents(2)
        self.history.resizeColumnToContents(4)
        self.history.resizeColumnToContents(5)
        courses = repo.courses(client.id)
        self.plan_course_button.setEnabled(True)
        self.course_label.setText(courses_html(courses, history, settings, today))
        chosen = self.chosen_course()
        self._show_courses(courses, history, chosen.id if chosen else None)


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
        due = progress.next_due if progress.done else course.started_on
        overdue = progress.under_way and due is not None and due < today
        text = escape(course_line(course, history))
        if course.areas_planned:
            text += f"<br>&nbsp;&nbsp;Areas planned: {escape(', '.join(course.areas_planned))}"
        lines.append(f"<span style='color:#b3261e'>{text} (overdue)</span>" if overdue
                     else text)
    loose = course_progress(None, history, settings.default_interval_weeks)
    if loose.done:
        lines.append(f"<b>Outside a course</b>: {escape(loose.describe())}")
    return "<br>".join(lines) or "No course planned."


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def screening_summary_html(screening: Screening | None, today: date, *,
                           consents: list[Consent] | None = None,
                           max_days: int = CONSENT_MAX_DAYS) -> str:
    """The card's screening and consent line: the treatment consent covering today (from
    `consents`, else the screening's tick) and its age (domain/consent.py)."""
    if consents is None:
        consents = all_consents([], [screening] if screening is not None else [])
    consent = covering(consents, today)
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
    if consent is None:
        parts.append(f"<span style='{red}'>⚠ consent not signed</span>")
    elif consent_expired(consent, today, max_days):
        parts.append(f"<span style='{red}'>⚠ "
                     f"{escape(consent_age_text(consent, today, max_days))}</span>")
    else:
        parts.append(f"consent {escape(signed_text(consent))}")
    return " — ".join(parts)
