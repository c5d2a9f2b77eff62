"""Property: any valid records survive export -> import into an empty file -> export."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needledesk.domain.model import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_ALLOWED,
    SCREENING_QUESTIONS,
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    Client,
    ClientRecord,
    Course,
    Device,
    DeviceType,
    Fee,
    Lot,
    Observed,
    Product,
    ProductKind,
    Reaction,
    Screening,
    ScreeningCheck,
    ScreeningOutcome,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.domain.rules import ISO_4217, validate_record
from needledesk.exchange import dumps, encode_document, parse_json
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.store.server import open_server
from needledesk.transfer import import_document

TODAY = date(2026, 11, 21)
# Within the input limits (rules.limit_problems): no control characters (notes may break
# lines), no direction overrides, and a one-line value shows something.
chars = st.characters(exclude_categories=("Cs", "Cc"),
                      exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
free_text = st.text(chars | st.sampled_from("\n\t"), max_size=40)
word = st.text(chars, min_size=1, max_size=30).map(str.strip).filter(
    lambda w: any(not c.isspace() and unicodedata.category(c) != "Cf" for c in w))
optional_word = st.none() | word
moments = st.datetimes(datetime(2015, 1, 1), datetime(2026, 11, 1)).map(
    lambda t: t.replace(microsecond=0, second=t.second if t.second % 2 else 0))
ids = st.uuids().map(str)


def _picked(lot_ids: list[str]) -> st.SearchStrategy[str | None]:
    """A catalogue lot a session's product line was picked from, or none (typed)."""
    return st.none() | st.sampled_from(lot_ids) if lot_ids else st.none()


@st.composite
def catalogues(draw) -> tuple[list[Product], list[Lot]]:
    """A product catalogue: products of each kind, each with a few lots."""
    products = draw(st.lists(st.builds(Product, word, st.sampled_from(ProductKind),
                                       st.just("") | word, ids, free_text, st.booleans()),
                             max_size=3))
    lots = []
    for product in products:
        for _ in range(draw(st.integers(0, 2))):
            expires = draw(st.none() | st.dates(date(2015, 1, 1), date(2030, 12, 31)))
            received = draw(st.none() | st.dates(date(2015, 1, 1), expires or TODAY))
            lots.append(Lot(product.id, draw(word), expires, draw(ids), received,
                            draw(free_text)))
    return products, lots


@st.composite
def sessions(draw, client_id: str, course_ids: list[str], lot_ids: list[str] = (),
             screening_ids: list[str] = ()) -> Session:
    lot_ids, screening_ids = list(lot_ids), list(screening_ids)
    started = draw(moments)
    anaesthetic = None
    if draw(st.booleans()):
        applied = started - timedelta(minutes=draw(st.integers(0, 120)))
        removed = draw(st.none() | st.just(applied + timedelta(minutes=draw(st.integers(0, 90)))))
        anaesthetic = Anaesthetic(draw(word), applied, removed, draw(optional_word),
                                  draw(_picked(lot_ids)))
    check = None
    if screening_ids and draw(st.booleans()):
        check = ScreeningCheck(draw(st.sampled_from(screening_ids)),
                               draw(st.sampled_from(ScreeningOutcome)))
    signed = draw(st.none() | st.just(started + timedelta(minutes=draw(st.integers(0, 300)))))
    changes = st.dictionaries(word, st.tuples(free_text | st.none(), free_text).map(list),
                              min_size=1, max_size=3)
    after_signing = st.integers(0, 10_000).map(lambda m: signed + timedelta(minutes=m))
    amendments = draw(st.lists(st.builds(Amendment, after_signing, word, word, changes),
                               max_size=2)) if signed else []
    return Session(
        client_id=client_id, started_at=started, practitioner=draw(word),
        areas=draw(st.lists(st.builds(
            TreatedArea, word, st.integers(2, 60).map(lambda k: round(k * 0.05, 2)),
            st.none() | st.integers(1, 50), optional_word, free_text), min_size=1, max_size=5)),
        id=draw(ids), course_id=draw(st.none() | st.sampled_from(course_ids)) if course_ids
        else None,
        device=draw(st.builds(Device, st.sampled_from(DeviceType), optional_word, optional_word,
                              optional_word, _picked(lot_ids))),
        anaesthetic=anaesthetic,
        serums=draw(st.lists(st.builds(Serum, word, optional_word, _picked(lot_ids)),
                             max_size=3)),
        combined_with=draw(st.lists(word, max_size=2)),
        reactions=draw(st.lists(st.builds(Reaction, word, st.integers(0, 3),
                                          st.sampled_from(Observed), free_text), max_size=3)),
        aftercare=draw(st.lists(word, max_size=3)),
        fee=draw(st.none() | st.builds(Fee, st.decimals(0, 9999, places=2),
                                       st.sampled_from(sorted(ISO_4217)))),
        notes=draw(free_text), signed_at=signed,
        acknowledged_warnings=draw(st.lists(st.builds(AcknowledgedWarning, word, word, moments),
                                            max_size=2)),
        amendments=amendments, screening_check=check)


