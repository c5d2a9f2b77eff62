"""Photos in print, read back from real PDFs (pypdf: each page's text and images): the course
record's before-and-after page per view (first and latest, never a removed photo, only under
a photo consent allowing the record) and the summary's optional page of today's photos
(only where the client allows being shown them); the summary stays one page otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from factories import make_client, make_course, make_session
from PIL import Image
from pypdf import PdfReader

from needledesk.cli import main
from needledesk.domain.model import PhotoView, TreatedArea
from needledesk.reports.build import course_record_pdf, session_summary_pdf, summary_photos_note
from tests.photo_helpers import make_jpeg, make_png, sign_photo_consent, store_args

BY = "Jane Smith"
TODAY = date(2026, 12, 1)
DAYS = [datetime(2026, 9, 7, 10, 30), datetime(2026, 10, 19, 10, 30),
        datetime(2026, 11, 30, 10, 30)]
DAY_TEXT = ["7 Sep 2026", "19 Oct 2026", "30 Nov 2026"]
#: Each session's front photo has a width of its own, so the PDF's images say which it is.
WIDTHS = [300, 320, 340]
HEIGHT = 400


@dataclass
class Course:
    repo: object
    client_id: str
    session_ids: list[str]
    front: list[object]


def _add(repo, session_id: str, data: bytes, view=PhotoView.FRONT, at: datetime = DAYS[0],
         label: str = ""):
    return repo.add_photo(session_id, data, view=view, by=BY, label=label, now=at).photo


@pytest.fixture
def course(repo) -> Course:
    client = repo.add_client(make_client(), by=BY)
    sign_photo_consent(repo, client.id, signed_at=datetime(2026, 9, 1, 9, 0))
    planned = repo.add_course(make_course(client.id, planned_sessions=4, interval_weeks=6),
                              by=BY)
    ids, front = [], []
    for k, at in enumerate(DAYS):
        session = make_session(client.id, course_id=planned.id, started_at=at,
                               anaesthetic=None,
                               areas=[TreatedArea("cheeks", 1.0 + 0.25 * k, 3, "pinpoint "
                                                  "bleeding")])
        repo.save_draft(session, by=BY)
        ids.append(session.id)
        front.append(_add(repo, session.id, make_jpeg(WIDTHS[k], HEIGHT, seed=k + 1), at=at))
    return Course(repo, client.id, ids, front)


def pages(pdf: bytes) -> list[tuple[str, list]]:
    """Each page's text (whitespace made single spaces) and its images."""
    return [(" ".join(page.extract_text().split()), list(page.images))
            for page in PdfReader(BytesIO(pdf)).pages]


def photo_pages(pdf: bytes) -> list[tuple[str, list]]:
    return [(text, images) for text, images in pages(pdf) if "Before and after —" in text]


def widths(images: list) -> set[int]:
    return {image.image.width for image in images}


def test_the_course_record_pairs_the_first_and_the_latest_photo_of_a_view(course):
    pdf = course_record_pdf(course.repo, course.client_id, today=TODAY)
    found = photo_pages(pdf)
    assert len(found) == 1
    text, images = found[0]
    assert "Before and after — Front" in text
    assert f"First · {DAY_TEXT[0]}" in text and f"Latest · {DAY_TEXT[2]}" in text
    assert "Session 1 of 4" in text and "Session 3 of 4" in text
    assert f"· {DAY_TEXT[1]}" not in text     # the middle session's photo is not compared
    assert "Cheeks 1.00 mm" in text and "Cheeks 1.50 mm" in text
    # what was done between the two pictures: every session from the first to the latest
    assert (f"1 of 4 {DAY_TEXT[0]} Cheeks 1.00 mm 2 of 4 {DAY_TEXT[1]} Cheeks 1.25 mm "
            f"3 of 4 {DAY_TEXT[2]} Cheeks 1.50 mm") in text
    assert len(images) == 2
    assert widths(images) == {WIDTHS[0], WIDTHS[2]}
    # the pages before it hold no photo
    assert all(not imgs for _text, imgs in pages(pdf)[:-1])


def test_a_long_course_lists_the_first_and_last_sessions_between_the_photos(repo):
    client = repo.add_client(make_client(), by=BY)
    sign_photo_consent(repo, client.id, signed_at=datetime(2026, 9, 1, 9, 0))
    ids = []
    for k in range(15):
        at = datetime(2026, 9, 7, 10, 30) + timedelta(weeks=k)
        session = make_session(client.id, started_at=at, anaesthetic=None,
                               areas=[TreatedArea("cheeks", 0.5 + 0.1 * k, 2, "erythema")])
        repo.save_draft(session, by=BY)
        ids.append((session.id, at))
    for k in (0, 14):
        _add(repo, ids[k][0], make_jpeg(300, 400, seed=k + 1), at=ids[k][1])
    text, _images = photo_pages(course_record_pdf(repo, client.id, today=TODAY))[0]
    assert "7 Sep 2026" in text and "12 Oct 2026" in text     # sessions 1 and 6
    assert "19 Oct 2026" not in text                        # session 7: among the left out
    assert "… 4 more sessions" in text
    assert "23 Nov 2026" in text and "14 Dec 2026" in text   # sessions 12 and 15


