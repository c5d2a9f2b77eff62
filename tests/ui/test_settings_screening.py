"""The "Screening and consent" settings and the due list's lapse limit: changed by keyboard
in the real Settings dialog opened from the window, saved to the real file and read back;
a number outside a setting's range cannot be typed."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from needledesk.settings import ClinicSettings
from needledesk.ui.settings_dialog import SettingsDialog


def _retype(qtbot, box, text: str) -> None:
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)


def test_the_screening_settings_are_saved_and_read_back(qtbot, window, ui_repo):
    assert ui_repo.settings().consent_max_days == 365
    seen: list[str] = []

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SettingsDialog):
            QTimer.singleShot(20, fill)
            return
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)   # shortcuts reach the active window only
        qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # the tab
        seen.append(dialog.tabs.tabText(dialog.tabs.currentIndex()))
        for box, text in ((dialog.consent_days, "730"), (dialog.screening_days, "180"),
                          (dialog.injectables_weeks, "4"), (dialog.lapsed_after, "3")):
            _retype(qtbot, box, text)
        qtbot.keyClick(dialog.lapsed_after, Qt.Key.Key_Return)   # Save is the default

    QTimer.singleShot(0, fill)
    window.edit_settings()
    assert seen == ["&Screening and due list"]
    stored = ui_repo.settings()
    assert (stored.consent_max_days, stored.screening_max_days, stored.injectables_weeks,
            stored.lapsed_after_intervals) == (730, 180, 4, 3)
    assert window.settings == stored, "the window works with the saved settings"


def test_a_value_outside_its_range_cannot_be_typed(qtbot):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(3)
    for box, text, low, high in ((dialog.consent_days, "2000", 30, 1095),
                                 (dialog.screening_days, "1200", 1, 1095),
                                 (dialog.injectables_weeks, "27", 0, 26),
                                 (dialog.lapsed_after, "13", 1, 12)):
        before = box.value()
        _retype(qtbot, box, text)
        assert low <= box.value() <= high
        assert box.value() != int(text), f"{text} was taken"
        assert f"{low} to {high}" in box.toolTip(), "the range is said where it is typed"
        box.setValue(before)
    dialog.consent_days.setValue(5)
    assert dialog.consent_days.value() == 30
    assert dialog.settings().consent_max_days == 30
    dialog.hide()


def test_opened_settings_show_the_stored_values_unchanged(qtbot):
    settings = ClinicSettings(consent_max_days=400, screening_max_days=90,
                              injectables_weeks=0, lapsed_after_intervals=12)
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert (dialog.consent_days.value(), dialog.screening_days.value(),
            dialog.injectables_weeks.value(), dialog.lapsed_after.value()) == (400, 90, 0, 12)
    assert dialog.settings() == settings
