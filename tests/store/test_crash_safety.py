"""Crashes and full disks: a writer killed at random moments loses nothing it acknowledged
and leaves no half-written record; a write past the file-size limit fails with one clear
line and leaves the file as it was before that write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_writer import (
    AREAS,
    REACTIONS,
    SERUMS,
    expected_client,
    expected_session,
    is_signed_by_writer,
)
from factories import make_client, make_session

from needledesk.domain.model import ClientRecord
from needledesk.exchange import dumps, encode_document, encode_record
from needledesk.store.check import check_database
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and setrlimit are POSIX")

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 24
#: Every few rounds the clock starts at launch rather than at "ready", so some kills land
#: while the writer imports, opens the file and SQLite recovers the previous crash.
FROM_LAUNCH_EVERY = 6


def _env(tmp_path: Path) -> dict[str, str]:
    # The child's own data folder keeps its log apart; its anchors (the audit trail's head,
    # kept outside the file) go where this process's `check` looks for them.
    from needledesk.store.anchors import ANCHOR_ENV, anchor_dir

    return os.environ | {"PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp_path / "xdg"),
                         ANCHOR_ENV: str(anchor_dir())}


def _parse(record_id: str) -> tuple[int, int]:
    """`crash-SEED-N` or `crash-SEED-N-session` -> (SEED, N)."""
    _, seed, n = record_id.removesuffix("-session").split("-")
    return int(seed), int(n)


def _acknowledged(ack_path: Path) -> list[tuple[str, str]]:
    """Whole lines only: a line cut short by the kill was never acknowledged."""
    if not ack_path.exists():
        return []
    lines = ack_path.read_bytes().decode().split("\n")[:-1]
    return [(line.partition(" ")[0], line.partition(" ")[2]) for line in lines]


def _wait_for_ready(ack_path: Path, child: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ("ready", "") in _acknowledged(ack_path):
            return
        if child.poll() is not None:
            pytest.fail(f"the writer exited with {child.returncode} before opening the file")
        time.sleep(0.005)
    pytest.fail("the writer did not open the file within 30 s")


def _verify(db_path: Path, acked: dict[str, set[str]]) -> int:
    """Everything acknowledged is there, whole; nothing is there in part. Returns how many
    sessions are stored."""
    db = open_database(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        records = list(Repository(db).load_records())
        clients = {r.client.id: r.client for r in records}
        sessions = {s.id: s for r in records for s in r.sessions}
        signed = {i for i, s in sessions.items() if s.is_signed}

        assert acked["client"] <= clients.keys(), "acknowledged clients are missing"
        assert acked["session"] <= sessions.keys(), "acknowledged sessions are missing"
        assert acked["signed"] <= signed, "acknowledged sign-offs are missing"
        # Committed but killed before the acknowledgement is fine; different is not.
        for client_id, client in clients.items():
            assert client == expected_client(*_parse(client_id))
        for session_id, session in sessions.items():
            seed, n = _parse(session_id)
            assert session == expected_session(seed, n, signed=session.is_signed)
            assert not session.is_signed or is_signed_by_writer(n)

        per_session = db.execute("""
            SELECT s.id,
                   (SELECT count(*) FROM treated_areas WHERE session_id = s.id),
                   (SELECT count(*) FROM serums WHERE session_id = s.id),
                   (SELECT count(*) FROM reactions WHERE session_id = s.id)
            FROM sessions s""").fetchall()
        assert {tuple(row[1:]) for row in per_session} <= {(AREAS, SERUMS, REACTIONS)}
        for table in ("treated_areas", "serums", "reactions"):
            assert db.execute(f"SELECT count(*) FROM {table} WHERE session_id NOT IN "
                              "(SELECT id FROM sessions)").fetchone() == (0,)

        # The audit row is written in the same transaction as the record it describes.
        audited = set(db.execute("SELECT kind, action, record_id FROM audit "
                                 "WHERE action NOT IN ('identify', 'baseline')").fetchall())
        assert audited == ({("client", "create", i) for i in clients}
                           | {("session", "create", i) for i in sessions}
                           | {("session", "sign", i) for i in signed})

        assert check_database(db) == []
        return len(sessions)
    finally:
        db.close()


@pytest.mark.slow
def test_acknowledged_records_survive_sigkill_at_random_moments(tmp_path):
    rng = random.Random(20261121)
    db_path = tmp_path / "clinic.db"
    acked: dict[str, set[str]] = {"client": set(), "session": set(), "signed": set()}
    rounds_with_writes = 0
    stored = 0
    for round_ in range(KILLS):
        ack_path = tmp_path / f"ack-{round_}"
        delay = rng.uniform(0.05, 0.6)
        with open(tmp_path / f"writer-{round_}.err", "wb") as err:
            child = subprocess.Popen(
                [sys.executable, str(WRITER), str(db_path), str(ack_path), str(round_)],
                cwd=ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=err)
        try:
            if round_ % FROM_LAUNCH_EVERY:
                _wait_for_ready(ack_path, child)
            time.sleep(delay)
            running = child.poll() is None
            child.send_signal(signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)
        assert running, (tmp_path / f"writer-{round_}.err").read_text()

        lines = _acknowledged(ack_path)
        for kind, record_id in lines:
            if kind != "ready":
                acked[kind].add(record_id)
        rounds_with_writes += any(kind == "session" for kind, _ in lines)
        stored = _verify(db_path, acked)

    assert rounds_with_writes >= KILLS // 2, "too few kills landed while the writer wrote"
    assert stored >= len(acked["session"]) > KILLS


# --- a file-size limit ----------------------------------------------------------------------

LIMITED_CLI = """
import resource, signal, sys
from needledesk.cli import main
# Without this the kernel kills the process; with it, the write fails with EFBIG.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(main(sys.argv[2:]))
"""
LIMIT_ABOVE_FILE = 256 * 1024
STORAGE_WORDS = ("disk", "full", "too large", "file size", "space")


def _records(prefix: str, count: int) -> list[ClientRecord]:
    records = []
    for n in range(count):
        client = make_client(id=f"{prefix}-{n}", last_name=f"{prefix.title()} {n}")
        session = make_session(client.id, id=f"{prefix}-{n}-session",
                               notes=f"{prefix} session {n} " + "observed closely; " * 40)
        records.append(ClientRecord(client, sessions=[session]))
    return records


def _exported(db_path: Path) -> list[dict]:
    db = open_database(db_path)
    try:
        return [encode_record(r) for r in Repository(db).load_records()]
    finally:
        db.close()


def _limited(tmp_path: Path, limit: int, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LIMITED_CLI, str(limit), *map(str, argv)],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def import_past_the_limit(tmp_path_factory):
    """Seed a file, then under a file-size limit just above it: a small import (fits), then
    a big one (does not). Returns the paths, the big import's outcome and what was stored
    before it."""
    tmp_path = tmp_path_factory.mktemp("fsize")
    db_path = tmp_path / "clinic.db"
    db = open_database(db_path)
    try:
        Repository(db).write_records(_records("seeded", 5), by="Jane Smith")
    finally:
        db.close()
    limit = db_path.stat().st_size + LIMIT_ABOVE_FILE
    small = tmp_path / "small.json"
    small.write_text(dumps(encode_document(_records("small", 1))), encoding="utf-8")
    big = tmp_path / "big.json"
    big.write_text(dumps(encode_document(_records("big", 600))), encoding="utf-8")
    assert big.stat().st_size > 4 * LIMIT_ABOVE_FILE

    fits = _limited(tmp_path, limit, "--db", db_path, "import", small)
    assert fits.returncode == 0, fits.stderr
    before = _exported(db_path)
    failed = _limited(tmp_path, limit, "--db", db_path, "import", big)
    return db_path, failed, before


def test_a_write_past_the_file_size_limit_leaves_the_file_as_it_was(import_past_the_limit):
    db_path, failed, before = import_past_the_limit

    assert failed.returncode not in (0, -signal.SIGXFSZ), failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr
    assert failed.stdout == ""
    # It failed for the limit, not for something else about the file.
    assert any(word in failed.stderr.lower() for word in STORAGE_WORDS), failed.stderr
    db = open_database(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check_database(db) == []
        ids = {r[0] for r in db.execute("SELECT id FROM clients")}
    finally:
        db.close()
    assert ids == {f"seeded-{n}" for n in range(5)} | {"small-0"}
    assert _exported(db_path) == before  # all or nothing: none of the big import


def test_a_write_past_the_file_size_limit_is_one_clear_line(import_past_the_limit):
    _, failed, _ = import_past_the_limit

    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, failed.stderr
    line = lines[0]
    assert line.startswith("needledesk: ")
    assert "internal error" not in line
    assert any(word in line.lower() for word in STORAGE_WORDS)
    assert "nothing was" in line.lower() or "not imported" in line.lower()
    assert failed.returncode == 1



LIMITED_REPOSITORY = """
import resource, signal, sqlite3, sys
from factories import make_client, make_session
from needledesk.domain.model import ClientRecord
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

