"""Course progress as the client card shows it."""

from __future__ import annotations

from datetime import date, datetime

from factories import make_course, make_session

from needledesk.domain.course import course_progress, session_number


def test_progress_and_next_due():
    course = make_course("c1", planned_sessions=4, interval_weeks=6)
    sessions = [make_session("c1", course_id=course.id, started_at=datetime(2026, m, 1, 10))
                for m in (9, 10, 11)]
    progress = course_progress(course, sessions)
    assert (progress.done, progress.planned, progress.next_due) == (3, 4, date(2026, 12, 13))
    assert progress.describe() == "session 3 of 4 — next due 13 Dec 2026"
    assert session_number(sessions[1], sessions, course) == (2, 4)


def test_finished_course_and_sessions_outside_a_course():
    course = make_course("c1", planned_sessions=1)
    done = make_session("c1", course_id=course.id)
    assert course_progress(course, [done]).describe() == "session 1 of 1 — course complete"
    loose = make_session("c1", started_at=datetime(2026, 1, 5, 10))
    assert course_progress(None, [done, loose], 8).describe() == \
        "1 session — next due 2 Mar 2026"
    assert course_progress(course, []).describe() == "no session yet"
