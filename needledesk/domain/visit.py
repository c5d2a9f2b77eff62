"""The screening re-confirmed at every visit: what to ask before a new session starts.

The full screening is taken once; before each session the practitioner asks "anything
changed since the screening of 3 Nov 2026?" with the answers that flagged and the
contraindications that come and go with time (isotretinoin, injectables, a tan or sunburn,
pregnancy) read out as the screening answered them. A screening older than the clinic's
limit is not re-confirmed: a full one is taken. No Qt, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from needledesk.domain.model import (
    ANSWER_TEXT,
    FLAGGED_ANSWER,
    SCREENING_QUESTIONS,
    Screening,
    ScreeningCheck,
    ScreeningOutcome,
)
from needledesk.domain.rules import latest_screening
from needledesk.domain.text import day_text

#: The questions whose answer changes with time, in the order they are read out.
TIME_BASED: tuple[str, ...] = ("isotretinoin_last_6_months", "injectables_recent",
                               "recent_tan_or_sunburn", "pregnant")


@dataclass(frozen=True)
class VisitCheck:
    """What the question at the start of a session shows, for one client on one day."""

    screening: Screening
    day: date
    #: Days from the screening to the session's day.
    age_days: int
    #: The clinic's limit: a screening older than this is not re-confirmed.
    max_days: int
    #: The flagged answers, as the questionnaire words them.
    flagged: list[str] = field(default_factory=list)
    #: The time-based contraindications as plain sentences, with the screening's answers.
    reminders: list[str] = field(default_factory=list)

    @property
    def needs_full(self) -> bool:
        """The screening is older than the clinic's limit: a full one is taken instead."""
        return self.age_days > self.max_days

    @property
    def screening_day(self) -> str:
        return day_text(self.screening.date)

    @property
    def question(self) -> str:
        """`Anything changed since the screening of 3 Nov 2026?`"""
        return f"Anything changed since the screening of {self.screening_day}?"

    @property
    def age_text(self) -> str:
        """`Taken 12 days ago.` (`Taken today.`, `Taken yesterday.`)."""
        if self.age_days <= 0:
            return "Taken today."
        if self.age_days == 1:
            return "Taken yesterday."
        return f"Taken {self.age_days:,} days ago."

    @property
    def full_needed_text(self) -> str:
        """Why a full screening is asked for instead, in plain words."""
        return (f"The screening of {self.screening_day} is {self.age_days:,} days old, over "
                f"the clinic's limit of {self.max_days:,} days: take a full screening with "
                "the client before this session.")

    def no_change(self) -> ScreeningCheck:
        """What "no change" records on the session."""
        return ScreeningCheck(self.screening.id, ScreeningOutcome.NO_CHANGE)


def updated(screening: Screening) -> ScreeningCheck:
    """What taking a new screening at the visit records on the session: the new one."""
    return ScreeningCheck(screening.id, ScreeningOutcome.UPDATED)


def flag_text(key: str) -> str:
    """How a flagged answer reads: `Pregnant`, or with the risky no
    (`Topical retinoids stopped ahead of treatment: no`)."""
    question = SCREENING_QUESTIONS[key]
    return question if FLAGGED_ANSWER[key] else f"{question}: no"


def _answered(screening: Screening, key: str) -> str:
    answer = screening.answers.get(key)
    if answer is None:
        return "not asked at the screening"
    return f"{ANSWER_TEXT[answer]} at the screening"


def reminder_lines(screening: Screening, injectables_weeks: int) -> list[str]:
    """The time-based contraindications to ask about again, each with the screening's
    answer: `Isotretinoin in the last 6 months: No at the screening`."""
    weeks = ("recently" if injectables_weeks <= 0 else
             f"in the last {injectables_weeks} week{'s' if injectables_weeks != 1 else ''}")
    wording = {
        "isotretinoin_last_6_months": "Isotretinoin in the last 6 months",
        "injectables_recent": f"Injectables (filler or toxin) in the area {weeks}",
        "recent_tan_or_sunburn": "A recent tan or sunburn in the area",
        "pregnant": "Pregnant",
    }
    return [f"{wording[key]}: {_answered(screening, key)}" for key in TIME_BASED]


def visit_check(screenings: Iterable[Screening], day: date, *, screening_max_days: int,
                injectables_weeks: int) -> VisitCheck | None:
    """What to ask before a session on `day`: None when the client has no screening on or
    before that day (the session's warnings already say so)."""
    latest = latest_screening(screenings, day)
    if latest is None:
        return None
    return VisitCheck(
        screening=latest, day=day, age_days=(day - latest.date).days,
        max_days=screening_max_days,
        flagged=[flag_text(key) for key in latest.flagged],
        reminders=reminder_lines(latest, injectables_weeks))


def check_text(check: ScreeningCheck | None, screenings: Iterable[Screening]) -> str:
    """The editor's line for a recorded check: `Screening of 3 Nov 2026 re-confirmed: no
    change` or `Screening updated at the visit (new screening of 1 Dec 2026)`; empty when
    none was recorded."""
    if check is None:
        return ""
    screening = next((s for s in screenings if s.id == check.screening_id), None)
    when = f" of {day_text(screening.date)}" if screening is not None else ""
    if check.outcome == ScreeningOutcome.NO_CHANGE:
        return f"Screening{when} re-confirmed: no change"
    return f"Screening updated at the visit: new screening{when}"
