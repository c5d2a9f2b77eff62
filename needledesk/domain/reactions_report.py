"""The reactions report: reactions by product, lot and depth band over a period, so a clinic
notices a bad lot or a depth that is too much. No Qt, no SQL.

The store reads each session of the period as plain facts (`SessionFacts`: the areas and
their depths, the products used with their lots, the reactions); `reactions_report` counts
them. Each serum line, the topical anaesthetic and the needle cartridge count as a product
used on the session. Lots are grouped as a recall matches them (`products.lot_key`: case
and surrounding spaces ignored), so "ab12 " and "AB12" are one lot. A treated area's depth
is below, within or above the clinic's usual range for the area (`ClinicSettings.
area_depths`, matched as the depth warnings match it), or the area has no usual range.

A reaction is one recorded with a severity of 1 (mild) or more; severity 0 ("none") is a
record that nothing was seen, and is not counted as a reaction. A session counts as "with a
reaction" when one of its reactions is at or above the report's threshold: moderate unless
chosen otherwise, since mild redness is the expected result of every session (DOMAIN.md) and
counting it would put every row near 100%. The mild, moderate and severe columns count every
reaction whatever the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from needledesk.domain.guidelines import DepthRange, lookup
from needledesk.domain.labels import PRODUCT_KIND_LABELS
from needledesk.domain.model import SEVERITY_LABELS, ProductKind, Session
from needledesk.domain.products import lot_key, product_key
from needledesk.domain.rules import YEAR_MAX, YEAR_MIN
from needledesk.domain.text import day_text, fold

#: The severities counted as reactions, mildest first (0, "none", is not one).
MILD, MODERATE, SEVERE = 1, 2, 3

#: The thresholds a report can count sessions from, as the window offers them.
THRESHOLD_LABELS: dict[int, str] = {MILD: "Mild", MODERATE: "Moderate", SEVERE: "Severe"}
#: The threshold a report counts from unless chosen otherwise.
DEFAULT_THRESHOLD = MODERATE


def reaction_phrase(threshold: int) -> str:
    """What a session counted at `threshold` had: `a moderate or severe reaction`."""
    return {MILD: "a mild, moderate or severe reaction",
            MODERATE: "a moderate or severe reaction"}.get(threshold, "a severe reaction")


def counted_title(threshold: int) -> str:
    """The column of the sessions counted at `threshold`, as the tables head it."""
    return {MILD: "With a reaction", MODERATE: "Moderate or severe"}.get(
        threshold, "With a severe reaction")


def threshold_problem(threshold: object) -> str | None:
    """Why `threshold` cannot be counted from, in plain words; None when it can."""
    if isinstance(threshold, bool) or threshold not in THRESHOLD_LABELS:
        return "Count reactions from must be Mild, Moderate or Severe"
    return None


#: How many lots the chart shows (the most used); the table lists every one.
CHART_LOTS = 8

#: Lots used on fewer sessions than this are listed after the others: one session with a
#: reaction is 100% of one, and a lot used once or twice would otherwise top the list.
RANKED_SESSIONS = 10

#: The period the window opens on: the last this many days, today included.
DEFAULT_DAYS = 90


class DepthBand(StrEnum):
    """Where a treated area's depth stands against the clinic's usual range for the area."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"
    NO_RANGE = "no_range"


#: How each band reads in the window and the PDF.
DEPTH_BAND_LABELS: dict[DepthBand, str] = {
    DepthBand.BELOW: "Below the usual range",
    DepthBand.WITHIN: "Within the usual range",
    DepthBand.ABOVE: "Above the usual range",
    DepthBand.NO_RANGE: "No usual range for the area",
}

#: Short names of the bands, for the chart's bars.
DEPTH_BAND_SHORT: dict[DepthBand, str] = {
    DepthBand.BELOW: "Below",
    DepthBand.WITHIN: "Within",
    DepthBand.ABOVE: "Above",
    DepthBand.NO_RANGE: "No range",
}

