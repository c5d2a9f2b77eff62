"""Photos in the store: cleaned on the way in (orientation applied, metadata gone), kept
beside the database by hash, sealed and audited, removed only by amendment, and checked."""

from __future__ import annotations

import io
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from needledesk.domain.model import PhotoSource, PhotoView
from needledesk.errors import NotFoundError, ValidationError
from needledesk.imaging import PhotoError, strip_jpeg
from needledesk.store.check import check_file
from needledesk.store.photo_files import (
    FolderPhotoStore,
    PhotoFileError,
    photo_folder,
    store_for,
)
from tests.photo_helpers import (
    BODY_SERIAL,
    EXIF_IFD,
    GPS_IFD,
    change_picture,
    client_with_session,
    lose_picture,
    make_jpeg,
    make_png,
    put_long_ago,
    sign_photo_consent,
)

BY = "Jane Smith"
NOW = datetime(2026, 11, 20, 11, 0)


def _opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _top_left_is_red(image: Image.Image) -> bool:
    r, g, b = image.convert("RGB").getpixel((2, 2))
    return r > 150 and b < 100


def _no_metadata(data: bytes) -> None:
    image = _opened(data)
    exif = image.getexif()
    assert not exif, dict(exif)
    assert not exif.get_ifd(GPS_IFD)
    assert b"SN-0042-SECRET" not in data and b"PhoneCam" not in data
    assert b"patient: Ana" not in data and b"Exif" not in data
    assert "comment" not in image.info and "exif" not in image.info
    assert "icc_profile" not in image.info


def test_a_jpeg_turned_by_its_exif_is_stored_upright_without_gps(repo):
    client, session = client_with_session(repo)
    # Orientation 6: the camera was held turned; the picture must be turned 90° to view.
    original = make_jpeg(64, 48, orientation=6)
    before = _opened(original)
    assert before.getexif().get_ifd(GPS_IFD), "the test file must carry a GPS position"
    assert before.getexif().get_ifd(EXIF_IFD).get(BODY_SERIAL) == "SN-0042-SECRET"

    added = repo.add_photo(session.id, original, view=PhotoView.FRONT, by=BY, now=NOW)

    assert added.added
    photo = added.photo
    stored = repo.photo_bytes(photo)
    _no_metadata(stored)
    image = _opened(stored)
    assert image.size == (48, 64) == (photo.width, photo.height)   # turned upright
    # Turned 90° clockwise (orientation 6): the red top-left quarter is now top-right.
    assert not _top_left_is_red(image)
    r, _g, b = image.convert("RGB").getpixel((45, 2))
    assert r > 150 and b < 100
    assert photo.taken_at == datetime(2026, 11, 20, 10, 31, 5)
    assert photo.media_type == "image/jpeg"


def test_an_upright_jpeg_keeps_its_picture_data_untouched(repo):
    _client, session = client_with_session(repo)
    original = make_jpeg(80, 60, orientation=1)
    photo = repo.add_photo(session.id, original, view=PhotoView.FRONT, by=BY, now=NOW).photo
    stored = repo.photo_bytes(photo)
    _no_metadata(stored)
    scan = original.index(b"\xff\xda")
    assert stored.endswith(original[scan:]), "the compressed picture must be copied as it is"
    assert _top_left_is_red(_opened(stored))


def test_a_png_loses_its_text_and_exif(repo):
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_png(), view=PhotoView.CLOSE_UP, label="scar",
                           by=BY, now=NOW).photo
    stored = repo.photo_bytes(photo)
    assert photo.media_type == "image/png" and photo.label == "scar"
    _no_metadata(stored)
    assert _top_left_is_red(_opened(stored))


def test_the_same_file_again_is_a_no_op(repo):
    _client, session = client_with_session(repo)
    data = make_jpeg(orientation=3)
    first = repo.add_photo(session.id, data, view=PhotoView.FRONT, by=BY, now=NOW)
    again = repo.add_photo(session.id, data, view=PhotoView.LEFT_45, by=BY, now=NOW)
    assert first.added and not again.added
    assert again.photo.id == first.photo.id
    assert len(repo.photos(session_id=session.id)) == 1
    assert len([e for e in repo.audit.history(first.photo.id)]) == 1


