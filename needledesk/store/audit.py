"""The audit trail: every write appends a row; rows chain by hash; signed content is sealed.

Each row's `hash` covers its own fields and the previous row's hash, so removing or editing
a row breaks the chain from there on. Rows about signed sessions also carry `content_hash`,
a hash of the session's signed content, so a session changed behind the program's back
(say with the sqlite3 shell after dropping the triggers) no longer matches its last row.
The table itself refuses UPDATE and DELETE through triggers (schema step 3).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from needledesk.domain.model import Session
from needledesk.exchange import encode_session, fmt_time

GENESIS = "0" * 64
CONTENT_VERSION = "v1"


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(session: Session) -> str:
    """A hash of everything a signed session says, amendments included. Versioned, so the
    form hashed can grow without making old seals unreadable."""
    plain = encode_session(session)
    digest = hashlib.sha256(_canonical(plain).encode("utf-8")).hexdigest()
    return f"{CONTENT_VERSION}:{digest}"


def _row_hash(prev: str, row: dict) -> str:
    fields = [row["seq"], row["at"], row["who"], row["action"], row["kind"], row["record_id"],
              row["before"], row["after"], row["content_hash"]]
    return hashlib.sha256((prev + _canonical(fields)).encode("utf-8")).hexdigest()


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


class AuditLog:
    """Appends to the `audit` table; call inside the transaction of the write it records."""

    def __init__(self, db: Database):
        self.db = db

    def _last(self) -> tuple[int, str]:
        row = self.db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def append_many(self, entries: Iterable[dict]) -> None:
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
            self.db["audit"].insert_all(rows, batch_size=1000)

    def append(self, **entry) -> None:
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

    def sealed(self) -> dict[str, tuple[int, str]]:
        """For each session with a sealed content: (seq, content hash) of its last seal."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT record_id, max(seq), content_hash FROM audit "
            "WHERE kind = 'session' AND content_hash IS NOT NULL GROUP BY record_id")}

    def verify_signed(self, sessions: Iterable[Session]) -> list[str]:
        """Every signed session must match its last seal in the trail."""
        seals = self.sealed()
        problems = []
        for session in sessions:
            if not session.is_signed:
                continue
            seal = seals.get(session.id)
            when = f"{session.started_at:%d %b %Y %H:%M}"
            if seal is None:
                problems.append(f"session {session.id} of {when} is signed but has no seal "
                                "in the audit trail; it was written behind NeedleDesk's back")
            elif content_hash(session) != seal[1]:
                problems.append(f"session {session.id} of {when} (client {session.client_id})"
                                f" differs from what was signed (audit row #{seal[0]}); it was "
                                "changed behind NeedleDesk's back")
        return problems
