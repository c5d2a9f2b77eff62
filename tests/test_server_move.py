"""Moving a clinic from its file to the clinic server and back (`store.move`, the
`move-to-server` / `move-to-file` commands): every record, setting, photo and the whole
audit trail arrive as they were, checked sound at each place; the side moved from is left
exactly as it was; a server holding records is refused, and a copy that does not match what
was read leaves nothing behind.

Real SQLite files, a real PostgreSQL server (`server_url`: a new database per test). The
round trip runs once from each engine (`[sqlite]`: file -> server -> file; `[postgresql]`:
a clinic kept on a server -> file -> another server).
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

import pytest
from factories import TINY_PNG, make_client, make_consent, make_session

from needledesk import demo
from needledesk.cli import main
from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import ConsentKind
from needledesk.settings import ClinicSettings
from needledesk.store import move
from needledesk.store.audit import AuditLog
from needledesk.store.check import check_file
from needledesk.store.database import open_database, open_readonly
from needledesk.store.move import TABLES, MoveError, move_to_file, move_to_server
from needledesk.store.photo_files import photo_folder
from needledesk.store.repository import Repository
from needledesk.transfer import export_document, export_text

BY = "Jane Smith"


def _clinic(repo: Repository) -> None:
    """A small clinic with every kind of record: clients, courses, screenings, sessions
    signed, draft and amended, products and lots, consents signed on paper and on screen
    (both signatures drawn), photos live and removed, the clinic's settings with a logo."""
    demo.fill(repo, clients=20, seed=3, photos=2)
    client = repo.add_client(make_client(first_name="Zoë", last_name="Ødegård"), by=BY)
    form = default_template(ConsentKind.TREATMENT)
    repo.add_consent(make_consent(client.id, form), by=BY, template=form)
    repo.save_draft(make_session(client.id, started_at=datetime(2026, 11, 24, 9, 0)), by=BY)
    repo.save_settings(ClinicSettings(clinic_name="Lumen Skin", logo=TINY_PNG,
                                      practitioners=[BY]), by=BY)
    photo = repo.photos()[0]
    repo.remove_photo(photo.id, "photographed the wrong side", by=BY)
    counts = {t: repo.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    drafts = repo.db.execute("SELECT count(*) FROM sessions WHERE signed_at IS NULL")
    signed_on_screen = repo.db.execute(
        "SELECT count(*) FROM consents WHERE client_image IS NOT NULL").fetchone()[0]
    removed = repo.db.execute("SELECT count(*) FROM photos WHERE removed_at IS NOT NULL")
    assert all(counts[t] for t in ("clients", "courses", "screenings", "sessions",
                                   "treated_areas", "amendments", "products", "lots",
                                   "consent_templates", "consents", "photos", "settings"))
    assert drafts.fetchone()[0] and signed_on_screen and removed.fetchone()[0]


def _snapshot(repo: Repository) -> dict:
    """What a clinic holds as the exchange shows it (records with photos' records, the
    catalogue, the consent forms), the settings, and every live photo's bytes."""
    document = export_document(repo)
    document.pop("exported_at")
    return {"document": document, "json": _export(repo), "settings": repo.settings(),
            "pictures": {p.sha256: repo.photo_store.get(p.sha256) for p in repo.photos()},
            "trail": repo.audit.head(), "id": AuditLog(repo.db).database_id()}


def _export(repo: Repository) -> dict:
    """`export json` as read back, without the moment it was made."""
    document = json.loads(export_text(repo))
    document.pop("exported_at")
    return document


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sound(db) -> None:
    report = check_file(db)
    assert report.problems == []
    assert not [w for w in report.warnings if "anchor" in w]


def _bare_server(url):
    from needledesk.store.server import open_server

    return open_server(url, bare=True)


def _row_counts(db) -> dict[str, int]:
    return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in (*TABLES, "photo_files")}


