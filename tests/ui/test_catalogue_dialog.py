"""Products and lots, driven by keyboard in the real dialog on a real file: a product and
a lot added, a refused lot (none typed, or received after it expires) writing nothing and
keeping its dialog open, retiring a product (kept here, no longer offered by the editor),
the lots' states, and the dialog opened from the window's menu with its size remembered."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import Lot, Product, ProductKind
from needledesk.ui.catalogue_dialog import (
    GEOMETRY_KEY,
    CatalogueDialog,
    LotDialog,
    ProductDialog,
    lot_state,
)
from needledesk.ui.session_editor import SessionEditor

TODAY = date(2026, 11, 20)
OFFSCREEN_POPUP = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")


@pytest.fixture
def catalogue(qtbot, ui_repo, state):
    dialog = CatalogueDialog(ui_repo, user="Jane Smith", today=lambda: TODAY, state=state)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def _when_modal(qtbot, kind, then) -> list:
    """Run `then(dialog)` on the next modal dialog of `kind` once it is open; what it
    returns is collected (the list)."""
    done: list = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind) and dialog.isVisible():
            try:
                dialog.activateWindow()   # keys go where the practitioner's would
                qtbot.waitUntil(lambda: dialog.isActiveWindow() and dialog.isAncestorOf(
                    QApplication.focusWidget()))
                done.append(then(dialog))
            finally:
                if dialog.isVisible():   # a failed step must not leave it waiting
                    dialog.done(0)
        else:
            QTimer.singleShot(10, look)

    QTimer.singleShot(0, look)
    return done


def _type(qtbot, dialog, text: str) -> None:
    widget = QApplication.focusWidget()
    assert widget is not None and dialog.isAncestorOf(widget)
    qtbot.keyClicks(widget, text)


def test_a_product_and_a_lot_added_by_keyboard(qtbot, catalogue, ui_repo):
    def fill_product(dialog):
        _type(qtbot, dialog, "HA serum 1%")          # the cursor starts in Product
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)   # Used as: anaesthetic
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)     # back to serum
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        _type(qtbot, dialog, "Acme Derm")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)   # Save
        return dialog.written

    written = _when_modal(qtbot, ProductDialog, fill_product)
    qtbot.keyClick(catalogue.products, Qt.Key.Key_Insert)
    assert written and written[0] is not None
    [product] = ui_repo.products()
    assert (product.name, product.kind, product.maker) == ("HA serum 1%", ProductKind.SERUM,
                                                           "Acme Derm")
    assert catalogue.products.item(0, 0).text() == "HA serum 1%"
    assert catalogue.products.item(0, 2).text() == "Serum"

    def fill_lot(dialog):
        _type(qtbot, dialog, "L2391")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        _type(qtbot, dialog, "2027-03-03")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        _type(qtbot, dialog, "1 Nov 2026")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        return dialog.written

    catalogue.activateWindow()
    qtbot.waitUntil(catalogue.isActiveWindow)   # shortcuts reach the active window only
    catalogue.lots.setFocus()
    _when_modal(qtbot, LotDialog, fill_lot)
    qtbot.keyClick(catalogue.lots, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    [lot] = ui_repo.lots(product.id)
    assert (lot.lot, lot.expires_on, lot.received_on) == ("L2391", date(2027, 3, 3),
                                                          date(2026, 11, 1))
    assert [catalogue.lots.item(0, c).text() for c in range(4)] == [
        "L2391", "3 Mar 2027", "1 Nov 2026", "in date"]


@pytest.mark.parametrize(("lot", "expires", "received", "message"), [
    ("", "3 Mar 2027", "", "Lot is required"),
    ("L1", "3 Nov 2026", "10 Nov 2026",
     "Received on 10 Nov 2026 is after the lot expires (3 Nov 2026)"),
    ("L1", "31 Feb 2027", "", "Expires on 31 Feb 2027 is not a day of the calendar"),
])
def test_a_refused_lot_writes_nothing_and_keeps_its_dialog_open(qtbot, catalogue, ui_repo,
                                                                 lot, expires, received,
                                                                 message):
    product = ui_repo.add_product(Product("HA serum", ProductKind.SERUM), by="Jane")
    catalogue.reload(product.id)
    seen: list[str] = []

    def fill(dialog):
        dialog.lot.setText(lot)
        dialog.expires_on.setText(expires)
        dialog.received_on.setText(received)
        qtbot.keyClick(dialog.lot, Qt.Key.Key_Return)   # Save: refused
        seen.append(dialog.isVisible())
        seen.extend(m.text() for m in dialog.messages.values() if m.text())
        dialog.done(0)   # leave it without the discard question

    _when_modal(qtbot, LotDialog, fill)
    assert catalogue.add_lot() is None
    assert seen[0] is True, "the refused dialog stayed open"
    assert seen[1:] == [message]
    assert ui_repo.lots() == []
    assert catalogue.lots.rowCount() == 0


def test_a_lot_already_in_the_catalogue_is_refused_by_the_store_in_words(qtbot, catalogue,
                                                                          ui_repo):
    product = ui_repo.add_product(Product("HA serum", ProductKind.SERUM), by="Jane")
    ui_repo.add_lot(Lot(product.id, "L1", date(2027, 1, 1)), by="Jane")
    catalogue.reload(product.id)
    seen: list[str] = []

    def fill(dialog):
        dialog.lot.setText(" l1 ")
        qtbot.keyClick(dialog.lot, Qt.Key.Key_Return)
        seen.append(dialog.messages["lot"].text())
        dialog.done(0)

    _when_modal(qtbot, LotDialog, fill)
    catalogue.add_lot()
    assert seen == ["Lot: lot L1 of this product is already in the catalogue"]
    assert len(ui_repo.lots()) == 1


def test_retiring_keeps_the_product_here_but_the_editor_no_longer_offers_it(
        qtbot, catalogue, ui_repo):
    ui_repo.add_product(Product("Old serum", ProductKind.SERUM), by="Jane")
    ui_repo.add_product(Product("New serum", ProductKind.SERUM), by="Jane")
    catalogue.reload()
    catalogue.products.selectRow(1)   # by name: New, Old
    catalogue.products.setFocus()
    qtbot.keyClick(catalogue, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)   # &Retire
    qtbot.waitUntil(lambda: next(p for p in ui_repo.products() if p.name == "Old serum")
                    .retired)   # (a mnemonic presses its button a moment later)
    assert [catalogue.products.item(r, 0).text() for r in range(2)] == ["New serum",
                                                                         "Old serum"]
    assert catalogue.products.item(1, 3).text() == "no longer used"
    assert catalogue.products.item(1, 0).foreground().color().name() == "#8a8a8a"
    assert catalogue.retire_button.text() == "&Use again"

    client = ui_repo.add_client(make_client(), by="Jane")
    ui_repo.add_screening(make_screening(client.id), by="Jane")
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, user="Jane",
                           now=lambda: datetime(2026, 11, 20, 10, 0))
    qtbot.addWidget(editor)
    editor.serums.add_button.click()
    offered = editor.serums.rows[0].product.completer().model().stringList()
    assert "New serum" in offered and "Old serum" not in offered

    catalogue.retire_button.click()   # and back again
    assert not next(p for p in ui_repo.products() if p.name == "Old serum").retired


def test_enter_edits_the_selected_product_and_escape_asks_before_discarding(
        qtbot, catalogue, ui_repo, monkeypatch):
    ui_repo.add_product(Product("HA serum", ProductKind.SERUM, "Acme"), by="Jane")
    catalogue.reload()
    asked: list[str] = []
    monkeypatch.setattr(ProductDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append("discard") or False))

    def edit(dialog):
        assert dialog.name.text() == "HA serum"
        dialog.maker.setText("Acme Dermal")
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        still_open = dialog.isVisible()
        qtbot.keyClick(dialog.maker, Qt.Key.Key_Return)
        return still_open

    result = _when_modal(qtbot, ProductDialog, edit)
    catalogue.products.setFocus()
    qtbot.keyClick(catalogue.products, Qt.Key.Key_Return)
    assert asked == ["discard"] and result == [True], "Escape asked; Keep editing kept it"
    assert ui_repo.products()[0].maker == "Acme Dermal"
    qtbot.keyClick(catalogue, Qt.Key.Key_Escape)
    assert not catalogue.isVisible()


def test_the_lots_state_as_words():
    lot = Lot("p", "L", date(2026, 11, 3))
    assert lot_state(lot, TODAY) == ("expired 3 Nov 2026", "expired")
    assert lot_state(Lot("p", "L", date(2026, 12, 2)), TODAY) == ("expires in 12 days", "soon")
    assert lot_state(Lot("p", "L", date(2026, 12, 21)), TODAY) == ("in date", "")
    assert lot_state(Lot("p", "L", TODAY), TODAY) == ("expires today", "soon")
    assert lot_state(Lot("p", "L"), TODAY) == ("no expiry date", "")


def test_opened_from_the_window_menu_with_its_size_remembered(qtbot, window, state):
    assert window.catalogue_action.text() == "&Products and lots…"
    sizes: list = []

    def close(dialog):
        dialog.resize(700, 450)
        sizes.append(dialog.size())
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    _when_modal(qtbot, CatalogueDialog, close)
    window.catalogue_action.trigger()
    assert sizes and state.value(GEOMETRY_KEY)
    again = CatalogueDialog(window.repo, parent=window)
    qtbot.addWidget(again)
    assert again.size() == sizes[0]
    assert isinstance(state, QSettings)
