"""The face chart's screenshot for the README: the session editor at its own size on a
1280×800 screen, four areas charted by clicking their zones, the cursor in the last one's
depth (`xvfb-run -a -s "-screen 0 1280x800x24" python scripts/face_chart_screenshot.py`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from screenshots import demo_clinic  # scripts/screenshots.py, beside this script

from needledesk.ui.app import application
from needledesk.ui.session_editor import SessionEditor

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "editor-face-chart.png"


def main() -> int:
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen" and not os.environ.get("DISPLAY"):
        print("run under an X server (xvfb-run) or with QT_QPA_PLATFORM=offscreen",
              file=sys.stderr)
        return 2
    _folder, repo, settings = demo_clinic(40)
    client = next(repo.get_client(s.id) for s in repo.search_clients(""))
    app = application()
    editor = SessionEditor(repo, settings, client, user="Jane Smith")
    editor.show()
    editor.device_model.setText("Dermapen 4")
    editor.cartridge.setText("16-pin")
    editor.anaesthetic.setCurrentText("LMX4")
    editor.applied.button.click()
    # four zones clicked, each depth typed as the practitioner would
    canvas = editor.chart.canvas
    for zone, depth in (("forehead", "0.5"), ("cheeks", "1.5"), ("nose", "0.25"),
                        ("chin", "1")):
        editor.fields_scroll.ensureWidgetVisible(editor.chart)
        app.processEvents()
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         canvas.point_of(zone))
        row = editor.areas.rows[-1]
        row.depth.selectAll()
        QTest.keyClicks(row.depth, depth)
        row.endpoint.setCurrentText("even erythema")
    editor.areas.add().area.setCurrentText("acne scars")   # an area with no zone
    editor.areas.rows[-1].depth.setValue(2.0)
    editor.activateWindow()
    editor.areas.rows[1].depth.setFocus()   # the cheeks' row: its zone outlined
    for _ in range(10):
        app.processEvents()
    editor.fields_scroll.ensureWidgetVisible(editor.chart, 0, 0)
    app.processEvents()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    editor.grab().save(str(OUT))
    print(f"saved {OUT} ({editor.width()}×{editor.height()})")
    editor._baseline = editor._snapshot()  # nothing to ask on closing
    editor.close()
    repo.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
