"""The words the window and the PDFs share: acknowledgement text as data, the observed
labels, and the amendment renderer's field labels for every path `amend.diff` gives."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal

import pytest
from factories import make_client, make_screening, make_session
from hypothesis import given
from hypothesis import strategies as st

from needledesk.domain import amend
from needledesk.domain.acknowledgements import acknowledge, is_acknowledged, pending
from needledesk.domain.consent import consent_code
from needledesk.domain.labels import (
    FIELD_LABELS,
    OBSERVED_LABELS,
    amendment_lines,
    change_lines,
    field_label,
    generic_path,
)
from needledesk.domain.model import (
    SCREENING_QUESTIONS,
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    ClientRecord,
    Device,
    DeviceType,
    Fee,
    Observed,
    Reaction,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.rules import GuidelineWarning, session_warnings
from needledesk.domain.text import compose_acknowledgement, read_acknowledgement
from needledesk.exchange import decode_document, dumps, encode_document, encode_session, parse_json
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

AT = datetime(2026, 11, 20, 10, 20)

# --- acknowledgements as data -------------------------------------------------------------


def every_warning_code() -> list[str]:
    """Each code the rules can raise, one per kind, with the areas and products typed in."""
    flagged = make_screening("c1", date=date(2025, 1, 1), consent_signed=False,
                             answers={key: key != "retinoids_stopped"
                                      for key in SCREENING_QUESTIONS})
    session = make_session("c1", areas=[TreatedArea("periorbital", 1.0, 3),
                                        TreatedArea("décolletage", 2.0, 2)],
                           anaesthetic=Anaesthetic("EMLA 5%", AT, AT.replace(hour=11, minute=50)))
    codes = [w.code for w in session_warnings(session, [flagged])]
    codes += [w.code for w in session_warnings(session, [])]
    old = make_screening("c1", date=date(2024, 1, 1))
    codes += [w.code for w in session_warnings(session, [old], consent_max_days=365)]
    return list(dict.fromkeys(codes))


def test_the_enumeration_covers_every_kind_of_warning():
    codes = every_warning_code()
    assert "screening: none" in codes and "screening: no consent" in codes
    assert consent_code(365) in codes
    assert {f"screening: {key}" for key in SCREENING_QUESTIONS} <= set(codes)
    assert any(c.startswith("depth: ") for c in codes)
    assert any(c.startswith("anaesthetic: ") for c in codes)


@pytest.mark.parametrize("code", every_warning_code())
@pytest.mark.parametrize("reason", ["", "discussed with the client — she chose to go ahead",
                                    "ñ ✓"])
def test_every_code_round_trips_through_its_text(code, reason):
    text = compose_acknowledgement(code, reason)
    assert text == (f"{code} — {reason}" if reason else code)   # the stored text as before
    assert read_acknowledgement(text) == (code, reason)
    ack = AcknowledgedWarning(code, "Jane Smith", AT, reason)
    assert (ack.code, ack.reason, ack.warning) == (code, reason, text)
    assert AcknowledgedWarning(text, "Jane Smith", AT) == ack   # an older text reads the same


@given(st.text())
def test_any_stored_text_comes_back_byte_identical(text):
    assert compose_acknowledgement(*read_acknowledgement(text)) == text


def test_pending_and_acknowledge_need_no_string_splitting():
    warnings = [GuidelineWarning("depth: cheeks — left 2.5 mm", "areas[0].depth_mm", "deep"),
                GuidelineWarning("screening: none", "", "no screening")]
    done = acknowledge(warnings[:1], "  scar tissue ", "Jane Smith", AT)
    assert [(a.code, a.reason) for a in done] == [("depth: cheeks — left 2.5 mm", "scar tissue")]
    assert done[0].warning == "depth: cheeks — left 2.5 mm — scar tissue"
    # the code holds the separator, yet it counts as acknowledged and is not asked again
    assert is_acknowledged("depth: cheeks — left 2.5 mm", done)
    assert pending(warnings, done) == warnings[1:]
    assert not is_acknowledged("depth: cheeks 2.5 mm", done)
    # read back from the store, the text splits at its first dash: still acknowledged
    code, reason = read_acknowledgement(done[0].warning)
    stored = AcknowledgedWarning(code, "Jane Smith", AT, reason)
    assert stored.warning == done[0].warning
    assert pending(warnings, [stored]) == warnings[1:]


def test_the_store_and_the_exchange_keep_the_text(tmp_path):
    session = make_session("c1", acknowledged_warnings=acknowledge(
        [GuidelineWarning("screening: pregnant", "", "")], "doctor's letter", "Jane Smith", AT)
        + acknowledge([GuidelineWarning("depth: nose 1 mm", "", "")], "", "Jane Smith", AT))
    db = open_database(tmp_path / "clinic.db")
    try:
        repo = Repository(db)
        client = repo.add_client(make_client(), by="Jane Smith")
        session.client_id = client.id
        repo.save_draft(session, by="Jane Smith")
        loaded = repo.get_session(session.id)
    finally:
        db.close()
    raw = sqlite3.connect(tmp_path / "clinic.db")
    stored = [r[0] for r in raw.execute(
        "SELECT warning FROM acknowledged_warnings ORDER BY position")]
    raw.close()
    assert stored == ["screening: pregnant — doctor's letter", "depth: nose 1 mm"]
    assert [(a.code, a.reason) for a in loaded.acknowledged_warnings] == [
        ("screening: pregnant", "doctor's letter"), ("depth: nose 1 mm", "")]
    exported = encode_session(loaded)["acknowledged_warnings"]
    assert [a["warning"] for a in exported] == stored
    document = parse_json(dumps(encode_document([ClientRecord(client, sessions=[loaded])])))
    (record,) = decode_document(document).records
    assert record.sessions[0].acknowledged_warnings == loaded.acknowledged_warnings
    assert [(a.code, a.reason) for a in record.sessions[0].acknowledged_warnings] == [
        ("screening: pregnant", "doctor's letter"), ("depth: nose 1 mm", "")]


# --- observed labels ---------------------------------------------------------------------


def test_one_label_for_each_observed_time():
    assert set(OBSERVED_LABELS) == set(Observed)
    assert OBSERVED_LABELS[Observed.NEXT_VISIT] == "at the next visit"


def test_the_editor_and_the_pdfs_use_the_same_labels():
    from needledesk.reports.text import observed_word
    from needledesk.ui import editor_rows

    assert editor_rows.OBSERVED_LABELS is OBSERVED_LABELS
    assert [observed_word(o) for o in Observed] == list(OBSERVED_LABELS.values())


# --- the amendment renderer --------------------------------------------------------------


def _full(**overrides) -> Session:
    return make_session("c1", course_id="k1", notes="first", **overrides)


def _other() -> Session:
    return Session(
        client_id="c2", started_at=datetime(2026, 11, 21, 9, 0), practitioner="Lucía",
        areas=[TreatedArea("chin", 1.0, 4, "even erythema", "careful"),
               TreatedArea("neck", 0.5, 1, "pinpoint bleeding", "x")],
        course_id="k2",
        device=Device(DeviceType.ROLLER, "Roller 1", "0.5 mm", "R-1"),
        anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 11, 21, 8, 0),
                                datetime(2026, 11, 21, 8, 50)),
        serums=[Serum("Vitamin C", "VC-1")], combined_with=["LED"],
        reactions=[Reaction("oedema", 1, Observed.NEXT_DAY, "settled")],
        aftercare=["SPF"], fee=Fee(Decimal("300.00"), "EUR"), notes="second")


def every_diff_path() -> set[str]:
    """Every path amend.diff gives between two sessions: each leaf changed, objects added
    and removed, lists of another length, and the frozen parts the audit trail diffs."""
    a, b = encode_session(_full()), encode_session(_other())
    paths = set(amend.diff(a, b))
    no_objects = _other()
    no_objects.anaesthetic, no_objects.fee = None, None
    paths |= set(amend.diff(a, encode_session(no_objects)))
    longer = _other()
    longer.serums.append(Serum("HA", "1"))
    longer.reactions.append(Reaction("bruising", 2))
    longer.areas.append(TreatedArea("nose", 0.25))
    paths |= set(amend.diff(a, encode_session(longer)))
    signed = _full(signed_at=AT, acknowledged_warnings=[AcknowledgedWarning("x", "y", AT)],
                   amendments=[Amendment(AT, "y", "z", {"notes": ["a", "b"]})])
    signed.id = "other"
    paths |= set(amend.diff(a, encode_session(signed), skip=frozenset()))
    # a list item added where the other has a dict of another shape
    paths |= {"areas[0]", "serums[0]", "reactions[0]"}
    return {generic_path(p) for p in paths}


def test_the_enumeration_reaches_every_field_of_a_session():
    leaves = set()

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            walk(value[0], f"{path}[]")
            leaves.add(path)
        else:
            leaves.add(path)

    walk(encode_session(_full()), "")
    assert leaves <= every_diff_path()


@pytest.mark.parametrize("path", sorted(every_diff_path()))
def test_every_diff_path_has_a_plain_label(path):
    label = FIELD_LABELS[path]
    assert label and label[0].isupper()
    assert not any(ch in label for ch in "._[]")


def test_lines_name_the_field_and_the_item():
    after = encode_session(_full())
    changes = {"areas[0].depth_mm": [1.5, 1.25], "device.cartridge_lot": ["L2311A", "L2311B"],
               "fee.amount": ["250.00", "280.00"], "reactions[0].observed":
               ["immediate", "next_visit"], "anaesthetic.removed_at":
               ["2026-11-20T10:25:00", "2026-11-20T10:30:00"], "serums[0].lot": [None, "HA-1"],
               "areas": [[{"area": "cheeks", "depth_mm": 1.5}], []]}
    assert change_lines(changes, after) == [
        "Depth (cheeks): 1.5 mm → 1.25 mm",
        "Cartridge lot: L2311A → L2311B",
        "Fee: 250.00 USD → 280.00 USD",
        "Seen (erythema): immediately → at the next visit",
        "Removed at: 20 Nov 2026 10:25 → 20 Nov 2026 10:30",
        "Serum lot (Hyaluronic acid 1%): not set → HA-1",
        "Treated areas: cheeks, 1.5 mm → not set",
    ]
    assert field_label("areas[1].area", after) == "Area 2"
    assert field_label("areas[1].notes") == "Area notes 2"
    # a path from an older or foreign file still reads as words
    assert field_label("odd_path.inner") == "odd path › inner"


def test_an_amendment_renders_the_same_lines():
    amendment = Amendment(AT, "Jane Smith", "lot misread",
                          {"device.cartridge_lot": ["L2311A", "L2311B"]})
    assert amendment_lines(amendment) == ["Cartridge lot: L2311A → L2311B"]
