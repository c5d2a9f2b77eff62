"""Photos as they come in, made fit to keep: decoded (JPEG, PNG, HEIC from phones), turned
upright by their EXIF orientation, stripped of every piece of metadata (GPS position, the
camera's serial number, the time zone, comments, XMP) and bounded in size. Thumbnails.

No Qt and no database: the window, the command line and the import all hand bytes here and
store what comes back (`store.photo_files`). A camera frame is encoded to JPEG by the window
and then comes through exactly the same path as a file.

An upright JPEG (no orientation tag, or "normal") is kept as its own compressed image: the
metadata segments are dropped and the picture data copied untouched, so nothing is lost to a
second compression. Any other photo is decoded, turned, and stored as a new JPEG (a PNG
stays a PNG).
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from needledesk.domain.photos import SIDE_MAX
from needledesk.errors import NeedleDeskError

#: The largest file read (a 48-megapixel phone HEIC is about 10 MB, a JPEG up to 25 MB).
FILE_MAX = 80 * 1024 * 1024
#: The most pixels decoded (Pillow's own limit is a warning at 89 MP): 100 megapixels.
PIXELS_MAX = 100_000_000
JPEG_QUALITY = 92
THUMB_SIDE = 320
_EXIF_ORIENTATION = 0x0112
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_IFD = 0x8769
# JPEG markers kept when a JPEG is copied without decoding: the frame, tables, restart
# intervals, the JFIF header and Adobe's colour-transform flag. Everything else before the
# picture data (EXIF, XMP, ICC, maker notes, comments, Photoshop blocks) is dropped.
_KEEP = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF,
         0xC4, 0xCC, 0xDB, 0xDD, 0xE0, 0xEE}


class PhotoError(NeedleDeskError):
    """A file that cannot be taken in as a photo; nothing was stored."""


@dataclass(frozen=True)
class Prepared:
    """A photo made fit to keep: `data` (JPEG or PNG bytes, no metadata, upright)."""

    data: bytes
    media_type: str
    width: int
    height: int
    sha256: str
    original_sha256: str
    #: When the camera says it was taken (EXIF DateTimeOriginal), if it says.
    taken_at: datetime | None
    #: Its thumbnail (`thumbnail`'s JPEG), made from the picture already decoded here.
    thumb: bytes = b""


_heif_ready = False


def _open(data: bytes, name: str) -> Image.Image:
    global _heif_ready
    if _is_heif(data) and not _heif_ready:
        try:
            from pi_heif import register_heif_opener  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - a build without the HEIC reader
            raise PhotoError(f"{name}: HEIC photos cannot be read on this PC; export it "
                             "from the phone as JPEG") from None
        register_heif_opener()
        _heif_ready = True
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PhotoError(f"{name}: not a photo NeedleDesk can read (JPEG, PNG or HEIC)"
                         ) from exc
    except Image.DecompressionBombError:
        raise PhotoError(f"{name}: the picture is too large to read (more than "
                         f"{PIXELS_MAX // 1_000_000} megapixels)") from None
    if image.format not in ("JPEG", "PNG", "HEIF", "MPO"):
        raise PhotoError(f"{name}: a {image.format} picture; NeedleDesk takes JPEG, PNG or "
                         "HEIC photos")
    if image.width * image.height > PIXELS_MAX:
        raise PhotoError(f"{name}: the picture is too large ({image.width} × {image.height} "
                         f"pixels; at most {PIXELS_MAX // 1_000_000} megapixels)")
    return image


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def _taken_at(image: Image.Image) -> datetime | None:
    try:
        exif = image.getexif()
        text = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL) or exif.get(0x0132)
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace")
        if not isinstance(text, str):
            return None
        return datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except (ValueError, TypeError, KeyError, OSError, SyntaxError):
        return None


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (ValueError, TypeError, OSError, SyntaxError):
        return 1
    return value if isinstance(value, int) else 1


def strip_jpeg(data: bytes) -> bytes | None:
    """The JPEG `data` with every segment but the frame, tables and JFIF header dropped,
    the compressed picture copied as it is; None for a file that is not laid out as a
    plain JPEG (it is then decoded and stored anew)."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:          # fill byte
            pos += 1
            continue
        if marker == 0xDA:          # start of scan: the picture data, to the end
            out += data[pos:]
            return bytes(out)
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2                # markers without a length
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            return None
        if marker in _KEEP:
            out += data[pos:pos + 2 + length]
        pos += 2 + length
    return None


def _encode(image: Image.Image, media_type: str) -> bytes:
    buffer = io.BytesIO()
    if media_type == "image/png":
        image.save(buffer, "PNG", optimize=False)
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
    return buffer.getvalue()


