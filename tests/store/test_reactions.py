"""The reactions report's facts read from a real file: the sessions of a period with their
areas, products and reactions, as saved (an amended lot as amended)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from factories import make_client, make_session

from needledesk.domain.guidelines import DepthRange
from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    ProductKind,
    Reaction,
    Serum,
    TreatedArea,
)
from needledesk.domain.reactions_report import MILD, DepthBand, ProductUse, session_facts
from needledesk.store.reactions import period_facts, period_report

BY = "Jane Smith"


def _save(repo, session, *, sign=False):
    if session.anaesthetic is not None and session.anaesthetic.applied_at > session.started_at:
        session.anaesthetic = None   # the factory's is on its own day
    repo.save_draft(session, by=BY)
    if sign:
        repo.sign_session(session.id, session.started_at.replace(hour=12), by=BY)
    return session


def test_period_facts_are_the_sessions_as_saved(repo):
    client = repo.add_client(make_client(), by=BY)
    inside = _save(repo, make_session(
        client.id, started_at=datetime(2026, 11, 30, 23, 45),
        device=Device(DeviceType.PEN, "Dermapen 4", "12-pin", "C-77"),
        anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 11, 30, 22, 50),
                                datetime(2026, 11, 30, 23, 40), lot="E-1"),
        areas=[TreatedArea("cheeks", 2.5), TreatedArea("forehead", 0.5)],
        serums=[Serum("HA serum", "ab12 "), Serum("Vitamin C", None)],
        reactions=[Reaction("oedema", 3), Reaction("erythema", 0)]))
    first_day = _save(repo, make_session(client.id, started_at=datetime(2026, 11, 1, 0, 0),
                                         reactions=[]))
    _save(repo, make_session(client.id, started_at=datetime(2026, 10, 31, 23, 59)))
    _save(repo, make_session(client.id, started_at=datetime(2026, 12, 1, 0, 0)))

    found = period_facts(repo.db, date(2026, 11, 1), date(2026, 11, 30))

    assert [f.session_id for f in found] == [first_day.id, inside.id]
    facts = found[1]
    assert facts == session_facts(repo.get_session(inside.id))
    assert facts.areas == (("cheeks", 2.5), ("forehead", 0.5))
    assert facts.products == (ProductUse(ProductKind.SERUM, "HA serum", "ab12 "),
                              ProductUse(ProductKind.SERUM, "Vitamin C", None),
                              ProductUse(ProductKind.ANAESTHETIC, "EMLA 5%", "E-1"),
                              ProductUse(ProductKind.CARTRIDGE, "12-pin", "C-77"))
    assert facts.reactions == (("oedema", 3), ("erythema", 0))
    assert period_facts(repo.db, date(2026, 12, 2), date(2026, 12, 31)) == []


def test_period_report_counts_an_amended_lot_as_amended_against_the_clinics_ranges(repo):
    settings = repo.settings()
    settings.area_depths = {"cheeks": DepthRange(0.5, 1.0)}
    repo.save_settings(settings, by=BY)
    client = repo.add_client(make_client(), by=BY)
    day = datetime(2026, 11, 10, 10, 0)
    bad = _save(repo, make_session(client.id, started_at=day, serums=[Serum("HA", "AB12")],
                                   areas=[TreatedArea("cheeks", 1.5)],
                                   reactions=[Reaction("infection", 3)]), sign=True)
    _save(repo, make_session(client.id, started_at=day.replace(day=11),
                             serums=[Serum("HA", "ab12")], areas=[TreatedArea("cheeks", 0.75)],
                             reactions=[Reaction("erythema", 1)]))
    _save(repo, make_session(client.id, started_at=day.replace(day=12),
                             serums=[Serum("HA", "ZZ9")], areas=[TreatedArea("cheeks", 0.75)],
                             reactions=[]))
    # the first session's lot was mistyped: amended to ZZ9 after sign-off
    repo.amend_session(replace(repo.get_session(bad.id), serums=[Serum("HA", "ZZ9")]), by=BY,
                       reason="lot mistyped", at=day.replace(hour=14))

    report = period_report(repo.db, date(2026, 11, 1), date(2026, 11, 30))

    serums = {r.lot: r.counts for r in report.lots if r.kind is ProductKind.SERUM}
    assert (serums["ZZ9"].sessions, serums["ZZ9"].with_reaction, serums["ZZ9"].severe) == (
        2, 1, 1)
    # counted from moderate: ab12's mild erythema is in the mild column, not counted
    assert (serums["ab12"].sessions, serums["ab12"].with_reaction, serums["ab12"].mild) == (
        1, 0, 1)
    assert "AB12" not in serums
    bands = {b.band: b.counts for b in report.bands}
    assert (bands[DepthBand.ABOVE].sessions, bands[DepthBand.ABOVE].worst_text()) == (
        1, "severe: infection")
    assert (bands[DepthBand.WITHIN].sessions, bands[DepthBand.WITHIN].with_reaction) == (2, 0)
    assert (report.total.sessions, report.total.with_reaction) == (3, 1)
    # the threshold chosen reaches the counting
    mild = period_report(repo.db, date(2026, 11, 1), date(2026, 11, 30), MILD)
    assert mild.threshold == MILD
    assert [(r.lot, r.counts.with_reaction) for r in mild.lots
            if r.kind is ProductKind.SERUM] == [("ab12", 1), ("ZZ9", 1)]
    assert mild.total.with_reaction == 2
