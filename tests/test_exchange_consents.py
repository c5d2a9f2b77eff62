"""Consents, consent forms and face-chart zones in the exchange format (issue 15): a clinic's
consents (both signatures, strokes and picture), its form versions and its areas' zones
survive export -> import into an empty file, and export again the same; files from before
consents import unchanged (a screening's tick is read as a paper consent); hostile consents
are refused by place in plain words with nothing written."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from engines import store_args
from factories import (
    TINY_PNG,
    make_client,
    make_consent,
    make_screening,
    make_session,
    make_signature,
)

from needledesk.domain.consent_forms import default_template
from needledesk.domain.labels import problem_text
from needledesk.domain.model import ConsentKind, ConsentMethod, ConsentStatement
from needledesk.errors import ValidationError
from needledesk.exchange import decode_document, parse_json
from needledesk.store.check import check_database
from needledesk.store.repository import Repository
from needledesk.transfer import export_text, import_document, import_file

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 12, 1)
BY = "Jane Smith"
TABLES = ("clients", "sessions", "treated_areas", "screenings", "consents",
          "consent_templates", "audit")


def _clinic(repo: Repository) -> dict[str, str]:
    """Ana: a screening with its consent ticked, a treatment consent signed on screen under
    the shipped form (version 1), a photo consent allowing two uses, and a second treatment
    consent under the form's version 2; a signed session whose areas sit in zones. Ben: a
    consent signed on paper and a draft session with a zone."""
    ana = repo.add_client(make_client(), by=BY)
    repo.add_screening(make_screening(ana.id), by=BY)
    form = default_template(ConsentKind.TREATMENT)
    first = repo.add_consent(make_consent(ana.id, form, signed_at=datetime(2026, 11, 3, 10, 42)),
                             by=BY, template=form, today=TODAY)
    photo = default_template(ConsentKind.PHOTO)
    repo.add_consent(make_consent(
        ana.id, photo, signed_at=datetime(2026, 11, 3, 10, 50),
        answers={s.key: s.key in ("photo_use_record", "photo_use_shown")
                 for s in photo.statements},
        client_signature=make_signature([(5.5, 7.25), (40, 60)], [(50, 10), (52, 90)],
                                        width=420.5, height=140)),
        by=BY, template=photo, today=TODAY)
    v2 = repo.add_template_version(
        ConsentKind.TREATMENT, form.title, form.body,
        [*form.statements, ConsentStatement("no_sunbed", "I will avoid sunbeds for two weeks.")],
        by=BY)
    repo.add_consent(make_consent(ana.id, v2, signed_at=datetime(2026, 11, 20, 10, 0)), by=BY,
                     today=TODAY)
    session = make_session(ana.id)
    session.areas[0].zone = "cheeks"
    session.areas[1].zone = "forehead"
    repo.save_draft(session, by=BY)
    repo.sign_session(session.id, datetime(2026, 11, 20, 11, 10), by=BY)

    ben = repo.add_client(make_client(first_name="Ben", last_name="Okafor",
                                      phone="+1 555 0199", email=None), by=BY)
    repo.add_consent(make_consent(ben.id, method=ConsentMethod.ON_PAPER, client_signature=None,
                                  practitioner_signature=None, template_id=None,
                                  template_version=None, statements=[], answers={}, body="",
                                  title="Treatment consent", notes="paper form in the file",
                                  signed_at=datetime(2026, 11, 24, 9, 0)), by=BY, today=TODAY)
    draft = make_session(ben.id, started_at=datetime(2026, 11, 25, 14, 0))
    draft.areas[0].zone = "perioral"
    repo.save_draft(draft, by=BY)
    return {"ana": ana.id, "ben": ben.id, "first": first.id, "form": form.id,
            "photo": photo.id, "v2": v2.id, "session": session.id}


@pytest.fixture
def clinic(repo):
    return repo, _clinic(repo)


def _counts(repo: Repository) -> dict[str, int]:
    return {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _document(repo: Repository, client_id: str | None = None) -> dict:
    return parse_json(export_text(repo, client_id))


def _strip(text: str) -> str:
    return re.sub(r'"exported_at": "[^"]*"', '"exported_at": ""', text)


def _refused(repo: Repository, document: dict) -> list[str]:
    """The import refused with nothing written; the problems as the practitioner reads them,
    each in plain words (no dotted place, bracket, "None" or ISO date)."""
    before = _counts(repo)
    with pytest.raises(ValidationError) as refused:
        import_document(repo, document, by=BY, today=TODAY)
    assert _counts(repo) == before
    texts = [problem_text(p) for p in refused.value.problems]
    for text in texts:
        assert not re.search(r"\[|\bNone\b|\w\.\w|\d{4}-\d\d-\d\d|\w_\w", text), text
    return texts


# --- round trip ------------------------------------------------------------------------------

def test_a_clinic_with_consents_and_zones_round_trips_byte_for_byte(clinic, empty):
    repo, ids = clinic
    text = export_text(repo)
    document = json.loads(text)
    ana = next(c for c in document["clients"] if c["id"] == ids["ana"])
    first, photo, second = ana["consents"]
    assert first["id"] == ids["first"] and first["template_version"] == 1
    assert first["method"] == "on_screen" and first["signed_at"] == "2026-11-03T10:42"
    signature = photo["client_signature"]
    assert (signature["width"], signature["height"]) == (420.5, 140)
    # Points as stored: to a tenth of a point (7.25 -> 7.2), pressure to a thousandth.
    assert signature["strokes"] == [[[5.5, 7.2, 1.0, 0], [40, 60, 1.0, 16]],
                                    [[50, 10, 1.0, 0], [52, 90, 1.0, 16]]]
    assert base64.b64decode(signature["image_png"]) == TINY_PNG
    assert photo["answers"] == {"photo_use_record": True, "photo_use_shown": True,
                                "photo_use_teaching": False, "photo_use_marketing": False}
    assert second["template_id"] == ids["v2"] and len(second["statements"]) == 7
    (session,) = ana["sessions"]
    assert [a["zone"] for a in session["areas"]] == ["cheeks", "forehead"]
    ben = next(c for c in document["clients"] if c["id"] == ids["ben"])
    assert ben["consents"][0]["client_signature"] is None
    assert [(t["kind"], t["version"]) for t in document["consent_templates"]] == [
        ("photo", 1), ("treatment", 1), ("treatment", 2)]

    report = import_document(empty, parse_json(text), by="Sam Lee", today=TODAY)
    assert report.result.added["consents"] == 4
    assert report.result.added["consent form versions"] == 3
    assert list(empty.load_records()) == list(repo.load_records())
    assert empty.consent_templates() == repo.consent_templates()
    assert empty.get_session(ids["session"]).areas[0].zone == "cheeks"
    assert check_database(empty.db) == []
    actions = empty.db.execute("SELECT kind, action, count(*) FROM audit WHERE kind IN "
                               "('consent', 'consent_template') GROUP BY kind, action"
                               ).fetchall()
    assert sorted(actions) == [("consent", "import", 4), ("consent_template", "import", 3)]

    # Exported again: the same file, byte for byte (but for when it was exported); the
    # same file imported again writes nothing.
    assert _strip(export_text(empty)) == _strip(text)
    again = import_document(empty, parse_json(text), by="Sam Lee", today=TODAY)
    assert sum(again.result.added.values()) == 0
    assert again.result.skipped["consents"] == 4
    assert check_database(empty.db) == []


def test_one_clients_export_carries_the_form_versions_of_their_consents(clinic):
    repo, ids = clinic
    ana = _document(repo, ids["ana"])
    assert sorted(t["id"] for t in ana["consent_templates"]) == sorted(
        [ids["form"], ids["photo"], ids["v2"]])
    ben = _document(repo, ids["ben"])   # a paper consent names no form
    assert "consent_templates" not in ben


def test_a_client_without_consents_exports_no_consents_key(repo):
    client = repo.add_client(make_client(), by=BY)
    repo.save_draft(make_session(client.id), by=BY)
    document = _document(repo)
    assert "consents" not in document["clients"][0]
    assert "consent_templates" not in document
    assert all("zone" not in a for a in document["clients"][0]["sessions"][0]["areas"])


# --- files from before consents --------------------------------------------------------------

@pytest.mark.parametrize("name", ["exchange-before-catalogue.json",
                                  "exchange-before-not-applicable.json"])
def test_a_file_from_before_consents_imports_unchanged(empty, name):
    path = FIXTURES / name
    original = json.loads(path.read_text(encoding="utf-8"))
    assert "consent_templates" not in original
    assert all("consents" not in c for c in original["clients"])
    assert all("zone" not in a for c in original["clients"] for s in c["sessions"]
               for a in s["areas"])
    ticked = [(c["id"], s["id"]) for c in original["clients"] for s in c["screenings"]
              if s["consent_signed"]]
    assert ticked, "the fixture should hold a screening with its consent ticked"

    import_file(empty, path, by=BY, today=TODAY)
    assert check_database(empty.db) == []
    assert empty.db.execute("SELECT count(*) FROM consents").fetchone()[0] == 0
    assert empty.consent_templates() == []
    for client_id, screening_id in ticked:
        carried = [c for c in empty.consents(client_id, carried=True)
                   if c.carried_from == screening_id]
        assert len(carried) == 1 and carried[0].method == ConsentMethod.ON_PAPER
    exported = _document(empty)
    assert "consent_templates" not in exported
    assert all("consents" not in c for c in exported["clients"])
    for before, after in zip(original["clients"], exported["clients"], strict=True):
        assert [s["consent_signed"] for s in before["screenings"]] == \
            [s["consent_signed"] for s in after["screenings"]]
        assert [[{k: v for k, v in a.items() if k != "zone"} for a in s["areas"]]
                for s in after["sessions"]] == [[a for a in s["areas"]]
                                                 for s in before["sessions"]]


# --- hostile consents ------------------------------------------------------------------------

def _one_consent(repo: Repository) -> tuple[dict, dict]:
    """An exported document of one client with one consent signed on screen (stored in
    `repo`'s own file: the import target is another, empty file) and that consent."""
    client = repo.add_client(make_client(), by=BY)
    form = default_template(ConsentKind.TREATMENT)
    repo.add_consent(make_consent(client.id, form), by=BY, template=form, today=TODAY)
    document = _document(repo)
    return document, document["clients"][0]["consents"][0]


def _points(count: int) -> list[list[float]]:
    return [[10 + i % 200, 20 + i % 60, 1.0, i] for i in range(count)]


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(lambda c: c["client_signature"].update(image_png="not base64!!"),
                 ["Client 1, Consent 1, Picture of the client's signature is not base64"],
                 id="bad-base64"),
    pytest.param(lambda c: c["client_signature"].update(
        image_png=base64.b64encode(b"GIF89a....").decode()),
                 ["Client 1, Consent 1, Picture of the client's signature: the signature's "
                  "picture is not a PNG image"], id="not-a-png"),
    pytest.param(lambda c: c["client_signature"].update(strokes=[_points(25_000)]),
                 ["Client 1, Consent 1, Client's signature: more than 20,000 points"],
                 id="25000-points"),
    pytest.param(lambda c: c["client_signature"].update(strokes=[[[5, 5, 1.0, 0]]] * 501),
                 ["Client 1, Consent 1, Client's signature: more than 500 strokes"],
                 id="501-strokes"),
    pytest.param(lambda c: c["practitioner_signature"]["strokes"][0][0].__setitem__(2, 2.0),
                 ["Client 1, Consent 1, Practitioner's signature has 1 point(s) outside the "
                  "pad or with a pressure outside 0–1"], id="pressure-2"),
    pytest.param(lambda c: c["client_signature"]["strokes"][0].extend(
        [[900, 20, 1.0, 80], [-50, 20, 1.0, 96]]),
                 ["Client 1, Consent 1, Client's signature has 2 point(s) outside the pad or "
                  "with a pressure outside 0–1"], id="outside-the-pad"),
    pytest.param(lambda c: c["client_signature"].update(width=100_000),
                 ["Client 1, Consent 1, Client's signature: the signature pad's size must be "
                  "within 1–4000 points"], id="huge-pad"),
    pytest.param(lambda c: c["client_signature"]["strokes"][0].__setitem__(0, [1, 2]),
                 ["Client 1, Consent 1, Client's signature: stroke 1, point 1 must be four "
                  "numbers (x, y, pressure and milliseconds)"], id="short-point"),
    pytest.param(lambda c: c["client_signature"]["strokes"].append("a scribble"),
                 ["Client 1, Consent 1, Client's signature: stroke 2 must be a list of "
                  "points, not a string"], id="stroke-not-a-list"),
    pytest.param(lambda c: c.update(colour="blue"),
                 ["Client 1, Consent 1, colour is not a known key (a typo would lose data)"],
                 id="unknown-key"),
    pytest.param(lambda c: c["answers"].update(aftercare=False),
                 ["Client 1, Consent 1, Statements ticked: “I will follow the aftercare I am "
                  "given.” must be ticked to sign"], id="required-unticked"),
    pytest.param(lambda c: c["answers"].update(bonus=True),
                 ["Client 1, Consent 1, Statements ticked: “bonus” is not a statement of this "
                  "form"], id="unknown-answer"),
    pytest.param(lambda c: c["answers"].update(aftercare="yes"),
                 ['Client 1, Consent 1, Statements ticked: "yes" is not true or false'],
                 id="answer-not-bool"),
    pytest.param(lambda c: c.update(client_signature=None),
                 ["Client 1, Consent 1, Client's signature: the client has not signed"],
                 id="unsigned"),
    pytest.param(lambda c: c.update(kind="tattoo"),
                 ['Client 1, Consent 1, Consent to: "tattoo" is not one of treatment, photo'],
                 id="unknown-kind"),
    pytest.param(lambda c: c.update(signed_at="2027-06-01T10:00"),
                 ["Client 1, Consent 1, Signed at cannot be in the future"], id="future"),
])
def test_a_hostile_consent_is_refused_by_place_and_nothing_is_written(repo, empty, change,
                                                                     expected):
    document, consent = _one_consent(repo)
    change(consent)
    texts = _refused(empty, document)
    assert texts == expected, texts


