"""Which consent covers a visit (issue 15), as the session editor and the client card show
it: the latest treatment consent signed on or before the visit's day, its form version, and
in red when none does or it is past the clinic's limit. The editor's guideline warning about
it is acknowledged like the others."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from conftest import EDITOR_NOW
from factories import make_client, make_consent, make_screening, make_session

from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import PHOTO_USES, ConsentKind, ConsentMethod
from needledesk.ui.client_card import screening_summary_html
from needledesk.ui.session_editor import SessionEditor, consent_line_html

RED = "color:#b3261e"


@pytest.fixture
def person(ui_repo):
    """A client with a screening on file that never had the old consent tick."""
    client = ui_repo.add_client(make_client(first_name="Inés"), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, date=date(2026, 11, 1),
                                         consent_signed=False), by="Jane Smith")
    return client


def _sign(ui_repo, client, form=None, **overrides):
    form = form or default_template(ConsentKind.TREATMENT)
    stored = ui_repo.current_template(form.kind)
    return ui_repo.add_consent(make_consent(client.id, form, **overrides), by="Jane Smith",
                               template=None if stored and stored.id == form.id else form)


def _editor(qtbot, ui_repo, client, settings=None, session=None):
    editor = SessionEditor(ui_repo, settings or ui_repo.settings(), client, session,
                           user="Jane Smith", now=lambda: EDITOR_NOW)
    qtbot.addWidget(editor)
    return editor


def test_the_editor_names_the_consent_signed_on_screen_and_its_form_version(qtbot, ui_repo,
                                                                            person):
    _sign(ui_repo, person, signed_at=datetime(2026, 10, 1, 9, 0))     # under version 1
    v2 = ui_repo.add_template_version(ConsentKind.TREATMENT, "Consent (revised)",
                                      "Microneedling makes fine punctures.",
                                      list(default_template(ConsentKind.TREATMENT).statements),
                                      by="Jane Smith")
    _sign(ui_repo, person, v2, signed_at=datetime(2026, 11, 3, 10, 42))
    editor = _editor(qtbot, ui_repo, person)
    text = editor.status.text()
    assert "Treatment consent: signed on screen on 3 Nov 2026 at 10:42 (form version 2)" in text
    assert RED not in text
    assert [w.code for w in editor._warnings(editor.session()[0])
            if "consent" in w.code] == []


def test_no_consent_is_said_in_red_and_acknowledged_like_the_other_warnings(
        qtbot, ui_repo, person, monkeypatch):
    editor = _editor(qtbot, ui_repo, person)
    text = editor.status.text()
    assert f"<span style='{RED}; font-weight:600'>⚠ No signed treatment consent covers this " \
           "visit</span>" in text
    seen = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: seen.extend(w.code for w in warnings) or "signing after"))
    assert editor.acknowledge_at_start()
    assert seen == ["screening: no consent"]
    assert [(a.code, a.reason) for a in editor.acknowledged] == [
        ("screening: no consent", "signing after")]


def test_a_photo_consent_does_not_cover_the_treatment(qtbot, ui_repo, person):
    photo = default_template(ConsentKind.PHOTO)
    _sign(ui_repo, person, photo, answers={key: True for key in PHOTO_USES})
    editor = _editor(qtbot, ui_repo, person)
    assert "No signed treatment consent covers this visit" in editor.status.text()
    assert "screening: no consent" in [w.code for w in editor._warnings(editor.session()[0])]


def test_a_consent_signed_after_the_sessions_day_does_not_cover_it(qtbot, ui_repo, person):
    _sign(ui_repo, person, signed_at=datetime(2026, 11, 21, 9, 0))
    draft = make_session(person.id, started_at=datetime(2026, 11, 20, 10, 30))
    editor = _editor(qtbot, ui_repo, person, session=ui_repo.save_draft(draft, by="Jane Smith"))
    assert "No signed treatment consent covers this visit" in editor.status.text()
    # the editor reads the visit's day as it is set: a day after the signing is covered
    assert consent_line_html(ui_repo.consents(person.id, carried=True), date(2026, 11, 21)) \
        == "Treatment consent: signed on screen on 21 Nov 2026 at 09:00 (form version 1)"


def test_an_old_screening_tick_covers_the_visit_as_a_paper_consent(qtbot, ui_repo):
    client = ui_repo.add_client(make_client(first_name="Olga"), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, date=date(2026, 6, 1)), by="Jane Smith")
    editor = _editor(qtbot, ui_repo, client)
    assert ("Treatment consent: signed on paper on 1 Jun 2026 (recorded with the screening)"
            in editor.status.text())


def test_a_consent_past_the_clinics_limit_is_in_red_with_its_age(qtbot, ui_repo, person):
    _sign(ui_repo, person, signed_at=datetime(2026, 3, 1, 9, 15))
    within = _editor(qtbot, ui_repo, person)              # 264 days: inside the default year
    assert "Treatment consent: signed on screen on 1 Mar 2026 at 09:15" in within.status.text()
    strict = replace(ui_repo.settings(), consent_max_days=200)
    editor = _editor(qtbot, ui_repo, person, settings=strict)
    text = editor.status.text()
    assert f"<span style='{RED}; font-weight:600'>⚠ Treatment consent signed on screen on " \
           "1 Mar 2026 at 09:15 (form version 1): consent over 200 days old (signed 264 days " \
           "ago)</span>" in text
    assert "screening: consent older than 200 days" in [
        w.code for w in editor._warnings(editor.session()[0])]


def test_a_paper_consent_recorded_later_replaces_the_old_one_on_the_line(qtbot, ui_repo):
    client = ui_repo.add_client(make_client(first_name="Olga"), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, date=date(2025, 6, 1)), by="Jane Smith")
    assert "consent over a year old (signed 537 days ago)" in \
        _editor(qtbot, ui_repo, client).status.text()
    form = default_template(ConsentKind.TREATMENT)
    _sign(ui_repo, client, form, method=ConsentMethod.ON_PAPER, client_signature=None,
          practitioner_signature=None, signed_at=datetime(2026, 11, 19, 0, 0))
    text = _editor(qtbot, ui_repo, client).status.text()
    assert "Treatment consent: signed on paper on 19 Nov 2026 (form version 1)" in text
    assert RED not in text


# --- the card ----------------------------------------------------------------------------


def test_the_card_names_the_covering_consent_and_its_age(qtbot, window, ui_repo, person):
    window.show_client(person.id)
    assert "consent not signed" in window.screening_label.text()
    _sign(ui_repo, person, signed_at=datetime(2026, 11, 3, 10, 42))
    window.show_client(person.id)
    assert "consent signed on screen on 3 Nov 2026 at 10:42" in window.screening_label.text()
    screening = make_screening(person.id, date=date(2026, 11, 1), consent_signed=False)
    consents = ui_repo.consents(person.id, carried=True)
    today = date(2027, 11, 4)                          # 366 days after the signing
    html = screening_summary_html(screening, today, consents=consents)
    assert "⚠ consent over a year old (signed 366 days ago)" in html
    assert "signed 366 days ago" not in screening_summary_html(
        screening, date(2027, 11, 3), consents=consents)
    assert "⚠ consent over 730 days old" not in screening_summary_html(
        screening, today, consents=consents, max_days=730)
    photo_only = [replace(c, kind=ConsentKind.PHOTO) for c in consents]
    assert "consent not signed" in screening_summary_html(screening, today,
                                                          consents=photo_only)
