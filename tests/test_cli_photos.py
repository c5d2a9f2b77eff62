"""`needledesk photos import|export|tidy` and `export json -o FILE.zip`, end to end through
`cli.main` on a real clinic store (a file, or with `--server` a clinic server's database),
real photo files and real folders."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from PIL import Image

from needledesk.cli import main
from needledesk.domain.model import PhotoView
from needledesk.store.database import open_database
from needledesk.store.photo_files import photo_folder
from needledesk.store.repository import Repository
from tests.photo_helpers import (
    GPS_IFD,
    change_picture,
    client_with_session,
    make_jpeg,
    make_png,
    put_long_ago,
    sign_photo_consent,
    store_args,
    stored_pictures,
)

BY = "Jane Smith"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def where(repo, db_path) -> list[str]:
    """`--db FILE`, or (`[postgresql]`) `--server URL`: the command line's way to the store."""
    return store_args(repo, db_path)


@pytest.fixture
def stocked(repo, tmp_path):
    """A client with a session and a photo consent (record and showing), and three files:
    a JPEG turned by its EXIF and carrying GPS, a PNG and a text file."""
    client, session = client_with_session(repo)
    files = {"front.jpg": make_jpeg(64, 48, orientation=6),
             "scar.png": make_png(), "notes.txt": b"not a photo"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return repo, client, session


def test_photos_import_adds_each_file_and_says_which_were_refused(capsys, stocked, where,
                                                                  tmp_path):
    repo, client, session = stocked
    code, out, err = run(capsys, *where, "photos", "import", "--session", session.id,
                         tmp_path / "front.jpg", tmp_path / "scar.png", tmp_path / "notes.txt")
    assert code == 1
    assert out.splitlines() == [f"added: {tmp_path / 'front.jpg'} (Front, 48 × 64)",
                                f"added: {tmp_path / 'scar.png'} (Front, 40 × 30)"]
    assert err.splitlines() == [
        f"refused: {tmp_path / 'notes.txt'}: not a photo NeedleDesk can read (JPEG, PNG or "
        "HEIC)", "needledesk: 1 file of 3 refused"]
    photos = repo.photos(session_id=session.id)
    assert [(p.view, p.width, p.height) for p in photos] == [(PhotoView.FRONT, 48, 64),
                                                             (PhotoView.FRONT, 40, 30)]
    stored = Image.open(io.BytesIO(repo.photo_bytes(photos[0])))
    assert not stored.getexif().get_ifd(GPS_IFD)   # the GPS position did not come in

    # The same file again: nothing new, exit 0.
    code, out, err = run(capsys, *where, "photos", "import", "--session", session.id,
                         "--view", "close_up", "--label", "left cheek", tmp_path / "front.jpg")
    assert (code, err) == (0, "")
    assert out.startswith(f"already stored: {tmp_path / 'front.jpg'} (the same file is this "
                          "client's photo of ")
    assert len(repo.photos(session_id=session.id)) == 2


def test_photos_import_with_a_view_and_a_label(capsys, stocked, where, tmp_path):
    repo, _client, session = stocked
    code, out, _err = run(capsys, *where, "photos", "import", "--session", session.id,
                          "--view", "close_up", "--label", "left cheek scar",
                          tmp_path / "scar.png")
    assert code == 0 and "(Close-up: left cheek scar, 40 × 30)" in out
    [photo] = repo.photos(session_id=session.id)
    assert (photo.view, photo.label) == (PhotoView.CLOSE_UP, "left cheek scar")


def test_photos_import_to_a_wrong_session_says_so(capsys, stocked, where, tmp_path):
    repo, client, _session = stocked
    code, out, err = run(capsys, *where, "photos", "import", "--session", "no-such",
                         tmp_path / "front.jpg")
    assert (code, out) == (1, "")
    assert err == ("needledesk: there is no session with the id “no-such”; nothing was added "
                   "(the client card lists a session's id)\n")
    assert repo.photos(client_id=client.id) == []


def test_photos_import_without_a_photo_consent_is_refused(capsys, repo, where, tmp_path):
    _client, session = client_with_session(repo, consent=False)
    (tmp_path / "front.jpg").write_bytes(make_jpeg())
    code, out, err = run(capsys, *where, "photos", "import", "--session", session.id,
                         tmp_path / "front.jpg")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (
        f"refused: {tmp_path / 'front.jpg'}: The client has not signed a photo consent. Ask "
        "them to sign one (Client › Sign photo consent…) before photos are taken.")
    assert repo.photos(session_id=session.id) == []
    assert stored_pictures(repo) == []


def _added(repo, session, *files: bytes, view=PhotoView.FRONT, label=""):
    return [repo.add_photo(session.id, data, view=view, by=BY, label=label).photo
            for data in files]


def test_photos_export_for_the_record_writes_private_files_by_day_and_view(capsys, stocked,
                                                                          where, tmp_path):
    repo, client, session = stocked
    front, close = (_added(repo, session, make_jpeg(seed=1))
                    + _added(repo, session, make_png(), view=PhotoView.CLOSE_UP,
                             label="left cheek: scar"))
    out_dir = tmp_path / "handout" / "photos"
    code, out, err = run(capsys, *where, "photos", "export", "--client", client.id,
                         "-o", out_dir)
    assert (code, err) == (0, "")
    day = session.started_at.date().isoformat()
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [f"Ana López {day} Close-up left cheek scar.png",
                     f"Ana López {day} Front.jpg"]
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    for path in out_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (out_dir / f"Ana López {day} Front.jpg").read_bytes() == repo.photo_bytes(front)
    assert (out_dir / names[0]).read_bytes() == repo.photo_bytes(close)
    assert out.splitlines()[-1] == f"exported 2 photos of Ana López to {out_dir}"

    # Again into the same folder: the files there are kept, the new ones numbered.
    code, _out, _err = run(capsys, *where, "photos", "export", "--client", client.id,
                           "-o", out_dir)
    assert code == 0 and f"Ana López {day} Front (2).jpg" in {p.name for p in out_dir.iterdir()}


def test_photos_export_for_teaching_needs_that_use_and_leaves_the_name_out(capsys, stocked,
                                                                          where, tmp_path):
    repo, client, session = stocked
    _added(repo, session, make_jpeg(seed=2))
    out_dir = tmp_path / "teaching"
    code, out, err = run(capsys, *where, "photos", "export", "--client", client.id,
                         "-o", out_dir, "--for", "teaching")
    assert (code, out) == (1, "")
    assert err == ("needledesk: The client's photo consent of 3 Nov 2026 does not allow using "
                   "photos for teaching. Nothing was written.\n")
    assert not out_dir.exists()

    sign_photo_consent(repo, client.id, uses=("photo_use_record", "photo_use_teaching"),
                       signed_at=session.started_at.replace(hour=8))
    code, out, err = run(capsys, *where, "photos", "export", "--client", client.id,
                         "-o", out_dir, "--for", "teaching")
    assert (code, err) == (0, "")
    names = [p.name for p in out_dir.iterdir()]
    assert names == [f"{session.started_at.date().isoformat()} Front.jpg"]
    assert out.splitlines()[0] == str(out_dir / names[0])   # the files: no client's name
    # ... and marketing is still not allowed by that consent.
    code, _out, err = run(capsys, *where, "photos", "export", "--client", client.id,
                          "-o", tmp_path / "ads", "--for", "marketing")
    assert code == 1 and "does not allow using photos in the clinic's marketing" in err


@pytest.mark.sqlite_only   # the file's own photo and backup folders
@pytest.mark.parametrize("inside", ["clinic.photos", "clinic.photos/inside", "backups/x"])
def test_photos_export_into_the_photo_folder_is_refused(capsys, stocked, db_path, tmp_path,
                                                       inside):
    repo, client, session = stocked
    _added(repo, session, make_jpeg(seed=3))
    before = sorted(p for p in photo_folder(db_path).rglob("*"))
    code, out, err = run(capsys, "--db", db_path, "photos", "export", "--client", client.id,
                         "-o", tmp_path / inside)
    assert (code, out) == (1, "")
    assert "photo or backup folder" in err and "nothing was written" in err
    assert sorted(p for p in photo_folder(db_path).rglob("*")) == before


def test_photos_export_of_an_unknown_client_says_so(capsys, stocked, where, tmp_path):
    code, _out, err = run(capsys, *where, "photos", "export", "--client", "nobody",
                          "-o", tmp_path / "out")
    assert code == 1
    assert err == ("needledesk: there is no client with the id “nobody”; nothing was "
                   "written\n")
    assert not (tmp_path / "out").exists()


def test_photos_tidy_removes_only_unnamed_files(capsys, stocked, where):
    repo, _client, session = stocked
    [kept] = _added(repo, session, make_jpeg(seed=4))
    store = repo.photo_store
    orphan = put_long_ago(repo, b"left by an interrupted import")
    code, out, err = run(capsys, *where, "photos", "tidy")
    assert (code, err) == (0, "")
    assert out == "tidy: removed 1 picture file that no photo names\n"
    assert list(store.hashes()) == [kept.sha256] and not store.has(orphan)
    code, out, _err = run(capsys, *where, "photos", "tidy")
    kept_in = "on the clinic server" if repo.on_server else "in the photo folder"
    assert out == f"tidy: every picture file {kept_in} is a photo's; nothing to remove\n"


def test_export_json_to_a_zip_carries_the_photos_and_imports_once(capsys, stocked, where,
                                                                  tmp_path):
    repo, client, session = stocked
    photos = _added(repo, session, make_jpeg(seed=5), make_png())
    target = tmp_path / "clinic.zip"
    code, out, err = run(capsys, *where, "export", "json", "-o", target)
    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(target) as archive:
        assert len(archive.namelist()) == 3

    other = tmp_path / "other.db"
    code, out, _err = run(capsys, "--db", other, "import", target)
    assert code == 0 and out.startswith("imported: 1 client") and "2 photos" in out
    code, out, _err = run(capsys, "--db", other, "import", target)
    assert code == 0 and "already present" in out and "2 photos" in out
    theirs = Repository(open_database(other))
    try:
        assert [theirs.photo_bytes(p) for p in theirs.photos(client_id=client.id)] == \
            [repo.photo_bytes(p) for p in photos]
    finally:
        theirs.db.close()
    code, out, err = run(capsys, "--db", other, "check")
    assert code == 0, err


def test_export_json_of_a_clinic_with_photos_says_they_were_left_out(capsys, stocked,
                                                                     where, tmp_path):
    repo, _client, session = stocked
    _added(repo, session, make_jpeg(seed=6))
    code, out, err = run(capsys, *where, "export", "json", "-o", tmp_path / "x.json")
    assert (code, out) == (0, "")
    assert err == ("note: 1 photo was not written: a .json file carries records only. Export "
                   "to a file ending in .zip to carry the photos too.\n")
    code, out, err = run(capsys, *where, "export", "json")
    assert code == 0 and '"photos"' not in out and "1 photo was not written" in err


@pytest.mark.sqlite_only   # the file's own photo folder
def test_export_zip_into_the_photo_folder_is_refused(capsys, stocked, db_path):
    repo, _client, session = stocked
    _added(repo, session, make_jpeg(seed=7))
    target = photo_folder(db_path) / "clinic.zip"
    code, out, err = run(capsys, "--db", db_path, "export", "json", "-o", target)
    assert (code, out) == (1, "")
    assert "photo or backup folder" in err and not target.exists()


def test_photos_export_writes_nothing_when_a_picture_was_changed(capsys, stocked, where,
                                                                tmp_path):
    repo, client, session = stocked
    first, second = _added(repo, session, make_jpeg(seed=8), make_jpeg(seed=9))
    change_picture(repo, second.sha256, b"not it")
    code, out, err = run(capsys, *where, "photos", "export", "--client", client.id,
                         "-o", tmp_path / "out")
    assert (code, out) == (1, "")
    assert "differs from what was stored" in err and "restore it from a backup" in err
    assert not (tmp_path / "out").exists()
