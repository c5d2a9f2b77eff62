"""The recall and due lists read from a real file against fixed days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from engines import raw
from factories import make_client, make_course, make_session

from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    Lot,
    Product,
    ProductKind,
    Serum,
)
from needledesk.domain.safety import DueState
from needledesk.store import lists

BY = "Jane Smith"
TODAY = date(2026, 11, 20)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0)


def _session(client_id: str, when: datetime, *, serums=(), anaesthetic_lot=None,
             cartridge_lot=None, course_id=None, **overrides):
    anaesthetic = Anaesthetic("LMX4", when - timedelta(minutes=45), when - timedelta(minutes=5),
                              lot=anaesthetic_lot)
    return make_session(client_id, started_at=when, course_id=course_id,
                        serums=[Serum(p, lot) for p, lot in serums], anaesthetic=anaesthetic,
                        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", cartridge_lot),
                        **overrides)


@pytest.fixture
def clinic(repo):
    """Four clients and their sessions using a handful of lots, one signed and amended."""
    ana = repo.add_client(make_client(first_name="Ana", last_name="López",
                                      phone="+1 555 0100"), by=BY)
    ben = repo.add_client(make_client(first_name="Ben", last_name="Wu", phone=None), by=BY)
    cleo = repo.add_client(make_client(first_name="Cleo", last_name="Adams",
                                       phone="+1 555 0199"), by=BY)
    dan = repo.add_client(make_client(first_name="Dan", last_name="Okafor"), by=BY)
    serum = repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM), by=BY)
    ha = repo.add_lot(Lot(serum.id, "HA-0923", date(2027, 3, 1)), by=BY)
    day = date(2026, 10, 1)
    s = {}
    # Picked from the catalogue, with its lot id.
    s["ana1"] = _session(ana.id, _at(day), serums=[("Hyaluronic acid 1%", "HA-0923")])
    s["ana1"].serums[0].lot_id = ha.id
    # The same lot typed in another case with spaces, second serum line, before a catalogue.
    s["ben1"] = _session(ben.id, _at(day + timedelta(days=3)),
                         serums=[("Vitamin C", "VC-1"), ("Hyaluronic acid", "  ha-0923 ")])
    # An anaesthetic lot and a cartridge lot typed as free text.
    s["cleo1"] = _session(cleo.id, _at(day + timedelta(days=7)), anaesthetic_lot="LX-77",
                          cartridge_lot="CT-5")
    s["dan1"] = _session(dan.id, _at(day + timedelta(days=7)), cartridge_lot="ct-5 ",
                         serums=[("Peptides", "PP-2")])
    for session in s.values():
        repo.save_draft(session, by=BY)
    # Dan's session is signed, then its serum lot corrected from PP-2 to HA-0923.
    repo.sign_session(s["dan1"].id, _at(day + timedelta(days=7), 12), by=BY)
    signed = repo.get_session(s["dan1"].id)
    fixed = replace(signed, serums=[Serum("Peptides", "ha-0923")])
    repo.amend_session(fixed, by=BY, reason="lot misread")
    return {"ana": ana, "ben": ben, "cleo": cleo, "dan": dan, "sessions": s}


def test_recall_finds_each_use_of_a_serum_lot_whatever_its_case_and_spaces(repo, clinic):
    rows = lists.recall(repo.db, " ha-0923")
    assert [(r.client_name, r.kind, r.product, r.lot, r.amended) for r in rows] == [
        ("Ana López", ProductKind.SERUM, "Hyaluronic acid 1%", "HA-0923", False),
        ("Ben Wu", ProductKind.SERUM, "Hyaluronic acid", "  ha-0923 ", False),
        ("Dan Okafor", ProductKind.SERUM, "Peptides", "ha-0923", True),
    ]
    assert rows[0].phone == "+1 555 0100" and rows[1].phone is None
    assert rows[0].started_at == datetime(2026, 10, 1, 10, 0)
    assert [r.signed for r in rows] == [False, False, True]
    assert rows[2].practitioner == BY


def test_an_amended_lot_is_no_longer_found_under_its_old_text(repo, clinic):
    assert lists.recall(repo.db, "PP-2") == []


def test_anaesthetic_and_cartridge_lots(repo, clinic):
    rows = lists.recall(repo.db, "lx-77")
    assert [(r.client_name, r.kind, r.product, r.lot) for r in rows] == [
        ("Cleo Adams", ProductKind.ANAESTHETIC, "LMX4", "LX-77")]
    rows = lists.recall(repo.db, "CT-5")
    # Same start time: by client name.
    assert [(r.client_name, r.kind, r.product, r.lot) for r in rows] == [
        ("Cleo Adams", ProductKind.CARTRIDGE, "16-pin", "CT-5"),
        ("Dan Okafor", ProductKind.CARTRIDGE, "16-pin", "ct-5 ")]


def test_kinds_narrow_the_recall(repo, clinic):
    for text, kind, count in (("CT-5", ProductKind.CARTRIDGE, 2),
                              ("LX-77", ProductKind.ANAESTHETIC, 1),
                              ("HA-0923", ProductKind.SERUM, 3)):
        assert len(lists.recall(repo.db, text, kinds=[kind])) == count
        others = [k for k in ProductKind if k is not kind]
        assert lists.recall(repo.db, text, kinds=others) == []


def test_date_range_is_inclusive_and_either_end_open(repo, clinic):
    def names(**kw):
        return [r.client_name for r in lists.recall(repo.db, "HA-0923", **kw)]

    assert names(start=date(2026, 10, 4)) == ["Ben Wu", "Dan Okafor"]
    assert names(end=date(2026, 10, 4)) == ["Ana López", "Ben Wu"]
    assert names(start=date(2026, 10, 4), end=date(2026, 10, 4)) == ["Ben Wu"]
    assert names(start=date(2026, 10, 2), end=date(2026, 10, 3)) == []
    assert names(start=date(2026, 10, 9)) == []


def test_unknown_or_empty_lot_finds_nothing(repo, clinic):
    assert lists.recall(repo.db, "NO-SUCH") == []
    assert lists.recall(repo.db, "   ") == []


def test_a_plain_connection_reads_the_same(repo, clinic):
    """A connection of its own (a plain sqlite3 one on the file) reads what NeedleDesk's
    does."""
    with raw(repo) as conn:
        found = [r.session_id for r in lists.recall(conn.db, "ha-0923")]
    assert found == [r.session_id for r in lists.recall(repo.db, "ha-0923")]
    assert len(found) == 3


def test_amending_the_anaesthetic_marks_only_that_lot(repo):
    client = repo.add_client(make_client(), by=BY)
    session = _session(client.id, _at(date(2026, 10, 1)), anaesthetic_lot="LX-1",
                       cartridge_lot="CT-9", serums=[("HA", "HA-1")])
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, _at(date(2026, 10, 1), 12), by=BY)
    signed = repo.get_session(session.id)
    repo.amend_session(replace(signed, anaesthetic=replace(signed.anaesthetic, lot="LX-2")),
                       by=BY, reason="wrong tube")
    assert [r.amended for r in lists.recall(repo.db, "LX-2")] == [True]
    assert lists.recall(repo.db, "LX-1") == []
    assert [r.amended for r in lists.recall(repo.db, "CT-9")] == [False]
    assert [r.amended for r in lists.recall(repo.db, "HA-1")] == [False]


def test_a_serum_added_by_an_amendment_is_amended_the_one_kept_is_not(repo):
    client = repo.add_client(make_client(), by=BY)
    session = _session(client.id, _at(date(2026, 10, 1)), serums=[("HA", "HA-1")])
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, _at(date(2026, 10, 1), 12), by=BY)
    signed = repo.get_session(session.id)
    repo.amend_session(replace(signed, serums=[Serum("HA", "HA-1"), Serum("VC", "VC-3")]),
                       by=BY, reason="second serum left out")
    assert [r.amended for r in lists.recall(repo.db, "VC-3")] == [True]
    assert [r.amended for r in lists.recall(repo.db, "HA-1")] == [False]


# --- due --------------------------------------------------------------------------------------


def _course_with_sessions(repo, name: str, *, days_ago: list[int], planned: int = 4,
                          interval: int = 6, started_on: date | None = None, phone=None):
    client = repo.add_client(make_client(first_name=name, last_name="Test", phone=phone), by=BY)
    course = repo.add_course(make_course(client.id, planned_sessions=planned,
                                         interval_weeks=interval,
                                         started_on=started_on or date(2026, 1, 5)), by=BY)
    for ago in days_ago:
        repo.save_draft(_session(client.id, _at(TODAY - timedelta(days=ago)),
                                 course_id=course.id), by=BY)
    return course


@pytest.fixture
def courses(repo):
    six = 42
    made = {
        "due": _course_with_sessions(repo, "Due", days_ago=[six + 42, six], phone="+1 555 0101"),
        "overdue": _course_with_sessions(repo, "Overdue", days_ago=[six + 3]),
        "boundary": _course_with_sessions(repo, "Boundary", days_ago=[six + 84]),
        "lapsed": _course_with_sessions(repo, "Lapsed", days_ago=[six + 85]),
        "ended": _course_with_sessions(repo, "Ended", days_ago=[six + 10]),
        "complete": _course_with_sessions(repo, "Complete", planned=2,
                                          days_ago=[six + 60, six + 10]),
        "soon": _course_with_sessions(repo, "Soon", days_ago=[six - 7]),
        "later": _course_with_sessions(repo, "Later", days_ago=[six - 8]),
        "fresh": _course_with_sessions(repo, "Fresh", days_ago=[],
                                       started_on=TODAY - timedelta(days=1)),
    }
    repo.end_course(made["ended"].id, TODAY - timedelta(days=30), "moved away", by=BY)
    return made


def test_due_list_states_and_order(repo, courses):
    rows = lists.due(repo.db, TODAY)
    assert [(r.client_name, r.state, r.days_overdue) for r in rows] == [
        ("Lapsed Test", DueState.LAPSED, 85),
        ("Boundary Test", DueState.OVERDUE, 84),
        ("Overdue Test", DueState.OVERDUE, 3),
        ("Fresh Test", DueState.OVERDUE, 1),
        ("Due Test", DueState.DUE, 0),
    ]
    due = rows[-1]
    assert (due.sessions_done, due.planned_sessions, due.last_session, due.due_on,
            due.phone, due.course_id) == (
        2, 4, TODAY - timedelta(days=42), TODAY, "+1 555 0101", courses["due"].id)
    assert rows[3].last_session is None and rows[3].sessions_done == 0


def test_due_list_upcoming_within_days(repo, courses):
    names = [(r.client_name, r.state) for r in lists.due(repo.db, TODAY, within_days=7)]
    assert ("Soon Test", DueState.UPCOMING) in names
    assert "Later Test" not in [n for n, _ in names]
    names = [r.client_name for r in lists.due(repo.db, TODAY, within_days=8)]
    assert names[-2:] == ["Soon Test", "Later Test"]


def test_due_list_lapse_limit(repo, courses):
    rows = {r.client_name: r.state for r in lists.due(repo.db, TODAY, lapsed_after_intervals=1)}
    assert rows["Boundary Test"] is DueState.LAPSED
    assert rows["Overdue Test"] is DueState.OVERDUE


def test_due_list_skips_ended_and_complete(repo, courses):
    names = {r.client_name for r in lists.due(repo.db, TODAY, within_days=365)}
    assert "Ended Test" not in names and "Complete Test" not in names
    assert "Later Test" in names

