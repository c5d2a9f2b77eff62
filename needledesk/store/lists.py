"""The clinic's safety lists read from the file: who received a lot (a recall) and who is due.

Both take a sqlite-utils `Database` or a plain `sqlite3.Connection` and only read. The rows
are `domain.safety`'s; what a course's due state is, `domain.due` decides.

A recall matches the lot text as recorded on each session (serum lots, the anaesthetic's
lot, the cartridge lot), ignoring case and surrounding spaces (`domain.products.lot_key`),
so lots typed before the catalogue existed are found too. SQLite's own `lower()` folds ASCII
only, so the comparing is done in Python over the distinct lot texts (a few hundred even in a
large clinic), and the sessions are then read by exact text.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from needledesk.domain.due import CourseFacts, due_rows
from needledesk.domain.model import ProductKind
from needledesk.domain.products import lot_key
from needledesk.domain.safety import DueRow, RecallRow
from needledesk.store.engine import Database, dialect

#: Where each kind's lot text is kept: (table, lot column, product column).
_LOT_COLUMNS: dict[ProductKind, tuple[str, str, str]] = {
    ProductKind.SERUM: ("serums", "lot", "product"),
    ProductKind.ANAESTHETIC: ("sessions", "anaesthetic_lot", "anaesthetic_product"),
    ProductKind.CARTRIDGE: ("sessions", "cartridge_lot", "cartridge"),
}

_KIND_ORDER = {kind: i for i, kind in enumerate(ProductKind)}


def _conn(db: Any) -> Any:
    if isinstance(db, sqlite3.Connection):
        return db
    return db.conn


def _name(first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip()


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _recall_rows(conn: sqlite3.Connection, kind: ProductKind, texts: list[str],
                 start: date | None, end: date | None) -> list[tuple[Any, ...]]:
    """(session id, client id, first, last, phone, started_at, product, lot, position,
    practitioner, signed_at) of every use of one of `texts` as a `kind` lot."""
    table, lot_column, product_column = _LOT_COLUMNS[kind]
    if table == "serums":
        source = ("FROM serums x JOIN sessions s ON s.id = x.session_id "
                  "JOIN clients c ON c.id = s.client_id")
        picked = f"x.{product_column}, x.{lot_column}, x.position"
        where = [f"x.{lot_column} IN {dialect(conn).in_json_list()}"]
    else:
        source = "FROM sessions s JOIN clients c ON c.id = s.client_id"
        picked = f"s.{product_column}, s.{lot_column}, 0"
        where = [f"s.{lot_column} IN {dialect(conn).in_json_list()}"]
    params: list[Any] = [json.dumps(texts)]
    if start is not None:
        where.append("s.started_at >= ?")
        params.append(start.isoformat())
    if end is not None:
        where.append("s.started_at < ?")
        params.append((end + timedelta(days=1)).isoformat())
    sql = (f"SELECT s.id, s.client_id, c.first_name, c.last_name, c.phone, s.started_at, "
           f"{picked}, s.practitioner, s.signed_at {source} WHERE {' AND '.join(where)}")
    return conn.execute(sql, params).fetchall()


def _changed(changes: dict[str, Any], kind: ProductKind, position: int, lot: str) -> bool:
    """Whether one amendment's `changes` changed the `kind` lot at `position` that now
    reads `lot`: its own path changed, or a whole object or list holding it was replaced by
    one in which it was not there before."""
    def before(path: str) -> Any:
        return changes[path][0] if isinstance(changes.get(path), list) else None

    if kind is ProductKind.SERUM:
        if f"serums[{position}].lot" in changes:
            return True
        if f"serums[{position}]" in changes:
            old = before(f"serums[{position}]")
            return not isinstance(old, dict) or old.get("lot") != lot
        if "serums" in changes:
            old = before("serums")
            lots = [x.get("lot") for x in old if isinstance(x, dict)] \
                if isinstance(old, list) else []
            return lot not in lots
        return False
    holder, leaf = (("anaesthetic", "lot") if kind is ProductKind.ANAESTHETIC
                    else ("device", "cartridge_lot"))
    if f"{holder}.{leaf}" in changes:
        return True
    if holder in changes:
        old = before(holder)
        return not isinstance(old, dict) or old.get(leaf) != lot
    return False


def recall(db: Database | sqlite3.Connection, lot: str, *,
           kinds: Iterable[ProductKind] | None = None, start: date | None = None,
           end: date | None = None) -> list[RecallRow]:
    """Every session that used `lot` (compared by `lot_key`) as a serum, anaesthetic or
    cartridge lot (only the `kinds` given, when given), started between `start` and `end`
    inclusive (either may be open); one row per use, by start time, then client name.

    The lot is the one on the session as it stands: a lot changed by an amendment is found
    under its new text, marked `amended`, and no longer under the old one."""
    conn = _conn(db)
    key = lot_key(lot)
    if not key:
        return []
    wanted = list(ProductKind) if kinds is None else [ProductKind(k) for k in kinds]
    found: list[tuple[ProductKind, tuple[Any, ...]]] = []
    for kind in sorted(set(wanted), key=_KIND_ORDER.__getitem__):
        table, lot_column, _product = _LOT_COLUMNS[kind]
        texts = [text for (text,) in conn.execute(
                     f"SELECT DISTINCT {lot_column} FROM {table} "
                     f"WHERE {lot_column} IS NOT NULL")
                 if lot_key(text) == key]
        if texts:
            found += [(kind, row) for row in _recall_rows(conn, kind, texts, start, end)]
    amended_ids = sorted({row[0] for _kind, row in found if row[10] is not None})
    amendments: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    if amended_ids:
        for session_id, changes in conn.execute(
                "SELECT session_id, changes FROM amendments WHERE session_id IN "
                f"{dialect(conn).in_json_list()} ORDER BY session_id, position",
                [json.dumps(amended_ids)]):
            try:
                plain = json.loads(changes)
            except ValueError:
                continue
            if isinstance(plain, dict):
                amendments[session_id].append(plain)
    rows: list[tuple[tuple[Any, ...], RecallRow]] = []
    for kind, (session_id, client_id, first, last, phone, started_at, product, text,
               position, practitioner, signed_at) in found:
        name = _name(first, last)
        amended = any(_changed(changes, kind, position, text)
                      for changes in amendments.get(session_id, ()))
        row = RecallRow(session_id=session_id, client_id=client_id, client_name=name,
                        phone=phone, started_at=datetime.fromisoformat(started_at),
                        kind=kind, product=product or "", lot=text,
                        practitioner=practitioner, signed=signed_at is not None,
                        amended=amended)
        order = (started_at, name.casefold(), client_id, session_id, _KIND_ORDER[kind],
                 position)
        rows.append((order, row))
    rows.sort(key=lambda pair: pair[0])
    return [row for _order, row in rows]


def course_facts(db: Database | sqlite3.Connection) -> list[CourseFacts]:
    """Every course not ended early, with its client and the count and day of its latest
    session (drafts included), read through the `sessions_by_course` index."""
    conn = _conn(db)
    by_course = dialect(conn).indexed_by("sessions_by_course")
    facts: list[CourseFacts] = []
    for (course_id, client_id, first, last, phone, concern, interval_weeks, planned,
         started_on, ended_on, done, latest) in conn.execute(
            "SELECT k.id, k.client_id, c.first_name, c.last_name, c.phone, k.concern, "
            "k.interval_weeks, k.planned_sessions, k.started_on, k.ended_on, "
            f"(SELECT count(*) FROM sessions s {by_course} "
            " WHERE s.course_id = k.id), "
            f"(SELECT max(s.started_at) FROM sessions s {by_course} "
            " WHERE s.course_id = k.id) "
            "FROM courses k JOIN clients c ON c.id = k.client_id "
            "WHERE k.ended_on IS NULL"):
        facts.append(CourseFacts(
            client_id=client_id, client_name=_name(first, last), phone=phone,
            course_id=course_id, concern=concern, interval_weeks=int(interval_weeks),
            planned_sessions=int(planned), started_on=_day(started_on),
            ended_on=_day(ended_on) if ended_on else None, sessions_done=int(done),
            last_session=_day(latest) if latest else None))
    return facts


def due(db: Database | sqlite3.Connection, today: date, *, within_days: int = 0,
        lapsed_after_intervals: int = 2) -> list[DueRow]:
    """The courses whose next session is due on `today`, overdue, lapsed (more than
    `lapsed_after_intervals` intervals past its due day) or, with `within_days`, due within
    that many days; by due day, then client name. Courses ended early or complete are not
    listed (`domain.due`)."""
    return due_rows(course_facts(db), today, within_days=within_days,
                    lapsed_after_intervals=lapsed_after_intervals)
