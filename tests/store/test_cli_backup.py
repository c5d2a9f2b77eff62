"""`needledesk backup` and `restore` from the command line, and the one-writer lock."""

from __future__ import annotations

from factories import make_client

from needledesk.cli import main
from needledesk.store.database import open_database
from needledesk.store.lock import DatabaseLock
from needledesk.store.repository import Repository


def test_backup_then_restore_brings_records_back_and_records_the_restore(tmp_path, capsys):
    db = tmp_path / "clinic.db"
    repo = Repository(open_database(db))
    repo.add_client(make_client(), by="Jane Smith")
    repo.db.close()
    assert main(["--db", str(db), "backup", "-o", str(tmp_path / "b.db")]) == 0
    assert "(1 client, 0 sessions)" in capsys.readouterr().out

    repo = Repository(open_database(db))
    repo.add_client(make_client(first_name="Later"), by="Jane Smith")
    repo.db.close()
    assert main(["--db", str(db), "restore", str(tmp_path / "b.db")]) == 0
    out = capsys.readouterr().out
    assert "restored:" in out and "kept in" in out

    repo = Repository(open_database(db))
    assert [c.first_name for c in repo.search_clients("")] == ["Ana"]
    actions = [r[0] for r in repo.db.execute("SELECT action FROM audit ORDER BY seq")]
    assert actions[-1] == "restore"
    repo.db.close()
    assert main(["--db", str(db), "check"]) == 0


def test_default_backup_goes_to_the_backups_folder(tmp_path, capsys):
    db = tmp_path / "clinic.db"
    open_database(db).close()
    assert main(["--db", str(db), "backup"]) == 0
    assert len(list((tmp_path / "backups").glob("needledesk-*.db"))) == 1


def test_a_writing_command_is_refused_while_the_database_is_open_elsewhere(tmp_path, capsys):
    db = tmp_path / "clinic.db"
    open_database(db).close()
    (tmp_path / "x.json").write_text('{"format": "needledesk-exchange", "version": 1, '
                                      '"clients": []}')
    with DatabaseLock.acquire(db):
        assert main(["--db", str(db), "import", str(tmp_path / "x.json")]) == 1
        assert "already open" in capsys.readouterr().err
    assert main(["--db", str(db), "import", str(tmp_path / "x.json")]) == 0


def test_backup_of_a_missing_database_is_one_clear_line(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "nope.db"), "backup"]) == 1
    missing = tmp_path / "nope.db"
    assert capsys.readouterr().err.strip() == f"needledesk: {missing}: no such database"
