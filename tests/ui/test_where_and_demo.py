"""The window tells a demonstration database apart, and says where records, backups and the
log live (Help > Where the records are)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from needledesk.demo import fill
from needledesk.logs import log_file
from needledesk.ui.main_window import MainWindow


def test_a_clinic_database_shows_no_demo_banner(window):
    assert not window.demo_banner.isVisible()
    assert "demonstration" not in window.windowTitle()


def test_a_demo_database_says_so_in_the_title_and_a_banner(qtbot, ui_repo, state):
    fill(ui_repo, clients=3, seed=1)
    win = MainWindow(ui_repo, ui_repo.settings(), state)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.demo_banner.isVisible()
    assert "made up" in win.demo_banner.text()
    assert win.windowTitle() == "NeedleDesk — demonstration records"


def test_help_shows_where_the_records_backups_and_log_are(window, qtbot):
    places = dict(window.locations())
    assert places["Records (database)"] == Path(window.repo.path)
    assert places["Backups"] == Path(window.repo.path).parent / "backups"
    assert places["Log (details of any problem)"] == log_file()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    item = next(a for a in help_menu.actions() if a.text() == "&Where the records are…")
    item.trigger()
    dialog = window.locations_dialog
    qtbot.waitExposed(dialog)
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    assert str(Path(window.repo.path)) in shown
    assert str(log_file()) in shown
    dialog.reject()
