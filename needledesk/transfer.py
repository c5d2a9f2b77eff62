"""Import and export of whole records between the store and exchange files.

Import is all or nothing: the file is decoded and every rule checked before the first row
is written, and then everything is written in one transaction.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from needledesk.domain.acknowledgements import pending
from needledesk.domain.products import picked_lots, session_lot_warnings
from needledesk.domain.rules import GuidelineWarning, join_path
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.exchange import (
    Decoded,
    FormatError,
    decode_document,
    dumps,
    encode_document,
    parse_json,
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
                    on_progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a decoded exchange document; `by` is who imports it (the audit trail's name)."""
    decoded = decode_document(document, today)
    if decoded.problems:
        raise ValidationError(decoded.problems)
    # A catalogue that conflicts with this one refuses the import before anything is
    # written; the catalogue and the records are then written in one transaction.
    catalogue = (repo.catalogue_problems(decoded.products, decoded.lots)
                 + repo.lot_reference_problems(decoded.records, decoded.lots))
    if catalogue:
        raise ValidationError(catalogue)
    result = repo.write_records(decoded.records, by=by, today=today, on_progress=on_progress,
                                catalogue=(decoded.products, decoded.lots),
                                consent_templates=decoded.consent_templates)
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


def read_import_file(path: str | os.PathLike, limit: int = IMPORT_MAX_BYTES) -> bytes:
    """The bytes of a file to import: a regular file of at most `limit` bytes. A FIFO, a
    device (`/dev/zero`) or a folder is refused before reading, and so is a file too large,
    so import never blocks or runs out of memory."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise NeedleDeskError(f"{path}: cannot be read ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise NeedleDeskError(f"{path}: is {kind}, not a file; import reads an exchange "
                                  "file (.json)")
        raise NeedleDeskError(f"{path}: is {_megabytes(info.st_size)}; an exchange file "
                              f"may be at most {_megabytes(limit)}")
    with os.fdopen(fd, "rb") as handle:
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
    raw = read_import_file(path)
    try:
        document = parse_json(raw)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    return import_document(repo, document, **kwargs)


def export_text(repo: Repository, client_id: str | None = None) -> str:
    """The exchange document of the whole clinic (with its product catalogue and consent
    forms), or of one client (with the catalogue lots their sessions were picked from, and
    those lots' products, and the form versions their consents were signed under)."""
    records = list(repo.load_records(client_id))
    products, lots = repo.products(), repo.lots()
    if client_id is not None:
        used = {lot_id for r in records for s in r.sessions for _path, lot_id in picked_lots(s)}
        lots = [x for x in lots if x.id in used]
        products = [p for p in products if p.id in {x.product_id for x in lots}]
    templates = repo.consent_templates()
    if client_id is not None:
        named = {c.template_id for r in records for c in r.consents}
        templates = [t for t in templates if t.id in named]
    return dumps(encode_document(records, products=products, lots=lots,
                                 consent_templates=templates))


def write_private(path: str | os.PathLike, data: str | bytes) -> None:
    """Write a file readable by the user only, atomically: a crash or a full disk leaves
    either the old file or the whole new one, never half of it. The new file is renamed
    over the name, so a symbolic or hard link there is replaced, never written through.
    Callers writing where a person chose refuse the database's own files first
    (`needledesk.store.targets.refuse_protected_target`)."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise NeedleDeskError(f"{path}: cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise NeedleDeskError(f"{path}: cannot be written ({exc.strerror})") from None
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
