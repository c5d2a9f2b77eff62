"""The open JSON exchange format, version 2 (docs/exchange-format.md): encode and decode.

Version 2 adds photos: each client's `photos` records, whose pictures travel as files beside
the JSON in a zip (`needledesk.transfer` writes and reads the zip). Version 1 files (no
photos) are still read exactly as before.

Decoding is strict and exhaustive: every problem in the file is collected with its place
(`clients[3].sessions[0].areas[1].depth_mm`), so one run tells the user everything to fix.
The clinical rules themselves live in `domain.rules`; this module only checks the shape
(keys, types, formats) and then hands the records to those rules.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from needledesk.domain.acknowledgements import pending
from needledesk.domain.consent_rules import validate_consent, validate_template
from needledesk.domain.face_chart import ZONES
from needledesk.domain.labels import place_label
from needledesk.domain.model import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_ALLOWED,
    SCREENING_QUESTIONS,
    AcknowledgedWarning,
    Amendment,
    Anaesthetic,
    Answer,
    Client,
    ClientRecord,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentStatement,
    ConsentTemplate,
    Course,
    Device,
    DeviceType,
    Fee,
    Lot,
    Observed,
    Photo,
    PhotoSource,
    PhotoView,
    Product,
    ProductKind,
    Reaction,
    Screening,
    ScreeningCheck,
    ScreeningOutcome,
    Serum,
    Session,
    Signature,
    StrokePoint,
    TreatedArea,
)
from needledesk.domain.photos import EXTENSIONS, validate_photo
from needledesk.domain.products import validate_lot, validate_product
from needledesk.domain.rules import (
    GuidelineWarning,
    Problem,
    join_path,
    latest_screening,
    not_applicable_refused,
    parse_amount,
    session_warnings,
)
from needledesk.domain.rules import validate_record as _validate_record
from needledesk.domain.text import compose_acknowledgement, read_acknowledgement
from needledesk.errors import NeedleDeskError, ValidationError

FORMAT = "needledesk-exchange"
VERSION = 2
#: The versions this NeedleDesk reads: 1 (records only) and 2 (records and photos).
VERSIONS = (1, 2)
#: Where a photo's picture sits in the zip: `photos/<sha256>.jpg` (or `.png`).
PHOTO_FOLDER = "photos"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", re.ASCII)

#: How deep a file may nest lists and objects (the format itself needs 6 levels); deeper is
#: refused before the parser recurses into it.
MAX_DEPTH = 64
#: Digits a number in the file may have (a depth, a count); more is refused, not converted.
NUMBER_DIGITS_MAX = 40


class FormatError(NeedleDeskError):
    """The file is not JSON, or not this format or version: one clear line."""


# --- encoding -------------------------------------------------------------------------------


def fmt_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def fmt_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def fmt_amount(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _with(plain: dict[str, Any], **newer: Any) -> dict[str, Any]:
    """`plain` with the newer keys that hold something: a record without them encodes as
    files before them did."""
    return plain | {key: value for key, value in newer.items() if value is not None}


def encode_session(s: Session) -> dict[str, Any]:
    """A session. The newer keys (`anaesthetic.lot`, `anaesthetic.lot_id`,
    `device.cartridge_lot_id`, `serums[].lot_id`, `screening_check`, `areas[].zone`) are
    written only when they hold something."""
    a = s.anaesthetic
    check = s.screening_check
    plain: dict[str, Any] = {
        "id": s.id,
        "course_id": s.course_id,
        "started_at": fmt_time(s.started_at),
        "practitioner": s.practitioner,
        "device": _with({"type": str(s.device.type), "model": s.device.model,
                         "cartridge": s.device.cartridge,
                         "cartridge_lot": s.device.cartridge_lot},
                        cartridge_lot_id=s.device.cartridge_lot_id),
        "anaesthetic": None if a is None else _with({
            "product": a.product, "applied_at": fmt_time(a.applied_at),
            "removed_at": fmt_time(a.removed_at)}, lot=a.lot, lot_id=a.lot_id),
        "areas": [_with({"area": x.area, "depth_mm": x.depth_mm, "passes": x.passes,
                         "endpoint": x.endpoint, "notes": x.notes}, zone=x.zone)
                  for x in s.areas],
        "serums": [_with({"product": x.product, "lot": x.lot}, lot_id=x.lot_id)
                   for x in s.serums],
        "combined_with": list(s.combined_with),
        "reactions": [{"kind": x.kind, "severity": x.severity, "observed": str(x.observed),
                       "notes": x.notes} for x in s.reactions],
        "aftercare": list(s.aftercare),
        "fee": None if s.fee is None else {"amount": fmt_amount(s.fee.amount),
                                           "currency": s.fee.currency},
        "notes": s.notes,
        "signed_at": fmt_time(s.signed_at),
        "acknowledged_warnings": [{"warning": compose_acknowledgement(w.code, w.reason),
                                   "by": w.by, "at": fmt_time(w.at)}
                                  for w in s.acknowledged_warnings],
        "amendments": [{"at": fmt_time(m.at), "by": m.by, "reason": m.reason,
                        "changes": m.changes} for m in s.amendments],
    }
    if check is not None:
        plain["screening_check"] = {"screening_id": check.screening_id,
                                    "outcome": str(check.outcome)}
    return plain


def encode_course(x: Course) -> dict[str, Any]:
    """A course; `areas_planned`, `ended_on` and `end_reason` (newer keys) are written only
    when they hold something, so a course without them reads as files before them did."""
    plain: dict[str, Any] = {
        "id": x.id, "concern": x.concern, "planned_sessions": x.planned_sessions,
        "interval_weeks": x.interval_weeks, "started_on": fmt_date(x.started_on),
        "notes": x.notes}
    if x.areas_planned:
        plain["areas_planned"] = list(x.areas_planned)
    if x.ended_on is not None or x.end_reason:
        plain["ended_on"] = fmt_date(x.ended_on)
        plain["end_reason"] = x.end_reason
    return plain


def encode_statements(statements: list[ConsentStatement]) -> list[dict[str, Any]]:
    return [{"key": x.key, "text": x.text, "required": x.required} for x in statements]


def encode_signature(signature: Signature | None) -> dict[str, Any] | None:
    """A signature: the pad's size, its strokes as lists of [x, y, pressure, milliseconds]
    points, and its picture as base64 PNG."""
    if signature is None:
        return None
    return {"width": signature.width, "height": signature.height,
            "strokes": [[[p.x, p.y, p.pressure, p.t_ms] for p in stroke]
                        for stroke in signature.strokes],
            "image_png": base64.b64encode(signature.image_png).decode("ascii")}


def encode_consent(c: Consent) -> dict[str, Any]:
    return {"id": c.id, "kind": str(c.kind), "method": str(c.method),
            "signed_at": fmt_time(c.signed_at), "practitioner": c.practitioner,
            "title": c.title, "body": c.body, "statements": encode_statements(c.statements),
            "answers": {x.key: bool(c.answers.get(x.key)) for x in c.statements},
            "template_id": c.template_id, "template_version": c.template_version,
            "client_signature": encode_signature(c.client_signature),
            "practitioner_signature": encode_signature(c.practitioner_signature),
            "notes": c.notes}


def encode_template(t: ConsentTemplate) -> dict[str, Any]:
    return {"id": t.id, "kind": str(t.kind), "version": t.version, "title": t.title,
            "body": t.body, "statements": encode_statements(t.statements),
            "created_at": fmt_time(t.created_at), "created_by": t.created_by}


def photo_file(sha256: str, media_type: str) -> str:
    """The name of a photo's picture in the zip: `photos/<sha256>.jpg`."""
    return f"{PHOTO_FOLDER}/{sha256}{EXTENSIONS.get(media_type, '')}"


