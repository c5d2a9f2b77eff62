"""Keyboard-only use of the session editor and the client dialog, driven by keys alone from
the dialog's first focus (no setFocus(): where the cursor goes is what is tested)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from factories import make_client
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication, QWidget

from needledesk.ui.client_dialog import ClientDialog

NOW = datetime(2026, 11, 20, 10, 30)
TAB, BACKTAB = Qt.Key.Key_Tab, Qt.Key.Key_Backtab
# Typing into a field with completions opens their list, which the offscreen platform can
# neither raise nor give the keyboard to (it says so; on a real screen the list shows).
OFFSCREEN_POPUP = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")


@pytest.fixture
def editor(qtbot, editor_for):
    editor = editor_for()
    editor.activateWindow()
    qtbot.waitUntil(lambda: focused() is not None and editor.isAncestorOf(focused()))
    return editor


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def key(qtbot, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the cursor is, as the practitioner's keyboard sends it."""
    widget = focused()
    assert widget is not None, "nothing has the keyboard"
    qtbot.keyClick(widget, k, modifier)


def type_text(qtbot, text: str) -> None:
    widget = focused()
    assert widget is not None
    qtbot.keyClicks(widget, text)


def is_in(widget: QWidget) -> bool:
    now = focused()
    return now is not None and (now is widget or widget.isAncestorOf(now))


def tab_to(qtbot, widget: QWidget, limit: int = 120, back: bool = False) -> int:
    """Press Tab (Shift+Tab) until the cursor is in `widget`; how many presses it took."""
    for presses in range(limit + 1):
        if is_in(widget):
            return presses
        key(qtbot, BACKTAB if back else TAB)
    raise AssertionError(f"Tab never reached {widget!r}; stuck at {focused()!r}")


def chain(qtbot, start: QWidget, stop: QWidget, candidates: dict[str, QWidget]) -> list[str]:
    """The named fields Tab passes through from `start` to `stop`, in order, once each."""
    assert is_in(start)
    seen: list[str] = []
    for _ in range(200):
        name = next((n for n, w in candidates.items() if is_in(w)), "?")
        if not seen or seen[-1] != name:  # a time field takes two Tabs (hours, minutes)
            seen.append(name)
        if is_in(stop):
            return seen
        key(qtbot, TAB)
    raise AssertionError(f"Tab never reached {stop!r}: {seen}")


# --- rows ---------------------------------------------------------------------------------------


def test_the_editor_opens_with_the_cursor_in_its_first_field(editor):
    assert is_in(editor.started)


@OFFSCREEN_POPUP
def test_add_area_puts_the_cursor_in_the_new_row_and_tab_goes_through_every_row(qtbot,
                                                                                 editor):
    tab_to(qtbot, editor.areas.add_button)
    key(qtbot, Qt.Key.Key_Space)
    assert len(editor.areas.rows) == 1
    first = editor.areas.rows[0]
    assert is_in(first.area), "the cursor is in the new row, not left on the button"
    type_text(qtbot, "cheeks")
    key(qtbot, TAB)
    assert is_in(first.depth)

    tab_to(qtbot, editor.areas.add_button)
    key(qtbot, Qt.Key.Key_Space)
    second = editor.areas.rows[1]
    assert is_in(second.area)
    type_text(qtbot, "forehead")
    tab_to(qtbot, editor.serums.add_button)
    key(qtbot, Qt.Key.Key_Space)
    serum = editor.serums.rows[0]
    assert is_in(serum.product)
    tab_to(qtbot, editor.reactions.add_button)
    key(qtbot, Qt.Key.Key_Space)
    reaction = editor.reactions.rows[0]
    assert is_in(reaction.kind)

    # From the start, Tab visits every field in the order seen: the rows between the
    # anaesthetic's times and their Add buttons, not after the buttons at the bottom.
    tab_to(qtbot, editor.started, back=True)
    names = {"removed now": editor.removed.button}
    for i, row in enumerate(editor.areas.rows):
        names |= {f"area {i}": row.area, f"depth {i}": row.depth, f"passes {i}": row.passes,
                  f"endpoint {i}": row.endpoint, f"remove area {i}": row.remove_button}
    names |= {"add area": editor.areas.add_button, "serum": serum.product, "lot": serum.lot,
              "remove serum": serum.remove_button, "add serum": editor.serums.add_button,
              "combined": editor.combined, "kind": reaction.kind,
              "severity": reaction.severity, "observed": reaction.observed,
              "remove reaction": reaction.remove_button, "reaction notes": reaction.notes,
              "add reaction": editor.reactions.add_button, "notes": editor.notes,
              "close": editor.close_button}
    passed = [n for n in chain(qtbot, editor.started, editor.close_button, names) if n != "?"]
    assert passed == [
        "removed now",
        "area 0", "depth 0", "passes 0", "endpoint 0", "remove area 0",
        "area 1", "depth 1", "passes 1", "endpoint 1", "remove area 1", "add area",
        "serum", "lot", "remove serum", "add serum", "combined",
        "kind", "severity", "observed", "remove reaction", "reaction notes", "add reaction",
        "notes", "close"]
    assert [a.area for a in editor.session()[0].areas] == ["cheeks", "forehead"]


