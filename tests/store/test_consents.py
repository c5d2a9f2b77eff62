"""Consents and consent forms in the store (issue 15), on real files: a consent is stored with
the form version it was signed under, audited and sealed, and locked from then on; a form is
edited by storing its next version, which changes nothing signed before it; anything changed
behind the program's back is reported by `check` in plain words; a screening's old "consent
signed" tick reads as a paper consent; backups from before consents restore and upgrade."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from engines import pick, reopened, tamper
from factories import (
    make_client,
    make_consent,
    make_screening,
    make_session,
    make_signature,
    undo_consents_step,
)

from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import ConsentKind, ConsentMethod, ConsentStatement
from needledesk.errors import ValidationError
from needledesk.store import seals
from needledesk.store.backup import describe, take_backup
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.store.repository.consents import LOCKED
from needledesk.store.restore import restore_and_record
from needledesk.store.schema import STEP_NAMES, schema_version

BY = "Jane Smith"
TODAY = date(2026, 11, 3)
STEP_9 = STEP_NAMES.index("0009_consents_and_zones") + 1
LOCKED_TEXT = ("A signed consent is locked and cannot be changed; if the client's consent has "
               "changed, record a new consent")


def _open(path: Path) -> Repository:
    return Repository(open_database(path))


def _count(repo: Repository, table: str) -> int:
    return repo.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _counts(repo: Repository) -> tuple[int, int, int]:
    return _count(repo, "consents"), _count(repo, "consent_templates"), _count(repo, "audit")


def _signed(repo: Repository, **overrides):
    """A client with a treatment consent signed on screen under the shipped form."""
    client = repo.add_client(make_client(), by=BY)
    form = default_template(ConsentKind.TREATMENT)
    consent = repo.add_consent(make_consent(client.id, form, **overrides), by=BY,
                               template=form, today=TODAY)
    return client, form, consent


def _problem_text(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    from needledesk.domain.labels import problem_text

    return "; ".join(problem_text(p, kind="consent") for p in exc.value.problems)


# --- storing ---------------------------------------------------------------------------------

def test_the_locked_message_is_the_stores_own():
    assert LOCKED[:1].upper() + LOCKED[1:] == LOCKED_TEXT


def test_a_consent_under_the_shipped_form_stores_version_1_with_it(repo):
    assert repo.current_template(ConsentKind.TREATMENT) is None
    client, form, consent = _signed(repo)
    (stored_form,) = repo.consent_templates(ConsentKind.TREATMENT)
    assert (stored_form.id, stored_form.version, stored_form.body) == (form.id, 1, form.body)
    assert repo.current_template(ConsentKind.TREATMENT) == stored_form
    assert repo.consent_templates(ConsentKind.PHOTO) == []

    (back,) = repo.consents(client.id)
    assert back == consent and repo.get_consent(consent.id) == consent
    assert back.client_signature == make_signature()   # strokes and PNG bytes as drawn
    assert back.client_signature is not None and back.client_signature.image_png[:4] == \
        b"\x89PNG"

    trail = repo.db.execute("SELECT kind, record_id, action, content_hash FROM audit "
                            "WHERE kind IN ('consent', 'consent_template') ORDER BY seq"
                            ).fetchall()
    assert [(k, r, a) for k, r, a, _ in trail] == [("consent_template", form.id, "create"),
                                                   ("consent", consent.id, "sign")]
    assert trail[1][3] == seals.record_hash(repo.db, "consent", consent.id)
    assert trail[1][3].startswith("v5:")
    assert check_database(repo.db) == []


def test_the_same_consent_twice_is_refused_as_locked(repo):
    client, _form, consent = _signed(repo)
    before = _counts(repo)
    again = replace(consent, notes="signed again")
    with pytest.raises(ValidationError) as refused:
        repo.add_consent(again, by=BY, today=TODAY)
    assert _problem_text(refused) == LOCKED_TEXT
    assert _counts(repo) == before
    assert repo.get_consent(consent.id).notes == ""


def test_a_stored_consent_cannot_be_updated(repo):
    _client, _form, consent = _signed(repo)
    before = _counts(repo)
    changed = replace(consent, answers={k: False for k in consent.answers})
    with pytest.raises(ValidationError) as refused:
        repo.update_consent(changed, by=BY)
    assert _problem_text(refused) == LOCKED_TEXT
    assert _counts(repo) == before
    assert repo.get_consent(consent.id) == consent
    assert check_database(repo.db) == []


def test_a_consent_naming_a_stored_version_must_carry_its_exact_text(repo):
    client, form, _consent = _signed(repo)
    before = _counts(repo)
    altered = make_consent(client.id, form, body=form.body + " And a line nobody saw.")
    with pytest.raises(ValidationError) as refused:
        repo.add_consent(altered, by=BY, today=TODAY)
    assert _problem_text(refused) == ("The consent's text differs from the form version it "
                                      f"names ({form.title}, version 1)")
    fewer = make_consent(client.id, form, statements=form.statements[1:],
                         answers={s.key: True for s in form.statements[1:]})
    with pytest.raises(ValidationError):
        repo.add_consent(fewer, by=BY, today=TODAY)
    assert _counts(repo) == before


def test_an_unsigned_or_future_consent_is_refused_and_nothing_is_written(repo):
    client = repo.add_client(make_client(), by=BY)
    before = _counts(repo)
    form = default_template(ConsentKind.TREATMENT)
    with pytest.raises(ValidationError) as refused:
        repo.add_consent(make_consent(client.id, form, client_signature=None,
                                      signed_at=datetime(2026, 11, 4, 9, 0)),
                         by=BY, template=form, today=TODAY)
    assert _problem_text(refused) == ("Signed at cannot be in the future; Client's signature: "
                                      "the client has not signed")
    assert _counts(repo) == before


def test_a_new_form_version_leaves_consents_under_version_1_as_signed(repo):
    client, form, first = _signed(repo)
    statements = [*form.statements, ConsentStatement("no_sunbed", "I will avoid sunbeds for "
                                                     "two weeks.")]
    v2 = repo.add_template_version(ConsentKind.TREATMENT, form.title, form.body + " Revised.",
                                   statements, by=BY)
    assert v2.version == 2 and v2.id != form.id
    assert [t.version for t in repo.consent_templates(ConsentKind.TREATMENT)] == [1, 2]
    assert repo.current_template(ConsentKind.TREATMENT) == v2
    assert repo.get_template(form.id).body == form.body   # version 1 kept as it was

    second = repo.add_consent(make_consent(client.id, v2, signed_at=datetime(2026, 11, 3, 11)),
                              by=BY, today=TODAY)
    old, new = repo.consents(client.id)
    assert old == first and (old.template_version, old.body) == (1, form.body)
    assert new == second and new.template_version == 2 and len(new.statements) == 7
    assert check_database(repo.db) == []

    # Saving the form unchanged stores no version 3.
    with pytest.raises(ValidationError) as refused:
        repo.add_template_version(ConsentKind.TREATMENT, v2.title, v2.body, v2.statements,
                                  by=BY)
    assert _problem_text(refused) == "Nothing was changed in the consent form"
    assert len(repo.consent_templates(ConsentKind.TREATMENT)) == 2


def test_a_paper_consent_holds_no_signature_and_needs_no_form(repo):
    client = repo.add_client(make_client(), by=BY)
    paper = make_consent(client.id, method=ConsentMethod.ON_PAPER, client_signature=None,
                         practitioner_signature=None, template_id=None, template_version=None,
                         statements=[], answers={}, body="", title="Treatment consent")
    repo.add_consent(paper, by=BY, today=TODAY)
    assert repo.consent_templates() == []
    assert repo.consents(client.id) == [paper]
    assert check_database(repo.db) == []


# --- a screening's tick, read as a paper consent ---------------------------------------------

def test_a_screening_tick_reads_as_a_paper_consent_with_the_same_id_each_time(repo):
    client = repo.add_client(make_client(), by=BY)
    screening = repo.add_screening(make_screening(client.id), by=BY)
    repo.add_screening(make_screening(client.id, date=date(2026, 10, 1),
                                      consent_signed=False), by=BY)
    assert repo.consents(client.id) == []   # nothing stored: it is read from the screening
    (carried,) = repo.consents(client.id, carried=True)
    assert carried.method == ConsentMethod.ON_PAPER and carried.kind == ConsentKind.TREATMENT
    assert carried.carried_from == screening.id
    assert carried.signed_at == datetime(2026, 11, 1, 0, 0)
    (again,) = repo.consents(client.id, carried=True)
    assert again.id == carried.id

    form = default_template(ConsentKind.TREATMENT)
    signed = repo.add_consent(make_consent(client.id, form, signed_at=datetime(2026, 11, 2, 9)),
                              by=BY, template=form, today=TODAY)
    assert [c.id for c in repo.consents(client.id, carried=True)] == [carried.id, signed.id]
    assert _count(repo, "consents") == 1


# --- changed behind the program's back -------------------------------------------------------

def _tamper(where: Path | Repository, sql: str, *params: object) -> list[str]:
    """`sql` run outside NeedleDesk on the file at `where` or on `where`'s store (the file,
    or the clinic server); what `check` then finds through a connection of its own."""
    if isinstance(where, Repository):
        tamper(where, (sql, list(params)))
        with reopened(where) as db:
            return check_database(db)
    conn = sqlite3.connect(where)
    with conn:
        conn.execute(sql, params)
    conn.close()
    db = open_database(where)
    try:
        return check_database(db)
    finally:
        db.close()


@pytest.fixture
def signed_file(repo):
    client, form, consent = _signed(repo)
    assert check_database(repo.db) == []
    return repo, client, form, consent


def _behind_the_back(consent) -> str:
    return (f"consent {consent.id} (Consent to microneedling treatment of 3 Nov 2026 10:42, "
            f"client {consent.client_id}) differs from what was signed (audit row #")


def _json_set(column: str, sqlite_path: str, pg_path: str, value: str) -> dict[str, str]:
    """One JSON value set in `column`, as each engine's SQL says it."""
    return {"sqlite": f"UPDATE consents SET {column} = json_set({column}, '{sqlite_path}', "
                      f"json('{value}'))",
            "postgresql": f"UPDATE consents SET {column} = jsonb_set(CAST({column} AS jsonb), "
                          f"'{pg_path}', '{value}')"}


