"""The print path: the exported PDF itself, painted into a QPrinter, page for page."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from factories import make_client, make_course, make_screening, make_session
from pypdf import PdfReader

from needledesk.reports.build import course_record_pdf, session_summary_pdf
from needledesk.ui import printing
from needledesk.ui.printing import PdfPages, print_to_pdf_file
from needledesk.ui.session_editor import SessionEditor


@pytest.fixture
def client_with_history(ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    course = ui_repo.add_course(make_course(client.id), by="Jane Smith")
    for day in range(1, 13):
        session = make_session(client.id, course_id=course.id, anaesthetic=None,
                               started_at=datetime(2026, 1 + (day - 1) % 11, day, 10, 0),
                               notes="Tolerated well. " * 40)
        ui_repo.save_draft(session, by="Jane Smith")
        ui_repo.sign_session(session.id, session.started_at.replace(hour=11), by="Jane Smith")
    return client


def _pages(data: bytes) -> int:
    return len(PdfReader(BytesIO(data)).pages)


def test_printing_the_course_record_gives_as_many_pages_as_the_export(qtbot, ui_repo,
                                                                      client_with_history,
                                                                      tmp_path):
    exported = course_record_pdf(ui_repo, client_with_history.id)
    assert _pages(exported) >= 2
    printed = tmp_path / "printed.pdf"
    assert print_to_pdf_file(exported, str(printed)) == _pages(exported)
    assert _pages(printed.read_bytes()) == _pages(exported)


def test_printing_the_summary_gives_one_page_of_the_same_size(qtbot, ui_repo,
                                                               client_with_history, tmp_path):
    session_id = ui_repo.history(client_with_history.id)[0].id
    exported = session_summary_pdf(ui_repo, session_id)
    printed = tmp_path / "summary-printed.pdf"
    print_to_pdf_file(exported, str(printed))
    original, copy = PdfReader(BytesIO(exported)), PdfReader(printed)
    assert len(copy.pages) == len(original.pages) == 1
    for a, b in ((original.pages[0].mediabox, copy.pages[0].mediabox),):
        assert abs(float(a.width) - float(b.width)) < 2
        assert abs(float(a.height) - float(b.height)) < 2


def test_a_broken_pdf_is_a_clear_error(qtbot):
    from needledesk.errors import NeedleDeskError

    with pytest.raises(NeedleDeskError, match="could not be read"):
        PdfPages(b"%PDF-1.4 this is not really a pdf")


def test_ctrl_p_in_the_editor_previews_the_saved_summary(qtbot, ui_repo, client_with_history,
                                                         monkeypatch):
    shown = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: shown.append((title, data))))
    session = ui_repo.get_session(ui_repo.history(client_with_history.id)[0].id)
    editor = SessionEditor(ui_repo, ui_repo.settings(), client_with_history, session)
    qtbot.addWidget(editor)
    editor.print_button.click()
    (title, data), = shown
    assert title == "Summary — Ana López"
    assert "Ana López" in PdfReader(BytesIO(data)).pages[0].extract_text()


def test_printing_an_unsaved_draft_saves_it_first(qtbot, ui_repo, client_with_history,
                                                  monkeypatch):
    shown = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: shown.append(data)))
    editor = SessionEditor(ui_repo, ui_repo.settings(), client_with_history,
                           user="Jane Smith", now=lambda: datetime(2026, 11, 20, 10, 0))
    qtbot.addWidget(editor)
    editor.areas.add()
    editor.areas.rows[0].area.setCurrentText("cheeks")
    editor.print_summary()
    assert ui_repo.get_session(editor.session_id).areas[0].area == "cheeks"
    text = PdfReader(BytesIO(shown[0])).pages[0].extract_text()
    assert "Draft" in text


def test_export_pdf_writes_the_summary_with_its_default_name(qtbot, ui_repo,
                                                            client_with_history, tmp_path,
                                                            monkeypatch):
    offered = []

    def choose(parent, default_name):
        offered.append(default_name)
        return str(tmp_path / default_name)

    monkeypatch.setattr(printing, "choose_save_path", choose)
    session = ui_repo.get_session(ui_repo.history(client_with_history.id)[0].id)
    editor = SessionEditor(ui_repo, ui_repo.settings(), client_with_history, session)
    qtbot.addWidget(editor)
    editor.export_button.click()
    assert offered == [f"{session.started_at:%Y-%m-%d} López Ana summary.pdf"]
    written = tmp_path / offered[0]
    assert _pages(written.read_bytes()) == 1
    assert (written.stat().st_mode & 0o777) == 0o600


def test_course_record_export_from_the_card(qtbot, window, ui_repo, client_with_history,
                                           tmp_path, monkeypatch):
    monkeypatch.setattr(printing, "choose_save_path",
                        lambda parent, name: str(tmp_path / name))
    window.find("")
    window.open_first_match()
    window.course_export_button.click()
    (written,) = tmp_path.glob("* López Ana course record.pdf")
    assert _pages(written.read_bytes()) == _pages(course_record_pdf(ui_repo,
                                                                    client_with_history.id))
