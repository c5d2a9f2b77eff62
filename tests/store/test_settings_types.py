"""Contact times are whole minutes (ContactTime's int fields), whatever reaches the store: a
fractional one is refused in one line and nothing is written; a stored 30.0 reads back as 30;
a damaged stored value falls back to the defaults. Real SQLite files on disk, and a real clinic
server."""

from __future__ import annotations

import json

import pytest

from needledesk.domain.guidelines import DEFAULT_ANAESTHETICS, ContactTime
from needledesk.errors import ValidationError
from needledesk.settings import ClinicSettings, validate_settings
from needledesk.store.settings import load_settings, save_settings


def test_a_fractional_contact_time_is_refused_in_one_plain_line():
    settings = ClinicSettings(anaesthetics={"EMLA 5%": ContactTime(30.5, 60)})  # type: ignore[arg-type]
    problems = validate_settings(settings)
    assert [p.path for p in problems] == ["anaesthetics[0]"]
    assert problems[0].message == "Row 1 (EMLA 5%): 30.5 min is not a whole number of minutes"


def test_a_refused_contact_time_writes_nothing(repo):
    db = repo.db
    before = [tuple(r) for r in db.execute("SELECT key, value FROM settings ORDER BY key")]
    settings = ClinicSettings(anaesthetics={"EMLA 5%": ContactTime(45, 59.9)})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        save_settings(db, settings)
    assert [tuple(r) for r in db.execute("SELECT key, value FROM settings ORDER BY key")
            ] == before


def _store_raw(db, value) -> ClinicSettings:
    with db.atomic():
        db.execute("INSERT INTO settings (key, value) VALUES ('anaesthetics', ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [json.dumps(value)])
    return load_settings(db)


def test_a_stored_whole_float_reads_back_as_int_minutes(repo):
    settings = _store_raw(repo.db, {"EMLA 5%": [45.0, 60.0]})
    usual = settings.anaesthetics["EMLA 5%"]
    assert usual == ContactTime(45, 60)
    assert type(usual.low_min) is int and type(usual.high_min) is int
    assert str(usual) == "45–60 min"


@pytest.mark.parametrize("pair", [[45.5, 60], ["45", 60], [True, 60]])
def test_a_damaged_stored_contact_time_falls_back_to_the_defaults(repo, pair):
    settings = _store_raw(repo.db, {"EMLA 5%": pair})
    assert settings.anaesthetics == DEFAULT_ANAESTHETICS
