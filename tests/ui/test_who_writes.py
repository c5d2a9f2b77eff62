"""Who the audit trail names: each write says who made it (`by=`), so the session editor,
which shares the main window's Repository, never lends its practitioner to the window's
own later writes (issue 12)."""

from __future__ import annotations

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import QSettings

from needledesk.ui.client_dialog import ClientDialog
from needledesk.ui.main_window import MainWindow
from needledesk.ui.screening_dialog import ScreeningDialog
from needledesk.ui.session_editor import SessionEditor


@pytest.fixture
def at_the_pc(qtbot, ui_repo, tmp_path):
    """The window as it opens for Jane Smith (the last practitioner on this PC), with one
    client screened today."""
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    state.setValue("last_practitioner", "Jane Smith")
    client = ui_repo.add_client(make_client(first_name="Ana", last_name="López"),
                                by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    win = MainWindow(ui_repo, ui_repo.settings(), state)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.find("")
    win.open_first_match()
    return win, client


def _who(repo, action: str, kind: str, record_id: str) -> list[str]:
    return [r[0] for r in repo.db.execute(
        "SELECT who FROM audit WHERE action = ? AND kind = ? AND record_id = ? ORDER BY seq",
        [action, kind, record_id])]


def _save_session_as(window, practitioner: str) -> str:
    editor = window.new_session()
    assert isinstance(editor, SessionEditor)
    editor.practitioner.setCurrentText(practitioner)
    editor.areas.add()
    editor.areas.rows[0].area.setCurrentText("cheeks")
    assert editor.save()
    session_id = editor.session_id
    editor.close()
    return session_id


def test_a_client_added_after_the_editor_saved_is_not_credited_to_its_practitioner(
        at_the_pc, ui_repo, monkeypatch):
    window, _ = at_the_pc
    session_id = _save_session_as(window, "Lucía Fernández")
    assert _who(ui_repo, "create", "session", session_id) == ["Lucía Fernández"]

    added = make_client(first_name="Bea", last_name="Ortiz")
    monkeypatch.setattr(ClientDialog, "ask", classmethod(lambda cls, parent, client=None:
                                                         added))
    window.new_client()
    assert _who(ui_repo, "create", "client", added.id) == ["Jane Smith"]


def test_a_screening_recorded_after_the_editor_saved_is_not_credited_to_its_practitioner(
        at_the_pc, ui_repo, monkeypatch):
    window, client = at_the_pc
    _save_session_as(window, "Lucía Fernández")

    screening = make_screening(client.id, notes="asked again")
    monkeypatch.setattr(ScreeningDialog, "ask", classmethod(
        lambda cls, parent, client_id, previous=None: screening))
    window.record_screening()
    assert _who(ui_repo, "create", "screening", screening.id) == ["Jane Smith"]
