"""File › Consent forms… (issue 15): the clinic's treatment and photo consent forms, each
saved as a new version; older versions viewable read-only; consents already signed keep
the text they were signed under; the photo form's uses cannot be removed."""

from __future__ import annotations

import pytest
from factories import make_client, make_consent
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QDialog

from needledesk.domain.consent_forms import TREATMENT_TITLE, default_template
from needledesk.domain.model import PHOTO_USES, ConsentKind
from needledesk.store.check import check_database
from needledesk.ui.consent_forms_dialog import (
    GEOMETRY_KEY,
    SIGNED_STAY_TEXT,
    ConsentFormsDialog,
)

NEW_TEXT = "Microneedling makes fine punctures.\n\nResults take several sessions."


@pytest.fixture
def asked(monkeypatch, discard_when_closed_after_a_test):
    """Answer the discard question with `asked.answer`, recording each time it is asked."""
    class Asked(list):
        answer = False

    asked = Asked()
    monkeypatch.setattr(ConsentFormsDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append(parent) or asked.answer))
    from needledesk.ui.consent_forms_dialog import FormEditor

    monkeypatch.setattr(FormEditor, "ask_discard",
                        staticmethod(lambda parent: asked.append(parent) or asked.answer))
    return asked


@pytest.fixture(autouse=True)
def discard_when_closed_after_a_test(monkeypatch):
    """A form left changed by a test is closed by pytest-qt afterwards: discarded without a
    real question (the `asked` fixture answers it itself)."""
    from needledesk.ui.consent_forms_dialog import FormEditor

    for owner in (ConsentFormsDialog, FormEditor):
        monkeypatch.setattr(owner, "ask_discard", staticmethod(lambda parent: True))


@pytest.fixture
def dialog(qtbot, ui_repo, state):
    dialog = ConsentFormsDialog(ui_repo, user="Jane Smith", state=state)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _rows(editor):
    return [(editor.statements.item(r, 0).text(),
             editor.statements.item(r, 1).checkState() == Qt.CheckState.Checked)
            for r in range(editor.statements.rowCount())]


def test_the_shipped_forms_are_shown_and_marked_until_the_clinic_saves_one(dialog):
    treatment = dialog.editors[ConsentKind.TREATMENT]
    assert treatment.shipped and treatment.editing
    assert treatment.title.text() == TREATMENT_TITLE
    assert "shipped with NeedleDesk" in treatment.status.text()
    assert treatment.version_list.count() == 1
    assert "shipped with NeedleDesk" in treatment.version_list.item(0).text()
    shipped = default_template(ConsentKind.TREATMENT)
    assert [s for s in treatment.statement_list()] == list(shipped.statements)
    assert SIGNED_STAY_TEXT in [w.text() for w in dialog.findChildren(type(treatment.status))]
    assert "Consents already signed never change" in SIGNED_STAY_TEXT
    photo = dialog.editors[ConsentKind.PHOTO]
    assert [text for text, _ in _rows(photo)] == list(PHOTO_USES.values())
    assert [required for _, required in _rows(photo)] == [False] * 4