def test_a_clinic_moves_to_the_other_engine_and_back_unchanged(repo, engine, tmp_path,
                                                               server_url, db_path):
    _clinic(repo)
    before = _snapshot(repo)
    if engine == "sqlite":
        repo.db.close()
        file_hash = _sha(db_path)
        server = _bare_server(server_url)
        moved = move_to_server(db_path, server)
        assert _sha(db_path) == file_hash   # the file, read only, is byte for byte as it was
        assert moved.rows["clients"] == len(before["document"]["clients"])
        assert moved.photos == len(before["pictures"])
        there = Repository(server)
        assert _snapshot(there) == before
        _sound(server)
        server_rows = {t: move._digest_of(server, t, _columns(server, t)).hexdigest()
                       for t in TABLES}
        move_to_file(server, tmp_path / "back.db")
        assert {t: move._digest_of(server, t, _columns(server, t)).hexdigest()
                for t in TABLES} == server_rows   # the server untouched
        server.close()
        back = Repository(open_database(tmp_path / "back.db"))
    else:
        server_rows = _row_counts(repo.db)
        move_to_file(repo.db, tmp_path / "moved.db")
        assert _row_counts(repo.db) == server_rows
        repo.db.close()
        moved_file = tmp_path / "moved.db"
        there = Repository(open_database(moved_file))
        assert _snapshot(there) == before
        _sound(there.db)
        there.db.close()
        file_hash = _sha(moved_file)
        server = _bare_server(server_url)
        move_to_server(moved_file, server)
        assert _sha(moved_file) == file_hash
        back = Repository(server)
    try:
        assert _snapshot(back) == before
        _sound(back.db)
        # The moved clinic goes on as before: a write there joins its trail.
        back.add_client(make_client(first_name="Noor"), by=BY)
        assert AuditLog(back.db).verify_chain() == []
        _sound(back.db)
    finally:
        back.db.close()


def _columns(db, table):
    from needledesk.store.engine import dialect

    return dialect(db).columns(db, table)


def test_a_server_holding_a_clinic_already_is_refused(db_path, server_url):
    repo = Repository(open_database(db_path))
    repo.add_client(make_client(), by=BY)
    repo.db.close()
    from needledesk.store.server import open_server

    server = open_server(server_url)   # not bare: it gets an id and a trail of its own
    Repository(server).add_client(make_client(first_name="Rita"), by=BY)
    held = _row_counts(server)
    with pytest.raises(MoveError) as refused:
        move_to_server(db_path, server)
    message = str(refused.value)
    assert "already holds 1 client, a clinic's id and an audit trail of 3 entries" in message
    assert "Nothing was written to the clinic server" in message
    assert "[" not in message and "Traceback" not in message
    assert _row_counts(server) == held
    server.close()


def test_a_copy_that_does_not_match_leaves_nothing_on_the_server(db_path, server_url,
                                                                monkeypatch):
    repo = Repository(open_database(db_path))
    _clinic(repo)
    repo.db.close()
    file_hash = _sha(db_path)
    real = move._write_rows

    def drops_one_setting(target, table, columns, rows):
        if table == "settings":
            rows = list(rows)[:-1]
        real(target, table, columns, rows)

    monkeypatch.setattr(move, "_write_rows", drops_one_setting)
    server = _bare_server(server_url)
    with pytest.raises(MoveError, match="settings: .* read but .* arrived") as refused:
        move_to_server(db_path, server)
    assert "Nothing was written to the clinic server" in str(refused.value)
    assert set(_row_counts(server).values()) == {0}
    assert _sha(db_path) == file_hash
    server.close()


