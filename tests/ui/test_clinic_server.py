"""The window on a clinic server (issue 17): Settings › Clinic server, starting on the
server (the password asked, a server that cannot be reached), the status bar naming the
store, and other rooms' new clients appearing in the list without a restart.

Against the real test server (NEEDLEDESK_TEST_SERVER): `repo` tests run on both engines,
tests that need a server of their own take `server_url`.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pg_cluster
import pytest
from factories import make_client
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel
from ui_windows import show_window

from needledesk.settings import ClinicSettings
from needledesk.ui.main_window import MainWindow
from needledesk.ui.server_settings import (
    QUIT,
    RETRY,
    USE_FILE,
    PasswordDialog,
    PasswordPrompt,
    ServerChoice,
    ask_when_unreachable,
    load_choice,
    save_choice,
    saved_server_url,
    unreachable_box,
)
from needledesk.ui.settings_dialog import SettingsDialog

#: A port nothing listens on, on this PC (no TLS asked of a local server).
CLOSED = "postgresql://nobody@127.0.0.1:1/needledesk"
SERVICE = "NeedleDesk clinic server"


def _choice(url: str, **changes) -> ServerChoice:
    """The Settings fields for the test server's database at `url`."""
    from needledesk.store.engine.postgres import parse_address

    address = parse_address(url)
    fields = {"use_server": True, "host": address.host, "port": address.port,
              "database": address.database, "user": address.user}
    return ServerChoice(**(fields | changes))


def _rows(window) -> list[str]:
    model = window.client_model
    return [model.data(model.index(row, 0)) for row in range(model.rowCount())]


# --- the store's change marker and the status bar (both engines) ------------------------------

def test_change_marker_moves_with_every_write_and_not_with_reads(repo):
    before = repo.change_marker()
    repo.count_clients()
    repo.find_clients("ana")
    assert repo.change_marker() == before
    client = repo.add_client(make_client(), by="Jane Smith")
    after_add = repo.change_marker()
    assert after_add > before
    repo.update_client(make_client(id=client.id, phone="+1 555 0199"), by="Jane Smith")
    assert repo.change_marker() > after_add


def test_the_status_bar_names_the_store_the_window_is_on(qtbot, repo, state, db_path):
    window = show_window(qtbot, repo, state)
    text = window.status_label.text()
    if repo.on_server:
        from needledesk.store.engine.postgres import parse_address

        address = parse_address(repo.path)
        assert text == (f"Clinic server: {address.user}@this PC:{address.port}/"
                        f"{address.database}")
        assert "postgresql://" not in text and "password" not in text.lower()
    else:
        assert text == f"File: {db_path}"
    assert window.status_label.isVisible()


def test_the_file_window_does_not_look_for_other_rooms(qtbot, repo, state):
    window = show_window(qtbot, repo, state)
    if repo.on_server:
        assert window.change_timer.isActive()
        assert window.change_timer.interval() <= 5000
    else:   # one writer: the window itself
        assert getattr(window, "change_timer", None) is None


def test_help_says_where_the_records_are_without_a_folder_for_the_server(qtbot, repo, state):
    window = show_window(qtbot, repo, state)
    places = dict(window.locations())
    if not repo.on_server:
        assert places["Records (database)"] == Path(repo.path)
        assert window.server_location() is None
        return
    assert "Records (database)" not in places
    said = f"On the clinic server {repo.where}, shared by every room"
    assert window.server_location() == said
    window.show_locations()
    dialog = window.locations_dialog
    qtbot.waitExposed(dialog)
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    assert said in shown
    assert not any("postgresql:" in text for text in shown)
    dialog.reject()


# --- other rooms' new clients ---------------------------------------------------------------

