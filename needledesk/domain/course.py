"""Where a client is in their course: "session 3 of 4 — next due 12 Jan 2027"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from needledesk.domain.model import Course, Session
from needledesk.domain.text import day_text


@dataclass(frozen=True)
class CourseProgress:
    course: Course | None
    done: int
    planned: int | None
    last: date | None
    next_due: date | None

    @property
    def finished(self) -> bool:
        return self.planned is not None and self.done >= self.planned

    def describe(self) -> str:
        if self.done == 0:
            return "no session yet"
        count = (f"session {self.done} of {self.planned}" if self.planned
                 else f"{self.done} session{'s' if self.done != 1 else ''}")
        if self.finished:
            return f"{count} — course complete"
        if self.next_due is None:
            return count
        return f"{count} — next due {day_text(self.next_due)}"


def course_progress(course: Course | None, sessions: list[Session],
                    default_interval_weeks: int = 6) -> CourseProgress:
    """Progress of one course (or of the sessions outside any course, with `None`)."""
    own = sorted((s for s in sessions if s.course_id == (course.id if course else None)),
                 key=lambda s: s.started_at)
    last = own[-1].started_at.date() if own else None
    weeks = course.interval_weeks if course else default_interval_weeks
    return CourseProgress(course, len(own), course.planned_sessions if course else None, last,
                          next_due(last, weeks) if last else None)


def next_due(last: date, weeks: int) -> date | None:
    """`weeks` after `last`, or None past the last date there is (a record stored before the
    years were limited may be dated 9999): the caller then leaves the date out."""
    try:
        return last + timedelta(weeks=weeks)
    except OverflowError:
        return None


def session_number(session: Session, sessions: list[Session],
                   course: Course | None = None) -> tuple[int, int | None]:
    """(n, of) for "session n of 4": its place among the sessions of its course (or of the
    sessions outside any course); `of` is the course's plan, None outside a course."""
    same = sorted((s for s in sessions if s.course_id == session.course_id),
                  key=lambda s: s.started_at)
    n = next((i for i, s in enumerate(same, 1) if s.id == session.id), len(same) + 1)
    return n, course.planned_sessions if course else None
