"""The face chart: where each treated area sits on a front-face (and neck/décolleté) drawing,
and how deep it was treated, as a colour on one scale.

One drawing serves the window (QPainter) and the PDFs (reportlab): `resources/face-chart.svg`,
a plain SVG a designer can open, written with a small subset that both can replay exactly:
`<path>` elements whose `d` holds absolute M, L, C, Q and Z commands only. A path with
`data-zone="cheeks"` is (part of) that zone's shape; `class="outline"` paths are the lines of
the face; `<circle data-label="cheeks">` marks where a zone's depth is written (one per
shape: both cheeks carry the depth). Nothing here knows Qt or reportlab: each draws the
`ChartArt` this module reads.

A zone stands for one area of the clinic's area list (`ClinicSettings.area_zones`: area name
-> zone); a treated area keeps the zone it was drawn in (`TreatedArea.zone`), so an area the
clinic renames keeps its zone. Areas without a zone (the body, "acne scars") are listed
beside the chart.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from needledesk.domain.model import TreatedArea
from needledesk.domain.text import fold

#: The zones of the drawing, in the order a chart's legend and lists name them.
ZONES: dict[str, str] = {
    "scalp": "Scalp",
    "forehead": "Forehead",
    "periorbital": "Around the eyes",
    "nose": "Nose",
    "cheeks": "Cheeks",
    "perioral": "Upper lip and mouth",
    "chin": "Chin",
    "jawline": "Jawline",
    "neck": "Neck",
    "decolletage": "Décolletage",
}

#: The standard areas' zones (`domain.guidelines.STANDARD_AREAS`); the body areas have none.
DEFAULT_AREA_ZONES: dict[str, str] = {
    "scalp": "scalp",
    "forehead": "forehead",
    "periorbital": "periorbital",
    "nose": "nose",
    "cheeks": "cheeks",
    "upper lip/perioral": "perioral",
    "chin": "chin",
    "jawline": "jawline",
    "neck": "neck",
    "décolletage": "decolletage",
}


@dataclass(frozen=True)
class DepthBand:
    """One step of the colour scale: depths up to `upto_mm` (inclusive) take `colour`."""

    upto_mm: float
    colour: str
    label: str


#: The depth scale, light to dark (sequential, readable without colour vision: each step is
#: also darker than the last).
DEPTH_SCALE: tuple[DepthBand, ...] = (
    DepthBand(0.25, "#fff3b0", "up to 0.25 mm"),
    DepthBand(0.5, "#ffd166", "0.3–0.5 mm"),
    DepthBand(1.0, "#f8961e", "0.6–1.0 mm"),
    DepthBand(1.5, "#e4572e", "1.1–1.5 mm"),
    DepthBand(2.0, "#b5179e", "1.6–2.0 mm"),
    DepthBand(3.0, "#5a189a", "2.1–3.0 mm"),
)
#: The fill of a zone not treated.
UNTREATED = "#ffffff"
LINE = "#6b6b6b"


def depth_band(depth_mm: float) -> DepthBand:
    for band in DEPTH_SCALE:
        if depth_mm <= band.upto_mm + 1e-9:
            return band
    return DEPTH_SCALE[-1]


def depth_colour(depth_mm: float) -> str:
    """The fill for a zone treated at `depth_mm` ("#rrggbb")."""
    return depth_band(depth_mm).colour


def text_colour_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` ("#rrggbb")."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return "#000000" if luminance > 0.22 else "#ffffff"


def depth_label(depth_mm: float) -> str:
    """`1.5 mm`: how a zone's depth is written on the chart."""
    return f"{depth_mm:g} mm"


# --- which zone an area is drawn in -----------------------------------------------------------

def zone_for_area(area: str, area_zones: Mapping[str, str] | None = None) -> str | None:
    """The zone of the area named `area` in the clinic's list (`area_zones`, defaults when
    None), ignoring case and accents; None when it has none."""
    table = DEFAULT_AREA_ZONES if area_zones is None else area_zones
    key = fold(area.strip())
    for name, zone in table.items():
        if fold(name.strip()) == key and zone in ZONES:
            return zone
    return None


def area_for_zone(zone: str, area_zones: Mapping[str, str] | None = None) -> str | None:
    """The clinic's area drawn as `zone` (the first in its list), or None."""
    table = DEFAULT_AREA_ZONES if area_zones is None else area_zones
    for name, z in table.items():
        if z == zone:
            return name
    return None


def zone_of(area: TreatedArea, area_zones: Mapping[str, str] | None = None) -> str | None:
    """Where a treated area is drawn: the zone it was recorded with, else its name's zone."""
    if area.zone in ZONES:
        return area.zone
    return zone_for_area(area.area, area_zones)


@dataclass
class ZoneEntry:
    """A zone as charted: the deepest depth of the areas drawn in it, and those areas."""

    zone: str
    depth_mm: float
    areas: list[str] = field(default_factory=list)

    @property
    def colour(self) -> str:
        return depth_colour(self.depth_mm)

    @property
    def label(self) -> str:
        return depth_label(self.depth_mm)


