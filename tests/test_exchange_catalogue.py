"""The product catalogue and the new session keys in the exchange format (issue 14): a clinic
with a catalogue survives export -> import into an empty file; a file from before the
catalogue imports unchanged; hostile files are refused in plain words with nothing written;
one client's export carries only the lots their sessions used."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from factories import make_client, make_course, make_screening, make_session

from needledesk.domain.labels import problem_text
from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    Lot,
    Product,
    ProductKind,
    ScreeningCheck,
    ScreeningOutcome,
    Serum,
)
from needledesk.errors import ValidationError
from needledesk.exchange import VERSION, decode_document, encode_document, parse_json
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.transfer import export_text, import_document, import_file

BEFORE = Path(__file__).parent / "fixtures" / "exchange-before-catalogue.json"
TODAY = date(2026, 12, 1)
BY = "Jane Smith"
NEW_SESSION_KEYS = ("screening_check",)
NEW_NESTED_KEYS = {"device": ("cartridge_lot_id",), "anaesthetic": ("lot", "lot_id")}


def _clinic(repo: Repository) -> dict[str, str]:
    """A catalogue of a serum (two lots), an anaesthetic and a cartridge (a lot each) and a
    serum nobody used; Ana's signed session picked a lot of each and re-confirmed her
    screening; Ben's draft picked the cartridge lot only. Returns the ids by name."""
    ha = repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM, "Skinlab"), by=BY)
    lmx = repo.add_product(Product("LMX4", ProductKind.ANAESTHETIC, "Ferndale"), by=BY)
    pin = repo.add_product(Product("16-pin", ProductKind.CARTRIDGE), by=BY)
    unused = repo.add_product(Product("Vitamin C 10%", ProductKind.SERUM, notes="trial"),
                              by=BY)
    ha1 = repo.add_lot(Lot(ha.id, "HA-0923", date(2027, 3, 31), received_on=date(2026, 10, 2)),
                       by=BY)
    repo.add_lot(Lot(ha.id, "HA-1001", date(2027, 9, 30)), by=BY)
    lx = repo.add_lot(Lot(lmx.id, "LX-77", date(2027, 1, 15), notes="box 2"), by=BY)
    cart = repo.add_lot(Lot(pin.id, "L2311A"), by=BY)
    repo.add_lot(Lot(unused.id, "VC-1", date(2027, 5, 1)), by=BY)

    ana = repo.add_client(make_client(), by=BY)
    course = repo.add_course(make_course(ana.id), by=BY)
    screening = repo.add_screening(make_screening(ana.id), by=BY)
    session = make_session(
        ana.id, course_id=course.id,
        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", "l2311a ", cart.id),
        anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 20, 9, 45),
                                datetime(2026, 11, 20, 10, 25), "LX-77", lx.id),
        serums=[Serum("Hyaluronic acid 1%", "HA-0923", ha1.id), Serum("Own serum", "free")],
        screening_check=ScreeningCheck(screening.id, ScreeningOutcome.NO_CHANGE))
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)

    ben = repo.add_client(make_client(first_name="Ben", last_name="Okafor",
                                      phone="+1 555 0199", email=None), by=BY)
    repo.save_draft(make_session(ben.id, started_at=datetime(2026, 11, 25, 14, 0),
                                 device=Device(DeviceType.PEN, None, "16-pin", "L2311A",
                                               cart.id)), by=BY)
    return {"ana": ana.id, "ben": ben.id, "session": session.id, "screening": screening.id,
            "ha": ha.id, "lmx": lmx.id, "pin": pin.id, "unused": unused.id, "ha1": ha1.id,
            "lx": lx.id, "cart": cart.id}


@pytest.fixture
def clinic(repo):
    return repo, _clinic(repo)


def _counts(repo: Repository) -> dict[str, int]:
    return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("clients", "sessions", "screenings", "products", "lots", "audit")}


def _document(repo: Repository, client_id: str | None = None) -> dict:
    return parse_json(export_text(repo, client_id))


