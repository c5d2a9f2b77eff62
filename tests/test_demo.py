"""The demo data: deterministic, clinically plausible, valid, and written idempotently."""

from __future__ import annotations

import io
import json
import unicodedata
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from needledesk.cli import main
from needledesk.demo import DEMO_AS_OF, catalogue, fill, generate, photographed
from needledesk.demo_data import PHOTO_SIZE, PHOTO_VIEWS
from needledesk.demo_photos import CAMERA_SERIAL
from needledesk.domain import rules
from needledesk.domain.acknowledgements import pending
from needledesk.domain.due import CourseFacts, due_row
from needledesk.domain.guidelines import DEFAULT_ANAESTHETICS, DEFAULT_AREA_DEPTHS
from needledesk.domain.model import (
    REACTION_KINDS,
    SCREENING_QUESTIONS,
    ConsentKind,
    Observed,
    PhotoSource,
    ProductKind,
)
from needledesk.domain.products import (
    catalogue_product,
    expiry,
    lot_key,
    lot_warning,
    validate_lot,
    validate_product,
)
from needledesk.domain.safety import DueState
from needledesk.exchange import encode_record
from needledesk.store.check import check_file
from needledesk.store.database import open_database
from needledesk.store.lists import recall
from needledesk.store.repository import Repository

SLACK_DAYS = 5   # spacing jitter (±3 days) plus moving a Sunday to the Saturday before


@pytest.fixture(scope="module")
def records():
    return generate(300, seed=3)


@pytest.fixture
def demo_repo(tmp_path):
    db = open_database(tmp_path / "demo.db")
    yield Repository(db)
    db.close()


def encoded(records) -> str:
    return json.dumps([encode_record(r) for r in records], ensure_ascii=False)


def counts(records) -> dict[str, int]:
    return {"clients": len(records),
            "courses": sum(len(r.courses) for r in records),
            "screenings": sum(len(r.screenings) for r in records),
            "sessions": sum(len(r.sessions) for r in records)}


def script(name: str) -> str:
    """The script of a name's letters: LATIN, GREEK, CYRILLIC (or MIXED)."""
    scripts = {unicodedata.name(ch).split()[0] for ch in name if ch.isalpha()}
    return scripts.pop() if len(scripts) == 1 else "MIXED"


def age(on: date, born: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_records():
    assert encoded(generate(25, seed=7)) == encoded(generate(25, seed=7))


def test_different_seed_gives_different_records():
    first, second = generate(25, seed=7), generate(25, seed=8)
    assert encoded(first) != encoded(second)
    assert not {r.client.id for r in first} & {r.client.id for r in second}


def test_a_smaller_run_is_the_start_of_a_bigger_one():
    assert encoded(generate(12, seed=5)) == encoded(generate(30, seed=5)[:12])


def test_everything_is_relative_to_as_of():
    later = DEMO_AS_OF + timedelta(days=400)
    moved = generate(20, seed=7, as_of=later)
    assert encoded(moved) != encoded(generate(20, seed=7))
    assert all(s.started_at.date() <= later for r in moved for s in r.sessions)
    assert generate(0, seed=1) == []
    with pytest.raises(ValueError):
        generate(-1, seed=1)


def test_ids_are_unique_uuid4(records):
    ids = [r.client.id for r in records]
    for r in records:
        ids += [x.id for x in (*r.courses, *r.screenings, *r.sessions)]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)


# --- validity -------------------------------------------------------------------------------


def test_every_record_passes_the_rules(records):
    for record in records:
        assert rules.validate_record(record, DEMO_AS_OF) == [], record.client.full_name


