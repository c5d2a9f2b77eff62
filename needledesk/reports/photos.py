"""Photos drawn into the PDFs: the course record's before-and-after pages and the session
summary's page of today's photos. No Qt, no database: the caller hands over the photo
records and a function that reads a photo's bytes (`Repository.photo_bytes`), and only the
photos printed are read.

A photo is drawn scaled to fit its box, keeping its proportions. A JPEG already no larger
than the printed size needs at `PRINT_DPI` goes into the PDF as it is (its compressed data
copied, never decoded and compressed again); a larger one is decoded at a reduced scale
(libjpeg's draft mode), resized and compressed once, so a course record of 12-megapixel
photos stays a few megabytes. A PNG stays lossless. A photo whose file cannot be read
prints as a box saying so: the rest of the record still prints.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from datetime import date
from io import BytesIO
from typing import Any

from PIL import Image
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table, TableStyle

from needledesk.domain.course import session_number
from needledesk.domain.model import Consent, Course, Photo, PhotoView, Session
from needledesk.domain.photos import (
    USE_RECORD,
    USE_SHOWN,
    ViewPair,
    photo_consent,
    use_refusal,
    view_text,
)
from needledesk.errors import NeedleDeskError
from needledesk.reports.fonts import REGULAR
from needledesk.reports.layout import MUTED, RULE, SHADE, Styles, grid_style, section
from needledesk.reports.text import Paragraph, fmt_day, fmt_depth, markup

#: Photos are put in the PDF with at most this many pixels per inch at their printed size.
PRINT_DPI = 200
#: A JPEG up to this much larger than needed is copied as it is rather than scaled down.
_SLACK = 1.25
_JPEG_QUALITY = 88
#: The most photos on the summary's photo page.
SUMMARY_PHOTOS = 6
_GAP = 6 * mm

PhotoData = Callable[[Photo], bytes]


class _JpegReader(ImageReader):
    """A JPEG for reportlab, its compressed data copied into the PDF as it is. reportlab
    names each image by a digest of its decoded pixels (decoding it only for that); the
    digest of the file does as well."""

    def __init__(self, data: bytes) -> None:
        super().__init__(BytesIO(data))
        self._dataA = None
        self._key = hashlib.sha256(data).digest()

    def getRGBData(self) -> bytes:  # noqa: N802 (reportlab's name)
        return self._key


def pdf_image(data: bytes, width_pt: float, height_pt: float) -> ImageReader:
    """The photo `data` (JPEG or PNG bytes) ready to draw `width_pt` x `height_pt` points:
    as it is when it has no more pixels than that needs at `PRINT_DPI`, else scaled down.
    Raises NeedleDeskError for bytes that are no picture."""
    need_w = max(1, math.ceil(width_pt / 72 * PRINT_DPI))
    need_h = max(1, math.ceil(height_pt / 72 * PRINT_DPI))
    try:
        image: Image.Image = Image.open(BytesIO(data))   # reads the header only
        jpeg = image.format == "JPEG"
        small = image.width <= need_w * _SLACK and image.height <= need_h * _SLACK
        if jpeg and small and image.mode in ("RGB", "L"):
            return _JpegReader(data)
        if jpeg:
            image.draft("RGB" if image.mode != "L" else "L", (need_w, need_h))
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                                   and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (255, 255, 255))
            image.paste(rgba, mask=rgba.getchannel("A"))
        elif image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        if image.width > need_w * _SLACK or image.height > need_h * _SLACK:
            scale = min(need_w / image.width, need_h / image.height)
            image = image.resize((max(1, round(image.width * scale)),
                                  max(1, round(image.height * scale))),
                                 Image.Resampling.LANCZOS)
        if not jpeg:
            return ImageReader(image)
        buffer = BytesIO()
        image.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=False)
        return _JpegReader(buffer.getvalue())
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NeedleDeskError("the photo file could not be read") from exc


class Picture(Flowable):
    """One photo, scaled to fit a box `box_w` x `box_h` keeping its proportions and centred
    across the box's width; the bytes are read and made ready only when it is drawn. A photo
    that cannot be read draws as a shaded box saying so."""

    def __init__(self, photo: Photo, read: PhotoData, box_w: float, box_h: float):
        super().__init__()
        scale = min(box_w / max(photo.width, 1), box_h / max(photo.height, 1))
        self.photo, self.read = photo, read
        self.box_w = box_w
        self.draw_w, self.draw_h = photo.width * scale, photo.height * scale
        self.width, self.height = box_w, self.draw_h

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        x = (self.box_w - self.draw_w) / 2
        try:
            image = pdf_image(self.read(self.photo), self.draw_w, self.draw_h)
        except (NeedleDeskError, OSError):
            self._missing(x)
            return
        self.canv.drawImage(image, x, 0, self.draw_w, self.draw_h)

    def _missing(self, x: float) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(SHADE)
        canvas.setStrokeColor(RULE)
        canvas.rect(x, 0, self.draw_w, self.draw_h, fill=1, stroke=1)
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 8)
        canvas.drawCentredString(x + self.draw_w / 2, self.draw_h / 2 + 4,
                                 "The photo file could not be read")
        canvas.drawCentredString(x + self.draw_w / 2, self.draw_h / 2 - 7,
                                 "(NeedleDesk's check names it)")
        canvas.restoreState()


def _depths_line(session: Session) -> str:
    """`Cheeks 1.25 mm · Forehead 0.50 mm` (each area once, at its deepest)."""
    deepest: dict[str, tuple[str, float]] = {}
    for area in session.areas:
        key = area.area.strip().casefold()
        name = area.area.strip()
        if key not in deepest or area.depth_mm > deepest[key][1]:
            deepest[key] = (name[:1].upper() + name[1:], area.depth_mm)
    return " · ".join(f"{markup(name)} {fmt_depth(depth)}" for name, depth in deepest.values())


#: Room kept under the photos for their captions (three lines) on a before/after page.
_CAPTION_H = 40
#: Room kept above them for the heading and the line under it.
_HEADING_H = 48


def before_after_pages(pairs: Sequence[ViewPair], sessions: Sequence[Session],
                       courses: Sequence[Course], read: PhotoData, st: Styles,
                       frame_w: float, frame_h: float) -> list[Flowable]:
    """One page per view: its first photo and its latest side by side, each captioned with
    the session's date, the view and the session's depths. `sessions`: the client's, oldest
    first."""
    by_id = {s.id: s for s in sessions}
    course_of = {c.id: c for c in courses}
    box_w = (frame_w - _GAP) / 2
    box_h = min(frame_h - _HEADING_H - _CAPTION_H, 170 * mm)
    flowables: list[Flowable] = []
    for pair in pairs:
        view = view_text(pair.view, pair.label)
        before, after = by_id[pair.before.session_id], by_id[pair.after.session_id]
        weeks = (after.started_at.date() - before.started_at.date()).days // 7
        apart = (f"{weeks} week{'s' if weeks != 1 else ''} apart" if weeks
                 else "the same week")
        intro = Paragraph(
            f"The first photo of this view and the latest: "
            f"{fmt_day(before.started_at.date())} and {fmt_day(after.started_at.date())}, "
            f"{apart}.", st.small)
        cells: list[list[Any]] = [[], []]
        for word, photo, session in (("First", pair.before, before),
                                     ("Latest", pair.after, after)):
            n, of = session_number(session, list(sessions),
                                   course_of.get(session.course_id or ""))
            place = f"Session {n} of {of}" if of else f"Session {n}"
            lines = [f"<b>{word} · {fmt_day(session.started_at.date())}</b>",
                     f"{markup(view)} · {place}"]
            depths = _depths_line(session)
            caption = [Paragraph("<br/>".join(lines), st.cell)]
            if depths:
                caption.append(Paragraph(depths, st.small))
            cells[0].append(Picture(photo, read, box_w, box_h))
            cells[1].append(caption)
        table = Table(cells, colWidths=[box_w + _GAP / 2, box_w + _GAP / 2])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
            ("VALIGN", (0, 1), (-1, 1), "TOP"),
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            ("RIGHTPADDING", (0, 0), (0, -1), _GAP / 2),
            ("LEFTPADDING", (1, 0), (1, -1), _GAP / 2),
            ("RIGHTPADDING", (1, 0), (1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 4),
            ("BOTTOMPADDING", (0, 1), (-1, 1), 0),
        ]))
        flowables += [PageBreak(), KeepTogether([
            *section(f"Before and after — {markup(view)}", st), intro, Spacer(1, 8), table,
            *_between(before, after, sessions, courses, st, frame_w)])]
    return flowables


#: The most sessions listed under a before-and-after pair (the first and last ones beyond).
_BETWEEN_ROWS = 12


def _between(before: Session, after: Session, sessions: Sequence[Session],
             courses: Sequence[Course], st: Styles, frame_w: float) -> list[Flowable]:
    """The sessions from the first photo to the latest, with the depths of each: what was
    done between the two pictures."""
    course_of = {c.id: c for c in courses}
    span = [s for s in sessions if before.started_at <= s.started_at <= after.started_at]
    shown: list[Session | None] = list(span)
    if len(span) > _BETWEEN_ROWS:
        half = _BETWEEN_ROWS // 2
        shown = [*span[:half], None, *span[-(half - 1):]]
    data: list[list[Any]] = [["Session", "Date", "Areas treated (deepest needle depth)"]]
    for session in shown:
        if session is None:
            data.append(["", "…", f"{len(span) - _BETWEEN_ROWS + 1} more sessions"])
            continue
        n, of = session_number(session, list(sessions),
                               course_of.get(session.course_id or ""))
        data.append([f"{n} of {of}" if of else str(n), fmt_day(session.started_at.date()),
                     Paragraph(_depths_line(session) or "—", st.cell)])
    table = Table(data, colWidths=[22 * mm, 26 * mm, frame_w - 48 * mm], repeatRows=1,
                  hAlign="LEFT")
    table.setStyle(grid_style())
    return [Spacer(1, 14), Paragraph("Sessions from the first photo to the latest", st.label),
            Spacer(1, 2), table]


def shown_refusal(photos: Sequence[Photo], consents: Sequence[Consent], today: date
                  ) -> str | None:
    """Why the summary's photo page is left out, in plain words; None when it is printed
    (the session has live photos and the client's photo consent allows showing them)."""
    if not any(not p.removed for p in photos):
        return "This session has no photos, so the summary has no photo page."
    # showing needs the record's use as well (`domain.photos`)
    refusal = use_refusal(consents, today, USE_RECORD) or use_refusal(consents, today, USE_SHOWN)
    if refusal is None:
        return None
    if photo_consent(consents, today) is None:
        refusal = "the client has not signed a photo consent."
    else:
        refusal = refusal[:1].lower() + refusal[1:]
    return f"Today's photos are left out of the summary: {refusal}"


def summary_photos(photos: Sequence[Photo]) -> list[Photo]:
    """The live photos the summary's photo page shows: at most `SUMMARY_PHOTOS`, in the
    standard order of views, each view's in the order they were added."""
    order = list(PhotoView)
    live = [p for p in photos if not p.removed]
    ranked = sorted(enumerate(live), key=lambda item: (
        order.index(PhotoView(item[1].view)) if item[1].view in set(PhotoView) else len(order),
        item[0]))
    return [p for _i, p in ranked][:SUMMARY_PHOTOS]


def photo_grid(photos: Sequence[Photo], read: PhotoData, st: Styles, frame_w: float,
               avail_h: float) -> Flowable:
    """Up to six photos in rows (one, two or three across, as many fit best), each captioned
    by its view, filling `frame_w` x `avail_h` at most."""
    count = len(photos)
    columns = 1 if count == 1 else 2 if count <= 4 else 3
    rows = -(-count // columns)
    caption_h = 16
    box_w = (frame_w - _GAP * (columns - 1)) / columns
    box_h = min((avail_h - rows * (caption_h + _GAP)) / rows, 150 * mm)
    data: list[list[Any]] = []
    style: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), _GAP / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), _GAP / 2),
        ("LEFTPADDING", (0, 0), (0, -1), 0),
        ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]
    for row in range(rows):
        group = photos[row * columns:(row + 1) * columns]
        pictures: list[Any] = [Picture(p, read, box_w, box_h) for p in group]
        captions: list[Any] = [Paragraph(f"<b>{markup(view_text(p.view, p.label))}</b>",
                                         st.cell) for p in group]
        pad = [""] * (columns - len(group))
        data += [pictures + pad, captions + pad]
        style += [("VALIGN", (0, 2 * row + 1), (-1, 2 * row + 1), "TOP"),
                  ("TOPPADDING", (0, 2 * row + 1), (-1, 2 * row + 1), 3),
                  ("BOTTOMPADDING", (0, 2 * row + 1), (-1, 2 * row + 1), _GAP)]
    widths = [box_w + (_GAP / 2 if 0 < c < columns - 1 else 0) + (
        _GAP / 2 if columns > 1 else 0) for c in range(columns)]
    table = Table(data, colWidths=widths)
    table.setStyle(TableStyle(style))
    return table
