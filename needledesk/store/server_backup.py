"""Backups of the clinic server: `pg_dump` (custom format), and a restore checked in full in a
scratch database before anything on the server is replaced.

A backup is PostgreSQL's own: `pg_dump -Fc` of the server's database, taken in one snapshot
(exported by a transaction of NeedleDesk's own, so the manifest's counts and the trail's head
are exactly the dump's), written under a hidden temporary name, fsynced, read back with
`pg_restore --list` (every table's data must be in it), and only then renamed to
`needledesk-server-YYYYMMDD-HHMMSS.dump` (0600). Its manifest beside it
(`<dump>.manifest.json`, the same format as a file backup's, `store.anchors`) holds the
database id, the trail's head, the counts, the dump's SHA-256 and the pg_dump version; it is
put in place before the dump, so a file named like a backup always has one. The password
reaches pg_dump and pg_restore in their own environment (PGPASSWORD) only: never a file,
never the command line.

Restore refuses, with nothing changed, a dump that does not match its manifest's hash (bytes
changed), one whose table of contents holds anything NeedleDesk's schema does not (another
program's database, or SQL that is not a table, index, constraint, trigger or NeedleDesk's
own function), one that does not read back into a scratch database, one that does not pass
`check` there, and one of another clinic's server (a different database id, unless this
server holds no records yet). Only then, in ONE transaction on the live database, the owner
switches the trail's triggers off, truncates every table, copies every table across from
the scratch database (COPY between the two connections), and switches the triggers back on;
the restore is then recorded in the trail, and the scratch database is dropped whatever
happened. The server as it was is kept first as an ordinary backup beside the one restored.

PostgreSQL's tools do not come with NeedleDesk (the bundles do not carry them):
`find_pg_tools` looks for a pg_dump as new as the server on PATH and in the usual places;
without one the window and the command say so and point to docs/clinic-server.md.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import re
import secrets
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from needledesk.errors import NeedleDeskError
from needledesk.store import anchors
from needledesk.store.backup import (
    BackupError,
    BackupInfo,
    _ensure_folder,
    _fsync,
    _fsync_folder,
    _reason,
    hidden_temp,
    stamp_in_name,
)
from needledesk.store.check import check_file
from needledesk.store.engine import pg_schema
from needledesk.store.engine.postgres import PgDatabase
from needledesk.store.identity import DatabaseError
from needledesk.store.repository import Repository
from needledesk.store.server import applied_steps, open_server, server_schema_version
from needledesk.store.server_check import expected_tables

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

#: Where PostgreSQL's client tools are usually installed, besides PATH.
POSIX_PLACES = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
                "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin",
                "/Applications/Postgres.app/Contents/Versions/*/bin")
WINDOWS_PLACES = (r"C:\Program Files\PostgreSQL\*\bin",)
#: Where the server's backups are explained (the bundles do not carry PostgreSQL's tools).
DOCS = "docs/clinic-server.md (Backups)"
ENGINE = "postgresql"
DUMP_FORMAT = "pg_dump custom"
_NAME = re.compile(r"needledesk-server-(\d{8}-\d{6})(?:-(\d+))?\.dump")
_STAMP = "%Y%m%d-%H%M%S"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_NOTHING = "Nothing was changed."
#: The tables a restore does not copy: the record of applied steps must be this program's
#: on both sides (check refuses a dump whose steps differ) and stays as it is.
_KEPT = frozenset({"needledesk_migrations"})
#: The kinds of entries a NeedleDesk server's dump holds; anything else is refused unread.
_ALLOWED_KINDS = ("TABLE DATA", "TABLE", "INDEX", "FK CONSTRAINT", "CONSTRAINT", "TRIGGER",
                  "FUNCTION", "SEQUENCE SET", "SEQUENCE OWNED BY", "SEQUENCE", "DEFAULT ACL",
                  "ACL", "DEFAULT", "COMMENT", "SCHEMA", "ENCODING", "STDSTRINGS",
                  "SEARCHPATH")
_FUNCTIONS = {"needledesk_audit_head", "needledesk_audit_follows", "needledesk_audit_refuses"}


class ToolsMissing(BackupError):
    """No pg_dump as new as the server on this PC: the message says so and where to read."""


# --- finding PostgreSQL's tools -----------------------------------------------------------

@dataclass(frozen=True)
class PgTools:
    """pg_dump and pg_restore from one installation, of `major` version."""

    pg_dump: Path
    pg_restore: Path
    major: int
    version: str


@dataclass(frozen=True)
class NoPgTools:
    """None found as new as the server; `reason` says so in plain words."""

    reason: str


def _exe(name: str) -> str:
    return name + ".exe" if os.name == "nt" else name


def _tool_version(path: Path) -> tuple[int, int, str] | None:
    """(major, minor, text) of `path --version`; None for anything that does not answer."""
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True,
                              encoding="utf-8", errors="replace", timeout=15,
                              check=False, stdin=subprocess.DEVNULL,
                              creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(done.stdout)
    if done.returncode != 0 or match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0), match.group(0).split()[-1]


def _major(version: int) -> int:
    """`server_version_num` (150018) as its major version (15)."""
    return version // 10000 if version >= 100000 else version // 100


def server_version(db: Any) -> int:
    """The server's `server_version_num` (e.g. 150018 for 15.18)."""
    return int(_one(db, "SHOW server_version_num"))