def _plain(image: Image.Image, keep_alpha: bool) -> Image.Image:
    """The pixels alone: no EXIF, ICC profile, comment or text chunk rides along."""
    mode = image.mode
    if mode not in ("RGB", "L") and not (keep_alpha and mode in ("RGBA", "LA")):
        image = image.convert("RGBA" if keep_alpha and "A" in mode else "RGB")
    image.info.clear()
    return image


def _to_srgb(image: Image.Image, profile: bytes) -> Image.Image:
    """The picture's colours in sRGB (a phone's Display P3, say), so that no colour profile
    needs keeping; as it is when the profile cannot be read."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGB" if image.mode not in ("RGB", "RGBA") else image.mode
        converted = ImageCms.profileToProfile(image.convert(mode) if image.mode != mode
                                              else image, source,
                                              ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def prepare(data: bytes, name: str = "the photo") -> Prepared:
    """`data` (a JPEG, PNG or HEIC file's bytes) made fit to keep. `name` says which file in
    a message. Raises PhotoError with a plain sentence for anything else."""
    if not data:
        raise PhotoError(f"{name}: the file is empty")
    if len(data) > FILE_MAX:
        raise PhotoError(f"{name}: the file is too large ({len(data) // 2**20} MB; at most "
                         f"{FILE_MAX // 2**20} MB)")
    original = hashlib.sha256(data).hexdigest()
    image = _open(data, name)
    taken = _taken_at(image)
    turn = _orientation(image)
    width, height = image.size
    stored: bytes | None = None
    media_type = "image/png" if image.format == "PNG" else "image/jpeg"
    profile = image.info.get("icc_profile")
    if (image.format == "JPEG" and turn == 1 and max(width, height) <= SIDE_MAX
            and image.mode in ("RGB", "L") and not profile):
        stored = strip_jpeg(data)
        if stored is not None:
            try:   # the whole picture must decode: a truncated file is refused here
                with Image.open(io.BytesIO(stored)) as check:
                    check.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
                    check.load()
                    thumb = _thumb_of(check)
            except (OSError, ValueError, SyntaxError) as exc:
                raise PhotoError(f"{name}: the photo is damaged or incomplete") from exc
    if stored is None:
        try:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
        except (OSError, ValueError, SyntaxError) as exc:
            raise PhotoError(f"{name}: the photo is damaged or incomplete") from exc
        if max(upright.size) > SIDE_MAX:
            upright = upright.copy()
            upright.thumbnail((SIDE_MAX, SIDE_MAX), Image.Resampling.LANCZOS)
        keep_alpha = media_type == "image/png"
        if profile:
            upright = _to_srgb(upright, profile)
        upright = _plain(upright, keep_alpha)
        stored = _encode(upright, media_type)
        width, height = upright.size
        thumb = _thumb_of(upright)
    return Prepared(stored, media_type, width, height, hashlib.sha256(stored).hexdigest(),
                    original, taken, thumb)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The PNG chunks a stored photo may hold: the picture itself, nothing about it.
_PNG_PICTURE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS"}


def _png_chunks(data: bytes) -> list[bytes] | None:
    if not data.startswith(_PNG_SIGNATURE):
        return None
    chunks, pos = [], len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return chunks if pos == len(data) else None


def kept_form_problem(data: bytes, media_type: str, width: int, height: int) -> str | None:
    """Why bytes offered as an already-stored photo (an exchange file's picture, a backup's)
    are not what NeedleDesk keeps: a JPEG or PNG of the record's size carrying no metadata
    at all. None when they are. A crafted file cannot bring a GPS position in this way."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return "is not a picture NeedleDesk can read"
    expected = {"image/jpeg": "JPEG", "image/png": "PNG"}.get(media_type)
    if found[0] != expected:
        return f"is a {found[0]} picture, not the {expected or media_type} its record names"
    if found[1] != (width, height):
        return (f"is {found[1][0]} × {found[1][1]} pixels, not the {width} × {height} its "
                "record names")
    if expected == "JPEG" and strip_jpeg(data) != data:
        return "carries metadata (a photo NeedleDesk keeps never does)"
    if expected == "PNG":
        chunks = _png_chunks(data)
        if chunks is None or not set(chunks) <= _PNG_PICTURE_CHUNKS:
            return "carries metadata (a photo NeedleDesk keeps never does)"
    return None


def _thumb_of(image: Image.Image, side: int = THUMB_SIDE) -> bytes:
    """A JPEG at most `side` pixels on its longer side of a decoded picture (left as it
    is: reduced first by whole factors, which is quick, then resampled)."""
    scale = min(1.0, side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    small.info.clear()
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """A JPEG at most `side` pixels on its longer side, of a stored photo's bytes."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("RGB", (side, side))
        image.load()
        return _thumb_of(image, side)
