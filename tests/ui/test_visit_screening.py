"""The screening re-confirmed before each new session, through the real dialogs, on a real
file: no change, an updated screening, a full one past the clinic's limit, and Escape."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import NOT_APPLICABLE, SCREENING_QUESTIONS, ScreeningOutcome
from needledesk.ui.screening_dialog import ScreeningDialog
from needledesk.ui.session_editor import SessionEditor
from needledesk.ui.visit_screening import VisitScreeningDialog, ask_visit_screening

NOW = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(autouse=True)
def real_question(monkeypatch):
    """The real question (the shared fixture answers "No change" for every other test)."""
    monkeypatch.setattr(SessionEditor, "ask_visit_screening", staticmethod(
        lambda parent, check, save: ask_visit_screening(parent, check, save)))


@pytest.fixture
def client(ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    screening = make_screening(client.id, date=date(2026, 11, 3))
    screening.answers["recent_tan_or_sunburn"] = True
    ui_repo.add_screening(screening, by="Jane Smith")
    return client


def _editor(qtbot, ui_repo, client, settings=None, session=None):
    editor = SessionEditor(ui_repo, settings or ui_repo.settings(), client, session,
                           user="Jane Smith", now=lambda: NOW)
    qtbot.addWidget(editor)
    return editor


def _answer(qtbot, *steps):
    """Answer the modal dialogs as they come up, one step each (a step gets the dialog);
    returns the steps not yet taken, to check every one ran."""
    pending = list(steps)

    def tick():
        widget = QApplication.activeModalWidget()
        if widget is not None and pending:
            pending.pop(0)(widget)
        if pending:
            QTimer.singleShot(20, tick)

    QTimer.singleShot(0, tick)
    return pending


def _key(qtbot, key):
    def press(widget):
        assert isinstance(widget, VisitScreeningDialog)
        qtbot.keyClick(widget, key)
    return press


def _agree_acknowledgement(monkeypatch, seen):
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: seen.extend(w.code for w in warnings) or "checked"))


def test_no_change_is_recorded_shown_and_read_back(qtbot, ui_repo, client, monkeypatch):
    seen: list[str] = []
    _agree_acknowledgement(monkeypatch, seen)
    (screening,) = ui_repo.screenings(client.id)
    shown = {}

    def look_then_enter(widget):
        shown["heading"] = widget.heading.text()
        shown["flagged"] = widget.flagged.text()
        shown["reminders"] = widget.reminders.text()
        _key(qtbot, Qt.Key.Key_Return)(widget)

    pending = _answer(qtbot, look_then_enter)
    editor = _editor(qtbot, ui_repo, client)
    assert editor.acknowledge_at_start()
    assert pending == []
    assert "Anything changed since the screening of 3 Nov 2026?" in shown["heading"]
    assert "Taken 17 days ago." in shown["heading"]
    assert "A recent tan or sunburn in the area" in shown["flagged"]
    assert "Isotretinoin in the last 6 months: No at the screening" in shown["reminders"]
    assert "in the area in the last 2 weeks: No at the screening" in shown["reminders"]
    assert seen == ["screening: recent_tan_or_sunburn"], "the flag is still acknowledged"
    assert "Screening of 3 Nov 2026 re-confirmed: no change" in editor.status.text()
    editor.areas.add_button.click()
    editor.areas.rows[-1].area.setCurrentText("cheeks")
    editor.areas.rows[-1].depth.setValue(1.0)
    assert editor.save()
    stored = ui_repo.get_session(editor.session_id)
    assert stored.screening_check is not None
    assert stored.screening_check.screening_id == screening.id
    assert stored.screening_check.outcome == ScreeningOutcome.NO_CHANGE

    # a draft reopened keeps its check and asks nothing again; signed, it is shown read-only
    reopened = _editor(qtbot, ui_repo, client, session=stored)
    asked = []
    monkeypatch.setattr(SessionEditor, "ask_visit_screening", staticmethod(
        lambda parent, check, save: asked.append(check)))
    assert reopened.confirm_screening_at_start()
    assert asked == []
    assert "re-confirmed: no change" in reopened.status.text()
    assert not reopened.is_dirty()
    assert reopened.sign_off()
    signed = _editor(qtbot, ui_repo, client, session=ui_repo.get_session(editor.session_id))
    assert "read-only" in signed.status.text()
    assert "Screening of 3 Nov 2026 re-confirmed: no change" in signed.status.text()
    assert signed.session()[0].screening_check == stored.screening_check


def test_update_takes_a_new_screening_and_records_it(qtbot, ui_repo, client, monkeypatch):
    seen: list[str] = []
    _agree_acknowledgement(monkeypatch, seen)
    (old,) = ui_repo.screenings(client.id)
    shown = {}

    def update(widget):
        assert isinstance(widget, VisitScreeningDialog)
        widget.update_button.click()

    def answer_screening(widget):
        assert isinstance(widget, ScreeningDialog)
        shown["prefilled"] = widget.answer("recent_tan_or_sunburn")
        widget.no_buttons["recent_tan_or_sunburn"].setChecked(True)   # the tan has gone
        widget.save_button.click()

    pending = _answer(qtbot, update, answer_screening)
    editor = _editor(qtbot, ui_repo, client)
    assert editor.acknowledge_at_start()
    assert pending == []
    assert shown["prefilled"] is True, "filled in from the last screening"
    screenings = ui_repo.screenings(client.id)
    assert len(screenings) == 2
    new = next(s for s in screenings if s.id != old.id)
    assert new.date == NOW.date()
    assert new.answers["recent_tan_or_sunburn"] is False
    assert seen == [], "the new screening flags nothing"
    assert "Screening updated at the visit: new screening of 20 Nov 2026" in \
        editor.status.text()
    editor.areas.add_button.click()
    editor.areas.rows[-1].area.setCurrentText("cheeks")
    editor.areas.rows[-1].depth.setValue(1.0)
    assert editor.save()
    check = ui_repo.get_session(editor.session_id).screening_check
    assert check is not None
    assert (check.screening_id, check.outcome) == (new.id, ScreeningOutcome.UPDATED)


def test_a_screening_past_the_clinic_limit_asks_for_a_full_one(qtbot, ui_repo, client,
                                                               monkeypatch):
    _agree_acknowledgement(monkeypatch, [])
    settings = replace(ui_repo.settings(), screening_max_days=10)
    shown = {}

    def full(widget):
        assert isinstance(widget, VisitScreeningDialog)
        shown["heading"] = widget.heading.text()
        shown["no change offered"] = widget.no_change_button is not None
        shown["button"] = widget.update_button.text()
        qtbot.keyClick(widget, Qt.Key.Key_Return)

    def answer_all(widget):
        assert isinstance(widget, ScreeningDialog)
        shown["blank"] = all(widget.answer(key) is None for key in SCREENING_QUESTIONS)
        for key in SCREENING_QUESTIONS:
            widget.no_buttons[key].setChecked(True)
        widget.not_applicable_buttons["retinoids_stopped"].setChecked(True)
        widget.save_button.click()

    pending = _answer(qtbot, full, answer_all)
    editor = _editor(qtbot, ui_repo, client, settings)
    assert editor.acknowledge_at_start()
    assert pending == []
    assert "The screening of 3 Nov 2026 is 17 days old, over the clinic's limit of 10 days" \
        in shown["heading"]
    assert not shown["no change offered"]
    assert shown["button"] == "&Take a full screening…"
    assert shown["blank"], "a full screening starts from blank answers"
    (new,) = [s for s in ui_repo.screenings(client.id) if s.date == NOW.date()]
    assert new.answers["retinoids_stopped"] == NOT_APPLICABLE
    assert editor.screening_check is not None
    assert editor.screening_check.screening_id == new.id
    assert editor.screening_check.outcome == ScreeningOutcome.UPDATED


def test_escape_starts_no_session(qtbot, window, ui_repo, client, no_real_modals):
    window.show_client(client.id)
    pending = _answer(qtbot, _key(qtbot, Qt.Key.Key_Escape))
    assert window.new_session() is None
    assert pending == []
    assert window.editor is None
    assert ui_repo.sessions(client.id) == []
    assert "ack" not in no_real_modals, "nothing further was asked"


def test_cancelling_the_screening_comes_back_to_the_question(qtbot, ui_repo, client):
    def update(widget):
        assert isinstance(widget, VisitScreeningDialog)
        widget.update_button.click()

    def cancel(widget):
        assert isinstance(widget, ScreeningDialog)
        qtbot.keyClick(widget, Qt.Key.Key_Escape)

    pending = _answer(qtbot, update, cancel, _key(qtbot, Qt.Key.Key_Escape))
    editor = _editor(qtbot, ui_repo, client)
    assert not editor.acknowledge_at_start()
    assert pending == []
    assert len(ui_repo.screenings(client.id)) == 1, "no screening written"
    assert editor.screening_check is None


def test_a_client_without_a_screening_is_not_asked(qtbot, ui_repo, no_real_modals,
                                                   monkeypatch):
    monkeypatch.setattr(SessionEditor, "ask_visit_screening", staticmethod(
        lambda parent, check, save: no_real_modals.append("visit screening")))
    new = ui_repo.add_client(make_client(first_name="Cleo"), by="Jane Smith")
    editor = _editor(qtbot, ui_repo, new)
    editor.acknowledge_at_start()
    assert "visit screening" not in no_real_modals
    assert "ack" in no_real_modals, "the warnings say there is no screening, as before"
