"""The repository: every read and write of records goes through here, as dataclasses.

Writes that span rows (a session with its areas, serums and reactions; an import) run in
one `db.atomic()` transaction, so a crash leaves the whole record or none of it. Every
write is validated by `domain.rules` first: a record that breaks a rule is never written.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlite_utils import Database

from needledesk.domain import amend
from needledesk.domain.model import (
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    Client,
    ClientRecord,
    Course,
    Device,
    DeviceType,
    Fee,
    Observed,
    Reaction,
    Screening,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.rules import (
    Problem,
    join_path,
    validate_client,
    validate_course,
    validate_record,
    validate_screening,
    validate_session,
)
from needledesk.domain.text import (
    compose_acknowledgement,
    digits,
    fold,
    moment_text,
    read_acknowledgement,
)
from needledesk.errors import NotFoundError, SignedRecordError, ValidationError
from needledesk.exchange import encode_record, encode_session, fmt_amount, fmt_date, fmt_time
from needledesk.settings import ClinicSettings
from needledesk.store import anchors, seals
from needledesk.store.audit import AuditLog
from needledesk.store.database import open_database
from needledesk.store.settings import load_settings, save_settings, settings_summary

_CHILD_TABLES = ("treated_areas", "serums", "reactions", "acknowledged_warnings", "amendments")


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


@dataclass(frozen=True)
class SessionSummary:
    """One row of a client's history."""

    id: str
    started_at: datetime
    course_id: str | None
    areas: tuple[str, ...]
    deepest_mm: float | None
    worst_reaction: int | None
    reactions: tuple[str, ...]
    signed: bool
    amended: bool


@dataclass
class ImportResult:
    added: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Stored sessions the file brought up to date: "sign-offs" and "amendments" applied.
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class _CatchUp:
    """A stored session the file carries further: the sign-off and/or the amendments made
    elsewhere, to apply (in order) as they were made."""

    stored: Session
    incoming: Session
    sign: bool


def search_key(client: Client) -> str:
    """Folded words of the name (last name first, so the key also sorts) and phone digits."""
    return f" {_words(f'{client.last_name} {client.first_name}')} {digits(client.phone)}"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def plain_client(client: Client) -> dict:
    """A client's own fields in exchange form (without their courses and sessions)."""
    plain = encode_record(ClientRecord(client))
    for key in ("courses", "screenings", "sessions"):
        plain.pop(key)
    return plain


