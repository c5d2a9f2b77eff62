"""The one set of rules every record passes, whoever writes it: window, import, demo, scripts.

`validate_*` return hard problems (the record is not written); `*_warnings` return guideline
warnings (the practitioner may proceed, and the acknowledgement is recorded). Each problem
names its place relative to the record it checks, e.g. `areas[1].depth_mm`, so the import
can prefix it with the record's place in the file and the window can put it beside a field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from needledesk.domain.consent import (
    NO_CONSENT_CODE,
    all_consents,
    consent_age_text,
    consent_code,
    consent_expired,
    covering,
)
from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
    lookup,
)
from needledesk.domain.labels import FIELD_LABELS, OBSERVED_LABELS, when_text
from needledesk.domain.model import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_ALLOWED,
    SCREENING_QUESTIONS,
    Client,
    ClientRecord,
    Consent,
    Course,
    DeviceType,
    Observed,
    Screening,
    Session,
)
from needledesk.domain.text import day_text

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

# --- input limits (`limit_problems`): what a hurried clinic or a hostile file may not write.
# Records stored before these limits still load and export; they apply to every write.
PRODUCT_MAX = 100  # a product, device model, cartridge or lot
NOTE_MAX = 20_000
YEAR_MIN, YEAR_MAX = 1900, 2100
#: A signature or a screening is not dated more than this ahead of the PC's clock.
FUTURE_SLACK = timedelta(hours=24)
AMOUNT_DIGITS_MAX = 12  # before the decimal point: 999,999,999,999 in any currency
_AMOUNT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)

#: The active ISO 4217 codes (list one, currencies and funds; 2025 edition). No library in
#: NeedleDesk's dependencies carries the list; add a code when the agency publishes one.
_ISO_4217_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG
XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
"""
ISO_4217: frozenset[str] = frozenset(_ISO_4217_CODES.split())


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
            problems.append(Problem(path, "is required"))
        return
    if len(value) > limit:
        problems.append(Problem(path, f"is {len(value)} characters long; at most {limit} allowed"))


def _int_range(problems: list[Problem], path: str, value: Any, low: int, high: int, unit: str = "",
               *, required: bool = False) -> None:
    if value is None:
        if required:
            problems.append(Problem(path, f"is required (a whole number from {low} to {high})"))
        return
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Problem(path, f"{_shown(value)} is not a whole number from {low} to "
                                f"{high}"))
    elif not low <= value <= high:
        problems.append(Problem(path, f"{value} is outside {low}–{high}{suffix}"))


def validate_client(client: Client, today: date | None = None, *, limits: bool = True,
                    now: datetime | None = None) -> list[Problem]:
    today = today or date.today()
    problems: list[Problem] = []
    _text(problems, "first_name", client.first_name, required=True, limit=NAME_MAX)
    _text(problems, "last_name", client.last_name, required=True, limit=NAME_MAX)
    if client.date_of_birth is not None and client.date_of_birth > today:
        problems.append(
            Problem("date_of_birth", f"{day_text(client.date_of_birth)} is in the future")
        )
    _text(problems, "phone", client.phone, required=False, limit=50)
    _text(problems, "email", client.email, required=False, limit=SHORT_TEXT_MAX)
    _int_range(problems, "fitzpatrick", client.fitzpatrick, FITZPATRICK_MIN, FITZPATRICK_MAX,
               "(Fitzpatrick type I to VI)")
    for i, concern in enumerate(client.concerns):
        _text(problems, f"concerns[{i}]", concern, required=True)
    return problems + (client_limits(client, now) if limits else [])


