"""What every part of the Repository shares: the database, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlite_utils import Database
from sqlite_utils.db import Table

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
        path: str = self.db.execute("PRAGMA database_list").fetchone()[2]
        return path

    def _table(self, name: str) -> Table:
        """`db[name]` as the Table it is (NeedleDesk's schema has no view of these names)."""
        return cast(Table, self.db[name])

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)
