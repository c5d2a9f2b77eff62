"""The audit trail: every write recorded, rows unchangeable, tampering found by `check`."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from engines import on_server, pick, refused, store_args, tamper
from factories import make_client, make_course, make_screening, make_session

from needledesk.cli import main
from needledesk.exchange import parse_json
from needledesk.settings import ClinicSettings
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.transfer import export_text, import_document

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"


@pytest.fixture
def signed(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    return repo.get_session(session.id)


def _tamper(repo, *statements):
    """What a curious person could do with the sqlite3 shell (or, on the server, psql as the
    tables' owner), triggers and all."""
    tamper(repo, *statements)


def test_who_writes_is_said_with_each_write_not_kept_in_the_repository(repo):
    """Issue 12: no "current user" one window could change under another. A write without
    `by` is refused before anything is written; two writers on one Repository stay apart."""
    with pytest.raises(TypeError, match="by"):
        repo.add_client(make_client())
    assert repo.count_clients() == 0
    with pytest.raises(TypeError):
        Repository(repo.db, user="Jane Smith")
    first = repo.add_client(make_client(), by="Lucía Fernández")
    second = repo.add_client(make_client(first_name="Bea"), by="Jane Smith")
    assert [r[0] for r in repo.db.execute(
        "SELECT who FROM audit WHERE action = 'create' AND record_id IN (?, ?) ORDER BY seq",
        [first.id, second.id])] == ["Lucía Fernández", "Jane Smith"]


def test_every_write_appends_a_row_with_who_and_what(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.update_client(make_client(id=client.id, phone="+1 555 0199"), by="Jane Smith")
    repo.add_course(make_course(client.id), by="Jane Smith")
    repo.add_screening(make_screening(client.id), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.save_draft(make_session(client.id, id=session.id, notes="changed"), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    amended = repo.get_session(session.id)
    amended.areas[0].depth_mm = 1.75
    repo.amend_session(amended, by="Jane Smith", reason="misread")
    repo.save_settings(ClinicSettings(clinic_name="Lumen", logo=b"\x89PNG fake"), by="Jane Smith")
    rows = repo.db.execute("SELECT action, kind, who FROM audit WHERE who != "
                           "'NeedleDesk upgrade' ORDER BY seq").fetchall()
    assert rows == [("create", "client", "Jane Smith"), ("update", "client", "Jane Smith"),
                    ("create", "course", "Jane Smith"), ("create", "screening", "Jane Smith"),
                    ("create", "session", "Jane Smith"), ("update", "session", "Jane Smith"),
                    ("sign", "session", "Jane Smith"), ("amend", "session", "Jane Smith"),
                    ("update", "settings", "Jane Smith")]
    history = repo.audit.history(client.id)
    assert history[1].before["phone"] == "+1 555 0100"
    assert history[1].after["phone"] == "+1 555 0199"
    amend = repo.audit.history(session.id)[-1]
    assert amend.before["areas"][0]["depth_mm"] == 1.5
    assert amend.after["areas"][0]["depth_mm"] == 1.75
    settings_row = repo.db.execute("SELECT after FROM audit WHERE kind='settings' "
                                   "AND action = 'update'").fetchone()
    assert "sha256:" in settings_row[0] and "PNG fake" not in settings_row[0]
    assert check_database(repo.db) == []


def test_the_audit_table_refuses_update_and_delete(signed, repo):
    for sql in ("UPDATE audit SET who = 'someone else'", "DELETE FROM audit",
                *(["TRUNCATE audit"] if on_server(repo) else [])):
        with pytest.raises(refused(repo), match="audit trail cannot be"):
            _tamper(repo, sql)
    assert signed.signed_at is not None


def test_a_signed_depth_changed_behind_the_programs_back_is_reported(signed, repo, capsys):
    _tamper(repo, "UPDATE treated_areas SET depth_mm = 2.5 "
                     f"WHERE session_id = '{signed.id}' AND position = 0")
    problems = check_database(repo.db)
    assert len(problems) == 1
    assert signed.id in problems[0] and "differs from what was signed" in problems[0]
    assert "Traceback" not in problems[0] and "\n" not in problems[0]
    assert main([*store_args(repo), "check"]) == 1
    err = capsys.readouterr().err
    assert "changed behind NeedleDesk's back" in err and "Traceback" not in err


def test_rewriting_the_trail_after_dropping_the_triggers_breaks_the_chain(signed, repo):
    _tamper(repo, pick(repo, sqlite="DROP TRIGGER audit_refuses_update",
                       postgresql="ALTER TABLE audit DISABLE TRIGGER audit_refuses_update"),
            "UPDATE treated_areas SET depth_mm = 2.5 WHERE position = 0",
            "UPDATE audit SET content_hash = 'v1:forged' WHERE action = 'sign'")
    problems = check_database(repo.db)
    assert any("does not match the chain" in p for p in problems)


def test_a_removed_row_is_found(signed, repo):
    # The server has one trigger for UPDATE and DELETE; the file one for each.
    trigger = pick(repo, sqlite="audit_refuses_delete", postgresql="audit_refuses_update")
    _tamper(repo, f"DROP TRIGGER {trigger}" + pick(repo, sqlite="", postgresql=" ON audit"),
            "DELETE FROM audit WHERE seq = 2")
    problems = check_database(repo.db)
    where = pick(repo, sqlite="", postgresql=" on audit")
    assert f"schema: the trigger {trigger}{where} is missing; it was dropped behind " \
           "NeedleDesk's back" in problems
    assert any(p.startswith("audit: row #2 is missing") for p in problems)


def test_a_session_signed_outside_the_program_is_reported(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    _tamper(repo, f"UPDATE sessions SET signed_at = '2026-11-20T12:00' "
                     f"WHERE id = '{session.id}'")
    (problem,) = check_database(repo.db)
    assert session.id in problem and "changed behind NeedleDesk's back" in problem


def test_import_seals_signed_sessions_and_check_stays_sound(signed, repo, tmp_path):
    text = export_text(repo)
    other = Repository(open_database(tmp_path / "other.db"))
    import_document(other, parse_json(text), by="importer")
    actions = other.db.execute("SELECT action, kind, content_hash IS NOT NULL FROM audit "
                               "WHERE action = 'import' ORDER BY seq").fetchall()
    assert actions == [("import", "client", 1), ("import", "session", 1)]
    assert check_database(other.db) == []


def test_upgrading_the_first_schema_seals_its_signed_sessions(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    repo = Repository(open_database(path))
    rows = repo.db.execute("SELECT action, kind, record_id, substr(content_hash, 1, 3) "
                           "FROM audit ORDER BY seq").fetchall()
    database_id = repo.db.execute("SELECT value FROM meta").fetchone()[0]
    # Step 3 sealed the signed session (v1); step 5 gave the file its id and every record
    # a v2 baseline hash.
    assert rows == [
        ("baseline", "session", "44444444-4444-4444-8444-444444444444", "v1:"),
        ("identify", "database", database_id, None),
        ("baseline", "client", "11111111-1111-4111-8111-111111111111", "v2:"),
        ("baseline", "course", "22222222-2222-4222-8222-222222222222", "v2:"),
        ("baseline", "screening", "33333333-3333-4333-8333-333333333333", "v2:"),
        ("baseline", "session", "44444444-4444-4444-8444-444444444444", "v2:"),
        ("baseline", "session", "55555555-5555-4555-8555-555555555555", "v2:"),
        ("baseline", "settings", None, "v2:")]
    # The v1 seal is the one schema 3 wrote before seals had their own frozen form.
    assert repo.db.execute("SELECT content_hash FROM audit WHERE seq = 1").fetchone()[0] == (
        "v1:85a25f33a2e8386dcf223a9c768bebd8f6399f4d4ee07b888050bb7b429a984f")
    assert check_database(repo.db) == []
