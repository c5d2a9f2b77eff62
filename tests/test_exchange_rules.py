"""Import of the open exchange format: every rule of EXCHANGE.md, checked on a real SQLite file.

Each refusal starts from one complete, valid document (`valid_document`), breaks exactly one
rule, imports it through `needledesk.transfer.import_document` and checks three things: the
right error is raised, its problem names the exact place in the file (and the allowed range or
rule), and not one row was written.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta

import pytest

from needledesk.domain.labels import place_label
from needledesk.domain.text import day_text
from needledesk.errors import ValidationError
from needledesk.exchange import FormatError, encode_document
from needledesk.store.repository import Repository
from needledesk.transfer import import_document, import_file

RECORD_TABLES = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
                 "reactions", "acknowledged_warnings", "amendments")

C = "clients[0]"
S = "clients[0].sessions[0]"


# --- the valid document -----------------------------------------------------------------------


def valid_client(n: int = 0) -> dict:
    """A complete client, like the example in EXCHANGE.md: every key, every list filled."""
    return {
        "id": f"client-{n}",
        "first_name": "Ana",
        "last_name": f"López {n}",
        "date_of_birth": "1988-03-14",
        "phone": "+1 555 0100",
        "email": "ana@example.org",
        "fitzpatrick": 3,
        "concerns": ["acne scars", "enlarged pores"],
        "notes": "",
        "courses": [
            {"id": f"course-{n}", "concern": "acne scars", "planned_sessions": 4,
             "interval_weeks": 6, "started_on": "2026-09-10", "notes": ""},
        ],
        "screenings": [
            {
                "id": f"screening-{n}",
                "date": "2026-11-01",
                "answers": {
                    "pregnant": False,
                    "breastfeeding": False,
                    "active_acne_or_infection": False,
                    "eczema_or_psoriasis_at_site": False,
                    "open_wounds_or_cold_sores": False,
                    "isotretinoin_last_6_months": False,
                    "blood_thinners_or_nsaids": False,
                    "retinoids_stopped": True,
                    "keloid_history": False,
                    "anaesthetic_allergy": False,
                },
                "consent_signed": True,
                "notes": "",
            },
        ],
        "sessions": [
            {
                "id": f"session-{n}",
                "course_id": f"course-{n}",
                "started_at": "2026-11-20T10:30",
                "practitioner": "Jane Smith",
                "device": {"type": "pen", "model": "Dermapen 4", "cartridge": "16-pin",
                           "cartridge_lot": "L2311A"},
                "anaesthetic": {"product": "LMX4", "applied_at": "2026-11-20T09:30",
                                "removed_at": "2026-11-20T10:25"},
                "areas": [
                    {"area": "cheeks", "depth_mm": 1.5, "passes": 3,
                     "endpoint": "pinpoint bleeding", "notes": ""},
                ],
                "serums": [{"product": "Hyaluronic acid 1%", "lot": "HA-0923"}],
                "combined_with": ["chemical peel"],
                "reactions": [{"kind": "erythema", "severity": 2, "observed": "immediate",
                               "notes": ""}],
                "aftercare": ["SPF 50 sunscreen", "Gentle cleanser"],
                "fee": {"amount": "250.00", "currency": "USD"},
                "notes": "",
                "signed_at": "2026-11-20T11:10",
                "acknowledged_warnings": [
                    {"warning": "screening: blood_thinners_or_nsaids", "by": "Jane Smith",
                     "at": "2026-11-20T10:28"},
                ],
                "amendments": [
                    {"at": "2026-11-21T08:40", "by": "Jane Smith", "reason": "typo in lot",
                     "changes": {"device.cartridge_lot": ["L2311", "L2311A"]}},
                ],
            },
        ],
    }


def valid_document(clients: int = 1) -> dict:
    return {
        "format": "needledesk-exchange",
        "version": 1,
        "exported_at": "2026-11-21T09:00:00",
        "clients": [valid_client(n) for n in range(clients)],
    }


# --- editing a document by the place an error names -----------------------------------------

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _steps(place: str) -> list[int | str]:
    return [int(index) if index else key for index, key in _TOKEN.findall(place)]


def _parent(doc, place: str):
    *head, last = _steps(place)
    node = doc
    for step in head:
        node = node[step]
    return node, last


def set_(place: str, value):
    def op(doc):
        node, last = _parent(doc, place)
        node[last] = copy.deepcopy(value)
    return op


def del_(place: str):
    def op(doc):
        node, last = _parent(doc, place)
        del node[last]
    return op


def append_(place: str, item):
    def op(doc):
        node, last = _parent(doc, place)
        node[last].append(copy.deepcopy(item))
    return op


def build(ops, clients: int = 1) -> dict:
    doc = valid_document(clients)
    for op in ops:
        op(doc)
    return doc


# --- the real database -------------------------------------------------------------------------


# `repo` (tests/conftest.py): a file, or (`[postgresql]`) a new clinic server database.


def row_counts(repo: Repository) -> dict[str, int]:
    return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RECORD_TABLES}


def assert_nothing_written(repo: Repository) -> None:
    assert row_counts(repo) == dict.fromkeys(RECORD_TABLES, 0)


def refuse(repo: Repository, document, place: str, fragments=(), *, problems: int | None = 1,
           **kwargs) -> ValidationError:
    """Import must fail with a problem at `place` whose message holds every fragment."""
    with pytest.raises(ValidationError) as info:
        import_document(repo, document, by="Jane Smith", **kwargs)
    found = info.value.problems
    shown = [str(p) for p in found]
    at_place = [p for p in found if p.path == place]
    assert at_place, f"no problem at {place!r}; reported: {shown}"
    for fragment in fragments:
        assert any(fragment in p.message for p in at_place), \
            f"{fragment!r} not in the message at {place}: {shown}"
    assert any(str(p).startswith(f"{place}: ") for p in at_place)
    if problems is not None:
        assert len(found) == problems, f"expected {problems} problem(s), got {shown}"
    assert_nothing_written(repo)
    return info.value


# --- the valid document itself -------------------------------------------------------------------


def test_the_valid_document_imports_whole_and_without_warnings(repo):
    report = import_document(repo, valid_document(), by="Jane Smith")
    assert report.warnings == []
    assert dict(report.result.added) == {"clients": 1, "courses": 1, "screenings": 1,
                                         "sessions": 1}
    assert row_counts(repo) == dict.fromkeys(RECORD_TABLES, 1)


# --- format and version -------------------------------------------------------------------------


@pytest.mark.parametrize("document, expected", [
    pytest.param([], "not a NeedleDesk exchange file", id="json-array"),
    pytest.param("needledesk-exchange", "not a NeedleDesk exchange file", id="json-string"),
    pytest.param(None, "not a NeedleDesk exchange file", id="json-null"),
    pytest.param({"clients": []}, "not a NeedleDesk exchange file", id="format-missing"),
    pytest.param({"format": "needledesk-export", "version": 1, "clients": []},
                 "not a NeedleDesk exchange file", id="format-other"),
    pytest.param({"format": "NeedleDesk-Exchange", "version": 1, "clients": []},
                 "not a NeedleDesk exchange file", id="format-other-case"),
    pytest.param({"format": "needledesk-exchange", "version": 3, "clients": []},
                 "version 3 ", id="version-3"),
    pytest.param({"format": "needledesk-exchange", "version": 0, "clients": []},
                 "version 0 ", id="version-0"),
    pytest.param({"format": "needledesk-exchange", "version": "1", "clients": []},
                 'version "1" ', id="version-string-1"),
    pytest.param({"format": "needledesk-exchange", "version": 1.5, "clients": []},
                 "version 1.5 ", id="version-1.5"),
    pytest.param({"format": "needledesk-exchange", "clients": []},
                 "version null ", id="version-missing"),
    pytest.param({"format": "needledesk-exchange", "version": True, "clients": []},
                 "version true ", id="version-true"),
])
def test_not_this_format_or_version_is_one_clear_line(repo, document, expected):
    with pytest.raises(FormatError) as info:
        import_document(repo, document, by="Jane Smith")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert_nothing_written(repo)


def test_another_version_is_refused_even_with_valid_records(repo):
    document = valid_document()
    document["version"] = 3
    with pytest.raises(FormatError,
                       match=r"version 3 is not supported.*reads versions 1 and 2"):
        import_document(repo, document, by="Jane Smith")
    assert_nothing_written(repo)


@pytest.mark.parametrize("content", [
    pytest.param(b"", id="empty"),
    pytest.param(b"format: needledesk-exchange\n", id="yaml"),
    pytest.param(b'{"format": "needledesk-exchange", "version": 1, ', id="truncated"),
    pytest.param(b"\xff\xfe\x00\xd8\x00", id="binary"),
])
def test_a_file_that_is_not_json_is_one_clear_line(repo, tmp_path, content):
    path = tmp_path / "records.json"
    path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        import_file(repo, path, by="Jane Smith")
    assert str(info.value).startswith(f"{path}: not a JSON file")
    assert "\n" not in str(info.value)
    assert_nothing_written(repo)


# --- unknown keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("owner", [
    pytest.param("", id="top"),
    pytest.param(C, id="client"),
    pytest.param(f"{C}.courses[0]", id="course"),
    pytest.param(f"{C}.screenings[0]", id="screening"),
    pytest.param(S, id="session"),
    pytest.param(f"{S}.device", id="device"),
    pytest.param(f"{S}.anaesthetic", id="anaesthetic"),
    pytest.param(f"{S}.areas[0]", id="area"),
    pytest.param(f"{S}.serums[0]", id="serum"),
    pytest.param(f"{S}.reactions[0]", id="reaction"),
    pytest.param(f"{S}.fee", id="fee"),
    pytest.param(f"{S}.acknowledged_warnings[0]", id="acknowledged-warning"),
    pytest.param(f"{S}.amendments[0]", id="amendment"),
])
def test_an_unknown_key_is_refused_at_every_level(repo, owner):
    document = valid_document()
    target = document
    for step in _steps(owner):
        target = target[step]
    target["colour"] = "blue"
    place = f"{owner}.colour" if owner else "colour"
    refuse(repo, document, place, ["not a known key"])


def test_an_unknown_screening_question_is_refused(repo):
    place = f"{C}.screenings[0].answers.smoker"
    document = build([set_(place, True)])
    refuse(repo, document, place, ["not a screening question", "pregnant"])


# --- missing required keys ------------------------------------------------------------------

_NO_COURSE = set_(f"{S}.course_id", None)  # so a dropped course does not also break course_id


@pytest.mark.parametrize("place, extra", [
    pytest.param("clients", [], id="top-clients"),
    pytest.param(f"{C}.id", [], id="client-id"),
    pytest.param(f"{C}.first_name", [], id="client-first_name"),
    pytest.param(f"{C}.last_name", [], id="client-last_name"),
    pytest.param(f"{C}.courses[0].id", [_NO_COURSE], id="course-id"),
    pytest.param(f"{C}.courses[0].concern", [], id="course-concern"),
    pytest.param(f"{C}.courses[0].planned_sessions", [_NO_COURSE], id="course-planned"),
    pytest.param(f"{C}.courses[0].interval_weeks", [_NO_COURSE], id="course-interval"),
    pytest.param(f"{C}.courses[0].started_on", [_NO_COURSE], id="course-started_on"),
    pytest.param(f"{C}.screenings[0].id", [], id="screening-id"),
    pytest.param(f"{C}.screenings[0].date", [], id="screening-date"),
    pytest.param(f"{S}.id", [], id="session-id"),
    pytest.param(f"{S}.started_at", [], id="session-started_at"),
    pytest.param(f"{S}.practitioner", [], id="session-practitioner"),
    pytest.param(f"{S}.device", [], id="session-device"),
    pytest.param(f"{S}.areas", [], id="session-areas"),
    pytest.param(f"{S}.device.type", [], id="device-type"),
    pytest.param(f"{S}.anaesthetic.product", [], id="anaesthetic-product"),
    pytest.param(f"{S}.anaesthetic.applied_at", [], id="anaesthetic-applied_at"),
    pytest.param(f"{S}.areas[0].area", [], id="area-area"),
    pytest.param(f"{S}.areas[0].depth_mm", [], id="area-depth_mm"),
    pytest.param(f"{S}.serums[0].product", [], id="serum-product"),
    pytest.param(f"{S}.reactions[0].kind", [], id="reaction-kind"),
    pytest.param(f"{S}.reactions[0].severity", [], id="reaction-severity"),
    pytest.param(f"{S}.fee.amount", [], id="fee-amount"),
    pytest.param(f"{S}.fee.currency", [], id="fee-currency"),
    pytest.param(f"{S}.acknowledged_warnings[0].warning", [], id="ack-warning"),
    pytest.param(f"{S}.acknowledged_warnings[0].by", [], id="ack-by"),
    pytest.param(f"{S}.acknowledged_warnings[0].at", [], id="ack-at"),
    pytest.param(f"{S}.amendments[0].at", [], id="amendment-at"),
    pytest.param(f"{S}.amendments[0].by", [], id="amendment-by"),
    pytest.param(f"{S}.amendments[0].reason", [], id="amendment-reason"),
    pytest.param(f"{S}.amendments[0].changes", [], id="amendment-changes"),
])
def test_a_missing_required_key_is_refused(repo, place, extra):
    refuse(repo, build([*extra, del_(place)]), place, ["is missing"])


@pytest.mark.parametrize("place", [
    pytest.param(f"{C}.first_name", id="client-first_name"),
    pytest.param(f"{C}.last_name", id="client-last_name"),
    pytest.param(f"{S}.started_at", id="session-started_at"),
    pytest.param(f"{S}.practitioner", id="session-practitioner"),
    pytest.param(f"{S}.device.type", id="device-type"),
    pytest.param(f"{S}.areas[0].depth_mm", id="area-depth_mm"),
    pytest.param(f"{S}.reactions[0].severity", id="reaction-severity"),
    pytest.param(f"{S}.fee.amount", id="fee-amount"),
])
def test_a_required_key_set_to_null_is_refused(repo, place):
    refuse(repo, build([set_(place, None)]), place, ["must not be null"])


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", [
    pytest.param(C, id="client"),
    pytest.param(f"{C}.courses[0]", id="course"),
    pytest.param(f"{C}.screenings[0]", id="screening"),
    pytest.param(S, id="session"),
])
@pytest.mark.parametrize("value, fragment", [
    pytest.param("", "non-empty", id="empty"),
    pytest.param("   ", "non-empty", id="blank"),
    pytest.param(None, "must not be null", id="null"),
    pytest.param(7, "not a string", id="number"),
])
def test_every_id_is_a_non_empty_string(repo, owner, value, fragment):
    extra = [_NO_COURSE] if owner.endswith("courses[0]") else []
    refuse(repo, build([*extra, set_(f"{owner}.id", value)]), f"{owner}.id", [fragment])


@pytest.mark.parametrize("ops, place, first", [
    pytest.param([set_("clients[1].id", "client-0")], "clients[1].id", "clients[0].id",
                 id="duplicate-client-id"),
    pytest.param([set_("clients[0].sessions[0].id", "course-0")], f"{S}.id",
                 f"{C}.courses[0].id", id="session-id-used-as-course-id"),
    pytest.param([set_("clients[0].screenings[0].id", "client-0")],
                 f"{C}.screenings[0].id", f"{C}.id", id="screening-id-used-as-client-id"),
    pytest.param([set_("clients[1].sessions[0].id", "session-0")],
                 "clients[1].sessions[0].id", f"{S}.id", id="session-id-in-two-clients"),
    pytest.param([set_("clients[1].courses[0].id", "screening-0"),
                  set_("clients[1].sessions[0].course_id", "screening-0")],
                 "clients[1].courses[0].id", f"{C}.screenings[0].id",
                 id="course-id-used-as-other-clients-screening-id"),
    pytest.param([append_("clients[0].sessions", valid_client(0)["sessions"][0])],
                 "clients[0].sessions[1].id", f"{S}.id", id="same-session-twice"),
])
def test_every_id_is_unique_across_the_file(repo, ops, place, first):
    refuse(repo, build(ops, clients=2), place, ["already used at " + place_label(first),
                                                 "unique"])


# --- clients --------------------------------------------------------------------------------


@pytest.mark.parametrize("place, value, fragment", [
    pytest.param(f"{C}.first_name", "", "is required", id="first_name-empty"),
    pytest.param(f"{C}.first_name", " \t ", "is required", id="first_name-blank"),
    pytest.param(f"{C}.last_name", "\u00a0\u2003 ", "is required",
                 id="last_name-unicode-spaces"),
    pytest.param(f"{C}.first_name", "A" * 201, "at most 200", id="first_name-201"),
    pytest.param(f"{C}.last_name", "ł" * 201, "at most 200", id="last_name-201"),
    pytest.param(f"{C}.first_name", 42, "not a string", id="first_name-number"),
])
def test_names_are_non_blank_and_at_most_200_characters(repo, place, value, fragment):
    refuse(repo, build([set_(place, value)]), place, [fragment])


@pytest.mark.parametrize("name", [
    pytest.param("A" * 200, id="ascii"),
    pytest.param("é" * 200, id="latin-accents"),
    pytest.param("Nguyễn" * 33 + "ễn", id="vietnamese"),
    pytest.param("李" * 200, id="cjk"),
    pytest.param("Љ" * 100 + "Ω" * 100, id="cyrillic-greek"),
    pytest.param("ا" * 200, id="arabic"),
    pytest.param("😀" * 200, id="emoji-astral"),
    pytest.param("O'Brien-Smith " * 14 + "Anne", id="punctuation"),
])
def test_any_unicode_name_of_200_characters_is_fine(repo, name):
    assert len(name) == 200
    document = build([set_(f"{C}.first_name", name), set_(f"{C}.last_name", name)])
    import_document(repo, document, by="Jane Smith")
    client = repo.get_client("client-0")
    assert (client.first_name, client.last_name) == (name, name)


@pytest.mark.parametrize("value, fragment", [
    pytest.param("2023-02-30", "not a real date", id="feb-30"),
    pytest.param("2023-13-01", "not a real date", id="month-13"),
    pytest.param("14/03/1988", "YYYY-MM-DD", id="day-first"),
    pytest.param("1988-3-14", "YYYY-MM-DD", id="no-leading-zero"),
    pytest.param("1988-03-14T00:00", "YYYY-MM-DD", id="a-time"),
    pytest.param(19880314, "not a string", id="number"),
])
def test_date_of_birth_is_a_real_date(repo, value, fragment):
    place = f"{C}.date_of_birth"
    refuse(repo, build([set_(place, value)]), place, [json.dumps(value), fragment])


def test_date_of_birth_in_the_future_is_refused(repo):
    tomorrow = date.today() + timedelta(days=1)
    place = f"{C}.date_of_birth"
    refuse(repo, build([set_(place, tomorrow.isoformat())]), place,
           [day_text(tomorrow), "in the future"])


def test_date_of_birth_is_checked_against_the_given_day(repo):
    place = f"{C}.date_of_birth"
    refuse(repo, build([set_(place, "2020-06-02")]), place, ["in the future"],
           today=date(2020, 6, 1))


def test_date_of_birth_before_the_given_day_is_accepted(repo):
    later = date.today() + timedelta(days=400)
    dob = (date.today() + timedelta(days=30)).isoformat()
    import_document(repo, build([set_(f"{C}.date_of_birth", dob)]), today=later, by="Jane Smith")
    assert repo.get_client("client-0").date_of_birth.isoformat() == dob


@pytest.mark.parametrize("ops", [
    pytest.param([set_(f"{C}.date_of_birth", date.today().isoformat())], id="dob-today"),
    pytest.param([set_(f"{C}.date_of_birth", "2000-02-29")], id="dob-leap-day"),
    pytest.param([set_(f"{C}.date_of_birth", None)], id="dob-null"),
    pytest.param([del_(f"{C}.date_of_birth")], id="dob-omitted"),
    pytest.param([set_(f"{C}.fitzpatrick", 1)], id="fitzpatrick-1"),
    pytest.param([set_(f"{C}.fitzpatrick", 6)], id="fitzpatrick-6"),
    pytest.param([set_(f"{C}.fitzpatrick", None)], id="fitzpatrick-null"),
    pytest.param([del_(f"{C}.fitzpatrick")], id="fitzpatrick-omitted"),
])
def test_optional_client_fields_within_the_rules_are_accepted(repo, ops):
    import_document(repo, build(ops), by="Jane Smith")
    assert row_counts(repo)["clients"] == 1


@pytest.mark.parametrize("value, fragments", [
    pytest.param(0, ["0 is outside 1–6"], id="0"),
    pytest.param(7, ["7 is outside 1–6"], id="7"),
    pytest.param(-1, ["-1 is outside 1–6"], id="minus-1"),
    pytest.param("3", ['"3"', "whole number"], id="string-3"),
    pytest.param(3.5, ["3.5", "whole number"], id="3.5"),
    pytest.param(True, ["true", "whole number"], id="true"),
])
def test_fitzpatrick_is_an_integer_1_to_6(repo, value, fragments):
    place = f"{C}.fitzpatrick"
    refuse(repo, build([set_(place, value)]), place, fragments)


# --- sessions: device, areas, anaesthetic, reactions, fee, signing ----------------------------


@pytest.mark.parametrize("value, fragment", [
    pytest.param("stamp", "'stamp' is not pen or roller", id="stamp"),
    pytest.param("Pen", "'Pen' is not pen or roller", id="Pen-capitalised"),
    pytest.param("", "is not pen or roller", id="empty"),
    pytest.param(1, "not a string", id="number"),
])
def test_device_type_is_pen_or_roller(repo, value, fragment):
    place = f"{S}.device.type"
    refuse(repo, build([set_(place, value)]), place, [fragment])


def test_a_roller_is_accepted(repo):
    import_document(repo, build([set_(f"{S}.device.type", "roller")]), by="Jane Smith")
    assert repo.get_session("session-0").device.type == "roller"


def test_a_session_needs_at_least_one_area(repo):
    refuse(repo, build([set_(f"{S}.areas", [])]), f"{S}.areas", ["at least one"])


@pytest.mark.parametrize("value, fragment", [
    pytest.param("", "is required", id="empty"),
    pytest.param("   ", "is required", id="blank"),
    pytest.param(None, "must not be null", id="null"),
])
def test_an_area_is_named(repo, value, fragment):
    place = f"{S}.areas[0].area"
    refuse(repo, build([set_(place, value)]), place, [fragment])


@pytest.mark.parametrize("value, fragments", [
    pytest.param(0.05, ["0.05 is outside 0.1–3.0 mm"], id="0.05"),
    pytest.param(3.5, ["3.5 is outside 0.1–3.0 mm"], id="3.5"),
    pytest.param(0, ["0 is outside 0.1–3.0 mm"], id="0"),
    pytest.param(-1.0, ["-1 is outside 0.1–3.0 mm"], id="negative"),
    pytest.param(3.0001, ["3.0001 is outside 0.1–3.0 mm"], id="just-above-3"),
    pytest.param("1.5", ['"1.5"', "not a number"], id="string-1.5"),
    pytest.param(True, ["true", "not a number"], id="true"),
    pytest.param(float("nan"), ["nan", "0.1 to 3.0"], id="NaN"),
    pytest.param(float("inf"), ["inf is outside 0.1–3.0 mm"], id="Infinity"),
])
def test_depth_is_a_number_from_0_1_to_3_0(repo, value, fragments):
    place = f"{S}.areas[0].depth_mm"
    error = refuse(repo, build([set_(place, value)]), place, fragments)
    assert str(error.problems[0]).startswith("clients[0].sessions[0].areas[0].depth_mm: ")


def test_depth_message_is_the_one_the_specification_shows(repo):
    document = build([set_(f"{S}.areas[0].depth_mm", 3.5)])
    with pytest.raises(ValidationError) as info:
        import_document(repo, document, by="Jane Smith")
    assert [str(p) for p in info.value.problems] == [
        "clients[0].sessions[0].areas[0].depth_mm: 3.5 is outside 0.1–3.0 mm"]


@pytest.mark.parametrize("depth", [0.1, 3.0, 3, 1, 2.25])
def test_depth_boundaries_are_inclusive(repo, depth):
    import_document(repo, build([set_(f"{S}.areas[0].depth_mm", depth)]), by="Jane Smith")
    stored = repo.db.execute("SELECT depth_mm FROM treated_areas").fetchone()[0]
    assert stored == depth


@pytest.mark.parametrize("value, fragments", [
    pytest.param(0, ["0 is outside 1–50"], id="0"),
    pytest.param(51, ["51 is outside 1–50"], id="51"),
    pytest.param(2.5, ["2.5", "whole number"], id="2.5"),
    pytest.param("3", ['"3"', "whole number"], id="string-3"),
])
def test_passes_is_an_integer_1_to_50(repo, value, fragments):
    place = f"{S}.areas[0].passes"
    refuse(repo, build([set_(place, value)]), place, fragments)


@pytest.mark.parametrize("ops", [
    pytest.param([set_(f"{S}.areas[0].passes", 1)], id="passes-1"),
    pytest.param([set_(f"{S}.areas[0].passes", 50)], id="passes-50"),
    pytest.param([set_(f"{S}.areas[0].passes", None)], id="passes-null"),
    pytest.param([del_(f"{S}.areas[0].passes")], id="passes-omitted"),
])
def test_passes_is_optional_and_inclusive(repo, ops):
    import_document(repo, build(ops), by="Jane Smith")
    assert row_counts(repo)["treated_areas"] == 1


@pytest.mark.parametrize("ops, place, fragments", [
    pytest.param([set_(f"{S}.anaesthetic.removed_at", "2026-11-20T09:29")],
                 f"{S}.anaesthetic.removed_at", ["09:29", "before Applied at 09:30"],
                 id="removed-before-applied"),
    pytest.param([set_(f"{S}.anaesthetic.applied_at", "2026-11-20T10:31"),
                  set_(f"{S}.anaesthetic.removed_at", None)],
                 f"{S}.anaesthetic.applied_at", ["10:31", "after the session started (10:30)"],
                 id="applied-after-started"),
])
def test_anaesthetic_times_are_in_order(repo, ops, place, fragments):
    refuse(repo, build(ops), place, fragments)


@pytest.mark.parametrize("ops", [
    pytest.param([set_(f"{S}.anaesthetic", None)], id="null"),
    pytest.param([del_(f"{S}.anaesthetic")], id="omitted"),
    pytest.param([set_(f"{S}.anaesthetic.removed_at", None)], id="not-yet-removed"),
    pytest.param([del_(f"{S}.anaesthetic.removed_at")], id="removed_at-omitted"),
    pytest.param([set_(f"{S}.anaesthetic.applied_at", "2026-11-20T10:30"),
                  set_(f"{S}.anaesthetic.removed_at", "2026-11-20T10:30")],
                 id="applied-and-removed-at-start"),
])
def test_anaesthetic_is_optional_as_a_whole(repo, ops):
    report = import_document(repo, build(ops), by="Jane Smith")
    assert report.result.added["sessions"] == 1


@pytest.mark.parametrize("place, value, fragments", [
    pytest.param(f"{S}.reactions[0].severity", -1, ["-1 is outside 0–3"], id="severity-minus-1"),
    pytest.param(f"{S}.reactions[0].severity", 4, ["4 is outside 0–3"], id="severity-4"),
    pytest.param(f"{S}.reactions[0].severity", 1.5, ["1.5", "whole number"], id="severity-1.5"),
    pytest.param(f"{S}.reactions[0].severity", "2", ['"2"', "whole number"],
                 id="severity-string"),
    pytest.param(f"{S}.reactions[0].observed", "later",
                 ["'later'", "immediate, next_day, follow_up, next_visit"], id="observed-later"),
    pytest.param(f"{S}.reactions[0].observed", "Immediate", ["'Immediate'", "next_visit"],
                 id="observed-capitalised"),
    pytest.param(f"{S}.reactions[0].observed", "", ["''", "next_visit"], id="observed-empty"),
])
def test_reactions_severity_and_observed(repo, place, value, fragments):
    refuse(repo, build([set_(place, value)]), place, fragments)


@pytest.mark.parametrize("severity", [0, 3])
@pytest.mark.parametrize("observed", ["immediate", "next_day", "follow_up", "next_visit"])
def test_every_observed_value_and_severity_bound_is_accepted(repo, severity, observed):
    import_document(repo, build([set_(f"{S}.reactions[0].severity", severity),
                                 set_(f"{S}.reactions[0].observed", observed)]), by="Jane Smith")
    row = repo.db.execute("SELECT severity, observed FROM reactions").fetchone()
    assert tuple(row) == (severity, observed)


@pytest.mark.parametrize("place, value, fragments", [
    pytest.param(f"{S}.fee.amount", "12.345", ["12.345", "more than 2 decimals"],
                 id="amount-3-decimals"),
    pytest.param(f"{S}.fee.amount", "-5.00", ["-5.00", "negative"], id="amount-negative"),
    pytest.param(f"{S}.fee.amount", 250, ["250", "not a string"], id="amount-a-number"),
    pytest.param(f"{S}.fee.amount", 250.0, ["250.0", "not a string"], id="amount-a-float"),
    pytest.param(f"{S}.fee.amount", "abc", ['"abc"', "not a decimal amount"], id="amount-abc"),
    pytest.param(f"{S}.fee.amount", "", ["not a decimal amount"], id="amount-empty"),
    pytest.param(f"{S}.fee.amount", "NaN", ["not a decimal amount"], id="amount-nan"),
    pytest.param(f"{S}.fee.amount", "Infinity", ["not a decimal amount"], id="amount-inf"),
    pytest.param(f"{S}.fee.currency", "US", ["'US'", "3-letter currency code"],
                 id="currency-US"),
    pytest.param(f"{S}.fee.currency", "usd", ["'usd'", "3-letter currency code"],
                 id="currency-usd"),
    pytest.param(f"{S}.fee.currency", "USDX", ["'USDX'", "3-letter currency code"],
                 id="currency-4-letters"),
    pytest.param(f"{S}.fee.currency", "$", ["'$'", "3-letter currency code"],
                 id="currency-symbol"),
])
def test_fee_is_a_decimal_string_and_a_currency_code(repo, place, value, fragments):
    refuse(repo, build([set_(place, value)]), place, fragments)


@pytest.mark.parametrize("amount, stored", [
    ("0", "0.00"), ("0.00", "0.00"), ("250", "250.00"), ("250.5", "250.50"),
    ("99999.99", "99999.99"),
])
def test_fee_amounts_within_the_rules_are_accepted(repo, amount, stored):
    import_document(repo, build([set_(f"{S}.fee.amount", amount)]), by="Jane Smith")
    assert repo.db.execute("SELECT fee_amount FROM sessions").fetchone()[0] == stored


def test_fee_is_optional(repo):
    import_document(repo, build([set_(f"{S}.fee", None)]), by="Jane Smith")
    assert repo.get_session("session-0").fee is None


def test_signed_at_before_started_at_is_refused(repo):
    place = f"{S}.signed_at"
    refuse(repo, build([set_(place, "2026-11-20T10:29")]), place,
           ["10:29", "before the session started", "(10:30)"])


def test_amendments_on_a_draft_are_refused(repo):
    refuse(repo, build([set_(f"{S}.signed_at", None)]), f"{S}.amendments",
           ["only a signed session"])


@pytest.mark.parametrize("ops", [
    pytest.param([set_(f"{S}.signed_at", None), set_(f"{S}.amendments", [])], id="draft"),
    pytest.param([set_(f"{S}.signed_at", "2026-11-20T10:30")], id="signed-at-start"),
])
def test_drafts_and_signing_at_the_start_are_accepted(repo, ops):
    import_document(repo, build(ops), by="Jane Smith")
    assert row_counts(repo)["sessions"] == 1


# --- courses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ops, fragments", [
    pytest.param([set_(f"{S}.course_id", "no-such-course")], ["'no-such-course'",
                                                              "not a course of this client"],
                 id="unknown-course"),
    pytest.param([set_(f"{S}.course_id", "course-1")], ["'course-1'",
                                                        "not a course of this client"],
                 id="course-of-another-client-in-the-file"),
    pytest.param([set_(f"{S}.course_id", "screening-0")], ["not a course of this client"],
                 id="id-of-a-screening"),
])
def test_course_id_names_a_course_of_the_same_client(repo, ops, fragments):
    refuse(repo, build(ops, clients=2), f"{S}.course_id", fragments)


@pytest.mark.parametrize("ops", [
    pytest.param([set_(f"{S}.course_id", None)], id="null"),
    pytest.param([del_(f"{S}.course_id")], id="omitted"),
])
def test_course_id_is_optional(repo, ops):
    import_document(repo, build(ops), by="Jane Smith")
    assert repo.get_session("session-0").course_id is None


@pytest.mark.parametrize("key, value, fragment", [
    pytest.param("planned_sessions", 0, "0 is outside 1–20", id="planned-0"),
    pytest.param("planned_sessions", 21, "21 is outside 1–20", id="planned-21"),
    pytest.param("planned_sessions", 2.5, "whole number", id="planned-2.5"),
    pytest.param("interval_weeks", 0, "0 is outside 1–52", id="interval-0"),
    pytest.param("interval_weeks", 53, "53 is outside 1–52", id="interval-53"),
    pytest.param("interval_weeks", "6", "whole number", id="interval-string"),
])
def test_course_plan_is_within_range(repo, key, value, fragment):
    place = f"{C}.courses[0].{key}"
    # A course that cannot be read is dropped; keep the session off it so one rule breaks.
    refuse(repo, build([_NO_COURSE, set_(place, value)]), place, [fragment])


@pytest.mark.parametrize("planned, interval", [(1, 1), (20, 52)])
def test_course_plan_bounds_are_inclusive(repo, planned, interval):
    import_document(repo, build([set_(f"{C}.courses[0].planned_sessions", planned),
                                 set_(f"{C}.courses[0].interval_weeks", interval)]),
                    by="Jane Smith")
    course = repo.courses("client-0")[0]
    assert (course.planned_sessions, course.interval_weeks) == (planned, interval)


# --- times and dates in a wrong format -------------------------------------------------------

_TIME_FORM = "YYYY-MM-DDTHH:MM"


@pytest.mark.parametrize("place, value, fragment", [
    pytest.param(f"{S}.started_at", "2026-11-20 10:30", _TIME_FORM, id="started-space"),
    pytest.param(f"{S}.started_at", "20/11/2026", _TIME_FORM, id="started-day-first"),
    pytest.param(f"{S}.started_at", "2026-11-20", _TIME_FORM, id="started-date-only"),
    pytest.param(f"{S}.started_at", "2026-11-20T10:30Z", _TIME_FORM, id="started-utc"),
    pytest.param(f"{S}.started_at", "2026-11-20T10:30+01:00", _TIME_FORM,
                 id="started-offset"),
    pytest.param(f"{S}.started_at", "2026-11-20T9:30", _TIME_FORM, id="started-one-digit-hour"),
    pytest.param(f"{S}.started_at", "2026-11-20T25:00", "not a real date and time",
                 id="started-hour-25"),
    pytest.param(f"{S}.started_at", "2026-02-30T10:00", "not a real date and time",
                 id="started-feb-30"),
    pytest.param(f"{S}.signed_at", "2026-11-20 11:10", _TIME_FORM, id="signed-space"),
    pytest.param(f"{S}.anaesthetic.applied_at", "20/11/2026 09:30", _TIME_FORM,
                 id="applied-day-first"),
    pytest.param(f"{S}.anaesthetic.removed_at", "10:25", _TIME_FORM, id="removed-time-only"),
    pytest.param(f"{S}.acknowledged_warnings[0].at", "2026-11-20 10:28", _TIME_FORM,
                 id="ack-space"),
    pytest.param(f"{S}.amendments[0].at", "21/11/2026", _TIME_FORM, id="amendment-day-first"),
    pytest.param("exported_at", "2026-11-21 09:00:00", _TIME_FORM, id="exported-space"),
    pytest.param(f"{C}.courses[0].started_on", "10/09/2026", "YYYY-MM-DD",
                 id="course-started-day-first"),
    pytest.param(f"{C}.screenings[0].date", "2026-11-01T10:00", "YYYY-MM-DD",
                 id="screening-date-a-time"),
])
def test_times_and_dates_in_a_wrong_format_are_refused(repo, place, value, fragment):
    extra = [_NO_COURSE] if ".courses[" in place else []
    if place.endswith(".signed_at"):
        extra.append(set_(f"{S}.amendments", []))  # unreadable signed_at reads as a draft
    refuse(repo, build([*extra, set_(place, value)]), place, [json.dumps(value), fragment])


def test_times_with_seconds_are_accepted(repo):
    import_document(repo, build([set_(f"{S}.started_at", "2026-11-20T10:30:15"),
                                 set_(f"{S}.signed_at", "2026-11-20T11:10:00")]), by="Jane Smith")
    session = repo.get_session("session-0")
    assert session.started_at.second == 15


# --- all or nothing, and every problem at once ------------------------------------------------


def test_several_broken_rules_in_different_clients_are_all_reported(repo):
    document = build([
        set_(f"{S}.areas[0].depth_mm", 3.5),
        set_(f"{C}.fitzpatrick", 7),
        set_("clients[2].sessions[0].fee.currency", "usd"),
        set_("clients[2].courses[0].planned_sessions", 0),
        set_("clients[2].sessions[0].reactions[0].observed", "later"),
        set_("clients[3].date_of_birth", "2023-02-30"),
    ], clients=4)
    with pytest.raises(ValidationError) as info:
        import_document(repo, document, by="Jane Smith")
    places = sorted(p.path for p in info.value.problems)
    assert places == sorted([
        "clients[0].sessions[0].areas[0].depth_mm",
        "clients[0].fitzpatrick",
        "clients[2].sessions[0].fee.currency",
        "clients[2].courses[0].planned_sessions",
        "clients[2].sessions[0].reactions[0].observed",
        "clients[3].date_of_birth",
    ])
    assert len(info.value.problems) == 6
    assert "6 problems" in str(info.value)
    assert_nothing_written(repo)


def test_a_valid_client_is_not_written_when_another_is_broken(repo):
    document = build([set_(f"{S}.areas[0].depth_mm", 0.05)], clients=2)
    error = refuse(repo, document, f"{S}.areas[0].depth_mm", ["0.1–3.0 mm"])
    assert all(p.path.startswith("clients[0].") for p in error.problems)
    # The broken client can then be fixed and the whole file imports.
    document["clients"][0]["sessions"][0]["areas"][0]["depth_mm"] = 0.5
    import_document(repo, document, by="Jane Smith")
    assert row_counts(repo)["clients"] == 2


def test_a_broken_client_after_a_valid_one_writes_nothing(repo):
    refuse(repo, build([set_("clients[1].last_name", " ")], clients=2), "clients[1].last_name",
           ["is required"])


# --- idempotent re-import ---------------------------------------------------------------------


def _without_exported_at(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def _exported(repo: Repository) -> dict:
    return _without_exported_at(encode_document(list(repo.load_records())))


def test_importing_the_same_file_twice_duplicates_nothing(repo):
    document = valid_document(clients=2)
    first = import_document(repo, document, by="Jane Smith")
    assert dict(first.result.added) == {"clients": 2, "courses": 2, "screenings": 2,
                                        "sessions": 2}
    counts = row_counts(repo)
    stamps = repo.db.execute("SELECT id, created_at, updated_at FROM clients").fetchall()

    second = import_document(repo, document, by="Jane Smith")
    assert dict(second.result.added) == {}
    assert dict(second.result.skipped) == {"clients": 2, "courses": 2, "screenings": 2,
                                           "sessions": 2}
    assert row_counts(repo) == counts
    assert repo.db.execute("SELECT id, created_at, updated_at FROM clients").fetchall() == stamps


def test_a_changed_record_with_a_known_id_is_refused_and_keeps_its_stored_values(repo):
    """Same id, other content: a conflict, never a silent skip (tests/test_import_conflicts.py
    covers each kind)."""
    original = valid_document()
    import_document(repo, original, by="Jane Smith")
    before, counts = _exported(repo), row_counts(repo)

    changed = build([
        set_(f"{C}.first_name", "Changed"),
        set_(f"{C}.fitzpatrick", 5),
        set_(f"{C}.courses[0].planned_sessions", 8),
        set_(f"{C}.screenings[0].answers.pregnant", True),
        set_(f"{S}.areas[0].depth_mm", 2.5),
        set_(f"{S}.fee.amount", "999.00"),
        append_(f"{S}.reactions", {"kind": "oedema", "severity": 1, "observed": "next_day",
                                   "notes": ""}),
        set_(f"{S}.amendments", []),
    ])
    with pytest.raises(ValidationError) as refusal:
        import_document(repo, changed, by="Jane Smith")
    places = [p.path for p in refusal.value.problems]
    for place in (C, f"{C}.fitzpatrick", f"{C}.courses[0].planned_sessions",
                  f"{C}.screenings[0].answers.pregnant", f"{S}.areas[0].depth_mm",
                  f"{S}.fee.amount"):
        assert place in places
    assert row_counts(repo) == counts
    assert _exported(repo) == before
    assert repo.get_client("client-0").first_name == "Ana"


def test_a_new_client_in_a_known_file_is_added_alone(repo):
    import_document(repo, valid_document(clients=1), by="Jane Smith")
    report = import_document(repo, valid_document(clients=2), by="Jane Smith")
    assert dict(report.result.added) == {"clients": 1, "courses": 1, "screenings": 1,
                                         "sessions": 1}
    assert row_counts(repo)["clients"] == 2


def _renamed(n: int, **ids) -> dict:
    """Client `n` of the valid document with fresh ids (course_id follows the course)."""
    client = valid_client(n)
    client["id"] = ids.get("client", f"new-client-{n}")
    client["courses"][0]["id"] = ids.get("course", f"new-course-{n}")
    client["screenings"][0]["id"] = ids.get("screening", f"new-screening-{n}")
    client["sessions"][0]["id"] = ids.get("session", f"new-session-{n}")
    client["sessions"][0]["course_id"] = client["courses"][0]["id"]
    return client


@pytest.mark.parametrize("kind, taken, place", [
    pytest.param("client", "session-0", "clients[0].id", id="client-id-is-a-stored-session-id"),
    pytest.param("session", "client-0", "clients[0].sessions[0].id",
                 id="session-id-is-a-stored-client-id"),
])
def test_an_id_stored_for_another_kind_of_record_is_not_silently_lost(repo, kind, taken,
                                                                       place):
    import_document(repo, valid_document(), by="Jane Smith")
    counts = row_counts(repo)
    document = valid_document()
    document["clients"] = [_renamed(5, **{kind: taken})]
    try:
        report = import_document(repo, document, by="Jane Smith")
    except ValidationError as error:  # refusing it, with its place, is fine
        assert place in [p.path for p in error.problems]
        assert row_counts(repo) == counts
    else:  # and so is importing it whole
        assert dict(report.result.skipped) == {}
        assert row_counts(repo)["clients"] == 2
        assert row_counts(repo)["sessions"] == 2


# --- guideline warnings: reported, and the records are written --------------------------------


@pytest.mark.parametrize("ops, place, code, fragment", [
    pytest.param([append_(f"{S}.areas", {"area": "periorbital", "depth_mm": 1.5})],
                 f"{S}.areas[1].depth_mm", "depth: periorbital 1.5 mm", "0.25–0.5 mm",
                 id="periorbital-1.5mm"),
    pytest.param([set_(f"{S}.anaesthetic.applied_at", "2026-11-20T08:25")],
                 f"{S}.anaesthetic.removed_at", "anaesthetic: LMX4 120 min", "30–60 min",
                 id="lmx4-120-minutes"),
])
def test_guideline_warnings_are_reported_and_the_records_written(repo, ops, place, code,
                                                                  fragment):
    report = import_document(repo, build(ops), by="Jane Smith")
    assert [(w.path, w.code) for w in report.warnings] == [(place, code)]
    assert fragment in report.warnings[0].message
    assert str(report.warnings[0]).startswith(f"{place}: ")
    assert row_counts(repo)["sessions"] == 1
    assert dict(report.result.added)["sessions"] == 1


def test_a_flagged_screening_answer_is_a_warning_and_the_records_are_written(repo):
    report = import_document(repo, build([set_(f"{C}.screenings[0].answers.pregnant", True)]),
                             by="Jane Smith")
    assert [w.code for w in report.warnings] == ["screening: pregnant"]
    assert "Pregnant" in report.warnings[0].message
    assert report.warnings[0].path.startswith("clients[0].")
    assert row_counts(repo) == dict.fromkeys(RECORD_TABLES, 1)
    assert repo.screenings("client-0")[0].answers["pregnant"] is True


def test_a_flagged_screening_answer_is_placed_at_the_answer(repo):
    report = import_document(repo, build([set_(f"{C}.screenings[0].answers.pregnant", True)]),
                             by="Jane Smith")
    assert [w.path for w in report.warnings] == ["clients[0].screenings[0].answers.pregnant"]


def test_an_acknowledged_warning_is_not_reported_again(repo):
    report = import_document(repo, build([
        set_(f"{C}.screenings[0].answers.blood_thinners_or_nsaids", True)]), by="Jane Smith")
    assert report.warnings == []


def test_an_acknowledgement_with_a_reason_is_not_reported_again(repo):
    report = import_document(repo, build([
        set_(f"{C}.screenings[0].answers.blood_thinners_or_nsaids", True),
        set_(f"{S}.acknowledged_warnings[0].warning",
             "screening: blood_thinners_or_nsaids — stopped aspirin a week ago"),
    ]), by="Jane Smith")
    assert report.warnings == []


# --- amendments and acknowledged warnings carried through unchanged ----------------------------


def test_amendments_and_acknowledged_warnings_are_carried_through_unchanged(repo):
    document = build([
        append_(f"{S}.amendments", {
            "at": "2026-11-21T09:15:30", "by": "Jo Brown", "reason": "depth misread",
            "changes": {"areas[0].depth_mm": [1.0, 1.5], "notes": ["", "tolerated well"],
                        "fee.amount": ["200.00", "250.00"]}}),
        append_(f"{S}.acknowledged_warnings", {
            "warning": "depth: cheeks 2.5 mm", "by": "Jo Brown", "at": "2026-11-20T10:29:05"}),
        set_(f"{S}.acknowledged_warnings[0].warning", "screening: blood_thinners_or_nsaids ✓ ñ"),
    ])
    import_document(repo, document, by="Jane Smith")
    exported = encode_document(list(repo.load_records()))
    assert _without_exported_at(exported) == _without_exported_at(document)
    session = exported["clients"][0]["sessions"][0]
    assert session["amendments"] == document["clients"][0]["sessions"][0]["amendments"]
    assert session["acknowledged_warnings"] == \
        document["clients"][0]["sessions"][0]["acknowledged_warnings"]


def test_an_export_imports_back_to_the_same_document(repo, empty):
    document = valid_document(clients=3)
    import_document(repo, document, by="Jane Smith")
    exported = encode_document(list(repo.load_records()))
    import_document(empty, exported, by="Jane Smith")
    assert _exported(empty) == _without_exported_at(exported)
