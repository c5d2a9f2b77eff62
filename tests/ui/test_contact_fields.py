"""The client dialog checks a phone and an email as they are typed (issue 13 item 6):
obvious garbage refused with a message naming the field, an odd value already on record
left alone while other fields are edited."""

from __future__ import annotations

from factories import make_client

from needledesk.ui.client_dialog import ClientDialog


def _type(qtbot, widget, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def test_the_client_dialog_refuses_garbage_phone_and_email(qtbot):
    dialog = ClientDialog()
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.first_name, "Sofia")
    qtbot.keyClicks(dialog.last_name, "Reyes")
    qtbot.keyClicks(dialog.phone, "call me maybe")
    qtbot.keyClicks(dialog.email, "sofia@")
    assert not dialog.save_button.isEnabled()
    assert dialog.messages["phone"].text().startswith(
        "Phone: “call me maybe” is not a phone number")
    assert dialog.messages["email"].text().startswith("Email: “sofia@” is not an email address")
    _type(qtbot, dialog.phone, "+44 7700 900123")
    _type(qtbot, dialog.email, "sofia@example.org")
    assert dialog.save_button.isEnabled()
    assert not dialog.messages["phone"].text() and not dialog.messages["email"].text()


def test_an_odd_phone_on_record_does_not_block_other_edits(qtbot):
    stored = make_client(phone="ask at reception")
    dialog = ClientDialog(stored)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.notes, "prefers mornings")
    assert dialog.save_button.isEnabled()
    _type(qtbot, dialog.phone, "ring me")
    assert not dialog.save_button.isEnabled()
