"""Tamper evidence kept outside the database file: anchors and backup manifests.

The audit trail's chain is a plain SHA-256 over the file's own rows, so whoever can write the
file can rewrite the whole trail and recompute every hash. What they cannot do from inside
the file is change what was written elsewhere:

- the anchor file `<data folder>/anchors/<database id>.jsonl` (user-only), to which every
  committed write appends the trail's new head (first and last row, last row's hash); and
- the manifest `<backup>.manifest.json` written beside every backup, holding the head of the
  trail the backup holds.

`verify` checks the trail against every anchor it can find: each recorded (row, hash) must be
on the chain, and every row since anchoring began must be covered by an anchor (a forged row
appended with a recomputed hash is covered by none). A restore rewinds the trail on purpose:
`record_restore_epoch` starts a new epoch in the anchor file, and anchors of an earlier epoch
past the point the trail was rewound to are then history, not evidence.

Whoever can rewrite the file AND the anchor file AND every backup's manifest can still forge.

On the clinic server several rooms write one trail: each room's anchor file holds the rows
that room wrote (and the baseline where the server was made), so `verify` there checks that
every anchored row is still on the chain as it was, but cannot call a row no anchor of this
PC covers an intruder's: it is as likely another room's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from needledesk.domain.text import moment_text
from needledesk.store.engine import dialect

log = logging.getLogger(__name__)

#: Overrides where the anchor files are kept (tests; a clinic that wants them elsewhere).
ANCHOR_ENV = "NEEDLEDESK_ANCHORS"
ANCHOR_VERSION = 1
MANIFEST_FORMAT = "needledesk-backup-manifest"
MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
GENESIS = "0" * 64
_PRIVATE_FILE, _PRIVATE_FOLDER = 0o600, 0o700


#: Where anchors go: a folder, or None for the default (see anchor_dir).
_Folder = str | os.PathLike[str] | None


def anchor_dir(folder: _Folder = None) -> Path:
    """`folder` if given, else $NEEDLEDESK_ANCHORS, else `anchors` in the data folder."""
    if folder is not None:
        return Path(folder)
    override = os.environ.get(ANCHOR_ENV)
    if override:
        return Path(override)
    from needledesk.paths import data_dir

    return data_dir() / "anchors"


def anchor_file(database_id: str, folder: str | os.PathLike[str] | None = None) -> Path:
    return anchor_dir(folder) / f"{database_id}.jsonl"


def manifest_path(backup: str | os.PathLike[str]) -> Path:
    backup = Path(backup)
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def _conn(db_or_conn: Any) -> sqlite3.Connection:
    conn: sqlite3.Connection = getattr(db_or_conn, "conn", db_or_conn)
    return conn


def database_id(db_or_conn: Any) -> str | None:
    """The database's random id (schema 5 on), or None for an older file."""
    try:
        row = _conn(db_or_conn).execute(
            "SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    except dialect(db_or_conn).errors:
        return None
    return row[0] if row else None


def chain_head(db_or_conn: Any) -> tuple[int, str]:
    """(seq, hash) of the trail's newest row; (0, GENESIS) when there is none."""
    try:
        row = _conn(db_or_conn).execute(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    except dialect(db_or_conn).errors:
        return 0, GENESIS
    return (row[0], row[1]) if row else (0, GENESIS)


def _now() -> str:
    return datetime.now().replace(microsecond=0).isoformat()


def _append(database_id: str, entry: dict[str, Any], folder: _Folder = None) -> bool:
    """Append one line to the anchor file; False (and a warning in the log) if it cannot be
    written: the write it notes is already committed and must not fail for this."""
    path = anchor_file(database_id, folder)
    line = json.dumps({"v": ANCHOR_VERSION, **entry, "at": _now()}, ensure_ascii=False,
                      separators=(",", ":")) + "\n"
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=_PRIVATE_FOLDER, parents=True, exist_ok=True)
            if os.name == "posix":
                os.chmod(path.parent, _PRIVATE_FOLDER)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _PRIVATE_FILE)
        try:
            if os.name == "posix":
                os.fchmod(fd, _PRIVATE_FILE)
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("could not write the anchor file %s: %s", path, exc)
        return False
    return True


def _where(path: str | os.PathLike[str] | None) -> str | None:
    if not path:
        return None
    text = os.fspath(path)
    # The clinic server's address is kept as it is (it is not a file).
    return text if text.startswith("postgresql:") else os.path.realpath(text)


def note_write(database_id: str, first: int, last: int, head_hash: str, *,
               pending: bool = False, path: str | os.PathLike[str] | None = None,
               folder: _Folder = None) -> bool:
    """Rows `first`..`last` were written by NeedleDesk to the file at `path`; row `last` has
    `head_hash`. `pending`: noted just before the commit (counts only if the rows are there)."""
    return _append(database_id, {"kind": "pending" if pending else "write", "from": first,
                                 "seq": last, "hash": head_hash, "path": _where(path)}, folder)


