"""The printed records show what a visit now records: the anaesthetic's lot where the
anaesthetic is shown, and the screening re-confirmed at the visit, named by its date; a
session without them prints as before. Read back from PDFs made from a real file."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client, make_course, make_screening, make_session

from needledesk.domain.model import Anaesthetic, ScreeningCheck, ScreeningOutcome
from needledesk.reports.build import course_record_pdf, session_summary_pdf

BY = "Jane Smith"
TODAY = date(2026, 12, 2)


def _between(text: str, start: str, end: str | None) -> str:
    """The text from `start` up to `end` (or the end)."""
    begin = text.index(start)
    stop = text.index(end, begin) if end else len(text)
    return text[begin:stop]


@pytest.fixture
def visits(repo):
    client = repo.add_client(make_client(), by=BY)
    course = repo.add_course(make_course(client.id), by=BY)
    first_screening = repo.add_screening(make_screening(client.id, date=date(2026, 11, 3)),
                                         by=BY)
    # a session from before the question existed: no check, no anaesthetic lot
    before = make_session(
        client.id, course_id=course.id, started_at=datetime(2026, 11, 5, 10, 30),
        anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 11, 5, 9, 30),
                                datetime(2026, 11, 5, 10, 20)))
    repo.save_draft(before, by=BY)
    unchanged = make_session(
        client.id, course_id=course.id, started_at=datetime(2026, 11, 20, 10, 30),
        anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 20, 9, 30),
                                datetime(2026, 11, 20, 10, 25), lot="E-77"),
        screening_check=ScreeningCheck(first_screening.id, ScreeningOutcome.NO_CHANGE))
    repo.save_draft(unchanged, by=BY)
    repo.sign_session(unchanged.id, datetime(2026, 11, 20, 11, 10), by=BY)
    new_screening = repo.add_screening(make_screening(client.id, date=date(2026, 12, 1)),
                                       by=BY)
    updated = make_session(
        client.id, course_id=course.id, started_at=datetime(2026, 12, 1, 10, 30),
        anaesthetic=Anaesthetic("LMX4", datetime(2026, 12, 1, 9, 30),
                                datetime(2026, 12, 1, 10, 25)),
        screening_check=ScreeningCheck(new_screening.id, ScreeningOutcome.UPDATED))
    repo.save_draft(updated, by=BY)
    return repo, client.id, before.id, unchanged.id, updated.id


def test_the_course_record_shows_each_visits_screening_and_the_anaesthetic_lot(visits,
                                                                              read_pdf):
    repo, client_id, *_ = visits
    text = " ".join(read_pdf(course_record_pdf(repo, client_id, today=TODAY)))
    sessions = _between(text, "Sessions", None)
    before = _between(sessions, "5 Nov 2026, 10:30", "20 Nov 2026, 10:30")
    unchanged = _between(sessions, "20 Nov 2026, 10:30", "1 Dec 2026, 10:30")
    updated = _between(sessions, "1 Dec 2026, 10:30", None)

    assert "Screening Screening of 3 Nov 2026 re-confirmed: no change" in unchanged
    assert "Anaesthetic LMX4 (lot E-77), applied 09:30, removed 10:25" in unchanged
    assert "Screening Screening updated at the visit: new screening of 1 Dec 2026" in updated
    assert "Anaesthetic LMX4, applied 09:30" in updated     # no lot recorded: none printed
    # the session from before: as it always printed
    assert "Anaesthetic EMLA 5%, applied 09:30, removed 10:20" in before
    assert "re-confirmed" not in before and "Screening updated" not in before
    assert "(lot" not in before.split("Serums")[0]


def test_the_summary_has_a_short_line_for_the_screening_and_the_lot_on_one_page(visits,
                                                                                read_pdf):
    repo, _client_id, before_id, unchanged_id, updated_id = visits
    [page] = read_pdf(session_summary_pdf(repo, unchanged_id, today=TODAY))
    assert "Numbing cream LMX4 (lot E-77), on the skin for 55 min (09:30–10:25)" in page
    assert "Screening Screening of 3 Nov 2026 re-confirmed: no change" in page

    [page] = read_pdf(session_summary_pdf(repo, updated_id, today=TODAY))
    assert "Screening Screening updated at the visit: new screening of 1 Dec 2026" \
        in page
    assert "Numbing cream LMX4, on the skin for 55 min" in page

    [page] = read_pdf(session_summary_pdf(repo, before_id, today=TODAY))
    assert "Screening Screening" not in page and "re-confirmed" not in page
    assert "Numbing cream EMLA 5%, on the skin for 50 min (09:30–10:20)" in page


def test_a_session_without_the_new_facts_prints_the_same_pdf_as_before(visits):
    """Rendered with and without the client's screenings, a session with no check is the
    same document: nothing new is added to it."""
    from needledesk.reports.summary import render_session_summary

    repo, client_id, before_id, *_ = visits
    client, session = repo.get_client(client_id), repo.get_session(before_id)
    args = (client, session, repo.sessions(client_id), repo.courses(client_id), repo.settings())
    with_screenings = render_session_summary(*args, today=TODAY,
                                             screenings=repo.screenings(client_id))
    without = render_session_summary(*args, today=TODAY)
    assert _pdf_body(with_screenings) == _pdf_body(without)


def _pdf_body(pdf: bytes) -> list[bytes]:
    """Each page's drawing (the file's creation time and id differ on every run)."""
    from io import BytesIO

    from pypdf import PdfReader

    return [page.get_contents().get_data() for page in PdfReader(BytesIO(pdf)).pages]
