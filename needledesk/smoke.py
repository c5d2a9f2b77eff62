"""`needledesk --smoke-test`: prove that this installation (above all the bundle) works.

Checks the resources are found; fills a temporary database with demo records and a JPEG
logo (written by Qt's JPEG plugin); stores a consent signed with a drawn signature (its
picture written by Qt as PNG) and a session with a face-chart zone, reads both back, checks
the file sound and prints the consent as PDF; reads the face chart's drawing; adds photos
(a phone's JPEG turned by its EXIF and carrying GPS, read back upright without them; a
phone's HEIC through pi-heif; a picture as the camera takes it) and loads QtMultimedia's
camera backend; opens the real main window on it and paints it; renders a session summary
PDF with the logo (decoded by Pillow) to a temporary file and reads it back through QtPdf
(the print preview's path); loads print support; hashes and checks an app-lock PIN
(argon2); then closes everything. Each step loads a part of the bundle that could be
missing from it. A dialog the window opens is closed and reported, never waited on.

One line says the outcome: "smoke test passed: …" on stdout and exit 0, or "smoke test
failed: <reason>" on stderr and exit 1. Needs no display: without one it uses Qt's offscreen
platform, so `env -i ./needledesk --smoke-test` works on a headless build machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The resources the program looks up; the bundle must carry every one.
RESOURCES = (
    ("fonts", "DejaVuSans.ttf"),
    ("fonts", "DejaVuSans-Bold.ttf"),
    ("fonts", "DejaVu-LICENSE.txt"),
    ("icons", "needledesk.png"),
    ("face-chart.svg",),
)
DEMO_CLIENTS = 50
DEMO_SEED = 1
#: How long the window may take to appear and paint (a cold start of the bundle included).
EXPOSE_SECONDS = 20.0


class SmokeFailure(Exception):
    """A check that did not hold, in words."""


def run() -> int:
    """Run every check; print one line; 0 when all held, 1 with the reason otherwise."""
    started = time.monotonic()
    _use_offscreen_without_display()
    messages = _QtMessages()
    try:
        with messages:
            details = _check()
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        if not isinstance(exc, SmokeFailure | OSError):
            reason = f"{type(exc).__name__}: {reason}"
        if messages.warnings:
            reason += f" (last Qt warning: {messages.warnings[-1]})"
        print(f"smoke test failed: {_one_line(reason)}", file=sys.stderr, flush=True)
        return 1
    if messages.warnings:
        details.append(f"{len(messages.warnings)} Qt warning(s), the last: "
                       f"{messages.warnings[-1]}")
    details.append(f"{time.monotonic() - started:.1f} s")
    print("smoke test passed: " + ", ".join(details), flush=True)
    return 0


def _use_offscreen_without_display() -> None:
    """On X11/Wayland systems with no display, Qt's offscreen platform (before the app)."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _check() -> list[str]:
    from needledesk import __version__
    from needledesk.paths import resource_path

    missing = [str(resource_path(*parts)) for parts in RESOURCES
               if not resource_path(*parts).is_file()]
    if missing:
        raise SmokeFailure(f"resources not found: {', '.join(missing)}")

    from needledesk.ui.app import application

    application()
    logo = _logo_jpeg(resource_path("icons", "needledesk.png"))
    with tempfile.TemporaryDirectory(prefix="needledesk-smoke-",
                                     ignore_cleanup_errors=True) as folder_name:
        folder = Path(folder_name)
        db_path = folder / "smoke.db"
        session_id = _fill(db_path, logo)
        catalogue = _catalogue(db_path)
        consent_details = _consent(db_path, folder / "consent.pdf")
        photo_details = _photos(db_path, session_id)
        window_details = _open_window(db_path, folder / "window-state.ini")
        pdf_details = _summary_pdf(db_path, session_id, folder / "summary.pdf")
    printing = _printing()
    fonts = _shaping_and_fonts()
    finding = _finding()
    sorting = _collation()
    _app_lock()
    server = _clinic_server()
    bundled = "bundle" if getattr(sys, "frozen", False) else "source"
    return [f"NeedleDesk {__version__} ({bundled})", f"{len(RESOURCES)} resources found",
            catalogue, *consent_details, *photo_details, *window_details, *pdf_details,
            printing, *fonts, finding, sorting, "app lock hashed and checked", *server]


