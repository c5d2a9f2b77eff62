"""The reactions report window, driven by keyboard and mouse on a real file: opened from the
main window's Reports menu, the last 90 days at first, sortable tables, a chart, bad dates
refused in plain words, Escape closes and frees it, its size remembered, Save as PDF and
Print give the very report on screen."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
import shiboken6
from factories import make_client, make_session
from pypdf import PdfReader
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSize, Qt
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import Device, DeviceType, Reaction, Serum, TreatedArea
from needledesk.ui import printing
from needledesk.ui.main_window import MainWindow
from needledesk.ui.reactions_view import GEOMETRY_KEY, THRESHOLD_KEY, ReactionsView
from needledesk.ui.session_editor import SessionEditor

TODAY = date(2026, 12, 1)
BY = "Jane Smith"


@pytest.fixture
def clinic_repo(ui_repo):
    client = ui_repo.add_client(make_client(), by=BY)

    def session(when: datetime, lot: str, depth: float, reactions: list[Reaction]) -> None:
        ui_repo.save_draft(make_session(
            client.id, started_at=when, anaesthetic=None,
            device=Device(DeviceType.PEN, "Dermapen 4", None, None),
            areas=[TreatedArea("cheeks", depth)], serums=[Serum("HA serum", lot)],
            reactions=reactions), by=BY)

    # in the last 90 days (3 Sep to 1 Dec 2026): AB12 twice, one severe; CD34 once, none
    session(datetime(2026, 9, 3, 9, 0), "AB12", 1.0, [Reaction("oedema", 3)])
    session(datetime(2026, 10, 1, 9, 0), "ab12 ", 2.5, [Reaction("erythema", 0)])
    session(datetime(2026, 11, 30, 9, 0), "CD34", 0.25, [])
    # before the period: only a longer one finds it
    session(datetime(2026, 9, 2, 9, 0), "EF56", 1.0, [Reaction("bruising", 2)])
    return ui_repo


@pytest.fixture
def main(qtbot, clinic_repo, state):
    win = MainWindow(clinic_repo, clinic_repo.settings(), state, today=lambda: TODAY)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def _open(main) -> ReactionsView:
    """Open the window from the menu; it takes the keyboard, in the From field."""
    main.reactions_action.trigger()
    views = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, ReactionsView) and w.isVisible()]
    assert len(views) == 1
    view = views[0]
    QCoreApplication.processEvents()
    assert view.isActiveWindow()
    assert QApplication.focusWidget() is view.start_field
    return view


def _column(view: ReactionsView, table, title: str) -> list[str]:
    model = table.model()
    column = next(i for i, c in enumerate(view.lot_model.columns if table is view.lot_table
                                          else view.band_model.columns) if c.title == title)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_the_menu_opens_the_last_90_days_over_the_main_window(main):
    assert main.reactions_action.text() == "Reactions &report…"
    assert main.reactions_action in main.reports_menu.actions()
    view = _open(main)
    assert view.parent() is main
    assert view.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    assert (view.start_field.text(), view.end_field.text()) == ("3 Sep 2026", "1 Dec 2026")
    assert view.threshold_combo.currentText() == "Moderate"   # counted from moderate at first
    assert view.summary.text() == ("3 Sep 2026 to 1 Dec 2026: 3 sessions in the period; 1 "
                                   "with a moderate or severe reaction (33%): 0 mild, 0 "
                                   "moderate and 1 severe reaction.")
    assert view.chart_caption.text() == "Share of sessions with a moderate or severe reaction"
    # lots grouped ignoring case and spaces; the highest share first
    assert _column(view, view.lot_table, "Lot") == ["AB12", "CD34"]
    assert _column(view, view.lot_table, "Sessions") == ["2", "1"]
    assert _column(view, view.lot_table, "Share") == ["50%", "0%"]
    assert _column(view, view.lot_table, "Worst reactions") == ["severe: oedema", "—"]
    assert _column(view, view.band_table, "Depth band") == [
        "Below the usual range", "Within the usual range", "Above the usual range"]
    assert _column(view, view.band_table, "Share") == ["0%", "100%", "0%"]
    # the chart draws the same shares
    bands, lots = view.chart.groups()
    assert [(label, c.share) for label, c, _red in bands[1]] == [
        ("Below", 0.0), ("Within", 1.0), ("Above", 0.0)]
    assert [(label, c.sessions) for label, c, _red in lots[1]] == [
        ("HA serum · AB12", 2), ("HA serum · CD34", 1)]
    assert view.chart.height() > 0 and not view.chart.grab().isNull()
    view.close()


def test_count_reactions_from_changes_the_tables_by_keyboard_and_is_remembered(
        main, qtbot, clinic_repo, state):
    client = clinic_repo.add_client(make_client(), by=BY)
    # two sessions of lot GH78 with mild redness only
    for day in (2, 3):
        clinic_repo.save_draft(make_session(
            client.id, started_at=datetime(2026, 11, day, 9, 0), anaesthetic=None,
            device=Device(DeviceType.PEN, "Dermapen 4", None, None),
            areas=[TreatedArea("cheeks", 1.0)], serums=[Serum("HA serum", "GH78")],
            reactions=[Reaction("erythema", 1)]), by=BY)
    view = _open(main)
    header = view.lot_table.model().headerData
    counted = next(i for i, c in enumerate(view.lot_model.columns)
                   if c.title == "With a reaction")

    def shares() -> dict[str, str]:
        return dict(zip(_column(view, view.lot_table, "Lot"),
                        _column(view, view.lot_table, "Share"), strict=True))

    assert shares() == {"AB12": "50%", "CD34": "0%", "GH78": "0%"}
    assert header(counted, Qt.Orientation.Horizontal) == "Moderate or severe"
    # Alt+C reaches the combo; Up picks Mild
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is view.threshold_combo
    qtbot.keyClick(view.threshold_combo, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: view.report is not None and view.report.threshold == 1
                    and not view.loading)
    assert view.threshold_combo.currentText() == "Mild"
    assert shares() == {"GH78": "100%", "AB12": "50%", "CD34": "0%"}
    assert _column(view, view.lot_table, "Lot")[0] == "GH78"   # now the worst lot
    assert header(counted, Qt.Orientation.Horizontal) == "With a reaction"
    assert "3 with a mild, moderate or severe reaction (60%): 2 mild" in view.summary.text()
    assert view.chart_caption.text() == (
        "Share of sessions with a mild, moderate or severe reaction")
    view.threshold_combo.setCurrentIndex(view.threshold_combo.findText("Severe"))
    qtbot.waitUntil(lambda: view.report is not None and view.report.threshold == 3
                    and not view.loading)
    assert shares() == {"AB12": "50%", "CD34": "0%", "GH78": "0%"}
    assert header(counted, Qt.Orientation.Horizontal) == "With a severe reaction"
    # the choice is remembered, like the window's size
    view.threshold_combo.setCurrentIndex(view.threshold_combo.findText("Mild"))
    qtbot.waitUntil(lambda: not view.loading)
    qtbot.keyClick(view.threshold_combo, Qt.Key.Key_Escape)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert state.value(THRESHOLD_KEY) in (1, "1")
    again = _open(main)
    assert again.threshold_combo.currentText() == "Mild"
    assert again.report is not None and again.report.threshold == 1
    again.close()


def test_the_tables_sort_by_their_numbers(main, qtbot):
    view = _open(main)
    header = view.lot_table.horizontalHeader()
    share = next(i for i, c in enumerate(view.lot_model.columns) if c.title == "Share")
    sessions = next(i for i, c in enumerate(view.lot_model.columns) if c.title == "Sessions")
    point = QPoint(header.sectionViewportPosition(sessions) + 5, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert header.sortIndicatorSection() == sessions
    ascending = header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert _column(view, view.lot_table, "Sessions") == (["1", "2"] if ascending
                                                         else ["2", "1"])
    view.lot_table.sortByColumn(share, Qt.SortOrder.AscendingOrder)
    assert _column(view, view.lot_table, "Share") == ["0%", "50%"]
    view.lot_table.sortByColumn(share, Qt.SortOrder.DescendingOrder)
    assert _column(view, view.lot_table, "Share") == ["50%", "0%"]
    view.close()


def test_enter_in_a_date_shows_that_period(main, qtbot):
    view = _open(main)
    view.start_field.setFocus()
    view.start_field.setText("2 Sep 2026")
    qtbot.keyClick(view.start_field, Qt.Key.Key_Return)
    assert view.summary.text().startswith("2 Sep 2026 to 1 Dec 2026: 4 sessions")
    assert "EF56" in _column(view, view.lot_table, "Lot")
    assert view.isVisible()   # Enter showed the period; it did not close the window
    view.close()


@pytest.mark.parametrize(("start", "end", "message"), [
    ("31/02/2026", "1 Dec 2026", "From: 31/02/2026 is not a day of the calendar"),
    ("next week", "1 Dec 2026", "From: next week is not a date: type it like 14 Jul 1990"),
    ("1 Dec 2026", "1 Nov 2026", "To 1 Nov 2026 is before From 1 Dec 2026"),
    ("", "1 Dec 2026", "From is required"),
])
def test_bad_dates_are_refused_in_plain_words_and_the_report_stays(main, qtbot, start, end,
                                                                    message):
    view = _open(main)
    shown = view.report
    view.start_field.setText(start)
    view.end_field.setText(end)
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert view.message.isVisible()
    assert view.message.text().startswith(message)
    assert view.report is shown      # nothing was counted
    view.close()


def test_escape_closes_and_frees_the_window_and_its_size_is_remembered(main, qtbot, state):
    view = _open(main)
    view.resize(700, 480)
    qtbot.keyClick(view.start_field, Qt.Key.Key_Escape)
    assert not view.isVisible()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(view)
    assert state.value(GEOMETRY_KEY)
    again = _open(main)
    assert again.size() == QSize(700, 480)
    again.close()


def test_save_as_pdf_writes_the_report_on_screen(main, qtbot, monkeypatch, tmp_path,
                                                 no_real_modals):
    target = tmp_path / "out" / "reactions.pdf"
    target.parent.mkdir()
    offered = []
    monkeypatch.setattr(printing, "choose_save_path",
                        lambda parent, name: offered.append(name) or str(target))
    view = _open(main)
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert offered == ["2026-09-03 to 2026-12-01 reactions report.pdf"]
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(
        target.read_bytes())).pages)
    text = " ".join(text.split())
    assert "3 Sep 2026 to 1 Dec 2026" in text
    assert "HA serum Serum AB12 2 1 50% 1 severe: oedema" in text
    view.close()


def test_print_previews_the_same_pdf(main, qtbot, monkeypatch):
    previews = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: previews.append((parent, data, title))))
    view = _open(main)
    qtbot.mouseClick(view.print_button, Qt.MouseButton.LeftButton)
    [(parent, data, title)] = previews
    assert parent is view
    assert title == "Reactions report — 3 Sep 2026 to 1 Dec 2026"
    assert data.startswith(b"%PDF")
    text = " ".join(PdfReader(BytesIO(data)).pages[0].extract_text().split())
    assert "3 sessions in the period; 1 with a moderate or severe reaction (33%)" in text
    view.close()


def test_asked_for_again_the_open_window_comes_forward(main):
    view = _open(main)
    view.start_field.setText("1 Oct 2026")
    assert _open(main) is view                    # no second window
    assert view.start_field.text() == "1 Oct 2026"
    view.close()
