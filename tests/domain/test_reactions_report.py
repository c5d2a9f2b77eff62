"""The reactions report's counting, on hand-made sessions whose numbers can be seen at once."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_session

from needledesk.domain.guidelines import DEFAULT_AREA_DEPTHS, DepthRange
from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    ProductKind,
    Reaction,
    Serum,
)
from needledesk.domain.reactions_report import (
    DEFAULT_THRESHOLD,
    MILD,
    MODERATE,
    RANKED_SESSIONS,
    SEVERE,
    DepthBand,
    ProductUse,
    SessionFacts,
    depth_band,
    percent_text,
    period_problems,
    reaction_phrase,
    reactions_report,
    session_facts,
    threshold_problem,
)

DEPTHS = {"cheeks": DepthRange(0.5, 2.0), "forehead": DepthRange(0.25, 0.75),
          "Décolletage": DepthRange(0.25, 1.0)}
START, END = date(2026, 11, 1), date(2026, 11, 30)


def facts(n: int, *, areas=(("cheeks", 1.0),), products=(), reactions=(),
          day: date = date(2026, 11, 10)) -> SessionFacts:
    return SessionFacts(f"s{n}", datetime(day.year, day.month, day.day, 10, 0), tuple(areas),
                        tuple(products), tuple(reactions))


def serum(lot: str | None, product: str = "HA serum") -> ProductUse:
    return ProductUse(ProductKind.SERUM, product, lot)


@pytest.mark.parametrize(("area", "depth", "band"), [
    ("cheeks", 0.25, DepthBand.BELOW),
    ("cheeks", 0.5, DepthBand.WITHIN),      # the range's ends are within it
    ("cheeks", 2.0, DepthBand.WITHIN),
    ("cheeks", 2.25, DepthBand.ABOVE),
    ("  CHEEKS ", 2.25, DepthBand.ABOVE),   # matched as the depth warnings match areas
    ("decolletage", 1.5, DepthBand.ABOVE),  # accents ignored
    ("earlobes", 1.0, DepthBand.NO_RANGE),
])
def test_depth_band_against_the_clinics_usual_range(area, depth, band):
    assert depth_band(area, depth, DEPTHS) is band


def test_lots_group_ignoring_case_and_spaces_and_count_each_session_once():
    sessions = [
        facts(1, products=[serum("ab12 ")], reactions=[("erythema", 1)]),
        facts(2, products=[serum("AB12"), serum("ab12")]),          # one session, one lot
        facts(3, products=[serum("AB12")], reactions=[("oedema", 3), ("Oedema", 3),
                                                       ("erythema", 2)]),
        facts(4, products=[serum("CD34")]),
    ]
    report = reactions_report(sessions, START, END, DEPTHS, MILD)
    rows = {(r.product, r.lot): r.counts for r in report.lots}
    assert set(rows) == {("HA serum", "ab12"), ("HA serum", "CD34")}  # first spelling kept
    ab12 = rows[("HA serum", "ab12")]
    assert (ab12.sessions, ab12.with_reaction) == (3, 2)
    assert (ab12.mild, ab12.moderate, ab12.severe) == (1, 1, 2)
    assert ab12.share_text == "67%"
    assert ab12.worst_text() == "severe: oedema"
    cd34 = rows[("HA serum", "CD34")]
    assert (cd34.sessions, cd34.with_reaction, cd34.share_text, cd34.worst_text()) == (
        1, 0, "0%", "")
    # the highest share first
    assert [r.lot for r in report.lots] == ["ab12", "CD34"]


def test_the_same_sessions_give_different_shares_at_each_threshold():
    sessions = [
        facts(1, products=[serum("L1")], reactions=[("erythema", 1)]),
        facts(2, products=[serum("L1")], reactions=[("erythema", 1), ("oedema", 2)]),
        facts(3, products=[serum("L1")], reactions=[("infection", 3)]),
        facts(4, products=[serum("L1")], reactions=[("erythema", 0)]),
        facts(5, products=[serum("L2")], reactions=[("erythema", 1)]),
    ]
    shares = {}
    for threshold in (MILD, MODERATE, SEVERE):
        report = reactions_report(sessions, START, END, DEPTHS, threshold)
        l1 = next(r for r in report.lots if r.lot == "L1").counts
        shares[threshold] = (l1.with_reaction, l1.share_text, report.total.with_reaction)
        # the severity columns count every reaction whatever the threshold
        assert (l1.mild, l1.moderate, l1.severe, l1.worst_text()) == (
            2, 1, 1, "severe: infection")
        assert report.threshold == threshold == l1.threshold
    assert shares == {MILD: (3, "75%", 4), MODERATE: (2, "50%", 2), SEVERE: (1, "25%", 1)}
    # moderate unless chosen otherwise
    default = reactions_report(sessions, START, END, DEPTHS)
    assert (default.threshold, default.total.with_reaction) == (DEFAULT_THRESHOLD, 2)
    assert DEFAULT_THRESHOLD == MODERATE
    # L2's mild redness alone makes it the worst lot at mild, not at moderate
    assert reactions_report(sessions, START, END, DEPTHS, MILD).lots[0].lot == "L2"
    assert default.lots[0].lot == "L1"


def test_threshold_phrases_and_a_threshold_out_of_range():
    assert [reaction_phrase(t) for t in (MILD, MODERATE, SEVERE)] == [
        "a mild, moderate or severe reaction", "a moderate or severe reaction",
        "a severe reaction"]
    for bad in (0, 4, True, "2"):
        assert threshold_problem(bad) == "Count reactions from must be Mild, Moderate or Severe"
        with pytest.raises(ValueError, match="Count reactions from"):
            reactions_report([], START, END, DEPTHS, bad)  # type: ignore[arg-type]
    assert threshold_problem(MODERATE) is None


def test_severity_none_is_not_a_reaction():
    report = reactions_report([facts(1, products=[serum("L1")], reactions=[("erythema", 0)])],
                              START, END, DEPTHS)
    counts = report.lots[0].counts
    assert (counts.sessions, counts.with_reaction, counts.reactions) == (1, 0, 0)
    assert report.total.with_reaction == 0


def test_every_product_of_a_session_counts_and_the_same_lot_of_two_products_is_two_rows():
    session = make_session("c1", started_at=datetime(2026, 11, 5, 9, 0),
                           device=Device(DeviceType.PEN, "Dermapen 4", "12-pin", "X1"),
                           anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 11, 5, 8, 0),
                                                   lot="X1"),
                           serums=[Serum("HA serum", "X1"), Serum("Vitamin C", None)],
                           reactions=[Reaction("bruising", 2)])
    report = reactions_report([session_facts(session)], START, END, DEPTHS)
    shown = sorted((r.kind_text, r.product_text, r.lot_text) for r in report.lots)
    assert shown == [("Needle cartridge", "12-pin", "X1"), ("Serum", "HA serum", "X1"),
                     ("Serum", "Vitamin C", "no lot recorded"),
                     ("Topical anaesthetic", "EMLA 5%", "X1")]
    assert all(r.counts.with_reaction == 1 and r.counts.moderate == 1 for r in report.lots)


def test_a_cartridge_lot_without_its_name_still_counts():
    session = make_session("c1", started_at=datetime(2026, 11, 5, 9, 0), anaesthetic=None,
                           serums=[], device=Device(DeviceType.PEN, None, None, "Q9"))
    report = reactions_report([session_facts(session)], START, END, DEPTHS)
    assert [(r.product_text, r.lot_text) for r in report.lots] == [("cartridge not named",
                                                                     "Q9")]


def test_depth_bands_count_sessions_once_per_band_and_areas_each():
    sessions = [
        # within and above: counts in both bands
        facts(1, areas=[("cheeks", 1.0), ("cheeks", 2.5), ("forehead", 1.0)],
              reactions=[("erythema", 1)]),
        facts(2, areas=[("cheeks", 0.25)]),
        facts(3, areas=[("forehead", 0.5)], reactions=[("infection", 3)]),
        facts(4, areas=[("scalp", 1.0)], reactions=[("soreness", 2)]),
    ]
    report = reactions_report(sessions, START, END, DEPTHS, MILD)
    bands = {b.band: b for b in report.bands}
    assert [b.band for b in report.bands] == [DepthBand.BELOW, DepthBand.WITHIN,
                                              DepthBand.ABOVE, DepthBand.NO_RANGE]
    assert (bands[DepthBand.ABOVE].areas, bands[DepthBand.ABOVE].counts.sessions) == (2, 1)
    assert bands[DepthBand.ABOVE].counts.share_text == "100%"
    within = bands[DepthBand.WITHIN].counts
    assert (bands[DepthBand.WITHIN].areas, within.sessions, within.with_reaction) == (2, 2, 2)
    assert within.worst_text() == "severe: infection"
    below = bands[DepthBand.BELOW].counts
    assert (below.sessions, below.with_reaction, below.share_text) == (1, 0, "0%")
    assert bands[DepthBand.NO_RANGE].counts.worst_text() == "moderate: soreness"
    assert (report.total.sessions, report.total.with_reaction) == (4, 3)


def test_no_range_band_is_left_out_when_every_area_has_one_and_empty_bands_read_zero():
    report = reactions_report([facts(1)], START, END, DEFAULT_AREA_DEPTHS)
    assert [b.band for b in report.bands] == [DepthBand.BELOW, DepthBand.WITHIN,
                                              DepthBand.ABOVE]
    assert report.bands[0].counts.sessions == 0 and report.bands[0].counts.share == 0


def test_only_sessions_of_the_period_count_both_ends_included():
    sessions = [facts(1, day=date(2026, 10, 31), products=[serum("L1")]),
                facts(2, day=START, products=[serum("L1")]),
                facts(3, day=END, products=[serum("L1")]),
                facts(4, day=date(2026, 12, 1), products=[serum("L1")])]
    report = reactions_report(sessions, START, END, DEPTHS)
    assert report.total.sessions == 2
    assert report.lots[0].counts.sessions == 2
    assert report.period_text == "1 Nov 2026 to 30 Nov 2026"


def test_lots_used_on_ten_sessions_or_more_are_listed_first():
    # L1: 3 of 10 sessions (30%); L2: 1 of 1 (100%); L3: 1 of 12 (8%)
    sessions = [facts(i, products=[serum("L1")],
                      reactions=[("oedema", 2)] if i < 3 else [("erythema", 1)])
                for i in range(10)]
    sessions += [facts(100, products=[serum("L2")], reactions=[("oedema", 3)])]
    sessions += [facts(200 + i, products=[serum("L3")],
                       reactions=[("oedema", 2)] if i == 0 else []) for i in range(12)]
    report = reactions_report(sessions, START, END, DEPTHS)
    assert RANKED_SESSIONS == 10
    assert [(r.lot, r.counts.share_text) for r in report.lots] == [
        ("L1", "30%"), ("L3", "8%"), ("L2", "100%")]


def test_chart_lots_are_the_most_used():
    sessions = [facts(i, products=[serum(f"L{i % 3}")]) for i in range(6)] + [
        facts(10 + i, products=[serum("L0")]) for i in range(4)]
    report = reactions_report(sessions, START, END, DEPTHS)
    assert [r.lot for r in report.chart_lots(2)] == ["L0", "L1"]
    assert [r.counts.sessions for r in report.chart_lots(2)] == [6, 2]


@pytest.mark.parametrize(("share", "text"), [(0, "0%"), (0.25, "25%"), (2 / 3, "67%"),
                                             (0.004, "0.4%"), (0.996, "99.6%"), (1, "100%")])
def test_percent_text(share, text):
    assert percent_text(share) == text


def test_period_problems_name_the_fields_in_plain_words():
    assert period_problems(START, END) == []
    assert period_problems(START, START) == []
    [problem] = period_problems(END, START)
    assert problem.startswith("To 1 Nov 2026 is before From 30 Nov 2026")
    [problem] = period_problems(None, END)
    assert problem.startswith("From is required")
    [problem] = period_problems(START, date(2150, 1, 1))
    assert problem == "To 1 Jan 2150 is outside the years 1900–2100"