def _one(db: Any, statement: str) -> Any:
    """The first value of the first row of `statement`."""
    row: Any = db.execute(statement).fetchone()
    return None if row is None else row[0]


def find_pg_tools(server_version: int, *, search_path: str | None = None,
                  places: Sequence[str] | None = None) -> PgTools | NoPgTools:
    """The newest pg_dump (with the pg_restore beside it) on PATH (`search_path`) or in the
    usual places whose major version is at least the server's (`SHOW server_version_num`):
    pg_dump refuses a server newer than itself. A NoPgTools with the reason otherwise."""
    if search_path is None:
        search_path = os.environ.get("PATH", "")
    if places is None:
        places = WINDOWS_PLACES if os.name == "nt" else POSIX_PLACES
    folders = [Path(p) for p in search_path.split(os.pathsep) if p]
    for pattern in places:
        folders += [Path(p) for p in sorted(glob.glob(pattern))]
    found: dict[str, tuple[int, int, str, Path, Path]] = {}
    for folder in folders:
        dump, restore = folder / _exe("pg_dump"), folder / _exe("pg_restore")
        if not (dump.is_file() and restore.is_file()):
            continue
        key = os.path.realpath(dump)
        if key in found:
            continue
        version = _tool_version(dump)
        if version is not None and _tool_version(restore) is not None:
            found[key] = (*version, dump, restore)
    wanted = _major(server_version)
    usable = sorted((v for v in found.values() if v[0] >= wanted), key=lambda v: v[:2],
                    reverse=True)
    if usable:
        major, _, text, dump, restore = usable[0]
        return PgTools(dump, restore, major, text)
    if not found:
        return NoPgTools(
            "PostgreSQL's backup tools (pg_dump and pg_restore) are not installed on this PC, "
            "and NeedleDesk does not bring them. Back up the clinic server on the server "
            f"itself, as {DOCS} explains, or install PostgreSQL {wanted}'s client tools here.")
    newest = max(v[0] for v in found.values())
    return NoPgTools(
        f"The newest pg_dump on this PC is PostgreSQL {newest}'s, older than the clinic "
        f"server (PostgreSQL {wanted}): a backup needs a pg_dump at least as new as the "
        f"server. Install PostgreSQL {wanted}'s client tools here, or back up on the server "
        f"itself, as {DOCS} explains.")


def tools_for(db: PgDatabase) -> PgTools:
    """The tools for this server, or ToolsMissing with the plain reason."""
    found = find_pg_tools(server_version(db))
    if isinstance(found, NoPgTools):
        raise ToolsMissing(found.reason)
    return found


# --- running them -------------------------------------------------------------------------

_ENVIRONMENT = {"host": "PGHOST", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
                "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
                "application_name": "PGAPPNAME", "options": "PGOPTIONS",
                "target_session_attrs": "PGTARGETSESSIONATTRS"}


def _child_environment(db: PgDatabase, password: str | None, database: str | None = None
                       ) -> dict[str, str]:
    """Where pg_dump/pg_restore connect (the same address, TLS checked the same way), and
    the password, in the child's environment only."""
    env = dict(os.environ)
    args = db.address.conninfo()
    if database is not None:
        args["dbname"] = database
    for key, value in args.items():
        name = _ENVIRONMENT.get(key)
        if name is not None and value not in (None, ""):
            env[name] = str(value)
    if password:
        env["PGPASSWORD"] = password
    return env


