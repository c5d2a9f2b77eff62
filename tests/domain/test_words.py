"""Words for practitioners (issue 13, item 3): every field the domain knows has its on-screen
label in one place (domain.labels); rule messages, amendment lines and audit lines name fields
by that label and show values as the card does, never a dotted path, an ISO time, a repr or
"None"."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from factories import make_client, make_course, make_screening, make_session

from needledesk.domain import model
from needledesk.domain.labels import (
    LABELS,
    audit_lines,
    change_lines,
    field_label,
    generic_path,
    problem_text,
    value_text,
)
from needledesk.domain.model import Anaesthetic, Client, Fee, TreatedArea
from needledesk.domain.rules import validate_client, validate_course, validate_session
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

#: What must never reach a practitioner's eyes.
DEVELOPER_WORDS = {
    "dotted field path": re.compile(r"[A-Za-z_]\.[A-Za-z_]"),
    "ISO time": re.compile(r"\d{4}-\d{2}-\d{2}T"),
    "ISO date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "None": re.compile(r"\bNone\b"),
    "list repr": re.compile(r"\[\{|\{'|\[\]|\['"),
    "bool repr": re.compile(r"\b(True|False)\b"),
    "underscore name": re.compile(r"[a-z]_[a-z]"),
}


def developer_words(text: str) -> list[str]:
    return [name for name, pattern in DEVELOPER_WORDS.items() if pattern.search(text)]


# --- one label for every field the domain knows ------------------------------------------

def _item_type(annotation):
    """The dataclass (or None) a field holds, directly, optionally or as a list's items;
    and whether it is a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        (inner,) = typing.get_args(annotation)
        return (inner if dataclasses.is_dataclass(inner) else None), True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if dataclasses.is_dataclass(arg):
                return arg, False
    return (annotation if dataclasses.is_dataclass(annotation) else None), False


def domain_paths(cls, prefix: str = "") -> list[str]:
    """Every field path of a record class, list items written `[]`, as the exchange
    format names them."""
    paths = []
    hints = typing.get_type_hints(cls, vars(model))
    for f in dataclasses.fields(cls):
        name = "warning" if (cls is model.AcknowledgedWarning and f.name in ("code", "reason")) \
            else f.name
        path = f"{prefix}{name}"
        if path in paths:
            continue
        paths.append(path)
        inner, is_list = _item_type(hints[f.name])
        if is_list:
            paths.append(f"{path}[]")
        if inner is not None:
            paths += domain_paths(inner, f"{path}[]." if is_list else f"{path}.")
    if cls is model.Screening:
        paths += [f"answers.{key}" for key in model.SCREENING_QUESTIONS]
    return paths


KINDS = {"client": model.Client, "course": model.Course, "screening": model.Screening,
         "session": model.Session, "consent": model.Consent,
         "consent_template": model.ConsentTemplate}
EVERY_PATH = [(kind, path) for kind, cls in KINDS.items() for path in domain_paths(cls)]


def test_the_walk_reaches_nested_and_listed_fields():
    paths = {path for _kind, path in EVERY_PATH}
    assert {"areas[].depth_mm", "device.cartridge_lot", "fee.amount", "amendments[].reason",
            "acknowledged_warnings[].by", "first_name", "answers.pregnant",
            "planned_sessions", "areas[].zone", "client_signature.strokes",
            "statements[].text", "practitioner_signature.image_png"} <= paths


@pytest.mark.parametrize(("kind", "path"), EVERY_PATH)
def test_every_field_path_the_domain_knows_has_a_label(kind, path):
    label = LABELS[kind].get(generic_path(path))
    assert label, f"{kind} field {path} has no label in domain.labels"
    assert label[0].isupper() and not developer_words(label), label


# --- rule messages -----------------------------------------------------------------------

def test_a_missing_first_name_reads_first_name_is_required():
    problems = validate_client(Client(first_name=" ", last_name="López"))
    assert [problem_text(p, kind="client") for p in problems] == ["First name is required"]


def test_removed_before_applied_on_the_same_day_shows_the_times_only():
    session = make_session("c1", started_at=datetime(2026, 11, 30, 17, 0),
                           anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 30, 16, 0),
                                                   datetime(2026, 11, 30, 0, 0)))
    texts = [problem_text(p) for p in validate_session(session)]
    assert texts == ["Removed at 00:00 is before Applied at 16:00"]


