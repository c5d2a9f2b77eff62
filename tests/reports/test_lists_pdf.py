"""The printed due list and recall list, from a real file through the store, read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from io import BytesIO

import pytest
from list_clinic import LOT, TODAY, fill
from pypdf import PdfReader

from needledesk.domain.list_text import due_count_text, recall_count_text, recall_filter_text
from needledesk.domain.model import ProductKind
from needledesk.domain.safety import DueRow, DueState, RecallRow
from needledesk.reports.lists import (
    default_due_name,
    default_recall_name,
    due_list_pdf,
    recall_list_pdf,
)
from needledesk.store import lists


def _text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


@pytest.fixture
def clinic(repo):
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.phone = "+44 117 555 0100"
    repo.save_settings(settings, by="Jane Smith")
    return fill(repo)


def test_due_list_names_phones_dates_states_and_a_separate_lapsed_section(repo, clinic):
    rows = lists.due(repo.db, TODAY, within_days=7)
    text, pages = _text(due_list_pdf(rows, repo.settings(), today=TODAY, within_days=7))
    assert pages == 1
    assert "Lumen Skin Studio" in text and "Who is due" in text
    assert "On 1 Dec 2026; also those due within 7 days" in text
    assert "2 courses due or overdue, 1 due soon, 1 lapsed" in text
    for name, phone in (("Анна Петрова", "+7 900 555 0101"), ("Ben Okafor", "+44 7700 900123"),
                        ("Dara Kim", "555 0199"), ("Chloé Martin", "+33 6 12 34 56 78")):
        assert name in text and phone in text
    assert "Eve Ended" not in text, "a course ended early is not listed"
    assert "due today" in text and "overdue 12" in text and "in 5 days" in text
    assert "3 of 5" in text and "20 Oct 2026" in text and "19 Nov 2026" in text
    due, lapsed = text.split("Lapsed courses")
    assert "Chloé Martin" in lapsed and "Chloé Martin" not in due
    assert "Ben Okafor" in due and "Ben Okafor" not in lapsed
    assert "29 Jul 2026" in lapsed
    assert "Page 1 of 1" in text
    # the upcoming one is only there when asked for
    text, _ = _text(due_list_pdf(lists.due(repo.db, TODAY), repo.settings(), today=TODAY))
    assert "Dara Kim" not in text and "2 courses due or overdue, 1 lapsed" in text


def test_recall_list_every_use_with_phones_and_the_amended_mark(repo, clinic):
    rows = lists.recall(repo.db, LOT)
    text, _ = _text(recall_list_pdf(rows, LOT, repo.settings(), today=TODAY))
    assert "Recall of lot HA-0923" in text
    assert "Any product, any date" in text
    assert "Found on 3 sessions of 3 clients (1 amended after sign-off)" in text
    for day, name, phone in (("1 Jul 2026", "Chloé Martin", "+33 6 12 34 56 78"),
                             ("8 Oct 2026", "Ben Okafor", "+44 7700 900123"),
                             ("20 Oct 2026", "Анна Петрова", "+7 900 555 0101")):
        assert day in text and name in text and phone in text
    assert "amended" in text.split("Ben Okafor")[1].split("\n")[0] or \
        "amended" in text.split("Growth factor serum")[1][:80]
    assert "Topical anaesthetic" in text and "LMX4" in text
    assert "Eve Ended" not in text, "HA-0924 is another lot"
    assert text.index("1 Jul 2026") < text.index("8 Oct 2026") < text.index("20 Oct 2026")


def test_recall_list_with_filters_says_so_and_counts_what_it_found(repo, clinic):
    kinds = [ProductKind.SERUM]
    rows = lists.recall(repo.db, LOT, kinds=kinds, start=date(2026, 10, 10))
    text, _ = _text(recall_list_pdf(rows, LOT, repo.settings(), today=TODAY, kinds=kinds,
                                    start=date(2026, 10, 10)))
    assert "Serum, from 10 Oct 2026" in text
    assert "Found on 1 session of 1 client" in text
    assert "Анна Петрова" in text and "Chloé Martin" not in text
    nothing, _ = _text(recall_list_pdf([], "ZZ-1", repo.settings(), today=TODAY))
    assert "No session used this lot." in nothing and "Recall of lot ZZ-1" in nothing


def test_a_long_list_runs_over_pages_with_their_numbers():
    from needledesk.settings import ClinicSettings

    row = DueRow("c", "Nguyễn Thị Minh", "+84 90 555 0000", "k", "acne scars", 6, 1, 4,
                 date(2026, 10, 1), date(2026, 11, 12), DueState.OVERDUE, 19)
    rows = [replace(row, client_name=f"Client {i:03d}") for i in range(90)] + [row]
    text, pages = _text(due_list_pdf(rows, ClinicSettings(page_size="letter"), today=TODAY))
    assert pages >= 2
    assert f"Page {pages} of {pages}" in text
    assert "Nguyễn Thị Minh" in text and "Client 089" in text
    assert text.count("Client") >= 90 + pages, "the header row repeats on every page"


def test_counts_filters_and_file_names_in_plain_words():
    recall = RecallRow("s1", "c1", "A", None, datetime(2026, 11, 3, 10), ProductKind.SERUM,
                       "HA", "L1", "Jane", True, False)
    assert recall_count_text([recall, replace(recall, kind=ProductKind.CARTRIDGE)]) == \
        "Found on 1 session of 1 client"
    assert recall_filter_text(None, None, date(2026, 11, 3)) == "Any product, up to 3 Nov 2026"
    assert recall_filter_text(list(ProductKind), None, None) == "Any product, any date"
    assert due_count_text([]) == "No course is due."
    assert default_due_name(TODAY) == "2026-12-01 who is due.pdf"
    assert default_recall_name(" HA/09 ", TODAY) == "2026-12-01 recall of lot HA 09.pdf"
