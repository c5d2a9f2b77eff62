"""Import never merges by accident (issue 11, finding 2).

A record of the file whose id is already stored is the same record (identical, or an earlier
or later state of the same session history) or a conflict: then the whole import is refused,
each conflict named with its place in the file and both sides, and the file stays as it was.
Real database files, through the command line and the repository.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
from engines import argv, new_store, open_store

from needledesk.cli import main
from needledesk.domain.model import TreatedArea
from needledesk.errors import ValidationError
from needledesk.exchange import decode_document

TABLES = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
          "reactions", "acknowledged_warnings", "amendments", "audit")


def client_doc(n: int = 0, *, signed: bool = True) -> dict:
    """A complete client with a course, a screening and one session (signed and amended
    once, like the example in EXCHANGE.md, or a draft)."""
    session = {
        "id": f"session-{n}", "course_id": f"course-{n}", "started_at": "2026-11-20T10:30",
        "practitioner": "Jane Smith",
        "device": {"type": "pen", "model": "Dermapen 4", "cartridge": "16-pin",
                   "cartridge_lot": "L2311A"},
        "anaesthetic": {"product": "LMX4", "applied_at": "2026-11-20T09:30",
                        "removed_at": "2026-11-20T10:25"},
        "areas": [{"area": "cheeks", "depth_mm": 1.5, "passes": 3,
                   "endpoint": "pinpoint bleeding", "notes": ""}],
        "serums": [{"product": "Hyaluronic acid 1%", "lot": "HA-0923"}],
        "combined_with": [], "reactions": [{"kind": "erythema", "severity": 2,
                                            "observed": "immediate", "notes": ""}],
        "aftercare": ["SPF 50 sunscreen"], "fee": {"amount": "250.00", "currency": "USD"},
        "notes": "", "signed_at": "2026-11-20T11:10" if signed else None,
        "acknowledged_warnings": [],
        "amendments": [{"at": "2026-11-21T08:40", "by": "Jane Smith", "reason": "typo in lot",
                        "changes": {"device.cartridge_lot": ["L2311", "L2311A"]}}]
        if signed else []}
    return {
        "id": f"client-{n}", "first_name": "Ana", "last_name": f"López {n}",
        "date_of_birth": "1988-03-14", "phone": "+1 555 0100", "email": None,
        "fitzpatrick": 3, "concerns": ["acne scars"], "notes": "",
        "courses": [{"id": f"course-{n}", "concern": "acne scars", "planned_sessions": 4,
                     "interval_weeks": 6, "started_on": "2026-09-10", "notes": ""}],
        "screenings": [{"id": f"screening-{n}", "date": "2026-11-01",
                        "answers": {"pregnant": False, "retinoids_stopped": True},
                        "consent_signed": True, "notes": ""}],
        "sessions": [session],
    }


def document(*clients: dict) -> dict:
    return {"format": "needledesk-exchange", "version": 1, "exported_at": "2026-11-21T09:00",
            "clients": list(clients)}


def stranger(n: int = 7) -> dict:
    """Another client, with ids of their own."""
    return client_doc(n) | {"first_name": "Emre", "last_name": "Arslan"}


def write(path, doc: dict) -> str:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(argv(*args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def exported(capsys, db) -> dict:
    """The whole database in exchange form (without the export time)."""
    code, out, err = run(capsys, "--db", db, "export", "json")
    assert (code, err) == (0, "")
    return {k: v for k, v in json.loads(out).items() if k != "exported_at"}


def counts(db) -> dict[str, int]:
    repo = open_store(db)
    try:
        return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        repo.db.close()


def state(capsys, db) -> tuple[dict, dict]:
    return exported(capsys, db), counts(db)


def assert_sound(capsys, db) -> None:
    code, out, err = run(capsys, "--db", db, "check")
    assert code == 0, out + err


def imported(capsys, db, path) -> str:
    code, out, err = run(capsys, "--db", db, "import", path)
    assert (code, err) == (0, ""), err
    return out.strip()


def refused(capsys, db, path) -> list[str]:
    """Import `path`, expecting a refusal: the problem lines, and nothing written."""
    before = state(capsys, db)
    code, out, err = run(capsys, "--db", db, "import", path)
    assert code != 0
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("needledesk: nothing was written;")
    assert state(capsys, db) == before
    return [line.strip() for line in lines[1:]]


def with_repo(db):
    repo = open_store(db)
    return repo.db, repo


@pytest.fixture
def db(tmp_path, engine, request):
    """The clinic's file, or (`[postgresql]`) a new clinic server's address; the other
    clinics of these tests ("elsewhere") are files."""
    return new_store(engine, tmp_path / "clinic.db", request)


@pytest.fixture
def stored(capsys, db, tmp_path):
    """A database holding client-0 (and their course, screening and amended session)."""
    imported(capsys, db, write(tmp_path / "first.json", document(client_doc(0))))
    return db


# --- the same record ----------------------------------------------------------------------------


def test_reimport_of_the_programs_own_export_is_skipped(capsys, stored, tmp_path):
    path = tmp_path / "export.json"
    assert run(capsys, "--db", stored, "export", "json", "-o", path)[0] == 0
    before = state(capsys, stored)
    out = imported(capsys, stored, path)
    assert out == ("imported: 0 clients, 0 courses, 0 screenings, 0 sessions (already present: "
                   "1 client, 1 course, 1 screening, 1 session)")
    assert state(capsys, stored) == before
    assert_sound(capsys, stored)


def test_names_with_spaces_around_compare_as_stored(capsys, stored, tmp_path):
    """The store trims names, practitioners and areas: the untrimmed file is the same."""
    doc = client_doc(0)
    doc["first_name"], doc["last_name"] = "  Ana ", " López 0 "
    doc["sessions"][0]["practitioner"] = " Jane Smith "
    doc["sessions"][0]["areas"][0]["area"] = "cheeks  "
    doc["sessions"][0]["areas"][0]["depth_mm"] = 1.5
    before = state(capsys, stored)
    assert "already present: 1 client, " in imported(capsys, stored,
                                                     write(tmp_path / "s.json", document(doc)))
    assert state(capsys, stored) == before


# --- conflicts: refused whole, both sides named ---------------------------------------------------


def renamed(doc: dict) -> dict:
    return doc | {"first_name": "Emre", "last_name": "Arslan"}


def changed(path: str, value):
    def change(doc: dict) -> dict:
        doc = copy.deepcopy(doc)
        *steps, last = path.replace("[", ".").replace("]", "").split(".")
        target = doc
        for step in steps:
            target = target[int(step)] if step.isdigit() else target[step]
        target[int(last) if last.isdigit() else last] = value
        return doc
    return change


def borrowing(kind: str):
    """A new client (Emre Arslan) whose course, screening or session has client-0's id."""
    def change(doc: dict) -> dict:
        other = stranger()
        other[kind][0]["id"] = f"{kind[:-1]}-0"
        if kind == "courses":
            other["sessions"][0]["course_id"] = "course-0"
        return other
    return change


