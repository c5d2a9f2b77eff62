"""Synthetic face photos for the demo, the screenshots and the benchmark (Pillow only, no Qt).

No real person's photo ships with NeedleDesk, so the demo draws its own: a face in skin tones
(oval face, hair, ears, eyes, brows, nose, lips, neck and shoulders) against a plain studio
background, at one of the standard views (front, left 45°, right 45°, left profile, right
profile, or a close-up of a cheek), with acne-scar-like marks and redness that fade as the
session number grows, so a first-and-latest comparison shows an improvement.

Everything is decided by `seed` (the same seed is the same person, with the same marks at
the same places) and `session` (how far the treatment has gone; a small change of framing and
light from one session to the next, as real photos have). `face_photo` returns JPEG bytes
carrying EXIF a camera would write (orientation, make and model, a serial number, the time
taken and a GPS position), so the import really has something to strip and, with
`orientation=6`, something to turn.

    >>> data = face_photo("left_45", session=1, seed=7, size=(1200, 1600))

A 1200 x 1600 photo takes about a tenth of a second; a 12-megapixel one under a second.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageChops, ImageDraw, ImageFilter

#: The views drawn, by the names of `domain.model.PhotoView` (a PhotoView is a str).
VIEWS = ("front", "left_45", "right_45", "left_profile", "right_profile", "close_up")
#: How far the head is turned for each view, in degrees (negative: the nose points to the
#: picture's left, showing the client's left cheek).
YAW = {"front": 0.0, "left_45": -45.0, "right_45": 45.0, "left_profile": -90.0,
       "right_profile": 90.0, "close_up": -30.0}
DEMO_SIZE = (1200, 1600)
#: The EXIF written (tags by number: Pillow has no names for writing them).
CAMERA_MAKE, CAMERA_MODEL, CAMERA_SERIAL = "DemoOptics", "NeedleDesk Demo Camera", "DEMO-SN-0042"
GPS_POSITION = ("N", (51.0, 30.0, 26.4), "W", (0.0, 7.0, 39.0))   # a made-up London street
_ORIENTATION, _MAKE, _MODEL, _EXIF_IFD, _GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8769, 0x8825
_SERIAL, _DATETIME_ORIGINAL = 0xA431, 0x9003
# How the stored pixels are turned so that a viewer applying the orientation shows them
# upright (EXIF orientation -> the transpose that undoes what the viewer will do).
_STORE_AS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
             6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_270}
# Drawing happens at most this many pixels on the long side, then is scaled up (the
# features are soft; the grain added at full size gives the detail a camera's file has).
_DRAW_MAX = 1600

_SKIN = [(241, 212, 189), (232, 190, 160), (214, 168, 132), (190, 140, 104),
         (160, 112, 80), (118, 80, 56), (92, 62, 44)]
_HAIR = [(40, 28, 22), (70, 46, 30), (110, 74, 44), (160, 120, 70), (196, 160, 110),
         (20, 18, 18), (120, 60, 36)]
_IRIS = [(70, 50, 30), (90, 110, 130), (60, 100, 70), (45, 35, 25), (110, 90, 60)]
_TOP = [(40, 60, 80), (90, 90, 95), (230, 230, 225), (60, 90, 90), (120, 70, 80)]


def severity(session: int) -> float:
    """How marked the skin is at a session (1 at the first, falling towards 0.2)."""
    return 0.2 + 0.8 * 0.62 ** max(0, session - 1)


@dataclass(frozen=True)
class _Mark:
    phi: float      # longitude on the head, radians (0: facing the camera; + to the right)
    lat: float      # height on the head, -1 (crown) .. 1 (chin)
    size: float     # radius as a share of the head's half width
    kind: str       # "scar" (a small pit) or "red" (a patch of redness)


@dataclass(frozen=True)
class _Person:
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    iris: tuple[int, int, int]
    top: tuple[int, int, int]
    long_hair: bool
    face_width: float    # head half width against half height
    marks: tuple[_Mark, ...]


def _person(seed: int) -> _Person:
    rng = random.Random(f"needledesk-demo-face-{seed}")
    marks: list[_Mark] = []
    for _ in range(rng.randint(34, 52)):            # scars, mostly on the cheeks
        side = rng.choice((-1, 1))
        marks.append(_Mark(side * rng.uniform(0.45, 1.05), rng.uniform(0.0, 0.55),
                           rng.uniform(0.010, 0.024), "scar"))
    for _ in range(rng.randint(4, 8)):              # a few on the forehead and chin
        marks.append(_Mark(rng.uniform(-0.5, 0.5), rng.choice((-0.42, 0.72))
                           + rng.uniform(-0.06, 0.06), rng.uniform(0.008, 0.018), "scar"))
    for _ in range(rng.randint(3, 5)):              # redness over the cheeks
        side = rng.choice((-1, 1))
        marks.append(_Mark(side * rng.uniform(0.5, 0.9), rng.uniform(0.1, 0.4),
                           rng.uniform(0.10, 0.18), "red"))
    return _Person(skin=rng.choice(_SKIN), hair=rng.choice(_HAIR), iris=rng.choice(_IRIS),
                   top=rng.choice(_TOP), long_hair=rng.random() < 0.55,
                   face_width=rng.uniform(0.70, 0.78), marks=tuple(marks))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return (min(255, round(colour[0] * factor)), min(255, round(colour[1] * factor)),
            min(255, round(colour[2] * factor)))


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


class _Head:
    """Where a point of the head falls in the picture for a turn of `yaw` degrees: the head
    is taken as an upright oval cylinder, features placed by longitude and height."""

    def __init__(self, cx: float, cy: float, half_height: float, width: float,
                 yaw: float) -> None:
        self.cx, self.cy, self.hh = cx, cy, half_height
        self.r = half_height * width
        self.yaw = math.radians(yaw)
        self.turn = math.sin(self.yaw)              # -1 (left profile) .. 1 (right profile)

    def half_width(self, lat: float) -> float:
        # Narrower at the crown and much narrower at the jaw and chin.
        if lat < 0:
            return self.r * math.sqrt(max(0.0, 1 - lat * lat))
        return self.r * math.sqrt(max(0.0, 1 - lat ** 2.2)) * (1 - 0.18 * lat)

    def x(self, phi: float, lat: float, lift: float = 0.0) -> float:
        """`lift`: how far the point stands out of the surface (the nose), in head widths."""
        width = self.half_width(lat) + lift * self.r
        return self.cx + width * math.sin(phi + self.yaw)

    def y(self, lat: float) -> float:
        return self.cy + lat * self.hh

    def facing(self, phi: float) -> float:
        """How squarely a point faces the camera: 1 head-on, 0 at the outline, < 0 hidden."""
        return math.cos(phi + self.yaw)

    def outline(self) -> tuple[float, float, float, float]:
        """The head's outline box: deeper than wide when seen from the side."""
        turned = abs(self.turn)
        width = self.r * (1 + 0.16 * turned)
        centre = self.cx - self.turn * 0.16 * self.r
        return (centre - width, self.cy - self.hh, centre + width, self.cy + self.hh * 0.98)


