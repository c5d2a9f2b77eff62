"""Text without markup skips reportlab's parser (`reports.text._plain_frags`): the PDFs must
be byte for byte those the parser makes, for every record of a varied demo clinic and for
text that the parser cleans (runs of spaces, line breaks, markup characters)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import make_client, make_session
from reportlab import rl_config
from reportlab.lib.styles import ParagraphStyle

from needledesk.demo import DEMO_AS_OF, fill
from needledesk.reports import text
from needledesk.reports.build import course_record_pdf, session_summary_pdf


@pytest.fixture
def invariant(monkeypatch):
    monkeypatch.setattr(rl_config, "invariant", 1)


def _both(monkeypatch, make) -> tuple[bytes, bytes]:
    fast = make()
    with monkeypatch.context() as m:
        m.setattr(text, "_plain_frags", lambda _text, _style: None)
        parsed = make()
    return fast, parsed


def test_the_demo_clinics_pdfs_are_the_parsers(repo, invariant, monkeypatch):
    fill(repo, clients=12, seed=5)
    clients = repo.find_clients("").fetch(0, 12)
    made = 0
    for summary in clients:
        sessions = repo.sessions(summary.id)
        if not sessions:
            continue
        fast, parsed = _both(monkeypatch, lambda c=summary.id: course_record_pdf(
            repo, c, today=DEMO_AS_OF))
        assert fast == parsed, f"course record of {summary.full_name}"
        fast, parsed = _both(monkeypatch, lambda s=sessions[-1].id: session_summary_pdf(
            repo, s, today=DEMO_AS_OF))
        assert fast == parsed, f"summary of {summary.full_name}"
        made += 1
    assert made >= 5


def test_text_the_parser_cleans_or_reads_prints_the_same(repo, invariant, monkeypatch):
    client = repo.add_client(make_client(first_name="  Ana   María ", last_name="O'Neill & Co"),
                             by="Jane Smith")
    session = repo.save_draft(replace(
        make_session(client.id),
        notes="Two  spaces,\nthen a line break;\n\n  indented  <b>not bold</b> & AT&T\t tab",
        practitioner="Jane   Smith"), by="Jane Smith")
    for make in (lambda: course_record_pdf(repo, client.id),
                 lambda: session_summary_pdf(repo, session.id)):
        fast, parsed = _both(monkeypatch, make)
        assert fast == parsed


def test_the_fast_path_is_taken_for_plain_text_only():
    style = ParagraphStyle("test-plain")
    assert text._plain_frags("Cheeks and forehead", style) is not None
    assert text._plain_frags("AT&amp;T", style) is None
    assert text._plain_frags("<b>bold</b>", style) is None
    assert text._plain_frags("   ", style) is None
    (frag,) = text._plain_frags("  two   words \n here ", style)
    assert frag.text == "two words here"
