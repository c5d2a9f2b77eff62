"""Where a client is in their course: "session 3 of 4 — next due 12 Jan 2027"; which
course a new session belongs to; and the card's line for a course.

A course ended early (`Course.ended_on`, with its reason) is over: it has no next due date
and takes no new session. So does a course whose planned sessions are all done."""

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

    @property
    def ended(self) -> bool:
        return self.course is not None and self.course.ended_on is not None

    @property
    def under_way(self) -> bool:
        """A course that still takes sessions: neither ended early nor complete."""
        return self.course is not None and not self.ended and not self.finished

    def _count(self) -> str:
        if self.done == 0:
            return "no session yet"
        return (f"session {self.done} of {self.planned}" if self.planned
                else f"{self.done} session{'s' if self.done != 1 else ''}")

    def describe(self) -> str:
        if self.course is not None and self.course.ended_on is not None:
            return f"{self._count()} — ended early on {day_text(self.course.ended_on)}"
        if self.done == 0:
            return "no session yet"
        count = self._count()
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
    due = next_due(last, weeks) if last and not (course and course.ended_on) else None
    return CourseProgress(course, len(own), course.planned_sessions if course else None, last,
                          due)


def course_line(course: Course, sessions: list[Session]) -> str:
    """The card's line: "Course: acne scars — session 3 of 4, next due 14 Dec 2026"."""
    progress = course_progress(course, sessions)
    where = progress._count()
    if course.ended_on is not None:
        why = f": {course.end_reason.strip()}" if course.end_reason.strip() else ""
        state = f"ended early on {day_text(course.ended_on)}{why}"
    elif progress.finished:
        state = "course complete"
    elif progress.done == 0:
        state = f"first due {day_text(course.started_on)}"
    elif progress.next_due is not None:
        state = f"next due {day_text(progress.next_due)}"
    else:
        return f"Course: {course.concern} — {where}"
    return f"Course: {course.concern} — {where}, {state}"


def course_under_way(courses: list[Course], sessions: list[Session]) -> Course | None:
    """The course a new session belongs to: the latest started that is neither ended early
    nor complete, or None."""
    under_way = [c for c in courses if course_progress(c, sessions).under_way]
    return max(under_way, key=lambda c: c.started_on, default=None)


def courses_offered(courses: list[Course], sessions: list[Session],
                    keep: str | None = None) -> list[Course]:
    """The courses a session may be put in: those under way, and the course `keep` (the
    session's own) whatever its state, in the order they started."""
    return sorted((c for c in courses
                   if c.id == keep or course_progress(c, sessions).under_way),
                  key=lambda c: c.started_on)


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
