"""Clinic settings, declared once with their types and defaults. No Qt, no SQL.

They are stored in the database (`store.settings`) so that a backup or a move to a new PC
carries them along. Window geometry and other per-PC state live in QSettings instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from needledesk.domain import rules
from needledesk.domain.face_chart import DEFAULT_AREA_ZONES, ZONES
from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
)
from needledesk.domain.model import PhotoView
from needledesk.domain.photos import DEFAULT_VIEWS, VIEW_TEXT
from needledesk.domain.rules import Problem
from needledesk.domain.text import fold

PAGE_SIZES = ("A4", "Letter")
#: Bounds of a usual anaesthetic contact time in the guideline table.
CONTACT_MIN_MINUTES, CONTACT_MAX_MINUTES = 1, 240

DEFAULT_AFTERCARE: tuple[str, ...] = (
    "SPF 50 sunscreen every day",
    "Gentle cleanser",
    "Hyaluronic acid serum",
    "No make-up for 24 hours",
    "No exercise, sweating, sauna or sun for 48 hours",
    "No retinoids or acids for 5 days",
)

DEFAULT_AFTERCARE_TEXT = (
    "For 48 hours: no sweating, exercise, sauna or direct sun, and no make-up on the first "
    "day. Every day: sunscreen (the skin stays sensitive to light for weeks) and a gentle "
    "cleanser, with at most the few products listed below. Call the clinic if swelling "
    "grows, or you notice pus, fever or anything that worries you."
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
    #: The face chart: which zone of the drawing each area of the list is drawn in (area
    #: name -> `domain.face_chart.ZONES` key); an area missing here has no zone.
    area_zones: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_AREA_ZONES))
    #: Default weeks between sessions when a session belongs to no course.
    default_interval_weeks: int = 6
    #: The app lock: an argon2id hash of the password or PIN (None: no lock), and the idle
    #: minutes after which the window locks itself.
    lock_hash: str | None = None
    idle_lock_minutes: int = 10
    #: The clinic's country (ISO 3166 code, "GB"): the rules phone numbers written without
    #: their country code are read by, so `+44 7700 900123` finds `07700 900 123`. A new
    #: clinic starts with this PC's locale's; "" (a file from before the setting) reads
    #: only numbers written internationally.
    country: str = field(default_factory=lambda: default_country())
    #: Screening and consent: days a signed consent lasts; days a screening may be
    #: re-confirmed at a visit before a full one is asked for; weeks the clinic waits after
    #: injectables (filler or toxin) in the area.
    consent_max_days: int = 365
    screening_max_days: int = 365
    injectables_weeks: int = 2
    #: Who is due: a course is lapsed when no session came for this many of its intervals
    #: past the day its next session was due.
    lapsed_after_intervals: int = 2
    #: Photos: the views asked for at each session (`PhotoView` values, in the order the
    #: session's photos show them); a view not taken yet is an empty place to drop one.
    photo_views: list[str] = field(default_factory=lambda: [str(v) for v in DEFAULT_VIEWS])

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


#: The clinic's country when this PC's locale names none.
FALLBACK_COUNTRY = "GB"


def default_country() -> str:
    """The country of this PC's locale (`en_GB.UTF-8` -> "GB"), or FALLBACK_COUNTRY (the C
    and POSIX locales name none)."""
    import locale
    import os
    import sys

    names = [os.environ.get(key, "") for key in ("LC_ALL", "LC_TELEPHONE", "LANG")]
    if sys.platform == "win32":
        import ctypes

        lcid = ctypes.windll.kernel32.GetUserDefaultLCID()  # type: ignore[attr-defined,unused-ignore]
        names.insert(0, locale.windows_locale.get(lcid, ""))
    for name in names:
        region = name.split(".")[0].split("@")[0].replace("-", "_").partition("_")[2]
        if len(region) == 2 and region.isalpha() and region.upper() in phone_regions():
            return region.upper()
    return FALLBACK_COUNTRY


def phone_regions() -> frozenset[str]:
    """The countries whose phone numbering `phonenumbers` knows (ISO 3166 codes)."""
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def country_problems(code: str) -> list[Problem]:
    """A country must be one whose phone numbers can be read (or "" for none chosen)."""
    if code == "" or code in phone_regions():
        return []
    return [Problem("country", f"Clinic's country: “{code}” is not a country code such as "
                               "GB, US or DE")]


def currency_problems(code: str) -> list[Problem]:
    """The fee rule's check of a currency code, placed on the settings field."""
    return [Problem("currency", f"Currency: {p.message}")
            for p in rules.currency_problems(code, "currency")]


