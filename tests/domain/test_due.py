"""Who is due, decided from a course's plain facts against fixed days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from needledesk.domain.due import (
    CourseFacts,
    due_row,
    due_rows,
    due_state,
    next_due,
    state_text,
)
from needledesk.domain.safety import DueState

TODAY = date(2026, 11, 20)


def facts(**overrides) -> CourseFacts:
    fields = {"client_id": "c1", "client_name": "Ana López", "phone": "+1 555 0100",
              "course_id": "k1", "concern": "acne scars", "interval_weeks": 6,
              "planned_sessions": 4, "started_on": date(2026, 8, 1), "ended_on": None,
              "sessions_done": 1, "last_session": TODAY - timedelta(weeks=6)}
    return CourseFacts(**(fields | overrides))


def test_due_on_the_day():
    row = due_row(facts(), TODAY)
    assert row is not None
    assert (row.state, row.due_on, row.days_overdue) == (DueState.DUE, TODAY, 0)
    assert (row.sessions_done, row.planned_sessions, row.interval_weeks) == (1, 4, 6)


def test_overdue_counts_the_days_past():
    row = due_row(facts(last_session=TODAY - timedelta(weeks=6, days=3)), TODAY)
    assert row is not None
    assert (row.state, row.days_overdue, row.due_on) == (
        DueState.OVERDUE, 3, TODAY - timedelta(days=3))


@pytest.mark.parametrize("lapse, past, state", [
    (2, 84, DueState.OVERDUE),   # exactly twice the 6-week interval past the due day
    (2, 85, DueState.LAPSED),    # one day more
    (1, 42, DueState.OVERDUE),
    (1, 43, DueState.LAPSED),
    (3, 126, DueState.OVERDUE),
    (3, 127, DueState.LAPSED),
])
def test_lapsed_after_the_clinics_number_of_intervals(lapse, past, state):
    due_on = TODAY - timedelta(days=past)
    row = due_row(facts(last_session=due_on - timedelta(weeks=6)), TODAY,
                  lapsed_after_intervals=lapse)
    assert row is not None
    assert (row.state, row.days_overdue) == (state, past)


def test_ended_early_is_never_listed_however_late():
    assert due_row(facts(ended_on=date(2026, 10, 1)), TODAY) is None
    assert due_row(facts(ended_on=date(2026, 10, 1),
                         last_session=TODAY - timedelta(weeks=40)), TODAY) is None


def test_complete_is_not_listed():
    assert due_row(facts(sessions_done=4), TODAY) is None
    assert due_row(facts(sessions_done=5), TODAY) is None
    assert due_row(facts(sessions_done=3), TODAY) is not None


@pytest.mark.parametrize("within, in_days, listed", [
    (7, 7, True), (7, 8, False), (7, 1, True), (0, 1, False), (30, 30, True), (30, 31, False),
])
def test_upcoming_within_the_days_asked(within, in_days, listed):
    row = due_row(facts(last_session=TODAY - timedelta(weeks=6) + timedelta(days=in_days)),
                  TODAY, within_days=within)
    assert (row is not None) is listed
    if listed:
        assert (row.state, row.days_overdue) == (DueState.UPCOMING, -in_days)


def test_no_session_yet_is_due_from_the_course_start():
    course = facts(sessions_done=0, last_session=None, started_on=TODAY - timedelta(days=2))
    assert next_due(course) == TODAY - timedelta(days=2)
    row = due_row(course, TODAY)
    assert row is not None
    assert (row.state, row.last_session, row.days_overdue) == (DueState.OVERDUE, None, 2)
    assert due_row(replace(course, started_on=TODAY + timedelta(days=5)), TODAY) is None
    assert due_row(replace(course, started_on=TODAY + timedelta(days=5)), TODAY,
                   within_days=5).state is DueState.UPCOMING


def test_due_state_boundaries():
    assert due_state(TODAY, TODAY, 6) is DueState.DUE
    assert due_state(TODAY + timedelta(days=1), TODAY, 6) is None
    assert due_state(TODAY + timedelta(days=1), TODAY, 6, within_days=1) is DueState.UPCOMING
    assert due_state(TODAY - timedelta(days=1), TODAY, 6) is DueState.OVERDUE


def test_rows_by_due_day_then_client_name():
    courses = [
        facts(client_id="b", client_name="zoë Adams", course_id="k2",
              last_session=TODAY - timedelta(weeks=6, days=1)),
        facts(client_id="a", client_name="Ana López", course_id="k1",
              last_session=TODAY - timedelta(weeks=6)),
        facts(client_id="c", client_name="Ben Wu", course_id="k3",
              last_session=TODAY - timedelta(weeks=6)),
        facts(client_id="d", client_name="Dee Done", course_id="k4", sessions_done=4),
    ]
    rows = due_rows(courses, TODAY)
    assert [(r.client_name, r.state) for r in rows] == [
        ("zoë Adams", DueState.OVERDUE), ("Ana López", DueState.DUE), ("Ben Wu", DueState.DUE)]


@pytest.mark.parametrize("last_ago, within, text", [
    (42, 0, "due today"), (43, 0, "overdue 1 day"), (54, 0, "overdue 12 days"),
    (42 + 85, 0, "lapsed (overdue 85 days)"), (37, 7, "in 5 days"), (41, 7, "in 1 day"),
])
def test_state_text(last_ago, within, text):
    row = due_row(facts(last_session=TODAY - timedelta(days=last_ago)), TODAY,
                  within_days=within)
    assert state_text(row) == text
