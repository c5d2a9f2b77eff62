"""The clinic server away while a session is being saved, on the real test server.

Only this test's own connection is made "away": its backend is ended from the test
server's admin connection (`pg_terminate_backend`), and connecting again is pointed at a
closed port until the test lets it back. The shared server and other databases are never
touched."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime

import pytest
from factories import make_client, make_session
from ui_windows import show_window

from needledesk import recovery
from needledesk.errors import NotFoundError
from needledesk.exchange import encode_session
from needledesk.ui import server_away
from needledesk.ui.server_away import BANNER_TEXT, STATUS_AWAY, AwayRetry, offer_recovery
from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)


class Outage:
    """This repository's server connection lost, and kept from coming back, until `end`."""

    def __init__(self, test_server, repo):
        self.admin = test_server.admin
        self.db = repo.db
        self.args = dict(repo.db._connect_args)

    def start(self) -> None:
        pid = self.db.raw.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        self.db._connect_args = self.args | {"port": "1"}   # nothing listens there

    def end(self) -> None:
        self.db._connect_args = dict(self.args)


@pytest.fixture
def server_repo(server_url):
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    repo = Repository(open_server(server_url))
    yield repo
    repo.db.close()


@pytest.fixture
def ui_repo(server_repo):
    """The window's records are the server's: tests/ui/conftest.py's `client` (a client
    with a screening on file) is made there."""
    return server_repo


@pytest.fixture
def recovery_folder():
    """The user's recovery folder (in the tests' private data folder), empty before and
    after each test."""
    where = recovery.folder()
    for path in where.glob("*") if where.is_dir() else []:
        path.unlink()
    yield where
    for path in where.glob("*") if where.is_dir() else []:
        path.unlink()


def _new_editor(window, client) -> SessionEditor:
    window._select_client(client.id)
    editor = window.new_session()
    assert editor is not None
    editor.practitioner.setCurrentText("Jane Smith")
    editor.areas.add_button.click()
    row = editor.areas.rows[-1]
    row.area.setCurrentText("cheeks")
    row.depth.setValue(1.0)
    row.passes.setValue(3)
    return editor


def _audit_rows(repo, session_id: str) -> int:
    return repo.db.execute("SELECT COUNT(*) FROM audit WHERE kind = 'session' AND "
                           "record_id = ?", [session_id]).fetchone()[0]


def test_the_banner_shows_the_entries_stay_and_the_save_goes_through_when_back(
        qtbot, server_repo, client, state, test_server, no_real_modals):
    window = show_window(qtbot, server_repo, state)
    editor = _new_editor(window, client)
    outage = Outage(test_server, server_repo)
    outage.start()

    assert not editor.save()
    assert editor.away_banner.isVisible() and editor.away_banner.text() == BANNER_TEXT
    assert window.statusBar().currentMessage() == STATUS_AWAY
    assert editor.away.waiting and editor.away.timer.isActive()
    assert editor.away.timer.interval() == AwayRetry.INTERVAL_MS == 5000
    assert not [text for text in no_real_modals if "server" in text], \
        "no box to dismiss while waiting: the banner says it"
    # Still away: a retry changes nothing, and what is typed meanwhile is kept too.
    assert not editor.away.try_again()
    assert editor.away_banner.isVisible()
    editor.notes.setPlainText("Typed while the server was away.")
    assert editor.is_dirty() and editor.areas.rows[0].area.currentText() == "cheeks"

    outage.end()
    editor.away.timer.setInterval(50)   # the real timer, sooner than every 5 s
    qtbot.waitUntil(lambda: not editor.away.waiting, timeout=5000)
    assert not editor.away_banner.isVisible()
    assert not editor.is_dirty()
    assert "Draft — not signed off" in editor.status.text()
    assert "back" in window.statusBar().currentMessage()
    stored = server_repo.get_session(editor.session_id)
    assert encode_session(stored) == encode_session(editor.session()[0])
    assert stored.notes == "Typed while the server was away."
    assert _audit_rows(server_repo, editor.session_id) == 1
    editor.close()