CONFLICTS = [
    pytest.param(renamed, ['Client 1: id client-0 exists as "Ana López 0", the file says '
                           '"Emre Arslan"'], id="client-other-name"),
    pytest.param(changed("phone", "+1 555 0199"),
                 ['Client 1, Phone: client client-0 ("Ana López 0") has "+1 555 0100" here, '
                  'the file says "+1 555 0199"'], id="client-other-phone"),
    pytest.param(changed("date_of_birth", "1990-01-01"),
                 ['Client 1, Date of birth: client client-0 ("Ana López 0") has "1988-03-14" '
                  'here, the file says "1990-01-01"'], id="client-other-birthday"),
    pytest.param(borrowing("courses"),
                 ['Client 1, Course 1: course id course-0 belongs to another client, '
                  '"Ana López 0" (client-0); the file puts it under "Emre Arslan"'],
                 id="course-of-another-client"),
    pytest.param(changed("courses[0].planned_sessions", 8),
                 ["Client 1, Course 1, Planned sessions: course course-0 has 4 here, the "
                  "file says 8"], id="course-other-content"),
    pytest.param(borrowing("screenings"),
                 ['Client 1, Screening 1: screening id screening-0 belongs to another '
                  'client, "Ana López 0" (client-0); the file puts it under "Emre Arslan"'],
                 id="screening-of-another-client"),
    pytest.param(changed("screenings[0].answers.pregnant", True),
                 ["Client 1, Screening 1, Pregnant: screening screening-0 has no "
                  "here, the file says yes"], id="screening-other-answer"),
    pytest.param(borrowing("sessions"),
                 ['Client 1, Session 1: session id session-0 belongs to another client, '
                  '"Ana López 0" (client-0); the file puts it under "Emre Arslan"'],
                 id="session-of-another-client"),
    pytest.param(changed("sessions[0].fee.amount", "300.00"),
                 ['Client 1, Session 1, Fee: session session-0 of 20 Nov 2026 10:30 '
                  'has "250.00" here, the file says "300.00"'], id="session-other-fee"),
    pytest.param(changed("sessions[0].areas[0].depth_mm", 2.0),
                 ["Client 1, Session 1, Treated area 1: Depth: session session-0 of 20 Nov 2026 "
                  "10:30 has 1.5 here, the file says 2.0"], id="session-other-depth"),
    pytest.param(changed("sessions[0].signed_at", "2026-11-20T11:45"),
                 ['Client 1, Session 1, Signed off: session session-0 of 20 Nov 2026 10:30 '
                  'has "2026-11-20T11:10" here, the file says "2026-11-20T11:45"'],
                 id="session-other-sign-off"),
    pytest.param(changed("sessions[0].amendments[0].reason", "wrong lot"),
                 ['Client 1, Session 1, Amendment 1: Reason for the amendment: session '
                  'session-0 of 20 Nov 2026 10:30 has "typo in lot" here, the file says '
                  '"wrong lot"'],
                 id="session-other-amendment"),
]


