"""The PDFs never fail on a valid record: long unbroken words wrap, a hundred areas flow across
pages, dates at the edges of the allowed years print, and a record stored before the years
were limited (dated 9999) still prints. Every record here is saved through the repository,
so it passes the rules; the PDFs are read back with pypdf."""

from __future__ import annotations

from datetime import date, datetime

from factories import make_client, make_course, make_session

from needledesk.domain.course import course_progress
from needledesk.domain.model import Anaesthetic, Reaction, Serum, TreatedArea
from needledesk.reports.build import course_record_pdf, session_summary_pdf


def squeezed(pages: list[str]) -> str:
    """All pages' text without any whitespace, so a word wrapped over lines reads whole."""
    return "".join("".join(pages).split())


def test_long_unbroken_words_wrap_in_both_pdfs(repo, read_pdf, today):
    word = "W" * 200  # the widest letter, 200 of them: wider than any column
    client = repo.add_client(make_client(first_name="X" * 200, last_name=word), by="Jane Smith")
    course = repo.add_course(make_course(client.id, concern="c" * 200), by="Jane Smith")
    session = make_session(client.id, course_id=course.id, practitioner="P" * 200,
                           areas=[TreatedArea(word, 1.0, 2, "E" * 200, "Ж" * 400)],
                           serums=[Serum("S" * 100, "L" * 100)], combined_with=["K" * 200],
                           reactions=[Reaction("R" * 200, 1, notes="Ю" * 400)],
                           aftercare=["A" * 200] * 12)
    repo.save_draft(session, by="Jane Smith")

    summary = read_pdf(session_summary_pdf(repo, session.id, today=today))
    assert len(summary) == 1
    assert word in squeezed(summary) and "E" * 200 in squeezed(summary)

    record = read_pdf(course_record_pdf(repo, client.id, today=today))
    assert word in squeezed(record)
    # Notes that fill a cell wrap within it, every letter printed (a table may read its cells
    # out line by line, so count rather than look for the run).
    assert squeezed(record).count("Ж") == 400 and squeezed(record).count("Ю") == 400


def test_a_hundred_areas_flow_across_pages_in_the_course_record(repo, read_pdf, today):
    client = repo.add_client(make_client(), by="Jane Smith")
    areas = [TreatedArea(f"area {i:03d}", 0.5 + (i % 5) * 0.25, 2) for i in range(100)]
    session = make_session(client.id, areas=areas)
    repo.save_draft(session, by="Jane Smith")

    pages = read_pdf(course_record_pdf(repo, client.id, today=today))
    text = " ".join(pages)
    assert len(pages) > 1
    assert all(f"area {i:03d}" in text for i in range(100))
    assert "Depth over time (the first 16 of 100 areas; the tables above list them all)" in text
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]

    summary = read_pdf(session_summary_pdf(repo, session.id, today=today))
    assert len(summary) == 1  # the handout scales down, it never spills onto a second sheet
    assert "Area 099" in summary[0]


def test_dates_at_the_edges_of_the_allowed_years(repo, read_pdf, today):
    client = repo.add_client(make_client(date_of_birth=date(1900, 1, 1)), by="Jane Smith")
    course = repo.add_course(make_course(client.id, started_on=date(2100, 12, 31)), by="Jane Smith")
    session = make_session(client.id, course_id=course.id,
                           started_at=datetime(2100, 12, 31, 10, 30),
                           anaesthetic=Anaesthetic("LMX4", datetime(2100, 12, 31, 9, 30),
                                                   datetime(2100, 12, 31, 10, 20)))
    repo.save_draft(session, by="Jane Smith")

    record = " ".join(read_pdf(course_record_pdf(repo, client.id, today=today)))
    assert "1 Jan 1900" in record and "31 Dec 2100" in record
    assert "next due 11 Feb 2101" in record
    summary = read_pdf(session_summary_pdf(repo, session.id, today=today))
    assert "Next recommended session: from 11 Feb 2101 (6–8 weeks)" in summary[0]


def test_a_record_stored_in_year_9999_still_prints(repo, read_pdf, today):
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id), by="Jane Smith")
    session = make_session(client.id, course_id=course.id)
    repo.save_draft(session, by="Jane Smith")
    # As a NeedleDesk before the year limits could have stored it.
    repo.db.execute("UPDATE courses SET started_on = '9999-06-01'")
    repo.db.execute("UPDATE sessions SET started_at = '9999-12-20T10:30'")

    progress = course_progress(repo.courses(client.id)[0], repo.sessions(client.id))
    assert progress.next_due is None
    assert progress.describe() == "session 1 of 4"

    record = " ".join(read_pdf(course_record_pdf(repo, client.id, today=today)))
    assert "20 Dec 9999" in record
    summary = read_pdf(session_summary_pdf(repo, session.id, today=today))
    assert "Next recommended session: in 6–8 weeks" in summary[0]