def _bytes_set(column: str, hex_: str) -> dict[str, str]:
    return {"sqlite": f"UPDATE consents SET {column} = x'{hex_}'",
            "postgresql": f"UPDATE consents SET {column} = decode('{hex_}', 'hex')"}


@pytest.mark.parametrize(("sql", "also"), [
    (_json_set("answers", "$.aftercare", "{aftercare}", "false"),
     "Statements ticked: “I will follow the aftercare I am given.” must be ticked to sign"),
    (_json_set("client_strokes", "$.strokes[0][1][0]", "{strokes,0,1,0}", "99"), None),
    (_json_set("client_strokes", "$.strokes", "{strokes}", "[]"),
     "Client's signature: the client has not signed"),
    (_bytes_set("practitioner_image", "89504e470d0a1a0a00"), None),
    (_bytes_set("client_image", "47494638396100"),
     "Picture of the client's signature: the signature's picture is not a PNG image"),
    ({"sqlite": "UPDATE consents SET body = body || ' Amended.'",
      "postgresql": "UPDATE consents SET body = body || ' Amended.'"}, None),
], ids=["answer", "stroke-point", "strokes-emptied", "picture", "picture-not-png", "body"])
def test_a_consent_changed_behind_the_back_is_reported(signed_file, sql, also):
    repo, client, _form, consent = signed_file
    problems = _tamper(repo, pick(repo, **sql))
    assert any(p.startswith(_behind_the_back(consent)) and
               p.endswith("it was changed behind NeedleDesk's back") for p in problems), problems
    if also is not None:
        assert f"client {client.id} (Ana López): consent {consent.id} (Consent to " \
               f"microneedling treatment): {also}" in problems
    assert len(problems) == (2 if also else 1), problems
    for problem in problems:
        assert "None" not in problem and "answers." not in problem and "_" not in problem


