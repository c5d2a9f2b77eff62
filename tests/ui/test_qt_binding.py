"""Guards the PySide6 pin: 6.12.0 over-releases None in bool setters and aborts the process."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from PySide6.QtWidgets import QApplication, QCheckBox
app = QApplication([])
box = QCheckBox()
for i in range(20000):
    box.setVisible(i % 2 == 0)
    box.setEnabled(True)
    box.setChecked(i % 2 == 1)
print("ok")
"""


def test_bool_setters_do_not_corrupt_reference_counts():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "ok"
