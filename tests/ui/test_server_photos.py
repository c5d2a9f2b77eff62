"""The session's photos and the compare view on a clinic server, with real worker threads:
the thumbnails and the pictures are read from the server's database on connections of the
workers' own, never on the UI thread's (real PostgreSQL, real Qt, real JPEGs)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from needledesk.domain.model import PhotoView
from needledesk.store.repository import Repository
from needledesk.store.server import open_server
from needledesk.ui.compare_view import CompareDialog
from needledesk.ui.photos_panel import PhotosPanel
from tests.factories import make_session
from tests.photo_helpers import client_with_session, make_jpeg

BY = "Jane Smith"


@pytest.fixture
def server_repo(server_url):
    repo = Repository(open_server(server_url))
    yield repo
    repo.photo_store.close()
    repo.db.close()


def _backends(repo) -> int:
    return repo.db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database()").fetchone()[0]


def test_a_sessions_photos_show_their_thumbnails_read_by_workers_from_the_server(
        qtbot, server_repo, real_threads):
    client, session = client_with_session(server_repo)
    for seed in range(1, 7):
        server_repo.add_photo(session.id, make_jpeg(400, 300, seed=seed),
                              view=PhotoView.FRONT, by=BY)
    # another PC: none of these thumbnails in its cache yet
    import shutil

    shutil.rmtree(server_repo.photo_store.thumbs.root)
    before = _backends(server_repo)
    panel = PhotosPanel(server_repo, server_repo.settings(), client, session.id, by=BY)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.thumbnails_shown() == 6, timeout=20_000)
    assert _backends(server_repo) == before + 1   # the workers' own connection
    assert len(list(server_repo.photo_store.thumbs.root.rglob("*-320.jpg"))) == 6


def test_the_compare_view_paints_both_photos_read_from_the_server(
        qtbot, server_repo, tmp_path, real_threads):
    from PySide6.QtCore import QSettings

    client, first = client_with_session(server_repo)
    later = server_repo.save_draft(make_session(client.id, started_at=datetime(2026, 11, 20, 10),
                                                anaesthetic=None), by=BY)
    for seed, session in ((1, first), (2, later)):
        server_repo.add_photo(session.id, make_jpeg(600, 800, seed=seed),
                              view=PhotoView.FRONT, by=BY)
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    dialog = CompareDialog(server_repo, client.id, state=state,
                           today=lambda: date(2026, 11, 30))
    qtbot.addWidget(dialog)
    dialog.resize(900, 640)
    dialog.show()
    assert dialog.wait_ready(10_000)
    assert all(side.image is not None and not side.image.isNull()
               for side in dialog.pane.sides)
    assert [side.error for side in dialog.pane.sides] == ["", ""]
