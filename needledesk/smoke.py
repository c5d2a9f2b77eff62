"""`needledesk --smoke-test`: prove that this installation (above all the bundle) works.

Fills a temporary database with demo records, opens the real main window on it and paints
it, renders a session summary PDF to a temporary file and reads it back through QtPdf (the
print preview's path), checks the resources are found, then closes everything. One line
says the outcome: "smoke test passed: …" on stdout and exit 0, or "smoke test failed:
<reason>" on stderr and exit 1. Needs no display: without one it uses Qt's offscreen
platform, so `env -i ./needledesk --smoke-test` works on a headless build machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

#: The resources the program looks up; the bundle must carry every one.
RESOURCES = (
    ("fonts", "DejaVuSans.ttf"),
    ("fonts", "DejaVuSans-Bold.ttf"),
    ("fonts", "DejaVu-LICENSE.txt"),
    ("icons", "needledesk.png"),
)
DEMO_CLIENTS = 50
DEMO_SEED = 1
#: How long the window may take to appear and paint (a cold start of the bundle included).
EXPOSE_SECONDS = 20.0


class SmokeFailure(Exception):
    """A check that did not hold, in words."""


def run() -> int:
    """Run every check; print one line; 0 when all held, 1 with the reason otherwise."""
    started = time.monotonic()
    _use_offscreen_without_display()
    messages = _QtMessages()
    try:
        with messages:
            details = _check()
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        if not isinstance(exc, SmokeFailure | OSError):
            reason = f"{type(exc).__name__}: {reason}"
        if messages.warnings:
            reason += f" (last Qt warning: {messages.warnings[-1]})"
        print(f"smoke test failed: {_one_line(reason)}", file=sys.stderr, flush=True)
        return 1
    if messages.warnings:
        details.append(f"{len(messages.warnings)} Qt warning(s), the last: "
                       f"{messages.warnings[-1]}")
    details.append(f"{time.monotonic() - started:.1f} s")
    print("smoke test passed: " + ", ".join(details), flush=True)
    return 0


def _use_offscreen_without_display() -> None:
    """On X11/Wayland systems with no display, Qt's offscreen platform (before the app)."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _check() -> list[str]:
    from needledesk import __version__
    from needledesk.paths import resource_path

    missing = [str(resource_path(*parts)) for parts in RESOURCES
               if not resource_path(*parts).is_file()]
    if missing:
        raise SmokeFailure(f"resources not found: {', '.join(missing)}")

    with tempfile.TemporaryDirectory(prefix="needledesk-smoke-",
                                     ignore_cleanup_errors=True) as folder:
        folder = Path(folder)
        db_path = folder / "smoke.db"
        session_id = _fill(db_path)
        window_details = _open_window(db_path, folder / "window-state.ini")
        pdf_details = _summary_pdf(db_path, session_id, folder / "summary.pdf")
    bundled = "bundle" if getattr(sys, "frozen", False) else "source"
    return [f"NeedleDesk {__version__} ({bundled})", *window_details, *pdf_details,
            f"{len(RESOURCES)} resources found"]


def _fill(db_path: Path) -> str:
    """Demo records in a fresh file; returns the id of one signed session."""
    from needledesk.demo import fill
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository

    db = open_database(db_path)
    try:
        repo = Repository(db, user="smoke test")
        added = fill(repo, clients=DEMO_CLIENTS, seed=DEMO_SEED).added
        if added.get("clients") != DEMO_CLIENTS:
            raise SmokeFailure(f"demo wrote {added.get('clients')} clients, "
                               f"not {DEMO_CLIENTS}")
        client = repo.search_clients("")[0]
        sessions = repo.sessions(client.id)
        if not sessions:
            raise SmokeFailure(f"demo client {client.full_name} has no sessions")
        return sessions[-1].id
    finally:
        db.close()


def _open_window(db_path: Path, state_path: Path) -> list[str]:
    """The main window on the file, shown, painted, listing the clients, closed."""
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication

    from needledesk.ui.app import application, open_main_window

    app = application()
    window = open_main_window(db_path, QSettings(str(state_path), QSettings.Format.IniFormat))
    try:
        window.show()
        deadline = time.monotonic() + EXPOSE_SECONDS
        while not (window.windowHandle() and window.windowHandle().isExposed()):
            if time.monotonic() > deadline:
                raise SmokeFailure(f"the main window was not shown within {EXPOSE_SECONDS:.0f} s")
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()
        picture = window.grab()   # paints every widget, as the first paint on screen does
        if picture.isNull() or picture.width() < 100 or picture.height() < 100:
            raise SmokeFailure(f"the main window painted as {picture.width()}x"
                               f"{picture.height()} pixels")
        rows = window.client_model.rowCount()
        if rows != DEMO_CLIENTS:
            raise SmokeFailure(f"the client list shows {rows} rows, not {DEMO_CLIENTS}")
        size = f"{window.width()}x{window.height()}"
    finally:
        closed = window.close()
        window.repo.db.close()
        window.deleteLater()
        app.processEvents()
    if not closed:
        raise SmokeFailure("the main window refused to close")
    return [f"window {size} painted on {QGuiApplication.platformName()}",
            f"{rows} clients listed"]


def _summary_pdf(db_path: Path, session_id: str, pdf_path: Path) -> list[str]:
    """A session summary written to a file, read back, and rendered by QtPdf."""
    from PySide6.QtCore import QSize, Qt

    from needledesk.reports.build import session_summary_pdf
    from needledesk.store.database import open_database
    from needledesk.store.repository import Repository
    from needledesk.transfer import write_private
    from needledesk.ui.printing import PdfPages

    db = open_database(db_path)
    try:
        write_private(pdf_path, session_summary_pdf(Repository(db), session_id))
    finally:
        db.close()
    data = pdf_path.read_bytes()
    if not data.startswith(b"%PDF"):
        raise SmokeFailure(f"the summary PDF starts with {data[:8]!r}, not %PDF "
                           f"({len(data)} bytes)")
    pages = PdfPages(data)
    image = pages.document.render(0, QSize(300, 424))
    if image.isNull():
        raise SmokeFailure("QtPdf could not render the summary's first page")
    average = image.scaled(1, 1, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation).pixelColor(0, 0)
    if average.lightness() >= 255:
        raise SmokeFailure("the summary's first page renders blank")
    return [f"summary PDF {len(data):,} bytes, {pages.count} page(s) rendered by QtPdf"]


class _QtMessages:
    """Collects Qt's warnings while the checks run, so the outcome stays one line; a fatal
    message (Qt aborts right after it) is printed as the failure's reason first."""

    def __init__(self):
        self.warnings: list[str] = []
        self._previous = None

    def __enter__(self):
        from PySide6.QtCore import qInstallMessageHandler

        self._previous = qInstallMessageHandler(self._handle)
        return self

    def __exit__(self, *exc_info):
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(self._previous)
        return False

    def _handle(self, kind, _context, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        if kind == QtMsgType.QtFatalMsg:
            print(f"smoke test failed: Qt: {_one_line(message)}", file=sys.stderr, flush=True)
        elif kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg):
            self.warnings.append(_one_line(message))


def _one_line(text: str) -> str:
    return " ".join(text.split())
