"""Import: whole records written in batches, and a stored id that must be the same record
(a conflict refuses the whole import, naming each place; an older or newer copy of a
session brings its sign-off and amendments up to date)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from needledesk.domain import amend
from needledesk.domain.model import (
    Client,
    ClientRecord,
    ConsentTemplate,
    Course,
    Lot,
    Product,
    Screening,
    Session,
)
from needledesk.domain.rules import (
    Problem,
    join_path,
    validate_record,
)
from needledesk.domain.text import (
    moment_text,
)
from needledesk.exchange import encode_record, encode_session, fmt_time
from needledesk.store import seals
from needledesk.store.engine import dialect
from needledesk.store.repository.mapping import (
    _CHILD_TABLES,
    _client,
    _course,
    _course_row,
    _raise_if,
    _screening,
    _screening_row,
    plain_client,
)
from needledesk.store.repository.photos import Photos


@dataclass
class ImportResult:
    added: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Stored sessions the file brought up to date: "sign-offs" and "amendments" applied.
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: What the import did otherwise than the file says, in plain words (a consent form
    #: version not stored because this clinic has its own under that number).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _CatchUp:
    """A stored session the file carries further: the sign-off and/or the amendments made
    elsewhere, to apply (in order) as they were made."""

    stored: Session
    incoming: Session
    sign: bool



class ImportMerge(Photos):
    def write_records(self, records: list[ClientRecord], *, by: str, today: date | None = None,
                      on_progress: Callable[[int, int], None] | None = None,
                      catalogue: tuple[list[Product], list[Lot]] | None = None,
                      consent_templates: list[ConsentTemplate] | None = None,
                      photo_data: Callable[[str], bytes] | None = None
                      ) -> ImportResult:
        """Write whole client records in one transaction, after validating all of them.

        A record whose id is already stored must be that same record: identical, or an
        earlier state of a stored session (an older export of a session amended since) is
        left as it is (import is idempotent); a later state of a stored session (signed or
        amended elsewhere) is brought up to date, each sign-off and amendment audited as
        such. Anything else is a conflict: the whole import is refused, naming each one
        with both sides (docs/exchange-format.md, "Import: same id, other content").

        `catalogue` (products, lots) is written in the same transaction, before the
        records that pick its lots (checked by the caller: `catalogue_problems`); how many
        were added is in `result.added["products"]` and `["lots"]`. The records' consents
        and the file's `consent_templates` (form versions) are written with them: a stored
        consent with the same id must be identical (`consent_problems`)."""
        problems = []
        for i, record in enumerate(records):
            problems += [p.under(f"clients[{i}]") for p in validate_record(record, today)]
        _raise_if(problems)
        _raise_if(self.consent_problems(records, consent_templates or []))
        _raise_if(self.photo_problems(records))
        if any(r.photos for r in records) and photo_data is None:
            raise ValueError("photos to import need their bytes (photo_data)")
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

        def fresh(kind: str, items: Iterable[Any]) -> Iterator[Any]:
            for item in items:
                if item.id in brought:
                    continue
                if item.id in existing[kind]:
                    result.skipped[kind] += 1
                else:
                    result.added[kind] += 1
                    yield item

        put = self._put_imported_photos(records, photo_data) if photo_data else []
        with self._keeping_only_named(put), self._writing():
            if catalogue is not None:
                products_added, lots_added = self._insert_catalogue(*catalogue, by=by)
                result.added["products"] += products_added
                result.added["lots"] += lots_added
            batch: list[ClientRecord] = []
            for done, record in enumerate(records, 1):
                batch.append(record)
                if len(batch) == 500 or done == len(records):
                    self._table("clients").insert_all(
                        (self._client_row(c) | {"created_at": now, "updated_at": now}
                         for c in fresh("clients", (b.client for b in batch))), batch_size=500)
                    self._table("courses").insert_all(
                        (_course_row(c) for c in fresh("courses",
                                                       (c for b in batch for c in b.courses))),
                        batch_size=500)
                    self._table("screenings").insert_all(
                        (_screening_row(s) for s in fresh("screenings", (
                            s for b in batch for s in b.screenings))), batch_size=500)
                    sessions = list(fresh("sessions", (s for b in batch for s in b.sessions)))
                    self._insert_sessions(sessions)
                    self._seal_import(batch, sessions, existing, by)
                    batch = []
                    if on_progress:
                        on_progress(done, len(records))
            for catch_up in catch_ups:
                self._catch_up(catch_up, result, by)
            consents = sum(len(r.consents) for r in records)
            forms, signed = self._insert_consents(records, consent_templates or [], by=by,
                                                  notes=result.notes)
            photos_added, photos_there = self._insert_photos(records, by=by)
            for counts, kind, count in ((result.added, "consent form versions", forms),
                                        (result.added, "consents", signed),
                                        (result.skipped, "consents", consents - signed),
                                        (result.added, "photos", photos_added),
                                        (result.skipped, "photos", photos_there)):
                if count:
                    counts[kind] += count
        return result

    def _stored_rows(self, table: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        """The stored rows of `table` with these ids, read 500 at a time."""
        wanted, rows = list(ids), list[dict[str, Any]]()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self.db.query(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk)
        return rows

    def _stored_sessions(self, ids: Iterable[str]) -> dict[str, Session]:
        wanted, found = list(ids), dict[str, Session]()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {s.id: s for s in self._load_sessions(f"id IN ({marks})", chunk)}
        return found

    def _unchanged_sessions(self, sessions: list[Session]) -> set[str]:
        """The ids of these sessions whose stored rows are exactly the rows the store would
        write for them. The database compares them, both ways, with a temporary copy of
        those rows (a TEMP table, never in the file or the server's tables), so the stored
        rows are not read into Python one by one."""
        if not sessions:
            return set()
        mine = self._session_rows(_session_as_stored(s) for s in sessions)
        ids = {s.id for s in sessions}
        differ: set[str] = set()
        conn = self.db.conn
        sql = dialect(self.db)
        ids_table, rows_table = sql.temp_table("import_ids"), sql.temp_table("import_rows")
        done = False
        with self.db.atomic():
            try:
                conn.execute("CREATE TEMP TABLE import_ids (id TEXT PRIMARY KEY)")
                conn.executemany(f"INSERT INTO {ids_table} VALUES (?)", ((i,) for i in ids))
                for table in ("sessions", *_CHILD_TABLES):
                    key = "id" if table == "sessions" else "session_id"
                    main = sql.stored_table(table)
                    stored = f"FROM {main} WHERE {key} IN (SELECT id FROM {ids_table})"
                    if not mine.get(table):
                        differ |= {r[0] for r in conn.execute(f"SELECT {key} {stored}")}
                        continue
                    names = list(mine[table][0])
                    keys = [key] if table == "sessions" else [key, "position"]
                    conn.execute(f"CREATE TEMP TABLE import_rows AS SELECT {', '.join(names)} "
                                 f"FROM {main} WHERE 1 = 0")
                    conn.executemany(
                        f"INSERT INTO {rows_table} VALUES ({','.join('?' * len(names))})",
                        (tuple(row.values()) for row in mine[table]))
                    conn.execute(sql.temp_index("import_rows_key", "import_rows",
                                                ", ".join(keys)))
                    joined = " AND ".join(f"m.{k} = t.{k}" for k in keys)
                    unequal = " OR ".join(sql.differs(f"m.{n}", f"t.{n}") for n in names)
                    # rows of the file missing or different here, and rows here it lacks
                    differ |= {r[0] for r in conn.execute(
                        f"SELECT t.{key} FROM {rows_table} t LEFT JOIN {main} m "
                        f"ON {joined} WHERE m.{key} IS NULL OR {unequal}")}
                    differ |= {r[0] for r in conn.execute(
                        f"SELECT m.{key} FROM {main} m WHERE m.{key} IN (SELECT id FROM "
                        f"{ids_table}) AND NOT EXISTS (SELECT 1 FROM {rows_table} t "
                        f"WHERE {joined})")}
                    conn.execute(f"DROP TABLE {rows_table}")
                done = True
            finally:
                # On the server a failed statement ends the transaction (its rollback takes
                # the temporary tables with it): nothing more may be run in it.
                if done or not sql.server:
                    conn.execute(f"DROP TABLE IF EXISTS {rows_table}")
                    conn.execute(f"DROP TABLE IF EXISTS {ids_table}")
        return ids - differ

    def _match_stored(self, records: list[ClientRecord],
                      existing: dict[str, set[str]]) -> list[_CatchUp]:
        """Compare every record of the file whose id is stored with what is stored (read in
        bulk). Raises ValidationError naming each conflict with both sides; returns the
        stored sessions the file carries further (signed or amended elsewhere)."""
        if not any(existing.values()):
            return []
        # The records of three kinds go through the same loops below.
        item: Any
        here: Any
        items: Sequence[Any]
        stored: Mapping[str, Any]
        plain: Callable[[Any], dict[str, Any]]
        # Most records of a re-import are the very rows stored: compare rows first, and read
        # the records themselves only for those that differ.
        stored_rows = {table: {r["id"]: r for r in self._stored_rows(table, existing[table])}
                       for table in ("clients", "courses", "screenings")}
        written: dict[str, Callable[[Any], dict[str, Any]]] = {
            "clients": lambda c: self._client_row(_client_as_stored(c)),
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

    def _catch_up(self, step: _CatchUp, result: ImportResult, by: str) -> None:
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
            self._record(action, "session", stored.id, by=by, before=before, after=after)

    def _seal_import(self, batch: list[ClientRecord], sessions: list[Session],
                     existing: dict[str, set[str]], by: str) -> None:
        """One audit row per imported record. Sessions carry their content seal rather
        than a copy of themselves: the record is in the file, the seal proves it unchanged."""
        at = self._now()
        new_clients = [r.client for r in batch if r.client.id not in existing["clients"]]
        # Each imported record's hash as stored (read back in batches: names trimmed etc.).
        hashes = {
            "client": seals.record_hashes(self.db, "client", (c.id for c in new_clients)),
            "course": seals.written_hashes(self.db, "course", (
                c.id for r in batch for c in r.courses if c.id not in existing["courses"])),
            "screening": seals.record_hashes(self.db, "screening", (
                x.id for r in batch for x in r.screenings if x.id not in existing["screenings"])),
            "session": seals.written_hashes(self.db, "session", (s.id for s in sessions)),
        }
        entries = [{"at": at, "who": by, "action": "import", "kind": "client",
                    "record_id": c.id, "after": plain_client(c),
                    "content_hash": hashes["client"].get(c.id)} for c in new_clients]
        for kind in ("course", "screening"):
            entries += [{"at": at, "who": by, "action": "import", "kind": kind,
                         "record_id": record_id, "content_hash": digest}
                        for record_id, digest in hashes[kind].items()]
        entries += [{"at": at, "who": by, "action": "import", "kind": "session",
                     "record_id": s.id, "content_hash": hashes["session"].get(s.id)}
                    for s in sessions]
        self.audit.append_many(entries)


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


def _plain_course(course: Course) -> dict[str, Any]:
    plain: dict[str, Any] = encode_record(ClientRecord(_NOBODY, courses=[course]))["courses"][0]
    return plain


def _plain_screening(screening: Screening) -> dict[str, Any]:
    plain: dict[str, Any] = encode_record(
        ClientRecord(_NOBODY, screenings=[screening]))["screenings"][0]
    return plain


def _said(value: Any) -> str:
    """A value in a message: text in quotes, nothing as "nothing", yes/no, else as JSON."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = f'"{value}"' if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _differences(place: str, what: str, here: dict[str, Any], there: dict[str, Any],
                 note: str = "") -> list[Problem]:
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


def _before(plain: dict[str, Any], count: int) -> dict[str, Any]:
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
