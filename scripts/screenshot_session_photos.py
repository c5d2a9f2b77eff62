"""Take the screenshot of a session's photos (issue 16): `QT_QPA_PLATFORM=offscreen python
scripts/screenshot_session_photos.py` (or under xvfb-run).

A client with a photo consent signed on paper and a session of her course; the clinic asks
for the front, both 45° views and the left profile; the front, both 45° views and a
close-up are dropped in (synthetic faces from `needledesk.demo_photos`, through the real
`repo.add_photo`), one photo is removed with a reason, so the left profile shows as an empty
place to drop one and the history line shows. Saves docs/screenshots/session-photos.png.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from needledesk.demo_photos import face_photo
from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import (
    Client,
    Consent,
    ConsentKind,
    ConsentMethod,
    Device,
    DeviceType,
    PhotoView,
    Session,
    TreatedArea,
)
from needledesk.settings import ClinicSettings
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui.photos_panel import PhotosDialog
from needledesk.ui.tasks import Tasks

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "session-photos.png"
BY = "Jane Smith"


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    Tasks.synchronous = True   # the thumbnails are all there when the picture is taken
    with tempfile.TemporaryDirectory() as tmp:
        repo = Repository(open_database(Path(tmp) / "clinic.db"))
        repo.save_settings(replace(ClinicSettings(), practitioners=[BY], photo_views=[
            "front", "left_45", "right_45", "left_profile"]), by=BY)
        client = repo.add_client(Client("Sofia", "Marino", date_of_birth=date(1991, 6, 2),
                                        concerns=["acne scars"]), by=BY)
        started = datetime(2026, 11, 20, 10, 30)
        form = default_template(ConsentKind.PHOTO)
        repo.add_consent(Consent(
            client_id=client.id, kind=form.kind, signed_at=datetime(2026, 9, 10, 9, 50),
            method=ConsentMethod.ON_PAPER, practitioner=BY, title=form.title, body=form.body,
            statements=list(form.statements),
            answers={s.key: s.required or s.key in ("photo_use_record", "photo_use_shown")
                     for s in form.statements},
            template_id=form.id, template_version=form.version), by=BY, template=form,
            today=date(2026, 9, 10))
        session = repo.save_draft(Session(
            client.id, started, BY, device=Device(DeviceType.PEN, "Dermapen 4", "16-pin"),
            areas=[TreatedArea("cheeks", 1.5, 3, "pinpoint bleeding")], aftercare=[],
            fee=None), by=BY)
        folder = Path(tmp) / "camera"
        folder.mkdir()
        paths = []
        for i, view in enumerate(("front", "left_45", "right_45", "close_up", "front")):
            path = folder / f"IMG_{4210 + i}.JPG"
            path.write_bytes(face_photo(view, session=3, seed=11 + (i == 4),
                                        size=(900, 1200), taken=started))
            paths.append(str(path))
        state = QSettings(str(Path(tmp) / "state.ini"), QSettings.Format.IniFormat)
        dialog = PhotosDialog(repo, repo.settings(), client, session.id, by=BY, state=state)
        dialog.resize(940, 420)
        dialog.show()
        panel = dialog.panel
        panel.add_files(paths[:3])
        panel.add_files([paths[4]], panel.photos[0].view)   # a front taken twice
        panel.add_files([paths[3]], PhotoView.CLOSE_UP, label="left cheek scar")
        second_front = [p for p in panel.photos if p.view == "front"][-1]
        repo.remove_photo(second_front.id, "blurred, taken again", by=BY)
        panel.refresh()
        panel.add_files(paths[:1])   # "1 was already stored"
        panel.select_photo(panel.photos[0].id)
        for _ in range(5):
            app.processEvents()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(OUT))
        print(f"saved {OUT} ({panel.thumbnails_shown()} thumbnails)")
        dialog.close()
        repo.db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