def test_a_consent_deleted_behind_the_back_is_reported(signed_file):
    repo, _client, _form, consent = signed_file
    problems = _tamper(repo, "DELETE FROM consents WHERE id = ?", consent.id)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"consent {consent.id} was deleted behind NeedleDesk's back")
    assert "the file no longer holds it" in problems[0]


def test_a_form_version_changed_behind_the_back_is_reported(signed_file):
    repo, _client, form, _consent = signed_file
    problems = _tamper(repo, "UPDATE consent_templates SET body = 'A shorter form.'")
    assert problems == [problems[0]] and problems[0].startswith(
        f"consent form {form.id} (Consent to microneedling treatment, version 1) differs")
    assert problems[0].endswith("it was changed behind NeedleDesk's back")


def test_a_consent_written_without_an_audit_row_is_reported(signed_file):
    repo, client, _form, _consent = signed_file
    problems = _tamper(repo, "INSERT INTO consents (id, client_id, kind, method, signed_at, "
                       "title) VALUES ('forged', ?, 'treatment', 'on_paper', "
                       "'2026-11-01T00:00', 'Treatment consent')", client.id)
    assert problems == [f"consent forged (Treatment consent of 1 Nov 2026 00:00, client "
                        f"{client.id}) is not in the audit trail: it was written behind "
                        "NeedleDesk's back"]