def test_closed_while_away_is_kept_for_the_next_start_and_saved_through_the_editor(
        qtbot, server_repo, server_url, client, state, test_server, recovery_folder,
        monkeypatch, no_real_modals):
    window = show_window(qtbot, server_repo, state)
    editor = _new_editor(window, client)
    editor.notes.setPlainText("Kept while the server was away.")
    session_id = editor.session_id
    outage = Outage(test_server, server_repo)
    outage.start()
    assert not editor.save() and editor.away.waiting

    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert any("recovery draft" in text for text in no_real_modals)
    kept = list(recovery_folder.glob("session-*.json"))
    assert len(kept) == 1
    if os.name == "posix":
        assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(recovery_folder.stat().st_mode) == 0o700
    document = json.loads(kept[0].read_text(encoding="utf-8"))
    assert document["store"] == server_repo.path and "password" not in kept[0].read_text()
    assert document["client_id"] == client.id
    assert document["practitioner"] == "Jane Smith"
    assert document["session"]["notes"] == "Kept while the server was away."
    assert not [f for f in recovery_folder.iterdir() if f.name.endswith(".tmp")]

    # The next start, on the same server: the draft is offered and Save it now opens the
    # editor on it, which saves it through the normal path.
    outage.end()
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    again = Repository(open_server(server_url))
    try:
        with pytest.raises(NotFoundError):   # nothing reached the records while away
            again.get_session(session_id)
        asked: list[str] = []
        monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
            lambda parent, text: asked.append(text) or server_away.SAVE))
        window2 = show_window(qtbot, again, state)
        assert offer_recovery(window2) == [server_away.SAVE]
        assert "Ana López" in asked[0] and "kept on this PC" in asked[0]
        assert "T10" not in asked[0] and "{" not in asked[0]   # plain words, no ISO time
        editor2 = window2.editor
        assert editor2 is not None and editor2.session_id == session_id
        stored = again.get_session(session_id)
        assert stored.notes == "Kept while the server was away."
        assert encode_session(stored) == encode_session(editor2.session()[0])
        assert _audit_rows(again, session_id) == 1
        assert not editor2.is_dirty()
        assert not list(recovery_folder.glob("session-*.json")), "saved: the draft is gone"
        editor2.close()
        window2.change_timer.stop()
        window2.hide()
    finally:
        again.db.close()


def test_a_draft_saved_meanwhile_elsewhere_gets_the_version_wording_and_stays(
        qtbot, server_repo, client, state, recovery_folder, monkeypatch, no_real_modals):
    # The session as this PC last saved it (version), then another room's save over it.
    mine = server_repo.save_draft(make_session(client.id, notes="Before."), by="Jane Smith")
    version = server_repo.record_version("session", mine.id)
    assert version is not None
    server_repo.save_draft(make_session(client.id, id=mine.id, notes="Room B's notes."),
                           by="Mary Jones")
    ours = make_session(client.id, id=mine.id, notes="Ours, kept while away.")
    recovery.keep(server_repo.path, client.id, encode_session(ours), "Jane Smith",
                  version.seq)

    asked: list[str] = []
    answers = iter([server_away.SAVE])
    monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
        lambda parent, text: asked.append(text) or next(answers, server_away.KEEP)))
    window = show_window(qtbot, server_repo, state)
    offer_recovery(window)
    assert "changed in another room by Mary Jones" in asked[0]
    editor = window.editor
    assert editor is not None
    assert "changed in another room by Mary Jones" in editor.general_message.text()
    assert editor.notes.toPlainText() == "Ours, kept while away."   # entries kept
    assert server_repo.get_session(mine.id).notes == "Room B's notes."
    assert len(list(recovery_folder.glob("session-*.json"))) == 1, "refused: still kept"


