"""Which store this PC uses, and the clinic server's password: kept in the system's own
password store through `keyring` (Windows Credential Manager, macOS Keychain, the Secret
Service on Linux), never in a plain file; where the PC has none, asked for at start.

The server comes from `--server postgresql://…`, else NEEDLEDESK_SERVER, else the address
saved in Settings › Clinic server on this PC; with none of them the clinic's file is used.
No Qt here: the window and the command line both open the store through `open_clinic`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The keyring's service name; the entry's user name is the server's `user@host:port/db`.
KEYRING_SERVICE = "NeedleDesk clinic server"
SERVER_VARIABLE = "NEEDLEDESK_SERVER"


def _keyring() -> Any | None:
    """The keyring module when this PC has a usable password store, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception:   # pragma: no cover - keyring is a dependency; a broken install
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or "fail" in type(backend).__module__:
        return None
    return keyring


def has_keyring() -> bool:
    return _keyring() is not None


def stored_password(address: Any) -> str | None:
    """The password kept for `address` in the system's password store, or None."""
    ring = _keyring()
    if ring is None:
        return None
    try:
        value = ring.get_password(KEYRING_SERVICE, address.display())
    except Exception as exc:   # a locked or broken store: ask instead
        log.warning("the password store could not be read: %s", exc)
        return None
    return value if isinstance(value, str) else None


def store_password(address: Any, password: str) -> bool:
    """Keep `password` for `address` in the system's password store; False where the PC
    has none (then it is asked for at each start)."""
    ring = _keyring()
    if ring is None:
        return False
    try:
        ring.set_password(KEYRING_SERVICE, address.display(), password)
    except Exception as exc:
        log.warning("the password store could not be written: %s", exc)
        return False
    return True


def forget_password(address: Any) -> None:
    ring = _keyring()
    if ring is None:
        return
    with contextlib.suppress(Exception):
        ring.delete_password(KEYRING_SERVICE, address.display())


def chosen_server(option: str | None, environ: Any = os.environ) -> str | None:
    """The server address to use: `--server`, else NEEDLEDESK_SERVER, else None (the file;
    the window also looks at its saved settings)."""
    for value in (option, environ.get(SERVER_VARIABLE)):
        if value and value.strip():
            return value.strip()
    return None


def address_problem(url: str) -> str | None:
    """Why `url` is not a clinic server's address NeedleDesk may use (its scheme, its port,
    TLS switched off or half-checked towards another PC), or None when it is. Nothing is
    connected to."""
    from needledesk.store.engine.postgres import ServerSetupError, parse_address

    try:
        parse_address(url)
    except ServerSetupError as exc:
        return str(exc)
    return None


def open_server_repository(url: str, *, ask: Callable[[Any], str | None] | None = None,
                           bare: bool = False, migrate_schema: bool = True) -> Any:
    """A Repository on the clinic server at `url`: the password from the system's store,
    else from `ask(address)` (a prompt), else none (the server may trust this PC, or
    PGPASSWORD may be set for a script). A password the store holds that the server
    refuses (changed on the server since) is asked for too. `migrate_schema=False`: the
    server is only read as it is (`check`, `server status`); `bare`: a new server is not
    given its id (a clinic is moved into it, or it is only looked at)."""
    from needledesk.store.engine.postgres import ServerSetupError, parse_address
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    address = parse_address(url)
    password = stored_password(address)

    def opened(password: str | None) -> Any:
        try:
            return open_server(address, password, bare=bare, migrate_schema=migrate_schema)
        except ServerSetupError:
            raise
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "42501":   # insufficient_privilege
                raise
            raise ServerSetupError(
                f"The clinic server ({address.display()}) is not set up for this PC's user "
                f"yet ({_first_line(exc)}): whoever set up the server runs `needledesk "
                "server init` once as the database's owner (docs/clinic-server.md).") from None

    return Repository(_asking_again(opened, address, password, ask))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def connect_server(url: str, *, ask: Callable[[Any], str | None] | None = None) -> Any:
    """A plain connection to the server at `url` (the password as `open_server_repository`
    finds it), neither migrated nor given an id: for `needledesk server init|status`."""
    from needledesk.store.engine.postgres import connect, parse_address

    address = parse_address(url)
    return _asking_again(lambda password: connect(address, password), address,
                         stored_password(address), ask)


def _asking_again(open_with: Callable[[str | None], Any], address: Any,
                  password: str | None, ask: Callable[[Any], str | None] | None) -> Any:
    """`open_with(password)`; where the server refuses that password (or wants one) and
    `ask` is given, `open_with` again with what `ask(address)` gives. The refusal stands
    when `ask` gives nothing (the prompt was cancelled)."""
    from needledesk.store.engine.postgres import ServerSetupError

    try:
        return open_with(password)
    except ServerSetupError as exc:
        if ask is None or "password" not in str(exc):
            raise
        typed = ask(address)
        if typed is None:
            raise
        return open_with(typed)


def server_steps() -> list[str]:
    """The names of this NeedleDesk's server migration steps, in order."""
    from needledesk.store.engine import pg_schema

    return [name for name, _ in pg_schema.STEPS]


def room_role() -> str:
    """The group role every room's login role is a member of."""
    from needledesk.store.engine import pg_schema

    return pg_schema.ROOM_ROLE


def describe(path: Path | None, server: str | None) -> str:
    """Where the records are, for a message or the status bar."""
    if server:
        from needledesk.store.engine.postgres import parse_address

        return f"clinic server {parse_address(server).display()}"
    return f"file {path}"