def test_a_small_jpeg_goes_into_the_pdf_as_it_is_stored(course):
    pdf = course_record_pdf(course.repo, course.client_id, today=TODAY)
    page = next(p for p in PdfReader(BytesIO(pdf)).pages
                if "Before and after —" in p.extract_text())
    objects = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    # the compressed data itself, with no filter of its own before DCT
    streams = {obj._data for obj in objects if list(obj["/Filter"]) == ["/DCTDecode"]}
    stored = {course.repo.photo_bytes(course.front[0]), course.repo.photo_bytes(course.front[2])}
    assert streams == stored


def test_a_large_photo_is_scaled_down_for_print(course, tmp_path):
    large = course.repo.add_photo(course.session_ids[2], make_jpeg(3000, 4000, seed=9),
                                  view=PhotoView.LEFT_45, by=BY, now=DAYS[2]).photo
    _add(course.repo, course.session_ids[0], make_jpeg(310, HEIGHT, seed=8), PhotoView.LEFT_45)
    stored = course.repo.photo_bytes(large)
    pdf = course_record_pdf(course.repo, course.client_id, today=TODAY)
    found = photo_pages(pdf)
    assert [text.split("Before and after — ")[1].split()[0] for text, _ in found] == [
        "Front", "Left"]
    embedded = max(found[1][1], key=lambda image: image.image.width).image
    # half an A4 page's width at 200 dpi is under 700 pixels; the photo has 3000
    assert 300 < embedded.width < 800
    assert embedded.height / embedded.width == pytest.approx(4000 / 3000, rel=0.01)
    assert len(pdf) < len(stored) / 2


def test_a_png_photo_prints_too(course):
    _add(course.repo, course.session_ids[0], make_png(200, 150), PhotoView.RIGHT_45)
    _add(course.repo, course.session_ids[1], make_png(210, 150), PhotoView.RIGHT_45,
         at=DAYS[1])
    found = photo_pages(course_record_pdf(course.repo, course.client_id, today=TODAY))
    right = [images for text, images in found if "Before and after — Right 45°" in text]
    assert right and widths(right[0]) == {200, 210}


def test_without_a_consent_for_the_record_the_photos_are_left_out_with_a_line(course):
    # The client changes their mind: a newer photo consent allows no use at all.
    sign_photo_consent(course.repo, course.client_id, uses=(),
                       signed_at=datetime(2026, 11, 30, 12, 0))
    pdf = course_record_pdf(course.repo, course.client_id, today=TODAY)
    assert not photo_pages(pdf)
    assert all(not images for _text, images in pages(pdf))
    text = " ".join(t for t, _ in pages(pdf))
    assert ("The client's 3 photos are left out of this record: the client's photo consent "
            "of 30 Nov 2026 does not allow keeping photos in the treatment record.") in text


def test_a_record_without_photos_has_no_photo_section(repo):
    client = repo.add_client(make_client(), by=BY)
    repo.save_draft(make_session(client.id, started_at=DAYS[0], anaesthetic=None), by=BY)
    text = " ".join(t for t, _ in pages(course_record_pdf(repo, client.id, today=TODAY)))
    assert "Before and after" not in text and "left out of this record" not in text


def test_a_view_photographed_at_one_session_only_says_so(repo):
    client = repo.add_client(make_client(), by=BY)
    sign_photo_consent(repo, client.id, signed_at=datetime(2026, 9, 1, 9, 0))
    session = make_session(client.id, started_at=DAYS[0], anaesthetic=None)
    repo.save_draft(session, by=BY)
    _add(repo, session.id, make_jpeg(300, 400, seed=1))
    pdf = course_record_pdf(repo, client.id, today=TODAY)
    assert not photo_pages(pdf)
    assert "No view has been photographed at two sessions yet" in " ".join(
        t for t, _ in pages(pdf))


def test_a_removed_photo_is_never_printed(course):
    course.repo.remove_photo(course.front[2].id, "wrong client in the picture", by=BY)
    found = photo_pages(course_record_pdf(course.repo, course.client_id, today=TODAY))
    text, images = found[0]
    assert f"Latest · {DAY_TEXT[1]}" in text and DAY_TEXT[2] not in text
    assert widths(images) == {WIDTHS[0], WIDTHS[1]}
    # nor on the summary of its session, which now has no photo
    pdf = session_summary_pdf(course.repo, course.session_ids[2], today=TODAY, photos=True)
    assert len(pages(pdf)) == 1 and not pages(pdf)[0][1]


def test_a_photo_whose_file_is_gone_prints_as_a_box_saying_so(course):
    course.repo.photo_store.discard(course.front[0].sha256)
    text, images = photo_pages(course_record_pdf(course.repo, course.client_id,
                                                 today=TODAY))[0]
    assert "The photo file could not be read" in text
    assert widths(images) == {WIDTHS[2]}


