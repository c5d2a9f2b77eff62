"""The window's slow work runs on real worker threads with visible progress: back up now,
the backup on closing (the window keeps repainting and quits when it reports), the restore
list (shown at once, checks filling in) and the restore itself (the connection closed
before and reopened after; a failed reopen leaves no record action)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from factories import make_client
from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication

from needledesk.store import backup as store_backup
from needledesk.store import database as store_database
from needledesk.store import restore as store_restore
from needledesk.store.backup import list_backups, take_backup
from needledesk.store.database import DatabaseError
from needledesk.ui.backups import RestoreDialog


@pytest.fixture
def gated_backup(monkeypatch):
    """take_backup reports some progress, then waits on the worker for the test's word."""
    gate, started, threads = threading.Event(), threading.Event(), []
    real = store_backup.take_backup

    def slow(db_path, folder, *, now=None, on_progress=None):
        threads.append(QThread.currentThread())
        if on_progress is not None:
            on_progress(1, 4)
        started.set()
        assert gate.wait(10), "the test never released the backup"
        return real(db_path, folder, now=now, on_progress=on_progress)

    monkeypatch.setattr(store_backup, "take_backup", slow)
    yield gate, started, threads
    gate.set()


def _ui_thread():
    return QApplication.instance().thread()


def test_back_up_now_runs_on_a_worker_with_a_progress_bar(qtbot, window, ui_repo, tmp_path,
                                                          gated_backup, real_threads):
    gate, started, threads = gated_backup
    ui_repo.add_client(make_client(), by="Jane Smith")
    window.back_up_now()
    assert started.wait(5)
    assert threads[0] is not _ui_thread()
    bar = window.backups.status_bar_progress
    assert bar.isVisible()
    assert window.statusBar().currentMessage().startswith("Backing up to ")
    qtbot.waitUntil(lambda: bar.maximum() == 4 and bar.value() == 1, timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: "Backed up: 1 client, " in window.statusBar().currentMessage(),
                    timeout=10_000)
    assert not bar.isVisible()
    assert len(list((tmp_path / "backups").glob("needledesk-*.db"))) == 1