def test_a_file_copy_that_does_not_match_is_removed(db_path, server_url, tmp_path,
                                                    monkeypatch):
    repo = Repository(open_database(db_path))
    _clinic(repo)
    repo.db.close()
    server = _bare_server(server_url)
    move_to_server(db_path, server)
    held = _row_counts(server)
    real = move._write_rows

    def drops_one_amendment(target, table, columns, rows):
        if table == "amendments":
            rows = list(rows)[1:]
        real(target, table, columns, rows)

    monkeypatch.setattr(move, "_write_rows", drops_one_amendment)
    target = tmp_path / "new" / "clinic.db"
    with pytest.raises(MoveError, match="amendments: ") as refused:
        move_to_file(server, target)
    assert "removed again" in str(refused.value)
    assert not target.exists() and not photo_folder(target).exists()
    assert not target.with_name("clinic.db-wal").exists()
    assert _row_counts(server) == held
    server.close()


def test_move_to_file_refuses_a_file_that_holds_data(db_path, server_url, tmp_path):
    repo = Repository(open_database(db_path))
    repo.add_client(make_client(), by=BY)
    repo.db.close()
    server = _bare_server(server_url)
    move_to_server(db_path, server)
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"someone's notes")
    with pytest.raises(MoveError, match="exists already"):
        move_to_file(server, taken)
    assert taken.read_bytes() == b"someone's notes"
    server.close()


def test_the_move_commands(db_path, server_url, tmp_path, capsys):
    repo = Repository(open_database(db_path))
    _clinic(repo)
    before = _snapshot(repo)
    repo.db.close()
    assert main(["--db", str(db_path), "move-to-server", server_url]) == 0
    out, err = capsys.readouterr()
    assert "100%" in err
    assert "moved: 21 clients" in out and "The file was not changed" in out
    assert "postgresql://" not in out   # the server as people read it: user@host:port/db

    # Again into the same server: refused, in plain words.
    assert main(["--db", str(db_path), "move-to-server", server_url]) == 1
    out, err = capsys.readouterr()
    assert "already holds" in err and "Traceback" not in err

    # Back: never over the clinic's own file, nor over any file that exists.
    assert main(["--db", str(db_path), "move-to-file", str(db_path),
                 "--server", server_url]) == 1
    assert "is the clinic's database" in capsys.readouterr().err
    existing = tmp_path / "empty.db"
    existing.write_bytes(b"")
    assert main(["move-to-file", str(existing), "--server", server_url]) == 1
    assert "exists already" in capsys.readouterr().err

    back = tmp_path / "back.db"
    assert main(["move-to-file", str(back), "--server", server_url]) == 0
    out, err = capsys.readouterr()
    assert "moved: 21 clients" in out and "The server was not changed" in out
    repo = Repository(open_database(back))
    assert _snapshot(repo) == before
    repo.db.close()
    assert main(["--db", str(back), "check"]) == 0


@pytest.fixture(scope="session")
def demo_5000(tmp_path_factory):
    """The 5,000-client demonstration clinic as a file, made once per test session (about a
    minute)."""
    path = tmp_path_factory.mktemp("demo5000") / "demo.db"
    repo = Repository(open_database(path))
    demo.fill(repo, clients=5000, seed=1)
    repo.db.close()
    return path


@pytest.mark.slow
def test_the_5000_client_demo_moves_to_the_server_and_back(demo_5000, server_url, tmp_path):
    source = open_readonly(demo_5000)
    before = _export(Repository(source))
    source.close()
    file_hash = _sha(demo_5000)
    server = _bare_server(server_url)
    start = time.monotonic()
    moved = move_to_server(demo_5000, server)
    to_server = time.monotonic() - start
    assert _sha(demo_5000) == file_hash
    assert _export(Repository(server)) == before
    start = time.monotonic()
    move_to_file(server, tmp_path / "back.db")
    to_file = time.monotonic() - start
    server.close()
    back = Repository(open_database(tmp_path / "back.db"))
    assert _export(back) == before
    back.db.close()
    print(f"\n5,000-client demo ({moved.total_rows:,} rows): to the server {to_server:.1f} s, "
          f"back to a file {to_file:.1f} s")
