"""Before-and-after photos: their views, what makes a photo record sound, and what the
client's photo consent allows. No Qt, no SQL, no image decoding (that is `imaging`).

What may be done with a photo follows the client's photo consent: the latest one signed on
or before the day in question rules (a client who changes their mind signs a new one, with
fewer uses or none; photos already taken follow it from then on).

- taking a photo, and keeping it in the record, needs "Kept in my treatment record";
- showing it to the client (the comparison on screen, the summary's photo page) needs
  "Shown to me to compare results" as well;
- exporting it for teaching or for marketing needs that use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from needledesk.domain.consent import covering
from needledesk.domain.model import Consent, ConsentKind, Photo, PhotoSource, PhotoView
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text

VIEW_TEXT: dict[PhotoView, str] = {
    PhotoView.FRONT: "Front",
    PhotoView.LEFT_45: "Left 45°",
    PhotoView.RIGHT_45: "Right 45°",
    PhotoView.LEFT_PROFILE: "Left profile",
    PhotoView.RIGHT_PROFILE: "Right profile",
    PhotoView.CLOSE_UP: "Close-up",
}
#: The views a session asks for unless the clinic chooses others (Settings).
DEFAULT_VIEWS: tuple[PhotoView, ...] = (PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45)
SOURCE_TEXT: dict[PhotoSource, str] = {
    PhotoSource.FILE: "from a file", PhotoSource.FOLDER: "from the import folder",
    PhotoSource.CAMERA: "taken with the camera", PhotoSource.EXCHANGE: "imported from a file",
}
MEDIA_TYPES = ("image/jpeg", "image/png")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}
LABEL_MAX = 80
REASON_MIN, REASON_MAX = 3, 500
#: The largest side stored (a 12-megapixel phone photo, 4032 x 3024, keeps its size).
SIDE_MAX = 4096
#: A stored photo's size in bytes (a 4096-pixel JPEG at the quality stored is far below).
SIZE_MAX = 40 * 1024 * 1024

USE_RECORD = "photo_use_record"
USE_SHOWN = "photo_use_shown"
USE_TEACHING = "photo_use_teaching"
USE_MARKETING = "photo_use_marketing"
#: What a photo export is for -> the photo use it needs.
EXPORT_USES = {"record": USE_RECORD, "teaching": USE_TEACHING, "marketing": USE_MARKETING}
USE_TEXT = {USE_RECORD: "keeping photos in the treatment record",
            USE_SHOWN: "showing photos to the client",
            USE_TEACHING: "using photos for teaching",
            USE_MARKETING: "using photos in the clinic's marketing"}

_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def view_text(view: PhotoView | str, label: str = "") -> str:
    """"Front", "Close-up: left cheek scar"."""
    text = VIEW_TEXT.get(PhotoView(view), str(view)) if view in set(PhotoView) else str(view)
    return f"{text}: {label}" if label else text


def photo_consent(consents: Iterable[Consent], on: date) -> Consent | None:
    """The photo consent ruling on the day `on`: the latest signed on or before it."""
    return covering(consents, on, ConsentKind.PHOTO)


def allowed_uses(consents: Iterable[Consent], on: date) -> list[str]:
    """The photo uses the client allows on the day `on` (none without a photo consent)."""
    consent = photo_consent(consents, on)
    return consent.photo_uses if consent is not None else []


def use_refusal(consents: Iterable[Consent], on: date, use: str = USE_RECORD) -> str | None:
    """Why a photo cannot be used for `use` on the day `on`, in plain words; None when the
    client's photo consent allows it."""
    consent = photo_consent(consents, on)
    if consent is None:
        return ("The client has not signed a photo consent. Ask them to sign one (Client › "
                "Sign photo consent…) before photos are taken.")
    if use in consent.photo_uses:
        return None
    return (f"The client's photo consent of {day_text(consent.signed_at.date())} does not "
            f"allow {USE_TEXT.get(use, use)}.")