def test_editing_and_saving_makes_version_2_and_version_1_stays_viewable(dialog, ui_repo):
    editor = dialog.editors[ConsentKind.TREATMENT]
    editor.save_button.click()                         # the shipped form stored as version 1
    assert [t.version for t in ui_repo.consent_templates(ConsentKind.TREATMENT)] == [1]
    editor.body.setPlainText(NEW_TEXT)
    editor.add_statement()
    editor.statements.item(editor.statements.rowCount() - 1, 0).setText(
        "I will not use a sunbed for four weeks.")
    assert dialog.is_dirty()
    saved = dialog.save()
    assert saved is not None and saved.version == 2
    v1, v2 = ui_repo.consent_templates(ConsentKind.TREATMENT)
    assert (v2.body, v2.created_by) == (NEW_TEXT, "Jane Smith")
    assert v2.statements[-1].text == "I will not use a sunbed for four weeks."
    assert v2.statements[-1].required and v2.statements[-1].key not in {
        s.key for s in v1.statements}
    assert v1.body == default_template(ConsentKind.TREATMENT).body
    assert "Saved as version 2" in editor.message.text()
    assert not dialog.is_dirty()
    # the list: newest first, the current in use; version 1 opens read-only
    assert editor.version_list.count() == 2
    assert editor.version_list.item(0).text().startswith("Version 2 — saved ")
    assert editor.version_list.item(0).text().endswith("by Jane Smith (in use)")
    editor.version_list.setCurrentRow(1)
    assert editor.body.toPlainText() == v1.body
    assert editor.title.isReadOnly() and editor.body.isReadOnly()
    assert not editor.save_button.isEnabled() and not editor.add_button.isEnabled()
    assert "older version, shown read-only" in editor.status.text()
    editor.body.setPlainText("typed into an old version")   # read-only: nothing to save
    assert dialog.save() is None
    assert len(ui_repo.consent_templates(ConsentKind.TREATMENT)) == 2
    editor.version_list.setCurrentRow(0)
    assert editor.body.toPlainText() == NEW_TEXT and not editor.body.isReadOnly()