def _password(db: PgDatabase, password: str | None) -> str | None:
    """The given password, else the one this connection was opened with."""
    if password is not None:
        return password
    return db.raw.info.password or None


def _run(command: list[str], env: dict[str, str], what: str,
         on_line: Callable[[str], None] | None = None) -> str:
    """Run a tool; its standard output. A failure raises BackupError with the tool's own
    first error line (it names no password: the password is never on the command line)."""
    try:
        child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 encoding="utf-8", errors="replace",
                                 creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except OSError as exc:
        raise BackupError(f"{what} could not be started: {_reason(exc)}") from None
    errors: list[str] = []
    assert child.stderr is not None and child.stdout is not None
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(child.stdout.read()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    for line in child.stderr:
        line = line.rstrip()
        if on_line is not None:
            on_line(line)
        if "error:" in line or "FATAL" in line or "ERROR" in line:
            errors.append(line)
    child.wait()
    reader.join()
    if child.returncode != 0:
        first = errors[0] if errors else f"it stopped with code {child.returncode}"
        first = re.sub(r"^\S+: error: ", "", first)
        raise BackupError(f"{what} failed: {first}")
    return "".join(output)


# --- what a dump holds --------------------------------------------------------------------

@dataclass(frozen=True)
class ServerBackupInfo(BackupInfo):
    """A clinic server's backup: BackupInfo's counts, plus what its manifest says."""

    database_id: str | None = None
    audit_seq: int = 0
    audit_hash: str = anchors.GENESIS
    sha256: str = ""
    pg_dump: str = ""
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Facts:
    database_id: str | None
    seq: int
    hash: str
    counts: dict[str, int]
    steps: list[str]


def _tables(db: PgDatabase) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]


def _facts(db: PgDatabase) -> _Facts:
    meta = db.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    head = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    counts = {t: int(_one(db, sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(t)).as_string(db.raw))) for t in _tables(db)}
    return _Facts(meta[0] if meta else None, int(head[0]) if head else 0,
                  str(head[1]) if head else anchors.GENESIS, counts,
                  sorted(applied_steps(db)))


def default_folder() -> Path:
    """Where this PC keeps the clinic server's backups unless told otherwise:
    `server-backups` in the data folder, created readable by its user only."""
    from needledesk.paths import data_dir

    folder = data_dir() / "server-backups"
    _ensure_folder(folder, parents=True)
    return folder


def backup_name(taken: datetime, number: int = 1) -> str:
    """`needledesk-server-20261201-093000.dump` (a second one in the same second: `-2`)."""
    suffix = "" if number == 1 else f"-{number}"
    return f"needledesk-server-{taken.strftime(_STAMP)}{suffix}.dump"


def _stamp_of(path: Path) -> datetime | None:
    return stamp_in_name(path, _NAME, _STAMP)


def _free_name(folder: Path, taken: datetime) -> Path:
    number = 1
    while True:
        path = folder / backup_name(taken, number)
        if not path.exists() and not anchors.manifest_path(path).exists():
            return path
        number += 1


def _toc(tools: PgTools, dump: Path, env: dict[str, str]) -> list[tuple[str, str, str]]:
    """The dump's table of contents as (kind, schema, name), read by `pg_restore --list`."""
    text = _run([str(tools.pg_restore), "--list", str(dump)], env, "Reading the backup")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        # "215; 1259 16390 TABLE public clients owner" (kinds may be two words).
        parts = line.split(";", 1)[-1].split()
        if len(parts) < 3:
            continue
        rest = " ".join(parts[2:])
        kind = next((k for k in _ALLOWED_KINDS if rest.startswith(k + " ")), None)
        if kind is None:
            entries.append((rest.split()[0], "", rest))
            continue
        words = rest[len(kind) + 1:].split()
        entries.append((kind, words[0] if words else "", words[1] if len(words) > 1 else ""))
    return entries


def _foreign_entries(entries: Iterable[tuple[str, str, str]]) -> list[str]:
    """What in a dump's table of contents is not NeedleDesk's schema, one phrase each."""
    tables = set(expected_tables())
    found = []
    for kind, schema, name in entries:
        if kind not in _ALLOWED_KINDS:
            found.append(f"a {kind.lower()} ({name.split(' ')[-2] if ' ' in name else name})")
        elif schema not in ("public", "-", ""):
            found.append(f"the schema {schema}")
        elif kind in ("TABLE", "TABLE DATA") and name not in tables:
            found.append(f"the table {name}")
        elif kind == "FUNCTION" and name.split("(")[0] not in _FUNCTIONS:
            found.append(f"the function {name.split('(')[0]}")
    return found


