"""A clinic on a real file for the due list and the recall: courses due today, overdue,
lapsed, due in a few days and ended early, and sessions that used lot HA-0923 as a serum,
an anaesthetic and (amended after sign-off) a serum again. `TODAY` is the day they are
listed on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from factories import make_client, make_course, make_session

from needledesk.domain.model import Anaesthetic, Serum

TODAY = date(2026, 12, 1)
LOT = "HA-0923"


@dataclass
class ListClinic:
    due_today: str      # client ids
    overdue: str
    lapsed: str
    upcoming: str
    ended: str
    amended_session: str


def _session(repo, client_id, course_id, when: datetime, **overrides):
    session = make_session(client_id, **({"course_id": course_id, "started_at": when,
                                          "anaesthetic": None} | overrides))
    return repo.save_draft(session, by="Jane Smith")


def fill(repo) -> ListClinic:
    by = "Jane Smith"
    anna = repo.add_client(make_client(first_name="Анна", last_name="Петрова",
                                       phone="+7 900 555 0101"), by=by)
    course = repo.add_course(make_course(anna.id, concern="acne scars", planned_sessions=5,
                                         interval_weeks=6, started_on=date(2026, 9, 8)), by=by)
    _session(repo, anna.id, course.id, datetime(2026, 9, 8, 10, 0), serums=[])
    _session(repo, anna.id, course.id, datetime(2026, 10, 20, 10, 0),
             serums=[Serum("Hyaluronic acid 1%", LOT)])

    ben = repo.add_client(make_client(first_name="Ben", last_name="Okafor",
                                      phone="+44 7700 900123"), by=by)
    course = repo.add_course(make_course(ben.id, concern="fine lines", planned_sessions=4,
                                         interval_weeks=6, started_on=date(2026, 10, 8)), by=by)
    first = _session(repo, ben.id, course.id, datetime(2026, 10, 8, 14, 0),
                     serums=[Serum("Growth factor serum", "HA-0900")])
    repo.sign_session(first.id, datetime(2026, 10, 8, 15, 0), by=by)
    signed = repo.get_session(first.id)
    repo.amend_session(replace(signed, serums=[Serum("Growth factor serum", " ha-0923 ")]),
                       by=by, reason="lot misread on the box", at=datetime(2026, 10, 9, 9, 0))

    chloe = repo.add_client(make_client(first_name="Chloé", last_name="Martin",
                                        phone="+33 6 12 34 56 78"), by=by)
    course = repo.add_course(make_course(chloe.id, concern="enlarged pores", planned_sessions=3,
                                         interval_weeks=4, started_on=date(2026, 7, 1)), by=by)
    _session(repo, chloe.id, course.id, datetime(2026, 7, 1, 9, 30), serums=[],
             anaesthetic=Anaesthetic("LMX4", datetime(2026, 7, 1, 8, 30),
                                     datetime(2026, 7, 1, 9, 20), lot=LOT.lower()))

    dara = repo.add_client(make_client(first_name="Dara", last_name="Kim", phone="555 0199"),
                           by=by)
    repo.add_course(make_course(dara.id, concern="uneven tone and texture", planned_sessions=3,
                                interval_weeks=6, started_on=date(2026, 12, 6)), by=by)

    eve = repo.add_client(make_client(first_name="Eve", last_name="Ended", phone="555 0123"),
                          by=by)
    course = repo.add_course(make_course(eve.id, concern="stretch marks", planned_sessions=4,
                                         interval_weeks=6, started_on=date(2026, 9, 1)), by=by)
    _session(repo, eve.id, course.id, datetime(2026, 9, 1, 11, 0),
             serums=[Serum("Hyaluronic acid 1%", "HA-0924")])
    repo.end_course(course.id, date(2026, 9, 20), "moved away", by=by)
    return ListClinic(anna.id, ben.id, chloe.id, dara.id, eve.id, first.id)
