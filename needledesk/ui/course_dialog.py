"""The dialogs that plan or change a course, and end one early; they return a `Course`,
never save (the course controller does, through the repository).

Every field is checked by the same rules as the store (`domain.rules.validate_course`); a
problem is shown beside its field, named by its label, once the field was changed or Save
was pressed, and Save then keeps the dialog open: nothing is returned with a problem."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from needledesk.domain.guidelines import DEFAULT_AREA_DEPTHS
from needledesk.domain.labels import COURSE_LABELS, problem_text
from needledesk.domain.model import COMMON_CONCERNS, Course, new_id
from needledesk.domain.rules import (
    INTERVAL_WEEKS_MAX,
    INTERVAL_WEEKS_MIN,
    PLANNED_SESSIONS_MAX,
    PLANNED_SESSIONS_MIN,
    Problem,
    validate_course,
)
from needledesk.domain.text import day_text
from needledesk.ui.client_dialog import _ConcernCompleter as CommaCompleter
from needledesk.ui.client_dialog import parse_concerns
from needledesk.ui.forms import (
    FieldMessage,
    add_labelled_rows,
    from_qdate,
    lay_out_form_dialog,
    route,
    to_qdate,
)

#: The fields with a message line, by the paths of `validate_course`.
FIELDS = ("concern", "planned_sessions", "interval_weeks", "areas_planned", "started_on",
          "notes", "ended_on", "end_reason")


def label(path: str, key: str) -> str:
    """A field's label as `domain.labels` names it (so messages and the audit trail use the
    same words), with `key` as its Alt+ letter: `label("concern", "c")` is `Con&cern:`."""
    text = COURSE_LABELS[path]
    at = text.lower().find(key)
    return f"{text[:at]}&{text[at:]}:" if at >= 0 else f"{text}:"

#: How the usual course looks (DOMAIN.md, "A course of treatment"), beside the fields.
SESSIONS_HINT = (f"usually 3 to 5, 2 or 3 for mild concerns "
                 f"(allowed: {PLANNED_SESSIONS_MIN} to {PLANNED_SESSIONS_MAX})")
INTERVAL_HINT = (f"usually 6 to 8 weeks "
                 f"(allowed: {INTERVAL_WEEKS_MIN} to {INTERVAL_WEEKS_MAX} weeks)")

_DATE_FORMAT = "d MMM yyyy"


def named(problem: Problem) -> Problem:
    """The problem as a sentence naming its field by label (`Reason for ending is needed
    …`, `Planned sessions 25 is outside 1–20 sessions`); a list item (`areas_planned[1]`)
    is shown at the list's one field."""
    return Problem(problem.path.split("[", 1)[0], problem_text(problem, kind="course"))


def _date_edit(value: date) -> QDateEdit:
    edit = QDateEdit()
    edit.setDisplayFormat(_DATE_FORMAT)
    edit.setCalendarPopup(True)
    edit.setDate(to_qdate(value))
    return edit


