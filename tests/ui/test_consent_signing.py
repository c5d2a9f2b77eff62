"""Issue 15, consent signed on screen: the signature pad (mouse strokes, a pen's pressure),
the sign dialog (Sign only once every required statement is ticked and both have signed;
the consent stored as signed), the signed form locked, a consent signed on paper recorded
(and covering the visit), and the keyboard."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client, make_screening, make_session
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from needledesk.domain.consent_forms import TREATMENT_BODY, TREATMENT_TITLE, default_template
from needledesk.domain.model import ConsentKind, ConsentMethod, StrokePoint
from needledesk.domain.rules import session_warnings
from needledesk.errors import ValidationError
from needledesk.ui import consents_list
from needledesk.ui.consent_dialog import (
    ConsentView,
    PaperConsentDialog,
    SignConsentDialog,
    consent_problem_text,
)
from needledesk.ui.signature_pad import SignaturePad

NOW = datetime(2026, 11, 20, 10, 42, 17, 123456)
#: The real question, kept before each test replaces it with a recorded answer.
REAL_SIGN_DISCARD = SignConsentDialog.__dict__["ask_discard"]


@pytest.fixture(autouse=True)
def recorded_discard(monkeypatch):
    """The discard question answered by `recorded_discard.answer` (discard: True)."""
    class Asked(list):
        answer = True

    asked = Asked()
    for cls in (SignConsentDialog, PaperConsentDialog):
        monkeypatch.setattr(cls, "ask_discard",
                            staticmethod(lambda parent: asked.append(parent) or asked.answer))
    return asked


@pytest.fixture
def person(ui_repo):
    """A client with no consent of any kind on record."""
    return ui_repo.add_client(make_client(), by="Jane Smith")


@pytest.fixture
def settings(ui_repo):
    settings = ui_repo.settings()
    settings.practitioners = ["Jane Smith", "Omar Haddad"]
    return settings


@pytest.fixture
def sign_dialog(qtbot, ui_repo, person, settings):
    def build(kind=ConsentKind.TREATMENT):
        dialog = SignConsentDialog(ui_repo, person, kind, settings, by="Jane Smith",
                                   now=lambda: NOW)
        qtbot.addWidget(dialog)
        dialog.resize(1280, 800)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog
    return build


def shown_pad(qtbot):
    """A client's signature pad of 400 × 150 on screen."""
    pad = SignaturePad("Client's signature")
    qtbot.addWidget(pad)
    pad.resize(400, 150)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def draw(pad, points, button=Qt.MouseButton.LeftButton):
    """One stroke with the mouse through `points` (widget pixels)."""
    QTest.mousePress(pad, button, Qt.KeyboardModifier.NoModifier, QPoint(*points[0]))
    for x, y in points[1:]:
        QTest.mouseMove(pad, QPoint(x, y))
    QTest.mouseRelease(pad, button, Qt.KeyboardModifier.NoModifier, QPoint(*points[-1]))


ZIGZAG = [(40 + 12 * i, 60 + (25 if i % 2 else -10)) for i in range(12)]


def stylus(pressure: bool = True) -> QPointingDevice:
    caps = QInputDevice.Capability.Position
    if pressure:
        caps |= QInputDevice.Capability.Pressure
    return QPointingDevice("test pen", 4242 + int(pressure), QInputDevice.DeviceType.Stylus,
                           QPointingDevice.PointerType.Pen, caps, 1, 2)


def pen(pad, kind, device, x, y, pressure):
    pos = QPointF(x, y)
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else \
        Qt.MouseButton.LeftButton
    event = QTabletEvent(kind, device, pos, pad.mapToGlobal(pos), pressure, 0.0, 0.0, 0.0,
                         0.0, 0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                         buttons)
    QApplication.sendEvent(pad, event)
    return event


def sign_everything(dialog):
    for check in dialog.checks:
        check.setChecked(True)
    draw(dialog.client_box.pad, ZIGZAG)
    draw(dialog.practitioner_box.pad, ZIGZAG[::-1])


# --- the pad ---------------------------------------------------------------------------------


