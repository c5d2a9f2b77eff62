"""The clinic server: PostgreSQL through psycopg 3, behind the same surface as the file.

`PgDatabase` answers the calls the store makes of a sqlite_utils.Database (`execute`,
`query`, `atomic`, `db[table].insert/insert_all/update/exists`) with `?` placeholders, so
the repository's SQL is written once. What cannot be written once is here, in `Postgres`
(the dialect) and in the server's own migrations (`pg_schema`).

The connection is in autocommit mode: a write outside `atomic()` is its own transaction,
as with sqlite-utils 4, and `atomic()` is a real transaction (savepoints when nested).
A lost connection is raised as `ServerAwayError`, which the window says in plain words.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus

from needledesk.errors import NeedleDeskError

#: Who the server is when a message names it (never the password).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})


class ServerAwayError(NeedleDeskError):
    """The clinic server cannot be reached (network, server stopped, connection lost)."""


class ServerSetupError(NeedleDeskError):
    """The server's address, certificate or rights are not as NeedleDesk needs them."""


@dataclass(frozen=True)
class ServerAddress:
    """Where the clinic server is: host, port, database, user, and how TLS is checked.
    The password is never part of it: it comes from the OS keyring or is asked for."""

    host: str
    port: int = 5432
    database: str = "needledesk"
    user: str = ""
    #: The clinic's CA certificate file that the server's certificate must chain to.
    ca_file: str = ""
    #: A Unix socket folder given as host (`/run/postgresql`): local, no TLS needed.
    options: tuple[tuple[str, str], ...] = ()

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS or self.host.startswith("/")

    def display(self) -> str:
        """`user@host:port/database`, as the window and messages show it."""
        where = self.host if not self.host.startswith("/") else "this PC"
        who = f"{self.user}@" if self.user else ""
        return f"{who}{where}:{self.port}/{self.database}"

    def url(self) -> str:
        """A `postgresql://` address without any password."""
        query = dict(self.options)
        if self.ca_file:
            query["sslrootcert"] = self.ca_file
        host = self.host
        netloc = quote(self.user, safe="") + "@" if self.user else ""
        if host.startswith("/"):
            query["host"] = host
            host = ""
        netloc += host if ":" not in host else f"[{host}]"
        netloc += f":{self.port}" if host else ""
        if not host:
            query["port"] = str(self.port)
        text = f"postgresql://{netloc}/{quote(self.database, safe='')}"
        if query:
            text += "?" + "&".join(f"{k}={quote(v, safe='/')}" for k, v in sorted(query.items()))
        return text

    def conninfo(self, password: str | None = None) -> dict[str, Any]:
        """psycopg's connection arguments: TLS verified against the clinic's certificate
        (`verify-full`: the certificate chains to the CA and names this host) unless the
        server is on this PC."""
        args: dict[str, Any] = dict(self.options)
        args.update(host=self.host, port=self.port, dbname=self.database,
                    connect_timeout=args.get("connect_timeout", "5"),
                    application_name="NeedleDesk")
        if self.user:
            args["user"] = self.user
        if password:
            args["password"] = password
        if self.ca_file:
            args["sslrootcert"] = self.ca_file
        if not self.local:
            args["sslmode"] = "verify-full"
        else:
            args.setdefault("sslmode", "prefer" if not self.host.startswith("/") else "disable")
        return args


_KNOWN_OPTIONS = {"sslrootcert", "sslmode", "connect_timeout", "host", "port", "user",
                  "dbname", "sslcert", "sslkey", "application_name", "options",
                  "target_session_attrs", "password"}


