"""The repository on a real file: search, drafts, sign-off, amendments, transactions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from engines import new_store, open_store
from factories import make_client, make_course, make_screening, make_session

from needledesk.domain.model import Reaction, TreatedArea
from needledesk.errors import NotFoundError, SignedRecordError, ValidationError
from needledesk.store.repository import Repository


def _counts(repo: Repository) -> dict[str, int]:
    tables = ("clients", "courses", "screenings", "sessions", "treated_areas", "serums",
              "reactions", "acknowledged_warnings", "amendments")
    return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def people(repo):
    names = [("Ana", "López", "+1 555 0100"), ("Anabel", "Smith", "+44 20 7946 0018"),
             ("Lorenzo", "Anaya", None), ("Nguyễn", "Thị Đào", "+84 28 3823 0100"),
             ("Мария", "Иванова", None), ("Zoë", "O'Brien-Núñez", None)]
    return {first: repo.add_client(make_client(first_name=first, last_name=last, phone=phone),
                                   by="Jane Smith")
            for first, last, phone in names}


@pytest.mark.parametrize("query, expected", [
    ("lopez", ["Ana"]),
    ("LÓPEZ", ["Ana"]),
    ("ana lo", ["Ana", "Lorenzo"]),      # Ana López first: typed in name order
    ("lo ana", ["Lorenzo", "Ana"]),      # Lorenzo Anaya reads as typed; López Ana next
    ("ana lop", ["Ana"]),
    ("ana", ["Lorenzo", "Ana", "Anabel"]),   # by last name: Anaya, López, Smith
    ("dao", ["Nguyễn"]),
    ("nguyen", ["Nguyễn"]),
    ("мар", ["Мария"]),
    ("nunez", ["Zoë"]),
    ("brien", ["Zoë"]),
    ("zoe", ["Zoë"]),
    ("0100", ["Ana", "Nguyễn"]),
    ("7946", ["Anabel"]),
    ("xyz", []),
])
def test_search_is_accent_and_case_insensitive(repo, people, query, expected):
    assert [c.first_name for c in repo.search_clients(query)] == expected


def test_empty_search_lists_everyone_sorted_by_folded_last_name(repo, people):
    assert [c.last_name for c in repo.search_clients("")] == [
        "Anaya", "López", "O'Brien-Núñez", "Smith", "Thị Đào", "Иванова"]


def test_search_limit(repo, people):
    assert len(repo.search_clients("", limit=2)) == 2


def test_update_client_changes_search(repo, people):
    ana = repo.get_client(people["Ana"].id)
    repo.update_client(replace(ana, last_name="García"), by="Jane Smith")
    assert repo.search_clients("lopez") == []
    assert repo.search_clients("garcia")[0].id == ana.id


def test_invalid_client_is_not_written(repo):
    with pytest.raises(ValidationError) as caught:
        repo.add_client(make_client(first_name="  ", fitzpatrick=7), by="Jane Smith")
    paths = [p.path for p in caught.value.problems]
    assert paths == ["first_name", "fitzpatrick"]
    assert "1–6" in str(caught.value)
    assert _counts(repo)["clients"] == 0


def test_draft_round_trips_every_field(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id), by="Jane Smith")
    session = make_session(client.id, course_id=course.id)
    repo.save_draft(session, by="Jane Smith")
    assert repo.get_session(session.id) == session


def test_saving_a_draft_again_replaces_it(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    session.areas = [TreatedArea("neck", 0.75, 2)]
    session.reactions = []
    repo.save_draft(session, by="Jane Smith")
    stored = repo.get_session(session.id)
    assert [a.area for a in stored.areas] == ["neck"]
    assert stored.reactions == []
    assert _counts(repo)["treated_areas"] == 1


def test_out_of_range_depth_names_field_and_range_and_writes_nothing(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = make_session(client.id, areas=[TreatedArea("cheeks", 3.5)])
    with pytest.raises(ValidationError) as caught:
        repo.save_draft(session, by="Jane Smith")
    assert str(caught.value.problems[0]) == "areas[0].depth_mm: 3.5 is outside 0.1–3.0 mm"
    assert _counts(repo)["sessions"] == 0


def test_course_of_another_client_is_refused(repo):
    ana = repo.add_client(make_client(), by="Jane Smith")
    bea = repo.add_client(make_client(first_name="Bea"), by="Jane Smith")
    course = repo.add_course(make_course(bea.id), by="Jane Smith")
    with pytest.raises(ValidationError, match="course_id"):
        repo.save_draft(make_session(ana.id, course_id=course.id), by="Jane Smith")


def test_signed_session_is_read_only_except_by_amendment(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    signed = repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    assert signed.signed_at == datetime(2026, 11, 20, 11, 10)
    with pytest.raises(SignedRecordError):
        repo.save_draft(replace(session, notes="quietly changed"), by="Jane Smith")
    with pytest.raises(SignedRecordError):
        repo.sign_session(session.id, by="Jane Smith")
    assert repo.get_session(session.id).notes == ""


def test_amendment_needs_a_reason_and_keeps_the_original(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")

    changed = repo.get_session(session.id)
    changed.areas[0].depth_mm = 1.75
    changed.reactions.append(Reaction("oedema", 1))
    with pytest.raises(ValidationError, match="reason"):
        repo.amend_session(changed, by="Jane Smith", reason="  ")
    assert repo.get_session(session.id).areas[0].depth_mm == 1.5

    amendment = repo.amend_session(changed, by="Jane Smith", reason="depth misread",
                                   at=datetime(2026, 11, 21, 8, 40))
    stored = repo.get_session(session.id)
    assert stored.areas[0].depth_mm == 1.75
    assert stored.signed_at == datetime(2026, 11, 20, 11, 10)
    assert amendment.changes["areas[0].depth_mm"] == [1.5, 1.75]
    assert amendment.changes["reactions"][0] == [{"kind": "erythema", "severity": 2,
                                                   "observed": "immediate", "notes": ""}]
    assert stored.amendments == [amendment]


def test_second_amendment_keeps_the_first(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    for lot in ("L1", "L2"):
        changed = repo.get_session(session.id)
        changed.device.cartridge_lot = lot
        repo.amend_session(changed, by="Jane Smith", reason=f"lot {lot}")
    stored = repo.get_session(session.id)
    assert [a.changes["device.cartridge_lot"] for a in stored.amendments] == [
        ["L2311A", "L1"], ["L1", "L2"]]


def test_amending_a_draft_or_changing_nothing_is_refused(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    with pytest.raises(SignedRecordError):
        repo.amend_session(session, by="Jane Smith", reason="x")
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    with pytest.raises(ValidationError, match="changes nothing"):
        repo.amend_session(repo.get_session(session.id), by="Jane Smith", reason="x")


def test_a_session_write_that_fails_midway_leaves_nothing(repo, monkeypatch):
    client = repo.add_client(make_client(), by="Jane Smith")
    table_class = type(repo.db["reactions"])
    original = table_class.insert_all

    def insert_all(self, *args, **kwargs):
        if self.name == "reactions":  # areas and serums are written by then
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(table_class, "insert_all", insert_all)
    with pytest.raises(OSError):
        repo.save_draft(make_session(client.id), by="Jane Smith")
    monkeypatch.undo()
    assert _counts(repo)["sessions"] == 0
    assert _counts(repo)["treated_areas"] == 0


def test_history_summarises_newest_first(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    first = repo.save_draft(make_session(client.id, started_at=datetime(2026, 9, 10, 10, 0),
                                         anaesthetic=None), by="Jane Smith")
    repo.sign_session(first.id, datetime(2026, 9, 10, 11, 0), by="Jane Smith")
    repo.save_draft(make_session(client.id, reactions=[Reaction("erythema", 1),
                                                       Reaction("oedema", 3)]), by="Jane Smith")
    newest, oldest = repo.history(client.id)
    assert newest.started_at == datetime(2026, 11, 20, 10, 30) and not newest.signed
    assert newest.worst_reaction == 3
    assert newest.reactions == ("erythema 1", "oedema 3")
    assert oldest.signed and oldest.areas == ("cheeks", "forehead")
    assert oldest.deepest_mm == 1.5


def test_screenings_and_latest_session(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.add_screening(make_screening(client.id), by="Jane Smith")
    assert repo.screenings(client.id)[0].answers["retinoids_stopped"] is True
    assert repo.latest_session(client.id) is None
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    assert repo.latest_session(client.id).id == session.id


def test_unknown_ids_are_clear(repo):
    with pytest.raises(NotFoundError, match="nope"):
        repo.get_client("nope")
    with pytest.raises(NotFoundError):
        repo.get_session("nope")


def test_records_survive_reopening(db_path, engine, request):
    where = new_store(engine, db_path, request)
    repo = open_store(where)
    client = repo.add_client(make_client(), by="Jane Smith")
    session = repo.save_draft(make_session(client.id), by="Jane Smith")
    repo.db.close()
    again = open_store(where)
    try:
        assert again.get_session(session.id) == session
    finally:
        again.db.close()


def test_remembered_entries_most_recent_first(repo):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.save_draft(make_session(client.id, started_at=datetime(2026, 9, 1, 10, 0),
                                 anaesthetic=None), by="Jane Smith")
    later = make_session(client.id)
    later.device.model = "SkinPen Precision"
    repo.save_draft(later, by="Jane Smith")
    assert repo.remembered("device_model") == ["SkinPen Precision", "Dermapen 4"]
    assert repo.remembered("anaesthetic_product") == ["LMX4"]
    assert repo.remembered("serum_product") == ["Hyaluronic acid 1%"]


def test_settings_round_trip_with_defaults(repo):
    from needledesk.domain.guidelines import DepthRange
    from needledesk.settings import ClinicSettings

    assert repo.settings() == ClinicSettings()
    settings = ClinicSettings(clinic_name="Clínica Sol", logo=b"\x89PNG...", page_size="Letter",
                              practitioners=["Jane Smith"])
    settings.area_depths["cheeks"] = DepthRange(0.5, 2.5)
    repo.save_settings(settings, by="Jane Smith")
    assert repo.settings() == settings


def test_invalid_settings_are_not_saved(repo):
    from needledesk.domain.guidelines import DepthRange
    from needledesk.settings import ClinicSettings

    settings = ClinicSettings(currency="usd")
    settings.area_depths["cheeks"] = DepthRange(2.0, 0.5)
    with pytest.raises(ValidationError) as caught:
        repo.save_settings(settings, by="Jane Smith")
    assert [p.path for p in caught.value.problems] == ["currency", "area_depths[3]"]
    assert repo.settings() == ClinicSettings()


def test_find_clients_reads_pages_in_list_order(repo):
    for i in range(25):
        repo.add_client(make_client(first_name=f"Ana{i:02d}", last_name="López"), by="Jane Smith")
    repo.add_client(make_client(first_name="Bea", last_name="Zamora"), by="Jane Smith")
    found = repo.find_clients("lopez")
    assert found.total == 25
    first, second = found.fetch(0, 10), found.fetch(10, 10)
    assert [c.first_name for c in first + second] == [f"Ana{i:02d}" for i in range(20)]
    assert found.fetch(20, 10)[-1].first_name == "Ana24"
    target = next(c for c in found.fetch(0, 25) if c.first_name == "Ana17")
    assert found.position(target.id) == 17
    bea = repo.search_clients("zamora")[0]
    assert found.position(bea.id) is None, "not in this search"
    assert repo.find_clients("").position(bea.id) == 25