class Repository:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = datetime.now,
                 user: str = ""):
        self.db = db
        self.clock = clock
        #: Who is writing: the practitioner selected in the window, or the command's user.
        self.user = user
        self.audit = AuditLog(db)

    @property
    def path(self) -> str:
        """The database file this repository reads and writes."""
        return self.db.execute("PRAGMA database_list").fetchone()[2]

    def reader(self) -> Repository:
        """A second connection to the same file, for reading on a worker thread (WAL lets it
        read while this one writes). The caller closes it: `reader.db.close()`."""
        return Repository(open_database(self.path, migrate=False), clock=self.clock)

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    # --- clients --------------------------------------------------------------------------

    def _client_row(self, client: Client) -> dict:
        return {
            "id": client.id, "first_name": client.first_name.strip(),
            "last_name": client.last_name.strip(),
            "date_of_birth": fmt_date(client.date_of_birth), "phone": client.phone,
            "email": client.email, "fitzpatrick": client.fitzpatrick,
            "concerns": _json(client.concerns), "notes": client.notes,
            "search_key": search_key(client),
        }

    def _record(self, action: str, kind: str, record_id: str | None, *, before=None,
                after=None) -> None:
        """The audit row of a write, with the record's hash as now stored (call inside the
        write's transaction, after the write)."""
        content = (seals.record_hash(self.db, kind, record_id) if kind in seals.KINDS
                   else None)
        self.audit.append(at=self._now(), who=self.user, action=action, kind=kind,
                          record_id=record_id, before=before, after=after,
                          content_hash=content)

    @contextlib.contextmanager
    def _writing(self):
        """One write's transaction; once committed, the trail's new head is noted in this
        database's anchor file outside it (`store.anchors`). A note is also made just
        before the commit, so a crash between the two leaves the rows accounted for."""
        database_id = self._database_id()
        with self.db.atomic():
            start = self.audit.head() if database_id else None
            yield
            end = self.audit.head() if database_id else None
            if start is not None and end is not None and end[0] > start[0]:
                anchors.note_write(database_id, start[0] + 1, end[0], end[1], pending=True,
                                   path=self.path)
        if start is not None and end is not None and end[0] > start[0] \
                and not self.db.conn.in_transaction:
            anchors.note_write(database_id, start[0] + 1, end[0], end[1], path=self.path)

    def _database_id(self) -> str | None:
        if not hasattr(self, "_db_id"):
            self._db_id = anchors.database_id(self.db) if self.path else None
        return self._db_id

    def add_client(self, client: Client) -> Client:
        _raise_if(validate_client(client))
        now = fmt_time(self._now())
        with self._writing():
            self.db["clients"].insert(self._client_row(client) | {"created_at": now,
                                                                  "updated_at": now})
            self._record("create", "client", client.id, after=plain_client(client))
        return client

    def update_client(self, client: Client) -> Client:
        _raise_if(validate_client(client))
        old = self.get_client(client.id)
        row = self._client_row(client) | {"updated_at": fmt_time(self._now())}
        with self._writing():
            self.db["clients"].update(client.id, row)
            self._record("update", "client", client.id, before=plain_client(old),
                         after=plain_client(client))
        return client

    def get_client(self, client_id: str) -> Client:
        rows = list(self.db.query("SELECT * FROM clients WHERE id = ?", [client_id]))
        if not rows:
            raise NotFoundError(f"no client with id {client_id!r}")
        return _client(rows[0])

    def count_clients(self) -> int:
        return self.db.execute("SELECT count(*) FROM clients").fetchone()[0]

    @staticmethod
    def _matching(tokens: list[str]) -> tuple[str, list[str]]:
        """WHERE clause (or "1") for clients whose name words start with each typed word, or
        whose phone holds the digits typed."""
        where = " AND ".join("search_key LIKE ?" for _ in tokens) or "1"
        params = [f"%{t}%" if t.isdigit() else f"% {t}%" for t in tokens]
        return where, params

    def search_clients(self, query: str = "", limit: int | None = None) -> list[ClientSummary]:
        """Clients whose name words start with each typed word (or whose phone holds the
        digits typed), ignoring case and accents: `ana lo` finds `Ana López`."""
        found = self.find_clients(query)
        return found.fetch(0, found.total if limit is None else min(limit, found.total))

    def find_clients(self, query: str = "") -> ClientSearch:
        """A search whose rows are read a page at a time, in list order, so a clinic of
        thousands draws its first page without reading every client."""
        tokens = _words(query).split()
        where, params = self._matching(tokens)
        columns = "SELECT id, first_name, last_name, date_of_birth, phone FROM clients"
        if len(tokens) > 1:
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
            return self.db.execute(
                f"SELECT count(*) FROM clients WHERE {where} AND (search_key, id) < (?, ?)",
                [*params, row[0], client_id]).fetchone()[0]

        return ClientSearch(total, fetch, position)

    # --- courses and screenings -----------------------------------------------------------

    def add_course(self, course: Course) -> Course:
        _raise_if(validate_course(course))
        self.get_client(course.client_id)
        with self._writing():
            self.db["courses"].insert(_course_row(course))
            self._record("create", "course", course.id, after=_course_row(course))
        return course

    def courses(self, client_id: str) -> list[Course]:
        return [_course(r) for r in self.db.query(
            "SELECT * FROM courses WHERE client_id = ? ORDER BY started_on, rowid", [client_id])]

    def add_screening(self, screening: Screening) -> Screening:
        _raise_if(validate_screening(screening))
        self.get_client(screening.client_id)
        with self._writing():
            self.db["screenings"].insert(_screening_row(screening))
            self._record("create", "screening", screening.id, after=_screening_row(screening))
        return screening

    def screenings(self, client_id: str) -> list[Screening]:
        return [_screening(r) for r in self.db.query(
            "SELECT * FROM screenings WHERE client_id = ? ORDER BY date, rowid", [client_id])]

    # --- sessions -------------------------------------------------------------------------

    def _check_session(self, session: Session) -> None:
        problems = validate_session(session)
        if session.course_id is not None:
            owner = self.db.execute("SELECT client_id FROM courses WHERE id = ?",
                                    [session.course_id]).fetchone()
            if owner is None or owner[0] != session.client_id:
                problems.append(Problem("course_id", f"{session.course_id!r} is not a course "
                                        "of this client"))
        _raise_if(problems)
        self.get_client(session.client_id)

    def save_draft(self, session: Session) -> Session:
        """Create or replace a draft. A signed session changes only by `amend_session`."""
        if session.signed_at is not None or session.amendments:
            raise SignedRecordError("a draft has no sign-off time or amendments; use "
                                    "sign_session and amend_session")
        self._check_session(session)
        with self._writing():
            existing = self.db.execute("SELECT signed_at FROM sessions WHERE id = ?",
                                       [session.id]).fetchone()
            if existing is not None and existing[0] is not None:
                raise SignedRecordError("this session is signed off; correct it with an "
                                        "amendment")
            before = None
            if existing is not None:
                before = encode_session(self.get_session(session.id))
                self._delete_session_rows(session.id)
            self._insert_sessions([session])
            self._record("update" if before else "create", "session", session.id,
                         before=before, after=encode_session(session))
        return session

    def sign_session(self, session_id: str, at: datetime | None = None) -> Session:
        session = self.get_session(session_id)
        if session.is_signed:
            raise SignedRecordError("this session is already signed off")
        signed = replace(session, signed_at=at or self._now())
        self._check_session(signed)
        with self._writing():
            self.db.execute("UPDATE sessions SET signed_at = ? WHERE id = ? "
                            "AND signed_at IS NULL", [fmt_time(signed.signed_at), session_id])
            self._record("sign", "session", session_id, before=encode_session(session),
                         after=encode_session(signed))
        return signed

    def amend_session(self, amended: Session, *, by: str, reason: str,
                      at: datetime | None = None) -> Amendment:
        """Correct a signed session. The old value of every changed field is kept."""
        current = self.get_session(amended.id)
        if not current.is_signed:
            raise SignedRecordError("only a signed session is amended; edit the draft instead")
        problems = []
        if not reason.strip():
            problems.append(Problem("reason", "an amendment needs a reason"))
        if not by.strip():
            problems.append(Problem("by", "an amendment needs the practitioner's name"))
        _raise_if(problems)
        new = replace(amended, client_id=current.client_id, signed_at=current.signed_at,
                      acknowledged_warnings=current.acknowledged_warnings,
                      amendments=current.amendments)
        changes = amend.diff(encode_session(current), encode_session(new))
        if not changes:
            raise ValidationError([Problem("", "the amendment changes nothing")])
        amendment = Amendment(at or self._now(), by.strip(), reason.strip(), changes)
        new.amendments = [*current.amendments, amendment]
        self._check_session(new)  # the amendment's own name, reason and time included
        with self._writing():
            self._delete_session_rows(current.id, keep_amendments=True)
            self._insert_sessions([new], amendments_from=len(current.amendments),
                                  update_row=True)
            self._record("amend", "session", current.id, before=encode_session(current),
                         after=encode_session(new))
        return amendment

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
        rows = self.db.execute("""
            SELECT s.id, s.started_at, s.course_id, s.signed_at,
                   (SELECT group_concat(area, '|') FROM
                        (SELECT area FROM treated_areas WHERE session_id = s.id
                         ORDER BY position)),
                   (SELECT max(depth_mm) FROM treated_areas WHERE session_id = s.id),
                   (SELECT max(severity) FROM reactions WHERE session_id = s.id),
                   (SELECT group_concat(kind || ' ' || severity, '|') FROM
                        (SELECT kind, severity FROM reactions WHERE session_id = s.id
                         ORDER BY position)),
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

    def save_settings(self, settings: ClinicSettings) -> None:
        before = self.settings()
        with self._writing():
            save_settings(self.db, settings)
            self._record("update", "settings", None, before=settings_summary(before),
                         after=settings_summary(settings))

    # --- whole records: export and import -------------------------------------------------

    def load_records(self, client_id: str | None = None) -> Iterator[ClientRecord]:
        """Every client (or one) with their courses, screenings and sessions, by name."""
        where, params = ("id = ?", [client_id]) if client_id else ("1", [])
        clients = [_client(r) for r in self.db.query(
            f"SELECT * FROM clients WHERE {where} ORDER BY search_key, id", params)]
        if client_id and not clients:
            raise NotFoundError(f"no client with id {client_id!r}")
        owner = "client_id = ?" if client_id else "1"
        courses, screenings, sessions = defaultdict(list), defaultdict(list), defaultdict(list)
        for r in self.db.query(f"SELECT * FROM courses WHERE {owner} "
                               "ORDER BY started_on, rowid", params):
            courses[r["client_id"]].append(_course(r))
        for r in self.db.query(f"SELECT * FROM screenings WHERE {owner} "
                               "ORDER BY date, rowid", params):
            screenings[r["client_id"]].append(_screening(r))
        for s in self._load_sessions(owner, params):
            sessions[s.client_id].append(s)
        for c in clients:
            yield ClientRecord(c, courses[c.id], screenings[c.id], sessions[c.id])

    # --- demonstration records -------------------------------------------------------------

    def records_not_made_by(self, who: str) -> dict[str, int]:
        """How many clients and sessions were first written by someone other than `who`,
        by the audit trail (the demo checks it holds only its own records)."""
        counts = {}
        for table, kind in (("clients", "client"), ("sessions", "session")):
            counts[table] = self.db.execute(
                f"SELECT count(*) FROM {table} WHERE id NOT IN (SELECT record_id FROM audit "
                "WHERE kind = ? AND who = ? AND record_id IS NOT NULL)", [kind, who]).fetchone()[0]
        return counts

    def mark_demo(self) -> None:
        """Note in the file that it holds demonstration records (the window says so)."""
        with self._writing():
            self.db.execute("INSERT INTO settings (key, value) VALUES ('demo_records', 'true') "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            self._record("update", "settings", None, after={"demo_records": True})

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

    def write_records(self, records: list[ClientRecord], *, today: date | None = None,
                      on_progress: Callable[[int, int], None] | None = None) -> ImportResult:
        """Write whole client records in one transaction, after validating all of them.

        A record whose id is already stored must be that same record: identical, or an
        earlier state of a stored session (an older export of a session amended since) is
        left as it is (import is idempotent); a later state of a stored session (signed or
        amended elsewhere) is brought up to date, each sign-off and amendment audited as
        such. Anything else is a conflict: the whole import is refused, naming each one
        with both sides (docs/exchange-format.md, "Import: same id, other content")."""
        problems = []
        for i, record in enumerate(records):
            problems += [p.under(f"clients[{i}]") for p in validate_record(record, today)]
        _raise_if(problems)
        existing = {
            "clients": self.existing_ids("clients", (r.client.id for r in records)),
            "courses": self.existing_ids("courses", (x.id for r in records for x in r.courses)),
            "screenings": self.existing_ids("screenings",
                                            (x.id for r in records for x in r.screenings)),
            "sessions": self.existing_ids("sessions",
                                          (x.id for r in records for x in r.sessions)),
        }
        catch_ups = self._match_stored(records, existing)
        brought = {c.stored.id for c in catch_ups}
        result = ImportResult()
        now = fmt_time(self._now())

        def fresh(kind: str, items):
            for item in items:
                if item.id in brought:
                    continue
                if item.id in existing[kind]:
                    result.skipped[kind] += 1
                else:
                    result.added[kind] += 1
                    yield item

        with self._writing():
            batch: list[ClientRecord] = []
            for done, record in enumerate(records, 1):
                batch.append(record)
                if len(batch) == 500 or done == len(records):
                    self.db["clients"].insert_all(
                        (self._client_row(c) | {"created_at": now, "updated_at": now}
                         for c in fresh("clients", (b.client for b in batch))), batch_size=500)
                    self.db["courses"].insert_all(
                        (_course_row(c) for c in fresh("courses",
                                                       (c for b in batch for c in b.courses))),
                        batch_size=500)
                    self.db["screenings"].insert_all(
                        (_screening_row(s) for s in fresh("screenings", (
                            s for b in batch for s in b.screenings))), batch_size=500)
                    sessions = list(fresh("sessions", (s for b in batch for s in b.sessions)))
                    self._insert_sessions(sessions)
                    self._seal_import(batch, sessions, existing)
                    batch = []
                    if on_progress:
                        on_progress(done, len(records))
            for catch_up in catch_ups:
                self._catch_up(catch_up, result)
        return result

    # --- import: a stored id must be the same record ------------------------------------------

    def _stored_rows(self, table: str, ids: Iterable[str]) -> list[dict]:
        """The stored rows of `table` with these ids, read 500 at a time."""
        wanted, rows = list(ids), []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self.db.query(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk)
        return rows

    def _stored_sessions(self, ids: Iterable[str]) -> dict[str, Session]:
        wanted, found = list(ids), {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {s.id: s for s in self._load_sessions(f"id IN ({marks})", chunk)}
        return found

    def _unchanged_sessions(self, sessions: list[Session]) -> set[str]:
        """The ids of these sessions whose stored rows are exactly the rows the store would
        write for them. SQLite compares them, both ways, with a temporary copy of those
        rows (a TEMP table, never in the file), so the stored rows are not read into
        Python one by one."""
        if not sessions:
            return set()
        mine = self._session_rows(_session_as_stored(s) for s in sessions)
        ids = {s.id for s in sessions}
        differ: set[str] = set()
        conn = self.db.conn
        with self.db.atomic():
            try:
                conn.execute("CREATE TEMP TABLE import_ids (id TEXT PRIMARY KEY)")
                conn.executemany("INSERT INTO temp.import_ids VALUES (?)", ((i,) for i in ids))
                for table in ("sessions", *_CHILD_TABLES):
                    key = "id" if table == "sessions" else "session_id"
                    stored = (f"FROM main.{table} WHERE {key} IN "
                              "(SELECT id FROM temp.import_ids)")
                    if not mine.get(table):
                        differ |= {r[0] for r in conn.execute(f"SELECT {key} {stored}")}
                        continue
                    names = list(mine[table][0])
                    keys = [key] if table == "sessions" else [key, "position"]
                    conn.execute(f"CREATE TEMP TABLE import_rows AS SELECT {', '.join(names)} "
                                 f"FROM main.{table} WHERE 0")
                    conn.executemany(
                        f"INSERT INTO temp.import_rows VALUES ({','.join('?' * len(names))})",
                        (tuple(row.values()) for row in mine[table]))
                    conn.execute(f"CREATE INDEX temp.import_rows_key ON import_rows "
                                 f"({', '.join(keys)})")
                    joined = " AND ".join(f"m.{k} = t.{k}" for k in keys)
                    unequal = " OR ".join(f"m.{n} IS NOT t.{n}" for n in names)
                    # rows of the file missing or different here, and rows here it lacks
                    differ |= {r[0] for r in conn.execute(
                        f"SELECT t.{key} FROM temp.import_rows t LEFT JOIN main.{table} m "
                        f"ON {joined} WHERE m.{key} IS NULL OR {unequal}")}
                    differ |= {r[0] for r in conn.execute(
                        f"SELECT m.{key} FROM main.{table} m WHERE m.{key} IN (SELECT id FROM "
                        f"temp.import_ids) AND NOT EXISTS (SELECT 1 FROM temp.import_rows t "
                        f"WHERE {joined})")}
                    conn.execute("DROP TABLE temp.import_rows")
            finally:
                conn.execute("DROP TABLE IF EXISTS temp.import_rows")
                conn.execute("DROP TABLE IF EXISTS temp.import_ids")
        return ids - differ

    def _match_stored(self, records: list[ClientRecord],
                      existing: dict[str, set[str]]) -> list[_CatchUp]:
        """Compare every record of the file whose id is stored with what is stored (read in
        bulk). Raises ValidationError naming each conflict with both sides; returns the
        stored sessions the file carries further (signed or amended elsewhere)."""
        if not any(existing.values()):
            return []
        # Most records of a re-import are the very rows stored: compare rows first, and read
        # the records themselves only for those that differ.
        stored_rows = {table: {r["id"]: r for r in self._stored_rows(table, existing[table])}
                       for table in ("clients", "courses", "screenings")}
        written = {"clients": lambda c: self._client_row(_client_as_stored(c)),
                   "courses": _course_row, "screenings": _screening_row}
        differing: dict[str, set[str]] = {table: set() for table in stored_rows}
        for record in records:
            for table, items in (("clients", [record.client]), ("courses", record.courses),
                                 ("screenings", record.screenings)):
                for item in items:
                    row = stored_rows[table].get(item.id)
                    if row is not None and any(row[k] != v for k, v in
                                               written[table](item).items()):
                        differing[table].add(item.id)
        clients = {i: _client(stored_rows["clients"][i]) for i in differing["clients"]}
        courses = {i: _course(stored_rows["courses"][i]) for i in differing["courses"]}
        screenings = {i: _screening(stored_rows["screenings"][i])
                      for i in differing["screenings"]}
        known = [s for r in records for s in r.sessions if s.id in existing["sessions"]]
        same = self._unchanged_sessions(known)
        sessions = self._stored_sessions(s.id for s in known if s.id not in same)
        names: dict[str, str] = {c.id: c.full_name for c in clients.values()}

        def name_of(client_id: str) -> str:
            if client_id not in names:
                row = self.db.execute("SELECT first_name, last_name FROM clients WHERE id = ?",
                                      [client_id]).fetchone()
                names[client_id] = f"{row[0]} {row[1]}" if row else "a client no longer here"
            return names[client_id]

        problems: list[Problem] = []
        catch_ups: list[_CatchUp] = []
        for i, record in enumerate(records):
            place = f"clients[{i}]"
            client = _client_as_stored(record.client)
            if client.id in clients:
                problems += _client_conflicts(place, clients[client.id], client)
            for kind, word, items, stored, plain in (
                    ("courses", "course", record.courses, courses, _plain_course),
                    ("screenings", "screening", record.screenings, screenings,
                     _plain_screening)):
                for j, item in enumerate(items):
                    if item.id not in stored:
                        continue  # new, or its stored row is the same
                    here, where = stored[item.id], f"{place}.{kind}[{j}]"
                    if here.client_id != item.client_id:
                        problems.append(_elsewhere(where, word, item.id,
                                                   name_of(here.client_id), here.client_id,
                                                   client.full_name))
                    else:
                        problems += _differences(where, f"{word} {item.id}", plain(here),
                                                 plain(item))
            for j, session in enumerate(record.sessions):
                if session.id not in sessions:
                    continue  # new, or its stored rows are the same
                here, where = sessions[session.id], f"{place}.sessions[{j}]"
                if here.client_id != session.client_id:
                    problems.append(_elsewhere(where, "session", session.id,
                                               name_of(here.client_id), here.client_id,
                                               client.full_name))
                    continue
                outcome = _match_session(here, _session_as_stored(session))
                if isinstance(outcome, _CatchUp):
                    catch_ups.append(outcome)
                elif outcome:
                    problems += [p.under(where) for p in outcome]
        _raise_if(problems)
        return catch_ups

    def _catch_up(self, step: _CatchUp, result: ImportResult) -> None:
        """Bring a stored session to the file's later state: its sign-off, then each
        amendment made elsewhere (with their own by, at and reason), one audit row each."""
        stored, incoming = step.stored, step.incoming
        known = len(stored.amendments)
        self._delete_session_rows(stored.id, keep_amendments=True)
        self._insert_sessions([incoming], amendments_from=known, update_row=True)
        final = encode_session(incoming)
        extra = len(incoming.amendments) - known
        states = [_before(final, left) for left in range(extra, -1, -1)]
        steps = [("amend", states[k], states[k + 1]) for k in range(extra)]
        if step.sign:
            steps.insert(0, ("sign", encode_session(stored), states[0]))
            result.updated["sign-offs"] += 1
        result.updated["amendments"] += extra
        for action, before, after in steps:
            self._record(action, "session", stored.id, before=before, after=after)

    def record_restore(self, backup: str, safety_copy: str | None) -> None:
        """The audit row of a restore, written into the restored database (its own trail
        ends at the backup; what came after is in the safety copy)."""
        # A restore rewinds the trail to the backup's: a new epoch in the anchor file, so
        # the anchors written after that backup read as a rewind, not as tampering.
        anchors.record_restore_epoch(self.path, backup=backup)
        with self._writing():
            self._record("restore", "database", None, after={
                "from_backup": backup, "previous_database_kept_in": safety_copy})

    def _seal_import(self, batch: list[ClientRecord], sessions: list[Session],
                     existing: dict[str, set[str]]) -> None:
        """One audit row per imported record. Sessions carry their content seal rather
        than a copy of themselves: the record is in the file, the seal proves it unchanged."""
        at = self._now()
        new_clients = [r.client for r in batch if r.client.id not in existing["clients"]]
        # Each imported record's hash as stored (read back in batches: names trimmed etc.).
        hashes = {
            "client": seals.record_hashes(self.db, "client", (c.id for c in new_clients)),
            "course": seals.record_hashes(self.db, "course", (
                c.id for r in batch for c in r.courses if c.id not in existing["courses"])),
            "screening": seals.record_hashes(self.db, "screening", (
                x.id for r in batch for x in r.screenings if x.id not in existing["screenings"])),
            "session": seals.record_hashes(self.db, "session", (s.id for s in sessions)),
        }
        entries = [{"at": at, "who": self.user, "action": "import", "kind": "client",
                    "record_id": c.id, "after": plain_client(c),
                    "content_hash": hashes["client"].get(c.id)} for c in new_clients]
        for kind in ("course", "screening"):
            entries += [{"at": at, "who": self.user, "action": "import", "kind": kind,
                         "record_id": record_id, "content_hash": digest}
                        for record_id, digest in hashes[kind].items()]
        entries += [{"at": at, "who": self.user, "action": "import", "kind": "session",
                     "record_id": s.id, "content_hash": hashes["session"].get(s.id)}
                    for s in sessions]
        self.audit.append_many(entries)

    # --- rows -----------------------------------------------------------------------------

    def _delete_session_rows(self, session_id: str, keep_amendments: bool = False) -> None:
        for table in _CHILD_TABLES:
            if keep_amendments and table == "amendments":
                continue
            self.db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        if not keep_amendments:
            self.db.execute("DELETE FROM sessions WHERE id = ?", [session_id])

    def _insert_sessions(self, sessions: list[Session], amendments_from: int = 0,
                         update_row: bool = False) -> None:
        rows = self._session_rows(sessions, amendments_from)
        if update_row:
            # An amendment rewrites the session row in place; its amendment rows stay.
            row = rows.pop("sessions")[0]
            self.db["sessions"].update(row["id"], row)
        for table in ("sessions", *_CHILD_TABLES):
            if rows.get(table):
                self.db[table].insert_all(rows[table], batch_size=1000)

    @staticmethod
    def _session_rows(sessions: Iterable[Session], amendments_from: int = 0
                      ) -> dict[str, list[dict]]:
        """The rows the store writes for these sessions, by table, children by position."""
        rows = defaultdict(list)
        for s in sessions:
            a = s.anaesthetic
            rows["sessions"].append({
                "id": s.id, "client_id": s.client_id, "course_id": s.course_id,
                "started_at": fmt_time(s.started_at), "practitioner": s.practitioner.strip(),
                "device_type": str(s.device.type), "device_model": s.device.model,
                "cartridge": s.device.cartridge, "cartridge_lot": s.device.cartridge_lot,
                "anaesthetic_product": a.product if a else None,
                "anaesthetic_applied_at": fmt_time(a.applied_at) if a else None,
                "anaesthetic_removed_at": fmt_time(a.removed_at) if a else None,
                "combined_with": _json(s.combined_with), "aftercare": _json(s.aftercare),
                "fee_amount": fmt_amount(s.fee.amount) if s.fee else None,
                "fee_currency": s.fee.currency if s.fee else None,
                "notes": s.notes, "signed_at": fmt_time(s.signed_at)})
            for i, x in enumerate(s.areas):
                rows["treated_areas"].append({
                    "session_id": s.id, "position": i, "area": x.area.strip(),
                    "depth_mm": float(x.depth_mm), "passes": x.passes, "endpoint": x.endpoint,
                    "notes": x.notes})
            for i, x in enumerate(s.serums):
                rows["serums"].append({"session_id": s.id, "position": i,
                                       "product": x.product, "lot": x.lot})
            for i, x in enumerate(s.reactions):
                rows["reactions"].append({"session_id": s.id, "position": i, "kind": x.kind,
                                          "severity": x.severity, "observed": str(x.observed),
                                          "notes": x.notes})
            for i, x in enumerate(s.acknowledged_warnings):
                rows["acknowledged_warnings"].append({"session_id": s.id, "position": i,
                                                      "warning": compose_acknowledgement(
                                                          x.code, x.reason), "by": x.by,
                                                      "at": fmt_time(x.at)})
            for i, x in enumerate(s.amendments[amendments_from:], amendments_from):
                rows["amendments"].append({"session_id": s.id, "position": i,
                                           "at": fmt_time(x.at), "by": x.by,
                                           "reason": x.reason, "changes": _json(x.changes)})
        return rows

    def _load_sessions(self, where: str, params: list) -> list[Session]:
        sessions = {r["id"]: _session(r) for r in self.db.query(
            f"SELECT * FROM sessions WHERE {where} ORDER BY started_at, rowid", params)}
        if not sessions:
            return []
        inner = f"SELECT id FROM sessions WHERE {where}"

        def children(table: str):
            if len(sessions) == 1:
                sql, args = f"SELECT * FROM {table} WHERE session_id = ?", list(sessions)
            else:
                sql, args = f"SELECT * FROM {table} WHERE session_id IN ({inner})", params
            return self.db.query(sql + " ORDER BY session_id, position", args)

        for r in children("treated_areas"):
            sessions[r["session_id"]].areas.append(TreatedArea(
                r["area"], r["depth_mm"], r["passes"], r["endpoint"], r["notes"]))
        for r in children("serums"):
            sessions[r["session_id"]].serums.append(Serum(r["product"], r["lot"]))
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


# --- import: what counts as the same record ---------------------------------------------------

#: At most this many differences are listed for one record.
_DIFFERENCES_SHOWN = 8
_NOBODY = Client(first_name="", last_name="", id="")


def _client_as_stored(client: Client) -> Client:
    """The client as the store keeps it (names trimmed), so a re-import compares equal."""
    return replace(client, first_name=client.first_name.strip(),
                   last_name=client.last_name.strip())


def _session_as_stored(session: Session) -> Session:
    """The session as `_insert_sessions` keeps it (practitioner and areas trimmed, depths as
    floats), so a re-import of the program's own export compares equal."""
    if session.practitioner == session.practitioner.strip() and all(
            a.area == a.area.strip() and type(a.depth_mm) is float for a in session.areas):
        return session
    return replace(session, practitioner=session.practitioner.strip(),
                   areas=[replace(a, area=a.area.strip(), depth_mm=float(a.depth_mm))
                          for a in session.areas])


def _plain_course(course: Course) -> dict:
    return encode_record(ClientRecord(_NOBODY, courses=[course]))["courses"][0]


def _plain_screening(screening: Screening) -> dict:
    return encode_record(ClientRecord(_NOBODY, screenings=[screening]))["screenings"][0]


def _said(value) -> str:
    """A value in a message: text in quotes, nothing as "nothing", yes/no, else as JSON."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = f'"{value}"' if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _differences(place: str, what: str, here: dict, there: dict, note: str = ""
                 ) -> list[Problem]:
    """One line per field that differs: what is stored here and what the file says."""
    changes = amend.diff(here, there, skip=frozenset({"id"}))
    problems = [Problem(join_path(place, path), f"{what} has {_said(old)} here{note}, the "
                        f"file says {_said(new)}")
                for path, (old, new) in list(changes.items())[:_DIFFERENCES_SHOWN]]
    if len(changes) > _DIFFERENCES_SHOWN:
        problems.append(Problem(place, f"{what}: and {len(changes) - _DIFFERENCES_SHOWN} "
                                "more differences"))
    if here != there and not problems:
        problems.append(Problem(place, f"{what} differs from the one stored here"))
    return problems


def _client_conflicts(place: str, here: Client, there: Client) -> list[Problem]:
    problems = []
    if (here.first_name, here.last_name) != (there.first_name, there.last_name):
        problems.append(Problem(place, f'id {here.id} exists as "{here.full_name}", the file '
                                f'says "{there.full_name}"'))
    return problems + _differences(
        place, f'client {here.id} ("{here.full_name}")',
        plain_client(here) | {"first_name": "", "last_name": ""},
        plain_client(there) | {"first_name": "", "last_name": ""})


def _elsewhere(place: str, word: str, record_id: str, owner: str, owner_id: str,
               here: str) -> Problem:
    return Problem(place, f'{word} id {record_id} belongs to another client, "{owner}" '
                   f'({owner_id}); the file puts it under "{here}"')


def _before(plain: dict, count: int) -> dict:
    """A session (exchange form) as it was before its last `count` amendments."""
    if count == 0:
        return plain
    earlier = amend.undo(plain, [a["changes"] for a in plain["amendments"][-count:]])
    earlier["amendments"] = plain["amendments"][:-count]
    return earlier


def _amendments(count: int) -> str:
    return f"{count} amendment" if count == 1 else f"{count} amendments"


def _match_session(stored: Session, incoming: Session) -> _CatchUp | list[Problem] | None:
    """None when the file's session is the stored one or an earlier state of it (an older
    export); a `_CatchUp` when it is a later state (signed and/or amended elsewhere, the
    stored one being the file's before those steps); else the differences, as problems."""
    here, there = encode_session(stored), encode_session(incoming)
    if here == there:
        return None
    what = f"session {stored.id} of {moment_text(stored.started_at)}"
    have, has = len(stored.amendments), len(incoming.amendments)
    try:
        if not stored.is_signed and not incoming.is_signed:
            return _differences("", what, here, there, " (a draft here and in the file)")
        if not stored.is_signed:
            first = _before(there, has) | {"signed_at": None}
            if first == here:
                return _CatchUp(stored, incoming, sign=True)
            return _differences("", what, here, first, " (a draft here; the file's is signed, "
                                "compared as it was before signing)")
        if not incoming.is_signed:
            first = _before(here, have) | {"signed_at": None}
            if first == there:
                return None
            return _differences("", what, first, there, " (as first signed here; the file "
                                "has it as an unsigned draft)")
        if has <= have:
            earlier = _before(here, have - has)
            if earlier == there:
                return None
            note = (f" (as it was before the {_amendments(have - has)} made here since)"
                    if have > has else "")
            return _differences("", what, earlier, there, note)
        later = _before(there, has - have)
        if later == here:
            return _CatchUp(stored, incoming, sign=False)
        return _differences("", what, here, later, f" (compared with the file's version "
                            f"before its {_amendments(has - have)} not made here)")
    except (KeyError, IndexError, TypeError, ValueError):
        return [Problem("amendments", f"{what} differs from the one stored here, and the "
                        "amendments cannot be traced back to it")]


def _words(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())


def _reads_as(name: str, tokens: list[str]) -> bool:
    words = _words(name).split()
    return len(words) >= len(tokens) and all(
        word.startswith(token) for word, token in zip(words, tokens, strict=False))


def _name_rank(client: ClientSummary, tokens: list[str]) -> int:
    """0: typed as first then last name; 1: as last then first; 2: words scattered."""
    if _reads_as(f"{client.first_name} {client.last_name}", tokens):
        return 0
    if _reads_as(f"{client.last_name} {client.first_name}", tokens):
        return 1
    return 2


def _summary(row) -> ClientSummary:
    return ClientSummary(row[0], row[1], row[2], _day(row[3]), row[4])


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def _client(r: dict) -> Client:
    return Client(first_name=r["first_name"], last_name=r["last_name"], id=r["id"],
                  date_of_birth=_day(r["date_of_birth"]), phone=r["phone"], email=r["email"],
                  fitzpatrick=r["fitzpatrick"], concerns=json.loads(r["concerns"]),
                  notes=r["notes"])


def _course_row(c: Course) -> dict:
    return {"id": c.id, "client_id": c.client_id, "concern": c.concern,
            "planned_sessions": c.planned_sessions, "interval_weeks": c.interval_weeks,
            "started_on": fmt_date(c.started_on), "notes": c.notes}


def _course(r: dict) -> Course:
    return Course(r["client_id"], r["concern"], r["planned_sessions"], r["interval_weeks"],
                  date.fromisoformat(r["started_on"]), r["id"], r["notes"])


def _screening_row(s: Screening) -> dict:
    return {"id": s.id, "client_id": s.client_id, "date": fmt_date(s.date),
            "answers": _json(s.answers), "consent_signed": int(s.consent_signed),
            "notes": s.notes}


def _screening(r: dict) -> Screening:
    return Screening(r["client_id"], date.fromisoformat(r["date"]), json.loads(r["answers"]),
                     bool(r["consent_signed"]), r["id"], r["notes"])


def _session(r: dict) -> Session:
    anaesthetic = None
    if r["anaesthetic_product"] is not None:
        anaesthetic = Anaesthetic(r["anaesthetic_product"],
                                  datetime.fromisoformat(r["anaesthetic_applied_at"]),
                                  _time(r["anaesthetic_removed_at"]))
    fee = None
    if r["fee_amount"] is not None:
        fee = Fee(Decimal(r["fee_amount"]), r["fee_currency"])
    return Session(
        client_id=r["client_id"], started_at=datetime.fromisoformat(r["started_at"]),
        practitioner=r["practitioner"], areas=[], id=r["id"], course_id=r["course_id"],
        device=Device(DeviceType(r["device_type"]), r["device_model"], r["cartridge"],
                      r["cartridge_lot"]),
        anaesthetic=anaesthetic, combined_with=json.loads(r["combined_with"]),
        aftercare=json.loads(r["aftercare"]), fee=fee, notes=r["notes"],
        signed_at=_time(r["signed_at"]))
