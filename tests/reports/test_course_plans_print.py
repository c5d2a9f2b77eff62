"""Both PDFs show a course's progress and next due date, its planned areas, and an early
ending with its reason (issue 13, item 1), read back from the real PDFs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from needledesk.reports.build import course_record_pdf, session_summary_pdf


def _course(clinic):
    [course] = clinic.repo.courses(clinic.client_id)
    return course


def test_the_course_record_shows_progress_next_due_and_planned_areas(clinic, read_pdf,
                                                                     today):
    course = _course(clinic)
    clinic.repo.update_course(replace(course, areas_planned=["cheeks", "temples"]),
                              by="Jane Smith")
    text = " ".join(read_pdf(course_record_pdf(clinic.repo, clinic.client_id, today=today)))
    assert "session 2 of 4 — next due 1 Jan 2027" in text
    assert "Areas planned: cheeks, temples" in text


def test_the_summary_shows_progress_and_the_next_due_date(clinic, read_pdf, today):
    text = " ".join(read_pdf(session_summary_pdf(clinic.repo, clinic.second_id, today=today)))
    assert "Session 2 of 4 · acne scars" in text
    assert "Next recommended session: from 1 Jan 2027" in text


def test_a_course_ended_early_prints_its_ending_and_no_next_date(clinic, read_pdf, today):
    course = _course(clinic)
    clinic.repo.end_course(course.id, date(2026, 11, 21), "moving abroad", by="Jane Smith")
    record = " ".join(read_pdf(course_record_pdf(clinic.repo, clinic.client_id, today=today)))
    assert "session 2 of 4 — ended early on 21 Nov 2026 — moving abroad" in record
    assert "next due" not in record
    summary = " ".join(read_pdf(session_summary_pdf(clinic.repo, clinic.second_id,
                                                    today=today)))
    assert "Session 2 of 4 · acne scars · ended early on 21 Nov 2026" in summary
    assert "Your course ended on 21 Nov 2026 after session 2 of 4: no further session is " \
           "planned in it." in summary
    assert "Next recommended session" not in summary
