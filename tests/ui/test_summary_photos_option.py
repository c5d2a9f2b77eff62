"""The session editor's "With today's photos" box: off until chosen, remembered on this PC,
reached by keyboard; ticked, the printed and exported summary has its photo page when the
client's photo consent allows showing photos, and says under the form why not otherwise."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import PhotoView
from needledesk.ui.session_editor import SessionEditor
from tests.photo_helpers import client_with_session, make_jpeg, sign_photo_consent

BY = "Jane Smith"


@pytest.fixture
def photographed(ui_repo):
    client, session = client_with_session(ui_repo, started_at=datetime(2026, 11, 20, 10, 0),
                                          anaesthetic=None)
    for k, view in enumerate((PhotoView.FRONT, PhotoView.LEFT_45)):
        ui_repo.add_photo(session.id, make_jpeg(120 + 10 * k, 160, seed=k + 1), view=view,
                          by=BY, now=datetime(2026, 11, 20, 10, 40))
    return client, ui_repo.get_session(session.id)


def _editor(qtbot, ui_repo, photographed, state: QSettings, monkeypatch) -> tuple:
    shown: list[bytes] = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: shown.append(data)))
    client, session = photographed
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, session, state=state)
    qtbot.addWidget(editor)
    return editor, shown


def _pages(data: bytes) -> int:
    return len(PdfReader(BytesIO(data)).pages)


def test_the_box_is_off_until_ticked_and_then_remembered(qtbot, ui_repo, photographed,
                                                         state, monkeypatch):
    editor, shown = _editor(qtbot, ui_repo, photographed, state, monkeypatch)
    assert not editor.summary_photos.isChecked()
    editor.print_button.click()
    assert _pages(shown[-1]) == 1

    editor.summary_photos.setChecked(True)
    editor.print_button.click()
    assert _pages(shown[-1]) == 2
    assert "Today's photos" in PdfReader(BytesIO(shown[-1])).pages[1].extract_text()
    assert not editor.general_message.isVisible()

    again, _shown = _editor(qtbot, ui_repo, photographed, state, monkeypatch)
    assert again.summary_photos.isChecked()


def test_alt_h_ticks_the_box_and_tab_reaches_it(qtbot, ui_repo, photographed, state,
                                                monkeypatch):
    editor, _shown = _editor(qtbot, ui_repo, photographed, state, monkeypatch)
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    editor.export_button.setFocus()
    qtbot.keyClick(editor.export_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is editor.summary_photos
    editor.print_button.setFocus()
    # a button's mnemonic clicks it the way a mouse would, a moment later (animateClick)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(editor.summary_photos.isChecked, timeout=2000)
    assert state.value("summary_photos", False, type=bool)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not editor.summary_photos.isChecked(), timeout=2000)


def test_without_consent_to_be_shown_photos_the_summary_is_one_page_and_says_why(
        qtbot, ui_repo, photographed, state, monkeypatch):
    client, _session = photographed
    sign_photo_consent(ui_repo, client.id, uses=("photo_use_record",),
                       signed_at=datetime(2026, 11, 21, 9, 0))
    editor, shown = _editor(qtbot, ui_repo, photographed, state, monkeypatch)
    editor.summary_photos.setChecked(True)
    editor.print_button.click()
    assert _pages(shown[-1]) == 1
    assert editor.general_message.isVisibleTo(editor)
    assert editor.general_message.text() == (
        "Today's photos are left out of the summary: the client's photo consent of "
        "21 Nov 2026 does not allow showing photos to the client.")


def test_the_exported_summary_has_the_photo_page_too(qtbot, ui_repo, photographed, state,
                                                     monkeypatch, tmp_path):
    editor, _shown = _editor(qtbot, ui_repo, photographed, state, monkeypatch)
    saved: list[bytes] = []
    monkeypatch.setattr(SessionEditor, "export_pdf", staticmethod(
        lambda parent, data, name, db_path, folders=(): saved.append(data)))
    editor.summary_photos.setChecked(True)
    editor.export_button.click()
    assert saved and _pages(saved[-1]) == 2