def note_baseline(database_id: str, seq: int, head_hash: str, *,
                  path: str | os.PathLike[str] | None = None, folder: _Folder = None) -> bool:
    """The trail up to `seq` is taken as it is (a new database, or one just upgraded to
    schema 5: its earlier rows were written before anchors existed)."""
    return _append(database_id, {"kind": "baseline", "seq": seq, "hash": head_hash,
                                 "path": _where(path)}, folder)


def record_restore_epoch(db_path: str | os.PathLike[str], *,
                         backup: str | os.PathLike[str] | None = None,
                         folder: _Folder = None) -> str | None:
    """Call right after a backup replaced the database at `db_path`, before anything else is
    written to it: the trail now ends at the backup's head, and anchors written after that
    backup was taken belong to the timeline the restore left (kept in the safety copy). A new
    epoch starts at the restored head. Returns the epoch's id (None for a file of a schema
    before 5, which has no id yet: opening it upgrades it and makes a baseline)."""
    conn = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        database = database_id(conn)
        seq, head_hash = chain_head(conn)
    finally:
        conn.close()
    if database is None:
        return None
    epoch = str(uuid.uuid4())
    _append(database, {"kind": "epoch", "epoch": epoch, "seq": seq, "hash": head_hash,
                       "from_backup": None if backup is None else str(backup),
                       "path": _where(db_path)}, folder)
    return epoch


def read_anchors(database_id: str,
                 folder: _Folder = None) -> tuple[list[dict[str, Any]], list[str]]:
    """The anchor file's lines, and a warning for each line that cannot be read."""
    path = anchor_file(database_id, folder)
    lines, warnings = [], []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"anchors: {path} cannot be read ({exc.strerror or exc})"]
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            if line.get("kind") not in ("write", "pending", "baseline", "epoch") or \
                    not isinstance(line.get("seq"), int) or not isinstance(line.get("hash"), str):
                raise ValueError
        except (ValueError, AttributeError):
            warnings.append(f"anchors: line {number} of {path} is damaged and was skipped")
            continue
        lines.append(line)
    return lines, warnings


def current_epoch(database_id: str, folder: _Folder = None) -> str | None:
    """The id of the newest restore epoch in the anchor file (None: none yet)."""
    lines, _ = read_anchors(database_id, folder)
    epochs = [line.get("epoch") for line in lines if line["kind"] == "epoch"]
    return epochs[-1] if epochs else None


