"""The first paint's reader (`store.first_page`): the same rows as the repository's list,
nothing for any file it is unsure of, no names for a locked clinic, nothing written."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date

import pytest
from factories import make_client

from needledesk.security import hash_secret
from needledesk.store import first_page, schema
from needledesk.store.database import open_database
from needledesk.store.first_page import read_first_page
from needledesk.store.repository import Repository

# The first paint's reader opens the clinic's FILE itself (no server: the window on a server
# starts by connecting); its tests are of SQLite's file.
pytestmark = pytest.mark.sqlite_only

NAMES = ["Ana López", "Ana Lopez", "Ángel Álvarez", "Zoë Ng", "Фёдор Фёдорова",
         "Γιάννης Παπαδόπουλος", "李 小龍", "Mary O'Neill", "jo de la Cruz", "Émile Zola"]


def fill(repo: Repository, count: int) -> None:
    for i in range(count):
        first, last = NAMES[i % len(NAMES)].split(" ", 1)
        repo.add_client(make_client(first_name=first, last_name=f"{last} {i // 7}",
                                    date_of_birth=None if i % 5 else date(1980, 1, 1 + i % 28),
                                    phone=None if i % 3 else f"07700 900{i:03d}"), by="test")


def test_the_frozen_schema_facts_are_the_schema_modules():
    assert tuple(schema.STEP_NAMES) == first_page.SCHEMA_STEPS, (
        "a migration step was added: append its name to first_page.SCHEMA_STEPS")
    assert first_page.APPLICATION_ID == schema.APPLICATION_ID
    assert first_page.MIGRATION_SET == schema.MIGRATION_SET


def test_the_first_page_is_the_repositorys_first_page(repo, db_path):
    fill(repo, first_page.PAGE + 37)
    page = read_first_page(db_path)
    assert page is not None
    listed = repo.find_clients("")
    assert page.total == listed.total == first_page.PAGE + 37
    assert list(page.rows) == listed.fetch(0, first_page.PAGE)
    assert not page.demo and not page.locked
    shown = page.search()
    assert shown.fetch(0, 5) == listed.fetch(0, 5)
    assert shown.position(page.rows[3].id) == 3


def test_demo_records_are_marked(repo, db_path):
    fill(repo, 3)
    repo.mark_demo(by="test")
    page = read_first_page(db_path)
    assert page is not None and page.demo


def test_a_locked_clinic_reads_no_name(repo, db_path):
    fill(repo, 3)
    repo.save_settings(replace(repo.settings(), lock_hash=hash_secret("1234")), by="test")
    page = read_first_page(db_path)
    assert page is not None and page.locked
    assert page.rows == () and page.total == 3


def test_reading_writes_nothing(repo, db_path):
    fill(repo, 3)
    repo.db.close()
    before = db_path.read_bytes()
    assert read_first_page(db_path) is not None
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("case", ["missing", "empty file", "no clients", "another program",
                                  "older schema", "newer schema", "not sqlite", "folder"])
def test_anything_unsure_takes_the_full_path(tmp_path, case):
    path = tmp_path / "clinic.db"
    if case == "empty file":
        path.write_bytes(b"")
    elif case == "no clients":
        open_database(path).close()
    elif case == "another program":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE clients (id TEXT)")
            conn.execute("INSERT INTO clients VALUES ('x')")
        conn.close()
    elif case in ("older schema", "newer schema"):
        db = open_database(path)
        fill(Repository(db), 2)
        db.close()
        with sqlite3.connect(path) as conn:
            if case == "older schema":
                conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?",
                             [schema.STEP_NAMES[-1]])
                conn.execute(f"PRAGMA user_version = {len(schema.STEP_NAMES) - 1}")
            else:
                conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                             "VALUES ('needledesk', '9999_from_the_future', '2030-01-01')")
                conn.execute(f"PRAGMA user_version = {len(schema.STEP_NAMES) + 1}")
        conn.close()
        assert read_first_page(path) is None
        return
    elif case == "not sqlite":
        path.write_bytes(b"%PDF-1.4 not a database at all" * 100)
    elif case == "folder":
        path.mkdir()
    assert read_first_page(path) is None


def test_a_damaged_lock_setting_paints_the_lock_screen(repo, db_path):
    fill(repo, 2)
    repo.db.execute("INSERT INTO settings (key, value) VALUES ('lock_hash', '{not json')")
    repo.db.conn.commit()
    page = read_first_page(db_path)
    assert page is not None and page.locked and page.rows == ()


@pytest.mark.parametrize("stored", ["null", '""'])
def test_no_lock_stored_as_json(repo, db_path, stored):
    fill(repo, 2)
    repo.db.execute("INSERT INTO settings (key, value) VALUES ('lock_hash', ?)", [stored])
    repo.db.conn.commit()
    page = read_first_page(db_path)
    assert page is not None and not page.locked and len(page.rows) == 2
