"""The face chart in the PDFs, read back as a reader would: the depth labels with poppler's
`pdftotext` (its layout text, and its word boxes for where they sit on the page), the page
count with pypdf. A real clinic file: a four-session course with the depths rising, an area the
clinic renamed (kept in its zone) and a body area without one."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from factories import make_client, make_course, make_session
from pypdf import PdfReader
from reportlab.graphics.shapes import String

from needledesk.domain.face_chart import DEPTH_SCALE, chart_art
from needledesk.domain.model import Anaesthetic, TreatedArea
from needledesk.reports.build import course_record_pdf, session_summary_pdf
from needledesk.reports.face_chart import ALSO_TREATED, chart_drawing

TODAY = date(2026, 11, 21)
#: Forehead and cheek depths per session: each session's own, so its chart is recognisable.
FOREHEAD = [0.3, 0.4, 0.6, 0.7]
CHEEKS = [1.1, 1.2, 1.75, 2.25]


def pdftotext(pdf: bytes, tmp_path, *, page: int | None = None, bbox: bool = False) -> str:
    source = tmp_path / "read.pdf"
    source.write_bytes(pdf)
    args = ["pdftotext", "-bbox" if bbox else "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


@dataclass
class Word:
    text: str
    x: float
    y: float
    page: int


def words(pdf: bytes, tmp_path) -> list[Word]:
    """Every word with its top-left corner (points, y down) and page (1-based)."""
    html = pdftotext(pdf, tmp_path, bbox=True)
    root = ET.fromstring(html.replace('xmlns="http://www.w3.org/1999/xhtml"', ""))
    out = []
    for n, page in enumerate(root.iter("page"), start=1):
        for w in page.iter("word"):
            out.append(Word(w.text or "", float(w.get("xMin")), float(w.get("yMin")), n))
    return out


def label_count(text: str, depth: str) -> int:
    """How often `depth mm` is written as the chart writes it (`1.5 mm`, never the table's
    `1.50 mm`)."""
    return len(re.findall(rf"(?<![\d.]){re.escape(depth)} mm", text))


@dataclass
class Course4:
    repo: object
    client_id: str
    session_ids: list[str]


@pytest.fixture
def course4(repo) -> Course4:
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.area_zones = {**settings.area_zones, "Mid-face": "cheeks"}
    repo.save_settings(settings, by="Jane Smith")
    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id, planned_sessions=4, interval_weeks=6),
                             by="Jane Smith")
    ids = []
    for i in range(4):
        areas = [TreatedArea("forehead", FOREHEAD[i], 2, "even erythema"),
                 TreatedArea("cheeks", CHEEKS[i], 3, "pinpoint bleeding"),
                 TreatedArea("abdomen", 2.5, 2, "pinpoint bleeding")]
        if i == 3:
            # renamed since: the row keeps the zone it was drawn in
            areas.append(TreatedArea("acne scars, left", 1.0, 2, zone="chin"))
        start = datetime(2026, 5, 4, 10, 0) + timedelta(weeks=6 * i)
        session = make_session(client.id, course_id=course.id, started_at=start, areas=areas,
                               anaesthetic=Anaesthetic("LMX4", start - timedelta(minutes=50),
                                                       start - timedelta(minutes=5)))
        repo.save_draft(session, by="Jane Smith")
        ids.append(session.id)
    return Course4(repo, client.id, ids)


# --- the client summary ---------------------------------------------------------------------------

def test_the_summary_shows_todays_chart_with_its_depths(course4, tmp_path):
    pdf = session_summary_pdf(course4.repo, course4.session_ids[3], today=TODAY)
    text = pdftotext(pdf, tmp_path)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    # the table says 0.70 mm and 2.25 mm; the chart 0.7 mm once, 2.25 mm on both cheeks
    assert label_count(text, "0.7") == 1
    assert "0.70 mm" in text
    assert label_count(text, "2.25") == 3          # the table's row and both cheeks
    assert label_count(text, "1") == 1             # the renamed area, on the chin
    assert "not treated" in text
    for band in DEPTH_SCALE:
        assert band.label in text
    assert "Also treated: abdomen 2.5 mm" in " ".join(text.split())
    # nothing from the other sessions
    assert label_count(text, "0.3") == label_count(text, "1.75") == 0


def test_the_summary_charts_labels_sit_where_the_face_has_them(course4, tmp_path):
    pdf = session_summary_pdf(course4.repo, course4.session_ids[3], today=TODAY)
    found = words(pdf, tmp_path)
    forehead = [w for w in found if w.text == "0.7"]
    cheeks = sorted((w for w in found if w.text == "2.25"), key=lambda w: w.x)
    chin = [w for w in found if w.text == "1"]
    assert len(forehead) == 1 and len(chin) == 1 and len(cheeks) == 3
    table, left, right = cheeks        # the table's "2.25 mm" row is left of the chart
    assert table.x < left.x < forehead[0].x < right.x
    assert abs((forehead[0].x - left.x) - (right.x - forehead[0].x)) < 8   # symmetric
    assert forehead[0].y < left.y < chin[0].y       # top to bottom
    assert abs(left.y - right.y) < 1


def test_the_summary_stays_one_page_with_a_long_session_and_its_chart(course4, tmp_path):
    repo = course4.repo
    settings = repo.settings()
    settings.aftercare_text = "Keep the skin clean and cool, and away from the sun. " * 40
    repo.save_settings(settings, by="Jane Smith")
    session = repo.get_session(course4.session_ids[0])
    session.areas = ([TreatedArea(f"stretch marks {i}", 2.0, 2, "pinpoint bleeding")
                      for i in range(14)]
                     + [TreatedArea("nose", 0.4, 1), TreatedArea("neck", 0.8, 2)])
    session.aftercare = [f"Aftercare step {i}: a sentence of advice for the days after"
                         for i in range(30)]
    repo.save_draft(session, by="Jane Smith")
    pdf = session_summary_pdf(repo, session.id, today=TODAY)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    text = pdftotext(pdf, tmp_path)
    assert label_count(text, "0.4") == 1 and label_count(text, "0.8") == 1
    assert "not treated" in text              # the legend
    assert "Aftercare step 29" in text


def test_a_summary_with_no_area_on_the_face_has_no_chart(course4, tmp_path):
    repo = course4.repo
    session = repo.get_session(course4.session_ids[0])
    session.areas = [TreatedArea("abdomen", 2.5, 2)]
    repo.save_draft(session, by="Jane Smith")
    text = pdftotext(session_summary_pdf(repo, session.id, today=TODAY), tmp_path)
    assert "Abdomen" in text and "2.50 mm" in text
    assert "not treated" not in text and ALSO_TREATED not in text
    assert DEPTH_SCALE[0].label not in text


# --- the course record ------------------------------------------------------------------------

def test_the_course_record_has_one_chart_per_session(course4, tmp_path):
    pdf = course_record_pdf(course4.repo, course4.client_id, today=TODAY)
    found = words(pdf, tmp_path)
    heads = [w for w in found if w.text == "Depths"]
    assert len(heads) == 1
    page = heads[0].page
    on_page = [w for w in found if w.page == page and w.y > heads[0].y]
    text = pdftotext(pdf, tmp_path, page=page)
    flat = " ".join(text.split())
    assert "Depths by session" in flat and "Needle depth" in flat
    # the captions, left to right in date order
    captions = sorted((w for w in on_page if w.text == "Session"), key=lambda w: w.x)[:4]
    assert len({round(w.y) for w in captions}) == 1
    for i, day in enumerate(["4 May 2026", "15 Jun 2026", "27 Jul 2026", "7 Sep 2026"]):
        assert f"Session {i + 1} of 4" in flat
        assert day in flat
    # each session's depths inside its own column, under its caption
    edges = [w.x for w in captions] + [1e9]
    for i in range(4):
        column = [w for w in on_page if edges[i] - 2 <= w.x < edges[i + 1] - 2
                  and w.y > captions[0].y]
        texts = [w.text for w in column]
        assert texts.count(f"{FOREHEAD[i]:g}") == 1, (i, texts)
        assert texts.count(f"{CHEEKS[i]:g}") == 2, (i, texts)      # both cheeks
        for j in range(4):
            if j != i:
                assert f"{FOREHEAD[j]:g}" not in texts and f"{CHEEKS[j]:g}" not in texts
        # the area without a zone under each chart; the renamed one on the last chart's chin
        assert "Also" in texts and "abdomen" in texts
        assert ("1" in texts) == (i == 3)


def test_a_course_record_without_any_area_on_the_face_has_no_chart_page(repo, tmp_path):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.save_draft(make_session(client.id, areas=[TreatedArea("abdomen", 2.0, 2)]),
                    by="Jane Smith")
    text = pdftotext(course_record_pdf(repo, client.id, today=TODAY), tmp_path)
    assert "Depths by session" not in text


# --- the drawing itself --------------------------------------------------------------------

def _strings(drawing) -> list[String]:
    return [n for n in drawing.contents if isinstance(n, String)]


def _one_chart_pdf(drawing) -> PdfReader:
    from reportlab.pdfgen.canvas import Canvas

    out = BytesIO()
    canvas = Canvas(out, pagesize=(drawing.width + 40, drawing.height + 40))
    drawing.drawOn(canvas, 20, 20)
    canvas.save()
    return PdfReader(BytesIO(out.getvalue()))


def _fills(content: str) -> set[str]:
    """Every fill colour the page sets (`r g b rg`), as "#rrggbb"."""
    return {"#" + "".join(f"{round(float(v) * 255):02x}" for v in m.groups())
            for m in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) rg", content)}


def test_the_chart_is_vector_shapes_with_a_label_per_zone_shape():
    art = chart_art()
    areas = [TreatedArea("cheeks", 1.5), TreatedArea("nose", 0.5), TreatedArea("neck", 0.75)]
    drawing = chart_drawing(areas, None, 200, 200)
    texts = drawing.label_texts()
    assert texts.count("1.5 mm") == 2 and texts.count("0.5 mm") == 1
    assert texts.count("0.75 mm") == 1
    assert all(zone in art.labels for zone in ("cheeks", "nose", "neck"))
    # every label and legend text inside the drawing
    for node in drawing.contents:
        x0, y0, x1, y1 = node.getBounds()
        assert x0 >= -0.5 and x1 <= drawing.width + 0.5, node
        assert y0 >= -0.5 and y1 <= drawing.height + 0.5, node
    # The face is vector paths: one form per zone and one for the lines, written once into
    # the PDF, each made of curves; no picture.
    page = _one_chart_pdf(drawing).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    forms = [xobjects[name].get_object() for name in xobjects]
    assert all(form["/Subtype"] == "/Form" for form in forms)
    assert len(forms) == len(art.zones) + 1
    for form in forms:
        assert re.search(rb"\d c[ \n]", form.get_data())
    # treated zones take their band's colour, the rest stay white
    content = page.get_contents().get_data().decode("latin-1")
    assert {"#e4572e", "#ffd166", "#f8961e", "#ffffff"} <= _fills(content)


def test_twenty_charts_write_the_drawing_once():
    from reportlab.pdfgen.canvas import Canvas

    out = BytesIO()
    canvas = Canvas(out, pagesize=(900, 900))
    for i in range(20):
        chart_drawing([TreatedArea("cheeks", 0.5 + i / 10)], None, 120, 160,
                      legend=False).drawOn(canvas, 40 * (i % 5), 160 * (i // 5))
    canvas.save()
    page = PdfReader(BytesIO(out.getvalue())).pages[0]
    assert len(page["/Resources"]["/XObject"]) == len(chart_art().zones) + 1


def test_areas_without_a_zone_are_listed_within_the_width():
    areas = [TreatedArea("cheeks", 1.5)] + [
        TreatedArea(f"a long body area name number {i}", 2.0) for i in range(12)]
    for legend in (True, False):
        drawing = chart_drawing(areas, None, 240 if legend else 120, 220, legend=legend)
        strings = _strings(drawing)
        joined = " ".join(s.text for s in strings)
        assert ALSO_TREATED in joined and "a long body area name number 0 2 mm" in joined
        for s in strings:
            _x0, _y0, x1, _y1 = s.getBounds()
            assert x1 <= drawing.width + 0.5, (legend, s.text)
        if not legend:
            assert "…" in joined        # cut after three lines under the chart



def test_areas_without_a_zone_print_in_any_script(course4, read_pdf):
    """Arabic joined and read from the right, Chinese in a font of this PC, as in the rest of
    the PDFs (read back with pypdf, like tests/reports/test_every_script.py)."""
    from needledesk.reports.fonts import unprintable

    repo = course4.repo
    session = repo.get_session(course4.session_ids[0])
    arabic, chinese = "ظهر اليد", "腹部"
    names = [arabic] + ([chinese] if unprintable(chinese) is None else [])
    session.areas = [TreatedArea("cheeks", 1.5)] + [TreatedArea(n, 2.5) for n in names]
    repo.save_draft(session, by="Jane Smith")
    pdf = session_summary_pdf(repo, session.id, today=TODAY)
    text = read_pdf(pdf)[0]
    assert "\x00" not in text
    beside = text[text.index(ALSO_TREATED):]
    plain = unicodedata.normalize("NFKC", beside)
    for word in arabic.split():      # each word's letters in order (words' order aside)
        assert word in plain, plain
    assert any(0xFE70 <= ord(ch) <= 0xFEFF for ch in beside), "Arabic letters joined"
    if chinese in names:
        assert f"{chinese} 2.5 mm" in plain
