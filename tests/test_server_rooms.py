"""Four treatment rooms on one clinic server at once (issue 17): four processes, each its own
connection and practitioner, save sessions for 60 s, for their own clients and for two
clients every room has open. Afterwards: no lost and no merged update, every refused save
reported to the room that made it, the audit trail one line, `check` sound.

Each room, in a loop: reads a session and its version (`record_version`), edits it for a
moment (as a person would), and saves it with `expected=` that version: a draft saved
(`save_draft`), now and then signed off (`sign_session`), a signed one amended
(`amend_session`). The shared sessions are what all four rooms edit, so their saves clash;
a room's own clients' sessions never do. Every save a room made (its session, the version
it started from, the content it wrote) and every refusal (`ChangedElsewhereError`) is kept
in the room's own list, and compared with the server's audit trail afterwards.

Slow (60 s by default): `NEEDLEDESK_ROOMS_SECONDS=10` for a quick run. Server only.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import statistics
import time
import traceback
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOMS = 4
SECONDS = float(os.environ.get("NEEDLEDESK_ROOMS_SECONDS", "60"))
SHARED_CLIENTS = 2
SHARED_SESSIONS_EACH = 2
OWN_CLIENTS = 2
#: How long a person "edits" a session between opening and saving it (seconds).
EDITING = (0.0, 0.03)

pytestmark = pytest.mark.slow


def content(session) -> str:
    """What a save wrote, as one hash (the session in exchange form, as its audit row keeps
    it)."""
    from needledesk.exchange import encode_session

    text = json.dumps(encode_session(session), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_hash(after_json: str) -> str:
    text = json.dumps(json.loads(after_json), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def room(number: int, url: str, shared: list[str], seconds: float, out: str,
         barrier) -> None:
    """One treatment room: its own connection and practitioner; saves until `seconds` have
    passed; writes what it did to `out` (JSON)."""
    from factories import make_client, make_session

    from needledesk.errors import ChangedElsewhereError
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    name = f"Room {number} practitioner"
    rng = random.Random(number)
    saves: list[dict] = []
    refusals: list[dict] = []
    errors: list[str] = []
    latencies: list[float] = []
    try:
        repo = Repository(open_server(url, migrate_schema=False))
        own_clients = [repo.add_client(make_client(first_name=f"Own{number}",
                                                   last_name=f"Client{k}", phone=None,
                                                   email=None), by=name).id
                       for k in range(OWN_CLIENTS)]
        own: list[str] = []
        barrier.wait(timeout=120)
        deadline = time.monotonic() + seconds
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            note = f"{name}, edit {counter}"
            mine = rng.random() < 0.4
            if mine and (not own or rng.random() < 0.3):
                # A new session for one of this room's own clients: must not exist yet.
                started = datetime(2026, 11, 20, 9) + timedelta(minutes=counter)
                session = make_session(rng.choice(own_clients), started_at=started,
                                       notes=note, practitioner=name, anaesthetic=None)
                began = time.perf_counter()
                repo.save_draft(session, by=name, expected=0)
                latencies.append(time.perf_counter() - began)
                saves.append({"session": session.id, "expected": 0, "action": "create",
                              "content": content(session), "shared": False})
                own.append(session.id)
                continue
            session_id = rng.choice(own) if mine else rng.choice(shared)
            opened = repo.record_version("session", session_id)
            current = repo.get_session(session_id)
            time.sleep(rng.uniform(*EDITING))   # the practitioner types
            edited = replace(current, notes=note)
            try:
                began = time.perf_counter()
                if current.signed_at is not None:
                    amendment = repo.amend_session(edited, by=name, reason=f"edit {counter}",
                                                   expected=opened.seq)
                    written = replace(edited, amendments=[*current.amendments, amendment])
                    action = "amend"
                elif rng.random() < (0.15 if mine else 0.05):
                    written = repo.sign_session(session_id, by=name, expected=opened.seq)
                    action = "sign"
                else:
                    written = repo.save_draft(edited, by=name, expected=opened.seq)
                    action = "update"
                latencies.append(time.perf_counter() - began)
                saves.append({"session": session_id, "expected": opened.seq,
                              "action": action, "content": content(written),
                              "shared": not mine})
            except ChangedElsewhereError as refused:
                refusals.append({"session": session_id, "expected": opened.seq,
                                 "shared": not mine, "who": refused.who,
                                 "at": refused.at.isoformat() if refused.at else None,
                                 "message": str(refused), "content": content(edited)})
        repo.db.close()
    except Exception:
        errors.append(traceback.format_exc())
        # Let the others start even when this room failed before the barrier.
        barrier.abort()
    Path(out).write_text(json.dumps({"name": name, "saves": saves, "refusals": refusals,
                                     "errors": errors, "latencies": latencies}))


def test_four_rooms_saving_at_once_lose_and_merge_nothing(server_url, tmp_path):
    from factories import make_client, make_session

    from needledesk.store.check import check_file
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    repo = Repository(open_server(server_url))
    try:
        shared = []
        for k in range(SHARED_CLIENTS):
            client = repo.add_client(make_client(first_name="Shared", last_name=f"Client{k}",
                                                 phone=None, email=None), by="Reception")
            for j in range(SHARED_SESSIONS_EACH):
                session = make_session(client.id, notes="booked",
                                       started_at=datetime(2026, 11, 21 + j, 10, 30))
                repo.save_draft(session, by="Reception")
                shared.append(session.id)

        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(ROOMS)
        outs = [tmp_path / f"room{n}.json" for n in range(1, ROOMS + 1)]
        rooms = [context.Process(target=room, args=(n, server_url, shared, SECONDS,
                                                    str(out), barrier))
                 for n, out in zip(range(1, ROOMS + 1), outs, strict=True)]
        for process in rooms:
            process.start()
        for process in rooms:
            process.join(timeout=SECONDS + 180)
            if process.is_alive():
                process.kill()
                pytest.fail("a room did not finish")
        assert [p.exitcode for p in rooms] == [0] * ROOMS
        results = [json.loads(out.read_text()) for out in outs]
        for result in results:
            assert result["errors"] == [], result["errors"][0]

        # The trail, session by session.
        rows: dict[str, list[dict]] = {}
        for row in repo.db.query("SELECT seq, who, action, record_id, before, after FROM "
                                 "audit WHERE kind = 'session' ORDER BY seq"):
            rows.setdefault(row["record_id"], []).append(row)
        by_content = {(row["record_id"], row["who"], _stored_hash(row["after"])): row
                      for session_rows in rows.values() for row in session_rows}

        for result in results:
            name = result["name"]
            for save in result["saves"]:
                # Every save a room made is in the trail, written from the version it read:
                # nothing lost, nothing merged into another room's change.
                row = by_content.get((save["session"], name, save["content"]))
                assert row is not None, (name, save)
                assert row["action"] == save["action"], (name, save, row["action"])
                history = rows[save["session"]]
                previous = history[history.index(row) - 1]["seq"] if history.index(row) else 0
                assert previous == save["expected"], (name, save, previous)
            for refusal in result["refusals"]:
                # A refused save wrote nothing, and named a real later change by another room.
                assert (refusal["session"], name, refusal["content"]) not in by_content
                later = [r for r in rows[refusal["session"]] if r["seq"] > refusal["expected"]]
                assert refusal["who"] != name, refusal
                assert any(r["who"] == refusal["who"] for r in later), refusal
                assert "in another room by Room" in refusal["message"]
            # Clashes happen on the shared sessions only, and this room saw some.
            assert any(r["shared"] for r in result["refusals"]), f"{name} was never refused"
            assert not any(not r["shared"] for r in result["refusals"]), name

        # Each session's trail is one line of saves, each from the one before, and what is
        # stored is the last successful save's content.
        saves_by_session: dict[str, int] = {}
        for result in results:
            for save in result["saves"]:
                saves_by_session[save["session"]] = saves_by_session.get(save["session"], 0) + 1
        for session_id, count in saves_by_session.items():
            history = rows[session_id]
            from_rooms = [r for r in history if r["who"] != "Reception"]
            assert len(from_rooms) == count, session_id
            for earlier, later in zip(history, history[1:], strict=False):
                assert later["before"] is not None
                assert _stored_hash(later["before"]) == _stored_hash(earlier["after"])
            assert content(repo.get_session(session_id)) == _stored_hash(history[-1]["after"])

        assert repo.audit.verify_chain() == []
        report = check_file(repo.db)
        assert report.problems == [], report.problems

        saved = sum(len(r["saves"]) for r in results)
        refused = sum(len(r["refusals"]) for r in results)
        latencies = sorted(x for r in results for x in r["latencies"])
        p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
        print(f"\n{ROOMS} rooms, {SECONDS:g} s: {saved} saves ({saved / SECONDS:.1f}/s), "
              f"{refused} refused as changed elsewhere; one save median "
              f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95:.1f} ms; per room: "
              + ", ".join(f"{len(r['saves'])} saved/{len(r['refusals'])} refused"
                          for r in results))
        assert saved > ROOMS * 10
    finally:
        repo.db.close()
