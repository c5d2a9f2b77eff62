"""Who is due, through the real window on a real file: opened by its key, sorted by value,
filtered, Enter opens the client, saved as a PDF, its size kept."""

from __future__ import annotations

from io import BytesIO

import pytest
from list_clinic import TODAY, fill
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from needledesk.ui.due_view import DueView
from needledesk.ui.main_window import MainWindow


@pytest.fixture
def clinic(ui_repo):
    return fill(ui_repo)


@pytest.fixture
def win(qtbot, ui_repo, state, clinic):
    window = MainWindow(ui_repo, ui_repo.settings(), state, today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _open(qtbot, win) -> DueView:
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(win, Qt.Key.Key_D, mods)
    view = win.due_view
    qtbot.waitExposed(view)
    return view


def _column(view: DueView, column: int) -> list[str]:
    return [view.proxy.index(r, column).data() for r in range(view.proxy.rowCount())]


def _click_header(qtbot, view: DueView, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))


def test_ctrl_shift_d_lists_who_is_due_with_phones_and_states(qtbot, win):
    view = _open(qtbot, win)
    assert view.windowTitle() == "Who is due — 1 Dec 2026"
    assert _column(view, 0) == ["Ben Okafor", "Анна Петрова", "Chloé Martin"], \
        "due and overdue by due day, lapsed after them"
    assert _column(view, 1) == ["+44 7700 900123", "+7 900 555 0101", "+33 6 12 34 56 78"]
    assert _column(view, 6) == ["overdue 12 days", "due today", "lapsed (overdue 125 days)"]
    assert _column(view, 3) == ["2 of 4", "3 of 5", "2 of 3"]
    assert _column(view, 5) == ["19 Nov 2026", "1 Dec 2026", "29 Jul 2026"]
    assert view.count.text() == "2 courses due or overdue, 1 lapsed"
    assert "Eve Ended" not in _column(view, 0), "a course ended early is not listed"

    view.within.setValue(7)
    assert "Dara Kim" in _column(view, 0)
    assert _column(view, 6)[_column(view, 0).index("Dara Kim")] == "in 5 days"

    view.show_lapsed.setChecked(False)
    assert "Chloé Martin" not in _column(view, 0)
    assert view.count.text() == "2 courses due or overdue, 1 due soon (1 lapsed not shown)"


def test_headers_sort_dates_as_dates_and_names_as_names(qtbot, win):
    view = _open(qtbot, win)
    view.within.setValue(7)
    _click_header(qtbot, view, 5)   # Due
    assert view.table.horizontalHeader().sortIndicatorSection() == 5
    due = _column(view, 5)
    if due[0] != "29 Jul 2026":   # the first click may sort descending on some styles
        _click_header(qtbot, view, 5)
        due = _column(view, 5)
    assert due == ["29 Jul 2026", "19 Nov 2026", "1 Dec 2026", "6 Dec 2026"]
    _click_header(qtbot, view, 4)   # Last session: "none yet" first, then by date
    last = _column(view, 4)
    if last[0] != "none yet":
        _click_header(qtbot, view, 4)
        last = _column(view, 4)
    assert last == ["none yet", "1 Jul 2026", "8 Oct 2026", "20 Oct 2026"]
    view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert _column(view, 0) == ["Ben Okafor", "Chloé Martin", "Dara Kim", "Анна Петрова"]


def test_enter_opens_the_client_in_the_main_window(qtbot, win, clinic):
    view = _open(qtbot, win)
    view.table.setFocus()
    row = _column(view, 0).index("Chloé Martin")
    view.table.selectRow(row)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert win.client is not None and win.client.id == clinic.lapsed
    assert "Chloé Martin" in win.name_label.text()


def test_save_as_pdf_writes_the_list_shown(qtbot, win, tmp_path, monkeypatch):
    target = tmp_path / "due.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, caption, start, filters: (str(target), filters)))
    view = _open(qtbot, win)
    view.show_lapsed.setChecked(False)
    view.save_button.click()
    assert target.exists()
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(target.read_bytes())).pages)
    assert "Who is due" in text and "Анна Петрова" in text and "+44 7700 900123" in text
    assert "Chloé Martin" not in text, "what is printed is what is shown"


def test_escape_closes_and_the_size_is_kept(qtbot, win, state):
    view = _open(qtbot, win)
    view.resize(700, 420)
    qtbot.keyClick(view.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.isVisible())
    assert state.value("due/geometry") is not None
    again = _open(qtbot, win)
    assert (again.width(), again.height()) == (700, 420)


def test_asked_again_the_open_list_comes_forward(qtbot, win):
    view = _open(qtbot, win)
    assert win.show_due_list() is view
    view.close()
    qtbot.waitUntil(lambda: not view.isVisible())
    assert win.show_due_list() is not view


def test_locking_closes_the_lists_of_clients(qtbot, win, ui_repo):
    from dataclasses import replace

    from needledesk.security import hash_secret

    win.settings = replace(win.settings, lock_hash=hash_secret("4711"))
    due = _open(qtbot, win)
    recall = win.show_recall()
    qtbot.waitExposed(recall)
    win.lock()
    assert win.is_locked
    assert not due.isVisible() and not recall.isVisible(), "no name or phone left on screen"


def test_locking_closes_the_reactions_report_too(qtbot, win):
    """Opened on its own (the lists never were): locking still closes it."""
    from dataclasses import replace

    from needledesk.security import hash_secret

    win.settings = replace(win.settings, lock_hash=hash_secret("4711"))
    report = win.show_reactions_report()
    qtbot.waitExposed(report)
    win.lock()
    assert win.is_locked
    assert not report.isVisible()
