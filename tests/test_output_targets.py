"""No file NeedleDesk writes may land on the clinic's database: `-o` (and the window's Export
PDF / Export record) refuses the database, its -wal/-journal, its lock and its backup folder,
by name, through a symbolic link and by hard link, writing nothing; and a lock name that is
a symbolic link never lets a writing command truncate the file behind it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import make_client, make_course, make_session

from needledesk.cli import main
from needledesk.store.database import open_database
from needledesk.store.lock import AlreadyOpenError, DatabaseLock, lock_path_for
from needledesk.store.repository import Repository
from needledesk.store.targets import ProtectedTargetError, refuse_protected_target

posix_only = pytest.mark.skipif(os.name != "posix", reason="symbolic and hard links")


@dataclass
class Clinic:
    db: Path
    client_id: str
    session_id: str


@pytest.fixture
def clinic(db_path) -> Clinic:
    repo = Repository(open_database(db_path))
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id), by="Jane Smith")
    session = make_session(client.id, course_id=course.id)
    repo.save_draft(session, by="Jane Smith")
    repo.db.close()
    return Clinic(db_path, client.id, session.id)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refusal(target) -> str:
    return (f"needledesk: {target} is the clinic's database (or its lock, photo or backup "
            "folder); choose another file name — nothing was written")


def export_args(clinic: Clinic, kind: str, target) -> list[str]:
    """Every command that takes `-o`, writing to `target`."""
    base = ["--db", str(clinic.db)]
    return base + {
        "json": ["export", "json", "-o", str(target)],
        "summary": ["export", "summary", "--session", clinic.session_id, "-o", str(target)],
        "course": ["export", "course", "--client", clinic.client_id, "-o", str(target)],
        "backup": ["backup", "-o", str(target)],
    }[kind]


KINDS = ["json", "summary", "course", "backup"]


def refused(capsys, args: list[str], target) -> None:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.strip() == refusal(target)


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files a refused write would have left."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def clients_in(db: Path) -> list[str]:
    repo = Repository(open_database(db))
    try:
        return [c.first_name for c in repo.search_clients("")]
    finally:
        repo.db.close()


# --- the database itself, its companions and its lock ------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_o_the_database_is_refused_and_the_records_stay(clinic, capsys, kind):
    before = digest(clinic.db)
    refused(capsys, export_args(clinic, kind, clinic.db), clinic.db)
    assert digest(clinic.db) == before
    assert leftovers(clinic.db.parent) == []
    assert clients_in(clinic.db) == ["Ana"]


@pytest.mark.parametrize("kind", ["json", "course"])
def test_o_the_database_by_a_relative_name_is_refused(clinic, capsys, monkeypatch, kind):
    monkeypatch.chdir(clinic.db.parent)
    before = digest(clinic.db)
    refused(capsys, export_args(clinic, kind, "clinic.db"), "clinic.db")
    assert digest(clinic.db) == before


@pytest.mark.parametrize("kind", KINDS)
def test_o_the_wal_of_an_open_database_is_refused(clinic, capsys, kind):
    window = Repository(open_database(clinic.db))  # another program has the file open
    try:
        window.add_client(make_client(first_name="Bea"), by="Jane Smith")
        wal = clinic.db.with_name("clinic.db-wal")
        assert wal.exists()
        before = digest(wal)
        refused(capsys, export_args(clinic, kind, wal), wal)
        assert digest(wal) == before
        assert sorted(c.first_name for c in window.search_clients("")) == ["Ana", "Bea"]
    finally:
        window.db.close()
    assert sorted(clients_in(clinic.db)) == ["Ana", "Bea"]


@pytest.mark.parametrize("suffix", ["-journal", "-shm"])
def test_o_the_other_sqlite_companions_is_refused(clinic, capsys, suffix):
    target = clinic.db.with_name("clinic.db" + suffix)
    refused(capsys, export_args(clinic, "json", target), target)
    assert not target.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_o_the_lock_while_held_is_refused_and_a_second_writer_still_is(clinic, capsys,
                                                                      tmp_path, kind):
    exchange = tmp_path / "records.json"
    assert main(["--db", str(clinic.db), "export", "json", "-o", str(exchange)]) == 0
    lock_file = lock_path_for(clinic.db)
    with DatabaseLock.acquire(clinic.db):  # the window has the database
        before = digest(lock_file)
        refused(capsys, export_args(clinic, kind, lock_file), lock_file)
        assert digest(lock_file) == before
        # A second writer is still kept out: the lock file is the one the window locked.
        assert main(["--db", str(clinic.db), "import", str(exchange)]) == 1
        assert "NeedleDesk is already open on this database" in capsys.readouterr().err
        with pytest.raises(AlreadyOpenError):
            DatabaseLock.acquire(clinic.db)


# --- the same files under other names ------------------------------------------------------


@posix_only
@pytest.mark.parametrize("kind", KINDS)
def test_o_a_symbolic_link_to_the_database_is_refused(clinic, capsys, tmp_path, kind):
    link = tmp_path / "out" / "record.pdf"
    link.parent.mkdir()
    link.symlink_to(clinic.db)
    before = digest(clinic.db)
    refused(capsys, export_args(clinic, kind, link), link)
    assert link.is_symlink() and link.resolve() == clinic.db.resolve()
    assert digest(clinic.db) == before


@posix_only
def test_o_the_lock_through_a_symbolic_link_is_refused(clinic, capsys, tmp_path):
    link = tmp_path / "out.json"
    link.symlink_to(lock_path_for(clinic.db))  # dangling: nobody holds the lock now
    refused(capsys, export_args(clinic, "json", link), link)
    assert link.is_symlink() and not lock_path_for(clinic.db).exists()


@posix_only
@pytest.mark.parametrize("kind", KINDS)
def test_o_a_hard_link_to_the_database_is_refused(clinic, capsys, tmp_path, kind):
    other = tmp_path / "elsewhere" / "copy.db"
    other.parent.mkdir()
    os.link(clinic.db, other)
    before = digest(clinic.db)
    refused(capsys, export_args(clinic, kind, other), other)
    assert os.path.samefile(other, clinic.db)
    assert digest(clinic.db) == before


# --- the backup folder -------------------------------------------------------------------


@pytest.fixture
def generation(clinic, capsys) -> Path:
    assert main(["--db", str(clinic.db), "backup"]) == 0
    capsys.readouterr()
    (made,) = (clinic.db.parent / "backups").glob("needledesk-*.db")
    return made


@pytest.mark.parametrize("kind", KINDS)
def test_o_a_backup_generation_is_refused(clinic, generation, capsys, kind):
    before = digest(generation)
    refused(capsys, export_args(clinic, kind, generation), generation)
    assert digest(generation) == before
    assert leftovers(generation.parent) == []


@pytest.mark.parametrize("name", ["record.pdf", "sub/record.pdf", ""])
def test_o_anything_in_the_backup_folder_is_refused(clinic, generation, capsys, name):
    target = generation.parent / name if name else generation.parent
    refused(capsys, export_args(clinic, "course", target), target)
    # Only the backup and its manifest (written beside every backup: store.anchors).
    assert sorted(p.name for p in generation.parent.iterdir()) == [
        generation.name, generation.name + ".manifest.json"]


@posix_only
def test_o_the_backup_folder_under_another_name_is_refused(clinic, generation, capsys,
                                                          tmp_path):
    alias = tmp_path / "exports"
    alias.symlink_to(generation.parent, target_is_directory=True)
    target = alias / generation.name
    before = digest(generation)
    refused(capsys, export_args(clinic, "json", target), target)
    assert digest(generation) == before
    hard = tmp_path / "kept.db"
    os.link(generation, hard)
    refused(capsys, export_args(clinic, "summary", hard), hard)
    assert digest(generation) == before


def test_ordinary_targets_are_still_written(clinic, capsys, tmp_path):
    for kind in KINDS:
        target = tmp_path / f"out-{kind}"
        assert main(export_args(clinic, kind, target)) == 0, capsys.readouterr().err
        assert target.stat().st_size > 0
    # A name that merely starts like the database's is not its companion.
    assert main(export_args(clinic, "json", tmp_path / "clinic.db.json")) == 0


def test_a_missing_folder_is_one_plain_line_naming_the_file(clinic, capsys, tmp_path):
    target = tmp_path / "not-plugged-in" / "records.json"
    assert main(export_args(clinic, "json", target)) == 1
    assert capsys.readouterr().err.strip() == (
        f"needledesk: {target}: cannot be written (No such file or directory)")


def test_the_check_itself_needs_no_existing_files(tmp_path):
    db = tmp_path / "nowhere" / "clinic.db"
    with pytest.raises(ProtectedTargetError, match="choose another file name"):
        refuse_protected_target(db.with_name("clinic.db.lock"), db)
    refuse_protected_target(tmp_path / "nowhere" / "clinic.pdf", db)
    refuse_protected_target(tmp_path / "nowhere" / "backups" / "x.pdf", db, backups=False)


# --- a symbolic link planted at the lock's name ----------------------------------------------


@posix_only
@pytest.mark.parametrize("command", [["import", "{exchange}"], ["demo", "--clients", "1"],
                                     ["restore", "{backup}"]])
def test_a_symlinked_lock_never_touches_the_file_behind_it(clinic, capsys, tmp_path,
                                                         command):
    exchange, backup = tmp_path / "records.json", tmp_path / "copy.db"
    assert main(["--db", str(clinic.db), "export", "json", "-o", str(exchange)]) == 0
    assert main(["--db", str(clinic.db), "backup", "-o", str(backup)]) == 0
    capsys.readouterr()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"someone's own file\n" * 100)
    lock_path_for(clinic.db).symlink_to(victim)
    before, db_before = digest(victim), digest(clinic.db)

    args = [a.format(exchange=exchange, backup=backup) for a in command]
    code = main(["--db", str(clinic.db), *args])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.strip() == (
        f"needledesk: {lock_path_for(clinic.db)}: is not NeedleDesk's lock file (it is a "
        "symbolic link or junction); it was left untouched and nothing was written. Move "
        "it out of the way, then try again")
    assert digest(victim) == before
    assert lock_path_for(clinic.db).is_symlink()
    assert digest(clinic.db) == db_before


@posix_only
def test_a_dangling_symlinked_lock_creates_nothing(clinic, capsys, tmp_path):
    victim = tmp_path / "not-yet.txt"
    lock_path_for(clinic.db).symlink_to(victim)
    assert main(["--db", str(clinic.db), "demo", "--clients", "1"]) == 1
    assert "is not NeedleDesk's lock file" in capsys.readouterr().err
    assert not victim.exists()


# --- the window ------------------------------------------------------------------------------


@pytest.fixture
def qt_window(qtbot, clinic, tmp_path, monkeypatch):
    """The real window on the clinic's file, with message boxes recorded, not shown."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from needledesk.ui.main_window import MainWindow
    from needledesk.ui.tasks import Tasks

    shown: list[str] = []
    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(
            lambda parent, title, text, *a, _n=name, **k: shown.append(f"{_n}: {text}")
            or QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: QMessageBox.StandardButton.No))
    monkeypatch.setattr(Tasks, "synchronous", True)
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    repo = Repository(open_database(clinic.db))
    win = MainWindow(repo, repo.settings(), state)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.shown = shown
    yield win
    repo.db.close()


