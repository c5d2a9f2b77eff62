"""Each client's stored search text (`clients.search_text`, see `domain.search`).

The text is derived from the client's name and phone and the clinic's country: it is not
sealed (the audit trail seals what was entered), so `check` recomputes it and reports a text
that no longer matches (`search_text_problems`), and a change of the clinic's country
recomputes every client's (`refresh_search_texts`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from needledesk.domain.search import search_text
from needledesk.store.engine import dialect


def _conn(db_or_conn: Any) -> sqlite3.Connection:
    conn: sqlite3.Connection = getattr(db_or_conn, "conn", db_or_conn)
    return conn


def clinic_country(db_or_conn: Any) -> str:
    """The clinic's country as stored in the settings (an ISO 3166 code such as "GB"), or ""
    when none is stored yet (then only numbers written internationally are read)."""
    try:
        row = _conn(db_or_conn).execute(
            "SELECT value FROM settings WHERE key = 'country'").fetchone()
        value = json.loads(row[0]) if row else ""
    except (sqlite3.DatabaseError, ValueError, TypeError):
        return ""
    return value if isinstance(value, str) else ""


def refresh_search_texts(db_or_conn: Any, country: str) -> int:
    """Recompute every client's search text for `country` (call inside the write's
    transaction); how many changed."""
    conn = _conn(db_or_conn)
    changed = 0
    for client_id, first, last, phone, stored in conn.execute(
            "SELECT id, first_name, last_name, phone, search_text FROM clients").fetchall():
        text = search_text(first, last, phone, country)
        if text != stored:
            conn.execute("UPDATE clients SET search_text = ? WHERE id = ?", [text, client_id])
            changed += 1
    return changed


def search_text_problems(db_or_conn: Any) -> list[str]:
    """A line for each client whose stored search text is not what their name and phone
    give: it was written behind NeedleDesk's back (a search would find them wrongly)."""
    conn = _conn(db_or_conn)
    if "search_text" not in dialect(conn).columns(conn, "clients"):
        return []   # a file of a schema before the column (checked against its own schema)
    country = clinic_country(conn)
    problems = []
    for client_id, first, last, phone, stored in conn.execute(
            "SELECT id, first_name, last_name, phone, search_text FROM clients"):
        try:
            expected = search_text(first, last, phone, country)
        except (TypeError, AttributeError):
            continue   # a name or phone of the wrong type: reported as an unreadable record
        if stored != expected:
            problems.append(f"client {client_id} ({first} {last}): the words a search finds "
                            "them by do not match their name and phone; they were changed "
                            "behind NeedleDesk's back")
    return problems
