"""Clinic settings, declared once with their types and defaults. No Qt, no SQL.

They are stored in the database (`store.settings`) so that a backup or a move to a new PC
carries them along. Window geometry and other per-PC state live in QSettings instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
)

PAGE_SIZES = ("A4", "Letter")

DEFAULT_AFTERCARE: tuple[str, ...] = (
    "SPF 50 sunscreen every day",
    "Gentle cleanser",
    "Hyaluronic acid serum",
    "No make-up for 24 hours",
    "No exercise, sweating, sauna or sun for 48 hours",
    "No retinoids or acids for 5 days",
)

DEFAULT_AFTERCARE_TEXT = (
    "Redness, tightness and mild sensitivity are normal and settle within hours to a few "
    "days. Keep the skin clean and calm: no sweating, exercise, sauna or direct sun for 48 "
    "hours, sunscreen every day (the skin is sensitive to light for weeks), a gentle "
    "cleanser and at most the few products listed. Make-up only after the first day. "
    "Call the clinic if you notice swelling that grows, pus, fever or anything that worries "
    "you."
)


@dataclass
class ClinicSettings:
    clinic_name: str = "NeedleDesk Clinic"
    address: str = ""
    phone: str = ""
    #: PNG or JPEG bytes of the logo that heads printed summaries (kept in the database).
    logo: bytes | None = None
    currency: str = "USD"
    page_size: str = "A4"
    practitioners: list[str] = field(default_factory=list)
    aftercare: list[str] = field(default_factory=lambda: list(DEFAULT_AFTERCARE))
    aftercare_text: str = DEFAULT_AFTERCARE_TEXT
    anaesthetics: dict[str, ContactTime] = field(
        default_factory=lambda: dict(DEFAULT_ANAESTHETICS))
    area_depths: dict[str, DepthRange] = field(default_factory=lambda: dict(DEFAULT_AREA_DEPTHS))
    #: Default weeks between sessions when a session belongs to no course.
    default_interval_weeks: int = 6

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