def _refused(repo: Repository, document: dict, *, plain: bool = True) -> list[str]:
    """The import refused, nothing written; the problems as the practitioner reads them
    (`plain`: in plain words throughout)."""
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        import_document(repo, document, by=BY, today=TODAY)
    assert _counts(repo) == before
    texts = [problem_text(p) for p in refused.value.problems]
    for text in texts if plain else []:   # plain: no dotted place, no "None", no ISO date
        assert not re.search(r"\[|\bNone\b|\w\.\w|\d{4}-\d\d-\d\d", text), text
    return texts


# --- round trip ---------------------------------------------------------------------------

def test_a_clinic_with_a_catalogue_round_trips(clinic, empty):
    repo, ids = clinic
    text = export_text(repo)
    document = json.loads(text)
    assert VERSION == 2 and document["version"] == 1   # no photos: written as version 1
    session = next(s for c in document["clients"] for s in c["sessions"]
                   if s["id"] == ids["session"])
    assert session["device"]["cartridge_lot_id"] == ids["cart"]
    assert session["device"]["cartridge_lot"] == "l2311a "   # as recorded, never tidied
    assert session["anaesthetic"]["lot"] == "LX-77"
    assert session["anaesthetic"]["lot_id"] == ids["lx"]
    assert session["serums"] == [{"product": "Hyaluronic acid 1%", "lot": "HA-0923",
                                  "lot_id": ids["ha1"]},
                                 {"product": "Own serum", "lot": "free"}]
    assert session["screening_check"] == {"screening_id": ids["screening"],
                                          "outcome": "no_change"}
    assert [p["name"] for p in document["products"]] == [
        "16-pin", "Hyaluronic acid 1%", "LMX4", "Vitamin C 10%"]
    assert [x["lot"] for p in document["products"] for x in p["lots"]] == [
        "L2311A", "HA-0923", "HA-1001", "LX-77", "VC-1"]

    report = import_document(empty, parse_json(text), by="Sam Lee", today=TODAY)
    assert (report.products_added, report.lots_added) == (4, 5)
    assert report.result.added["clients"] == 2
    assert list(empty.load_records()) == list(repo.load_records())
    assert empty.products() == repo.products()
    assert empty.lots() == repo.lots()
    assert check_database(empty.db) == []
    actions = empty.db.execute("SELECT kind, action, count(*) FROM audit WHERE kind IN "
                               "('product', 'lot') GROUP BY kind, action").fetchall()
    assert sorted(actions) == [("lot", "import", 5), ("product", "import", 4)]

    # The same file again writes nothing new; the file exported again is the same.
    again = import_document(empty, parse_json(text), by="Sam Lee", today=TODAY)
    assert (again.products_added, again.lots_added) == (0, 0)
    assert sum(again.result.added.values()) == 0
    strip = lambda d: {k: v for k, v in d.items() if k != "exported_at"}  # noqa: E731
    assert strip(_document(empty)) == strip(document)
    assert check_database(empty.db) == []


def test_one_clients_export_carries_only_the_lots_their_sessions_used(clinic):
    repo, ids = clinic
    ana = _document(repo, ids["ana"])
    assert [c["id"] for c in ana["clients"]] == [ids["ana"]]
    assert {p["id"]: [x["id"] for x in p["lots"]] for p in ana["products"]} == {
        ids["pin"]: [ids["cart"]], ids["ha"]: [ids["ha1"]], ids["lmx"]: [ids["lx"]]}
    ben = _document(repo, ids["ben"])
    assert {p["id"]: [x["id"] for x in p["lots"]] for p in ben["products"]} == {
        ids["pin"]: [ids["cart"]]}


def test_a_client_without_catalogue_lots_exports_no_products_key(repo):
    client = repo.add_client(make_client(), by=BY)
    repo.save_draft(make_session(client.id), by=BY)
    repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM), by=BY)
    document = _document(repo, client.id)
    assert "products" not in document
    session = document["clients"][0]["sessions"][0]
    assert "screening_check" not in session
    assert set(session["device"]) == {"type", "model", "cartridge", "cartridge_lot"}
    assert set(session["anaesthetic"]) == {"product", "applied_at", "removed_at"}
    assert all(set(s) == {"product", "lot"} for s in session["serums"])
    assert "products" in _document(repo)   # the whole clinic's export carries the catalogue


# --- files from before the catalogue --------------------------------------------------------