def test_a_consent_signed_under_v1_keeps_its_text_after_v2_is_saved(dialog, ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    shipped = default_template(ConsentKind.TREATMENT)
    signed = ui_repo.add_consent(make_consent(client.id, shipped), by="Jane Smith",
                                 template=shipped)
    dialog.close()
    again = ConsentFormsDialog(ui_repo, user="Jane Smith")   # opened after the signing
    editor = again.editors[ConsentKind.TREATMENT]
    assert not editor.shipped and "Version 1" in editor.version_list.item(0).text()
    editor.title.setText("Consent to microneedling (revised)")
    editor.body.setPlainText(NEW_TEXT)
    assert again.save().version == 2
    kept = ui_repo.get_consent(signed.id)
    assert (kept.title, kept.body, kept.statements) == (shipped.title, shipped.body,
                                                        shipped.statements)
    assert (kept.template_id, kept.template_version) == (shipped.id, 1)
    assert ui_repo.current_template(ConsentKind.TREATMENT).body == NEW_TEXT
    assert check_database(ui_repo.db) == []
    again.done(QDialog.DialogCode.Rejected)
    again.deleteLater()


def test_the_photo_forms_uses_cannot_be_removed_nor_made_compulsory(dialog, ui_repo):
    dialog.tabs.setCurrentIndex(1)
    editor = dialog.editor()
    assert editor.kind == ConsentKind.PHOTO
    for row in range(4):
        editor.statements.setCurrentCell(row, 0)
        assert not editor.remove_button.isEnabled()
        editor.remove_statement()                       # even when asked directly
        assert editor.statements.rowCount() == 4
        flags = editor.statements.item(row, 1).flags()
        assert not flags & Qt.ItemFlag.ItemIsUserCheckable
    assert "cannot be removed" in editor.message.text()
    # a statement of the clinic's own can be added and removed again
    editor.add_statement()
    editor.statements.item(4, 0).setText("I may withdraw at any time.")
    editor.statements.setCurrentCell(4, 0)
    assert editor.remove_button.isEnabled()
    editor.remove_statement()
    assert editor.statements.rowCount() == 4
    # a use's words may change; it stays, by its key, and stays the client's choice
    editor.statements.item(3, 0).setText("Used in the clinic's leaflets and website")
    saved = editor.save()
    assert saved is not None and saved.version == 1
    (stored,) = ui_repo.consent_templates(ConsentKind.PHOTO)
    assert [s.key for s in stored.statements] == list(PHOTO_USES)
    assert stored.statements[3].text == "Used in the clinic's leaflets and website"
    assert not any(s.required for s in stored.statements)


def test_bad_forms_are_explained_in_plain_words_and_nothing_is_written(dialog, ui_repo):
    editor = dialog.editors[ConsentKind.TREATMENT]
    editor.title.setText("  ")
    editor.add_statement()                             # left empty
    assert editor.save() is None
    text = editor.message.text()
    assert text.startswith("Not saved: ")
    assert "Form title is required" in text
    assert f"Statement {editor.statements.rowCount()} is required" in text
    for leak in ("statements[", "title:", "None", "_"):
        assert leak not in text, leak
    assert ui_repo.consent_templates(ConsentKind.TREATMENT) == []
    # every tick cleared: a treatment consent needs one the client must tick
    editor.title.setText("Consent")
    editor.statements.removeRow(editor.statements.rowCount() - 1)
    for row in range(editor.statements.rowCount()):
        editor.statements.item(row, 1).setCheckState(Qt.CheckState.Unchecked)
    assert editor.save() is None
    assert "at least one statement the client must tick" in editor.message.text()
    assert ui_repo.consent_templates(ConsentKind.TREATMENT) == []


def test_saving_an_unchanged_form_says_nothing_was_changed(dialog, ui_repo):
    editor = dialog.editors[ConsentKind.TREATMENT]
    assert editor.save().version == 1
    assert editor.save() is None
    assert "Nothing was changed" in editor.message.text()
    # the same text typed again is no change either (the store says so too)
    editor.body.setPlainText(editor.body.toPlainText() + "\n")
    assert editor.save() is None
    assert len(ui_repo.consent_templates(ConsentKind.TREATMENT)) == 1


def test_ctrl_s_saves_the_shown_form_by_keyboard(dialog, qtbot, ui_repo):
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    editor = dialog.editors[ConsentKind.TREATMENT]
    assert QApplication.focusWidget() is editor.title
    qtbot.keyClick(editor.title, Qt.Key.Key_End)
    qtbot.keyClicks(editor.title, " (2027)")
    qtbot.keyClick(editor.title, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    (stored,) = ui_repo.consent_templates(ConsentKind.TREATMENT)
    assert stored.title == TREATMENT_TITLE + " (2027)"


def test_escape_with_changes_asks_before_discarding(dialog, qtbot, asked, ui_repo):
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)          # unchanged: closes at once
    assert asked == [] and not dialog.isVisible()
    dialog.show()
    dialog.editors[ConsentKind.PHOTO].body.setPlainText("Photos are kept.")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked == [dialog] and dialog.isVisible()    # kept
    asked.answer = True
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(asked) == 2 and not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert ui_repo.consent_templates() == []


def test_the_size_is_remembered(qtbot, ui_repo, state):
    first = ConsentFormsDialog(ui_repo, state=state)
    qtbot.addWidget(first)
    first.show()
    first.resize(QSize(700, 500))
    first.done(QDialog.DialogCode.Rejected)
    assert state.value(GEOMETRY_KEY) is not None
    second = ConsentFormsDialog(ui_repo, state=state)
    qtbot.addWidget(second)
    assert second.size() == QSize(700, 500)


def test_file_menu_opens_the_consent_forms(window, monkeypatch):
    seen = []
    monkeypatch.setattr(ConsentFormsDialog, "show_for", classmethod(
        lambda cls, parent, repo, **kw: seen.append((parent, repo))))
    assert window.consent_forms_action.text() == "Consent f&orms…"
    window.consent_forms_action.trigger()
    assert seen == [(window, window.repo)]


def test_opening_an_old_version_with_edits_asks_first(dialog, ui_repo, asked):
    editor = dialog.editors[ConsentKind.TREATMENT]
    editor.save()
    editor.body.setPlainText(NEW_TEXT)
    editor.save()                                          # versions 1 and 2
    editor.body.setPlainText("Unsaved words.")
    editor.version_list.setCurrentRow(1)                   # kept: back on version 2's edits
    assert asked == [editor]
    assert editor.version_list.currentRow() == 0 and editor.editing
    assert editor.body.toPlainText() == "Unsaved words."
    asked.answer = True
    editor.version_list.setCurrentRow(1)                   # discarded: version 1 shown
    assert len(asked) == 2 and not editor.editing
    assert editor.body.toPlainText() == default_template(ConsentKind.TREATMENT).body
    editor.version_list.setCurrentRow(0)
    assert editor.body.toPlainText() == NEW_TEXT
