"""The demo's synthetic face photos: real JPEGs with the EXIF a camera writes, the same for
the same seed, marked less as the sessions go on, taken in by the import like any photo."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from needledesk.demo_photos import (
    CAMERA_MODEL,
    CAMERA_SERIAL,
    VIEWS,
    face_image,
    face_photo,
    severity,
)
from needledesk.imaging import prepare

SMALL = (300, 400)


def _cheeks(image: Image.Image) -> Image.Image:
    """Both cheeks of a front view (where the marks are), clear of the nose and lips."""
    w, h = image.size
    left = image.crop((int(w * 0.25), int(h * 0.48), int(w * 0.36), int(h * 0.6)))
    right = image.crop((int(w * 0.64), int(h * 0.48), int(w * 0.75), int(h * 0.6)))
    both = Image.new("RGB", (left.width + right.width, left.height))
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    return both


def test_a_photo_is_a_jpeg_of_the_size_asked_with_a_camera_s_exif():
    data = face_photo("front", seed=3, size=SMALL)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == SMALL
    exif = image.getexif()
    assert exif[0x0110] == CAMERA_MODEL and exif[0x0112] == 1
    assert exif.get_ifd(0x8769)[0xA431] == CAMERA_SERIAL
    assert exif.get_ifd(0x8825)[1] == "N"            # a GPS position


def test_an_orientation_stores_the_pixels_turned_so_the_photo_shows_upright():
    upright = face_image("front", seed=3, size=SMALL)
    data = face_photo("front", seed=3, size=SMALL, orientation=6)
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (400, 300) and stored.getexif()[0x0112] == 6
    shown = ImageOps.exif_transpose(stored)
    assert shown.size == SMALL
    # The same picture up to the JPEG's loss; shown without turning, it is not.
    assert _distance(shown, upright) < 4
    assert _distance(stored.resize(SMALL), upright) > 5 * _distance(shown, upright)


def _distance(a: Image.Image, b: Image.Image) -> float:
    """The mean difference of two pictures' grey levels (0 to 255)."""
    return ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean[0]


def test_the_same_seed_and_session_give_the_same_photo_and_others_differ():
    first = face_photo("left_45", seed=11, session=2, size=SMALL)
    assert face_photo("left_45", seed=11, session=2, size=SMALL) == first
    assert face_photo("left_45", seed=12, session=2, size=SMALL) != first
    assert face_photo("left_45", seed=11, session=3, size=SMALL) != first


def test_every_view_is_a_picture_of_its_own():
    pictures = {view: face_image(view, seed=4, size=SMALL) for view in VIEWS}
    for view in VIEWS:
        for other in VIEWS:
            if view < other:
                assert _distance(pictures[view], pictures[other]) > 2, (view, other)
    # Turned left and right are mirror images, near enough (the light and marks differ).
    mirrored = ImageOps.mirror(pictures["left_profile"])
    assert _distance(mirrored, pictures["right_profile"]) < _distance(
        pictures["left_profile"], pictures["right_profile"])


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="no such view"):
        face_image("back", seed=1, size=SMALL)


def test_severity_falls_session_by_session_but_never_to_clear():
    values = [severity(n) for n in range(1, 13)]
    assert values[0] == 1 and all(a > b for a, b in zip(values, values[1:], strict=False))
    assert values[-1] > 0.2


@pytest.mark.parametrize("seed", [1, 2, 5, 8])   # (5: the darkest skin)
def test_the_marks_fade_as_the_sessions_go_on(seed):
    """The same framing (session 3's), marked as at sessions 1, 3 and 6: the cheeks differ
    from clear skin less and less."""
    def picture(marked):
        return _cheeks(face_image("front", seed=seed, session=3, size=(600, 800),
                                  marked=marked))

    clear = picture(0.0)
    first, third, sixth = (_distance(picture(severity(n)), clear) for n in (1, 3, 6))
    assert first > third > sixth > 0
    assert first > 2 * sixth
    # And the session's own photo is marked as its session says.
    assert _cheeks(face_image("front", seed=seed, session=3, size=(600, 800))).tobytes() == \
        picture(severity(3)).tobytes()


def test_the_import_takes_it_in_upright_with_the_camera_s_exif_gone():
    data = face_photo("right_45", seed=8, size=SMALL, orientation=6)
    kept = prepare(data, "face.jpg")
    assert (kept.width, kept.height) == SMALL
    image = Image.open(io.BytesIO(kept.data))
    assert image.size == SMALL and not image.getexif()
    assert CAMERA_SERIAL.encode() not in kept.data and CAMERA_MODEL.encode() not in kept.data
    assert CAMERA_SERIAL.encode() in data
