"""Nothing silent in the session editor: a refused save, sign-off or amendment says why, and
"Repeat last session" marks the lots it copied until they are checked."""

from __future__ import annotations

from datetime import datetime

from factories import make_session
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import Device, DeviceType, Serum, TreatedArea
from needledesk.ui.acknowledge import AmendmentReasonDialog
from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)


# --- the unsaved-changes prompt -----------------------------------------------------------------


def test_save_in_the_unsaved_prompt_on_an_invalid_session_says_why_and_stays(
        editor_for, ui_repo, client, monkeypatch, no_real_modals):
    monkeypatch.setattr(SessionEditor, "ask_unsaved", staticmethod(lambda parent: "save"))
    editor = editor_for()
    editor.areas.add(TreatedArea("cheeks", 3.5))
    editor.close()
    assert editor.isVisible(), "not saved, so not closed"
    (said,) = [text for text in no_real_modals if "Not saved" in text]
    assert "Depth (cheeks)" in said and "3.5" in said and "0.1–3.0 mm" in said
    assert "areas[" not in said and "depth_mm" not in said
    assert ui_repo.sessions(client.id) == [], "nothing written"
    assert "Not saved" in editor.general_message.text()

    editor.areas.rows[0].depth.setValue(1.5)
    editor.close()
    assert not editor.isVisible()
    assert [s.areas[0].depth_mm for s in ui_repo.sessions(client.id)] == [1.5]


def test_ctrl_s_on_an_invalid_session_says_why(qtbot, editor_for, ui_repo, client):
    editor = editor_for()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    qtbot.keyClick(editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "Not saved" in editor.general_message.text()
    assert "Treated areas" in editor.general_message.text()
    assert ui_repo.sessions(client.id) == []


# --- sign-off -----------------------------------------------------------------------------------


def test_sign_off_asks_once_showing_what_will_be_sealed(editor_for, ui_repo, client,
                                                        monkeypatch):
    asked: list[str] = []
    answer = {"sign": False}
    monkeypatch.setattr(SessionEditor, "ask_sign_off", staticmethod(
        lambda parent, text: asked.append(text) or answer["sign"]))
    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    editor = editor_for(ui_repo.sessions(client.id)[0])

    editor.sign_button.click()
    (text,) = asked
    assert "Ana López" in text
    assert "20 Nov 2026 10:30" in text
    assert "cheeks 1.5 mm" in text and "forehead 0.5 mm" in text
    assert "cannot be changed" in text and "amendment" in text
    assert ui_repo.get_session(editor.session_id).signed_at is None, "declined: not signed"
    assert editor.sign_button.isVisible()

    answer["sign"] = True
    editor.sign_button.click()
    assert len(asked) == 2, "asked once per sign-off"
    assert ui_repo.get_session(editor.session_id).signed_at == NOW


def test_sign_off_of_an_invalid_session_says_why_without_asking(editor_for, ui_repo, client,
                                                                monkeypatch, no_real_modals):
    asked: list[str] = []
    monkeypatch.setattr(SessionEditor, "ask_sign_off",
                        staticmethod(lambda parent, text: asked.append(text) or True))
    editor = editor_for()
    editor.sign_off()
    assert asked == []
    assert any("Treated areas" in text for text in no_real_modals)
    assert ui_repo.sessions(client.id) == []


# --- amendment ----------------------------------------------------------------------------------


def test_amend_with_an_empty_reason_says_one_is_needed_and_stays(qtbot):
    dialog = AmendmentReasonDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.reason)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0
    assert "A reason is needed" in dialog.message.text()
    assert not dialog.message.isHidden()

    qtbot.keyClicks(dialog.reason, "   ")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.isVisible(), "spaces are no reason"

    qtbot.keyClicks(dialog.reason, "lot misread")
    assert dialog.message.isHidden()
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert dialog.result() == AmendmentReasonDialog.DialogCode.Accepted
    assert dialog.reason.text().strip() == "lot misread"


# --- repeat last --------------------------------------------------------------------------------


def test_repeat_last_marks_the_copied_lots_until_edited_or_confirmed(qtbot, editor_for,
                                                                     ui_repo, client):
    ui_repo.save_draft(make_session(
        client.id, device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", "L2311A"),
        serums=[Serum("Hyaluronic acid 1%", "HA-0923"), Serum("Calming gel", None)]),
        by="Jane Smith")
    editor = editor_for()
    editor.repeat_last()

    mark = editor.cartridge_lot_copied
    assert editor.cartridge_lot.text() == "L2311A"
    assert mark.isVisibleTo(editor)
    assert mark.label.text() == "⚠ copied from last session — check the lot"
    assert "background" in editor.cartridge_lot.styleSheet()
    serum, gel = editor.serums.rows
    assert serum.lot_copied.isVisibleTo(editor)
    assert not gel.lot_copied.isVisibleTo(editor), "no lot copied, nothing to check"
    assert "Check the lots marked below" in editor.copied.text()
    assert editor.unchecked_lots() == [editor.cartridge_lot, serum.lot]

    qtbot.keyClicks(editor.cartridge_lot, "2")  # edited: today's lot typed
    assert not mark.isVisibleTo(editor)
    assert editor.cartridge_lot.styleSheet() == ""

    qtbot.keyClick(serum.lot_copied.confirm, Qt.Key.Key_Space)  # confirmed as it is
    assert not serum.lot_copied.isVisibleTo(editor)
    assert serum.lot.text() == "HA-0923"
    assert editor.unchecked_lots() == []


def test_an_opened_session_marks_nothing(editor_for, ui_repo, client):
    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    editor = editor_for(ui_repo.sessions(client.id)[0])
    assert editor.unchecked_lots() == []
    assert not editor.cartridge_lot_copied.isVisibleTo(editor)
