"""Take the client-list screenshot (issue 13 item 6) on a real X server:
`xvfb-run -a python scripts/screenshot_client_list.py`.

A small clinic with namesakes: four "López, Ana" told apart by date of birth and the phone's
last digits, and names in Cyrillic and Greek found by Latin typing. Saves
docs/screenshots/client-list.png (the list filtered by `lopez`) and
client-list-fedorova.png (by `fyodorova`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from needledesk.domain.model import Client
from needledesk.settings import ClinicSettings
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui.app import application, open_main_window

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

CLIENTS = [
    ("Ana", "López", date(1990, 7, 14), "07700 900 123"),
    ("Ana", "López", date(1985, 2, 1), "+44 7700 900456"),
    ("Ana", "López", date(1990, 7, 15), "020 7946 0018"),
    ("Ana", "López", None, "07700 900 789"),
    ("Ana", "Lopes", date(1979, 11, 3), "+351 912 345 678"),
    ("Анна", "Фёдорова", date(1992, 4, 30), "+7 912 345-67-89"),
    ("Ελένη", "Παπαδοπούλου", date(1988, 9, 9), "+30 21 0123 4567"),
    ("Пётр", "Иванов", date(1975, 1, 20), None),
    ("Sofia", "Reyes", date(2001, 5, 5), "07700 900 321"),
]


def main() -> int:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" or not os.environ.get("DISPLAY"):
        print("run under a real X server: xvfb-run -a python scripts/screenshot_client_list.py",
              file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp())
    db_path = folder / "clinic.db"
    repo = Repository(open_database(db_path))
    repo.save_settings(ClinicSettings(clinic_name="Lumen Skin Studio", country="GB",
                                      practitioners=["Jane Smith"]), by="Jane Smith")
    for first, last, born, phone in CLIENTS:
        repo.add_client(Client(first, last, date_of_birth=born, phone=phone), by="Jane Smith")
    repo.db.close()

    app = application()
    state = QSettings(str(folder / "state.ini"), QSettings.Format.IniFormat)
    window = open_main_window(db_path, state)
    window.finish_loading()
    window.resize(1280, 800)
    window.show()

    def shoot() -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        for typed, name in (("lopez", "client-list.png"),
                            ("fyodorova", "client-list-fedorova.png")):
            window.search.setText(typed)
            app.processEvents()
            window.grab().save(str(OUT / name))
            print(f"saved {OUT / name}")
        window.close()
        app.quit()

    QTimer.singleShot(500, shoot)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
