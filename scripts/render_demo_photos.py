"""Render docs/screenshots/demo-photos.png: the demo's synthetic faces at every view, and one
view session by session (`python scripts/render_demo_photos.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from needledesk.demo_photos import VIEWS, face_image

CELL = (150, 200)
LABEL = 22
SEED = 7


def _small(view: str, session: int) -> Image.Image:
    """Drawn at twice the size, scaled down and the camera grain smoothed away (which a PNG
    would otherwise spend most of its bytes on)."""
    big = face_image(view, seed=SEED, session=session, size=(CELL[0] * 2, CELL[1] * 2))
    return big.filter(ImageFilter.GaussianBlur(1.2)).resize(CELL, Image.Resampling.LANCZOS)


def main(out: Path) -> None:
    font = ImageFont.load_default(size=13)
    rows = [[(view.replace("_", " "), _small(view, 1)) for view in VIEWS],
            [(f"front, session {n}", _small("front", n)) for n in range(1, len(VIEWS) + 1)]]
    sheet = Image.new("RGB", (CELL[0] * len(VIEWS), (CELL[1] + LABEL) * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        for c, (label, picture) in enumerate(row):
            x, y = c * CELL[0], r * (CELL[1] + LABEL)
            sheet.paste(picture, (x, y + LABEL))
            draw.text((x + 6, y + 4), label, fill=(40, 40, 40), font=font)
    # 256 colours (octree, no dithering) are plenty for these smooth pictures.
    sheet.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                   dither=Image.Dither.NONE).save(out, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else
         Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "demo-photos.png")
