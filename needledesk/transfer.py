"""Import and export of whole records between the store and exchange files.

Import is all or nothing: the file is decoded and every rule checked before the first row
is written, and then everything is written in one transaction.

An exchange file is the JSON alone (`.json`: records, no photos) or a zip (`.zip`, version
2): `needledesk.json` at its root and each live photo's picture as `photos/<sha256>.jpg`
(or `.png`) beside it. A zip is read member by member with a cap on every read, never
extracted; one with a member outside its root, a link, a name twice, too many members, a
member too large or compressed like a zip bomb, or a picture that differs from the hash the
JSON names is refused before anything is written (docs/exchange-format.md, "The zip").
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from needledesk.domain.acknowledgements import pending
from needledesk.domain.model import ClientRecord, Photo
from needledesk.domain.photos import SIZE_MAX
from needledesk.domain.products import picked_lots, session_lot_warnings
from needledesk.domain.rules import GuidelineWarning, Problem, join_path
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.exchange import (
    PHOTO_FOLDER,
    Decoded,
    FormatError,
    decode_document,
    dumps,
    encode_document,
    parse_json,
    photo_file,
)
from needledesk.store.repository import ImportResult, Repository


@dataclass
class ImportReport:
    result: ImportResult
    warnings: list[GuidelineWarning] = field(default_factory=list)
    #: Catalogue products and lots the file added (files from before the catalogue: none).
    products_added: int = 0
    lots_added: int = 0


def import_document(repo: Repository, document, *, by: str, today: date | None = None,
                    on_progress: Callable[[int, int], None] | None = None,
                    pictures: ZipPictures | None = None) -> ImportReport:
    """Import a decoded exchange document; `by` is who imports it (the audit trail's name).
    `pictures`: the photos' files of the zip the document came in (None for a `.json`,
    which carries no photos: a document naming some is refused)."""
    decoded = decode_document(document, today)
    if decoded.problems:
        raise ValidationError(decoded.problems)
    if pictures is not None:
        pictures.check(decoded.records)
    elif any(r.photos for r in decoded.records):
        raise ValidationError([
            Problem(f"clients[{i}].photos[{j}].file", f"{photo_file(p.sha256, p.media_type)} "
                    "is not here: a .json file carries no photos; import the .zip that "
                    "holds them")
            for i, r in enumerate(decoded.records) for j, p in enumerate(r.photos)][:20])
    # A catalogue that conflicts with this one refuses the import before anything is
    # written; the catalogue and the records are then written in one transaction.
    catalogue = (repo.catalogue_problems(decoded.products, decoded.lots)
                 + repo.lot_reference_problems(decoded.records, decoded.lots))
    if catalogue:
        raise ValidationError(catalogue)
    result = repo.write_records(decoded.records, by=by, today=today, on_progress=on_progress,
                                catalogue=(decoded.products, decoded.lots),
                                consent_templates=decoded.consent_templates,
                                photo_data=pictures.read if pictures is not None else None)
    return ImportReport(result, decoded.warnings + lot_warnings(repo, decoded),
                        result.added.pop("products", 0), result.added.pop("lots", 0))


def lot_warnings(repo: Repository, decoded: Decoded) -> list[GuidelineWarning]:
    """The imported sessions' lots checked against the catalogue as it now stands (this
    clinic's, with the file's): an expired, expiring or unknown lot of a catalogue product
    that the session does not acknowledge is reported, as the editor would have warned.
    Reported only: the session was recorded elsewhere and is imported as it is."""
    products = repo.products()
    lots = repo.lots_by_product()
    found: list[GuidelineWarning] = []
    for i, record in enumerate(decoded.records):
        for j, session in enumerate(record.sessions):
            for w in pending(session_lot_warnings(session, products, lots),
                             session.acknowledged_warnings):
                found.append(GuidelineWarning(w.code, join_path(
                    f"clients[{i}].sessions[{j}]", w.path), w.message))
    return found


#: The largest exchange file import reads: far above a clinic's export, far below memory.
IMPORT_MAX_BYTES = 256 * 1024 * 1024


def _open_regular(path: str | os.PathLike, limit: int | None) -> IO[bytes]:
    """The file opened for reading, refused (closed) when it is not a regular file or, with
    `limit`, when it is larger."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise NeedleDeskError(f"{path}: cannot be read ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise NeedleDeskError(f"{path}: is {kind}, not a file; import reads an exchange "
                                  "file (.json or .zip)")
        raise NeedleDeskError(f"{path}: is {_megabytes(info.st_size)}; an exchange file "
                              f"may be at most {_megabytes(limit or 0)}")
    return os.fdopen(fd, "rb")