def test_a_consent_stored_with_other_content_is_refused(clinic, empty):
    repo, ids = clinic
    import_document(empty, _document(repo), by=BY, today=TODAY)
    document = _document(repo)
    consent = next(c for c in document["clients"][0]["consents"] if c["id"] == ids["first"])
    consent["notes"] = "added afterwards"
    texts = _refused(empty, document)
    assert texts == ["Client 1, Consent 1: differs from the stored consent to microneedling "
                     "treatment with the same id: a signed consent is locked and cannot be "
                     "changed; if the client's consent has changed, record a new consent"]
    assert empty.get_consent(ids["first"]).notes == ""


def test_a_form_version_clashing_with_a_stored_number_is_not_stored(repo, empty):
    """Another clinic's version 1 of the treatment form: its consents keep their own copy of
    its text, and the form stored here as version 1 stays the one it is."""
    ours = default_template(ConsentKind.TREATMENT)
    client = empty.add_client(make_client(first_name="Mei", last_name="Tanaka"), by=BY)
    empty.add_consent(make_consent(client.id, ours), by=BY, template=ours, today=TODAY)

    theirs = default_template(ConsentKind.TREATMENT)
    theirs.body = "Another clinic's wording of the treatment form."
    other = repo.add_client(make_client(), by=BY)
    signed = repo.add_consent(make_consent(other.id, theirs), by=BY, template=theirs,
                              today=TODAY)
    report = import_document(empty, _document(repo), by=BY, today=TODAY)
    assert report.result.added["consents"] == 1
    assert report.result.added.get("consent form versions", 0) == 0
    assert report.result.notes == [
        f"“{theirs.title}” version 1 from the file was not added to the clinic's treatment "
        "consent forms: this clinic has its own version 1. The consents signed under it keep "
        "its text as they were signed."]
    assert [(t.id, t.body) for t in empty.consent_templates()] == [(ours.id, ours.body)]
    assert empty.get_consent(signed.id).body == theirs.body   # as the client signed it
    assert check_database(empty.db) == []


