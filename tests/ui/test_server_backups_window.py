"""File › Back up now and Restore a backup… on a clinic server (issue 17): pg_dump and a
restore checked in a scratch database when this PC has the tools; a plain explanation
pointing to docs/clinic-server.md when it has none; no automatic backups of the server."""

from __future__ import annotations

import pytest
from factories import make_client
from ui_windows import show_window

from needledesk.store import server_backup as sb
from needledesk.store.repository import Repository
from needledesk.store.server import open_server
from needledesk.ui.backups import RestoreDialog

PG_BIN = "/usr/lib/postgresql/15/bin"
BY = "Jane Smith"


@pytest.fixture
def server_repo(server_url):
    repo = Repository(open_server(server_url))
    repo.add_client(make_client(first_name="Kept"), by=BY)
    yield repo
    repo.db.close()


@pytest.fixture
def server_window(qtbot, server_repo, state, tmp_path):
    state.setValue("server_backup_folder", str(tmp_path / "server-backups"))
    (tmp_path / "server-backups").mkdir()
    return show_window(qtbot, server_repo, state)


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    """A PC without PostgreSQL's tools: nothing on PATH, none in the usual places."""
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    monkeypatch.setattr(sb, "POSIX_PLACES", ())


def test_back_up_now_on_the_server_writes_a_checked_dump(qtbot, server_window, tmp_path):
    assert server_window.backups.folder() == tmp_path / "server-backups"
    server_window.back_up_now()
    (dump,) = (tmp_path / "server-backups").glob("needledesk-server-*.dump")
    assert sb.verify_dump(dump).clients == 1
    assert "Backed up the clinic server: 1 client, 0 sessions" in \
        server_window.statusBar().currentMessage()
    # No file-style backup folder appeared beside a "path" made of the server's address.
    assert not list(tmp_path.glob("postgresql*"))


def test_restore_on_the_server_from_the_window(qtbot, server_window, server_repo, tmp_path,
                                               monkeypatch, no_real_modals):
    server_window.back_up_now()
    server_repo.add_client(make_client(first_name="Lost"), by=BY)
    server_window.find("")
    assert server_window.client_model.total() == 2
    offered = []

    def choose(cls, parent, backups, folder, *, check=None, note=None):
        offered.extend(check(b) for b in backups)   # the list's own check: the hash
        assert "every room" in note
        return offered[0]

    monkeypatch.setattr(RestoreDialog, "ask", classmethod(choose))
    assert server_window.restore_backup()
    assert [b.ok for b in offered] == [True]
    assert [c.first_name for c in server_window.repo.search_clients("")] == ["Kept"]
    assert server_window.client_model.total() == 1
    assert any("Restored the clinic server's backup of" in text and "for every room" in text
               for text in no_real_modals)
    last = server_window.repo.db.execute(
        "SELECT action, who FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    assert last[0] == "restore"
    assert server_window.new_client_action.isEnabled()


def test_a_damaged_dump_is_not_offered_and_a_forced_one_is_refused(
        qtbot, server_window, server_repo, tmp_path, monkeypatch, no_real_modals):
    server_window.back_up_now()
    (dump,) = (tmp_path / "server-backups").glob("needledesk-server-*.dump")
    dump.write_bytes(dump.read_bytes()[:-20])
    server_repo.add_client(make_client(first_name="Stays"), by=BY)
    checked = []

    def choose(cls, parent, backups, folder, *, check=None, note=None):
        checked.extend(check(b) for b in backups)
        return backups[0]   # as if it were chosen anyway

    monkeypatch.setattr(RestoreDialog, "ask", classmethod(choose))
    assert not server_window.restore_backup()
    assert not checked[0].ok and "does not match its manifest" in checked[0].problem
    assert any(t.startswith("warning:") and "does not match its manifest" in t and
               "Nothing was changed" in t for t in no_real_modals)
    assert server_repo.count_clients() == 2
    assert server_window.new_client_action.isEnabled()


def test_without_the_tools_both_menu_items_explain(qtbot, server_window, tmp_path, no_tools,
                                                   no_real_modals):
    server_window.back_up_now()
    assert not server_window.restore_backup()
    said = [t for t in no_real_modals if t.startswith("information:")]
    assert len(said) == 2
    for text in said:
        assert "pg_dump" in text and "docs/clinic-server.md" in text
        assert "Traceback" not in text
    assert list((tmp_path / "server-backups").iterdir()) == []


def test_no_daily_or_closing_backup_of_the_server(qtbot, server_window, tmp_path):
    server_window.backups.daily()
    server_window.close()
    assert list((tmp_path / "server-backups").iterdir()) == []


def test_the_server_backup_folder_is_kept_apart_from_the_files(server_window, tmp_path,
                                                               monkeypatch):
    chosen = tmp_path / "usb"
    monkeypatch.setattr("needledesk.ui.backups.choose_folder", lambda parent, current: chosen)
    server_window.backups.choose_folder()
    assert server_window.state.value("server_backup_folder") == str(chosen)
    assert not server_window.state.value("backup_folder", "")
    assert server_window.backups.folder() == chosen


def test_the_tools_are_the_ones_found_on_this_pc(server_window):
    found = []
    server_window.backups.with_server_tools(found.append)
    (tools,) = found
    assert isinstance(tools, sb.PgTools) and tools.major >= 15
    assert tools.pg_restore.name == "pg_restore"


def test_back_up_now_off_the_ui_thread(qtbot, real_threads, server_window, tmp_path):
    """The tools are looked for, and the dump taken, on workers: the window stays free."""
    server_window.back_up_now()
    qtbot.waitUntil(lambda: "Backed up the clinic server" in
                    server_window.statusBar().currentMessage(), timeout=30_000)
    assert len(list((tmp_path / "server-backups").glob("needledesk-server-*.dump"))) == 1
    assert not server_window.backups.running