def test_another_rooms_new_client_appears_keeping_search_and_selection(
        qtbot, server_url, state, monkeypatch, real_threads):
    from needledesk.server_login import open_server_repository

    monkeypatch.setattr(MainWindow, "CHANGE_POLL_MS", 100)
    here = open_server_repository(server_url)
    other_room = open_server_repository(server_url)
    try:
        lopes = here.add_client(make_client(first_name="Ana", last_name="Lopes"), by="Room 1")
        here.add_client(make_client(first_name="Bea", last_name="Zorn"), by="Room 1")
        window = show_window(qtbot, here, state)
        qtbot.keyClicks(window.search, "ana")
        window.open_client(lopes.id)
        assert window.client is not None and window.client.id == lopes.id
        assert [r.split(" · ")[0] for r in _rows(window)] == ["Lopes, Ana"]

        reyes = other_room.add_client(make_client(first_name="Ana", last_name="Reyes"),
                                      by="Room 2")
        qtbot.waitUntil(lambda: any(r.startswith("Reyes, Ana") for r in _rows(window)),
                        timeout=5000)
        assert [r.split(" · ")[0] for r in _rows(window)] == ["Lopes, Ana", "Reyes, Ana"]
        assert window.search.text() == "ana"
        assert window.client is not None and window.client.id == lopes.id
        current = window.client_list.currentIndex()
        assert window.client_model.client(current.row()).id == lopes.id
        assert window.count_label.text() == "2 of 3 clients"
        # Nothing new since: each look reads one row and leaves the list alone.
        refreshed = window.refreshes
        assert refreshed >= 1
        qtbot.wait(600)
        assert window.refreshes == refreshed
        other_room.update_client(make_client(id=reyes.id, first_name="Ana",
                                             last_name="Reyes-Diaz"), by="Room 2")
        qtbot.waitUntil(lambda: any(r.startswith("Reyes-Diaz, Ana") for r in _rows(window)),
                        timeout=5000)
        assert window.refreshes == refreshed + 1
        assert window.client is not None and window.client.id == lopes.id
    finally:
        other_room.db.close()
        here.db.close()


def test_the_chosen_clients_card_shows_another_rooms_session_keeping_the_chosen_one(
        qtbot, server_url, state):
    from datetime import datetime

    from factories import make_session

    from needledesk.server_login import open_server_repository

    here = open_server_repository(server_url)
    other_room = open_server_repository(server_url)
    try:
        client = here.add_client(make_client(), by="Room 1")
        first = here.save_draft(make_session(client.id, started_at=datetime(2026, 10, 1, 9),
                                             anaesthetic=None),
                                by="Jane Smith")
        window = show_window(qtbot, here, state)
        window.open_client(client.id)
        row = next(r for r in range(window.history_model.rowCount())
                   if window.history_model.session(r).id == first.id)
        window.history.setCurrentIndex(window.history_model.index(row, 0))
        assert window.history_model.rowCount() == 1
        later = other_room.save_draft(
            make_session(client.id, started_at=datetime(2026, 11, 20, 10, 30)), by="Ana Ruiz")
        other_room.update_client(make_client(id=client.id, phone="+1 555 0199"), by="Room 2")
        window.poll_changes()
        assert window.refreshes == 1
        ids = [window.history_model.session(r).id
               for r in range(window.history_model.rowCount())]
        assert sorted(ids) == sorted([first.id, later.id])
        chosen = window.history.currentIndex()
        assert window.history_model.session(chosen.row()).id == first.id
        assert window.client is not None and window.client.phone == "+1 555 0199"
    finally:
        other_room.db.close()
        here.db.close()


def test_a_hidden_or_locked_window_does_not_ask_the_server(qtbot, server_url, state):
    from dataclasses import replace

    from needledesk.security import hash_secret
    from needledesk.server_login import open_server_repository

    here = open_server_repository(server_url)
    other_room = open_server_repository(server_url)
    try:
        window = show_window(qtbot, here, state)
        other_room.add_client(make_client(first_name="Cleo", last_name="Marsh"), by="Room 2")
        window.hide()
        window.poll_changes()
        assert window.refreshes == 0 and _rows(window) == []
        window.show()
        qtbot.waitExposed(window)
        window.poll_changes()
        assert window.refreshes == 1
        assert [r.split(" · ")[0] for r in _rows(window)] == ["Marsh, Cleo"]
        window.settings = replace(window.settings, lock_hash=hash_secret("1234"))
        window.lock()
        assert window.is_locked
        other_room.add_client(make_client(first_name="Dora", last_name="Marsh"), by="Room 2")
        window.poll_changes()
        assert window.refreshes == 1   # locked: no client is read into the window
    finally:
        other_room.db.close()
        here.db.close()


# --- a server of this test's own that asks for a password ------------------------------------

OWNER_PASSWORD = "room-one-password"