def test_only_acknowledged_warnings(records):
    acknowledged = Counter()
    for record in records:
        for session in record.sessions:
            raised = {w.code for w in rules.session_warnings(session, record.screenings)}
            codes = {a.code for a in session.acknowledged_warnings}
            assert raised == codes
            assert pending(rules.session_warnings(session, record.screenings),
                           session.acknowledged_warnings) == []
            assert all(a.by == session.practitioner and a.at == session.started_at
                       for a in session.acknowledged_warnings)
            for a in session.acknowledged_warnings:
                kind = a.code.split(": ")[0]
                assert kind in ("screening", "depth"), a.code
                # the depth ones with the practitioner's reason, as the editor records it
                assert bool(a.reason) == (kind == "depth")
                acknowledged[kind] += 1
    # a few clients carry a screening flag; a few areas go past the usual depth
    assert acknowledged["screening"] and acknowledged["depth"]


def test_depths_are_within_the_guideline_range_but_a_few_just_past_it(records):
    areas = above = 0
    for record in records:
        for session in record.sessions:
            for area in session.areas:
                usual = DEFAULT_AREA_DEPTHS[area.area]
                areas += 1
                if area.depth_mm > usual.high_mm:   # at most 0.15 mm past, and acknowledged
                    above += 1
                    assert area.depth_mm <= usual.high_mm + 0.15 + 1e-9, area
                    assert f"depth: {area.area} {area.depth_mm:g} mm" in {
                        a.code for a in session.acknowledged_warnings}
                else:
                    assert usual.low_mm <= area.depth_mm, area
                assert rules.DEPTH_MIN_MM <= area.depth_mm <= rules.DEPTH_MAX_MM
                steps = area.depth_mm / 0.05
                assert abs(steps - round(steps)) < 1e-9, area.depth_mm
                assert 2 <= area.passes <= 4
                assert area.endpoint in ("even erythema", "pinpoint bleeding")
    assert 0.03 <= above / areas <= 0.05


def test_depths_do_not_go_shallower_over_a_course(records):
    """Except back into the usual range after a session that went past it."""
    for record in records:
        by_course = defaultdict(list)
        for session in record.sessions:
            by_course[session.course_id].append(session)
        for sessions in by_course.values():
            for before, after in zip(sessions, sessions[1:], strict=False):
                depths = {a.area: a.depth_mm for a in before.areas}
                assert all(a.depth_mm >= depths[a.area]
                           or depths[a.area] > DEFAULT_AREA_DEPTHS[a.area].high_mm
                           for a in after.areas)


def _moderate_share(sessions) -> float:
    hit = sum(any(x.severity >= 2 for x in s.reactions) for s in sessions)
    return hit / len(sessions)


def test_moderate_reactions_are_the_exception_likelier_deeper_and_with_the_worse_lot(records):
    sessions = [s for r in records for s in r.sessions]
    reactions = [x for s in sessions for x in s.reactions]
    # mild redness follows every session; moderate or worse is the exception
    assert sum(x.severity == 1 for x in reactions) > 0.85 * len(reactions)
    base = _moderate_share(sessions)
    assert 0.04 <= base <= 0.15
    deeper = [s for s in sessions if any(a.code.startswith("depth: ")
                                         for a in s.acknowledged_warnings)]
    assert _moderate_share(deeper) >= 2 * base
    worse_ids = {lot.id for lot in catalogue()[1]
                 if lot.lot.startswith("GF-") and lot.lot.endswith("E")}
    assert len(worse_ids) == 1
    worse = [s for s in sessions if any(x.lot_id in worse_ids for x in s.serums)]
    others = [s for s in sessions if s not in worse and s not in deeper]
    assert len(worse) > 30
    assert _moderate_share(worse) >= 1.8 * _moderate_share(others)


def test_the_reactions_report_points_at_the_worse_lot(records):
    from needledesk.domain.reactions_report import reactions_report, session_facts

    facts = [session_facts(s) for r in records for s in r.sessions]
    every = reactions_report(facts, date(2000, 1, 1), DEMO_AS_OF, DEFAULT_AREA_DEPTHS)
    bands = {b.band.value: b.counts.share for b in every.bands}
    assert bands["above"] > 2 * bands["within"]
    # over the window's first period, of the lots used on 30 sessions or more, the worse one
    # has the highest share of sessions with a moderate or severe reaction
    report = reactions_report(facts, DEMO_AS_OF - timedelta(days=89), DEMO_AS_OF,
                              DEFAULT_AREA_DEPTHS)
    busy = [row for row in report.lots if row.counts.sessions >= 30]
    assert busy[0].product == "Growth factor serum" and busy[0].lot.endswith("E")


