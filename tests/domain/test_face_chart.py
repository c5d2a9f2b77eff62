"""The face chart's data and drawing (domain/face_chart.py, resources/face-chart.svg): the SVG
subset both painters replay, which zone an area is drawn in, what a session's chart shows,
the depth colours, and the shipped drawing itself (every zone, a label in each shape, no two
zones overlapping, sampled on a grid)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from needledesk.domain.face_chart import (
    DEFAULT_AREA_ZONES,
    DEPTH_SCALE,
    ZONES,
    ChartArt,
    PathOp,
    Shape,
    area_for_zone,
    art_path,
    chart_art,
    chart_data,
    depth_band,
    depth_colour,
    depth_label,
    parse_path,
    read_art,
    text_colour_on,
    zone_for_area,
    zone_of,
)
from needledesk.domain.model import TreatedArea

ROOT = Path(__file__).resolve().parents[2]


# --- the SVG subset ------------------------------------------------------------------------------

@pytest.mark.parametrize("d", [
    "M 0 0 A 5 5 0 0 1 10 10",   # an arc
    "M 0 0 l 10 10",             # relative line
    "m 0 0 L 10 10",             # relative move
    "M 0 0 c 1 1 2 2 3 3",       # relative curve
    "M 0 0 q 1 1 2 2",           # relative quadratic
    "M 0 0 S 1 1 2 2",           # smooth curve: not in the subset
    "M 0 0 T 4 4",
])
def test_parse_path_refuses_what_both_painters_cannot_replay(d):
    with pytest.raises(ValueError, match="face chart"):
        parse_path(d)


@pytest.mark.parametrize("d", ["M 0 0 L 1", "M 0 0 C 1 1 2 2 3", "10 10 L 3 3"])
def test_parse_path_refuses_numbers_missing_or_without_command(d):
    with pytest.raises(ValueError, match="face chart"):
        parse_path(d)


def test_quadratic_becomes_the_cubic_it_equals_and_h_v_become_lines():
    shape = parse_path("M 0 0 Q 3 3 6 0 H 10 V 4 Z")
    assert shape.ops == (
        PathOp("M", (0.0, 0.0)),
        PathOp("C", (2.0, 2.0, 4.0, 2.0, 6.0, 0.0)),
        PathOp("L", (10.0, 0.0)),
        PathOp("L", (10.0, 4.0)),
        PathOp("Z"),
    )


def test_pairs_after_a_move_are_lines_and_commas_separate_numbers():
    shape = parse_path("M1,2 3,4 5 6")
    assert [op.op for op in shape.ops] == ["M", "L", "L"]
    assert shape.ops[2].points == (5.0, 6.0)


def test_read_art_refuses_an_unknown_zone_and_a_missing_viewbox():
    with pytest.raises(ValueError, match="unknown zone"):
        read_art('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                 '<path data-zone="elbow" d="M 0 0 L 1 1 Z"/></svg>')
    with pytest.raises(ValueError, match="viewBox"):
        read_art('<svg xmlns="http://www.w3.org/2000/svg"><path d="M 0 0"/></svg>')


# --- which zone an area is drawn in ---------------------------------------------------------------

def test_zone_for_area_ignores_case_accents_and_spaces():
    assert zone_for_area("Cheeks") == "cheeks"
    assert zone_for_area("  DECOLLETAGE ") == "decolletage"
    assert zone_for_area("Upper lip/perioral") == "perioral"
    assert zone_for_area("abdomen") is None


def test_zone_for_area_follows_the_clinics_renamed_areas():
    table = {"Joues": "cheeks", "Décolleté": "decolletage", "Bras": "elbow"}
    assert zone_for_area("joues", table) == "cheeks"
    assert zone_for_area("decollete", table) == "decolletage"
    assert zone_for_area("cheeks", table) is None       # not an area of this clinic's list
    assert zone_for_area("bras", table) is None         # a zone the drawing does not have
    assert area_for_zone("cheeks", table) == "Joues"
    assert area_for_zone("nose", table) is None
    assert area_for_zone("nose") == "nose"


def test_a_treated_area_keeps_the_zone_it_was_drawn_in():
    renamed = TreatedArea("mid-face", 1.0, zone="cheeks")
    assert zone_of(renamed, DEFAULT_AREA_ZONES) == "cheeks"
    assert zone_of(TreatedArea("forehead", 0.5), {}) is None
    assert zone_of(TreatedArea("forehead", 0.5)) == "forehead"
    # a zone the drawing does not know falls back to the name's zone
    assert zone_of(TreatedArea("chin", 1.0, zone="elbow")) == "chin"


def test_chart_data_keeps_the_deepest_per_zone_and_lists_the_rest():
    data = chart_data([
        TreatedArea("cheeks", 1.0),
        TreatedArea("acne scars", 2.0, zone="cheeks"),
        TreatedArea("Cheeks", 1.5),
        TreatedArea("abdomen", 1.5),
        TreatedArea("stretch marks", 2.5),
        TreatedArea("nose", float("nan")),
    ])
    assert set(data.zones) == {"cheeks"}
    entry = data.zones["cheeks"]
    assert entry.depth_mm == 2.0
    assert entry.areas == ["cheeks", "acne scars", "Cheeks"]
    assert entry.label == "2 mm"
    assert entry.colour == depth_colour(2.0)
    assert data.unplaced == [("abdomen", 1.5), ("stretch marks", 2.5)]
    assert not data.empty
    assert chart_data([]).empty


# --- colours --------------------------------------------------------------------------------

def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_each_step_of_the_scale_is_darker_and_deeper_than_the_last():
    lum = [_luminance(b.colour) for b in DEPTH_SCALE]
    assert all(a > b for a, b in zip(lum, lum[1:], strict=False)), lum
    depths = [b.upto_mm for b in DEPTH_SCALE]
    assert depths == sorted(depths) and len(set(depths)) == len(depths)
    assert DEPTH_SCALE[-1].upto_mm >= 3.0


@pytest.mark.parametrize(("depth", "band"), [
    (0.1, 0), (0.25, 0), (0.3, 1), (0.5, 1), (0.75, 2), (1.0, 2), (1.25, 3), (2.0, 4),
    (2.5, 5), (3.0, 5), (4.0, 5),
])
def test_depth_band_edges(depth, band):
    assert depth_band(depth) == DEPTH_SCALE[band]
    assert depth_colour(depth) == DEPTH_SCALE[band].colour


def test_label_text_reads_on_every_colour():
    assert text_colour_on(DEPTH_SCALE[0].colour) == "#000000"
    assert text_colour_on(DEPTH_SCALE[-1].colour) == "#ffffff"
    assert text_colour_on("#ffffff") == "#000000"
    assert depth_label(1.25) == "1.25 mm" and depth_label(0.5) == "0.5 mm"


# --- the shipped drawing ------------------------------------------------------------------------

def _flatten(shape: Shape, steps: int = 12) -> list[list[tuple[float, float]]]:
    """The shape as polygons (one per subpath), curves cut into `steps` lines."""
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    x = y = 0.0
    for op in shape.ops:
        if op.op == "M":
            if current:
                polygons.append(current)
            x, y = op.points
            current = [(x, y)]
        elif op.op == "L":
            x, y = op.points
            current.append((x, y))
        elif op.op == "C":
            x1, y1, x2, y2, x3, y3 = op.points
            for i in range(1, steps + 1):
                t = i / steps
                u = 1 - t
                current.append((u ** 3 * x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
                                u ** 3 * y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3))
            x, y = x3, y3
    if current:
        polygons.append(current)
    return polygons


def _inside(polygons: list[list[tuple[float, float]]], px: float, py: float) -> bool:
    """Even-odd rule, as both painters fill."""
    inside = False
    for poly in polygons:
        n = len(poly)
        for i in range(n):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
            if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


@pytest.fixture(scope="module")
def art() -> ChartArt:
    return chart_art()


def _box(polygons: list[list[tuple[float, float]]]) -> tuple[float, float, float, float]:
    xs = [x for poly in polygons for x, _y in poly]
    ys = [y for poly in polygons for _x, y in poly]
    return min(xs), min(ys), max(xs), max(ys)


@pytest.fixture(scope="module")
def zone_polygons(art):
    return {zone: [_flatten(s) for s in shapes] for zone, shapes in art.zones.items()}


def test_the_drawing_has_every_zone_with_a_label_in_each_shape(art, zone_polygons):
    assert set(art.zones) == set(ZONES)
    assert set(art.labels) == set(ZONES)
    for zone, shapes in art.zones.items():
        points = art.labels[zone]
        assert len(points) == len(shapes), zone
        # each label point sits inside one of its zone's shapes, a different one each
        holders = []
        for x, y in points:
            inside = [i for i, polys in enumerate(zone_polygons[zone]) if _inside(polys, x, y)]
            assert len(inside) == 1, (zone, x, y)
            holders.append(inside[0])
        assert sorted(holders) == list(range(len(shapes))), zone
    # both sides of the face for the paired zones
    for zone in ("periorbital", "cheeks", "jawline"):
        xs = sorted(x for x, _y in art.labels[zone])
        assert xs[0] < art.width / 2 < xs[-1], zone


def test_the_drawing_is_a_portrait_in_the_subset_and_small(art):
    assert art.width == 200 and art.height == 290
    assert art.outline, "the face's lines"
    text = art_path().read_text(encoding="utf-8")
    assert len(text.encode()) < 20_000
    for shape in [*art.outline, *(s for shapes in art.zones.values() for s in shapes)]:
        assert shape.ops[0].op == "M"
        assert {op.op for op in shape.ops} <= {"M", "L", "C", "Z"}
        for op in shape.ops:
            for i, v in enumerate(op.points):
                assert 0 <= v <= (art.width if i % 2 == 0 else art.height), (op, v)


def test_no_two_zones_overlap_and_each_covers_its_area(art, zone_polygons):
    """Sampled every unit of the drawing: a point lies in one zone at most (a click lands in
    one zone), and each zone has room for its label."""
    covered = {zone: 0 for zone in zone_polygons}
    boxed = [(zone, polys, _box(polys)) for zone, shapes in zone_polygons.items()
             for polys in shapes]
    for iy in range(int(art.height)):
        for ix in range(int(art.width)):
            px, py = ix + 0.5, iy + 0.5
            holders = [zone for zone, polys, (x0, y0, x1, y1) in boxed
                       if x0 <= px <= x1 and y0 <= py <= y1 and _inside(polys, px, py)]
            assert len(holders) <= 1, (px, py, holders)
            if holders:
                covered[holders[0]] += 1
    for zone, area in covered.items():
        shapes = len(zone_polygons[zone])
        assert area / shapes >= 150, (zone, area)   # square units per shape
    # the face's zones are the smaller ones, the décolletage and scalp the larger
    assert covered["decolletage"] > covered["neck"] > covered["chin"]
    assert covered["cheeks"] > covered["nose"]


def test_zones_lie_where_the_face_has_them(art):
    """Top to bottom: scalp, forehead, the eyes, nose/cheeks, mouth, chin, neck, décolletage."""
    def centre_y(zone: str) -> float:
        ys = [y for _x, y in art.labels[zone]]
        return sum(ys) / len(ys)

    order = ["scalp", "forehead", "periorbital", "cheeks", "perioral", "chin", "neck",
             "decolletage"]
    assert [centre_y(z) for z in order] == sorted(centre_y(z) for z in order)
    assert math.isclose(centre_y("nose"), sum(y for _x, y in art.labels["nose"]))
    assert centre_y("periorbital") < centre_y("nose") < centre_y("perioral")


def test_the_shipped_svg_is_what_its_script_draws():
    """resources/face-chart.svg is written by scripts/face_chart_art.py: the two agree."""
    spec = importlib.util.spec_from_file_location("face_chart_art",
                                                  ROOT / "scripts" / "face_chart_art.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.svg() == art_path().read_text(encoding="utf-8")
    assert read_art(module.svg()) == read_art(art_path().read_bytes())