def table_problems(path: str, rows: list[tuple[str, float, float]], *, what: str, unit: str,
                   bounds: tuple[float, float]) -> list[Problem]:
    """Problems of a guideline table's rows: a blank or repeated name (names match as
    `guidelines.lookup` does, ignoring case and accents), a usual low above the usual high,
    a value outside the editor's bounds. Each is placed at `path[i]`."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    low_bound, high_bound = bounds
    for i, (name, low, high) in enumerate(rows):
        where = f"Row {i + 1}" + (f" ({name.strip()})" if name.strip() else "")
        here = f"{path}[{i}]"
        key = fold(name.strip())
        if not key:
            problems.append(Problem(here, f"{where}: the {what} name is blank"))
        elif key in seen:
            problems.append(Problem(here, f"{where}: the {what} is already in row {seen[key]}"))
        else:
            seen[key] = i + 1
        for value in (low, high):
            if not low_bound <= value <= high_bound:
                problems.append(Problem(here, f"{where}: {value:g} {unit} is outside "
                                        f"{low_bound:g}–{high_bound:g} {unit}"))
        if low > high:
            problems.append(Problem(here, f"{where}: the usual low {low:g} {unit} is above "
                                    f"the usual high {high:g} {unit}"))
    return problems


def photo_views_problems(views: object) -> list[Problem]:
    """The views asked for per session: known views, each once, at least one."""
    allowed = ", ".join(VIEW_TEXT.values())
    if not isinstance(views, list) or not views:
        return [Problem("photo_views", "Photo views asked for: choose at least one of "
                        f"{allowed}")]
    known = {str(v) for v in PhotoView}
    problems = [Problem("photo_views", f"Photo views asked for: “{v}” is not a view; the "
                        f"views are {allowed}") for v in views if str(v) not in known]
    if len({str(v) for v in views}) != len(views):
        problems.append(Problem("photo_views", "Photo views asked for: a view is chosen twice"))
    return problems


def wanted_views(settings: ClinicSettings) -> list[PhotoView]:
    """The clinic's photo views as `PhotoView`s (the shipped ones when the stored list is
    not a sound one, such as a file edited by hand)."""
    views = getattr(settings, "photo_views", None)
    if photo_views_problems(views):
        return list(DEFAULT_VIEWS)
    return [PhotoView(v) for v in views]  # type: ignore[union-attr]


def validate_settings(settings: ClinicSettings) -> list[Problem]:
    """Every rule a stored ClinicSettings must keep, for the dialog and the store alike."""
    problems = currency_problems(settings.currency)
    problems += country_problems(settings.country)
    if settings.page_size not in PAGE_SIZES:
        problems.append(Problem("page_size", f"{settings.page_size!r} is not one of "
                                + ", ".join(PAGE_SIZES)))
    if not 1 <= settings.idle_lock_minutes <= 240:
        problems.append(Problem("idle_lock_minutes",
                                f"{settings.idle_lock_minutes} is outside 1–240 minutes"))
    if not 1 <= settings.default_interval_weeks <= 52:
        problems.append(Problem("default_interval_weeks",
                                f"{settings.default_interval_weeks} is outside 1–52 weeks"))
    for name, value, low, high, unit in (
            ("consent_max_days", settings.consent_max_days, 30, 1095, "days"),
            ("screening_max_days", settings.screening_max_days, 1, 1095, "days"),
            ("injectables_weeks", settings.injectables_weeks, 0, 26, "weeks"),
            ("lapsed_after_intervals", settings.lapsed_after_intervals, 1, 12, "intervals")):
        if not low <= value <= high:
            problems.append(Problem(name, f"{value} is outside {low}–{high} {unit}"))
    problems += table_problems(
        "anaesthetics", [(k, v.low_min, v.high_min) for k, v in settings.anaesthetics.items()],
        what="product", unit="min", bounds=(CONTACT_MIN_MINUTES, CONTACT_MAX_MINUTES))
    for i, (name, usual) in enumerate(settings.anaesthetics.items()):
        # ContactTime holds whole minutes (the editor's spin box has no decimals).
        for value in (usual.low_min, usual.high_min):
            number: object = value   # typed int; a caller may still hand a float
            if isinstance(number, float) and not number.is_integer():
                problems.append(Problem(f"anaesthetics[{i}]", f"Row {i + 1} ({name.strip()}): "
                                        f"{value:g} min is not a whole number of minutes"))
    problems += table_problems(
        "area_depths", [(k, v.low_mm, v.high_mm) for k, v in settings.area_depths.items()],
        what="area", unit="mm", bounds=(rules.DEPTH_MIN_MM, rules.DEPTH_MAX_MM))
    problems += photo_views_problems(settings.photo_views)
    for i, (area, zone) in enumerate(settings.area_zones.items()):
        if zone not in ZONES:
            problems.append(Problem(f"area_zones[{i}]", f"{area.strip()}: “{zone}” is not a "
                                    "zone of the face chart"))
    return problems
