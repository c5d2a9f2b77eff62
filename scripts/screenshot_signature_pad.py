"""Take the signature pad's screenshot (issue 15): `xvfb-run -a python
scripts/screenshot_signature_pad.py` (or with QT_QPA_PLATFORM=offscreen).

The treatment consent's sign dialog at 1280×800, every statement ticked, the client's
signature drawn with a pen whose pressure varies (sent as real tablet events) and the
practitioner's countersignature with the mouse. Saves docs/screenshots/signature-pad.png.
"""

from __future__ import annotations

import math
import sys
import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from needledesk.domain.model import Client, ConsentKind
from needledesk.store.database import open_database
from needledesk.store.repository import Repository
from needledesk.ui.consent_dialog import SignConsentDialog

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "signature-pad.png"


def cursive(x0: float, y0: float, loops: int, height: float, step: float = 26,
            tilt: float = 0.35) -> list[tuple[float, float, float]]:
    """A run of joined loops, like handwriting: (x, y, pressure) along a prolate cycloid
    (each loop `step` wide and `height` tall, slanted by `tilt`), pressing harder on the
    down-strokes."""
    points = []
    a = step / (2 * math.pi)
    for i in range(loops * 18 + 1):
        t = i / 18 * 2 * math.pi
        rise = height * (0.5 - 0.5 * math.cos(t)) * (1 + 0.12 * math.sin(i / 5))
        x = x0 + a * t - 1.7 * a * math.sin(t) + tilt * rise
        y = y0 - rise
        pressure = 0.3 + 0.6 * (0.5 + 0.5 * math.sin(t - 0.6))
        points.append((x, y, pressure))
    return points


def pen_stroke(pad, points) -> None:
    device = QPointingDevice("pen", 7, QInputDevice.DeviceType.Stylus,
                             QPointingDevice.PointerType.Pen,
                             QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
                             1, 2)
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2) + [
        QEvent.Type.TabletRelease]
    for kind, (x, y, pressure) in zip(kinds, points, strict=True):
        pos = QPointF(x, y)
        event = QTabletEvent(kind, device, pos, pad.mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                             Qt.MouseButton.LeftButton)
        QApplication.sendEvent(pad, event)


def mouse_stroke(pad, points) -> None:
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, points[0][:2])))
    for x, y, _p in points[1:]:
        QTest.mouseMove(pad, QPoint(round(x), round(y)))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, points[-1][:2])))


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "clinic.db")
        repo = Repository(db)
        settings = repo.settings()
        settings.practitioners = ["Jane Smith"]
        client = repo.add_client(Client("Ana", "López", date_of_birth=date(1988, 3, 14)),
                                 by="Jane Smith")
        dialog = SignConsentDialog(repo, client, ConsentKind.TREATMENT, settings,
                                   by="Jane Smith")
        dialog.resize(1280, 800)
        dialog.show()
        QTest.qWaitForWindowExposed(dialog)
        app.processEvents()
        for check in dialog.checks:
            check.setChecked(True)
        pad = dialog.client_box.pad
        h = pad.height()
        base = h * 0.70
        pen_stroke(pad, cursive(90, base, 1, h * 0.42, 60)
                   + cursive(150, base, 3, h * 0.14))                        # "Ana"
        pen_stroke(pad, [(70, base - h * 0.12, 0.5), (150, base - h * 0.15, 0.8),
                         (200, base - h * 0.16, 0.3)])                      # its bar
        pen_stroke(pad, cursive(260, base, 1, h * 0.45, 40)
                   + cursive(300, base, 5, h * 0.15, 30))                   # "López"
        pen_stroke(pad, [(330, base - h * 0.30, 0.7), (345, base - h * 0.36, 0.4)])  # accent
        other = dialog.practitioner_box.pad
        mouse_stroke(other, cursive(90, other.height() * 0.70, 1, other.height() * 0.4, 50)
                     + cursive(140, other.height() * 0.70, 6, other.height() * 0.13, 28))
        dialog.form.verticalScrollBar().setValue(dialog.form.verticalScrollBar().maximum())
        app.processEvents()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        # A palette of 256 colours: the same picture at a fraction of the bytes.
        dialog.grab().toImage().convertToFormat(
            QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
            | Qt.ImageConversionFlag.AvoidDither).save(str(OUT))
        print(f"saved {OUT} ({dialog.width()}×{dialog.height()}); "
              f"ready: {dialog.sign_button.isEnabled()}")
        dialog.hide()
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
