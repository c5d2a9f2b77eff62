"""Backups and restore with the product catalogue (issue 14), on real files: a backup of a
clinic with a catalogue brings it back (products, lots, the lots a session picked); a
backup made before the catalogue existed (schema step 8) restores and is upgraded, sound."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

from factories import make_client, make_session, undo_products_step

from needledesk.domain.model import Anaesthetic, Lot, Product, ProductKind, Serum
from needledesk.store.backup import describe, take_backup
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.store.restore import restore_and_record
from needledesk.store.schema import STEP_NAMES, schema_version

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"
BY = "Jane Smith"
STEP_8 = STEP_NAMES.index("0008_products_and_lots") + 1


def _open(path: Path) -> Repository:
    return Repository(open_database(path))


def test_a_backup_of_a_clinic_with_a_catalogue_restores_it(tmp_path, db_path):
    repo = _open(db_path)
    serum = repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM, "Skinlab"), by=BY)
    numbing = repo.add_product(Product("LMX4", ProductKind.ANAESTHETIC), by=BY)
    ha = repo.add_lot(Lot(serum.id, "HA-0923", date(2027, 3, 31)), by=BY)
    lx = repo.add_lot(Lot(numbing.id, "LX-77", date(2027, 1, 15)), by=BY)
    client = repo.add_client(make_client(), by=BY)
    session = make_session(client.id, serums=[Serum("Hyaluronic acid 1%", "HA-0923", ha.id)],
                           anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 20, 9, 45),
                                                   datetime(2026, 11, 20, 10, 25), "LX-77",
                                                   lx.id))
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
    products, lots, stored = repo.products(), repo.lots(), repo.get_session(session.id)
    info = take_backup(db_path, tmp_path / "backups")

    # After the backup: a correction and a new lot, which the restore takes away.
    corrected = repo.get_lot(ha.id)
    corrected.lot = "HA-0932"
    repo.update_lot(corrected, by=BY)
    repo.add_lot(Lot(serum.id, "HA-1001"), by=BY)
    repo.db.close()

    restore_and_record(info.path, db_path, who=BY)
    back = _open(db_path)
    try:
        assert back.products() == products
        assert back.lots() == lots
        assert [x.lot for x in back.lots(serum.id)] == ["HA-0923"]
        again = back.get_session(session.id)
        assert again == stored
        assert again.serums[0].lot_id == ha.id
        assert again.anaesthetic is not None and again.anaesthetic.lot_id == lx.id
        assert check_database(back.db) == []
    finally:
        back.db.close()


def _before_step_8(tmp_path: Path) -> Path:
    """A clinic's file as a NeedleDesk of schema 7 left it: records, no catalogue."""
    path = tmp_path / "old.db"
    repo = _open(path)
    client = repo.add_client(make_client(first_name="Mei", last_name="Tanaka"), by=BY)
    session = repo.save_draft(make_session(client.id), by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)
    repo.db.close()
    conn = sqlite3.connect(path)
    try:
        undo_products_step(conn)
    finally:
        conn.close()
    return path


def test_a_backup_from_before_the_catalogue_restores_and_upgrades(tmp_path, db_path):
    old = _before_step_8(tmp_path)
    assert describe(old).schema == STEP_8 - 1
    conn = sqlite3.connect(old)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert "products" not in tables and "lots" not in tables

    current = _open(db_path)
    current.add_product(Product("Vitamin C 10%", ProductKind.SERUM), by=BY)
    current.db.close()

    restore_and_record(old, db_path, who=BY)
    repo = _open(db_path)
    try:
        assert repo.db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
        assert repo.products() == [] and repo.lots() == []   # the backup had no catalogue
        (client,) = repo.search_clients("Tanaka")
        (session,) = repo.sessions(client.id)
        assert session.serums == [Serum("Hyaluronic acid 1%", "HA-0923")]
        assert session.anaesthetic is not None and session.anaesthetic.lot is None
        assert session.screening_check is None and session.device.cartridge_lot_id is None
        assert check_database(repo.db) == []
        # The upgraded file takes a catalogue like any other.
        product = repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM), by=BY)
        repo.add_lot(Lot(product.id, "HA-0923"), by=BY)
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


def test_a_first_schema_backup_restores_and_upgrades_through_step_8(tmp_path, db_path):
    """The oldest backup there is (v1 and v2 seals, no catalogue) comes back sound."""
    old = tmp_path / "schema-1.db"
    shutil.copy(FIXTURE, old)
    _open(db_path).db.close()
    restore_and_record(old, db_path, who=BY)
    repo = _open(db_path)
    try:
        assert repo.db.execute("PRAGMA user_version").fetchone()[0] == schema_version()
        session = repo.get_session("44444444-4444-4444-8444-444444444444")
        assert [s.lot_id for s in session.serums] == [None]
        assert repo.products() == []
        assert check_database(repo.db) == []
    finally:
        repo.db.close()
