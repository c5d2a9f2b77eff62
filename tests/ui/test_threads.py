"""Background work on real threads: results come back on the UI thread, and never to a
window that was closed meanwhile. These tests run the real thread pool, not the synchronous
shortcut the other window tests use."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from factories import make_client, make_session
from PySide6.QtCore import QEvent, QThread
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtWidgets import QApplication

from needledesk.reports import build
from needledesk.ui import printing
from needledesk.ui.session_editor import SessionEditor
from needledesk.ui.tasks import Tasks


@pytest.fixture
def signed_session(ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    session = make_session(client.id, started_at=datetime(2026, 11, 20, 10, 0))
    ui_repo.save_draft(session, by="Jane Smith")
    return client, ui_repo.get_session(session.id)


@pytest.fixture
def gated_summary(monkeypatch):
    """The summary PDF waits for the test's word before it is built (on the worker)."""
    gate, started, threads = threading.Event(), threading.Event(), []
    real = build.session_summary_pdf

    def slow(repo, session_id):
        threads.append(QThread.currentThread())
        started.set()
        assert gate.wait(10), "the test never released the PDF"
        return real(repo, session_id)

    monkeypatch.setattr(build, "session_summary_pdf", slow)
    return gate, started, threads


def _close_and_delete(qtbot, widget) -> None:
    gone = []
    widget.destroyed.connect(lambda *_: gone.append(True))
    widget.close()
    widget.deleteLater()
    qtbot.waitUntil(lambda: bool(gone), timeout=5000)


def test_a_result_comes_back_on_the_ui_thread(qtbot, real_threads):
    seen = []
    Tasks.run(lambda: QThread.currentThread(),
              lambda worker: seen.append((worker, QThread.currentThread())),
              lambda exc: seen.append(exc))
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    (worker, caller), = seen
    assert worker is not QApplication.instance().thread()
    assert caller is QApplication.instance().thread()


def test_a_failure_comes_back_as_the_exception(qtbot, real_threads):
    errors = []

    def boom():
        raise ValueError("no paper")

    Tasks.run(boom, lambda _: errors.append("done"), errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError)


def test_closing_the_editor_while_its_pdf_builds_touches_nothing(
        qtbot, ui_repo, signed_session, gated_summary, real_threads, monkeypatch):
    gate, started, threads = gated_summary
    client, session = signed_session
    previews = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: previews.append(parent)))
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, session)
    editor.show()
    qtbot.waitExposed(editor)
    editor.print_button.click()
    assert started.wait(5)
    assert threads[0] is not QApplication.instance().thread()
    _close_and_delete(qtbot, editor)
    gate.set()
    qtbot.waitUntil(lambda: Tasks.pending() == 0, timeout=10_000)
    QApplication.processEvents()
    assert previews == []  # the closed editor got no callback (and nothing raised)
    assert QApplication.overrideCursor() is None  # the busy cursor did not stay behind


def test_an_open_editor_gets_its_pdf_from_the_worker(qtbot, ui_repo, signed_session,
                                                     gated_summary, real_threads,
                                                     monkeypatch):
    gate, started, _ = gated_summary
    client, session = signed_session
    previews = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: previews.append((parent, data[:5]))))
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, session)
    qtbot.addWidget(editor)
    editor.print_button.click()
    gate.set()
    qtbot.waitUntil(lambda: bool(previews), timeout=10_000)
    assert previews == [(editor, b"%PDF-")]
    assert QApplication.overrideCursor() is None


def test_closing_the_main_window_while_the_course_record_builds(
        qtbot, ui_repo, state, signed_session, real_threads, monkeypatch):
    from needledesk.ui.main_window import MainWindow

    gate, started = threading.Event(), threading.Event()
    real = build.course_record_pdf

    def slow(repo, client_id):
        started.set()
        gate.wait(10)
        return real(repo, client_id)

    monkeypatch.setattr(build, "course_record_pdf", slow)
    previews = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: previews.append(parent)))
    window = MainWindow(ui_repo, ui_repo.settings(), state)
    window.show()
    qtbot.waitExposed(window)
    window.find("")
    window.open_first_match()
    window.course_print_button.click()
    assert started.wait(5)
    _close_and_delete(qtbot, window)
    gate.set()
    qtbot.waitUntil(lambda: Tasks.pending() == 0, timeout=10_000)
    QApplication.processEvents()
    assert previews == []


def test_a_closed_preview_is_freed(qtbot, window, monkeypatch, signed_session, ui_repo):
    _client, session = signed_session
    monkeypatch.setattr(QPrintPreviewDialog, "exec", lambda self: 0)
    data = build.session_summary_pdf(ui_repo, session.id)
    for _ in range(3):
        printing.preview(window, data, "Summary")
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert window.findChildren(QPrintPreviewDialog) == []
