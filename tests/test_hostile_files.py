"""Hostile files through the real command: `needledesk --db DB import FILE`.

Each is refused with exit status 1 and a message naming the place (in the file, or the file
itself), never "internal error" or a traceback, and the database keeps exactly what it held.
"""

from __future__ import annotations

import os

import pytest
from engines import argv, new_store, open_store
from factories import make_client

from needledesk.cli import main

HEAD = '{"format": "needledesk-exchange", "version": 1, "clients": ['
CLIENT = '{"id": "c1", "first_name": "Ana", "last_name": "López"'
SESSION = ('{"id": "s1", "started_at": "2026-11-20T10:30", "practitioner": "Jane Smith", '
           '"device": {"type": "pen"}, "areas": [{"area": "cheeks", %s}]}')


LATIN_1 = f"{HEAD}{CLIENT}}}]}}".encode("latin-1")  # "López" with ó as byte 0xF3


def client_file(extra: str) -> str:
    """A document with one client whose object continues with `extra` (JSON text)."""
    return f"{HEAD}{CLIENT}, {extra}}}]}}"


@pytest.fixture
def db(tmp_path, engine, request):
    """A database (the file, or `[postgresql]` a clinic server's address) that already holds
    one client, so "unchanged" means something."""
    where = new_store(engine, tmp_path / "clinic.db", request)
    repo = open_store(where)
    repo.add_client(make_client(), by="Jane Smith")
    repo.db.close()
    return where


def snapshot(path) -> dict[str, list]:
    repo = open_store(path)
    try:
        return {t: [tuple(r) for r in repo.db.execute(
                    f"SELECT * FROM {t} ORDER BY {'seq' if t == 'audit' else 'rowid'}")]
                for t in ("clients", "courses", "screenings", "sessions", "treated_areas",
                          "consents", "consent_templates", "audit")}
    finally:
        repo.db.close()


def refused(capsys, db, path, *words: str) -> str:
    before = snapshot(db)
    code = main(argv("--db", db, "import", path))
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    assert "internal error" not in err and "Traceback" not in err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert snapshot(db) == before
    return err


@pytest.mark.parametrize("text, words", [
    pytest.param(client_file('"notes": ' + "[" * 100_000 + "]" * 100_000),
                 ["Client 1, notes[0][0]", "nested more than 64 levels"], id="100k-nested"),
    pytest.param(client_file('"notes": ' + "{\"a\": " * 70 + "1" + "}" * 70),
                 ["Client 1, notes › a › a", "nested more than 64 levels"], id="70-nested-objects"),
    pytest.param(client_file('"fitzpatrick": ' + "9" * 5000),
                 ["Client 1, Fitzpatrick type", "5,000 digits"], id="5000-digit-int"),
    pytest.param(client_file('"sessions": [' + SESSION % ('"depth_mm": 1.' + "5" * 5000) + "]"),
                 ["Client 1, Session 1, Treated area 1: Depth", "characters long"],
                 id="5000-digit-float"),
    pytest.param(client_file('"sessions": [' + SESSION % '"depth_mm": 1e999' + "]"),
                 ["Client 1, Session 1, Treated area 1: Depth", "too large"], id="1e999"),
    pytest.param(client_file('"sessions": [' + SESSION % '"depth_mm": NaN' + "]"),
                 ["Client 1, Session 1, Treated area 1: Depth", "NaN is not a number"],
                 id="NaN"),
    pytest.param(client_file('"sessions": [' + SESSION % '"depth_mm": 3.5, "depth_mm": 1.0'
                             + "]"),
                 ["Client 1, Session 1, Treated area 1: Depth", "appears twice"],
                 id="duplicate-key"),
    pytest.param(f'{HEAD}{{"id": "c1", "first_name": "\\ud800", "last_name": "B"}}]}}',
                 ["Client 1, First name", "lone surrogate"], id="lone-surrogate"),
    pytest.param(f'{HEAD}{{"id": "c1", "first_name": "A", "last_name": "B", '
                 f'"\\udfff\\u0000": 1}}]}}',
                 ["Client 1, \\udfff\\u0000 is a key", "lone surrogate"], id="surrogate-key"),
    pytest.param(client_file('"notes": "' + "n" * 200_000 + '"'),
                 ["Client 1, Notes", "200,000 characters", "at most 20,000"],
                 id="huge-note"),
    pytest.param(f'{HEAD}{{"id": "c1", "first_name": "Ana\\u0000", "last_name": "\\u001b[2J"}}]}}',
                 ["Client 1, First name", "U+0000", "Client 1, Last name", "U+001B"],
                 id="nul-and-esc-in-names"),
])
def test_hostile_json_is_refused_by_place(capsys, db, tmp_path, text, words):
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    refused(capsys, db, path, *words)