#: Where CI's PostgreSQL server is (scripts/pg-test-server): with it set, the clinic server
#: step also writes and checks a session in a scratch database there.
TEST_SERVER_VARIABLE = "NEEDLEDESK_TEST_SERVER"


def _collation() -> str:
    """Qt's collation (ICU's rules, which the Linux bundle's trimmed ICU data must keep):
    Swedish sorts Ö after Z, German beside O."""
    from PySide6.QtCore import QCollator, QLocale

    swedish = QCollator(QLocale(QLocale.Language.Swedish, QLocale.Country.Sweden))
    german = QCollator(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    if not (swedish.compare("Öberg", "Zander") > 0 and german.compare("Öberg", "Zander") < 0):
        raise SmokeFailure("Qt's collation does not sort Ö as Swedish and German do "
                           "(ICU's collation data missing)")
    return "Swedish and German collation"


def _clinic_server() -> list[str]:
    """The clinic server's driver and password store: psycopg imports with its own libpq
    (the binary implementation, which the bundle carries with libpq's OpenSSL and
    Kerberos); keyring loads (on Windows its Credential Manager backend must be usable).
    With NEEDLEDESK_TEST_SERVER set (CI), a scratch database on that server is made,
    migrated, given a signed session that is read back and checked sound, then dropped."""
    try:
        import psycopg
        from psycopg import pq
    except ImportError as exc:
        raise SmokeFailure(f"the clinic server's driver psycopg cannot be loaded ({exc})"
                           ) from None
    if pq.__impl__ != "binary":
        raise SmokeFailure(f"psycopg uses its {pq.__impl__} implementation, not the binary "
                           "one with its own libpq")
    version = pq.version()
    details = [f"psycopg {psycopg.__version__} with libpq {version // 10000}."
               f"{version % 10000} ({pq.__impl__})", _password_store()]
    url = os.environ.get(TEST_SERVER_VARIABLE, "").strip()
    if url:
        details.append(_server_session(url))
    return details


def _password_store() -> str:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = type(backend).__module__.rsplit(".", 1)[-1] + "." + type(backend).__name__
    if sys.platform == "win32":
        if type(backend).__module__ != "keyring.backends.Windows":
            raise SmokeFailure(f"no Windows Credential Manager for the server's password "
                               f"(keyring chose {name})")
        return f"password store {name}"
    if isinstance(backend, fail.Keyring):
        return "no password store here (the server's password is asked at start)"
    return f"password store {name}"


def _server_session(url: str) -> str:
    """A scratch database on the server at `url` (which may create databases), brought to
    today's schema, a signed session written, read back and checked; dropped after."""
    import uuid
    from datetime import datetime
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    from needledesk.domain.model import Client, Session, TreatedArea
    from needledesk.store.check import check_database
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    name = f"needledesk_smoke_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(url, autocommit=True, connect_timeout=10)
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            db = open_server(urlunsplit(urlsplit(url)._replace(path=f"/{name}")))
            try:
                repo = Repository(db)
                client = repo.add_client(Client("Smoke", "Server"), by="smoke test")
                now = datetime.now().replace(second=0, microsecond=0)
                session = repo.save_draft(Session(
                    client_id=client.id, started_at=now, practitioner="Smoke Test",
                    areas=[TreatedArea("forehead", 0.5, 3)]), by="smoke test")
                repo.sign_session(session.id, now, by="smoke test")
                stored = repo.get_session(session.id)
                if stored.signed_at is None or [a.area for a in stored.areas] != ["forehead"]:
                    raise SmokeFailure("the session on the clinic server did not read back "
                                       "as it was signed")
                problems = check_database(db)
                if problems:
                    raise SmokeFailure(f"check on the clinic server: {problems[0]}")
            finally:
                db.close()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
    return "session signed and checked on the test server"


def _finding() -> str:
    """The search's two data-driven parts load in this installation: anyascii's tables (a
    Cyrillic name found by its Latin spelling) and phonenumbers' rules (a UK number written
    internationally found as written nationally)."""
    from needledesk.domain.search import query_terms, search_text

    text = search_text("Анна", "Фёдорова", "07700 900123", "GB")
    for typed in ("fedorova", "fyodorova", "+44 7700 900123"):
        for term in query_terms(typed, "GB"):
            if not any((f" {alt}" if term.word else alt) in text for alt in term.alternatives):
                raise SmokeFailure(f"the search does not find Фёдорова by '{typed}' "
                                   f"(search text: {text!r})")
    return "search finds a Cyrillic name by its Latin spelling and a UK number by +44"


def _logo_jpeg(icon_path: Path) -> bytes:
    """The icon on white as a JPEG, as a clinic's logo often is, written by Qt's JPEG plugin
    and read back as the settings dialog reads a logo."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    from needledesk.ui.settings_dialog import is_logo_image

    icon = QImage(str(icon_path))
    if icon.isNull():
        raise SmokeFailure(f"Qt could not read the icon {icon_path}")
    flat = QImage(icon.size(), QImage.Format.Format_RGB32)
    flat.fill(Qt.GlobalColor.white)
    painter = QPainter(flat)
    painter.drawImage(0, 0, icon)
    painter.end()
    jpeg = _encoded(flat, "JPEG",
                    "Qt cannot write JPEG (its imageformats/qjpeg plugin is missing)")
    if not is_logo_image(jpeg):
        raise SmokeFailure("Qt cannot read a JPEG logo back (imageformats/qjpeg)")
    return jpeg


def _encoded(image: Any, fmt: str, failure: str) -> bytes:
    """The picture in `fmt` ("PNG", "JPEG") as Qt writes it; SmokeFailure(`failure`) when Qt
    cannot (an image-format plugin missing from the build)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 takes the format as str here (its stubs say bytes, which it refuses at run time).
    if not image.save(buffer, fmt):
        raise SmokeFailure(failure)
    buffer.close()
    return bytes(data.data())


def _fill(db_path: Path, logo: bytes) -> str:
    """Demo records and a logo in a fresh file; returns the id of one signed session."""
    from dataclasses import replace

    from needledesk.demo import fill
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository

    db = open_database(db_path)
    try:
        repo = Repository(db)
        added = fill(repo, clients=DEMO_CLIENTS, seed=DEMO_SEED).added
        if added.get("clients") != DEMO_CLIENTS:
            raise SmokeFailure(f"demo wrote {added.get('clients')} clients, "
                               f"not {DEMO_CLIENTS}")
        repo.save_settings(replace(repo.settings(), logo=logo), by="smoke test")
        client = repo.search_clients("")[0]
        sessions = repo.sessions(client.id)
        if not sessions:
            raise SmokeFailure(f"demo client {client.full_name} has no sessions")
        return sessions[-1].id
    finally:
        db.close()


def _catalogue(db_path: Path) -> str:
    """A product and a lot added to the catalogue, a session that picks the lot signed, the
    file checked sound, and the recall of the lot finding that session by its lot."""
    from datetime import date, datetime, timedelta

    from needledesk.domain.model import Lot, Product, ProductKind, Serum, Session, TreatedArea
    from needledesk.store.check import check_database
    from needledesk.store.database import open_database
    from needledesk.store.lists import recall
    from needledesk.store.repository import Repository

    db = open_database(db_path)
    try:
        repo = Repository(db)
        product = repo.add_product(Product("Smoke test serum", ProductKind.SERUM), by="smoke test")
        lot = repo.add_lot(Lot(product.id, "SMOKE-0001", date.today() + timedelta(days=365)),
                           by="smoke test")
        client = repo.search_clients("")[0]
        started = datetime.now().replace(second=0, microsecond=0)
        session = repo.save_draft(Session(
            client_id=client.id, started_at=started, practitioner="Smoke Test",
            areas=[TreatedArea("cheeks", 1.0, 2)],
            serums=[Serum(product.name, " smoke-0001", lot.id)]), by="smoke test")
        repo.sign_session(session.id, started, by="smoke test")
        stored = repo.get_session(session.id)
        if [x.lot_id for x in stored.serums] != [lot.id]:
            raise SmokeFailure("the session did not keep the catalogue lot it picked")
        problems = check_database(db)
        if problems:
            raise SmokeFailure(f"check after the catalogue lot: {problems[0]}")
        found = [row.session_id for row in recall(db, "Smoke-0001")]
        if found != [session.id]:
            raise SmokeFailure(f"the recall of lot SMOKE-0001 found {len(found)} session(s), "
                               "not the one that used it")
    finally:
        db.close()
    return "catalogue lot recalled"


#: The smoke test's signature: a short scribble on a 300 x 100 pad, (x, y) points.
SIGNATURE_STROKES = (((20, 70), (45, 30), (70, 72), (95, 28), (120, 66)),
                     ((140, 50), (200, 48), (260, 52)))


def _signature_png(strokes: tuple[tuple[tuple[int, int], ...], ...], width: int,
                   height: int) -> bytes:
    """The signature drawn by QPainter and written as PNG, as the signature pad keeps it."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QImage, QPainter, QPainterPath, QPen

    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(Qt.GlobalColor.black, 2.0))
    for stroke in strokes:
        path = QPainterPath(QPointF(*stroke[0]))
        for x, y in stroke[1:]:
            path.lineTo(x, y)
        painter.drawPath(path)
    painter.end()
    return _encoded(image, "PNG", "Qt cannot write a signature's picture as PNG")


def _consent(db_path: Path, pdf_path: Path) -> list[str]:
    """A treatment consent signed on screen (a drawn signature, strokes and picture) under
    the shipped form, and a session whose area sits in a face-chart zone, each read back as
    written; the file checked sound; the consent printed as PDF; the face chart's drawing
    read with every zone."""
    from datetime import datetime

    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.face_chart import ZONES, chart_art
    from needledesk.domain.model import (
        Consent,
        ConsentKind,
        ConsentMethod,
        Session,
        Signature,
        StrokePoint,
        TreatedArea,
    )
    from needledesk.reports.consent import consent_pdf
    from needledesk.store.check import check_database
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.transfer import write_private

    picture = _signature_png(SIGNATURE_STROKES, 300, 100)
    signature = Signature([[StrokePoint(x, y, 1.0, 16 * i) for i, (x, y) in enumerate(stroke)]
                           for stroke in SIGNATURE_STROKES], 300, 100, picture)
    db = open_database(db_path)
    try:
        repo = Repository(db)
        client = repo.search_clients("")[0]
        form = repo.current_template(ConsentKind.TREATMENT) or \
            default_template(ConsentKind.TREATMENT)
        now = datetime.now().replace(second=0, microsecond=0)
        consent = repo.add_consent(Consent(
            client.id, ConsentKind.TREATMENT, now, ConsentMethod.ON_SCREEN, "Smoke Test",
            form.title, form.body, list(form.statements),
            {x.key: True for x in form.statements}, form.id, form.version, signature,
            signature), by="smoke test", template=form)
        stored = repo.get_consent(consent.id)
        if stored.client_signature != signature or stored.body != form.body:
            raise SmokeFailure("the consent did not read back as it was signed")
        session = repo.save_draft(Session(
            client_id=client.id, started_at=now, practitioner="Smoke Test",
            areas=[TreatedArea("cheeks", 1.0, 2, zone="cheeks")]), by="smoke test")
        repo.sign_session(session.id, now, by="smoke test")
        if [x.zone for x in repo.get_session(session.id).areas] != ["cheeks"]:
            raise SmokeFailure("the session did not keep its area's face-chart zone")
        problems = check_database(db)
        if problems:
            raise SmokeFailure(f"check after the consent: {problems[0]}")
        write_private(pdf_path, consent_pdf(stored, repo.get_client(client.id),
                                            repo.settings()))
    finally:
        db.close()
    data = pdf_path.read_bytes()
    if not data.startswith(b"%PDF"):
        raise SmokeFailure(f"the consent PDF starts with {data[:8]!r}, not %PDF")
    art = chart_art()
    missing = [zone for zone in ZONES if not art.zones.get(zone)]
    if missing or not art.outline:
        raise SmokeFailure("the face chart's drawing lacks " + (
            f"the zone(s) {', '.join(missing)}" if missing else "the face's lines"))
    return ["consent signed and sealed", f"consent PDF {len(data):,} bytes",
            f"face chart of {len(art.zones)} zones drawn"]


#: A tiny HEIC as phones write them (tests/fixtures/photo-with-exif.heic: libheif's heif-enc
#: from a JPEG carrying a camera model, a serial number and a GPS position). pi-heif only
#: decodes, so the smoke test cannot make one.
HEIC_WITH_EXIF = (
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAeFtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAA"
    "AAAAAAAAAAAAAA5waXRtAAAAAAACAAAAEGlkYXQAAAAAAEAAMAAAAExpbG9jAQAAAERAAAMAAQAAAAAAAAIFAAEA"
    "AAAAAAAAcgACAAEAAAAAAAAAAQAAAAAAAAAIAAMAAAAAAAACdwABAAAAAAAAANgAAABNaWluZgAAAAAAAwAAABVp"
    "bmZlAgAAAQABAABodmMxAAAAABVpbmZlAgAAAAACAABncmlkAAAAABVpbmZlAgAAAQADAABFeGlmAAAAANVpcHJw"
    "AAAAs2lwY28AAABzaHZjQwEDcAAAAAAAAAAAAB7wAPz9+PgAAA8DIAABABhAAQwB//8DcAAAAwCQAAADAAADAB66"
    "AkAhAAEAJ0IBAQNwAAADAJAAAAMAAAMAHqAggQWW6uSmubAgAAADACAAAAMAISIAAQAGRAHBc8CJAAAAFGlzcGUA"
    "AAAAAAAAQAAAAEAAAAAUaXNwZQAAAAAAAABAAAAAMAAAABBwaXhpAAAAAAMICAgAAAAaaXBtYQAAAAAAAAACAAEC"
    "gQIAAgIDhAAAAChpcmVmAAAAAAAAAA5kaW1nAAIAAQABAAAADmNkc2MAAwABAAIAAAFSbWRhdAAAAG4oAa8J4EnM"
    "RzRxU//mzB/+STsvd/5PK09+WEf8/nRExuaEsNgy/kpN+FRnF5L3Rtj//q+IALxMxYrC9Lr5v6lyLvOWNm/gqh0m"
    "rHRQ+mXNoVYEcpwi9+NBWoyN7PYWx4lS5yagAFer5nGXrAcqjAAAAABNTQAqAAAACAAFAQ8AAgAAAAUAAABKARAA"
    "AgAAAAwAAABQARIAAwAAAAEABgAAh2kABAAAAAEAAABciCUABAAAAAEAAACeAAAAAEFjbWUAAFBob25lQ2FtIDEy"
    "AAACkAMAAgAAABQAAAB6pDEAAgAAAA8AAACOAAAAADIwMjY6MTE6MjAgMTA6MzE6MDUAU04tMDA0Mi1TRUNSRVQA"
    "AAACAAEAAgAAAAJOAAAAAAIABQAAAAMAAAC8AAAAAAAAADMAAAABAAAAHgAAAAEAAAAZAAAAAg=="
)
#: EXIF tags the photo step sets and checks are gone.
_ORIENTATION, _GPS_IFD, _EXIF_IFD, _BODY_SERIAL = 0x0112, 0x8825, 0x8769, 0xA431
_SERIAL = "SN-SMOKE-0001"


def _phone_jpeg() -> bytes:
    """A JPEG as a phone writes it, made by Pillow: taken turned (EXIF orientation 6), with a
    GPS position and the camera's serial number; its top-left quarter red, the rest blue."""
    import io

    from PIL import Image

    image = Image.new("RGB", (60, 40), (20, 40, 200))
    image.paste(Image.new("RGB", (30, 20), (220, 20, 20)), (0, 0))
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    exif.get_ifd(_GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.5)})
    exif.get_ifd(_EXIF_IFD)[_BODY_SERIAL] = _SERIAL
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def _photos(db_path: Path, session_id: str) -> list[str]:
    """Photos in this installation: a photo consent signed; a phone's JPEG (turned by its
    EXIF, with GPS and a serial) added to a session and read back upright with no metadata;
    a phone's HEIC decoded (pi-heif) and stored as JPEG; a picture written as QtMultimedia's
    frames are (the camera's path, `camera_dialog.jpeg_bytes`) stored as from the camera; the
    file checked sound, photo files included; QtMultimedia's backend plugin loaded (no camera
    needed) for the camera."""
    import base64
    import io
    from datetime import datetime

    from PIL import Image, ImageOps

    from needledesk.domain.consent_forms import default_template
    from needledesk.domain.model import (
        Consent,
        ConsentKind,
        ConsentMethod,
        PhotoSource,
        PhotoView,
        Signature,
        StrokePoint,
    )
    from needledesk.store.check import check_file
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.ui.camera_dialog import jpeg_bytes

    original = _phone_jpeg()
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(original))).convert("RGB")
    db = open_database(db_path)
    try:
        repo = Repository(db)
        session = repo.get_session(session_id)
        form = repo.current_template(ConsentKind.PHOTO) or default_template(ConsentKind.PHOTO)
        picture = _signature_png(SIGNATURE_STROKES, 300, 100)
        signature = Signature([[StrokePoint(x, y, 1.0, 16 * i) for i, (x, y) in
                                enumerate(stroke)] for stroke in SIGNATURE_STROKES],
                              300, 100, picture)
        repo.add_consent(Consent(
            session.client_id, ConsentKind.PHOTO, datetime.now().replace(microsecond=0),
            ConsentMethod.ON_SCREEN, "Smoke Test", form.title, form.body,
            list(form.statements), {x.key: True for x in form.statements}, form.id,
            form.version, signature, signature), by="smoke test", template=form)

        added = repo.add_photo(session_id, original, view=PhotoView.FRONT, by="smoke test",
                               name="IMG_0001.JPG")
        photo = added.photo
        if not added.added:
            raise SmokeFailure("the phone's JPEG was not added to the session")
        stored = repo.photo_bytes(photo)
        image = Image.open(io.BytesIO(stored))
        image.load()
        if image.size != upright.size or (photo.width, photo.height) != upright.size:
            raise SmokeFailure(f"the photo was stored {image.size[0]} x {image.size[1]}, not "
                               f"upright ({upright.size[0]} x {upright.size[1]})")
        corners = [(2, 2), (upright.width - 3, 2), (2, upright.height - 3)]
        for x, y in corners:
            want = _rgb(upright.getpixel((x, y)))
            got = _rgb(image.convert("RGB").getpixel((x, y)))
            if max(abs(a - b) for a, b in zip(want, got, strict=True)) > 40:
                raise SmokeFailure("the photo was not turned as its EXIF orientation says")
        exif = image.getexif()
        if exif or exif.get_ifd(_GPS_IFD) or _SERIAL.encode() in stored or "exif" in image.info:
            raise SmokeFailure("the stored photo still carries EXIF metadata (GPS, serial)")
        if not repo.thumbnail(photo).startswith(b"\xff\xd8"):
            raise SmokeFailure("the photo's thumbnail is not a JPEG")

        heic = repo.add_photo(session_id, base64.b64decode("".join(HEIC_WITH_EXIF)),
                              view=PhotoView.LEFT_45, by="smoke test",
                              name="IMG_0002.HEIC").photo
        decoded = repo.photo_bytes(heic)
        if heic.media_type != "image/jpeg" or b"PhoneCam" in decoded or b"SN-0042" in decoded:
            raise SmokeFailure("the HEIC photo was not stored as a JPEG without its metadata")

        camera = repo.add_photo(session_id, jpeg_bytes(_camera_frame()),
                                view=PhotoView.RIGHT_45, by="smoke test",
                                source=PhotoSource.CAMERA, name="the camera's picture").photo
        if (camera.width, camera.height, camera.source) != (64, 48, PhotoSource.CAMERA):
            raise SmokeFailure("the camera's picture was not stored as taken")

        report = check_file(db, photos=repo.photo_store)
        if report.problems:
            raise SmokeFailure(f"check after the photos: {report.problems[0]}")
        stored_count = len(repo.photos(session_id=session_id))
    finally:
        db.close()
    return ["photo added upright, metadata stripped (GPS, serial)", "HEIC decoded",
            f"camera picture stored ({stored_count} photos, files checked)", _camera_backend()]


