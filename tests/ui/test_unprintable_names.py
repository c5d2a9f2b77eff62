"""Issue 13 item 8: a name this PC has no font for is not printed as empty boxes in silence:
printing or exporting says so first, naming the text and what to install."""

from __future__ import annotations

from io import BytesIO

import pytest
from factories import make_client, make_session
from pypdf import PdfReader

from needledesk.reports import fonts
from needledesk.ui import printing
from needledesk.ui.session_editor import SessionEditor

# Adlam, a West African alphabet: no font on this machine or CI has it.
ADLAM = "\U0001e900\U0001e922\U0001e934"


def _editor(qtbot, ui_repo, first, last):
    client = ui_repo.add_client(make_client(first_name=first, last_name=last), by="Jane Smith")
    session = make_session(client.id)
    ui_repo.save_draft(session, by="Jane Smith")
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, ui_repo.get_session(session.id))
    qtbot.addWidget(editor)
    return editor


def test_printing_a_name_no_font_has_says_so_before_the_preview(qtbot, ui_repo, monkeypatch,
                                                                 no_real_modals):
    fonts.register_fonts()
    if fonts.font_for(ord(ADLAM[0])) is not None:
        pytest.skip(f"this machine has a font for Adlam ({fonts.files})")
    order = no_real_modals
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: order.append(("preview", data))))
    editor = _editor(qtbot, ui_repo, "Aïcha", ADLAM)
    editor.print_button.click()
    warning, (shown, data) = order
    assert warning.startswith(f"warning: This PC has no font for the Adlam letters in "
                              f"'Aïcha {ADLAM}'")
    assert "empty boxes" in warning
    assert shown == "preview" and PdfReader(BytesIO(data)).pages  # the preview still shows


def test_exporting_a_name_every_font_covers_says_nothing_extra(qtbot, ui_repo, tmp_path,
                                                               monkeypatch, no_real_modals):
    monkeypatch.setattr(printing, "choose_save_path",
                        lambda parent, name: str(tmp_path / name))
    editor = _editor(qtbot, ui_repo, "محمد", "Фёдорова")
    editor.export_button.click()
    assert list(tmp_path.glob("*.pdf"))
    assert not [m for m in no_real_modals if str(m).startswith("warning")]
