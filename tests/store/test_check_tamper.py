"""`check` accounts for every record, the schema and the trail's head (issue 11, findings 4,
5 and 8). Each test tampers with a real file through the sqlite3 module, as someone with
the sqlite3 shell could (on the clinic server: through a connection of its own as the
tables' owner, as someone with psql could), and expects `check` to say so in one plain
line."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import replace
from datetime import datetime

import pytest
from engines import pick, raw, reopened, store_args, tamper
from factories import make_client, make_course, make_screening, make_session
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from needledesk.cli import main
from needledesk.domain.model import AcknowledgedWarning, ClientRecord
from needledesk.exchange import encode_document, parse_json
from needledesk.settings import ClinicSettings
from needledesk.store import seals
from needledesk.store.anchors import ANCHOR_ENV, anchor_file, database_id
from needledesk.store.audit import chain_hash
from needledesk.store.backup import backup_to, take_backup
from needledesk.store.check import check_database, check_file
from needledesk.store.database import open_database, open_readonly
from needledesk.store.repository import Repository
from needledesk.store.schema import schema_version
from needledesk.store.search import clinic_country, refresh_search_texts
from needledesk.transfer import import_document

SIGNED_AT = datetime(2026, 11, 20, 11, 10)


@pytest.fixture(autouse=True)
def _anchors(tmp_path, monkeypatch):
    monkeypatch.setenv(ANCHOR_ENV, str(tmp_path / "anchors"))


@pytest.fixture
def clinic(repo):
    """A client with a course, a screening, a signed (and amended) session with an
    acknowledged warning, a draft, and an app lock."""
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id), by="Jane Smith")
    screening = repo.add_screening(make_screening(client.id), by="Jane Smith")
    warned = make_session(client.id, course_id=course.id, acknowledged_warnings=[
        AcknowledgedWarning("depth above the guideline", "Jane Smith",
                            datetime(2026, 11, 20, 10, 31))])
    signed = repo.save_draft(warned, by="Jane Smith")
    repo.sign_session(signed.id, SIGNED_AT, by="Jane Smith")
    amended = repo.get_session(signed.id)
    amended.notes = "checked the next day"
    repo.amend_session(amended, by="Jane Smith", reason="follow-up")
    draft = repo.save_draft(make_session(client.id, started_at=datetime(2026, 12, 1, 10, 0)),
                            by="Jane Smith")
    repo.save_settings(replace(ClinicSettings(clinic_name="Lumen"),
                               lock_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
                       by="Jane Smith")
    assert check_database(repo.db) == []
    return {"client": client.id, "course": course.id, "screening": screening.id,
            "signed": signed.id, "draft": draft.id}


def _tamper(repo, *statements):
    tamper(repo, *statements)


def _one_line(problems):
    for problem in problems:
        assert "\n" not in problem and "Traceback" not in problem and "sqlite3." not in problem
    return problems


def _problems(repo):
    """What `check` finds through a connection of its own."""
    with reopened(repo) as db:
        return _one_line(check_database(db))


# --- finding 4: every record accounted for -------------------------------------------------

def test_a_signed_session_set_back_to_a_draft_is_reported(clinic, repo):
    _tamper(repo, f"UPDATE sessions SET signed_at = NULL WHERE id = '{clinic['signed']}'")
    rules, problem = _problems(repo)
    assert "only a signed session can carry amendments" in rules
    assert clinic["signed"] in problem and "is now an unsigned draft" in problem


def test_a_deleted_signed_session_is_reported(clinic, repo):
    _tamper(repo, *(f"DELETE FROM {t} WHERE session_id = '{clinic['signed']}'" for t in
                       ("treated_areas", "serums", "reactions", "acknowledged_warnings",
                        "amendments")),
            f"DELETE FROM sessions WHERE id = '{clinic['signed']}'")
    (problem,) = _problems(repo)
    assert f"session {clinic['signed']} was deleted behind NeedleDesk's back" in problem


def test_a_whole_client_deleted_is_reported(clinic, repo):
    ids = "','".join([clinic["signed"], clinic["draft"]])
    _tamper(repo, *(f"DELETE FROM {t} WHERE session_id IN ('{ids}')" for t in
                       ("treated_areas", "serums", "reactions", "acknowledged_warnings",
                        "amendments")),
            "DELETE FROM sessions", "DELETE FROM courses", "DELETE FROM screenings",
            "DELETE FROM clients")
    problems = _problems(repo)
    assert len(problems) == 5
    assert all("was deleted behind NeedleDesk's back" in p for p in problems)
    assert any(f"client {clinic['client']}" in p for p in problems)


@pytest.mark.parametrize("sql", [
    {"sqlite": "UPDATE screenings SET answers = json_set(answers, '$.pregnant', json('true'))",
     "postgresql": "UPDATE screenings SET answers = "
                   "jsonb_set(CAST(answers AS jsonb), '{pregnant}', 'true')"},
    {"sqlite": "UPDATE screenings SET consent_signed = 0",
     "postgresql": "UPDATE screenings SET consent_signed = 0"},
], ids=["answers", "consent"])
def test_screening_answers_or_consent_flipped_are_reported(clinic, repo, sql):
    _tamper(repo, pick(repo, **sql))
    (problem,) = _problems(repo)
    assert f"screening {clinic['screening']} differs" in problem
    assert "changed behind NeedleDesk's back" in problem


def test_a_client_row_edited_is_reported(clinic, repo):
    _tamper(repo, "UPDATE clients SET date_of_birth = '1970-01-01'")
    (problem,) = _problems(repo)
    assert f"client {clinic['client']} (Ana López) differs" in problem


def test_a_draft_edited_behind_the_programs_back_is_reported(clinic, repo):
    _tamper(repo, f"UPDATE treated_areas SET depth_mm = 2.5 WHERE session_id = "
                     f"'{clinic['draft']}'")
    (problem,) = _problems(repo)
    assert clinic["draft"] in problem and "changed behind NeedleDesk's back" in problem


def test_an_acknowledged_warning_removed_is_reported(clinic, repo):
    _tamper(repo, "DELETE FROM acknowledged_warnings")
    (problem,) = _problems(repo)
    assert clinic["signed"] in problem and "differs from what was signed" in problem


def test_a_record_added_behind_the_programs_back_is_reported(clinic, repo):
    _tamper(repo, "INSERT INTO courses (id, client_id, concern, planned_sessions, "
                     f"interval_weeks, started_on) VALUES ('forged', '{clinic['client']}', "
                     "'scars', 3, 6, '2026-01-01')")
    (problem,) = _problems(repo)
    assert problem == ("course forged is not in the audit trail: it was written behind "
                       "NeedleDesk's back")


@pytest.mark.parametrize("statements", [
    {"sqlite": ["DROP TRIGGER audit_refuses_update", "DROP TRIGGER audit_refuses_delete"],
     "postgresql": ["DROP TRIGGER audit_refuses_update ON audit",
                    "DROP TRIGGER audit_refuses_truncate ON audit"]},
    {"sqlite": ["DROP TABLE audit"], "postgresql": ["DROP TABLE audit"]},
], ids=["triggers", "table"])
def test_dropping_the_audit_triggers_or_table_is_reported(clinic, repo, statements):
    _tamper(repo, *pick(repo, **statements))
    problems = _problems(repo)
    assert problems
    assert all(p.startswith("schema: ") for p in problems)
    assert any("audit" in p and "dropped behind NeedleDesk's back" in p for p in problems)


def test_an_added_trigger_or_view_is_reported(clinic, repo):
    if repo.on_server:
        _tamper(repo, "CREATE VIEW everyone AS SELECT * FROM clients",
                "CREATE FUNCTION quiet() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN NEW; END $$",
                "CREATE TRIGGER quiet AFTER INSERT ON clients FOR EACH ROW "
                "EXECUTE FUNCTION quiet()")
        assert _problems(repo) == [
            "schema: the table or view everyone is not part of NeedleDesk's schema; it was "
            "added behind NeedleDesk's back",
            "schema: the trigger quiet on clients is not part of NeedleDesk's schema; it was "
            "added behind NeedleDesk's back"]
        return
    _tamper(repo, "CREATE VIEW everyone AS SELECT * FROM clients",
            "CREATE TRIGGER quiet AFTER INSERT ON clients BEGIN SELECT 1; END")
    problems = _problems(repo)
    assert problems == [
        f"schema: the trigger quiet is not part of NeedleDesk's schema {schema_version()}; it "
        "was added behind NeedleDesk's back",
        f"schema: the view everyone is not part of NeedleDesk's schema {schema_version()}; it "
        "was added behind "
        "NeedleDesk's back"]


def _append_forged_row(db_path, kind, record_id):
    """What someone who read the code could do: append a re-seal with a recomputed hash."""
    conn = sqlite3.connect(db_path)
    try:
        seq, prev = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC").fetchone()
        row = {"seq": seq + 1, "at": "2026-11-22T09:00", "who": "Jane Smith",
               "action": "amend", "kind": kind, "record_id": record_id, "before": None,
               "after": None, "content_hash": seals.record_hash(conn, kind, record_id)}
        row["prev_hash"] = prev
        row["hash"] = chain_hash(prev, row)
        conn.execute("INSERT INTO audit VALUES (:seq, :at, :who, :action, :kind, :record_id, "
                     ":before, :after, :content_hash, :prev_hash, :hash)", row)
        conn.commit()
    finally:
        conn.close()


# On the clinic server every room anchors only the rows it wrote: a row no anchor of this PC
# covers may be another room's, so an appended forged row is not found there (store.anchors).
@pytest.mark.sqlite_only
def test_a_forged_reseal_row_with_a_recomputed_hash_is_reported(clinic, repo):
    _tamper(repo, f"UPDATE treated_areas SET depth_mm = 2.5 WHERE session_id = "
                     f"'{clinic['signed']}'")
    _append_forged_row(repo.path, "session", clinic["signed"])
    (problem,) = _problems(repo)
    assert problem.startswith("audit: row #")
    assert "added outside NeedleDesk: no anchor on this computer records them" in problem


_AUDIT_COLUMNS = ("seq", "at", "who", "action", "kind", "record_id", "before", "after",
                  "content_hash", "prev_hash", "hash")


def _rewrite_trail(repo, edit_sql):
    """The whole chain rewritten: the record edited, the trail recomputed from the genesis
    with the record's new hash, the triggers put back (on the server: switched off and on
    again, its head row moved). Inside the database, all is consistent."""
    with raw(repo) as conn:
        conn.execute(edit_sql)
        # What is derived from the records is made to agree too (the search words).
        refresh_search_texts(conn.db, clinic_country(conn.db))
        with conn.audit_unguarded():
            rows = [dict(zip(_AUDIT_COLUMNS, r, strict=True)) for r in conn.execute(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit ORDER BY seq")]
            fresh = {(k, i): seals.record_hash(conn.db, k, i) for k in seals.KINDS
                     for i in ([None] if k == "settings" else
                               [r[0] for r in conn.execute(f"SELECT id FROM {k}s")])}
            conn.execute("DELETE FROM audit")
            prev = "0" * 64
            for row in rows:
                if row["content_hash"] and (row["kind"], row["record_id"]) in fresh:
                    row["content_hash"] = fresh[(row["kind"], row["record_id"])]
                row["before"] = row["after"] = None
                row["prev_hash"] = prev
                row["hash"] = prev = chain_hash(prev, row)
                conn.execute("INSERT INTO audit VALUES (:seq, :at, :who, :action, :kind, "
                             ":record_id, :before, :after, :content_hash, :prev_hash, :hash)",
                             row)


def test_the_whole_chain_rewritten_is_caught_by_the_anchor_outside_the_file(clinic, repo):
    _rewrite_trail(repo, "UPDATE clients SET phone = '+1 555 0666'")
    problems = _problems(repo)
    assert len(problems) == 1
    assert problems[0].startswith("audit: row #")
    assert "the anchor file recorded" in problems[0]
    assert "the trail was rewritten behind NeedleDesk's back" in problems[0]


@pytest.mark.sqlite_only   # a backup of the FILE
def test_a_rewritten_chain_is_caught_by_a_backup_manifest_without_the_anchor_file(
        clinic, repo, db_path):
    take_backup(db_path, db_path.parent / "backups")
    _rewrite_trail(repo, "UPDATE clients SET phone = '+1 555 0666'")
    anchor_file(database_id(repo.db)).unlink()
    problems = _problems(repo)
    assert len(problems) == 1 and "the backup manifest needledesk-" in problems[0]


def test_whoever_rewrites_the_file_and_every_anchor_can_still_forge_a_warning_says_so(
        clinic, repo):
    """The documented limit: with the anchor file and every manifest gone, the rewritten
    trail is consistent. `check` cannot call that damage, but it does not stay silent."""
    _rewrite_trail(repo, "UPDATE clients SET phone = '+1 555 0666'")
    anchor_file(database_id(repo.db)).unlink()
    with reopened(repo) as db:
        report = check_file(db)
    assert report.problems == []
    assert len(report.warnings) == 1 and "no anchor of this database" in report.warnings[0]


@pytest.mark.sqlite_only   # the FILE replaced by an older copy of it
def test_the_file_replaced_by_an_older_copy_is_reported(clinic, repo, db_path, tmp_path):
    """A rewind that did not go through Restore: the newest records vanish with it."""
    (tmp_path / "kept").mkdir()
    backup_to(db_path, tmp_path / "kept" / "older.db")
    repo.add_client(make_client(first_name="Later"), by="Jane Smith")
    repo.db.close()
    for side in ("-wal", "-shm"):
        (db_path.parent / (db_path.name + side)).unlink(missing_ok=True)
    shutil.copy(tmp_path / "kept" / "older.db", db_path)
    db = open_readonly(db_path)
    try:
        problems = _one_line(check_database(db))
    finally:
        db.close()
    assert any("the file was replaced by an older copy without NeedleDesk's Restore" in p
               for p in problems)


# --- finding 5: names trimmed before the seal ----------------------------------------------

def test_a_signed_session_imported_with_a_padded_name_checks_sound(repo):
    client = make_client()
    session = make_session(client.id, practitioner="Jane ", signed_at=SIGNED_AT)
    text = json.dumps(encode_document([ClientRecord(client, [], [], [session])]))
    import_document(repo, parse_json(text), by="Jane Smith")
    stored = repo.get_session(session.id)
    assert stored.practitioner == "Jane" and stored.is_signed
    assert check_database(repo.db) == []


# --- finding 8: the app lock's hash --------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE settings SET value = 'null' WHERE key = 'lock_hash'",
    "DELETE FROM settings WHERE key = 'lock_hash'",
])
def test_removing_the_app_lock_hash_is_reported(clinic, repo, sql, capsys):
    _tamper(repo, sql)
    (problem,) = _problems(repo)
    assert problem.startswith("settings: the clinic settings differ from audit row #")
    assert "the app lock was removed" in problem
    assert main([*store_args(repo), "check"]) == 1
    err = capsys.readouterr().err
    assert "the app lock was removed" in err and "Traceback" not in err


def test_the_cli_says_sound_for_an_untouched_file(clinic, repo, capsys):
    assert main([*store_args(repo), "check"]) == 0
    assert pick(repo, sqlite="check: the database is sound",
                postgresql=f"check: the clinic server ({repo.where}) is sound"
                ) in capsys.readouterr().out


# --- any one edit behind the program's back is reported (property) --------------------------

RECORD_TABLES = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
                 "reactions", "acknowledged_warnings", "amendments", "settings")
VALUES = st.sampled_from(["x", "", "2026-01-01T00:00", 0, 7, 2.5, None, b"\x00"])

SCHEMA_EDITS = [
    "CREATE INDEX extra ON clients(phone)",
    "CREATE TABLE extra (x)",
    "CREATE VIEW extra AS SELECT 1",
    "CREATE TRIGGER extra AFTER UPDATE ON sessions BEGIN SELECT 1; END",
    "DROP INDEX sessions_by_client",
    "DROP INDEX audit_by_record",
    "DROP TRIGGER audit_refuses_update",
    "DROP TRIGGER audit_refuses_delete",
    "DROP INDEX clients_by_search_key",
    "DROP INDEX clients_by_name; CREATE INDEX clients_by_name ON clients(first_name)",
    "DROP TRIGGER audit_refuses_delete; CREATE TRIGGER audit_refuses_delete BEFORE DELETE "
    "ON audit BEGIN SELECT 1; END",
    "ALTER TABLE clients ADD COLUMN extra TEXT",
    "ALTER TABLE audit RENAME TO audit_old",
    "DROP TABLE meta",
]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A filled clinic file, made once; each example tampers with a copy of it."""
    folder = tmp_path_factory.mktemp("template")
    anchors = folder / "anchors"
    saved = os.environ.get(ANCHOR_ENV)
    os.environ[ANCHOR_ENV] = str(anchors)
    try:
        path = folder / "clinic.db"
        repo = Repository(open_database(path))
        for n in range(2):
            client = repo.add_client(make_client(first_name=f"Ana{n}", phone=f"+1 555 010{n}"),
                                     by="Jane Smith")
            course = repo.add_course(make_course(client.id), by="Jane Smith")
            repo.add_screening(make_screening(client.id), by="Jane Smith")
            signed = repo.save_draft(make_session(client.id, course_id=course.id,
                                                  acknowledged_warnings=[AcknowledgedWarning(
                                                      "deep", "Jane Smith", SIGNED_AT)]),
                                     by="Jane Smith")
            repo.sign_session(signed.id, SIGNED_AT, by="Jane Smith")
            amended = repo.get_session(signed.id)
            amended.notes = "checked"
            repo.amend_session(amended, by="Jane Smith", reason="follow-up")
            repo.save_draft(make_session(client.id, started_at=datetime(2026, 12, 1, 10)),
                            by="Jane Smith")
        repo.save_settings(replace(ClinicSettings(clinic_name="Lumen"), lock_hash="$argon2id$x"),
                           by="Jane Smith")
        repo.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        repo.db.close()
    finally:
        if saved is None:
            os.environ.pop(ANCHOR_ENV, None)
        else:
            os.environ[ANCHOR_ENV] = saved
    return path, anchors