#: The order the product kinds are listed in.
_KIND_ORDER = {ProductKind.SERUM: 0, ProductKind.ANAESTHETIC: 1, ProductKind.CARTRIDGE: 2}

#: What a product line with no lot recorded shows as its lot.
NO_LOT = "no lot recorded"
#: What a cartridge lot recorded without the cartridge's name shows as its product.
UNNAMED_CARTRIDGE = "cartridge not named"


def depth_band(area: str, depth_mm: float, area_depths: Mapping[str, DepthRange]) -> DepthBand:
    """The band of `depth_mm` for `area` in the clinic's usual ranges (the area matched as
    the depth warnings match it: case and accents ignored). The range's ends are within."""
    usual = lookup(area_depths, area)
    if usual is None:
        return DepthBand.NO_RANGE
    if depth_mm < usual.low_mm:
        return DepthBand.BELOW
    if depth_mm > usual.high_mm:
        return DepthBand.ABOVE
    return DepthBand.WITHIN


@dataclass(frozen=True)
class ProductUse:
    """A product used on a session, as recorded: its kind, name and lot (None: no lot)."""

    kind: ProductKind
    product: str
    lot: str | None = None


@dataclass(frozen=True)
class SessionFacts:
    """What the report needs of one session: its treated areas (area, depth in mm), the
    products used, and its reactions (kind, severity)."""

    session_id: str
    started_at: datetime
    areas: tuple[tuple[str, float], ...] = ()
    products: tuple[ProductUse, ...] = ()
    reactions: tuple[tuple[str, int], ...] = ()


def uses_of(serums: Iterable[tuple[str, str | None]], anaesthetic: str | None,
            anaesthetic_lot: str | None, cartridge: str | None,
            cartridge_lot: str | None) -> tuple[ProductUse, ...]:
    """The products a session used: each serum line (product, lot), the anaesthetic (when
    one was applied), the cartridge (when named, or a lot was recorded for it)."""
    uses = [ProductUse(ProductKind.SERUM, product, lot) for product, lot in serums]
    if anaesthetic is not None:
        uses.append(ProductUse(ProductKind.ANAESTHETIC, anaesthetic, anaesthetic_lot))
    if (cartridge or "").strip() or (cartridge_lot or "").strip():
        uses.append(ProductUse(ProductKind.CARTRIDGE, cartridge or "", cartridge_lot))
    return tuple(uses)


def product_uses(session: Session) -> tuple[ProductUse, ...]:
    """The products a session record used (`uses_of`)."""
    a = session.anaesthetic
    return uses_of(((s.product, s.lot) for s in session.serums),
                   a.product if a is not None else None, a.lot if a is not None else None,
                   session.device.cartridge, session.device.cartridge_lot)


def session_facts(session: Session) -> SessionFacts:
    """The report's facts of a whole session record."""
    return SessionFacts(session.id, session.started_at,
                        tuple((a.area, a.depth_mm) for a in session.areas),
                        product_uses(session),
                        tuple((r.kind, r.severity) for r in session.reactions))


@dataclass(frozen=True)
class ReactionCounts:
    """Reactions among a set of sessions: how many sessions, how many had a reaction at or
    above `threshold`, the reactions by severity (all of them, whatever the threshold), and
    the kinds of the worst ones (most seen first)."""

    sessions: int = 0
    with_reaction: int = 0
    mild: int = 0
    moderate: int = 0
    severe: int = 0
    #: The highest severity recorded (0: no reaction).
    worst_severity: int = 0
    worst_kinds: tuple[str, ...] = ()
    #: The mildest severity that made a session count in `with_reaction`.
    threshold: int = DEFAULT_THRESHOLD

    @property
    def reaction_phrase(self) -> str:
        return reaction_phrase(self.threshold)

    @property
    def share(self) -> float:
        """The share of sessions with a reaction at or above the threshold, 0 to 1 (0 when
        there is no session)."""
        return self.with_reaction / self.sessions if self.sessions else 0.0

    @property
    def share_text(self) -> str:
        return percent_text(self.share)

    @property
    def reactions(self) -> int:
        return self.mild + self.moderate + self.severe

    def worst_text(self) -> str:
        """`severe: infection, oedema`, or "" when there was no reaction."""
        if not self.worst_severity:
            return ""
        word = SEVERITY_LABELS.get(self.worst_severity, "severe")
        return f"{word}: {', '.join(self.worst_kinds)}"