@pytest.mark.parametrize("change, expected", CONFLICTS)
def test_a_stored_id_with_other_content_is_refused_whole(capsys, stored, tmp_path, change,
                                                         expected):
    # a new client before it would be written if the import went ahead
    doc = document(client_doc(1), change(client_doc(0)))
    lines = refused(capsys, stored, write(tmp_path / "conflict.json", doc))
    assert lines == [line.replace("Client 1", "Client 2", 1) for line in expected]
    assert_sound(capsys, stored)


def test_a_session_moved_to_another_course_is_a_conflict(capsys, stored, tmp_path):
    doc = client_doc(0)
    doc["courses"].append(doc["courses"][0] | {"id": "course-b", "concern": "pores"})
    doc["sessions"][0]["course_id"] = "course-b"
    lines = refused(capsys, stored, write(tmp_path / "moved.json", document(doc)))
    assert lines == ['Client 1, Session 1, Course: session session-0 of 20 Nov 2026 10:30 '
                     'has "course-0" here, the file says "course-b"']


def test_every_conflict_is_named_at_once(capsys, stored, tmp_path):
    doc = renamed(client_doc(0))
    doc["sessions"][0]["notes"] = "tolerated well"
    lines = refused(capsys, stored, write(tmp_path / "two.json", document(doc)))
    assert lines == [
        'Client 1: id client-0 exists as "Ana López 0", the file says "Emre Arslan"',
        'Client 1, Session 1, Notes: session session-0 of 20 Nov 2026 10:30 has "" here, the '
        'file says "tolerated well"']


def test_a_different_draft_is_a_conflict(capsys, db, tmp_path):
    imported(capsys, db, write(tmp_path / "draft.json", document(client_doc(0, signed=False))))
    doc = client_doc(0, signed=False)
    doc["sessions"][0]["reactions"][0]["severity"] = 1
    lines = refused(capsys, db, write(tmp_path / "other.json", document(doc)))
    assert lines == ["Client 1, Session 1, Reaction 1: Severity: session session-0 of 20 Nov "
                     "2026 10:30 has 2 here (a draft here and in the file), the file says 1"]


def test_a_draft_in_the_file_unlike_the_session_signed_here_is_a_conflict(capsys, stored,
                                                                          tmp_path):
    doc = client_doc(0, signed=False)
    doc["sessions"][0]["device"]["cartridge_lot"] = "L9999"
    lines = refused(capsys, stored, write(tmp_path / "draft.json", document(doc)))
    assert lines == ['Client 1, Session 1, Cartridge lot: session session-0 of 20 Nov '
                     '2026 10:30 has "L2311" here (as first signed here; the file has it as an '
                     'unsigned draft), the file says "L9999"']


