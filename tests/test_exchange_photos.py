"""The exchange format's version 2: photos carried as files beside the JSON in a zip.

Real photo files (tests/photo_helpers.py) taken into a real clinic store (a file, or a
clinic server's database), exported to a real zip, imported into another; hostile zips built
member by member with `zipfile` and each refused with nothing written (no rows, no picture
in the photo store).
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from needledesk import transfer
from needledesk.domain.labels import problem_text
from needledesk.domain.model import PhotoView
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.exchange import FormatError, decode_document, parse_json
from needledesk.store.check import check_file
from needledesk.store.photo_files import FolderPhotoStore, photo_folder
from needledesk.store.targets import (
    ProtectedTargetError,
    photo_folders,
    refuse_protected_target,
)
from needledesk.transfer import (
    ZIP_JSON,
    ZipRefusedError,
    export_json,
    export_zip,
    import_document,
    import_file,
)
from tests.photo_helpers import (
    change_picture,
    client_with_session,
    make_jpeg,
    make_png,
    stored_pictures,
)

BY = "Jane Smith"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def clinic(repo):
    """A client with a session, a JPEG turned by its EXIF (front) and a PNG close-up."""
    client, session = client_with_session(repo)
    front = repo.add_photo(session.id, make_jpeg(64, 48, orientation=6), view=PhotoView.FRONT,
                           by=BY).photo
    close = repo.add_photo(session.id, make_png(), view=PhotoView.CLOSE_UP,
                           label="left cheek scar", by=BY).photo
    return repo, client, session, [front, close]


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(path, members: list[tuple[str | zipfile.ZipInfo, bytes]],
         compression: int = zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zipfile warns of a duplicate name: wanted here
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def _nothing_written(target) -> None:
    """No record row and no picture in the photo store (the folder, or the server)."""
    for table in ("clients", "sessions", "consents", "photos"):
        assert target.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert stored_pictures(target) == []
    if target.on_server:
        return
    folder = photo_folder(target.path)
    assert not folder.exists() or list(FolderPhotoStore(folder).hashes()) == []
    assert not folder.exists() or FolderPhotoStore(folder).strays() == []


def _lines(exc: ValidationError) -> list[str]:
    return [problem_text(p, kind="photo") for p in exc.problems]


# --- round trip -----------------------------------------------------------------------------


def test_a_client_with_photos_round_trips_through_a_zip(clinic, empty, tmp_path):
    repo, client, _session, photos = clinic
    path = tmp_path / "clinic.zip"

    exported = export_zip(repo, path)

    assert exported.photos == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(tmp_path.glob(".clinic.zip.*")) == []   # no temporary file left
    members = _members(path)
    names = {f"photos/{p.sha256}{'.jpg' if p.media_type == 'image/jpeg' else '.png'}"
             for p in photos}
    assert set(members) == {ZIP_JSON} | names
    for photo in photos:   # each picture is the stored bytes, named by their hash
        name = next(n for n in names if photo.sha256 in n)
        assert hashlib.sha256(members[name]).hexdigest() == photo.sha256
        assert members[name] == repo.photo_bytes(photo)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(ZIP_JSON).compress_type == zipfile.ZIP_DEFLATED
        assert {archive.getinfo(n).compress_type for n in names} == {zipfile.ZIP_STORED}
    document = json.loads(members[ZIP_JSON])
    assert document["version"] == 2
    assert [p["id"] for p in document["clients"][0]["photos"]] == [p.id for p in photos]

    report = import_file(empty, path, by="Bob Jones")

    assert report.result.added["photos"] == 2 and report.result.added["clients"] == 1
    carried = empty.photos(client_id=client.id)
    assert carried == photos   # every field: view, label, hashes, sizes, times, consent
    for before, after in zip(photos, carried, strict=True):
        assert empty.photo_bytes(after) == repo.photo_bytes(before)
    assert carried[1].label == "left cheek scar" and carried[1].media_type == "image/png"
    checked = check_file(empty.db, db_path=None if empty.on_server else empty.path)
    assert checked.problems == [], checked.problems
    assert not any("photo" in w for w in checked.warnings), checked.warnings

    again = import_file(empty, path, by="Bob Jones")   # the same zip twice: a no-op
    assert not any(again.result.added.values())
    assert again.result.skipped["photos"] == 2
    assert len(empty.photos(client_id=client.id)) == 2


def test_a_removed_photo_leaves_the_export(clinic, tmp_path):
    repo, _client, _session, photos = clinic
    repo.remove_photo(photos[0].id, "taken of the wrong client", by=BY)
    path = tmp_path / "clinic.zip"
    assert export_zip(repo, path).photos == 1
    members = _members(path)
    assert not any(photos[0].sha256 in name for name in members)
    document = json.loads(members[ZIP_JSON])
    assert [p["id"] for p in document["clients"][0]["photos"]] == [photos[1].id]


def test_one_clients_zip_carries_only_their_photos(clinic, tmp_path):
    repo, client, _session, photos = clinic
    other, session = client_with_session(repo)
    theirs = repo.add_photo(session.id, make_jpeg(seed=5), view=PhotoView.FRONT, by=BY).photo
    path = tmp_path / "one.zip"
    assert export_zip(repo, path, client.id).photos == 2
    members = _members(path)
    assert not any(theirs.sha256 in name for name in members)
    assert [c["id"] for c in json.loads(members[ZIP_JSON])["clients"]] == [client.id]


def test_a_picture_changed_in_the_store_stops_the_export(clinic, tmp_path):
    repo, _client, _session, photos = clinic
    change_picture(repo, photos[0].sha256, b"other")
    path = tmp_path / "clinic.zip"
    with pytest.raises(NeedleDeskError, match="differs from what was stored"):
        export_zip(repo, path)
    assert not path.exists() and list(tmp_path.glob(".clinic.zip.*")) == []


# --- the JSON alone ---------------------------------------------------------------------------


def test_a_json_export_leaves_the_photos_out_and_says_so(clinic, empty, tmp_path):
    repo, client, _session, _photos = clinic
    path = tmp_path / "clinic.json"
    _text, exported = export_json(repo, path)
    assert exported.note() == ("2 photos were not written: a .json file carries records only. "
                               "Export to a file ending in .zip to carry the photos too.")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == 1 and "photos" not in document["clients"][0]
    import_file(empty, path, by=BY)   # the records import, without photos
    assert empty.get_client(client.id).id == client.id
    assert empty.photos(client_id=client.id) == []


def test_a_json_naming_photos_is_refused_without_its_zip(clinic, empty, tmp_path):
    repo, _client, _session, _photos = clinic
    export_zip(repo, tmp_path / "clinic.zip")
    document = parse_json(_members(tmp_path / "clinic.zip")[ZIP_JSON])
    with pytest.raises(ValidationError) as info:
        import_document(empty, document, by=BY)
    assert _lines(info.value)[0].startswith("Client 1, Photo 1, Picture file: photos/")
    assert "a .json file carries no photos; import the .zip" in _lines(info.value)[0]
    _nothing_written(empty)


# --- version 1 ----------------------------------------------------------------------------


def test_a_version_1_file_imports_as_before(empty):
    path = FIXTURES / "exchange-before-catalogue.json"
    original = json.loads(path.read_text(encoding="utf-8"))
    assert original["version"] == 1
    report = import_file(empty, path, by=BY)
    assert report.result.added["sessions"] == 2
    again = json.loads(transfer.export_text(empty))
    assert again["version"] == 1
    assert again["clients"] == original["clients"]


def test_a_version_1_file_carrying_photos_is_refused_by_place(clinic, empty, tmp_path):
    repo, _client, _session, _photos = clinic
    export_zip(repo, tmp_path / "clinic.zip")
    members = _members(tmp_path / "clinic.zip")
    document = json.loads(members[ZIP_JSON]) | {"version": 1}
    path = _zip(tmp_path / "v1.zip", [(ZIP_JSON, json.dumps(document).encode()),
                                      *((n, d) for n, d in members.items() if n != ZIP_JSON)])
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    assert _lines(info.value) == ["Client 1, Photos is new in version 2 of the format: a "
                                  "version 1 file cannot carry photos"]
    _nothing_written(empty)


# --- the photos' records -------------------------------------------------------------------


def _good(clinic, tmp_path) -> tuple[dict, dict[str, bytes]]:
    repo = clinic[0]
    export_zip(repo, tmp_path / "good.zip")
    members = _members(tmp_path / "good.zip")
    return json.loads(members[ZIP_JSON]), members


def _rezipped(tmp_path, document: dict, members: dict[str, bytes], name="edited.zip"):
    return _zip(tmp_path / name, [(ZIP_JSON, json.dumps(document).encode()),
                                  *((n, d) for n, d in members.items() if n != ZIP_JSON)])


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(lambda p, doc: p.update(view="sideways"),
                 'Client 1, Photo 1, View: "sideways" is not one of front, left_45, right_45, '
                 "left_profile, right_profile, close_up", id="view"),
    pytest.param(lambda p, doc: p.update(width=5000),
                 "Client 1, Photo 1, Width must be from 1 to 4096 pixels", id="width"),
    pytest.param(lambda p, doc: p.update(session_id="elsewhere"),
                 "Client 1, Photo 1, Session: names a session that is not in this client's "
                 "record", id="session"),
    pytest.param(lambda p, doc: p.update(id=doc["clients"][0]["sessions"][0]["id"]),
                 "is already used at Client 1, Session 1, Record id", id="same-id-as-a-session"),
    pytest.param(lambda p, doc: p.update(file="photos/x.jpg"),
                 'Client 1, Photo 1, Picture file: "photos/x.jpg" is not where this photo\'s '
                 "picture goes", id="file"),
    pytest.param(lambda p, doc: p.update(colour="red"),
                 "Client 1, Photo 1, colour is not a known key", id="unknown-key"),
])
def test_a_photos_record_is_checked_by_place(clinic, empty, tmp_path, edit, expected):
    document, members = _good(clinic, tmp_path)
    edit(document["clients"][0]["photos"][0], document)
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    lines = _lines(info.value)
    assert any(expected in line for line in lines), lines
    assert not any("clients[" in line or "None" in line for line in lines), lines
    _nothing_written(empty)


def test_a_stored_photo_with_the_same_id_and_other_content_refuses_the_import(clinic, empty,
                                                                             tmp_path):
    document, members = _good(clinic, tmp_path)
    import_file(empty, tmp_path / "good.zip", by=BY)
    document["clients"][0]["photos"][0]["view"] = "left_45"
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    assert "Client 1, Photo 1: differs from the stored photo with the same id" in \
        _lines(info.value)
    assert [p.view for p in empty.photos(client_id=document["clients"][0]["id"])] == [
        PhotoView.FRONT, PhotoView.CLOSE_UP]


# --- hostile and broken zips ------------------------------------------------------------------


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(("extra", "expected"), [
    pytest.param(("/etc/cron.d/x", b"x"), "“/etc/cron.d/x” has an absolute path",
                 id="absolute"),
    pytest.param(("../outside.txt", b"x"), "“../outside.txt” leads out of the zip's folder",
                 id="dot-dot"),
    pytest.param(("photos/../../x.jpg", b"x"), "leads out of the zip's folder", id="deep-dot-dot"),
    pytest.param(("C:/Windows/x.jpg", b"x"), "“C:/Windows/x.jpg” names a drive", id="drive"),
    pytest.param(("photos\\x.jpg", b"x"), "has a backslash in its name", id="backslash"),
    pytest.param((_symlink("photos/" + "a" * 64 + ".jpg"), b"/etc/passwd"),
                 "is a symbolic link", id="symlink"),
    pytest.param(("notes.txt", b"hello"), "“notes.txt” is not part of an exchange file",
                 id="other-file"),
    pytest.param(("photos/sub/", b""), "is a folder", id="folder"),
])
def test_a_hostile_member_refuses_the_whole_zip(clinic, empty, tmp_path, extra, expected):
    document, members = _good(clinic, tmp_path)
    path = _zip(tmp_path / "hostile.zip", [*members.items(), extra])
    with pytest.raises(ZipRefusedError) as info:
        import_file(empty, path, by=BY)
    message = str(info.value)
    assert expected in message and message.endswith("nothing was imported")
    assert "\n" not in message
    _nothing_written(empty)


def test_an_encrypted_member_refuses_the_zip(clinic, empty, tmp_path):
    _document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n != ZIP_JSON)
    path = _zip(tmp_path / "locked.zip", list(members.items()))
    # zipfile writes no encryption: set the "encrypted" flag in both of the member's headers
    raw = bytearray(path.read_bytes())
    name = picture.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            if raw[start + name_at:start + name_at + len(name)] == name:
                raw[start + flag_at] |= 0x1
            start += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(ZipRefusedError, match=f"“{picture}” is encrypted"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


def test_a_name_twice_refuses_the_zip(clinic, empty, tmp_path):
    _document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n != ZIP_JSON)
    path = _zip(tmp_path / "twice.zip", [*members.items(), (picture, b"other bytes")])
    with pytest.raises(ZipRefusedError, match="appears twice in the zip"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


def test_a_zip_bomb_is_refused_before_it_is_read(clinic, empty, tmp_path):
    _document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n != ZIP_JSON)
    bomb = b"\0" * (8 * 1024 * 1024)    # deflates about a thousand times
    path = _zip(tmp_path / "bomb.zip",
                [*((n, d) for n, d in members.items() if n != picture), (picture, bomb)],
                compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    with pytest.raises(ZipRefusedError, match="times its compressed size .* zip bomb"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


def test_a_member_larger_than_a_photo_may_be_is_refused(clinic, empty, tmp_path, monkeypatch):
    _document, members = _good(clinic, tmp_path)
    path = _zip(tmp_path / "big.zip", list(members.items()))
    monkeypatch.setattr(transfer, "PHOTO_MAX_BYTES", 100)   # the pictures are 120 to 800 B
    with pytest.raises(ZipRefusedError, match=r"expands to 0 MB; at most 0 MB allowed"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


def test_too_many_members_or_too_much_in_all_is_refused(clinic, empty, tmp_path, monkeypatch):
    _document, members = _good(clinic, tmp_path)
    path = _zip(tmp_path / "many.zip", list(members.items()))
    monkeypatch.setattr(transfer, "ZIP_MEMBERS_MAX", 2)
    with pytest.raises(ZipRefusedError, match="the zip holds 3 files; an exchange zip may "
                                              "hold at most 2"):
        import_file(empty, path, by=BY)
    monkeypatch.setattr(transfer, "ZIP_MEMBERS_MAX", 50_000)
    monkeypatch.setattr(transfer, "ZIP_TOTAL_MAX", 1000)
    with pytest.raises(ZipRefusedError, match="its files expand to .*at most"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


def test_a_picture_that_does_not_match_its_hash_is_refused(clinic, empty, tmp_path):
    document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n.endswith(".jpg"))
    changed = bytearray(members[picture])
    changed[-10] ^= 0xFF
    members[picture] = bytes(changed)
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    assert _lines(info.value) == [f"Client 1, Photo 1, Picture file: {picture} does not match "
                                  "its hash: the picture was changed or damaged"]
    _nothing_written(empty)


def test_a_picture_missing_from_the_zip_is_refused(clinic, empty, tmp_path):
    document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n.endswith(".png"))
    del members[picture]
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    assert _lines(info.value) == [f"Client 1, Photo 2, Picture file: {picture} is not in the "
                                  "zip"]
    _nothing_written(empty)


def test_a_picture_no_photo_names_is_refused(clinic, empty, tmp_path):
    document, members = _good(clinic, tmp_path)
    stray = make_jpeg(seed=9)
    name = f"photos/{hashlib.sha256(stray).hexdigest()}.jpg"
    members[name] = stray
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    assert _lines(info.value) == [f"“{name}” is in the zip but no photo in needledesk.json "
                                  "names it"]
    _nothing_written(empty)


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(b"PK\x03\x04 not really a zip", "not a zip file NeedleDesk can read",
                 id="broken"),
    pytest.param(None, "the zip has no needledesk.json at its root", id="no-json"),
])
def test_a_zip_that_is_not_an_exchange_file_is_one_line(empty, tmp_path, content, expected):
    path = tmp_path / "other.zip"
    if content is None:
        _zip(path, [("photos/", b"")])
    else:
        path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        import_file(empty, path, by=BY)
    assert expected in str(info.value) and "\n" not in str(info.value)
    _nothing_written(empty)


# --- where an export may go ------------------------------------------------------------------


@pytest.mark.sqlite_only   # the file's own photo folder
@pytest.mark.parametrize("where", ["clinic.db", "clinic.photos", "clinic.photos/x.zip",
                                   "clinic.photos/ab/x.zip"])
def test_the_database_and_the_photo_folder_are_refused_as_outputs(clinic, tmp_path, where):
    repo = clinic[0]
    assert photo_folder(repo.path).is_dir()
    with pytest.raises(ProtectedTargetError, match="photo or backup folder"):
        refuse_protected_target(tmp_path / where, repo.path)


def test_the_protected_photo_folder_is_the_stores(tmp_path):
    db = tmp_path / "my.clinic.db"
    assert photo_folders(db)[0] == photo_folder(db) == tmp_path / "my.clinic.photos"


@pytest.mark.sqlite_only   # the file's own photo folder
def test_the_photo_folder_by_another_spelling_is_refused(clinic, tmp_path):
    repo = clinic[0]
    link = tmp_path / "shortcut"
    link.symlink_to(photo_folder(repo.path), target_is_directory=True)
    with pytest.raises(ProtectedTargetError):
        refuse_protected_target(link / "x.zip", repo.path)
    refuse_protected_target(tmp_path / "clinic.photos.zip", repo.path)   # beside it: fine


def test_decoding_keeps_photos_out_of_a_version_1_document():
    document = {"format": "needledesk-exchange", "version": 1, "clients": [
        {"id": "c1", "first_name": "Ana", "last_name": "López", "photos": []}]}
    decoded = decode_document(document)
    assert [p.path for p in decoded.problems] == ["clients[0].photos"]
    document["version"] = 2
    assert decode_document(document).problems == []


def test_an_export_zip_reads_back_with_a_plain_zip_tool(clinic, tmp_path):
    """The zip is an ordinary one: Python's own reader verifies every member's CRC."""
    repo = clinic[0]
    path = tmp_path / "clinic.zip"
    export_zip(repo, path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert archive.testzip() is None
        modes = {stat.S_IMODE(i.external_attr >> 16) for i in archive.infolist()}
    assert modes == {0o600}


def test_a_picture_that_fails_while_being_put_takes_the_others_out_again(clinic, empty,
                                                                        tmp_path, monkeypatch):
    """The zip changed after it was checked (or the disk failed): the second picture's bytes
    differ, and the first, already put in the photo folder, is taken out again."""
    _document, _members = _good(clinic, tmp_path)
    real_read = transfer.ZipPictures.read
    calls: list[str] = []

    def flaky(self, sha256: str) -> bytes:
        calls.append(sha256)
        data = real_read(self, sha256)
        return data if len(calls) == 1 else data + b"changed"

    monkeypatch.setattr(transfer.ZipPictures, "read", flaky)
    with pytest.raises(ValidationError, match="does not match its hash"):
        import_file(empty, tmp_path / "good.zip", by=BY)
    assert len(calls) == 2
    _nothing_written(empty)


def test_a_member_larger_than_it_declares_is_refused(clinic, empty, tmp_path):
    """The sizes a zip declares are checked, and so are the bytes read: a member whose
    headers say it is smaller than it is fails its check as it is read."""
    _document, members = _good(clinic, tmp_path)
    picture = next(n for n in members if n.endswith(".jpg"))
    path = _zip(tmp_path / "lies.zip", list(members.items()))
    raw = bytearray(path.read_bytes())
    name, true_size = picture.encode(), len(members[picture])
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            if raw[start + name_at:start + name_at + len(name)] == name:
                raw[start + size_at:start + size_at + 4] = (true_size // 2).to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(ZipRefusedError, match=f"“{picture}” cannot be read: it is damaged, "
                                              "or not the size the zip says; nothing was "
                                              "imported"):
        import_file(empty, path, by=BY)
    _nothing_written(empty)


@pytest.mark.parametrize(("picture", "expected"), [
    pytest.param(lambda: make_jpeg(48, 64, orientation=1),
                 "Client 1, Photo 1, Picture file: carries metadata", id="jpeg-with-gps"),
    pytest.param(lambda: make_png(48, 64),
                 "Client 1, Photo 1, Picture file is a PNG picture, not the JPEG", id="png"),
    pytest.param(lambda: make_jpeg(40, 30, gps=False, serial=False, comment=b""),
                 "Client 1, Photo 1, Picture file is 40 × 30 pixels, not the 48 × 64",
                 id="size"),
])
def test_a_crafted_picture_with_a_matching_hash_is_refused(clinic, empty, tmp_path, picture,
                                                           expected):
    """A picture in a zip must be as NeedleDesk keeps them: a hostile file that names the
    right hash but carries a GPS position (or is another picture) brings none of it in."""
    document, members = _good(clinic, tmp_path)
    photo = document["clients"][0]["photos"][0]
    assert (photo["width"], photo["height"]) == (48, 64)
    data = picture()
    del members[photo["file"]]
    sha = hashlib.sha256(data).hexdigest()
    photo.update(sha256=sha, size=len(data), file=f"photos/{sha}.jpg")
    members[photo["file"]] = data
    path = _rezipped(tmp_path, document, members)
    with pytest.raises(ValidationError) as info:
        import_file(empty, path, by=BY)
    lines = _lines(info.value)
    assert any(expected in line for line in lines), lines
    _nothing_written(empty)


def test_a_zip_carries_photos_between_the_file_and_the_clinic_server(clinic, tmp_path, request):
    """Exported on one engine, imported on the other: the same photos, the same bytes, and
    each store sound."""
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository

    repo, client, _session, photos = clinic
    path = tmp_path / "clinic.zip"
    assert export_zip(repo, path).photos == 2
    if repo.on_server:
        other = Repository(open_database(tmp_path / "other.db"))
    else:
        from needledesk.store.server import open_server

        other = Repository(open_server(request.getfixturevalue("server_url")))
    try:
        assert other.on_server != repo.on_server
        report = import_file(other, path, by="Bob Jones")
        assert report.result.added["photos"] == 2
        carried = other.photos(client_id=client.id)
        assert carried == photos
        assert [other.photo_bytes(p) for p in carried] == [repo.photo_bytes(p) for p in photos]
        assert sorted(stored_pictures(other)) == sorted(p.sha256 for p in photos)
        assert check_file(other.db, db_path=None if other.on_server else other.path
                          ).problems == []
    finally:
        other.db.close()
