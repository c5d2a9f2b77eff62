"""The lot picker of the session editor: the catalogue's lots offered for the product beside
each lot field (the newest lot still in date first, each with its expiry), the lot picked
stored with the catalogue lot it came from, and a lot past or near its expiry, or unknown to
the catalogue, warned about in amber and acknowledged on saving like a depth warning. All on
a real file, through the real widgets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from factories import make_session
from PySide6.QtCore import Qt

from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    Lot,
    Product,
    ProductKind,
    Serum,
)
from needledesk.domain.products import LOT_EXPIRED, LOT_EXPIRING, LOT_UNKNOWN
from needledesk.ui.editor_rows import LOT_LABEL_ROLE
from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)
DAY = NOW.date()
OFFSCREEN_POPUP = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")


@pytest.fixture
def serum(ui_repo):
    """A serum with three lots: one expired, one expiring in 20 days, one good to 2027."""
    product = ui_repo.add_product(Product("HA serum", ProductKind.SERUM, "Acme"), by="Jane")
    for lot, expires in (("L2201", date(2026, 11, 3)), ("L2391", date(2027, 3, 3)),
                         ("L2300", date(2026, 12, 10))):
        ui_repo.add_lot(Lot(product.id, lot, expires), by="Jane")
    return product


def _ready(editor) -> None:
    """The fields a draft needs besides the lots: a practitioner and an area."""
    editor.practitioner.setCurrentText("Jane Smith")
    editor.areas.add_button.click()
    editor.areas.rows[-1].area.setCurrentText("cheeks")
    editor.areas.rows[-1].depth.setValue(1.0)


def _serum_row(editor, product: str):
    editor.serums.add_button.click()
    row = editor.serums.rows[-1]
    row.product.setText(product)
    return row


def _offered(field) -> list[tuple[str, str]]:
    return [(field.itemText(i), field.itemData(i, LOT_LABEL_ROLE)) for i in range(field.count())]


def test_the_lots_are_offered_newest_open_first_each_with_its_expiry(editor_for, serum):
    editor = editor_for()
    row = _serum_row(editor, "ha SERUM ")   # the product matched as the catalogue does
    assert _offered(row.lot) == [
        ("L2391", "L2391 — expires 3 Mar 2027"),
        ("L2300", "L2300 — expires 10 Dec 2026 (in 20 days)"),
        ("L2201", "L2201 — expired 3 Nov 2026 (17 days ago)")]
    assert row.lot.itemData(2, Qt.ItemDataRole.ForegroundRole) is not None, "expired: coloured"
    assert row.lot.itemData(0, Qt.ItemDataRole.ForegroundRole) is None, "in date: plain"
    assert row.lot.text() == "", "offering picks nothing"
    other = _serum_row(editor, "Calming gel")
    assert other.lot.count() == 0, "a product outside the catalogue offers no lots"


def test_the_serum_products_offered_are_the_catalogue_s_beside_remembered_ones(
        editor_for, ui_repo, client, serum):
    ui_repo.add_product(Product("Old serum", ProductKind.SERUM, retired=True), by="Jane")
    ui_repo.add_product(Product("Numbing 5%", ProductKind.ANAESTHETIC), by="Jane")
    ui_repo.add_product(Product("Nano 36-pin", ProductKind.CARTRIDGE), by="Jane")
    ui_repo.save_draft(make_session(client.id, started_at=NOW - timedelta(days=40),
                                    anaesthetic=None),
                       by="Jane Smith")
    editor = editor_for()
    row = _serum_row(editor, "")
    offered = row.product.completer().model().stringList()
    assert offered[:1] == ["HA serum"] and "Hyaluronic acid 1%" in offered
    assert "Old serum" not in offered, "a retired product is no longer offered"
    anaesthetics = [editor.anaesthetic.itemText(i) for i in range(editor.anaesthetic.count())]
    assert "Numbing 5%" in anaesthetics and "LMX4" in anaesthetics
    assert "Nano 36-pin" in editor.cartridge.completer().model().stringList()


@OFFSCREEN_POPUP
def test_picking_a_lot_by_keyboard_stores_its_text_and_catalogue_id(qtbot, editor_for,
                                                                      ui_repo, client, serum):
    editor = editor_for()
    _ready(editor)
    row = _serum_row(editor, "HA serum")
    row.lot.setFocus()
    qtbot.keyClick(row.lot, Qt.Key.Key_Down)   # the first offered: the newest open lot
    assert row.lot.text() == "L2391"
    newest = next(x for x in ui_repo.lots(serum.id) if x.lot == "L2391")
    assert row.value() == Serum("HA serum", "L2391", newest.id)
    assert row.lot_message.isHidden(), "a lot in date is not warned about"
    assert editor.save()
    stored = ui_repo.get_session(editor.session_id)
    assert [(s.product, s.lot, s.lot_id) for s in stored.serums] == [
        ("HA serum", "L2391", newest.id)]

    reopened = editor_for(stored)
    assert not reopened.is_dirty(), "opening a saved session changes nothing"
    assert reopened.serums.rows[0].value().lot_id == newest.id


@OFFSCREEN_POPUP
def test_typing_another_lot_clears_the_id_and_typing_a_catalogue_lot_sets_it(
        qtbot, editor_for, ui_repo, serum):
    editor = editor_for()
    row = _serum_row(editor, "HA serum")
    row.lot.setFocus()
    qtbot.keyClick(row.lot, Qt.Key.Key_Down)
    qtbot.keyClick(row.lot, Qt.Key.Key_End)
    qtbot.keyClicks(row.lot, "B")
    assert row.value() == Serum("HA serum", "L2391B", None)
    row.lot.lineEdit().selectAll()
    qtbot.keyClicks(row.lot, " l2300 ")   # another case, spaces around: the same lot
    l2300 = next(x for x in ui_repo.lots(serum.id) if x.lot == "L2300")
    assert row.value() == Serum("HA serum", "l2300", l2300.id)
    row.product.setText("Calming gel")   # the lot no longer names this product's lot
    assert row.value() == Serum("Calming gel", "l2300", None)


@pytest.mark.parametrize(("days", "code", "words"), [
    (31, None, ""), (30, LOT_EXPIRING, "expires 20 Dec 2026 (in 30 days)"),
    (0, LOT_EXPIRING, "expires today"), (-1, LOT_EXPIRED, "expired 19 Nov 2026")])
def test_the_expiry_warning_at_31_30_0_and_minus_1_days(editor_for, ui_repo, days, code,
                                                         words):
    product = ui_repo.add_product(Product("Growth serum", ProductKind.SERUM), by="Jane")
    ui_repo.add_lot(Lot(product.id, "G1", DAY + timedelta(days=days)), by="Jane")
    editor = editor_for()
    row = _serum_row(editor, "Growth serum")
    row.lot.setText("G1")
    warnings = editor._warnings(editor.session()[0])
    if code is None:
        assert row.lot_message.isHidden()
        assert not [w for w in warnings if w.code.startswith("lot:")]
        return
    assert row.lot_message.kind == "warning" and not row.lot_message.isHidden()
    assert row.lot_message.text().startswith(f"⚠ Serum Growth serum lot G1 {words}")
    assert [(w.code, w.path) for w in warnings if w.code.startswith("lot:")] == [
        (f"{code} (Growth serum G1)", "serums[0].lot")]


def test_expiry_is_judged_on_the_session_s_day_not_today(qtbot, editor_for, serum):
    editor = editor_for()
    row = _serum_row(editor, "HA serum")
    row.lot.setText("L2201")      # expired 3 Nov 2026; the session is on 20 Nov
    assert "expired 3 Nov 2026" in row.lot_message.text()
    editor.started.date.setText("1 Nov 2026")   # a session recorded for 1 Nov
    assert "expires 3 Nov 2026 (in 2 days)" in row.lot_message.text()
    assert _offered(row.lot)[-1] == ("L2201", "L2201 — expires 3 Nov 2026 (in 2 days)")


def test_an_unknown_lot_warns_and_a_product_outside_the_catalogue_does_not(editor_for,
                                                                            serum):
    editor = editor_for()
    known = _serum_row(editor, "HA serum")
    known.lot.setText("L9999")
    outside = _serum_row(editor, "Calming gel")
    outside.lot.setText("CG-1")
    assert known.lot_message.text() == ("⚠ Serum HA serum lot L9999 is not in the catalogue: "
                                        "check the lot number")
    assert outside.lot_message.isHidden()
    codes = [w.code for w in editor._warnings(editor.session()[0])]
    assert f"{LOT_UNKNOWN} (HA serum L9999)" in codes
    assert not [c for c in codes if "CG-1" in c]


def test_saving_with_a_lot_warning_asks_and_records_the_acknowledgement(
        qtbot, monkeypatch, editor_for, ui_repo, serum):
    asked: list[list[str]] = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: asked.append([w.message for w in warnings]) or None))
    editor = editor_for()
    _ready(editor)
    row = _serum_row(editor, "HA serum")
    row.lot.setText("L2201")
    assert not editor.save(), "declined: not saved"
    assert asked == [["Serum HA serum lot L2201 expired 3 Nov 2026 (17 days ago)"]]
    assert ui_repo.sessions(editor.client.id) == []

    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: asked.append([w.message for w in warnings]) or
        "last tube, client informed"))
    assert editor.save()
    stored = ui_repo.get_session(editor.session_id)
    assert [(a.code, a.reason) for a in stored.acknowledged_warnings] == [
        (f"{LOT_EXPIRED} (HA serum L2201)", "last tube, client informed")]
    assert stored.serums[0].lot_id is not None
    assert editor.save() and len(asked) == 2, "acknowledged once: not asked again"


@OFFSCREEN_POPUP
def test_the_anaesthetic_and_cartridge_lots_are_picked_and_warned_alike(
        qtbot, monkeypatch, editor_for, ui_repo):
    numbing = ui_repo.add_product(Product("Numbing 5%", ProductKind.ANAESTHETIC), by="Jane")
    tube = ui_repo.add_lot(Lot(numbing.id, "N-77", date(2027, 6, 1)), by="Jane")
    cartridge = ui_repo.add_product(Product("36-pin", ProductKind.CARTRIDGE), by="Jane")
    ui_repo.add_lot(Lot(cartridge.id, "C-1", date(2026, 11, 30)), by="Jane")
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: "checked"))
    editor = editor_for()
    _ready(editor)
    editor.anaesthetic.setCurrentText("Numbing 5%")
    editor.applied.button.click()
    assert editor.anaesthetic_lot.itemText(0) == "N-77"
    editor.anaesthetic_lot.setFocus()
    qtbot.keyClick(editor.anaesthetic_lot, Qt.Key.Key_Down)
    editor.cartridge.setText("36-pin")
    editor.cartridge_lot.setText("c-1")
    assert editor.anaesthetic_lot_message.isHidden()
    assert editor.cartridge_lot_message.text().startswith(
        "⚠ Cartridge 36-pin lot c-1 expires 30 Nov 2026 (in 10 days)")
    assert editor.save()
    stored = ui_repo.get_session(editor.session_id)
    assert (stored.anaesthetic.lot, stored.anaesthetic.lot_id) == ("N-77", tube.id)
    assert stored.device.cartridge_lot == "c-1" and stored.device.cartridge_lot_id
    assert [a.code for a in stored.acknowledged_warnings] == [
        f"{LOT_EXPIRING} (36-pin C-1)"]
    assert [w.path for w in editor._lot_warnings(stored)] == ["device.cartridge_lot"]


@OFFSCREEN_POPUP
def test_repeat_last_keeps_the_picked_lot_and_its_copied_mark(qtbot, editor_for, ui_repo,
                                                              client, serum):
    l2391 = next(x for x in ui_repo.lots(serum.id) if x.lot == "L2391")
    ui_repo.save_draft(make_session(
        client.id, started_at=NOW - timedelta(days=42), anaesthetic=None,
        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", "L2311A"),
        serums=[Serum("HA serum", "L2391", l2391.id)]), by="Jane Smith")
    editor = editor_for()
    editor.repeat_last()
    row = editor.serums.rows[0]
    assert row.lot_copied.marked and editor.unchecked_lots() == [editor.cartridge_lot, row.lot]
    assert row.value() == Serum("HA serum", "L2391", l2391.id)
    row.lot.setFocus()
    qtbot.keyClick(row.lot, Qt.Key.Key_Down)   # a lot picked by hand: the mark is done with
    assert not row.lot_copied.marked
    qtbot.keyClick(row.lot, Qt.Key.Key_Down)
    assert row.lot.text() == "L2300" and row.value().lot_id not in (None, l2391.id)


def test_repeat_last_copies_the_anaesthetic_lot_and_marks_it(qtbot, editor_for, ui_repo,
                                                              client):
    numbing = ui_repo.add_product(Product("Numbing 5%", ProductKind.ANAESTHETIC), by="Jane")
    tube = ui_repo.add_lot(Lot(numbing.id, "N-77", date(2027, 6, 1)), by="Jane")
    ui_repo.save_draft(make_session(
        client.id, started_at=NOW - timedelta(days=42),
        anaesthetic=Anaesthetic("Numbing 5%", NOW - timedelta(days=42, minutes=40),
                                NOW - timedelta(days=42, minutes=5), "N-77", tube.id)),
        by="Jane Smith")
    editor = editor_for()
    copied = editor.repeat_last()
    assert "anaesthetic product and lot" in copied
    assert editor.anaesthetic_lot.value() == ("N-77", tube.id)
    assert editor.anaesthetic_lot in editor.unchecked_lots()
    editor.anaesthetic_lot_copied.confirm.click()
    assert editor.anaesthetic_lot not in editor.unchecked_lots()