# --- the course of treatment ----------------------------------------------------------------


def test_sessions_are_spaced_by_the_course_interval(records):
    for record in records:
        courses = {c.id: c for c in record.courses}
        by_course = defaultdict(list)
        for session in record.sessions:
            by_course[session.course_id].append(session.started_at.date())
        assert set(by_course) == set(courses)
        for course_id, days in by_course.items():
            course = courses[course_id]
            assert 3 <= course.planned_sessions <= 5
            assert 6 <= course.interval_weeks <= 8
            assert 1 <= len(days) <= course.planned_sessions
            assert days[0] == course.started_on
            for before, after in zip(days, days[1:], strict=False):
                gap = (after - before).days
                assert abs(gap - 7 * course.interval_weeks) <= SLACK_DAYS, (course, gap)


def test_sessions_are_in_the_past_and_some_courses_still_running(records):
    """On the demo's day most running courses are due later; some are due or overdue, a few
    lapsed, and a few of those were ended early with the reason: a due list to show."""
    states = Counter()
    for record in records:
        assert 1 <= len(record.courses) <= 3
        starts = [s.started_at for s in record.sessions]
        assert starts == sorted(starts)
        assert starts[-1].date() <= DEMO_AS_OF
        last = record.sessions[-1]
        course = next(c for c in record.courses if c.id == last.course_id)
        assert all(c.ended_on is None for c in record.courses if c is not course)
        done = sum(s.course_id == course.id for s in record.sessions)
        if course.ended_on is not None:
            assert done < course.planned_sessions and course.end_reason
            assert last.started_at.date() < course.ended_on <= DEMO_AS_OF
            states["ended"] += 1
        elif done < course.planned_sessions:
            row = due_row(CourseFacts(
                record.client.id, record.client.full_name, record.client.phone, course.id,
                course.concern, course.interval_weeks, course.planned_sessions,
                course.started_on, None, done, last.started_at.date()), DEMO_AS_OF,
                within_days=10_000)
            states[row.state] += 1
    n = len(records)
    assert 0.2 * n < states[DueState.UPCOMING] < 0.5 * n
    assert 0.04 * n < states[DueState.DUE] + states[DueState.OVERDUE] < 0.15 * n
    assert 0.01 * n < states[DueState.LAPSED] < 0.08 * n
    assert 0 < states["ended"] < 0.05 * n
    assert states[DueState.DUE] + states[DueState.OVERDUE] > states[DueState.LAPSED]


def test_roughly_ten_sessions_per_client():
    made = counts(generate(400, seed=1))
    assert 8.5 <= made["sessions"] / made["clients"] <= 11.5


def test_sign_off_and_drafts(records):
    drafts = 0
    for record in records:
        for i, session in enumerate(record.sessions):
            if session.signed_at is None:
                drafts += 1
                assert i == len(record.sessions) - 1   # only the latest may be a draft
                assert not session.amendments
            else:
                minutes = (session.signed_at - session.started_at).total_seconds() / 60
                assert 30 <= minutes <= 60
            for amendment in session.amendments:
                assert session.signed_at < amendment.at
                assert amendment.at.date() <= DEMO_AS_OF
                assert amendment.reason and amendment.by == session.practitioner
                assert amendment.changes
    assert 0 < drafts < 0.1 * len(records)


def test_screening_with_consent_before_the_first_session(records):
    for record in records:
        first = record.sessions[0].started_at.date()
        screenings = sorted(record.screenings, key=lambda s: s.date)
        assert screenings[0].date <= first
        for screening in screenings:
            assert screening.consent_signed
            assert set(screening.answers) == set(SCREENING_QUESTIONS)
            assert all(isinstance(v, bool) for v in screening.answers.values())
    flagged = sum(any(s.flagged for s in r.screenings) for r in records)
    assert flagged < 0.15 * len(records)


