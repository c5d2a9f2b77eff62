"""The clinical rules and guidelines, without Qt or SQL."""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from factories import make_client, make_screening, make_session

from needledesk.domain import amend
from needledesk.domain.model import Anaesthetic, Fee, Reaction, TreatedArea
from needledesk.domain.rules import (
    session_warnings,
    validate_client,
    validate_session,
)
from needledesk.domain.text import fold


def _messages(problems):
    return [str(p) for p in problems]


def test_domain_imports_neither_qt_nor_sql():
    import needledesk.domain.amend  # noqa: F401
    import needledesk.domain.guidelines  # noqa: F401
    import needledesk.domain.rules  # noqa: F401
    for name in sys.modules:
        if name.startswith("needledesk.domain"):
            source = Path(sys.modules[name].__file__).read_text(encoding="utf-8")
            assert "PySide6" not in source and "sqlite" not in source, name


@pytest.mark.parametrize("text, folded", [
    ("López", "lopez"), ("NGUYỄN Đức", "nguyen duc"), ("Zoë", "zoe"), ("Łukasz", "lukasz"),
    ("Søren", "soren"), ("Straße", "strasse"), ("Иванова", "иванова"),
    ("Παπαδοπούλου", "παπαδοπουλου"),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_valid_session_has_no_problems():
    assert validate_session(make_session("c1")) == []


@pytest.mark.parametrize("change, expected", [
    ({"areas": []}, "areas: at least one treated area is required"),
    ({"areas": [TreatedArea("cheeks", 0.05)]}, "areas[0].depth_mm: 0.05 is outside 0.1–3.0 mm"),
    ({"areas": [TreatedArea("cheeks", 1.0, passes=51)]}, "areas[0].passes: 51 is outside 1–50"),
    ({"areas": [TreatedArea(" ", 1.0)]}, "areas[0].area: is required"),
    ({"reactions": [Reaction("erythema", 4)]}, "reactions[0].severity: 4 is outside 0–3"),
    ({"fee": Fee(Decimal("-1"), "USD")}, "fee.amount: -1 is negative"),
    ({"fee": Fee(Decimal("1.234"), "USD")}, "fee.amount: 1.234 has more than 2 decimals"),
    ({"fee": Fee(Decimal("10"), "usd")}, "fee.currency: 'usd' is not a 3-letter"),
    ({"practitioner": ""}, "practitioner: is required"),
    ({"signed_at": datetime(2026, 11, 20, 10, 0)},
     "signed_at: 10:00 is before the session started (10:30)"),
    ({"anaesthetic": Anaesthetic("LMX4", datetime(2026, 11, 20, 10, 0),
                                 datetime(2026, 11, 20, 9, 0))},
     "anaesthetic.removed_at: 09:00 is before Applied at 10:00"),
    ({"anaesthetic": Anaesthetic("LMX4", datetime(2026, 11, 20, 11, 0))},
     "anaesthetic.applied_at: 11:00 is after the session started (10:30)"),
])
def test_session_rules_name_field_and_range(change, expected):
    session = make_session("c1")
    for key, value in change.items():
        setattr(session, key, value)
    messages = _messages(validate_session(session))
    assert len(messages) == 1 and messages[0].startswith(expected), messages


def test_depth_boundaries_are_inclusive():
    session = make_session("c1", areas=[TreatedArea("cheeks", 0.1), TreatedArea("back", 3.0)])
    assert validate_session(session) == []


def test_client_rules():
    assert validate_client(make_client()) == []
    problems = validate_client(make_client(last_name="x" * 201, date_of_birth=date(2030, 1, 1)),
                               today=date(2026, 11, 21))
    assert [p.path for p in problems] == ["last_name", "date_of_birth"]
    assert "at most 200" in str(problems[0])


def test_any_unicode_name_is_fine():
    assert validate_client(make_client(first_name="Nguyễn", last_name="Παπαδοπούλου")) == []


def test_guidelines_warn_without_blocking():
    session = make_session("c1", areas=[TreatedArea("periorbital", 1.0),
                                        TreatedArea("Cheeks", 1.5)],
                           anaesthetic=Anaesthetic("lmx4", datetime(2026, 11, 20, 8, 0),
                                                   datetime(2026, 11, 20, 10, 0)))
    screening = make_screening("c1")
    screening.answers["blood_thinners_or_nsaids"] = True
    warnings = session_warnings(session, [screening])
    assert [w.code for w in warnings] == [
        "screening: blood_thinners_or_nsaids", "depth: periorbital 1 mm",
        "anaesthetic: lmx4 120 min"]
    assert "usual 0.25–0.5 mm" in warnings[1].message
    assert warnings[1].path == "areas[0].depth_mm"
    assert validate_session(session) == []


def test_screening_warnings_use_the_latest_screening_before_the_session():
    old = make_screening("c1", date=date(2026, 1, 1), consent_signed=False)
    new = make_screening("c1", date=date(2026, 11, 1))
    later = make_screening("c1", date=date(2026, 12, 1), consent_signed=False)
    assert session_warnings(make_session("c1"), [old, new, later]) == []
    assert [w.code for w in session_warnings(make_session("c1"), [old])] == [
        "screening: no consent"]
    # no screening at all: none on record, and no consent covers the visit either
    assert [w.code for w in session_warnings(make_session("c1"), [])] == [
        "screening: none", "screening: no consent"]


def test_retinoids_not_stopped_is_the_flag():
    screening = make_screening("c1")
    screening.answers["retinoids_stopped"] = False
    assert screening.flagged == ["retinoids_stopped"]


def test_amend_diff_and_undo():
    before = {"id": "s", "notes": "", "device": {"cartridge_lot": "L1"},
              "areas": [{"area": "cheeks", "depth_mm": 1.5}], "anaesthetic": None,
              "serums": [{"product": "HA"}]}
    after = {"id": "s", "notes": "ok", "device": {"cartridge_lot": "L2"},
             "areas": [{"area": "cheeks", "depth_mm": 2.0}],
             "anaesthetic": {"product": "LMX4"}, "serums": []}
    changes = amend.diff(before, after)
    assert changes == {"notes": ["", "ok"], "device.cartridge_lot": ["L1", "L2"],
                       "areas[0].depth_mm": [1.5, 2.0], "anaesthetic": [None, {"product": "LMX4"}],
                       "serums": [[{"product": "HA"}], []]}
    assert amend.undo(after, [changes]) == before


def test_amendment_cannot_predate_the_sign_off():
    from needledesk.domain.model import Amendment

    session = make_session("c1", signed_at=datetime(2026, 11, 20, 11, 0))
    session.amendments = [Amendment(datetime(2026, 11, 20, 10, 59), "Jane", "typo", {})]
    assert [p.path for p in validate_session(session)] == ["amendments[0].at"]


def test_a_record_owns_its_courses_screenings_and_sessions():
    from needledesk.domain.model import ClientRecord
    from needledesk.domain.rules import validate_record

    client = make_client()
    record = ClientRecord(client, screenings=[make_screening("someone-else")],
                          sessions=[make_session(client.id)])
    assert [p.path for p in validate_record(record)] == ["screenings[0].client_id"]
