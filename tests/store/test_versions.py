"""The version check: the same record opened in two places (two rooms on the clinic server,
two windows on the file), saved by the first, is refused to the second with who changed it
and when; nothing of the refused save is written, the first one's record stays as it is.

Each test runs on both engines: two Repository objects, each with its own connection to the
same store (the file's, or the server's)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from factories import make_client, make_session

from needledesk.errors import ChangedElsewhereError
from needledesk.exchange import encode_session
from needledesk.store.check import check_file
from needledesk.store.repository import Repository

LEE_AT = datetime(2026, 12, 1, 10, 42)
KIM_AT = datetime(2026, 12, 1, 10, 44)


@pytest.fixture
def rooms(repo):
    """(room A, room B): the store seen through two connections, each with its own clock."""
    first = Repository(repo.db, clock=lambda: LEE_AT)
    reader = repo.reader()
    second = Repository(reader.db, clock=lambda: KIM_AT)
    yield first, second
    reader.db.close()


def _audit_rows(repo: Repository) -> int:
    return repo.db.execute("SELECT count(*) FROM audit").fetchone()[0]


def _saved(rooms):
    a, _ = rooms
    client = a.add_client(make_client(), by="Reception")
    session = a.save_draft(make_session(client.id, notes="as booked"), by="Reception")
    return client, session


def test_the_second_save_of_a_session_opened_in_two_places_is_refused(rooms, engine):
    a, b = rooms
    _, session = _saved(rooms)
    # Both open the session, each with the version it read.
    seen_a, seen_b = a.record_version("session", session.id), b.record_version("session",
                                                                                session.id)
    assert seen_a == seen_b and seen_a is not None and seen_a.who == "Reception"
    mine, theirs = a.get_session(session.id), b.get_session(session.id)

    a.save_draft(replace(mine, notes="Room A: cheeks 1.5 mm"), by="Dr Lee",
                 expected=seen_a.seq)
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError) as refused:
        b.save_draft(replace(theirs, notes="Room B: forehead only"), by="Dr Kim",
                     expected=seen_b.seq)

    error = refused.value
    assert (error.record_id, error.who, error.at) == (session.id, "Dr Lee", LEE_AT)
    message = str(error)
    place = "in another room" if engine == "postgresql" else "in another window"
    assert message == (f"This session was changed {place} by Dr Lee at 10:42 on 1 Dec 2026 "
                       "after you opened it. Your entries are kept here: close and reopen it "
                       "to see theirs.")
    # Nothing of the refused save: the stored session is room A's, no audit row was added.
    assert a.get_session(session.id).notes == "Room A: cheeks 1.5 mm"
    assert b.get_session(session.id).notes == "Room A: cheeks 1.5 mm"
    assert _audit_rows(a) == rows
    assert a.record_version("session", session.id).who == "Dr Lee"
    assert a.audit.verify_chain() == [] and check_file(a.db).problems == []

    # Reopened (the version read again), room B's save goes through.
    again = b.record_version("session", session.id)
    b.save_draft(replace(b.get_session(session.id), notes="Room B after reopening"),
                 by="Dr Kim", expected=again.seq)
    assert a.get_session(session.id).notes == "Room B after reopening"
    assert a.record_version("session", session.id) == replace(again, seq=rows + 1,
                                                              who="Dr Kim", at=KIM_AT)


def test_a_new_session_saved_in_two_places_under_one_id_keeps_the_first(rooms):
    a, b = rooms
    client = a.add_client(make_client(), by="Reception")
    draft = make_session(client.id, notes="first")
    assert a.record_version("session", draft.id) is None
    a.save_draft(draft, by="Dr Lee", expected=0)
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError) as refused:
        b.save_draft(replace(draft, notes="second"), by="Dr Kim", expected=0)
    assert refused.value.who == "Dr Lee"
    assert a.get_session(draft.id).notes == "first" and _audit_rows(a) == rows


def test_signing_what_was_changed_since_it_was_read_is_refused(rooms):
    a, b = rooms
    _, session = _saved(rooms)
    opened = b.record_version("session", session.id).seq
    a.save_draft(replace(session, notes="fee changed at the desk"), by="Reception",
                 expected=opened)
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError, match="by Reception at 10:42"):
        b.sign_session(session.id, by="Dr Kim", expected=opened)
    assert a.get_session(session.id).signed_at is None and _audit_rows(a) == rows


def test_an_amendment_over_another_rooms_amendment_is_refused(rooms):
    a, b = rooms
    _, session = _saved(rooms)
    a.sign_session(session.id, by="Dr Lee")
    opened = b.record_version("session", session.id).seq
    signed = a.get_session(session.id)
    a.amend_session(replace(signed, notes="corrected in room A"), by="Dr Lee",
                    reason="depth misread", expected=opened)
    before = encode_session(a.get_session(session.id))
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError, match="Dr Lee"):
        b.amend_session(replace(signed, notes="corrected in room B"), by="Dr Kim",
                        reason="typo", expected=opened)
    after = a.get_session(session.id)
    assert encode_session(after) == before and len(after.amendments) == 1
    assert _audit_rows(a) == rows and a.audit.verify_chain() == []


def test_a_clients_details_changed_elsewhere_are_not_overwritten(rooms):
    a, b = rooms
    client, _ = _saved(rooms)
    opened = b.record_version("client", client.id).seq
    a.update_client(replace(client, phone="+1 555 0199"), by="Reception", expected=opened)
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError) as refused:
        b.update_client(replace(client, notes="prefers mornings"), by="Dr Kim",
                        expected=opened)
    assert str(refused.value).startswith("This client's record was changed")
    stored = a.get_client(client.id)
    assert (stored.phone, stored.notes) == ("+1 555 0199", client.notes)
    assert _audit_rows(a) == rows


def test_a_save_without_a_version_or_with_the_current_one_goes_through(rooms):
    a, b = rooms
    _, session = _saved(rooms)
    a.save_draft(replace(session, notes="no version given"), by="Dr Lee")
    now = b.record_version("session", session.id)
    b.save_draft(replace(session, notes="current version"), by="Dr Kim", expected=now.seq)
    assert a.get_session(session.id).notes == "current version"


def test_two_amendments_at_once_without_a_version_refuse_the_second_in_words(rooms):
    """Even without `expected`, an amendment (or a sign-off) written over a change made
    since it read the session is refused, not stored beside it or failed by the store."""
    a, b = rooms
    _, session = _saved(rooms)
    a.sign_session(session.id, by="Dr Lee")
    signed = a.get_session(session.id)
    read = b.get_session

    def read_while_room_a_amends(session_id):
        # Room A's amendment lands just after room B read the session's version.
        a.amend_session(replace(signed, notes="room A's correction"), by="Dr Lee",
                        reason="depth misread")
        return read(session_id)

    b.get_session = read_while_room_a_amends
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError, match="by Dr Lee"):
        b.amend_session(replace(signed, notes="room B's correction"), by="Dr Kim",
                        reason="typo")
    assert _audit_rows(a) == rows + 1     # room A's amendment only
    stored = a.get_session(session.id)
    assert stored.notes == "room A's correction" and len(stored.amendments) == 1


def test_signing_a_session_another_room_signed_since_it_was_opened_names_them(rooms):
    """Both rooms open a draft; room A signs it off; room B's sign-off is refused as changed
    elsewhere (who and when), not as a bare "already signed off"."""
    a, b = rooms
    _, session = _saved(rooms)
    seen_b = b.record_version("session", session.id)
    a.sign_session(session.id, LEE_AT, by="Dr Lee")
    rows = _audit_rows(a)
    with pytest.raises(ChangedElsewhereError) as refused:
        b.sign_session(session.id, KIM_AT, by="Dr Kim", expected=seen_b.seq)
    assert (refused.value.who, refused.value.at) == ("Dr Lee", LEE_AT)
    assert _audit_rows(a) == rows