def test_a_file_from_before_the_catalogue_imports_unchanged(empty):
    text = BEFORE.read_text(encoding="utf-8")
    original = json.loads(text)
    assert "products" not in original
    for client in original["clients"]:
        for session in client["sessions"]:
            assert not set(NEW_SESSION_KEYS) & set(session)
            for part, keys in NEW_NESTED_KEYS.items():
                assert not set(keys) & set(session[part] or {})
            assert all("lot_id" not in s for s in session["serums"])

    report = import_file(empty, BEFORE, by=BY, today=TODAY)
    assert dict(report.result.added) == {"clients": 1, "courses": 1, "screenings": 1,
                                         "sessions": 2}
    assert (report.products_added, report.lots_added) == (0, 0)
    assert empty.products() == [] and empty.lots() == []
    session = empty.get_session("pre-cat-session-1")
    assert [(s.product, s.lot, s.lot_id) for s in session.serums] == [
        ("Hyaluronic acid 1%", "HA-0932", None), ("Vitamin C 10%", "VC 77", None)]
    assert session.anaesthetic is not None
    assert (session.anaesthetic.lot, session.anaesthetic.lot_id) == (None, None)
    assert session.device.cartridge_lot_id is None and session.screening_check is None
    assert check_database(empty.db) == []
    # Exported again, it is the file it came from (but for the moment of export).
    again = _document(empty)
    assert {k: v for k, v in again.items() if k != "exported_at"} == \
        {k: v for k, v in original.items() if k != "exported_at"}


# --- hostile files ---------------------------------------------------------------------------

def _with_catalogue(clinic, client_id: str | None = None) -> tuple[Repository, dict, dict]:
    repo, ids = clinic
    return repo, ids, _document(repo, client_id)


def test_a_lot_naming_a_product_of_its_own_is_refused(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][1]["lots"][1]["product_id"] = "elsewhere"
    texts = _refused(empty, document)
    assert texts == ["Product 2, Lot 2, Product is not a known key (a typo would lose data)"]


def test_a_session_naming_a_lot_in_neither_the_file_nor_the_catalogue_is_refused(clinic, empty):
    _repo, ids, document = _with_catalogue(clinic, None)
    for product in document["products"]:
        product["lots"] = [x for x in product["lots"] if x["id"] != ids["ha1"]]
    texts = _refused(empty, document)
    assert len(texts) == 1, texts
    assert texts[0].startswith(
        "Client 1, Session 1, Serum 1: Serum lot from the catalogue: "), texts
    assert "neither in the file nor in the catalogue" in texts[0]


def test_a_product_whose_id_is_stored_with_other_content_is_refused(clinic, empty):
    repo, ids, document = _with_catalogue(clinic)
    # The receiving clinic already holds the lot's product under that id, named otherwise.
    empty.add_product(Product("Hyaluronic acid 2%", ProductKind.SERUM, "Skinlab",
                              ids["ha"]), by=BY)
    texts = _refused(empty, document)
    assert texts == ["Product 2: “Hyaluronic acid 1%” differs from the catalogue's "
                     "“Hyaluronic acid 2%” with the same id"]
    assert empty.db.execute("SELECT count(*) FROM clients").fetchone()[0] == 0
    assert empty.db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    assert [p.name for p in empty.products()] == ["Hyaluronic acid 2%"]


def test_a_lot_whose_id_is_stored_with_other_content_is_refused(clinic, empty):
    repo, ids, document = _with_catalogue(clinic)
    import_document(empty, copy.deepcopy(document), by=BY, today=TODAY)
    lot = empty.get_lot(ids["lx"])
    lot.expires_on = date(2027, 2, 1)
    empty.update_lot(lot, by=BY)
    document["clients"][0]["first_name"] = "Ana María"   # something new to write, too
    texts = _refused(empty, document)
    assert texts == ["Product 3, Lot 1: lot LX-77 differs from the catalogue's lot LX-77 "
                     "with the same id"]


