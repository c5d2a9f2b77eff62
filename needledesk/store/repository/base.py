"""What every part of the Repository shares: the database, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlite_utils import Database

from needledesk.store.audit import AuditLog


class RepositoryBase:
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

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)
