"""A fresh machine: every command on a data folder that does not exist yet, the log, and demo
records kept apart from a clinic's own. Each test gets its own empty data folder."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from factories import make_client, make_session

from needledesk.cli import main
from needledesk.demo import DEMO_AUTHOR, fill
from needledesk.logs import BACKUP_COUNT, MAX_BYTES, log_file, setup_logging, shutdown_logging
from needledesk.paths import data_dir, default_db_path, log_path
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture
def fresh_machine(tmp_path, monkeypatch):
    """A data folder that does not exist yet, as on a PC where NeedleDesk never ran."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("NEEDLEDESK_DB", raising=False)
    assert not data_dir().exists()
    return data_dir()


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def exchange_file(tmp_path):
    """A small exchange file made by the program itself (demo, then export)."""
    source = tmp_path / "source.db"
    assert main(["--db", str(source), "demo", "--clients", "3", "--seed", "5"]) == 0
    target = tmp_path / "clinic.json"
    assert main(["--db", str(source), "export", "json", "-o", str(target)]) == 0
    return target


@posix_only
def test_import_on_a_fresh_machine_makes_a_private_data_folder(fresh_machine, exchange_file,
                                                               capsys):
    capsys.readouterr()
    assert main(["import", str(exchange_file)]) == 0
    assert "imported: 3 clients" in capsys.readouterr().out
    assert _mode(fresh_machine) == 0o700
    assert _mode(default_db_path()) == 0o600
    assert _mode(log_path()) == 0o600


@pytest.mark.parametrize("argv", [["check"], ["backup"], ["export", "json"],
                                  ["export", "course", "--client", "x", "-o", "out.pdf"]])
def test_reading_commands_on_a_fresh_machine_say_there_are_no_records_yet(
        fresh_machine, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "there are no records on this PC yet" in err
    assert "Traceback" not in err
    assert not default_db_path().exists()


def test_a_named_database_in_a_missing_folder_is_refused_plainly(tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "clinic.db"
    assert main(["--db", str(target), "demo", "--clients", "2"]) == 1
    err = capsys.readouterr().err
    assert f"the folder {target.parent} does not exist" in err
    assert not target.parent.exists()


@posix_only
def test_restore_onto_a_new_pc_makes_the_data_folder(fresh_machine, tmp_path, capsys):
    source = tmp_path / "old-pc.db"
    assert main(["--db", str(source), "demo", "--clients", "2", "--seed", "3"]) == 0
    backup = tmp_path / "old-pc-backup.db"
    assert main(["--db", str(source), "backup", "-o", str(backup)]) == 0
    assert main(["restore", str(backup)]) == 0
    assert _mode(fresh_machine) == 0o700
    repo = Repository(open_database(default_db_path()))
    assert repo.count_clients() == 2
    repo.db.close()


def test_an_internal_error_names_the_log_and_the_log_has_the_traceback(
        fresh_machine, monkeypatch, capsys):
    import needledesk.cli as cli

    def broken(args):
        raise RuntimeError("a bug for the developers")

    monkeypatch.setattr(cli, "_run", broken)
    assert main(["check"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert f"details are in the log: {log_path()}" in err
    assert "Traceback" not in err
    logged = log_path().read_text(encoding="utf-8")
    assert "RuntimeError: a bug for the developers" in logged
    assert "Traceback" in logged


@posix_only
def test_the_log_rotates_within_its_bounds_and_stays_private(tmp_path):
    target = tmp_path / "logs" / "needledesk.log"
    assert setup_logging(target) == target
    assert log_file() == target
    logger = logging.getLogger("needledesk.test")
    line = "x" * 1000
    for _ in range(8_000):  # 8 MB of lines: the oldest must be dropped
        logger.info(line)
    shutdown_logging()
    files = sorted(target.parent.iterdir())
    assert len(files) == BACKUP_COUNT + 1
    for file in files:
        assert file.stat().st_size <= MAX_BYTES
        assert _mode(file) == 0o600
    assert _mode(target.parent) == 0o700


def test_a_log_that_cannot_be_written_does_not_stop_the_program(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert setup_logging(blocker / "needledesk.log") is None


# --- demo records never mix with real ones ------------------------------------------------

def _real_clinic(path) -> Repository:
    repo = Repository(open_database(path))
    client = repo.add_client(make_client(first_name="Real", last_name="Client"), by="Jane Doe")
    repo.save_draft(make_session(client.id), by="Jane Doe")
    return repo


def test_demo_refuses_a_database_with_real_records_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "clinic.db"
    _real_clinic(path).db.close()
    assert main(["--db", str(path), "demo", "--clients", "5"]) == 1
    err = capsys.readouterr().err
    assert "1 client(s) and 1 session(s) that are not demonstration records" in err
    assert "--force" in err
    repo = Repository(open_database(path))
    assert repo.count_clients() == 1
    assert not repo.is_demo()
    repo.db.close()


def test_demo_with_force_adds_to_real_records_and_marks_the_file(tmp_path):
    path = tmp_path / "clinic.db"
    _real_clinic(path).db.close()
    assert main(["--db", str(path), "demo", "--clients", "5", "--force"]) == 0
    repo = Repository(open_database(path))
    assert repo.count_clients() == 6
    assert repo.is_demo()
    repo.db.close()


def test_demo_adds_to_its_own_records_and_settings_do_not_count(repo):
    settings = repo.settings()
    settings.clinic_name = "Skin Studio"
    repo.save_settings(settings, by="Jane Smith")
    fill(repo, clients=4, seed=1)
    fill(repo, clients=3, seed=2)  # a second run into a demonstration file is fine
    assert repo.count_clients() == 7
    assert repo.records_not_made_by(DEMO_AUTHOR) == {"clients": 0, "sessions": 0}
    assert repo.is_demo()


def test_a_client_added_to_a_demo_file_counts_as_real(repo):
    fill(repo, clients=2, seed=1)
    repo.add_client(make_client(), by="Jane Smith")
    assert repo.records_not_made_by(DEMO_AUTHOR)["clients"] == 1
    with pytest.raises(Exception, match="not demonstration records"):
        fill(repo, clients=2, seed=9)