def test_times_on_different_days_show_the_day_as_the_card_does():
    session = make_session("c1", started_at=datetime(2026, 11, 30, 17, 0),
                           anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 30, 16, 0),
                                                   datetime(2026, 11, 29, 23, 0)))
    texts = [problem_text(p) for p in validate_session(session)]
    assert texts == ["Removed at 29 Nov 2026 23:00 is before Applied at 30 Nov 2026 16:00"]


def test_a_depth_outside_the_range_names_the_area_and_the_range():
    from needledesk.exchange import encode_session

    session = make_session("c1", areas=[TreatedArea("cheeks", 3.5)])
    texts = [problem_text(p, encode_session(session)) for p in validate_session(session)]
    assert texts == ["Depth (cheeks) 3.5 is outside 0.1–3.0 mm"]


def test_signed_before_started_names_both_times_plainly():
    session = make_session("c1", signed_at=datetime(2026, 11, 20, 10, 0))
    (text,) = [problem_text(p) for p in validate_session(session)]
    assert text == "Signed off 10:00 is before the session started (10:30)"


def test_course_and_client_messages_use_labels():
    course = replace(make_course("c1"), planned_sessions=0)
    assert [problem_text(p, kind="course") for p in validate_course(course)] == [
        "Planned sessions 0 is outside 1–20 sessions"]
    client = make_client(fitzpatrick=7)
    assert [problem_text(p, kind="client") for p in validate_client(client)] == [
        "Fitzpatrick type 7 is outside 1–6 (Fitzpatrick type I to VI)"]


@pytest.mark.parametrize("session", [
    make_session("c1", areas=[]),
    make_session("c1", practitioner=""),
    make_session("c1", fee=Fee(Decimal("-5"), "usd")),
    make_session("c1", areas=[TreatedArea("", float("nan"), passes=0)]),
    make_session("c1", signed_at=datetime(2099, 1, 1, 9, 0)),
    make_session("c1", anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 20, 11, 0))),
])
def test_no_rule_message_shows_developer_words(session):
    texts = [problem_text(p) for p in validate_session(session)]
    assert texts
    for text in texts:
        assert not developer_words(text), (text, developer_words(text))


# --- amendment lines and values ----------------------------------------------------------

def test_amendment_lines_name_the_field_by_its_label():
    after = {"fee": {"amount": "280.00", "currency": "EUR"}}
    assert change_lines({"device.cartridge_lot": ["L2605A", "L2605B"],
                         "fee.amount": ["250.00", "280.00"]}, after) == [
        "Cartridge lot: L2605A → L2605B", "Fee: 250.00 EUR → 280.00 EUR"]


@pytest.mark.parametrize(("path", "value", "kind", "expected"), [
    ("signed_at", None, "session", "not set"),
    ("signed_at", "2026-11-30T16:43:03", "session", "30 Nov 2026 16:43"),
    ("date_of_birth", "1988-03-14", "client", "14 Mar 1988"),
    ("consent_signed", 1, "screening", "Yes"),
    ("answers.pregnant", False, "screening", "No"),
    ("answers.retinoids_stopped", "not_applicable", "screening", "Not applicable"),
    ("device.type", "roller", "session", "Roller"),
    ("fitzpatrick", 3, "client", "III"),
    ("fee", {"amount": "250.00", "currency": "USD"}, "session", "250.00 USD"),
    ("concerns", ["acne scars", "pores"], "client", "acne scars; pores"),
    ("amendments", [], "session", "not set"),
])
def test_values_read_as_the_card_shows_them(path, value, kind, expected):
    assert value_text(path, value, kind=kind) == expected


def test_a_list_of_amendments_is_written_out_not_as_a_repr():
    text = value_text("amendments", [{"at": "2026-11-30T16:43:03", "by": "Jane Smith",
                                      "reason": "lot misread",
                                      "changes": {"device.cartridge_lot": ["A", "B"]}}])
    assert text == "30 Nov 2026 16:43 by Jane Smith — lot misread (Cartridge lot: A → B)"


# --- the audit trail ---------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path):
    db = open_database(tmp_path / "clinic.db")
    yield Repository(db)
    db.close()