def test_a_form_version_stored_with_other_content_is_refused(clinic, empty):
    repo, ids = clinic
    import_document(empty, _document(repo), by=BY, today=TODAY)
    document = _document(repo)
    form = next(t for t in document["consent_templates"] if t["id"] == ids["form"])
    form["title"] = "Consent to treatment"
    index = document["consent_templates"].index(form) + 1
    texts = _refused(empty, document)
    assert texts == [f"Consent form {index}: “Consent to treatment” version 1 differs from "
                     "the stored form with the same id"]


def test_a_hostile_form_version_is_refused_by_place(clinic, empty):
    repo, _ids = clinic
    document = _document(repo)
    photo = next(t for t in document["consent_templates"] if t["kind"] == "photo")
    photo["statements"] = [s for s in photo["statements"] if s["key"] != "photo_use_marketing"]
    photo["version"] = 0
    index = document["consent_templates"].index(photo) + 1
    texts = _refused(empty, document)
    assert texts == [f"Consent form {index}, Form version must be a whole number from 1",
                     f"Consent form {index}, Statements: a photo consent names each use: "
                     "missing Used in the clinic's marketing"]


def test_a_zone_the_chart_does_not_know_is_refused(clinic, empty):
    repo, _ids = clinic
    document = _document(repo)
    document["clients"][0]["sessions"][0]["areas"][0]["zone"] = "left elbow"
    texts = _refused(empty, document)
    assert texts == ['Client 1, Session 1, Treated area 1: Face-chart zone: "left elbow" is '
                     "not a zone of the face chart (scalp, forehead, periorbital, nose, "
                     "cheeks, perioral, chin, jawline, neck, decolletage)"]