class _Paints(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_quitting_backs_up_on_a_worker_while_the_window_stays_responsive(
        qtbot, window, ui_repo, tmp_path, gated_backup, real_threads):
    gate, started, threads = gated_backup
    ui_repo.add_client(make_client(), by="Jane Smith")
    window.close()
    assert started.wait(5)
    assert threads[0] is not _ui_thread()
    assert window.isVisible(), "the window waits for the backup before it closes"
    dialog = window.backups.close_dialog
    assert dialog is not None and dialog.isVisible()
    assert "Backing up to" in dialog.labelText()
    assert str(tmp_path / "backups") in dialog.labelText()  # the folder is named
    # The event loop runs while the backup is copied: timers fire and the window repaints.
    ticks, paints = [], _Paints()
    window.count_label.installEventFilter(paints)
    QTimer.singleShot(0, lambda: ticks.append(1))
    window.count_label.update()
    qtbot.waitUntil(lambda: bool(ticks) and paints.count > 0, timeout=5000)
    assert window.isVisible() and not gate.is_set()
    window.close()  # asking again while it runs starts no second backup
    gate.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert len(threads) == 1
    assert len(list((tmp_path / "backups").glob("needledesk-*.db"))) == 1
    assert window.backups.close_dialog is None


def test_a_failed_backup_on_closing_says_so_and_still_quits(qtbot, window, monkeypatch,
                                                            no_real_modals, real_threads):
    def failing(db_path, folder, *, now=None, on_progress=None):
        raise store_backup.BackupError("the USB stick is full")

    monkeypatch.setattr(store_backup, "take_backup", failing)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    (said,) = [text for text in no_real_modals if "USB stick is full" in text]
    assert said.startswith("warning: The backup to ")
    assert "The records themselves are saved" in said


def test_the_restore_list_shows_at_once_and_the_checks_fill_in(
        qtbot, window, ui_repo, tmp_path, monkeypatch, real_threads):
    folder = tmp_path / "backups"
    ui_repo.add_client(make_client(), by="Jane Smith")
    take_backup(ui_repo.path, folder, now=datetime(2026, 11, 19, 9, 30))
    take_backup(ui_repo.path, folder, now=datetime(2026, 11, 20, 9, 30))
    gate, threads = threading.Event(), []
    real = store_backup.describe

    def slow(path, *, thorough=False):
        threads.append(QThread.currentThread())
        assert gate.wait(10)
        if "2026-11-19" in str(path) or "20261119" in str(path):
            raise DatabaseError(f"{path}: database disk image is malformed")
        return real(path, thorough=thorough)

    monkeypatch.setattr(store_backup, "describe", slow)
    backups = list_backups(folder, check=False)
    assert len(backups) == 2
    dialog = RestoreDialog(backups, folder, window)
    qtbot.addWidget(dialog)
    dialog.start_checks()
    texts = [dialog.backups.item(row).text() for row in range(2)]
    assert all(text.endswith("— checking…") and "MB" in text for text in texts)
    assert not dialog.restore_button.isEnabled(), "nothing unchecked can be restored"
    gate.set()
    qtbot.waitUntil(lambda: dialog.progress.value() == 2, timeout=10_000)
    assert threads and all(thread is not _ui_thread() for thread in threads)
    newest, older = (dialog.backups.item(row) for row in range(2))
    assert "1 client, " in newest.text() and "checking" not in newest.text()
    assert "cannot be used: " in older.text() and "malformed" in older.text()
    assert not older.flags() & older.flags().ItemIsEnabled
    dialog.backups.setCurrentRow(0)
    assert dialog.restore_button.isEnabled()


def test_restore_runs_on_a_worker_with_the_connection_closed_meanwhile(
        qtbot, window, ui_repo, tmp_path, monkeypatch, real_threads):
    ui_repo.add_client(make_client(first_name="Kept"), by="Jane Smith")
    take_backup(ui_repo.path, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    ui_repo.add_client(make_client(first_name="Lost"), by="Jane Smith")
    module = store_restore
    gate, started, threads = threading.Event(), threading.Event(), []
    real = module.restore_and_record

    def slow(backup, db_path, **kw):
        threads.append(QThread.currentThread())
        started.set()
        assert gate.wait(10)
        return real(backup, db_path, **kw)

    monkeypatch.setattr(module, "restore_and_record", slow)
    monkeypatch.setattr(RestoreDialog, "ask", classmethod(
        lambda cls, parent, backups, folder: backups[0]))
    old_repo = window.repo
    assert window.restore_backup()
    try:
        assert started.wait(5)
        assert threads[0] is not _ui_thread()
        assert window.backups.restoring
        assert window.backups.restore_dialog.isVisible()
        assert not window.splitter.isEnabled() and not window.new_client_action.isEnabled()
        with pytest.raises(Exception, match="closed"):
            old_repo.db.execute("SELECT 1")  # the window's connection is closed meanwhile
        window.back_up_now()  # the timer or a key press: no backup during a restore
        assert not window.backups.running
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not window.backups.restoring, timeout=10_000)
    assert [c.first_name for c in window.repo.search_clients("")] == ["Kept"]
    assert window.client_model.total() == 1
    assert window.splitter.isEnabled() and window.new_client_action.isEnabled()
    assert window.backups.restore_dialog is None


def test_a_failed_reopen_after_restore_leaves_no_record_action(
        qtbot, window, ui_repo, tmp_path, monkeypatch, no_real_modals):
    ui_repo.add_client(make_client(first_name="Kept"), by="Jane Smith")
    take_backup(ui_repo.path, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    monkeypatch.setattr(RestoreDialog, "ask", classmethod(
        lambda cls, parent, backups, folder: backups[0]))

    def cannot_open(path, *, checked=None):
        raise DatabaseError(f"{path}: cannot be opened (the disk was removed)")

    monkeypatch.setattr(store_database, "open_checked", cannot_open)
    assert not window.restore_backup()
    assert not window.records_open
    assert not window.splitter.isEnabled()
    for action in window.record_actions:
        assert not action.isEnabled(), action.text()
    assert "cannot be opened (the disk was removed)" in window.statusBar().currentMessage()
    (asked,) = [text for text in no_real_modals if text.startswith("question: ")]
    assert "could not be opened again" in asked and "disk was removed" in asked
    assert not window.backup_timer.isActive()
    window.close()  # quitting is still possible, and takes no backup of a closed file
    assert not window.isVisible()
    assert len(list((tmp_path / "backups").glob("needledesk-*.db"))) == 1


def test_restoring_at_start_runs_on_a_worker_with_progress(qtbot, tmp_path, monkeypatch,
                                                          real_threads):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox, QProgressDialog

    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.ui import app as app_module

    db = tmp_path / "clinic.db"
    repo = Repository(open_database(db))
    repo.add_client(make_client(), by="Jane Smith")
    take_backup(db, tmp_path / "backups", now=datetime(2026, 11, 20, 9, 30))
    repo.db.close()
    data = bytearray(db.read_bytes())
    data[100:] = bytes(len(data) - 100)  # the tables are gone
    db.write_bytes(bytes(data))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a: QMessageBox.StandardButton.Yes))
    module = store_restore
    gate, started, threads = threading.Event(), threading.Event(), []
    real = module.restore_and_record

    def slow(backup, db_path, **kw):
        threads.append(QThread.currentThread())
        started.set()
        assert gate.wait(10)
        return real(backup, db_path, **kw)

    monkeypatch.setattr(module, "restore_and_record", slow)
    shown: list[str] = []
    poll = QTimer()

    def look() -> None:  # runs in the event loop that waits for the worker
        if started.is_set():
            poll.stop()
            shown.extend(w.labelText() for w in QApplication.topLevelWidgets()
                         if isinstance(w, QProgressDialog) and w.isVisible())
            gate.set()

    poll.timeout.connect(look)
    poll.start(20)
    state = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    try:
        assert app_module.offer_backup(db, state, "the records file is damaged")
    finally:
        poll.stop()
        gate.set()
    assert threads[0] is not _ui_thread()
    assert any(text.startswith("Restoring the backup of ") for text in shown), shown
    QApplication.sendPostedEvents(None, 0)
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QProgressDialog) and w.isVisible()]
    restored = Repository(open_database(db))
    assert restored.count_clients() == 1
    restored.db.close()