def test_removing_a_row_by_keyboard_leaves_the_cursor_in_the_rows(qtbot, editor):
    tab_to(qtbot, editor.areas.add_button)
    key(qtbot, Qt.Key.Key_Space)
    tab_to(qtbot, editor.areas.add_button)
    key(qtbot, Qt.Key.Key_Space)
    second = editor.areas.rows[1]
    tab_to(qtbot, second.remove_button)
    key(qtbot, Qt.Key.Key_Space)
    assert len(editor.areas.rows) == 1
    assert is_in(editor.areas.add_button) or is_in(editor.areas.rows[0].area)


# --- notes --------------------------------------------------------------------------------------


def test_tab_and_shift_tab_leave_the_notes_and_ctrl_tab_types_a_tab(qtbot, editor):
    tab_to(qtbot, editor.notes)
    type_text(qtbot, "Tolerated well.")
    for _ in range(15):
        key(qtbot, TAB)
        if is_in(editor.notes):
            break
    assert "\t" not in editor.notes.toPlainText()
    assert editor.notes.toPlainText() == "Tolerated well."

    tab_to(qtbot, editor.notes, back=True)
    key(qtbot, BACKTAB)
    assert is_in(editor.fee), "Shift+Tab goes back to the fee"
    key(qtbot, TAB)
    assert is_in(editor.notes)
    key(qtbot, TAB)
    assert not is_in(editor.notes), "Tab moves on"

    tab_to(qtbot, editor.notes, back=True)
    key(qtbot, TAB, Qt.KeyboardModifier.ControlModifier)
    assert is_in(editor.notes)
    assert "\t" in editor.notes.toPlainText()


# --- times --------------------------------------------------------------------------------------


def test_a_click_in_applied_at_then_typing_sets_the_time(qtbot, editor):
    time = editor.applied.time
    qtbot.mouseClick(time, Qt.MouseButton.LeftButton, pos=time.rect().center())
    assert is_in(time)
    type_text(qtbot, "15:50")
    key(qtbot, TAB)
    assert editor.applied.check.isChecked(), "typing a time records it"
    assert editor.session()[0].anaesthetic.applied_at == datetime(2026, 11, 20, 15, 50)


def test_a_click_on_the_minutes_side_still_takes_a_whole_typed_time(qtbot, editor):
    time = editor.removed.time
    right = time.rect().center()
    right.setX(time.rect().width() - 4)
    qtbot.mouseClick(time, Qt.MouseButton.LeftButton, pos=right)
    type_text(qtbot, "11:05")
    assert editor.removed.value(NOW) == datetime(2026, 11, 20, 11, 5)


def test_ticking_applied_at_takes_the_time_now_not_midnight(qtbot, editor):
    editor.clock["now"] = datetime(2026, 11, 20, 9, 35)
    tab_to(qtbot, editor.applied.check)
    key(qtbot, Qt.Key.Key_Space)
    assert editor.applied.check.isChecked()
    assert editor.session()[0].anaesthetic.applied_at == datetime(2026, 11, 20, 9, 35)

    editor.clock["now"] = datetime(2026, 11, 20, 10, 20)
    tab_to(qtbot, editor.removed.check)
    key(qtbot, Qt.Key.Key_Space)
    assert editor.session()[0].anaesthetic.removed_at == datetime(2026, 11, 20, 10, 20)


# --- the client dialog's date of birth ----------------------------------------------------------


@pytest.fixture
def locale():
    before = QLocale()

    def use(name: str) -> None:
        QLocale.setDefault(QLocale(name))
    yield use
    QLocale.setDefault(before)


@pytest.fixture(autouse=True)
def close_client_dialogs(monkeypatch):
    """A changed client dialog asks before closing: each one a test left open is closed
    here, while the question is still answered (see conftest.no_real_modals)."""
    yield
    for dialog in OPENED:
        monkeypatch.setattr(ClientDialog, "ask_discard", staticmethod(lambda parent: True))
        dialog.close()
    OPENED.clear()


OPENED: list[ClientDialog] = []


def open_client_dialog(qtbot, client=None) -> ClientDialog:
    dialog = ClientDialog(client)
    qtbot.addWidget(dialog)
    OPENED.append(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: is_in(dialog.first_name))
    return dialog


@pytest.mark.parametrize(("locale_name", "typed"), [
    ("en_GB", "1990-07-14"), ("en_US", "1990-07-14"), ("de_DE", "1990-07-14"),
    ("en_GB", "14/07/1990"), ("en_US", "07/14/1990"), ("de_DE", "14.07.1990"),
    ("en_GB", "14 Jul 1990"), ("en_US", "July 14, 1990"), ("en_GB", "14/7/90")])
