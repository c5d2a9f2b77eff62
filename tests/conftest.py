"""Shared fixtures: a real SQLite file on disk per test."""

from __future__ import annotations

import pytest

from needledesk.store.database import open_database
from needledesk.store.repository import Repository


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "clinic.db"


@pytest.fixture
def repo(db_path):
    db = open_database(db_path)
    yield Repository(db)
    db.close()
