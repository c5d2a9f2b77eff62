"""Write resources/face-chart.svg: the face chart's drawing (front face, neck, décolletage).

The SVG in resources/ is the source both painters read (domain/face_chart.py); this script is
how it was drawn, kept so the drawing can be adjusted by numbers rather than by hand: each
shape is a smooth closed (or open) curve through a few points, the right-hand side of a
symmetric shape is the mirror of its left. Curves are Catmull-Rom splines written as cubic
Béziers (absolute M, C, L, Z only); a point marked "c" is a corner.

    python scripts/face_chart_art.py            # rewrite resources/face-chart.svg
    python scripts/face_chart_art.py --png x.png  # and a picture of it (needs PySide6)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

WIDTH, HEIGHT = 200, 290
MID = WIDTH / 2
Point = tuple[float, float] | tuple[float, float, str]


def mirror(points: list[Point]) -> list[Point]:
    """The same points reflected across the face's middle line (order reversed, so a closed
    shape keeps its winding)."""
    return [(WIDTH - p[0], p[1], *p[2:]) for p in reversed(points)]  # type: ignore[misc]


def _num(v: float) -> str:
    text = f"{v:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pair(x: float, y: float) -> str:
    return f"{_num(x)} {_num(y)}"


def spline(points: list[Point], *, closed: bool, tension: float = 1 / 6) -> str:
    """A path through `points` (Catmull-Rom as cubic Béziers); corners ("c") stay sharp."""
    n = len(points)
    xy = [(float(p[0]), float(p[1])) for p in points]
    corner = [len(p) > 2 and p[2] == "c" for p in points]

    def at(i: int) -> tuple[float, float]:
        if closed:
            return xy[i % n]
        return xy[max(0, min(n - 1, i))]

    parts = [f"M {_pair(*xy[0])}"]
    count = n if closed else n - 1
    for i in range(count):
        p0, p1, p2, p3 = at(i - 1), at(i), at(i + 1), at(i + 2)
        c1 = p1 if corner[i % n] else (p1[0] + (p2[0] - p0[0]) * tension,
                                       p1[1] + (p2[1] - p0[1]) * tension)
        c2 = p2 if corner[(i + 1) % n] else (p2[0] - (p3[0] - p1[0]) * tension,
                                             p2[1] - (p3[1] - p1[1]) * tension)
        if c1 == p1 and c2 == p2:
            parts.append(f"L {_pair(*p2)}")
        else:
            parts.append(f"C {_pair(*c1)} {_pair(*c2)} {_pair(*p2)}")
    if closed:
        parts.append("Z")
    return " ".join(parts)


# --- the zones (left side of the picture = the client's right; each drawn once and mirrored) ---

SCALP = [(49, 72, "c"), (50, 56), (60, 38), (78, 26), (100, 23), (122, 26), (140, 38),
         (150, 56), (151, 72, "c"), (146, 62), (130, 51), (100, 46), (70, 51), (54, 62)]
FOREHEAD = [(52, 86), (53, 76), (62, 64), (80, 57), (100, 54), (120, 57), (138, 64),
            (147, 76), (148, 86), (140, 86), (126, 84), (112, 86), (104, 95, "c"),
            (96, 95, "c"), (88, 86), (74, 84), (60, 86)]
# Below the brow, around the closed eye, down to the top of the cheek.
EYE = [(62, 97), (74, 94), (86, 96), (93, 101), (94, 112), (90, 121), (78, 125), (65, 123),
       (57, 115), (56, 104)]
NOSE = [(96, 98, "c"), (104, 98, "c"), (106, 116), (110, 130), (114, 140), (109, 148),
        (100, 149), (91, 148), (86, 140), (90, 130), (94, 116)]
CHEEK = [(52, 128), (66, 130), (80, 131), (89, 128), (86, 138), (82, 147), (76, 155),
         (66, 157), (57, 150), (52, 140)]
PERIORAL = [(100, 152), (110, 151), (115, 156), (118, 165), (116, 174), (108, 179),
            (100, 180), (92, 179), (84, 174), (82, 165), (85, 156), (90, 151)]
CHIN = [(100, 184), (110, 183), (115, 187), (112, 192), (100, 195), (88, 192), (85, 187),
        (90, 183)]
JAW = [(50, 153), (54, 164), (62, 175), (72, 184), (81, 191), (84, 185), (79, 178),
       (70, 170), (62, 161), (57, 156)]
NECK = [(81, 200), (100, 203), (119, 200), (124, 206), (125, 222), (127, 234), (112, 239),
        (100, 240), (88, 239), (73, 234), (75, 222), (76, 206)]
DECOLLETAGE = [(100, 249), (118, 248), (142, 249), (166, 256), (180, 266), (184, 284, "c"),
               (16, 284, "c"), (20, 266), (34, 256), (58, 249), (82, 248)]

ZONES: list[tuple[str, list[Point]]] = [
    ("scalp", SCALP),
    ("forehead", FOREHEAD),
    ("periorbital", EYE), ("periorbital", mirror(EYE)),
    ("nose", NOSE),
    ("cheeks", CHEEK), ("cheeks", mirror(CHEEK)),
    ("perioral", PERIORAL),
    ("chin", CHIN),
    ("jawline", JAW), ("jawline", mirror(JAW)),
    ("neck", NECK),
    ("decolletage", DECOLLETAGE),
]

LABELS: list[tuple[str, float, float]] = [
    ("scalp", MID, 35), ("forehead", MID, 70),
    ("periorbital", 73, 118), ("periorbital", WIDTH - 73, 118),
    ("nose", MID, 134), ("cheeks", 69, 146), ("cheeks", WIDTH - 69, 146),
    ("perioral", MID, 175), ("chin", MID, 189),
    ("jawline", 58, 165), ("jawline", WIDTH - 58, 165),
    ("neck", MID, 220), ("decolletage", MID, 272),
]

# --- the lines of the face --------------------------------------------------------------------

HEAD = [(100, 19), (124, 21), (144, 34), (154, 56), (157, 84), (156, 112), (153, 136),
        (147, 158), (137, 178), (121, 193), (100, 198), (79, 193), (63, 178), (53, 158),
        (47, 136), (44, 112), (43, 84), (46, 56), (56, 34), (76, 21)]
HAIRLINE = [(47, 92), (49, 76), (57, 62), (76, 53), (100, 50), (124, 53), (143, 62),
            (151, 76), (153, 92)]
EAR = [(44, 100), (38, 96), (35, 104), (36, 118), (40, 130), (47, 136)]
EAR_INNER = [(41, 104), (39, 112), (42, 124)]
BROW = [(62, 93), (72, 88), (84, 88), (93, 92)]
LID = [(64, 108), (71, 112), (79, 113), (87, 110), (91, 107)]
CREASE = [(66, 103), (76, 100), (88, 103)]
NOSE_BRIDGE = [(94, 104), (93, 122), (90, 134)]
NOSE_BASE = [(88, 137), (85, 142), (89, 146), (95, 145), (100, 147), (105, 145), (111, 146),
             (115, 142), (112, 137)]
UPPER_LIP = [(88, 164, "c"), (94, 159), (100, 161, "c"), (106, 159), (112, 164, "c")]
LOWER_LIP = [(88, 164), (94, 169), (100, 170), (106, 169), (112, 164)]
MOUTH = [(88.5, 164), (100, 165), (111.5, 164)]
NECK_SIDE = [(70, 187), (72, 206), (72, 226), (60, 238), (36, 246), (14, 254), (4, 266)]
CLAVICLE = [(92, 244), (80, 241), (62, 242), (42, 246)]

OUTLINES: list[list[Point]] = [HEAD, HAIRLINE, EAR, mirror(EAR), EAR_INNER, mirror(EAR_INNER),
                               BROW, mirror(BROW), LID, mirror(LID), CREASE, mirror(CREASE),
                               NOSE_BRIDGE, mirror(NOSE_BRIDGE), NOSE_BASE, UPPER_LIP,
                               LOWER_LIP, MOUTH, NECK_SIDE, mirror(NECK_SIDE), CLAVICLE,
                               mirror(CLAVICLE)]
CLOSED_OUTLINES = {id(HEAD)}


def svg() -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- NeedleDesk face chart: front face, neck and décolletage (drawn by",
        "     scripts/face_chart_art.py). Read by domain/face_chart.py: paths use absolute M, L,",
        "     H, V, C, Q and Z only; data-zone names the zone a path is part of; class=\"outline\"",
        "     paths are the lines of the face; data-label circles mark where depths go. -->",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">',
        '  <g id="zones" fill="#ffffff" stroke="#c8c8c8" stroke-width="0.5">',
    ]
    for zone, points in ZONES:
        lines.append(f'    <path data-zone="{zone}" d="{spline(points, closed=True)}"/>')
    lines.append('  </g>')
    lines.append('  <g id="outline" fill="none" stroke="#6b6b6b" stroke-width="0.9" '
                 'stroke-linecap="round" stroke-linejoin="round">')
    for points in OUTLINES:
        closed = id(points) in CLOSED_OUTLINES
        lines.append(f'    <path class="outline" d="{spline(points, closed=closed)}"/>')
    lines.append('  </g>')
    lines.append('  <g id="labels" fill="none" stroke="none">')
    for zone, x, y in LABELS:
        lines.append(f'    <circle data-label="{zone}" cx="{_num(x)}" cy="{_num(y)}" r="1"/>')
    lines.append('  </g>')
    lines.append('</svg>')
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "resources"
                        / "face-chart.svg")
    parser.add_argument("--png", type=Path, help="also write a picture of it, 4x")
    args = parser.parse_args(argv)
    text = svg()
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(text.encode())} bytes")
    if args.png:
        from PySide6.QtCore import QByteArray
        from PySide6.QtGui import QColor, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer
        from PySide6.QtWidgets import QApplication

        _app = QApplication.instance() or QApplication([])
        image = QImage(WIDTH * 4, HEIGHT * 4, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        QSvgRenderer(QByteArray(text.encode())).render(painter)
        painter.end()
        image.save(str(args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
