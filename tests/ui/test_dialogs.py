"""The client, screening and settings dialogs, driven through their widgets."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog

from needledesk.domain.guidelines import (
    DEFAULT_ANAESTHETICS,
    DEFAULT_AREA_DEPTHS,
    ContactTime,
    DepthRange,
)
from needledesk.domain.model import SCREENING_QUESTIONS
from needledesk.domain.text import day_text
from needledesk.settings import ClinicSettings
from needledesk.ui.client_dialog import ClientDialog
from needledesk.ui.screening_dialog import ScreeningDialog
from needledesk.ui.settings_dialog import SettingsDialog

TODAY = date(2026, 11, 20)


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def answer_later(action) -> None:
    """Run `action(dialog)` on the modal dialog once `exec()` has shown it."""
    def run():
        dialog = QApplication.activeModalWidget()
        assert dialog is not None
        action(dialog)
    QTimer.singleShot(0, run)


# --- client -----------------------------------------------------------------------------------


@pytest.fixture
def client_dialog(qtbot):
    dialog = ClientDialog()
    qtbot.addWidget(dialog)
    return dialog


def test_new_client_with_unicode_names_and_every_field(client_dialog, qtbot):
    dialog = client_dialog
    assert dialog.windowTitle() == "New client"
    assert dialog.save_button.isEnabled()  # no red yet: pressed, it says what is missing

    # QTest types ASCII only: the accented and Cyrillic names are set, the phone is typed.
    dialog.first_name.setText("Zoë")
    dialog.last_name.setText(" Ковалёва-Núñez ")
    dialog.date_of_birth.setText("1990-05-17")
    qtbot.keyClicks(dialog.phone, "+44 20 7946 0000")
    dialog.email.setText("zoe@example.org")
    dialog.fitzpatrick.setCurrentIndex(2)
    dialog.concerns.setText("acne scars, , enlarged pores, Acne scars")
    dialog.notes.setPlainText("Prefers morning visits.")

    client = dialog.client()
    assert (client.first_name, client.last_name) == ("Zoë", "Ковалёва-Núñez")
    assert client.date_of_birth == date(1990, 5, 17)
    assert (client.phone, client.email) == ("+44 20 7946 0000", "zoe@example.org")
    assert client.fitzpatrick == 2
    assert client.concerns == ["acne scars", "enlarged pores"]
    assert client.notes == "Prefers morning visits."
    assert dialog.save_button.isEnabled()
    assert all(not message.text() for message in dialog.messages.values())
    assert dialog.client().id == client.id  # one new id, not a fresh one per call


def test_blank_last_name_is_named_beside_the_field_and_save_is_off(client_dialog):
    dialog = client_dialog
    dialog.first_name.setText("Ana")
    dialog.last_name.setText("   ")
    message = dialog.messages["last_name"]
    assert message.text() == "Last name is required"
    assert not message.isHidden()
    assert dialog.messages["first_name"].isHidden()
    assert not dialog.save_button.isEnabled()
    dialog.accept()  # however it is asked (a shortcut, a caller), an invalid client stays
    assert dialog.result() != QDialog.DialogCode.Accepted

    dialog.last_name.setText("López")
    assert message.isHidden()
    assert dialog.save_button.isEnabled()


def test_date_of_birth_in_the_future_shows_a_message(client_dialog):
    dialog = client_dialog
    dialog.first_name.setText("Ana")
    dialog.last_name.setText("López")
    tomorrow = date.today() + timedelta(days=1)
    dialog.date_of_birth.set_value(tomorrow)
    assert dialog.messages["date_of_birth"].text() == \
        f"Date of birth {day_text(tomorrow)} is in the future"
    assert not dialog.save_button.isEnabled()

    dialog.date_of_birth.clear()  # "not recorded" is always allowed
    assert dialog.client().date_of_birth is None
    assert dialog.messages["date_of_birth"].isHidden()
    assert dialog.save_button.isEnabled()


@pytest.mark.parametrize(("index", "value"), [(0, None), (1, 1), (4, 4), (6, 6)])
def test_fitzpatrick_choice_maps_to_the_type_number(client_dialog, index, value):
    client_dialog.fitzpatrick.setCurrentIndex(index)
    assert client_dialog.client().fitzpatrick == value


def test_editing_keeps_the_id_and_shows_the_name_in_the_title(qtbot):
    original = make_client(first_name="Ана", last_name="Петрова", fitzpatrick=5,
                           date_of_birth=None, concerns=["acne scars", "stretch marks"],
                           notes="Keloid on the left arm.")
    dialog = ClientDialog(original)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Edit client — Ана Петрова"
    assert dialog.client() == original  # loading and reading back changes nothing
    assert dialog.date_of_birth.text() == ""
    assert dialog.date_of_birth.placeholderText().startswith("not recorded")

    dialog.phone.setText("+7 495 000 00 00")
    edited = dialog.client()
    assert edited.id == original.id
    assert edited.phone == "+7 495 000 00 00"
    assert edited.fitzpatrick == 5


def test_enter_saves_only_when_valid_and_escape_cancels(qtbot):
    dialog = ClientDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.save_button.isDefault()
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0  # invalid: Enter does nothing

    dialog.first_name.setText("Ana")
    dialog.last_name.setText("López")
    qtbot.keyClick(dialog.last_name, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Accepted

    other = ClientDialog(make_client())
    qtbot.addWidget(other)
    other.show()
    qtbot.keyClick(other.phone, Qt.Key.Key_Escape)
    assert not other.isVisible()
    assert other.result() == QDialog.DialogCode.Rejected


def test_labels_have_mnemonics_and_buddies(client_dialog):
    from PySide6.QtWidgets import QLabel

    labels = [label for label in client_dialog.findChildren(QLabel) if label.buddy()]
    keys = [label.text()[label.text().index("&") + 1].lower() for label in labels]
    assert len(labels) == 8
    assert len(set(keys)) == len(keys)  # no two labels answer to the same Alt+key


def test_ask_returns_the_client_or_none(qtbot):
    def fill_and_save(dialog):
        dialog.first_name.setText("Ana")
        dialog.last_name.setText("López")
        dialog.save_button.click()

    answer_later(fill_and_save)
    client = ClientDialog.ask(None)
    assert client is not None and client.full_name == "Ana López"

    answer_later(lambda dialog: dialog.reject())
    assert ClientDialog.ask(None, make_client()) is None


# --- screening --------------------------------------------------------------------------------


@pytest.fixture
def screening_dialog(qtbot):
    dialog = ScreeningDialog("client-1", today=TODAY)
    qtbot.addWidget(dialog)
    return dialog


def test_new_screening_starts_unanswered_dated_today(screening_dialog):
    dialog = screening_dialog
    assert dialog.windowTitle() == "Screening"
    assert dialog.summary.text() == "No flagged answers"
    screening = dialog.screening()
    assert screening.client_id == "client-1"
    assert screening.date == TODAY
    assert screening.answers == dict.fromkeys(SCREENING_QUESTIONS)
    assert screening.consent_signed is False
    assert dialog.save_button.isEnabled()


def test_yes_to_pregnant_is_flagged_live(screening_dialog):
    dialog = screening_dialog
    dialog.yes_buttons["pregnant"].click()
    assert dialog.flag_labels["pregnant"].text() == "flag"
    assert dialog.flag_labels["breastfeeding"].text() == ""
    assert dialog.summary.text() == "1 flagged answer: Pregnant"
    assert dialog.screening().answers["pregnant"] is True
    assert dialog.save_button.isEnabled()  # flags are shown, not blocked

    dialog.no_buttons["pregnant"].click()
    assert dialog.flag_labels["pregnant"].text() == ""
    assert dialog.summary.text() == "No flagged answers"


def test_retinoids_not_stopped_is_the_flagged_no(screening_dialog):
    dialog = screening_dialog
    dialog.yes_buttons["retinoids_stopped"].click()
    assert dialog.flag_labels["retinoids_stopped"].text() == ""
    dialog.no_buttons["retinoids_stopped"].click()
    dialog.yes_buttons["keloid_history"].click()
    assert dialog.flag_labels["retinoids_stopped"].text() == "flag"
    assert dialog.summary.text() == ("2 flagged answers: Topical retinoids stopped ahead of "
                                     "treatment: no, History of keloid scarring")
    assert dialog.screening().flagged == ["retinoids_stopped", "keloid_history"]


def test_notes_and_no_consent_tick(screening_dialog):
    """Consent is signed on its own form now (issue 15): the screening is dated today and
    records none, whatever is answered."""
    dialog = screening_dialog
    assert not hasattr(dialog, "consent_date")
    dialog.notes.setPlainText("Stopped tretinoin a week ago.")
    screening = dialog.screening()
    assert screening.consent_signed is False
    assert screening.date == TODAY
    assert screening.notes == "Stopped tretinoin a week ago."


def test_previous_answers_are_prefilled_for_reconfirmation(qtbot):
    previous = make_screening("client-1", date=date(2026, 9, 1), notes="old notes")
    previous.answers["breastfeeding"] = True
    previous.answers["keloid_history"] = None
    dialog = ScreeningDialog("client-1", previous, today=TODAY)
    qtbot.addWidget(dialog)
    assert dialog.yes_buttons["breastfeeding"].isChecked()
    assert dialog.no_buttons["pregnant"].isChecked()
    assert dialog.yes_buttons["retinoids_stopped"].isChecked()
    assert not dialog.yes_buttons["keloid_history"].isChecked()
    assert not dialog.no_buttons["keloid_history"].isChecked()
    assert dialog.summary.text() == "1 flagged answer: Breastfeeding"

    screening = dialog.screening()
    assert screening.answers == previous.answers
    assert screening.id != previous.id  # a new screening, not the old one changed
    assert screening.date == TODAY
    assert screening.consent_signed is False  # consent is signed on its own form
    assert screening.notes == ""


def test_screening_ask_returns_none_when_cancelled(qtbot):
    answer_later(lambda dialog: dialog.reject())
    assert ScreeningDialog.ask(None, "client-1") is None

    def answer_and_save(dialog):
        dialog.yes_buttons["pregnant"].click()
        dialog.save_button.click()

    answer_later(answer_and_save)
    screening = ScreeningDialog.ask(None, "client-1")
    assert screening is not None and screening.flagged == ["pregnant"]


# --- settings ---------------------------------------------------------------------------------


@pytest.fixture
def settings_dialog(qtbot):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    return dialog


def write_png(path, color: str = "#2a7ab0"):
    image = QImage(24, 12, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    assert image.save(str(path), "PNG")
    return path


def test_load_then_settings_gives_the_same_back(qtbot, tmp_path):
    custom = ClinicSettings(
        clinic_name="Clínica Piel Sana", address="Calle Mayor 1\n28013 Madrid",
        phone="+34 91 000 0000", logo=write_png(tmp_path / "l.png").read_bytes(),
        currency="EUR", page_size="Letter", practitioners=["Dra. Núñez", "Олена Коваль"],
        aftercare=["SPF 50"], aftercare_text="Call us.",
        anaesthetics={"Numbit": ContactTime(15, 40)},
        area_depths={"décolletage": DepthRange(0.25, 0.5)}, default_interval_weeks=8,
        # the listed area's zone, and one of an area the list does not show (kept as it is)
        area_zones={"décolletage": "neck", "lips": "perioral"},
        # set through File > App lock…, not this dialog: carried through unchanged
        lock_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", idle_lock_minutes=5,
        country="ES", consent_max_days=730, screening_max_days=180, injectables_weeks=4,
        lapsed_after_intervals=3, photo_views=["close_up", "front"])
    defaults = ClinicSettings()
    # Every setting is set away from its default, so a field the dialog forgot would show.
    assert [f.name for f in fields(ClinicSettings)
            if getattr(custom, f.name) == getattr(defaults, f.name)] == []
    dialog = SettingsDialog(custom)
    qtbot.addWidget(dialog)
    assert dialog.settings() == custom
    assert dialog.save_button.isEnabled()


def test_every_tab_edits_its_settings(settings_dialog, qtbot):
    dialog = settings_dialog
    dialog.clinic_name.setText("Skin Studio Kraków")
    dialog.address.setPlainText("ul. Floriańska 1\n31-019 Kraków")
    dialog.phone.setText("+48 12 000 00 00")
    dialog.currency.setText("pln")
    dialog.page_size.setCurrentIndex(1)
    dialog.interval.setValue(8)

    dialog.practitioners.entry.setText("Łucja Nowak")
    qtbot.keyClick(dialog.practitioners.entry, Qt.Key.Key_Return)
    dialog.practitioners.entry.setText("Jane Smith")
    dialog.practitioners.add_button.click()
    dialog.aftercare.list.setCurrentRow(0)
    dialog.aftercare.remove_button.click()
    dialog.aftercare.entry.setText("Cold compress if warm")
    dialog.aftercare.add_button.click()
    dialog.aftercare_text.setPlainText("Be gentle with your skin.")

    dialog.anaesthetics.item(0, 0).setText("EMLA 5% cream")
    dialog.anaesthetics.item(0, 2).setData(Qt.ItemDataRole.EditRole, 75)
    dialog.add_anaesthetic_button.click()
    row = dialog.anaesthetics.rowCount() - 1
    dialog.anaesthetics.item(row, 0).setText("Numbit")
    dialog.area_depths.selectRow(0)
    dialog.remove_area_button.click()
    dialog.add_area_button.click()
    last = dialog.area_depths.rowCount() - 1
    dialog.area_depths.item(last, 0).setText("hands")
    dialog.area_depths.item(last, 2).setData(Qt.ItemDataRole.EditRole, 1.25)

    settings = dialog.settings()
    assert settings.clinic_name == "Skin Studio Kraków"
    assert settings.address == "ul. Floriańska 1\n31-019 Kraków"
    assert settings.phone == "+48 12 000 00 00"
    assert settings.currency == "PLN"
    assert settings.page_size == "Letter"
    assert settings.default_interval_weeks == 8
    assert settings.practitioners == ["Łucja Nowak", "Jane Smith"]
    assert settings.aftercare[0] == "Gentle cleanser"
    assert settings.aftercare[-1] == "Cold compress if warm"
    assert len(settings.aftercare) == len(ClinicSettings().aftercare)
    assert settings.aftercare_text == "Be gentle with your skin."
    assert settings.anaesthetics["EMLA 5% cream"] == ContactTime(45, 75)
    assert "EMLA 5%" not in settings.anaesthetics
    assert settings.anaesthetics["Numbit"] == ContactTime(30, 60)
    assert "forehead" not in settings.area_depths
    assert settings.area_depths["hands"] == DepthRange(0.5, 1.25)
    assert dialog.save_button.isEnabled()


def test_enter_in_a_list_entry_adds_and_does_not_save(settings_dialog, qtbot):
    dialog = settings_dialog
    dialog.show()
    dialog.tabs.setCurrentIndex(1)
    qtbot.keyClicks(dialog.practitioners.entry, "Dr Amaka Obi")
    qtbot.keyClick(dialog.practitioners.entry, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.practitioners.items() == ["Dr Amaka Obi"]
    assert dialog.practitioners.entry.text() == ""
    dialog.practitioners.entry.setText("dr amaka obi")  # the same name is not added twice
    dialog.practitioners.add_button.click()
    assert dialog.practitioners.items() == ["Dr Amaka Obi"]

    qtbot.keyClick(dialog.practitioners.entry, Qt.Key.Key_Return)  # empty entry: Enter saves
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.settings().practitioners == ["Dr Amaka Obi"]


def test_enter_in_a_table_cell_ends_the_edit_and_does_not_save(settings_dialog, qtbot):
    dialog = settings_dialog
    with qtbot.waitActive(dialog):
        dialog.show()
    dialog.tabs.setCurrentIndex(2)
    table = dialog.area_depths
    table.setFocus()
    for column, typed in ((0, "brow"), (2, "1.5")):
        table.setCurrentCell(0, column)
        qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter on a cell starts editing it
        assert table.state() == table.State.EditingState
        editor = QApplication.focusWidget()
        editor.selectAll()
        qtbot.keyClicks(editor, typed)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: table.state() != table.State.EditingState)
        assert dialog.isVisible()
    assert table.rows()[0] == ("brow", 0.25, 1.5)
    assert dialog.save_button.isDefault() and dialog.save_button.isEnabled()


@pytest.mark.parametrize("code", ["us", "US", "US$", "12A", ""])
def test_invalid_currency_turns_save_off_with_a_message(settings_dialog, qtbot, code):
    dialog = settings_dialog
    dialog.currency.setText(code)
    message = dialog.currency_message
    assert not message.isHidden()
    assert message.text() == \
        f"Currency: {code.upper()!r} is not a 3-letter currency code such as USD"
    assert not dialog.save_button.isEnabled()
    assert "Clinic" in dialog.summary.text()

    dialog.currency.clear()
    qtbot.keyClicks(dialog.currency, "gbp")
    assert dialog.currency.text() == "GBP"
    assert message.isHidden()
    assert dialog.save_button.isEnabled()
    assert dialog.settings().currency == "GBP"


def test_area_with_low_above_high_turns_save_off(settings_dialog):
    dialog = settings_dialog
    row = list(DEFAULT_AREA_DEPTHS).index("cheeks")
    dialog.area_depths.item(row, 1).setData(Qt.ItemDataRole.EditRole, 2.5)
    message = dialog.area_depths_message
    assert message.text() == (f"Row {row + 1} (cheeks): the usual low 2.5 mm is above "
                              "the usual high 2 mm")
    assert not dialog.save_button.isEnabled()
    assert "Guidelines" in dialog.summary.text()

    dialog.area_depths.item(row, 2).setData(Qt.ItemDataRole.EditRole, 2.5)
    assert message.isHidden()
    assert dialog.save_button.isEnabled()


def test_blank_or_repeated_names_in_a_guideline_table_turn_save_off(settings_dialog):
    dialog = settings_dialog
    dialog.add_anaesthetic_button.click()
    row = dialog.anaesthetics.rowCount()
    assert dialog.anaesthetics_message.text() == f"Row {row}: the product name is blank"
    assert not dialog.save_button.isEnabled()
    dialog.anaesthetics.item(row - 1, 0).setText("lmx4")
    assert dialog.anaesthetics_message.text() == \
        f"Row {row} (lmx4): the product is already in row 2"
    assert not dialog.save_button.isEnabled()
    dialog.anaesthetics.selectRow(row - 1)
    dialog.remove_anaesthetic_button.click()
    assert dialog.save_button.isEnabled()


def test_restore_defaults_puts_back_both_guideline_tables(qtbot):
    dialog = SettingsDialog(ClinicSettings(anaesthetics={"Numbit": ContactTime(15, 40)},
                                           area_depths={}, clinic_name="Kept"))
    qtbot.addWidget(dialog)
    dialog.add_area_button.click()  # a blank row: Save is off until defaults replace it
    assert not dialog.save_button.isEnabled()
    dialog.restore_defaults_button.click()
    settings = dialog.settings()
    assert settings.anaesthetics == DEFAULT_ANAESTHETICS
    assert settings.area_depths == DEFAULT_AREA_DEPTHS
    assert settings.clinic_name == "Kept"
    assert dialog.save_button.isEnabled()


def test_logo_is_chosen_previewed_and_removed(settings_dialog, tmp_path, monkeypatch):
    dialog = settings_dialog
    png = write_png(tmp_path / "logo.png")
    monkeypatch.setattr(dialog, "choose_logo_file", lambda: str(png))
    assert dialog.settings().logo is None
    assert not dialog.remove_logo_button.isEnabled()

    dialog.choose_logo_button.click()
    assert dialog.settings().logo == png.read_bytes()
    assert dialog.logo_preview.pixmap().width() > 0
    assert dialog.remove_logo_button.isEnabled()

    dialog.remove_logo_button.click()
    assert dialog.settings().logo is None
    assert dialog.logo_preview.pixmap().isNull()


def test_a_file_that_is_not_an_image_keeps_the_old_logo(settings_dialog, tmp_path,
                                                        monkeypatch):
    dialog = settings_dialog
    png = write_png(tmp_path / "logo.png")
    dialog.load_logo_file(png)
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    monkeypatch.setattr(dialog, "choose_logo_file", lambda: str(fake))
    dialog.choose_logo_button.click()
    assert dialog.logo_message.text() == "notes.png is not a PNG or JPEG image"
    assert dialog.settings().logo == png.read_bytes()

    monkeypatch.setattr(dialog, "choose_logo_file", lambda: None)  # the file dialog cancelled
    dialog.choose_logo_button.click()
    assert dialog.settings().logo == png.read_bytes()


def test_settings_ask_returns_the_edited_settings_or_none(qtbot):
    def rename_and_save(dialog):
        dialog.clinic_name.setText("Renamed")
        dialog.save_button.click()

    answer_later(rename_and_save)
    settings = SettingsDialog.ask(None, ClinicSettings())
    assert settings is not None and settings.clinic_name == "Renamed"

    answer_later(lambda dialog: dialog.reject())
    assert SettingsDialog.ask(None, ClinicSettings()) is None
