"""A writer for the crash tests, run as `python crash_writer.py DB ACKFILE SEED` and killed.

It writes clients and sessions through the Repository, as the window does, and appends one
line to ACKFILE (flushed and fsynced) after each write has returned: everything named there
was acknowledged and must survive the kill. Contents follow from (SEED, n) alone, so the
test can rebuild exactly what each record must hold.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

if __name__ == "__main__":  # run as a script: the package and the factories must import
    sys.path[:0] = [str(Path(__file__).resolve().parents[i]) for i in (2, 1)]

from factories import make_client, make_session  # noqa: E402

from needledesk.domain.model import Observed, Reaction, Serum, TreatedArea  # noqa: E402

AREAS, SERUMS, REACTIONS = 4, 3, 2
#: Every third session is signed off after it is saved.
SIGN_EVERY = 3
#: However long nobody kills it, the writer stops by itself.
TIME_LIMIT_S = 30
MAX_WRITES = 100_000


def client_id(seed: int, n: int) -> str:
    return f"crash-{seed}-{n}"


def session_id(seed: int, n: int) -> str:
    return f"crash-{seed}-{n}-session"


def expected_client(seed: int, n: int):
    return make_client(id=client_id(seed, n), last_name=f"Writer {seed} {n}",
                       notes=f"written by round {seed}, client {n}")


def expected_session(seed: int, n: int, *, signed: bool = False):
    started = datetime(2026, 1, 1, 10, 0) + timedelta(minutes=seed * 1000 + n)
    session = make_session(
        client_id(seed, n), id=session_id(seed, n), started_at=started, anaesthetic=None,
        areas=[TreatedArea(f"area {i}", round(0.1 * (1 + (n + i) % 25), 1), 1 + i % 5,
                           f"endpoint {n}.{i}", f"note {n}.{i}") for i in range(AREAS)],
        serums=[Serum(f"serum {i}", f"lot {n}.{i}") for i in range(SERUMS)],
        reactions=[Reaction("erythema", (n + i) % 4, Observed.IMMEDIATE, f"seen {n}.{i}")
                   for i in range(REACTIONS)],
        notes=f"session {n} of round {seed}")
    if signed:
        session.signed_at = signed_at(seed, n)
    return session


def signed_at(seed: int, n: int) -> datetime:
    return expected_session(seed, n).started_at + timedelta(minutes=45)


def is_signed_by_writer(n: int) -> bool:
    return n % SIGN_EVERY == 0


def main(db_path: str, ack_path: str, seed: int) -> None:
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository

    ack = os.open(ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def acknowledge(line: str) -> None:
        os.write(ack, (line + "\n").encode())
        os.fsync(ack)

    repo = Repository(open_database(db_path))
    acknowledge("ready")
    deadline = time.monotonic() + TIME_LIMIT_S
    for n in range(MAX_WRITES):
        if time.monotonic() > deadline:
            break
        repo.add_client(expected_client(seed, n), by="Jane Smith")
        acknowledge(f"client {client_id(seed, n)}")
        repo.save_draft(expected_session(seed, n), by="Jane Smith")
        acknowledge(f"session {session_id(seed, n)}")
        if is_signed_by_writer(n):
            repo.sign_session(session_id(seed, n), at=signed_at(seed, n), by="Jane Smith")
            acknowledge(f"signed {session_id(seed, n)}")
    repo.db.close()
    os.close(ack)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
