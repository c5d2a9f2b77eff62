"""Backups, restore, the damaged-file start and the audit trail, from the window."""

from __future__ import annotations

import shutil
from datetime import datetime

from factories import make_client, make_session
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from needledesk.store.backup import take_backup
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui import app as app_module
from needledesk.ui.backups import RestoreDialog
from needledesk.ui.main_window import MainWindow


def test_back_up_now_writes_a_generation(qtbot, window, ui_repo, tmp_path):
    ui_repo.add_client(make_client(), by="Jane Smith")
    window.back_up_now()
    (backup,) = (tmp_path / "backups").glob("needledesk-*.db")
    assert Repository(open_database(backup)).count_clients() == 1
    assert "Backed up: 1 client, 0 sessions" in window.statusBar().currentMessage()


def test_closing_the_window_takes_a_backup(qtbot, ui_repo, state, tmp_path):
    window = MainWindow(ui_repo, ui_repo.settings(), state)
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert len(list((tmp_path / "backups").glob("needledesk-*.db"))) == 1


def test_restore_from_the_window(qtbot, window, ui_repo, tmp_path, monkeypatch):
    ui_repo.add_client(make_client(first_name="Kept"), by="Jane Smith")
    take_backup(ui_repo.path, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    ui_repo.add_client(make_client(first_name="Lost"), by="Jane Smith")
    offered = []
    monkeypatch.setattr(RestoreDialog, "ask", classmethod(
        lambda cls, parent, backups, folder: offered.extend(backups) or backups[0]))
    assert window.restore_backup()
    assert [b.clients for b in offered] == [1]
    assert [c.first_name for c in window.repo.search_clients("")] == ["Kept"]
    assert window.client_model.total() == 1
    actions = [r[0] for r in window.repo.db.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions[-1] == "restore"


def test_a_damaged_file_at_start_offers_the_newest_good_backup(qtbot, tmp_path, monkeypatch):
    db = tmp_path / "clinic.db"
    repo = Repository(open_database(db))
    repo.add_client(make_client(), by="Jane Smith")
    take_backup(db, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    repo.db.close()
    data = bytearray(db.read_bytes())
    data[100:len(data)] = bytes(len(data) - 100)  # the tables are gone
    db.write_bytes(bytes(data))
    damaged_copy = tmp_path / "damaged-copy.db"
    shutil.copy(db, damaged_copy)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a: asked.append(text) or QMessageBox.StandardButton.Yes))
    state = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    try:
        app_module.open_main_window(db, state)
        raise AssertionError("a damaged file must not open")
    except app_module.NeedleDeskError as exc:
        assert "damaged" in str(exc)
    assert db.read_bytes() == damaged_copy.read_bytes(), "nothing written to the damaged file"
    assert app_module.offer_backup(db, state, "the records file is damaged")
    assert "1 client, 0 sessions" in asked[0]
    window = app_module.open_main_window(db, state)
    qtbot.addWidget(window)
    assert window.client_model.total() == 1
    assert list(tmp_path.glob("clinic.before-restore-*.db")), "the damaged file is kept"


def test_audit_trail_of_a_session(qtbot, window, ui_repo, monkeypatch):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    session = ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    ui_repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    shown = []
    monkeypatch.setattr(MainWindow, "show_text",
                        staticmethod(lambda title, html: shown.append(html)))
    window.find("")
    window.open_first_match()
    window.history.setCurrentIndex(window.history_model.index(0, 0))
    window.audit_button.click()
    (html,) = shown
    assert "Jane Smith" in html and "Created" in html and "Signed off · sealed" in html
    assert "Signed off: not set → 20 Nov 2026 11:10" in html