def test_mouse_strokes_are_recorded_in_the_pads_units_with_a_picture(qtbot):
    pad = shown_pad(qtbot)
    assert pad.signature() is None            # nothing drawn: no signature
    draw(pad, ZIGZAG)
    draw(pad, [(300, 40), (320, 90), (340, 40)])
    signature = pad.signature()
    assert signature is not None and (signature.width, signature.height) == (400, 150)
    assert [len(s) for s in signature.strokes] == [12, 3]
    assert signature.strokes[0][0] == StrokePoint(40, 50, 1.0, signature.strokes[0][0].t_ms)
    assert (signature.strokes[0][1].x, signature.strokes[0][1].y) == (52, 85)
    assert all(p.pressure == 1.0 for s in signature.strokes for p in s)   # a mouse has none
    times = [p.t_ms for p in signature.strokes[0]]
    assert times == sorted(times) and times[0] == 0
    image = QImage.fromData(signature.image_png, "PNG")
    assert signature.image_png.startswith(b"\x89PNG") and (image.width(), image.height()) == (
        800, 300)
    # ink where the pen went (twice the pad's size), white where it did not
    assert QImage.fromData(signature.image_png).pixelColor(80, 100).lightness() < 100
    assert image.pixelColor(780, 280).lightness() == 255
    pad.undo()
    assert [len(s) for s in pad.signature().strokes] == [12]
    pad.clear()
    assert pad.signature() is None and pad.empty


def test_a_pens_pressure_is_recorded_and_no_mouse_stroke_is_added(qtbot):
    pad = shown_pad(qtbot)
    device = stylus()
    for kind, x, pressure in ((QEvent.Type.TabletPress, 50, 0.2),
                              (QEvent.Type.TabletMove, 80, 0.55),
                              (QEvent.Type.TabletMove, 110, 0.9),
                              (QEvent.Type.TabletRelease, 140, 0.4)):
        event = pen(pad, kind, device, x, 70, pressure)
        assert event.isAccepted()   # so Qt makes no mouse events of it
    QApplication.processEvents()
    assert len(pad.strokes) == 1
    assert [(p.x, p.pressure) for p in pad.strokes[0]] == [(50, 0.2), (80, 0.55), (110, 0.9),
                                                           (140, 0.4)]
    # a device that reports no pressure draws at full pressure
    plain = stylus(pressure=False)
    pen(pad, QEvent.Type.TabletPress, plain, 50, 120, 0.3)
    pen(pad, QEvent.Type.TabletRelease, plain, 90, 120, 0.3)
    assert [p.pressure for p in pad.strokes[1]] == [1.0, 1.0]


def test_pressure_changes_the_width_of_the_line(qtbot):
    from needledesk.ui.signature_pad import signature_png

    def ink(pressure):
        stroke = [StrokePoint(20 + i * 10, 50, pressure, i) for i in range(15)]
        image = QImage.fromData(signature_png([stroke], 200, 100))
        return sum(1 for y in range(200) if image.pixelColor(200, y).lightness() < 128)

    assert ink(0.1) < ink(1.0)


# --- signing ---------------------------------------------------------------------------------


def test_sign_is_enabled_only_with_every_required_tick_and_both_signatures(sign_dialog):
    dialog = sign_dialog()
    assert dialog.windowTitle() == "Sign the treatment consent — Ana López"
    assert not dialog.sign_button.isEnabled()
    assert "tick the 6 required statements" in dialog.missing.text()
    for check in dialog.checks[:-1]:
        check.click()
    assert not dialog.sign_button.isEnabled()
    dialog.checks[-1].click()
    assert not dialog.sign_button.isEnabled()
    assert "the client's signature" in dialog.missing.text()
    draw(dialog.client_box.pad, ZIGZAG)
    assert not dialog.sign_button.isEnabled()
    assert dialog.missing.text() == ("Still needed to sign: the practitioner's "
                                     "countersignature.")
    draw(dialog.practitioner_box.pad, ZIGZAG)
    assert dialog.sign_button.isEnabled() and dialog.missing.text() == "Ready to sign."
    dialog.checks[2].click()                     # one taken back
    assert not dialog.sign_button.isEnabled()
    dialog.checks[2].click()
    dialog.practitioner.setCurrentText("")       # nobody named to countersign
    assert not dialog.sign_button.isEnabled()
    dialog.practitioner.setCurrentText("Omar Haddad")
    dialog.practitioner_box.clear_button.click()
    assert not dialog.sign_button.isEnabled()
    dialog.accept()                               # Ctrl+Return while not ready: nothing
    assert dialog.isVisible() and dialog.saved is None


