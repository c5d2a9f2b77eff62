"""Every dialog the main window opens has the window as its parent and is freed once closed:
after opening and closing each one, no dialog object is left among the window's children."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import make_client, make_session
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QDialog

from needledesk.store.backup import take_backup


def _free_deferred() -> None:
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


@pytest.fixture
def opened(monkeypatch):
    """Every modal dialog is answered Cancel at once; each one run is recorded with its
    parent at the time."""
    seen: list[tuple[str, object]] = []

    def cancel(self):
        seen.append((type(self).__name__, self.parentWidget()))
        self.reject()
        return QDialog.DialogCode.Rejected.value

    monkeypatch.setattr(QDialog, "exec", cancel)
    return seen


@pytest.fixture
def with_a_session(window, ui_repo, tmp_path):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    session = ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    ui_repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    take_backup(ui_repo.path, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    window.find("")
    window.open_first_match()
    window.history.setCurrentIndex(window.history_model.index(0, 0))
    return window


OPENERS = {
    "settings": (lambda w: w.edit_settings(), "SettingsDialog"),
    "client": (lambda w: w.edit_client(), "ClientDialog"),
    "new client": (lambda w: w.new_client(), "ClientDialog"),
    "screening": (lambda w: w.record_screening(), "ScreeningDialog"),
    "restore": (lambda w: w.restore_backup(), "RestoreDialog"),
    "app lock": (lambda w: w.set_app_lock(), "QInputDialog"),
    "audit trail": (lambda w: w.audit_button.click(), "QDialog"),
}


@pytest.mark.parametrize("which", sorted(OPENERS))
def test_each_dialog_has_the_window_as_parent_and_is_freed(qtbot, with_a_session, opened,
                                                           which):
    window = with_a_session
    _free_deferred()
    assert window.findChildren(QDialog) == []
    run, kind = OPENERS[which]
    run(window)
    assert [name for name, _ in opened] == [kind], f"{which}: the dialog did not run"
    assert all(parent is window for _, parent in opened), f"{which}: not owned by the window"
    _free_deferred()
    assert window.findChildren(QDialog) == [], f"{which}: left behind"


def test_where_the_records_are_is_freed_when_closed(qtbot, window):
    window.show_locations()
    dialog = window.locations_dialog
    assert dialog.parentWidget() is window and dialog.isVisible()
    dialog.reject()
    _free_deferred()
    assert window.findChildren(QDialog) == []


def test_every_dialog_in_turn_leaves_nothing_behind(qtbot, with_a_session, opened):
    window = with_a_session
    for run, _kind in OPENERS.values():
        run(window)
    window.show_locations()
    window.locations_dialog.reject()
    window.back_up_now()  # the progress shown while it runs is freed too
    _free_deferred()
    assert len(opened) == len(OPENERS)
    assert window.findChildren(QDialog) == []


def test_the_restore_and_closing_progress_dialogs_are_freed(qtbot, with_a_session, monkeypatch,
                                                            tmp_path):
    from needledesk.ui.backups import RestoreDialog

    window = with_a_session
    monkeypatch.setattr(RestoreDialog, "ask", classmethod(
        lambda cls, parent, backups, folder: backups[0]))
    assert window.restore_backup()
    _free_deferred()
    assert window.findChildren(QDialog) == []
    window.close()
    _free_deferred()
    assert window.findChildren(QDialog) == []