def face_image(view: str = "front", *, session: int = 1, seed: int = 0,
               size: tuple[int, int] = DEMO_SIZE, marked: float | None = None) -> Image.Image:
    """The photo as an upright RGB picture of `size` (width, height). `marked`: how marked
    the skin is, 0 (clear) to 1, instead of `severity(session)` (the framing and light still
    follow `session`)."""
    if view not in YAW:
        raise ValueError(f"no such view: {view}")
    width, height = size
    scale = min(1.0, _DRAW_MAX / max(width, height))
    dw, dh = max(64, round(width * scale)), max(64, round(height * scale))
    person = _person(seed)
    shot = random.Random(f"needledesk-demo-shot-{seed}-{session}-{view}")
    close = view == "close_up"
    unit = min(dw, dh * 0.75) * (2.6 if close else 1.0)
    half_height = unit * 0.40 * shot.uniform(0.98, 1.02)
    cx = dw / 2 + shot.uniform(-0.012, 0.012) * dw
    cy = dh * 0.46 + shot.uniform(-0.01, 0.01) * dh
    head = _Head(cx, cy, half_height, person.face_width, YAW[view])
    if close:          # the left cheek fills the frame
        head.cx += dw / 2 - head.x(-0.7, 0.25)
        head.cy += dh / 2 - head.y(0.25)
    light = shot.uniform(0.97, 1.03)
    picture = _background(dw, dh, light)
    _draw_body(picture, head, person)
    _draw_head(picture, head, person, severity(session) if marked is None else marked)
    picture = picture.filter(ImageFilter.BoxBlur(max(0.6, dw / 1200)))
    if (dw, dh) != (width, height):
        picture = picture.resize((width, height), Image.Resampling.BICUBIC)
    return _grain(picture, shot.getrandbits(32))