def test_the_signed_consent_is_stored_as_the_client_saw_it(sign_dialog, ui_repo, person):
    dialog = sign_dialog()
    assert ui_repo.current_template(ConsentKind.TREATMENT) is None
    sign_everything(dialog)
    client_strokes = [list(s) for s in dialog.client_box.pad.strokes]
    dialog.sign_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    [stored] = ui_repo.consents(person.id)
    assert stored.id == dialog.saved.id
    assert (stored.kind, stored.method, stored.signed_at) == (
        ConsentKind.TREATMENT, ConsentMethod.ON_SCREEN, NOW.replace(microsecond=0))
    assert (stored.title, stored.body) == (TREATMENT_TITLE, TREATMENT_BODY)
    assert stored.statements == default_template(ConsentKind.TREATMENT).statements
    assert stored.answers == {s.key: True for s in stored.statements}
    assert stored.practitioner == "Jane Smith"
    assert stored.client_signature.strokes == client_strokes
    assert stored.practitioner_signature.strokes[0][0].x == ZIGZAG[-1][0]
    assert stored.client_signature.image_png.startswith(b"\x89PNG")
    # the shipped form was stored with it, as version 1
    template = ui_repo.current_template(ConsentKind.TREATMENT)
    assert (template.version, template.id) == (1, stored.template_id)
    assert stored.template_version == 1


def test_a_photo_consent_keeps_the_uses_ticked_and_needs_none(sign_dialog, ui_repo, person):
    dialog = sign_dialog(ConsentKind.PHOTO)
    assert all(not c.statement.required for c in dialog.checks)
    draw(dialog.client_box.pad, ZIGZAG)
    draw(dialog.practitioner_box.pad, ZIGZAG)
    assert dialog.sign_button.isEnabled()        # refusing every use is a valid answer
    by_key = {c.statement.key: c for c in dialog.checks}
    by_key["photo_use_record"].click()
    by_key["photo_use_teaching"].click()
    dialog.sign_button.click()
    [stored] = ui_repo.consents(person.id)
    assert stored.photo_uses == ["photo_use_record", "photo_use_teaching"]
    assert stored.answers["photo_use_marketing"] is False


def test_a_refused_consent_says_why_in_plain_words_and_writes_nothing(sign_dialog, ui_repo,
                                                                     person):
    dialog = sign_dialog()
    sign_everything(dialog)
    dialog.practitioner.setCurrentText("J" * 250)
    dialog.sign_button.click()
    assert dialog.isVisible() and dialog.saved is None
    text = dialog.problems_message.text()
    assert text.startswith("Not signed: Practitioner") and "200 characters" in text
    assert "practitioner" not in text and "[" not in text and "None" not in text
    assert ui_repo.consents(person.id) == []


def test_signing_a_second_version_leaves_the_first_signed_consent_as_it_was(
        sign_dialog, ui_repo, person):
    first = sign_dialog()
    sign_everything(first)
    first.sign_button.click()
    ui_repo.add_template_version(ConsentKind.TREATMENT, "Consent to microneedling, 2027",
                                 "A new text.", default_template(
                                     ConsentKind.TREATMENT).statements, by="Jane Smith")
    second = sign_dialog()
    assert second.template.version == 2
    assert second.form.findChild(QLabel, "consent-text").text() == "A new text."
    sign_everything(second)
    second.sign_button.click()
    old, new = ui_repo.consents(person.id)
    assert (old.template_version, old.body, old.title) == (1, TREATMENT_BODY, TREATMENT_TITLE)
    assert (new.template_version, new.body) == (2, "A new text.")


