"""Draw the application icon: resources/icons/needledesk.{png,ico,icns}.

A rounded teal square with a white microneedling pen and the dots of the micro-channels it
leaves. Every size is drawn at that size (not scaled down from a big one), so the small
icons stay crisp. Run from anywhere, with or without a display:

    .venv/bin/python scripts/make_icon.py
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
TEAL_LIGHT = QColor("#1aa6a3")
TEAL_DARK = QColor("#0b6f73")
WHITE = QColor("#ffffff")
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Apple icon types holding PNG data, by pixel size (the @2x types share sizes).
ICNS_TYPES = ((b"icp4", 16), (b"ic11", 32), (b"icp5", 32), (b"ic12", 64), (b"ic07", 128),
              (b"ic13", 256), (b"ic08", 256), (b"ic14", 512), (b"ic09", 512),
              (b"ic10", 1024))


def draw(size: int) -> QImage:
    """The icon at `size` x `size` pixels, drawn on a 256-unit canvas."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256, size / 256)
    detailed = size >= 48

    # The tile: a rounded square, lighter at the top left.
    gradient = QLinearGradient(QPointF(0, 0), QPointF(256, 256))
    gradient.setColorAt(0, TEAL_LIGHT)
    gradient.setColorAt(1, TEAL_DARK)
    margin = 8 if size >= 32 else 4
    tile = QRectF(margin, margin, 256 - 2 * margin, 256 - 2 * margin)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(tile, 56, 56)

    # The pen, pointing down-left: drawn upright, then turned 45 degrees.
    p.translate(132, 124)
    p.rotate(45)
    p.setBrush(WHITE)
    body = QPainterPath()
    body.addRoundedRect(QRectF(-24, -108, 48, 118), 24, 24)
    p.drawPath(body)
    tip = QPainterPath()
    tip.moveTo(-20, 8)
    tip.lineTo(20, 8)
    tip.lineTo(11, 44)
    tip.lineTo(-11, 44)
    tip.closeSubpath()
    p.drawPath(tip)
    p.drawRoundedRect(QRectF(-13, 48, 26, 9), 3, 3)   # the needle cartridge's face
    if detailed:
        # A grip band and a power button, in the tile's colour.
        p.setPen(QPen(TEAL_DARK, 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        p.drawLine(QPointF(-24, -30), QPointF(24, -30))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(TEAL_DARK)
        p.drawEllipse(QPointF(0, -62), 7, 7)
        p.setBrush(WHITE)

    # The micro-channels: a fan of dots below the tip.
    dots = ((0, 74, 7), (-17, 80, 6), (17, 80, 6), (-8, 94, 5.5), (8, 94, 5.5),
            (-25, 98, 4.5), (25, 98, 4.5)) if detailed else ((0, 76, 10), (-20, 86, 8),
                                                             (20, 86, 8))
    for x, y, r in dots:
        p.drawEllipse(QPointF(x, y), r, r)
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data)


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNGs (read by Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    entries, payload = b"", b""
    offset = len(header) + 16 * len(pngs)
    for size, data in sorted(pngs.items()):
        side = 0 if size >= 256 else size   # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data),
                               offset + len(payload))
        payload += data
    return header + entries + payload


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns whose entries are PNGs (read by OS X 10.7 and later)."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    sizes = sorted(set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: png_bytes(draw(size)) for size in sizes}
    ICONS.mkdir(parents=True, exist_ok=True)
    outputs = {
        "needledesk.png": pngs[256],
        "needledesk.ico": ico({size: pngs[size] for size in ICO_SIZES}),
        "needledesk.icns": icns(pngs),
    }
    for name, data in outputs.items():
        (ICONS / name).write_bytes(data)
        print(f"{ICONS / name}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