def encode_photo(p: Photo) -> dict[str, Any]:
    """A live photo's record (version 2); its picture is the zip's member `file`."""
    return {"id": p.id, "session_id": p.session_id, "view": str(p.view), "label": p.label,
            "taken_at": fmt_time(p.taken_at), "added_at": fmt_time(p.added_at),
            "added_by": p.added_by, "source": str(p.source),
            "original_sha256": p.original_sha256, "sha256": p.sha256,
            "media_type": p.media_type, "width": p.width, "height": p.height, "size": p.size,
            "consent_id": p.consent_id, "file": photo_file(p.sha256, p.media_type)}


def encode_record(record: ClientRecord) -> dict[str, Any]:
    """A client's record; `consents` (newer) and `photos` (version 2) are written only when
    there are some."""
    c = record.client
    plain = {
        "id": c.id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "date_of_birth": fmt_date(c.date_of_birth),
        "phone": c.phone,
        "email": c.email,
        "fitzpatrick": c.fitzpatrick,
        "concerns": list(c.concerns),
        "notes": c.notes,
        "courses": [encode_course(x) for x in record.courses],
        "screenings": [{"id": x.id, "date": fmt_date(x.date), "answers": dict(x.answers),
                        "consent_signed": x.consent_signed, "notes": x.notes}
                       for x in record.screenings],
        "sessions": [encode_session(s) for s in record.sessions],
    }
    if record.consents:
        plain["consents"] = [encode_consent(x) for x in record.consents]
    live = [x for x in record.photos if not x.removed]
    if live:
        plain["photos"] = [encode_photo(x) for x in live]
    return plain


def encode_product(product: Product, lots: list[Lot]) -> dict[str, Any]:
    """A catalogue product with its lots (the lot's `product_id` is the product's)."""
    return {"id": product.id, "name": product.name, "kind": str(product.kind),
            "maker": product.maker, "notes": product.notes, "retired": product.retired,
            "lots": [{"id": x.id, "lot": x.lot, "expires_on": fmt_date(x.expires_on),
                      "received_on": fmt_date(x.received_on), "notes": x.notes}
                     for x in lots]}


def encode_document(records: list[ClientRecord],
                    exported_at: datetime | None = None, *,
                    products: list[Product] | None = None,
                    lots: list[Lot] | None = None,
                    consent_templates: list[ConsentTemplate] | None = None) -> dict[str, Any]:
    """The whole document. `products` (the catalogue, each with its `lots`) and
    `consent_templates` (the consent forms' versions) are written only when the clinic has
    some: a file without them reads as files before them did. A document without photos is
    version 1 (which it then is to the letter, so an older NeedleDesk reads it); one with
    photos is version 2."""
    photos = any(not p.removed for r in records for p in r.photos)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION if photos else 1,
        "exported_at": fmt_time((exported_at or datetime.now()).replace(microsecond=0)),
        "clients": [encode_record(r) for r in records],
    }
    if products:
        by_product: dict[str, list[Lot]] = {}
        for lot in lots or []:
            by_product.setdefault(lot.product_id, []).append(lot)
        document["products"] = [encode_product(p, by_product.get(p.id, [])) for p in products]
    if consent_templates:
        document["consent_templates"] = [encode_template(t) for t in consent_templates]
    return document


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --- decoding -------------------------------------------------------------------------------