# --- the summary ----------------------------------------------------------------------------

def _today_photos(course: Course) -> str:
    """The last session gets a left 45° and a close-up beside its front photo."""
    session_id = course.session_ids[2]
    _add(course.repo, session_id, make_jpeg(360, HEIGHT, seed=21), PhotoView.CLOSE_UP,
         at=DAYS[2], label="left cheek scar")
    _add(course.repo, session_id, make_jpeg(380, HEIGHT, seed=22), PhotoView.LEFT_45,
         at=DAYS[2])
    return session_id


def test_the_summary_is_one_page_unless_its_photos_are_asked_for(course):
    session_id = _today_photos(course)
    plain = pages(session_summary_pdf(course.repo, session_id, today=TODAY))
    assert len(plain) == 1 and not plain[0][1]

    both = pages(session_summary_pdf(course.repo, session_id, today=TODAY, photos=True))
    assert len(both) == 2
    assert both[0][0] == plain[0][0] and not both[0][1]
    text, images = both[1]
    assert "Today's photos" in text and DAY_TEXT[2] in text
    # in the standard order of views, each captioned
    assert text.index("Front") < text.index("Left 45°") < text.index(
        "Close-up: left cheek scar")
    assert widths(images) == {WIDTHS[2], 360, 380}
    assert "Signature" in both[0][0] and "Signature" not in text
    assert summary_photos_note(course.repo, session_id, today=TODAY) is None


def test_no_photo_page_without_the_consent_to_be_shown_them(course):
    session_id = _today_photos(course)
    sign_photo_consent(course.repo, course.client_id, uses=("photo_use_record",),
                       signed_at=datetime(2026, 11, 30, 12, 0))
    found = pages(session_summary_pdf(course.repo, session_id, today=TODAY, photos=True))
    assert len(found) == 1 and not found[0][1]
    assert summary_photos_note(course.repo, session_id, today=TODAY) == (
        "Today's photos are left out of the summary: the client's photo consent of "
        "30 Nov 2026 does not allow showing photos to the client.")


def test_no_photo_page_when_the_record_use_is_withdrawn_though_showing_is_ticked(course):
    session_id = _today_photos(course)
    sign_photo_consent(course.repo, course.client_id, uses=("photo_use_shown",),
                       signed_at=datetime(2026, 11, 30, 12, 0))
    found = pages(session_summary_pdf(course.repo, session_id, today=TODAY, photos=True))
    assert len(found) == 1
    assert "does not allow keeping photos in the treatment record" in summary_photos_note(
        course.repo, session_id, today=TODAY)


def test_the_photo_page_shows_six_photos_at_most(course):
    session_id = course.session_ids[2]
    for k, view in enumerate([PhotoView.LEFT_45, PhotoView.RIGHT_45, PhotoView.LEFT_PROFILE,
                              PhotoView.RIGHT_PROFILE, PhotoView.CLOSE_UP,
                              PhotoView.CLOSE_UP]):
        _add(course.repo, session_id, make_jpeg(200 + 4 * k, 300, seed=30 + k), view,
             at=DAYS[2], label="chin" if k == 5 else "")
    found = pages(session_summary_pdf(course.repo, session_id, today=TODAY, photos=True))
    assert len(found) == 2
    text, images = found[1]
    assert len(images) == 6
    assert "6 of the session's 7 photos" in text
    assert "Close-up: chin" not in text       # the seventh, the last added, is left out


def test_cli_export_summary_with_photos(course, db_path, tmp_path, capsys):
    session_id = _today_photos(course)
    out = tmp_path / "summary.pdf"
    code = main([*store_args(course.repo, db_path), "export", "summary", "--session", session_id,
                 "--photos", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert len(pages(out.read_bytes())) == 2
    plain = tmp_path / "plain.pdf"
    assert main([*store_args(course.repo, db_path), "export", "summary", "--session", session_id,
                 "-o", str(plain)]) == 0
    assert len(pages(plain.read_bytes())) == 1


def test_cli_says_why_the_photo_page_is_left_out(course, db_path, tmp_path, capsys):
    out = tmp_path / "summary.pdf"
    sign_photo_consent(course.repo, course.client_id, uses=("photo_use_record",),
                       signed_at=datetime(2026, 11, 30, 12, 0))
    code = main([*store_args(course.repo, db_path), "export", "summary", "--session",
                 course.session_ids[2], "--photos", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert len(pages(out.read_bytes())) == 1
    assert "note: Today's photos are left out of the summary" in captured.err
    assert "does not allow showing photos to the client" in captured.err


def test_an_image_is_drawn_keeping_its_proportions():
    from needledesk.reports.photos import pdf_image

    data = make_jpeg(3000, 1000)
    reader = pdf_image(data, 200, 200)
    width, height = reader.getSize()
    assert width / height == pytest.approx(3.0, rel=0.01)
    assert width <= 200 / 72 * 200 * 1.25
    assert Image.open(BytesIO(data)).size == (3000, 1000)
