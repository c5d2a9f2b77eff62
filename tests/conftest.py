"""Shared fixtures: a real SQLite file on disk per test, and the same tests again on a real
PostgreSQL clinic server (a new database per test) where the engine matters.

`repo` and `empty` are on both engines in the test folders and modules listed in
`BOTH_ENGINES` (the store, the exchange, `check`, the reports and the repository-level window
tests), each test once per engine: `[sqlite]` and `[postgresql]`. A test of SQLite's own
file behaviour is marked `@pytest.mark.sqlite_only`. The server is the one
NEEDLEDESK_TEST_SERVER names (`scripts/pg-test-server` starts one, as `.ci/run` does);
without it the server's runs are skipped, and with NEEDLEDESK_REQUIRE_SERVER=1 (CI) they
fail instead.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from keyrings import memory_keyring, no_keyring  # noqa: F401  (shared fixtures)

from needledesk.store.database import open_database
from needledesk.store.repository import Repository

#: Where tests run on both engines: folders (ending in /) and modules, under tests/.
BOTH_ENGINES = (
    "store/", "reports/", "test_exchange_", "test_hostile_files.py",
    "test_import_conflicts.py", "test_roundtrip_property.py", "test_cli_exchange.py",
    "test_output_targets.py", "test_input_limits.py", "test_server", "test_cli_photos.py",
    "ui/test_who_writes.py", "ui/test_session_editor.py", "ui/test_client_card.py",
    "ui/test_finding_clients.py", "ui/test_clinic_server.py",
)
ENGINES = ("sqlite", "postgresql")
_TESTS = Path(__file__).parent


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: a test of the SQLite file itself "
                                       "(WAL, the lock file, file modes, a killed writer)")


def _on_both(path: Path) -> bool:
    try:
        name = path.relative_to(_TESTS).as_posix()
    except ValueError:
        return False
    return any(name.startswith(p) for p in BOTH_ENGINES)


def pytest_generate_tests(metafunc):
    if "engine" not in metafunc.fixturenames:
        return
    both = (_on_both(Path(str(metafunc.definition.fspath)))
            and metafunc.definition.get_closest_marker("sqlite_only") is None)
    metafunc.parametrize("engine", ENGINES if both else ENGINES[:1], indirect=True,
                         ids=None if both else [""])


@pytest.fixture
def engine(request):
    """"sqlite" or "postgresql": which engine this run of the test is on."""
    return getattr(request, "param", "sqlite")


class TestServer:
    """The test server: a template database migrated once, a new database per test."""

    def __init__(self, url: str):
        from needledesk.store.engine.postgres import parse_address

        self.address = parse_address(url)
        self.admin = self._connect("postgres")
        self.template = f"nd_template_{os.getpid()}"
        self.counter = itertools.count(1)
        self.admin.execute(f"DROP DATABASE IF EXISTS {self.template}")
        self.admin.execute(f"CREATE DATABASE {self.template}")
        from needledesk.store.server import open_server

        open_server(self.url(self.template), bare=True).close()

    def _connect(self, database: str):
        import psycopg

        args = self.address.conninfo()
        args["dbname"] = database
        return psycopg.connect(**args, autocommit=True)

    def url(self, database: str) -> str:
        from dataclasses import replace

        return replace(self.address, database=database).url()

    def new_database(self) -> str:
        name = f"nd_{os.getpid()}_{next(self.counter)}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def drop(self, name: str) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {self.template}")
        self.admin.close()


@pytest.fixture(scope="session")
def test_server():
    """The PostgreSQL server the tests use, or a skip (a failure in CI) without one."""
    url = os.environ.get("NEEDLEDESK_TEST_SERVER", "").strip()
    if not url:
        if os.environ.get("NEEDLEDESK_REQUIRE_SERVER") == "1":
            pytest.fail("NEEDLEDESK_TEST_SERVER is not set: start scripts/pg-test-server")
        pytest.skip("no PostgreSQL test server (NEEDLEDESK_TEST_SERVER; scripts/pg-test-server)")
    server = TestServer(url)
    yield server
    server.close()


@pytest.fixture
def server_url(test_server):
    """A new, empty (un-migrated? no: migrated, not yet identified) server database's
    address; dropped after the test."""
    name = test_server.new_database()
    yield test_server.url(name)
    test_server.drop(name)


def open_store(engine: str, path: Path, request) -> Repository:
    """A new clinic store on `engine`: a file at `path`, or a new server database."""
    if engine == "sqlite":
        return Repository(open_database(path))
    from needledesk.store.server import open_server

    server = request.getfixturevalue("test_server")
    name = server.new_database()
    request.addfinalizer(lambda: server.drop(name))
    return Repository(open_server(server.url(name)))


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory):
    """No test reads or writes the data folder, log or Qt settings of whoever runs them: the
    XDG folders point into a scratch folder for the whole run."""
    import os

    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                            "XDG_CACHE_HOME", "NEEDLEDESK_DB")}
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")   # the server's thumbnails
    os.environ.pop("NEEDLEDESK_DB", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _close_log():
    """The log file a command opened is closed after each test."""
    yield
    from needledesk.logs import shutdown_logging

    shutdown_logging()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "clinic.db"


@pytest.fixture
def repo(db_path, engine, request):
    """The clinic's records: a file at `db_path`, or (`[postgresql]`) a server database."""
    repo = open_store(engine, db_path, request)
    yield repo
    repo.db.close()


@pytest.fixture
def empty(tmp_path, engine, request):
    """A second clinic database, empty: where an import or a restore lands."""
    repo = open_store(engine, tmp_path / "empty.db", request)
    yield repo
    repo.db.close()


@pytest.fixture(autouse=True)
def _no_dialog_left_open():
    """A non-blocking message a test caused (such as "Saved … Open folder") is closed after
    it, so that no later test finds another test's dialog still open and modal."""
    yield
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication, QDialog

    if QApplication.instance() is None:
        return
    for widget in QApplication.allWidgets():
        if isinstance(widget, QDialog) and widget.isWindow() and widget.isVisible():
            widget.hide()   # not close(): a changed dialog would ask, with nobody to answer
