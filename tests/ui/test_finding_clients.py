"""Finding the right person in the window (issue 13 item 6): namesakes told apart in the
list, a phone found however it is typed (by the clinic's country, a setting), Latin typing
finding other scripts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from factories import make_client

from needledesk.settings import ClinicSettings
from needledesk.ui.settings_dialog import SettingsDialog


def _rows(window) -> list[str]:
    model = window.client_model
    return [model.data(model.index(row, 0)) for row in range(model.rowCount())]


def _type(qtbot, widget, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def test_the_list_tells_four_namesakes_apart(qtbot, window, ui_repo):
    for born, phone in [(date(1990, 7, 14), "07700 900 123"), (date(1985, 2, 1), "+1 555 0100"),
                        (None, "07700 900 456"), (date(1990, 7, 15), None)]:
        ui_repo.add_client(make_client(first_name="Ana", last_name="López", date_of_birth=born,
                                       phone=phone), by="Jane Smith")
    _type(qtbot, window.search, "lopez ana")
    rows = _rows(window)
    assert len(rows) == 4 and len(set(rows)) == 4, rows
    assert "López, Ana · 14 Jul 1990 · …123" in rows
    assert "López, Ana · 1 Feb 1985 · …100" in rows
    assert "López, Ana · …456" in rows
    assert "López, Ana · 15 Jul 1990" in rows


def test_a_phone_typed_internationally_finds_it_written_nationally(qtbot, window, ui_repo):
    ui_repo.save_settings(ClinicSettings(country="GB"), by="Jane Smith")
    ui_repo.add_client(make_client(first_name="Sofia", last_name="Reyes",
                                   phone="07700 900 123"), by="Jane Smith")
    ui_repo.add_client(make_client(first_name="Ana", last_name="Lopes",
                                   phone="+44 7700 900456"), by="Jane Smith")
    _type(qtbot, window.search, "+44 7700 900123")
    assert [r.split(" · ")[0] for r in _rows(window)] == ["Reyes, Sofia"]
    _type(qtbot, window.search, "07700 900 456")
    assert [r.split(" · ")[0] for r in _rows(window)] == ["Lopes, Ana"]


def test_latin_typing_finds_cyrillic_and_greek(qtbot, window, ui_repo):
    ui_repo.add_client(make_client(first_name="Анна", last_name="Фёдорова"), by="Jane Smith")
    ui_repo.add_client(make_client(first_name="Ελένη", last_name="Παπαδοπούλου"),
                       by="Jane Smith")
    for typed, name in [("fedorova", "Фёдорова, Анна"), ("fyodorova", "Фёдорова, Анна"),
                        ("papadopoulou", "Παπαδοπούλου, Ελένη")]:
        _type(qtbot, window.search, typed)
        assert [r.split(" · ")[0] for r in _rows(window)] == [name], typed


def test_settings_offer_the_clinics_country(qtbot):
    dialog = SettingsDialog(ClinicSettings(country="GR"))
    qtbot.addWidget(dialog)
    assert dialog.country.currentText() == "Greece (+30)"
    dialog.country.setCurrentIndex(dialog.country.findData("GB"))
    assert dialog.settings().country == "GB"
    assert dialog.country.currentText() == "United Kingdom (+44)"
    # A file from before the setting has none: this PC's country is offered (here the
    # fallback, the test's locale naming none).
    dialog.load(replace(ClinicSettings(), country=""))
    assert dialog.settings().country == dialog.country.currentData() != ""

