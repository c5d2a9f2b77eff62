"""The product catalogue as records (issue 14): products and lots added, corrected,
validated (nothing written on a refusal), audited and sealed like every other record, and
`check` finding a product or lot changed, deleted or added behind the program's back.
Real files and a real clinic server throughout; tampering goes through the sqlite3 module as
the sqlite3 shell would (on the server: a connection of its own, as psql would).
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from engines import refused, tamper
from factories import make_client, make_session

from needledesk.domain.labels import problem_text
from needledesk.domain.model import Lot, Product, ProductKind, Serum
from needledesk.errors import NotFoundError, ValidationError
from needledesk.exchange import encode_session
from needledesk.store import seals
from needledesk.store.check import check_database

BY = "Jane Smith"


def _counts(repo) -> tuple[int, int, int]:
    return (repo.db.execute("SELECT count(*) FROM products").fetchone()[0],
            repo.db.execute("SELECT count(*) FROM lots").fetchone()[0],
            repo.db.execute("SELECT count(*) FROM audit").fetchone()[0])


def _tamper(repo, *statements):
    tamper(repo, *statements)


@pytest.fixture
def serum(repo):
    return repo.add_product(Product("  Hyaluronic acid 1% ", ProductKind.SERUM, " Skinlab "),
                            by=BY)


@pytest.fixture
def lot(repo, serum):
    return repo.add_lot(Lot(serum.id, " HA-0923 ", date(2027, 3, 31),
                            received_on=date(2026, 10, 2)), by=BY)


# --- adding, reading, correcting ---------------------------------------------------------

def test_a_product_and_its_lot_are_stored_trimmed_and_read_back(repo, serum, lot):
    assert repo.get_product(serum.id) == Product("Hyaluronic acid 1%", ProductKind.SERUM,
                                                 "Skinlab", serum.id)
    assert repo.get_lot(lot.id) == Lot(serum.id, "HA-0923", date(2027, 3, 31), lot.id,
                                       date(2026, 10, 2))
    assert repo.products() == [repo.get_product(serum.id)]
    assert repo.products(ProductKind.CARTRIDGE) == []
    assert repo.lots(serum.id) == [repo.get_lot(lot.id)]
    assert repo.lots_by_product() == {serum.id: [repo.get_lot(lot.id)]}
    assert check_database(repo.db) == []


def test_products_and_lots_are_listed_in_order(repo, serum, lot):
    cartridge = repo.add_product(Product("36-pin nano", ProductKind.CARTRIDGE), by=BY)
    older = repo.add_lot(Lot(serum.id, "HA-0611", date(2026, 12, 31)), by=BY)
    undated = repo.add_lot(Lot(serum.id, "HA-X"), by=BY)
    assert [p.name for p in repo.products()] == ["36-pin nano", "Hyaluronic acid 1%"]
    assert [x.id for x in repo.lots(serum.id)] == [older.id, lot.id, undated.id]
    retired = repo.get_product(cartridge.id)
    retired.retired = True
    repo.update_product(retired, by=BY)
    assert [p.name for p in repo.products(retired=False)] == ["Hyaluronic acid 1%"]
    assert [p.name for p in repo.products()] == ["36-pin nano", "Hyaluronic acid 1%"]


def test_a_product_and_a_lot_are_corrected(repo, serum, lot):
    product = repo.get_product(serum.id)
    product.maker = "Skinlab Ltd"
    repo.update_product(product, by=BY)
    corrected = repo.get_lot(lot.id)
    corrected.expires_on = date(2027, 4, 30)
    repo.update_lot(corrected, by=BY)
    assert repo.get_product(serum.id).maker == "Skinlab Ltd"
    assert repo.get_lot(lot.id).expires_on == date(2027, 4, 30)
    assert check_database(repo.db) == []


def test_an_unchanged_update_is_refused_and_writes_nothing(repo, serum, lot):
    before = _counts(repo)
    with pytest.raises(ValidationError, match="nothing was changed in the product"):
        repo.update_product(repo.get_product(serum.id), by=BY)
    with pytest.raises(ValidationError, match="nothing was changed in the lot"):
        repo.update_lot(repo.get_lot(lot.id), by=BY)
    assert _counts(repo) == before


def test_a_lot_cannot_move_to_another_product(repo, serum, lot):
    other = repo.add_product(Product("LMX4", ProductKind.ANAESTHETIC), by=BY)
    before = _counts(repo)
    moved = repo.get_lot(lot.id)
    moved.product_id = other.id
    with pytest.raises(ValidationError, match="stays with the product it was delivered as"):
        repo.update_lot(moved, by=BY)
    assert _counts(repo) == before
    assert repo.get_lot(lot.id).product_id == serum.id


def test_a_lot_of_a_product_not_in_the_catalogue_is_refused(repo):
    with pytest.raises(NotFoundError, match="not in the catalogue"):
        repo.add_lot(Lot("no-such-product", "HA-1"), by=BY)
    assert _counts(repo)[:2] == (0, 0)


# --- validation: a clear message naming the field, nothing written ------------------------

@pytest.mark.parametrize(("product", "expected"), [
    (Product("   ", ProductKind.SERUM), "Product is required"),
    (Product("x" * 101, ProductKind.SERUM), "Product is 101 characters long; at most 100 "
                                            "allowed"),
    (Product("Serum", ProductKind.SERUM, "m" * 101),
     "Maker is 101 characters long; at most 100 allowed"),
    (Product("Serum\x07", ProductKind.SERUM), "Product has a control character"),
    (Product("Serum", "gel"), "Used as: “gel” is not a serum, a topical anaesthetic or a "  # type: ignore[arg-type]
                              "needle cartridge"),
])
def test_a_bad_product_is_refused_with_its_label(repo, product, expected):
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        repo.add_product(product, by=BY)
    texts = [problem_text(p, kind="product") for p in refused.value.problems]
    assert any(t.startswith(expected) for t in texts), texts
    assert _counts(repo) == before


@pytest.mark.parametrize(("fields", "expected"), [
    ({"lot": "  "}, "Lot is required"),
    ({"lot": "L" * 101}, "Lot is 101 characters long; at most 100 allowed"),
    ({"lot": "HA-1", "received_on": date(2027, 4, 1), "expires_on": date(2027, 3, 31)},
     "Received on 1 Apr 2027 is after the lot expires (31 Mar 2027)"),
    ({"lot": "HA-1", "notes": "n" * 20_001}, "Notes is 20,001 characters long; at most "
                                              "20,000 allowed"),
])
def test_a_bad_lot_is_refused_with_its_label(repo, serum, fields, expected):
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        repo.add_lot(Lot(serum.id, **fields), by=BY)
    texts = [problem_text(p, kind="lot") for p in refused.value.problems]
    assert expected in texts, texts
    assert _counts(repo) == before


def test_a_product_name_twice_for_the_same_kind_is_refused(repo, serum):
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        repo.add_product(Product("HYALURONIC ACID 1%  ", ProductKind.SERUM), by=BY)
    assert [problem_text(p, kind="product") for p in refused.value.problems] == [
        "Product: “Hyaluronic acid 1%” is already in the catalogue as this kind of product"]
    assert _counts(repo) == before
    # The same name as another kind of product is another product.
    repo.add_product(Product("Hyaluronic acid 1%", ProductKind.ANAESTHETIC), by=BY)
    # Renaming a second serum onto the first is refused too.
    second = repo.add_product(Product("Vitamin C", ProductKind.SERUM), by=BY)
    renamed = repo.get_product(second.id)
    renamed.name = "hyaluronic acid 1%"
    with pytest.raises(ValidationError, match="already in the catalogue"):
        repo.update_product(renamed, by=BY)
    assert repo.get_product(second.id).name == "Vitamin C"


def test_a_lot_twice_for_the_same_product_is_refused(repo, serum, lot):
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        repo.add_lot(Lot(serum.id, " ha-0923"), by=BY)
    assert [problem_text(p, kind="lot") for p in refused.value.problems] == [
        "Lot: lot HA-0923 of this product is already in the catalogue"]
    assert _counts(repo) == before
    # The same lot text of another product is another lot.
    other = repo.add_product(Product("LMX4", ProductKind.ANAESTHETIC), by=BY)
    repo.add_lot(Lot(other.id, "HA-0923"), by=BY)
    second = repo.add_lot(Lot(serum.id, "HA-0924"), by=BY)
    renamed = repo.get_lot(second.id)
    renamed.lot = "HA-0923"
    with pytest.raises(ValidationError, match="already in the catalogue"):
        repo.update_lot(renamed, by=BY)
    assert repo.get_lot(second.id).lot == "HA-0924"


# --- the audit trail -----------------------------------------------------------------------

def test_every_catalogue_write_is_audited_with_its_seal(repo, serum, lot):
    product = repo.get_product(serum.id)
    product.notes = "keep cold"
    repo.update_product(product, by="Sam Lee")
    corrected = repo.get_lot(lot.id)
    corrected.lot = "HA-0923B"
    repo.update_lot(corrected, by="Sam Lee")
    rows = repo.db.execute("SELECT who, action, kind, record_id, before, after, content_hash "
                           "FROM audit WHERE kind IN ('product', 'lot') ORDER BY seq"
                           ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (BY, "create", "product", serum.id), (BY, "create", "lot", lot.id),
        ("Sam Lee", "update", "product", serum.id), ("Sam Lee", "update", "lot", lot.id)]
    assert json.loads(rows[0][5])["name"] == "Hyaluronic acid 1%"
    assert rows[0][4] is None
    assert json.loads(rows[2][4])["notes"] == "" and json.loads(rows[2][5])["notes"] == \
        "keep cold"
    assert json.loads(rows[3][4])["lot"] == "HA-0923" and json.loads(rows[3][5])["lot"] == \
        "HA-0923B"
    # Each row seals the record as it was stored after that write (v4).
    assert rows[2][6] == seals.record_hash(repo.db, "product", serum.id)
    assert rows[3][6] == seals.record_hash(repo.db, "lot", lot.id)
    assert rows[2][6].startswith("v4:") and rows[3][6].startswith("v4:")
    assert rows[0][6] != rows[2][6] and rows[1][6] != rows[3][6]
    assert [e.action for e in repo.audit.history(lot.id)] == ["create", "update"]


# --- check: the catalogue changed behind the program's back --------------------------------

@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE products SET name = 'Hyaluronic acid 2%' WHERE id = :product",
     "product {product} (Hyaluronic acid 2%) differs (audit row #"),
    ("UPDATE products SET retired = 1 WHERE id = :product",
     "product {product} (Hyaluronic acid 1%) differs (audit row #"),
    ("UPDATE lots SET expires_on = '2029-01-01' WHERE id = :lot",
     "lot {lot} (lot HA-0923 of Hyaluronic acid 1%) differs (audit row #"),
    ("UPDATE lots SET lot = 'HA-0000' WHERE id = :lot",
     "lot {lot} (lot HA-0000 of Hyaluronic acid 1%) differs (audit row #"),
    ("UPDATE products SET kind = 'gel' WHERE id = :product",   # not even a kind
     "product {product} (Hyaluronic acid 1%) differs (audit row #"),
])
def test_check_reports_a_catalogue_record_edited_behind_the_back(repo, serum, lot,
                                                                 sql, expected):
    assert check_database(repo.db) == []
    _tamper(repo, (sql, {"product": serum.id, "lot": lot.id}))
    problems = check_database(repo.db)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected.format(product=serum.id, lot=lot.id))
    assert problems[0].endswith("it was changed behind NeedleDesk's back")


def test_check_reports_a_lot_deleted_behind_the_back(repo, serum, lot):
    _tamper(repo, ("DELETE FROM lots WHERE id = ?", [lot.id]))
    problems = check_database(repo.db)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"lot {lot.id} (lot HA-0923 of Hyaluronic acid 1%) was "
                                  "deleted behind NeedleDesk's back: audit row #")
    assert "the file no longer holds it" in problems[0]


def test_check_reports_a_product_deleted_behind_the_back(repo, serum):
    _tamper(repo, ("DELETE FROM products WHERE id = ?", [serum.id]))
    problems = check_database(repo.db)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"product {serum.id} (Hyaluronic acid 1%) was deleted "
                                  "behind NeedleDesk's back")


def test_check_reports_a_product_and_lot_inserted_behind_the_back(repo, serum):
    _tamper(repo,
            ("INSERT INTO products (id, name, kind) VALUES ('p-forged', 'Forged serum', "
             "'serum')", []),
            ("INSERT INTO lots (id, product_id, lot) VALUES ('l-forged', ?, 'FAKE-1')",
             [serum.id]))
    problems = check_database(repo.db)
    assert sorted(problems) == sorted([
        "product p-forged (Forged serum) is not in the audit trail: it was written behind "
        "NeedleDesk's back",
        "lot l-forged (lot FAKE-1 of Hyaluronic acid 1%) is not in the audit trail: it was "
        "written behind NeedleDesk's back"])


def test_check_reports_a_lot_pointing_at_no_product(repo, serum, lot):
    if repo.on_server:
        # The server keeps its foreign keys on every write, for whoever writes.
        with pytest.raises(refused(repo), match="foreign key"):
            _tamper(repo, ("UPDATE lots SET product_id = 'gone' WHERE id = ?", [lot.id]))
        assert check_database(repo.db) == []
        return
    _tamper(repo, ("UPDATE lots SET product_id = 'gone' WHERE id = ?", [lot.id]))
    problems = check_database(repo.db)
    assert any(p.startswith("foreign key: lots row ") for p in problems), problems
    assert any(p.startswith(f"lot {lot.id} (lot HA-0923 of product gone) differs")
               for p in problems), problems


# --- a correction in the catalogue never touches a signed session ---------------------------

def test_correcting_a_lot_never_changes_a_signed_session(repo, serum, lot):
    client = repo.add_client(make_client(), by=BY)
    session = make_session(client.id, serums=[Serum("Hyaluronic acid 1%", "HA-0923", lot.id)])
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
    sealed = seals.record_hash(repo.db, "session", session.id)

    corrected = repo.get_lot(lot.id)
    corrected.lot = "HA-0932"   # the delivery note was misread
    corrected.expires_on = date(2026, 12, 31)
    repo.update_lot(corrected, by=BY)
    product = repo.get_product(serum.id)
    product.name = "Hyaluronic acid 1.5%"
    repo.update_product(product, by=BY)

    stored = repo.get_session(session.id)
    assert stored.serums == [Serum("Hyaluronic acid 1%", "HA-0923", lot.id)]
    assert seals.record_hash(repo.db, "session", session.id) == sealed
    assert check_database(repo.db) == []


def test_check_reports_a_signed_sessions_catalogue_lot_swapped_behind_the_back(repo,
                                                                             serum, lot):
    other = repo.add_lot(Lot(serum.id, "HA-1001"), by=BY)
    client = repo.add_client(make_client(), by=BY)
    session = make_session(client.id, serums=[Serum("Hyaluronic acid 1%", "HA-0923", lot.id)])
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
    assert check_database(repo.db) == []
    _tamper(repo, ("UPDATE serums SET lot_id = ? WHERE session_id = ?",
                      [other.id, session.id]))
    problems = check_database(repo.db)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"session {session.id} of 20 Nov 2026 10:30 (client "
                                  f"{client.id}) differs from what was signed")


@pytest.mark.parametrize("where", ["serum", "anaesthetic", "cartridge"])
def test_a_session_naming_a_lot_not_in_the_catalogue_is_refused(repo, serum, lot, where):
    client = repo.add_client(make_client(), by=BY)
    session = make_session(client.id)
    if where == "serum":
        session.serums[0].lot_id = "no-such-lot"
    elif where == "anaesthetic":
        assert session.anaesthetic is not None
        session.anaesthetic.lot, session.anaesthetic.lot_id = "LX-77", "no-such-lot"
    else:
        session.device.cartridge_lot_id = "no-such-lot"
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        repo.save_draft(session, by=BY)
    label = {"serum": "Serum lot from the catalogue (Hyaluronic acid 1%)",
             "anaesthetic": "Anaesthetic lot from the catalogue",
             "cartridge": "Cartridge lot from the catalogue"}[where]
    assert [problem_text(p, encode_session(session)) for p in refused.value.problems] == [
        f"{label} is not a lot in the catalogue; pick the lot again"]
    assert _counts(repo) == before
    assert repo.db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