# --- backup -------------------------------------------------------------------------------

def backup_server(db: PgDatabase, folder: str | os.PathLike[str], *,
                  password: str | None = None, tools: PgTools | None = None,
                  on_progress: Progress | None = None, now: datetime | None = None
                  ) -> ServerBackupInfo:
    """`pg_dump -Fc` of the server's database into `folder` (see the module's doc): one
    snapshot, read back, its manifest beside it. `password`: default, the one `db` was
    opened with. Runs on a second connection of its own (safe on a worker thread). Raises
    BackupError (ToolsMissing without the tools); a failed backup leaves no file named
    like a backup."""
    folder = Path(folder)
    _ensure_folder(folder)
    tools = tools or tools_for(db)
    password = _password(db, password)
    taken = (now or datetime.now()).replace(microsecond=0)
    target = _free_name(folder, taken)
    env = _child_environment(db, password)
    snap = db.fresh()
    temp: Path | None = None
    manifest_temp: Path | None = None
    try:
        snap.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = snap.raw.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        facts = _facts(snap)
        tables = len(facts.counts)
        done = [0]

        def line(text: str) -> None:
            if "dumping contents of table" in text and on_progress is not None:
                done[0] += 1
                on_progress(min(done[0], tables), tables + 1)

        temp = hidden_temp(target)
        _run([str(tools.pg_dump), "--format=custom", "--no-password", "--verbose",
              f"--snapshot={snapshot}", f"--file={temp}"], env,
             f"Backing up the clinic server ({db.address.display()})", line)
        snap.raw.execute("ROLLBACK")
        os.chmod(temp, 0o600)
        _fsync(temp)
        entries = _toc(tools, temp, env)
        dumped = {name for kind, _, name in entries if kind == "TABLE DATA"}
        missing = sorted(set(facts.counts) - dumped)
        if missing:
            raise BackupError(f"the backup did not read back whole (the table {missing[0]} "
                              "is not in it); nothing was backed up")
        sha, size = anchors.file_sha256(temp), temp.stat().st_size
        manifest = {
            "format": anchors.MANIFEST_FORMAT, "version": anchors.MANIFEST_VERSION,
            "engine": ENGINE, "database_id": facts.database_id,
            "schema": server_schema_version(), "steps": facts.steps,
            "taken_at": taken.isoformat(),
            "epoch": (anchors.current_epoch(facts.database_id) if facts.database_id
                      else None),
            "audit": {"seq": facts.seq, "hash": facts.hash}, "counts": facts.counts,
            "pg_dump": tools.version, "server": db.address.display(),
            "files": {"database": {"name": target.name, "size": size, "sha256": sha,
                                   "format": DUMP_FORMAT}},
        }
        manifest_temp = _write_private(folder, f".{target.name}.manifest.", manifest)
        os.replace(manifest_temp, anchors.manifest_path(target))
        manifest_temp = None
        try:
            os.replace(temp, target)
        except OSError:
            with contextlib.suppress(OSError):
                anchors.manifest_path(target).unlink()
            raise
        temp = None
        _fsync_folder(folder)
    except OSError as exc:
        raise BackupError(f"cannot write the backup into {folder}: {_reason(exc)}") from None
    except psycopg.Error as exc:
        raise BackupError(f"the clinic server could not be read for the backup: "
                          f"{str(exc).strip().splitlines()[0]}") from None
    finally:
        snap.close()
        for leftover in (temp, manifest_temp):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    leftover.unlink()
    if on_progress is not None:
        on_progress(tables + 1, tables + 1)
    log.info("clinic server backed up into %s (%d bytes)", target, size)
    return _info(target, manifest)


