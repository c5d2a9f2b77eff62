"""How the due list and a recall read, the same in the window and on paper. No Qt, no SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from needledesk.domain.due import state_text
from needledesk.domain.labels import PRODUCT_KIND_LABELS
from needledesk.domain.model import ProductKind
from needledesk.domain.safety import DueRow, DueState, RecallRow
from needledesk.domain.text import count_text, day_text

__all__ = ["due_count_text", "due_session_text", "kind_text", "recall_count_text",
           "recall_filter_text", "state_text"]


def due_session_text(row: DueRow) -> str:
    """The session that is due, in its course: `3 of 5`."""
    return f"{row.sessions_done + 1} of {row.planned_sessions}"


def due_count_text(rows: Sequence[DueRow]) -> str:
    """`2 courses due or overdue, 1 due soon, 1 lapsed` (`No course is due.`)."""
    if not rows:
        return "No course is due."
    counts = {state: sum(1 for r in rows if r.state is state) for state in DueState}
    parts = [(counts[DueState.DUE] + counts[DueState.OVERDUE], "due or overdue"),
             (counts[DueState.UPCOMING], "due soon"), (counts[DueState.LAPSED], "lapsed")]
    shown = [(n, words) for n, words in parts if n]
    first_n, first_words = shown[0]
    return ", ".join([f"{count_text(first_n, 'course')} {first_words}",
                      *(f"{n:,} {words}" for n, words in shown[1:])])


def kind_text(kind: ProductKind | str) -> str:
    """`Serum`, `Topical anaesthetic`, `Needle cartridge`."""
    return PRODUCT_KIND_LABELS.get(str(kind), str(kind))


def recall_count_text(rows: Sequence[RecallRow]) -> str:
    """`Found on 3 sessions of 2 clients` (`No session used this lot.`)."""
    if not rows:
        return "No session used this lot."
    sessions = len({r.session_id for r in rows})
    clients = len({r.client_id for r in rows})
    text = f"Found on {count_text(sessions, 'session')} of {count_text(clients, 'client')}"
    amended = len({r.session_id for r in rows if r.amended})
    if amended:
        text += f" ({amended:,} amended after sign-off)"
    return text


def recall_filter_text(kinds: Iterable[ProductKind] | None, start: date | None,
                       end: date | None) -> str:
    """What a recall searched: `Any product, any date`, `Serum, from 1 Nov 2026 to
    30 Nov 2026`."""
    chosen = list(kinds) if kinds is not None else []
    what = ("Any product" if not chosen or len(set(chosen)) == len(ProductKind)
            else ", ".join(kind_text(k) for k in chosen))
    if start and end:
        when = f"from {day_text(start)} to {day_text(end)}"
    elif start:
        when = f"from {day_text(start)}"
    elif end:
        when = f"up to {day_text(end)}"
    else:
        when = "any date"
    return f"{what}, {when}"
