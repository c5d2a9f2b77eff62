"""The `needledesk` command on real files: import, export json, check, --version, and the
demo -> export -> import -> export round trip.

Every expected failure must be clear lines on stderr (never a traceback), a non-zero exit, and
an untouched database.
"""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
from engines import argv, is_server, new_store, open_store

import needledesk
from needledesk.cli import main

RECORD_TABLES = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
                 "reactions", "acknowledged_warnings", "amendments")


def valid_client(n: int = 0) -> dict:
    """A complete client, like the example in EXCHANGE.md."""
    return {
        "id": f"client-{n}", "first_name": "Ana", "last_name": f"López {n}",
        "date_of_birth": "1988-03-14", "phone": "+1 555 0100", "email": "ana@example.org",
        "fitzpatrick": 3, "concerns": ["acne scars", "enlarged pores"], "notes": "",
        "courses": [{"id": f"course-{n}", "concern": "acne scars", "planned_sessions": 4,
                     "interval_weeks": 6, "started_on": "2026-09-10", "notes": ""}],
        "screenings": [{
            "id": f"screening-{n}", "date": "2026-11-01",
            "answers": {"pregnant": False, "breastfeeding": False,
                        "active_acne_or_infection": False, "eczema_or_psoriasis_at_site": False,
                        "open_wounds_or_cold_sores": False, "isotretinoin_last_6_months": False,
                        "blood_thinners_or_nsaids": False, "retinoids_stopped": True,
                        "keloid_history": False, "anaesthetic_allergy": False},
            "consent_signed": True, "notes": ""}],
        "sessions": [{
            "id": f"session-{n}", "course_id": f"course-{n}", "started_at": "2026-11-20T10:30",
            "practitioner": "Jane Smith",
            "device": {"type": "pen", "model": "Dermapen 4", "cartridge": "16-pin",
                       "cartridge_lot": "L2311A"},
            "anaesthetic": {"product": "LMX4", "applied_at": "2026-11-20T09:30",
                            "removed_at": "2026-11-20T10:25"},
            "areas": [{"area": "cheeks", "depth_mm": 1.5, "passes": 3,
                       "endpoint": "pinpoint bleeding", "notes": ""}],
            "serums": [{"product": "Hyaluronic acid 1%", "lot": "HA-0923"}],
            "combined_with": ["chemical peel"],
            "reactions": [{"kind": "erythema", "severity": 2, "observed": "immediate",
                           "notes": ""}],
            "aftercare": ["SPF 50 sunscreen", "Gentle cleanser"],
            "fee": {"amount": "250.00", "currency": "USD"}, "notes": "",
            "signed_at": "2026-11-20T11:10",
            "acknowledged_warnings": [{"warning": "screening: blood_thinners_or_nsaids",
                                       "by": "Jane Smith", "at": "2026-11-20T10:28"}],
            "amendments": [{"at": "2026-11-21T08:40", "by": "Jane Smith",
                            "reason": "typo in lot",
                            "changes": {"device.cartridge_lot": ["L2311", "L2311A"]}}]}],
    }


def valid_document(clients: int = 1) -> dict:
    return {"format": "needledesk-exchange", "version": 1, "exported_at": "2026-11-21T09:00:00",
            "clients": [valid_client(n) for n in range(clients)]}


