"""The first-run set-up, on a real SQLite file on disk, driven with keys where practical.

How automated runs pass the set-up: the rest of the suite never meets it, because it builds
`MainWindow` (conftest) or calls `open_main_window` without `set_up=` (only `run_window`
passes the set-up step). Here `NEEDLEDESK_SKIP_SETUP` is removed from the environment for
every test (autouse fixture) so the dialog really shows; one test sets it to 1 and checks the
set-up is left out with nothing written; another pre-seeds the settings and checks the
set-up is not asked. The modal dialog is answered from a timer, as a person would.
"""

from __future__ import annotations

import pytest
from factories import make_client
from PySide6.QtCore import QLocale, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog

from needledesk.settings import ClinicSettings
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.store.settings import load_settings, needs_first_run
from needledesk.ui import app as app_module
from needledesk.ui.first_run import (
    SKIP_SETUP_ENV,
    FirstRunDialog,
    locale_defaults,
    set_up_if_needed,
    skipped_settings,
    starting_settings,
)
from needledesk.ui.settings_dialog import SettingsDialog


@pytest.fixture(autouse=True)
def setup_not_skipped(monkeypatch):
    monkeypatch.delenv(SKIP_SETUP_ENV, raising=False)


@pytest.fixture
def locale():
    """Sets the default QLocale for one test (the PC's region), then puts it back."""
    before = QLocale()

    def use(name: str) -> None:
        QLocale.setDefault(QLocale(name))

    yield use
    QLocale.setDefault(before)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "clinic.db"


@pytest.fixture
def repo(db_path):
    repository = Repository(open_database(db_path))
    yield repository
    repository.db.close()


@pytest.fixture
def state(tmp_path):
    return QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)


def answer_later(qtbot, action) -> list[str]:
    """Run `action(dialog)` on the set-up once `exec()` shows it; the list records it ran."""
    ran: list[str] = []

    def run():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, FirstRunDialog), dialog
        ran.append(dialog.windowTitle())
        try:
            action(dialog)
        except BaseException:
            dialog.done(QDialog.DialogCode.Rejected)  # never leave a modal dialog waiting
            raise
    QTimer.singleShot(0, run)
    return ran


def never_asked(monkeypatch) -> None:
    def fail(parent, settings):
        raise AssertionError("the set-up must not be asked")
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda cls, *a: fail(*a)))


def stored_keys(repo) -> list[str]:
    return [key for (key,) in repo.db.execute("SELECT key FROM settings").fetchall()]


def write_png(path):
    image = QImage(24, 12, QImage.Format.Format_RGB32)
    image.fill(QColor("#2a7ab0"))
    assert image.save(str(path), "PNG")
    return path


# --- when it is asked -------------------------------------------------------------------------


def test_an_empty_database_needs_the_set_up_and_a_used_one_does_not(repo, db_path):
    assert needs_first_run(repo.db)
    repo.mark_demo(by="Jane Smith")  # a key that is not a clinic setting does not count
    assert needs_first_run(repo.db)

    imported = Repository(open_database(db_path.with_name("imported.db")))
    imported.add_client(make_client(),
                        by="Jane Smith")  # records but no settings: an import, not nagged
    assert not needs_first_run(imported.db)
    imported.db.close()

    repo.save_settings(ClinicSettings(), by="Jane Smith")
    assert not needs_first_run(repo.db)


