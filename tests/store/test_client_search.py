"""Finding the right person on a real file: Latin typing finds other scripts, a phone is
found however it is written in the clinic's country, the stored search words are checked
and recomputed (schema step `client_search_text`)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from factories import make_client, undo_products_step

from needledesk.errors import ValidationError
from needledesk.exchange import parse_json
from needledesk.settings import ClinicSettings
from needledesk.store import schema
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.expected_schema import schema_problems
from needledesk.store.repository import Repository
from needledesk.transfer import import_document

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-1.db"


def _names(repo: Repository, query: str) -> list[str]:
    return [c.full_name for c in repo.search_clients(query)]


@pytest.fixture
def clinic(repo):
    repo.save_settings(ClinicSettings(clinic_name="Lumen", country="GB"), by="Jane Smith")
    for first, last, phone in [("Анна", "Фёдорова", "07700 900 123"),
                               ("Ελένη", "Παπαδοπούλου", "+30 21 0123 4567"),
                               ("Пётр", "Иванов", None),
                               ("Ana", "López", "+44 7700 900456"),
                               ("Ana", "Lopes", "+1 555 0100")]:
        repo.add_client(make_client(first_name=first, last_name=last, phone=phone),
                        by="Jane Smith")
    return repo


@pytest.mark.parametrize(("query", "found"), [
    ("fedorova", ["Анна Фёдорова"]),
    ("fyodorova", ["Анна Фёдорова"]),
    ("Fyodorova", ["Анна Фёдорова"]),
    ("anna fed", ["Анна Фёдорова"]),
    ("федорова", ["Анна Фёдорова"]),
    ("papadopoulou", ["Ελένη Παπαδοπούλου"]),
    ("eleni", ["Ελένη Παπαδοπούλου"]),
    ("ivanov", ["Пётр Иванов"]),
    ("pyotr", ["Пётр Иванов"]),
    ("lopez", ["Ana López"]),
    ("lope", ["Ana Lopes", "Ana López"]),
])
def test_latin_typing_finds_other_scripts(clinic, query, found):
    assert _names(clinic, query) == found


@pytest.mark.parametrize(("query", "found"), [
    ("+44 7700 900123", ["Анна Фёдорова"]),      # stored as 07700 900 123
    ("0044 7700 900123", ["Анна Фёдорова"]),
    ("07700 900 123", ["Анна Фёдорова"]),
    ("07700 900456", ["Ana López"]),             # stored as +44 7700 900456
    ("077009004", ["Ana López"]),                # a partial run, national
    ("900 123", ["Анна Фёдорова"]),               # partial runs find as before
    ("0100", ["Ana Lopes"]),
    ("210 123", ["Ελένη Παπαδοπούλου"]),
])
def test_a_phone_is_found_however_it_is_written(clinic, query, found):
    assert _names(clinic, query) == found


def test_the_clinics_country_decides_how_a_national_number_reads(clinic, db_path):
    # The start of a British number typed internationally finds one stored nationally
    # (07700 900 123) as well as one stored internationally (+44 7700 900456)...
    both = ["Ana López", "Анна Фёдорова"]
    assert _names(clinic, "+44 77009") == both
    clinic.save_settings(replace(clinic.settings(), country="US"), by="Jane Smith")
    # ...but in the US, 07700 900 123 is not a British number: every client's search words
    # were recomputed with the country.
    assert _names(clinic, "+44 77009") == ["Ana López"]
    assert _names(clinic, "07700 900 123") == ["Анна Фёдорова"]
    assert check_database(clinic.db) == []
    clinic.save_settings(replace(clinic.settings(), country="GB"), by="Jane Smith")
    assert _names(clinic, "+44 77009") == both
    assert check_database(clinic.db) == []


def test_an_unknown_country_is_refused(repo):
    with pytest.raises(ValidationError) as refused:
        repo.save_settings(ClinicSettings(country="XX"), by="Jane Smith")
    assert "Clinic's country" in str(refused.value)


def test_settings_saved_before_the_country_existed_read_none(repo):
    repo.save_settings(ClinicSettings(country="GB"), by="Jane Smith")
    with repo.db.atomic():
        repo.db.execute("DELETE FROM settings WHERE key = 'country'")
    assert repo.settings().country == ""


def test_a_search_text_changed_behind_the_programs_back_is_reported(clinic, db_path):
    assert check_database(clinic.db) == []
    with clinic.db.atomic():
        clinic.db.execute("UPDATE clients SET search_text = ' someone else' "
                          "WHERE last_name = 'Иванов'")
    (problem,) = check_database(clinic.db)
    assert "(Пётр Иванов): the words a search finds them by do not match" in problem


def test_contact_details_are_checked_when_entered_or_changed(repo):
    with pytest.raises(ValidationError) as refused:
        repo.add_client(make_client(phone="call me maybe"), by="Jane Smith")
    assert [p.path for p in refused.value.problems] == ["phone"]
    with pytest.raises(ValidationError):
        repo.add_client(make_client(email="sofia@"), by="Jane Smith")
    assert repo.count_clients() == 0


def test_an_odd_phone_already_stored_still_loads_and_edits(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    with repo.db.atomic():   # as a file from before the check holds it
        repo.db.execute("UPDATE clients SET phone = 'ask reception' WHERE id = ?", [client.id])
    stored = repo.get_client(client.id)
    assert stored.phone == "ask reception"
    repo.update_client(replace(stored, notes="prefers mornings"), by="Jane Smith")
    with pytest.raises(ValidationError):
        repo.update_client(replace(stored, phone="ring me"), by="Jane Smith")


def _as_before_the_step(path: Path) -> None:
    """Take the file back to the schema before `client_search_text` (as an older
    NeedleDesk left it): the column, and the step's record, gone."""
    step = schema.STEP_NAMES.index("0007_client_search_text")
    conn = sqlite3.connect(path)
    undo_products_step(conn)
    with conn:
        conn.execute("ALTER TABLE clients DROP COLUMN search_text")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [schema.STEP_NAMES[step]])
        conn.execute(f"PRAGMA user_version = {step}")
    conn.close()