def test_the_repository_refuses_a_course_of_another_client_and_writes_nothing(repo):
    decoded = decode_document(document(client_doc(0)))
    repo.write_records(decoded.records, by="Jane Smith")
    before = {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    other = decode_document(document(client_doc(1), borrowing("courses")(None))).records
    with pytest.raises(ValidationError) as refusal:
        repo.write_records(other, by="Jane Smith")
    assert [str(p) for p in refusal.value.problems] == [
        'clients[1].courses[0]: course id course-0 belongs to another client, "Ana López 0" '
        '(client-0); the file puts it under "Emre Arslan"']
    assert {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in TABLES} == before
    assert repo.courses("client-7") == []


# --- earlier and later states of the same session -------------------------------------------------


def amend_here(db, *, depth: float, reason: str, at: datetime) -> None:
    database, repo = with_repo(db)
    try:
        session = repo.get_session("session-0")
        session.areas = [TreatedArea("cheeks", depth, 3, "pinpoint bleeding")]
        repo.amend_session(session, by="Jane Smith", reason=reason, at=at)
    finally:
        database.close()


def test_an_older_export_of_a_session_amended_since_is_the_same(capsys, stored, tmp_path):
    older = tmp_path / "older.json"
    assert run(capsys, "--db", stored, "export", "json", "-o", older)[0] == 0
    amend_here(stored, depth=1.25, reason="depth misread", at=datetime(2026, 11, 22, 9, 0))
    amend_here(stored, depth=1.0, reason="depth misread again", at=datetime(2026, 11, 23, 9, 0))
    before = state(capsys, stored)
    out = imported(capsys, stored, older)
    assert out.endswith("(already present: 1 client, 1 course, 1 screening, 1 session)")
    assert state(capsys, stored) == before
    assert len(before[0]["clients"][0]["sessions"][0]["amendments"]) == 3
    assert_sound(capsys, stored)


def test_an_older_draft_of_a_session_signed_since_is_the_same(capsys, db, tmp_path):
    imported(capsys, db, write(tmp_path / "draft.json", document(client_doc(0, signed=False))))
    database, repo = with_repo(db)
    try:
        repo.sign_session("session-0", at=datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    finally:
        database.close()
    before = state(capsys, db)
    out = imported(capsys, db, str(tmp_path / "draft.json"))
    assert "already present: 1 client, 1 course, 1 screening, 1 session" in out
    assert state(capsys, db) == before
    assert_sound(capsys, db)


def audit_rows(db, record_id: str) -> list[tuple]:
    repo = open_store(db)
    try:
        return [tuple(r) for r in repo.db.execute(
            "SELECT action, kind, who, after FROM audit WHERE record_id = ? ORDER BY seq",
            [record_id]).fetchall()]
    finally:
        repo.db.close()


def test_a_newer_export_applies_the_amendments_made_elsewhere(capsys, stored, tmp_path):
    """The clinic's other PC amended the session; its export brings the amendments here,
    with their own by, at and reason, and the audit trail records each."""
    elsewhere = tmp_path / "elsewhere.db"
    imported(capsys, elsewhere, write(tmp_path / "first.json", document(client_doc(0))))
    amend_here(elsewhere, depth=1.25, reason="depth misread", at=datetime(2026, 11, 22, 9, 0))
    amend_here(elsewhere, depth=1.0, reason="depth misread again",
               at=datetime(2026, 11, 23, 9, 0))
    newer = tmp_path / "newer.json"
    assert run(capsys, "--db", elsewhere, "export", "json", "-o", newer)[0] == 0
    rows_before = len(audit_rows(stored, "session-0"))

    out = imported(capsys, stored, newer)

    assert out.startswith("imported: 0 clients, 0 courses, 0 screenings, 0 sessions")
    assert "brought up to date from the file: 2 amendments" in out
    assert exported(capsys, stored) == exported(capsys, elsewhere)
    amendments = exported(capsys, stored)["clients"][0]["sessions"][0]["amendments"]
    assert [(a["at"], a["by"], a["reason"]) for a in amendments] == [
        ("2026-11-21T08:40", "Jane Smith", "typo in lot"),
        ("2026-11-22T09:00", "Jane Smith", "depth misread"),
        ("2026-11-23T09:00", "Jane Smith", "depth misread again")]
    new_rows = audit_rows(stored, "session-0")[rows_before:]
    assert [(action, kind) for action, kind, _who, _after in new_rows] == [
        ("amend", "session"), ("amend", "session")]
    assert json.loads(new_rows[0][3])["areas"][0]["depth_mm"] == 1.25
    assert json.loads(new_rows[1][3])["areas"][0]["depth_mm"] == 1.0
    assert_sound(capsys, stored)
    # and the same file again changes nothing more
    before = state(capsys, stored)
    assert "already present: 1 client, 1 course, 1 screening, 1 session" in imported(
        capsys, stored, newer)
    assert state(capsys, stored) == before


def test_a_repository_import_counts_what_it_brought_up_to_date(repo, tmp_path):
    repo.write_records(decode_document(document(client_doc(0))).records, by="Jane Smith")
    newer = client_doc(0)
    session = newer["sessions"][0]
    session["notes"] = "mild flaking on day 3"
    session["amendments"].append({"at": "2026-11-24T10:00", "by": "Li Wei",
                                  "reason": "follow-up call", "changes": {
                                      "notes": ["", "mild flaking on day 3"]}})
    result = repo.write_records(decode_document(document(newer)).records, by="Jane Smith")
    assert dict(result.updated) == {"amendments": 1}
    assert dict(result.added) == {}
    stored = repo.get_session("session-0")
    assert stored.notes == "mild flaking on day 3"
    assert (stored.amendments[-1].by, stored.amendments[-1].reason) == ("Li Wei",
                                                                        "follow-up call")


def test_a_newer_amendment_that_does_not_lead_back_here_is_a_conflict(capsys, stored,
                                                                      tmp_path):
    doc = client_doc(0)
    session = doc["sessions"][0]
    session["fee"]["amount"] = "200.00"
    session["amendments"].append({"at": "2026-11-24T10:00", "by": "Li Wei",
                                  "reason": "discount", "changes": {
                                      "fee.amount": ["220.00", "200.00"]}})
    lines = refused(capsys, stored, write(tmp_path / "forked.json", document(doc)))
    assert lines == ['Client 1, Session 1, Fee: session session-0 of 20 Nov 2026 10:30 '
                     'has "250.00" here (compared with the file\'s version before its 1 '
                     'amendment not made here), the file says "220.00"']


def test_a_draft_here_signed_in_the_file_is_signed_off_and_amended(capsys, db, tmp_path):
    draft = write(tmp_path / "draft.json", document(client_doc(0, signed=False)))
    imported(capsys, db, draft)
    elsewhere = tmp_path / "elsewhere.db"
    imported(capsys, elsewhere, draft)
    database, repo = with_repo(elsewhere)
    try:
        repo.sign_session("session-0", at=datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    finally:
        database.close()
    amend_here(elsewhere, depth=1.25, reason="depth misread", at=datetime(2026, 11, 22, 9, 0))
    newer = tmp_path / "newer.json"
    assert run(capsys, "--db", elsewhere, "export", "json", "-o", newer)[0] == 0

    imported(capsys, db, newer)

    assert exported(capsys, db) == exported(capsys, elsewhere)
    session = exported(capsys, db)["clients"][0]["sessions"][0]
    assert session["signed_at"] == "2026-11-20T11:10"
    actions = [action for action, _kind, _who, _after in audit_rows(db, "session-0")]
    assert actions[-2:] == ["sign", "amend"]
    assert_sound(capsys, db)


def test_a_draft_here_unlike_the_signed_one_in_the_file_is_a_conflict(capsys, db, tmp_path):
    imported(capsys, db, write(tmp_path / "draft.json", document(client_doc(0, signed=False))))
    doc = client_doc(0)
    doc["sessions"][0]["amendments"] = []
    doc["sessions"][0]["serums"][0]["lot"] = "HA-1000"
    lines = refused(capsys, db, write(tmp_path / "signed.json", document(doc)))
    assert lines == ['Client 1, Session 1, Serum 1: Serum lot: session session-0 of 20 Nov 2026 '
                     '10:30 has "HA-0923" here (a draft here; the file\'s is signed, compared as '
                     'it was before signing), the file says "HA-1000"']
