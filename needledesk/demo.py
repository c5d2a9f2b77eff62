"""Realistic made-up records for demonstrations and benchmarks (`needledesk demo`).

Everything comes from one `random.Random(seed)`, ids included, and every date is relative to
`as_of` (never today's date): the same clients, seed and `as_of` give the same records on any
PC on any day. Each client's records consume the generator in turn, so the first N clients of
a bigger run are exactly the N clients of a smaller run with the same seed.

The records are clinically plausible (DOMAIN.md): courses of three to five sessions six to
eight weeks apart, depths inside the usual range for each area and creeping up over a course,
anaesthetic contact times inside the product's usual window, a consented screening before the
first session. A few clients carry a screening flag, and a few treated areas (`P_ABOVE_RANGE`)
go just past the area's usual depth; their sessions record the practitioner's acknowledgement
of exactly the warnings `rules.session_warnings` raises, as the editor records it.

Mild redness follows every session; moderate and severe reactions are the exception, more
likely above the usual depth and with one serum lot (`WORSE_LOT`), so the reactions report has
something to point at.

The tables drawn from (names, concerns, products, how often things happen) are in
`needledesk.demo_data`; this module is the generator and `fill`.
"""

from __future__ import annotations

import functools
import gc
import math
import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from needledesk.demo_data import (  # the tables the generator draws from
    _AFTERCARE,
    _ANAESTHETIC,
    _AREA_CODES,
    _BODY_AREAS,
    _BODY_CARTRIDGES,
    _CLEAR_ANSWERS,
    _CLIENT_NOTES,
    _CONCERN,
    _CONTACT,
    _COURSES_PER_CLIENT,
    _DEPTH_INCREASE,
    _EMAIL_DOMAINS,
    _EXTRA_REACTIONS,
    _FACE_CARTRIDGES,
    _FLAGS,
    _IMMEDIATE_EXTRA,
    _INTERVAL_WEEKS,
    _LANGUAGES,
    _LOT_LETTERS,
    _NEXT_DAY,
    _PASSES,
    _PEN_MODELS,
    _PLANNED_SESSIONS,
    _ROLLER,
    _SERUMS,
    _SESSION_NOTES,
    _TRANSLIT,
    ANAESTHETIC_LOT_PREFIX,
    CATALOGUE,
    CONCERNS,
    CURRENCY,
    DEMO_AS_OF,
    DEPTH_STEP_MM,
    END_REASONS,
    P_ABOVE_RANGE,
    P_DRAFT,
    P_EMAIL,
    P_ENDED,
    P_FLAGGED,
    P_IN_PROGRESS,
    P_LAPSED,
    P_LOT_FIX,
    P_MODERATE_EXTRA,
    P_MODERATE_FIRST,
    P_NEXT_DAY,
    P_NO_REACTION,
    P_OVERDUE,
    P_RESCREEN,
    P_SEVERE_OF_THOSE,
    PHOTO_CLIENTS,
    PHOTO_SIZE,
    PHOTO_USES_GIVEN,
    PHOTO_VIEWS,
    PRACTITIONERS,
    RISK_ABOVE_RANGE,
    RISK_WORSE_LOT,
    WORSE_LOT,
)
from needledesk.domain import amend, rules
from needledesk.domain.acknowledgements import acknowledge
from needledesk.domain.consent_forms import default_template
from needledesk.domain.guidelines import DEFAULT_AREA_DEPTHS
from needledesk.domain.model import (
    FLAGGED_ANSWER,
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    Client,
    ClientRecord,
    Consent,
    ConsentKind,
    ConsentMethod,
    Course,
    Device,
    DeviceType,
    Fee,
    Lot,
    Observed,
    PhotoSource,
    PhotoView,
    Product,
    ProductKind,
    Reaction,
    Screening,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.products import EXPIRY_WARNING_DAYS
from needledesk.domain.text import fold
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.exchange import encode_session
from needledesk.store.repository import ImportResult, Repository


def _ascii(text: str) -> str:
    latin = fold(text).replace("ου", "ou").translate(_TRANSLIT)
    return "".join(ch for ch in latin if "a" <= ch <= "z")


def _email(rng: random.Random, first: str, last: str) -> str | None:
    f, last_word = _ascii(first), _ascii(last)
    if not f or not last_word:
        return None
    local = (f"{f}.{last_word}", f"{f}{last_word}", f"{f[0]}.{last_word}",
             f"{f}_{last_word}{rng.randrange(10, 100)}")[rng.randrange(4)]
    return f"{local}@{_EMAIL_DOMAINS[rng.randrange(2)]}"




def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _at(day: date, minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)


def _years_before(day: date, years: int) -> date:
    """The same day of the year `years` earlier (29 February becomes the 28th)."""
    return date(day.year - years, day.month, min(day.day, 28 if day.month == 2 else 31))


def _lot(r: Callable[[], float], prefix: str, day: date) -> str:
    """A batch code like `L2311A`: made one to nine months before `day`."""
    made = day.year * 12 + day.month - 2 - int(r() * 9)
    return f"{prefix}{made // 12 % 100:02d}{made % 12 + 1:02d}{_LOT_LETTERS[int(r() * 6)]}"


_AMOUNTS: dict[int, Decimal] = {}


def _amount(dollars: int) -> Decimal:
    amount = _AMOUNTS.get(dollars)
    if amount is None:
        amount = _AMOUNTS[dollars] = Decimal(f"{dollars}.00")
    return amount


def _depth_steps(area: str) -> tuple[int, int]:
    """The usual depth range of `area` in whole 0.05 mm steps (inclusive)."""
    usual = DEFAULT_AREA_DEPTHS[area]
    return (math.ceil(usual.low_mm / DEPTH_STEP_MM - 1e-9),
            math.floor(usual.high_mm / DEPTH_STEP_MM + 1e-9))


_STEPS = {area: _depth_steps(area) for _, areas in CONCERNS.values() for area in areas}
#: The deepest depth the rules take, in steps.
_MAX_STEP = math.floor(rules.DEPTH_MAX_MM / DEPTH_STEP_MM + 1e-9)


# --- the catalogue --------------------------------------------------------------------------


def _stable_id(key: str) -> str:
    """A UUID4-shaped id that is always the same for `key` (the catalogue's ids do not
    depend on the seed: demos of several seeds share one catalogue)."""
    return str(uuid.UUID(int=random.Random(key).getrandbits(128), version=4))


def catalogue(as_of: date = DEMO_AS_OF) -> tuple[list[Product], list[Lot]]:
    """The demo clinic's products and their lots (`demo_data.CATALOGUE`), dated from
    `as_of`: some lots expired, some expiring within 30 days, the newest in date."""
    products: list[Product] = []
    lots: list[Lot] = []
    for kind, name, maker, prefix, entries in CATALOGUE:
        product = Product(name, ProductKind(kind), maker, _stable_id(f"demo product {kind} {name}"))
        products.append(product)
        for received_days, expires_days, letter in entries:
            received = as_of - timedelta(days=received_days)
            made = received - timedelta(days=45)
            text = f"{prefix}{made:%y%m}{letter}"
            lots.append(Lot(product.id, text, as_of + timedelta(days=expires_days),
                            _stable_id(f"demo lot {as_of} {kind} {name} {text}"), received))
    return products, lots


#: A catalogue lot as the generator picks it: (received, expires, lot text, id).
_Pick = tuple[date, date, str, str]


@functools.lru_cache(maxsize=4)
def _catalogue_index(as_of: date) -> tuple[dict[tuple[ProductKind, str], list[_Pick]], date]:
    """Each catalogue product's lots, newest received first, and the day the first lot of
    all was received (before it the clinic kept no catalogue)."""
    products, lots = catalogue(as_of)
    by_id = {p.id: p for p in products}
    index: dict[tuple[ProductKind, str], list[_Pick]] = {}
    for lot in lots:
        product = by_id[lot.product_id]
        assert lot.received_on is not None and lot.expires_on is not None
        index.setdefault((product.kind, product.name), []).append(
            (lot.received_on, lot.expires_on, lot.lot, lot.id))
    for picks in index.values():
        picks.sort(reverse=True)
    start = min(lot.received_on for lot in lots if lot.received_on is not None)
    return index, start


@functools.lru_cache(maxsize=4)
def _worse_lot_ids(as_of: date) -> frozenset[str]:
    """The catalogue id of `WORSE_LOT`, the serum lot that reacts worse than the others."""
    products, lots = catalogue(as_of)
    name, letter = WORSE_LOT
    ids = {p.id for p in products if p.kind is ProductKind.SERUM and p.name == name}
    return frozenset(lot.id for lot in lots if lot.product_id in ids and lot.lot.endswith(letter))


def _severity(r: Callable[[], float], moderate: float) -> int:
    """A reaction's severity: moderate or severe with the chance `moderate` (a fifth of
    those severe), now and then recorded as none, otherwise mild."""
    u = r()
    if u < moderate:
        return 3 if u < moderate * P_SEVERE_OF_THOSE else 2
    return 0 if u > 1 - P_NO_REACTION else 1


#: Why a practitioner went past an area's usual depth (the reason of the acknowledgement).
_DEEPER_REASON = "Stubborn scarring; a deeper pass agreed with the client."


def _picked(kind: ProductKind, product: str | None, day: date, as_of: date
            ) -> tuple[str, str] | None:
    """(lot text, lot id) of the catalogue lot a session of `day` uses for `product`: the
    newest received by then and more than the warning window from its expiry (so no demo
    session carries a lot warning); None when the product is not in the catalogue or the
    day is before its first lot."""
    for received, expires, text, lot_id in _catalogue_index(as_of)[0].get((kind, product or ""),
                                                                           ()):
        if received <= day and (expires - day).days > EXPIRY_WARNING_DAYS:
            return text, lot_id
    return None


# --- one client -----------------------------------------------------------------------------


class _CoursePlan:
    """A course before it becomes records: its shape, areas, device and session days."""

    def __init__(self, rng: random.Random, concern: str, fitzpatrick: int):
        self.concern = concern
        self.planned = _PLANNED_SESSIONS(rng)
        self.interval = _INTERVAL_WEEKS(rng)
        self.done = self.planned
        self.days: list[date] = []
        areas = CONCERNS[concern][1]
        count = min(len(areas), (1, 2, 2, 3, 3, 3, 4, 5)[rng.randrange(8)])
        main = areas[0] if rng.random() < 0.8 else areas[rng.randrange(len(areas))]
        rest = [a for a in areas if a != main]
        chosen = {main, *rng.sample(rest, count - 1)}
        self.areas = [a for a in areas if a in chosen]
        # Start in the lower half of the usual range (the lowest quarter for darker skin)
        # and work deeper over the course.
        self.steps = {}
        for area in self.areas:
            low, high = _STEPS[area]
            room = (high - low) // (4 if fitzpatrick >= 5 else 2)
            self.steps[area] = low + rng.randint(0, room)
        body = all(a in _BODY_AREAS for a in self.areas)
        shallow = all(_STEPS[a][1] * DEPTH_STEP_MM <= 0.75 + 1e-9 for a in self.areas)
        if rng.random() < (0.25 if body else 0.08):
            self.device = Device(DeviceType.ROLLER, _ROLLER, None, None)
        else:
            if shallow and rng.random() < 0.3:
                cartridge = "nano"
            else:
                cartridge = (_BODY_CARTRIDGES if body else _FACE_CARTRIDGES)(rng)
            self.device = Device(DeviceType.PEN, _PEN_MODELS(rng), cartridge, None)
        self.serum = _SERUMS(rng)
        #: The client stopped coming in the middle of this course (set by `_schedule`).
        self.lapsed = False


def _schedule(rng: random.Random, plans: list[_CoursePlan], as_of: date,
              in_progress: bool, draft: bool) -> None:
    """Give every course its session days: forward in day offsets, then anchored so the
    latest session falls on or before `as_of` (and recently, for a course in progress)."""
    offsets: list[list[int]] = []
    offset = 0
    for i, plan in enumerate(plans):
        if i:
            offset += rng.randint(8, 40) * 7 + rng.randint(-3, 3)
        days = [offset]
        for _ in range(plan.done - 1):
            offset += plan.interval * 7 + rng.randint(-3, 3)
            days.append(offset)
        offsets.append(days)
    interval = plans[-1].interval * 7
    if draft:
        last = as_of
    elif in_progress:
        roll = rng.random()
        if roll < P_LAPSED:
            # Never came back: more than twice the interval past the session that was due.
            last = as_of - timedelta(days=rng.randint(3 * interval + 7, 3 * interval + 240))
            plans[-1].lapsed = True
        elif roll < P_LAPSED + P_OVERDUE:
            # Late: the next session fell due in the last four weeks.
            last = as_of - timedelta(days=rng.randint(interval, interval + 28))
        else:
            # Recent enough that the next session is due after as_of.
            last = as_of - timedelta(days=rng.randint(0, interval - 5))
    else:
        last = as_of - timedelta(days=rng.randint(14, 540))
    first = last - timedelta(days=offset)
    for plan, days in zip(plans, offsets, strict=True):
        for d in days:
            day = first + timedelta(days=d)
            if day.weekday() == 6:
                day -= timedelta(days=1)   # the clinic is closed on Sundays
            plan.days.append(day)


def _client(rng: random.Random, as_of: date) -> ClientRecord:
    client_id = _new_id(rng)
    names = _LANGUAGES(rng)
    female = rng.random() < 0.85
    if female:
        first = names.female[rng.randrange(len(names.female))]
    else:
        first = names.male[rng.randrange(len(names.male))]
    pick = rng.randrange(len(names.surnames))
    last = names.surnames[pick] if female else names.male_surnames[pick]
    if names.two_surnames and rng.random() < 0.3:
        second = names.surnames[rng.randrange(len(names.surnames))]
        if second != last:
            last = f"{last} {second}"
    fitzpatrick = names.fitzpatrick(rng)

    # Courses: mostly one concern carried on (a second course, maintenance), sometimes new.
    plans: list[_CoursePlan] = []
    concern = _CONCERN(rng)
    for _ in range(_COURSES_PER_CLIENT(rng)):
        if plans and rng.random() < 0.45:
            concern = _CONCERN(rng)
        plans.append(_CoursePlan(rng, concern, fitzpatrick))
    in_progress = rng.random() < P_IN_PROGRESS
    draft = in_progress and rng.random() < P_DRAFT
    if in_progress:
        plans[-1].done = rng.randint(1, plans[-1].planned - 1)
    _schedule(rng, plans, as_of, in_progress, draft)
    first_day = plans[0].days[0]

    # An adult of 18 to 75 today, and 18 or more at the first session.
    age = rng.choice((19, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 45, 48, 51, 55, 59, 64,
                      69, 74))
    dob = _years_before(as_of, age) - timedelta(days=rng.randrange(365))
    if dob > _years_before(first_day, 18):
        dob = _years_before(first_day, 18) - timedelta(days=rng.randrange(365))
    area = _AREA_CODES[rng.randrange(len(_AREA_CODES))]
    phone = f"+1 {area} 555 01{rng.randrange(100):02d}" if rng.random() < 0.95 else None
    email = _email(rng, first, last) if rng.random() < P_EMAIL else None
    concerns = list(dict.fromkeys(p.concern for p in plans))
    notes = _CLIENT_NOTES[rng.randrange(len(_CLIENT_NOTES))] if rng.random() < 0.12 else ""
    client = Client(first, last, client_id, dob, phone, email, fitzpatrick, concerns, notes)

    courses: list[Course] = []
    for plan in plans:
        note = "Maintenance course." if any(
            p.concern == plan.concern for p in plans[:len(courses)]) else ""
        courses.append(Course(client_id, plan.concern, plan.planned, plan.interval,
                              plan.days[0], _new_id(rng), note))
    if plans[-1].lapsed and rng.random() < P_ENDED:
        # The practitioner heard why the client stopped and ended the course.
        ended = plans[-1].days[-1] + timedelta(weeks=plans[-1].interval,
                                               days=rng.randint(7, 60))
        courses[-1].ended_on = min(ended, as_of)
        courses[-1].end_reason = END_REASONS[rng.randrange(len(END_REASONS))]

    # Screenings: before the first session, then (mostly) at the start of each later course.
    screenings = [Screening(client_id, first_day - timedelta(days=rng.choice((0, 0, 3, 7, 14))),
                            dict(_CLEAR_ANSWERS), True, _new_id(rng))]
    for plan in plans[1:]:
        if rng.random() < P_RESCREEN:
            screenings.append(Screening(client_id, plan.days[0], dict(_CLEAR_ANSWERS), True,
                                        _new_id(rng)))
    if rng.random() < P_FLAGGED:
        flagged = screenings[rng.randrange(len(screenings))]
        key, note = _FLAGS(rng)
        flagged.answers[key] = FLAGGED_ANSWER[key]
        flagged.notes = note

    # What each screening warns about, so each session acknowledges its latest one's flags.
    codes = [[f"screening: {key}" for key in screening.flagged] for screening in screenings]
    next_screening, flags = 0, codes[0]
    primary = PRACTITIONERS[rng.randrange(len(PRACTITIONERS))]
    sessions: list[Session] = []
    for plan, course in zip(plans, courses, strict=True):
        for day in plan.days:
            practitioner = primary if rng.random() < 0.75 else \
                PRACTITIONERS[rng.randrange(len(PRACTITIONERS))]
            while next_screening < len(screenings) and screenings[next_screening].date <= day:
                flags = codes[next_screening]
                next_screening += 1
            sessions.append(_session(rng, client, course, plan, not sessions, day,
                                     practitioner, flags, as_of))
    if draft:
        last = sessions[-1]
        last.signed_at = None
        last.amendments = []
    return ClientRecord(client, courses, screenings, sessions)


def _session(rng: random.Random, client: Client, course: Course, plan: _CoursePlan,
             first_visit: bool, day: date, practitioner: str, flags: list[str],
             as_of: date) -> Session:
    r = rng.random   # the hot path: one call per draw, no randint/choice overhead
    # Needling starts 10:00-17:00, so the cream goes on after the 09:00 opening.
    start_min = 600 + 5 * int(r() * 85)
    started_at = _at(day, start_min)

    # Depths: this session's step for each area, then a little deeper for the next one.
    areas = []
    steps = plan.steps
    bleeding = deeper = False
    for area in plan.areas:
        step = steps[area]
        depth = round(step * DEPTH_STEP_MM, 2)
        high = _STEPS[area][1]
        if r() < P_ABOVE_RANGE and high < _MAX_STEP:
            # Just past the usual range this once; the course goes on from its planned step.
            depth = round(min(high + 1 + int(r() * 3), _MAX_STEP) * DEPTH_STEP_MM, 2)
            deeper = True
        if r() < (0.8 if depth >= 1.0 else 0.15):
            endpoint, bleeding = "pinpoint bleeding", True
        else:
            endpoint = "even erythema"
        areas.append(TreatedArea(area, depth, _PASSES[int(r() * 5)], endpoint))
        steps[area] = min(_STEPS[area][1], step + _DEPTH_INCREASE[int(r() * 5)])

    # Lots: picked from the catalogue where it has the product and the day is after its
    # first lot came in; typed by hand otherwise (as before the clinic kept a catalogue).
    device = plan.device
    picked = _picked(ProductKind.CARTRIDGE, device.cartridge, day, as_of) \
        if device.type is DeviceType.PEN else None
    if picked is not None:
        device = Device(device.type, device.model, device.cartridge, *picked)
    else:
        device = Device(device.type, device.model, device.cartridge,
                        _lot(r, "R" if device.type is DeviceType.ROLLER else "L", day))
    catalogue_started = day >= _catalogue_index(as_of)[1]

    anaesthetic = None
    if device.cartridge != "nano":
        product = _ANAESTHETIC(rng)
        low, high = _CONTACT[product]
        removed_before = int(r() * 6)
        low, high = max(low, 30 - removed_before), min(high, 60 - removed_before)
        contact = low + int(r() * (high - low + 1))
        removed = start_min - removed_before
        anaesthetic = Anaesthetic(product, _at(day, removed - contact), _at(day, removed))
        picked = _picked(ProductKind.ANAESTHETIC, product, day, as_of)
        if picked is not None:
            anaesthetic.lot, anaesthetic.lot_id = picked
        elif catalogue_started:   # the anaesthetic's lot is recorded since then
            anaesthetic.lot = _lot(r, ANAESTHETIC_LOT_PREFIX[product], day)

    def serum(product: str, lot_prefix: str) -> Serum:
        picked = _picked(ProductKind.SERUM, product, day, as_of)
        if picked is not None:
            return Serum(product, *picked)
        return Serum(product, _lot(r, lot_prefix, day))

    product, lot_prefix = plan.serum
    serums = [serum(product, lot_prefix)]
    if r() < 0.4:
        other, other_prefix = _SERUMS(rng)
        if other != product:
            serums.append(serum(other, other_prefix))

    roll = r()
    combined = ["chemical peel"] if roll < 0.07 else ["vitamin infusion"] if roll < 0.12 else []

    risk = RISK_ABOVE_RANGE if deeper else 1.0
    worse = _worse_lot_ids(as_of)
    if any(s.lot_id in worse for s in serums):
        risk *= RISK_WORSE_LOT
    reactions = [Reaction("erythema" if r() < 0.92 else "oedema",
                          _severity(r, min(P_MODERATE_FIRST * risk, 0.9)))]
    for _ in range(_EXTRA_REACTIONS[int(r() * 5)]):
        kind = "pinpoint bleeding" if bleeding and r() < 0.5 else _IMMEDIATE_EXTRA(rng)
        if all(x.kind != kind for x in reactions):
            reactions.append(Reaction(kind, _severity(r, min(P_MODERATE_EXTRA * risk, 0.9))))

    aftercare = list(_AFTERCARE[int(r() * len(_AFTERCARE))])

    body = sum(a.area in _BODY_AREAS for a in areas)
    amount = 150 + 60 * (len(areas) - 1) + 90 * body + (80 if combined else 0)
    amount = max(100, min(700, amount + 5 * int(r() * 13) - 30))

    acknowledged = [AcknowledgedWarning(code, practitioner, started_at) for code in flags]
    notes = ""
    if acknowledged:
        notes = "Screening flag discussed; client chose to proceed."
    elif first_visit and r() < 0.3:
        notes = "Test patch done two weeks before; no reaction."
    elif r() < 0.1:
        notes = _SESSION_NOTES[int(r() * len(_SESSION_NOTES))]

    session = Session(
        client_id=client.id, started_at=started_at, practitioner=practitioner, areas=areas,
        id=_new_id(rng), course_id=course.id, device=device, anaesthetic=anaesthetic,
        serums=serums, combined_with=combined, reactions=reactions, aftercare=aftercare,
        fee=Fee(_amount(amount), CURRENCY), notes=notes,
        signed_at=_at(day, start_min + 30 + int(r() * 31)),
        acknowledged_warnings=acknowledged)
    if deeper:   # acknowledged in the editor with the reason, as the practitioner saves it
        usual = {a.area: DEFAULT_AREA_DEPTHS[a.area] for a in areas}   # (the areas' own rows:
        session.acknowledged_warnings += acknowledge(                  # a faster lookup)
            rules.depth_warnings(session, usual), _DEEPER_REASON, practitioner, started_at)

    # A few signed sessions were corrected later, as an amendment with its reason.
    roll = r()
    if roll < P_NEXT_DAY + P_LOT_FIX and day < as_of:
        next_day = day + timedelta(days=1)
        at = _at(next_day, 600 + 5 * int(r() * 72))
        if roll < P_NEXT_DAY and len(reactions) < 3:
            kind = _NEXT_DAY(rng)
            if (client.fitzpatrick or 0) >= 4 and r() < 0.1:
                kind = "pigmentation change"
            before = encode_session(session)["reactions"]
            reactions.append(Reaction(kind, 1, Observed.NEXT_DAY, "Reported by phone."))
            changes = amend.diff({"reactions": before},
                                 {"reactions": encode_session(session)["reactions"]})
            reason = f"Next-day check call: client reported {kind}."
        else:   # (also when three reactions are on record already)
            lot = device.cartridge_lot
            assert lot is not None   # every demo device has its lot (above)
            typo = lot[:-1] + ("B" if lot[-1] != "B" else "C")
            # Typed wrongly at first; corrected to the catalogue's lot where it has it.
            changes = amend.diff({"device": {"cartridge_lot": typo}},
                                 {"device": {"cartridge_lot": lot,
                                             "cartridge_lot_id": device.cartridge_lot_id}})
            reason = "Cartridge lot mistyped; corrected from the packaging."
        session.amendments.append(Amendment(at, practitioner, reason, changes))
    return session


# --- public ---------------------------------------------------------------------------------


def generate(clients: int, seed: int, as_of: date = DEMO_AS_OF) -> list[ClientRecord]:
    """`clients` made-up client records, the same for the same arguments on any day."""
    if clients < 0:
        raise ValueError(f"clients: {clients} is negative")
    rng = random.Random(seed)
    # The records hold no reference cycles, so the cyclic collector has nothing to find;
    # left on, it rescans every record made so far again and again (half the time at 5,000).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [_client(rng, as_of) for _ in range(clients)]
    finally:
        if collecting:
            gc.enable()


#: Who the audit trail says wrote demonstration records: how the demo knows its own.
DEMO_AUTHOR = "NeedleDesk demo"


class RealRecordsError(NeedleDeskError):
    """The database holds records the demo did not make: made-up clients must not mix in."""


def fill(repo: Repository, *, clients: int, seed: int, as_of: date = DEMO_AS_OF,
         on_progress: Callable[[int, int], None] | None = None,
         force: bool = False, photos: int = 0) -> ImportResult:
    """Write `generate(clients, seed, as_of)` in one transaction, credited to DEMO_AUTHOR, and
    mark the file as a demonstration one, with the demo clinic's catalogue (`catalogue`),
    which the sessions' lots are picked from. Records already stored (same ids, from an
    earlier run with the same seed) are left as they are, and so is the catalogue. Refuses
    (RealRecordsError, nothing written) a database holding any client or session the demo
    did not write, unless `force`; clinic settings do not count.

    `photos`: how many clients to photograph (`add_photos`; `needledesk demo` asks for
    `PHOTO_CLIENTS`); their consents and photos are counted in the result too."""
    others = repo.records_not_made_by(DEMO_AUTHOR)
    if not force and any(others.values()):
        raise RealRecordsError(
            f"this database already holds {others['clients']} client(s) and "
            f"{others['sessions']} session(s) that are not demonstration records ({repo.path});"
            " demo records are made-up people and must not mix with a clinic's own. Use an "
            "empty database (--db NEW.db), or add --force if you really mean this one")
    products, lots = catalogue(as_of)
    # As an import does: a catalogue that cannot be written refuses before any record is,
    # and is written with the records in one transaction.
    problems = repo.catalogue_problems(products, lots)
    if problems:
        raise ValidationError(problems)
    records = generate(clients, seed, as_of)
    result = repo.write_records(records, by=DEMO_AUTHOR,
                                on_progress=on_progress, catalogue=(products, lots))
    for kind in ("products", "lots"):
        result.added.pop(kind, None)
    repo.mark_demo(by=DEMO_AUTHOR)
    if photos:
        add_photos(repo, records, clients=photos, as_of=as_of, result=result)
    return result


# --- photos ---------------------------------------------------------------------------------


def photographed(records: list[ClientRecord], clients: int = PHOTO_CLIENTS
                 ) -> list[tuple[ClientRecord, list[Session]]]:
    """The first `clients` records with a course of three signed sessions or more, each with
    the signed sessions of its first such course, in order."""
    chosen: list[tuple[ClientRecord, list[Session]]] = []
    for record in records:
        if len(chosen) >= clients:
            break
        for course in record.courses:
            sessions = sorted((s for s in record.sessions
                               if s.course_id == course.id and s.signed_at is not None),
                              key=lambda s: s.started_at)
            if len(sessions) >= 3:
                chosen.append((record, sessions))
                break
    return chosen


def add_photos(repo: Repository, records: list[ClientRecord], *, clients: int = PHOTO_CLIENTS,
               as_of: date = DEMO_AS_OF, result: ImportResult | None = None,
               size: tuple[int, int] = PHOTO_SIZE) -> ImportResult:
    """Photograph `photographed(records, clients)`: a photo consent signed on paper on the
    course's first day (before its first session), then `PHOTO_VIEWS` at every session of
    the course, through `repo.add_photo` as a file from a camera would come (synthetic
    faces, the marks fading session by session, with the camera's EXIF to strip). Ids and
    files are the same on every run, and a view a session has already is not taken again, so
    a second run adds nothing (counted as skipped)."""
    from needledesk.demo_photos import face_photo  # (Pillow: only when photographing)

    result = result if result is not None else ImportResult()
    for number, (record, sessions) in enumerate(photographed(records, clients)):
        client = record.client
        consent_id = _stable_id(f"demo photo consent {client.id}")
        if repo.existing_ids("consents", [consent_id]):
            result.skipped["consents"] += 1
        else:
            form = (repo.current_template(ConsentKind.PHOTO)
                    or default_template(ConsentKind.PHOTO))
            uses = PHOTO_USES_GIVEN[number % len(PHOTO_USES_GIVEN)]
            first = sessions[0].started_at
            repo.add_consent(Consent(
                client_id=client.id, kind=form.kind, signed_at=first - timedelta(minutes=40),
                method=ConsentMethod.ON_PAPER, practitioner=sessions[0].practitioner,
                title=form.title, body=form.body, statements=list(form.statements),
                answers={s.key: s.required or s.key in uses for s in form.statements},
                template_id=form.id, template_version=form.version, id=consent_id),
                by=DEMO_AUTHOR, template=form, today=as_of)
            result.added["consents"] += 1
        face = int(client.id.replace("-", "")[:8], 16)   # the same face for the same client
        for index, session in enumerate(sessions, start=1):
            taken = session.started_at - timedelta(minutes=30)   # before the anaesthetic
            taken_views = {str(p.view) for p in repo.photos(session_id=session.id)}
            for view in PHOTO_VIEWS:
                if view in taken_views:   # (from an earlier run: not drawn again)
                    result.skipped["photos"] += 1
                    continue
                data = face_photo(view, session=index, seed=face, size=size, taken=taken)
                added = repo.add_photo(session.id, data, view=PhotoView(view), by=DEMO_AUTHOR,
                                       source=PhotoSource.CAMERA, name=f"{view}.jpg",
                                       now=taken + timedelta(minutes=1))
                (result.added if added.added else result.skipped)["photos"] += 1
    return result
