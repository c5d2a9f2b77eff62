"""The session editor's layout at 1280×800: any number of rows scrolls up and down, never
sideways; a reaction's notes keep a usable width; the editor remembers its size."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import make_client, make_screening
from PySide6.QtCore import QSize

from needledesk.domain.model import Reaction, TreatedArea
from needledesk.ui.session_editor import DEFAULT_SIZE, SessionEditor

NOW = datetime(2026, 11, 20, 10, 30)
AREAS = ["forehead", "cheeks", "nose", "chin", "upper lip", "neck", "décolletage",
         "periorbital"]


@pytest.fixture
def client(ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    return client


def build(qtbot, ui_repo, client, state=None) -> SessionEditor:
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, user="Jane Smith",
                           now=lambda: NOW, state=state)
    qtbot.addWidget(editor)
    return editor


def fill_rows(editor: SessionEditor) -> None:
    editor.areas.set_items([TreatedArea(name, 0.5, 3, "even erythema") for name in AREAS])
    editor.reactions.set_items([Reaction("erythema", 1, notes="faded within the hour"),
                                Reaction("oedema (swelling)", 2),
                                Reaction("pinpoint bleeding", 1)])
    editor.serums.add()


def test_the_default_size_fits_a_1280_by_800_screen():
    # with room for the title bar and a taskbar
    assert DEFAULT_SIZE.width() <= 1280 - 20 and DEFAULT_SIZE.height() <= 800 - 60


@pytest.mark.parametrize("size", [DEFAULT_SIZE, QSize(1000, 700)])
def test_eight_areas_and_three_reactions_scroll_down_never_sideways(qtbot, ui_repo, client,
                                                                    size):
    editor = build(qtbot, ui_repo, client)
    editor.resize(size)
    editor.show()
    fill_rows(editor)
    qtbot.waitUntil(lambda: editor.fields_scroll.widget().height() > 0)
    scroll = editor.fields_scroll
    body = scroll.widget()
    qtbot.waitUntil(lambda: body.width() == scroll.viewport().width())
    assert body.minimumSizeHint().width() <= scroll.viewport().width(), \
        "the rows fit the width: nothing is cut off on the right"
    assert scroll.horizontalScrollBar().maximum() == 0
    assert editor.width() <= size.width(), "no row widened the editor"
    for row in editor.reactions.rows:
        assert row.notes.width() >= 250, "a reaction's notes keep a usable width"
        right = row.notes.mapTo(body, row.notes.rect().topRight()).x()
        assert right <= body.width()
    for row in editor.areas.rows:
        right = row.remove_button.mapTo(body, row.remove_button.rect().topRight()).x()
        assert right <= body.width(), "every row's remove button is on screen"
        assert row.area.width() >= 90 and row.depth.width() >= 70, "the chart leaves room"
    # the face chart sits beside the rows (below them when the editor is narrower), whole,
    # with its legend, at a readable size
    chart = editor.chart
    first = editor.areas.rows[0].remove_button
    last = editor.areas.add_button

    def placed() -> str:
        chart_left = chart.mapTo(body, chart.rect().topLeft())
        if chart_left.x() >= first.mapTo(body, first.rect().topRight()).x():
            return "beside"
        if chart_left.y() >= last.mapTo(body, last.rect().bottomLeft()).y():
            return "below"
        return "over the rows"
    qtbot.waitUntil(lambda: placed() == ("beside" if size == DEFAULT_SIZE else "below"))
    assert chart.isVisible() and chart.legend.isVisible()
    assert chart.canvas.width() >= 140 and chart.canvas.height() >= 200
    right = chart.mapTo(body, chart.rect().topRight()).x()
    assert right <= body.width(), "the chart is not cut off on the right"
    assert chart.canvas.labels() == {z: "0.5 mm" for z in
                                     ("forehead", "cheeks", "nose", "chin", "neck",
                                      "decolletage", "periorbital")}
    assert chart.also.text() == "Also: upper lip 0.5 mm"

    for name in AREAS + AREAS:  # more rows than the height holds: they scroll down
        editor.areas.add(TreatedArea(name, 0.5))
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    assert body.minimumSizeHint().width() <= scroll.viewport().width()
    assert scroll.horizontalScrollBar().maximum() == 0
    assert editor.size() == size


def test_a_long_course_name_does_not_widen_the_editor(qtbot, ui_repo, client):
    editor = build(qtbot, ui_repo, client)
    editor.resize(DEFAULT_SIZE)
    editor.show()
    editor.course.addItem("acne scars, enlarged pores and uneven texture on both cheeks — "
                          "5 sessions from 20 Nov 2026 " * 3, None)
    editor.practitioner.addItem("Dr Maria Fernanda de los Santos Rodríguez-Villanueva " * 2)
    scroll = editor.fields_scroll
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()


def test_the_editor_remembers_its_size(qtbot, ui_repo, client, state):
    first = build(qtbot, ui_repo, client, state)
    first.show()
    # (within the offscreen test screen, which is smaller than a clinic's)
    first.resize(900, 650)
    qtbot.waitUntil(lambda: first.size() == QSize(900, 650))
    assert first.size() != DEFAULT_SIZE
    first.close()
    assert state.value("editor/geometry")

    second = build(qtbot, ui_repo, client, state)
    second.show()
    assert second.size() == QSize(900, 650)


def test_the_editor_takes_the_windows_settings_for_its_size(qtbot, window, ui_repo, client):
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, parent=window)
    qtbot.addWidget(editor)
    assert editor.state is window.state