@pytest.mark.sqlite_only   # the migration of an older FILE
def test_the_upgrade_fills_every_clients_search_text(clinic, db_path, tmp_path):
    clinic.db.close()
    older = tmp_path / "older.db"
    shutil.copy(db_path, older)
    _as_before_the_step(older)
    conn = sqlite3.connect(older)
    assert schema_problems(conn) == []    # a sound file of the schema before
    conn.close()
    repo = Repository(open_database(older))
    try:
        assert repo.db.execute("PRAGMA user_version").fetchone()[0] == schema.schema_version()
        assert _names(repo, "fyodorova") == ["Анна Фёдорова"]
        assert _names(repo, "+44 7700 900123") == ["Анна Фёдорова"]
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


def test_the_first_schemas_file_upgrades_sound_and_searchable(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    repo = Repository(open_database(path))
    try:
        (client,) = repo.search_clients("lopez")
        assert _names(repo, "+1 555 0100") == [client.full_name]
        assert check_database(repo.db) == []
    finally:
        repo.db.close()


def test_a_file_from_another_system_with_odd_contact_details_still_imports(repo):
    """The exchange format always took any text as a phone or email: an import keeps it
    (the check is on entry); the client is found by name and by the digits there are."""
    text = json.dumps({"format": "needledesk-exchange", "version": 1, "clients": [{
        "id": "6f1c0c5e-6d1e-4d5e-9a51-0d3c3b1f0a11", "first_name": "Софія",
        "last_name": "Коваль", "date_of_birth": None, "phone": "ask reception, ext 12",
        "email": "sofia@", "fitzpatrick": None, "concerns": [], "notes": "",
        "courses": [], "screenings": [], "sessions": []}]})
    import_document(repo, parse_json(text), by="Jane Smith")
    stored = repo.get_client("6f1c0c5e-6d1e-4d5e-9a51-0d3c3b1f0a11")
    assert (stored.phone, stored.email) == ("ask reception, ext 12", "sofia@")
    assert _names(repo, "koval") == ["Софія Коваль"]
    assert check_database(repo.db) == []
