"""Issue 13 item 7: "not applicable" travels through storage, seals, `check`, the exchange
format and backups; files written before it import unchanged."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from factories import make_client, make_screening

from needledesk.domain.model import NOT_APPLICABLE, SCREENING_QUESTIONS, ClientRecord
from needledesk.errors import ValidationError
from needledesk.exchange import encode_document
from needledesk.store.backup import take_backup
from needledesk.store.check import check_database
from needledesk.store.database import open_database, open_readonly
from needledesk.store.repository import Repository
from needledesk.store.restore import restore_and_record
from needledesk.transfer import export_text, import_document, import_file

OLD_FILE = Path(__file__).parent / "fixtures" / "exchange-before-not-applicable.json"
TODAY = date(2026, 11, 21)


@pytest.fixture
def not_applicable(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    screening = make_screening(client.id)
    screening.answers["retinoids_stopped"] = NOT_APPLICABLE
    repo.add_screening(screening, by="Jane Smith")
    return client, screening


def _stored_answers(db_path, screening_id):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT answers FROM screenings WHERE id = ?",
                            [screening_id]).fetchone()[0]
    finally:
        conn.close()


# --- storage, seals and check -------------------------------------------------------------


def test_not_applicable_is_stored_read_back_and_passes_check(repo, db_path, not_applicable):
    client, screening = not_applicable
    (back,) = repo.screenings(client.id)
    assert back.answers == screening.answers
    assert back.answers["retinoids_stopped"] == NOT_APPLICABLE
    assert back.flagged == []
    assert '"retinoids_stopped": "not_applicable"' in _stored_answers(db_path, screening.id)
    assert check_database(repo.db) == []  # its seal and its rules both hold


def test_yes_no_and_unasked_answers_are_stored_exactly_as_before(repo, db_path):
    # the seals of records written before "not applicable" cover this text: it must not move
    client = repo.add_client(make_client(), by="Jane Smith")
    screening = make_screening(client.id, answers={"pregnant": False, "retinoids_stopped": True,
                                                   "keloid_history": None})
    repo.add_screening(screening, by="Jane Smith")
    assert _stored_answers(db_path, screening.id) == (
        '{"pregnant": false, "retinoids_stopped": true, "keloid_history": null}')


def test_not_applicable_written_behind_the_programs_back_on_another_question_is_reported(
        repo, db_path, not_applicable):
    _, screening = not_applicable
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE screenings SET answers = json_set(answers, '$.pregnant', "
                 "'not_applicable') WHERE id = ?", [screening.id])
    conn.commit()
    conn.close()
    db = open_readonly(db_path)
    try:
        problems = check_database(db)
    finally:
        db.close()
    assert any("“Pregnant” cannot be answered Not applicable" in p for p in problems), problems
    assert any(f"screening {screening.id} differs" in p for p in problems), problems


def test_not_applicable_survives_backup_and_restore(tmp_path, db_path):
    db = open_database(db_path)
    repo = Repository(db)
    client = repo.add_client(make_client(), by="Jane Smith")
    screening = make_screening(client.id)
    screening.answers["retinoids_stopped"] = NOT_APPLICABLE
    repo.add_screening(screening, by="Jane Smith")
    info = take_backup(db_path, tmp_path / "backups")
    changed = make_screening(client.id, date=date(2026, 11, 2))
    repo.add_screening(changed, by="Jane Smith")  # after the backup: the restore drops it
    db.close()

    restore_and_record(info.path, db_path, who="Jane Smith")  # checks rules and seals first
    db = open_database(db_path)
    try:
        (back,) = Repository(db).screenings(client.id)
        assert back.id == screening.id
        assert back.answers["retinoids_stopped"] == NOT_APPLICABLE
        assert check_database(db) == []
    finally:
        db.close()


# --- the exchange format ------------------------------------------------------------------


def test_not_applicable_exports_and_imports_back_unchanged(repo, tmp_path, not_applicable):
    client, screening = not_applicable
    text = export_text(repo)
    exported = json.loads(text)["clients"][0]["screenings"][0]["answers"]
    assert exported["retinoids_stopped"] == "not_applicable"

    other = Repository(open_database(tmp_path / "other.db"))
    try:
        report = import_document(other, json.loads(text), by="Jane Smith", today=TODAY)
        assert report.warnings == []  # never flagged
        (back,) = other.screenings(client.id)
        assert back.answers == screening.answers
        again = json.loads(export_text(other))
        first = json.loads(text)
        # The same document, but for when it was made (two exports may be a second apart).
        assert {**again, "exported_at": None} == {**first, "exported_at": None}
    finally:
        other.db.close()


def test_a_file_from_before_not_applicable_imports_unchanged(repo):
    raw = json.loads(OLD_FILE.read_text(encoding="utf-8"))
    report = import_file(repo, OLD_FILE, by="Jane Smith", today=TODAY)
    assert report.result.added["screenings"] == 2
    first, second = repo.screenings("old-client-1")
    for stored, written in zip((first, second), raw["clients"][0]["screenings"], strict=True):
        assert stored.answers == written["answers"]
        assert NOT_APPLICABLE not in stored.answers.values()
    # the meanings are those of before: that No is still the flagged answer, null unasked
    assert first.flagged == ["retinoids_stopped"]
    assert first.answers["keloid_history"] is None
    assert second.flagged == []
    # and it comes back out as it went in
    out = json.loads(export_text(repo))["clients"][0]["screenings"]
    assert [s["answers"] for s in out] == [s["answers"] for s in raw["clients"][0]["screenings"]]
    assert check_database(repo.db) == []


@pytest.mark.parametrize("key", [k for k in SCREENING_QUESTIONS if k != "retinoids_stopped"])
def test_a_file_with_not_applicable_on_another_question_is_refused_and_writes_nothing(
        repo, key):
    document = json.loads(OLD_FILE.read_text(encoding="utf-8"))
    document["clients"][0]["screenings"][0]["answers"][key] = "not_applicable"
    with pytest.raises(ValidationError) as caught:
        import_document(repo, document, by="Jane Smith", today=TODAY)
    (problem,) = caught.value.problems
    assert problem.path == f"clients[0].screenings[0].answers.{key}"
    assert f"“{SCREENING_QUESTIONS[key]}” cannot be answered Not applicable" in problem.message
    assert repo.db.execute("SELECT count(*) FROM clients").fetchone()[0] == 0


def test_another_spelling_of_not_applicable_is_refused_naming_the_value_to_use(repo):
    document = json.loads(OLD_FILE.read_text(encoding="utf-8"))
    document["clients"][0]["screenings"][0]["answers"]["retinoids_stopped"] = "n/a"
    with pytest.raises(ValidationError) as caught:
        import_document(repo, document, by="Jane Smith", today=TODAY)
    (problem,) = caught.value.problems
    assert problem.message == '"n/a" is not true, false or null (or "not_applicable")'
    assert repo.db.execute("SELECT count(*) FROM screenings").fetchone()[0] == 0


def test_the_encoder_writes_not_applicable_as_its_text():
    client = make_client()
    screening = make_screening(client.id, answers={"retinoids_stopped": NOT_APPLICABLE})
    document = encode_document([ClientRecord(client, screenings=[screening])])
    assert document["clients"][0]["screenings"][0]["answers"] == {
        "retinoids_stopped": "not_applicable"}
