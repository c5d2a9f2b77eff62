"""The window's first page, read with nothing but `sqlite3`: what the first paint shows.

Start-up paints the client list before the rest of the program is imported (sqlite-utils,
the repository, the domain rules, the exchange format). This module reads, read-only and
in a few milliseconds whatever the size of the file, exactly what that first paint needs:

- that the file is NeedleDesk's, at exactly the schema this program writes (the steps'
  names are listed here, frozen; a test keeps them equal to `schema.STEP_NAMES`);
- how many clients there are and the first page of the list, in the list's order (the
  same query as `Repository.find_clients("")`, checked by a test);
- whether the records are demonstration records, and whether the app lock is set: a
  locked clinic's first paint is the lock screen, never a name.

Anything unusual (no file, an empty or new file, an older or newer schema, another
program's file, a damaged or unreadable page, no clients yet) gives None, and the window
takes the full path (`ui.app.open_main_window`), which opens, upgrades or refuses the file
exactly as before. The client list's row types live here too, so that the list can be
drawn without importing the repository (which re-exports them).

Writes nothing; imports nothing above the standard library.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

#: `schema.APPLICATION_ID`, `schema.MIGRATION_SET`, `schema.STEP_NAMES`, frozen here (the
#: schema module imports sqlite-utils); tests/store/test_first_page.py keeps them equal.
APPLICATION_ID = 0x4E444B31
MIGRATION_SET = "needledesk"
SCHEMA_STEPS: tuple[str, ...] = (
    "0001_initial_schema",
    "0002_history_indexes_and_settings",
    "0003_audit_trail",
    "0004_client_list_order",
    "0005_record_hashes_and_database_id",
    "0006_course_plans",
    "0007_client_search_text",
    "0008_products_and_lots",
    "0009_consents_and_zones",
    "0010_photos",
)
#: How many rows the client list reads at a time (`ui.models.PAGE` uses the same).
PAGE = 200

#: The client list's columns and order: `Repository.find_clients` uses the same.
LIST_COLUMNS = "SELECT id, first_name, last_name, date_of_birth, phone FROM clients"
LIST_ORDER = "ORDER BY search_key, id"


@dataclass(frozen=True)
class ClientSummary:
    """One row of the client list: enough to find and tell clients apart."""

    id: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    phone: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class ClientSearch:
    """The result of a client search: how many match, and the rows read on demand."""

    total: int
    #: (offset, limit) -> the clients at those rows of the list
    fetch: Callable[[int, int], list[ClientSummary]]
    #: a client's row in this list, or None when the search does not find them
    position: Callable[[str], int | None]


def summary(row: tuple[Any, ...]) -> ClientSummary:
    """A client-list row from the columns of LIST_COLUMNS."""
    born = row[3]
    return ClientSummary(row[0], row[1], row[2],
                         None if born is None else date.fromisoformat(born), row[4])


@dataclass(frozen=True)
class FirstPage:
    """What the first paint shows: the list's first rows (none when locked)."""

    path: Path
    total: int
    rows: tuple[ClientSummary, ...]
    demo: bool
    locked: bool

    def search(self) -> ClientSearch:
        """The first page as a search the list can show until the repository takes over
        (rows past the first page are read by the repository's search)."""
        rows = list(self.rows)
        order = {c.id: i for i, c in enumerate(rows)}
        return ClientSearch(len(rows), lambda offset, limit: rows[offset:offset + limit],
                            order.get)


def read_first_page(path: str | Path, limit: int = PAGE) -> FirstPage | None:
    """The first page of a NeedleDesk file at this schema with clients in it, or None
    (then the caller opens the file the full way). Read-only; never raises for the file's
    content: anything unsure is None."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    except (OSError, sqlite3.Error):
        return None
    try:
        return _read(conn, path, limit)
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, path: Path, limit: int) -> FirstPage | None:
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        return None   # another program's, or an old file the full path knows how to take
    if conn.execute("PRAGMA user_version").fetchone()[0] != len(SCHEMA_STEPS):
        return None
    steps = {row[0] for row in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET])}
    if steps != set(SCHEMA_STEPS):
        return None   # older (needs an upgrade) or newer (refused): the full path says so
    total = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
    if not total:
        return None   # nothing to list, and perhaps the first-run set-up to show
    settings = dict(conn.execute(
        "SELECT key, value FROM settings WHERE key IN ('demo_records', 'lock_hash')"))
    demo = settings.get("demo_records") == "true"
    # The lock is stored as JSON: a hash string, or null / "" for none. Anything else,
    # even a damaged value, paints the lock screen (the settings decide once loaded).
    locked = settings.get("lock_hash") not in (None, "null", '""')
    rows: tuple[ClientSummary, ...] = ()
    if not locked:   # a locked window paints the lock screen: no name is even read
        rows = tuple(summary(r) for r in conn.execute(
            f"{LIST_COLUMNS} {LIST_ORDER} LIMIT ?", [limit]))
    return FirstPage(path, total, rows, demo, locked)