def validate_course(course: Course, *, limits: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    _text(problems, "concern", course.concern, required=True)
    _int_range(problems, "planned_sessions", course.planned_sessions,
               PLANNED_SESSIONS_MIN, PLANNED_SESSIONS_MAX, "sessions", required=True)
    _int_range(problems, "interval_weeks", course.interval_weeks,
               INTERVAL_WEEKS_MIN, INTERVAL_WEEKS_MAX, "weeks", required=True)
    for i, area in enumerate(course.areas_planned):
        _text(problems, f"areas_planned[{i}]", area, required=True)
    problems += _course_end_problems(course)
    return problems + (course_limits(course) if limits else [])


def _course_end_problems(course: Course) -> list[Problem]:
    """A course ended early has the day it ended, on or after its start, and a reason."""
    reason = (course.end_reason or "").strip()
    if course.ended_on is None:
        return [Problem("ended_on", "is needed with a reason for ending: give the day the "
                        "course ended")] if reason else []
    problems = []
    if not reason:
        problems.append(Problem("end_reason", "is needed to end a course early: say why "
                                f"(up to {SHORT_TEXT_MAX} characters)"))
    elif len(reason) > SHORT_TEXT_MAX:
        problems.append(Problem("end_reason", f"is {len(reason)} characters long; at most "
                                f"{SHORT_TEXT_MAX} allowed"))
    if course.ended_on < course.started_on:
        problems.append(Problem("ended_on", f"{day_text(course.ended_on)} is before the "
                                f"course's start, {day_text(course.started_on)}"))
    return problems


def not_applicable_refused(key: str) -> str:
    """Why a question may not be answered "not applicable", naming the ones that may."""
    allowed = ", ".join(f"“{SCREENING_QUESTIONS[k]}”" for k in SCREENING_QUESTIONS
                        if k in NOT_APPLICABLE_ALLOWED)
    return (f"“{SCREENING_QUESTIONS[key]}” cannot be answered Not applicable: only {allowed} "
            "can (answer Yes or No)")


def validate_screening(screening: Screening, *, limits: bool = True,
                       now: datetime | None = None) -> list[Problem]:
    problems: list[Problem] = []
    for key, answer in screening.answers.items():
        if key not in SCREENING_QUESTIONS:
            problems.append(Problem(f"answers.{key}", "is not a screening question; "
                                    f"known: {', '.join(SCREENING_QUESTIONS)}"))
        elif answer == NOT_APPLICABLE:
            if key not in NOT_APPLICABLE_ALLOWED:
                problems.append(Problem(f"answers.{key}", not_applicable_refused(key)))
        elif answer is not None and not isinstance(answer, bool):
            problems.append(Problem(f"answers.{key}", f"{answer!r} is not true, false or null"))
    return problems + (screening_limits(screening, now) if limits else [])


def _fmt_time(value: datetime, beside: datetime | None = None) -> str:
    """A time in a message as the card shows it: `30 Nov 2026 16:00`, or `16:00` when the
    time it is compared with (`beside`) is on the same day."""
    return when_text(value, beside)


def _shown(value: Any) -> str:
    """A wrong value in a message: text in quotes, anything else as written."""
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def validate_session(session: Session, *, limits: bool = True,
                     now: datetime | None = None) -> list[Problem]:
    problems: list[Problem] = []
    _text(problems, "practitioner", session.practitioner, required=True)
    if session.device.type not in tuple(DeviceType):
        problems.append(Problem("device.type", f"{_shown(session.device.type)} is not pen or "
                                "roller"))
    for name in ("model", "cartridge", "cartridge_lot"):
        _text(problems, f"device.{name}", getattr(session.device, name), required=False)

    anaesthetic = session.anaesthetic
    if anaesthetic is not None:
        _text(problems, "anaesthetic.product", anaesthetic.product, required=True)
        _text(problems, "anaesthetic.lot", anaesthetic.lot, required=False)
        if anaesthetic.removed_at is not None and anaesthetic.removed_at < anaesthetic.applied_at:
            problems.append(Problem(
                "anaesthetic.removed_at",
                f"{_fmt_time(anaesthetic.removed_at, anaesthetic.applied_at)} is before "
                f"{FIELD_LABELS['anaesthetic.applied_at']} "
                f"{_fmt_time(anaesthetic.applied_at, anaesthetic.removed_at)}"))
        if anaesthetic.applied_at > session.started_at:
            problems.append(Problem(
                "anaesthetic.applied_at",
                f"{_fmt_time(anaesthetic.applied_at, session.started_at)} is after the "
                f"session started ({_fmt_time(session.started_at, anaesthetic.applied_at)})"))

    if not session.areas:
        problems.append(Problem("areas", "at least one treated area is required"))
    for i, area in enumerate(session.areas):
        path = f"areas[{i}]"
        _text(problems, f"{path}.area", area.area, required=True)
        depth = area.depth_mm
        if isinstance(depth, bool) or not isinstance(depth, int | float) or math.isnan(depth):
            problems.append(Problem(f"{path}.depth_mm", f"{_shown(depth)} is not a depth in mm "
                                    "from "
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
            problems.append(Problem(f"{path}.observed", f"{_shown(reaction.observed)} is not "
                                    "one of " + ", ".join(OBSERVED_LABELS[o] for o in Observed)))
    for i, item in enumerate(session.aftercare):
        _text(problems, f"aftercare[{i}]", item, required=True)

    if session.fee is not None:
        problems.extend(_fee_problems(session.fee.amount, session.fee.currency))

    if session.signed_at is not None and session.signed_at < session.started_at:
        problems.append(Problem("signed_at", f"{_fmt_time(session.signed_at, session.started_at)}"
                                " is before the session started "
                                f"({_fmt_time(session.started_at, session.signed_at)})"))
    if session.amendments and session.signed_at is None:
        problems.append(Problem("amendments", "only a signed session can carry amendments"))
    for i, amendment in enumerate(session.amendments):
        if session.signed_at is not None and amendment.at < session.signed_at:
            problems.append(Problem(f"amendments[{i}].at",
                                    f"{_fmt_time(amendment.at, session.signed_at)} is before "
                                    f"the sign-off ({_fmt_time(session.signed_at, amendment.at)})"))
        _text(problems, f"amendments[{i}].reason", amendment.reason, required=True, limit=2000)
        _text(problems, f"amendments[{i}].by", amendment.by, required=True)
    for i, ack in enumerate(session.acknowledged_warnings):
        _text(problems, f"acknowledged_warnings[{i}].warning", ack.warning, required=True,
              limit=2000)
        _text(problems, f"acknowledged_warnings[{i}].by", ack.by, required=True)
    return problems + (session_limits(session, now) if limits else [])


def _fee_problems(amount: Decimal, currency: str) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(amount, Decimal) or not amount.is_finite():
        problems.append(Problem("fee.amount", f"{_shown(amount)} is not a decimal amount"))
    else:
        if amount < 0:
            problems.append(Problem("fee.amount", f"{amount} is negative; a fee is 0 or more"))
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            problems.append(Problem("fee.amount", f"{amount} has more than 2 decimals"))
    return problems + currency_problems(currency, iso=False)


def currency_problems(code: Any, path: str = "fee.currency", *, iso: bool = True) -> list[Problem]:
    """A currency code's problems; with `iso`, also one that is not an active ISO 4217 code."""
    if not isinstance(code, str) or not _CURRENCY.fullmatch(code):
        return [Problem(path, f"{_shown(code)} is not a 3-letter currency code such as USD")]
    if iso and code not in ISO_4217:
        return [Problem(path, f"{code} is not an ISO 4217 currency code (such as USD, EUR or "
                              "GBP)")]
    return []


# --- input limits ---------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NOTE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Bidirectional embedding, override and isolate controls: they can make a name display in
#: an order other than the one stored. (LRM, RLM, ZWNJ and ZWJ stay allowed: Arabic and
#: Persian names need them.)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _visible(value: str) -> bool:
    """Whether `value` has a character that shows: not only spaces and zero-width or
    direction marks (Unicode format characters)."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in value)


def text_limit_problems(path: str, value: Any, *, kind: str = "line", limit: int | None = None,
                        checked_up_to: int | None = None) -> list[Problem]:
    """The input limits on one piece of text. `kind` is "line" (a name, an area, a product:
    one line, no control characters, no direction overrides, something visible) or "note"
    (free text: line breaks and tabs allowed). `checked_up_to` is a length the older rules
    already refuse beyond, so one value never gets the same complaint twice."""
    if not isinstance(value, str) or not value.strip():
        return []  # blank: the older rules say whether the field is required
    problems = []
    length = len(value)
    if limit is not None and length > limit and (checked_up_to is None
                                                  or length <= checked_up_to):
        problems.append(Problem(path, f"is {length:,} characters long; at most {limit:,} "
                                "allowed"))
    broken = _SURROGATE.search(value)
    if broken:
        problems.append(Problem(path, f"has a broken character (a lone surrogate, "
                                f"{_code(broken.group())}) at character {broken.start() + 1}"))
    control = (_LINE_CONTROL if kind == "line" else _NOTE_CONTROL).search(value)
    if control:
        allowed = "" if kind == "line" else " other than line breaks and tabs"
        problems.append(Problem(path, f"has a control character ({_code(control.group())}) "
                                f"at character {control.start() + 1}; no control "
                                f"characters{allowed} are allowed"))
    if kind == "line":
        bidi = _BIDI.search(value)
        if bidi:
            problems.append(Problem(path, f"has a text-direction override "
                                    f"({_code(bidi.group())}) at character {bidi.start() + 1}; "
                                    "of the direction marks only LRM and RLM are allowed"))
        if length <= 1000 and not _visible(value):
            problems.append(Problem(path, "has no visible characters (only zero-width "
                                    "characters or direction marks)"))
    return problems


def _year_problems(path: str, value: date | datetime | None) -> list[Problem]:
    if value is None or YEAR_MIN <= value.year <= YEAR_MAX:
        return []
    shown = _fmt_time(value) if isinstance(value, datetime) else day_text(value)
    return [Problem(path, f"{shown} is outside the years {YEAR_MIN}–{YEAR_MAX}")]


def _when_problems(path: str, value: date | datetime | None, now: datetime | None = None,
                   *, not_ahead: bool = False) -> list[Problem]:
    """A date or time within the allowed years and, with `not_ahead`, not more than 24 hours
    ahead of the PC's clock (a signature or a screening is not dated in the future)."""
    problems = _year_problems(path, value)
    if problems or value is None or not not_ahead:
        return problems
    latest = (now or datetime.now()).replace(microsecond=0) + FUTURE_SLACK
    if isinstance(value, datetime) and value > latest:
        return [Problem(path, f"{_fmt_time(value)} is more than 24 hours ahead of this PC's "
                              f"clock (at most {_fmt_time(latest)})")]
    if not isinstance(value, datetime) and value > latest.date():
        return [Problem(path, f"{day_text(value)} is more than a day ahead of this PC's "
                              f"clock (at most {day_text(latest.date())})")]
    return []


def parse_amount(text: str, path: str = "fee.amount") -> tuple[Decimal | None, list[Problem]]:
    """An amount as typed or as written in a file (`250.00`): digits 0–9 only, an optional
    minus and point. Returns the amount, or None and the problem."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    if not _AMOUNT.fullmatch(text):
        if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
            return None, [Problem(path, f"\"{shown}\" uses digits other than 0–9; write "
                                        "amounts such as \"250.00\"")]
        return None, [Problem(path, f"\"{shown}\" is not a decimal amount such as "
                                    "\"250.00\"")]
    try:
        return Decimal(text), []
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return None, [Problem(path, f"\"{shown}\" is not a decimal amount such as "
                                    "\"250.00\"")]


def amount_limit_problems(amount: Any, path: str = "fee.amount") -> list[Problem]:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return []
    if amount == 0 and amount.is_signed():
        return [Problem(path, f"{amount} is a negative zero; a fee is 0 or more")]
    digits = amount.adjusted() + 1
    if digits > AMOUNT_DIGITS_MAX:
        return [Problem(path, f"has {digits:,} digits before the decimal point; at most "
                              f"{AMOUNT_DIGITS_MAX} allowed")]
    return []


def client_limits(client: Client, now: datetime | None = None) -> list[Problem]:
    """The input limits on a client (see `limit_problems`)."""
    problems = []
    for name in ("first_name", "last_name"):
        problems += text_limit_problems(name, getattr(client, name))
    problems += text_limit_problems("phone", client.phone)
    problems += text_limit_problems("email", client.email)
    for i, concern in enumerate(client.concerns):
        problems += text_limit_problems(f"concerns[{i}]", concern)
    problems += text_limit_problems("notes", client.notes, kind="note", limit=NOTE_MAX)
    problems += _when_problems("date_of_birth", client.date_of_birth)
    return problems


def course_limits(course: Course) -> list[Problem]:
    return (text_limit_problems("concern", course.concern)
            + text_limit_problems("notes", course.notes, kind="note", limit=NOTE_MAX)
            + _when_problems("started_on", course.started_on)
            + _when_problems("ended_on", course.ended_on)
            + text_limit_problems("end_reason", course.end_reason)
            + [p for i, area in enumerate(course.areas_planned)
               for p in text_limit_problems(f"areas_planned[{i}]", area)])


def screening_limits(screening: Screening, now: datetime | None = None) -> list[Problem]:
    return (_when_problems("date", screening.date, now, not_ahead=True)
            + text_limit_problems("notes", screening.notes, kind="note", limit=NOTE_MAX))


def session_limits(session: Session, now: datetime | None = None) -> list[Problem]:
    """The input limits on a session (see `limit_problems`)."""
    def product(path: str, value: Any) -> list[Problem]:
        return text_limit_problems(path, value, limit=PRODUCT_MAX, checked_up_to=SHORT_TEXT_MAX)

    problems = text_limit_problems("practitioner", session.practitioner)
    problems += _when_problems("started_at", session.started_at)
    for name in ("model", "cartridge", "cartridge_lot"):
        problems += product(f"device.{name}", getattr(session.device, name))
    if session.anaesthetic is not None:
        problems += product("anaesthetic.product", session.anaesthetic.product)
        problems += _when_problems("anaesthetic.applied_at", session.anaesthetic.applied_at)
        problems += _when_problems("anaesthetic.removed_at", session.anaesthetic.removed_at)
        problems += product("anaesthetic.lot", session.anaesthetic.lot)
    for i, area in enumerate(session.areas):
        problems += text_limit_problems(f"areas[{i}].area", area.area)
        problems += text_limit_problems(f"areas[{i}].endpoint", area.endpoint)
        problems += text_limit_problems(f"areas[{i}].notes", area.notes, kind="note",
                                        limit=NOTE_MAX)
    for i, serum in enumerate(session.serums):
        problems += product(f"serums[{i}].product", serum.product)
        problems += product(f"serums[{i}].lot", serum.lot)
    for i, treatment in enumerate(session.combined_with):
        problems += text_limit_problems(f"combined_with[{i}]", treatment)
    for i, reaction in enumerate(session.reactions):
        problems += text_limit_problems(f"reactions[{i}].kind", reaction.kind)
        problems += text_limit_problems(f"reactions[{i}].notes", reaction.notes, kind="note",
                                        limit=NOTE_MAX)
    for i, item in enumerate(session.aftercare):
        problems += text_limit_problems(f"aftercare[{i}]", item)
    if session.fee is not None:
        problems += amount_limit_problems(session.fee.amount)
        if not currency_problems(session.fee.currency, iso=False):
            problems += currency_problems(session.fee.currency)
    problems += text_limit_problems("notes", session.notes, kind="note", limit=NOTE_MAX)
    problems += _when_problems("signed_at", session.signed_at, now, not_ahead=True)
    for i, ack in enumerate(session.acknowledged_warnings):
        problems += text_limit_problems(f"acknowledged_warnings[{i}].warning", ack.warning)
        problems += text_limit_problems(f"acknowledged_warnings[{i}].by", ack.by)
        problems += _when_problems(f"acknowledged_warnings[{i}].at", ack.at)
    for i, amendment in enumerate(session.amendments):
        problems += _when_problems(f"amendments[{i}].at", amendment.at, now, not_ahead=True)
        problems += text_limit_problems(f"amendments[{i}].by", amendment.by)
        problems += text_limit_problems(f"amendments[{i}].reason", amendment.reason,
                                        kind="note")
    return problems


def limit_problems(record: ClientRecord, now: datetime | None = None) -> list[Problem]:
    """Every input limit a whole record breaks, placed like `validate_record`'s problems
    (`sessions[0].notes: is 25,000 characters long; at most 20,000 allowed`).

    The limits (text lengths, control and direction characters, years 1900–2100, no
    signature or screening dated ahead, ISO 4217 currencies, plain amounts) apply whenever a
    record is written or imported: `validate_*` include them. Records stored before them
    still load and export; `check` reports these as warnings with
    `validate_record(record, limits=False)` for the damage and this for the rest."""
    problems = client_limits(record.client, now)
    for i, course in enumerate(record.courses):
        problems += [p.under(f"courses[{i}]") for p in course_limits(course)]
    for i, screening in enumerate(record.screenings):
        problems += [p.under(f"screenings[{i}]") for p in screening_limits(screening, now)]
    for i, session in enumerate(record.sessions):
        problems += [p.under(f"sessions[{i}]") for p in session_limits(session, now)]
    return problems


def validate_record(record: ClientRecord, today: date | None = None, *, limits: bool = True,
                    now: datetime | None = None) -> list[Problem]:
    """Every rule for one client and all their courses, screenings and sessions; with
    `limits` (the default, for every write) also the input limits (`limit_problems`)."""
    problems = list(validate_client(record.client, today, limits=limits, now=now))
    owner = record.client.id
    owned: tuple[tuple[str, Sequence[Course | Screening | Session]], ...] = (
        ("courses", record.courses), ("screenings", record.screenings),
        ("sessions", record.sessions))
    for kind, items in owned:
        problems += [Problem(f"{kind}[{i}].client_id", f"{_shown(item.client_id)} is not "
                             f"this client ({_shown(owner)})")
                     for i, item in enumerate(items) if item.client_id != owner]
    course_ids = {course.id for course in record.courses}
    for i, course in enumerate(record.courses):
        problems += [p.under(f"courses[{i}]") for p in validate_course(course, limits=limits)]
    for i, screening in enumerate(record.screenings):
        problems += [p.under(f"screenings[{i}]")
                     for p in validate_screening(screening, limits=limits, now=now)]
    for i, session in enumerate(record.sessions):
        problems += [p.under(f"sessions[{i}]")
                     for p in validate_session(session, limits=limits, now=now)]
        if session.course_id is not None and session.course_id not in course_ids:
            problems.append(Problem(f"sessions[{i}].course_id",
                                    f"{_shown(session.course_id)} is not a course of this "
                                    "client"))
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
    return [
        GuidelineWarning(f"screening: {key}", f"answers.{key}",
                         f"screening of {day_text(latest.date)}: "
                         f"{SCREENING_QUESTIONS[key]}: {'yes' if latest.answers[key] else 'no'}")
        for key in latest.flagged
    ]


def consent_warnings(consents: Iterable[Consent], on: date,
                     consent_max_days: int | None = None) -> list[GuidelineWarning]:
    """No treatment consent covers the day `on`; with `consent_max_days`, also the covering
    one signed longer ago than that. (The codes are those sessions acknowledged when the
    consent was a screening's tick, so those acknowledgements still count.)"""
    latest = covering(consents, on)
    if latest is None:
        return [GuidelineWarning(NO_CONSENT_CODE, "consents",
                                 "no signed treatment consent covers this visit")]
    if consent_max_days is not None and consent_expired(latest, on, consent_max_days):
        return [GuidelineWarning(consent_code(consent_max_days), "consents",
                                 f"treatment consent of {day_text(latest.signed_at.date())}: "
                                 + consent_age_text(latest, on, consent_max_days))]
    return []


def latest_screening(screenings: Iterable[Screening], on: date | None = None) -> Screening | None:
    """The most recent screening on or before `on` (the session's day)."""
    candidates = [s for s in screenings if on is None or s.date <= on]
    return max(candidates, key=lambda s: s.date, default=None)


def session_warnings(session: Session, screenings: Iterable[Screening] = (), *,
                     depths: dict[str, DepthRange] | None = None,
                     anaesthetics: dict[str, ContactTime] | None = None,
                     consent_max_days: int | None = None,
                     consents: Iterable[Consent] = (),
                     ) -> list[GuidelineWarning]:
    """Every guideline a session goes past, for the window and for import alike: the latest
    screening's flags, no treatment consent covering the visit among `consents` (those kept
    in NeedleDesk; screenings' ticks count too), depths and contact time. With
    `consent_max_days` (the editor passes the clinic's limit), a consent older than that
    on the session's day is one of them."""
    screenings = list(screenings)
    day = session.started_at.date()
    latest = latest_screening(screenings, day)
    return (screening_warnings(latest)
            + consent_warnings(all_consents(consents, screenings), day, consent_max_days)
            + depth_warnings(session, depths)
            + anaesthetic_warnings(session, anaesthetics))