def test_no_photo_without_a_photo_consent_that_allows_the_record(repo):
    client, session = client_with_session(repo, consent=False)
    with pytest.raises(ValidationError, match="has not signed a photo consent"):
        repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW)
    sign_photo_consent(repo, client.id, uses=("photo_use_shown",))
    with pytest.raises(ValidationError, match="does not allow keeping photos"):
        repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW)
    assert repo.photos(client_id=client.id) == []
    assert list(repo.photo_store.hashes()) == []


def _behind_its_back(repo, sql: str, params: list) -> None:
    if repo.on_server:
        repo.db.execute(sql, params)
    else:
        with repo.db.conn:
            repo.db.execute(sql, params)


@pytest.mark.sqlite_only
def test_files_sit_beside_the_database_by_hash_and_private(repo, db_path):
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW).photo
    folder = photo_folder(db_path)
    path = folder / photo.sha256[:2] / photo.sha256
    assert path.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # the database holds the record, never the bytes
    assert repo.db.execute("SELECT typeof(sha256) FROM photos").fetchone()[0] == "text"
    thumb = repo.thumbnail(photo)
    assert max(_opened(thumb).size) <= 320
    assert list(FolderPhotoStore(folder).hashes()) == [photo.sha256]


def test_removal_is_an_amendment_kept_in_the_trail(repo):
    client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW).photo
    with pytest.raises(ValidationError, match="Reason"):
        repo.remove_photo(photo.id, "  ", by=BY)
    gone = repo.remove_photo(photo.id, "wrong client in the picture", by="Amy Lee")
    assert gone.removed and gone.removed_by == "Amy Lee"
    assert repo.photos(client_id=client.id) == []
    assert [p.id for p in repo.photos(client_id=client.id, removed=True)] == [photo.id]
    assert not repo.photo_store.has(photo.sha256)
    with pytest.raises(NotFoundError):
        repo.photo_bytes(gone)
    last = repo.audit.history(photo.id)[-1]
    assert last.action == "remove" and last.who == "Amy Lee"
    assert last.after["sha256"] == photo.sha256
    assert last.after["removed_reason"] == "wrong client in the picture"
    from needledesk.domain.labels import action_label, audit_lines

    assert action_label(last.action) == "Removed (amendment)"
    assert audit_lines("photo", last.before, last.after) == [
        "Removed by: not set → Amy Lee",
        "Reason for removing: not set → wrong client in the picture"]
    # not in what is exported from now on
    record = next(repo.load_records(client.id))
    assert record.photos == []
    assert check_file(repo.db).problems == []


def test_view_assignment_is_audited(repo):
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW).photo
    changed = repo.assign_view(photo.id, PhotoView.CLOSE_UP, label="left cheek", by=BY)
    assert repo.get_photo(photo.id).view == PhotoView.CLOSE_UP == changed.view
    last = repo.audit.history(photo.id)[-1]
    assert (last.action, last.before["view"], last.after["label"]) == (
        "update", "front", "left cheek")
    assert check_file(repo.db).problems == []


def test_check_finds_a_missing_changed_or_orphaned_file(repo, db_path):
    _client, session = client_with_session(repo)
    one = repo.add_photo(session.id, make_jpeg(seed=1), view=PhotoView.FRONT, by=BY,
                         now=NOW).photo
    two = repo.add_photo(session.id, make_jpeg(seed=2), view=PhotoView.LEFT_45, by=BY,
                         now=NOW).photo
    assert check_file(repo.db).problems == []
    lose_picture(repo, one.sha256)
    change_picture(repo, two.sha256)
    stray = put_long_ago(repo, make_png())
    problems = check_file(repo.db).problems
    text = "\n".join(problems)
    assert f"photo {one.id}" in text and "missing" in text
    assert f"photo {two.id}" in text and "changed outside NeedleDesk" in text
    assert "1 picture file(s) belong to no photo record" in text
    assert repo.tidy_photo_files() == 1
    assert not repo.photo_store.has(stray)
    assert repo.photo_store.has(two.sha256)   # a changed picture is not tidied away


