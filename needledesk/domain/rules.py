"""The one set of rules every record passes, whoever writes it: window, import, demo, scripts.

`validate_*` return hard problems (the record is not written); `*_warnings` return guideline
warnings (the practitioner may proceed, and the acknowledgement is recorded). Each problem
names its place relative to the record it checks, e.g. `areas[1].depth_mm`, so the import
can prefix it with the record's place in the file and the window can put it beside a field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
    lookup,
)
from needledesk.domain.model import (
    SCREENING_QUESTIONS,
    Client,
    ClientRecord,
    Course,
    DeviceType,
    Observed,
    Screening,
    Session,
)

NAME_MAX = 200
SHORT_TEXT_MAX = 200
DEPTH_MIN_MM = 0.1
DEPTH_MAX_MM = 3.0
PASSES_MIN, PASSES_MAX = 1, 50
FITZPATRICK_MIN, FITZPATRICK_MAX = 1, 6
SEVERITY_MIN, SEVERITY_MAX = 0, 3
PLANNED_SESSIONS_MIN, PLANNED_SESSIONS_MAX = 1, 20
INTERVAL_WEEKS_MIN, INTERVAL_WEEKS_MAX = 1, 52
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (a path like `areas[1].depth_mm`) and what is wrong."""

    path: str
    message: str

    def under(self, prefix: str) -> Problem:
        return Problem(join_path(prefix, self.path), self.message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class GuidelineWarning:
    """A guideline the record goes past. `code` is what an acknowledgement records."""

    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join_path(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _text(problems: list[Problem], path: str, value: str | None, *, required: bool,
          limit: int = SHORT_TEXT_MAX) -> None:
    if value is None or not value.strip():
        if required:
            problems.append(Problem(path, "is required and must not be blank"))
        return
    if len(value) > limit:
        problems.append(Problem(path, f"is {len(value)} characters long; at most {limit} allowed"))


def _int_range(problems: list[Problem], path: str, value, low: int, high: int, unit: str = "",
               *, required: bool = False) -> None:
    if value is None:
        if required:
            problems.append(Problem(path, f"is required (a whole number from {low} to {high})"))
        return
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(path, f"{value!r} is not a whole number from {low} to {high}"))
    elif not low <= value <= high:
        problems.append(Problem(path, f"{value} is outside {low}–{high}{suffix}"))


def validate_client(client: Client, today: date | None = None) -> list[Problem]:
    today = today or date.today()
    problems: list[Problem] = []
    _text(problems, "first_name", client.first_name, required=True, limit=NAME_MAX)
    _text(problems, "last_name", client.last_name, required=True, limit=NAME_MAX)
    if client.date_of_birth is not None and client.date_of_birth > today:
        problems.append(
            Problem("date_of_birth", f"{client.date_of_birth.isoformat()} is in the future")
        )
    _text(problems, "phone", client.phone, required=False, limit=50)
    _text(problems, "email", client.email, required=False, limit=SHORT_TEXT_MAX)
    _int_range(problems, "fitzpatrick", client.fitzpatrick, FITZPATRICK_MIN, FITZPATRICK_MAX,
               "(Fitzpatrick type I to VI)")
    for i, concern in enumerate(client.concerns):
        _text(problems, f"concerns[{i}]", concern, required=True)
    return problems


def validate_course(course: Course) -> list[Problem]:
    problems: list[Problem] = []
    _text(problems, "concern", course.concern, required=True)
    _int_range(problems, "planned_sessions", course.planned_sessions,
               PLANNED_SESSIONS_MIN, PLANNED_SESSIONS_MAX, "sessions", required=True)
    _int_range(problems, "interval_weeks", course.interval_weeks,
               INTERVAL_WEEKS_MIN, INTERVAL_WEEKS_MAX, "weeks", required=True)
    return problems


def validate_screening(screening: Screening) -> list[Problem]:
    problems: list[Problem] = []
    for key, answer in screening.answers.items():
        if key not in SCREENING_QUESTIONS:
            problems.append(Problem(f"answers.{key}", "is not a screening question; "
                                    f"known: {', '.join(SCREENING_QUESTIONS)}"))
        elif answer is not None and not isinstance(answer, bool):
            problems.append(Problem(f"answers.{key}", f"{answer!r} is not true, false or null"))
    return problems


def _fmt_time(value: datetime) -> str:
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def validate_session(session: Session) -> list[Problem]:
    problems: list[Problem] = []
    _text(problems, "practitioner", session.practitioner, required=True)
    if session.device.type not in tuple(DeviceType):
        problems.append(Problem("device.type", f"{session.device.type!r} is not pen or roller"))
    for name in ("model", "cartridge", "cartridge_lot"):
        _text(problems, f"device.{name}", getattr(session.device, name), required=False)

    anaesthetic = session.anaesthetic
    if anaesthetic is not None:
        _text(problems, "anaesthetic.product", anaesthetic.product, required=True)
        if anaesthetic.removed_at is not None and anaesthetic.removed_at < anaesthetic.applied_at:
            problems.append(Problem(
                "anaesthetic.removed_at",
                f"{_fmt_time(anaesthetic.removed_at)} is before applied_at "
                f"{_fmt_time(anaesthetic.applied_at)}"))
        if anaesthetic.applied_at > session.started_at:
            problems.append(Problem(
                "anaesthetic.applied_at",
                f"{_fmt_time(anaesthetic.applied_at)} is after the session started "
                f"({_fmt_time(session.started_at)})"))

    if not session.areas:
        problems.append(Problem("areas", "at least one treated area is required"))
    for i, area in enumerate(session.areas):
        path = f"areas[{i}]"
        _text(problems, f"{path}.area", area.area, required=True)
        depth = area.depth_mm
        if isinstance(depth, bool) or not isinstance(depth, int | float) or math.isnan(depth):
            problems.append(Problem(f"{path}.depth_mm", f"{depth!r} is not a depth in mm from "
                                    f"{DEPTH_MIN_MM:.1f} to {DEPTH_MAX_MM:.1f}"))
        elif not DEPTH_MIN_MM <= depth <= DEPTH_MAX_MM:
            allowed = f"{DEPTH_MIN_MM:.1f}–{DEPTH_MAX_MM:.1f} mm"
            problems.append(Problem(f"{path}.depth_mm", f"{depth:g} is outside {allowed}"))
        _int_range(problems, f"{path}.passes", area.passes, PASSES_MIN, PASSES_MAX, "passes")
        _text(problems, f"{path}.endpoint", area.endpoint, required=False)

    for i, serum in enumerate(session.serums):
        _text(problems, f"serums[{i}].product", serum.product, required=True)
        _text(problems, f"serums[{i}].lot", serum.lot, required=False)
    for i, treatment in enumerate(session.combined_with):
        _text(problems, f"combined_with[{i}]", treatment, required=True)
    for i, reaction in enumerate(session.reactions):
        path = f"reactions[{i}]"
        _text(problems, f"{path}.kind", reaction.kind, required=True)
        _int_range(problems, f"{path}.severity", reaction.severity, SEVERITY_MIN, SEVERITY_MAX,
                   "(0 none, 1 mild, 2 moderate, 3 severe)", required=True)
        if reaction.observed not in tuple(Observed):
            problems.append(Problem(f"{path}.observed", f"{reaction.observed!r} is not one of "
                                    + ", ".join(o.value for o in Observed)))
    for i, item in enumerate(session.aftercare):
        _text(problems, f"aftercare[{i}]", item, required=True)

    if session.fee is not None:
        problems.extend(_fee_problems(session.fee.amount, session.fee.currency))

    if session.signed_at is not None and session.signed_at < session.started_at:
        problems.append(Problem("signed_at", f"{_fmt_time(session.signed_at)} is before the "
                                f"session started ({_fmt_time(session.started_at)})"))
    if session.amendments and session.signed_at is None:
        problems.append(Problem("amendments", "only a signed session can carry amendments"))
    for i, amendment in enumerate(session.amendments):
        if session.signed_at is not None and amendment.at < session.signed_at:
            problems.append(Problem(f"amendments[{i}].at", f"{_fmt_time(amendment.at)} is "
                                    f"before the sign-off ({_fmt_time(session.signed_at)})"))
        _text(problems, f"amendments[{i}].reason", amendment.reason, required=True, limit=2000)
        _text(problems, f"amendments[{i}].by", amendment.by, required=True)
    for i, ack in enumerate(session.acknowledged_warnings):
        _text(problems, f"acknowledged_warnings[{i}].warning", ack.warning, required=True,
              limit=2000)
        _text(problems, f"acknowledged_warnings[{i}].by", ack.by, required=True)
    return problems


def _fee_problems(amount: Decimal, currency: str) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(amount, Decimal) or not amount.is_finite():
        problems.append(Problem("fee.amount", f"{amount!r} is not a decimal amount"))
    else:
        if amount < 0:
            problems.append(Problem("fee.amount", f"{amount} is negative; a fee is 0 or more"))
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            problems.append(Problem("fee.amount", f"{amount} has more than 2 decimals"))
    return problems + currency_problems(currency)


def currency_problems(code, path: str = "fee.currency") -> list[Problem]:
    if not isinstance(code, str) or not _CURRENCY.fullmatch(code):
        return [Problem(path, f"{code!r} is not a 3-letter currency code such as USD")]
    return []


def validate_record(record: ClientRecord, today: date | None = None) -> list[Problem]:
    """Every rule for one client and all their courses, screenings and sessions."""
    problems = list(validate_client(record.client, today))
    owner = record.client.id
    for kind, items in (("courses", record.courses), ("screenings", record.screenings),
                        ("sessions", record.sessions)):
        problems += [Problem(f"{kind}[{i}].client_id", f"{item.client_id!r} is not this "
                             f"client ({owner!r})")
                     for i, item in enumerate(items) if item.client_id != owner]
    course_ids = {course.id for course in record.courses}
    for i, course in enumerate(record.courses):
        problems += [p.under(f"courses[{i}]") for p in validate_course(course)]
    for i, screening in enumerate(record.screenings):
        problems += [p.under(f"screenings[{i}]") for p in validate_screening(screening)]
    for i, session in enumerate(record.sessions):
        problems += [p.under(f"sessions[{i}]") for p in validate_session(session)]
        if session.course_id is not None and session.course_id not in course_ids:
            problems.append(Problem(f"sessions[{i}].course_id",
                                    f"{session.course_id!r} is not a course of this client"))
    return problems


# --- guidelines: warnings, not errors -------------------------------------------------------


def depth_warnings(session: Session,
                   table: dict[str, DepthRange] | None = None) -> list[GuidelineWarning]:
    table = DEFAULT_AREA_DEPTHS if table is None else table
    warnings = []
    for i, area in enumerate(session.areas):
        usual = lookup(table, area.area)
        if usual is not None and isinstance(area.depth_mm, int | float) \
                and area.depth_mm > usual.high_mm:
            warnings.append(GuidelineWarning(
                f"depth: {area.area} {area.depth_mm:g} mm",
                f"areas[{i}].depth_mm",
                f"{area.depth_mm:g} mm is deeper than the usual {usual} for {area.area}"))
    return warnings


def anaesthetic_warnings(session: Session,
                         table: dict[str, ContactTime] | None = None) -> list[GuidelineWarning]:
    table = DEFAULT_ANAESTHETICS if table is None else table
    anaesthetic = session.anaesthetic
    if anaesthetic is None or anaesthetic.contact_minutes is None:
        return []
    usual = lookup(table, anaesthetic.product)
    minutes = anaesthetic.contact_minutes
    if usual is None or usual.low_min <= minutes <= usual.high_min:
        return []
    side = "longer" if minutes > usual.high_min else "shorter"
    return [GuidelineWarning(
        f"anaesthetic: {anaesthetic.product} {minutes} min",
        "anaesthetic.removed_at",
        f"contact time {minutes} min is {side} than the usual {usual} for {anaesthetic.product}")]


def screening_warnings(latest: Screening | None) -> list[GuidelineWarning]:
    """What to warn about before treating a client, given their latest screening."""
    if latest is None:
        return [GuidelineWarning("screening: none", "", "no screening is on record")]
    warnings = [
        GuidelineWarning(f"screening: {key}", f"answers.{key}",
                         f"screening of {latest.date.isoformat()}: "
                         f"{SCREENING_QUESTIONS[key]}: {'yes' if latest.answers[key] else 'no'}")
        for key in latest.flagged
    ]
    if not latest.consent_signed:
        warnings.append(GuidelineWarning("screening: no consent", "consent_signed",
                                         f"screening of {latest.date.isoformat()}: "
                                         "consent is not signed"))
    return warnings


def latest_screening(screenings: Iterable[Screening], on: date | None = None) -> Screening | None:
    """The most recent screening on or before `on` (the session's day)."""
    candidates = [s for s in screenings if on is None or s.date <= on]
    return max(candidates, key=lambda s: s.date, default=None)


def session_warnings(session: Session, screenings: Iterable[Screening] = (), *,
                     depths: dict[str, DepthRange] | None = None,
                     anaesthetics: dict[str, ContactTime] | None = None,
                     ) -> list[GuidelineWarning]:
    """Every guideline a session goes past, for the window and for import alike."""
    latest = latest_screening(screenings, session.started_at.date())
    return (screening_warnings(latest) + depth_warnings(session, depths)
            + anaesthetic_warnings(session, anaesthetics))
