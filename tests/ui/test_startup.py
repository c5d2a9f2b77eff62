"""The start-up: the window paints and lists clients from a read-only connection while
SQLite's whole-file check runs; writes wait for the check; a check that fails after the
window is shown leads to the damaged-file flow and nothing is ever written."""

from __future__ import annotations

import threading
import time

import pytest
import shiboken6
from factories import make_client
from PySide6.QtWidgets import QApplication

from needledesk.store.database import DamagedDatabaseError, open_database
from needledesk.store.integrity import quick_check
from needledesk.store.repository import Repository
from needledesk.ui import app as app_module
from needledesk.ui.startup import CHECKING, GatedRepository

CLIENTS = 30


class GatedCheck:
    """The real quick_check, held until the test opens the gate."""

    def __init__(self):
        self.gate = threading.Event()
        self.started = threading.Event()
        self.ran_at: float | None = None

    def __call__(self, path):
        self.started.set()
        self.gate.wait(30)
        self.ran_at = time.monotonic()
        return quick_check(path)


@pytest.fixture
def clinic(tmp_path):
    path = tmp_path / "clinic.db"
    repo = Repository(open_database(path))
    for k in range(CLIENTS):
        repo.add_client(make_client(first_name=f"Client{k:02d}", phone=f"+1 555 01{k:02d}"),
                        by="Jane Smith")
    repo.db.close()   # the WAL folds back into the file
    return path


@pytest.fixture
def gated():
    check = GatedCheck()
    yield check
    check.gate.set()


def _open(qtbot, clinic, state, check, **kw):
    window = app_module.open_main_window(clinic, state, check=check, **kw)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.attached, timeout=5000)
    return window


def test_the_window_lists_clients_while_the_check_still_runs(qtbot, clinic, state, gated):
    before = clinic.read_bytes()
    window = _open(qtbot, clinic, state, gated)
    assert gated.started.wait(5) and not gated.gate.is_set()
    assert isinstance(window.repo, GatedRepository)
    assert window.repo.checking and not window.repo.writable
    assert window.client_model.total() == CLIENTS
    assert window.client_model.rowCount() > 0
    window.search.setText("client07")
    assert window.client_model.total() == 1
    window.open_first_match()
    assert window.client is not None and window.client.first_name == "Client07"
    assert clinic.read_bytes() == before, "nothing written before the check has passed"
    _no_log_written(clinic)
    gated.gate.set()   # the check passes on its own: the writer opens without any write
    qtbot.waitUntil(lambda: window.repo.writable, timeout=5000)
    window.search.setText("")   # reads go on, now through the writer's connection
    assert window.client_model.total() == CLIENTS


def test_a_write_waits_for_the_check(qtbot, clinic, state, gated):
    window = _open(qtbot, clinic, state, gated)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    threading.Timer(0.3, gated.gate.set).start()
    window.repo.add_client(make_client(first_name="Waited"), by="Jane Smith")
    saved_at = time.monotonic()
    assert gated.ran_at is not None and gated.ran_at <= saved_at, "the check ran first"
    assert CHECKING in messages
    assert window.repo.writable
    check = Repository(open_database(clinic))
    assert check.count_clients() == CLIENTS + 1
    check.db.close()


def _no_log_written(path) -> None:
    """The read-only connection may make SQLite's companion files, empty and private."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        assert wal.stat().st_size == 0
        assert wal.stat().st_mode & 0o077 == 0


def _damage(path) -> None:
    """Garbage over the root page of the clients' search index: the file still opens and
    says it is NeedleDesk's, but SQLite's check finds the damage."""
    import sqlite3

    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                        "tbl_name = 'clients' ORDER BY rootpage DESC LIMIT 1").fetchone()[0]
    conn.close()
    with open(path, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)


def test_a_check_that_fails_after_the_window_is_shown_writes_nothing(
        qtbot, clinic, state, gated, monkeypatch, no_real_modals):
    exits: list[int] = []
    monkeypatch.setattr(QApplication, "exit", staticmethod(lambda code=0: exits.append(code)))
    window = app_module.open_main_window(clinic, state, check=gated)
    window.show()   # not qtbot.addWidget: the damaged-file flow deletes the window
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.attached, timeout=5000)
    repo = window.repo
    assert window.client_model.total() == CLIENTS
    _damage(clinic)
    assert quick_check(clinic), "the file is damaged the way the check sees it"
    damaged = clinic.read_bytes()
    gated.gate.set()
    qtbot.waitUntil(lambda: exits == [1], timeout=5000)
    (said,) = [text for text in no_real_modals if text.startswith("critical")]
    assert "damaged" in said and "No good backup was found" in said
    assert "Traceback" not in said and "[" not in said.split(":", 1)[1][:1]
    assert not shiboken6.isValid(window) or not window.isVisible()
    assert not repo.writable
    with pytest.raises(DamagedDatabaseError):   # a late write is refused, not attempted
        repo.add_client(make_client(first_name="Never"), by="Jane Smith")
    assert clinic.read_bytes() == damaged, "the damaged file is never written to"
    _no_log_written(clinic)