def percent_text(share: float) -> str:
    """A share as a whole percent (`25%`), except one that would read 0% or 100% without
    being it (`0.4%`, `99.6%`)."""
    value = share * 100
    if 0 < value < 1 or 99 < value < 100:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


@dataclass
class _Tally:
    """Counts being gathered for one row."""

    threshold: int = DEFAULT_THRESHOLD
    sessions: set[str] = field(default_factory=set)
    reacted: set[str] = field(default_factory=set)
    by_severity: dict[int, int] = field(default_factory=dict)
    #: Per severity, how often each kind (folded) was seen.
    kinds: dict[int, dict[str, int]] = field(default_factory=dict)
    #: Each kind (folded) as first spelled.
    spelling: dict[str, str] = field(default_factory=dict)

    def add(self, facts: SessionFacts, reactions: list[tuple[str, int]]) -> None:
        if facts.session_id in self.sessions:
            return
        self.sessions.add(facts.session_id)
        if any(severity >= self.threshold for _kind, severity in reactions):
            self.reacted.add(facts.session_id)
        for kind, severity in reactions:
            severity = min(severity, SEVERE)
            self.by_severity[severity] = self.by_severity.get(severity, 0) + 1
            key = fold(kind.strip())
            self.spelling.setdefault(key, kind.strip())
            seen = self.kinds.setdefault(severity, {})
            seen[key] = seen.get(key, 0) + 1

    def counts(self) -> ReactionCounts:
        worst = max(self.kinds, default=0)
        kinds = sorted(self.kinds.get(worst, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return ReactionCounts(
            sessions=len(self.sessions), with_reaction=len(self.reacted),
            mild=self.by_severity.get(MILD, 0), moderate=self.by_severity.get(MODERATE, 0),
            severe=self.by_severity.get(SEVERE, 0), worst_severity=worst,
            worst_kinds=tuple(self.spelling[key] for key, _n in kinds),
            threshold=self.threshold)


@dataclass(frozen=True)
class LotRow:
    """One product and lot (lots grouped by `lot_key`), as first spelled in the period."""

    kind: ProductKind
    product: str
    lot: str
    counts: ReactionCounts

    @property
    def kind_text(self) -> str:
        return PRODUCT_KIND_LABELS.get(str(self.kind), str(self.kind))

    @property
    def product_text(self) -> str:
        return self.product or UNNAMED_CARTRIDGE

    @property
    def lot_text(self) -> str:
        return self.lot or NO_LOT

    @property
    def name(self) -> str:
        """`Hyaluronic acid 1% · HA-0923`, as the chart labels a bar."""
        return f"{self.product_text} · {self.lot_text}"


@dataclass(frozen=True)
class BandRow:
    """One depth band: the treated areas in it, and the sessions with an area in it."""

    band: DepthBand
    areas: int
    counts: ReactionCounts

    @property
    def label(self) -> str:
        return DEPTH_BAND_LABELS[self.band]


@dataclass(frozen=True)
class ReactionsReport:
    """The report of a period (`start` to `end`, both days included)."""

    start: date
    end: date
    total: ReactionCounts
    lots: list[LotRow]
    bands: list[BandRow]
    #: The mildest severity that counts a session as with a reaction.
    threshold: int = DEFAULT_THRESHOLD

    @property
    def reaction_phrase(self) -> str:
        """`a moderate or severe reaction`."""
        return reaction_phrase(self.threshold)

    @property
    def counted_title(self) -> str:
        return counted_title(self.threshold)

    @property
    def period_text(self) -> str:
        return period_text(self.start, self.end)

    def chart_lots(self, count: int = CHART_LOTS) -> list[LotRow]:
        """The `count` most used lots (most sessions first), for the chart."""
        ranked = sorted(self.lots, key=lambda r: (-r.counts.sessions, _lot_order(r)))
        return ranked[:count]


def period_text(start: date, end: date) -> str:
    """`1 Sep 2026 to 30 Nov 2026`, or the one day."""
    return day_text(start) if start == end else f"{day_text(start)} to {day_text(end)}"


def period_problems(start: date | None, end: date | None) -> list[str]:
    """What is wrong with a period as chosen in the window, in plain words naming the
    fields by their labels (From, To); [] when it can be reported."""
    problems = []
    for label, day in (("From", start), ("To", end)):
        if day is None:
            problems.append(f"{label} is required: type a date such as 1 Sep 2026")
        elif not YEAR_MIN <= day.year <= YEAR_MAX:
            problems.append(f"{label} {day_text(day)} is outside the years "
                            f"{YEAR_MIN}–{YEAR_MAX}")
    if start is not None and end is not None and not problems and end < start:
        problems.append(f"To {day_text(end)} is before From {day_text(start)}: the period "
                        "must end on or after the day it starts")
    return problems


def _reactions_of(facts: SessionFacts) -> list[tuple[str, int]]:
    return [(kind, severity) for kind, severity in facts.reactions if severity >= MILD]


def _lot_order(row: LotRow) -> tuple[int, str, str]:
    return (_KIND_ORDER.get(row.kind, 9), fold(row.product_text), lot_key(row.lot))


def reactions_report(facts: Iterable[SessionFacts], start: date, end: date,
                     area_depths: Mapping[str, DepthRange],
                     threshold: int = DEFAULT_THRESHOLD) -> ReactionsReport:
    """Count the reactions of the sessions in `facts` that started from `start` to `end`
    (both days included; others are left out) by product and lot, and by depth band.

    A session counts once per product and lot it used (a serum used twice on one session
    is one session), and once in each band one of its areas falls in (a session with an
    area within and one above the usual range counts in both). Lot rows are listed with
    the lots used on `RANKED_SESSIONS` sessions or more first, each group with the highest
    share of sessions with a reaction first, then the most used.

    A session is counted as with a reaction when one of its reactions is `threshold`
    (MILD, MODERATE or SEVERE) or worse; the severity columns count every reaction."""
    problem = threshold_problem(threshold)
    if problem is not None:
        raise ValueError(problem)
    total = _Tally(threshold)
    lots: dict[tuple[ProductKind, str, str], tuple[ProductUse, _Tally]] = {}
    bands: dict[DepthBand, tuple[list[int], _Tally]] = {
        band: ([0], _Tally(threshold)) for band in DepthBand}
    for session in facts:
        if not start <= session.started_at.date() <= end:
            continue
        reactions = _reactions_of(session)
        total.add(session, reactions)
        for use in session.products:
            key = (use.kind, product_key(use.product), lot_key(use.lot))
            first = lots.setdefault(key, (use, _Tally(threshold)))
            first[1].add(session, reactions)
        for area, depth in session.areas:
            areas, tally = bands[depth_band(area, depth, area_depths)]
            areas[0] += 1
            tally.add(session, reactions)
    lot_rows = [LotRow(use.kind, use.product.strip(), (use.lot or "").strip(), tally.counts())
                for use, tally in lots.values()]
    lot_rows.sort(key=lambda r: (r.counts.sessions < RANKED_SESSIONS, -r.counts.share,
                                 -r.counts.sessions, _lot_order(r)))
    band_rows = [BandRow(band, areas[0], tally.counts())
                 for band, (areas, tally) in bands.items()
                 if areas[0] or band is not DepthBand.NO_RANGE]
    return ReactionsReport(start, end, total.counts(), lot_rows, band_rows, threshold)