def read_import_file(path: str | os.PathLike, limit: int = IMPORT_MAX_BYTES) -> bytes:
    """The bytes of a file to import: a regular file of at most `limit` bytes. A FIFO, a
    device (`/dev/zero`) or a folder is refused before reading, and so is a file too large,
    so import never blocks or runs out of memory."""
    with _open_regular(path, limit) as handle:
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise NeedleDeskError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > limit:  # it grew while being read
        raise NeedleDeskError(f"{path}: is over {_megabytes(limit)}; an exchange file may be "
                              f"at most {_megabytes(limit)}")
    return raw


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def import_file(repo: Repository, path: str | os.PathLike, **kwargs) -> ImportReport:
    """Import an exchange file: the JSON alone, or a zip with its photos (told apart by the
    file's first bytes, not its name)."""
    with _open_regular(path, None) as handle:
        is_zip = handle.read(4) in ZIP_MAGIC
    if is_zip:
        return import_zip(repo, path, **kwargs)
    raw = read_import_file(path)
    try:
        document = parse_json(raw)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    return import_document(repo, document, **kwargs)


# --- the zip ----------------------------------------------------------------------------

#: The JSON's name at the zip's root.
ZIP_JSON = "needledesk.json"
#: A zip's first bytes (a file, or an empty zip).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: The most members a zip may have (a clinic of 20,000 photos has 20,001).
ZIP_MEMBERS_MAX = 50_000
#: The largest photo file (as the store takes them: `domain.photos.SIZE_MAX`).
PHOTO_MAX_BYTES = SIZE_MAX
#: The most all members together may expand to.
ZIP_TOTAL_MAX = 20 * 1024 ** 3
#: A member larger than 1 MB may expand at most this many times its compressed size (JSON
#: deflates about 10 times, pictures not at all; a zip bomb a thousand times).
ZIP_RATIO_MAX = 100
_RATIO_FROM = 1024 * 1024
_PICTURE = re.compile(rf"{PHOTO_FOLDER}/[0-9a-f]{{64}}\.(jpg|png)", re.ASCII)
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CHUNK = 1024 * 1024


class ZipRefusedError(FormatError):
    """The zip is refused as a whole, before anything is read from it into the clinic."""


def _shown(name: str) -> str:
    """A member's name as it can be printed in one line."""
    text = _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
    return f"“{text if len(text) <= 90 else text[:87] + '...'}”"


def _outside(name: str) -> str | None:
    """Why a member's name would lead outside the zip's root, or None."""
    if "\\" in name:
        return "has a backslash in its name"
    if name.startswith("/"):
        return "has an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "names a drive"
    if ".." in name.split("/"):
        return "leads out of the zip's folder (..)"
    if "\x00" in name:
        return "has a nul character in its name"
    return None


def _member_refusal(info: zipfile.ZipInfo) -> str | None:
    """Why one member makes the whole zip unsafe to read, or None."""
    outside = _outside(info.filename)
    if outside is not None:
        return outside
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "is compressed in a way NeedleDesk does not read (only stored or deflated)"
    if info.is_dir():
        return None if info.filename == f"{PHOTO_FOLDER}/" else \
            f"is a folder; the zip holds {ZIP_JSON} and a {PHOTO_FOLDER} folder only"
    limit = IMPORT_MAX_BYTES if info.filename == ZIP_JSON else PHOTO_MAX_BYTES
    if info.file_size > limit:
        return (f"expands to {_megabytes(info.file_size)}; at most {_megabytes(limit)} "
                "allowed")
    if info.file_size > _RATIO_FROM and info.file_size > info.compress_size * ZIP_RATIO_MAX:
        return (f"expands {info.file_size // max(info.compress_size, 1):,} times its "
                f"compressed size (at most {ZIP_RATIO_MAX}): it looks like a zip bomb")
    if info.filename != ZIP_JSON and not _PICTURE.fullmatch(info.filename):
        return (f"is not part of an exchange file (the zip holds {ZIP_JSON} and "
                f"{PHOTO_FOLDER}/<hash>.jpg or .png pictures only)")
    return None