@st.composite
def edits(draw):
    how = draw(st.sampled_from(["update", "delete", "insert", "schema"]))
    if how == "schema":
        return ("schema", draw(st.sampled_from(SCHEMA_EDITS)))
    return (how, draw(st.sampled_from(RECORD_TABLES)), draw(st.integers(0, 10)),
            draw(st.integers(0, 20)), draw(VALUES))


def _apply(conn, edit):
    if edit[0] == "schema":
        conn.executescript(edit[1])
        return True
    how, table, row_pick, column_pick, value = edit
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    rowids = [r[0] for r in conn.execute(f"SELECT rowid FROM {table} ORDER BY rowid")]
    if how == "insert":
        # A copy of an existing row with one column changed to make it new (a fresh key).
        source = conn.execute(f"SELECT * FROM {table} WHERE rowid = ?",
                              [rowids[row_pick % len(rowids)]]).fetchone()
        row = dict(zip(columns, source, strict=True))
        key = "id" if "id" in columns else ("key" if table == "settings" else "position")
        row[key] = 99 if key == "position" else f"forged-{row_pick}"
        marks = ", ".join("?" * len(columns))
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                     list(row.values()))
        return True
    rowid = rowids[row_pick % len(rowids)]
    if how == "delete":
        conn.execute(f"DELETE FROM {table} WHERE rowid = ?", [rowid])
        return True
    column = columns[column_pick % len(columns)]
    old = conn.execute(f"SELECT {column} FROM {table} WHERE rowid = ?", [rowid]).fetchone()[0]
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [value, rowid])
    new = conn.execute(f"SELECT {column} FROM {table} WHERE rowid = ?", [rowid]).fetchone()[0]
    return new != old or type(new) is not type(old)


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edit=edits())
@example(edit=("update", "screenings", 0, 3, 0))  # answers no longer a mapping: no crash
def test_any_one_edit_behind_the_programs_back_is_reported(template, tmp_path_factory, edit):
    source, anchors = template
    folder = tmp_path_factory.mktemp("edit")
    path = folder / "clinic.db"
    shutil.copy(source, path)
    conn = sqlite3.connect(path)
    try:
        try:
            changed = _apply(conn, edit)
        except sqlite3.IntegrityError:
            changed = False  # the edit cannot be made (NOT NULL, a key taken): nothing to find
        conn.commit()
    finally:
        conn.close()
    if not changed:
        return
    db = open_readonly(path)
    try:
        problems = check_database(db, anchor_folder=anchors)
    finally:
        db.close()
    assert problems, f"{edit} went unnoticed"
    _one_line(problems)