def test_a_screening_check_naming_another_clients_screening_is_refused(clinic, empty):
    repo, ids = clinic
    other = repo.add_screening(make_screening(ids["ben"], date=date(2026, 11, 2)), by=BY)
    document = _document(repo)
    ana = next(c for c in document["clients"] if c["id"] == ids["ana"])
    ana["sessions"][0]["screening_check"]["screening_id"] = other.id
    texts = _refused(empty, document)
    assert texts == ["Client 1, Session 1, Screening re-confirmed: names a screening that is "
                     "not in this client's record"]


def test_a_screening_check_with_an_unknown_outcome_is_refused(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    document["clients"][0]["sessions"][0]["screening_check"]["outcome"] = "maybe"
    texts = _refused(empty, document)
    assert len(texts) == 1 and texts[0].startswith("Client 1, Session 1, Screening at the "
                                                   "visit: \"maybe\" is not one of no_change, "
                                                   "updated"), texts


def test_a_product_of_another_kind_is_refused(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][0]["kind"] = "filler"
    texts = _refused(empty, document)
    assert texts == ["Product 1, Used as: \"filler\" is not one of serum, anaesthetic, "
                     "cartridge"]


def test_a_bad_product_after_a_refused_one_is_named_by_its_own_place(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][0]["kind"] = "filler"
    document["products"][2]["name"] = " "
    texts = _refused(empty, document)
    assert "Product 3, Product is required" in texts, texts


def test_a_product_without_a_name_is_refused_once(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    del document["products"][2]["name"]
    assert _refused(empty, document) == ["Product 3, Product is missing"]


@pytest.mark.parametrize("size", [101, 5_000_000])
def test_huge_lot_text_is_refused(clinic, empty, size):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][1]["lots"][1]["lot"] = "L" * size
    texts = _refused(empty, document)
    assert texts == [f"Product 2, Lot 2, Lot is {size:,} characters long; at most 100 "
                     "allowed"]


@pytest.mark.parametrize(("size", "says"), [
    (101, "is 101 characters long; at most 100 allowed"),
    (1_000, "is 1000 characters long; at most 200 allowed"),   # the older rule, said once
])
def test_huge_lot_text_on_a_session_is_refused(clinic, empty, size, says):
    _repo, _ids, document = _with_catalogue(clinic)
    document["clients"][0]["sessions"][0]["anaesthetic"]["lot"] = "L" * size
    texts = _refused(empty, document)
    assert texts == [f"Client 1, Session 1, Anaesthetic lot {says}"]


@pytest.mark.parametrize("where", ["product", "lot"])
def test_an_id_shared_by_a_catalogue_record_and_a_client_is_refused(clinic, empty, where):
    _repo, _ids, document = _with_catalogue(clinic)
    client_id = document["clients"][0]["id"]
    if where == "product":
        document["products"][3]["id"] = client_id
    else:
        document["products"][3]["lots"][0]["id"] = client_id
    # (The message names the other place as the file does, like every id refusal does.)
    texts = _refused(empty, document, plain=False)
    assert len(texts) == 1, texts
    place = "Product 4, Record id" if where == "product" else "Product 4, Lot 1, Record id"
    assert texts[0].startswith(f"{place}: "), texts
    assert "is already used at" in texts[0] and "every id must be unique" in texts[0]


def test_the_catalogue_is_checked_before_any_record_is_written(tmp_path, clinic):
    """Through the file: `import_file` refuses a conflicting catalogue with the database
    exactly as it was (no client, no session, no audit row)."""
    repo, ids = clinic
    path = tmp_path / "export.json"
    document = _document(repo)
    document["products"][0]["name"] = "36-pin"
    path.write_text(json.dumps(document), encoding="utf-8")
    target = Repository(open_database(tmp_path / "other.db"))
    try:
        target.add_product(Product("16-pin", ProductKind.CARTRIDGE, id=ids["pin"]), by=BY)
        before = _counts(target)
        with pytest.raises(ValidationError):
            import_file(target, path, by=BY, today=TODAY)
        assert _counts(target) == before
    finally:
        target.db.close()
    conn = sqlite3.connect(tmp_path / "other.db")
    try:
        assert conn.execute("SELECT name FROM products").fetchall() == [("16-pin",)]
    finally:
        conn.close()


def test_decoding_keeps_the_new_keys(clinic):
    repo, ids = clinic
    decoded = decode_document(_document(repo), TODAY)
    assert decoded.problems == []
    assert {p.id for p in decoded.products} == {ids["ha"], ids["lmx"], ids["pin"], ids["unused"]}
    assert len(decoded.lots) == 5
    session = next(s for r in decoded.records for s in r.sessions if s.id == ids["session"])
    assert session == repo.get_session(ids["session"])
    assert encode_document(decoded.records, products=decoded.products, lots=decoded.lots,
                           exported_at=datetime(2026, 12, 1, 9, 0))["products"] == \
        _document(repo)["products"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"lots": "x"}, 'Product 1, Lots: "x" is not a list'),
    ({"retired": "yes"}, 'Product 1, No longer used: "yes" is not true or false'),
])
def test_a_product_of_the_wrong_shape_is_refused_in_words(clinic, empty, change, expected):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][0].update(change)
    assert _refused(empty, document) == [expected]


