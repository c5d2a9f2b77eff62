"""Issue 13 in the screening dialog and the card: item 7 ("not applicable" where a No would be a
false flag), item 9 (dates as the rest of the program shows them) and item 5 (Escape, Cancel
or closing a changed screening asks before discarding it); and issue 15: consent is no longer
ticked on a screening, an old screening's tick is shown read-only as signed on paper."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_screening
from PySide6.QtCore import QLocale, Qt, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QMessageBox

from needledesk.domain.model import NOT_APPLICABLE, SCREENING_QUESTIONS
from needledesk.domain.text import day_text
from needledesk.ui.client_card import screening_summary_html
from needledesk.ui.screening_dialog import CONSENT_HINT, ScreeningDialog, carried_consent_text

TODAY = date(2026, 11, 20)
RETINOIDS = "retinoids_stopped"
#: The real question, kept before tests/ui/conftest.py gives every question a default answer.
REAL_ASK_DISCARD = ScreeningDialog.__dict__["ask_discard"]


@pytest.fixture
def dialog(qtbot):
    dialog = ScreeningDialog("client-1", today=TODAY)
    qtbot.addWidget(dialog)
    return dialog


@pytest.fixture
def asked(monkeypatch):
    """Answer the discard question with `asked.answer`, recording each time it is asked."""
    class Asked(list):
        answer = False

    asked = Asked()
    monkeypatch.setattr(ScreeningDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append(parent) or asked.answer))
    return asked


# --- item 7: not applicable ------------------------------------------------------------------


def test_retinoids_stopped_offers_not_applicable_and_it_is_not_flagged(dialog):
    button = dialog.not_applicable_buttons[RETINOIDS]
    assert button.text() == "Not applicable"
    button.click()
    assert dialog.flag_labels[RETINOIDS].text() == ""
    assert dialog.summary.text() == "No flagged answers"
    assert dialog.screening().answers[RETINOIDS] == NOT_APPLICABLE
    assert dialog.screening().flagged == []
    assert dialog.save_button.isEnabled()
    # one answer per question: choosing No takes Not applicable back, and flags it
    dialog.no_buttons[RETINOIDS].click()
    assert not button.isChecked()
    assert dialog.flag_labels[RETINOIDS].text() == "flag"


def test_only_questions_whose_no_would_be_a_false_flag_offer_not_applicable(dialog):
    assert list(dialog.not_applicable_buttons) == [RETINOIDS]
    for key in SCREENING_QUESTIONS:
        buttons = dialog.answer_groups[key].buttons()
        assert len(buttons) == (3 if key == RETINOIDS else 2), key


def test_a_previous_not_applicable_is_shown_for_reconfirmation(qtbot):
    previous = make_screening("client-1", date=date(2026, 9, 1))
    previous.answers[RETINOIDS] = NOT_APPLICABLE
    dialog = ScreeningDialog("client-1", previous, today=TODAY)
    qtbot.addWidget(dialog)
    assert dialog.not_applicable_buttons[RETINOIDS].isChecked()
    assert not dialog.yes_buttons[RETINOIDS].isChecked()
    assert not dialog.no_buttons[RETINOIDS].isChecked()
    assert dialog.screening().answers == previous.answers
    assert dialog.summary.text() == "No flagged answers"


def test_the_card_shows_not_applicable_in_words():
    screening = make_screening("client-1", date=date(2025, 1, 9))
    screening.answers[RETINOIDS] = NOT_APPLICABLE
    html = screening_summary_html(screening, TODAY)
    assert "Topical retinoids stopped ahead of treatment: Not applicable" in html
    assert "no flagged answers" in html and "⚠ flagged" not in html
    assert NOT_APPLICABLE not in html
    screening.answers[RETINOIDS] = False  # the trap it replaces: a No is a flag
    assert "⚠ flagged: Topical retinoids stopped ahead of treatment" in (
        screening_summary_html(screening, TODAY))


# --- item 9: dates as the rest of the program shows them -------------------------------------


def test_the_previous_screenings_date_reads_like_the_rest_of_the_program(qtbot):
    previous = make_screening("client-1", date=date(2025, 1, 9))
    dialog = ScreeningDialog("client-1", previous, today=TODAY)
    qtbot.addWidget(dialog)
    intro = dialog.findChildren(type(dialog.summary))[0].text()
    assert "screening of 9 Jan 2025:" in intro
    assert "2025-01-09" not in intro


# --- issue 15: consent is signed on its own form --------------------------------------------


def test_a_new_screening_records_no_consent_and_says_where_it_is_signed(dialog):
    assert dialog.carried_consent is None
    assert dialog.consent_hint.text() == CONSENT_HINT
    assert "Client › Sign treatment consent…" in dialog.consent_hint.text()
    assert not [box for box in dialog.findChildren(QCheckBox)]   # no consent tick to give
    dialog.yes_buttons["pregnant"].click()
    assert dialog.screening().consent_signed is False
    assert dialog.screening().date == TODAY


def test_an_old_screenings_consent_tick_is_shown_read_only_as_signed_on_paper(qtbot):
    previous = make_screening("client-1", date=date(2025, 10, 9), consent_signed=True)
    dialog = ScreeningDialog("client-1", previous, today=TODAY)
    qtbot.addWidget(dialog)
    assert dialog.carried_consent is not None
    assert dialog.carried_consent.text() == (
        "✓ Consent signed on paper (recorded with the screening of 9 Oct 2025)")
    assert dialog.carried_consent.focusPolicy() == Qt.FocusPolicy.NoFocus  # nothing to change
    # the tick stays with the old screening (read as a paper consent); the new one has none
    assert dialog.screening().consent_signed is False
    unticked = make_screening("client-1", date=date(2025, 10, 9), consent_signed=False)
    other = ScreeningDialog("client-1", unticked, today=TODAY)
    qtbot.addWidget(other)
    assert other.carried_consent is None


@pytest.mark.usefixtures("german_pc")
def test_the_old_ticks_date_reads_9_oct_2025_whatever_the_pcs_language(qtbot):
    previous = make_screening("client-1", date=date(2025, 10, 9), consent_signed=True)
    dialog = ScreeningDialog("client-1", previous, today=TODAY)
    qtbot.addWidget(dialog)
    assert carried_consent_text(previous) in dialog.carried_consent.text()
    assert day_text(previous.date) == "9 Oct 2025" and "9 Oct 2025" in (
        dialog.carried_consent.text())


@pytest.fixture
def german_pc():
    """A PC whose language is not English: the date must still read `9 Oct 2025`."""
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    yield
    QLocale.setDefault(before)


# --- item 5: Escape on a changed screening asks -----------------------------------------------


def test_escape_on_an_unchanged_screening_closes_at_once(dialog, qtbot, asked):
    dialog.show()
    qtbot.keyClick(dialog.yes_buttons["pregnant"], Qt.Key.Key_Escape)
    assert asked == []
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


@pytest.mark.parametrize("change", [
    lambda d: d.not_applicable_buttons[RETINOIDS].click(),
    lambda d: d.yes_buttons["pregnant"].click(),
    lambda d: d.no_buttons["pregnant"].click(),
    lambda d: d.notes.setPlainText("Asked about isotretinoin."),
], ids=["not applicable", "yes", "no", "notes"])
def test_escape_on_a_changed_screening_asks_and_keeps_it_when_told(dialog, qtbot, asked,
                                                                   change):
    dialog.show()
    change(dialog)
    before = dialog.screening()
    qtbot.keyClick(dialog.notes, Qt.Key.Key_Escape)
    assert asked == [dialog]
    assert dialog.isVisible()
    kept = dialog.screening()
    assert (kept.answers, kept.notes) == (before.answers, before.notes)
    dialog.done(QDialog.DialogCode.Rejected)  # closes without asking again


@pytest.mark.parametrize("how", ["escape", "cancel", "close"])
def test_a_changed_screening_is_discarded_only_once_confirmed(dialog, qtbot, asked, how):
    dialog.show()
    dialog.yes_buttons["pregnant"].click()
    leave = {"escape": lambda: qtbot.keyClick(dialog.yes_buttons["pregnant"],
                                              Qt.Key.Key_Escape),
             "cancel": lambda: dialog.buttons.button(
                 dialog.buttons.StandardButton.Cancel).click(),
             "close": dialog.close}[how]
    leave()
    assert len(asked) == 1 and dialog.isVisible()
    asked.answer = True
    leave()
    assert len(asked) == 2
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected


def test_back_to_the_opening_answers_closes_without_asking(dialog, qtbot, asked):
    dialog.show()
    dialog.notes.setPlainText("x")
    dialog.notes.setPlainText("")
    qtbot.keyClick(dialog.notes, Qt.Key.Key_Escape)
    assert asked == []
    assert not dialog.isVisible()


def test_save_does_not_ask(dialog, asked):
    dialog.not_applicable_buttons[RETINOIDS].click()
    dialog.save_button.click()
    assert asked == [] and dialog.result() == QDialog.DialogCode.Accepted


@pytest.fixture
def when_shown():
    """`when_shown(action)`: run `action(the modal widget)` once the next modal loop runs; a
    timer left over by a failing test is stopped, so it cannot act in a later one."""
    timers: list[QTimer] = []

    def later(action) -> None:
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: action(QApplication.activeModalWidget()))
        timer.start(0)
        timers.append(timer)

    yield later
    for timer in timers:
        timer.stop()


@pytest.mark.parametrize("choice, expected", [
    ("Keep editing", "kept"), ("Discard", None)])
def test_the_real_question_through_ask(qtbot, monkeypatch, when_shown, choice, expected):
    monkeypatch.setattr(ScreeningDialog, "ask_discard", REAL_ASK_DISCARD)
    seen: list[str] = []

    def on_the_question(box):
        if not isinstance(box, QMessageBox):  # no question: say so, and let the test end
            seen.append(f"no question but {type(box).__name__}")
            if isinstance(box, QDialog):
                box.done(QDialog.DialogCode.Rejected)
            return
        seen.append(box.text())
        button = next(b for b in box.buttons() if b.text().replace("&", "") == choice)
        button.click()

    def in_the_dialog(dialog):
        try:
            dialog.not_applicable_buttons[RETINOIDS].click()
            when_shown(on_the_question)
            qtbot.keyClick(dialog.not_applicable_buttons[RETINOIDS], Qt.Key.Key_Escape)
            if dialog.isVisible():  # kept: the answer is still there to save
                seen.append("kept")
                dialog.save_button.click()
        except Exception as exc:  # fail the test, not hang it on a dialog left open
            seen.append(f"failed in the dialog: {exc!r}")
            dialog.done(QDialog.DialogCode.Rejected)

    when_shown(in_the_dialog)
    screening = ScreeningDialog.ask(None, "client-1")
    assert seen[:1] == ["The answers or notes were changed and are not saved."]
    if expected == "kept":
        assert seen[1:] == ["kept"]
        assert screening is not None and screening.answers[RETINOIDS] == NOT_APPLICABLE
    else:
        assert seen[1:] == [] and screening is None
