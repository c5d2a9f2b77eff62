"""`needledesk lots recall` and `needledesk due` on a real file: plain words and days as
"3 Nov 2026" in the table, JSON that parses back, clear refusals of bad options."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from factories import make_client, make_course, make_session

from needledesk.cli import main
from needledesk.domain.model import Anaesthetic, Device, DeviceType, Serum
from needledesk.domain.text import day_text
from needledesk.settings import ClinicSettings
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

BY = "Jane Smith"
ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def _session(client_id, when: datetime, *, serums=(), anaesthetic_lot=None,
             cartridge_lot=None, course_id=None):
    return make_session(
        client_id, started_at=when, course_id=course_id,
        serums=[Serum(p, lot) for p, lot in serums],
        anaesthetic=Anaesthetic("LMX4", when - timedelta(minutes=45),
                                when - timedelta(minutes=5), lot=anaesthetic_lot),
        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", cartridge_lot))


@pytest.fixture
def clinic(db_path):
    """Three clients using lot HA-0923 (one in lower case with spaces, one amended to it),
    and their courses relative to today: due today, overdue, lapsed."""
    db = open_database(db_path)
    repo = Repository(db)
    today = date.today()
    ana = repo.add_client(make_client(first_name="Ana", last_name="López",
                                      phone="+1 555 0100"), by=BY)
    ben = repo.add_client(make_client(first_name="Ben", last_name="Wu", phone=None), by=BY)
    олег = repo.add_client(make_client(first_name="Олег", last_name="Петров",
                                       phone="+7 495 123 4567"), by=BY)
    courses = {}
    for client, name in ((ana, "due"), (ben, "overdue"), (олег, "lapsed")):
        courses[name] = repo.add_course(make_course(client.id, interval_weeks=6,
                                                    started_on=today - timedelta(weeks=40)),
                                        by=BY)
    when = datetime(2026, 3, 2, 10, 0)
    sessions = [
        _session(ana.id, when, serums=[("Hyaluronic acid 1%", "HA-0923")],
                 anaesthetic_lot="LX-1", course_id=courses["due"].id),
        _session(ben.id, when + timedelta(days=9), serums=[("HA", " ha-0923 ")],
                 cartridge_lot="CT-5", course_id=courses["overdue"].id),
        _session(олег.id, when + timedelta(days=20), serums=[("Peptides", "PP-2")],
                 course_id=courses["lapsed"].id),
    ]
    for s in sessions:
        repo.save_draft(s, by=BY)
    repo.sign_session(sessions[2].id, when + timedelta(days=20, hours=2), by=BY)
    signed = repo.get_session(sessions[2].id)
    repo.amend_session(replace(signed, serums=[Serum("Peptides", "HA-0923")]), by=BY,
                       reason="lot misread")
    # The course's latest sessions, relative to today.
    for client, weeks_ago, name in ((ana, 6, "due"), (ben, 7, "overdue"), (олег, 30, "lapsed")):
        day = today - timedelta(weeks=weeks_ago)
        repo.save_draft(_session(client.id, datetime(day.year, day.month, day.day, 11, 0),
                                 course_id=courses[name].id), by=BY)
    db.close()
    return {"path": db_path, "sessions": sessions, "today": today}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_recall_table(capsys, clinic):
    code, out, err = run(capsys, "--db", str(clinic["path"]), "lots", "recall", "ha-0923")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Date", "Client", "Phone", "Product", "Lot"]
    assert "2 Mar 2026" in lines[1] and "Ana López" in lines[1] and "+1 555 0100" in lines[1]
    assert "Hyaluronic acid 1% (serum)" in lines[1] and "(amended)" not in lines[1]
    assert "11 Mar 2026" in lines[2] and "Ben Wu" in lines[2] and "no phone" in lines[2]
    assert "22 Mar 2026" in lines[3] and "Олег Петров" in lines[3] and "(amended)" in lines[3]
    assert "3 sessions, 3 clients" in lines
    assert not ISO_DAY.search(out)
    assert "None" not in out


def test_recall_json_parses_back(capsys, clinic):
    code, out, _ = run(capsys, "--db", str(clinic["path"]), "lots", "recall", "HA-0923",
                       "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["client"], r["lot"], r["amended"], r["kind"]) for r in rows] == [
        ("Ana López", "HA-0923", False, "serum"), ("Ben Wu", " ha-0923 ", False, "serum"),
        ("Олег Петров", "HA-0923", True, "serum")]
    assert rows[0]["started_at"] == "2026-03-02T10:00"
    assert rows[0]["session_id"] == clinic["sessions"][0].id
    assert rows[1]["phone"] is None


def test_recall_kind_and_dates(capsys, clinic):
    path = str(clinic["path"])
    code, out, _ = run(capsys, "--db", path, "lots", "recall", "HA-0923", "--from", "2026-03-05",
                       "--to", "2026-03-11", "--json")
    assert [r["client"] for r in json.loads(out)] == ["Ben Wu"]
    code, out, _ = run(capsys, "--db", path, "lots", "recall", "lx-1", "--kind", "anaesthetic")
    assert "LMX4 (topical anaesthetic)" in out and "1 session, 1 client" in out
    code, out, _ = run(capsys, "--db", path, "lots", "recall", "LX-1", "--kind", "serum",
                       "--kind", "cartridge")
    assert code == 0
    assert out.strip() == "No session used lot LX-1 as serum or needle cartridge."


def test_unknown_lot(capsys, clinic):
    code, out, err = run(capsys, "--db", str(clinic["path"]), "lots", "recall", "NO-SUCH")
    assert code == 0
    assert out.strip() == "No session used lot NO-SUCH."
    # The old text of an amended lot is not found any more.
    code, out, err = run(capsys, "--db", str(clinic["path"]), "lots", "recall", "PP-2")
    assert out.strip() == "No session used lot PP-2."


@pytest.mark.parametrize("argv, words", [
    (["--from", "2026-13-01"], "argument --from: “2026-13-01” is not a day"),
    (["--to", "3 Nov"], "argument --to: “3 Nov” is not a day"),
    (["--kind", "needle"], "argument --kind: invalid choice"),
])
def test_recall_bad_options(capsys, clinic, argv, words):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(clinic["path"]), "lots", "recall", "HA-0923", *argv])
    assert exit_.value.code == 2
    assert words in capsys.readouterr().err


def test_recall_from_after_to(capsys, clinic):
    code, out, err = run(capsys, "--db", str(clinic["path"]), "lots", "recall", "HA-0923",
                         "--from", "2026-03-10", "--to", "2026-03-01")
    assert code == 1 and out == ""
    assert err.strip() == ("needledesk: --from 10 Mar 2026 is after --to 1 Mar 2026: no day "
                           "is between them")


def test_recall_on_a_missing_file_writes_nothing(capsys, tmp_path):
    missing = tmp_path / "nothing.db"
    code, _out, err = run(capsys, "--db", str(missing), "lots", "recall", "HA-0923")
    assert code == 1 and "no such database" in err
    assert not missing.exists()


def test_due_sections(capsys, clinic):
    code, out, err = run(capsys, "--db", str(clinic["path"]), "due")
    assert code == 0, err
    today = clinic["today"]
    head, lapsed = out.split("Lapsed (no session for more than 2 intervals past the due day):")
    assert head.startswith("Due or overdue:")
    assert "Ben Wu" in head and "overdue 7 days" in head
    assert "Ana López" in head and "due today" in head and day_text(today) in head
    assert head.index("Ben Wu") < head.index("Ana López")   # by due day
    assert "Олег Петров" not in head
    assert "Олег Петров" in lapsed and "+7 495 123 4567" in lapsed
    assert "lapsed (overdue 168 days)" in lapsed
    assert "3 of 4" in head   # the session due: two done of four
    assert out.strip().endswith("2 courses due or overdue, 1 lapsed")
    assert not ISO_DAY.search(out)


def test_due_reads_the_lapse_limit_from_the_settings(capsys, clinic):
    db = open_database(clinic["path"])
    Repository(db).save_settings(replace(ClinicSettings(), lapsed_after_intervals=5), by=BY)
    db.close()
    code, out, _ = run(capsys, "--db", str(clinic["path"]), "due", "--json")
    assert {r["client"]: r["state"] for r in json.loads(out)} == {
        "Ben Wu": "overdue", "Ana López": "due", "Олег Петров": "overdue"}


def test_due_json_and_within(capsys, clinic):
    path = str(clinic["path"])
    code, out, _ = run(capsys, "--db", path, "due", "--json")
    rows = json.loads(out)
    assert [(r["client"], r["state"], r["days_overdue"]) for r in rows] == [
        ("Олег Петров", "lapsed", 168), ("Ben Wu", "overdue", 7), ("Ana López", "due", 0)]
    assert rows[2]["due_on"] == clinic["today"].isoformat()
    assert rows[2]["sessions_done"] == 2 and rows[2]["planned_sessions"] == 4
    # A course due in 3 days shows only when asked for.
    db = open_database(clinic["path"])
    repo = Repository(db)
    cleo = repo.add_client(make_client(first_name="Cleo", last_name="Adams"), by=BY)
    course = repo.add_course(make_course(cleo.id, started_on=clinic["today"] + timedelta(days=3)),
                             by=BY)
    db.close()
    _, out, _ = run(capsys, "--db", path, "due", "--json")
    assert course.id not in out
    _, out, _ = run(capsys, "--db", path, "due", "--json", "--within", "3")
    assert [r["state"] for r in json.loads(out) if r["course_id"] == course.id] == ["upcoming"]
    _, out, _ = run(capsys, "--db", path, "due", "--within", "3")
    assert "Due or overdue, or due within 3 days:" in out and "in 3 days" in out
    assert out.strip().endswith("2 courses due or overdue, 1 due soon, 1 lapsed")


@pytest.mark.parametrize("value", ["-1", "abc", "366"])
def test_due_bad_within(capsys, clinic, value):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(clinic["path"]), "due", "--within", value])
    assert exit_.value.code == 2
    assert (f"argument --within: “{value}” is not a number of days from 0 to 365"
            in capsys.readouterr().err)


def test_nothing_due(capsys, db_path):
    open_database(db_path).close()
    code, out, _ = run(capsys, "--db", str(db_path), "due")
    assert code == 0
    assert out.strip() == "No course is due."