@pytest.mark.parametrize("content, words", [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", ["byte 1", "not UTF-8"],
                 id="png"),
    pytest.param(LATIN_1, [f"byte {LATIN_1.index(0xF3) + 1}", "0xF3", "not UTF-8"],
                 id="latin-1"),
    pytest.param(os.urandom(4096).replace(b"{", b"x").replace(b"[", b"x"),
                 ["not a JSON file"], id="random-bytes"),
    pytest.param(b'{"format": "needledesk-exchange", "version": 1, "clients": [}',
                 ["not a JSON file", "line 1, column 61"], id="broken-json"),
])
def test_a_binary_or_non_utf8_file_is_refused_naming_the_file(capsys, db, tmp_path, content,
                                                              words):
    path = tmp_path / "records.json"
    path.write_bytes(content)
    err = refused(capsys, db, path, str(path), *words)
    assert len(err.strip().splitlines()) == 1


def test_dev_zero_is_refused_without_reading_it(capsys, db):
    refused(capsys, db, "/dev/zero", "/dev/zero: ", "not a file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(capsys, db, tmp_path):
    fifo = tmp_path / "records.json"
    os.mkfifo(fifo)
    refused(capsys, db, fifo, str(fifo), "not a file")


def test_a_folder_is_refused(capsys, db, tmp_path):
    folder = tmp_path / "records.json"
    folder.mkdir()
    refused(capsys, db, folder, str(folder), "a folder")


def test_an_oversized_file_is_refused_before_reading(capsys, db, tmp_path):
    big = tmp_path / "huge.json"
    with open(big, "wb") as handle:  # sparse: 300 MB long, next to nothing on disk
        handle.truncate(300 * 1024 * 1024)
    refused(capsys, db, big, str(big), "300 MB", "at most 256 MB")


# --- consents (issue 15): signatures drawn by no hand ---------------------------------------

PNG_B64 = "iVBORw0KGgo="   # the PNG signature alone: enough to pass for a picture's start


def consent_file(signature: str, answers: str = '{"agree": true}') -> str:
    """A document with one client and one consent signed on screen, the client's signature
    being `signature` (JSON text)."""
    consent = ('{"id": "k1", "kind": "treatment", "method": "on_screen", '
               '"signed_at": "2026-11-03T10:42", "practitioner": "Jane Smith", '
               '"title": "Consent", "body": "I agree.", '
               '"statements": [{"key": "agree", "text": "I agree to be treated."}], '
               f'"answers": {answers}, "client_signature": {signature}, '
               '"practitioner_signature": {"width": 300, "height": 100, '
               f'"strokes": [[[10, 10, 1.0, 0], [50, 40, 1.0, 16]]], "image_png": "{PNG_B64}"'
               '}}')
    return client_file(f'"consents": [{consent}]')


def pad(strokes: str, image: str = PNG_B64, width: str = "300") -> str:
    return f'{{"width": {width}, "height": 100, "strokes": {strokes}, "image_png": "{image}"}}'


def many_points(count: int) -> str:
    return "[[" + ", ".join(f"[{10 + i % 250}, {20 + i % 70}, 1.0, {i}]"
                            for i in range(count)) + "]]"


@pytest.mark.parametrize("text, words", [
    pytest.param(consent_file(pad("[[[10, 10, 1.0, 0]]]", image="%%% not base64 %%%")),
                 ["Client 1, Consent 1, Picture of the client's signature is not base64"],
                 id="bad-base64"),
    pytest.param(consent_file(pad(many_points(25_000))),
                 ["Client 1, Consent 1, Client's signature: more than 20,000 points"],
                 id="25000-points"),
    pytest.param(consent_file(pad(many_points(200_000))),
                 ["Client 1, Consent 1, Client's signature: more than 20,000 points"],
                 id="200000-points"),
    pytest.param(consent_file(pad("[[[10, 10, 2.0, 0], [20, 20, 1.0, 16]]]")),
                 ["Client 1, Consent 1, Client's signature has 1 point(s) outside the pad or "
                  "with a pressure outside 0–1"], id="pressure-2"),
    pytest.param(consent_file(pad("[[[10, 10, 1.0, 0], [5000, -300, 1.0, 16]]]")),
                 ["Client 1, Consent 1, Client's signature has 1 point(s) outside the pad"],
                 id="outside-the-pad"),
    pytest.param(consent_file(pad("[[[10, 10, 1.0, 0]]]", width="1e999")),
                 ["Client 1, Consent 1, Client's signature", "too large"], id="1e999-pad"),
    pytest.param(consent_file(pad("[[[10, 10, 1.0, 0]]]"), answers='{"agree": false}'),
                 ["Client 1, Consent 1, Statements ticked: “I agree to be treated.” must be "
                  "ticked to sign"], id="required-unticked"),
])
def test_a_hostile_consent_is_refused_by_place(capsys, db, tmp_path, text, words):
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    err = refused(capsys, db, path, *words)
    assert "client_signature" not in err and "answers." not in err


def test_the_same_consent_drawn_by_a_hand_imports(capsys, db, tmp_path):
    """The hostile consents above differ from this one by the one thing each names."""
    path = tmp_path / "fine.json"
    path.write_text(consent_file(pad("[[[10, 10, 0.5, 0], [60, 30, 0.75, 16]]]")),
                    encoding="utf-8")
    assert main(argv("--db", db, "import", path)) == 0, capsys.readouterr().err
    assert len(snapshot(db)["consents"]) == 1