@pytest.fixture(scope="module")
def password_server():
    """A small PostgreSQL cluster of this module's own (the shared test server trusts every
    connection): scram-sha-256 on its Unix socket only, a `needledesk` database owned by a
    role with a password. Its address, no password in it. Skipped without root or the
    Debian binaries."""
    why = pg_cluster.unavailable()
    if why is not None:
        pytest.skip(why)

    def password_file(folder: Path) -> str:
        (folder / "password").write_text(OWNER_PASSWORD + "\n")
        pg_cluster.give_to_postgres(folder / "password")
        return ""

    with pg_cluster.own_cluster(
            "nd-p4-pg-", prepare=password_file, settings="listen_addresses = ''",
            initdb=["-U", "owner", "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256", "--pwfile=password"]) as own:
        import psycopg

        with psycopg.connect(host=str(own.socket), port=own.port, user="owner",
                             dbname="postgres", password=OWNER_PASSWORD,
                             autocommit=True) as admin:
            admin.execute("CREATE DATABASE needledesk")
        yield f"postgresql://owner@/needledesk?host={own.socket}&port={own.port}"


def _type_password(qtbot, text: str, seen: list) -> None:
    """Answer the next password dialog with `text` (Connect)."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PasswordDialog), dialog
        seen.append(dialog.findChildren(QLabel)[0].text())
        qtbot.keyClicks(dialog.password, text)
        dialog.accept()

    QTimer.singleShot(0, answer)


def test_the_password_is_asked_at_start_when_none_is_kept_then_taken_from_the_store(
        qtbot, password_server, state, memory_keyring, monkeypatch):
    from needledesk.ui.app import window_on_server

    monkeypatch.setenv("NEEDLEDESK_SKIP_SETUP", "1")
    refused: list[str] = []
    seen: list[str] = []
    # No password kept: the dialog asks; a wrong one is refused in plain words.
    _type_password(qtbot, "wrong", seen)
    assert window_on_server(password_server, state,
                            when_unreachable=lambda p: refused.append(p) or QUIT) is None
    assert refused == ["The clinic server (owner@this PC:"
                       f"{password_server.rsplit('=', 1)[1]}/needledesk) refused the user "
                       "name or password."]
    assert memory_keyring.entries == {}
    # The right one: the window opens on the server and the password is kept for next time.
    _type_password(qtbot, OWNER_PASSWORD, seen)
    window = window_on_server(password_server, state, when_unreachable=lambda p: QUIT)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    window.repo.db.close()
    assert len(seen) == 2 and "asks for this PC's password" in seen[0]
    assert list(memory_keyring.entries.values()) == [OWNER_PASSWORD]
    # Next start: from the password store, nothing asked.
    again = window_on_server(password_server, state,
                             ask=lambda address: pytest.fail("asked again"),
                             when_unreachable=lambda p: pytest.fail(p))
    assert isinstance(again, MainWindow)
    qtbot.addWidget(again)
    again.repo.db.close()
    state.sync()
    kept = Path(state.fileName())
    assert not kept.exists() or OWNER_PASSWORD not in kept.read_text()


def test_without_a_password_store_the_password_is_asked_at_every_start(
        qtbot, password_server, state, no_keyring, monkeypatch):
    from needledesk.ui.app import window_on_server

    monkeypatch.setenv("NEEDLEDESK_SKIP_SETUP", "1")
    seen: list[str] = []
    for _start in range(2):
        _type_password(qtbot, OWNER_PASSWORD, seen)
        window = window_on_server(password_server, state, when_unreachable=lambda p: QUIT)
        assert isinstance(window, MainWindow)
        qtbot.addWidget(window)
        window.repo.db.close()
    assert len(seen) == 2


# --- starting on the server -------------------------------------------------------------------

def test_the_window_starts_on_the_server_with_no_file_lock_check_or_first_page(
        qtbot, server_url, state, monkeypatch, tmp_path):
    import needledesk.store.first_page as first_page
    import needledesk.store.integrity as integrity
    import needledesk.store.lock as lock
    from needledesk.paths import default_db_path
    from needledesk.ui.app import window_on_server

    def refuse(*args, **kwargs):
        raise AssertionError("the server's window touched the file")

    monkeypatch.setattr(first_page, "read_first_page", refuse)
    monkeypatch.setattr(integrity, "check_in_background", refuse)
    monkeypatch.setattr(integrity, "quick_check", refuse)
    monkeypatch.setattr(lock.DatabaseLock, "acquire", classmethod(refuse))
    monkeypatch.setenv("NEEDLEDESK_SKIP_SETUP", "1")
    asked: list = []
    window = window_on_server(server_url, state, ask=lambda a: asked.append(a) or None,
                              when_unreachable=lambda problem: asked.append(problem) or QUIT)
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    try:
        assert window.repo.on_server and window.attached
        assert window.status_label.text().startswith("Clinic server: needledesk_test@")
        assert asked == []   # the test server trusts this PC: no password asked
        assert not default_db_path().exists()
        assert window.repo.count_clients() == 0
    finally:
        window.repo.db.close()


def test_a_new_server_gets_the_first_run_set_up_once_as_a_new_file_does(
        qtbot, server_url, state, monkeypatch):
    from needledesk.ui.app import window_on_server
    from needledesk.ui.first_run import FirstRunDialog

    monkeypatch.delenv("NEEDLEDESK_SKIP_SETUP", raising=False)
    asked: list[ClinicSettings] = []
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(
        lambda cls, parent, settings: asked.append(settings) or ClinicSettings(
            clinic_name="Harbour Skin Clinic", practitioners=["Jane Smith"])))
    for _start in range(2):
        window = window_on_server(server_url, state, ask=lambda a: None,
                                  when_unreachable=lambda p: pytest.fail(p))
        assert isinstance(window, MainWindow)
        qtbot.addWidget(window)
        assert window.settings.clinic_name == "Harbour Skin Clinic"
        window.repo.db.close()
    assert len(asked) == 1


def test_a_server_that_cannot_be_reached_offers_try_again_the_file_or_quit(qtbot, state):
    from needledesk.ui.app import window_on_server

    said: list[str] = []
    answers = iter([RETRY, QUIT])
    assert window_on_server(CLOSED, state, ask=lambda a: None,
                            when_unreachable=lambda p: said.append(p) or next(answers)) is None
    assert len(said) == 2   # tried again once, then quit
    problem = said[0]
    assert problem.startswith("The clinic server (nobody@127.0.0.1:1/needledesk) cannot be "
                              "reached")
    assert "Nothing was lost" not in problem and "Traceback" not in problem
    assert window_on_server(CLOSED, state, ask=lambda a: None,
                            when_unreachable=lambda p: USE_FILE) == USE_FILE


def test_the_unreachable_question_has_three_plain_buttons(qtbot):
    box = unreachable_box("The clinic server (nobody@127.0.0.1:1/needledesk) cannot be "
                          "reached: connection refused.")
    qtbot.addWidget(box)
    texts = {b.text(): b.property("choice") for b in box.buttons()}
    assert texts == {"&Try again": RETRY, "Use the &file on this PC instead": USE_FILE,
                     "&Quit": QUIT}
    assert box.escapeButton().property("choice") == QUIT
    assert box.defaultButton().property("choice") == RETRY
    assert "other rooms" in box.informativeText()

    def click_file() -> None:
        shown = QApplication.activeModalWidget()
        assert shown is not None
        for button in shown.buttons():
            if button.property("choice") == USE_FILE:
                button.click()

    QTimer.singleShot(0, click_file)
    assert ask_when_unreachable("The clinic server cannot be reached.") == USE_FILE


def test_the_password_is_asked_hidden_and_kept_only_when_it_worked(qtbot, memory_keyring):
    address = ServerChoice(True, "clinic-server", 5432, "needledesk", "room1", "/ca.crt")
    prompt = PasswordPrompt()
    seen: list[PasswordDialog] = []

    def type_it() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PasswordDialog)
        seen.append(dialog)
        qtbot.keyClicks(dialog.password, "s3cret")
        dialog.accept()

    QTimer.singleShot(0, type_it)
    assert prompt(address) == "s3cret"
    assert seen[0].password.echoMode() == seen[0].password.EchoMode.Password
    assert seen[0].keep.isChecked()
    assert memory_keyring.entries == {}   # not kept until the server took it
    prompt.keep_if_asked()
    assert memory_keyring.entries == {(SERVICE, "room1@clinic-server:5432/needledesk"):
                                      "s3cret"}


def test_without_a_password_store_the_prompt_says_it_asks_each_time(qtbot, no_keyring):
    from PySide6.QtWidgets import QLabel

    dialog = PasswordPrompt().dialog(ServerChoice(True, "localhost", 5432, "needledesk", "a"))
    qtbot.addWidget(dialog)
    assert not dialog.keep.isVisibleTo(dialog)
    assert any("asks for the password at each start" in label.text()
               for label in dialog.findChildren(QLabel))


def test_the_saved_server_is_used_at_start_unless_a_file_or_server_is_named(state):
    assert saved_server_url(state) is None
    from needledesk.ui.app import chosen_store

    assert chosen_store(None, None, state, environ={}) is None
    save_choice(state, ServerChoice(True, "clinic-server", 5433, "clinic", "room1", "/ca.crt"))
    saved = "postgresql://room1@clinic-server:5433/clinic?sslrootcert=/ca.crt"
    assert chosen_store(None, None, state, environ={}) == saved
    assert chosen_store(Path("/tmp/x.db"), None, state, environ={}) is None
    assert chosen_store(None, None, state, environ={"NEEDLEDESK_DB": "/tmp/x.db"}) is None
    assert chosen_store(None, "postgresql://b@h/db", state, environ={}) == "postgresql://b@h/db"
    save_choice(state, ServerChoice(False, "clinic-server", 5433, "clinic", "room1"))
    assert chosen_store(None, None, state, environ={}) is None
    assert load_choice(state).host == "clinic-server"   # kept for the next time it is chosen


@pytest.mark.parametrize("choice", [
    ServerChoice(True, "clinic-server", 5432, "needledesk", "room1", "/etc/clinic/ca.crt"),
    ServerChoice(True, "192.168.1.20", 6543, "clinic db", "Jane Smith", "C:/certs/ca.pem"),
    ServerChoice(True, "fe80::1", 5432, "needledesk", "room2", "/ca.crt"),
    ServerChoice(True, "/tmp/needledesk-test-pg/socket", 55432, "needledesk", "r"),
    ServerChoice(True, "localhost", 5432, "needledesk", ""),
])
def test_the_settings_address_is_read_back_as_typed(choice):
    """The address the fields make is the one the server is opened with, and the password
    store's name for it is the one the window's start looks the password up by."""
    from needledesk.store.engine.postgres import parse_address

    address = parse_address(choice.url())
    assert (address.host, address.port, address.database, address.user, address.ca_file) \
        == (choice.host, choice.port, choice.database, choice.user, choice.ca_file)
    assert address.display() == choice.display()


# --- Settings › Clinic server ------------------------------------------------------------------

def _settings_dialog(qtbot, state) -> SettingsDialog:
    dialog = SettingsDialog(ClinicSettings(), state=state)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _fill(page, choice: ServerChoice) -> None:
    page.use_server.setChecked(choice.use_server)
    page.host.setText(choice.host)
    page.port.setValue(choice.port)
    page.database.setText(choice.database)
    page.user.setText(choice.user)
    page.ca_file.setText(choice.ca_file)


def test_the_clinic_server_tab_tests_and_saves_the_address_and_keeps_the_password_apart(
        qtbot, state, server_url, memory_keyring, tmp_path):
    dialog = _settings_dialog(qtbot, state)
    page = dialog.server_page
    assert page is not None
    assert dialog.tabs.tabText(dialog.tabs.count() - 1) == "Clinic ser&ver"
    assert page.use_file.isChecked() and not page.server_fields.isEnabled()
    choice = _choice(server_url)
    page.use_server.click()
    assert page.server_fields.isEnabled()
    _fill(page, choice)
    qtbot.keyClicks(page.password, "not-in-a-file")
    page.test_button.click()
    assert page.test_result.text() == (f"Connected: the clinic server {choice.display()} "
                                       "answered and holds 0 clients.")
    assert dialog.save_button.isEnabled()
    dialog.accept()
    assert dialog.server_note == "From its next start NeedleDesk uses the clinic server."
    assert load_choice(state) == choice
    assert saved_server_url(state) == choice.url()
    assert memory_keyring.entries == {(SERVICE, choice.display()): "not-in-a-file"}
    state.sync()
    assert "not-in-a-file" not in Path(state.fileName()).read_text()
    # Opened again: the saved address, the password field empty (never shown back).
    again = _settings_dialog(qtbot, state)
    assert again.server_page.choice() == choice and again.server_page.password.text() == ""


def test_a_server_the_test_cannot_reach_is_said_plainly(qtbot, state):
    dialog = _settings_dialog(qtbot, state)
    page = dialog.server_page
    _fill(page, ServerChoice(True, "127.0.0.1", 1, "needledesk", "nobody"))
    page.test_button.click()
    text = page.test_result.text()
    assert text.startswith("The clinic server (nobody@127.0.0.1:1/needledesk) cannot be "
                           "reached")
    assert "Traceback" not in text and "psycopg" not in text and "Nothing was lost" not in text
    assert page.test_button.isEnabled()


def test_another_pc_needs_the_clinics_certificate_before_save(qtbot, state, tmp_path):
    dialog = _settings_dialog(qtbot, state)
    page = dialog.server_page
    _fill(page, ServerChoice(True, "clinic-server", 5432, "needledesk", "room1"))
    assert not dialog.save_button.isEnabled()
    assert not page.ca_file_message.isHidden()
    assert "clinic's certificate" in page.ca_file_message.text()
    assert "Clinic server" in dialog.summary.text()
    certificate = tmp_path / "clinic-ca.crt"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    page.choose_ca_path = lambda: str(certificate)
    page.choose_ca_button.click()
    assert page.ca_file.text() == str(certificate)
    assert dialog.save_button.isEnabled() and page.ca_file_message.isHidden()
    page.host.clear()
    assert not dialog.save_button.isEnabled() and not page.host_message.isHidden()
    page.use_file.click()   # the file needs none of it
    assert dialog.save_button.isEnabled()


def test_without_a_password_store_the_tab_says_the_password_is_asked_at_start(
        qtbot, state, no_keyring):
    dialog = _settings_dialog(qtbot, state)
    page = dialog.server_page
    assert "ask for the password at each start" in page.password_note.text()
    _fill(page, ServerChoice(True, "localhost", 5432, "needledesk", "room1"))
    qtbot.keyClicks(page.password, "typed")
    dialog.accept()
    assert "no password store" in dialog.server_note
    assert "typed" not in Path(state.fileName()).read_text()


def test_changing_only_the_server_tab_asks_before_discarding(qtbot, state, no_real_modals):
    dialog = _settings_dialog(qtbot, state)
    dialog.server_page.use_server.click()
    dialog.reject()
    assert "discard settings" in no_real_modals
    assert load_choice(state).use_server is False


def test_the_server_tab_is_reachable_by_keyboard_with_mnemonics_that_do_not_clash(qtbot,
                                                                                   state):
    from PySide6.QtWidgets import QAbstractButton, QLabel

    dialog = _settings_dialog(qtbot, state)
    page = dialog.server_page
    letters = [dialog.tabs.tabText(i).split("&")[1][0].lower()
               for i in range(dialog.tabs.count())]
    texts = [w.text() for w in page.findChildren(QLabel) if "&" in w.text()]
    texts += [b.text() for b in page.findChildren(QAbstractButton) if "&" in b.text()]
    page_letters = [t.split("&")[1][0].lower() for t in texts]
    assert len(page_letters) >= 9
    assert len(set(page_letters)) == len(page_letters), page_letters
    assert not set(page_letters) & set(letters), (page_letters, letters)
    for label in page.findChildren(QLabel):
        if "&" in label.text():
            assert label.buddy() is not None, label.text()
    page.use_server.click()
    dialog.tabs.setCurrentWidget(page)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    page.host.setFocus()
    reached = []
    for _ in range(10):   # Tab from the host goes through every field of the form
        reached.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    for field in (page.host, page.port, page.database, page.user, page.ca_file,
                  page.choose_ca_button, page.password, page.test_button):
        assert any(w is field or (w is not None and field.isAncestorOf(w))
                   for w in reached), (field, reached)


# --- the file's window never loads the server's driver ------------------------------------

def _run_in_child(tmp_path, start: str, *, before: str = "", on_window: str = "",
                  config: Path | None = None) -> str:
    """NeedleDesk's window started as `needledesk` starts it, in a process of its own
    (offscreen, its data under tmp_path/data, its settings under `config`, no
    NEEDLEDESK_SERVER or NEEDLEDESK_DB): `before` runs first, `on_window` once the window
    (`window`) has its records, then the program exits 0; `start` is the call that runs it,
    whose answer is printed as `exit:`. What the process printed."""
    import os

    script = "\n".join([
        "import sys",
        "from pathlib import Path",
        "from PySide6.QtCore import QTimer",
        "from needledesk.ui.app import application, run_window",
        textwrap.dedent(before),
        "app = application()",
        "",
        "def look():",
        "    windows = [w for w in app.topLevelWidgets() if type(w).__name__ == 'MainWindow']",
        "    if not windows or not windows[0].attached:",
        "        QTimer.singleShot(50, look)",
        "        return",
        "    window = windows[0]",
        textwrap.indent(textwrap.dedent(on_window), "    "),
        "    app.exit(0)",
        "",
        "QTimer.singleShot(0, look)",
        f"print('exit:', {start})",
    ])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NEEDLEDESK_SKIP_SETUP="1",
               XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(config or tmp_path / "config"))
    for name in ("NEEDLEDESK_SERVER", "NEEDLEDESK_DB"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_file_window_starts_without_the_servers_driver(tmp_path):
    """`needledesk` on the file (the real start: lock, first paint, check), then Settings
    with its Clinic server tab: psycopg and the server's modules are never imported."""
    said = _run_in_child(tmp_path, f"run_window(Path({str(tmp_path / 'clinic.db')!r}))",
                         before="from needledesk.ui.settings_dialog import SettingsDialog",
                         on_window="""
        dialog = SettingsDialog(window.settings, window, state=window.state)
        dialog.tabs.setCurrentWidget(dialog.server_page)
        dialog.show()
        app.processEvents()
        print("status:", window.status_label.text())
        print("loaded:", sorted(m for m in sys.modules if m.startswith(
            ("psycopg", "needledesk.store.engine.postgres", "needledesk.store.server"))))
        dialog.hide()
        """)
    assert f"status: File: {tmp_path / 'clinic.db'}" in said, said
    assert "loaded: []" in said, said
    assert "exit: 0" in said


