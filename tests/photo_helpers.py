"""Real photo files made in the test: JPEGs and PNGs with EXIF orientation, GPS position,
a camera serial number and a comment set, and a client with a session and a photo consent
to take them in."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import ConsentKind, PhotoView
from tests.factories import make_client, make_consent, make_session

ORIENTATION, GPS_IFD, EXIF_IFD = 0x0112, 0x8825, 0x8769
BODY_SERIAL, MAKE, MODEL, DATETIME_ORIGINAL = 0xA431, 0x010F, 0x0110, 0x9003
GPS_LATITUDE_REF, GPS_LATITUDE = 1, 2


def _pattern(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture whose top-left quarter is red and the rest blue: which way up it is can be
    read back after any turn."""
    image = Image.new(mode, (width, height), (20, 40, 200) if mode == "RGB" else 128)
    red = Image.new(mode, (width // 2, height // 2), (220, 20, 20) if mode == "RGB" else 255)
    image.paste(red, (0, 0))
    return image


def exif_for(orientation: int | None = None, gps: bool = True, serial: bool = True,
             taken: datetime | None = datetime(2026, 11, 20, 10, 31, 5)) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Acme"
    exif[MODEL] = "PhoneCam 12"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({GPS_LATITUDE_REF: "N",
                                      GPS_LATITUDE: (51.0, 30.0, 12.5)})
    extra = exif.get_ifd(EXIF_IFD)
    if serial:
        extra[BODY_SERIAL] = "SN-0042-SECRET"
    if taken is not None:
        extra[DATETIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    return exif


def make_jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None,
              gps: bool = True, serial: bool = True, comment: bytes = b"patient: Ana",
              quality: int = 90, seed: int = 0) -> bytes:
    """A JPEG with EXIF (orientation, GPS, serial, time) and a comment. `seed` changes one
    pixel, for files that must differ."""
    image = _pattern(width, height)
    if seed:   # an 8 x 8 block of a colour of its own, bottom right
        block = Image.new("RGB", (8, 8), (seed * 37 % 256, seed * 91 % 256, seed % 256))
        image.paste(block, (width - 8, height - 8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif_for(orientation, gps, serial),
               comment=comment)
    return buffer.getvalue()


def make_png(width: int = 40, height: int = 30, *, gps: bool = True) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "patient: Ana")
    buffer = io.BytesIO()
    _pattern(width, height).save(buffer, "PNG", pnginfo=info, exif=exif_for(None, gps))
    return buffer.getvalue()


def sign_photo_consent(repo, client_id: str, *,
                       uses: tuple[str, ...] = ("photo_use_record", "photo_use_shown"),
                       signed_at: datetime = datetime(2026, 11, 3, 10, 50),
                       by: str = "Jane Smith"):
    """Store a photo consent allowing `uses` (under the stored photo form, or the shipped
    one stored with it)."""
    form = repo.current_template(ConsentKind.PHOTO) or default_template(ConsentKind.PHOTO)
    answers = {s.key: (s.key in uses) if s.key.startswith("photo_use_") else True
               for s in form.statements}
    return repo.add_consent(make_consent(client_id, form, answers=answers,
                                         signed_at=signed_at), by=by, template=form)


def client_with_session(repo, *, consent: bool = True, by: str = "Jane Smith", **session):
    """A stored client with one stored session (and a photo consent unless `consent` is
    False); returns (client, session)."""
    client = repo.add_client(make_client(), by=by)
    if consent:
        sign_photo_consent(repo, client.id, by=by)
    stored = repo.save_draft(make_session(client.id, **session), by=by)
    return client, stored


FRONT = PhotoView.FRONT


def lose_picture(repo, sha256: str) -> None:
    """A photo's bytes gone from where the store keeps them (the photo folder beside the
    file, or the server's `photo_files`), behind NeedleDesk's back."""
    if repo.on_server:
        repo.db.execute("DELETE FROM photo_files WHERE sha256 = ?", [sha256])
    else:
        from needledesk.store.photo_files import FolderPhotoStore, photo_folder

        FolderPhotoStore(photo_folder(repo.path)).path(sha256).unlink()


def change_picture(repo, sha256: str, data: bytes | None = None) -> None:
    """A photo's stored bytes replaced by `data` (default: one byte added), behind
    NeedleDesk's back (on the server as its owner would, the rooms having no UPDATE)."""
    if repo.on_server:
        if data is None:
            repo.db.execute("UPDATE photo_files SET data = data || ? WHERE sha256 = ?",
                            [b"x", sha256])
        else:
            repo.db.execute("UPDATE photo_files SET data = ? WHERE sha256 = ?", [data, sha256])
    else:
        from needledesk.store.photo_files import FolderPhotoStore, photo_folder

        path = FolderPhotoStore(photo_folder(repo.path)).path(sha256)
        path.write_bytes(path.read_bytes() + b"x" if data is None else data)


def stored_pictures(repo) -> list[str]:
    """The hashes of every picture the store holds (folder or server)."""
    return list(repo.photo_store.hashes())


def store_args(repo, db_path) -> list[str]:
    """The command line's way to the same store: `--db FILE`, or `--server URL`."""
    return ["--server", repo.path] if repo.on_server else ["--db", str(db_path)]


def put_long_ago(repo, data: bytes) -> str:
    """Put a picture no photo names, as if left there long ago (on the server, one put within
    the last hour may be another room's photo being saved, and is not an orphan yet)."""
    sha = repo.photo_store.put(data)
    if repo.on_server:
        repo.db.execute("UPDATE photo_files SET added_at = added_at - interval '2 hours' "
                        "WHERE sha256 = ?", [sha])
    return sha