def _background(width: int, height: int, light: float) -> Image.Image:
    """A plain studio backdrop, lighter behind the head, darker at the corners."""
    top, bottom = _shade((206, 212, 218), light), _shade((168, 176, 186), light)
    column = Image.linear_gradient("L").resize((1, height))
    picture = Image.composite(Image.new("RGB", (1, height), bottom),
                              Image.new("RGB", (1, height), top), column)
    picture = picture.resize((width, height))
    glow = Image.radial_gradient("L").resize((width, height))      # 0 centre .. 255 edge
    dark = _shade(bottom, 0.82)
    return Image.composite(Image.new("RGB", (width, height), dark), picture,
                           glow.point(lambda v: max(0, v - 110)))


def _draw_body(picture: Image.Image, head: _Head, person: _Person) -> None:
    draw = ImageDraw.Draw(picture)
    width, height = picture.size
    neck_w = head.r * 0.52
    neck_x = head.cx - head.turn * head.r * 0.15
    top_y = head.y(0.55)
    # Shoulders in a gown, then the neck over them.
    shoulder_w = head.r * (2.6 - 0.9 * abs(head.turn))
    draw.ellipse((neck_x - shoulder_w, head.y(1.35), neck_x + shoulder_w,
                  head.y(1.35) + head.hh * 2.2), fill=person.top)
    neck = _shade(person.skin, 0.86)
    draw.rectangle((neck_x - neck_w, top_y, neck_x + neck_w, head.y(1.45)), fill=neck)
    draw.ellipse((neck_x - neck_w, head.y(1.25), neck_x + neck_w, head.y(1.6)), fill=neck)
    if person.long_hair:   # hair falling behind the shoulders
        back = -head.turn * head.r * 0.35
        left, right = head.outline()[0] - head.r * 0.08, head.outline()[2] + head.r * 0.08
        draw.rounded_rectangle((left + back, head.y(-0.2), right + back, head.y(1.25)),
                               radius=head.r * 0.4, fill=_shade(person.hair, 0.9))


