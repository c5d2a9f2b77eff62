"""Fixtures for driving the real window on a real database file."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import QSettings
from ui_windows import show_window

from needledesk.ui.session_editor import SessionEditor
from needledesk.ui.tasks import Tasks


@pytest.fixture(autouse=True)
def synchronous_tasks():
    Tasks.synchronous = True
    yield
    Tasks.synchronous = False


@pytest.fixture
def real_threads():
    """For the tests of the threaded paths themselves: the real thread pool, not the
    synchronous shortcut the other window tests use."""
    Tasks.synchronous = False
    yield
    Tasks.synchronous = True


@pytest.fixture(autouse=True)
def no_real_modals(monkeypatch):
    """A modal box would block the test run: every question gets a recorded default answer
    (decline, discard); a test that expects a question replaces the answer itself."""
    from needledesk.ui.session_editor import SessionEditor

    asked: list[str] = []
    monkeypatch.setattr(SessionEditor, "ask_unsaved",
                        staticmethod(lambda parent: asked.append("unsaved") or "discard"))
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: asked.append("ack") or None))
    # "Anything changed since the screening?" at a new session: no change.
    monkeypatch.setattr(SessionEditor, "ask_visit_screening", staticmethod(
        lambda parent, check, save: asked.append("visit screening") or check.no_change()))
    monkeypatch.setattr(SessionEditor, "ask_amendment",
                        staticmethod(lambda parent, by: asked.append("amend") or None))
    # Signing off is asked once, in a box of its own; a test that pressed Sign off means it
    # (a test of the question itself replaces the answer).
    monkeypatch.setattr(SessionEditor, "ask_sign_off",
                        staticmethod(lambda parent, text: asked.append("sign off") or True))
    from needledesk.ui.client_dialog import ClientDialog

    monkeypatch.setattr(ClientDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append("discard client") or True))
    monkeypatch.setattr(SessionEditor, "show_error",
                        staticmethod(lambda parent, title, text: asked.append(text)))
    from needledesk.ui.screening_dialog import ScreeningDialog

    monkeypatch.setattr(ScreeningDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append("discard screening") or True))
    from needledesk.ui.settings_dialog import SettingsDialog

    monkeypatch.setattr(SettingsDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append("discard settings") or True))
    from PySide6.QtWidgets import QMessageBox

    for name, answer in (("warning", QMessageBox.StandardButton.Ok),
                         ("information", QMessageBox.StandardButton.Ok),
                         ("critical", QMessageBox.StandardButton.Ok),
                         ("question", QMessageBox.StandardButton.No)):
        monkeypatch.setattr(QMessageBox, name, staticmethod(
            lambda *args, _name=name, _answer=answer, **kw: asked.append(
                f"{_name}: {args[2] if len(args) > 2 else ''}") or _answer))
    return asked


@pytest.fixture
def state(tmp_path):
    return QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def ui_repo(repo):
    """The window's records: the file clinic.db, or (`[postgresql]`, in the modules
    tests/conftest.py's BOTH_ENGINES names) a new clinic server database."""
    return repo


#: Where the session editor's clock starts in the editor tests (the NOW of their modules).
EDITOR_NOW = datetime(2026, 11, 20, 10, 30)


@pytest.fixture
def client(ui_repo):
    """A client with a screening on file, so a session can be started."""
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    return client


@pytest.fixture
def editor_for(qtbot, ui_repo, client):
    """`editor_for(session=None, **kwargs)`: a session editor for `client`, shown. Its clock
    starts at EDITOR_NOW; a test moves it with `editor.clock["now"] = ...` (one clock for
    every editor the test builds)."""
    clock = {"now": EDITOR_NOW}

    def build(session=None, **kwargs):
        editor = SessionEditor(ui_repo, ui_repo.settings(), client, session, user="Jane Smith",
                               now=lambda: clock["now"], **kwargs)
        qtbot.addWidget(editor)
        editor.clock = clock
        editor.show()
        return editor
    return build


@pytest.fixture
def window(qtbot, ui_repo, state):
    return show_window(qtbot, ui_repo, state)