def test_every_audit_line_of_a_full_day_is_plain(repo):
    client = repo.add_client(make_client(email=None), by="Jane Smith")
    repo.update_client(replace(client, phone=None, fitzpatrick=4, concerns=["pores", "scars"],
                               notes="Prefers mornings"), by="Jane Smith")
    repo.add_course(make_course(client.id), by="Jane Smith")
    repo.add_screening(make_screening(client.id), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.save_draft(replace(session, fee=None, notes="Edited before sign-off"), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 0), by="Jane Smith")
    signed = repo.get_session(session.id)
    amended = replace(signed, device=replace(signed.device, cartridge_lot="L2605B"),
                      fee=Fee(Decimal("280.00"), "USD"))
    repo.amend_session(amended, by="Jane Smith", reason="lot misread")

    lines = []
    for record_id in (client.id, session.id):
        for entry in repo.audit.history(record_id):
            lines += audit_lines(entry.kind, entry.before, entry.after)
    assert "Signed off: not set → 20 Nov 2026 11:00" in lines
    assert "Cartridge lot: L2311A → L2605B" in lines
    assert "Fee: not set → 280.00 USD" in lines
    assert "Phone: +1 555 0100 → not set" in lines
    assert "Fitzpatrick type: III → IV" in lines
    assert any(line.startswith("Amendment: ") and "by Jane Smith — lot misread" in line
               for line in lines)
    for line in lines:
        assert not developer_words(line), (line, developer_words(line))


def test_an_unknown_path_still_reads_as_words():
    assert field_label("odd_path.inner") == "odd path › inner"


# --- acknowledged guidelines ---------------------------------------------------------------

def every_warning_code() -> list[str]:
    from needledesk.domain.rules import session_warnings

    flagged = make_screening("c1", consent_signed=False,
                             answers={key: key != "retinoids_stopped"
                                      for key in model.SCREENING_QUESTIONS})
    session = make_session("c1", areas=[TreatedArea("periorbital", 1.0, 3)],
                           anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 11, 20, 8, 0),
                                                   datetime(2026, 11, 20, 10, 20)))
    codes = [w.code for w in session_warnings(session, [flagged])]
    codes += [w.code for w in session_warnings(session, [])]
    codes += [w.code for w in session_warnings(session, [make_screening(
        "c1", date=datetime(2024, 1, 1).date())], consent_max_days=365)]
    return list(dict.fromkeys(codes))


@pytest.mark.parametrize("code", every_warning_code())
def test_every_acknowledged_guideline_reads_in_words(code):
    from needledesk.domain.labels import acknowledgement_label, warning_label

    label = warning_label(code)
    assert label[0].isupper() and not developer_words(label), label
    assert acknowledgement_label(f"{code} — discussed") == f"{label} — discussed"


def test_the_screening_codes_read_as_their_questions():
    from needledesk.domain.labels import acknowledgement_text, warning_label

    assert warning_label("screening: retinoids_stopped") == \
        f"Screening: {model.SCREENING_QUESTIONS['retinoids_stopped']}"
    assert warning_label("screening: none") == "No screening on record"
    assert acknowledgement_text({"warning": "screening: pregnant — doctor's letter",
                                 "by": "Jane Smith", "at": "2026-11-20T10:20:00"}) == \
        "Screening: Pregnant — doctor's letter (Jane Smith, 20 Nov 2026 10:20)"


@pytest.mark.parametrize(("expires_in", "label"), [
    (-1, "Lot expired: HA serum L2201"),
    (10, "Lot expires soon: HA serum L2201"),
    (None, "Lot not in the catalogue: HA serum X9"),
])
def test_the_lot_warnings_read_in_words(expires_in, label):
    from datetime import date, timedelta

    from needledesk.domain.labels import acknowledgement_label, warning_label
    from needledesk.domain.products import lot_warning

    today = date(2026, 11, 20)
    lot = model.Lot("p1", "L2201", today + timedelta(days=expires_in or 400))
    warning = lot_warning("HA serum", "L2201" if expires_in is not None else "X9", [lot],
                          today)
    assert warning is not None
    assert warning_label(warning.code) == label
    assert not developer_words(label)
    assert acknowledgement_label(f"{warning.code} — supplier confirmed") == \
        f"{label} — supplier confirmed"