def test_the_set_up_shows_before_the_window_and_what_is_typed_is_saved(
        qtbot, db_path, state, locale, tmp_path):
    locale("de_DE")
    logo = write_png(tmp_path / "logo.png")

    def fill(dialog):
        assert dialog.currency.text() == "EUR" and dialog.page_size.currentText() == "A4"
        assert dialog.focusWidget() is dialog.clinic_name  # typing starts at the name
        qtbot.keyClicks(dialog.clinic_name, "Lumen Skin Studio")
        dialog.address.setPlainText("Hauptstrasse 5\n10115 Berlin")
        qtbot.keyClicks(dialog.phone, "+49 30 1234567")
        dialog.page_size.setCurrentText("Letter")
        dialog.practitioner.setText("  Lucía   Fernández ")
        dialog.load_logo_file(logo)
        qtbot.keyClick(dialog.practitioner, Qt.Key.Key_Return)  # Enter finishes

    ran = answer_later(qtbot, fill)
    window = app_module.open_main_window(db_path, state, set_up=app_module._first_run)
    qtbot.addWidget(window)
    assert ran == ["Set up NeedleDesk"]
    assert window.settings.clinic_name == "Lumen Skin Studio"

    window.repo.db.close()
    reopened = open_database(db_path)
    saved = load_settings(reopened)
    reopened.close()
    assert (saved.clinic_name, saved.address, saved.phone) == (
        "Lumen Skin Studio", "Hauptstrasse 5\n10115 Berlin", "+49 30 1234567")
    assert (saved.currency, saved.page_size) == ("EUR", "Letter")
    assert saved.practitioners == ["Lucía Fernández"]
    assert saved.logo == logo.read_bytes()
    assert saved.aftercare == ClinicSettings().aftercare  # what the set-up does not ask

    settings_dialog = SettingsDialog(saved)  # and everything is editable in Settings
    qtbot.addWidget(settings_dialog)
    assert settings_dialog.clinic_name.text() == "Lumen Skin Studio"
    assert settings_dialog.currency.text() == "EUR"
    assert settings_dialog.page_size.currentText() == "Letter"
    assert settings_dialog.practitioners.items() == ["Lucía Fernández"]
    assert settings_dialog.settings() == saved


def test_a_database_already_set_up_is_not_asked(repo, monkeypatch):
    repo.save_settings(ClinicSettings(clinic_name="Pre-seeded"), by="Jane Smith")
    never_asked(monkeypatch)
    assert set_up_if_needed(repo) == "not needed"
    assert repo.settings().clinic_name == "Pre-seeded"


def test_the_environment_variable_leaves_the_set_up_out_and_writes_nothing(repo, monkeypatch):
    monkeypatch.setenv(SKIP_SETUP_ENV, "1")
    never_asked(monkeypatch)
    assert set_up_if_needed(repo) == "environment"
    assert stored_keys(repo) == []
    assert needs_first_run(repo.db), "a person's first real start still asks"
    monkeypatch.setenv(SKIP_SETUP_ENV, "0")  # 0 means: do not skip
    monkeypatch.setattr(FirstRunDialog, "ask", classmethod(lambda cls, *a: None))
    assert set_up_if_needed(repo) == "skipped"


# --- skipping ---------------------------------------------------------------------------------


def test_escape_skips_keeps_nothing_typed_and_is_not_asked_again(qtbot, repo, locale,
                                                                  monkeypatch):
    locale("en_US")

    def type_then_escape(dialog):
        qtbot.keyClicks(dialog.clinic_name, "Half typed")
        qtbot.keyClick(dialog.clinic_name, Qt.Key.Key_Escape)

    ran = answer_later(qtbot, type_then_escape)
    assert set_up_if_needed(repo) == "skipped"
    assert ran
    saved = repo.settings()
    assert saved == skipped_settings()
    assert (saved.clinic_name, saved.currency, saved.page_size) == (
        ClinicSettings().clinic_name, "USD", "Letter")
    assert not needs_first_run(repo.db)

    never_asked(monkeypatch)
    assert set_up_if_needed(repo) == "not needed"


def test_the_skip_button_with_no_locale_currency_keeps_a_working_default(qtbot, repo, locale):
    locale("C")
    answer_later(qtbot, lambda dialog: dialog.skip_button.click())
    assert set_up_if_needed(repo) == "skipped"
    saved = repo.settings()
    # The locale named no currency: the declared default stays, so fees always have one.
    assert (saved.currency, saved.page_size) == (ClinicSettings.currency, "A4")


# --- locale defaults --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "page_size", "currency"), [
    ("en_US", "Letter", "USD"),
    ("de_DE", "A4", "EUR"),
    ("C", "A4", ""),
    ("fr_CA", "Letter", "CAD"),
    ("es_MX", "Letter", "MXN"),
    ("en_PH", "Letter", "PHP"),
    ("en_GB", "A4", "GBP"),
    ("ja_JP", "A4", "JPY"),
])
def test_paper_and_currency_come_from_the_locale(qtbot, locale, name, page_size, currency):
    locale(name)
    assert locale_defaults() == (page_size, currency)
    dialog = FirstRunDialog(starting_settings())
    qtbot.addWidget(dialog)
    assert dialog.page_size.currentText() == page_size
    assert dialog.currency.text() == currency
    assert dialog.clinic_name.text() == ""
    assert dialog.currency_hint.isVisibleTo(dialog) == (not currency)  # "type yours"