@dataclass
class ChartData:
    """What one chart shows: each treated zone, and the areas without one (listed beside)."""

    zones: dict[str, ZoneEntry] = field(default_factory=dict)
    unplaced: list[tuple[str, float]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.zones and not self.unplaced


def chart_data(areas: Iterable[TreatedArea], area_zones: Mapping[str, str] | None = None
               ) -> ChartData:
    """The chart of a session's treated areas (a zone treated twice shows its deepest)."""
    data = ChartData()
    for area in areas:
        if not isinstance(area.depth_mm, int | float) or area.depth_mm != area.depth_mm:
            continue
        zone = zone_of(area, area_zones)
        if zone is None:
            data.unplaced.append((area.area, float(area.depth_mm)))
            continue
        entry = data.zones.get(zone)
        if entry is None:
            data.zones[zone] = ZoneEntry(zone, float(area.depth_mm), [area.area])
        else:
            entry.depth_mm = max(entry.depth_mm, float(area.depth_mm))
            entry.areas.append(area.area)
    return data


# --- the drawing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PathOp:
    """One drawing step: "M" (move to x, y), "L" (line to x, y), "C" (cubic curve through
    two control points to x, y: six numbers) or "Z" (close)."""

    op: str
    points: tuple[float, ...] = ()


@dataclass(frozen=True)
class Shape:
    ops: tuple[PathOp, ...]


@dataclass(frozen=True)
class ChartArt:
    """The drawing: its size (SVG user units, y down), the face's lines, each zone's
    shapes and where its depth labels go."""

    width: float
    height: float
    outline: tuple[Shape, ...]
    zones: Mapping[str, tuple[Shape, ...]]
    labels: Mapping[str, tuple[tuple[float, float], ...]]


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOKEN = re.compile(r"[MLCQZHV]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARITY = {"M": 2, "L": 2, "C": 6, "Q": 4, "H": 1, "V": 1, "Z": 0}


def parse_path(d: str) -> Shape:
    """The shape of an SVG path's `d`, in absolute M, L, H, V, C, Q and Z commands (a
    quadratic becomes the cubic it equals; H and V become lines). Anything else (relative
    commands, arcs) is refused with ValueError: the drawing must replay the same in both
    painters."""
    rest = _TOKEN.sub("", d.replace(",", " "))
    if rest.strip():
        raise ValueError(f"face chart: unsupported path data {rest.strip()[:20]!r}")
    tokens = _TOKEN.findall(d.replace(",", " "))
    ops: list[PathOp] = []
    x = y = 0.0
    command = ""
    i = 0
    while i < len(tokens):
        if tokens[i] in _ARITY:
            command = tokens[i]
            i += 1
            if command == "Z":
                ops.append(PathOp("Z"))
                continue
        if not command or command == "Z":
            raise ValueError("face chart: a number without a command")
        n = _ARITY[command]
        values = [float(t) for t in tokens[i:i + n]]
        if len(values) != n or any(t in _ARITY for t in tokens[i:i + n]):
            raise ValueError(f"face chart: {command} needs {n} numbers")
        i += n
        if command == "M":
            ops.append(PathOp("M", tuple(values)))
            command = "L"   # further pairs after M are lines, as in SVG
        elif command == "L":
            ops.append(PathOp("L", tuple(values)))
        elif command == "H":
            ops.append(PathOp("L", (values[0], y)))
        elif command == "V":
            ops.append(PathOp("L", (x, values[0])))
        elif command == "C":
            ops.append(PathOp("C", tuple(values)))
        elif command == "Q":
            qx, qy, ex, ey = values
            ops.append(PathOp("C", (x + 2 / 3 * (qx - x), y + 2 / 3 * (qy - y),
                                    ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey), ex, ey)))
        last = ops[-1].points
        x, y = last[-2], last[-1]
    return Shape(tuple(ops))


def read_art(svg: str | bytes) -> ChartArt:
    """The drawing from the SVG's text (see the module's note for the subset it uses)."""
    root = ET.fromstring(svg)
    view = root.get("viewBox", "").replace(",", " ").split()
    if len(view) != 4:
        raise ValueError("face chart: the SVG needs a viewBox")
    width, height = float(view[2]), float(view[3])
    outline: list[Shape] = []
    zones: dict[str, list[Shape]] = {}
    labels: dict[str, list[tuple[float, float]]] = {}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "path":
            shape = parse_path(element.get("d", ""))
            zone = element.get("data-zone")
            if zone:
                if zone not in ZONES:
                    raise ValueError(f"face chart: unknown zone {zone!r}")
                zones.setdefault(zone, []).append(shape)
            elif "outline" in element.get("class", "").split():
                outline.append(shape)
        elif tag == "circle" and element.get("data-label"):
            labels.setdefault(element.get("data-label", ""), []).append(
                (float(element.get("cx", "0")), float(element.get("cy", "0"))))
    return ChartArt(width, height, tuple(outline),
                    {z: tuple(s) for z, s in zones.items()},
                    {z: tuple(p) for z, p in labels.items()})


def art_path() -> Path:
    from needledesk.paths import resource_path

    return resource_path("face-chart.svg")


@functools.cache
def chart_art() -> ChartArt:
    """The drawing shipped in `resources/face-chart.svg` (read once)."""
    return read_art(art_path().read_bytes())


def zones_in_art(art: ChartArt | None = None) -> Sequence[str]:
    """The zones the drawing has, in `ZONES` order."""
    art = art or chart_art()
    return [z for z in ZONES if z in art.zones]
