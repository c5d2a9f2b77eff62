"""PyInstaller runtime hook: anyascii reads its tables from the bundle's one packed file
(needledesk/_build/anyascii_pack.py says why)."""

import os
import sys

from needledesk._build.anyascii_pack import ZIP_NAME, install

install(os.path.join(sys._MEIPASS, ZIP_NAME))  # type: ignore[attr-defined]