# --- plausible details ----------------------------------------------------------------------


def test_session_details_are_plausible(records):
    for record in records:
        for session in record.sessions:
            start = session.started_at
            assert 9 <= start.hour < 18 and start.minute % 5 == 0 and start.second == 0
            assert 1 <= len(session.areas) <= 5
            assert len({a.area for a in session.areas}) == len(session.areas)
            assert session.device.model
            assert session.device.cartridge in ("12-pin", "16-pin", "36-pin", "nano", None)
            assert session.device.cartridge_lot
            anaesthetic = session.anaesthetic
            if anaesthetic is not None:
                usual = DEFAULT_ANAESTHETICS[anaesthetic.product]
                assert usual.low_min <= anaesthetic.contact_minutes <= usual.high_min
                assert 30 <= (start - anaesthetic.applied_at).total_seconds() / 60 <= 60
                assert 0 <= (start - anaesthetic.removed_at).total_seconds() / 60 <= 5
            assert 1 <= len(session.serums) <= 2 and all(s.lot for s in session.serums)
            assert session.combined_with in ([], ["chemical peel"], ["vitamin infusion"])
            assert 1 <= len(session.reactions) <= 3
            for reaction in session.reactions:
                assert reaction.kind in REACTION_KINDS and 0 <= reaction.severity <= 3
            assert 2 <= len(session.aftercare) <= 3
            assert session.fee.currency == "USD"
            assert Decimal(100) <= session.fee.amount <= Decimal(700)
            assert session.fee.amount.as_tuple().exponent == -2
    reactions = [x for r in records for s in r.sessions for x in s.reactions]
    immediate = sum(x.observed is Observed.IMMEDIATE for x in reactions)
    assert immediate > 0.9 * len(reactions)
    assert sum(x.kind == "erythema" for x in reactions) > 0.5 * len(reactions)


def test_clients_are_plausible(records):
    for record in records:
        client = record.client
        assert 18 <= age(DEMO_AS_OF, client.date_of_birth) <= 75
        assert age(record.sessions[0].started_at.date(), client.date_of_birth) >= 18
        assert 1 <= client.fitzpatrick <= 6
        assert client.concerns and set(client.concerns) == {c.concern for c in record.courses}
        if client.email:
            assert client.email.endswith(("@example.org", "@example.com"))
            assert client.email.isascii()
        if client.phone:
            assert client.phone.startswith("+1 ") and " 555 01" in client.phone
    names = [r.client.full_name for r in records]
    scripts = Counter(script(n) for n in names)
    assert scripts["LATIN"] > 0.8 * len(names)                # mostly Latin letters...
    assert 0 < scripts["GREEK"] + scripts["CYRILLIC"] < 0.2 * len(names)
    assert scripts["GREEK"] and scripts["CYRILLIC"]           # ...a few in other scripts
    assert any(n.isascii() for n in names)                    # Sarah Taylor
    assert any(not n.isascii() and script(n) == "LATIN" for n in names)   # Ana López
    assert 0.35 < sum(bool(r.client.email) for r in records) / len(records) < 0.65


# --- writing --------------------------------------------------------------------------------


def test_fill_writes_the_generated_records_once(demo_repo):
    repo = demo_repo
    progress = []
    result = fill(repo, clients=15, seed=2, on_progress=lambda done, total:
                  progress.append((done, total)))
    made = generate(15, seed=2)
    assert dict(result.added) == counts(made)
    assert progress[-1] == (15, 15)
    stored = {r.client.id: encode_record(r) for r in repo.load_records()}
    assert stored == {r.client.id: encode_record(r) for r in made}

    again = fill(repo, clients=15, seed=2)
    assert not any(again.added.values())
    assert dict(again.skipped) == counts(made)
    assert repo.count_clients() == 15


