"""The consent rule: the latest treatment consent signed on or before a visit's day covers it,
and is out of date past the clinic's limit (365 days by default). One domain rule, used by
the session's warnings, the client card and the course record. Consents ticked on an old
screening count as treatment consents signed on paper."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from factories import make_client, make_screening, make_session
from pypdf import PdfReader

from needledesk.domain.consent import (
    CONSENT_MAX_DAYS,
    NO_CONSENT_CODE,
    all_consents,
    carried_consent,
    consent_age_text,
    consent_code,
    consent_expired,
    consent_state,
    covering,
    signed_text,
)
from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import (
    PHOTO_USES,
    Consent,
    ConsentKind,
    ConsentMethod,
    Signature,
    StrokePoint,
)
from needledesk.domain.rules import consent_warnings, session_warnings
from needledesk.reports.build import course_record_pdf
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

SIGNED = date(2025, 11, 1)


def paper_consent(client_id: str = "c1", on: date = SIGNED,
                  kind: ConsentKind = ConsentKind.TREATMENT, **overrides) -> Consent:
    """A consent recorded as signed on paper on the day `on`, with the shipped form's text."""
    form = default_template(kind)
    fields = dict(client_id=client_id, kind=kind,
                  signed_at=datetime.combine(on, datetime.min.time()),
                  method=ConsentMethod.ON_PAPER, practitioner="Jane Smith", title=form.title,
                  body=form.body, statements=list(form.statements),
                  answers={s.key: True for s in form.statements})
    return Consent(**(fields | overrides))


def _signature(offset: float = 0.0) -> Signature:
    stroke = [StrokePoint(20 + offset + i * 6, 40 + (i % 3) * 5, 0.4 + i / 40, i * 12)
              for i in range(12)]
    return Signature([stroke], 300, 100)


def screen_consent(client_id: str, form, signed_at: datetime) -> Consent:
    """A consent signed on screen under the form version `form`, every statement ticked."""
    return Consent(client_id=client_id, kind=form.kind, signed_at=signed_at,
                   method=ConsentMethod.ON_SCREEN, practitioner="Jane Smith",
                   title=form.title, body=form.body, statements=list(form.statements),
                   answers={s.key: True for s in form.statements}, template_id=form.id,
                   template_version=form.version, client_signature=_signature(),
                   practitioner_signature=_signature(30))


def test_the_default_limit_is_a_year():
    assert CONSENT_MAX_DAYS == 365


@pytest.mark.parametrize(("days", "expired"), [(0, False), (365, False), (366, True),
                                               (900, True)])
def test_a_treatment_consent_expires_after_the_default_year(days, expired):
    consent = paper_consent()
    on = SIGNED + timedelta(days=days)
    assert consent_expired(consent, on) is expired
    state = consent_state(covering([consent], on), on)
    assert (state.signed, state.age_days, state.expired, state.current) == (
        True, days, expired, not expired)


@pytest.mark.parametrize(("limit", "days", "expired"), [(180, 180, False), (180, 181, True),
                                                        (730, 366, False), (730, 731, True)])
def test_the_clinic_limit_is_taken(limit, days, expired):
    consent = paper_consent()
    on = SIGNED + timedelta(days=days)
    assert consent_expired(consent, on, max_days=limit) is expired
    codes = [w.code for w in consent_warnings([consent], on, limit)]
    assert codes == ([consent_code(limit)] if expired else [])
    assert consent_code(180) == "screening: consent older than 180 days"


def test_no_consent_is_not_an_expired_one():
    """A missing consent has its own warning ("screening: no consent"), not an age."""
    assert not consent_expired(None, SIGNED)
    state = consent_state(None, SIGNED)
    assert (state.signed, state.expired, state.age_days) == (False, False, None)
    (warning,) = consent_warnings([], SIGNED, 365)
    assert (warning.code, warning.path, warning.message) == (
        NO_CONSENT_CODE, "consents", "no signed treatment consent covers this visit")


def test_a_photo_consent_never_covers_treatment():
    photo = paper_consent(kind=ConsentKind.PHOTO,
                          answers={key: True for key in PHOTO_USES})
    assert covering([photo], SIGNED) is None
    assert covering([photo], SIGNED, ConsentKind.PHOTO) is photo
    assert [w.code for w in consent_warnings([photo], SIGNED, 365)] == [NO_CONSENT_CODE]
    session = make_session("c1", started_at=datetime(2025, 11, 20, 10, 30))
    assert NO_CONSENT_CODE in [w.code for w in session_warnings(session, [], consents=[photo])]


def test_a_consent_signed_after_the_visit_does_not_cover_it():
    session = make_session("c1", started_at=datetime(2025, 11, 20, 10, 30))
    late = paper_consent(on=date(2025, 11, 21))
    assert covering([late], date(2025, 11, 20)) is None
    assert NO_CONSENT_CODE in [w.code for w in session_warnings(session, [], consents=[late])]
    # signed the same day, even after the visit began: that day's consent covers it
    same_day = paper_consent(signed_at=datetime(2025, 11, 20, 17, 5))
    assert covering([late, same_day], date(2025, 11, 20)) is same_day
    screening = make_screening("c1", date=date(2025, 11, 20), consent_signed=False)
    assert session_warnings(session, [screening], consents=[late, same_day]) == []