repo = Repository(open_database(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
big = [ClientRecord(make_client(id=f"big-{n}"),
                    sessions=[make_session(f"big-{n}", notes="observed closely; " * 40)])
       for n in range(600)]
try:
    repo.write_records(big, by="Jane Smith")
except sqlite3.OperationalError as exc:
    print("refused:", exc)
else:
    sys.exit("the big write went through")
repo.add_client(make_client(id="after-the-failure"), by="Jane Smith")
print("written after the failure")
"""


def test_after_a_write_past_the_limit_the_same_connection_goes_on_writing(tmp_path):
    """The window keeps its connection: once the practitioner frees space, saving works."""
    db_path = tmp_path / "clinic.db"
    open_database(db_path).close()
    limit = db_path.stat().st_size + LIMIT_ABOVE_FILE

    child = subprocess.run(
        [sys.executable, "-c", LIMITED_REPOSITORY, str(db_path), str(limit)], cwd=ROOT,
        env=_env(tmp_path) | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])},
        capture_output=True, text=True, timeout=120)

    assert child.returncode == 0, child.stderr
    refused, written = child.stdout.splitlines()
    assert refused.startswith("refused: ") and written == "written after the failure"
    db = open_database(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check_database(db) == []
        assert [r[0] for r in db.execute("SELECT id FROM clients")] == ["after-the-failure"]
    finally:
        db.close()