_MISSING = object()


class _Reader:
    """Reads one JSON object at a time, collecting every shape problem with its path."""

    def __init__(self, version: int = VERSION) -> None:
        self.problems: list[Problem] = []
        #: The file's version: a version 1 file cannot carry photos.
        self.version = version

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def obj(self, value: Any, path: str, required: tuple[str, ...],
            optional: tuple[str, ...] = ()) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_kind(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                self.fail(join_path(path, _safe_key(key)),
                          "is not a known key (a typo would lose data)")
        for key in required:
            if key not in value:
                self.fail(join_path(path, key), "is missing")
        return value

    def get(self, d: dict[str, Any], key: str, path: str, kind: str, *, required: bool = False,
            default: Any = None) -> Any:
        value = d.get(key, _MISSING)
        where = join_path(path, key)
        if value is _MISSING or value is None:
            if required and value is None:
                self.fail(where, "must not be null")
            return default
        checks = {
            "str": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
            "dict": lambda v: isinstance(v, dict),
        }
        if not checks[kind](value):
            names = {"str": "a string", "int": "a whole number", "number": "a number",
                     "bool": "true or false", "list": "a list", "dict": "an object"}
            self.fail(where, f"{_show(value)} is not {names[kind]}")
            return default
        return value

    def text(self, d: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        text: str | None = self.get(d, key, path, "str", required=required)
        return text

    def choice(self, d: dict[str, Any], key: str, path: str, choices: type[StrEnum], *,
               required: bool = False) -> str | None:
        """The text at `key` when it is one of `choices`; None when it is missing or (said
        as a problem) anything else."""
        text = self.text(d, key, path, required=required)
        if text is not None and text not in tuple(choices):
            self.fail(join_path(path, key), f"{_show(text)} is not one of "
                      + ", ".join(c.value for c in choices))
            return None
        return text

    def strings(self, d: dict[str, Any], key: str, path: str) -> list[str]:
        items = self.get(d, key, path, "list", default=[])
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            else:
                self.fail(f"{join_path(path, key)}[{i}]", f"{_show(item)} is not a string")
        return out

    def day(self, d: dict[str, Any], key: str, path: str, *, required: bool = False) -> date | None:
        raw = self.text(d, key, path, required=required)
        if raw is None:
            return None
        where = join_path(path, key)
        if not _DATE.fullmatch(raw):
            self.fail(where, f"{_show(raw)} is not a date in the form YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(where, f"{_show(raw)} is not a real date")
            return None

    def time(self, d: dict[str, Any], key: str, path: str, *,
             required: bool = False) -> datetime | None:
        raw = self.text(d, key, path, required=required)
        if raw is None:
            return None
        where = join_path(path, key)
        if not _TIME.fullmatch(raw):
            self.fail(where, f"{_show(raw)} is not a local time in the form "
                      "YYYY-MM-DDTHH:MM[:SS]")
            return None
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            self.fail(where, f"{_show(raw)} is not a real date and time")
            return None

    def each(self, d: dict[str, Any], key: str, path: str) -> Iterator[tuple[int, str, Any]]:
        """Yield (index, item path, item) for a list-valued key."""
        for i, item in enumerate(self.get(d, key, path, "list", default=[])):
            yield i, f"{join_path(path, key)}[{i}]", item


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _id(r: _Reader, d: dict[str, Any], path: str, ids: dict[str, str]) -> str:
    value = r.text(d, "id", path, required=True)
    where = join_path(path, "id")
    if value is None or not value.strip():
        if value is not None:
            r.fail(where, "must be a non-empty string")
        return ""
    if value in ids:
        r.fail(where, f"“{_safe_key(value)}” is already used at {place_label(ids[value])}; "
               "every id must be unique")
    else:
        ids[value] = where
    return value


def _decode_session(r: _Reader, raw: Any, path: str, client_id: str,
                    ids: dict[str, str]) -> Session | None:
    d = r.obj(raw, path, ("id", "started_at", "practitioner", "device", "areas"),
              ("course_id", "anaesthetic", "serums", "combined_with", "reactions", "aftercare",
               "fee", "notes", "signed_at", "acknowledged_warnings", "amendments",
               "screening_check"))
    if d is None:
        return None
    session_id = _id(r, d, path, ids)
    started_at = r.time(d, "started_at", path, required=True)

    device = Device()
    dev_path = join_path(path, "device")
    dev = r.obj(d.get("device"), dev_path, ("type",), ("model", "cartridge", "cartridge_lot",
                                                       "cartridge_lot_id")) \
        if "device" in d else None
    if dev is not None:
        kind = r.text(dev, "type", dev_path, required=True)
        if kind is not None and kind not in tuple(DeviceType):
            r.fail(join_path(dev_path, "type"), f"{kind!r} is not pen or roller")
        device = Device(DeviceType(kind) if kind in tuple(DeviceType) else DeviceType.PEN,
                        r.text(dev, "model", dev_path), r.text(dev, "cartridge", dev_path),
                        r.text(dev, "cartridge_lot", dev_path),
                        r.text(dev, "cartridge_lot_id", dev_path))

    anaesthetic = None
    if d.get("anaesthetic") is not None:
        an_path = join_path(path, "anaesthetic")
        an = r.obj(d["anaesthetic"], an_path, ("product", "applied_at"),
                   ("removed_at", "lot", "lot_id"))
        if an is not None:
            product = r.text(an, "product", an_path, required=True)
            applied = r.time(an, "applied_at", an_path, required=True)
            removed = r.time(an, "removed_at", an_path)
            if product is not None and applied is not None:
                anaesthetic = Anaesthetic(product, applied, removed, r.text(an, "lot", an_path),
                                          r.text(an, "lot_id", an_path))

    areas = []
    for _, p, item in r.each(d, "areas", path):
        a = r.obj(item, p, ("area", "depth_mm"), ("passes", "endpoint", "notes", "zone"))
        if a is not None:
            depth = r.get(a, "depth_mm", p, "number", required=True)
            zone = r.text(a, "zone", p)
            if zone is not None and zone not in ZONES:
                r.fail(join_path(p, "zone"), f"{_show(zone)} is not a zone of the face chart "
                       "(" + ", ".join(ZONES) + ")")
                zone = None
            areas.append(TreatedArea(r.text(a, "area", p, required=True) or "",
                                     float(depth) if depth is not None else float("nan"),
                                     r.get(a, "passes", p, "int"), r.text(a, "endpoint", p),
                                     r.text(a, "notes", p) or "", zone))
    serums = []
    for _, p, item in r.each(d, "serums", path):
        a = r.obj(item, p, ("product",), ("lot", "lot_id"))
        if a is not None:
            serums.append(Serum(r.text(a, "product", p, required=True) or "",
                                r.text(a, "lot", p), r.text(a, "lot_id", p)))
    reactions = []
    for _, p, item in r.each(d, "reactions", path):
        a = r.obj(item, p, ("kind", "severity"), ("observed", "notes"))
        if a is None:
            continue
        observed = r.text(a, "observed", p)
        if observed is None:
            observed = Observed.IMMEDIATE.value
        elif observed not in tuple(Observed):
            r.fail(join_path(p, "observed"), f"{observed!r} is not one of "
                   + ", ".join(o.value for o in Observed))
            observed = Observed.IMMEDIATE.value
        severity = r.get(a, "severity", p, "int", required=True)
        reactions.append(Reaction(r.text(a, "kind", p, required=True) or "",
                                  severity if severity is not None else 0,
                                  Observed(observed), r.text(a, "notes", p) or ""))

    fee = None
    if d.get("fee") is not None:
        fee_path = join_path(path, "fee")
        f = r.obj(d["fee"], fee_path, ("amount", "currency"))
        if f is not None:
            fee = _decode_fee(r, f, fee_path)

    acknowledged = []
    for _, p, item in r.each(d, "acknowledged_warnings", path):
        a = r.obj(item, p, ("warning", "by", "at"))
        if a is not None:
            at = r.time(a, "at", p, required=True)
            code, reason = read_acknowledgement(r.text(a, "warning", p, required=True) or "")
            acknowledged.append(AcknowledgedWarning(code,
                                                    r.text(a, "by", p, required=True) or "",
                                                    at or datetime.min, reason))
    amendments = []
    for _, p, item in r.each(d, "amendments", path):
        a = r.obj(item, p, ("at", "by", "reason", "changes"))
        if a is None:
            continue
        changes = r.get(a, "changes", p, "dict", required=True, default={})
        for key, pair in changes.items():
            if not (isinstance(pair, list) and len(pair) == 2):
                r.fail(f"{join_path(p, 'changes')}.{key}", "must be a pair [old, new]")
        amendments.append(Amendment(r.time(a, "at", p, required=True) or datetime.min,
                                    r.text(a, "by", p, required=True) or "",
                                    r.text(a, "reason", p, required=True) or "", changes))

    check = None
    if d.get("screening_check") is not None:
        check_path = join_path(path, "screening_check")
        c = r.obj(d["screening_check"], check_path, ("screening_id", "outcome"))
        if c is not None:
            screening_id = r.text(c, "screening_id", check_path, required=True)
            outcome = r.text(c, "outcome", check_path, required=True)
            if outcome is not None and outcome not in tuple(ScreeningOutcome):
                r.fail(join_path(check_path, "outcome"), f"{_show(outcome)} is not one of "
                       + ", ".join(o.value for o in ScreeningOutcome))
            elif screening_id is not None and outcome is not None:
                check = ScreeningCheck(screening_id, ScreeningOutcome(outcome))

    if started_at is None:
        return None
    return Session(
        client_id=client_id, started_at=started_at,
        practitioner=r.text(d, "practitioner", path, required=True) or "",
        areas=areas, id=session_id, course_id=r.text(d, "course_id", path), device=device,
        anaesthetic=anaesthetic, serums=serums,
        combined_with=r.strings(d, "combined_with", path), reactions=reactions,
        aftercare=r.strings(d, "aftercare", path), fee=fee, notes=r.text(d, "notes", path) or "",
        signed_at=r.time(d, "signed_at", path), acknowledged_warnings=acknowledged,
        amendments=amendments, screening_check=check)


def _decode_fee(r: _Reader, f: dict[str, Any], path: str) -> Fee | None:
    raw = r.get(f, "amount", path, "str", required=True)
    currency = r.text(f, "currency", path, required=True)
    if raw is None or currency is None:
        return None
    amount, problems = parse_amount(raw, join_path(path, "amount"))
    r.problems += problems
    return None if amount is None else Fee(amount, currency)


def _decode_record(r: _Reader, raw: Any, path: str, ids: dict[str, str]) -> ClientRecord | None:
    d = r.obj(raw, path, ("id", "first_name", "last_name"),
              ("date_of_birth", "phone", "email", "fitzpatrick", "concerns", "notes", "courses",
               "screenings", "sessions", "consents", "photos"))
    if d is None:
        return None
    client = Client(
        id=_id(r, d, path, ids),
        first_name=r.text(d, "first_name", path, required=True) or "",
        last_name=r.text(d, "last_name", path, required=True) or "",
        date_of_birth=r.day(d, "date_of_birth", path), phone=r.text(d, "phone", path),
        email=r.text(d, "email", path), fitzpatrick=r.get(d, "fitzpatrick", path, "int"),
        concerns=r.strings(d, "concerns", path), notes=r.text(d, "notes", path) or "")
    record = ClientRecord(client)
    for _, p, item in r.each(d, "courses", path):
        c = r.obj(item, p, ("id", "concern", "planned_sessions", "interval_weeks", "started_on"),
                  ("notes", "areas_planned", "ended_on", "end_reason"))
        if c is None:
            continue
        course_id = _id(r, c, p, ids)
        started = r.day(c, "started_on", p, required=True)
        planned = r.get(c, "planned_sessions", p, "int", required=True)
        interval = r.get(c, "interval_weeks", p, "int", required=True)
        if started is not None and planned is not None and interval is not None:
            record.courses.append(Course(client.id, r.text(c, "concern", p, required=True) or "",
                                         planned, interval, started, course_id,
                                         r.text(c, "notes", p) or "",
                                         r.strings(c, "areas_planned", p),
                                         r.day(c, "ended_on", p),
                                         r.text(c, "end_reason", p) or ""))
    for _, p, item in r.each(d, "screenings", path):
        s = r.obj(item, p, ("id", "date"), ("answers", "consent_signed", "notes"))
        if s is None:
            continue
        screening_id = _id(r, s, p, ids)
        day = r.day(s, "date", p, required=True)
        answers_raw = r.get(s, "answers", p, "dict", default={})
        answers: dict[str, Answer] = {}
        for key, value in answers_raw.items():
            where = f"{join_path(p, 'answers')}.{key}"
            if key not in SCREENING_QUESTIONS:
                r.fail(where, "is not a screening question; known: "
                       + ", ".join(SCREENING_QUESTIONS))
            elif value == NOT_APPLICABLE:
                # new in this format's screening answers; files from before never carry it
                if key in NOT_APPLICABLE_ALLOWED:
                    answers[key] = NOT_APPLICABLE
                else:
                    r.fail(where, not_applicable_refused(key))
            elif value is not None and not isinstance(value, bool):
                r.fail(where, f"{_show(value)} is not true, false or null"
                       + (f' (or "{NOT_APPLICABLE}")' if key in NOT_APPLICABLE_ALLOWED else ""))
            else:
                answers[key] = value
        consent = r.get(s, "consent_signed", p, "bool", default=False)
        if day is not None:
            record.screenings.append(Screening(client.id, day, answers, consent, screening_id,
                                               r.text(s, "notes", p) or ""))
    for _, p, item in r.each(d, "sessions", path):
        session = _decode_session(r, item, p, client.id, ids)
        if session is not None:
            record.sessions.append(session)
    for _, p, item in r.each(d, "consents", path):
        consent = _decode_consent(r, item, p, client.id, ids)
        if consent is not None:
            record.consents.append(consent)
    if "photos" in d and r.version < 2:
        r.fail(join_path(path, "photos"), "is new in version 2 of the format: a version "
               f"{r.version} file cannot carry photos")
    else:
        consents = {x.id for x in record.consents}
        sessions = {x.id for x in record.sessions}
        for _, p, item in r.each(d, "photos", path):
            photo = _decode_photo(r, item, p, client.id, ids)
            if photo is None:
                continue
            if photo.session_id not in sessions:
                r.fail(join_path(p, "session_id"), "names a session that is not in this "
                       "client's record")
            if photo.consent_id is not None and photo.consent_id not in consents:
                r.fail(join_path(p, "consent_id"), "names a consent that is not in this "
                       "client's record")
            record.photos.append(photo)
    screenings = {x.id for x in record.screenings}
    for j, session in enumerate(record.sessions):
        if (session.screening_check is not None
                and session.screening_check.screening_id not in screenings):
            r.fail(join_path(f"{path}.sessions[{j}]", "screening_check.screening_id"),
                   "names a screening that is not in this client's record")
    return record


def _decode_photo(r: _Reader, raw: Any, path: str, client_id: str,
                  ids: dict[str, str]) -> Photo | None:
    """A photo's record (version 2). Its picture (`file`) is checked against the zip by
    `needledesk.transfer`; here only that it is named as the format names it."""
    d = r.obj(raw, path, ("id", "session_id", "view", "added_at", "added_by",
                          "original_sha256", "sha256", "media_type", "width", "height",
                          "size", "file"),
              ("label", "taken_at", "source", "consent_id"))
    if d is None:
        return None
    photo_id = _id(r, d, path, ids)
    view = r.choice(d, "view", path, PhotoView, required=True)
    source = r.choice(d, "source", path, PhotoSource)
    session_id = r.text(d, "session_id", path, required=True)
    added_at = r.time(d, "added_at", path, required=True)
    sha256 = r.text(d, "sha256", path, required=True)
    media_type = r.text(d, "media_type", path, required=True)
    file = r.text(d, "file", path, required=True)
    width = r.get(d, "width", path, "int", required=True)
    height = r.get(d, "height", path, "int", required=True)
    size = r.get(d, "size", path, "int", required=True)
    photo = Photo(
        client_id=client_id, session_id=session_id or "", view=PhotoView(view or "front"),
        sha256=sha256 or "", original_sha256=r.text(d, "original_sha256", path,
                                                     required=True) or "",
        media_type=media_type or "", width=width if width is not None else 0,
        height=height if height is not None else 0, size=size if size is not None else 0,
        added_at=added_at or datetime.min, added_by=r.text(d, "added_by", path,
                                                           required=True) or "",
        label=r.text(d, "label", path) or "", taken_at=r.time(d, "taken_at", path),
        source=PhotoSource(source or "file"), consent_id=r.text(d, "consent_id", path),
        id=photo_id)
    if file is not None and sha256 is not None and media_type in EXTENSIONS \
            and file != photo_file(sha256, media_type):
        r.fail(join_path(path, "file"), f"{_show(file)} is not where this photo's picture "
               f"goes: {_show(photo_file(sha256, media_type))} (the folder {PHOTO_FOLDER}/, "
               "the picture's SHA-256 and its type's ending)")
    if view is None or session_id is None or added_at is None or sha256 is None:
        return None
    return photo


def _decode_products(r: _Reader, document: dict[str, Any], ids: dict[str, str],
                     out: Decoded) -> None:
    """The catalogue (`products`, each with its `lots`), new in files that carry it."""
    for _, p, item in r.each(document, "products", ""):
        d = r.obj(item, p, ("id", "name", "kind"), ("maker", "notes", "retired", "lots"))
        if d is None:
            continue
        product_id = _id(r, d, p, ids)
        kind = r.text(d, "kind", p, required=True)
        if kind is not None and kind not in tuple(ProductKind):
            r.fail(join_path(p, "kind"), f"{_show(kind)} is not one of "
                   + ", ".join(k.value for k in ProductKind))
            continue
        product = Product(r.text(d, "name", p, required=True) or "",
                          ProductKind(kind or ProductKind.SERUM), r.text(d, "maker", p) or "",
                          product_id, r.text(d, "notes", p) or "",
                          bool(r.get(d, "retired", p, "bool", default=False)))
        out.products.append(product)
        # Validated here, at its own place in the file (a product refused above is skipped).
        out.problems += _unshaped(r, [x.under(p) for x in validate_product(product)])
        for _, q, raw in r.each(d, "lots", p):
            x = r.obj(raw, q, ("id", "lot"), ("expires_on", "received_on", "notes"))
            if x is None:
                continue
            lot = Lot(product_id, r.text(x, "lot", q, required=True) or "",
                      r.day(x, "expires_on", q), _id(r, x, q, ids),
                      r.day(x, "received_on", q), r.text(x, "notes", q) or "")
            out.lots.append(lot)
            out.problems += _unshaped(r, [y.under(q) for y in validate_lot(lot)])


def _decode_statements(r: _Reader, d: dict[str, Any], path: str) -> list[ConsentStatement]:
    found = []
    for _, p, item in r.each(d, "statements", path):
        x = r.obj(item, p, ("key", "text"), ("required",))
        if x is not None:
            found.append(ConsentStatement(r.text(x, "key", p, required=True) or "",
                                          r.text(x, "text", p, required=True) or "",
                                          bool(r.get(x, "required", p, "bool", default=True))))
    return found


def _decode_signature(r: _Reader, d: dict[str, Any], key: str, path: str) -> Signature | None:
    raw = d.get(key)
    if raw is None:
        return None
    p = join_path(path, key)
    x = r.obj(raw, p, ("width", "height", "strokes"), ("image_png",))
    if x is None:
        return None
    width = r.get(x, "width", p, "number", required=True)
    height = r.get(x, "height", p, "number", required=True)
    strokes: list[list[StrokePoint]] = []
    for i, _q, stroke in r.each(x, "strokes", p):
        if not isinstance(stroke, list):
            r.fail(p, f"stroke {i + 1} must be a list of points, not "
                   f"{_kind(stroke)}")
            continue
        points = []
        for k, point in enumerate(stroke):
            if (not isinstance(point, list) or len(point) != 4
                    or not all(isinstance(v, int | float) and not isinstance(v, bool)
                               for v in point) or not isinstance(point[3], int)):
                r.fail(p, f"stroke {i + 1}, point {k + 1} must be four numbers "
                       "(x, y, pressure and milliseconds)")
                break
            points.append(StrokePoint(float(point[0]), float(point[1]), float(point[2]),
                                      point[3]))
        strokes.append(points)
    image = b""
    text = r.text(x, "image_png", p)
    if text:
        try:
            image = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            r.fail(join_path(p, "image_png"), "is not base64")
    if width is None or height is None:
        return None
    return Signature(strokes, float(width), float(height), image)


def _decode_consent(r: _Reader, raw: Any, path: str, client_id: str,
                    ids: dict[str, str]) -> Consent | None:
    d = r.obj(raw, path, ("id", "kind", "method", "signed_at", "title"),
              ("practitioner", "body", "statements", "answers", "template_id",
               "template_version", "client_signature", "practitioner_signature", "notes"))
    if d is None:
        return None
    consent_id = _id(r, d, path, ids)
    kind = r.text(d, "kind", path, required=True)
    if kind is not None and kind not in tuple(ConsentKind):
        r.fail(join_path(path, "kind"), f"{_show(kind)} is not one of "
               + ", ".join(k.value for k in ConsentKind))
    method = r.text(d, "method", path, required=True)
    if method is not None and method not in tuple(ConsentMethod):
        r.fail(join_path(path, "method"), f"{_show(method)} is not one of "
               + ", ".join(k.value for k in ConsentMethod))
    signed_at = r.time(d, "signed_at", path, required=True)
    answers = {}
    for key, value in r.get(d, "answers", path, "dict", default={}).items():
        if not isinstance(value, bool):
            r.fail(f"{join_path(path, 'answers')}.{_safe_key(key)}",
                   f"{_show(value)} is not true or false")
        else:
            answers[key] = value
    consent = Consent(
        client_id=client_id, kind=ConsentKind(kind) if kind in tuple(ConsentKind)
        else ConsentKind.TREATMENT, signed_at=signed_at or datetime.min,
        method=ConsentMethod(method) if method in tuple(ConsentMethod)
        else ConsentMethod.ON_PAPER,
        practitioner=r.text(d, "practitioner", path) or "",
        title=r.text(d, "title", path, required=True) or "",
        body=r.text(d, "body", path) or "", statements=_decode_statements(r, d, path),
        answers=answers, template_id=r.text(d, "template_id", path),
        template_version=r.get(d, "template_version", path, "int"),
        client_signature=_decode_signature(r, d, "client_signature", path),
        practitioner_signature=_decode_signature(r, d, "practitioner_signature", path),
        id=consent_id, notes=r.text(d, "notes", path) or "")
    return consent if signed_at is not None else None


def _decode_templates(r: _Reader, document: dict[str, Any], ids: dict[str, str],
                      out: Decoded) -> None:
    """The consent forms' versions (`consent_templates`), new in files that carry them."""
    for _, p, item in r.each(document, "consent_templates", ""):
        d = r.obj(item, p, ("id", "kind", "version", "title", "body"),
                  ("statements", "created_at", "created_by"))
        if d is None:
            continue
        template_id = _id(r, d, p, ids)
        kind = r.choice(d, "kind", p, ConsentKind, required=True)
        version = r.get(d, "version", p, "int", required=True)
        if kind is None or version is None:
            continue
        template = ConsentTemplate(
            ConsentKind(kind), version, r.text(d, "title", p, required=True) or "",
            r.text(d, "body", p, required=True) or "", _decode_statements(r, d, p),
            template_id, r.time(d, "created_at", p), r.text(d, "created_by", p) or "")
        out.consent_templates.append(template)
        out.problems += _unshaped(r, [x.under(p) for x in validate_template(template)])


def _unshaped(r: _Reader, problems: list[Problem]) -> list[Problem]:
    """`problems` but those at a place the reader already refused (said once is enough)."""
    shaped = {x.path for x in r.problems}
    return [x for x in problems if x.path not in shaped]


@dataclass
class Decoded:
    """The outcome of reading a document: records, or the problems that stop the import."""

    records: list[ClientRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[GuidelineWarning] = field(default_factory=list)
    #: The product catalogue the file carries (none in files from before it).
    products: list[Product] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    #: The consent forms' versions the file carries (none in files from before them).
    consent_templates: list[ConsentTemplate] = field(default_factory=list)


class _Refused:
    """Put by the parser where a value is refused (a number too long to convert, NaN), so the
    refusal can name its place once the whole file is read."""

    def __init__(self, message: str) -> None:
        self.message = message


class _Duplicated(dict[str, Any]):
    """An object in which a key appears more than once (json keeps only the last value)."""

    def __init__(self, pairs: dict[str, Any], duplicates: list[str]) -> None:
        super().__init__(pairs)
        self.duplicates = duplicates


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    duplicates = []
    for key, value in pairs:
        if key in seen and key not in duplicates:
            duplicates.append(key)
        seen[key] = value
    return _Duplicated(seen, duplicates) if duplicates else seen


def _int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits > NUMBER_DIGITS_MAX:
        return _Refused(f"is a number of {digits:,} digits; at most {NUMBER_DIGITS_MAX} allowed")
    return int(text)


def _float(text: str) -> float | _Refused:
    if len(text) > NUMBER_DIGITS_MAX + 8:
        return _Refused(f"is a number {len(text):,} characters long; at most "
                        f"{NUMBER_DIGITS_MAX} digits allowed")
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"{text} is too large a number")
    return value


def _constant(text: str) -> _Refused:
    return _Refused(f"{text} is not a number (JSON has no {text})")


def _decode_text(raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), or UTF-16/32 as JSON allows."""
    encoding = json.detect_encoding(raw)
    try:
        return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding == "utf-8" else encoding.upper()
        raise FormatError(f"not a JSON file (byte {exc.start + 1:,} is not {name} text: "
                          f"0x{raw[exc.start]:02X}; is it a binary file?)") from None


def parse_json(text: str | bytes) -> Any:
    """The parsed file, refusing what the `json` module would accept or choke on: a key twice
    in one object, nesting past `MAX_DEPTH`, numbers past `NUMBER_DIGITS_MAX` digits, NaN and
    Infinity, lone surrogates (`"\\ud800"`). Each refusal names its place in the file."""
    if isinstance(text, bytes | bytearray):
        text = _decode_text(bytes(text))
    deep = _too_deep(text)
    if deep is not None:
        raise ValidationError([deep])
    try:
        document = json.loads(text, object_pairs_hook=_object, parse_int=_int,
                              parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not a JSON file (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg.lower()})") from None
    except RecursionError:  # a guard behind `_too_deep`; never expected
        raise FormatError(f"not a JSON file (nested more than {MAX_DEPTH} levels deep)") \
            from None
    problems = _hostile(document)
    if problems:
        raise ValidationError(problems)
    return document


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN_CLOSE = re.compile(r"[\[\]{}]")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:,]')
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _too_deep(text: str) -> Problem | None:
    """The place where lists and objects nest past `MAX_DEPTH`, found without recursing."""
    depth = deepest = 0
    for mark in _OPEN_CLOSE.findall(_STRING.sub("", text)):
        depth += 1 if mark in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
    if deepest <= MAX_DEPTH:
        return None
    # Walk again, this time keeping the path, up to the level that goes too deep.
    frames: list[list[Any]] = []  # [key or index, is_object, expecting_key]
    for token in _TOKEN.finditer(text):
        t = token.group()
        if t in "[{":
            frames.append([0 if t == "[" else None, t == "{", t == "{"])
            if len(frames) > MAX_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                return Problem(_path_of(frames[:-1]), f"is nested more than {MAX_DEPTH} levels "
                               f"deep (line {line:,}); the format needs 6")
        elif t in "]}":
            if frames:
                frames.pop()
        elif t == ",":
            if frames and frames[-1][1]:
                frames[-1][2] = True
            elif frames:
                frames[-1][0] += 1
        elif t == ":":
            pass
        elif frames and frames[-1][1] and frames[-1][2]:
            try:
                frames[-1][0] = json.loads(t)
            except ValueError:
                frames[-1][0] = t[1:-1]
            frames[-1][2] = False
    return Problem("", f"nested more than {MAX_DEPTH} levels deep")


def _path_of(frames: list[list[Any]], shown: int = 12) -> str:
    path = ""
    for key, is_object, _ in frames[:shown]:
        path = join_path(path, _safe_key(key) if is_object else f"[{key}]")
    return path + ("…" if len(frames) > shown else "")


def _safe_key(key: Any) -> str:
    """A key as it can be printed in one line: control, direction and broken characters
    escaped, and at most 40 characters."""
    text = _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(key))
    return text if len(text) <= 40 else text[:37] + "..."


def _hostile(document: Any) -> list[Problem]:
    """What the parser let through but the file must not hold, with each place."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Refused):
            problems.append(Problem(path, value.message))
        elif isinstance(value, str):
            broken = _SURROGATE.search(value)
            if broken:
                problems.append(Problem(path, f"has a broken character (a lone surrogate, "
                                        f"U+{ord(broken.group()):04X}) at character "
                                        f"{broken.start() + 1:,}"))
        elif isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                problems.append(Problem(join_path(path, _safe_key(key)),
                                        "appears twice in the same object; a second value "
                                        "would silently replace the first"))
            for key, item in reversed(value.items()):
                where = join_path(path, _safe_key(key))
                if _SURROGATE.search(key):
                    problems.append(Problem(where, "is a key with a broken character (a lone "
                                            "surrogate)"))
                stack.append((item, where))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return problems


def decode_document(document: Any, today: date | None = None) -> Decoded:
    """Check a parsed document against the format and every clinical rule."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise FormatError(f"not a NeedleDesk exchange file (its \"format\" is not \"{FORMAT}\")")
    version = document.get("version")
    if type(version) is not int or version not in VERSIONS:
        raise FormatError(f"exchange format version {_show(version)} is not "
                          "supported; this NeedleDesk reads versions "
                          + " and ".join(str(v) for v in VERSIONS))
    r = _Reader(version)
    r.obj(document, "", ("format", "version", "clients"),
          ("exported_at", "products", "consent_templates"))
    r.time(document, "exported_at", "")
    if "clients" in document:
        r.get(document, "clients", "", "list", required=True)
    ids: dict[str, str] = {}
    out = Decoded()
    for i, path, item in r.each(document, "clients", ""):
        record = _decode_record(r, item, path, ids)
        if record is None:
            continue
        shape_problems = {p.path for p in r.problems}
        for problem in _validate_record(record, today) + [
                x.under(f"consents[{j}]") for j, c in enumerate(record.consents)
                for x in validate_consent(c, today)] + [
                x.under(f"photos[{j}]") for j, photo in enumerate(record.photos)
                for x in validate_photo(photo)]:
            placed = problem.under(f"clients[{i}]")
            if placed.path not in shape_problems:
                out.problems.append(placed)
        for j, session in enumerate(record.sessions):
            latest = latest_screening(record.screenings, session.started_at.date())
            for w in pending(session_warnings(session, record.screenings,
                                              consents=record.consents),
                             session.acknowledged_warnings):
                if w.path == "consents":
                    place = f"clients[{i}].consents"
                    message = f"{w.message} (treated in sessions[{j}])"
                elif w.code.startswith("screening:") and latest is not None:
                    # the answer lives on the screening; say which session it concerns
                    k = record.screenings.index(latest)
                    place = join_path(f"clients[{i}].screenings[{k}]", w.path)
                    message = f"{w.message} (treated in sessions[{j}])"
                else:
                    place = join_path(f"clients[{i}].sessions[{j}]", w.path)
                    message = w.message
                out.warnings.append(GuidelineWarning(w.code, place, message))
        out.records.append(record)
    _decode_products(r, document, ids, out)
    _decode_templates(r, document, ids, out)
    out.problems = r.problems + out.problems
    return out