def test_a_zone_set_behind_the_back_of_a_v4_sealed_session_is_reported(tmp_path,
                                                                       monkeypatch):
    path = tmp_path / "v4.db"
    with monkeypatch.context() as schema_8:   # what schema 8's program wrote: a v4 seal
        schema_8.setitem(seals.WRITTEN, "session", seals.V4)
        repo = _open(path)
        client = repo.add_client(make_client(), by=BY)
        session = repo.save_draft(make_session(client.id), by=BY)
        repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
        repo.db.close()
    conn = sqlite3.connect(path)
    undo_consents_step(conn)
    conn.close()
    repo = _open(path)   # upgraded through step 9
    try:
        assert check_database(repo.db) == []
        assert [a.zone for a in repo.get_session(session.id).areas] == [None, None]
    finally:
        repo.db.close()
    problems = _tamper(path, "UPDATE treated_areas SET zone = 'forehead' WHERE session_id = ?",
                       session.id)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"session {session.id} of 20 Nov 2026 10:30 (client ")
    assert problems[0].endswith("it was changed behind NeedleDesk's back")


def test_a_session_with_zones_is_sealed_with_them(repo):
    client = repo.add_client(make_client(), by=BY)
    session = make_session(client.id)
    session.areas[0].zone = "cheeks"
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
    assert [a.zone for a in repo.get_session(session.id).areas] == ["cheeks", None]
    assert check_database(repo.db) == []
    tamper(repo, "UPDATE treated_areas SET zone = 'chin' WHERE zone = 'cheeks'")
    with reopened(repo) as db:
        problems = check_database(db)
    assert len(problems) == 1 and "differs from what was signed" in problems[0], problems


# --- backups ---------------------------------------------------------------------------------

def test_consents_survive_a_backup_and_restore(tmp_path, db_path):
    repo = _open(db_path)
    client, form, consent = _signed(repo)
    photo = default_template(ConsentKind.PHOTO)
    photo_consent = repo.add_consent(
        make_consent(client.id, photo, signed_at=datetime(2026, 11, 3, 10, 50),
                     answers={s.key: s.key == "photo_use_record" for s in photo.statements}),
        by=BY, template=photo, today=TODAY)
    info = take_backup(db_path, tmp_path / "backups")
    # After the backup: a new form version, which the restore takes away.
    repo.add_template_version(ConsentKind.TREATMENT, form.title, "Another text.",
                              form.statements, by=BY)
    repo.db.close()

    restore_and_record(info.path, db_path, who=BY)
    back = _open(db_path)
    try:
        assert back.consents(client.id) == [consent, photo_consent]
        assert [t.id for t in back.consent_templates()] == [photo.id, form.id]
        assert check_database(back.db) == []
    finally:
        back.db.close()


def _before_step_9(tmp_path: Path) -> Path:
    """A clinic's file as a NeedleDesk of schema 8 left it: a signed session, a screening
    with its consent ticked, no consent table and no zones."""
    path = tmp_path / "old.db"
    repo = _open(path)
    client = repo.add_client(make_client(first_name="Mei", last_name="Tanaka"), by=BY)
    repo.add_screening(make_screening(client.id), by=BY)
    repo.db.close()
    conn = sqlite3.connect(path)
    try:
        undo_consents_step(conn)
    finally:
        conn.close()
    return path


def test_a_backup_from_before_consents_restores_and_upgrades(tmp_path, db_path):
    old = _before_step_9(tmp_path)
    assert describe(old).schema == STEP_9 - 1
    shutil.copy(old, tmp_path / "kept.db")
    current = _open(db_path)
    _signed(current)
    current.db.close()

    restore_and_record(old, db_path, who=BY)
    repo = _open(db_path)
    try:
        assert repo.db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
        assert _count(repo, "consents") == 0 and repo.consent_templates() == []
        (client,) = repo.search_clients("Tanaka")
        (carried,) = repo.consents(client.id, carried=True)   # the screening's tick
        assert carried.method == ConsentMethod.ON_PAPER
        assert check_database(repo.db) == []
        # The upgraded file takes consents like any other.
        form = default_template(ConsentKind.TREATMENT)
        repo.add_consent(make_consent(client.id, form), by=BY, template=form, today=TODAY)
        assert len(repo.consents(client.id, carried=True)) == 2
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


def test_add_consent_returns_the_consent_as_stored(repo):
    """Points are stored to a tenth and pressure to a thousandth: the consent the window
    prints right after signing is the one every later read gives."""
    client = repo.add_client(make_client(), by=BY)
    form = default_template(ConsentKind.TREATMENT)
    drawn = make_signature([(10.26, 20.04), (30.55, 40.5)])
    drawn.strokes[0][0] = replace(drawn.strokes[0][0], pressure=0.12345)
    saved = repo.add_consent(make_consent(client.id, form, client_signature=drawn), by=BY,
                             template=form, today=TODAY)
    assert saved == repo.get_consent(saved.id)
    assert saved.client_signature is not None
    first, second = saved.client_signature.strokes[0]
    assert (first.x, first.y, first.pressure) == (10.3, 20.0, 0.123)
    assert (second.x, second.y) == (30.6, 40.5)