def test_date_of_birth_as_typed_iso_or_the_locales_order(qtbot, locale, locale_name, typed):
    locale(locale_name)
    dialog = open_client_dialog(qtbot)
    type_text(qtbot, "Ana")
    key(qtbot, TAB)
    type_text(qtbot, "Lopez")
    key(qtbot, TAB)
    assert is_in(dialog.date_of_birth)
    type_text(qtbot, typed)
    key(qtbot, TAB)
    assert is_in(dialog.phone), "one Tab from the date goes to Phone"
    assert dialog.phone.text() == "", "no digit of the date spilled into Phone"
    assert dialog.client().date_of_birth == date(1990, 7, 14)
    assert dialog.date_of_birth.text() == "14 Jul 1990", "what was understood is shown"
    assert dialog.save_button.isEnabled()


def test_date_of_birth_digits_typed_one_part_at_a_time_stay_in_the_field(qtbot, locale):
    locale("en_GB")
    dialog = open_client_dialog(qtbot)
    tab_to(qtbot, dialog.date_of_birth)
    for part in ("14", "/", "07", "/", "1990"):
        type_text(qtbot, part)
        assert is_in(dialog.date_of_birth)
    assert dialog.phone.text() == ""
    assert dialog.client().date_of_birth == date(1990, 7, 14)


def test_a_date_of_birth_that_is_not_a_date_is_named_and_blocks_save(qtbot, locale):
    locale("en_GB")
    dialog = open_client_dialog(qtbot)
    type_text(qtbot, "Ana")
    key(qtbot, TAB)
    type_text(qtbot, "Lopez")
    key(qtbot, TAB)
    type_text(qtbot, "1990-02-30")
    key(qtbot, TAB)
    message = dialog.messages["date_of_birth"].text()
    assert message.startswith("Date of birth")
    assert "1990-02-30 is not a day of the calendar" in message
    assert not dialog.save_button.isEnabled()
    key(qtbot, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0

    tab_to(qtbot, dialog.date_of_birth, back=True)
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "fourteenth")
    assert "14 Jul 1990" in dialog.messages["date_of_birth"].text(), "says how to type it"
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, Qt.Key.Key_Delete)
    assert dialog.client().date_of_birth is None, "empty: not recorded, and allowed"
    assert dialog.save_button.isEnabled()


def test_an_edited_clients_date_of_birth_reads_as_the_card_shows_it(qtbot):
    dialog = open_client_dialog(qtbot, make_client(date_of_birth=date(1988, 3, 14)))
    assert dialog.date_of_birth.text() == "14 Mar 1988"
    assert dialog.client().date_of_birth == date(1988, 3, 14)


# --- Escape -------------------------------------------------------------------------------------


def test_escape_on_a_changed_client_asks_before_discarding(qtbot, monkeypatch):
    asked = []
    answer = {"discard": False}
    monkeypatch.setattr(ClientDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append(parent) or answer["discard"]))
    dialog = open_client_dialog(qtbot, make_client())
    key(qtbot, Qt.Key.Key_End)
    type_text(qtbot, "a")
    key(qtbot, Qt.Key.Key_Escape)
    assert asked == [dialog]
    assert dialog.isVisible(), "kept: the practitioner did not say discard"
    assert dialog.first_name.text() == "Anaa"

    answer["discard"] = True
    key(qtbot, Qt.Key.Key_Escape)
    assert len(asked) == 2
    assert not dialog.isVisible()


def test_escape_on_an_unchanged_client_closes_without_asking(qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(ClientDialog, "ask_discard",
                        staticmethod(lambda parent: asked.append(parent) or False))
    dialog = open_client_dialog(qtbot, make_client())
    key(qtbot, Qt.Key.Key_Escape)
    assert asked == []
    assert not dialog.isVisible()


def test_the_sessions_day_is_typed_like_any_date_and_the_time_after_one_tab(qtbot, editor):
    assert is_in(editor.started)
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "2026-11-19")
    key(qtbot, TAB)
    assert is_in(editor.started.time)
    type_text(qtbot, "16:05")
    key(qtbot, TAB)
    assert is_in(editor.practitioner), "one Tab from the time goes on to the practitioner"
    assert editor.session()[0].started_at == datetime(2026, 11, 19, 16, 5)
    assert editor.started.date.text() == "19 Nov 2026"

    key(qtbot, BACKTAB)
    key(qtbot, BACKTAB)
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "31/11/2026")
    message = editor.started_message.text()
    assert "31/11/2026 is not a day of the calendar" in message
    assert not editor.save_button.isEnabled()


# --- from the main window -----------------------------------------------------------------------


def test_from_the_windows_search_box_to_a_new_sessions_first_area_by_keys(qtbot, window,
                                                                          ui_repo, client):
    window.activateWindow()
    qtbot.waitUntil(lambda: is_in(window.search))
    type_text(qtbot, "lopez")
    key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.client is not None and window.client.id == client.id)
    key(qtbot, Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.editor is not None and window.editor.isVisible())
    editor = window.editor
    qtbot.waitUntil(lambda: is_in(editor.started))
    tab_to(qtbot, editor.areas.add_button)
    key(qtbot, Qt.Key.Key_Space)
    assert is_in(editor.areas.rows[0].area)