# --- consents and the face chart (issue 15) ---------------------------------------------------

def _signed_consent(**overrides):
    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.model import Consent, ConsentMethod, Signature, StrokePoint

    form = default_template(model.ConsentKind.TREATMENT)
    pad = Signature([[StrokePoint(10, 10), StrokePoint(60, 30, 0.5, 40)]], 300, 100)
    fields = {"client_id": "c1", "kind": form.kind, "signed_at": datetime(2026, 11, 3, 10, 42),
              "method": ConsentMethod.ON_SCREEN, "practitioner": "Jane Smith",
              "title": form.title, "body": form.body, "statements": form.statements,
              "answers": {s.key: True for s in form.statements}, "template_id": form.id,
              "template_version": form.version, "client_signature": pad,
              "practitioner_signature": pad}
    return Consent(**(fields | overrides))


def _consent_texts(consent, place="clients[0].consents[0]"):
    from needledesk.domain.consent_rules import validate_consent

    return [problem_text(p.under(place)) for p in validate_consent(consent)]


def test_an_unsigned_consent_names_the_consent_and_the_signature():
    assert _consent_texts(_signed_consent(client_signature=None)) == [
        "Client 1, Consent 1, Client's signature: the client has not signed"]
    assert _consent_texts(_signed_consent(practitioner_signature=None), "consents[1]") == [
        "Consent 2, Practitioner's signature: the practitioner has not signed"]


def test_consent_problems_read_in_plain_words():
    from needledesk.domain.model import Signature, StrokePoint

    consent = _signed_consent()
    first = consent.statements[0]
    wild = Signature([[StrokePoint(10, 10, 2.0), StrokePoint(900, 30)]], 300, 100,
                     b"GIF89a")
    texts = _consent_texts(_signed_consent(
        answers={s.key: s is not first for s in consent.statements} | {"extra": True},
        client_signature=wild, practitioner=" ", title=""))
    assert texts == [
        "Client 1, Consent 1, Consent form is required",
        "Client 1, Consent 1, Practitioner is required",
        "Client 1, Consent 1, Statements ticked: “extra” is not a statement of this form",
        f"Client 1, Consent 1, Statements ticked: “{first.text[:59].rstrip()}…” must be "
        "ticked to sign",
        "Client 1, Consent 1, Client's signature has 2 point(s) outside the pad or with a "
        "pressure outside 0–1",
        "Client 1, Consent 1, Picture of the client's signature: the signature's picture is "
        "not a PNG image"], texts
    for text in texts:
        assert not developer_words(text), text


def test_consent_form_problems_name_the_form_and_statement():
    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.consent_rules import validate_template
    from needledesk.domain.model import ConsentStatement

    form = default_template(model.ConsentKind.PHOTO)
    form.statements = [ConsentStatement("photo_use_record", " ")]
    texts = [problem_text(p.under("consent_templates[0]")) for p in validate_template(form)]
    assert texts[0] == "Consent form 1, Statement 1: Text is required"
    assert texts[1].startswith("Consent form 1, Statements: a photo consent names each use: "
                               "missing Shown to me to compare results")
    assert not any(developer_words(t) for t in texts), texts


@pytest.mark.parametrize(("path", "value", "kind", "expected"), [
    ("areas[0].zone", "perioral", "session", "Upper lip and mouth"),
    ("kind", "photo", "consent", "Photo consent"),
    ("method", "on_paper", "consent", "Signed on paper"),
    ("signed_at", "2026-11-03T10:42", "consent", "3 Nov 2026 10:42"),
])
def test_consent_and_zone_values_read_as_words(path, value, kind, expected):
    assert value_text(path, value, kind=kind) == expected


def test_a_zone_change_reads_by_its_label_and_the_zones_names():
    before = {"areas": [{"area": "cheeks", "zone": None}]}
    after = {"areas": [{"area": "cheeks", "zone": "cheeks"}]}
    assert change_lines({"areas[0].zone": [None, "cheeks"]}, after) == [
        "Face-chart zone (cheeks): not set → Cheeks"]
    assert audit_lines("session", before, after) == [
        "Face-chart zone (cheeks): not set → Cheeks"]
