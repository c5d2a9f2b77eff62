"""The reactions report's facts, read from the file: each session of a period with its treated
areas, the products used and its reactions, in four reads (sessions, then the three child
tables of those sessions). No Qt; the counting is `domain.reactions_report`.

A layer beside the repository (it reads the clinic settings for the usual depth ranges).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from needledesk.domain.reactions_report import (
    DEFAULT_THRESHOLD,
    ReactionsReport,
    SessionFacts,
    reactions_report,
    uses_of,
)
from needledesk.store.engine import Database
from needledesk.store.settings import load_settings


def _bounds(start: date, end: date) -> list[str]:
    """`started_at` is stored as ISO text (`2026-11-20T10:30`): a session started on `start`
    to `end` has it at or after `start`'s ISO day and before the day after `end`'s."""
    return [start.isoformat(), (end + timedelta(days=1)).isoformat()]


_IN_PERIOD = "started_at >= ? AND started_at < ?"


def period_facts(db: Database, start: date, end: date) -> list[SessionFacts]:
    """Every session started from `start` to `end` (both days included), oldest first."""
    bounds = _bounds(start, end)
    sessions = db.execute(
        "SELECT id, started_at, anaesthetic_product, anaesthetic_lot, cartridge, cartridge_lot "
        f"FROM sessions WHERE {_IN_PERIOD} ORDER BY started_at, rowid", bounds).fetchall()
    if not sessions:
        return []
    inner = f"SELECT id FROM sessions WHERE {_IN_PERIOD}"

    def children(columns: str, table: str) -> dict[str, list[tuple[Any, ...]]]:
        found: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in db.execute(f"SELECT session_id, {columns} FROM {table} "
                              f"WHERE session_id IN ({inner}) ORDER BY session_id, position",
                              bounds):
            found[row[0]].append(tuple(row[1:]))
        return found

    areas = children("area, depth_mm", "treated_areas")
    serums = children("product, lot", "serums")
    reactions = children("kind, severity", "reactions")
    facts = []
    for session_id, started_at, anaesthetic, anaesthetic_lot, cartridge, cartridge_lot \
            in sessions:
        facts.append(SessionFacts(
            session_id, datetime.fromisoformat(started_at),
            tuple((area, float(depth)) for area, depth in areas.get(session_id, [])),
            uses_of(serums.get(session_id, []), anaesthetic, anaesthetic_lot, cartridge,
                    cartridge_lot),
            tuple((kind, int(severity)) for kind, severity in reactions.get(session_id, []))))
    return facts


def period_report(db: Database, start: date, end: date,
                  threshold: int = DEFAULT_THRESHOLD) -> ReactionsReport:
    """The reactions report of the period, against the clinic's usual depth ranges, counting
    sessions with a reaction of `threshold` (MILD, MODERATE or SEVERE) or worse."""
    return reactions_report(period_facts(db, start, end), start, end,
                            load_settings(db).area_depths, threshold)
