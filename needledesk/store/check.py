"""`needledesk check`: is the file sound, and does it hold what NeedleDesk wrote?

In order: SQLite's own integrity check (a damaged file stops there); the schema objects
against what the migrations make (`expected_schema`); foreign keys; the audit trail's chain;
every record against its latest audit row (`AuditLog.verify_records`: edited, deleted,
unsigned or added behind the program's back); the database id; every record's rules; and
the trail against the anchors kept outside the file (`anchors.verify`).

Problems are damage or tampering (exit 1). Warnings are not: records stored before today's
input limits that break them, an anchor file that cannot be read, no anchor at all.
"""

from __future__ import annotations

import decimal
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needledesk.domain.consent_rules import validate_consent, validate_template
from needledesk.domain.labels import problem_text
from needledesk.domain.photos import validate_photo
from needledesk.domain.rules import limit_problems, validate_record
from needledesk.store import anchors
from needledesk.store.audit import AuditLog
from needledesk.store.engine import Database, dialect
from needledesk.store.expected_schema import schema_problems
from needledesk.store.photo_files import PhotoStore
from needledesk.store.repository import Repository
from needledesk.store.search import search_text_problems
from needledesk.store.server_check import schema_problems as server_schema_problems

#: What reading or validating a record whose stored values were tampered with can raise.
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError,
               IndexError, decimal.InvalidOperation)


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def _db_path(db: Database) -> Path | None:
    if dialect(db).server:
        return None   # the clinic server: no file, no backups folder beside it
    row = next((r for r in db.execute("PRAGMA database_list") if r[1] == "main"), None)
    return Path(row[2]) if row and row[2] else None


def _reading(what: str, exc: Exception) -> str:
    return f"{what}: cannot be read ({exc}); the file's schema was changed behind " \
           "NeedleDesk's back"


def check_file(db: Database, *, db_path: str | os.PathLike[str] | None = None,
               anchor_folder: str | os.PathLike[str] | None = None,
               backup_dirs: list[str | os.PathLike[str]] | None = None,
               integrity: bool = True, photos: PhotoStore | None = None,
               photo_files: bool = True) -> CheckReport:
    """Everything `check` finds. `db_path` (default: the file `db` is open on) names where
    to look for backup manifests (`backups` beside it, and `backup_dirs`); `anchor_folder`
    overrides where the anchor files are (default: `anchors.anchor_dir()`). `integrity=False`
    skips SQLite's integrity check (a pass over the whole file), for a caller that has just
    run it on this connection and written nothing since. `photos`: where the photos' bytes
    are (default: the folder beside the file); `photo_files=False` leaves their files
    unread, for a caller that checks them where they are (restore: in the backup folder)."""
    report = CheckReport()
    problems, warnings = report.problems, report.warnings
    errors = dialect(db).errors
    unreadable: tuple[type[BaseException], ...] = (*errors, *_UNREADABLE)
    if integrity:
        try:
            problems += dialect(db).integrity_problems(db)
        except errors as exc:
            return CheckReport([f"integrity: {exc}"])
    if problems:
        # A damaged b-tree can make every later read fail or lie: stop at SQLite's verdict.
        return report
    problems += (server_schema_problems(db) if dialect(db).server else schema_problems(db))
    try:
        problems += dialect(db).foreign_key_problems(db)
    except errors as exc:
        problems.append(_reading("foreign keys", exc))
    audit = AuditLog(db)
    audited = dialect(db).has_table(db, "audit")
    if audited:
        try:
            problems += audit.verify_chain()
            problems += _identity_problems(db, audit)
        except errors as exc:
            problems.append(_reading("audit", exc))
    try:
        records = list(Repository(db).load_records())
    except unreadable:
        problems.append("records: a stored value cannot be read as a record (a date, a "
                        "number or a list of the wrong kind); the file was changed behind "
                        "NeedleDesk's back")
        records = []
    for record in records:
        name = f"client {record.client.id} ({record.client.full_name})"
        try:
            # The input limits: a record stored before them is warned about, not damage.
            problems += [f"{name}: {p}" for p in validate_record(record, limits=False)]
            problems += [f"{name}: consent {c.id} ({c.title}): "
                         + problem_text(p, kind="consent") for c in record.consents
                         for p in validate_consent(c)]
            warnings += [f"{name}: {p} (stored before this limit; correct it when next "
                         "edited)" for p in limit_problems(record)]
        except unreadable:
            problems.append(f"{name}: a stored value is not of its kind (a date, a number or "
                            "a list); the file was changed behind NeedleDesk's back")
    try:
        problems += [f"consent form {t.id} ({t.title}, version {t.version}): "
                     + problem_text(p, kind="consent_template")
                     for t in Repository(db).consent_templates() for p in validate_template(t)]
    except unreadable:
        problems.append("consent forms: a stored value cannot be read as a consent form; the "
                        "file was changed behind NeedleDesk's back")
    if audited:
        try:
            problems += audit.verify_records()
        except errors as exc:
            problems.append(_reading("records", exc))
        path = Path(db_path) if db_path is not None else _db_path(db)
        folders = anchors.backup_folders(path, backup_dirs or []) if path else \
            [Path(f) for f in backup_dirs or []]
        try:
            found, notes = anchors.verify(db, folder=anchor_folder, backup_dirs=folders,
                                          db_path=path)
        except errors as exc:
            found, notes = [_reading("audit", exc)], []
        problems += found
        warnings += notes
    repo = Repository(db)
    if photos is not None:
        repo._photo_store = photos
    try:
        problems += [f"photo {p.id} (client {p.client_id}): " + problem_text(x, kind="photo")
                     for p in repo.photos(removed=True) for x in validate_photo(p)]
        missing, orphans = repo.photo_file_problems() if photo_files else ([], [])
        problems += missing
        if orphans:
            problems.append(f"photo folder: {len(orphans)} picture file(s) belong to no photo "
                            "record (left by an interrupted import, or put there by hand); "
                            "`needledesk photos tidy` removes them")
    except unreadable:
        problems.append("photos: a stored value cannot be read as a photo record; the file was "
                        "changed behind NeedleDesk's back")
    except errors as exc:
        problems.append(_reading("photos", exc))
    try:
        problems += search_text_problems(db)
    except errors as exc:
        problems.append(_reading("clients' search words", exc))
    return report


def _identity_problems(db: Database, audit: AuditLog) -> list[str]:
    """The database id in `meta` must be the one the trail recorded, and alone there."""
    recorded = audit.database_id()
    if recorded is None:
        return []
    try:
        rows = db.execute("SELECT key, value FROM meta").fetchall()
    except dialect(db).errors:
        return []  # a missing meta table is a schema problem, reported there
    stored = dict(rows)
    problems = []
    if stored.get("database_id") != recorded:
        problems.append(f"meta: the database id is {stored.get('database_id')!s}, but the audit "
                        f"trail recorded {recorded}; it was changed behind NeedleDesk's back")
    extra = sorted(set(stored) - {"database_id"})
    if extra:
        problems.append(f"meta: unknown entries ({', '.join(map(str, extra))}) were added "
                        "behind NeedleDesk's back")
    return problems


def check_database(db: Database, **options: Any) -> list[str]:
    """Every problem found, one line each; an empty list means the file is sound (warnings
    are left out: see `check_file`)."""
    return check_file(db, **options).problems