class _CourseForm(QDialog):
    """What both dialogs share: messages beside fields, shown once touched or on Save."""

    def _finish(self, form: QFormLayout, fields: list[tuple[str, QWidget, str | None]]) -> None:
        paths = [path for _text, _widget, path in fields if path]
        self.messages = {path: FieldMessage() for path in paths}
        self._widgets = {path: widget for _text, widget, path in fields if path}
        self.other_problems = FieldMessage()
        self.touched: set[str] = set()
        self.attempted = False
        add_labelled_rows(form, [(text, widget, widget, path) for text, widget, path in fields],
                          self.messages)
        self.buttons, self.save_button = lay_out_form_dialog(self, form, self.other_problems,
                                                             min_width=480)

    def _touch(self, path: str) -> None:
        self.touched.add(path)
        self.revalidate()

    def course(self) -> Course:
        raise NotImplementedError

    def problems(self) -> list[Problem]:
        return [named(p) for p in validate_course(self.course())]

    def revalidate(self) -> bool:
        """Show the problems of the fields changed so far (all of them after Save)."""
        problems = self.problems()
        shown = [p for p in problems if self.attempted or p.path in self.touched]
        route(shown, self.messages, self.other_problems)
        return not problems

    def opened(self) -> None:
        """Note the fields as the dialog opens (call last in `__init__`)."""
        self._as_opened = self.course()

    def reject(self) -> None:
        """Escape, Cancel or closing: changes are discarded only once the practitioner says
        so."""
        if self.course() != getattr(self, "_as_opened", None) and not self.ask_discard(self):
            return
        super().reject()

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        """True to discard the changed course, False to go back to it."""
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard changes?",
                           "The changes to this course are not saved.")

    def accept(self) -> None:
        self.attempted = True
        if self.revalidate():
            super().accept()
            return
        # Refused: say so where the eye is, and put the cursor on the first field to fix.
        first = next((path for path in self.messages if self.messages[path].text()), None)
        widget = self._widgets.get(first) if first else None
        if widget is not None:
            widget.setFocus()