class ZipPictures:
    """The photos' files of an exchange zip, read one at a time with a cap."""

    def __init__(self, archive: zipfile.ZipFile, path: str | os.PathLike):
        self.archive = archive
        self.path = path
        self.members = {x.filename: x for x in archive.infolist() if not x.is_dir()}
        self._names: dict[str, str] = {}

    def _read(self, name: str, limit: int) -> bytes:
        info = self.members[name]
        try:
            with self.archive.open(info) as member:
                data = member.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise ZipRefusedError(f"{self.path}: {_shown(name)} cannot be read: it is "
                                  "damaged, or not the size the zip says; nothing was "
                                  "imported") from None
        if len(data) > limit:
            raise ZipRefusedError(f"{self.path}: {_shown(name)} expands past "
                                  f"{_megabytes(limit)}; nothing was imported")
        return data

    def _hash(self, name: str) -> tuple[str, int]:
        """The SHA-256 and length of a member, read in pieces (never wholly in memory)."""
        info = self.members[name]
        sha, size = hashlib.sha256(), 0
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    size += len(chunk)
                    if size > PHOTO_MAX_BYTES:
                        raise ZipRefusedError(f"{self.path}: {_shown(name)} expands past "
                                              f"{_megabytes(PHOTO_MAX_BYTES)}; nothing was "
                                              "imported")
                    sha.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise ZipRefusedError(f"{self.path}: {_shown(name)} cannot be read: it is "
                                  "damaged, or not the size the zip says; nothing was "
                                  "imported") from None
        return sha.hexdigest(), size

    def document(self) -> Any:
        if ZIP_JSON not in self.members:
            raise ZipRefusedError(f"{self.path}: the zip has no {ZIP_JSON} at its root; it "
                                  "is not a NeedleDesk exchange file")
        try:
            return parse_json(self._read(ZIP_JSON, IMPORT_MAX_BYTES))
        except FormatError as exc:
            raise FormatError(f"{self.path}: {ZIP_JSON}: {exc}") from None

    def check(self, records: list[ClientRecord]) -> None:
        """Every photo's file is in the zip and matches its hash and size, and every
        picture in the zip is some photo's: refused (ValidationError, by place) otherwise."""
        problems: list[Problem] = []
        named: dict[str, tuple[str, Photo]] = {}
        for i, record in enumerate(records):
            for j, photo in enumerate(record.photos):
                name = photo_file(photo.sha256, photo.media_type)
                place = f"clients[{i}].photos[{j}].file"
                if name not in self.members:
                    problems.append(Problem(place, f"{name} is not in the zip"))
                elif name not in named:
                    named[name] = (place, photo)
                    self._names[photo.sha256] = name
        for name in sorted(set(self.members) - set(named) - {ZIP_JSON}):
            problems.append(Problem("", f"{_shown(name)} is in the zip but no photo in "
                                    f"{ZIP_JSON} names it"))
        for name, (place, photo) in named.items():
            sha, size = self._hash(name)
            if sha != photo.sha256:
                problems.append(Problem(place, f"{name} does not match its hash: the picture "
                                        "was changed or damaged"))
            elif size != photo.size:
                problems.append(Problem(place, f"{name} is {size:,} bytes; the photo's record "
                                        f"says {photo.size:,}"))
        if problems:
            raise ValidationError(problems)

    def read(self, sha256: str) -> bytes:
        """A photo's picture by its hash (checked by `check`, and again by the store)."""
        return self._read(self._names[sha256], PHOTO_MAX_BYTES)


def open_zip(path: str | os.PathLike, handle: IO[bytes]) -> zipfile.ZipFile:
    """The zip opened and every member's name, kind and size checked; refused as a whole
    (one plain line naming the first bad member) otherwise."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ZipRefusedError(f"{path}: not a zip file NeedleDesk can read ({exc})") from None
    try:
        infos = archive.infolist()
        if len(infos) > ZIP_MEMBERS_MAX:
            raise ZipRefusedError(f"{path}: the zip holds {len(infos):,} files; an exchange "
                                  f"zip may hold at most {ZIP_MEMBERS_MAX:,}; nothing was "
                                  "imported")
        seen: set[str] = set()
        refused: list[str] = []
        total = 0
        for info in infos:
            why = _member_refusal(info)
            if info.filename in seen:
                why = "appears twice in the zip"
            seen.add(info.filename)
            total += info.file_size
            if why is not None:
                refused.append(f"{_shown(info.filename)} {why}")
        if total > ZIP_TOTAL_MAX:
            refused.insert(0, f"its files expand to {_megabytes(total)}; at most "
                              f"{_megabytes(ZIP_TOTAL_MAX)} allowed")
        if refused:
            more = f" (and {len(refused) - 1:,} more)" if len(refused) > 1 else ""
            raise ZipRefusedError(f"{path}: {refused[0]}{more}; nothing was imported")
    except BaseException:
        archive.close()
        raise
    return archive


def import_zip(repo: Repository, path: str | os.PathLike, **kwargs) -> ImportReport:
    """Import an exchange zip: its JSON and its photos' pictures, all or nothing."""
    with _open_regular(path, None) as handle, open_zip(path, handle) as archive:
        pictures = ZipPictures(archive, path)
        return import_document(repo, pictures.document(), pictures=pictures, **kwargs)


