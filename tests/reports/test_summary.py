"""The session summary read back with pypdf: every field on one page, text exactly as typed,
drafts marked, page size from settings, and a handout that never spills onto a second page."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from io import BytesIO

import pytest
from factories import make_client, make_course, make_session
from pypdf import PdfReader

from needledesk.domain.guidelines import STANDARD_AREAS
from needledesk.domain.model import REACTION_KINDS, Observed, Reaction, TreatedArea
from needledesk.reports.build import default_course_name, default_summary_name, session_summary_pdf
from needledesk.reports.summary import DRAFT_MARK, WHAT_TO_EXPECT, render_session_summary
from needledesk.reports.text import chunks, markup
from needledesk.settings import DEFAULT_AFTERCARE_TEXT

ESCAPE_NAME = "AT&T <script>alert(1)</script> & Søn"
SCRIPT_NAMES = [("Анастасия", "Иванова"), ("Ελένη", "Παπαδοπούλου"), ("Nguyễn", "Thị Ánh")]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_field_of_the_handout_is_on_one_page(clinic, read_pdf, today):
    pdf = session_summary_pdf(clinic.repo, clinic.second_id, today=today)
    pages = read_pdf(pdf)
    assert len(pages) == 1
    text = pages[0]
    expected = [
        # the clinic's header
        "Lumen Skin Studio", "14 Harbour Street, Bristol BS1 4QA", "+44 117 555 0100",
        # the client and the session
        "Ana López", "14 Mar 1988", "20 Nov 2026, 10:30", "Jane Smith", "Session 2 of 4",
        # each area with depth and passes, in its table row (capitalised on the handout)
        "Cheeks 1.50 mm 3 pinpoint bleeding", "Forehead 0.50 mm 2 even erythema",
        # anaesthetic and contact time; serums with their lots
        "LMX4, on the skin for 55 min (09:30–10:25)",
        "Hyaluronic acid 1% (lot HA-0923)", "Vitamin C serum (lot VC-1142)",
        # reactions with severity words and when seen
        "Erythema — moderate, immediately", "Dryness/flaking — mild, at follow-up: around the chin",
        # what to expect, the clinic's aftercare text and the items given
        flat(WHAT_TO_EXPECT), flat(DEFAULT_AFTERCARE_TEXT),
        "SPF 50 sunscreen every day", "Gentle cleanser",
        # the next date: six weeks on (the course's interval)
        "Next recommended session: from 1 Jan 2027 (6–8 weeks)",
        # the signature line of a signed session
        "Practitioner: Jane Smith Signature: Signed off: 20 Nov 2026, 11:10",
    ]
    for field in expected:
        assert field in text, field
    # the practitioner's clinical notes stay in the course record
    assert "Client asked about treating the neck next time." not in text
    assert DRAFT_MARK not in text
    assert "DRAFT" not in text


def test_logo_is_drawn_and_a_broken_logo_is_left_out(clinic):
    def images(pdf: bytes) -> int:
        page = PdfReader(BytesIO(pdf)).pages[0]
        xobjects = page["/Resources"].get("/XObject", {})
        return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")

    assert images(session_summary_pdf(clinic.repo, clinic.second_id)) == 1
    settings = clinic.repo.settings()
    settings.logo = b"\x89PNG\r\n\x1a\n this is not really a png"
    clinic.repo.save_settings(settings, by="Jane Smith")
    assert images(session_summary_pdf(clinic.repo, clinic.second_id)) == 0


def test_a_draft_carries_a_visible_mark_and_a_blank_sign_off(clinic, read_pdf):
    repo = clinic.repo
    draft = make_session(clinic.client_id, started_at=datetime(2026, 12, 1, 9, 0))
    repo.save_draft(draft, by="Jane Smith")
    text = read_pdf(session_summary_pdf(repo, draft.id))[0]
    assert DRAFT_MARK in text
    assert "Signed off:" in text
    assert "Signed off: 1 Dec" not in text


def test_next_date_outside_a_course_uses_the_clinic_default(clinic, read_pdf):
    settings = clinic.repo.settings()
    settings.default_interval_weeks = 8
    clinic.repo.save_settings(settings, by="Jane Smith")
    single = make_session(clinic.client_id, started_at=datetime(2026, 12, 1, 9, 0))
    clinic.repo.save_draft(single, by="Jane Smith")
    text = read_pdf(session_summary_pdf(clinic.repo, single.id))[0]
    assert "Next recommended session: from 26 Jan 2027 (8–10 weeks)" in text
    assert "Session 1" in text


def test_the_last_session_of_a_course_says_it_is_complete(read_pdf, settings):
    client = make_client()
    course = make_course(client.id, planned_sessions=2)
    sessions = [make_session(client.id, course_id=course.id, started_at=datetime(2026, m, 3, 9))
                for m in (9, 11)]
    text = read_pdf(render_session_summary(client, sessions[1], sessions, [course], settings))[0]
    assert "Session 2 of 2" in text
    assert "This completes your course of 2 sessions." in text
    assert "Next recommended session" not in text


@pytest.mark.parametrize("first, last", [("Ana", ESCAPE_NAME), *SCRIPT_NAMES])
def test_names_print_exactly_as_typed(first, last, read_pdf, settings):
    client = make_client(first_name=first, last_name=last)
    session = make_session(client.id, practitioner=last,
                           aftercare=[f"{last} & <b>not bold</b>"],
                           areas=[TreatedArea(f"{last} area", 1.0, 2)])
    text = read_pdf(render_session_summary(client, session, [session], [], settings))[0]
    assert f"{first} {last}" in text
    assert f"Practitioner: {last}" in text
    assert f"{last} area 1.00 mm 2" in text
    assert f"{last} & <b>not bold</b>" in text


def test_clinic_text_is_escaped_too(read_pdf, settings):
    settings = replace(settings, clinic_name="Smith & Co <Skin>", address="1 <High> St & Sons",
                       aftercare_text="Use SPF > 30 & avoid <sun>.")
    client = make_client()
    session = make_session(client.id)
    text = read_pdf(render_session_summary(client, session, [session], [], settings))[0]
    for typed in ("Smith & Co <Skin>", "1 <High> St & Sons", "Use SPF > 30 & avoid <sun>."):
        assert typed in text


def test_control_characters_and_markup_lookalikes_do_not_break_the_page(read_pdf, settings):
    client = make_client(last_name="Lo\x00pez\x07")
    session = make_session(client.id,
                           aftercare=["tab\there\r\nnew line &amp; &nbsp; <br/> </para>"])
    text = read_pdf(render_session_summary(client, session, [session], [], settings))[0]
    assert "Ana Lopez" in text
    assert "tab here new line &amp; &nbsp; <br/> </para>" in text


LONG_NOTES = {
    "words": ("Tolerated well, mild erythema only. " * 6000)[:200_000],
    "lines": "\n".join(f"Line {i}: checked the skin, all calm." for i in range(5600))[:200_000],
    "one word": "x" * 200_000,
}


@pytest.mark.parametrize("kind", LONG_NOTES)
def test_the_handout_stays_one_page_whatever_the_session_holds(kind, read_pdf, settings):
    client = make_client()
    session = make_session(
        client.id,
        areas=[TreatedArea(area, 0.5, 2, "even erythema", "n" * 5000) for area in STANDARD_AREAS],
        reactions=[Reaction(kind_, 1, Observed.NEXT_DAY, "seen " * 200) for kind_ in
                   REACTION_KINDS],
        aftercare=[f"Aftercare item {i}" for i in range(30)],
        notes=LONG_NOTES[kind])
    pages = read_pdf(render_session_summary(client, session, [session], [], settings))
    assert len(pages) == 1
    assert "checked the skin" not in pages[0] and "Tolerated well" not in pages[0], \
        "clinical notes stay in the course record"
    assert "Décolletage" in pages[0] and "Aftercare item 29" in pages[0]


@pytest.mark.parametrize("size, box", [("A4", (595.28, 841.89)), ("Letter", (612, 792))])
def test_page_size_comes_from_the_settings(size, box, settings):
    client = make_client()
    session = make_session(client.id)
    pdf = render_session_summary(client, session, [session], [], replace(settings, page_size=size))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == box


def test_default_file_names_keep_letters_and_drop_what_windows_refuses(today):
    client = make_client()
    session = make_session(client.id)
    assert default_summary_name(client, session) == "2026-11-20 López Ana summary.pdf"
    assert default_course_name(client, today) == "2026-11-21 López Ana course record.pdf"
    odd = make_client(first_name="Zoë.", last_name='O"Brien/Núñez: <a>|b?*\\')
    assert default_summary_name(odd, session) == "2026-11-20 O Brien Núñez a b Zoë summary.pdf"
    cyrillic = make_client(first_name="Анастасия", last_name="Иванова")
    assert default_course_name(cyrillic, today) == "2026-11-21 Иванова Анастасия course record.pdf"


def test_markup_escapes_and_long_lines_split_into_bounded_chunks():
    assert markup("AT&T <x>\nnext") == "AT&amp;T &lt;x&gt;<br/>next"
    pieces = chunks("word " * 1000, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(pieces) == "word " * 1000
    assert "".join(chunks("y" * 2000, 500)) == "y" * 2000
    # a combining mark is never cut from its letter
    decomposed = "e\u0301" * 600
    pieces = chunks(decomposed, 501)
    assert len(pieces) > 2 and "".join(pieces) == decomposed
    assert not any(p.startswith("\u0301") for p in pieces)


def test_a_name_in_a_script_dejavu_lacks_still_renders(read_pdf, settings):
    client = make_client(first_name="芳", last_name="王")
    session = make_session(client.id)
    assert len(read_pdf(render_session_summary(client, session, [session], [], settings))) == 1
