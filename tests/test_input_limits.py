"""Input limits (domain.rules `limit_problems`): each one just inside passes and just outside is
refused by its place, with nothing written, through the importer and through the repository.
Names in Arabic and Persian keep the direction and joiner marks they need; records stored
before the limits still load and export, and their export is refused by place, not altered."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from factories import make_client, make_course, make_screening, make_session
from test_exchange_rules import assert_nothing_written, build, refuse, set_

from needledesk.domain.model import ClientRecord, Fee, Serum, TreatedArea
from needledesk.errors import ValidationError
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.transfer import export_text, import_document

C = "clients[0]"
S = "clients[0].sessions[0]"
LATER = datetime.now().replace(second=0, microsecond=0)


def _fmt(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


# --- through the importer ---------------------------------------------------------------------

# (place, just inside, just outside, words the refusal must hold)
LIMITS = [
    pytest.param(f"{C}.first_name", "A" * 200, "A" * 201, ["201 characters", "at most 200"],
                 id="name-200"),
    pytest.param(f"{S}.practitioner", "P" * 200, "P" * 201, ["at most 200"],
                 id="practitioner-200"),
    pytest.param(f"{S}.serums[0].lot", "L" * 100, "L" * 101, ["101 characters", "at most 100"],
                 id="lot-100"),
    pytest.param(f"{S}.serums[0].product", "S" * 100, "S" * 101, ["at most 100"],
                 id="product-100"),
    pytest.param(f"{S}.device.cartridge_lot", "L" * 100, "L" * 101, ["at most 100"],
                 id="cartridge-lot-100"),
    pytest.param(f"{S}.anaesthetic.product", "E" * 100, "E" * 101, ["at most 100"],
                 id="anaesthetic-100"),
    pytest.param(f"{S}.notes", "n" * 20_000, "n" * 25_000,
                 ["25,000 characters", "at most 20,000"], id="session-note-20000"),
    pytest.param(f"{C}.notes", "n" * 20_000, "n" * 20_001, ["at most 20,000"],
                 id="client-note-20000"),
    pytest.param(f"{S}.areas[0].notes", "n" * 20_000, "n" * 20_001, ["at most 20,000"],
                 id="area-note-20000"),
    pytest.param(f"{C}.date_of_birth", "1900-01-01", "1899-12-31", ["31 Dec 1899", "1900–2100"],
                 id="born-1900"),
    pytest.param(f"{C}.date_of_birth", "1900-01-01", "0001-01-01", ["1900–2100"],
                 id="born-year-1"),
    pytest.param(f"{C}.courses[0].started_on", "2100-12-31", "2101-01-01", ["1900–2100"],
                 id="course-2100"),
    pytest.param(f"{C}.courses[0].started_on", "2100-12-31", "9999-06-01", ["1900–2100"],
                 id="course-9999"),
    pytest.param(f"{C}.screenings[0].date", (date.today() + timedelta(days=1)).isoformat(),
                 (date.today() + timedelta(days=2)).isoformat(), ["ahead of this PC's clock"],
                 id="screening-future"),
    pytest.param(f"{S}.fee.currency", "EUR", "ZZZ", ["ZZZ", "ISO 4217"], id="currency-iso"),
    pytest.param(f"{S}.fee.amount", "0.00", "-0", ["negative zero", "0 or more"],
                 id="fee-negative-zero"),
    pytest.param(f"{S}.fee.amount", "250.00", "٢٥٠", ["digits other than 0–9"],
                 id="fee-arabic-indic-digits"),
    pytest.param(f"{S}.fee.amount", "999999999999.99", "1000000000000.00",
                 ["13 digits", "at most 12"], id="fee-digits"),
    pytest.param(f"{C}.first_name", "Ana María", "Ana\x00", ["U+0000", "control character"],
                 id="name-nul"),
    pytest.param(f"{C}.last_name", "López", "\x1b[31mLópez", ["U+001B", "control character"],
                 id="name-esc"),
    pytest.param(f"{C}.last_name", "López", "Ana\u202eZEPOL", ["U+202E", "direction"],
                 id="name-bidi-override"),
    pytest.param(f"{C}.last_name", "López", "\u2067López\u2069", ["U+2067", "direction"],
                 id="name-bidi-isolate"),
    pytest.param(f"{C}.first_name", "Ana", "\u200b\u200c\u200d", ["no visible characters"],
                 id="name-only-zero-width"),
    pytest.param(f"{S}.areas[0].area", "cheeks", "cheeks\nforehead", ["U+000A"],
                 id="area-line-break"),
    pytest.param(f"{S}.notes", "line one\nline two\ttabbed", "bell\x07", ["U+0007"],
                 id="note-control"),
]


@pytest.mark.parametrize("place, inside, outside, words", LIMITS)
def test_each_limit_through_the_importer(repo, empty, place, inside, outside, words):
    import_document(repo, build([set_(place, inside)]), by="Jane Smith")
    assert repo.count_clients() == 1

    refuse(empty, build([set_(place, outside)]), place, words)
    assert_nothing_written(empty)


@pytest.mark.parametrize("ahead, refused", [(timedelta(hours=23), False),
                                             (timedelta(hours=25), True)])
def test_a_signature_more_than_a_day_ahead_is_refused(repo, ahead, refused):
    started = LATER + ahead - timedelta(hours=1)
    ops = [set_(f"{S}.started_at", _fmt(started)),
           set_(f"{S}.anaesthetic.applied_at", _fmt(started - timedelta(minutes=50))),
           set_(f"{S}.anaesthetic.removed_at", _fmt(started - timedelta(minutes=5))),
           set_(f"{S}.acknowledged_warnings[0].at", _fmt(started - timedelta(minutes=2))),
           set_(f"{S}.amendments", []),
           set_(f"{S}.signed_at", _fmt(LATER + ahead))]
    if not refused:
        import_document(repo, build(ops), by="Jane Smith")
        assert repo.get_session("session-0").signed_at == LATER + ahead
        return
    refuse(repo, build(ops), f"{S}.signed_at", ["more than 24 hours ahead"])
    assert_nothing_written(repo)


def test_a_signature_in_2099_is_refused(repo):
    refuse(repo, build([set_(f"{S}.signed_at", "2099-01-01T10:00"),
                        set_(f"{S}.amendments", [])]),
           f"{S}.signed_at", ["1 Jan 2099 10:00", "ahead of this PC's clock"])
    assert_nothing_written(repo)


def test_the_refusal_is_one_plain_line_naming_the_place(repo):
    with pytest.raises(ValidationError) as info:
        import_document(repo, build([set_(f"{S}.notes", "n" * 25_000)]), by="Jane Smith")
    assert [str(p) for p in info.value.problems] == [
        f"{S}.notes: is 25,000 characters long; at most 20,000 allowed"]
    assert_nothing_written(repo)


@pytest.mark.parametrize("first, last", [
    pytest.param("ليلى", "حداد\u200f", id="arabic-rlm"),
    pytest.param("مهر\u200cناز", "رضایی", id="persian-zwnj"),
    pytest.param("\u200eAna", "Nguyễn\u200d", id="lrm-zwj"),
])
def test_arabic_and_persian_names_keep_their_marks(repo, first, last):
    import_document(repo, build([set_(f"{C}.first_name", first), set_(f"{C}.last_name", last)]),
                    by="Jane Smith")
    client = repo.get_client("client-0")
    assert (client.first_name, client.last_name) == (first, last)
    repo.add_client(make_client(first_name=first, last_name=last), by="Jane Smith")


def test_every_problem_in_a_file_is_reported_at_once(repo):
    with pytest.raises(ValidationError) as info:
        import_document(repo, build([set_(f"{C}.first_name", "Ana\x00"),
                                     set_(f"{S}.fee.currency", "ZZZ"),
                                     set_(f"{C}.courses[0].started_on", "9999-06-01")]),
                        by="Jane Smith")
    assert {p.path for p in info.value.problems} == {
        f"{C}.first_name", f"{S}.fee.currency", f"{C}.courses[0].started_on"}
    assert_nothing_written(repo)


# --- through the repository (the window's path) ---------------------------------------------


def _record_counts(repo: Repository) -> tuple[int, ...]:
    return tuple(repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("clients", "courses", "screenings", "sessions", "audit"))


def _refused(repo: Repository, write, place: str, words: list[str]) -> None:
    before = _record_counts(repo)
    with pytest.raises(ValidationError) as info:
        write()
    at_place = [p for p in info.value.problems if p.path == place]
    assert at_place, [str(p) for p in info.value.problems]
    assert all(word in at_place[0].message for word in words), at_place
    assert _record_counts(repo) == before


def test_client_limits_through_the_repository(repo):
    repo.add_client(make_client(first_name="A" * 200, notes="n" * 20_000,
                                date_of_birth=date(1900, 1, 1)), by="Jane Smith")
    _refused(repo, lambda: repo.add_client(make_client(first_name="Ana\x1b"),
                                           by="Jane Smith"), "first_name",
             ["U+001B"])
    _refused(repo, lambda: repo.add_client(make_client(last_name="\u200b"),
                                           by="Jane Smith"), "last_name",
             ["no visible characters"])
    _refused(repo, lambda: repo.add_client(make_client(notes="n" * 20_001),
                                           by="Jane Smith"), "notes",
             ["at most 20,000"])
    _refused(repo, lambda: repo.add_client(make_client(date_of_birth=date(1899, 12, 31)),
                                           by="Jane Smith"),
             "date_of_birth", ["1900–2100"])


def test_course_and_screening_limits_through_the_repository(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.add_course(make_course(client.id, started_on=date(2100, 12, 31)), by="Jane Smith")
    _refused(repo, lambda: repo.add_course(make_course(client.id, started_on=date(9999, 6, 1)),
                                           by="Jane Smith"),
             "started_on", ["1 Jun 9999", "1900–2100"])
    repo.add_screening(make_screening(client.id, date=date.today() + timedelta(days=1)),
                       by="Jane Smith")
    _refused(repo, lambda: repo.add_screening(
        make_screening(client.id, date=date.today() + timedelta(days=2)), by="Jane Smith"),
        "date", ["ahead of this PC's clock"])


def test_session_limits_through_the_repository(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    good = make_session(client.id, notes="n" * 20_000,
                        serums=[Serum("S" * 100, "L" * 100)], fee=Fee(Decimal("0.00"), "EUR"))
    repo.save_draft(good, by="Jane Smith")
    for change, place, words in [
        ({"notes": "n" * 20_001}, "notes", ["at most 20,000"]),
        ({"serums": [Serum("Hyaluronic acid", "L" * 101)]}, "serums[0].lot", ["at most 100"]),
        ({"fee": Fee(Decimal("-0.00"), "USD")}, "fee.amount", ["negative zero"]),
        ({"fee": Fee(Decimal("10.00"), "ZZZ")}, "fee.currency", ["ISO 4217"]),
        ({"areas": [TreatedArea("x" * 100, 1.0), *[TreatedArea("a\u202db", 1.0)]]},
         "areas[1].area", ["U+202D"]),
    ]:
        _refused(repo, lambda change=change: repo.save_draft(replace(good, **change),
                                                             by="Jane Smith"), place, words)
    assert repo.get_session(good.id).notes == "n" * 20_000
    _refused(repo, lambda: repo.sign_session(good.id, LATER + timedelta(hours=25), by="Jane Smith"),
             "signed_at", ["more than 24 hours ahead"])
    assert not repo.get_session(good.id).is_signed
    repo.sign_session(good.id, LATER + timedelta(hours=23), by="Jane Smith")


# --- records stored before the limits --------------------------------------------------------


def test_a_stored_record_past_a_limit_loads_exports_and_is_refused_by_place_on_import(
        repo, tmp_path):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = make_session(client.id)
    repo.save_draft(session, by="Jane Smith")
    # As an older NeedleDesk would have stored them: a long note and a made-up currency.
    repo.db.execute("UPDATE clients SET notes = ?", ["n" * 25_000])
    repo.db.execute("UPDATE sessions SET fee_currency = 'ZZZ'")

    from needledesk.domain.rules import limit_problems, validate_record

    record = next(repo.load_records())
    assert validate_record(record, limits=False) == []
    assert [str(p) for p in limit_problems(record)] == [
        "notes: is 25,000 characters long; at most 20,000 allowed",
        "sessions[0].fee.currency: ZZZ is not an ISO 4217 currency code (such as USD, EUR or "
        "GBP)"]
    assert isinstance(record, ClientRecord) and record.client.notes == "n" * 25_000

    text = export_text(repo)
    document = json.loads(text)
    assert document["clients"][0]["notes"] == "n" * 25_000  # exported as stored, not cut
    assert document["clients"][0]["sessions"][0]["fee"]["currency"] == "ZZZ"

    fresh = Repository(open_database(tmp_path / "new.db"))
    with pytest.raises(ValidationError) as info:
        import_document(fresh, document, by="Jane Smith")
    assert sorted(str(p) for p in info.value.problems) == [
        "clients[0].notes: is 25,000 characters long; at most 20,000 allowed",
        "clients[0].sessions[0].fee.currency: ZZZ is not an ISO 4217 currency code (such as "
        "USD, EUR or GBP)"]
    assert_nothing_written(fresh)


def test_an_amendment_by_or_reason_past_the_limits_is_refused(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = make_session(client.id, started_at=datetime(2026, 11, 20, 10, 0))
    repo.save_draft(session, by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 0), by="Jane Smith")
    changed = repo.get_session(session.id)
    changed.notes = "Corrected note"
    for by, reason, place in (("Jane\u202eDoe", "typo", "amendments[0].by"),
                              ("Jane Doe", "typo\x1b[2J", "amendments[0].reason"),
                              ("x" * 201, "typo", "amendments[0].by")):
        with pytest.raises(ValidationError) as refused:
            repo.amend_session(changed, by=by, reason=reason)
        assert place in str(refused.value)
        assert repo.get_session(session.id).amendments == []
    repo.amend_session(changed, by="Jane Doe", reason="typo")
    assert len(repo.get_session(session.id).amendments) == 1
