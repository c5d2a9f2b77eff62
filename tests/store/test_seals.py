"""Seals are frozen: known records hash to known digests, whatever the exchange format does.

A released seal form never changes (files hold hashes made with it). These digests are
literal: a change to `store.seals` that alters any of them breaks every stored seal, so it
must be a new version instead.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from engines import tamper
from factories import make_client, make_session

import needledesk.exchange
from needledesk.store import seals
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"

CLIENT = {"id": "11111111-1111-4111-8111-111111111111", "first_name": "Ana", "last_name": "López",
          "date_of_birth": "1988-03-14", "phone": "+1 555 0100", "email": "ana@example.org",
          "fitzpatrick": 3, "concerns": '["acne scars"]', "notes": "",
          "search_key": " lopez ana 15550100", "created_at": "2026-11-20T10:00",
          "updated_at": "2026-11-20T10:00"}
COURSE = {"id": "22222222-2222-4222-8222-222222222222", "client_id": CLIENT["id"],
          "concern": "acne scars", "planned_sessions": 4, "interval_weeks": 6,
          "started_on": "2026-09-10", "notes": ""}
SCREENING = {"id": "33333333-3333-4333-8333-333333333333", "client_id": CLIENT["id"],
             "date": "2026-11-01", "answers": '{"pregnant": false, "retinoids_stopped": true}',
             "consent_signed": 1, "notes": ""}
SESSION = {"id": "44444444-4444-4444-8444-444444444444", "client_id": CLIENT["id"],
           "course_id": COURSE["id"], "started_at": "2026-11-20T10:30",
           "practitioner": "Jane Smith", "device_type": "pen", "device_model": "Dermapen 4",
           "cartridge": "16-pin", "cartridge_lot": "L2311A", "anaesthetic_product": "LMX4",
           "anaesthetic_applied_at": "2026-11-20T09:45",
           "anaesthetic_removed_at": "2026-11-20T10:25", "combined_with": '["chemical peel"]',
           "aftercare": '["SPF 50 sunscreen"]', "fee_amount": "250.00", "fee_currency": "USD",
           "notes": "", "signed_at": "2026-11-20T11:10"}
CHILDREN = {
    "treated_areas": [{"position": 0, "area": "cheeks", "depth_mm": 1.5, "passes": 3,
                       "endpoint": "pinpoint bleeding", "notes": ""},
                      {"position": 1, "area": "forehead", "depth_mm": 0.5, "passes": 2,
                       "endpoint": "even erythema", "notes": ""}],
    "serums": [{"position": 0, "product": "Hyaluronic acid 1%", "lot": "HA-0923"}],
    "reactions": [{"position": 0, "kind": "erythema", "severity": 2, "observed": "immediate",
                   "notes": ""}],
    "acknowledged_warnings": [{"position": 0, "warning": "depth above the guideline",
                               "by": "Jane Smith", "at": "2026-11-20T10:31"}],
    "amendments": [{"position": 0, "at": "2026-11-21T09:00", "by": "Jane Smith",
                    "reason": "misread", "changes": '{"notes": ["", "checked"]}'}],
}
SETTINGS = [{"key": "clinic_name", "value": '"Lumen"'},
            {"key": "lock_hash", "value": '"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"'}]


def test_v2_digests_of_known_records_are_fixed():
    assert seals.seal_v2("client", [CLIENT]) == (
        "v2:4932be6b6cb9d678568242554e6e49b77b3f45126cf61a9b60872e5e8c5f51a2")
    assert seals.seal_v2("course", [COURSE]) == (
        "v2:3a39bd51b585f544b12eab3bbdcefdab4481cc8966fde4aaf56f2979918f8750")
    assert seals.seal_v2("screening", [SCREENING]) == (
        "v2:8a936f83906b28758eb8378e72cbea2d94d1b398f41536836dfc6a0c296ce92f")
    assert seals.seal_v2("session", [SESSION], CHILDREN) == (
        "v2:22968a63f6b0b8042574dd67c80439b5f76879f4d15f1a150383f615758ef478")
    assert seals.seal_v2("settings", SETTINGS) == (
        "v2:04257b3c5cbbc80cb199a3321e888d971ad7fd816b0c875a9fdf2ea43de96991")


def test_v2_digest_does_not_depend_on_row_order_but_on_every_value():
    assert seals.seal_v2("settings", SETTINGS[::-1]) == seals.seal_v2("settings", SETTINGS)
    shuffled = {table: rows[::-1] for table, rows in CHILDREN.items()}
    assert seals.seal_v2("session", [SESSION], shuffled) == \
        seals.seal_v2("session", [SESSION], CHILDREN)
    base = seals.seal_v2("session", [SESSION], CHILDREN)
    for column in seals.V2_RECORDS["session"][2]:
        changed = dict(SESSION, **{column: "changed"})
        assert seals.seal_v2("session", [changed], CHILDREN) != base, column
    for table, columns in seals.V2_SESSION_CHILDREN.items():
        for column in columns:
            rows = [dict(CHILDREN[table][0], **{column: "changed"}), *CHILDREN[table][1:]]
            assert seals.seal_v2("session", [SESSION], {**CHILDREN, table: rows}) != base, \
                (table, column)


def test_v1_digest_is_the_one_schema_3_wrote():
    # What the exchange encoder of schema 3-4 hashed for this session; v1 must verify it.
    assert seals.seal_v1(SESSION, CHILDREN) == (
        "v1:aa99d6b3c8aadf3accaf63307bb1c6fb5b323204e2732dcbe9a80b3f73fcee50")


def test_the_fixtures_v1_seal_still_verifies(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    conn = sqlite3.connect(path)
    try:
        sealed = seals.v1_seals(conn, ["44444444-4444-4444-8444-444444444444"])
    finally:
        conn.close()
    assert sealed == {"44444444-4444-4444-8444-444444444444":
                      "v1:85a25f33a2e8386dcf223a9c768bebd8f6399f4d4ee07b888050bb7b429a984f"}


def test_a_stored_record_hashes_as_its_rows(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    row = repo.db.execute("SELECT content_hash FROM audit WHERE action = 'sign'").fetchone()
    assert row[0] == seals.record_hash(repo.db, "session", session.id)
    assert row[0].startswith("v5:")   # sessions are sealed with v5 since schema 9


def test_seals_do_not_go_through_the_exchange_encoder(repo, monkeypatch):
    """Finding 5: a later change of the exchange format must not make every signed session
    look tampered with. The seal has its own frozen form."""
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    assert check_database(repo.db) == []

    real = needledesk.exchange.encode_session

    def a_later_format(s):
        return real(s) | {"format_note": "a field a later exchange version adds"}

    monkeypatch.setattr(needledesk.exchange, "encode_session", a_later_format)
    # Wherever the store took the encoder from (the old seal did, in store.audit).
    monkeypatch.setattr("needledesk.store.audit.encode_session", a_later_format,
                        raising=False)
    for part in ("writes", "merge"):  # the repository's modules that encode sessions
        monkeypatch.setattr(f"needledesk.store.repository.{part}.encode_session",
                            a_later_format)
    assert check_database(repo.db) == []
    amended = repo.get_session(session.id)
    amended.notes = "checked again"
    repo.amend_session(amended, by="Jane Smith", reason="follow-up")
    assert check_database(repo.db) == []


@pytest.mark.parametrize("kind", seals.KINDS)
def test_record_hash_of_an_absent_record_is_none(repo, kind):
    if kind == "settings":
        assert seals.record_hash(repo.db, kind, None).startswith("v2:")
    else:
        assert seals.record_hash(repo.db, kind, "no-such-id") is None


def test_upgrade_keeps_v1_seals_and_writes_v2_baselines(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    repo = Repository(open_database(path))
    try:
        rows = dict(repo.db.execute(
            "SELECT content_hash, action FROM audit WHERE record_id = "
            "'44444444-4444-4444-8444-444444444444'").fetchall())
        assert rows["v1:85a25f33a2e8386dcf223a9c768bebd8f6399f4d4ee07b888050bb7b429a984f"] \
            == "baseline"
        assert seals.record_hashes(repo.db, "session", ["44444444-4444-4444-8444-444444444444"]
                                   )["44444444-4444-4444-8444-444444444444"] in rows
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


# --- v4 (schema 8): sessions with their lots and visit screening; the catalogue -----------

PRODUCT = {"id": "66666666-6666-4666-8666-666666666666", "name": "Hyaluronic acid 1%",
           "kind": "serum", "maker": "Skinlab", "notes": "", "retired": 0}
LOT = {"id": "77777777-7777-4777-8777-777777777777", "product_id": PRODUCT["id"],
       "lot": "HA-0923", "expires_on": "2027-03-31", "received_on": "2026-10-02", "notes": ""}
SESSION_V4 = SESSION | {"anaesthetic_lot": "LX-77", "anaesthetic_lot_id": None,
                        "cartridge_lot_id": "88888888-8888-4888-8888-888888888888",
                        "screening_id": SCREENING["id"], "screening_check": "no_change"}
CHILDREN_V4 = CHILDREN | {"serums": [CHILDREN["serums"][0] | {"lot_id": LOT["id"]}]}


def test_v4_digests_of_known_records_are_fixed():
    assert seals.seal_v4("product", [PRODUCT]) == (
        "v4:ea358060c48c7a17ce1926436ecdff550f6b1dd100b5d3206909b3c138e8848c")
    assert seals.seal_v4("lot", [LOT]) == (
        "v4:3372c94195443b3ed9612ca51fb06cb097746eb003dfb8df3c36aa19c5f60bb9")
    assert seals.seal_v4("session", [SESSION_V4], CHILDREN_V4) == (
        "v4:35b2b4d551d1d9d081d7fe8dc93aee75b984831b301bcdd9b4ce2d9e154b585c")


def test_v4_digest_depends_on_every_new_value():
    base = seals.seal_v4("session", [SESSION_V4], CHILDREN_V4)
    for column in ("anaesthetic_lot", "anaesthetic_lot_id", "cartridge_lot_id", "screening_id",
                   "screening_check"):
        changed = dict(SESSION_V4, **{column: "changed"})
        assert seals.seal_v4("session", [changed], CHILDREN_V4) != base, column
    serums = [CHILDREN_V4["serums"][0] | {"lot_id": None}]
    assert seals.seal_v4("session", [SESSION_V4], CHILDREN_V4 | {"serums": serums}) != base
    for kind, row in (("product", PRODUCT), ("lot", LOT)):
        for column in seals.V4_RECORDS[kind][2]:
            assert seals.seal_v4(kind, [dict(row, **{column: "changed"})]) != \
                seals.seal_v4(kind, [row]), (kind, column)
    # Not a v2 digest with another prefix: the forms differ.
    assert base[3:] != seals.seal_v2("session", [SESSION], CHILDREN)[3:]


def _upgraded(tmp_path: Path) -> Path:
    """The schema-1 fixture opened (so upgraded) by today's program, then closed: its
    sessions carry the v2 baselines the upgrade wrote before step 8 added the new columns."""
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    open_database(path).close()
    return path


def _last_seal(path: Path, record_id: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT content_hash FROM audit WHERE record_id = ? AND "
                            "content_hash IS NOT NULL ORDER BY seq DESC LIMIT 1",
                            [record_id]).fetchone()[0]
    finally:
        conn.close()


def _problems(path: Path) -> list[str]:
    db = open_database(path)
    try:
        return check_database(db)
    finally:
        db.close()


def test_a_session_sealed_with_v2_before_step_8_still_verifies_after_it(tmp_path):
    path = _upgraded(tmp_path)
    assert _last_seal(path, SESSION["id"]).startswith("v2:")
    assert _problems(path) == []


@pytest.mark.parametrize("sql", [
    "UPDATE sessions SET anaesthetic_lot = 'LX-77' WHERE id = ?",
    "UPDATE sessions SET anaesthetic_lot_id = '88888888-8888-4888-8888-888888888888' "
    "WHERE id = ?",
    "UPDATE sessions SET cartridge_lot_id = '88888888-8888-4888-8888-888888888888' "
    "WHERE id = ?",
    "UPDATE serums SET lot_id = '77777777-7777-4777-8777-777777777777' WHERE session_id = ?",
    "UPDATE sessions SET screening_check = 'no_change', "
    "screening_id = '33333333-3333-4333-8333-333333333333' WHERE id = ?",
])
def test_a_new_column_set_behind_the_back_of_a_v2_sealed_session_is_reported(tmp_path, sql):
    path = _upgraded(tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, [SESSION["id"]])
    conn.close()
    problems = _problems(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"session {SESSION['id']} of 20 Nov 2026 10:30 (client ")
    assert " differs (audit row #" in problems[0]   # the v2 baseline of the upgrade
    assert problems[0].endswith("it was changed behind NeedleDesk's back")


def test_a_v2_sealed_session_amended_by_the_program_is_sealed_with_v5(tmp_path):
    path = _upgraded(tmp_path)
    repo = Repository(open_database(path))
    try:
        session = repo.get_session(SESSION["id"])
        assert session.anaesthetic is not None
        session.anaesthetic.lot = "LX-77"
        repo.amend_session(session, by="Jane Smith", reason="lot added from the box")
        assert check_database(repo.db) == []
    finally:
        repo.db.close()
    assert _last_seal(path, SESSION["id"]).startswith("v5:")


def test_a_v5_session_edited_behind_the_back_is_reported(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = make_session(client.id)
    assert session.anaesthetic is not None
    session.anaesthetic.lot = "LX-77"
    repo.save_draft(session, by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    assert repo.db.execute("SELECT content_hash FROM audit WHERE record_id = ? AND "
                           "content_hash IS NOT NULL ORDER BY seq DESC LIMIT 1",
                           [session.id]).fetchone()[0].startswith("v5:")
    assert check_database(repo.db) == []
    tamper(repo, ("UPDATE sessions SET anaesthetic_lot = 'LX-78' WHERE id = ?", [session.id]))
    problems = check_database(repo.db)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"session {session.id} of 20 Nov 2026")
    assert "differs from what was signed" in problems[0]


# --- v5 (schema 9): sessions with their areas' zones; consent forms and consents ----------

CHILDREN_V5 = CHILDREN_V4 | {"treated_areas": [
    CHILDREN["treated_areas"][0] | {"zone": "cheeks"},
    CHILDREN["treated_areas"][1] | {"zone": None}]}
TEMPLATE = {"id": "99999999-9999-4999-8999-999999999999", "kind": "treatment", "version": 1,
            "title": "Consent to microneedling", "body": "I understand the treatment.",
            "statements": '[{"key": "risks", "text": "I understand the risks", '
                          '"required": true}]',
            "created_at": "2026-11-20T10:00", "created_by": "Jane Smith"}
CONSENT = {"id": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "client_id": CLIENT["id"],
           "kind": "treatment", "method": "on_screen", "signed_at": "2026-11-20T10:20",
           "practitioner": "Jane Smith", "title": TEMPLATE["title"], "body": TEMPLATE["body"],
           "statements": TEMPLATE["statements"], "answers": '{"risks": true}',
           "template_id": TEMPLATE["id"], "template_version": 1,
           "client_strokes": '{"height": 100, "strokes": [[[10, 20, 1.0, 0], [30, 40, 0.5, 16]]]'
                             ', "width": 300}',
           "client_image": b"\x89PNG\r\n\x1a\nclient",
           "practitioner_strokes": '{"height": 100, "strokes": [[[5, 5, 1.0, 0], '
                                   '[50, 60, 1.0, 20]]], "width": 300}',
           "practitioner_image": b"\x89PNG\r\n\x1a\npractitioner", "notes": ""}


def test_v5_digests_of_known_records_are_fixed():
    assert seals.seal_v5("session", [SESSION_V4], CHILDREN_V5) == (
        "v5:309770f96b8042e4c53ac5a8497a39c17e0055c3f100b7beb3e13e83719f9e98")
    assert seals.seal_v5("consent_template", [TEMPLATE]) == (
        "v5:168d7225e6070244e36bd00e8af68eb3df5cd37a7f79855fdf4d50ed743fe5ab")
    assert seals.seal_v5("consent", [CONSENT]) == (
        "v5:2ff7b8d61011a1498b83996ea386d0b607a83ea18839ee3cf8ecc1983f4f8b3d")


def test_v5_digest_depends_on_every_value_of_consents_and_the_zone():
    base = seals.seal_v5("session", [SESSION_V4], CHILDREN_V5)
    no_zone = [a | {"zone": None} for a in CHILDREN_V5["treated_areas"]]
    assert seals.seal_v5("session", [SESSION_V4], CHILDREN_V5 | {"treated_areas": no_zone}) \
        != base
    other = [CHILDREN_V5["treated_areas"][0] | {"zone": "forehead"},
             CHILDREN_V5["treated_areas"][1]]
    assert seals.seal_v5("session", [SESSION_V4], CHILDREN_V5 | {"treated_areas": other}) \
        != base
    for kind, row in (("consent_template", TEMPLATE), ("consent", CONSENT)):
        for column in seals.V5_RECORDS[kind][2]:
            changed = b"\x89PNG other" if isinstance(row[column], bytes) else "changed"
            assert seals.seal_v5(kind, [dict(row, **{column: changed})]) != \
                seals.seal_v5(kind, [row]), (kind, column)
    # Not a v4 digest with another prefix: the forms differ.
    assert base[3:] != seals.seal_v4("session", [SESSION_V4], CHILDREN_V4)[3:]


def _v4_sealed_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A file as schema 8 left it, with a session signed there (so sealed with v4, as that
    program wrote sessions), then opened (so upgraded through step 9) by today's program."""
    from factories import undo_consents_step

    path = tmp_path / "v4.db"
    with monkeypatch.context() as schema_8:
        schema_8.setitem(seals.WRITTEN, "session", seals.V4)   # type: ignore[arg-type]
        repo = Repository(open_database(path))
        client = repo.add_client(make_client(), by="Jane Smith")
        session = repo.save_draft(make_session(client.id), by="Jane Smith")
        repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
        repo.db.close()
    conn = sqlite3.connect(path)
    undo_consents_step(conn)
    conn.close()
    open_database(path).close()
    return path, session.id


def test_a_session_sealed_with_v4_before_step_9_still_verifies_after_it(tmp_path, monkeypatch):
    path, session_id = _v4_sealed_session(tmp_path, monkeypatch)
    assert _last_seal(path, session_id).startswith("v4:")
    assert _problems(path) == []


def test_a_zone_set_behind_the_back_of_a_v4_sealed_session_is_reported(tmp_path,
                                                                       monkeypatch):
    path, session_id = _v4_sealed_session(tmp_path, monkeypatch)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE treated_areas SET zone = 'cheeks' WHERE session_id = ? "
                     "AND position = 0", [session_id])
    conn.close()
    problems = _problems(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"session {session_id} of 20 Nov 2026")
    assert problems[0].endswith("it was changed behind NeedleDesk's back")