def test_a_lot_with_a_date_that_is_no_date_is_refused(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    document["products"][1]["lots"][0]["expires_on"] = "2027-02-30"
    document["products"][1]["lots"][1]["received_on"] = "2027-10-01"
    # (The value is quoted as the file holds it, so the person can find it there.)
    assert _refused(empty, document, plain=False) == [
        'Product 2, Lot 1, Expires on: "2027-02-30" is not a real date',
        "Product 2, Lot 2, Received on 1 Oct 2027 is after the lot expires (30 Sep 2027)"]


def test_an_import_failing_midway_writes_neither_catalogue_nor_records(clinic, empty,
                                                                       monkeypatch):
    """The catalogue and the records that pick its lots are one transaction: a disk that
    fills while the sessions are written leaves no product, lot, client or audit row."""
    _repo, _ids, document = _with_catalogue(clinic)
    before = _counts(empty)

    def disk_full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Repository, "_insert_sessions", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        import_document(empty, document, by=BY, today=TODAY)
    assert _counts(empty) == before
    monkeypatch.undo()
    report = import_document(empty, document, by=BY, today=TODAY)
    assert (report.products_added, report.lots_added) == (len(document["products"]), sum(
        len(p["lots"]) for p in document["products"]))
    assert "products" not in report.result.added
    assert check_database(empty.db) == []


def test_a_clinic_whose_lots_were_in_date_imports_without_lot_warnings(clinic, empty):
    _repo, _ids, document = _with_catalogue(clinic)
    report = import_document(empty, document, by=BY, today=TODAY)
    assert [w for w in report.warnings if w.code.startswith("lot:")] == []


def test_an_imported_session_with_an_expired_lot_it_did_not_acknowledge_is_reported(
        clinic, empty):
    """Recorded elsewhere without the editor's warning (another program, an older file):
    imported as it is, and the lot past its expiry on the session's day is reported, in
    words, at the session's place; a session that acknowledged it is not."""
    _repo, ids, document = _with_catalogue(clinic)
    for product in document["products"]:
        for lot in product["lots"]:
            if lot["id"] == ids["ha1"]:
                lot["expires_on"] = "2026-11-01"
    # Ben's draft of 25 Nov typed the same lot (no catalogue id): it counts the same.
    ben = next(i for i, c in enumerate(document["clients"]) if c["id"] == ids["ben"])
    document["clients"][ben]["sessions"][0]["acknowledged_warnings"] = [
        {"warning": "lot: expired (Hyaluronic acid 1% HA-0923) — last vial, client told",
         "by": BY, "at": "2026-11-25T14:00"}]
    ana = next(i for i, c in enumerate(document["clients"]) if c["id"] == ids["ana"])
    report = import_document(empty, document, by=BY, today=TODAY)
    lots = [w for w in report.warnings if w.code.startswith("lot:")]
    assert [(w.code, w.path) for w in lots] == [
        ("lot: expired (Hyaluronic acid 1% HA-0923)",
         f"clients[{ana}].sessions[0].serums[0].lot")]
    assert problem_text(lots[0]) == (
        f"Client {ana + 1}, Session 1, Serum 1: Serum lot: Serum Hyaluronic acid 1% lot HA-0923 "
        "expired 1 Nov 2026 (19 days ago)")
    assert empty.get_session(ids["session"]).serums[0].lot_id == ids["ha1"]
