"""Reaching the clinic server over the network: TLS verified against the clinic's own CA
(`sslmode=verify-full`), the password from the system's password store, and plain words for
each way it can go wrong.

The test makes its own CA and a server certificate for "localhost" (and 127.0.0.1, 127.0.0.2)
with `cryptography`, and starts its own small PostgreSQL cluster with `ssl = on`, listening
on loopback addresses only, accepting only `hostssl ... scram-sha-256` (no plain `host`
line). 127.0.0.2 stands in for the clinic's server seen from another PC: not this PC's
name, so NeedleDesk forces verify-full there without being asked; 127.0.0.3 is the same
server under a name its certificate does not carry. Skipped (not failed) where the test
cannot be root or PostgreSQL's binaries are missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pg_cluster
import pytest

PASSWORD = "correct horse battery staple"
OWNER = "clinic_owner"
DATABASE = "needledesk"


def _pem_pair(name: str, *, issuer=None, hosts=(), ips=()):
    """A key and certificate: a CA's (self-signed) when `issuer` is None, else a server's
    signed by `issuer` (its key, its certificate) naming `hosts` and `ips`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=2)))
    if issuer is None:
        builder = builder.issuer_name(subject).add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        signer = key
    else:
        signer, issuer_cert = issuer
        names = [x509.DNSName(h) for h in hosts] + [
            x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = (builder.issuer_name(issuer_cert.subject)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False))
    cert = builder.sign(signer, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key, cert, key_pem, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Cluster:
    folder: Path
    port: int
    ca: Path          # the clinic's CA certificate
    other_ca: Path    # another CA's certificate (not the clinic's)

    def url(self, host: str = "localhost", *, user: str = OWNER, **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"postgresql://{user}@{host}:{self.port}/{DATABASE}" + (f"?{query}" if query
                                                                        else "")

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run `sql` as the cluster's superuser over its own Unix socket."""
        import psycopg

        with psycopg.connect(host=str(self.folder / "socket"), port=self.port,
                             user="postgres", dbname=database, autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def cluster():
    """A PostgreSQL cluster of this test's own with TLS on and password logins only.
    Skipped where it cannot be made; in CI (NEEDLEDESK_REQUIRE_SERVER=1) that fails."""
    cannot = pytest.fail if os.environ.get("NEEDLEDESK_REQUIRE_SERVER") == "1" else pytest.skip
    why = pg_cluster.unavailable()
    if why is not None:
        cannot(f"the TLS test starts its own PostgreSQL cluster: {why}")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        cannot("no `cryptography` (the test extra) to make the test CA")

    def certificates(folder: Path) -> str:
        ca_key, ca_cert, _, ca_pem = _pem_pair("NeedleDesk test clinic CA")
        _, _, _, other_pem = _pem_pair("Some other CA")
        _, _, key_pem, cert_pem = _pem_pair("localhost", issuer=(ca_key, ca_cert),
                                             hosts=["localhost"],
                                             ips=["127.0.0.1", "127.0.0.2"])
        (folder / "ca.crt").write_bytes(ca_pem)
        (folder / "other-ca.crt").write_bytes(other_pem)
        tls = folder / "tls"
        tls.mkdir(mode=0o700)
        (tls / "server.crt").write_bytes(cert_pem)
        (tls / "server.key").write_bytes(key_pem)
        os.chmod(tls / "server.key", 0o600)
        pg_cluster.give_to_postgres(tls, tls / "server.crt", tls / "server.key")
        return (f"ssl_cert_file = '{tls / 'server.crt'}'\n"
                f"ssl_key_file = '{tls / 'server.key'}'")

    # The superuser only over this cluster's own socket; over the network, TLS and a password
    # or nothing: no plain `host` line.
    with pg_cluster.own_cluster(
            "needledesk-tls-", initdb=["-A", "trust", "-U", "postgres"], prepare=certificates,
            settings="listen_addresses = '127.0.0.1,127.0.0.2,127.0.0.3'\nssl = on\n"
                     "password_encryption = 'scram-sha-256'\nfsync = off",
            hba="local all postgres trust\n"
                "hostssl all all 127.0.0.1/32 scram-sha-256\n") as own:
        server = Cluster(own.folder, own.port, own.folder / "ca.crt",
                         own.folder / "other-ca.crt")
        server.admin(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{PASSWORD}'")
        # As docs/clinic-server.md has the IT person do: the rooms' group role is made once
        # by PostgreSQL's superuser (the database's owner may not create roles).
        server.admin("CREATE ROLE needledesk_room NOLOGIN")
        server.admin(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
        yield server


def _connect(url: str, password: str | None = PASSWORD):
    from needledesk.store.engine.postgres import connect, parse_address

    return connect(parse_address(url), password)


def _ssl_in_use(db) -> bool:
    return bool(db.raw.pgconn.ssl_in_use)


def test_localhost_by_its_name_with_verify_full_is_tls_checked_against_the_clinic_ca(cluster):
    db = _connect(cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca))
    try:
        assert _ssl_in_use(db)
        row = db.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert row[0] is True
    finally:
        db.close()


def test_another_pc_gets_verify_full_without_asking_and_tls_is_used(cluster):
    from needledesk.store.engine.postgres import parse_address

    address = parse_address(cluster.url("127.0.0.2", sslrootcert=cluster.ca))
    assert not address.local
    assert address.conninfo()["sslmode"] == "verify-full"
    db = _connect(cluster.url("127.0.0.2", sslrootcert=cluster.ca))
    try:
        assert _ssl_in_use(db)
    finally:
        db.close()


def test_a_certificate_from_another_ca_is_refused_naming_the_clinics_certificate(cluster):
    from needledesk.store.engine.postgres import ServerSetupError

    with pytest.raises(ServerSetupError) as refused:
        _connect(cluster.url("127.0.0.2", sslrootcert=cluster.other_ca))
    text = str(refused.value)
    assert "clinic's certificate" in text
    assert "other-ca.crt" in text
    assert "127.0.0.2" in text
    assert "\n" not in text and "psycopg" not in text and "SSL error" not in text


def test_the_server_under_a_name_its_certificate_does_not_carry_is_refused(cluster):
    from needledesk.store.engine.postgres import ServerSetupError

    with pytest.raises(ServerSetupError) as refused:
        _connect(cluster.url("127.0.0.3", sslrootcert=cluster.ca))
    text = str(refused.value)
    assert "127.0.0.3" in text and "certificate" in text
    assert "\n" not in text


def test_without_the_clinics_certificate_another_pc_is_refused_before_any_password(cluster,
                                                                                   tmp_path,
                                                                                   monkeypatch):
    from needledesk.store.engine.postgres import ServerSetupError

    monkeypatch.setenv("HOME", str(tmp_path))   # no ~/.postgresql/root.crt to fall back on
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    with pytest.raises(ServerSetupError) as refused:
        _connect(cluster.url("127.0.0.2"))
    text = str(refused.value)
    assert "clinic's certificate" in text
    assert str(tmp_path) not in text   # libpq's own path to a file nobody made is left out


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_tls_switched_off_or_half_checked_to_another_pc_is_refused_before_connecting(
        cluster, mode, monkeypatch):
    from needledesk.store.engine import postgres
    from needledesk.store.engine.postgres import ServerSetupError, parse_address

    def never(**_):
        raise AssertionError("connected although the address was refused")

    monkeypatch.setattr(postgres.psycopg, "connect", never)
    with pytest.raises(ServerSetupError) as refused:
        parse_address(cluster.url("127.0.0.2", sslmode=mode))
    assert "verify-full" in str(refused.value) and mode in str(refused.value)
    from needledesk.server_login import address_problem

    assert address_problem(cluster.url("clinic-server.lan", sslmode=mode)) is not None


def test_a_wrong_password_is_refused_in_plain_words(cluster):
    from needledesk.store.engine.postgres import ServerSetupError

    with pytest.raises(ServerSetupError) as refused:
        _connect(cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca),
                 password="not the password")
    text = str(refused.value)
    assert "refused the user name or password" in text
    assert f"{OWNER}@localhost:{cluster.port}/{DATABASE}" in text
    assert "not the password" not in text


def test_no_password_at_all_says_where_one_is_kept(cluster, no_keyring):
    from needledesk.server_login import open_server_repository
    from needledesk.store.engine.postgres import ServerSetupError

    url = cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca)
    with pytest.raises(ServerSetupError) as refused:
        open_server_repository(url, ask=lambda address: None)
    text = str(refused.value)
    assert "password" in text and "\n" not in text
    assert "fe_sendauth" not in text


def test_the_password_is_taken_from_the_system_password_store(cluster, memory_keyring):
    from needledesk.server_login import (
        KEYRING_SERVICE,
        open_server_repository,
        store_password,
    )
    from needledesk.store.engine.postgres import parse_address

    url = cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca)
    address = parse_address(url)
    assert store_password(address, PASSWORD)
    assert memory_keyring.entries == {
        (KEYRING_SERVICE, f"{OWNER}@localhost:{cluster.port}/{DATABASE}"): PASSWORD}

    def never(address):
        raise AssertionError("asked for a password the password store holds")

    repo = open_server_repository(url, ask=never)
    try:
        assert repo.on_server
        assert _ssl_in_use(repo.db)
        assert PASSWORD not in repo.path
        assert repo.db.execute("SELECT current_user").fetchone()[0] == OWNER
    finally:
        repo.db.close()


def test_a_wrong_password_in_the_store_is_asked_for_again(cluster, memory_keyring):
    from needledesk.server_login import open_server_repository, store_password
    from needledesk.store.engine.postgres import parse_address

    url = cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca)
    store_password(parse_address(url), "an old password")
    asked = []

    def ask(address):
        asked.append(address.display())
        return PASSWORD

    repo = open_server_repository(url, ask=ask)
    repo.db.close()
    assert asked == [f"{OWNER}@localhost:{cluster.port}/{DATABASE}"]


