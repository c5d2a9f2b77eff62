"""The main window as the tests open it: on a given Repository, shown and exposed."""

from __future__ import annotations

from needledesk.ui.main_window import MainWindow


def show_window(qtbot, repo, state) -> MainWindow:
    """The window on `repo` (a file or a clinic server), with the window state `state`,
    shown and exposed; qtbot closes it after the test."""
    window = MainWindow(repo, repo.settings(), state)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window