def test_keep_for_later_and_discard(qtbot, server_repo, client, state, recovery_folder,
                                    monkeypatch):
    recovery.keep(server_repo.path, client.id,
                  encode_session(make_session(client.id, notes="One.")), "Jane Smith", 0)
    recovery.keep("/elsewhere/another.db", client.id,
                  encode_session(make_session(client.id, notes="Other store.")), "Jane", 0)
    window = show_window(qtbot, server_repo, state)
    choices = iter([server_away.KEEP])
    monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
        lambda parent, text: next(choices)))
    assert offer_recovery(window) == [server_away.KEEP]   # only this store's draft offered
    assert len(recovery.drafts(server_repo.path)) == 1

    confirmed: list[bool] = []
    monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
        lambda parent, text: server_away.DISCARD))
    monkeypatch.setattr(server_away.RecoveryOffer, "confirm_discard", staticmethod(
        lambda parent: confirmed.append(False) or False))
    offer_recovery(window)
    assert confirmed and len(recovery.drafts(server_repo.path)) == 1   # not confirmed
    monkeypatch.setattr(server_away.RecoveryOffer, "confirm_discard", staticmethod(
        lambda parent: True))
    offer_recovery(window)
    assert recovery.drafts(server_repo.path) == []
    assert len(recovery.drafts("/elsewhere/another.db")) == 1
    assert server_repo.sessions(client.id) == []   # nothing ever merged into the records


def test_the_window_says_the_server_is_away_and_reads_again_when_it_is_back(
        qtbot, server_repo, server_url, client, state, test_server):
    """The window's own look for other rooms' changes finds the server away (the status
    bar says so); once it is back the window connects again by itself and lists another
    room's new client."""
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    window = show_window(qtbot, server_repo, state)
    window.poll_changes()                  # the look's own connection is made
    reader = window._marker_reader[0]
    outage = Outage(test_server, server_repo)
    outage.start()
    test_server.admin.execute("SELECT pg_terminate_backend(%s)",
                              [reader.db.raw.info.backend_pid])
    window.poll_changes()
    assert window.statusBar().currentMessage() == STATUS_AWAY

    other_room = Repository(open_server(server_url))
    try:
        other_room.add_client(make_client(first_name="Bea", last_name="Other",
                                          phone="+1 555 0199", email="bea@example.org"),
                              by="Mary Jones")
    finally:
        other_room.db.close()
    outage.end()
    window.poll_changes()
    assert window.statusBar().currentMessage() != STATUS_AWAY
    assert window.refreshes == 1
    names = [window.client_model.index(row, 0).data()
             for row in range(window.client_model.rowCount())]
    assert any("Bea" in str(name) for name in names)
    assert server_repo.server_reachable()
    window.change_timer.stop()


def test_looking_for_changes_while_the_server_is_away_fills_no_log(
        qtbot, server_repo, client, state, test_server, caplog, monkeypatch):
    """Every few seconds the window looks for other rooms' changes, on a real worker thread:
    while the server stays away each look says so in the status bar and writes no traceback
    into the log (an hour away would otherwise leave nine hundred)."""
    import logging

    from needledesk.ui.tasks import Tasks

    monkeypatch.setattr(Tasks, "synchronous", False)
    window = show_window(qtbot, server_repo, state)
    window.poll_changes()
    qtbot.waitUntil(lambda: not window._polling, timeout=10_000)
    reader = window._marker_reader[0]
    outage = Outage(test_server, server_repo)
    outage.start()
    test_server.admin.execute("SELECT pg_terminate_backend(%s)",
                              [reader.db.raw.info.backend_pid])
    caplog.set_level(logging.WARNING)
    for _ in range(3):   # the first look loses its connection, the next ones cannot connect
        window.poll_changes()
        qtbot.waitUntil(lambda: not window._polling, timeout=10_000)
        assert window.statusBar().currentMessage() == STATUS_AWAY
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    outage.end()
    window.change_timer.stop()


def test_the_server_gone_just_after_a_write_is_never_taken_for_another_rooms_save(
        qtbot, server_repo, client, state, test_server, monkeypatch, no_real_modals):
    window = show_window(qtbot, server_repo, state)
    editor = _new_editor(window, client)
    outage = Outage(test_server, server_repo)
    real_save = server_repo.save_draft

    def saved_then_gone(*args, **kwargs):
        result = real_save(*args, **kwargs)
        outage.start()            # the write went through; reading it back does not
        return result

    monkeypatch.setattr(server_repo, "save_draft", saved_then_gone)
    assert editor.save()
    assert not editor.is_dirty() and editor.away.waiting
    monkeypatch.setattr(server_repo, "save_draft", real_save)
    outage.end()
    assert editor.away.try_again() and not editor.away_banner.isVisible()
    assert _audit_rows(server_repo, editor.session_id) == 1   # written once
    editor.notes.setPlainText("A second save, after the server came back.")
    assert editor.save(), editor.general_message.text()
    assert server_repo.get_session(editor.session_id).notes.startswith("A second save")
    assert _audit_rows(server_repo, editor.session_id) == 2
    editor.close()


