"""What every part of the Repository shares: the database, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlite_utils import Database

from needledesk.store.audit import AuditLog


class RepositoryBase:
    # Who writes is not kept here: each write method takes `by` (the practitioner chosen in
    # the editor, the person at the PC, the command's user), so a Repository shared by
    # several windows never credits one person's write to another.
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = datetime.now):
        self.db = db
        self.clock = clock
        self.audit = AuditLog(db)

    @property
    def path(self) -> str:
        """The database file this repository reads and writes."""
        return self.db.execute("PRAGMA database_list").fetchone()[2]

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)