# --- export -----------------------------------------------------------------------------


@dataclass
class Exported:
    """What an export wrote: how many photos it carried, and how many a `.json` left out."""

    photos: int = 0
    photos_left_out: int = 0

    def note(self) -> str | None:
        """The plain sentence a `.json` export with photos left out shows, or None."""
        if not self.photos_left_out:
            return None
        count = self.photos_left_out
        return (f"{count:,} photo{'s were' if count != 1 else ' was'} not written: a .json "
                "file carries records only. Export to a file ending in .zip to carry the "
                "photos too.")


def export_document(repo: Repository, client_id: str | None = None, *,
                    photos: bool = True) -> dict[str, Any]:
    """The exchange document of the whole clinic (with its product catalogue and consent
    forms), or of one client (with the catalogue lots their sessions were picked from, and
    those lots' products, and the form versions their consents were signed under). With
    `photos` False, the photos' records are left out (a `.json` carries none)."""
    records = list(repo.load_records(client_id))
    if not photos:
        records = [replace(r, photos=[]) for r in records]
    products, lots = repo.products(), repo.lots()
    if client_id is not None:
        used = {lot_id for r in records for s in r.sessions for _path, lot_id in picked_lots(s)}
        lots = [x for x in lots if x.id in used]
        products = [p for p in products if p.id in {x.product_id for x in lots}]
    templates = repo.consent_templates()
    if client_id is not None:
        named = {c.template_id for r in records for c in r.consents}
        templates = [t for t in templates if t.id in named]
    return encode_document(records, products=products, lots=lots,
                           consent_templates=templates)


def export_text(repo: Repository, client_id: str | None = None) -> str:
    """The exchange document as JSON, without photos (see `export_json`, `export_zip`)."""
    return dumps(export_document(repo, client_id, photos=False))


def _live_photos(repo: Repository, client_id: str | None) -> list[Photo]:
    if client_id is not None:
        return repo.photos(client_id=client_id)
    return repo.photos()


def export_json(repo: Repository, path: str | os.PathLike | None,
                client_id: str | None = None) -> tuple[str, Exported]:
    """The JSON alone (written to `path` when given): records without photos; the result
    says how many photos were left out."""
    text = export_text(repo, client_id)
    if path is not None:
        write_private(path, text)
    return text, Exported(photos_left_out=len(_live_photos(repo, client_id)))


def export_zip(repo: Repository, path: str | os.PathLike, client_id: str | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> Exported:
    """The exchange zip at `path`: `needledesk.json` (deflated) and every live photo's
    picture (stored: it is compressed already), each read back through its hash check.
    Written like `write_private`: atomically, readable by the user only."""
    document = export_document(repo, client_id)
    photos = {p.sha256: p for p in _live_photos(repo, client_id)}
    stamp = datetime.now().timetuple()[:6]

    def member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.external_attr = (stat.S_IFREG | 0o600) << 16
        info.create_system = 3   # the mode above is a Unix one
        return info

    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
            json_member = member(ZIP_JSON)
            json_member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(json_member, dumps(document).encode("utf-8"))
            for done, photo in enumerate(photos.values(), 1):
                data = repo.photo_bytes(photo)   # raises if it differs from its hash
                picture = member(photo_file(photo.sha256, photo.media_type))
                picture.compress_type = zipfile.ZIP_STORED
                archive.writestr(picture, data)
                if on_progress:
                    on_progress(done, len(photos))

    _write_private_with(path, write)
    return Exported(photos=len(photos))


def write_private(path: str | os.PathLike, data: str | bytes) -> None:
    """Write a file readable by the user only, atomically: a crash or a full disk leaves
    either the old file or the whole new one, never half of it. The new file is renamed
    over the name, so a symbolic or hard link there is replaced, never written through.
    Callers writing where a person chose refuse the database's own files first
    (`needledesk.store.targets.refuse_protected_target`)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    _write_private_with(path, lambda handle: handle.write(payload))


def _write_private_with(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """`write_private` for content written piece by piece into the open file: whole or
    not at all (any failure, of the disk or of `write`, leaves no file behind)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise NeedleDeskError(f"{path}: cannot be written ({exc.strerror})") from None
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise NeedleDeskError(f"{path}: cannot be written ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a folder to sync it)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