def test_a_draft_that_reached_the_records_after_all_is_not_saved_twice(
        qtbot, server_repo, client, state, recovery_folder, monkeypatch):
    stored = server_repo.save_draft(make_session(client.id, notes="Saved."), by="Jane Smith")
    version = server_repo.record_version("session", stored.id)
    assert version is not None
    recovery.keep(server_repo.path, client.id, encode_session(stored), "Jane Smith",
                  version.seq)
    monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
        lambda parent, text: server_away.SAVE))
    window = show_window(qtbot, server_repo, state)
    offer_recovery(window)
    assert window.editor is not None and window.editor.session_id == stored.id
    assert not window.editor.is_dirty()
    assert _audit_rows(server_repo, stored.id) == 1
    assert recovery.drafts(server_repo.path) == []
    window.editor.close()


def test_an_amendment_waits_for_the_server_with_its_reason(
        qtbot, server_repo, client, state, test_server, monkeypatch):
    session = server_repo.save_draft(make_session(client.id, notes="Signed notes."),
                                     by="Jane Smith")
    server_repo.sign_session(session.id, NOW, by="Jane Smith")
    reasons: list[str] = []
    monkeypatch.setattr(SessionEditor, "ask_amendment", staticmethod(
        lambda parent, by: reasons.append(by) or (by, "Typo in the notes")))
    window = show_window(qtbot, server_repo, state)
    window._select_client(client.id)
    editor = window.open_session(session.id)
    assert editor is not None
    editor.start_amendment()
    editor.notes.setPlainText("Corrected notes.")
    outage = Outage(test_server, server_repo)
    outage.start()
    assert not editor.save()
    assert editor.away_banner.isVisible() and editor.amending
    outage.end()
    assert editor.away.try_again()
    assert len(reasons) == 1, "the reason is asked once, not again on the retry"
    stored = server_repo.get_session(session.id)
    assert stored.notes == "Corrected notes." and len(stored.amendments) == 1
    assert stored.amendments[0].reason == "Typo in the notes"
    assert not editor.amending and not editor.away_banner.isVisible()
    editor.close()


def test_the_start_offers_the_drafts_once_the_window_is_up(
        qtbot, server_repo, client, state, recovery_folder, monkeypatch):
    from needledesk.ui.app import _offer_recovery_drafts

    recovery.keep(server_repo.path, client.id,
                  encode_session(make_session(client.id, notes="One.")), "Jane Smith", 0)
    asked: list[str] = []
    monkeypatch.setattr(server_away.RecoveryOffer, "ask", staticmethod(
        lambda parent, text: asked.append(text) or server_away.KEEP))
    window = show_window(qtbot, server_repo, state)
    _offer_recovery_drafts(window)
    assert not asked, "offered from the event loop, after the window is shown"
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert "Ana López" in asked[0]


def test_the_retry_asks_the_server_on_a_worker_thread(
        qtbot, server_repo, client, state, test_server, real_threads, no_real_modals):
    """With real threads: each retry's look at the server runs on a worker, then the save on
    the window's own thread, once the server answers."""
    import threading

    window = show_window(qtbot, server_repo, state)
    editor = _new_editor(window, client)
    outage = Outage(test_server, server_repo)
    outage.start()
    assert not editor.save() and editor.away.waiting
    looked_from: list[bool] = []
    real_reader = server_repo.reader

    def reader():
        looked_from.append(threading.current_thread() is threading.main_thread())
        return real_reader()

    server_repo.reader = reader   # type: ignore[method-assign]
    editor.away.timer.setInterval(50)
    qtbot.waitUntil(lambda: len(looked_from) >= 2, timeout=5000)   # still away: waits on
    assert editor.away.waiting and editor.away_banner.isVisible()
    outage.end()
    qtbot.waitUntil(lambda: not editor.away.waiting, timeout=5000)
    assert looked_from and not any(looked_from), "never on the window's thread"
    assert server_repo.get_session(editor.session_id).areas[0].area == "cheeks"
    assert _audit_rows(server_repo, editor.session_id) == 1
    window.change_timer.stop()
    editor.close()
