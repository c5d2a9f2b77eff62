"""Recall a lot, through the real window on a real file: the catalogue's lots offered, found
by keyboard, narrowed by kind and dates, bad dates refused by label, sorted, Enter opens the
client, saved as a PDF."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from list_clinic import LOT, TODAY, fill
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from needledesk.domain.model import Lot, Product, ProductKind
from needledesk.ui.main_window import MainWindow
from needledesk.ui.recall_view import RecallView


@pytest.fixture
def clinic(ui_repo):
    clinic = fill(ui_repo)
    serum = ui_repo.add_product(Product("Hyaluronic acid 1%", ProductKind.SERUM), by="Jane")
    ui_repo.add_lot(Lot(serum.id, LOT, expires_on=date(2027, 3, 1)), by="Jane")
    ui_repo.add_lot(Lot(serum.id, "HA-1102", expires_on=date(2027, 9, 1)), by="Jane")
    return clinic


@pytest.fixture
def view(qtbot, ui_repo, state, clinic) -> RecallView:
    window = MainWindow(ui_repo, ui_repo.settings(), state, today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.recall_action.trigger()
    view = window.recall_view
    qtbot.waitExposed(view)
    view.main = window
    return view


def _column(view: RecallView, column: int) -> list[str]:
    return [view.proxy.index(r, column).data() for r in range(view.proxy.rowCount())]


def _find(qtbot, view: RecallView, lot: str) -> None:
    view.lot.setFocus()
    view.lot.lineEdit().selectAll()
    qtbot.keyClicks(view.lot.lineEdit(), lot)
    qtbot.keyClick(view.lot.lineEdit(), Qt.Key.Key_Return)


def test_the_catalogue_lots_are_offered_newest_first(view):
    offered = [view.lot.itemText(i) for i in range(view.lot.count())]
    assert offered == ["HA-1102", "HA-0923"]
    assert view.lot.itemData(1, Qt.ItemDataRole.ToolTipRole) == \
        "Hyaluronic acid 1%, expires 1 Mar 2027"
    assert view.lot.currentText() == "", "nothing is searched until asked"
    assert view.lot.hasFocus() or view.focusWidget() is view.lot.lineEdit()


def test_a_lot_typed_in_any_case_finds_every_use(qtbot, view, clinic):
    _find(qtbot, view, " ha-0923 ")
    assert _column(view, 0) == ["1 Jul 2026", "8 Oct 2026", "20 Oct 2026"]
    assert _column(view, 1) == ["Chloé Martin", "Ben Okafor", "Анна Петрова"]
    assert _column(view, 2) == ["+33 6 12 34 56 78", "+44 7700 900123", "+7 900 555 0101"]
    assert _column(view, 3)[0] == "LMX4 (topical anaesthetic)"
    assert _column(view, 5) == ["draft", "amended", "draft"]
    assert view.count.text() == ("Lot ha-0923 — Any product, any date: Found on 3 sessions "
                                 "of 3 clients (1 amended after sign-off)")
    assert "Eve Ended" not in _column(view, 1)


def test_kind_and_dates_narrow_it_and_bad_dates_are_refused_by_label(qtbot, view):
    view.kind.setCurrentIndex(view.kind.findData(ProductKind.SERUM))
    _find(qtbot, view, LOT)
    assert _column(view, 1) == ["Ben Okafor", "Анна Петрова"]
    view.start.setText("10 Oct 2026")
    qtbot.keyClick(view.start, Qt.Key.Key_Return)
    assert _column(view, 1) == ["Анна Петрова"]
    assert "Serum, from 10 Oct 2026: Found on 1 session of 1 client" in view.count.text()

    view.end.setText("31 Feb 2026")
    qtbot.keyClick(view.end, Qt.Key.Key_Return)
    assert view.message.text() == "To: 31 Feb 2026 is not a day of the calendar"
    assert _column(view, 1) == ["Анна Петрова"], "nothing searched"
    view.end.setText("1 Oct 2026")
    view.find_button.click()
    assert view.message.text() == ("From 10 Oct 2026 is after To 1 Oct 2026: the first day "
                                   "comes first")
    view.lot.setEditText("  ")
    view.end.setText("")
    view.find_button.click()
    assert view.message.text() == "Lot is needed: type or pick the lot to recall"


def test_sorted_by_date_as_dates_and_enter_opens_the_client(qtbot, view, clinic):
    _find(qtbot, view, LOT)
    view.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert _column(view, 0) == ["20 Oct 2026", "8 Oct 2026", "1 Jul 2026"]
    view.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)   # phones by their digits
    assert _column(view, 2) == ["+33 6 12 34 56 78", "+44 7700 900123", "+7 900 555 0101"]
    row = _column(view, 1).index("Ben Okafor")
    view.table.setFocus()
    view.table.selectRow(row)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert view.main.client is not None and view.main.client.id == clinic.overdue


def test_save_as_pdf_writes_the_recall_list(qtbot, view, tmp_path, monkeypatch):
    target = tmp_path / "recall.pdf"
    names: list[str] = []

    def dialog(parent, caption, start, filters):
        names.append(start)
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    view.save_button.click()
    assert not target.exists()
    assert view.message.text() == "Find a lot first: the list printed is the one shown."
    _find(qtbot, view, LOT)
    view.save_button.click()
    assert names[0].endswith("2026-12-01 recall of lot HA-0923.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(target.read_bytes())).pages)
    assert "Recall of lot HA-0923" in text
    assert "Found on 3 sessions of 3 clients" in text
    assert "Анна Петрова" in text and "+33 6 12 34 56 78" in text and "8 Oct 2026" in text


def test_escape_closes_and_the_size_is_kept(qtbot, view, state):
    view.resize(760, 430)
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.isVisible())
    again = view.main.show_recall()
    assert (again.width(), again.height()) == (760, 430)
