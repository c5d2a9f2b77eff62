"""The command line on the clinic server, end to end: `--server URL` (or NEEDLEDESK_SERVER)
for demo, export, check and `server status`; `--db` naming a file wins over the
environment; a bad address is one line and exit 2 before anything is connected to; a
server that cannot be reached is one plain line, never a traceback.

On the test server (NEEDLEDESK_TEST_SERVER), a new database per test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from needledesk.cli import main


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, env: dict[str, str] | None = None, tmp_path=None):
    """`python -m needledesk ARGS` in its own process, stdin not a terminal."""
    environment = dict(os.environ)
    if tmp_path is not None:
        environment |= {"XDG_DATA_HOME": str(tmp_path / "data"),
                        "XDG_CONFIG_HOME": str(tmp_path / "config"),
                        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    environment.pop("NEEDLEDESK_SERVER", None)
    environment |= env or {}
    return subprocess.run([sys.executable, "-m", "needledesk", *args], env=environment,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


def _one_plain_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "psycopg" not in stderr
    assert "OperationalError" not in stderr and "internal error" not in stderr
    return lines[0]


def test_demo_export_and_check_on_the_server(server_url, capsys, monkeypatch):
    monkeypatch.delenv("NEEDLEDESK_SERVER", raising=False)
    assert main(["--server", server_url, "demo", "--clients", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo added: 5 clients")
    assert "photos" in out   # the demo's photos are kept on the server too

    assert main(["--server", server_url, "export", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["clients"]) == 5

    assert main(["--server", server_url, "check"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("check: the clinic server (")
    assert "is sound" in captured.out
    assert captured.err == ""

    assert main(["--server", server_url, "server", "status"]) == 0
    out = capsys.readouterr().out
    assert "records: 5 clients" in out and "schema: up to date" in out


def test_check_on_the_server_reports_a_changed_trail(server_url, capsys, monkeypatch):
    """check reads the server as it is: the head row moved behind NeedleDesk's back (by
    its owner, the triggers switched off for it) is found, exit 1."""
    monkeypatch.delenv("NEEDLEDESK_SERVER", raising=False)
    assert main(["--server", server_url, "demo", "--clients", "2", "--photos", "0"]) == 0
    capsys.readouterr()
    from needledesk.server_login import connect_server

    db = connect_server(server_url)
    try:
        db.execute("UPDATE audit_head SET seq = seq - 1")
    finally:
        db.close()
    assert main(["--server", server_url, "check"]) == 1
    err = capsys.readouterr().err
    assert "audit" in err and "check found" in err


def test_check_does_not_give_a_new_server_its_id(server_url, capsys, monkeypatch):
    monkeypatch.delenv("NEEDLEDESK_SERVER", raising=False)
    main(["--server", server_url, "check"])
    capsys.readouterr()
    from needledesk.server_login import connect_server
    from needledesk.store.server import is_empty

    db = connect_server(server_url)
    try:
        assert is_empty(db)   # still ready for move-to-server
    finally:
        db.close()


def test_needledesk_server_is_picked_up_and_db_wins_over_it(server_url, tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.setenv("NEEDLEDESK_SERVER", server_url)
    assert main(["demo", "--clients", "3", "--photos", "0"]) == 0
    assert "demo added: 3 clients" in capsys.readouterr().out
    assert main(["check"]) == 0
    assert "check: the clinic server (" in capsys.readouterr().out

    # --db names a file: that file, whatever the environment says.
    clinic = tmp_path / "clinic.db"
    assert main(["--db", str(clinic), "demo", "--clients", "2", "--photos", "0"]) == 0
    capsys.readouterr()
    assert clinic.exists()
    assert main(["--db", str(clinic), "check"]) == 0
    assert capsys.readouterr().out.startswith("check: the database is sound")
    assert main(["--db", str(clinic), "export", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["clients"]) == 2

    # The server kept its own 3.
    assert main(["export", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["clients"]) == 3

    # --server and --db together: --server is what was asked for.
    assert main(["--db", str(clinic), "--server", server_url, "export", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["clients"]) == 3


@pytest.mark.parametrize("address, says", [
    ("http://clinic-server.lan/needledesk", "must start with postgresql://"),
    ("postgresql://room1@clinic-server.lan:99999/needledesk", "port"),
    ("postgresql://room1@clinic-server.lan/needledesk?sslmode=disable", "verify-full"),
    ("postgresql://room1@clinic-server.lan/needledesk?sslmode=require", "verify-full"),
    ("postgresql://room1:secret@clinic-server.lan/needledesk", "Leave the password out"),
    ("postgresql://room1@clinic-server.lan/needledesk?colour=blue", "colour"),
])
def test_a_bad_address_is_one_plain_line_and_exit_2(address, says, tmp_path):
    done = _run("--server", address, "export", "json", tmp_path=tmp_path)
    assert done.returncode == 2
    line = _one_plain_line(done.stderr)
    assert line.startswith("needledesk: --server: ")
    assert says in line
    assert "secret" not in done.stderr
    assert done.stdout == ""

    done = _run("check", env={"NEEDLEDESK_SERVER": address}, tmp_path=tmp_path)
    assert done.returncode == 2
    assert _one_plain_line(done.stderr).startswith("needledesk: NEEDLEDESK_SERVER: ")


def test_a_bad_address_given_to_server_init_is_exit_2(tmp_path):
    done = _run("server", "init", "postgresql://owner@clinic-server.lan/x?sslmode=allow",
                tmp_path=tmp_path)
    assert done.returncode == 2
    assert "verify-full" in _one_plain_line(done.stderr)


def test_server_commands_without_an_address_say_how_to_give_one(tmp_path):
    done = _run("server", "status", tmp_path=tmp_path)
    assert done.returncode == 1
    assert "name the clinic server" in _one_plain_line(done.stderr)


@pytest.mark.parametrize("command", [["export", "json"], ["check"], ["demo"],
                                     ["server", "status"], ["backup"]])
def test_a_server_that_cannot_be_reached_is_one_plain_line(command, tmp_path):
    port = _closed_port()
    address = f"postgresql://room1@127.0.0.1:{port}/needledesk"
    done = _run("--server", address, *command, tmp_path=tmp_path)
    assert done.returncode == 1
    line = _one_plain_line(done.stderr)
    assert f"The clinic server (room1@127.0.0.1:{port}/needledesk) cannot be reached: " \
           "connection refused" in line
    assert done.stdout == ""


def test_a_server_name_the_network_does_not_know_is_one_plain_line(tmp_path):
    done = _run("--server", "postgresql://room1@clinic-server.invalid/needledesk",
                "export", "json", tmp_path=tmp_path)
    assert done.returncode == 1
    line = _one_plain_line(done.stderr)
    assert "cannot be reached: the name clinic-server.invalid is not known on this " \
           "network" in line


def test_no_server_on_this_pcs_socket_is_one_plain_line(tmp_path):
    done = _run("--server", f"postgresql://room1@/needledesk?host={tmp_path}",
                "check", tmp_path=tmp_path)
    assert done.returncode == 1
    line = _one_plain_line(done.stderr)
    assert f"no server is running on this PC with its socket in {tmp_path}" in line
    assert "PostgreSQL is running on this PC" in line
