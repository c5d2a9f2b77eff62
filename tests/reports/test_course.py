"""The course record read back with pypdf: every session with everything recorded on it, the
depth-by-area table, the client's name and "Page n of N" on every page, and text of any
length flowing across pages instead of failing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from io import BytesIO

import pytest
from factories import make_client, make_course, make_session
from pypdf import PdfReader

from needledesk.domain.model import Amendment, Observed, Reaction, TreatedArea
from needledesk.reports.build import course_record_pdf
from needledesk.reports.course import render_course_record

ESCAPE_NAME = "AT&T <script>alert(1)</script> & Søn"


def squash(text: str) -> str:
    return "".join(text.split())


def test_every_session_and_field_of_the_record(clinic, read_pdf, today):
    pages = read_pdf(course_record_pdf(clinic.repo, clinic.client_id, today=today))
    text = " ".join(pages)
    expected = [
        # the client, the course and the screening
        "Ana López", "14 Mar 1988", "Fitzpatrick III", "session 2 of 4 — next due 1 Jan 2027",
        "Screenings Date Flagged answers 1 Nov 2026 none", "No contraindications today.",
        # the screening's tick read as the treatment consent in force
        "Treatment consent Signed on paper on 1 Nov 2026 — in force",
        # the depth-by-area table: one row per session, one column per area
        "# Date cheeks forehead", "1 9 Oct 2026 1.25 0.50", "2 20 Nov 2026 1.50 0.50",
        # session 1, in full
        "9 Oct 2026, 10:30 Session 1 of 4 · acne scars Signed off 9 Oct 2026, 11:15",
        "Practitioner Lucía Fernández", "Device Pen · Dermapen 4 · 12-pin",
        "EMLA 5%, applied 09:30, removed 10:20 — 50 min contact", "Cartridge lot L2309B",
        "Growth factor serum (lot GF-0817)",
        "Aftercare SPF 50 sunscreen every day; No exercise for 48 hours",
        "cheeks 1.25 mm 3 passes pinpoint bleeding",
        "forehead 0.50 mm 2 passes even erythema kept shallow near brows",
        "oedema 1 mild next day settled by day two",
        "First session of the course; tolerated well.",
        # its amendment: when, who, why, and what changed
        "Amendment 1 — 10 Oct 2026, 08:40 by Jane Smith", "Reason: lot number mistyped",
        "Cartridge lot: L2309 → L2309B",
        # session 2, in full
        "20 Nov 2026, 10:30 Session 2 of 4 · acne scars Signed off 20 Nov 2026, 11:10",
        "Practitioner Jane Smith", "Device Pen · Dermapen 4 · 16-pin", "Cartridge lot L2311A",
        "LMX4, applied 09:30, removed 10:25 — 55 min contact",
        "Hyaluronic acid 1% (lot HA-0923); Vitamin C serum (lot VC-1142)",
        "Combined with chemical peel", "Fee 250.00 USD",
        "cheeks 1.50 mm 3 passes pinpoint bleeding", "erythema 2 moderate immediately",
        "dryness/flaking 1 mild at follow-up around the chin",
        "Client asked about treating the neck next time.",
    ]
    for field in expected:
        assert field in text, field
    assert text.index("9 Oct 2026, 10:30 Session 1") < text.index("20 Nov 2026, 10:30 Session 2")
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Clinical record · Ana López" in page
        assert "Lumen Skin Studio" in page


def _sessions(client_id: str, count: int, **overrides):
    start = datetime(2025, 1, 6, 10, 0)
    return [make_session(client_id, started_at=start + timedelta(weeks=6 * i),
                         signed_at=start + timedelta(weeks=6 * i, hours=1),
                         notes=f"Session {i + 1} notes.", **overrides) for i in range(count)]


def test_many_sessions_run_over_pages_with_name_and_page_count_on_each(read_pdf, settings):
    client = make_client()
    course = make_course(client.id, planned_sessions=20)
    sessions = _sessions(client.id, 20, course_id=course.id)
    pages = read_pdf(render_course_record(client, sessions, [course], [], settings))
    assert len(pages) > 5
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Ana López" in page
    text = " ".join(pages)
    for i in range(1, len(sessions) + 1):
        assert f"Session {i} of 20" in text
        assert f"Session {i} notes." in text


@pytest.mark.parametrize("first, last", [("Ana", ESCAPE_NAME), ("Анастасия", "Иванова"),
                                         ("Ελένη", "Παπαδοπούλου"), ("Nguyễn", "Thị Ánh")])
def test_names_print_exactly_as_typed_in_body_and_header(first, last, read_pdf, settings):
    client = make_client(first_name=first, last_name=last, notes=f"{last} notes")
    course = make_course(client.id, concern=f"{last} concern")
    session = make_session(client.id, course_id=course.id, practitioner=last,
                           areas=[TreatedArea(last, 1.0, 2, last, last)],
                           reactions=[Reaction(last, 1, Observed.IMMEDIATE, last)],
                           notes=f"{last}\n{last}")
    pages = read_pdf(render_course_record(client, [session], [course], [], settings))
    for page in pages:
        assert f"Clinical record · {first} {last}" in page
    text = " ".join(pages)
    assert f"Practitioner {last}" in text
    # A narrow cell may break a long word (`<script>alert(1)</script>`) across lines, which
    # text extraction reads as a space: compare that row without whitespace.
    assert squash(f"{last} 1.00 mm 2 passes {last} {last}") in squash(text)
    assert f"Notes: {last} notes" in text
    assert f"{last} concern" in text


LONG_NOTES = {
    "words": ("Tolerated well, mild erythema only. " * 6000)[:200_000],
    "lines": "\n".join(f"Line {i}: checked the skin, all calm." for i in range(5600))[:200_000],
    "one word": "x" * 200_000,
}


@pytest.mark.parametrize("kind", LONG_NOTES)
def test_a_200_kb_note_flows_over_many_pages(kind, settings):
    client = make_client()
    sessions = _sessions(client.id, 2)
    sessions[0] = replace(sessions[0], notes=LONG_NOTES[kind])
    reader = PdfReader(BytesIO(render_course_record(client, sessions, [], [], settings)))
    assert len(reader.pages) > 10
    last = " ".join(reader.pages[-1].extract_text().split())
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last
    middle = " ".join(reader.pages[5].extract_text().split())
    assert "Session 1, 6 Jan 2025 (continued)" in middle
    assert "Session 2 notes." in last


def test_long_text_inside_tables_moves_below_them_instead_of_failing(read_pdf, settings):
    client = make_client(notes="c" * 20_000)
    note = "Long area note. " * 3000
    session = make_session(
        client.id, signed_at=datetime(2026, 11, 20, 11, 0),
        areas=[TreatedArea("cheeks", 1.5, 3, "pinpoint bleeding", note)],
        reactions=[Reaction("erythema", 2, Observed.IMMEDIATE, "y" * 30_000)],
        amendments=[Amendment(datetime(2026, 11, 21, 9, 0), "Jane Smith", "r" * 2000,
                              {"notes": ["", "z" * 50_000], "areas[0].passes": [2, 3]})])
    pages = read_pdf(render_course_record(client, [session], [], [], settings))
    assert len(pages) > 5
    text = " ".join(pages)
    assert "(in full below the table)" in text
    assert "cheeks: Long area note." in text
    assert "Passes (cheeks): 2 → 3" in text


def test_a_client_without_sessions_still_gets_a_record(read_pdf, settings):
    pages = read_pdf(render_course_record(make_client(), [], [], [], settings))
    assert len(pages) == 1
    assert "No session recorded yet." in pages[0]
    assert "Page 1 of 1" in pages[0]


def test_a_draft_is_marked_in_the_record(read_pdf, settings):
    client = make_client()
    draft = make_session(client.id)
    # (the session may follow the overview's face charts onto page 2)
    text = " ".join(read_pdf(render_course_record(client, [draft], [], [], settings)))
    assert "Draft — not signed off" in text
    assert "Session 1 · outside any course" in text


@pytest.mark.parametrize("size, box", [("A4", (595.28, 841.89)), ("Letter", (612, 792))])
def test_page_size_comes_from_the_settings(size, box, settings):
    client = make_client()
    sessions = _sessions(client.id, 6)
    pdf = render_course_record(client, sessions, [], [], replace(settings, page_size=size))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 2),
                round(float(page.mediabox.height), 2)) == box
