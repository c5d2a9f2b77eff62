"""`needledesk check`: is the file sound? SQLite's own checks, then every record's rules."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from needledesk.domain.rules import validate_record
from needledesk.store.audit import AuditLog
from needledesk.store.repository import Repository


def check_database(db: Database) -> list[str]:
    """Every problem found, one line each; an empty list means the file is sound."""
    try:
        problems = [f"integrity: {row[0]}" for row in db.execute("PRAGMA integrity_check")
                    if row[0] != "ok"]
    except sqlite3.DatabaseError as exc:
        return [f"integrity: {exc}"]
    if problems:
        # A damaged b-tree can make every later read fail or lie: stop at SQLite's verdict.
        return problems
    problems += [f"foreign key: {table} row {rowid} points to a missing {parent}"
                 for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check")]
    audited = db["audit"].exists()
    audit = AuditLog(db)
    if audited:
        problems += audit.verify_chain()
    records = list(Repository(db).load_records())
    for record in records:
        name = record.client.full_name
        problems += [f"client {record.client.id} ({name}): {p}" for p in validate_record(record)]
    if audited:
        # (A file of an older schema has no trail yet; opening it in NeedleDesk seals it.)
        problems += audit.verify_signed(s for record in records for s in record.sessions)
    return problems