# --- the signed form, locked ------------------------------------------------------------------


def test_the_signed_form_refuses_every_edit(qtbot, sign_dialog, ui_repo, person, settings):
    dialog = sign_dialog(ConsentKind.PHOTO)
    dialog.checks[0].click()
    draw(dialog.client_box.pad, ZIGZAG)
    draw(dialog.practitioner_box.pad, ZIGZAG)
    dialog.sign_button.click()
    [stored] = ui_repo.consents(person.id)
    view = ConsentView(stored, person, settings, db_path=ui_repo.path)
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    text = " ".join(w.text() for w in view.form.widget().findChildren(QLabel))
    assert "signed on screen on 20 Nov 2026 at 10:42" in text
    assert "Form version 1" in text and "Uses agreed: Kept in my treatment record" in text
    ticked = [c.isChecked() for c in view.checks]
    assert ticked == [True, False, False, False]
    for check in view.checks:                       # a click, a key: nothing changes
        qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
        check.click()
        QTest.keyClick(check, Qt.Key.Key_Space)
    assert [c.isChecked() for c in view.checks] == ticked
    pad = view.client_box.pad
    before = [list(s) for s in pad.strokes]
    assert before == stored.client_signature.strokes    # replayed as signed
    draw(pad, [(10, 10), (200, 100), (300, 20)])
    pen(pad, QEvent.Type.TabletPress, stylus(), 20, 20, 0.5)
    pen(pad, QEvent.Type.TabletRelease, stylus(), 60, 20, 0.5)
    pad.clear()
    pad.undo()
    assert pad.strokes == before
    assert not view.client_box.clear_button.isVisible()
    assert pad.signature().image_png == stored.client_signature.image_png
    # and the store refuses it too
    with pytest.raises(ValidationError, match="locked"):
        ui_repo.update_consent(stored, by="Jane Smith")
    with pytest.raises(ValidationError, match="locked"):
        ui_repo.add_consent(stored, by="Jane Smith")
    assert ui_repo.consents(person.id) == [stored]


def test_a_consent_carried_from_a_screening_says_where_it_came_from(qtbot, ui_repo, person,
                                                                     settings):
    ui_repo.add_screening(make_screening(person.id, date=date(2026, 3, 2)), by="Jane Smith")
    [carried] = ui_repo.consents(person.id, carried=True)
    row = consents_list.consent_row(carried)
    assert row[1] == "Signed on paper on 2 Mar 2026 (recorded with the screening of 2 Mar 2026)"
    view = ConsentView(carried, person, settings)
    qtbot.addWidget(view)
    labels = " ".join(w.text() for w in view.form.widget().findChildren(QLabel))
    assert "recorded with the screening of 2 Mar 2026" in labels
    assert view.client_box.isHidden()
    # no form was kept: nothing to print (as `needledesk export consent` says too)
    assert not view.pdf_button.isEnabled() and not view.print_button.isEnabled()
    assert "there is no form to print" in view.pdf_button.toolTip()


# --- signed on paper -------------------------------------------------------------------------


def test_a_paper_consent_is_recorded_and_covers_the_visit(qtbot, ui_repo, person, settings):
    ui_repo.add_screening(make_screening(person.id, consent_signed=False), by="Jane Smith")
    visit = make_session(person.id)          # 20 Nov 2026
    codes = lambda: [w.code for w in session_warnings(  # noqa: E731
        visit, ui_repo.screenings(person.id), consents=ui_repo.consents(person.id, carried=True))]
    assert "screening: no consent" in codes()
    dialog = PaperConsentDialog(ui_repo, person, settings, by="Jane Smith",
                                today=date(2026, 11, 20), now=lambda: NOW)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.checks == []                # a treatment form: nothing optional to tick
    dialog.signed_on.setText("18 Nov 2026")
    dialog.notes.setPlainText("Paper form filed in the client's folder")
    dialog.save_button.click()
    [stored] = ui_repo.consents(person.id)
    assert (stored.method, stored.signed_at) == (ConsentMethod.ON_PAPER,
                                                 datetime(2026, 11, 18))
    assert stored.client_signature is None and stored.practitioner_signature is None
    assert all(stored.answers.values()) and stored.title == TREATMENT_TITLE
    assert stored.notes == "Paper form filed in the client's folder"
    assert "screening: no consent" not in codes()


