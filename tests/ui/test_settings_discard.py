"""Escape on the clinic settings: unchanged closes at once; changed asks first, and 'Keep
editing' keeps the dialog and what was typed (the question is the shared forms.ask_discard)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from needledesk.settings import ClinicSettings
from needledesk.ui.settings_dialog import SettingsDialog

REAL_ASK_DISCARD = SettingsDialog.__dict__["ask_discard"]


def test_unchanged_settings_close_on_escape_without_a_question(qtbot, no_real_modals):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert "discard settings" not in no_real_modals


def test_changed_settings_ask_before_escape_discards_them(qtbot, no_real_modals):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.clinic_name.setText("Lumen Skin Studio")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert no_real_modals.count("discard settings") == 1
    assert not dialog.isVisible()


def test_keep_editing_keeps_the_dialog_and_the_text(qtbot, monkeypatch):
    monkeypatch.setattr(SettingsDialog, "ask_discard", REAL_ASK_DISCARD)
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.clinic_name.setText("Lumen Skin Studio")
    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            keep = next(b for b in box.buttons() if b.text() == "Keep editing")
            keep.click()
        else:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    dialog.reject()
    assert seen and "clinic settings are not saved" in seen[0]
    assert dialog.isVisible() and dialog.clinic_name.text() == "Lumen Skin Studio"
    QDialog.reject(dialog)   # close it without the question (nobody left to answer it)
