"""The reactions report PDF, read back with pypdf: the clinic, the period, and the numbers of
sessions saved to a real file."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client, make_session

from needledesk.domain.guidelines import DepthRange
from needledesk.domain.model import Device, DeviceType, Reaction, Serum, TreatedArea
from needledesk.domain.reactions_report import MILD, MODERATE, SEVERE
from needledesk.reports.reactions import render_reactions_report
from needledesk.store.reactions import period_report

BY = "Jane Smith"
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def report_repo(repo):
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.area_depths = {"cheeks": DepthRange(0.5, 1.5)}
    repo.save_settings(settings, by=BY)
    client = repo.add_client(make_client(), by=BY)

    def session(day: int, lot: str, depth: float, reactions: list[Reaction]) -> None:
        repo.save_draft(make_session(
            client.id, started_at=datetime(2026, 11, day, 10, 0), anaesthetic=None,
            device=Device(DeviceType.PEN, "Dermapen 4", None, None),
            areas=[TreatedArea("cheeks", depth)], serums=[Serum("Growth factor serum", lot)],
            reactions=reactions), by=BY)

    # lot GF-1: four sessions, three with a reaction, one severe; GF-2: one, none
    session(2, "GF-1", 1.0, [Reaction("erythema", 1)])
    session(3, "gf-1 ", 2.0, [Reaction("infection", 3), Reaction("oedema", 2)])
    session(4, "GF-1", 2.0, [Reaction("oedema", 2)])
    session(5, "GF-1", 1.0, [Reaction("erythema", 0)])
    session(6, "GF-2", 0.25, [])
    # outside the period: not counted
    repo.save_draft(make_session(client.id, started_at=datetime(2026, 12, 1, 10, 0),
                                 serums=[Serum("Growth factor serum", "GF-2")],
                                 reactions=[Reaction("bruising", 3)]), by=BY)
    return repo


def test_the_pdf_reads_back_the_periods_numbers(report_repo, read_pdf):
    report = period_report(report_repo.db, START, END)
    pdf = render_reactions_report(report, report_repo.settings(), today=date(2026, 12, 2))
    text = " ".join(read_pdf(pdf))

    assert "Lumen Skin Studio" in text
    assert "Reactions report" in text
    assert "1 Nov 2026 to 30 Nov 2026" in text
    # counted from moderate unless chosen otherwise: the mild erythema does not count
    assert "5 sessions in the period; 2 with a moderate or severe reaction (40%): 1 mild, " \
           "2 moderate and 1 severe reaction." in text
    # by depth band: label, areas, sessions, counted, share, mild, moderate, severe
    assert "Below the usual range 1 1 0 0% 0 0 0" in text
    assert "Within the usual range 2 2 0 0% 1 0 0 mild: erythema" in text
    assert "Above the usual range 2 2 2 100% 0 2 1 severe: infection" in text
    # by product and lot: lots grouped ignoring case and spaces, first spelling kept
    assert "Growth factor serum Serum GF-1 4 2 50% 1 severe: infection" in text
    assert "Growth factor serum Serum GF-2 1 0 0% 0 —" in text
    assert "gf-1" not in text
    # the chart and its caption: share of sessions by band and by lot
    assert "Share of sessions with a moderate or severe reaction" in text
    assert "50% of 4" in text and "100% of 2" in text and "0% of 1" in text
    assert "printed 2 Dec 2026" in text


@pytest.mark.parametrize(("threshold", "phrase", "title", "counted", "gf1"), [
    (MILD, "a mild, moderate or severe reaction", "With a reaction", "3", "4 3 75%"),
    (MODERATE, "a moderate or severe reaction", "Moderate or severe", "2", "4 2 50%"),
    (SEVERE, "a severe reaction", "With a severe reaction", "1", "4 1 25%"),
])
def test_the_pdf_says_which_threshold_it_counted_from(report_repo, read_pdf, threshold, phrase,
                                                      title, counted, gf1):
    report = period_report(report_repo.db, START, END, threshold)
    text = " ".join(read_pdf(render_reactions_report(report, report_repo.settings())))
    assert f"5 sessions in the period; {counted} with {phrase} (" in text
    assert f"Share of sessions with {phrase}" in text            # the chart's caption
    assert f"A session is counted as with a reaction when it had {phrase};" in text
    assert f"Sessions {title} Share" in text                     # the tables' heads
    assert f"Growth factor serum Serum GF-1 {gf1}" in text


def test_an_empty_period_says_so(report_repo, read_pdf):
    report = period_report(report_repo.db, date(2025, 1, 1), date(2025, 1, 31))
    [page] = read_pdf(render_reactions_report(report, report_repo.settings()))
    assert "1 Jan 2025 to 31 Jan 2025" in page
    assert "No session was recorded in this period." in page
    assert "By product and lot" not in page


def test_page_size_follows_the_settings(report_repo):
    from io import BytesIO

    from pypdf import PdfReader

    settings = report_repo.settings()
    report = period_report(report_repo.db, START, END)
    settings.page_size = "Letter"
    letter = PdfReader(BytesIO(render_reactions_report(report, settings))).pages[0]
    settings.page_size = "A4"
    a4 = PdfReader(BytesIO(render_reactions_report(report, settings))).pages[0]
    assert round(float(letter.mediabox.width)) == 612
    assert round(float(a4.mediabox.width)) == 595
