"""Start-up paints first and loads after: the window's first paint is the list's first page
(or the lock screen), read with plain sqlite3; the store, the domain rules and the card
load one loop turn later (`MainWindow.attach`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from factories import make_client
from PySide6.QtWidgets import QApplication

from needledesk.errors import NeedleDeskError
from needledesk.security import hash_secret
from needledesk.store.database import open_database
from needledesk.store.first_page import PAGE
from needledesk.store.repository import Repository
from needledesk.ui import app as app_module

CLIENTS = PAGE + 50


@pytest.fixture
def clinic(tmp_path):
    path = tmp_path / "clinic.db"
    repo = Repository(open_database(path))
    with repo.db.atomic():
        for k in range(CLIENTS):
            repo.add_client(make_client(first_name=f"Client{k:03d}", last_name="Ng"),
                            by="Jane Smith")
    repo.db.close()
    return path


def _ids(model, rows):
    return [model.client(row).id for row in range(rows)]


def test_the_first_paint_lists_the_first_page_then_the_records_load(qtbot, clinic, state):
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    assert not window.attached
    assert window.client_model.rowCount() == PAGE
    assert window.count_label.text() == f"{CLIENTS} clients"
    assert not window.new_client_action.isEnabled(), "nothing is written before the load"
    first_rows = _ids(window.client_model, PAGE)
    window.show()
    qtbot.waitUntil(lambda: window.attached, timeout=5000)
    assert _ids(window.client_model, PAGE) == first_rows
    assert window.client_model.total() == CLIENTS
    assert window.new_client_action.isEnabled()
    window.search.setText("client107")
    assert window.client_model.total() == 1


def test_the_last_client_and_a_search_typed_early_are_kept(qtbot, clinic, state):
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    last = window.client_model.client(120).id
    window.close()
    state.setValue("last_client", last)
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    window.search.setText("client12")   # typed before the records have loaded
    window.finish_loading()             # a window that is not shown loads on demand
    assert window.attached
    assert window.client is not None and window.client.id == last
    assert window.client_model.total() == 10   # Client120–Client129
    window.finish_loading()                     # once only
    assert window.client_model.total() == 10


def test_a_locked_clinic_paints_the_lock_screen_and_no_name(qtbot, clinic, state):
    repo = Repository(open_database(clinic))
    repo.save_settings(replace(repo.settings(), lock_hash=hash_secret("2468")), by="Jane")
    repo.db.close()
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    assert window.is_locked and window.client_model.rowCount() == 0
    assert not window.menuBar().isEnabled()
    window.show()
    qtbot.waitUntil(lambda: window.attached, timeout=5000)
    assert window.is_locked, "still locked once the records have loaded"
    window.lock_screen.secret.setText("1357")
    assert not window.lock_screen.try_unlock()
    window.lock_screen.secret.setText("2468")
    assert window.lock_screen.try_unlock()
    assert not window.is_locked


def test_closing_before_the_records_load_writes_nothing(qtbot, clinic, state):
    before = clinic.read_bytes()
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    window.close()
    assert not window.isVisible() and not window.attached
    assert clinic.read_bytes() == before
    assert not (clinic.parent / "backups").exists()


def test_a_load_that_fails_after_the_first_paint_is_said_plainly(
        qtbot, clinic, state, monkeypatch, no_real_modals):
    exits: list[int] = []
    monkeypatch.setattr(QApplication, "exit", staticmethod(lambda code=0: exits.append(code)))

    def refuse(path, checking):
        raise NeedleDeskError(f"{path}: cannot be opened (it was moved)")

    monkeypatch.setattr(app_module, "_open_records", refuse)
    window = app_module.open_main_window(clinic, state)
    window.show()
    qtbot.waitUntil(lambda: exits == [1], timeout=5000)
    (said,) = [text for text in no_real_modals if text.startswith("critical")]
    assert "it was moved" in said


CHILD = textwrap.dedent("""
    import json, os, sys
    from PySide6.QtCore import QEvent, QObject, QSettings
    from needledesk.ui.app import application, open_main_window

    HEAVY = ["sqlite_utils", "needledesk.store.repository", "needledesk.domain.rules",
             "needledesk.exchange", "needledesk.ui.client_card", "reportlab"]

    enums = []   # Python enum classes made after the application: Qt's are made on first use

    def count_enums(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "_create_":
            enums.append(frame.f_locals.get("class_name"))

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                sys.setprofile(None)
                print(json.dumps({"rows": window.client_model.rowCount(),
                                  "loaded": [m for m in HEAVY if m in sys.modules],
                                  "enums": enums}), flush=True)
                os._exit(0)
            return False

    app = application()
    QEvent.Type.Paint
    sys.setprofile(count_enums)
    window = open_main_window(sys.argv[1], QSettings(sys.argv[2], QSettings.Format.IniFormat))
    watcher = FirstPaint(window)
    window.installEventFilter(watcher)
    window.show()
    app.exec()
""")


def test_the_first_paint_imports_neither_the_store_nor_the_rules(clinic, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                           os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", CHILD, str(clinic), str(tmp_path / "s.ini")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] == PAGE
    assert seen["loaded"] == [], f"loaded before the first paint: {seen['loaded']}"
    # Qt's namespace enums (ItemDataRole, Key, Orientation... some 20 ms to build, all at
    # once on first use: a QKeySequence or any Qt.X) wait until after the first paint.
    assert "ItemDataRole" not in seen["enums"] and "Key" not in seen["enums"], seen["enums"]


def test_a_lock_the_settings_do_not_hold_is_lifted_once_loaded(qtbot, clinic, state):
    """A damaged stored lock paints the lock screen (no name shown on a doubt); the loaded
    settings ignore the damaged value, so the window unlocks itself once loaded."""
    repo = Repository(open_database(clinic))
    repo.db.execute("INSERT INTO settings (key, value) VALUES ('lock_hash', '{damaged')")
    repo.db.conn.commit()
    repo.db.close()
    window = app_module.open_main_window(clinic, state)
    qtbot.addWidget(window)
    assert window.is_locked and window.client_model.rowCount() == 0
    window.finish_loading()
    assert not window.is_locked and window.client_model.rowCount() == PAGE