def test_a_paper_photo_consent_keeps_the_uses_ticked_on_paper(qtbot, ui_repo, person,
                                                               settings):
    dialog = PaperConsentDialog(ui_repo, person, settings, kind=ConsentKind.PHOTO,
                                today=date(2026, 11, 20), now=lambda: NOW)
    qtbot.addWidget(dialog)
    assert [c.text() for c in dialog.checks][0] == "Kept in my treatment record"
    dialog.checks[1].click()
    dialog.accept()
    [stored] = ui_repo.consents(person.id)
    assert stored.photo_uses == ["photo_use_shown"]
    assert stored.signed_at == NOW.replace(microsecond=0)    # today: the time it was recorded
    # switching the form shows its own choices
    other = PaperConsentDialog(ui_repo, person, settings, today=date(2026, 11, 20))
    qtbot.addWidget(other)
    other.kind.setCurrentIndex(other.kind.findData(ConsentKind.PHOTO))
    assert len(other.checks) == 4 and other.uses_box.isVisibleTo(other)


def test_a_paper_consent_dated_in_the_future_is_refused(qtbot, ui_repo, person, settings):
    dialog = PaperConsentDialog(ui_repo, person, settings, today=date(2026, 11, 20))
    qtbot.addWidget(dialog)
    dialog.signed_on.setText("21 Nov 2026")
    assert not dialog.save_button.isEnabled()
    assert dialog.date_message.text() == ("Date signed 21 Nov 2026 is after today "
                                          "(20 Nov 2026): record a consent once it is signed")
    dialog.signed_on.setText("31 Feb 2026")
    assert dialog.date_message.text() == "Date signed: 31 Feb 2026 is not a day of the calendar"
    dialog.accept()
    assert ui_repo.consents(person.id) == []


def test_problems_name_the_field_by_its_label():
    from needledesk.domain.rules import Problem

    assert consent_problem_text(Problem("practitioner", "is longer than 200 characters")) == \
        "Practitioner is longer than 200 characters"
    assert consent_problem_text(Problem("client_signature", "the client has not signed")) == \
        "Client's signature: the client has not signed"
    assert consent_problem_text(Problem("answers.aftercare", "“I will follow” must be ticked "
                                        "to sign")) == "“I will follow” must be ticked to sign"


# --- the keyboard ------------------------------------------------------------------------------


def test_the_sign_dialog_is_filled_and_cancelled_by_keys(qtbot, sign_dialog,
                                                          recorded_discard):
    dialog = sign_dialog()
    qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.checks[0])
    for check in dialog.checks:                 # Space ticks, Tab moves on
        QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Space)
        assert check.isChecked()
        QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert all(c.isChecked() for c in dialog.checks)
    recorded_discard.answer = False             # Escape asks; "keep editing" keeps it open
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(recorded_discard) == 1 and dialog.isVisible()
    recorded_discard.answer = True
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Rejected


def test_an_untouched_sign_dialog_closes_on_escape_without_asking(sign_dialog,
                                                                   recorded_discard):
    dialog = sign_dialog()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert recorded_discard == [] and not dialog.isVisible()