def test_decoding_keeps_every_consent_field(clinic):
    repo, ids = clinic
    document = _document(repo)
    decoded = decode_document(copy.deepcopy(document), TODAY)
    assert decoded.problems == []
    stored = {c.id: c for r in repo.load_records() for c in r.consents}
    for record in decoded.records:
        for consent in record.consents:
            assert consent == stored[consent.id]
    assert decoded.consent_templates == repo.consent_templates()


def test_the_command_says_how_many_consents_and_form_versions_it_imported(clinic, tmp_path,
                                                                          capsys):
    from needledesk.cli import main

    repo, _ids = clinic
    path = tmp_path / "clinic.json"
    path.write_text(export_text(repo), encoding="utf-8")
    target = tmp_path / "other.db"
    assert main(["--db", str(target), "import", str(path)]) == 0
    out, _err = capsys.readouterr()
    assert out == ("imported: 2 clients, 0 courses, 1 screening, 2 sessions, 4 consents, "
                   "3 consent form versions\n")
    assert main(["--db", str(target), "import", str(path)]) == 0
    out, _err = capsys.readouterr()
    assert out.endswith("(already present: 2 clients, 0 courses, 1 screening, 2 sessions, "
                        "4 consents)\n")


def test_the_command_says_when_a_form_version_was_not_stored(repo, empty, tmp_path, capsys):
    """`needledesk import` prints the note in words, on its own line, after the counts'
    warnings."""
    from needledesk.cli import main

    ours = default_template(ConsentKind.TREATMENT)
    mine = empty.add_client(make_client(first_name="Mei", last_name="Tanaka"), by=BY)
    empty.add_consent(make_consent(mine.id, ours), by=BY, template=ours, today=TODAY)
    theirs = default_template(ConsentKind.TREATMENT)
    theirs.body = "Another clinic's wording of the treatment form."
    other = repo.add_client(make_client(), by=BY)
    repo.add_consent(make_consent(other.id, theirs), by=BY, template=theirs, today=TODAY)
    file = tmp_path / "other-clinic.json"
    file.write_text(export_text(repo), encoding="utf-8")
    where = store_args(empty)
    empty.db.close()
    assert main([*where, "import", str(file)]) == 0
    out, err = capsys.readouterr()
    assert "1 consent" in out
    assert (f"note: “{theirs.title}” version 1 from the file was not added to the clinic's "
            "treatment consent forms: this clinic has its own version 1.") in err
