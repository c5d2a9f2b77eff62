"""The session editor driven through its real widgets, saving to a real file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from factories import make_client, make_course, make_screening, make_session
from PySide6.QtCore import Qt

from needledesk.domain.face_chart import zone_of
from needledesk.ui.session_editor import SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)


def _press(qtbot, editor, key) -> None:
    """A keyboard shortcut as the practitioner types it, into the active editor window."""
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)  # shortcuts reach the active window only
    qtbot.keyClick(editor, key, Qt.KeyboardModifier.ControlModifier)


def _add_area(editor, qtbot, name: str, depth: float, passes: int = 3):
    editor.areas.add_button.click()
    row = editor.areas.rows[-1]
    row.area.setCurrentText(name)
    row.depth.setValue(depth)
    row.passes.setValue(passes)
    return row


def test_log_a_full_session_through_the_editor(qtbot, editor_for, ui_repo, client):
    editor = editor_for()
    assert not editor.save_button.isEnabled(), "no area yet: nothing to save"
    editor.practitioner.setCurrentText("Jane Smith")
    editor.device_model.setText("Dermapen 4")
    editor.cartridge.setText("16-pin")
    editor.cartridge_lot.setText("L2311A")
    editor.anaesthetic.setCurrentText("LMX4")
    editor.clock["now"] = datetime(2026, 11, 20, 9, 30)
    editor.applied.button.click()
    editor.clock["now"] = datetime(2026, 11, 20, 10, 25)
    editor.removed.button.click()
    assert editor.contact.text().startswith("55 min")
    _add_area(editor, qtbot, "cheeks", 1.5)
    row = _add_area(editor, qtbot, "forehead", 0.5, passes=2)
    row.endpoint.setCurrentText("even erythema")
    editor.serums.add_button.click()
    editor.serums.rows[0].product.setText("Hyaluronic acid 1%")
    editor.serums.rows[0].lot.setText("HA-0923")
    editor.combined.setText("chemical peel")
    editor.reactions.add_button.click()
    editor.reactions.rows[0].severity.setCurrentIndex(2)
    editor.aftercare.item(0).setCheckState(Qt.CheckState.Checked)
    editor.fee.setText("250")
    editor.notes.setPlainText("Tolerated well.")
    assert editor.save_button.isEnabled()

    _press(qtbot, editor, Qt.Key.Key_S)
    stored = ui_repo.get_session(editor.session_id)
    assert stored.device.cartridge_lot == "L2311A"
    assert stored.anaesthetic.contact_minutes == 55
    assert [(a.area, a.depth_mm, a.passes) for a in stored.areas] == [
        ("cheeks", 1.5, 3), ("forehead", 0.5, 2)]
    assert stored.areas[1].endpoint == "even erythema"
    assert [(s.product, s.lot) for s in stored.serums] == [("Hyaluronic acid 1%", "HA-0923")]
    assert stored.combined_with == ["chemical peel"]
    assert [(r.kind, r.severity) for r in stored.reactions] == [("erythema", 2)]
    assert stored.aftercare == [editor.settings.aftercare[0]]
    assert str(stored.fee.amount) == "250.00" and stored.fee.currency == "USD"
    assert stored.notes == "Tolerated well." and not stored.is_signed
    assert not editor.is_dirty()


def test_sign_off_then_amend_with_a_reason_keeps_the_original(qtbot, editor_for, ui_repo,
                                                              client, monkeypatch):
    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    editor = editor_for(ui_repo.get_session(ui_repo.history(client.id)[0].id))
    editor.clock["now"] = datetime(2026, 11, 20, 11, 10)
    editor.sign_button.click()
    stored = ui_repo.get_session(editor.session_id)
    assert stored.signed_at == datetime(2026, 11, 20, 11, 10)
    assert not editor.device_model.isEnabled(), "a signed session is read-only"
    assert editor.amend_button.isVisible() and not editor.save_button.isVisible()

    editor.amend_button.click()
    assert editor.cartridge_lot.isEnabled()
    editor.cartridge_lot.setText("L2311B")
    monkeypatch.setattr(SessionEditor, "ask_amendment",
                        staticmethod(lambda parent, by: (by, "lot misread on the box")))
    editor.clock["now"] = datetime(2026, 11, 21, 8, 40)
    editor.save_button.click()

    stored = ui_repo.get_session(editor.session_id)
    assert stored.device.cartridge_lot == "L2311B"
    assert stored.signed_at == datetime(2026, 11, 20, 11, 10)
    (amendment,) = stored.amendments
    assert (amendment.by, amendment.reason) == ("Jane Smith", "lot misread on the box")
    assert amendment.changes == {"device.cartridge_lot": ["L2311A", "L2311B"]}
    assert editor.history_box.isVisible() or not editor.isVisible()
    history = editor.history.toPlainText()
    assert "L2311A → L2311B" in history and "lot misread on the box" in history
    assert not editor.cartridge_lot.isEnabled(), "read-only again after the amendment"


def test_amendment_without_a_reason_changes_nothing(qtbot, editor_for, ui_repo, client,
                                                    monkeypatch):
    session = ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    ui_repo.sign_session(session.id, datetime(2026, 11, 20, 11, 0), by="Jane Smith")
    editor = editor_for(ui_repo.get_session(session.id))
    editor.amend_button.click()
    editor.notes.setPlainText("changed")
    monkeypatch.setattr(SessionEditor, "ask_amendment", staticmethod(lambda parent, by: None))
    editor.save_button.click()
    assert ui_repo.get_session(session.id).notes == ""
    assert ui_repo.get_session(session.id).amendments == []


def test_out_of_range_depth_shows_its_message_and_nothing_is_saved(qtbot, editor_for,
                                                                   ui_repo, client):
    editor = editor_for()
    row = _add_area(editor, qtbot, "cheeks", 3.5)
    assert row.message.isVisibleTo(editor)
    assert row.message.text() == "Depth (cheeks) 3.5 is outside 0.1–3.0 mm"
    assert row.message.kind == "error"
    assert not editor.save_button.isEnabled()
    _press(qtbot, editor, Qt.Key.Key_S)
    assert ui_repo.history(client.id) == []
    row.depth.setValue(3.0)
    assert row.message.kind != "error" and editor.save_button.isEnabled()


def test_depth_above_the_area_guideline_is_amber_and_acknowledged(qtbot, editor_for,
                                                                  ui_repo, client,
                                                                  monkeypatch):
    editor = editor_for()
    row = _add_area(editor, qtbot, "periorbital", 1.0)
    assert row.message.kind == "warning"
    assert "usual 0.25–0.5 mm for periorbital" in row.message.text()
    asked = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: asked.append(warnings) or "deep lines, discussed"))
    assert editor.save()
    (warnings,) = asked
    assert [w.code for w in warnings] == ["depth: periorbital 1 mm"]
    stored = ui_repo.get_session(editor.session_id)
    assert [w.warning for w in stored.acknowledged_warnings] == [
        "depth: periorbital 1 mm — deep lines, discussed"]


def test_declining_a_guideline_saves_nothing(qtbot, editor_for, ui_repo, client, monkeypatch):
    editor = editor_for()
    _add_area(editor, qtbot, "nose", 2.0)
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: None))
    assert not editor.save()
    assert ui_repo.history(client.id) == []


def test_flagged_screening_is_acknowledged_at_start_and_recorded(qtbot, ui_repo, editor_for,
                                                                 monkeypatch):
    flagged = ui_repo.add_client(make_client(first_name="Bea"), by="Jane Smith")
    screening = make_screening(flagged.id)
    screening.answers["blood_thinners_or_nsaids"] = True
    ui_repo.add_screening(screening, by="Jane Smith")
    editor = SessionEditor(ui_repo, ui_repo.settings(), flagged, user="Jane Smith",
                           now=lambda: NOW)
    qtbot.addWidget(editor)
    seen = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: seen.extend(w.code for w in warnings) or ""))
    assert editor.acknowledge_at_start()
    assert seen == ["screening: blood_thinners_or_nsaids"]
    _add_area(editor, qtbot, "cheeks", 1.0)
    assert editor.save()
    (ack,) = ui_repo.get_session(editor.session_id).acknowledged_warnings
    assert (ack.warning, ack.by, ack.at) == ("screening: blood_thinners_or_nsaids",
                                             "Jane Smith", NOW)


def test_no_screening_blocks_until_acknowledged(qtbot, ui_repo, monkeypatch):
    new = ui_repo.add_client(make_client(first_name="Cleo"), by="Jane Smith")
    editor = SessionEditor(ui_repo, ui_repo.settings(), new, user="Jane Smith", now=lambda: NOW)
    qtbot.addWidget(editor)
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: None))
    assert not editor.acknowledge_at_start()


def test_repeat_last_session_with_the_fewest_keystrokes(qtbot, editor_for, ui_repo, client):
    course = ui_repo.add_course(make_course(client.id), by="Jane Smith")
    previous = make_session(client.id, course_id=course.id,
                            started_at=datetime(2026, 10, 2, 14, 0), notes="first visit")
    previous.anaesthetic.applied_at = datetime(2026, 10, 2, 13, 0)
    previous.anaesthetic.removed_at = datetime(2026, 10, 2, 13, 50)
    ui_repo.save_draft(previous, by="Jane Smith")
    ui_repo.sign_session(previous.id, datetime(2026, 10, 2, 15, 0), by="Jane Smith")

    editor = editor_for()
    _press(qtbot, editor, Qt.Key.Key_R)   # repeat
    assert "Copied from 2 Oct 2026" in editor.copied.text()
    assert "Not copied: times, reactions, notes" in editor.copied.text()
    editor.clock["now"] = datetime(2026, 11, 20, 9, 40)
    editor.applied.button.click()                                             # applied now
    editor.clock["now"] = datetime(2026, 11, 20, 10, 25)
    editor.removed.button.click()                                             # removed now
    _press(qtbot, editor, Qt.Key.Key_S)   # save

    stored = ui_repo.get_session(editor.session_id)
    assert stored.started_at == NOW
    assert stored.course_id == course.id
    assert stored.device == previous.device
    # (each with the face-chart zone its name is drawn in: the previous one had none yet)
    assert stored.areas == [replace(a, zone=zone_of(a)) for a in previous.areas]
    assert stored.serums == previous.serums
    assert stored.combined_with == previous.combined_with
    assert stored.aftercare == previous.aftercare
    assert stored.fee == previous.fee
    assert stored.anaesthetic.product == "LMX4"
    assert (stored.anaesthetic.applied_at, stored.anaesthetic.removed_at) == (
        datetime(2026, 11, 20, 9, 40), datetime(2026, 11, 20, 10, 25))
    assert stored.reactions == [] and stored.notes == ""
    assert ui_repo.get_session(previous.id).signed_at is not None


def test_closing_with_unsaved_changes_asks_first(qtbot, editor_for, ui_repo, client,
                                                 monkeypatch):
    editor = editor_for()
    editor.show()
    asked = []
    monkeypatch.setattr(SessionEditor, "ask_unsaved",
                        staticmethod(lambda parent: asked.append(1) or "cancel"))
    editor.close()
    assert asked == [], "nothing typed yet: closes without asking"

    editor = editor_for()
    editor.show()
    _add_area(editor, qtbot, "cheeks", 1.0)
    editor.close()
    assert asked == [1] and editor.isVisible(), "cancel keeps the editor open"
    monkeypatch.setattr(SessionEditor, "ask_unsaved", staticmethod(lambda parent: "save"))
    editor.close()
    assert not editor.isVisible()
    assert len(ui_repo.history(client.id)) == 1


def test_a_failed_write_keeps_the_entries(qtbot, editor_for, ui_repo, client, monkeypatch):
    editor = editor_for()
    _add_area(editor, qtbot, "cheeks", 1.0)
    shown = []
    monkeypatch.setattr(SessionEditor, "show_error",
                        staticmethod(lambda parent, title, text: shown.append(text)))

    def full_disk(session, *, by, expected=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ui_repo, "save_draft", full_disk)
    assert not editor.save()
    assert "No space left on device" in shown[0]
    assert editor.is_dirty() and editor.areas.rows[0].area.currentText() == "cheeks"
    monkeypatch.undo()
    assert editor.save()
    assert ui_repo.get_session(editor.session_id).areas[0].area == "cheeks"


def test_invalid_fee_is_explained(qtbot, editor_for):
    editor = editor_for()
    _add_area(editor, qtbot, "cheeks", 1.0)
    editor.fee.setText("12.345")
    assert editor.fee_message.text() == "Fee 12.345 has more than 2 decimals"
    assert not editor.save_button.isEnabled()
    editor.fee.setText("abc")
    assert "'abc' is not an amount" in editor.fee_message.text()


def test_the_audit_trail_names_the_practitioner_in_the_editor(qtbot, editor_for, ui_repo):
    editor = editor_for()
    editor.practitioner.setCurrentText("Lucía Fernández")
    _add_area(editor, qtbot, "cheeks", 1.0)
    assert editor.save()
    assert editor.sign_off()
    rows = ui_repo.db.execute("SELECT action, who FROM audit WHERE record_id = ? ORDER BY seq",
                              [editor.session_id]).fetchall()
    assert rows == [("create", "Lucía Fernández"), ("sign", "Lucía Fernández")]


def test_a_new_session_joins_the_course_under_way_not_a_finished_one(qtbot, editor_for,
                                                                       ui_repo, client):
    done = ui_repo.add_course(make_course(client.id, planned_sessions=1,
                                          started_on=datetime(2026, 1, 5).date()), by="Jane Smith")
    ui_repo.save_draft(make_session(client.id, course_id=done.id, anaesthetic=None,
                                    started_at=datetime(2026, 1, 5, 10, 0)), by="Jane Smith")
    assert editor_for().course.currentData() is None, "the only course is complete"
    running = ui_repo.add_course(make_course(client.id, planned_sessions=3,
                                             started_on=datetime(2026, 6, 1).date()),
                                 by="Jane Smith")
    assert editor_for().course.currentData() == running.id
    editor = editor_for()
    editor.repeat_last()  # the previous session belongs to the finished course
    assert editor.course.currentData() == running.id


# --- the domain's rules and words, once (issue 12) --------------------------------------------


@pytest.fixture
def old_consent(ui_repo):
    """A client whose only consent was signed well over a year before NOW."""
    from datetime import date

    client = ui_repo.add_client(make_client(first_name="Olga"), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, date=date(2025, 6, 1)), by="Jane Smith")
    return client


def test_consent_over_a_year_old_is_asked_at_start_and_recorded(qtbot, ui_repo, old_consent,
                                                                monkeypatch):
    editor = SessionEditor(ui_repo, ui_repo.settings(), old_consent, user="Jane Smith",
                           now=lambda: NOW)
    qtbot.addWidget(editor)
    seen = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: seen.extend(warnings) or "re-consent booked"))
    assert editor.acknowledge_at_start()
    assert [w.code for w in seen] == ["screening: consent older than 365 days"]
    assert "consent over a year old (signed 537 days ago)" in seen[0].message
    _add_area(editor, qtbot, "cheeks", 1.0)
    assert editor.save()
    assert len(seen) == 1, "acknowledged once, not asked again on saving"
    (ack,) = ui_repo.get_session(editor.session_id).acknowledged_warnings
    assert (ack.code, ack.reason, ack.by) == ("screening: consent older than 365 days",
                                              "re-consent booked", "Jane Smith")
    assert ack.warning == "screening: consent older than 365 days — re-consent booked"


def test_consent_over_a_year_old_is_acknowledged_when_saving(qtbot, ui_repo, old_consent,
                                                             monkeypatch):
    editor = SessionEditor(ui_repo, ui_repo.settings(), old_consent, user="Jane Smith",
                           now=lambda: NOW)
    qtbot.addWidget(editor)
    _add_area(editor, qtbot, "cheeks", 1.0)
    # declining writes nothing
    assert not editor.save()
    assert ui_repo.history(old_consent.id) == []
    seen = []
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement", staticmethod(
        lambda parent, warnings: seen.extend(w.code for w in warnings) or ""))
    assert editor.save()
    assert seen == ["screening: consent older than 365 days"]
    (ack,) = ui_repo.get_session(editor.session_id).acknowledged_warnings
    assert ack.warning == "screening: consent older than 365 days"


def test_the_card_shows_the_old_consent(qtbot, window, ui_repo, old_consent):
    window.find("")
    window.open_first_match()
    text = window.screening_label.text()
    assert "consent over a year old (signed" in text and "consent signed" not in text


def test_reaction_timing_reads_as_in_the_pdfs(qtbot, editor_for):
    from needledesk.domain.labels import OBSERVED_LABELS
    from needledesk.domain.model import Observed
    from needledesk.reports.text import observed_word

    editor = editor_for()
    editor.reactions.add_button.click()
    box = editor.reactions.rows[-1].observed
    shown = [box.itemText(i) for i in range(box.count())]
    assert shown == [observed_word(o) for o in Observed] == list(OBSERVED_LABELS.values())
    assert "at the next visit" in shown


def test_the_editor_the_audit_view_and_the_pdfs_show_the_same_amendment_lines(
        qtbot, editor_for, ui_repo, client, window, monkeypatch):
    from io import BytesIO

    from pypdf import PdfReader

    from needledesk.reports.build import course_record_pdf, session_summary_pdf
    from needledesk.ui.main_window import MainWindow

    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    editor = editor_for(ui_repo.get_session(ui_repo.history(client.id)[0].id))
    editor.clock["now"] = datetime(2026, 11, 20, 11, 10)
    editor.sign_button.click()
    editor.amend_button.click()
    editor.cartridge_lot.setText("L2311B")
    editor.areas.rows[0].depth.setValue(1.25)
    editor.fee.setText("280.00")
    monkeypatch.setattr(SessionEditor, "ask_amendment",
                        staticmethod(lambda parent, by: (by, "typed from the wrong sheet")))
    editor.clock["now"] = datetime(2026, 11, 21, 8, 40)
    editor.save_button.click()
    expected = ["Cartridge lot: L2311A → L2311B", "Depth (cheeks): 1.5 mm → 1.25 mm",
                "Fee: 250.00 USD → 280.00 USD"]

    history = editor.history.toPlainText()
    assert all(line in history for line in expected), history
    assert "device.cartridge_lot" not in history and "depth_mm" not in history

    shown = []
    monkeypatch.setattr(MainWindow, "show_text",
                        staticmethod(lambda title, html: shown.append(html)))
    window.find("")
    window.open_first_match()
    window.history.setCurrentIndex(window.history_model.index(0, 0))
    window.audit_button.click()
    (audit,) = shown
    assert all(line in audit for line in expected), audit
    assert "device.cartridge_lot" not in audit

    for pdf in (course_record_pdf(ui_repo, client.id), session_summary_pdf(ui_repo,
                                                                          editor.session_id)):
        text = " ".join(" ".join(page.extract_text().split())
                        for page in PdfReader(BytesIO(pdf)).pages)
        assert all(line in text for line in expected), text


def test_a_new_session_without_a_remembered_practitioner_starts_with_the_first_one(
        qtbot, ui_repo, client):
    """The first-run set-up's practitioner is chosen when no last practitioner is remembered."""
    settings = ui_repo.settings()
    settings.practitioners = ["Ama Mensah", "Jane Smith"]
    editor = SessionEditor(ui_repo, settings, client, user="", now=lambda: NOW)
    qtbot.addWidget(editor)
    assert editor.practitioner.currentText() == "Ama Mensah"
