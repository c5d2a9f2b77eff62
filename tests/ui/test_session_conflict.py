"""The same session open in two rooms (two Repository objects on one clinic server database,
or two windows on one file): the second save is refused with who changed it and when, and
its editor keeps every entry."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import make_client, make_screening, make_session

from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_rooms(request, tmp_path):
    """Two rooms' repositories on the same records, each with its own clock (the second
    room saves at 11:05)."""
    from needledesk.store.repository import Repository

    if request.param == "sqlite":
        from needledesk.store.database import open_database

        path = tmp_path / "clinic.db"
        first = Repository(open_database(path), clock=lambda: datetime(2026, 11, 20, 10, 40))
        second = Repository(open_database(path), clock=lambda: datetime(2026, 11, 20, 11, 5))
    else:
        from needledesk.store.server import open_server

        url = request.getfixturevalue("server_url")
        first = Repository(open_server(url), clock=lambda: datetime(2026, 11, 20, 10, 40))
        second = Repository(open_server(url), clock=lambda: datetime(2026, 11, 20, 11, 5))
    yield first, second
    for repo in (first, second):
        repo.db.close()


def _session_rows(repo, session_id: str) -> int:
    return repo.db.execute("SELECT COUNT(*) FROM audit WHERE kind = 'session' AND "
                           "record_id = ?", [session_id]).fetchone()[0]


def _editor(qtbot, repo, client, session):
    editor = SessionEditor(repo, repo.settings(), client, session, user="Jane Smith",
                           now=lambda: NOW)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def test_the_second_rooms_save_is_refused_with_who_and_when(qtbot, two_rooms, no_real_modals):
    room_a, room_b = two_rooms
    client = room_a.add_client(make_client(), by="Jane Smith")
    room_a.add_screening(make_screening(client.id), by="Jane Smith")
    draft = room_a.save_draft(make_session(client.id, notes="First notes."), by="Jane Smith")

    editor_a = _editor(qtbot, room_a, client, room_a.get_session(draft.id))
    editor_b = _editor(qtbot, room_b, client, room_b.get_session(draft.id))
    editor_b.notes.setPlainText("Room B's notes.")
    editor_b.practitioner.setCurrentText("Mary Jones")
    assert editor_b.save()

    editor_a.notes.setPlainText("Room A's notes, typed at the same time.")
    assert not editor_a.save()
    said = editor_a.general_message.text()
    place = "in another room" if room_a.on_server else "in another window"
    assert f"changed {place} by Mary Jones at 11:05 on 20 Nov 2026" in said
    assert said in no_real_modals            # said in a box too, in the same words
    assert "Room A's notes" not in said and "audit" not in said.lower()
    # Room A's entries are all still there, unsaved; the records hold room B's save only.
    assert editor_a.notes.toPlainText() == "Room A's notes, typed at the same time."
    assert editor_a.is_dirty()
    assert room_a.get_session(draft.id).notes == "Room B's notes."
    assert _session_rows(room_a, draft.id) == 2   # the draft and room B's save


def test_signing_over_another_rooms_save_is_refused_and_a_reopened_editor_saves(
        qtbot, two_rooms, no_real_modals):
    room_a, room_b = two_rooms
    client = room_a.add_client(make_client(), by="Jane Smith")
    room_a.add_screening(make_screening(client.id), by="Jane Smith")
    draft = room_a.save_draft(make_session(client.id, notes="First notes."), by="Jane Smith")

    editor_a = _editor(qtbot, room_a, client, room_a.get_session(draft.id))
    room_b.save_draft(make_session(client.id, id=draft.id, notes="Room B was here."),
                      by="Mary Jones")
    assert not editor_a.sign_off()            # nothing changed here: straight to the sign-off
    assert "by Mary Jones at 11:05" in editor_a.general_message.text()
    assert not room_a.get_session(draft.id).is_signed
    assert editor_a.signed_at is None

    # Reopened, the editor reads the current version and its save goes through.
    again = _editor(qtbot, room_a, client, room_a.get_session(draft.id))
    again.notes.setPlainText("Room A, after reading room B's notes.")
    assert again.save()
    assert room_b.get_session(draft.id).notes == "Room A, after reading room B's notes."
    assert _session_rows(room_a, draft.id) == 3


def test_amending_over_another_rooms_amendment_is_refused_and_keeps_the_entries(
        qtbot, two_rooms, no_real_modals, monkeypatch):
    room_a, room_b = two_rooms
    client = room_a.add_client(make_client(), by="Jane Smith")
    room_a.add_screening(make_screening(client.id), by="Jane Smith")
    draft = room_a.save_draft(make_session(client.id, notes="First notes."), by="Jane Smith")
    room_a.sign_session(draft.id, NOW, by="Jane Smith")
    monkeypatch.setattr(SessionEditor, "ask_amendment", staticmethod(
        lambda parent, by: (by, "Corrected")))

    editor_a = _editor(qtbot, room_a, client, room_a.get_session(draft.id))
    editor_b = _editor(qtbot, room_b, client, room_b.get_session(draft.id))
    for editor, notes, who in ((editor_b, "Room B's correction.", "Mary Jones"),
                               (editor_a, "Room A's correction.", "Jane Smith")):
        editor.user = who
        editor.start_amendment()
        editor.notes.setPlainText(notes)
    assert editor_b.save()
    assert not editor_a.save()
    assert "by Mary Jones at 11:05 on 20 Nov 2026" in editor_a.general_message.text()
    assert editor_a.amending and editor_a.notes.toPlainText() == "Room A's correction."
    stored = room_a.get_session(draft.id)
    assert stored.notes == "Room B's correction." and len(stored.amendments) == 1