# --- validation and keys ----------------------------------------------------------------------


def test_invalid_fields_are_named_with_what_is_allowed_and_nothing_is_written(
        qtbot, repo, locale):
    locale("C")
    seen: dict[str, str] = {}

    def try_finish(dialog):
        qtbot.keyClick(dialog.clinic_name, Qt.Key.Key_Return)  # Enter = Finish, all blank
        assert dialog.isVisible(), "Finish refused"
        assert stored_keys(repo) == [], "nothing written while invalid"
        seen["name"] = dialog.clinic_name_message.text()
        seen["blank currency"] = dialog.currency_message.text()
        assert not dialog.currency_hint.isVisible()  # the message says it instead

        qtbot.keyClicks(dialog.clinic_name, "Clinic")
        assert not dialog.clinic_name_message.text(), "fixed fields clear as you type"
        qtbot.keyClicks(dialog.currency, "eu")
        assert dialog.currency.text() == "EU"
        qtbot.keyClick(dialog.currency, Qt.Key.Key_Return)
        assert dialog.isVisible()
        seen["short currency"] = dialog.currency_message.text()
        assert stored_keys(repo) == []

        dialog.currency.setFocus()  # the field marked first has its text selected:
        dialog.currency.selectAll()   # typing replaces it
        qtbot.keyClicks(dialog.currency, "eur")
        assert dialog.currency.text() == "EUR" and not dialog.currency_message.text()
        qtbot.keyClick(dialog.currency, Qt.Key.Key_Return)

    answer_later(qtbot, try_finish)
    assert set_up_if_needed(repo) == "finished"
    assert seen["name"] == "Clinic name: type the name that heads printed summaries"
    assert seen["blank currency"] == ("Currency: type your clinic's currency, three capital "
                                      "letters, such as EUR, GBP or USD")
    assert seen["short currency"] == ("Currency: 'EU' is not a 3-letter currency code such "
                                      "as USD")
    saved = repo.settings()
    assert (saved.clinic_name, saved.currency, saved.page_size) == ("Clinic", "EUR", "A4")
    assert saved.practitioners == []  # the first practitioner is optional


def test_tab_goes_down_the_fields_in_order(qtbot, locale):
    locale("en_GB")
    dialog = FirstRunDialog(starting_settings())
    qtbot.addWidget(dialog)
    order = [dialog.clinic_name, dialog.address, dialog.phone, dialog.currency,
             dialog.page_size, dialog.practitioner, dialog.choose_logo_button]
    for first, second in zip(order, order[1:], strict=False):
        widget = first.nextInFocusChain()
        while not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
        assert widget is second, (first, widget)
    assert dialog.finish_button.isDefault()
    assert dialog.address.tabChangesFocus()


def test_the_logo_is_chosen_as_in_settings(qtbot, tmp_path, monkeypatch):
    dialog = FirstRunDialog(starting_settings())
    qtbot.addWidget(dialog)
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    monkeypatch.setattr(dialog, "choose_logo_file", lambda: str(fake))
    dialog.choose_logo_button.click()
    assert dialog.logo_message.text() == "notes.png is not a PNG or JPEG image"
    assert dialog.settings().logo is None
    png = write_png(tmp_path / "logo.png")
    monkeypatch.setattr(dialog, "choose_logo_file", lambda: str(png))
    dialog.choose_logo_button.click()
    assert dialog.settings().logo == png.read_bytes()
    assert dialog.remove_logo_button.isEnabled()
    dialog.remove_logo_button.click()
    assert dialog.settings().logo is None


def test_ask_returns_none_on_skip(qtbot):
    answer_later(qtbot, lambda dialog: dialog.reject())
    assert FirstRunDialog.ask(None, starting_settings()) is None
    assert QApplication.activeModalWidget() is None  # nothing left modal