def _write_private(folder: Path, prefix: str, content: dict[str, Any]) -> Path:
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(content, out, ensure_ascii=False, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _info(path: Path, manifest: dict[str, Any], problem: str | None = None
          ) -> ServerBackupInfo:
    counts = manifest.get("counts") or {}
    files = (manifest.get("files") or {}).get("database") or {}
    audit = manifest.get("audit") or {}
    try:
        taken = datetime.fromisoformat(str(manifest.get("taken_at")))
    except ValueError:
        taken = _stamp_of(path) or datetime.fromtimestamp(path.stat().st_mtime)
    return ServerBackupInfo(
        path, taken, int(counts.get("clients", 0)), int(counts.get("sessions", 0)),
        int(manifest.get("schema") or 0), int(files.get("size") or 0), problem,
        photos=int(counts.get("photos", 0)), database_id=manifest.get("database_id"),
        audit_seq=int(audit.get("seq") or 0), audit_hash=str(audit.get("hash") or ""),
        sha256=str(files.get("sha256") or ""), pg_dump=str(manifest.get("pg_dump") or ""),
        counts={str(k): int(v) for k, v in counts.items()})


def read_manifest(dump: str | os.PathLike[str]) -> ServerBackupInfo:
    """What the manifest beside `dump` says; DatabaseError (plain words) when it is missing,
    unreadable or not a clinic server backup's."""
    dump = Path(dump)
    path = anchors.manifest_path(dump)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _refused(dump, f"its manifest ({path.name}) is missing, so it cannot be "
                             "checked") from None
    except (OSError, ValueError):
        raise _refused(dump, f"its manifest ({path.name}) cannot be read") from None
    files = (manifest.get("files") or {}).get("database") if isinstance(manifest, dict) \
        else None
    if not isinstance(manifest, dict) or manifest.get("format") != anchors.MANIFEST_FORMAT \
            or manifest.get("engine") != ENGINE or not isinstance(files, dict) \
            or not isinstance(files.get("sha256"), str):
        raise _refused(dump, "is not a backup of a clinic server as NeedleDesk makes them "
                             "(its manifest does not describe one)")
    try:
        return _info(dump, manifest)
    except (TypeError, ValueError, AttributeError):
        raise _refused(dump, f"its manifest ({path.name}) is damaged") from None


def verify_dump(dump: str | os.PathLike[str]) -> ServerBackupInfo:
    """The manifest beside `dump`, once the dump's bytes were read and found to match its
    hash (reads the whole file: run it on a worker); DatabaseError when they do not."""
    dump = Path(dump)
    info = read_manifest(dump)
    try:
        if anchors.file_sha256(dump) != info.sha256:
            raise _refused(dump, "does not match its manifest: it was changed or damaged "
                                 "since it was taken")
    except OSError as exc:
        raise _refused(dump, f"cannot be read ({_reason(exc)})") from None
    return info


def list_server_backups(folder: str | os.PathLike[str]) -> list[ServerBackupInfo]:
    """The clinic server's backups in `folder` named like ours, newest first, from their
    manifests (restore checks each in full); one whose manifest cannot be read is listed
    with the reason in `problem`."""
    found = []
    try:
        paths = [p for p in Path(folder).iterdir() if _NAME.fullmatch(p.name) and p.is_file()]
    except OSError:
        return []
    for path in paths:
        try:
            found.append(read_manifest(path))
        except DatabaseError as exc:
            stamp = _stamp_of(path) or datetime.fromtimestamp(path.stat().st_mtime)
            found.append(ServerBackupInfo(path, stamp, 0, 0, 0, path.stat().st_size,
                                          problem=str(exc)))
    return sorted(found, key=lambda i: (i.taken_at, i.path.name), reverse=True)


# --- restore ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerRestored:
    """What a restore of the clinic server did."""

    server: str
    backup: ServerBackupInfo
    #: The server as it was, kept as an ordinary backup first (None if not asked for).
    safety: Path | None


def _refused(dump: Path, why: str) -> DatabaseError:
    return DatabaseError(f"{dump}: {why}. {_NOTHING}")


def _some(problems: list[str], shown: int = 3) -> str:
    more = len(problems) - shown
    return "; ".join(problems[:shown]) + (f" (and {more} more)" if more > 0 else "")


def _may_restore(db: PgDatabase) -> None:
    """The user must be allowed to create the scratch database and to own the tables (only
    the owner may truncate them and switch the trail's triggers off)."""
    row = db.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = "
                     "current_user").fetchone()
    owner = db.execute(
        "SELECT bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
        "AND c.relkind = 'r'").fetchone()
    if not (row and row[0]) or not (owner and owner[0]):
        who = db.address.user or "this PC's user"
        raise BackupError(
            f"Restoring the clinic server ({db.address.display()}) needs the server owner's "
            f"user (the one that set it up, allowed to create databases); {who} may not, as "
            f"a room's user should not. Restore as the owner, or as {DOCS} explains. "
            f"{_NOTHING}")