def test_check_finds_a_photo_record_edited_behind_its_back(repo):
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW).photo
    _behind_its_back(repo, "UPDATE photos SET view = 'left_45' WHERE id = ?", [photo.id])
    problems = check_file(repo.db).problems
    assert any(f"photo {photo.id}" in p and "changed behind" in p for p in problems), problems


def test_a_failed_row_write_leaves_no_file(repo, monkeypatch):
    _client, session = client_with_session(repo)

    def fail(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(repo, "_record", fail)
    with pytest.raises(RuntimeError):
        repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW)
    assert repo.photos(session_id=session.id) == []
    assert list(repo.photo_store.hashes()) == []


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"not a picture at all", "not a photo NeedleDesk can read"),
    (make_jpeg(400, 300, orientation=1)[:2000], "damaged or incomplete"),
    (make_jpeg(400, 300, orientation=6)[:2000], "damaged or incomplete"),
])
def test_bad_files_are_refused_with_a_plain_message(repo, data, message):
    _client, session = client_with_session(repo)
    with pytest.raises(PhotoError, match=message):
        repo.add_photo(session.id, data, view=PhotoView.FRONT, by=BY, now=NOW, name="x.jpg")
    assert repo.photos(session_id=session.id) == []


def test_a_gif_is_refused_by_name(repo):
    _client, session = client_with_session(repo)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "GIF")
    with pytest.raises(PhotoError, match="GIF picture"):
        repo.add_photo(session.id, buffer.getvalue(), view=PhotoView.FRONT, by=BY, now=NOW)


def test_strip_jpeg_keeps_a_decodable_picture():
    data = make_jpeg(orientation=1)
    stripped = strip_jpeg(data)
    assert stripped is not None and len(stripped) < len(data)
    assert _opened(stripped).size == (64, 48)
    assert strip_jpeg(b"\xff\xd8\xff\xe1\xff\xff") is None


def test_photos_of_a_signed_session_can_be_added(repo):
    _client, session = client_with_session(repo)
    repo.sign_session(session.id, by=BY)
    added = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY, now=NOW,
                           source=PhotoSource.FOLDER)
    assert added.added and added.photo.source == PhotoSource.FOLDER
    assert check_file(repo.db).problems == []


def test_the_v6_photo_seal_is_frozen():
    """A released seal never changes: files hold hashes made with it."""
    from needledesk.store.seals import V6_RECORDS, seal_v6

    row = dict.fromkeys(V6_RECORDS["photo"][2])
    row.update(id="p1", client_id="c1", session_id="s1", view="front", label="",
               added_at="2026-11-20T11:00:00", added_by="Jane Smith", source="file",
               original_sha256="a" * 64, sha256="b" * 64, media_type="image/jpeg", width=48,
               height=64, size=1234, removed_by="", removed_reason="")
    assert seal_v6("photo", [row]) == (
        "v6:cf16b89eb6db2fdc10ee28def9f1de9324d4787ae82d1002506957f8cb8e4b57")
    row["removed_reason"] = "x"
    assert seal_v6("photo", [row]) != (
        "v6:cf16b89eb6db2fdc10ee28def9f1de9324d4787ae82d1002506957f8cb8e4b57")


def test_a_heic_from_a_phone_is_decoded_and_stored_as_jpeg_without_metadata(repo):
    """tests/fixtures/photo-with-exif.heic was made with libheif's `heif-enc -q 60` from
    `make_jpeg(64, 48, orientation=6)` (it carries that JPEG's EXIF: camera, serial, GPS).
    HEIF turns pictures by its own boxes, not by the EXIF tag, so it decodes as stored."""
    from pathlib import Path

    data = (Path(__file__).parent.parent / "fixtures" / "photo-with-exif.heic").read_bytes()
    assert b"SN-0042-SECRET" in data or b"PhoneCam" in data   # the metadata is there
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, data, view=PhotoView.FRONT, by=BY, now=NOW,
                           name="IMG_0001.HEIC").photo
    stored = repo.photo_bytes(photo)
    assert photo.media_type == "image/jpeg" and (photo.width, photo.height) == (64, 48)
    assert photo.taken_at == datetime(2026, 11, 20, 10, 31, 5)
    _no_metadata(stored)
    assert _top_left_is_red(_opened(stored))