def parse_address(text: str) -> ServerAddress:
    """`postgresql://user@host:port/database?sslrootcert=...` as a ServerAddress. Refused in
    plain words: another scheme, no host, a port out of range, TLS switched off or only
    half-checked towards another PC (health data must not cross the network readable)."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ServerSetupError("The clinic server's address must start with postgresql:// "
                               f"(it starts “{text[:24]}”).")
    query = dict(parse_qsl(parts.query))
    unknown = sorted(set(query) - _KNOWN_OPTIONS)
    if unknown:
        raise ServerSetupError(f"The clinic server's address has options NeedleDesk does not "
                               f"know: {', '.join(unknown)}.")
    if parts.password or "password" in query:
        raise ServerSetupError("Leave the password out of the clinic server's address: "
                               "NeedleDesk keeps it in the system's password store, or asks.")
    host = query.pop("host", "") or unquote(parts.hostname or "")
    if not host:
        raise ServerSetupError("The clinic server's address names no host.")
    try:
        port = int(query.pop("port", "") or parts.port or 5432)
    except ValueError:
        raise ServerSetupError("The clinic server's port must be a number from 1 to 65535."
                               ) from None
    if not 1 <= port <= 65535:
        raise ServerSetupError("The clinic server's port must be a number from 1 to 65535.")
    database = unquote(parts.path.lstrip("/")) or query.pop("dbname", "") or "needledesk"
    query.pop("dbname", None)
    user = unquote(parts.username or "") or query.pop("user", "")
    query.pop("user", None)
    ca_file = query.pop("sslrootcert", "")
    address = ServerAddress(host, port, database, user, ca_file,
                            tuple(sorted(query.items())))
    mode = query.get("sslmode", "")
    if not address.local and mode and mode != "verify-full":
        raise ServerSetupError(
            f"The clinic server at {host} must be reached with TLS checked in full "
            f"(sslmode=verify-full), not {mode}: health data crosses the network.")
    return address


# --- values as sqlite-utils writes them ----------------------------------------------------

class _BoolAsInt(Dumper):
    """SQLite keeps True as 1: so does the server (its columns are BIGINT)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """sum()/avg() over integers give NUMERIC on the server; SQLite gives int or float."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


def _value(value: Any) -> Any:
    """A value as sqlite-utils' insert would store it (JSON for lists, ISO for times)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    if isinstance(value, (time, date, datetime)):
        return value.isoformat()
    return value


