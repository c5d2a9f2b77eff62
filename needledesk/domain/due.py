"""Who is due: when a course's next session falls and where it stands on a day. No Qt, no SQL.

The store reads each open course's facts (`store.lists.due`); this decides from them alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from needledesk.domain.safety import DueRow, DueState


@dataclass(frozen=True)
class CourseFacts:
    """What the due list needs to know of one course, as read from the store."""

    client_id: str
    client_name: str
    phone: str | None
    course_id: str
    concern: str
    interval_weeks: int
    planned_sessions: int
    started_on: date
    #: Set when the course was ended before its planned sessions: it is never due.
    ended_on: date | None
    #: Sessions recorded in the course, drafts included (the client came).
    sessions_done: int
    #: The day of the course's latest session (None: none yet).
    last_session: date | None


def next_due(facts: CourseFacts) -> date:
    """The day the course's next session is due: its last session's day plus the interval,
    or the day the course starts when it has no session yet."""
    if facts.last_session is None:
        return facts.started_on
    return facts.last_session + timedelta(weeks=facts.interval_weeks)


def due_state(due_on: date, today: date, interval_weeks: int, *, within_days: int = 0,
              lapsed_after_intervals: int = 2) -> DueState | None:
    """Where a session due on `due_on` stands on `today`: UPCOMING when due in 1 to
    `within_days` days, DUE on the day, OVERDUE after it, LAPSED once more than
    `lapsed_after_intervals` intervals have passed since the due day; None when it is due
    later than `within_days` days from today."""
    days_overdue = (today - due_on).days
    if days_overdue < 0:
        return DueState.UPCOMING if -days_overdue <= within_days else None
    if days_overdue == 0:
        return DueState.DUE
    if days_overdue > lapsed_after_intervals * interval_weeks * 7:
        return DueState.LAPSED
    return DueState.OVERDUE


def due_row(facts: CourseFacts, today: date, *, within_days: int = 0,
            lapsed_after_intervals: int = 2) -> DueRow | None:
    """The course's row on the due list on `today`, or None when it is not on it: ended
    early, complete (its planned sessions all done), or due later than `within_days`."""
    if facts.ended_on is not None or facts.sessions_done >= facts.planned_sessions:
        return None
    due_on = next_due(facts)
    state = due_state(due_on, today, facts.interval_weeks, within_days=within_days,
                      lapsed_after_intervals=lapsed_after_intervals)
    if state is None:
        return None
    return DueRow(client_id=facts.client_id, client_name=facts.client_name, phone=facts.phone,
                  course_id=facts.course_id, concern=facts.concern,
                  interval_weeks=facts.interval_weeks, sessions_done=facts.sessions_done,
                  planned_sessions=facts.planned_sessions, last_session=facts.last_session,
                  due_on=due_on, state=state, days_overdue=(today - due_on).days)


def state_text(row: DueRow) -> str:
    """How a row's state reads: "due today", "overdue 12 days", "lapsed (overdue 90 days)",
    "in 5 days"."""
    days = abs(row.days_overdue)
    plural = "" if days == 1 else "s"
    if row.state is DueState.UPCOMING:
        return f"in {days} day{plural}"
    if row.state is DueState.DUE:
        return "due today"
    if row.state is DueState.LAPSED:
        return f"lapsed (overdue {days} day{plural})"
    return f"overdue {days} day{plural}"


def due_rows(courses: list[CourseFacts], today: date, *, within_days: int = 0,
             lapsed_after_intervals: int = 2) -> list[DueRow]:
    """The due list: every course's row that is on it, by due day, then client name."""
    rows = [row for facts in courses
            if (row := due_row(facts, today, within_days=within_days,
                               lapsed_after_intervals=lapsed_after_intervals)) is not None]
    rows.sort(key=lambda r: (r.due_on, r.client_name.casefold(), r.client_id, r.course_id))
    return rows