def without_exported_at(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


@pytest.fixture(autouse=True)
def _private_places(tmp_path, monkeypatch):
    """Keep the default database and the crash log inside tmp_path, whatever happens."""
    monkeypatch.setenv("NEEDLEDESK_DB", str(tmp_path / "default" / "needledesk.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def db(tmp_path, engine, request):
    """The clinic's file, or (`[postgresql]`) a new clinic server's address."""
    return new_store(engine, tmp_path / "clinic.db", request)


def write_json(path, document) -> str:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(argv(*args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def row_counts(path) -> dict[str, int]:
    repo = open_store(path)
    try:
        return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in RECORD_TABLES}
    finally:
        repo.db.close()


def assert_nothing_written(path) -> None:
    if is_server(path) or (os.path.exists(path) and os.path.getsize(path)):
        assert row_counts(path) == dict.fromkeys(RECORD_TABLES, 0)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("needledesk: ")
    return lines[0]


# --- import ---------------------------------------------------------------------------------


def test_import_of_a_broken_file_reports_every_problem_and_writes_nothing(capsys, db, tmp_path):
    document = valid_document(clients=3)
    document["clients"][0]["sessions"][0]["areas"][0]["depth_mm"] = 3.5
    document["clients"][2]["fitzpatrick"] = 7
    document["clients"][2]["sessions"][0]["fee"]["currency"] = "usd"
    path = write_json(tmp_path / "broken.json", document)

    code, out, err = run(capsys, "--db", db, "import", path)

    assert code != 0
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "needledesk: nothing was written; 3 problem(s):"
    assert sorted(line.strip() for line in lines[1:]) == sorted([
        "Client 1, Session 1, Treated area 1: Depth 3.5 is outside 0.1–3.0 mm",
        "Client 3, Fitzpatrick type 7 is outside 1–6 (Fitzpatrick type I to VI)",
        "Client 3, Session 1, Fee currency: 'usd' is not a 3-letter currency code such as "
        "USD",
    ])
    assert_nothing_written(db)


def test_import_problems_read_in_plain_words_without_field_paths(capsys, db, tmp_path):
    document = valid_document(clients=3)
    session = document["clients"][0]["sessions"][0]
    session["areas"][0]["depth_mm"] = 3.5
    session["anaesthetic"]["removed_at"] = "2026-11-20T08:00"
    session["reactions"][0]["severity"] = 9
    document["clients"][1]["courses"][0]["planned_sessions"] = 0
    document["clients"][1]["date_of_birth"] = "2023-02-30"
    document["clients"][2]["fitzpatrick"] = 7
    document["clients"][2]["sessions"][0]["fee"]["currency"] = "usd"
    path = write_json(tmp_path / "broken.json", document)

    code, out, err = run(capsys, "--db", db, "import", path)

    assert code != 0
    lines = err.splitlines()
    assert lines[0] == f"needledesk: nothing was written; {len(lines) - 1} problem(s):"
    assert len(lines) - 1 == 7, err
    for line in lines[1:]:
        assert line.startswith("  ") and line[2:3].isupper(), line
        assert "[" not in line and "]" not in line, line
        assert not re.search(r"\w_\w", line), line
        assert not re.search(r"[a-z]\.[a-z]", line), line
    assert "  Client 1, Session 1, Removed at 08:00 is before Applied at 09:30" in lines
    assert "  Client 2, Course 1, Planned sessions 0 is outside 1–20 sessions" in lines
    assert_nothing_written(db)


def test_import_of_a_file_with_shape_problems_lists_each_with_its_place(capsys, db, tmp_path):
    document = valid_document()
    session = document["clients"][0]["sessions"][0]
    session["device"]["type"] = "stamp"
    session["areas"][0]["depth"] = 1.0
    session["started_at"] = "2026-11-20 10:30"
    path = write_json(tmp_path / "broken.json", document)

    code, out, err = run(capsys, "--db", db, "import", path)

    assert code != 0
    for place in ("Client 1, Session 1, Device type",
                  "Client 1, Session 1, Treated area 1: depth",
                  "Client 1, Session 1, Started"):
        assert any(line.strip().startswith(place) for line in err.splitlines()), err
    assert_nothing_written(db)


@pytest.mark.parametrize("content, expected", [
    pytest.param(b"this is not JSON\n", "not a JSON file", id="not-json"),
    pytest.param(b"", "not a JSON file", id="empty-file"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a JSON file", id="binary"),
    pytest.param(b'{"format": "needledesk-exchange", "version": 1, "clients": [',
                 "not a JSON file", id="truncated"),
    pytest.param(b"[]", "not a NeedleDesk exchange file", id="json-array"),
    pytest.param(json.dumps([valid_document()]).encode(), "not a NeedleDesk exchange file",
                 id="json-array-of-a-document"),
    pytest.param(b'{"name": "something else"}', "not a NeedleDesk exchange file",
                 id="other-json-object"),
    pytest.param(json.dumps(valid_document() | {"version": 3}).encode(),
                 "version 3 is not supported", id="version-3"),
])
def test_import_of_a_file_that_is_not_this_format_is_one_clear_line(capsys, db, tmp_path,
                                                                     content, expected):
    path = tmp_path / "records.json"
    path.write_bytes(content)

    code, out, err = run(capsys, "--db", db, "import", path)

    assert code != 0
    assert out == ""
    assert expected in one_line(err)
    assert_nothing_written(db)


def test_import_of_a_missing_file_is_one_clear_line(capsys, db, tmp_path):
    missing = tmp_path / "no-such-file.json"

    code, out, err = run(capsys, "--db", db, "import", missing)

    assert code != 0
    assert out == ""
    line = one_line(err)
    assert str(missing) in line
    assert "cannot be read" in line
    assert_nothing_written(db)


def test_import_of_a_valid_file_reports_counts_and_is_idempotent(capsys, db, tmp_path):
    path = write_json(tmp_path / "records.json", valid_document(clients=2))

    code, out, err = run(capsys, "--db", db, "import", path)
    assert (code, err) == (0, "")
    assert out.strip() == "imported: 2 clients, 2 courses, 2 screenings, 2 sessions"
    counts = row_counts(db)
    assert counts["clients"] == 2

    code, out, err = run(capsys, "--db", db, "import", path)
    assert (code, err) == (0, "")
    assert out.strip() == ("imported: 0 clients, 0 courses, 0 screenings, 0 sessions "
                           "(already present: 2 clients, 2 courses, 2 screenings, 2 sessions)")
    assert row_counts(db) == counts


def test_import_prints_guideline_warnings_and_keeps_the_records(capsys, db, tmp_path):
    document = valid_document()
    session = document["clients"][0]["sessions"][0]
    session["areas"].append({"area": "periorbital", "depth_mm": 1.5})
    session["anaesthetic"]["applied_at"] = "2026-11-20T08:25"
    path = write_json(tmp_path / "records.json", document)

    code, out, err = run(capsys, "--db", db, "import", path)

    assert code == 0
    assert out.startswith("imported: 1 client, ")
    warnings = err.splitlines()
    assert len(warnings) == 2
    assert not any("clients[" in w or "_" in w for w in warnings), warnings
    assert any(w.startswith("warning: Client 1, Session 1, Treated area 2: Depth")
               for w in warnings)
    assert any(w.startswith("warning: Client 1, Session 1, Removed at: contact time")
               and "120 min" in w for w in warnings)
    assert row_counts(db)["treated_areas"] == 2


# --- export ---------------------------------------------------------------------------------


@pytest.fixture
def stocked(capsys, db, tmp_path):
    """A database holding the three clients of `valid_document(3)`."""
    document = valid_document(clients=3)
    code, _, _ = run(capsys, "--db", db, "import", write_json(tmp_path / "in.json", document))
    assert code == 0
    return document


def test_export_json_to_a_file_is_private_and_gives_back_the_records(capsys, db, tmp_path,
                                                                     stocked):
    target = tmp_path / "export.json"
    old = os.umask(0o022)
    try:
        code, out, err = run(capsys, "--db", db, "export", "json", "-o", target)
    finally:
        os.umask(old)

    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert without_exported_at(exported) == without_exported_at(stocked)
    assert list(tmp_path.glob(".export.json.*")) == []  # no temporary file left behind


def test_export_json_over_an_existing_readable_file_makes_it_private(capsys, db, tmp_path,
                                                                     stocked):
    target = tmp_path / "export.json"
    target.write_text("old contents")
    target.chmod(0o644)
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "--db", db, "export", "json", "--output", target)
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "needledesk-exchange"


def test_export_json_to_standard_output(capsys, db, stocked):
    code, out, err = run(capsys, "--db", db, "export", "json")
    assert (code, err) == (0, "")
    assert without_exported_at(json.loads(out)) == without_exported_at(stocked)


def test_export_json_of_one_client(capsys, db, tmp_path, stocked):
    target = tmp_path / "one.json"
    code, out, err = run(capsys, "--db", db, "export", "json", "--client", "client-1",
                         "-o", target)
    assert (code, out, err) == (0, "", "")
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [c["id"] for c in exported["clients"]] == ["client-1"]
    assert exported["clients"][0] == stocked["clients"][1]


def test_export_json_of_an_unknown_client_is_one_clear_line(capsys, db, tmp_path, stocked):
    target = tmp_path / "none.json"
    code, out, err = run(capsys, "--db", db, "export", "json", "--client", "unknown-id",
                         "-o", target)
    assert code != 0
    assert out == ""
    assert "unknown-id" in one_line(err)
    assert not target.exists()


# --- check and --version ------------------------------------------------------------------------


def test_check_on_a_fresh_database_exits_0(capsys, db):
    open_store(db).db.close()
    code, out, err = run(capsys, "--db", db, "check")
    assert (code, err) == (0, "")
    assert "sound" in out


@pytest.mark.sqlite_only   # a missing FILE (a server not there: tests/test_server_cli.py)
def test_check_on_a_missing_file_is_one_clear_line(capsys, db):
    code, out, err = run(capsys, "--db", db, "check")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [f"needledesk: {db}: no such database"]


def test_check_after_an_import_exits_0(capsys, db, stocked):
    code, out, err = run(capsys, "--db", db, "check")
    assert (code, err) == (0, "")


def test_version_prints_the_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"NeedleDesk {needledesk.__version__}"
    assert err == ""


# --- the round trip the issue asks for -----------------------------------------------------------


def test_demo_export_import_export_gives_the_same_document(capsys, tmp_path, engine, request):
    """From a file's export into a file, or (`[postgresql]`) into a clinic server."""
    pytest.importorskip("needledesk.demo")
    db_a, db_b = tmp_path / "a.db", new_store(engine, tmp_path / "b.db", request)
    a_json, b_json = tmp_path / "a.json", tmp_path / "b.json"

    code, out, err = run(capsys, "--db", db_a, "demo", "--clients", 50, "--seed", 7)
    assert code == 0, err
    code, _, err = run(capsys, "--db", db_a, "export", "json", "-o", a_json)
    assert code == 0, err
    code, out, err = run(capsys, "--db", db_b, "import", a_json)
    assert code == 0, err
    assert out.startswith("imported: 50 clients")
    code, _, err = run(capsys, "--db", db_b, "export", "json", "-o", b_json)
    assert code == 0, err

    a = json.loads(a_json.read_text(encoding="utf-8"))
    b = json.loads(b_json.read_text(encoding="utf-8"))
    assert len(a["clients"]) == 50
    assert without_exported_at(a) == without_exported_at(b)
    assert row_counts(db_a) == row_counts(db_b)