def _rgb(pixel: Any) -> tuple[int, int, int]:
    red, green, blue = pixel
    return red, green, blue


def _camera_frame() -> Any:
    """A picture as the camera dialog receives one (a QImage from a QVideoFrame)."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 160, 140))
    return image


def _camera_backend() -> str:
    """QtMultimedia and its backend plugin load (the camera's), as the camera dialog loads
    them; how many cameras it finds (none on a build machine) is only reported."""
    from PySide6.QtCore import QLibraryInfo, QPluginLoader

    from needledesk.ui.camera_dialog import available_cameras

    try:
        cameras = available_cameras()
    except ImportError as exc:
        raise SmokeFailure(f"QtMultimedia does not load, so no camera can be used: "
                           f"{exc}") from exc
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "multimedia"
    plugins = sorted(folder.iterdir()) if folder.is_dir() else []
    problems = []
    for plugin in plugins:
        loader = QPluginLoader(str(plugin))
        if loader.load():
            return (f"camera backend {plugin.name} loaded, {len(cameras)} camera(s) "
                    "connected")
        problems.append(f"{plugin.name}: {loader.errorString()}")
    raise SmokeFailure("no camera backend loads (QtMultimedia's plugins/multimedia)"
                       + (f": {problems[0]}" if problems else ": the folder is empty"))


def _open_window(db_path: Path, state_path: Path) -> list[str]:
    """The main window on the file, shown, painted, listing the clients, closed."""
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication

    from needledesk.ui.app import application, open_main_window

    app = application()
    modals = _NoModals()
    window = open_main_window(db_path, QSettings(str(state_path), QSettings.Format.IniFormat))
    try:
        window.show()
        deadline = time.monotonic() + EXPOSE_SECONDS
        while not (window.windowHandle() and window.windowHandle().isExposed()):
            if time.monotonic() > deadline:
                raise SmokeFailure(f"the main window was not shown within {EXPOSE_SECONDS:.0f} s")
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()
        picture = window.grab()   # paints every widget, as the first paint on screen does
        if picture.isNull() or picture.width() < 100 or picture.height() < 100:
            raise SmokeFailure(f"the main window painted as {picture.width()}x"
                               f"{picture.height()} pixels")
        while not window.attached:   # the records load one loop turn after the first paint
            if time.monotonic() > deadline:
                raise SmokeFailure("the records did not load after the window's first paint "
                                   f"within {EXPOSE_SECONDS:.0f} s")
            app.processEvents()
            time.sleep(0.01)
        rows = window.client_model.rowCount()
        if rows != DEMO_CLIENTS:
            raise SmokeFailure(f"the client list shows {rows} rows, not {DEMO_CLIENTS}")
        size = f"{window.width()}x{window.height()}"
    finally:
        # Closing takes the on-close backup on a worker ("Backing up…") and the window
        # closes itself when it reports: wait for that, as a person would.
        window.close()
        deadline = time.monotonic() + EXPOSE_SECONDS
        while window.isVisible() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        closed = not window.isVisible()
        if window.attached:
            window.repo.db.close()
        window.deleteLater()
        app.processEvents()
        modals.stop()
    if modals.seen:
        raise SmokeFailure(f"the window showed a message: {modals.seen[0]}")
    if not closed:
        raise SmokeFailure(f"the main window did not close within {EXPOSE_SECONDS:.0f} s")
    backups = sorted((db_path.parent / "backups").glob("*.db"))
    if not backups:
        raise SmokeFailure("closing the window took no backup")
    return [f"window {size} painted on {QGuiApplication.platformName()}",
            f"{rows} clients listed", "backup on closing taken"]


def _summary_pdf(db_path: Path, session_id: str, pdf_path: Path) -> list[str]:
    """A session summary with the logo written to a file, read back, rendered by QtPdf."""
    import importlib

    from PySide6.QtCore import QSize, Qt

    from needledesk.reports.build import session_summary_pdf
    from needledesk.reports.layout import logo_image
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.transfer import write_private
    from needledesk.ui.printing import PdfPages

    try:  # reportlab only tries it: a bundle without it prints, three times slower
        importlib.import_module("_rl_accel")
    except ImportError:
        raise SmokeFailure("reportlab's C accelerator (_rl_accel) is missing") from None
    db = open_database(db_path)
    try:
        repo = Repository(db)
        if logo_image(repo.settings().logo) is None:   # the summary would leave it out
            raise SmokeFailure("Pillow cannot decode the JPEG logo for the summary")
        write_private(pdf_path, session_summary_pdf(repo, session_id))
    finally:
        db.close()
    data = pdf_path.read_bytes()
    if not data.startswith(b"%PDF"):
        raise SmokeFailure(f"the summary PDF starts with {data[:8]!r}, not %PDF "
                           f"({len(data)} bytes)")
    pages = PdfPages(data)
    image = pages.document.render(0, QSize(300, 424))
    if image.isNull():
        raise SmokeFailure("QtPdf could not render the summary's first page")
    average = image.scaled(1, 1, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation).pixelColor(0, 0)
    if average.lightness() >= 255:
        raise SmokeFailure("the summary's first page renders blank")
    return [f"summary PDF with logo {len(data):,} bytes, {pages.count} page(s) rendered by "
            "QtPdf"]


def _shaping_and_fonts() -> list[str]:
    """HarfBuzz (uharfbuzz) loads and joins Arabic letters; a font of this PC for Chinese,
    Japanese and Korean names is found, or the line says plainly that there is none (the
    bundle ships no CJK font: it would not fit the size budget)."""
    import importlib

    try:  # reportlab only tries it: without it, Arabic would print unjoined
        importlib.import_module("uharfbuzz")
    except ImportError as exc:
        raise SmokeFailure(f"the shaping library uharfbuzz cannot be loaded ({exc})") from None
    from reportlab.pdfbase.ttfonts import shapeStr

    from needledesk.reports import fonts

    fonts.register_fonts()
    word = "\u0645\u062d\u0645\u062f"  # an Arabic name, four letters that join
    shaped = shapeStr(word, fonts.REGULAR, 10, force=True)
    if str(shaped) == word:
        raise SmokeFailure("HarfBuzz loaded but left Arabic letters unjoined")
    found = {fonts.font_for(ord(ch)) for ch in "\u4e2d\u3042\ud55c"}  # 中 あ 한
    names = sorted(n for n in found if n)
    if not names:
        cjk = ("no font for Chinese, Japanese or Korean on this PC: such names would print "
               "as empty boxes")
    else:
        cjk = "CJK fallback font " + "; ".join(fonts.files[n] for n in names)
        if None in found:
            cjk += " (not every one of Chinese, Japanese and Korean)"
    return ["HarfBuzz shapes Arabic", cjk]


def _printing() -> str:
    """Printing can work. On Windows print support is built into Qt6PrintSupport.dll (the
    PySide6 6.10+ wheels have no printsupport plugin folder): QtPrintSupport must load and a
    QPrinter be made, and the print dialog too when a printer is installed (a build machine
    or Wine has none, and Qt's Windows dialog serves installed printers only). On Linux the
    CUPS plugin loads if the system has CUPS, and without it Qt prints to PDF files only
    (macOS prints through its platform plugin)."""
    if sys.platform == "win32":
        return _printing_windows()
    from PySide6.QtCore import QLibraryInfo, QPluginLoader

    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "printsupport"
    plugins = sorted(folder.iterdir()) if folder.is_dir() else []
    problems = []
    for plugin in plugins:
        loader = QPluginLoader(str(plugin))
        if loader.load():
            return f"print plugin {plugin.name} loaded"
        problems.append(loader.errorString())
    return "no print plugin (PDF only)" + (f": {problems[0]}" if problems else "")


def _printing_windows() -> str:
    try:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
    except ImportError as exc:
        raise SmokeFailure(f"QtPrintSupport does not load, so nothing can be printed: "
                           f"{exc}") from exc
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    names = QPrinterInfo.availablePrinterNames()
    if not names:   # Qt's Windows print dialog is for installed printers only
        return "print support loaded, no printer installed"
    dialog = QPrintDialog(printer)
    try:
        if dialog.printer() is None:
            raise SmokeFailure("the print dialog has no printer")
    finally:
        dialog.deleteLater()
    return (f"print support and dialog loaded, {len(names)} printer(s), default "
            f"{QPrinterInfo.defaultPrinterName() or 'none'}")


def _app_lock() -> None:
    from needledesk.security import hash_secret, verify_secret

    stored = hash_secret("2468")
    if not verify_secret(stored, "2468") or verify_secret(stored, "1357"):
        raise SmokeFailure("the app lock's argon2 hash does not check PINs correctly")


class _NoModals:
    """Closes any modal dialog the window opens (a warning when the backup on closing fails,
    say) and keeps its text as the failure's reason: a smoke test must never wait for a
    click that will not come."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.seen: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._close_modal)
        self._timer.start()

    def _close_modal(self) -> None:
        from PySide6.QtWidgets import QApplication, QProgressDialog

        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QProgressDialog):
            return  # "Backing up…" asks nothing: it closes itself when the work reports
        if dialog is not None:
            text = getattr(dialog, "text", lambda: "")()
            self.seen.append(_one_line(f"{dialog.windowTitle()}: {text}"))
            dialog.close()

    def stop(self) -> None:
        self._timer.stop()


class _QtMessages:
    """Collects Qt's warnings while the checks run, so the outcome stays one line; a fatal
    message (Qt aborts right after it) is printed as the failure's reason first."""

    def __init__(self):
        self.warnings: list[str] = []
        self._previous = None

    def __enter__(self):
        from PySide6.QtCore import qInstallMessageHandler

        self._previous = qInstallMessageHandler(self._handle)
        return self

    def __exit__(self, *exc_info):
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(self._previous)
        return False

    def _handle(self, kind, _context, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        if kind == QtMsgType.QtFatalMsg:
            print(f"smoke test failed: Qt: {_one_line(message)}", file=sys.stderr, flush=True)
        elif kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg):
            self.warnings.append(_one_line(message))


def _one_line(text: str) -> str:
    return " ".join(text.split())