# --- backup manifests ----------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at `path` (hex), read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_for(copy: str | os.PathLike[str], name: str, *,
                 folder: _Folder = None) -> dict[str, Any]:
    """The manifest of a backup whose (finished, closed) copy is at `copy` and will be named
    `name`: the database's id, the trail's head in the copy, the epoch, the file's hash.
    `files` is keyed by kind so later kinds of data (photos) can be listed beside it."""
    copy = Path(copy)
    conn = sqlite3.connect(copy.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        database = database_id(conn)
        seq, head_hash = chain_head(conn)
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    return {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION,
        "database_id": database, "schema": schema, "taken_at": _now(),
        "epoch": current_epoch(database, folder) if database else None,
        "audit": {"seq": seq, "hash": head_hash},
        "files": {"database": {"name": name, "size": copy.stat().st_size,
                               "sha256": file_sha256(copy)}},
    }


def read_manifests(folders: Iterable[str | os.PathLike[str]],
                   ) -> tuple[list[tuple[Path, dict[str, Any]]],
                                                                  list[str]]:
    """Every readable manifest in `folders` (missing folders are skipped)."""
    found, warnings = [], []
    for folder in dict.fromkeys(Path(f) for f in folders):
        try:
            paths = sorted(folder.glob("*" + MANIFEST_SUFFIX))
        except OSError:
            continue
        for path in paths:
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
                if manifest.get("format") != MANIFEST_FORMAT:
                    continue
                audit = manifest.get("audit") or {}
                if not isinstance(audit.get("seq"), int) or not isinstance(audit.get("hash"),
                                                                           str):
                    raise ValueError
            except (OSError, ValueError, AttributeError):
                warnings.append(f"anchors: the backup manifest {path} cannot be read")
                continue
            found.append((path, manifest))
    return found, warnings


# --- verification --------------------------------------------------------------------------

def _gaps(intervals: list[tuple[int, int]], low: int, high: int) -> list[tuple[int, int]]:
    gaps, at = [], low
    for start, end in sorted(intervals):
        if start > at:
            gaps.append((at, min(start - 1, high)))
        at = max(at, end + 1)
        if at > high:
            break
    if at <= high:
        gaps.append((at, high))
    return [(a, b) for a, b in gaps if a <= b]


def when_text(at: Any) -> str:
    """A stored ISO time as the messages show times (`20 Nov 2026 10:30`, `moment_text`);
    anything else as it is."""
    try:
        return moment_text(datetime.fromisoformat(at))
    except (TypeError, ValueError):
        return str(at)


def _rows(first: int, last: int) -> str:
    return f"row #{first}" if first == last else f"rows #{first}–#{last}"


def verify(db: Any, *, folder: _Folder = None, backup_dirs: Iterable[str | os.PathLike[str]] = (),
           db_path: str | os.PathLike[str] | None = None) -> tuple[list[str], list[str]]:
    """(problems, warnings): the trail checked against the anchor file and the manifests in
    `backup_dirs`. A file without a database id (schema before 5) has nothing to check.

    A trail that ends before an anchor is a problem only for the file NeedleDesk wrote it
    through (`db_path` is named in the anchor file): a copy elsewhere (a backup, a restore
    candidate) is naturally behind, while the live file replaced by an older copy is not."""
    conn = _conn(db)
    database = database_id(conn)
    if database is None:
        return [], []
    lines, warnings = read_anchors(database, folder)
    manifests, unread = read_manifests(backup_dirs)
    warnings += unread
    manifests = [(p, m) for p, m in manifests if m.get("database_id") == database]
    if not lines and not manifests:
        return [], warnings + [
            f"anchors: no anchor of this database (id {database}) was found outside the file "
            f"({anchor_file(database, folder)} nor a backup manifest), so a trail rewritten in "
            "full could not be told apart"]
    chain = dict(conn.execute("SELECT seq, hash FROM audit"))
    head = max(chain) if chain else 0

    # suffix[i]: the lowest row a restore rewound to, among anchor lines from index i on.
    suffix = [math.inf] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        rewound = lines[i]["seq"] if lines[i]["kind"] == "epoch" else math.inf
        suffix[i] = min(suffix[i + 1], rewound)
    epochs = {line.get("epoch"): i for i, line in enumerate(lines) if line["kind"] == "epoch"}

    covered: list[tuple[int, int]] = []
    removed, rewritten = [], []
    for i, line in enumerate(lines):
        seq = line["seq"]
        if seq > suffix[i + 1]:
            continue  # a timeline a later restore left
        actual = chain.get(seq, GENESIS if seq == 0 else None)
        if line["kind"] == "pending":
            if actual == line["hash"] and isinstance(line.get("from"), int):
                covered.append((line["from"], seq))
            continue
        if actual is None:
            removed.append((seq, line.get("at"), "the anchor file"))
        elif actual != line["hash"]:
            rewritten.append((seq, line.get("at"), "the anchor file"))
        else:
            start = line.get("from") if line["kind"] == "write" else 1
            covered.append((start if isinstance(start, int) else seq, seq))
    for path, manifest in manifests:
        position = epochs.get(manifest.get("epoch"), -1)
        seq, expected = manifest["audit"]["seq"], manifest["audit"]["hash"]
        if seq > suffix[position + 1]:
            continue
        actual = chain.get(seq, GENESIS if seq == 0 else None)
        if actual is None:
            removed.append((seq, manifest.get("taken_at"), f"the backup manifest {path.name}"))
        elif actual != expected:
            rewritten.append((seq, manifest.get("taken_at"), f"the backup manifest {path.name}"))

    written_here = _where(db_path) in {line.get("path") for line in lines} if db_path else True
    if not written_here:
        removed = []
    if _several_writers(db):
        # The clinic server: every room notes the rows IT wrote in its own anchor file, so
        # the rows of the other rooms are covered by none here. Each anchor still pins its
        # rows (rewritten or removed rows are found); rows added by someone with a room's
        # rights and a recomputed hash cannot be told from another room's.
        covered = []
    problems = []
    if rewritten:
        seq, at, where = min(rewritten)
        more = len(rewritten) - 1
        problems.append(f"audit: row #{seq} is not the row {where} recorded on "
                        f"{when_text(at)}"
                        + (f" (and {more} more anchors disagree)" if more else "")
                        + "; the trail was rewritten behind NeedleDesk's back")
    if removed:
        seq, at, where = max(removed)
        problems.append(f"audit: the trail ends at row #{head}, but {where} recorded row #{seq} "
                        f"on {when_text(at)}; rows were removed, or the file was replaced by an "
                        "older copy without NeedleDesk's Restore")
    if covered and not rewritten:
        low = min(start for start, _ in covered)
        for first, last in _gaps(covered, low, head):
            problems.append(f"audit: {_rows(first, last)} of the trail were added outside "
                            "NeedleDesk: no anchor on this computer records them (unless this "
                            "file was also written by NeedleDesk on another computer)")
    return problems, warnings


def _several_writers(db: Any) -> bool:
    return dialect(db).server


def backup_folders(db_path: str | os.PathLike[str], extra: Iterable[str | os.PathLike[str]] = ()
                   ) -> list[Path]:
    """Where `check` looks for manifests: the `backups` folder beside the database, the
    database's own folder (pre-upgrade copies) and any folder the caller names."""
    db_path = Path(db_path)
    return [db_path.parent / "backups", db_path.parent, *(Path(f) for f in extra)]