def test_undo_and_clear_by_keys_act_on_the_pad_that_has_the_focus(qtbot, sign_dialog):
    dialog = sign_dialog()
    draw(dialog.client_box.pad, ZIGZAG)
    draw(dialog.client_box.pad, ZIGZAG[:4])
    draw(dialog.practitioner_box.pad, ZIGZAG)
    dialog.activateWindow()
    dialog.client_box.pad.setFocus()
    qtbot.waitUntil(lambda: dialog.client_box.pad.hasFocus())
    QTest.keyClick(dialog.client_box.pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(dialog.client_box.pad.strokes) == 1
    QTest.keyClick(dialog.client_box.pad, Qt.Key.Key_Delete,
                   Qt.KeyboardModifier.ControlModifier)
    assert dialog.client_box.pad.empty and len(dialog.practitioner_box.pad.strokes) == 1


def test_a_paper_consent_is_recorded_by_keys(qtbot, ui_repo, person, settings):
    dialog = PaperConsentDialog(ui_repo, person, settings, by="Jane Smith",
                                today=date(2026, 11, 20), now=lambda: NOW)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    assert dialog.focusWidget() is dialog.signed_on
    dialog.signed_on.selectAll()
    QTest.keyClicks(dialog.signed_on, "17 Nov 2026")
    QTest.keyClick(dialog.signed_on, Qt.Key.Key_Return)
    [stored] = ui_repo.consents(person.id)
    assert stored.signed_at == datetime(2026, 11, 17)


# --- from the window and the card ------------------------------------------------------------


def test_the_client_menu_signs_a_consent_and_the_card_shows_it(qtbot, window, ui_repo,
                                                                monkeypatch):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, consent_signed=False), by="Jane Smith")
    window.show_client(client.id)
    menus = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    entries = {a.text().replace("&", ""): a for a in menus["Client"].menu().actions()}
    assert set(entries) >= {"Consents…", "Sign treatment consent…", "Sign photo consent…",
                            "Record a consent signed on paper…"}
    assert entries["Sign treatment consent…"].shortcut().toString() == "Ctrl+Shift+G"
    assert "consent not signed" in window.screening_label.text()

    def sign(dialog):
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.practitioner.currentText() == ""   # nobody named yet at this clinic
        dialog.practitioner.setCurrentText("Jane Smith")
        sign_everything(dialog)
        dialog.accept()
        return dialog.result() == dialog.DialogCode.Accepted

    monkeypatch.setattr(consents_list, "run_dialog", sign)
    entries["Sign treatment consent…"].trigger()
    [stored] = ui_repo.consents(client.id)
    assert stored.method == ConsentMethod.ON_SCREEN
    assert "consent signed on screen on" in window.screening_label.text()
    # no client: the entries are off
    window.show_client(None)
    assert not entries["Consents…"].isEnabled()


def test_the_cards_consents_button_lists_them_and_opens_each_locked(qtbot, window, ui_repo,
                                                                    monkeypatch):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id, date=date(2026, 3, 2)), by="Jane Smith")
    window.show_client(client.id)
    window.card.consents_button.click()
    page = window.consents_page
    assert page.table.rowCount() == 1
    assert page.table.item(0, 1).text().endswith("(recorded with the screening of 2 Mar 2026)")
    opened = []
    monkeypatch.setattr(consents_list, "run_dialog", lambda d: opened.append(d) or False)
    QTest.keyClick(page.table, Qt.Key.Key_Return)
    [view] = opened
    assert isinstance(view, ConsentView) and view.consent.carried_from is not None

    def paper(dialog):
        dialog.signed_on.setText(date.today().strftime("%Y-%m-%d"))
        dialog.accept()
        return dialog.result() == dialog.DialogCode.Accepted

    monkeypatch.setattr(consents_list, "run_dialog", paper)
    page.paper_button.click()
    assert page.table.rowCount() == 2
    assert page.table.item(0, 1).text().startswith("Signed on paper on")
    with qtbot.waitSignal(page.destroyed, timeout=2000):
        page.reject()


