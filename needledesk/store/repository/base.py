"""What every part of the Repository shares: the database, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from needledesk.store.audit import AuditLog
from needledesk.store.engine import Database, dialect


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
        """The database file this repository reads and writes; for the clinic server, its
        address (`postgresql://user@host:port/database`, no password)."""
        if self.on_server:
            return str(self.db.address.url())   # type: ignore[attr-defined]
        return dialect(self.db).location(self.db)

    @property
    def on_server(self) -> bool:
        """True on the clinic server (several rooms), False on the clinic's own file."""
        return dialect(self.db).server

    @property
    def where(self) -> str:
        """Where the records are, as the window's status bar says it."""
        return dialect(self.db).location(self.db)

    def reconnect(self) -> None:
        """On the clinic server, after its connection was lost: connect again in place
        (`ServerAwayError` while it is still away). Nothing to do on the file."""
        if self.on_server:
            self.db.reconnect()   # type: ignore[attr-defined]

    def server_reachable(self) -> bool:
        """True when the records can be read now: always on the file; on the server, one
        trivial read goes through (connecting again first if the connection was lost)."""
        if not self.on_server:
            return True
        if self.db.reachable():   # type: ignore[attr-defined]
            return True
        from needledesk.errors import NeedleDeskError

        try:
            self.reconnect()
        except NeedleDeskError:
            return False
        return bool(self.db.reachable())   # type: ignore[attr-defined]

    def server_away(self, error: BaseException) -> bool:
        """Whether `error` says the clinic server cannot be reached (what was being written
        can be written again once it is back), as opposed to a refusal of the record."""
        if not self.on_server:
            return False
        from needledesk.store.engine.postgres import ServerAwayError

        return isinstance(error, ServerAwayError)

    def _table(self, name: str) -> Any:
        """`db[name]`: a table to insert into and update."""
        return self.db[name]

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)