def test_the_command_line_without_a_terminal_or_password_store_says_so_in_one_line(
        cluster, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               NEEDLEDESK_SERVER=cluster.url("localhost", sslmode="verify-full",
                                             sslrootcert=cluster.ca))
    env.pop("PGPASSWORD", None)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "needledesk", "export", "json"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30   # no prompt waited on
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "password" in lines[0] and "Traceback" not in done.stderr
    assert f"{OWNER}@localhost:{cluster.port}/{DATABASE}" in lines[0]


def test_the_command_line_with_the_password_in_the_store_reads_the_server(cluster,
                                                                           memory_keyring,
                                                                           capsys):
    from needledesk.cli import main
    from needledesk.server_login import store_password
    from needledesk.store.engine.postgres import parse_address

    url = cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca)
    store_password(parse_address(url), PASSWORD)
    with contextlib.suppress(SystemExit):
        assert main(["--server", url, "export", "json"]) == 0
    out = capsys.readouterr().out
    assert '"clients"' in out


def _in_a_terminal(argv: list[str], env: dict[str, str], typed: str | None,
                   timeout: float = 60) -> tuple[int, str]:
    """Run `argv` with a pseudo-terminal as its controlling terminal (as a person at a
    terminal would), type `typed` and Enter when it asks for a password; its exit status
    and everything it wrote to the terminal."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:   # the child: the terminal is its stdin, stdout, stderr and /dev/tty
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    seen = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""   # the child closed the terminal
                if not chunk:
                    _, status = os.waitpid(pid, 0)
                    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")
                seen += chunk
            if not answered and typed is not None and b"Password for " in seen:
                os.write(fd, typed.encode() + b"\n")
                answered = True
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                with contextlib.suppress(OSError):
                    while True:
                        ready, _, _ = select.select([fd], [], [], 0.2)
                        if not ready:
                            break
                        chunk = os.read(fd, 4096)
                        if not chunk:
                            break
                        seen += chunk
                return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError(f"no end within {timeout} s: {seen.decode(errors='replace')}")
    finally:
        os.close(fd)


def _terminal_env(cluster, tmp_path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), TERM="dumb",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               NEEDLEDESK_SERVER=cluster.url("localhost", sslmode="verify-full",
                                             sslrootcert=cluster.ca))
    env.pop("PGPASSWORD", None)
    return env


def test_at_a_terminal_without_a_password_store_the_password_is_asked_and_not_echoed(
        cluster, tmp_path):
    code, seen = _in_a_terminal([sys.executable, "-m", "needledesk", "server", "status"],
                                _terminal_env(cluster, tmp_path), PASSWORD)
    assert f"Password for {OWNER}@localhost:{cluster.port}/{DATABASE}: " in seen
    assert PASSWORD not in seen   # not echoed
    assert "encrypted (TLS, its certificate checked)" in seen, seen
    assert code in (0, 1), seen   # 1 only while the server needs init


def test_at_a_terminal_a_wrong_password_is_one_plain_line(cluster, tmp_path):
    code, seen = _in_a_terminal([sys.executable, "-m", "needledesk", "export", "json"],
                                _terminal_env(cluster, tmp_path), "not it")
    assert code == 1
    assert "refused the user name or password" in seen
    assert "Traceback" not in seen and "not it" not in seen


def test_server_status_says_whether_the_certificate_was_checked(cluster, memory_keyring,
                                                                capsys):
    from needledesk.cli import main
    from needledesk.server_login import store_password
    from needledesk.store.engine.postgres import parse_address

    checked = cluster.url("localhost", sslmode="verify-full", sslrootcert=cluster.ca)
    on_this_pc = cluster.url("127.0.0.1")   # this PC: TLS if offered, not insisted on
    for url in (checked, on_this_pc):
        store_password(parse_address(url), PASSWORD)
    main(["server", "init", checked])
    capsys.readouterr()
    assert main(["server", "status", checked]) == 0
    assert "encrypted (TLS, its certificate checked)" in capsys.readouterr().out
    assert main(["server", "status", on_this_pc]) == 0
    assert "encrypted (TLS; its certificate not checked: on this PC)" in \
        capsys.readouterr().out