def _soft(mask: Image.Image, radius: float) -> Image.Image:
    """`mask` blurred by `radius` pixels: a wide blur done on a smaller copy (the same look,
    a fraction of the time)."""
    factor = max(1, int(radius // 3))
    if factor == 1:
        return mask.filter(ImageFilter.GaussianBlur(radius))
    small = mask.resize((max(1, mask.width // factor), max(1, mask.height // factor)),
                        Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(radius / factor))
    return small.resize(mask.size, Image.Resampling.BILINEAR)


def _oval_mask(size: tuple[int, int], box: tuple[float, float, float, float]) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    return mask


def _ear(draw: ImageDraw.ImageDraw, head: _Head, side: int, skin: tuple[int, int, int]) -> None:
    phi = side * math.pi / 2
    if head.facing(phi) < -0.55:
        return
    x = head.x(phi, 0.0, 0.02)
    w = head.r * 0.16 * (0.35 + 0.65 * abs(math.sin(phi + head.yaw)))
    box = (x - w, head.y(-0.12), x + w, head.y(0.2))
    draw.ellipse(box, fill=_shade(skin, 0.93))
    inner = (x - w * 0.5, head.y(-0.06), x + w * 0.5, head.y(0.13))
    draw.ellipse(inner, fill=_shade(skin, 0.8))


def _draw_head(picture: Image.Image, head: _Head, person: _Person, marked: float) -> None:
    size = picture.size
    draw = ImageDraw.Draw(picture)
    skin, hair = person.skin, person.hair
    outline = head.outline()
    # Hair at the back of the head (behind the face), then the ears, then the face.
    hair_box = (outline[0] - head.r * 0.1, outline[1] - head.hh * 0.06,
                outline[2] + head.r * 0.1, head.y(0.35))
    draw.ellipse(hair_box, fill=hair)
    for side in (-1, 1):
        if head.facing(side * math.pi / 2) < 0.1:
            _ear(draw, head, side, skin)
    face = _oval_mask(size, outline)
    picture.paste(_shade(skin, 0.88), (0, 0), face)
    # Light from the front-left: a soft lighter oval within the face.
    lit = Image.new("L", size, 0)
    inset_x, inset_y = (outline[2] - outline[0]) * 0.12, (outline[3] - outline[1]) * 0.1
    ImageDraw.Draw(lit).ellipse((outline[0] + inset_x * 0.6, outline[1] + inset_y,
                                 outline[2] - inset_x * 1.4, outline[3] - inset_y * 1.3),
                                fill=255)
    lit = ImageChops.multiply(_soft(lit, head.r * 0.22), face)
    picture.paste(skin, (0, 0), lit)
    _draw_marks(picture, head, person, marked, face)
    _draw_hair_front(picture, head, person, outline)
    for side in (-1, 1):
        if head.facing(side * math.pi / 2) >= 0.1:
            _ear(draw, head, side, skin)
    _draw_features(draw, head, person)


def _draw_marks(picture: Image.Image, head: _Head, person: _Person, marked: float,
                face: Image.Image) -> None:
    size = picture.size
    red = Image.new("L", size, 0)
    red_draw = ImageDraw.Draw(red)
    draw = ImageDraw.Draw(picture)
    # On darker skin the marks show as darker (hyperpigmented) rather than pinker.
    dark = max(0.0, 1 - sum(person.skin) / 3 / 235)
    pit = _shade(_mix(person.skin, (150, 60, 60), 0.25), 0.86 - 0.2 * dark)
    rim = _shade(person.skin, 1.04 + 0.06 * dark)
    for mark in person.marks:
        facing = head.facing(mark.phi)
        if facing < 0.15:
            continue
        x, y = head.x(mark.phi, mark.lat), head.y(mark.lat)
        radius = mark.size * head.r
        if mark.kind == "red":
            strength = round(150 * marked * facing)
            red_draw.ellipse((x - radius * facing, y - radius * 0.8, x + radius * facing,
                              y + radius * 0.8), fill=strength)
            continue
        # A scar: a pit (darker, a little red while it is fresh) with a lighter rim, which
        # shrinks and pales as the treatment goes on.
        r = radius * (0.45 + 0.55 * marked)
        rx = r * max(0.3, facing)
        colour = _mix(person.skin, pit, min(1.0, 0.25 + 0.85 * marked))
        draw.ellipse((x - rx * 1.35, y - r * 1.35, x + rx * 1.35, y + r * 1.35),
                     fill=_mix(person.skin, rim, 0.6 * marked + 0.2))
        draw.ellipse((x - rx, y - r, x + rx, y + r), fill=colour)
    red = ImageChops.multiply(_soft(red, head.r * 0.08), face)
    flush = _mix(person.skin, _mix((205, 70, 70), (105, 32, 38), dark), 0.55)
    picture.paste(flush, (0, 0), red)


def _draw_features(draw: ImageDraw.ImageDraw, head: _Head, person: _Person) -> None:
    skin, hair = person.skin, person.hair
    turn = head.turn
    # Eyes and brows.
    for side in (-1, 1):
        phi = side * 0.42
        facing = head.facing(phi)
        if facing < 0.12:
            continue
        x, y = head.x(phi, -0.06), head.y(-0.06)
        w, h = head.r * 0.2 * facing, head.hh * 0.045
        draw.ellipse((x - w * 1.25, y - h * 2.0, x + w * 1.25, y + h * 1.6),
                     fill=_shade(skin, 0.84))                       # the socket's shadow
        draw.ellipse((x - w, y - h, x + w, y + h), fill=(236, 232, 226))
        iris_x = x + turn * w * 0.25
        ir = h * 0.95
        draw.ellipse((iris_x - ir * facing, y - ir, iris_x + ir * facing, y + ir),
                     fill=person.iris)
        pr = ir * 0.45
        draw.ellipse((iris_x - pr * facing, y - pr, iris_x + pr * facing, y + pr),
                     fill=(18, 14, 12))
        draw.arc((x - w, y - h * 1.15, x + w, y + h * 1.3), 190, 350,
                 fill=_shade(hair, 0.7), width=max(2, round(h * 0.35)))   # the lash line
        by = head.y(-0.2)
        bx0, bx1 = head.x(phi - 0.22, -0.2), head.x(phi + 0.2, -0.2)
        draw.line((bx0, by + h * 0.6, (bx0 + bx1) / 2, by - h * 0.5, bx1, by + h * 0.2),
                  fill=_shade(hair, 0.85), width=max(2, round(head.hh * 0.03)), joint="curve")
    # The nose: a bridge from between the eyes to a tip standing out of the face.
    nose_dark = _shade(skin, 0.8)
    top = (head.x(0.0, -0.06, 0.05), head.y(-0.06))
    tip = (head.x(0.0, 0.22, 0.3), head.y(0.22))
    base = (head.x(0.0, 0.3, 0.08), head.y(0.3))
    if abs(turn) > 0.2:
        wing = (head.x(-0.18 * math.copysign(1, turn), 0.27, 0.05), head.y(0.27))
        draw.polygon((top, tip, base, wing), fill=_shade(skin, 0.95))
        draw.line((top, tip, base), fill=nose_dark, width=max(1, round(head.hh * 0.012)))
        nostril = (base[0] - (base[0] - wing[0]) * 0.35, head.y(0.27))
        nr = head.hh * 0.02
        draw.ellipse((nostril[0] - nr, nostril[1] - nr * 0.6, nostril[0] + nr,
                      nostril[1] + nr * 0.6), fill=_shade(skin, 0.55))
    else:
        for side in (-1, 1):          # the sides of the nose and its nostrils
            sx = head.x(side * 0.1, 0.1, 0.1)
            draw.line((head.x(side * 0.06, -0.02, 0.05), head.y(-0.02), sx, head.y(0.22)),
                      fill=nose_dark, width=max(1, round(head.hh * 0.01)))
            nx = head.x(side * 0.07, 0.27, 0.12)
            nr = head.hh * 0.022
            draw.ellipse((nx - nr * 1.1, head.y(0.27) - nr * 0.6, nx + nr * 1.1,
                          head.y(0.27) + nr * 0.6), fill=_shade(skin, 0.55))
        tr = head.hh * 0.045
        draw.ellipse((tip[0] - tr, tip[1] - tr * 0.6, tip[0] + tr, tip[1] + tr * 0.8),
                     fill=_shade(skin, 1.03))
    # The lips.
    lip = _mix(skin, (180, 70, 80), 0.45)
    lip_dark = _shade(lip, 0.8)
    y = head.y(0.47)
    corners = [(phi, head.x(phi, 0.47, 0.05)) for phi in (-0.3, 0.3)
               if head.facing(phi) > -0.05]
    mid = head.x(0.0, 0.47, 0.14)
    if corners:
        left = min([c[1] for c in corners] + [mid])
        right = max([c[1] for c in corners] + [mid])
        h = head.hh * 0.04
        draw.polygon(((left, y), (mid - (mid - left) * 0.5, y - h * 1.2), (mid, y - h * 0.8),
                      (mid + (right - mid) * 0.5, y - h * 1.2), (right, y)), fill=lip_dark)
        draw.chord((left, y - h * 1.6, right, y + h * 1.5), 0, 180, fill=lip)
        draw.line(((left, y), (right, y)), fill=_shade(lip, 0.55),
                  width=max(1, round(h * 0.25)))


def _draw_hair_front(picture: Image.Image, head: _Head, person: _Person,
                     outline: tuple[float, float, float, float]) -> None:
    """The hair over the top of the head, its line curving over the forehead, and over the
    back of the head when the face is turned."""
    size = picture.size
    cap = Image.new("L", size, 0)
    cap_draw = ImageDraw.Draw(cap)
    cap_draw.ellipse((outline[0] - head.r * 0.06, outline[1] - head.hh * 0.06,
                      outline[2] + head.r * 0.06, outline[3]), fill=255)
    # Cut away the forehead and, in a curve from temple to temple, the face below it.
    forehead_centre = head.x(0.0, -0.3)
    half = head.r * (0.78 - 0.3 * abs(head.turn))
    cap_draw.ellipse((forehead_centre - half, head.y(-0.62), forehead_centre + half,
                      head.y(1.4)), fill=0)
    cap_draw.ellipse((outline[0] + head.r * 0.04, head.y(-0.4), outline[2] - head.r * 0.04,
                      head.y(2.6)), fill=0)
    if abs(head.turn) > 0.2:   # the back of the head, from behind the ear
        side = math.copysign(1.0, head.turn)        # the face is this way; the back away
        ear_x = head.x(-side * math.pi / 2, 0.0)
        depth = abs(outline[2] - outline[0])
        front = ear_x + side * head.r * 0.02
        rear = front - side * depth
        back = (min(front, rear), outline[1] - head.hh * 0.1, max(front, rear), head.y(0.62))
        shape = Image.new("L", size, 0)
        ImageDraw.Draw(shape).ellipse(back, fill=255)
        head_mask = _oval_mask(size, (outline[0] - head.r * 0.06, outline[1] - head.hh * 0.06,
                                      outline[2] + head.r * 0.06, outline[3]))
        cap = ImageChops.lighter(cap, ImageChops.multiply(shape, head_mask))
    cap = _soft(cap, max(1.0, head.r * 0.015))
    picture.paste(person.hair, (0, 0), cap)


def _grain(picture: Image.Image, seed: int) -> Image.Image:
    """A camera's fine noise, the same for the same seed."""
    width, height = picture.size
    noise = Image.frombytes("L", (width, height), random.Random(seed).randbytes(width * height))
    noise = noise.point(lambda v: v * 14 // 256)
    return ImageChops.add(picture, Image.merge("RGB", (noise, noise, noise)), offset=-7)


def exif_for(orientation: int = 1, *, gps: bool = True, serial: bool = True,
             taken: datetime | None = None) -> Image.Exif:
    """The EXIF a clinic camera would write: orientation, make, model, serial number, the
    time taken and where (a GPS position)."""
    exif = Image.Exif()
    exif[_MAKE] = CAMERA_MAKE
    exif[_MODEL] = CAMERA_MODEL
    exif[_ORIENTATION] = orientation
    extra = exif.get_ifd(_EXIF_IFD)
    if serial:
        extra[_SERIAL] = CAMERA_SERIAL
    if taken is not None:
        extra[_DATETIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps:
        lat_ref, lat, lon_ref, lon = GPS_POSITION
        exif.get_ifd(_GPS_IFD).update({1: lat_ref, 2: lat, 3: lon_ref, 4: lon})
    return exif


def face_photo(view: str = "front", *, session: int = 1, seed: int = 0,
               size: tuple[int, int] = DEMO_SIZE, orientation: int = 1, gps: bool = True,
               taken: datetime | None = None, quality: int = 88) -> bytes:
    """A JPEG of the face at `view` as a camera would save it: `size` is the picture as
    shown (width, height); with an `orientation` other than 1 the pixels are stored turned
    (a 3000 x 4000 photo with orientation 6 is stored 4000 x 3000) and the EXIF says how to
    show them upright."""
    picture = face_image(view, session=session, seed=seed, size=size)
    if orientation in _STORE_AS:
        picture = picture.transpose(_STORE_AS[orientation])
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality,
                 exif=exif_for(orientation, gps=gps, taken=taken))
    return buffer.getvalue()
