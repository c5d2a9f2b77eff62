"""How long a signed consent lasts: one rule for the client card, the session editor and the
course record.

A screening's date is the day its consent was signed. Past the clinic's limit (365 days
unless the clinic says otherwise) the consent is out of date: a guideline warning, which
the practitioner acknowledges like the others, never a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from needledesk.domain.model import Screening

#: Days a signed consent lasts unless the clinic sets its own limit.
CONSENT_MAX_DAYS = 365


@dataclass(frozen=True)
class ConsentState:
    """The latest consent as of a day: `signed` (a screening with consent), its `age_days`
    on that day, and whether that is past the limit (`expired`)."""

    signed: bool
    age_days: int | None
    max_days: int

    @property
    def expired(self) -> bool:
        return self.signed and self.age_days is not None and self.age_days > self.max_days

    @property
    def current(self) -> bool:
        return self.signed and not self.expired


def consent_state(screening: Screening | None, on: date,
                  max_days: int = CONSENT_MAX_DAYS) -> ConsentState:
    """The consent of `screening` (the latest one) as it stands on the day `on`."""
    if screening is None or not screening.consent_signed:
        return ConsentState(False, None, max_days)
    return ConsentState(True, (on - screening.date).days, max_days)


def consent_expired(screening: Screening | None, on: date,
                    max_days: int = CONSENT_MAX_DAYS) -> bool:
    """True when `screening`'s consent was signed more than `max_days` days before `on`."""
    return consent_state(screening, on, max_days).expired


def consent_age_text(screening: Screening, on: date, max_days: int = CONSENT_MAX_DAYS) -> str:
    """`consent over a year old (signed 400 days ago)`: one wording for the editor's
    warning, the card and the course record."""
    age = (on - screening.date).days
    return f"consent over {limit_text(max_days)} old (signed {age} days ago)"


def limit_text(max_days: int = CONSENT_MAX_DAYS) -> str:
    """`a year` for 365 days, else `200 days`."""
    return "a year" if max_days == 365 else f"{max_days} days"


def consent_code(max_days: int = CONSENT_MAX_DAYS) -> str:
    """The acknowledgement code of an out-of-date consent."""
    return f"screening: consent older than {max_days} days"