_PLACEHOLDER = re.compile(r"\?|:([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """`?` and `:name` placeholders as psycopg's `%s` and `%(name)s`, literal `%` doubled.
    (No statement of NeedleDesk's has a `?` or `:word` inside a string literal.)"""
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.start() > 0 and sql[match.start() - 1] == ":":
            return token   # a `::type` cast, not a name
        return f"%({match.group(1)})s"
    return _PLACEHOLDER.sub(one, sql)


def _params(parameters: Any) -> Any:
    if parameters is None:
        return None
    if isinstance(parameters, dict):
        return {k: _value(v) if not isinstance(v, (str, int, float, bytes)) else v
                for k, v in parameters.items()}
    return [v if isinstance(v, (str, int, float, bytes)) or v is None else _value(v)
            for v in parameters]


def _away(exc: psycopg.Error, address: ServerAddress) -> ServerAwayError:
    return ServerAwayError(f"The clinic server ({address.display()}) cannot be reached: "
                           f"{_first_line(exc)}. Nothing was lost: what is open stays "
                           "open, and is saved when the server is back.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


class PgTable:
    """`db[name]` on the server: the inserts and updates the store makes."""

    def __init__(self, db: PgDatabase, name: str):
        self.db = db
        self.name = name

    def _insert_sql(self, columns: Sequence[str]) -> str:
        names = ", ".join(f'"{c}"' for c in columns)
        return f'INSERT INTO "{self.name}" ({names}) VALUES ({", ".join("%s" for _ in columns)})'

    def insert(self, row: dict[str, Any]) -> PgTable:
        self.db._run(self._insert_sql(list(row)), [_value(v) for v in row.values()])
        return self

    def insert_all(self, rows: Any, batch_size: int = 100, **_: Any) -> PgTable:
        rows = list(rows)
        if not rows:
            return self
        columns = list(rows[0])
        # Many rows to a statement (a statement-level trigger, the trail's, then runs once
        # per batch; and it is faster), within PostgreSQL's 65,535 parameters.
        size = max(1, min(batch_size, 1000, 60000 // max(1, len(columns))))
        names = ", ".join(f'"{c}"' for c in columns)
        one = "(" + ", ".join("%s" for _ in columns) + ")"
        with self.db.atomic():
            for start in range(0, len(rows), size):
                batch = rows[start:start + size]
                sql = (f'INSERT INTO "{self.name}" ({names}) VALUES '
                       + ", ".join(one for _ in batch))
                self.db._run(sql, [_value(r.get(c)) for r in batch for c in columns])
        return self

    def update(self, pk: Any, updates: dict[str, Any] | None = None, **_: Any) -> PgTable:
        if not updates:
            return self
        sets = ", ".join(f'"{c}" = %s' for c in updates)
        cursor = self.db._run(f'UPDATE "{self.name}" SET {sets} WHERE id = %s',
                              [*(_value(v) for v in updates.values()), pk])
        if cursor.rowcount == 0:
            from sqlite_utils.db import NotFoundError as TableNotFound

            raise TableNotFound
        return self

    def exists(self) -> bool:
        return DIALECT.has_table(self.db, self.name)


class PgDatabase:
    """A connection to the clinic server, used as the store uses a sqlite_utils.Database."""

    def __init__(self, conn: psycopg.Connection[Any], address: ServerAddress):
        self._conn = conn
        self.address = address
        # Kept while the connection is sound: a broken one may no longer say its arguments.
        self._connect_args = _reconnect_args(conn)
        conn.adapters.register_dumper(bool, _BoolAsInt)
        conn.adapters.register_loader("numeric", _NumericAsNumber)

    def reconnect(self) -> None:
        """After the connection was lost (`ServerAwayError`): a new connection with the same
        arguments, in place, so everything holding this object goes on using it. Raises
        `ServerAwayError` (or `ServerSetupError`) in plain words while the server is still
        away; the old connection is then left as it was."""
        try:
            conn = psycopg.connect(**self._connect_args, autocommit=True)
        except psycopg.OperationalError as exc:
            raise connect_error(exc, self.address) from None
        conn.adapters.register_dumper(bool, _BoolAsInt)
        conn.adapters.register_loader("numeric", _NumericAsNumber)
        old, self._conn = self._conn, conn
        with contextlib.suppress(psycopg.Error):   # already broken: nothing to close
            old.close()

    def reachable(self) -> bool:
        """True when one trivial read goes through on this connection now."""
        if self._conn.closed or self._conn.broken:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    # sqlite_utils code reaches for `db.conn`; on the server it is this object itself.
    @property
    def conn(self) -> PgDatabase:
        return self

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """psycopg's connection (COPY, server facts); only store/ uses it."""
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def _run(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        try:
            return self._conn.execute(sql, params)
        except psycopg.OperationalError as exc:
            if self._conn.closed or self._conn.broken:
                raise _away(exc, self.address) from exc
            raise

    def _many(self, sql: str, rows: list[list[Any]]) -> None:
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(sql, rows)
        except psycopg.OperationalError as exc:
            if self._conn.closed or self._conn.broken:
                raise _away(exc, self.address) from exc
            raise

    def execute(self, sql: str, parameters: Any = None) -> psycopg.Cursor[Any]:
        if parameters is None:
            return self._run(sql)
        return self._run(translate(sql), _params(parameters))

    def executemany(self, sql: str, rows: Any) -> None:
        self._many(translate(sql), [_params(r) for r in rows])

    def query(self, sql: str, params: Any = None) -> Iterator[dict[str, Any]]:
        cursor = self.execute(sql, params)
        if cursor.description is None:
            return
        names = [c.name for c in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        try:
            with self._conn.transaction():
                yield self
        except psycopg.OperationalError as exc:
            if self._conn.closed or self._conn.broken:
                raise _away(exc, self.address) from exc
            raise

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)

    def close(self) -> None:
        self._conn.close()

    @property
    def closed(self) -> bool:
        return bool(self._conn.closed)

    def fresh(self) -> PgDatabase:
        """A second connection to the same server (a worker thread's own); ServerAwayError
        when the server cannot be reached."""
        try:
            conn = psycopg.connect(**self._connect_args, autocommit=True)
        except psycopg.OperationalError as exc:
            raise _away(exc, self.address) from exc
        return PgDatabase(conn, self.address)


def _reconnect_args(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    info = conn.info
    args = dict(info.get_parameters())
    if info.password:
        args["password"] = info.password
    return args


class Postgres:
    name = "postgresql"
    server = True
    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def columns(self, db: Any, table: str) -> list[str]:
        return [r[0] for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? AND column_name <> 'rowid' "
            "ORDER BY ordinal_position", [table])]

    def has_table(self, db: Any, table: str) -> bool:
        return db.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = "
                          "current_schema() AND table_name = ?", [table]).fetchone() is not None

    def in_json_list(self) -> str:
        return "(SELECT value FROM json_array_elements_text(CAST(? AS json)))"

    def text_list(self, expression: str, separator: str) -> str:
        return f"string_agg(CAST({expression} AS text), {separator})"

    def lock_audit_head(self, db: Any) -> tuple[int, str] | None:
        """The trail's head row, locked until this transaction ends: every write's audit rows
        pass here one transaction at a time, so the chain stays one line."""
        row = db.execute("SELECT seq, hash FROM needledesk_audit_head()").fetchone()
        return int(row[0]), str(row[1])

    def location(self, db: Any) -> str:
        return str(db.address.display())

    def in_transaction(self, db: Any) -> bool:
        return bool(db.in_transaction)

    def lock_record(self, db: Any, table: str, record_id: str) -> None:
        """The record's row, locked until this transaction ends (`table` is NeedleDesk's)."""
        db.execute(f'SELECT 1 FROM "{table}" WHERE id = ? FOR UPDATE', [record_id])

    def indexed_by(self, index: str) -> str:
        return ""   # the server's planner needs no hint

    def temp_table(self, name: str) -> str:
        return f"pg_temp.{name}"

    def stored_table(self, name: str) -> str:
        return name   # the connection's own schema (a temporary table never shadows one)

    def temp_index(self, name: str, table: str, columns: str) -> str:
        return f"CREATE INDEX {name} ON pg_temp.{table} ({columns})"

    def differs(self, left: str, right: str) -> str:
        return f"{left} IS DISTINCT FROM {right}"

    def integrity_problems(self, db: Any) -> list[str]:
        """The server keeps its own pages sound (and its administrator its disks); what
        NeedleDesk can check is that the trail's head row is the trail's last row."""
        if not (self.has_table(db, "audit") and self.has_table(db, "audit_head")):
            return []   # a dropped table is the schema check's to report
        head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        last = tuple(last) if last else (0, "0" * 64)
        if head is None or tuple(head) != last:
            return ["audit: the trail's head on the server does not name its last row; it "
                    "was changed behind NeedleDesk's back"]
        return []

    def foreign_key_problems(self, db: Any) -> list[str]:
        return []   # enforced by the server on every write; none can be switched off


DIALECT = Postgres()


def connect(address: ServerAddress, password: str | None = None) -> PgDatabase:
    """A connection to the clinic server; plain-worded errors for the usual failures."""
    try:
        conn = psycopg.connect(**address.conninfo(password), autocommit=True)
    except psycopg.OperationalError as exc:
        raise connect_error(exc, address) from None
    return PgDatabase(conn, address)


def connect_error(exc: BaseException, address: ServerAddress) -> NeedleDeskError:
    """What went wrong when connecting, in the practitioner's words: a `ServerSetupError`
    for what whoever set up the server must put right (password, certificate, rights), a
    `ServerAwayError` for a server that cannot be reached. Never libpq's own lines, file
    paths it made up, or the password."""
    text = str(exc)
    who = f"The clinic server ({address.display()})"
    ask = "Ask whoever set up the server (docs/clinic-server.md)."
    if "password authentication failed" in text:
        return ServerSetupError(f"{who} refused the user name or password.")
    if "no password supplied" in text:
        return ServerSetupError(
            f"{who} asks for a password and none was given: keep it in this PC's password "
            "store (Settings › Clinic server), or type it when NeedleDesk asks for it (on "
            "the command line, run the command from a terminal).")
    if "root certificate file" in text and "does not exist" in text:
        if address.ca_file:
            return ServerSetupError(
                f"{who} cannot be checked as the clinic's own: the clinic's certificate "
                f"{address.ca_file} is not on this PC. Copy it here from whoever set up the "
                "server, or choose it again in Settings › Clinic server.")
        return ServerSetupError(
            f"{who} cannot be checked as the clinic's own: this PC has no copy of the "
            "clinic's certificate to check it against. Ask whoever set up the server for the "
            "clinic's certificate file and choose it in Settings › Clinic server (or add "
            "sslrootcert=FILE to the server's address).")
    if "certificate verify failed" in text:
        against = f" ({address.ca_file})" if address.ca_file else ""
        return ServerSetupError(
            f"{who} showed a certificate that the clinic's certificate{against} did not sign: "
            "it may not be the clinic's own server, so nothing was sent to it. If the "
            "server's certificate was renewed, ask whoever set it up for the clinic's "
            "current certificate (Settings › Clinic server).")
    if "does not match host name" in text:
        return ServerSetupError(
            f"{who} showed a certificate made out to another name than {address.host}: it "
            "may not be the clinic's own server, so nothing was sent to it. Connect to it by "
            f"the name its certificate carries. {ask}")
    if "server does not support SSL" in text:
        return ServerSetupError(
            f"{who} does not offer an encrypted connection (TLS), which NeedleDesk needs "
            f"for health records crossing the network. {ask}")
    if "no pg_hba.conf entry" in text:
        return ServerSetupError(
            f"{who} does not let this user in from this PC (it has no pg_hba.conf line for "
            f"them, or only for encrypted connections). {ask}")
    missing = re.search(r'(database|role) "([^"]*)" does not exist', text)
    if missing:
        what = "database" if missing.group(1) == "database" else "user"
        return ServerSetupError(f"{who} has no {what} named {missing.group(2)}. {ask}")
    if "certificate" in text or "SSL" in text or "ssl" in text:
        return ServerSetupError(
            f"{who} could not be checked as the clinic's own ({_reason(text)}). Ask whoever "
            "set up the server for the clinic's certificate (Settings › Clinic server).")
    reason = _reason(text)
    if address.host.startswith("/") and "No such file or directory" in text:
        reason = f"no server is running on this PC with its socket in {address.host}"
    check = ("Check that PostgreSQL is running on this PC" if address.local else
             "Check that the server's PC is on and on the clinic's network")
    return ServerAwayError(f"{who} cannot be reached: {reason}. {check}; nothing was "
                           "changed.")


def _reason(text: str) -> str:
    """libpq's reason without its "connection to server at … failed:" preamble or hints."""
    first = text.strip().splitlines()[0] if text.strip() else "no answer"
    resolve = re.match(r"failed to resolve host '([^']*)'", first)
    if resolve:
        return f"the name {resolve.group(1)} is not known on this network"
    first = first.rsplit(" failed: ", 1)[-1].replace("FATAL:  ", "").strip().rstrip(".")
    if first == "timeout expired":
        return "no answer within the time allowed"
    return first[:1].lower() + first[1:] if first[:2] != first[:2].upper() else first
