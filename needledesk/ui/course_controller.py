"""Courses from the client card: plan one, change the chosen one, end it early.

`CourseController(window)` connects the card's course buttons (`ClientCard.plan_course_button`,
`change_course_button`, `end_course_button`, `course_history_button`) to the dialogs of
`ui/course_dialog.py` and writes through the window's repository, credited to the person at
the PC (`window.user`), as the window's other writes are. After each write the card is shown
again with that course chosen. The window needs one line:
`self.courses = CourseController(self)`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from needledesk.domain.course import course_progress
from needledesk.domain.model import Course


class CourseController(QObject):
    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        card = window.card
        card.plan_course_button.clicked.connect(self.plan)
        card.change_course_button.clicked.connect(self.change)
        card.end_course_button.clicked.connect(self.end)
        card.course_history_button.clicked.connect(self.history)

    # --- what the window holds -----------------------------------------------------------

    def _today(self):
        return self.window.today()

    def _written(self, write) -> bool:
        """Run a write the window's way: a refusal is shown to the practitioner."""
        return bool(self.window._attempt(write) is not None)

    def _show(self, course: Course) -> None:
        self.window.show_client(course.client_id)
        card = self.window.card
        for index in range(card.course_choice.count()):
            chosen = card.course_choice.itemData(index)
            if chosen is not None and chosen.id == course.id:
                card.course_choice.setCurrentIndex(index)
                break

    # --- the actions -----------------------------------------------------------------------

    def plan(self) -> Course | None:
        """Plan a new course for the client on the card."""
        from needledesk.ui.course_dialog import CourseDialog

        client = self.window.client
        if client is None:
            return None
        course = CourseDialog.ask(self.window, client.id, concerns=list(client.concerns),
                                  today=self._today())
        if course is None or not self._written(
                lambda: self.window.repo.add_course(course, by=self.window.user)):
            return None
        self._show(course)
        return course

    def change(self) -> Course | None:
        """Change the plan of the course chosen on the card."""
        from needledesk.ui.course_dialog import CourseDialog

        chosen = self.window.card.chosen_course()
        if self.window.client is None or chosen is None:
            return None
        course = CourseDialog.ask(self.window, chosen.client_id, chosen, today=self._today())
        if course is None or course == chosen:
            return None
        if not self._written(lambda: self.window.repo.update_course(course,
                                                                    by=self.window.user)):
            return None
        self._show(course)
        return course

    def history(self) -> str | None:
        """Show every change to the chosen course: who, when, what (its audit trail)."""
        from needledesk.ui.audit_view import audit_trail_html

        chosen = self.window.card.chosen_course()
        if self.window.client is None or chosen is None:
            return None
        html = audit_trail_html(self.window.repo.audit.history(chosen.id))
        self.window.show_text(f"History of the course — {chosen.concern}", html)
        return html

    def end(self) -> Course | None:
        """End the course chosen on the card early, with the day and the reason."""
        from needledesk.ui.course_dialog import EndCourseDialog

        chosen = self.window.card.chosen_course()
        if self.window.client is None or chosen is None or chosen.ended_on is not None:
            return None
        progress = course_progress(chosen, self.window.repo.sessions(chosen.client_id))
        course = EndCourseDialog.ask(self.window, chosen, progress.describe(),
                                     today=self._today())
        if course is None or not self._written(
                lambda: self.window.repo.end_course(course.id, course.ended_on,
                                                    course.end_reason, by=self.window.user)):
            return None
        self._show(course)
        return course
