"""The face chart in the session editor and the zones of the clinic's area list, driven
through the real widgets on a real database file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from factories import make_session
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemDelegate, QApplication

from needledesk.domain.face_chart import DEFAULT_AREA_ZONES, UNTREATED, ZONES, depth_colour
from needledesk.domain.model import TreatedArea
from needledesk.settings import ClinicSettings
from needledesk.ui.face_chart_widget import FaceChartWidget
from needledesk.ui.session_editor import SessionEditor
from needledesk.ui.settings_dialog import NO_ZONE, ZONE_ROLE, SettingsDialog


def click_zone(qtbot, chart: FaceChartWidget, zone: str) -> None:
    """A left click on the zone's depth-label point, as the practitioner's mouse gives it."""
    canvas = chart.canvas
    qtbot.waitUntil(lambda: canvas.width() > 0 and canvas.isVisible())
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.point_of(zone))


def painted(chart: FaceChartWidget, zone: str) -> str:
    """The colour painted inside the zone above its label point, halfway to its edge (clear
    of the depth text and of the outline)."""
    canvas = chart.canvas
    image = canvas.grab().toImage()
    (x, y), *_ = canvas.art.labels[zone]
    top = canvas.paths[zone].boundingRect().top()
    point = canvas.transform().map(QPointF(x, y - 0.55 * (y - top))).toPoint()
    ratio = image.devicePixelRatio()
    return QColor(image.pixel(int(point.x() * ratio), int(point.y() * ratio))).name()


def rows(editor: SessionEditor) -> list[tuple[str, float, str | None]]:
    return [(a.area, a.depth_mm, a.zone) for a in editor.areas.values()]


@pytest.fixture
def say_why(monkeypatch):
    """Guideline warnings at saving are acknowledged with a reason."""
    monkeypatch.setattr(SessionEditor, "ask_acknowledgement",
                        staticmethod(lambda parent, warnings: "discussed with the client"))


# --- the chart on its own ---------------------------------------------------------------------


@pytest.fixture
def chart(qtbot):
    """The chart alone, 220 × 420, on screen."""
    chart = FaceChartWidget()
    qtbot.addWidget(chart)
    chart.resize(220, 420)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def test_each_zone_is_clicked_where_its_label_is_and_painted_by_depth(qtbot, chart):
    for zone in chart.canvas.order:
        with qtbot.waitSignal(chart.zone_clicked) as clicked:
            click_zone(qtbot, chart, zone)
        assert clicked.args == [zone]

    chart.set_areas([TreatedArea("cheeks", 1.5), TreatedArea("forehead", 0.25),
                     TreatedArea("abdomen", 2.0)])
    assert chart.canvas.labels() == {"cheeks": "1.5 mm", "forehead": "0.25 mm"}
    assert painted(chart, "cheeks") == depth_colour(1.5)
    assert painted(chart, "forehead") == depth_colour(0.25)
    assert painted(chart, "nose") == UNTREATED
    assert depth_colour(1.5) != depth_colour(0.25) != UNTREATED
    assert chart.also.text() == "Also: abdomen 2 mm" and not chart.also.isHidden()
    assert chart.canvas.zone_text("cheeks") == "Cheeks — cheeks 1.5 mm"
    assert chart.canvas.zone_text("nose") == "Nose — nose, not treated"


def test_the_zone_under_the_mouse_is_outlined_and_named(qtbot, chart):
    chart.set_areas([TreatedArea("Wangen", 1.5, zone="cheeks")],
                    {"Wangen": "cheeks", "nose": "nose"})
    QTest.mouseMove(chart.canvas, chart.canvas.point_of("cheeks"))
    qtbot.waitUntil(lambda: chart.canvas.hovered == "cheeks")
    assert chart.caption.text() == "Cheeks — Wangen 1.5 mm"
    QTest.mouseMove(chart.canvas, chart.canvas.point_of("nose"))
    qtbot.waitUntil(lambda: chart.canvas.hovered == "nose")
    assert chart.caption.text() == "Nose — nose, not treated"
    assert chart.canvas.zone_text("forehead") == "Forehead — not treated"  # no area for it
    QTest.mouseMove(chart.canvas, QPoint(1, 1))   # off the drawing
    qtbot.waitUntil(lambda: chart.canvas.hovered is None)
    assert chart.caption.text() == "Click a zone to add its area"


def test_the_keyboard_chooses_a_zone_and_enter_or_space_clicks_it(qtbot):
    chart = FaceChartWidget()
    qtbot.addWidget(chart)
    chart.show()
    qtbot.waitExposed(chart)
    canvas = chart.canvas
    assert canvas.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert canvas.accessibleName()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    assert canvas.current == canvas.order[0]
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert canvas.current == canvas.order[2]
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert canvas.current == canvas.order[1]
    assert ZONES[canvas.order[1]] in canvas.accessibleDescription()
    assert chart.caption.text().startswith(ZONES[canvas.order[1]] + " — ")
    with qtbot.waitSignal(chart.zone_clicked) as clicked:
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert clicked.args == [canvas.order[1]]
    qtbot.keyClick(canvas, Qt.Key.Key_End)
    with qtbot.waitSignal(chart.zone_clicked) as clicked:
        qtbot.keyClick(canvas, Qt.Key.Key_Space)
    assert clicked.args == [canvas.order[-1]]


# --- the chart in the editor ------------------------------------------------------------------


def test_clicking_zones_adds_rows_and_a_second_click_selects(qtbot, editor_for):
    editor = editor_for()
    editor.fields_scroll.ensureWidgetVisible(editor.chart)
    click_zone(qtbot, editor.chart, "cheeks")
    assert rows(editor) == [("cheeks", 0.5, "cheeks")]
    first = editor.areas.rows[0]
    qtbot.waitUntil(first.depth.hasFocus)
    assert editor.chart.canvas.selected == "cheeks"
    click_zone(qtbot, editor.chart, "periorbital")
    assert rows(editor) == [("cheeks", 0.5, "cheeks"), ("periorbital", 0.5, "periorbital")]
    qtbot.waitUntil(editor.areas.rows[1].depth.hasFocus)

    click_zone(qtbot, editor.chart, "cheeks")   # already there: selected, not added again
    assert len(editor.areas.rows) == 2
    qtbot.waitUntil(first.depth.hasFocus)
    assert editor.chart.canvas.selected == "cheeks"

    # the depth typed into the row the click gave shows on the chart
    qtbot.keyClicks(first.depth, "1.5")
    assert first.depth.value() == 1.5
    assert editor.chart.canvas.labels()["cheeks"] == "1.5 mm"
    assert painted(editor.chart, "cheeks") == depth_colour(1.5)


def test_typing_an_area_gives_its_zone_and_an_area_without_one_is_listed(qtbot, editor_for):
    editor = editor_for()
    editor.areas.add_button.click()
    row = editor.areas.rows[0]
    row.area.setEditText("Forehead")
    assert rows(editor) == [("Forehead", 0.5, "forehead")]
    assert editor.chart.canvas.labels() == {"forehead": "0.5 mm"}
    row.area.setCurrentText("acne scars")
    row.depth.setValue(2.0)
    assert rows(editor) == [("acne scars", 2.0, None)]
    assert editor.chart.canvas.labels() == {}
    assert editor.chart.also.text() == "Also: acne scars 2 mm"


def test_a_zone_the_clinic_renamed_adds_its_own_name_and_the_zone_is_saved(
        qtbot, ui_repo, client, editor_for, say_why):
    zones = {**DEFAULT_AREA_ZONES, "Wangen": "cheeks"}
    del zones["cheeks"]
    ui_repo.save_settings(replace(ui_repo.settings(), area_zones=zones), by="Jane Smith")
    editor = editor_for()
    editor.fields_scroll.ensureWidgetVisible(editor.chart)
    click_zone(qtbot, editor.chart, "cheeks")
    click_zone(qtbot, editor.chart, "neck")
    editor.areas.rows[0].depth.setValue(1.25)
    assert rows(editor) == [("Wangen", 1.25, "cheeks"), ("neck", 0.5, "neck")]
    assert editor.save()
    stored = ui_repo.get_session(editor.session_id)
    assert [(a.area, a.depth_mm, a.zone) for a in stored.areas] == [
        ("Wangen", 1.25, "cheeks"), ("neck", 0.5, "neck")]

    # reopened, the rows keep their zones; the chart shows them; nothing is changed
    again = editor_for(stored)
    assert rows(again) == rows(editor)
    assert again.chart.canvas.labels() == {"cheeks": "1.25 mm", "neck": "0.5 mm"}
    assert not again.is_dirty()


def test_an_area_keeps_its_recorded_zone_until_it_is_renamed(qtbot, ui_repo, client,
                                                            editor_for):
    # a session recorded as "cheeks" drawn on the jawline keeps it, whatever the name says
    session = make_session(client.id, areas=[TreatedArea("cheeks", 1.0, 2, zone="jawline")])
    ui_repo.save_draft(session, by="Jane Smith")
    editor = editor_for(ui_repo.get_session(session.id))
    assert rows(editor) == [("cheeks", 1.0, "jawline")]
    assert set(editor.chart.canvas.labels()) == {"jawline"}
    assert not editor.is_dirty()
    editor.areas.rows[0].area.setCurrentText("chin")   # renamed in the row: the name's zone
    assert rows(editor) == [("chin", 1.0, "chin")]


def test_repeat_last_copies_the_zones(qtbot, ui_repo, client, editor_for, say_why):
    previous = make_session(client.id, started_at=datetime(2026, 10, 2, 14, 0),
                            areas=[TreatedArea("Wangen", 1.5, 3, zone="cheeks"),
                                   TreatedArea("acne scars", 2.0, 3),
                                   TreatedArea("forehead", 0.5, 2)])   # before the chart
    previous.anaesthetic.applied_at = datetime(2026, 10, 2, 13, 0)
    previous.anaesthetic.removed_at = datetime(2026, 10, 2, 13, 50)
    ui_repo.save_draft(previous, by="Jane Smith")
    editor = editor_for()
    editor.repeat_last()
    # the zones as drawn; an area recorded before the chart takes its name's zone
    assert rows(editor) == [("Wangen", 1.5, "cheeks"), ("acne scars", 2.0, None),
                            ("forehead", 0.5, "forehead")]
    assert editor.chart.canvas.labels() == {"cheeks": "1.5 mm", "forehead": "0.5 mm"}
    editor.clock["now"] = datetime(2026, 11, 20, 9, 40)
    editor.applied.button.click()
    editor.clock["now"] = datetime(2026, 11, 20, 10, 25)
    editor.removed.button.click()
    assert editor.save(), editor.refusal
    assert [a.zone for a in ui_repo.get_session(editor.session_id).areas] == [
        "cheeks", None, "forehead"]
    assert editor.chart.also.text() == "Also: acne scars 2 mm"


def test_a_signed_sessions_read_only_view_shows_its_chart(qtbot, ui_repo, client,
                                                          editor_for):
    session = make_session(client.id)
    ui_repo.save_draft(session, by="Jane Smith")
    signed = ui_repo.sign_session(session.id, datetime(2026, 11, 20, 11, 0), by="Jane Smith")
    editor = editor_for(signed)
    editor.fields_scroll.ensureWidgetVisible(editor.chart)
    assert editor.chart.isVisible()
    assert editor.chart.canvas.labels() == {"cheeks": "1.5 mm", "forehead": "0.5 mm"}
    click_zone(qtbot, editor.chart, "nose")   # read-only: nothing is added
    click_zone(qtbot, editor.chart, "forehead")
    assert [a.area for a in editor.areas.values()] == ["cheeks", "forehead"]
    assert editor.chart.canvas.selected == "forehead"
    assert not editor.is_dirty()


def test_the_keyboard_reaches_the_chart_and_adds_an_area(qtbot, editor_for):
    editor = editor_for()
    chain = editor._form_tab_chain()
    assert chain.index(editor.chart.canvas) == chain.index(editor.areas.add_button) + 1
    canvas = editor.chart.canvas
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    while canvas.current != "nose":
        qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert rows(editor) == [("nose", 0.5, "nose")]
    qtbot.waitUntil(editor.areas.rows[0].depth.hasFocus)
    assert editor.chart.canvas.selected == "nose"


# --- the zones of the clinic's area list ------------------------------------------------------


def area_row(dialog: SettingsDialog, name: str) -> int:
    table = dialog.area_depths
    return [table.item(r, 0).text() for r in range(table.rowCount())].index(name)


def test_the_area_list_shows_each_areas_zone_and_a_renamed_area_keeps_it(qtbot, ui_repo,
                                                                           client,
                                                                           editor_for,
                                                                           say_why):
    dialog = SettingsDialog(ui_repo.settings())
    qtbot.addWidget(dialog)
    table = dialog.area_depths
    row = area_row(dialog, "cheeks")
    assert table.item(row, 3).text() == "Cheeks"
    assert table.item(area_row(dialog, "abdomen"), 3).text() == NO_ZONE
    table.item(row, 0).setText("Wangen")          # renamed in place: same row, same zone
    settings = dialog.settings()
    assert settings.area_zones["Wangen"] == "cheeks" and "cheeks" not in settings.area_zones
    assert dialog.save_button.isEnabled()
    ui_repo.save_settings(settings, by="Jane Smith")

    editor = editor_for()
    editor.fields_scroll.ensureWidgetVisible(editor.chart)
    click_zone(qtbot, editor.chart, "cheeks")
    assert editor.save()
    assert [(a.area, a.zone) for a in ui_repo.get_session(editor.session_id).areas] == [
        ("Wangen", "cheeks")]
    assert SettingsDialog(ui_repo.settings()).settings().area_zones["Wangen"] == "cheeks"


def test_a_new_area_takes_its_names_zone_until_one_is_chosen(qtbot):
    dialog = SettingsDialog(ClinicSettings(area_zones={"Lippen": "perioral"}))
    qtbot.addWidget(dialog)
    table = dialog.area_depths
    dialog.add_area_button.click()
    row = table.rowCount() - 1
    assert table.item(row, 3).text() == NO_ZONE
    table.item(row, 0).setText("Nose")
    assert table.zone(row) == "nose"
    table.item(row, 0).setText("Lippen")       # the clinic's own earlier name for it
    assert table.zone(row) == "perioral"
    table.item(row, 0).setText("hands")
    assert table.zone(row) is None

    # chosen by hand in the Zone column's list: the name no longer decides
    table.setCurrentCell(row, 3)
    table.edit(table.currentIndex())
    box = table.indexWidget(table.currentIndex())
    assert box.itemText(0) == NO_ZONE and box.count() == len(ZONES) + 1
    box.setCurrentIndex(box.findData("decolletage"))
    table.commitData(box)
    table.closeEditor(box, QAbstractItemDelegate.EndEditHint.NoHint)
    assert table.item(row, 3).data(ZONE_ROLE) == "decolletage"
    assert table.item(row, 3).text() == "Décolletage"
    table.item(row, 0).setText("décolletage hands")
    assert dialog.settings().area_zones["décolletage hands"] == "decolletage"


def test_removing_an_area_drops_its_zone_and_restore_defaults_brings_them_back(qtbot):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    dialog.area_depths.selectRow(area_row(dialog, "nose"))
    dialog.remove_area_button.click()
    assert "nose" not in dialog.settings().area_zones
    dialog.area_depths.item(area_row(dialog, "chin"), 0).setText("Kinn")
    dialog.restore_defaults_button.click()
    assert dialog.settings().area_zones == DEFAULT_AREA_ZONES


def test_a_zone_is_chosen_in_the_area_list_by_keyboard(qtbot):
    dialog = SettingsDialog(ClinicSettings())
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
    dialog.tabs.setCurrentIndex(2)
    table = dialog.area_depths
    row = area_row(dialog, "abdomen")
    table.setFocus()
    table.setCurrentCell(row, 3)
    qtbot.keyClick(table, Qt.Key.Key_Return)            # Enter opens the cell's list
    assert table.state() == table.State.EditingState
    box = QApplication.focusWidget()
    assert box.currentText() == NO_ZONE
    qtbot.keyClick(box, Qt.Key.Key_Down)               # the first zone: Scalp
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState)
    assert dialog.isVisible()
    assert table.item(row, 3).text() == "Scalp"
    assert dialog.settings().area_zones["abdomen"] == "scalp"
