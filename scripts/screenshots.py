"""Take the README's screenshots on a real X server: `xvfb-run -a python scripts/screenshots.py`.

Builds a 2,000-client demo database in a temporary folder, opens the main window on a client
with a course under way, then a new session filled by "Repeat last session". Then the
first-run set-up as a fresh database shows it (paper and currency from this PC's locale).
`python scripts/screenshots.py first-run` takes only that one, `… course-planning` only the
"Plan a course" dialog; `… editor-1280x800` only the
session editor at its own size on a 1280×800 screen, with 8 treated areas and 3 reactions
(`xvfb-run -a -s "-screen 0 1280x800x24" python scripts/screenshots.py editor-1280x800`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from needledesk.demo import fill
from needledesk.domain.guidelines import lookup
from needledesk.settings import ClinicSettings
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui import app as app_module
from needledesk.ui.app import application, open_main_window
from needledesk.ui.session_editor import SessionEditor

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def demo_clinic(clients: int) -> tuple[Path, Repository, ClinicSettings]:
    """A demo clinic of `clients` made up clients in `demo.db` of a new temporary folder,
    named and with two practitioners."""
    folder = Path(tempfile.mkdtemp())
    repo = Repository(open_database(folder / "demo.db"))
    fill(repo, clients=clients, seed=11)
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.practitioners = ["Jane Smith", "Lucía Fernández"]
    repo.save_settings(settings, by="Jane Smith")
    return folder, repo, settings


def main(argv: list[str]) -> int:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" or not os.environ.get("DISPLAY"):
        print("run under a real X server: xvfb-run -a python scripts/screenshots.py",
              file=sys.stderr)
        return 2
    if argv == ["editor-1280x800"]:
        editor_shot()
        return 0
    if argv == ["course-planning"]:
        course_planning_shot()
        return 0
    if argv != ["first-run"]:
        main_window_shots()
    first_run_shot()
    return 0


def course_planning_shot() -> None:
    """The "Plan a course" dialog as the client card opens it, filled in for a client with
    acne scars (`python scripts/screenshots.py course-planning`)."""
    from datetime import date

    from needledesk.domain.model import Client
    from needledesk.ui.course_dialog import CourseDialog

    folder = Path(tempfile.mkdtemp())
    repo = Repository(open_database(folder / "clinic.db"))
    client = repo.add_client(Client("Ana", "López", concerns=["acne scars", "enlarged pores"]),
                             by="Jane Smith")
    app = application()
    dialog = CourseDialog(client.id, concerns=client.concerns, today=date(2026, 12, 1))
    dialog.sessions.setValue(4)
    dialog.interval.setValue(6)
    dialog.areas.setText("cheeks, temples, chin")
    dialog.notes.setPlainText("Start at 1.0 mm on the cheeks; review the scars after session 2.")
    dialog.show()

    def shoot() -> None:
        app.processEvents()
        OUT.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(OUT / "course-planning.png"))
        dialog.close()
        app.quit()

    QTimer.singleShot(300, shoot)
    app.exec()
    print(f"saved {OUT / 'course-planning.png'}")


def editor_shot() -> None:
    """The session editor as it first opens on a 1280×800 screen: a new session filled by
    "Repeat last session" (its copied lots marked), 8 treated areas and 3 reactions."""
    from needledesk.domain.model import Reaction, TreatedArea

    _folder, repo, settings = demo_clinic(60)
    client = next(c for c in (repo.get_client(s.id) for s in repo.search_clients(""))
                  if any(s.serums and s.device.cartridge_lot for s in repo.sessions(c.id)))
    app = application()
    editor = SessionEditor(repo, settings, client, user="Jane Smith")
    editor.show()
    editor.repeat_last()
    editor.applied.button.click()
    areas = ["forehead", "cheeks", "nose", "chin", "upper lip", "neck", "periorbital",
             "décolletage"]
    depths = [0.5, 1.5, 0.5, 1.0, 0.5, 0.75, 0.25, 0.5]
    editor.areas.set_items([TreatedArea(a, d, 3, "even erythema")
                            for a, d in zip(areas, depths, strict=True)])
    editor.reactions.set_items([
        Reaction("erythema", 1, notes="even redness over the treated areas, as expected"),
        Reaction("oedema (swelling)", 1, notes="mild, under the eyes"),
        Reaction("pinpoint bleeding", 1, notes="stopped within minutes")])
    for _ in range(5):
        app.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    editor.grab().save(str(OUT / "editor-1280x800.png"))
    print(f"saved {OUT / 'editor-1280x800.png'} ({editor.width()}×{editor.height()})")
    editor._baseline = editor._snapshot()  # nothing to ask on closing
    editor.close()
    repo.db.close()


def first_run_shot() -> None:
    """The set-up on a new, empty database, through the start-up's own set-up step."""
    from needledesk.ui.first_run import SKIP_SETUP_ENV, FirstRunDialog

    os.environ.pop(SKIP_SETUP_ENV, None)
    folder = Path(tempfile.mkdtemp())
    app = application()
    state = QSettings(str(folder / "state.ini"), QSettings.Format.IniFormat)
    shots: list[Path] = []

    def shoot() -> None:
        dialog = app.activeModalWidget()
        if not isinstance(dialog, FirstRunDialog):
            QTimer.singleShot(100, shoot)
            return
        app.processEvents()
        OUT.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(OUT / "first-run.png"))
        shots.append(OUT / "first-run.png")
        dialog.reject()

    QTimer.singleShot(500, shoot)
    window = open_main_window(folder / "clinic.db", state, set_up=app_module._first_run)
    window.repo.db.close()
    window.deleteLater()
    print(f"saved {', '.join(map(str, shots)) or 'nothing: the set-up did not show'}")


def main_window_shots() -> None:
    folder, repo, settings = demo_clinic(2000)
    db_path = folder / "demo.db"
    repo.db.close()

    # The script answers the questions a practitioner would be asked.
    SessionEditor.ask_acknowledgement = staticmethod(lambda parent, warnings: "")
    SessionEditor.ask_unsaved = staticmethod(lambda parent: "discard")
    app = application()
    state = QSettings(str(folder / "state.ini"), QSettings.Format.IniFormat)
    window = open_main_window(db_path, state)
    window.finish_loading()   # the card and search, loaded right after the first paint
    window.resize(1280, 800)
    window.show()

    def shoot() -> None:
        window.search.setText("gar")
        # a client with a course still under way and a few sessions of history
        for row in range(window.client_model.rowCount()):
            window.show_client(window.client_model.client(row).id)
            if "next due" in window.course_label.text() and \
                    4 <= window.history_model.rowCount() <= 9:
                window._select_row(row)
                break
        app.processEvents()
        OUT.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(OUT / "main-window.png"))

        editor = window.new_session() or window.open_session(window.history_model.session(0).id)
        editor.practitioner.setCurrentText("Jane Smith")
        editor.repeat_last()
        editor.applied.button.click()
        for row in editor.areas.rows:
            usual = lookup(settings.area_depths, row.area.currentText())
            if usual is not None and usual.high_mm <= 1.0:
                row.depth.setValue(usual.high_mm + 0.25)  # past the usual range: amber
                break
        editor.reactions.add()
        editor.resize(1180, 840)
        app.processEvents()
        editor.grab().save(str(OUT / "session-editor.png"))
        editor.close()
        window.close()
        app.quit()

    QTimer.singleShot(500, shoot)
    app.exec()
    print(f"saved {OUT / 'main-window.png'} and {OUT / 'session-editor.png'}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