class CourseDialog(_CourseForm):
    """Plan a course for a client, or change a planned one (its ending too, once ended)."""

    def __init__(self, client_id: str, course: Course | None = None, *,
                 concerns: list[str] | None = None, today: date | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        today = today or date.today()
        self._original = course
        self._client_id = course.client_id if course else client_id
        self._course_id = course.id if course else new_id()
        self.setWindowTitle(f"Change course — {course.concern}" if course
                            else "Plan a course")

        self.concern = QComboBox()
        self.concern.setEditable(True)
        self.concern.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for item in dict.fromkeys([*(concerns or []), *COMMON_CONCERNS]):
            self.concern.addItem(item)
        self.concern.setCurrentText((concerns or [""])[0] if course is None else "")
        self.sessions = QSpinBox()
        self.sessions.setRange(0, 999)   # beyond the rule's range: the message says why
        self.sessions.setValue(4)
        self.sessions.setToolTip(SESSIONS_HINT)
        self.interval = QSpinBox()
        self.interval.setRange(0, 999)
        self.interval.setSuffix(" weeks")
        self.interval.setValue(6)
        self.interval.setToolTip(INTERVAL_HINT)
        self.areas = QLineEdit()
        self.areas.setPlaceholderText("e.g. cheeks, forehead (comma between them)")
        completer = CommaCompleter(sorted(DEFAULT_AREA_DEPTHS), self.areas)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.areas.setCompleter(completer)
        self.started = _date_edit(today)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(60)
        self.sessions_hint = QLabel(SESSIONS_HINT)
        self.interval_hint = QLabel(INTERVAL_HINT)
        for hint in (self.sessions_hint, self.interval_hint):
            hint.setStyleSheet("color: #555;")
        fields: list[tuple[str, QWidget, str | None]] = [
            (label("concern", "c"), self.concern, "concern"),
            (label("planned_sessions", "p"), self.sessions, "planned_sessions"),
            ("", self.sessions_hint, None),
            (label("interval_weeks", "w"), self.interval, "interval_weeks"),
            ("", self.interval_hint, None),
            (label("areas_planned", "a"), self.areas, "areas_planned"),
            (label("started_on", "s"), self.started, "started_on"),
            (label("notes", "n"), self.notes, "notes"),
        ]
        self.ended_on: QDateEdit | None = None
        self.end_reason: QLineEdit | None = None
        if course is not None and course.ended_on is not None:
            self.ended_on = _date_edit(course.ended_on)
            self.end_reason = QLineEdit(course.end_reason)
            fields += [(label("ended_on", "e"), self.ended_on, "ended_on"),
                       (label("end_reason", "r"), self.end_reason, "end_reason")]
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._finish(form, fields)
        if course is not None:
            self.load(course)
        self.concern.currentTextChanged.connect(lambda _t: self._touch("concern"))
        self.sessions.valueChanged.connect(lambda _v: self._touch("planned_sessions"))
        self.interval.valueChanged.connect(lambda _v: self._touch("interval_weeks"))
        self.areas.textChanged.connect(lambda _t: self._touch("areas_planned"))
        self.started.dateChanged.connect(lambda _d: self._touch("started_on"))
        if self.ended_on is not None and self.end_reason is not None:
            self.ended_on.dateChanged.connect(lambda _d: self._touch("ended_on"))
            self.end_reason.textChanged.connect(lambda _t: self._touch("end_reason"))
        self.concern.setFocus()
        typed = self.concern.lineEdit()
        if typed is not None:
            typed.selectAll()
        self.opened()

    def load(self, course: Course) -> None:
        self.concern.setCurrentText(course.concern)
        self.sessions.setValue(course.planned_sessions)
        self.interval.setValue(course.interval_weeks)
        self.areas.setText(", ".join(course.areas_planned))
        self.started.setDate(to_qdate(course.started_on))
        self.notes.setPlainText(course.notes)

    def course(self) -> Course:
        values = {
            "concern": self.concern.currentText().strip(),
            "planned_sessions": self.sessions.value(),
            "interval_weeks": self.interval.value(),
            "areas_planned": parse_concerns(self.areas.text()),
            "started_on": from_qdate(self.started.date()),
            "notes": self.notes.toPlainText().rstrip(),
        }
        if self.ended_on is not None and self.end_reason is not None:
            values |= {"ended_on": from_qdate(self.ended_on.date()),
                       "end_reason": self.end_reason.text().strip()}
        if self._original is not None:
            return replace(self._original, **values)  # type: ignore[arg-type]
        return Course(client_id=self._client_id, id=self._course_id,
                      **values)  # type: ignore[arg-type]

    @classmethod
    def ask(cls, parent: QWidget | None, client_id: str, course: Course | None = None, *,
            concerns: list[str] | None = None, today: date | None = None) -> Course | None:
        """Run the dialog modally: the planned or changed course, or None when cancelled."""
        dialog = cls(client_id, course, concerns=concerns, today=today, parent=parent)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.course() if accepted else None
        finally:
            dialog.deleteLater()


class EndCourseDialog(_CourseForm):
    """End a course before its planned sessions are done: the day and the reason."""

    def __init__(self, course: Course, progress: str, *, today: date | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._course = course
        self.setWindowTitle(f"End course early — {course.concern}")
        intro = QLabel(f"<b>{course.concern}</b>, from {day_text(course.started_on)}: "
                       f"{progress}.<br>Ending it keeps its sessions; it takes no new session "
                       "and has no next due date.")
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.ended_on = _date_edit(today or date.today())
        self.end_reason = QLineEdit()
        self.end_reason.setPlaceholderText("required, e.g. moving abroad, result reached")
        form = QFormLayout()
        form.addRow(intro)
        fields: list[tuple[str, QWidget, str | None]] = [
            (label("ended_on", "e"), self.ended_on, "ended_on"),
            (label("end_reason", "r"), self.end_reason, "end_reason"),
        ]
        self._finish(form, fields)
        self.save_button.setText("End course")
        self.ended_on.dateChanged.connect(lambda _d: self._touch("ended_on"))
        self.end_reason.textChanged.connect(lambda _t: self._touch("end_reason"))
        self.end_reason.setFocus()
        self.opened()

    def course(self) -> Course:
        return replace(self._course, ended_on=from_qdate(self.ended_on.date()),
                       end_reason=self.end_reason.text().strip())

    @classmethod
    def ask(cls, parent: QWidget | None, course: Course, progress: str, *,
            today: date | None = None) -> Course | None:
        """Run the dialog modally: the course as ended, or None when cancelled."""
        dialog = cls(course, progress, today=today, parent=parent)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.course() if accepted else None
        finally:
            dialog.deleteLater()
