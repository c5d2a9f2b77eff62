"""Seals: frozen, versioned hashes of records exactly as they are stored.

The audit trail keeps, in each row about a record, the hash of that record's content as it
stood after the write (`content_hash`). `needledesk check` recomputes every record's hash
from the file and compares it with the record's latest audit row, so a record edited,
deleted, unsigned or added behind the program's back shows.

A version's canonical form NEVER changes once released: files hold hashes made with it.
When the stored form grows (a new column, a new kind of record), add a new version and keep
the old one's function for the rows that carry it. `tests/store/test_seals.py` fixes literal
digests for known records so a change to a released form cannot go unnoticed.

- v1 (schema 3 and 4): signed sessions only, hashed in the exchange form of that time.
  Kept here as a frozen copy (it no longer calls the exchange encoder), for verifying the
  seals written by those versions.
- v2 (schema 5): every record (client, course, screening, session with its areas, serums,
  reactions, acknowledged warnings and amendments, and the settings table as one record),
  hashed from its stored columns, in the column order fixed below.
- v3 (schema 6, `course_plans`): courses, with their planned areas and early ending
  (`V3_RECORDS`). A course sealed with v2 was sealed before those columns existed: it
  matches its seal only while they are empty (`beyond_v2`).
- v4 (schema 8, `products_and_lots`): sessions with the anaesthetic's lot, the catalogue
  lots picked and the screening re-confirmed at the visit (and each serum's catalogue lot),
  and the two new kinds, catalogue products and their lots (`V4_RECORDS`). Clients,
  screenings and settings are still written with v2, courses with v3. A session sealed with
  v2 matches its seal only while the new columns are empty (`beyond_v2`).
- v5 (schema 9, `consents_and_zones`): sessions with each treated area's face-chart zone,
  and the two new kinds, consent form versions and consents given, signatures (strokes and
  picture) included (`V5_RECORDS`). A session sealed with v2 or v4 matches its seal only
  while its areas hold no zone (`beyond_v2`, `beyond_v4`).
- v6 (schema 10, `photos`): the new kind, photos (`V6_RECORDS`): the record with the hash of
  its bytes, not the bytes (`check` hashes those against it); a removal by amendment changes
  the record's removal columns, which v6 covers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from needledesk.store.engine import dialect

V1 = "v1"
V2 = "v2"
V3 = "v3"
V4 = "v4"
V5 = "v5"
V6 = "v6"
CURRENT = V2

#: kind -> (table, key column, columns hashed). Frozen for v2.
V2_RECORDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "client": ("clients", "id", (
        "id", "first_name", "last_name", "date_of_birth", "phone", "email", "fitzpatrick",
        "concerns", "notes", "search_key", "created_at", "updated_at")),
    "course": ("courses", "id", (
        "id", "client_id", "concern", "planned_sessions", "interval_weeks", "started_on",
        "notes")),
    "screening": ("screenings", "id", (
        "id", "client_id", "date", "answers", "consent_signed", "notes")),
    "session": ("sessions", "id", (
        "id", "client_id", "course_id", "started_at", "practitioner", "device_type",
        "device_model", "cartridge", "cartridge_lot", "anaesthetic_product",
        "anaesthetic_applied_at", "anaesthetic_removed_at", "combined_with", "aftercare",
        "fee_amount", "fee_currency", "notes", "signed_at")),
    "settings": ("settings", "key", ("key", "value")),
}
#: A session's child tables and their columns (each keyed by session_id, ordered by position).
V2_SESSION_CHILDREN: Mapping[str, tuple[str, ...]] = {
    "treated_areas": ("position", "area", "depth_mm", "passes", "endpoint", "notes"),
    "serums": ("position", "product", "lot"),
    "reactions": ("position", "kind", "severity", "observed", "notes"),
    "acknowledged_warnings": ("position", "warning", "by", "at"),
    "amendments": ("position", "at", "by", "reason", "changes"),
}
#: The record kinds that carry hashes, in the order `check` reports them.
KINDS = ("client", "course", "screening", "session", "product", "lot", "consent_template",
         "consent", "photo", "settings")

#: kind -> (table, key column, columns hashed). Frozen for v3: courses only.
V3_RECORDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "course": ("courses", "id", (
        *V2_RECORDS["course"][2], "areas_planned", "ended_on", "end_reason")),
}
#: The columns v3 added, and the value each holds for a record written before them.
V3_ADDED_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "course": {"areas_planned": "[]", "ended_on": None, "end_reason": ""},
}
#: kind -> (table, key column, columns hashed). Frozen for v4: sessions and the catalogue.
V4_RECORDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "session": ("sessions", "id", (
        *V2_RECORDS["session"][2], "anaesthetic_lot", "anaesthetic_lot_id", "cartridge_lot_id",
        "screening_id", "screening_check")),
    "product": ("products", "id", ("id", "name", "kind", "maker", "notes", "retired")),
    "lot": ("lots", "id", ("id", "product_id", "lot", "expires_on", "received_on", "notes")),
}
#: A v4 session's child tables: v2's, each serum with its catalogue lot.
V4_SESSION_CHILDREN: Mapping[str, tuple[str, ...]] = {
    **V2_SESSION_CHILDREN, "serums": ("position", "product", "lot", "lot_id")}
#: The columns v4 added to sessions, each None for a session written before them (and
#: `serums.lot_id`, likewise None).
V4_ADDED_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "session": {"anaesthetic_lot": None, "anaesthetic_lot_id": None, "cartridge_lot_id": None,
                "screening_id": None, "screening_check": None},
}
#: kind -> (table, key column, columns hashed). Frozen for v5: sessions (as v4, their
#: areas with a zone) and the consents.
V5_RECORDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "session": V4_RECORDS["session"],
    "consent_template": ("consent_templates", "id", (
        "id", "kind", "version", "title", "body", "statements", "created_at", "created_by")),
    "consent": ("consents", "id", (
        "id", "client_id", "kind", "method", "signed_at", "practitioner", "title", "body",
        "statements", "answers", "template_id", "template_version", "client_strokes",
        "client_image", "practitioner_strokes", "practitioner_image", "notes")),
}
#: A v5 session's child tables: v4's, each treated area with its zone.
V5_SESSION_CHILDREN: Mapping[str, tuple[str, ...]] = {
    **V4_SESSION_CHILDREN,
    "treated_areas": (*V2_SESSION_CHILDREN["treated_areas"], "zone")}
#: kind -> (table, key column, columns hashed). Frozen for v6: photos.
V6_RECORDS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "photo": ("photos", "id", (
        "id", "client_id", "session_id", "view", "label", "taken_at", "added_at", "added_by",
        "source", "original_sha256", "sha256", "media_type", "width", "height", "size",
        "consent_id", "removed_at", "removed_by", "removed_reason")),
}
#: The version each kind is sealed with when written today.
WRITTEN: Mapping[str, str] = {kind: V6 if kind in V6_RECORDS else V5 if kind in V5_RECORDS
                              else V4 if kind in V4_RECORDS else V3 if kind in V3_RECORDS
                              else V2 for kind in KINDS}


def _plain(value: Any) -> Any:
    """A stored value JSON cannot carry (a BLOB written behind the program's back)."""
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=_plain)


