"""Consents: which signed consent covers a visit, how long it lasts, and what makes a consent
or a consent form sound. One set of rules for the client card, the session editor, the
course record, the import and the store.

A consent lasts the clinic's limit (365 days unless the clinic says otherwise). Past it the
consent is out of date: a guideline warning, which the practitioner acknowledges like the
others, never a block.

What makes a consent or a consent form sound is in `domain.consent_rules`.

Consents ticked on a screening before consents were kept in NeedleDesk count as treatment
consents "signed on paper" on the screening's date (`carried_consent`): they are made from
the screening each time they are read, never stored twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from needledesk.domain.model import Consent, ConsentKind, ConsentMethod, Screening
from needledesk.domain.text import day_text

#: Days a signed consent lasts unless the clinic sets its own limit.
CONSENT_MAX_DAYS = 365

_CARRIED = uuid.UUID("6f1c2b52-8d4e-4c1e-9a55-0d3e5c1a7b10")

KIND_TEXT = {ConsentKind.TREATMENT: "treatment consent", ConsentKind.PHOTO: "photo consent"}
METHOD_TEXT = {ConsentMethod.ON_SCREEN: "signed on screen",
               ConsentMethod.ON_PAPER: "signed on paper"}


def carried_consent(screening: Screening) -> Consent:
    """The treatment consent a screening's "consent signed" tick stands for: signed on paper
    on the screening's day (same id every time it is made)."""
    return Consent(
        client_id=screening.client_id, kind=ConsentKind.TREATMENT,
        signed_at=datetime.combine(screening.date, time()), method=ConsentMethod.ON_PAPER,
        practitioner="", title="Treatment consent",
        id=str(uuid.uuid5(_CARRIED, screening.id)),
        notes="Recorded as signed with the screening of this day, before consent forms "
              "were kept in NeedleDesk",
        carried_from=screening.id)


def all_consents(consents: Iterable[Consent], screenings: Iterable[Screening] = ()
                 ) -> list[Consent]:
    """A client's consents kept in NeedleDesk and those carried from screenings' ticks, by
    when they were signed."""
    found = list(consents) + [carried_consent(s) for s in screenings if s.consent_signed]
    return sorted(found, key=lambda c: (c.signed_at, c.id))


def covering(consents: Iterable[Consent], on: date,
             kind: ConsentKind = ConsentKind.TREATMENT) -> Consent | None:
    """The latest consent of `kind` signed on or before the day `on` (out of date or not)."""
    candidates = [c for c in consents if c.kind == kind and c.signed_at.date() <= on]
    return max(candidates, key=lambda c: (c.signed_at, c.id), default=None)


@dataclass(frozen=True)
class ConsentState:
    """The consent covering a day: `signed` (there is one), its `age_days` on that day, and
    whether that is past the limit (`expired`)."""

    signed: bool
    age_days: int | None
    max_days: int
    consent: Consent | None = None

    @property
    def expired(self) -> bool:
        return self.signed and self.age_days is not None and self.age_days > self.max_days

    @property
    def current(self) -> bool:
        return self.signed and not self.expired


def consent_state(consent: Consent | None, on: date,
                  max_days: int = CONSENT_MAX_DAYS) -> ConsentState:
    """The consent `consent` (the covering one, or None) as it stands on the day `on`."""
    if consent is None:
        return ConsentState(False, None, max_days)
    return ConsentState(True, (on - consent.signed_at.date()).days, max_days, consent)


def consent_expired(consent: Consent | None, on: date,
                    max_days: int = CONSENT_MAX_DAYS) -> bool:
    """True when `consent` was signed more than `max_days` days before `on`."""
    return consent_state(consent, on, max_days).expired


def consent_age_text(consent: Consent, on: date, max_days: int = CONSENT_MAX_DAYS) -> str:
    """`consent over a year old (signed 400 days ago)`: one wording for the editor's
    warning, the card and the course record."""
    age = (on - consent.signed_at.date()).days
    return f"consent over {limit_text(max_days)} old (signed {age} days ago)"


def limit_text(max_days: int = CONSENT_MAX_DAYS) -> str:
    """`a year` for 365 days, else `200 days`."""
    return "a year" if max_days == 365 else f"{max_days} days"


def consent_code(max_days: int = CONSENT_MAX_DAYS) -> str:
    """The acknowledgement code of an out-of-date consent (the code sessions acknowledged
    before consents were kept; unchanged so their acknowledgements still count)."""
    return f"screening: consent older than {max_days} days"


#: The acknowledgement code of a visit no consent covers.
NO_CONSENT_CODE = "screening: no consent"


def signed_text(consent: Consent) -> str:
    """`signed on screen on 3 Nov 2026 at 10:42` / `signed on paper on 3 Nov 2026`."""
    when = day_text(consent.signed_at.date())
    if consent.method == ConsentMethod.ON_SCREEN:
        return f"signed on screen on {when} at {consent.signed_at:%H:%M}"
    return f"signed on paper on {when}"