def test_the_consents_list_closes_when_the_window_locks(qtbot, window, ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    window.show_client(client.id)
    page = window.card.consents_button.click() or window.consents_page
    assert page.isVisible()
    with qtbot.waitSignal(page.destroyed, timeout=2000):
        window._close_lists()


def test_ctrl_return_signs_once_everything_is_there(qtbot, sign_dialog, ui_repo, person):
    dialog = sign_dialog()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.isVisible() and ui_repo.consents(person.id) == []
    sign_everything(dialog)
    QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible() and len(ui_repo.consents(person.id)) == 1


def test_a_pen_lifted_with_no_pressure_ends_the_stroke_as_drawn(qtbot):
    pad = shown_pad(qtbot)
    device = stylus()
    pen(pad, QEvent.Type.TabletPress, device, 50, 70, 0.6)
    pen(pad, QEvent.Type.TabletMove, device, 90, 70, 0.7)
    pen(pad, QEvent.Type.TabletRelease, device, 100, 70, 0.0)
    assert [p.pressure for p in pad.strokes[0]] == [0.6, 0.7, 0.7]


def test_a_finger_draws_on_a_touch_screen(qtbot):
    pad = shown_pad(qtbot)
    screen = QTest.createTouchDevice()
    QTest.touchEvent(pad, screen).press(0, QPoint(40, 60), pad).commit()
    QTest.touchEvent(pad, screen).move(0, QPoint(80, 90), pad).commit()
    QTest.touchEvent(pad, screen).move(0, QPoint(120, 60), pad).commit()
    QTest.touchEvent(pad, screen).release(0, QPoint(120, 60), pad).commit()
    QApplication.processEvents()
    assert len(pad.strokes) == 1      # the finger's stroke, not a mouse stroke besides it
    assert [(p.x, p.y, p.pressure) for p in pad.strokes[0]] == [
        (40, 60, 1.0), (80, 90, 1.0), (120, 60, 1.0)]


def test_a_pad_resized_after_the_first_stroke_keeps_drawing_in_its_units(qtbot):
    pad = shown_pad(qtbot)
    draw(pad, [(100, 50), (200, 100)])
    pad.resize(800, 300)                     # twice as large: the same units, scaled
    QApplication.processEvents()
    draw(pad, [(200, 100), (400, 200)])
    signature = pad.signature()
    assert (signature.width, signature.height) == (400, 150)
    assert [(p.x, p.y) for p in signature.strokes[1]] == [(100, 50), (200, 100)]


def test_each_consent_dialog_remembers_its_size(qtbot, ui_repo, person, settings, state):
    for make in (lambda: SignConsentDialog(ui_repo, person, ConsentKind.TREATMENT, settings,
                                           state=state),
                 lambda: PaperConsentDialog(ui_repo, person, settings, state=state),
                 lambda: consents_list.ConsentsDialog(ui_repo, person, settings, state=state)):
        dialog = make()
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.resize(790, 560)
        dialog.reject()
        again = make()
        qtbot.addWidget(again)
        assert (again.width(), again.height()) == (790, 560), type(dialog).__name__


def test_locking_closes_a_form_being_signed_and_stores_nothing(qtbot, window, ui_repo):
    """The window locks (idle) while the client reads the form: the form closes with the
    list, unsigned, instead of staying over the lock screen."""
    from PySide6.QtCore import QTimer

    client = ui_repo.add_client(make_client(), by="Jane Smith")
    window.show_client(client.id)
    seen = []

    def lock_meanwhile():
        dialog = QApplication.activeModalWidget()
        seen.append(dialog)
        sign_everything(dialog)
        window._close_lists()

    QTimer.singleShot(50, lock_meanwhile)
    assert window.sign_consent() is None     # returns once the form is closed
    assert isinstance(seen[0], SignConsentDialog) and not seen[0].isVisible()
    assert ui_repo.consents(client.id) == []


def test_a_pen_signing_keeps_the_window_from_locking_as_idle(qtbot):
    from needledesk.ui.lock import IdleWatcher

    watcher = IdleWatcher(10)
    try:
        pad = shown_pad(qtbot)
        watcher.set_interval_ms(60_000)
        watcher.timer.stop()
        pen(pad, QEvent.Type.TabletPress, stylus(), 50, 70, 0.5)
        assert watcher.timer.isActive()       # the idle count starts again
        watcher.timer.stop()
        pen(pad, QEvent.Type.TabletMove, stylus(), 60, 70, 0.5)
        assert watcher.timer.isActive()
    finally:
        watcher.stop()