def _holds_no_records(db: PgDatabase) -> bool:
    """No records and no trail but a new server's own first rows (its id, the baseline)."""
    record_tables = [t for t in expected_tables()
                     if t not in ("audit", "audit_head", "meta", "needledesk_migrations")]
    for table in record_tables:
        if db.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(
                sql.Identifier(table)).as_string(db.raw)).fetchone() is not None:
            return False
    return _one(db, "SELECT NOT EXISTS (SELECT 1 FROM audit WHERE action NOT IN "
                    "('identify', 'baseline'))") is True


def _copy_order(db: PgDatabase, tables: list[str]) -> list[str]:
    """`tables` with each after the tables its foreign keys point to."""
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in db.execute(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND "
            "n.nspname = current_schema()"):
        if child in parents and parent != child:
            parents[child].add(parent)
    order: list[str] = []
    while parents:
        ready = sorted(t for t, p in parents.items() if not (p - set(order)) or
                       not (p & set(parents)))
        if not ready:   # a cycle NeedleDesk's schema does not have: keep the rest as is
            ready = sorted(parents)
        for table in ready:
            order.append(table)
            parents.pop(table)
    return order


def _columns(db: PgDatabase, table: str) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? ORDER BY ordinal_position", [table])]


def _replace_live(live: PgDatabase, scratch: PgDatabase, on_table: Callable[[], None]
                  ) -> None:
    """In one transaction: the trail's triggers off, every table emptied and copied from
    the scratch database, sequences moved on, the triggers back on."""
    tables = [t for t in _tables(scratch) if t not in _KEPT]
    order = _copy_order(scratch, tables)
    names = sql.SQL(", ").join(sql.Identifier(t) for t in order)
    raw, source = live.raw, scratch.raw
    with raw.transaction():
        raw.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        raw.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(names))
        for table in order:
            columns = _columns(scratch, table)
            if columns != _columns(live, table):
                raise BackupError(f"the table {table} differs between the backup and the "
                                  "server; nothing was replaced")
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            key = sql.Identifier("rowid" if "rowid" in columns else columns[0])
            with source.cursor().copy(sql.SQL(
                    "COPY (SELECT {} FROM {} ORDER BY {}) TO STDOUT (FORMAT BINARY)").format(
                    cols, sql.Identifier(table), key)) as out, \
                    raw.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                        sql.Identifier(table), cols)) as into:
                for chunk in out:
                    into.write(chunk)
            if "rowid" in columns:
                raw.execute(sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'rowid'), "
                    "coalesce((SELECT max(rowid) FROM {}), 0) + 1, false)").format(
                    sql.Literal(table), sql.Identifier(table)))
            on_table()
        raw.execute("ALTER TABLE audit ENABLE TRIGGER USER")


def restore_server(db: PgDatabase, dump: str | os.PathLike[str], *, by: str,
                   password: str | None = None, scratch_name: str | None = None,
                   tools: PgTools | None = None, keep_safety: bool = True,
                   safety_folder: str | os.PathLike[str] | None = None,
                   on_progress: Progress | None = None) -> ServerRestored:
    """Replace the clinic server's records with the backup `dump` (see the module's doc),
    recorded in its trail as restored by `by`. Everything about the dump is checked in a
    scratch database first; a refusal raises DatabaseError (the dump) or BackupError (the
    tools, the rights, the folder) saying "Nothing was changed". With `keep_safety`, the
    server as it was is backed up first into `safety_folder` (default: the dump's)."""
    dump = Path(dump)
    if not dump.is_file():
        raise DatabaseError(f"{dump}: no such backup file. {_NOTHING}")
    steps = 6 + len(expected_tables())
    at = [0]

    def step() -> None:
        at[0] += 1
        if on_progress is not None:
            on_progress(min(at[0], steps), steps)

    info = verify_dump(dump)
    step()
    tools = tools or tools_for(db)
    password = _password(db, password)
    _may_restore(db)
    env = _child_environment(db, password)
    foreign = _foreign_entries(_toc(tools, dump, env))
    if foreign:
        raise _refused(dump, "is not a backup of a NeedleDesk clinic server: it holds "
                             f"{_some(foreign)}")
    step()
    scratch_name = scratch_name or f"needledesk_restore_{secrets.token_hex(6)}"
    admin = db.fresh()
    try:
        try:
            admin.raw.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
                sql.Identifier(scratch_name)))
        except psycopg.errors.InsufficientPrivilege:
            raise BackupError(
                f"Restoring needs a scratch database to check the backup in, and "
                f"{db.address.user or 'this user'} may not create databases on the clinic "
                f"server; restore as the server's owner ({DOCS}). {_NOTHING}") from None
        try:
            return _restore_via(db, dump, info, tools, password, scratch_name, by=by,
                                keep_safety=keep_safety, safety_folder=safety_folder,
                                step=step)
        finally:
            try:
                admin.raw.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(scratch_name)))
            except psycopg.Error as exc:
                log.warning("the scratch database %s could not be dropped: %s",
                            scratch_name, exc)
    finally:
        admin.close()