def _digest(version: str, value: Any) -> str:
    return f"{version}:" + hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _seal(version: str, number: int, kind: str, columns: tuple[str, ...],
          rows: Sequence[Mapping[str, Any]],
          child_tables: Mapping[str, tuple[str, ...]] | None = None,
          children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """The hash of one record's form (v2 onwards): its rows' `columns` and, with
    `child_tables`, its child rows' columns by table; each list in the order of its rows'
    canonical text, so deterministic whatever the values' types."""
    form: dict[str, Any] = {"form": "needledesk-record", "version": number, "kind": kind,
                            "rows": sorted(([r[c] for c in columns] for r in rows),
                                           key=_canonical)}
    if child_tables is not None:
        form["children"] = {
            table: sorted(([r[c] for c in cols] for r in (children or {}).get(table, [])),
                          key=_canonical)
            for table, cols in child_tables.items()}
    return _digest(version, form)


# --- v1: signed sessions in the exchange form of schema 3-4 (frozen copy) -----------------

def seal_v1(row: Mapping[str, Any], children: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The v1 seal of a session from its stored row and child rows (each list ordered by
    position). Reproduces what schema 3-4 hashed: the session as the exchange format of that
    time encoded it, the stored text of times and amounts being that encoding already."""
    has_anaesthetic = row["anaesthetic_product"] is not None
    plain = {
        "id": row["id"],
        "course_id": row["course_id"],
        "started_at": row["started_at"],
        "practitioner": row["practitioner"],
        "device": {"type": row["device_type"], "model": row["device_model"],
                   "cartridge": row["cartridge"], "cartridge_lot": row["cartridge_lot"]},
        "anaesthetic": {"product": row["anaesthetic_product"],
                        "applied_at": row["anaesthetic_applied_at"],
                        "removed_at": row["anaesthetic_removed_at"]} if has_anaesthetic else None,
        "areas": [{"area": x["area"], "depth_mm": x["depth_mm"], "passes": x["passes"],
                   "endpoint": x["endpoint"], "notes": x["notes"]}
                  for x in children.get("treated_areas", [])],
        "serums": [{"product": x["product"], "lot": x["lot"]}
                   for x in children.get("serums", [])],
        "combined_with": json.loads(row["combined_with"]),
        "reactions": [{"kind": x["kind"], "severity": x["severity"], "observed": x["observed"],
                       "notes": x["notes"]} for x in children.get("reactions", [])],
        "aftercare": json.loads(row["aftercare"]),
        "fee": None if row["fee_amount"] is None else {"amount": row["fee_amount"],
                                                       "currency": row["fee_currency"]},
        "notes": row["notes"],
        "signed_at": row["signed_at"],
        "acknowledged_warnings": [{"warning": w["warning"], "by": w["by"], "at": w["at"]}
                                  for w in children.get("acknowledged_warnings", [])],
        "amendments": [{"at": m["at"], "by": m["by"], "reason": m["reason"],
                        "changes": json.loads(m["changes"])}
                       for m in children.get("amendments", [])],
    }
    return _digest(V1, plain)


# --- v2: every record, from its stored columns ---------------------------------------------

def seal_v2(kind: str, rows: Sequence[Mapping[str, Any]],
            children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
            ) -> str:
    """The v2 hash of one record: `rows` is its row (one; for "settings", every row of the
    settings table, any order), `children` a session's child rows by table."""
    return _seal(V2, 2, kind, V2_RECORDS[kind][2], rows,
                 V2_SESSION_CHILDREN if kind == "session" else None, children)


# --- v3: courses with their plan and early ending ------------------------------------------

def seal_v3(kind: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """The v3 hash of one course from its stored row (the columns of `V3_RECORDS`)."""
    return _seal(V3, 3, kind, V3_RECORDS[kind][2], rows)


# --- v4: sessions with their lots and visit screening; catalogue products and lots ---------

def seal_v4(kind: str, rows: Sequence[Mapping[str, Any]],
            children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """The v4 hash of one record from its stored row (the columns of `V4_RECORDS`) and, for
    a session, its child rows by table (`V4_SESSION_CHILDREN`)."""
    return _seal(V4, 4, kind, V4_RECORDS[kind][2], rows,
                 V4_SESSION_CHILDREN if kind == "session" else None, children)


# --- v5: sessions with their areas' zones; consent forms and consents ----------------------

def seal_v5(kind: str, rows: Sequence[Mapping[str, Any]],
            children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """The v5 hash of one record from its stored row (the columns of `V5_RECORDS`) and, for
    a session, its child rows by table (`V5_SESSION_CHILDREN`)."""
    return _seal(V5, 5, kind, V5_RECORDS[kind][2], rows,
                 V5_SESSION_CHILDREN if kind == "session" else None, children)


# --- v6: photos ------------------------------------------------------------------------------

def seal_v6(kind: str, rows: Sequence[Mapping[str, Any]],
            children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """The v6 hash of one record from its stored row (the columns of `V6_RECORDS`)."""
    return _seal(V6, 6, kind, V6_RECORDS[kind][2], rows, None, children)


def _dicts(cursor: sqlite3.Cursor) -> Iterable[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _rows(conn: sqlite3.Connection, table: str, key: str, columns: Iterable[str],
          ids: list[str] | None) -> Iterable[dict[str, Any]]:
    select = f"SELECT {', '.join(columns)} FROM {table}"
    if ids is None:
        yield from _dicts(conn.execute(select))
        return
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        yield from _dicts(conn.execute(f"{select} WHERE {key} IN ({marks})", chunk))


def _by_position(row: Mapping[str, Any]) -> tuple[Any, ...]:
    position = row["position"]
    number = isinstance(position, int | float)
    return (str(row["session_id"]), not number, position if number else str(position))


def stored_session(conn: sqlite3.Connection, ids: list[str] | None = None, *,
                   version: str = V2
                   ) -> tuple[dict[str, dict[str, Any]],
                              dict[str, dict[str, list[dict[str, Any]]]]]:
    """Sessions' stored rows and child rows (by session id, then table, by position), the
    columns of seal `version` (v2, v4 or v5)."""
    records, tables = ((V5_RECORDS, V5_SESSION_CHILDREN) if version == V5
                       else (V4_RECORDS, V4_SESSION_CHILDREN) if version == V4
                       else (V2_RECORDS, V2_SESSION_CHILDREN))
    _table, key, columns = records["session"]
    sessions = {r["id"]: r for r in _rows(conn, "sessions", key, columns, ids)}
    children: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    wanted = None if ids is None else list(sessions)
    for table, cols in tables.items():
        rows = list(_rows(conn, table, "session_id", ("session_id", *cols), wanted))
        rows.sort(key=_by_position)
        for r in rows:
            children[r["session_id"]][table].append(r)
    return sessions, children


def record_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None
                  ) -> dict[str | None, str]:
    """The v2 hash of each stored record of `kind` (`ids`: only these; absent ones are left
    out). Settings are one record, keyed None. Reads in batches: cheap for an import."""
    if kind == "settings":
        conn = getattr(db_or_conn, "conn", db_or_conn)
        table, key, columns = V2_RECORDS[kind]
        return {None: seal_v2(kind, list(_rows(conn, table, key, columns, None)))}
    hashes = _stored_hashes(db_or_conn, kind, ids, V2, V2_RECORDS, seal_v2)
    return {key: digest for key, digest in hashes.items()}


def v3_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None) -> dict[str, str]:
    """The v3 hash of each stored record of `kind` (a kind of `V3_RECORDS`); none in a file
    older than v3, read without upgrading (no record has a v3 seal)."""
    return _stored_hashes(db_or_conn, kind, ids, V3, V3_RECORDS, seal_v3, needs_columns=True)


def v4_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None) -> dict[str, str]:
    """The v4 hash of each stored record of `kind` (a kind of `V4_RECORDS`); none in a file
    older than v4, read without upgrading (no record has a v4 seal)."""
    return _stored_hashes(db_or_conn, kind, ids, V4, V4_RECORDS, seal_v4, needs_columns=True)


def v5_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None) -> dict[str, str]:
    """The v5 hash of each stored record of `kind` (a kind of `V5_RECORDS`); none in a file
    older than v5, read without upgrading (no record has a v5 seal)."""
    if kind == "session":
        conn = getattr(db_or_conn, "conn", db_or_conn)
        if not _has_columns(conn, "treated_areas", ("zone",)):
            return {}
    return _stored_hashes(db_or_conn, kind, ids, V5, V5_RECORDS, seal_v5, needs_columns=True)


def v6_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None) -> dict[str, str]:
    """The v6 hash of each stored record of `kind` (a kind of `V6_RECORDS`); none in a file
    older than v6, read without upgrading."""
    return _stored_hashes(db_or_conn, kind, ids, V6, V6_RECORDS, seal_v6, needs_columns=True)


def _stored_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None, version: str,
                   records: Mapping[str, tuple[str, str, tuple[str, ...]]],
                   seal: Callable[..., str], *, needs_columns: bool = False
                   ) -> dict[str, str]:
    """The `version` hash (made by `seal`) of each stored record of `kind` in `records`
    (`ids`: only these), a session with its child rows; none when `needs_columns` and the
    table lacks a column the version hashes."""
    conn = getattr(db_or_conn, "conn", db_or_conn)
    wanted = None if ids is None else list(dict.fromkeys(ids))
    table, key, columns = records[kind]
    if needs_columns and not (_has_table(conn, table) and _has_columns(conn, table, columns)):
        return {}
    if kind == "session":
        sessions, children = stored_session(conn, wanted, version=version)
        return {sid: seal(kind, [row], children.get(sid, {}))
                for sid, row in sessions.items()}
    return {r[key]: seal(kind, [r]) for r in _rows(conn, table, key, columns, wanted)}


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return dialect(conn).has_table(conn, table)


def _has_columns(conn: sqlite3.Connection, table: str, columns: Iterable[str]) -> bool:
    present = set(dialect(conn).columns(conn, table))
    return set(columns) <= present


def written_hashes(db_or_conn: Any, kind: str, ids: Iterable[str] | None = None
                   ) -> dict[str | None, str]:
    """Each stored record's hash in the version a write seals it with today (`WRITTEN`)."""
    if WRITTEN[kind] == V6:
        return {key: digest for key, digest in v6_hashes(db_or_conn, kind, ids).items()}
    if WRITTEN[kind] == V5:
        return {key: digest for key, digest in v5_hashes(db_or_conn, kind, ids).items()}
    if WRITTEN[kind] == V4:
        return {key: digest for key, digest in v4_hashes(db_or_conn, kind, ids).items()}
    if WRITTEN[kind] == V3:
        return {key: digest for key, digest in v3_hashes(db_or_conn, kind, ids).items()}
    return record_hashes(db_or_conn, kind, ids)


def beyond_v2(db_or_conn: Any, kind: str) -> set[str]:
    """The records of `kind` holding something in a column v2 did not hash (v3's or v4's
    added columns away from their defaults, or a serum's catalogue lot): a v2 seal cannot
    have covered them."""
    added, records = ((V3_ADDED_DEFAULTS[kind], V3_RECORDS) if kind in V3_ADDED_DEFAULTS
                      else (V4_ADDED_DEFAULTS[kind], V4_RECORDS) if kind in V4_ADDED_DEFAULTS
                      else ({}, {}))
    if not added:
        return set()
    conn = getattr(db_or_conn, "conn", db_or_conn)
    table, key, _columns = records[kind]
    if not _has_columns(conn, table, added):
        return set()
    found = {r[key] for r in _rows(conn, table, key, (key, *added), None)
             if any(r[c] != default for c, default in added.items())}
    if kind == "session" and _has_columns(conn, "serums", ("lot_id",)):
        found |= {r[0] for r in conn.execute(
            "SELECT DISTINCT session_id FROM serums WHERE lot_id IS NOT NULL")}
    if kind == "session":
        found |= beyond_v4(conn, kind)
    return found


def beyond_v4(db_or_conn: Any, kind: str) -> set[str]:
    """The sessions whose treated areas hold a face-chart zone: a v4 (or v2) seal cannot
    have covered it."""
    conn = getattr(db_or_conn, "conn", db_or_conn)
    if kind != "session" or not _has_columns(conn, "treated_areas", ("zone",)):
        return set()
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT session_id FROM treated_areas WHERE zone IS NOT NULL")}


def record_hash(db_or_conn: Any, kind: str, record_id: str | None) -> str | None:
    """One record's hash as a write seals it today (`WRITTEN`), or None when it is not
    stored."""
    if kind == "settings":
        return record_hashes(db_or_conn, kind, None).get(None)
    if record_id is None:
        return None   # no such record is stored
    return written_hashes(db_or_conn, kind, [record_id]).get(record_id)


def v1_seals(db_or_conn: Any, ids: Iterable[str] | None = None) -> dict[str, str]:
    """The v1 seal of each stored session (for verifying seals written by schema 3-4)."""
    conn = getattr(db_or_conn, "conn", db_or_conn)
    sessions, children = stored_session(conn, None if ids is None else list(ids))
    return {sid: seal_v1(row, children.get(sid, {})) for sid, row in sessions.items()}
