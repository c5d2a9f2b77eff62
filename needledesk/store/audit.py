"""The audit trail: every write appends a row; rows chain by hash; every record is hashed.

Each row's `hash` covers its own fields and the previous row's hash, so removing or editing
a row breaks the chain from there on. Each row about a record also carries `content_hash`,
the record's hash as stored after that write (`store.seals`: frozen, versioned forms), so a
record changed, deleted, unsigned or added behind the program's back (say with the sqlite3
shell) no longer matches its last row. Rows of schema 3-4 carry v1 seals of signed sessions
only; from schema 5 every record (drafts and settings too) has a v2 hash.
The table itself refuses UPDATE and DELETE through triggers (schema step 3). Whoever can
write the file could still append a forged row with a recomputed hash: `store.anchors`
keeps the chain's head outside the file, and `check` compares the two.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from needledesk.exchange import fmt_time
from needledesk.store import seals
from needledesk.store.anchors import when_text as _when
from needledesk.store.engine import Database, dialect

GENESIS = "0" * 64
CONTENT_VERSION = seals.CURRENT
#: Actions whose row seals a signed session (the window marks them "sealed").
SEALING_ACTIONS = ("sign", "amend")


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev: str, row: dict[str, Any]) -> str:
    """A row's chain hash (frozen: every file's trail is made with it)."""
    fields = [row["seq"], row["at"], row["who"], row["action"], row["kind"], row["record_id"],
              row["before"], row["after"], row["content_hash"]]
    return hashlib.sha256((prev + _canonical(fields)).encode("utf-8")).hexdigest()


_row_hash = chain_hash


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    who: str
    action: str
    kind: str
    record_id: str | None
    before: object
    after: object
    content_hash: str | None

    @property
    def seals(self) -> bool:
        """True for the row that signed or amended a session."""
        return self.action in SEALING_ACTIONS and self.kind == "session"


class AuditLog:
    """Appends to the `audit` table; call inside the transaction of the write it records."""

    def __init__(self, db: Database):
        self.db = db
        #: (seq, hash) of each row appended in the current write's transaction.
        self.written: list[tuple[int, str]] = []

    def _last(self) -> tuple[int, str]:
        # On the clinic server the head row is locked until this write's transaction ends;
        # the file has one writer at a time already.
        locked = dialect(self.db).lock_audit_head(self.db)
        return locked if locked is not None else self.head()

    def lock_head(self) -> tuple[int, str] | None:
        """Lock the trail's head until this write's transaction ends, and return it. On the
        clinic server, every other room's write waits here, so what this transaction reads
        next (a record's version) stays true until it commits. None on the file: it has one
        writer at a time already."""
        return dialect(self.db).lock_audit_head(self.db)

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest row; (0, GENESIS) for an empty trail. A read: it locks
        nothing."""
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def append_many(self, entries: Iterable[dict[str, Any]]) -> None:
        """Each entry: at (datetime), who, action, kind, record_id, before, after (plain
        values or None), content_hash (or None)."""
        seq, prev = self._last()
        rows = []
        for entry in entries:
            seq += 1
            row = {
                "seq": seq, "at": fmt_time(entry["at"]), "who": entry["who"] or "unknown",
                "action": entry["action"], "kind": entry["kind"],
                "record_id": entry.get("record_id"),
                "before": None if entry.get("before") is None else _canonical(entry["before"]),
                "after": None if entry.get("after") is None else _canonical(entry["after"]),
                "content_hash": entry.get("content_hash"),
            }
            row["prev_hash"] = prev
            row["hash"] = prev = _row_hash(prev, row)
            rows.append(row)
        if rows:
            audit: Any = self.db["audit"]   # a Table (a view of that name fails here)
            audit.insert_all(rows, batch_size=1000)
            self.written += [(r["seq"], r["hash"]) for r in rows]

    def append(self, **entry: Any) -> None:
        self.append_many([entry])

    def history(self, record_id: str) -> list[AuditEntry]:
        """A record's audit rows, oldest first (the client card shows these)."""
        return [AuditEntry(r["seq"], datetime.fromisoformat(r["at"]), r["who"], r["action"],
                           r["kind"], r["record_id"],
                           None if r["before"] is None else json.loads(r["before"]),
                           None if r["after"] is None else json.loads(r["after"]),
                           r["content_hash"])
                for r in self.db.query("SELECT * FROM audit WHERE record_id = ? ORDER BY seq",
                                       [record_id])]

    # --- verification -------------------------------------------------------------------

    def verify_chain(self) -> list[str]:
        """The first break in the chain, if any: a row edited, removed or inserted."""
        prev, expected_seq = GENESIS, 1
        for row in self.db.query("SELECT * FROM audit ORDER BY seq"):
            if row["seq"] != expected_seq:
                return [f"audit: row #{expected_seq} is missing (the trail jumps to "
                        f"#{row['seq']}); rows were removed behind NeedleDesk's back"]
            if row["prev_hash"] != prev or _row_hash(prev, row) != row["hash"]:
                return [f"audit: row #{row['seq']} ({row['action']} {row['kind']} "
                        f"{row['record_id']} at {row['at']}) does not match the chain; it was "
                        "changed behind NeedleDesk's back"]
            prev, expected_seq = row["hash"], expected_seq + 1
        return []

    def database_id(self) -> str | None:
        """The database id the trail recorded when it was made (schema 5), or None."""
        row = self.db.execute("SELECT record_id FROM audit WHERE kind = 'database' AND "
                              "action = 'identify' ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def latest(self) -> dict[tuple[str, str | None], dict[str, Any]]:
        """Each record's latest row carrying its hash (or deleting it), by (kind, id)."""
        found: dict[tuple[str, str | None], dict[str, Any]] = {}
        for r in self.db.execute(
                "SELECT seq, at, action, kind, record_id, content_hash, after FROM audit "
                "WHERE content_hash IS NOT NULL OR action = 'delete' ORDER BY seq"):
            found[(r[3], r[4])] = {"seq": r[0], "at": r[1], "action": r[2],
                                   "content_hash": r[5], "after": r[6]}
        return found

    def verify_records(self) -> list[str]:
        """Every record as stored must match its latest audit row. A file of schema 5 on
        (the trail has an `identify` row) accounts for every record; an older one only for
        its signed sessions (v1 seals)."""
        latest = self.latest()
        everything = self.database_id() is not None
        problems: list[str] = []
        for kind in seals.KINDS:
            if not everything and kind != "session":
                continue
            stored = seals.record_hashes(self.db, kind) if kind in seals.V2_RECORDS else {}
            v3 = seals.v3_hashes(self.db, kind) if kind in seals.V3_RECORDS else {}
            v4 = seals.v4_hashes(self.db, kind) if kind in seals.V4_RECORDS else {}
            v5 = seals.v5_hashes(self.db, kind) if kind in seals.V5_RECORDS else {}
            v6 = seals.v6_hashes(self.db, kind) if kind in seals.V6_RECORDS else {}
            present = set(stored) | set(v3) | set(v4) | set(v5) | set(v6)
            past_v2 = seals.beyond_v2(self.db, kind)
            past_v4 = seals.beyond_v4(self.db, kind)
            expected = {key[1]: row for key, row in latest.items() if key[0] == kind}
            if kind == "settings":
                problems += _settings_problems(self.db, stored[None], expected.get(None))
                continue
            v1 = None
            for record_id in sorted(present | set(expected), key=str):
                row = expected.get(record_id)
                if record_id not in present:
                    if row is not None and row["action"] != "delete":
                        what = _describe(self.db, kind, record_id)  # a query: only for a problem
                        problems.append(f"{what} was deleted behind NeedleDesk's back: audit "
                                        f"row #{row['seq']} ({row['action']} on "
                                        f"{_when(row['at'])}) records it, the file no longer "
                                        "holds it")
                    continue
                if row is None or row["action"] == "delete":
                    if everything or _signed(self.db, record_id):
                        what = _describe(self.db, kind, record_id)  # a query: only for a problem
                        problems.append(f"{what} is not in the audit trail: it was written "
                                        "behind NeedleDesk's back")
                    continue
                sealed = row["content_hash"]
                if sealed.startswith(f"{seals.V1}:"):
                    if v1 is None:
                        v1 = seals.v1_seals(self.db)
                    now = v1.get(record_id) if record_id is not None else None
                elif sealed.startswith(f"{seals.V2}:"):
                    # A record sealed before v3's columns existed holds nothing in them.
                    now = None if record_id in past_v2 else stored.get(record_id)
                elif sealed.startswith(f"{seals.V3}:") and kind in seals.V3_RECORDS:
                    now = v3.get(record_id) if record_id is not None else None
                elif sealed.startswith(f"{seals.V4}:") and kind in seals.V4_RECORDS:
                    # A session sealed before v5's zones holds none.
                    now = (None if record_id is None or record_id in past_v4
                           else v4.get(record_id))
                elif sealed.startswith(f"{seals.V5}:") and kind in seals.V5_RECORDS:
                    now = v5.get(record_id) if record_id is not None else None
                elif sealed.startswith(f"{seals.V6}:") and kind in seals.V6_RECORDS:
                    now = v6.get(record_id) if record_id is not None else None
                else:
                    what = _describe(self.db, kind, record_id)  # a query: only for a problem
                    problems.append(f"{what}: audit row #{row['seq']} holds a seal of an "
                                    "unknown kind; it was written behind NeedleDesk's back")
                    continue
                if now != sealed:
                    problems.append(_changed(self.db, kind, record_id, row))
        return problems


def _signed(db: Database, session_id: str | None) -> bool:
    row = db.execute("SELECT signed_at FROM sessions WHERE id = ?", [session_id]).fetchone()
    return bool(row and row[0] is not None)


def _was_signed(db: Database, session_id: str | None) -> bool:
    return db.execute("SELECT 1 FROM audit WHERE kind = 'session' AND record_id = ? AND "
                      "(action IN ('sign', 'amend') OR content_hash LIKE 'v1:%') LIMIT 1",
                      [session_id]).fetchone() is not None


def _describe(db: Database, kind: str, record_id: str | None) -> str:
    """`client <id> (Ana López)`, `session <id> of 20 Nov 2026 10:30 (client <id>)`."""
    try:
        if kind == "client":
            row = db.execute("SELECT first_name, last_name FROM clients WHERE id = ?",
                             [record_id]).fetchone()
            if row:
                return f"client {record_id} ({row[0]} {row[1]})"
        if kind == "session":
            row = db.execute("SELECT started_at, client_id FROM sessions WHERE id = ?",
                             [record_id]).fetchone()
            if row:
                return f"session {record_id} of {_when(row[0])} (client {row[1]})"
        if kind == "consent":
            row = db.execute("SELECT title, signed_at, client_id FROM consents WHERE id = ?",
                             [record_id]).fetchone()
            if row:
                return f"consent {record_id} ({row[0]} of {_when(row[1])}, client {row[2]})"
        if kind == "photo":
            row = db.execute("SELECT view, session_id, client_id FROM photos WHERE id = ?",
                             [record_id]).fetchone()
            if row:
                return f"photo {record_id} ({row[0]} view, session {row[1]}, client {row[2]})"
        if kind == "consent_template":
            row = db.execute("SELECT title, version FROM consent_templates WHERE id = ?",
                             [record_id]).fetchone()
            if row:
                return f"consent form {record_id} ({row[0]}, version {row[1]})"
        if kind == "product":
            name = _catalogue_value(db, "products", "name", record_id)
            if name is not None:
                return f"product {record_id} ({name})"
        if kind == "lot":
            lot = _catalogue_value(db, "lots", "lot", record_id)
            product_id = _catalogue_value(db, "lots", "product_id", record_id)
            if lot is not None:
                name = _catalogue_value(db, "products", "name", product_id)
                of = name if name is not None else f"product {product_id}"
                return f"lot {record_id} (lot {lot} of {of})"
    except Exception:  # a tampered type: the plain description is enough
        pass
    return f"{kind} {record_id}"


def _catalogue_value(db: Database, table: str, column: str, record_id: Any) -> Any:
    """A catalogue record's `column` as stored, or (when it is no longer stored: deleted
    behind the program's back) as its latest audit row wrote it; None when neither says."""
    row = db.execute(f"SELECT {column} FROM {table} WHERE id = ?", [record_id]).fetchone()
    if row is not None:
        return row[0]
    kind = {"products": "product", "lots": "lot"}[table]
    written = db.execute("SELECT after FROM audit WHERE kind = ? AND record_id = ? AND "
                         "after IS NOT NULL ORDER BY seq DESC LIMIT 1",
                         [kind, record_id]).fetchone()
    if written is None:
        return None
    value = json.loads(written[0])
    return value.get(column) if isinstance(value, dict) else None


def _changed(db: Database, kind: str, record_id: str | None, row: dict[str, Any]) -> str:
    what = _describe(db, kind, record_id)
    if kind == "session" and not _signed(db, record_id) and _was_signed(db, record_id):
        return (f"{what} was signed but is now an unsigned draft (its last audit row is "
                f"#{row['seq']}, {row['action']} on {_when(row['at'])}): it was changed "
                "behind NeedleDesk's back")
    signed = " from what was signed" if row["action"] in SEALING_ACTIONS else ""
    return (f"{what} differs{signed} (audit row #{row['seq']}, {row['action']} on "
            f"{_when(row['at'])}); it was changed behind NeedleDesk's back")


def _settings_problems(db: Database, stored: str, row: dict[str, Any] | None) -> list[str]:
    if row is None or row["content_hash"] == stored:
        return []
    detail = ""
    try:
        before = json.loads(row["after"]) if row["after"] else {}
        now = db.execute("SELECT value FROM settings WHERE key = 'lock_hash'").fetchone()
        now_lock = json.loads(now[0]) if now else None
        if before.get("lock_hash") and not now_lock:
            detail = "; the app lock was removed"
        elif before.get("lock_hash") != now_lock:
            detail = "; the app lock was changed"
    except (ValueError, TypeError, AttributeError):
        pass
    return [f"settings: the clinic settings differ from audit row #{row['seq']} "
            f"({row['action']} on {_when(row['at'])}){detail}; they were changed behind "
            "NeedleDesk's back"]