def choose(monkeypatch, path) -> None:
    from needledesk.ui import printing

    monkeypatch.setattr(printing, "choose_save_path", lambda parent, name: str(path))


def window_refusal(target) -> str:
    return (f"warning: {target} is the clinic's database (or its lock, photo or backup "
            "folder); choose another file name — nothing was written")


def test_the_windows_export_record_refuses_the_database(qt_window, clinic, monkeypatch):
    choose(monkeypatch, clinic.db)
    qt_window.find("")
    qt_window.open_first_match()
    before = digest(clinic.db)
    qt_window.course_export_button.click()
    assert qt_window.shown == [window_refusal(clinic.db)]
    assert digest(clinic.db) == before
    assert leftovers(clinic.db.parent) == []
    assert [c.first_name for c in qt_window.repo.search_clients("")] == ["Ana"]


def test_the_windows_export_record_refuses_the_chosen_backup_folder(qt_window, clinic,
                                                                    monkeypatch, tmp_path):
    usb = tmp_path / "usb-stick"
    usb.mkdir()
    qt_window.state.setValue("backup_folder", str(usb))
    choose(monkeypatch, usb / "record.pdf")
    qt_window.find("")
    qt_window.open_first_match()
    qt_window.course_export_button.click()
    assert qt_window.shown == [window_refusal(usb / "record.pdf")]
    assert list(usb.iterdir()) == []


