"""The repository: every read and write of records goes through here, as dataclasses.

In layers, each importing only those before it: `mapping` (rows <-> dataclasses), `base`
(the database and the clock), `queries` (reads), `writes` (validated, audited writes, each
with `by`, who made it), `merge` (import: batches and the same-id rules), and `Repository`
here, which is all of them.

Writes that span rows (a session with its areas, serums and reactions; an import) run in
one `db.atomic()` transaction, so a crash leaves the whole record or none of it. Every
write is validated by `domain.rules` first: a record that breaks a rule is never written.
"""

from __future__ import annotations

from needledesk.store.database import open_database
from needledesk.store.repository.mapping import (
    ClientSearch,
    ClientSummary,
    SessionSummary,
    plain_client,
    search_key,
)
from needledesk.store.repository.merge import ImportMerge, ImportResult

__all__ = ["ClientSearch", "ClientSummary", "ImportResult", "Repository", "SessionSummary",
           "plain_client", "search_key"]


class Repository(ImportMerge):
    """The records of one database file. Reads return dataclasses; every write method takes
    `by=` (required), the name its audit row gives: nobody is remembered between writes."""

    def reader(self) -> Repository:
        """A second connection to the same file, for reading on a worker thread (WAL lets it
        read while this one writes; on the clinic server, a second connection). The caller
        closes it: `reader.db.close()`."""
        if self.on_server:
            return Repository(self.db.fresh(), clock=self.clock)  # type: ignore[attr-defined]
        return Repository(open_database(self.path, migrate=False), clock=self.clock)
