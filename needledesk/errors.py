"""Errors the program reports to a person as one clear line, never as a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


class NeedleDeskError(Exception):
    """An expected failure with a message fit for the practitioner or the command line."""


class ValidationError(NeedleDeskError):
    """A record breaks one or more rules; nothing was written."""

    def __init__(self, problems: Iterable[object]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__("; ".join(lines) if len(lines) < 4 else
                         f"{len(lines)} problems: " + "; ".join(lines[:3]) + "; …")


class NotFoundError(NeedleDeskError):
    """No record has that id."""


class SignedRecordError(NeedleDeskError):
    """A signed session was about to change other than by an amendment."""


class ChangedElsewhereError(NeedleDeskError):
    """A record was saved by someone else (another room, another window) after this copy of
    it was opened: the save is refused with nothing written, and the editor keeps its
    entries. `who` and `at` are the other save's, from the record's latest audit row."""

    def __init__(self, kind: str, record_id: str, who: str, at: datetime | None, *,
                 place: str = "in another room") -> None:
        from needledesk.domain.text import day_text

        self.kind = kind
        self.record_id = record_id
        self.who = who
        self.at = at
        what = {"session": "session", "client": "client's record"}.get(kind, kind)
        when = ""
        if at is not None:
            when = f" at {at:%H:%M} on {day_text(at.date())}"
        by = f" by {who}" if who else ""
        if who or at is not None:
            happened = f"This {what} was changed {place}{by}{when} after you opened it."
        else:
            happened = f"This {what} was removed or replaced {place} after you opened it."
        super().__init__(f"{happened} Your entries are kept here: close and reopen it to "
                         "see theirs.")