def _start_window(tmp_path, choice: ServerChoice, *, unreachable: str = QUIT) -> str:
    """`run_window()` as `needledesk` with no option runs it, this PC set to `choice` in
    Settings (its QSettings under XDG_CONFIG_HOME), in a process of its own; the practitioner
    answers an unreachable server with `unreachable`. What it printed."""
    from PySide6.QtCore import QSettings

    config = tmp_path / "config"
    saved = QSettings(str(config / "NeedleDesk" / "NeedleDesk.conf"),
                      QSettings.Format.IniFormat)
    save_choice(saved, choice)
    return _run_in_child(tmp_path, "run_window(None)", config=config, before=f"""
        import needledesk.ui.server_settings as server_settings

        def unreachable(problem, parent=None):
            print("unreachable:", problem)
            return {unreachable!r}

        server_settings.ask_when_unreachable = unreachable
        import needledesk.store.first_page as first_page
        import needledesk.store.integrity as integrity
        import needledesk.store.lock as lock

        def watch(module, name):
            real = getattr(module, name)

            def called(*args, **kwargs):
                print("touched:", name)
                return real(*args, **kwargs)
            setattr(module, name, called)

        watch(first_page, "read_first_page")
        watch(integrity, "check_in_background")
        watch(lock.DatabaseLock, "acquire")
        """, on_window='print("status:", window.status_label.text())')


