"""Words for practitioners on screen (issue 13, items 3 and 9): no red error on a form
nobody has typed in yet, messages that name the field by its label, the audit trail in
plain words, and "Audit trail…" only with a session chosen."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from factories import make_client, make_screening, make_session
from PySide6.QtCore import Qt

from needledesk.domain.model import Anaesthetic, Fee
from needledesk.ui.client_dialog import ClientDialog
from needledesk.ui.main_window import MainWindow
from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 30, 16, 30)


def visible_errors(widget) -> list[str]:
    from needledesk.ui.forms import FieldMessage

    return [m.text() for m in widget.findChildren(FieldMessage)
            if m.isVisibleTo(widget) and m.kind == "error"]


# --- no red before typing ------------------------------------------------------------------

def test_an_empty_new_client_dialog_shows_no_error_until_typing_or_save(qtbot):
    dialog = ClientDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert visible_errors(dialog) == []
    assert "First name is required" in dialog.save_button.toolTip()  # said beforehand too

    qtbot.keyClicks(dialog.first_name, "A")
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Backspace)
    assert visible_errors(dialog) == ["First name is required"]  # touched: now it says
    assert dialog.messages["last_name"].isHidden()               # not yet typed in
    assert not dialog.save_button.isEnabled()  # off while a problem is on screen
    qtbot.keyClicks(dialog.first_name, "Ana")
    assert visible_errors(dialog) == [] and dialog.save_button.isEnabled()

    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)          # Save (the default)
    assert visible_errors(dialog) == ["Last name is required"]
    assert dialog.result() == 0


def test_an_existing_client_shows_its_problems_at_once(qtbot):
    dialog = ClientDialog(make_client(first_name=" "))
    qtbot.addWidget(dialog)
    assert visible_errors(dialog) == ["First name is required"]


@pytest.fixture
def editor(qtbot, ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")

    def build(session=None):
        editor = SessionEditor(ui_repo, ui_repo.settings(), client, session, user="Jane Smith",
                               now=lambda: NOW)
        qtbot.addWidget(editor)
        editor.show()
        return editor
    build.client = client
    return build


def test_a_new_session_shows_no_error_until_save(qtbot, editor):
    new = editor()
    assert visible_errors(new) == []
    assert not new.save()
    assert "Treated areas: at least one treated area is required" in visible_errors(new)


def test_a_new_area_row_says_what_is_wrong_once_typed_in(qtbot, editor):
    new = editor()
    new.areas.add_button.click()
    row = new.areas.rows[0]
    row.area.setCurrentText("cheeks")
    row.depth.setValue(3.5)
    assert visible_errors(new) == ["Depth (cheeks) 3.5 is outside 0.1–3.0 mm"]


def test_removed_before_applied_names_both_fields_with_the_times(qtbot, editor, ui_repo):
    session = make_session(editor.client.id, started_at=datetime(2026, 11, 30, 17, 0))
    stored = ui_repo.save_draft(session, by="Jane Smith")
    shown = editor(stored)
    shown.applied.set_value(datetime(2026, 11, 30, 16, 0))
    shown.removed.set_value(datetime(2026, 11, 30, 0, 0))
    assert shown.anaesthetic_message.text() == "Removed at 00:00 is before Applied at 16:00"
    assert shown.anaesthetic_message.kind == "error"


# --- the audit trail -----------------------------------------------------------------------

def choose_client(window):
    window.find("")
    window.open_first_match()


def test_audit_trail_needs_a_chosen_session(qtbot, window, ui_repo):
    assert not window.audit_button.isEnabled()  # no client at all
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    choose_client(window)
    assert window.history_model.rowCount() == 1
    assert not window.audit_button.isEnabled(), "a client but no session chosen"
    assert "Select a session" in window.audit_button.toolTip()

    window.history.setCurrentIndex(window.history_model.index(0, 0))
    assert window.audit_button.isEnabled()

    window.card.show_client(None)
    assert not window.audit_button.isEnabled()


DEVELOPER_WORDS = re.compile(r"[A-Za-z_]\.[A-Za-z_]|\d{4}-\d{2}-\d{2}|\bNone\b|\[\{|\{'|"
                             r"\[\]|\b(True|False)\b|[a-z]_[a-z]")


def test_the_audit_trail_reads_in_plain_words(qtbot, window, ui_repo, monkeypatch):
    client = ui_repo.add_client(make_client(email=None), by="Jane Smith")
    session = ui_repo.save_draft(make_session(client.id, anaesthetic=Anaesthetic(
        "LMX4", datetime(2026, 11, 20, 9, 45))), by="Jane Smith")
    ui_repo.sign_session(session.id, datetime(2026, 11, 20, 11, 0), by="Jane Smith")
    signed = ui_repo.get_session(session.id)
    ui_repo.amend_session(replace(signed, device=replace(signed.device, cartridge_lot="L2605B"),
                                  fee=Fee(Decimal("280.00"), "USD"),
                                  anaesthetic=replace(signed.anaesthetic,
                                                      removed_at=datetime(2026, 11, 20, 10, 25))),
                          by="Jane Smith", reason="lot misread")
    shown = []
    monkeypatch.setattr(MainWindow, "show_text",
                        staticmethod(lambda title, html: shown.append(html)))
    choose_client(window)
    window.history.setCurrentIndex(window.history_model.index(0, 0))
    window.audit_button.click()
    (html,) = shown
    text = re.sub(r"<[^>]+>", "\n", html)
    assert "Signed off: not set → 20 Nov 2026 11:00" in text
    assert "Cartridge lot: L2311A → L2605B" in text
    assert "Fee: 250.00 USD → 280.00 USD" in text
    assert "Removed at: not set → 20 Nov 2026 10:25" in text
    assert "lot misread" in text and "Amended" in text
    found = DEVELOPER_WORDS.search(text)
    assert found is None, (found.group(), text)


# --- problems without a field of their own ---------------------------------------------------

def test_a_problem_shown_under_the_editor_names_its_field_not_its_path(qtbot, editor):
    new = editor()
    new.notes.setPlainText("n" * 20_001)
    assert visible_errors(new) == ["Notes is 20,001 characters long; at most 20,000 allowed"]


def test_the_screening_dialog_names_its_fields_by_label(qtbot):
    from needledesk.ui.screening_dialog import ScreeningDialog

    dialog = ScreeningDialog("client-1")
    qtbot.addWidget(dialog)
    dialog.notes.setPlainText("n" * 20_001)
    dialog.revalidate()
    assert dialog.problems_message.text() == \
        "Notes is 20,001 characters long; at most 20,000 allowed"


def test_the_editor_s_disabled_buttons_say_what_is_still_needed(qtbot, editor):
    new = editor()
    assert visible_errors(new) == []
    assert not new.save_button.isEnabled()
    assert "Treated areas: at least one treated area is required" in new.save_button.toolTip()
    assert "Treated areas: at least one treated area is required" in new.sign_button.toolTip()
    new.areas.add_button.click()
    new.areas.rows[0].area.setCurrentText("cheeks")
    new.areas.rows[0].depth.setValue(1.0)
    assert new.save_button.isEnabled() and new.save_button.toolTip() == "Ctrl+S"