def test_the_domain_and_the_labels_name_views_alike():
    from needledesk.domain.labels import VIEW_NAMES
    from needledesk.domain.photos import VIEW_TEXT

    assert {str(view): text for view, text in VIEW_TEXT.items()} == VIEW_NAMES


def test_the_thumbnail_is_made_while_the_photo_is_taken_in(repo):
    """The panel shows a new photo's thumbnail at once: it was made from the picture already
    decoded, and kept in the cache (never fsynced: a cache)."""
    _client, session = client_with_session(repo)
    for data in (make_jpeg(900, 700, orientation=6), make_jpeg(900, 700, orientation=1,
                                                               seed=5)):
        photo = repo.add_photo(session.id, data, view=PhotoView.FRONT, by=BY, now=NOW).photo
        cached = repo.photo_store.thumbnail(photo.sha256, 320)
        assert cached is not None
        small = _opened(cached)
        assert max(small.size) == 320
        assert small.size[0] < small.size[1] if photo.width < photo.height else True
        assert repo.thumbnail(photo) == cached


# --- one record, several rooms ----------------------------------------------------------------

def _thumb_folder(repo):
    store = repo.photo_store
    return store.thumbs.root if repo.on_server else store.root / ".thumbs"


def test_a_photo_added_in_one_room_is_seen_from_another_with_its_thumbnail(repo):
    _client, session = client_with_session(repo)
    photo = repo.add_photo(session.id, make_jpeg(900, 700, orientation=6), view=PhotoView.FRONT,
                           by=BY, now=NOW).photo
    shutil.rmtree(_thumb_folder(repo))   # the other room has no thumbnail of it yet
    other = repo.reader()   # a second connection: another room
    try:
        assert other.photos(session_id=session.id) == [photo]
        assert other.photo_bytes(photo) == repo.photo_bytes(photo)
        thumb = other.thumbnail(photo)
        assert max(_opened(thumb).size) == 320 and _opened(thumb).size[0] < 320
        assert other.photo_store.thumbnail(photo.sha256, 320) == thumb   # kept for next time
        assert check_file(other.db).problems == []
    finally:
        other.db.close()


def _server_repo(url):
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    return Repository(open_server(url))