def test_a_pc_set_to_the_server_starts_on_it_without_touching_the_file(tmp_path, server_url):
    said = _start_window(tmp_path, _choice(server_url))
    assert "status: Clinic server: needledesk_test@this PC:55432/nd_" in said, said
    assert "touched:" not in said   # no lock file, first-page reader or file check
    assert "exit: 0" in said
    assert not (tmp_path / "data" / "needledesk").exists() or not any(
        (tmp_path / "data" / "needledesk").glob("*.db*"))


def test_a_pc_whose_server_is_away_can_use_its_file_instead(tmp_path):
    said = _start_window(tmp_path, ServerChoice(True, "127.0.0.1", 1, "needledesk", "nobody"),
                         unreachable=USE_FILE)
    assert "unreachable: The clinic server (nobody@127.0.0.1:1/needledesk) cannot be " \
           "reached" in said, said
    status = next(line for line in said.splitlines() if line.startswith("status:"))
    assert status.startswith("status: File: ") and status.endswith("needledesk.db"), status
    assert str(tmp_path / "data") in status
    assert "touched: acquire" in said and "touched: read_first_page" in said
    assert "exit: 0" in said
    quit_said = _start_window(tmp_path, ServerChoice(True, "127.0.0.1", 1, "needledesk",
                                                     "nobody"), unreachable=QUIT)
    assert "status:" not in quit_said and "exit: 1" in quit_said