def test_the_latest_consent_before_the_visit_covers_it():
    old = paper_consent(on=date(2024, 1, 5))
    recent = paper_consent(on=date(2025, 10, 1))
    after = paper_consent(on=date(2025, 12, 1))
    assert covering([recent, after, old], date(2025, 11, 20)) is recent
    # the recent one is within the year: the old one's age is not warned about
    assert consent_warnings([old, recent, after], date(2025, 11, 20), 365) == []
    assert [w.code for w in consent_warnings([old], date(2025, 11, 20), 365)] == [
        consent_code(365)]


def test_a_screening_tick_counts_as_a_treatment_consent_signed_on_paper():
    screening = make_screening("c1", date=SIGNED)
    carried = carried_consent(screening)
    assert (carried.kind, carried.method, carried.signed_at.date(), carried.carried_from) == (
        ConsentKind.TREATMENT, ConsentMethod.ON_PAPER, SIGNED, screening.id)
    assert carried.id == carried_consent(screening).id    # the same consent each time read
    assert signed_text(carried) == "signed on paper on 1 Nov 2025"
    unticked = make_screening("c1", date=date(2025, 12, 1), consent_signed=False)
    assert [c.id for c in all_consents([], [screening, unticked])] == [carried.id]
    soon = make_session("c1", started_at=datetime(2026, 3, 1, 10, 0))
    assert session_warnings(soon, [screening, unticked], consent_max_days=365) == []
    assert [w.code for w in session_warnings(soon, [unticked])] == [NO_CONSENT_CODE]


def test_session_warnings_name_an_old_consent_when_given_the_limit():
    screening = make_screening("c1", date=SIGNED)
    late = make_session("c1", started_at=datetime(2026, 11, 20, 10, 30))
    (warning,) = session_warnings(late, [screening], consent_max_days=365)
    assert warning.code == "screening: consent older than 365 days"
    assert warning.message == ("treatment consent of 1 Nov 2025: consent over a year old "
                               "(signed 384 days ago)")
    assert warning.path == "consents"
    # a consent signed since, kept in NeedleDesk, covers the visit instead
    fresh = paper_consent(on=date(2026, 11, 2))
    assert session_warnings(late, [screening], consent_max_days=365, consents=[fresh]) == []


def test_import_and_demo_warnings_are_unchanged_without_a_limit():
    screening = make_screening("c1", date=SIGNED)
    late = make_session("c1", started_at=datetime(2026, 11, 20, 10, 30))
    assert session_warnings(late, [screening]) == []


def test_the_card_and_the_record_share_the_wording():
    assert consent_age_text(paper_consent(), date(2026, 11, 21)) == (
        "consent over a year old (signed 385 days ago)")
    assert consent_age_text(paper_consent(), date(2026, 11, 21), 200) == (
        "consent over 200 days old (signed 385 days ago)")


def test_signed_text_names_how_and_when():
    form = default_template(ConsentKind.TREATMENT)
    on_screen = screen_consent("c1", form, datetime(2026, 11, 3, 10, 42, 7))
    assert signed_text(on_screen) == "signed on screen on 3 Nov 2026 at 10:42"
    assert signed_text(paper_consent(on=date(2026, 11, 3))) == "signed on paper on 3 Nov 2026"


def test_a_new_form_version_leaves_consents_signed_under_the_old_one_intact(tmp_path):
    db = open_database(tmp_path / "clinic.db")
    try:
        repo = Repository(db)
        client = repo.add_client(make_client(), by="Jane Smith")
        shipped = default_template(ConsentKind.TREATMENT)
        signed = repo.add_consent(screen_consent(client.id, shipped,
                                                 datetime(2026, 11, 3, 10, 42, 7)),
                                  by="Jane Smith", template=shipped,
                                  today=date(2026, 11, 3))
        v1 = repo.current_template(ConsentKind.TREATMENT)
        assert (v1.id, v1.version) == (shipped.id, 1)
        v2 = repo.add_template_version(
            ConsentKind.TREATMENT, "Consent to microneedling (2027)",
            shipped.body + "\n\nPhotographs are covered by a separate form.",
            list(shipped.statements), by="Jane Smith")
        assert v2.version == 2 and repo.current_template(ConsentKind.TREATMENT).id == v2.id
        kept = repo.get_consent(signed.id)
        assert (kept.title, kept.body, kept.statements) == (
            shipped.title, shipped.body, shipped.statements)
        assert (kept.template_id, kept.template_version) == (shipped.id, 1)
        assert "separate form" not in kept.body
        assert [t.version for t in repo.consent_templates(ConsentKind.TREATMENT)] == [1, 2]
        assert repo.get_template(shipped.id).body == shipped.body
        assert check_database(db) == []
        # the consent still covers the client's visits, under the text it was signed with
        (covers,) = [c for c in repo.consents(client.id, carried=True)
                     if c.id == covering(repo.consents(client.id), date(2026, 11, 20)).id]
        assert covers.body == shipped.body
    finally:
        db.close()


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
    assert "consent over a year old (signed 385 days ago)" in old
    assert "consent over a year old" not in fresh