@st.composite
def records(draw, lot_ids: list[str] = ()) -> ClientRecord:
    client = Client(
        first_name=draw(word), last_name=draw(word), id=draw(ids),
        date_of_birth=draw(st.none() | st.dates(date(1920, 1, 1), TODAY)),
        phone=draw(optional_word), email=draw(optional_word),
        fitzpatrick=draw(st.none() | st.integers(1, 6)), concerns=draw(st.lists(word, max_size=3)),
        notes=draw(free_text))
    courses = draw(st.lists(st.builds(Course, st.just(client.id), word, st.integers(1, 20),
                                      st.integers(1, 52), st.dates(date(2015, 1, 1), TODAY),
                                      ids, free_text, st.lists(word, max_size=3)),
                            max_size=2))
    for course in courses:   # some ended early: on or after their start, with a reason
        if draw(st.booleans()):
            course.ended_on = draw(st.dates(course.started_on, TODAY))
            course.end_reason = draw(word)
    answers = st.fixed_dictionaries({}, optional={
        k: st.none() | st.booleans() | (st.just(NOT_APPLICABLE) if k in NOT_APPLICABLE_ALLOWED
                                        else st.nothing())
        for k in SCREENING_QUESTIONS})
    screenings = draw(st.lists(st.builds(Screening, st.just(client.id),
                                         st.dates(date(2015, 1, 1), TODAY), answers,
                                         st.booleans(), ids, free_text), max_size=2))
    course_ids = [c.id for c in courses]
    screening_ids = [x.id for x in screenings]
    return ClientRecord(client, courses, screenings,
                        draw(st.lists(sessions(client.id, course_ids, lot_ids, screening_ids),
                                      max_size=3)))


def _by_id(document: dict) -> dict:
    """Clients by id, their lists in the store's order (by date; ties in file order):
    the records are the same whatever order a file lists a client's courses in."""
    out = {}
    for client in document["clients"]:
        client = dict(client)
        client["courses"] = sorted(client["courses"], key=lambda c: c["started_on"])
        client["screenings"] = sorted(client["screenings"], key=lambda s: s["date"])
        client["sessions"] = sorted(client["sessions"], key=lambda s: s["started_at"])
        out[client["id"]] = client
    return out


def _catalogue_by_id(document: dict) -> dict:
    """Products by id, each with its lots by id (export orders them by name and expiry)."""
    return {p["id"]: dict(p, lots={x["id"]: x for x in p["lots"]})
            for p in document.get("products", [])}


def _clinics() -> st.SearchStrategy:
    """A catalogue and one to three clients whose sessions pick from it."""
    return catalogues().flatmap(lambda catalogue: st.tuples(
        st.just(catalogue),
        st.lists(records([x.id for x in catalogue[1]]), min_size=1, max_size=3,
                 unique_by=lambda r: r.client.id)))


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_clinics())
def test_valid_records_round_trip_through_export_and_import(engine, request, clinic):
    """Into a new file, or (`[postgresql]`) a new clinic server database, per example."""
    (products, lots), generated = clinic
    all_ids = [r.client.id for r in generated] + [
        x.id for r in generated for x in (*r.courses, *r.screenings, *r.sessions)] + [
        x.id for x in (*products, *lots)]
    if len(set(all_ids)) != len(all_ids):
        return  # uuids collide only in theory; the file format requires unique ids
    for record in generated:
        assert validate_record(record, TODAY) == []
    original = encode_document(generated, products=products, lots=lots)
    text = dumps(original)

    with tempfile.TemporaryDirectory() as folder:
        if engine == "sqlite":
            repo = Repository(open_database(Path(folder) / "empty.db"))
        else:
            server = request.getfixturevalue("test_server")
            name = server.new_database()
            repo = Repository(open_server(server.url(name)))
            request.addfinalizer(lambda name=name: server.drop(name))   # if an example fails
        report = import_document(repo, parse_json(text), today=TODAY, by="Jane Smith")
        assert report.result.added["clients"] == len(generated)
        assert (report.products_added, report.lots_added) == (len(products), len(lots))
        exported = encode_document(list(repo.load_records()), products=repo.products(),
                                   lots=repo.lots())
        # and the second import of the same file writes nothing new
        again = import_document(repo, parse_json(text), today=TODAY, by="Jane Smith")
        assert sum(again.result.added.values()) == 0
        assert (again.products_added, again.lots_added) == (0, 0)
        repo.db.close()
        if engine != "sqlite":
            server.drop(name)

    plain = json.loads(json.dumps(original))
    assert _by_id(exported) == _by_id(plain)
    assert _catalogue_by_id(exported) == _catalogue_by_id(plain)