@pytest.mark.parametrize("which", ["database", "lock", "backups"])
def test_the_session_editors_export_pdf_refuses_the_database_files(qt_window, clinic,
                                                                   monkeypatch, which):
    target = {"database": clinic.db, "lock": lock_path_for(clinic.db),
              "backups": clinic.db.parent / "backups" / "summary.pdf"}[which]
    (clinic.db.parent / "backups").mkdir(exist_ok=True)
    choose(monkeypatch, target)
    qt_window.find("")
    qt_window.open_first_match()
    editor = qt_window.open_session(clinic.session_id)
    before = digest(clinic.db)
    editor.export_button.click()
    assert qt_window.shown == [window_refusal(target)]
    assert digest(clinic.db) == before
    assert not lock_path_for(clinic.db).exists()
    assert not (clinic.db.parent / "backups" / "summary.pdf").exists()


def test_the_windows_export_still_writes_an_ordinary_file(qt_window, clinic, monkeypatch,
                                                          tmp_path):
    target = tmp_path / "exports" / "record.pdf"
    target.parent.mkdir()
    choose(monkeypatch, target)
    qt_window.find("")
    qt_window.open_first_match()
    qt_window.course_export_button.click()
    assert qt_window.shown == []
    assert target.read_bytes().startswith(b"%PDF-")
