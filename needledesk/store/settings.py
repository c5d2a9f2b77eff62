"""Clinic settings in the database's `settings` table, one JSON value per key."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, fields
from typing import Any

from needledesk.domain.guidelines import ContactTime, DepthRange
from needledesk.errors import ValidationError
from needledesk.settings import PAGE_SIZES, ClinicSettings, validate_settings
from needledesk.store.engine import Database
from needledesk.store.search import clinic_country, refresh_search_texts


def _encode(name: str, value: Any) -> Any:
    if name == "logo":
        return None if value is None else base64.b64encode(value).decode("ascii")
    if name in ("anaesthetics", "area_depths"):
        return {key: list(asdict(item).values()) for key, item in value.items()}
    return value


def _decode(name: str, value: Any) -> Any:
    if name == "logo":
        return None if value is None else base64.b64decode(value)
    if name == "anaesthetics":
        return {key: ContactTime(*(_whole_minutes(v) for v in pair)) for key, pair in value.items()}
    if name == "area_depths":
        return {key: DepthRange(*pair) for key, pair in value.items()}
    return value


def _whole_minutes(value: object) -> int:
    """A stored contact time as the int ContactTime holds (30.0 from a hand-edited or older
    file is 30); anything else is damaged (ValueError: the stored key is ignored)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number of minutes")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number of minutes")
    return int(value)


def load_settings(db: Database) -> ClinicSettings:
    """Stored values over the declared defaults; unknown or damaged keys are ignored."""
    settings = ClinicSettings()
    known = {f.name for f in fields(ClinicSettings)}
    stored = set()
    for key, raw in db.execute("SELECT key, value FROM settings").fetchall():
        stored.add(key)
        if key in known:
            try:
                setattr(settings, key, _decode(key, json.loads(raw)))
            except (ValueError, TypeError):
                continue
    if settings.page_size not in PAGE_SIZES:
        settings.page_size = "A4"
    if stored & known and "country" not in stored:
        # Settings saved before this one existed: "" (none chosen) rather than this PC's
        # locale, as the clients' search digits were made (`store.search.clinic_country`).
        settings.country = ""
    return settings


def save_settings(db: Database, settings: ClinicSettings) -> None:
    problems = validate_settings(settings)
    if problems:
        raise ValidationError(problems)
    with db.atomic():
        country_before = clinic_country(db)
        for f in fields(ClinicSettings):
            value = json.dumps(_encode(f.name, getattr(settings, f.name)), ensure_ascii=False)
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [f.name, value])
        if settings.country != country_before:
            # Numbers written nationally read differently in another country's rules.
            refresh_search_texts(db, settings.country)


def settings_summary(settings: ClinicSettings) -> dict[str, Any]:
    """Settings as the audit trail keeps them: the logo by its hash, not its bytes."""
    import hashlib

    plain = {f.name: _encode(f.name, getattr(settings, f.name)) for f in fields(ClinicSettings)}
    if settings.logo is not None:
        plain["logo"] = "sha256:" + hashlib.sha256(settings.logo).hexdigest()
    return plain


def needs_first_run(db: Database) -> bool:
    """True for a database nobody has set up yet: no clinic setting stored and no client.

    Saving settings once (the first-run set-up's Finish or Skip, or Settings) stores every
    clinic setting, and that is the mark that the set-up is done: nothing else is kept. A
    file that already holds clients (an import, a restored backup, demonstration records)
    counts as set up even if its settings were never saved, so it is never asked about;
    keys that are not clinic settings (such as the demonstration mark) do not count.
    """
    names = [f.name for f in fields(ClinicSettings)]
    stored = db.execute(f"SELECT 1 FROM settings WHERE key IN ({', '.join('?' * len(names))}) "
                        "LIMIT 1", names).fetchone()
    return stored is None and db.execute("SELECT 1 FROM clients LIMIT 1").fetchone() is None
