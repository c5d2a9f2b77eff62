"""Reading records: clients, courses, screenings, sessions, history, settings."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from needledesk.domain.model import (
    AcknowledgedWarning,
    Amendment,
    Client,
    ClientRecord,
    Course,
    Observed,
    Reaction,
    Screening,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.search import Term, query_terms
from needledesk.domain.text import (
    read_acknowledgement,
)
from needledesk.errors import NotFoundError
from needledesk.settings import ClinicSettings
from needledesk.store.engine import dialect
from needledesk.store.repository.base import RepositoryBase
from needledesk.store.repository.mapping import (
    ClientSearch,
    ClientSummary,
    SessionSummary,
    _client,
    _consent,
    _course,
    _has_table,
    _name_rank,
    _photo,
    _screening,
    _session,
    _summary,
)
from needledesk.store.search import clinic_country
from needledesk.store.settings import load_settings


def _like(text: str) -> str:
    """Typed text as a LIKE pattern's literal part (search texts hold no % or _)."""
    return text.replace("%", "").replace("_", "")


class Queries(RepositoryBase):
    def get_client(self, client_id: str) -> Client:
        rows = list(self.db.query("SELECT * FROM clients WHERE id = ?", [client_id]))
        if not rows:
            raise NotFoundError(f"no client with id {client_id!r}")
        return _client(rows[0])

    def count_clients(self) -> int:
        count: int = self.db.execute("SELECT count(*) FROM clients").fetchone()[0]
        return count

    def change_marker(self) -> int:
        """The audit trail's last sequence number: it moves with every write, from any room
        (each write adds its audit rows in its own transaction). One row read through the
        trail's primary key, cheap enough to ask every few seconds; 0 for an empty trail."""
        row = self.db.execute("SELECT seq FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _matching(terms: list[Term]) -> tuple[str, list[str]]:
        """WHERE clause (or "1 = 1") for clients whose name words (or their Latin spellings)
        start with each typed word, or whose phone holds the digits typed, as written or as
        the number reads in the clinic's country (`domain.search`)."""
        clauses, params = [], []
        for term in terms:
            clauses.append("(" + " OR ".join("search_text LIKE ?"
                                             for _ in term.alternatives) + ")")
            params += [f"% {_like(a)}%" if term.word else f"%{_like(a)}%"
                       for a in term.alternatives]
        return " AND ".join(clauses) or "1 = 1", params

    def search_clients(self, query: str = "", limit: int | None = None) -> list[ClientSummary]:
        """Clients whose name words start with each typed word (or whose phone holds the
        digits typed), ignoring case and accents: `ana lo` finds `Ana López`."""
        found = self.find_clients(query)
        return found.fetch(0, found.total if limit is None else min(limit, found.total))

    def find_clients(self, query: str = "") -> ClientSearch:
        """A search whose rows are read a page at a time, in list order, so a clinic of
        thousands draws its first page without reading every client."""
        terms = query_terms(query, clinic_country(self.db))
        tokens = [t.alternatives[0] for t in terms if t.word]
        where, params = self._matching(terms)
        columns = "SELECT id, first_name, last_name, date_of_birth, phone FROM clients"
        if len(terms) > 1:
            # "ana lo" should put Ana López before Lorenzo Anaya: rank the names that read
            # as typed (first then last, or last then first) ahead of scattered matches.
            # Two words narrow the list to a handful, so ranking them all here is cheap.
            rows = self.db.execute(f"{columns} WHERE {where} ORDER BY search_key, id",
                                   params).fetchall()
            found = sorted((_summary(r) for r in rows), key=lambda c: _name_rank(c, tokens))
            order = {c.id: i for i, c in enumerate(found)}
            return ClientSearch(len(found), lambda offset, limit: found[offset:offset + limit],
                                order.get)
        total = self.db.execute(f"SELECT count(*) FROM clients WHERE {where}",
                                params).fetchone()[0]

        def fetch(offset: int, limit: int) -> list[ClientSummary]:
            return [_summary(r) for r in self.db.execute(
                f"{columns} WHERE {where} ORDER BY search_key, id LIMIT ? OFFSET ?",
                [*params, limit, offset])]

        def position(client_id: str) -> int | None:
            row = self.db.execute(f"SELECT search_key FROM clients WHERE id = ? AND {where}",
                                  [client_id, *params]).fetchone()
            if row is None:
                return None
            before: int = self.db.execute(
                f"SELECT count(*) FROM clients WHERE {where} AND (search_key, id) < (?, ?)",
                [*params, row[0], client_id]).fetchone()[0]
            return before

        return ClientSearch(total, fetch, position)

    def courses(self, client_id: str) -> list[Course]:
        return [_course(r) for r in self.db.query(
            "SELECT * FROM courses WHERE client_id = ? ORDER BY started_on, rowid", [client_id])]

    def get_course(self, course_id: str) -> Course:
        rows = list(self.db.query("SELECT * FROM courses WHERE id = ?", [course_id]))
        if not rows:
            raise NotFoundError("this course is no longer on record")
        return _course(rows[0])

    def screenings(self, client_id: str) -> list[Screening]:
        return [_screening(r) for r in self.db.query(
            "SELECT * FROM screenings WHERE client_id = ? ORDER BY date, rowid", [client_id])]

    def get_session(self, session_id: str) -> Session:
        sessions = self._load_sessions("id = ?", [session_id])
        if not sessions:
            raise NotFoundError(f"no session with id {session_id!r}")
        return sessions[0]

    def sessions(self, client_id: str) -> list[Session]:
        """A client's sessions, oldest first, in full."""
        return self._load_sessions("client_id = ?", [client_id])

    def latest_session(self, client_id: str) -> Session | None:
        row = self.db.execute("SELECT id FROM sessions WHERE client_id = ? "
                              "ORDER BY started_at DESC LIMIT 1", [client_id]).fetchone()
        return None if row is None else self.get_session(row[0])

    def history(self, client_id: str) -> list[SessionSummary]:
        """A client's sessions, newest first, summarised for the history list."""
        text_list = dialect(self.db).text_list
        rows = self.db.execute(f"""
            SELECT s.id, s.started_at, s.course_id, s.signed_at,
                   (SELECT {text_list("area", "'|'")} FROM
                        (SELECT area FROM treated_areas WHERE session_id = s.id
                         ORDER BY position) AS a),
                   (SELECT max(depth_mm) FROM treated_areas WHERE session_id = s.id),
                   (SELECT max(severity) FROM reactions WHERE session_id = s.id),
                   (SELECT {text_list("kind || ' ' || severity", "'|'")} FROM
                        (SELECT kind, severity FROM reactions WHERE session_id = s.id
                         ORDER BY position) AS r),
                   EXISTS (SELECT 1 FROM amendments WHERE session_id = s.id)
            FROM sessions s WHERE s.client_id = ? ORDER BY s.started_at DESC""",
                               [client_id]).fetchall()
        return [SessionSummary(r[0], datetime.fromisoformat(r[1]), r[2],
                               tuple((r[4] or "").split("|")) if r[4] else (), r[5], r[6],
                               tuple(r[7].split("|")) if r[7] else (), r[3] is not None,
                               bool(r[8])) for r in rows]

    _REMEMBERED = {
        "practitioner": ("sessions", "practitioner", "started_at"),
        "device_model": ("sessions", "device_model", "started_at"),
        "cartridge": ("sessions", "cartridge", "started_at"),
        "cartridge_lot": ("sessions", "cartridge_lot", "started_at"),
        "anaesthetic_product": ("sessions", "anaesthetic_product", "started_at"),
        "serum_product": ("serums", "product", "rowid"),
        "serum_lot": ("serums", "lot", "rowid"),
        "endpoint": ("treated_areas", "endpoint", "rowid"),
        "area": ("treated_areas", "area", "rowid"),
    }

    def remembered(self, what: str, limit: int = 50) -> list[str]:
        """Earlier entries for a field, most recently used first, for completion."""
        table, column, recency = self._REMEMBERED[what]
        return [r[0] for r in self.db.execute(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} != '' "
            f"GROUP BY {column} ORDER BY max({recency}) DESC LIMIT ?", [limit])]

    def settings(self) -> ClinicSettings:
        return load_settings(self.db)

    def load_records(self, client_id: str | None = None) -> Iterator[ClientRecord]:
        """Every client (or one) with their courses, screenings and sessions, by name."""
        where, params = ("id = ?", [client_id]) if client_id else ("1 = 1", [])
        clients = [_client(r) for r in self.db.query(
            f"SELECT * FROM clients WHERE {where} ORDER BY search_key, id", params)]
        if client_id and not clients:
            raise NotFoundError(f"no client with id {client_id!r}")
        owner = "client_id = ?" if client_id else "1 = 1"
        courses, screenings, sessions = defaultdict(list), defaultdict(list), defaultdict(list)
        for r in self.db.query(f"SELECT * FROM courses WHERE {owner} "
                               "ORDER BY started_on, rowid", params):
            courses[r["client_id"]].append(_course(r))
        for r in self.db.query(f"SELECT * FROM screenings WHERE {owner} "
                               "ORDER BY date, rowid", params):
            screenings[r["client_id"]].append(_screening(r))
        for s in self._load_sessions(owner, params):
            sessions[s.client_id].append(s)
        consents = defaultdict(list)
        if _has_table(self.db, "consents"):   # (a file of schema 8 or older has none)
            for r in self.db.query(f"SELECT * FROM consents WHERE {owner} "
                                   "ORDER BY signed_at, rowid", params):
                consents[r["client_id"]].append(_consent(r))
        photos = defaultdict(list)
        if _has_table(self.db, "photos"):     # (schema 9 or older: none)
            # Live photos only: one removed by amendment leaves exports (its record and
            # audit rows stay in this file).
            for r in self.db.query(f"SELECT * FROM photos WHERE {owner} AND removed_at IS "
                                   "NULL ORDER BY added_at, rowid", params):
                photos[r["client_id"]].append(_photo(r))
        for c in clients:
            yield ClientRecord(c, courses[c.id], screenings[c.id], sessions[c.id],
                               consents[c.id], photos[c.id])

    def records_not_made_by(self, who: str) -> dict[str, int]:
        """How many clients and sessions were first written by someone other than `who`,
        by the audit trail (the demo checks it holds only its own records)."""
        counts = {}
        for table, kind in (("clients", "client"), ("sessions", "session")):
            counts[table] = self.db.execute(
                f"SELECT count(*) FROM {table} WHERE id NOT IN (SELECT record_id FROM audit "
                "WHERE kind = ? AND who = ? AND record_id IS NOT NULL)", [kind, who]).fetchone()[0]
        return counts

    def is_demo(self) -> bool:
        row = self.db.execute("SELECT value FROM settings WHERE key = 'demo_records'").fetchone()
        return bool(row and row[0] == "true")

    def existing_ids(self, table: str, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are already stored in `table`."""
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r[0] for r in self.db.execute(
                f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)}
        return found

    def _load_sessions(self, where: str, params: list[Any]) -> list[Session]:
        sessions = {r["id"]: _session(r) for r in self.db.query(
            f"SELECT * FROM sessions WHERE {where} ORDER BY started_at, rowid", params)}
        if not sessions:
            return []
        inner = f"SELECT id FROM sessions WHERE {where}"

        def children(table: str) -> Iterator[dict[str, Any]]:
            if len(sessions) == 1:
                sql, args = f"SELECT * FROM {table} WHERE session_id = ?", list(sessions)
            else:
                sql, args = f"SELECT * FROM {table} WHERE session_id IN ({inner})", params
            return self.db.query(sql + " ORDER BY session_id, position", args)

        for r in children("treated_areas"):
            sessions[r["session_id"]].areas.append(TreatedArea(
                r["area"], r["depth_mm"], r["passes"], r["endpoint"], r["notes"],
                r.get("zone")))
        for r in children("serums"):
            sessions[r["session_id"]].serums.append(Serum(r["product"], r["lot"],
                                                             r.get("lot_id")))
        for r in children("reactions"):
            sessions[r["session_id"]].reactions.append(Reaction(
                r["kind"], r["severity"], Observed(r["observed"]), r["notes"]))
        for r in children("acknowledged_warnings"):
            code, reason = read_acknowledgement(r["warning"])
            sessions[r["session_id"]].acknowledged_warnings.append(AcknowledgedWarning(
                code, r["by"], datetime.fromisoformat(r["at"]), reason))
        for r in children("amendments"):
            sessions[r["session_id"]].amendments.append(Amendment(
                datetime.fromisoformat(r["at"]), r["by"], r["reason"], json.loads(r["changes"])))
        return list(sessions.values())