def test_cli_demo_is_idempotent(tmp_path, capsys):
    path = str(tmp_path / "clinic.db")
    demo = ["--db", path, "demo", "--clients", "20", "--seed", "7", "--photos", "1"]
    assert main(demo) == 0
    out = capsys.readouterr().out
    assert "demo added: 20 clients" in out and ", 1 consent, " in out
    photos = int(out.split(", 1 consent, ")[1].split()[0])
    assert photos >= 3 * len(PHOTO_VIEWS)
    assert main(demo) == 0
    out = capsys.readouterr().out
    assert out == "demo added: 0 clients, 0 courses, 0 screenings, 0 sessions\n"
    db = open_database(path)
    try:
        assert Repository(db).count_clients() == 20
        assert len(Repository(db).photos()) == photos
    finally:
        db.close()


def test_cli_demo_refuses_a_negative_photo_count(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "c.db"), "demo", "--clients", "2", "--photos", "-1"]
                ) != 0
    assert "--photos: -1 is not 0 or more" in capsys.readouterr().err


# --- photos ---------------------------------------------------------------------------------


def test_the_demo_photographs_courses_through_the_import_path(demo_repo):
    repo = demo_repo
    made = generate(15, seed=2)
    chosen = photographed(made, 2)
    assert len(chosen) == 2 and all(len(sessions) >= 3 for _, sessions in chosen)
    result = fill(repo, clients=15, seed=2, photos=2)
    views = len(PHOTO_VIEWS)
    assert result.added["consents"] == 2
    assert result.added["photos"] == views * sum(len(s) for _, s in chosen)
    for record, sessions in chosen:
        consents = repo.consents(record.client.id)
        assert [c.kind for c in consents] == [ConsentKind.PHOTO]
        assert consents[0].signed_at < sessions[0].started_at
        for session in sessions:
            photos = repo.photos(session_id=session.id)
            assert sorted(p.view for p in photos) == sorted(PHOTO_VIEWS)
            for photo in photos:
                assert photo.source == PhotoSource.CAMERA and photo.consent_id == consents[0].id
                assert photo.taken_at is not None and photo.taken_at < session.started_at
                data = repo.photo_bytes(photo)
                image = Image.open(io.BytesIO(data))
                assert image.size == PHOTO_SIZE and not image.getexif()   # GPS and all gone
                assert CAMERA_SERIAL.encode() not in data
        # The same face at every session, its marks fading: the front photos all differ.
        fronts = [p.sha256 for s in sessions for p in repo.photos(session_id=s.id)
                  if p.view == "front"]
        assert len(set(fronts)) == len(sessions)
    report = check_file(repo.db)
    assert report.problems == []
    # A second run draws nothing and adds nothing.
    again = fill(repo, clients=15, seed=2, photos=2)
    assert "photos" not in again.added and "consents" not in again.added
    assert again.skipped["photos"] == result.added["photos"]
    assert again.skipped["consents"] == 2


def test_demo_concerns_are_the_ones_the_client_form_offers():
    from needledesk.demo import CONCERNS
    from needledesk.domain.model import COMMON_CONCERNS

    assert set(CONCERNS) <= set(COMMON_CONCERNS)


# --- the catalogue ----------------------------------------------------------------------------


def test_the_catalogue_has_lots_expired_expiring_and_in_date():
    products, lots = catalogue()
    kinds = Counter(p.kind for p in products)
    assert kinds[ProductKind.SERUM] >= 3
    assert kinds[ProductKind.ANAESTHETIC] == 2 and kinds[ProductKind.CARTRIDGE] == 2
    assert all(validate_product(p) == [] for p in products)
    assert all(validate_lot(x) == [] for x in lots)
    by_product = defaultdict(list)
    for lot in lots:
        by_product[lot.product_id].append(lot)
    assert set(by_product) == {p.id for p in products}
    for product in products:
        mine = by_product[product.id]
        assert 2 <= len(mine) <= 4
        assert len({lot_key(x.lot) for x in mine}) == len(mine)
        states = [expiry(x, DEMO_AS_OF) for x in mine]
        assert any(e.expired for e in states), product.name
        assert any(e.soon for e in states), product.name
        assert any(not e.warn for e in states), product.name
    assert catalogue() == (products, lots)   # the same every time
    assert len({x.id for x in lots} | {p.id for p in products}) == len(lots) + len(products)