def validate_photo(photo: Photo) -> list[Problem]:
    """What makes a photo record sound (the same rules for the store, the import and
    `check`)."""
    problems: list[Problem] = []
    if photo.view not in set(PhotoView):
        allowed = ", ".join(VIEW_TEXT.values())
        problems.append(Problem("view", f"must be one of {allowed}"))
    if not isinstance(photo.label, str) or len(photo.label) > LABEL_MAX:
        problems.append(Problem("label", f"must be text of at most {LABEL_MAX} characters"))
    for name in ("sha256", "original_sha256"):
        if not isinstance(getattr(photo, name), str) or not _SHA256.fullmatch(
                getattr(photo, name)):
            problems.append(Problem(name, "must be a SHA-256 hash (64 hexadecimal digits)"))
    if photo.media_type not in MEDIA_TYPES:
        problems.append(Problem("media_type", "must be a JPEG or PNG picture"))
    for name in ("width", "height"):
        value = getattr(photo, name)
        if type(value) is not int or not 1 <= value <= SIDE_MAX:
            problems.append(Problem(name, f"must be from 1 to {SIDE_MAX} pixels"))
    if type(photo.size) is not int or not 1 <= photo.size <= SIZE_MAX:
        problems.append(Problem("size", f"must be from 1 byte to {SIZE_MAX // 2**20} MB"))
    if photo.source not in set(PhotoSource):
        problems.append(Problem("source", "is not a way a photo comes in"))
    if not isinstance(photo.added_by, str) or not photo.added_by.strip():
        problems.append(Problem("added_by", "is required: who added the photo"))
    if photo.removed_at is not None:
        reason = photo.removed_reason.strip() if isinstance(photo.removed_reason, str) else ""
        if not REASON_MIN <= len(reason) <= REASON_MAX:
            problems.append(Problem("removed_reason", "is required when a photo is removed, "
                                    f"{REASON_MIN} to {REASON_MAX} characters"))
        if not isinstance(photo.removed_by, str) or not photo.removed_by.strip():
            problems.append(Problem("removed_by", "is required when a photo is removed"))
    return problems


def reason_problems(reason: str) -> list[Problem]:
    """The reason for removing a photo (an amendment) must say something."""
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        return [Problem("reason", f"Reason: write why the photo is removed ({REASON_MIN} to "
                        f"{REASON_MAX} characters)")]
    return []


@dataclass(frozen=True)
class ViewPair:
    """Two photos of one view to compare, earlier first."""

    view: PhotoView
    label: str
    before: Photo
    after: Photo


def by_view(photos: Iterable[Photo]) -> dict[tuple[PhotoView, str], list[Photo]]:
    """The live photos grouped by view (close-ups by their label), each list in the order
    they were taken (the session's time, then when the photo was added)."""
    groups: dict[tuple[PhotoView, str], list[Photo]] = {}
    for photo in photos:
        if photo.removed:
            continue
        label = photo.label.strip().casefold() if photo.view == PhotoView.CLOSE_UP else ""
        groups.setdefault((photo.view, label), []).append(photo)
    return groups


def first_and_latest(photos: Sequence[Photo], session_order: Sequence[str]
                     ) -> list[ViewPair]:
    """For each view photographed at two or more sessions, its first and latest photo
    (`session_order`: the session ids, oldest first). Views in the standard order."""
    rank = {sid: i for i, sid in enumerate(session_order)}
    pairs: list[ViewPair] = []
    order = list(PhotoView)
    for (view, _label), group in sorted(by_view(photos).items(),
                                        key=lambda item: (order.index(item[0][0]), item[0][1])):
        ranked = sorted((p for p in group if p.session_id in rank),
                        key=lambda p: (rank[p.session_id], p.added_at))
        if len({p.session_id for p in ranked}) < 2:
            continue
        pairs.append(ViewPair(view, ranked[0].label, ranked[0], ranked[-1]))
    return pairs


def missing_views(photos: Iterable[Photo], wanted: Iterable[PhotoView]) -> list[PhotoView]:
    """The views the clinic asks for that a session's live photos do not have yet."""
    have = {p.view for p in photos if not p.removed}
    return [v for v in wanted if v not in have]
