"""Shared fixtures: a real SQLite file on disk per test."""

from __future__ import annotations

import pytest

from needledesk.store.database import open_database
from needledesk.store.repository import Repository


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory):
    """No test reads or writes the data folder, log or Qt settings of whoever runs them: the
    XDG folders point into a scratch folder for the whole run."""
    import os

    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "NEEDLEDESK_DB")}
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ.pop("NEEDLEDESK_DB", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _close_log():
    """The log file a command opened is closed after each test."""
    yield
    from needledesk.logs import shutdown_logging

    shutdown_logging()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "clinic.db"


@pytest.fixture
def repo(db_path):
    db = open_database(db_path)
    yield Repository(db)
    db.close()


@pytest.fixture
def empty(tmp_path):
    """A second clinic database, empty: where an import or a restore lands."""
    repo = Repository(open_database(tmp_path / "empty.db"))
    yield repo
    repo.db.close()


@pytest.fixture(autouse=True)
def _no_dialog_left_open():
    """A non-blocking message a test caused (such as "Saved … Open folder") is closed after
    it, so that no later test finds another test's dialog still open and modal."""
    yield
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication, QDialog

    if QApplication.instance() is None:
        return
    for widget in QApplication.allWidgets():
        if isinstance(widget, QDialog) and widget.isWindow() and widget.isVisible():
            widget.hide()   # not close(): a changed dialog would ask, with nobody to answer