def test_sessions_pick_their_lots_from_the_catalogue(records):
    products, lots = catalogue()
    product_of = {p.id: p for p in products}
    lot_of = {x.id: x for x in lots}
    start = min(x.received_on for x in lots)
    first_lot = {p.id: min(x.received_on for x in lots if x.product_id == p.id)
                 for p in products}
    used = Counter()
    for record in records:
        for session in record.sessions:
            day = session.started_at.date()
            a = session.anaesthetic
            lines = [(ProductKind.SERUM, s.product, s.lot, s.lot_id) for s in session.serums]
            lines.append((ProductKind.CARTRIDGE, session.device.cartridge,
                          session.device.cartridge_lot, session.device.cartridge_lot_id))
            if a is not None:
                lines.append((ProductKind.ANAESTHETIC, a.product, a.lot, a.lot_id))
                assert (a.lot is not None) == (day >= start)   # recorded since the catalogue
            for kind, product, text, lot_id in lines:
                if lot_id is None:   # typed: a product not in the catalogue, or before it
                    listed = catalogue_product(products, product, kind)
                    assert listed is None or day < first_lot[listed.id]
                    continue
                lot = lot_of[lot_id]
                assert product_of[lot.product_id].kind == kind
                assert product_of[lot.product_id].name == product
                assert text == lot.lot and lot.received_on <= day
                # Never a lot the editor would warn about on the session's day.
                assert lot_warning(product, text, [x for x in lots
                                                   if x.product_id == lot.product_id],
                                   day) is None
                used[lot.id] += 1
    assert {product_of[lot_of[i].product_id].kind for i in used} == set(ProductKind)
    expired = [x.id for x in lots if expiry(x, DEMO_AS_OF).expired]
    assert sum(used[i] > 0 for i in expired) >= len(expired) - 1


def test_fill_writes_the_catalogue_and_the_file_checks_sound(tmp_path, capsys):
    path = tmp_path / "clinic.db"
    assert main(["--db", str(path), "demo", "--clients", "60", "--seed", "4", "--photos", "1"]
                ) == 0   # (check verifies the photos' files too)
    assert main(["--db", str(path), "demo", "--clients", "60", "--seed", "5", "--photos", "0"]
                ) == 0
    capsys.readouterr()
    assert main(["--db", str(path), "check"]) == 0
    assert "the database is sound" in capsys.readouterr().out
    products, lots = catalogue()
    db = open_database(path)
    try:
        repo = Repository(db)
        assert sorted(p.id for p in repo.products()) == sorted(p.id for p in products)
        assert sorted((x.id, x.lot, x.expires_on) for x in repo.lots()) == sorted(
            (x.id, x.lot, x.expires_on) for x in lots)
        # A recall of a catalogue lot finds exactly the sessions that picked it.
        picked = Counter(db.execute(
            "SELECT lot_id FROM serums WHERE lot_id IS NOT NULL UNION ALL "
            "SELECT cartridge_lot_id FROM sessions WHERE cartridge_lot_id IS NOT NULL UNION ALL "
            "SELECT anaesthetic_lot_id FROM sessions WHERE anaesthetic_lot_id IS NOT NULL"
        ).fetchall())
        lot = max(lots, key=lambda x: picked[(x.id,)])
        rows = recall(db, lot.lot)
        assert len(rows) >= picked[(lot.id,)] > 0
        assert all(lot_key(r.lot) == lot_key(lot.lot) for r in rows)
    finally:
        db.close()
