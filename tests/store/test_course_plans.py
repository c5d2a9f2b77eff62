"""Planning, editing and ending a course in the store: the rules, the audit trail, the seals
`check` verifies, the exchange format (old files unchanged) and backup/restore."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from engines import tamper
from factories import make_client, make_course, make_session

from needledesk.domain.course import course_line, course_under_way, courses_offered
from needledesk.errors import ValidationError
from needledesk.exchange import decode_document, parse_json
from needledesk.store import seals
from needledesk.store.anchors import ANCHOR_ENV
from needledesk.store.backup import take_backup
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.store.restore import restore_and_record
from needledesk.transfer import export_text, import_document

FIXTURE = Path(__file__).parent.parent / "fixtures" / "schema-1.db"


@pytest.fixture(autouse=True)
def _anchors(tmp_path, monkeypatch):
    monkeypatch.setenv(ANCHOR_ENV, str(tmp_path / "anchors"))


@pytest.fixture
def planned(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id, areas_planned=["cheeks", "forehead"]),
                             by="Jane Smith")
    return client, course


def _audit_count(repo) -> int:
    return int(repo.db.execute("SELECT count(*) FROM audit").fetchone()[0])


def test_a_course_is_planned_edited_and_ended_each_change_audited(repo, planned):
    client, course = planned
    assert repo.get_course(course.id).areas_planned == ["cheeks", "forehead"]
    edited = replace(course, planned_sessions=5, areas_planned=["cheeks"])
    repo.update_course(edited, by="Ana Pérez")
    ended = repo.end_course(course.id, date(2026, 11, 20), " moving abroad ", by="Li Wei")
    assert (ended.ended_on, ended.end_reason) == (date(2026, 11, 20), "moving abroad")
    assert repo.get_course(course.id) == ended

    rows = repo.audit.history(course.id)
    assert [(r.action, r.who) for r in rows] == [
        ("create", "Jane Smith"), ("update", "Ana Pérez"), ("end", "Li Wei")]
    assert rows[1].before["planned_sessions"] == 4 and rows[1].after["planned_sessions"] == 5
    assert rows[1].after["areas_planned"] == ["cheeks"]
    assert rows[2].before["ended_on"] is None
    assert (rows[2].after["ended_on"], rows[2].after["end_reason"]) == ("2026-11-20",
                                                                        "moving abroad")
    assert rows[2].content_hash == seals.record_hash(repo.db, "course", course.id)
    assert rows[2].content_hash.startswith("v3:")
    assert check_database(repo.db) == []


def test_ending_without_a_reason_is_refused_and_nothing_is_written(repo, planned):
    _client, course = planned
    before = _audit_count(repo)
    with pytest.raises(ValidationError) as refused:
        repo.end_course(course.id, date(2026, 11, 20), "   ", by="Jane Smith")
    assert [p.path for p in refused.value.problems] == ["end_reason"]
    assert "say why" in refused.value.problems[0].message
    with pytest.raises(ValidationError) as early:
        repo.end_course(course.id, date(2026, 1, 1), "moved", by="Jane Smith")
    assert early.value.problems[0].path == "ended_on"
    assert "is before the course's start, 10 Sep 2026" in early.value.problems[0].message
    assert _audit_count(repo) == before
    assert repo.get_course(course.id).ended_on is None


def test_an_unchanged_edit_or_an_edit_moving_the_course_is_refused(repo, planned):
    _client, course = planned
    with pytest.raises(ValidationError, match="nothing was changed"):
        repo.update_course(course, by="Jane Smith")
    other = repo.add_client(make_client(first_name="Li"), by="Jane Smith")
    with pytest.raises(ValidationError, match="stays with the client"):
        repo.update_course(replace(course, client_id=other.id), by="Jane Smith")


@pytest.mark.parametrize("sql", [
    "UPDATE courses SET ended_on = '2026-12-01', end_reason = 'x'",
    "UPDATE courses SET areas_planned = '[\"neck\"]'",
    "UPDATE courses SET end_reason = 'other reason'",
])
def test_check_finds_a_course_plan_changed_behind_the_programs_back(repo, planned, sql):
    _client, course = planned
    repo.end_course(course.id, date(2026, 11, 20), "moving abroad", by="Jane Smith")
    tamper(repo, sql)
    problems = check_database(repo.db)
    assert any(p.startswith(f"course {course.id} differs") for p in problems), problems


def test_a_course_sealed_before_the_plan_columns_must_leave_them_empty(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    db = open_database(path)   # upgraded: the course has a v2 baseline seal
    repo = Repository(db)
    course_id = db.execute("SELECT id FROM courses").fetchone()[0]
    sealed = db.execute("SELECT content_hash FROM audit WHERE record_id = ? ORDER BY seq DESC",
                        [course_id]).fetchone()[0]
    assert sealed.startswith("v2:")
    assert check_database(db) == []
    db.execute("UPDATE courses SET ended_on = '2026-12-01', end_reason = 'stopped'")
    db.conn.commit()
    assert any(p.startswith(f"course {course_id} differs") for p in check_database(db))
    db.execute("UPDATE courses SET ended_on = NULL, end_reason = ''")
    db.conn.commit()
    # Ending it through the program seals it anew (v3): sound again.
    repo.end_course(course_id, date(2026, 12, 1), "stopped", by="Jane Smith")
    assert check_database(db) == []
    db.close()


# An export of NeedleDesk before course plans: a course without the newer keys.
OLD_FILE = """{"format": "needledesk-exchange", "version": 1, "exported_at": "2026-10-01T09:00",
 "clients": [{"id": "c-1", "first_name": "Ana", "last_name": "López", "courses": [
   {"id": "k-1", "concern": "acne scars", "planned_sessions": 4, "interval_weeks": 6,
    "started_on": "2026-09-10", "notes": "cheeks first"}],
  "screenings": [], "sessions": []}]}"""


def test_a_file_of_the_older_format_imports_unchanged_and_exports_the_same_keys(repo):
    document = parse_json(OLD_FILE)
    import_document(repo, document, by="Jane Smith", today=date(2026, 11, 30))
    course = repo.get_course("k-1")
    assert (course.concern, course.planned_sessions, course.interval_weeks, course.started_on,
            course.notes) == ("acne scars", 4, 6, date(2026, 9, 10), "cheeks first")
    assert (course.areas_planned, course.ended_on, course.end_reason) == ([], None, "")
    exported = json.loads(export_text(repo))["clients"][0]["courses"][0]
    assert exported == document["clients"][0]["courses"][0]
    assert check_database(repo.db) == []


def test_a_planned_and_ended_course_travels_through_export_and_import(repo, tmp_path,
                                                                     planned):
    _client, course = planned
    repo.end_course(course.id, date(2026, 11, 20), "moving abroad", by="Jane Smith")
    text = export_text(repo)
    plain = json.loads(text)["clients"][0]["courses"][0]
    assert (plain["areas_planned"], plain["ended_on"], plain["end_reason"]) == (
        ["cheeks", "forehead"], "2026-11-20", "moving abroad")
    other = Repository(open_database(tmp_path / "other.db"))
    import_document(other, parse_json(text), by="Jane Smith", today=date(2026, 11, 30))
    assert other.get_course(course.id) == repo.get_course(course.id)
    assert check_database(other.db) == []
    other.db.close()


def test_a_file_ending_a_course_without_a_reason_is_refused():
    document = parse_json(OLD_FILE)
    document["clients"][0]["courses"][0]["ended_on"] = "2026-11-01"
    decoded = decode_document(document, today=date(2026, 11, 30))
    assert any(str(p).endswith("courses[0].end_reason: is needed to end a course early: "
                               "say why (up to 200 characters)") for p in decoded.problems), \
        decoded.problems


def test_a_planned_and_ended_course_survives_backup_and_restore(tmp_path):
    path = tmp_path / "clinic.db"
    db = open_database(path)
    repo = Repository(db)
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id, areas_planned=["neck"]), by="Jane Smith")
    repo.end_course(course.id, date(2026, 11, 20), "moving abroad", by="Jane Smith")
    kept = repo.get_course(course.id)
    db.close()
    info = take_backup(path, tmp_path / "backups", now=datetime(2026, 11, 21, 9, 0))
    db = open_database(path)
    Repository(db).update_course(replace(kept, end_reason="changed later"), by="Jane Smith")
    db.close()
    restore_and_record(info.path, path, who="Jane Smith", now=datetime(2026, 11, 22, 9, 0))
    db = open_database(path)
    assert Repository(db).get_course(course.id) == kept
    assert check_database(db) == []
    db.close()


def test_the_course_under_way_and_the_courses_offered():
    done = make_course("c1", planned_sessions=1, started_on=date(2026, 1, 5))
    ended = make_course("c1", started_on=date(2026, 3, 1), ended_on=date(2026, 4, 1),
                        end_reason="moved")
    current = make_course("c1", started_on=date(2026, 9, 10), concern="fine lines")
    sessions = [make_session("c1", course_id=done.id, started_at=datetime(2026, 1, 5, 10)),
                make_session("c1", course_id=current.id, started_at=datetime(2026, 11, 2, 10))]
    assert course_under_way([done, ended, current], sessions) == current
    assert courses_offered([done, ended, current], sessions) == [current]
    assert courses_offered([done, ended, current], sessions, keep=ended.id) == [ended, current]
    assert course_line(current, sessions) == \
        "Course: fine lines — session 1 of 4, next due 14 Dec 2026"
    assert course_line(ended, sessions) == \
        "Course: acne scars — no session yet, ended early on 1 Apr 2026: moved"
    assert course_line(done, sessions) == "Course: acne scars — session 1 of 1, course complete"
    assert course_line(make_course("c1"), []) == \
        "Course: acne scars — no session yet, first due 10 Sep 2026"
