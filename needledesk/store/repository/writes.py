"""Writing records: each write validated by `domain.rules`, in one transaction with its audit
row (and who made it, `by`), its trail head noted in the anchors outside the file."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from needledesk.domain import amend
from needledesk.domain.contact import contact_problems
from needledesk.domain.model import (
    Amendment,
    Client,
    Course,
    Screening,
    Session,
)
from needledesk.domain.products import picked_lots
from needledesk.domain.rules import (
    Problem,
    validate_client,
    validate_course,
    validate_screening,
    validate_session,
)
from needledesk.domain.search import search_text
from needledesk.domain.text import (
    compose_acknowledgement,
    day_text,
)
from needledesk.errors import ChangedElsewhereError, SignedRecordError, ValidationError
from needledesk.exchange import encode_session, fmt_amount, fmt_date, fmt_time
from needledesk.settings import ClinicSettings
from needledesk.store import anchors, seals
from needledesk.store.engine import dialect
from needledesk.store.repository.mapping import (
    _CHILD_TABLES,
    RecordVersion,
    _course_row,
    _json,
    _raise_if,
    _screening_row,
    plain_client,
    search_key,
)
from needledesk.store.repository.queries import Queries
from needledesk.store.search import clinic_country
from needledesk.store.settings import save_settings, settings_summary


def _course_audit(course: Course) -> dict[str, Any]:
    """A course as its audit rows keep it: its stored columns, the planned areas as a list
    (the trail shows them as words, not as the stored JSON text)."""
    return _course_row(course) | {"areas_planned": list(course.areas_planned)}

#: The table of each kind whose writes carry a version check.
_TABLES = {"session": "sessions", "client": "clients"}


class Writes(Queries):
    def _record(self, action: str, kind: str, record_id: str | None, *, by: str,
                before: Any = None, after: Any = None, expected: int | None = None) -> None:
        """The audit row of a write by `by`, with the record's hash as now stored (call
        inside the write's transaction, after the write). `expected`: the record's version
        the writer opened; checked again here with the trail's head locked (on the clinic
        server the head is locked only from here to the commit, so rooms writing other
        records never wait on each other's whole write)."""
        if expected is not None and record_id is not None:
            self._still_as_opened(kind, record_id, expected)
        content = (seals.record_hash(self.db, kind, record_id) if kind in seals.KINDS
                   else None)
        self.audit.append(at=self._now(), who=by, action=action, kind=kind,
                          record_id=record_id, before=before, after=after,
                          content_hash=content)

    def _insert_imported(self, table: str, kind: str, items: Iterable[Any],
                         row: Callable[[Any], dict[str, Any]],
                         audit: Callable[[Any], Any], *, by: str) -> tuple[int, int]:
        """Insert the imported `items` (records of `kind` in `table`) not stored yet, each
        with its "import" audit row (inside the import's transaction). Returns (added,
        already stored)."""
        wanted = list(items)
        stored = self.existing_ids(table, (x.id for x in wanted))
        added = 0
        for item in wanted:
            if item.id in stored:
                continue
            self._table(table).insert(row(item))
            self._record("import", kind, item.id, by=by, after=audit(item))
            added += 1
        return added, len(wanted) - added

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One write's transaction; once committed, the trail's new head is noted in this
        database's anchor file outside it (`store.anchors`). A note is also made just
        before the commit, so a crash between the two leaves the rows accounted for."""
        database_id = self._database_id()
        if not database_id:
            with self.db.atomic():
                yield
            return
        outermost = not dialect(self.db).in_transaction(self.db)
        start = len(self.audit.written)
        try:
            with self.db.atomic():
                yield
                # The rows this write appended (not a read of the head before it: on the
                # clinic server that would lock the head for the whole write).
                mine = self.audit.written[start:]
                if mine:
                    first, (last, head_hash) = mine[0][0], mine[-1]
                    anchors.note_write(database_id, first, last, head_hash, pending=True,
                                       path=self.path)
        finally:
            if outermost:   # committed or rolled back: the next write starts afresh
                self.audit.written.clear()
        if mine and not dialect(self.db).in_transaction(self.db):
            anchors.note_write(database_id, first, last, head_hash, path=self.path)

    def record_version(self, kind: str, record_id: str) -> RecordVersion | None:
        """The record's version as its latest audit row gives it (seq, who, when); None for
        a record never written. An editor passes its `seq` back as `expected=`."""
        row = self.db.execute("SELECT seq, who, at FROM audit WHERE record_id = ? AND kind = ? "
                              "ORDER BY seq DESC LIMIT 1", [record_id, kind]).fetchone()
        if row is None:
            return None
        return RecordVersion(int(row[0]), str(row[1]), datetime.fromisoformat(row[2]))

    def _version_seq(self, kind: str, record_id: str) -> int:
        now = self.record_version(kind, record_id)
        return 0 if now is None else now.seq

    def _still_as_opened(self, kind: str, record_id: str, expected: int | None, *,
                         lock: bool = True) -> None:
        """Inside a write's transaction: refuse it (ChangedElsewhereError, nothing written)
        when the record's latest audit row is no longer `expected` (0: the record must not
        exist yet). With `lock` the trail's head is locked first, so on the clinic server no
        other room's write can land between this check and the commit; without it (a write's
        first look, to refuse early) `_record` checks again with the lock."""
        if expected is None:
            return
        if lock:
            self.audit.lock_head()
        else:
            # The record's own row, locked until the commit (on the clinic server): a second
            # room writing the same record waits here, then reads the first one's version
            # and is refused in words, instead of colliding with its rows.
            dialect(self.db).lock_record(self.db, _TABLES[kind], record_id)
        now = self.record_version(kind, record_id)
        if (now.seq if now is not None else 0) != expected:
            place = "in another room" if self.on_server else "in another window"
            raise ChangedElsewhereError(kind, record_id, now.who if now else "",
                                        now.at if now else None, place=place)

    def _database_id(self) -> str | None:
        if not hasattr(self, "_db_id"):
            self._db_id = anchors.database_id(self.db) if self.path else None
        return self._db_id

    def _client_row(self, client: Client) -> dict[str, Any]:
        return {
            "id": client.id, "first_name": client.first_name.strip(),
            "last_name": client.last_name.strip(),
            "date_of_birth": fmt_date(client.date_of_birth), "phone": client.phone,
            "email": client.email, "fitzpatrick": client.fitzpatrick,
            "concerns": _json(client.concerns), "notes": client.notes,
            "search_key": search_key(client),
            "search_text": search_text(client.first_name, client.last_name, client.phone,
                                       clinic_country(self.db)),
        }

    def add_client(self, client: Client, *, by: str) -> Client:
        _raise_if(validate_client(client) + contact_problems(client))
        now = fmt_time(self._now())
        with self._writing():
            self._table("clients").insert(self._client_row(client) | {"created_at": now,
                                                                  "updated_at": now})
            self._record("create", "client", client.id, by=by, after=plain_client(client))
        return client

    def update_client(self, client: Client, *, by: str, expected: int | None = None
                      ) -> Client:
        """Change a client's details. `expected`: the client's version (`record_version`
        seq) when it was opened; refused if someone saved it since."""
        old = self.get_client(client.id)
        # A phone or email already stored was accepted then: only a changed one is checked.
        _raise_if(validate_client(client) + contact_problems(client, old))
        row = self._client_row(client) | {"updated_at": fmt_time(self._now())}
        with self._writing():
            self._still_as_opened("client", client.id, expected, lock=False)
            if expected is not None:   # the details as they are now, for the audit row
                old = self.get_client(client.id)
            self._table("clients").update(client.id, row)
            self._record("update", "client", client.id, by=by, before=plain_client(old),
                         after=plain_client(client), expected=expected)
        return client

    def add_course(self, course: Course, *, by: str) -> Course:
        _raise_if(validate_course(course))
        self.get_client(course.client_id)
        with self._writing():
            self._table("courses").insert(_course_row(course))
            self._record("create", "course", course.id, by=by, after=_course_audit(course))
        return course

    def update_course(self, course: Course, *, by: str) -> Course:
        """Change a course's plan (concern, sessions, interval, areas, start, notes), or
        its ending; it stays with its client. Audited with the values before and after."""
        _raise_if(validate_course(course))
        old = self.get_course(course.id)
        if old.client_id != course.client_id:
            raise ValidationError([Problem("", "a course stays with the client it was "
                                              "planned for")])
        before, after = _course_audit(old), _course_audit(course)
        if before == after:
            raise ValidationError([Problem("", "nothing was changed in the course")])
        action = "end" if old.ended_on is None and course.ended_on is not None else "update"
        with self._writing():
            self._table("courses").update(course.id, _course_row(course))
            self._record(action, "course", course.id, by=by, before=before, after=after)
        return course

    def end_course(self, course_id: str, ended_on: date, reason: str, *, by: str) -> Course:
        """End a course before its planned sessions are done, on `ended_on`, saying why."""
        course = self.get_course(course_id)
        if course.ended_on is not None:
            raise ValidationError([Problem("ended_on", "this course has already ended, on "
                                           f"{day_text(course.ended_on)}")])
        return self.update_course(replace(course, ended_on=ended_on,
                                          end_reason=reason.strip()), by=by)

    def add_screening(self, screening: Screening, *, by: str) -> Screening:
        _raise_if(validate_screening(screening))
        self.get_client(screening.client_id)
        with self._writing():
            self._table("screenings").insert(_screening_row(screening))
            self._record("create", "screening", screening.id, by=by,
                         after=_screening_row(screening))
        return screening

    def _check_session(self, session: Session) -> None:
        problems = validate_session(session)
        if session.course_id is not None:
            owner = self.db.execute("SELECT client_id FROM courses WHERE id = ?",
                                    [session.course_id]).fetchone()
            if owner is None or owner[0] != session.client_id:
                problems.append(Problem("course_id", f"{session.course_id!r} is not a course "
                                        "of this client"))
        if session.screening_check is not None:
            owner = self.db.execute("SELECT client_id FROM screenings WHERE id = ?",
                                    [session.screening_check.screening_id]).fetchone()
            if owner is None or owner[0] != session.client_id:
                problems.append(Problem("screening_check.screening_id", "the screening "
                                        "confirmed at the visit is not one of this client's"))
        for path, lot_id in picked_lots(session):
            # A catalogue lot picked must be one (an import refuses a session naming none).
            if self.db.execute("SELECT 1 FROM lots WHERE id = ?", [lot_id]).fetchone() is None:
                problems.append(Problem(path, "is not a lot in the catalogue; pick the lot "
                                        "again"))
        _raise_if(problems)
        self.get_client(session.client_id)

    def save_draft(self, session: Session, *, by: str, expected: int | None = None
                   ) -> Session:
        """Create or replace a draft. A signed session changes only by `amend_session`.
        `expected`: the session's version (`record_version` seq) when the editor opened it,
        0 for a new one; the save is refused (ChangedElsewhereError, nothing written) when
        another room or window saved, signed or amended it since."""
        if session.signed_at is not None or session.amendments:
            raise SignedRecordError("a draft has no sign-off time or amendments; use "
                                    "sign_session and amend_session")
        self._check_session(session)
        with self._writing():
            self._still_as_opened("session", session.id, expected, lock=False)
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
            self._record("update" if before else "create", "session", session.id, by=by,
                         before=before, after=encode_session(session), expected=expected)
        return session

    def sign_session(self, session_id: str, at: datetime | None = None, *, by: str,
                     expected: int | None = None) -> Session:
        """Sign a draft off. `expected`: as for `save_draft`. Without it, the session as
        read here is what must still be stored when the sign-off is written (another room
        signing or saving it at the same moment refuses this one, rather than a second
        sign-off row)."""
        if expected is None:
            expected = self._version_seq("session", session_id)
        session = self.get_session(session_id)
        if session.is_signed:
            # Signed in another room since it was opened: said as that (who and when).
            self._still_as_opened("session", session_id, expected, lock=False)
            raise SignedRecordError("this session is already signed off")
        signed = replace(session, signed_at=at or self._now())
        self._check_session(signed)
        with self._writing():
            self._still_as_opened("session", session_id, expected, lock=False)
            self.db.execute("UPDATE sessions SET signed_at = ? WHERE id = ? "
                            "AND signed_at IS NULL", [fmt_time(signed.signed_at), session_id])
            self._record("sign", "session", session_id, by=by, before=encode_session(session),
                         after=encode_session(signed), expected=expected)
        return signed

    def amend_session(self, amended: Session, *, by: str, reason: str,
                      at: datetime | None = None, expected: int | None = None) -> Amendment:
        """Correct a signed session. The old value of every changed field is kept. `by`
        makes the amendment and is the one the audit trail names. `expected`: as for
        `save_draft` (refused when it was amended elsewhere since it was opened); without
        it, the session as read here must still be the stored one when the amendment is
        written (two rooms amending at once: the second is refused in words)."""
        if expected is None:
            expected = self._version_seq("session", amended.id)
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
            self._still_as_opened("session", current.id, expected, lock=False)
            self._delete_session_rows(current.id, keep_amendments=True)
            self._insert_sessions([new], amendments_from=len(current.amendments),
                                  update_row=True)
            self._record("amend", "session", current.id, by=by,
                         before=encode_session(current),
                         after=encode_session(new), expected=expected)
        return amendment

    def save_settings(self, settings: ClinicSettings, *, by: str) -> None:
        before = self.settings()
        with self._writing():
            save_settings(self.db, settings)
            self._record("update", "settings", None, by=by, before=settings_summary(before),
                         after=settings_summary(settings))

    def mark_demo(self, *, by: str) -> None:
        """Note in the file that it holds demonstration records (the window says so)."""
        with self._writing():
            self.db.execute("INSERT INTO settings (key, value) VALUES ('demo_records', 'true') "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            self._record("update", "settings", None, by=by, after={"demo_records": True})

    def record_restore(self, backup: str, safety_copy: str | None, *, by: str) -> None:
        """The audit row of a restore, written into the restored database (its own trail
        ends at the backup; what came after is in the safety copy)."""
        # A restore rewinds the trail to the backup's: a new epoch in the anchor file, so
        # the anchors written after that backup read as a rewind, not as tampering.
        anchors.record_restore_epoch(self.path, backup=backup)
        with self._writing():
            self._record("restore", "database", None, by=by, after={
                "from_backup": backup, "previous_database_kept_in": safety_copy})

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
            self._table("sessions").update(row["id"], row)
        for table in ("sessions", *_CHILD_TABLES):
            if rows.get(table):
                self._table(table).insert_all(rows[table], batch_size=1000)

    @staticmethod
    def _session_rows(sessions: Iterable[Session], amendments_from: int = 0
                      ) -> dict[str, list[dict[str, Any]]]:
        """The rows the store writes for these sessions, by table, children by position."""
        rows: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
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
                "anaesthetic_lot": a.lot if a else None,
                "anaesthetic_lot_id": a.lot_id if a else None,
                "cartridge_lot_id": s.device.cartridge_lot_id,
                "screening_id": s.screening_check.screening_id if s.screening_check else None,
                "screening_check": (str(s.screening_check.outcome) if s.screening_check
                                    else None),
                "combined_with": _json(s.combined_with), "aftercare": _json(s.aftercare),
                "fee_amount": fmt_amount(s.fee.amount) if s.fee else None,
                "fee_currency": s.fee.currency if s.fee else None,
                "notes": s.notes, "signed_at": fmt_time(s.signed_at)})
            for i, x in enumerate(s.areas):
                rows["treated_areas"].append({
                    "session_id": s.id, "position": i, "area": x.area.strip(),
                    "depth_mm": float(x.depth_mm), "passes": x.passes, "endpoint": x.endpoint,
                    "notes": x.notes, "zone": x.zone})
            for i, serum in enumerate(s.serums):
                rows["serums"].append({"session_id": s.id, "position": i,
                                       "product": serum.product, "lot": serum.lot,
                                       "lot_id": serum.lot_id})
            for i, r in enumerate(s.reactions):
                rows["reactions"].append({"session_id": s.id, "position": i, "kind": r.kind,
                                          "severity": r.severity, "observed": str(r.observed),
                                          "notes": r.notes})
            for i, w in enumerate(s.acknowledged_warnings):
                rows["acknowledged_warnings"].append({"session_id": s.id, "position": i,
                                                      "warning": compose_acknowledgement(
                                                          w.code, w.reason), "by": w.by,
                                                      "at": fmt_time(w.at)})
            for i, m in enumerate(s.amendments[amendments_from:], amendments_from):
                rows["amendments"].append({"session_id": s.id, "position": i,
                                           "at": fmt_time(m.at), "by": m.by,
                                           "reason": m.reason, "changes": _json(m.changes)})
        return rows
