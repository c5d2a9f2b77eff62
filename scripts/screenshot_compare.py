"""Take the screenshot of the comparison view (issue 16): `QT_QPA_PLATFORM=offscreen python
scripts/screenshot_compare.py` (or under xvfb-run).

A client with a photo consent signed on paper and a course of four sessions, eight weeks
apart, the cheeks treated deeper each time; at each a front and a left 45° photo (synthetic
faces from `needledesk.demo_photos`, the marks fading session by session, taken in through
the real `repo.add_photo`). The comparison opens on the left 45° view, first against latest,
as the overlay, zoomed onto the cheek with the divider across it. Saves
docs/screenshots/compare-view.png.
"""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QSettings, QThread
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
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui.compare_view import OVERLAY, CompareDialog

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "compare-view.png"
BY = "Jane Smith"


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Repository(open_database(Path(tmp) / "clinic.db"))
        client = repo.add_client(Client("Sofia", "Marino", date_of_birth=date(1991, 6, 2),
                                        concerns=["acne scars"]), by=BY)
        form = default_template(ConsentKind.PHOTO)
        repo.add_consent(Consent(
            client_id=client.id, kind=form.kind, signed_at=datetime(2026, 3, 2, 9, 50),
            method=ConsentMethod.ON_PAPER, practitioner=BY, title=form.title, body=form.body,
            statements=list(form.statements),
            answers={s.key: s.required or s.key in ("photo_use_record", "photo_use_shown")
                     for s in form.statements},
            template_id=form.id, template_version=form.version), by=BY, template=form,
            today=date(2026, 3, 2))
        for number in range(1, 5):
            started = datetime(2026, 3, 3, 10, 30) + timedelta(weeks=8 * (number - 1))
            session = repo.save_draft(Session(
                client.id, started, BY, device=Device(DeviceType.PEN, "Dermapen 4", "16-pin"),
                areas=[TreatedArea("cheeks", 1.0 + 0.5 * (number - 1), 3, "pinpoint bleeding"),
                       TreatedArea("forehead", 0.5, 2, "even erythema")],
                aftercare=[], fee=None), by=BY)
            for view in ("front", "left_45"):
                repo.add_photo(session.id, face_photo(view, session=number, seed=11,
                                                      size=(1200, 1600), taken=started),
                               view=PhotoView(view), by=BY, now=started)
        state = QSettings(str(Path(tmp) / "state.ini"), QSettings.Format.IniFormat)
        dialog = CompareDialog(repo, client.id, view=PhotoView.LEFT_45, state=state,
                               today=lambda: date(2026, 11, 20))
        dialog.resize(900, 640)
        dialog.show()
        if not dialog.wait_ready(10_000):
            print("the photos were not ready", file=sys.stderr)
            return 1
        dialog.set_mode(OVERLAY)
        dialog.pane.set_zoom(2.2)                       # onto the cheek, the divider across it
        dialog.pane.pan_by(0.06, 0.02)
        dialog.slider.setValue(520)
        dialog.wait_ready(2000)
        for _ in range(50):   # the sharper decode the zoom asked for
            app.processEvents()
            if all(side.pending == 0 for side in dialog.pane.sides):
                break
            QThread.msleep(20)
        app.processEvents()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        dialog.grab().save(buffer, "PNG")
        # 128 colours: the photos' grain makes a full-colour PNG about half a megabyte
        Image.open(io.BytesIO(buffer.data().data())).convert("RGB").quantize(
            128, dither=Image.Dither.NONE).save(OUT, optimize=True)
        dialog.close()
        repo.db.close()
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
