"""Consent over the clinic's limit (365 days by default): one domain rule, used by the
session's warnings, the client card and the course record."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from factories import make_client, make_screening, make_session
from pypdf import PdfReader

from needledesk.domain.consent import (
    CONSENT_MAX_DAYS,
    consent_age_text,
    consent_code,
    consent_expired,
    consent_state,
)
from needledesk.domain.rules import session_warnings
from needledesk.reports.build import course_record_pdf
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

SIGNED = date(2025, 11, 1)


def test_the_default_limit_is_a_year():
    assert CONSENT_MAX_DAYS == 365


@pytest.mark.parametrize(("days", "expired"), [(0, False), (365, False), (366, True),
                                               (900, True)])
def test_consent_expires_after_the_limit(days, expired):
    screening = make_screening("c1", date=SIGNED)
    on = SIGNED + timedelta(days=days)
    assert consent_expired(screening, on) is expired
    assert consent_state(screening, on).age_days == days


def test_the_clinic_limit_is_taken():
    screening = make_screening("c1", date=SIGNED)
    assert not consent_expired(screening, SIGNED + timedelta(days=200))
    assert consent_expired(screening, SIGNED + timedelta(days=200), max_days=180)
    assert consent_code(180) == "screening: consent older than 180 days"


def test_no_consent_is_not_an_expired_one():
    """A missing or unsigned consent has its own warning ("screening: no consent")."""
    assert not consent_expired(None, SIGNED)
    unsigned = make_screening("c1", date=SIGNED, consent_signed=False)
    assert not consent_expired(unsigned, SIGNED + timedelta(days=900))
    assert not consent_state(unsigned, SIGNED).signed


def test_session_warnings_name_an_old_consent_when_given_the_limit():
    screening = make_screening("c1", date=SIGNED)
    late = make_session("c1", started_at=datetime(2026, 11, 20, 10, 30))
    codes = [w.code for w in session_warnings(late, [screening], consent_max_days=365)]
    assert codes == ["screening: consent older than 365 days"]
    (warning,) = session_warnings(late, [screening], consent_max_days=365)
    assert warning.message == ("screening of 1 Nov 2025: consent over a year old "
                               "(signed 384 days ago)")
    assert warning.path == "consent_signed"
    # within the year: nothing; an unsigned consent keeps its own warning only
    soon = make_session("c1", started_at=datetime(2026, 3, 1, 10, 0))
    assert session_warnings(soon, [screening], consent_max_days=365) == []
    unsigned = make_screening("c1", date=SIGNED, consent_signed=False)
    assert [w.code for w in session_warnings(late, [unsigned], consent_max_days=365)] == [
        "screening: no consent"]


def test_import_and_demo_warnings_are_unchanged_without_a_limit():
    screening = make_screening("c1", date=SIGNED)
    late = make_session("c1", started_at=datetime(2026, 11, 20, 10, 30))
    assert session_warnings(late, [screening]) == []


def test_the_card_and_the_record_share_the_wording():
    screening = make_screening("c1", date=SIGNED)
    assert consent_age_text(screening, date(2026, 11, 21)) == (
        "consent over a year old (signed 385 days ago)")


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(BytesIO(data)).pages)


def test_the_course_record_marks_a_consent_over_the_limit(tmp_path):
    db = open_database(tmp_path / "clinic.db")
    try:
        repo = Repository(db)
        client = repo.add_client(make_client(), by="Jane Smith")
        repo.add_screening(make_screening(client.id, date=SIGNED), by="Jane Smith")
        repo.save_draft(make_session(client.id, started_at=datetime(2026, 11, 20, 10, 30)),
                        by="Jane Smith")
        old = _pdf_text(course_record_pdf(repo, client.id, today=date(2026, 11, 21)))
        fresh = _pdf_text(course_record_pdf(repo, client.id, today=date(2026, 3, 1)))
    finally:
        db.close()
    assert "1 Nov 2025 signed consent over a year old (signed 385 days ago)" in old
    assert "consent over a year old" not in fresh and "1 Nov 2025 signed none" in fresh
