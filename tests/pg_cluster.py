"""A small PostgreSQL cluster of a test's own, for what the shared test server cannot show
(it trusts every connection): password logins, TLS. Made with the Debian package's binaries
(the newest /usr/lib/postgresql/*/bin), run as the `postgres` user through `runuser`, so the
tests must run as root; `unavailable()` says why one cannot be made here. The test TLS
(tests/test_server_tls.py) and the window's password prompt (tests/ui/test_clinic_server.py)
each start one."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


def bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries' folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    return found[-1].parent if found else None


def free_port() -> int:
    """A TCP port free on this PC now (it also names the cluster's socket file)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable() -> str | None:
    """Why a cluster of a test's own cannot be started here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a cluster of the test's own needs root (runuser)"
    if bin_dir() is None or shutil.which("runuser") is None:
        return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) or runuser"
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` user to run the test cluster as"
    return None


def give_to_postgres(*paths: Path) -> None:
    """Make `paths` the `postgres` user's (the cluster reads them)."""
    for path in paths:
        shutil.chown(path, "postgres", "postgres")


@dataclass
class OwnCluster:
    folder: Path     # 0755, root's: the test's files; `data` and `socket` are postgres'
    port: int

    @property
    def socket(self) -> Path:
        return self.folder / "socket"


@contextlib.contextmanager
def own_cluster(prefix: str, *, initdb: Sequence[str], settings: str, hba: str | None = None,
                prepare: Callable[[Path], str] = lambda folder: ""
                ) -> Iterator[OwnCluster]:
    """A running cluster in a new folder under /tmp named `prefix…`, stopped and removed
    after: `prepare(folder)` first puts the test's own files there (certificates, a
    password file) and gives the settings naming them, then `initdb` is run in `folder` with
    the arguments `initdb` adds, `settings` and prepare's are added to postgresql.conf after its
    port and its socket in `folder/socket`, and `hba`,
    when given, is its whole pg_hba.conf. A cluster that does not start fails the test
    with its log."""
    import pytest

    binaries = bin_dir()
    assert binaries is not None, unavailable()
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(folder, 0o755)   # the tests (root) read their files; the data folder is 0700
    run = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    try:
        named = prepare(folder)
        (folder / "socket").mkdir()
        data.mkdir(mode=0o700)
        give_to_postgres(folder / "socket", data)
        subprocess.run([*run, str(binaries / "initdb"), "-D", str(data), "-E", "UTF8",
                        "--locale=C.UTF-8", *initdb], check=True, capture_output=True,
                       timeout=120, cwd=folder)
        port = free_port()
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"\nport = {port}\nunix_socket_directories = '{folder / 'socket'}'\n"
                       f"{settings}\n{named}\n")
        if hba is not None:
            (data / "pg_hba.conf").write_text(hba, encoding="utf-8")
        started = subprocess.run([*run, str(binaries / "pg_ctl"), "-D", str(data), "-l",
                                  str(data / "server.log"), "-w", "-t", "60", "start"],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            log = (data / "server.log").read_text(errors="replace") \
                if (data / "server.log").exists() else ""
            pytest.fail(f"the test cluster did not start: {started.stderr}\n{log}")
        try:
            yield OwnCluster(folder, port)
        finally:
            subprocess.run([*run, str(binaries / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "-w", "stop"], capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