def test_on_the_server_the_bytes_are_in_its_database_and_thumbnails_in_this_pcs_cache(
        server_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no folder may appear where the program runs
    repo = _server_repo(server_url)
    try:
        _client, session = client_with_session(repo)
        photo = repo.add_photo(session.id, make_jpeg(), view=PhotoView.FRONT, by=BY,
                               now=NOW).photo
        rows = repo.db.execute("SELECT sha256, data FROM photo_files").fetchall()
        assert [(sha, bytes(data)) for sha, data in rows] == [
            (photo.sha256, repo.photo_bytes(photo))]   # one row: no thumbnail on the server
        assert list(tmp_path.iterdir()) == []
        thumbs = repo.photo_store.thumbs.root
        cache = Path(os.environ["XDG_CACHE_HOME"])
        assert thumbs.is_relative_to(cache / "NeedleDesk" / "server-thumbnails")
        kept = thumbs / photo.sha256[:2] / f"{photo.sha256}-320.jpg"
        assert kept.read_bytes() == repo.thumbnail(photo)
        if os.name == "posix":
            for folder in (cache / "NeedleDesk", thumbs.parent, thumbs, kept.parent):
                assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
            assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        repo.db.close()


def test_a_tampered_photo_row_on_the_server_is_reported_by_check_and_put_mends_it(server_url):
    repo = _server_repo(server_url)
    try:
        _client, session = client_with_session(repo)
        data = make_jpeg()
        photo = repo.add_photo(session.id, data, view=PhotoView.FRONT, by=BY, now=NOW).photo
        right = repo.photo_bytes(photo)
        repo.db.execute("UPDATE photo_files SET data = ? WHERE sha256 = ?",
                        [right[:-1] + bytes([right[-1] ^ 1]), photo.sha256])
        problems = check_file(repo.db).problems
        assert problems == [f"photo {photo.id} (client {photo.client_id}): its picture on the "
                            "clinic server was changed outside NeedleDesk (it no longer "
                            "matches its hash); restore it from a backup"]
        with pytest.raises(PhotoFileError, match="differs from what was stored"):
            repo.photo_bytes(photo)
        assert repo.photo_store.put(right) == photo.sha256   # the right bytes again
        assert repo.photo_bytes(photo) == right
        assert check_file(repo.db).problems == []
        assert repo.photo_store.put(right) == photo.sha256   # and again: nothing changes
        assert repo.db.execute("SELECT count(*) FROM photo_files").fetchone()[0] == 1
    finally:
        repo.db.close()


def test_a_worker_thread_reads_photos_on_its_own_connection(server_url):
    """The window reads pictures and makes thumbnails on worker threads: they must not use
    the UI thread's connection (here in a failed transaction that would refuse them)."""
    import threading

    repo = _server_repo(server_url)
    try:
        _client, session = client_with_session(repo)
        photo = repo.add_photo(session.id, make_jpeg(900, 700, seed=3), view=PhotoView.FRONT,
                               by=BY, now=NOW).photo
        shutil.rmtree(repo.photo_store.thumbs.root)
        store = repo.photo_store
        mine = repo.db.execute("SELECT pg_backend_pid()").fetchone()[0]
        repo.db.raw.execute("BEGIN")
        with pytest.raises(Exception, match="division by zero"):
            repo.db.raw.execute("SELECT 1/0")
        got: dict = {}

        def work() -> None:
            try:
                got["bytes"] = repo.photo_bytes(photo)
                got["thumb"] = repo.thumbnail(photo)
                got["pid"] = store._reading(
                    lambda db: db.execute("SELECT pg_backend_pid()").fetchone()[0])
            except Exception as exc:   # shown by the assertion below
                got["error"] = exc

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(30)
        repo.db.raw.execute("ROLLBACK")
        assert "error" not in got, got.get("error")
        assert got["pid"] != mine
        assert got["bytes"] == repo.photo_bytes(photo)
        assert max(_opened(got["thumb"]).size) == 320
        reader = store._reader[0]
        store.close()
        assert reader.closed and store._reader == []
    finally:
        repo.db.close()


def test_tidy_on_the_server_forgets_thumbnails_of_photos_removed_in_another_room(server_url):
    repo, other = _server_repo(server_url), _server_repo(server_url)
    try:
        _client, session = client_with_session(repo)
        photo = repo.add_photo(session.id, make_jpeg(seed=4), view=PhotoView.FRONT, by=BY,
                               now=NOW).photo
        kept = repo.photo_store.thumbs.root / photo.sha256[:2] / f"{photo.sha256}-320.jpg"
        repo.thumbnail(photo)
        other.photo_store.thumbs = type(other.photo_store.thumbs)(kept.parent.parent.parent
                                                                  / "another-pc")
        other.remove_photo(photo.id, "wrong client in the picture", by="Amy Lee")
        assert not repo.photo_store.has(photo.sha256)   # gone for every room
        assert kept.is_file()   # this PC's cache still has its thumbnail
        assert repo.tidy_photo_files() == 0
        assert not kept.exists()
        assert check_file(repo.db).problems == []
    finally:
        repo.db.close()
        other.db.close()


def test_a_clinic_servers_address_is_never_taken_for_a_photo_folder():
    with pytest.raises(ValueError, match="in the server"):
        store_for("postgresql://u@h:5432/needledesk")


def test_on_the_server_a_picture_just_put_is_not_an_orphan_yet(server_url):
    """Another room puts a photo's picture first and writes its row after: check and tidy
    meanwhile must neither call it an orphan nor remove it under that room."""
    repo = _server_repo(server_url)
    try:
        client_with_session(repo)
        being_saved = repo.photo_store.put(make_png())
        assert repo.photo_file_problems() == ([], [])
        assert check_file(repo.db).problems == []
        assert repo.tidy_photo_files() == 0 and repo.photo_store.has(being_saved)
        repo.db.execute("UPDATE photo_files SET added_at = added_at - interval '61 minutes'")
        assert repo.photo_file_problems() == ([], [being_saved])
        assert repo.tidy_photo_files() == 1 and not repo.photo_store.has(being_saved)
    finally:
        repo.db.close()
