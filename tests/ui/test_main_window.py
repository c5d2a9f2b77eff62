"""The main window driven like a practitioner would, on a real database file."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client, make_course, make_screening, make_session
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from needledesk.ui.client_card import screening_summary_html
from needledesk.ui.client_dialog import ClientDialog
from needledesk.ui.main_window import MainWindow
from needledesk.ui.models import ClientListModel, HistoryModel
from needledesk.ui.session_editor import SessionEditor


def _type(qtbot, widget, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def _fill_client_dialog(monkeypatch, first: str, last: str, phone: str = ""):
    """Replace ClientDialog.ask with the real dialog filled in through its widgets."""
    built = []

    def ask(cls, parent, client=None):
        dialog = ClientDialog(client, parent)
        dialog.first_name.setText(first)
        dialog.last_name.setText(last)
        dialog.phone.setText(phone)
        built.append(dialog)
        return dialog.client() if dialog.revalidate() else None

    monkeypatch.setattr(ClientDialog, "ask", classmethod(ask))
    return built


def test_search_box_has_focus_on_start(qtbot, window):
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search)


def test_create_a_client_and_find_them_by_an_accented_name(qtbot, window, ui_repo,
                                                           monkeypatch):
    ui_repo.add_client(make_client(first_name="Lorenzo", last_name="Anaya", phone=None),
                       by="Jane Smith")
    window.find("")
    _fill_client_dialog(monkeypatch, "Ana", "López", "+1 555 0100")
    window.new_client_action.trigger()
    assert [c.full_name for c in ui_repo.search_clients("")] == ["Lorenzo Anaya", "Ana López"]
    assert window.name_label.text() == "Ana López", "the new client's card is open"

    window.find_action.trigger()
    _type(qtbot, window.search, "lope")
    assert window.client_model.rowCount() == 1
    assert window.client_model.data(window.client_model.index(0, 0)) == "López, Ana · …100"
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.client.full_name == "Ana López"
    _type(qtbot, window.search, "ana lo")
    assert window.client_model.client(0).last_name == "López", "typed order ranks first"
    _type(qtbot, window.search, "0100")
    assert window.client_model.rowCount() == 1
    assert window.count_label.text() == "1 of 2 clients"


def test_card_shows_screening_course_progress_and_history(qtbot, ui_repo, state):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    screening = make_screening(client.id)
    screening.answers["pregnant"] = True
    ui_repo.add_screening(screening, by="Jane Smith")
    course = ui_repo.add_course(make_course(client.id, planned_sessions=4, interval_weeks=6),
                                by="Jane Smith")
    for month in (9, 10, 11):
        session = ui_repo.save_draft(make_session(
            client.id, course_id=course.id, started_at=datetime(2026, month, 1, 10, 0),
            anaesthetic=None), by="Jane Smith")
        if month < 11:
            ui_repo.sign_session(session.id, datetime(2026, month, 1, 11, 0), by="Jane Smith")
    window = MainWindow(ui_repo, ui_repo.settings(), state, today=lambda: date(2026, 11, 21))
    qtbot.addWidget(window)
    window.search.setText("lopez")
    window.open_first_match()
    assert "flagged: Pregnant" in window.screening_label.text()
    assert "Course: acne scars — session 3 of 4, next due 13 Dec 2026" in \
        window.course_label.text()
    assert window.history_model.rowCount() == 3
    first = [window.history_model.data(window.history_model.index(0, c)) for c in range(5)]
    assert first == ["1 Nov 2026 10:00", "cheeks, forehead", "1.50 mm", "erythema (moderate)",
                     "draft"]
    assert window.history_model.data(window.history_model.index(2, 4)) == "signed"


def test_screening_summary_says_what_is_missing():
    assert "No screening on record" in screening_summary_html(None, date(2026, 11, 21))
    unsigned = make_screening("c", consent_signed=False)
    assert "consent not signed" in screening_summary_html(unsigned, date(2026, 11, 21))
    old = make_screening("c", date=date(2025, 1, 1))
    assert "consent over a year old" in screening_summary_html(old, date(2026, 11, 21))


def test_new_session_shortcut_opens_the_editor_and_saving_refreshes_the_card(
        qtbot, window, ui_repo, state):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    window.find("")
    window.open_first_match()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_N,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    editor = window.editor
    assert isinstance(editor, SessionEditor) and editor.isVisible()
    editor.practitioner.setCurrentText("Jane Smith")
    editor.areas.add()
    editor.areas.rows[0].area.setCurrentText("cheeks")
    assert editor.save()
    assert window.history_model.rowCount() == 1
    editor.close()
    assert state.value("last_practitioner") == "Jane Smith"


def test_new_session_is_not_opened_when_the_screening_warning_is_declined(qtbot, window,
                                                                           ui_repo,
                                                                           no_real_modals):
    ui_repo.add_client(make_client(), by="Jane Smith")  # no screening at all
    window.find("")
    window.open_first_match()
    assert window.new_session() is None
    assert no_real_modals == ["ack"]


def test_window_state_and_last_client_are_remembered(qtbot, ui_repo, tmp_path):
    ui_repo.add_client(make_client(first_name="Ana"), by="Jane Smith")
    bea = ui_repo.add_client(make_client(first_name="Bea", last_name="Zamora"), by="Jane Smith")
    path = str(tmp_path / "remembered.ini")
    first = MainWindow(ui_repo, ui_repo.settings(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.show()
    first.resize(720, 520)  # the offscreen screen is 800x600
    first.splitter.setSizes([250, 750])
    first.search.setText("zamora")
    first.open_first_match()
    sizes = first.splitter.sizes()
    first.close()

    again = MainWindow(ui_repo, ui_repo.settings(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (720, 520)
    assert again.splitter.sizes() == sizes
    assert again.client.id == bea.id


def test_a_big_clinic_list_draws_a_page_at_a_time(qtbot, ui_repo, state):
    from needledesk.demo import fill

    fill(ui_repo, clients=600, seed=2)
    window = MainWindow(ui_repo, ui_repo.settings(), state)
    qtbot.addWidget(window)
    assert window.client_model.total() == 600
    assert window.client_model.rowCount() == 200, "the list starts with one page"
    window.client_model.fetchMore()
    assert window.client_model.rowCount() == 400
    last = ui_repo.search_clients("")[-1]
    window.find("")
    assert window.client_model.row_of(last.id) == 599, "pages are read up to the client"
    assert window.client_model.rowCount() == 600


def test_client_list_model_passes_the_model_tester(qtmodeltester, ui_repo):
    for first in ("Ana", "Bea", "Cleo"):
        ui_repo.add_client(make_client(first_name=first), by="Jane Smith")
    model = ClientListModel()
    model.set_clients(ui_repo.search_clients(""))
    qtmodeltester.check(model)


def test_history_model_passes_the_model_tester(qtmodeltester, ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    for month in (9, 10, 11):
        ui_repo.save_draft(make_session(client.id, started_at=datetime(2026, month, 1, 10),
                                        anaesthetic=None), by="Jane Smith")
    model = HistoryModel()
    model.set_sessions(ui_repo.history(client.id))
    qtmodeltester.check(model)


@pytest.mark.parametrize("rows", [0, 450])
def test_paged_client_model_passes_the_model_tester(qtmodeltester, rows):
    from needledesk.store.repository import ClientSummary

    model = ClientListModel()
    model.set_clients([ClientSummary(str(i), "A", f"B{i:04d}", None, None)
                       for i in range(rows)])
    qtmodeltester.check(model)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == rows
