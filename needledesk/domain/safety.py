"""The clinic's safety lists as plain rows: who received a lot (a recall), and who is due.

The store fills them (`store.lists`); the window, the printed lists and the command line
show them. No Qt, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from needledesk.domain.model import ProductKind


@dataclass(frozen=True)
class RecallRow:
    """One use of a recalled lot on one session: the client to call and what they got.

    `product` and `lot` are the text on the session as it stands (an amended lot as
    amended); `amended` says the session's lot was changed by an amendment after sign-off.
    """

    session_id: str
    client_id: str
    client_name: str
    phone: str | None
    started_at: datetime
    kind: ProductKind
    product: str
    lot: str
    practitioner: str
    signed: bool
    amended: bool


class DueState(StrEnum):
    """Where a course's next session stands on a day."""

    UPCOMING = "upcoming"   # due within the days asked for
    DUE = "due"             # due today
    OVERDUE = "overdue"     # past its due day
    LAPSED = "lapsed"       # no session for the clinic's lapse limit past the due day


@dataclass(frozen=True)
class DueRow:
    """A course whose next session is due, overdue or lapsed (or upcoming within the days
    asked for), with the client to call."""

    client_id: str
    client_name: str
    phone: str | None
    course_id: str
    concern: str
    interval_weeks: int
    sessions_done: int
    planned_sessions: int
    last_session: date | None
    due_on: date
    state: DueState
    #: Days past the due day (0 on the day; negative: due in that many days).
    days_overdue: int