def _restore_via(db: PgDatabase, dump: Path, info: ServerBackupInfo, tools: PgTools,
                 password: str | None, scratch_name: str, *, by: str, keep_safety: bool,
                 safety_folder: str | os.PathLike[str] | None,
                 step: Callable[[], None]) -> ServerRestored:
    env = _child_environment(db, password, scratch_name)
    try:
        _run([str(tools.pg_restore), "--no-password", "--exit-on-error", "--single-transaction",
              "--no-owner", "--no-privileges", f"--dbname={scratch_name}", str(dump)], env,
             "Reading the backup into a scratch database")
    except BackupError as exc:
        raise _refused(dump, f"cannot be read back ({exc})") from None
    step()
    scratch = open_server(replace(db.address, database=scratch_name), password,
                          migrate_schema=False, bare=True)
    try:
        known = {name for name, _ in pg_schema.STEPS}
        newer = sorted(applied_steps(scratch) - known)
        if newer:
            raise _refused(dump, "was taken from a clinic server set up by a newer NeedleDesk; "
                                 "update NeedleDesk to restore it")
        report = check_file(scratch, db_path=scratch.address.url(), backup_dirs=[])
        if report.problems:
            raise _refused(dump, f"does not pass NeedleDesk's check: {_some(report.problems)}")
        facts = _facts(scratch)
        if (facts.database_id, facts.seq, facts.hash) != (info.database_id, info.audit_seq,
                                                          info.audit_hash):
            raise _refused(dump, "does not hold what its manifest says (its database id or "
                                 "the end of its audit trail differ)")
        step()
        live_id = anchors.database_id(db)
        if facts.database_id != live_id and not _holds_no_records(db):
            raise _refused(dump, "is a backup of another clinic's server (its database id "
                                 f"is {facts.database_id}, this server's is {live_id})")
        safety = None
        if keep_safety:
            try:
                safety = backup_server(db, safety_folder or dump.parent, password=password,
                                       tools=tools).path
            except BackupError as exc:
                raise BackupError(f"The server as it is could not be kept as a backup first "
                                  f"({exc}). {_NOTHING}") from None
        step()
        live = db.fresh()
        try:
            _replace_live(live, scratch, step)
            after = _facts(live)
            if (after.database_id, after.seq, after.hash) != (facts.database_id, facts.seq,
                                                              facts.hash):
                raise NeedleDeskError("the server does not hold the backup after the restore")
            _record_restore(live, dump, safety, by=by)
        finally:
            live.close()
        step()
    finally:
        scratch.close()
    log.info("clinic server %s restored from %s (safety backup: %s)", db.address.display(),
             dump, safety)
    return ServerRestored(db.address.display(), info, safety)


def _record_restore(live: PgDatabase, dump: Path, safety: Path | None, *, by: str) -> None:
    """A new epoch in this server's anchor file (the trail now ends at the backup's head),
    then the restore's own audit row, as `Repository.record_restore` does for the file."""
    database = anchors.database_id(live)
    if database is not None:
        seq, head = anchors.chain_head(live)
        anchors._append(database, {"kind": "epoch", "epoch": str(uuid.uuid4()),
                                   "seq": seq, "hash": head, "from_backup": str(dump),
                                   "path": live.address.url()})
    repo = Repository(live)
    with repo._writing():
        repo._record("restore", "database", None, by=by, after={
            "from_backup": str(dump),
            "previous_database_kept_in": str(safety) if safety else None})
