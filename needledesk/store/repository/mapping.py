"""Rows <-> dataclasses: how each record is laid out in its table, the client list's rows,
and the search key. No queries and no writes here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from needledesk.domain.model import (
    Anaesthetic,
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
    Photo,
    PhotoSource,
    PhotoView,
    Product,
    ProductKind,
    Screening,
    ScreeningCheck,
    ScreeningOutcome,
    Session,
    Signature,
    StrokePoint,
)
from needledesk.domain.rules import (
    Problem,
)
from needledesk.domain.search import reads_as
from needledesk.domain.text import (
    digits,
    fold,
)
from needledesk.errors import ValidationError
from needledesk.exchange import encode_record, fmt_date
from needledesk.exchange import fmt_time as _fmt_time
from needledesk.store.engine import dialect
from needledesk.store.first_page import ClientSearch as ClientSearch
from needledesk.store.first_page import ClientSummary as ClientSummary
from needledesk.store.first_page import summary as _first_page_summary

_CHILD_TABLES = ("treated_areas", "serums", "reactions", "acknowledged_warnings", "amendments")


@dataclass(frozen=True)
class SessionSummary:
    """One row of a client's history."""

    id: str
    started_at: datetime
    course_id: str | None
    areas: tuple[str, ...]
    deepest_mm: float | None
    worst_reaction: int | None
    reactions: tuple[str, ...]
    signed: bool
    amended: bool


@dataclass(frozen=True)
class RecordVersion:
    """A record's version: its latest audit row (`seq`), who wrote it and when. An editor
    keeps the `seq` it opened the record at and passes it as `expected=` when it saves, so
    a save over someone else's later change is refused (`ChangedElsewhereError`)."""

    seq: int
    who: str
    at: datetime



def search_key(client: Client) -> str:
    """Folded words of the name (last name first, so the key also sorts) and phone digits."""
    return f" {_words(f'{client.last_name} {client.first_name}')} {digits(client.phone)}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def plain_client(client: Client) -> dict[str, Any]:
    """A client's own fields in exchange form (without their courses and sessions)."""
    plain = encode_record(ClientRecord(client))
    for key in ("courses", "screenings", "sessions"):
        plain.pop(key)
    return plain



def _words(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())


def _reads_as(name: str, tokens: list[str]) -> bool:
    """The name's words start with the typed words in order (in any of their spellings)."""
    return reads_as(name, tokens)


def _name_rank(client: ClientSummary, tokens: list[str]) -> int:
    """0: typed as first then last name; 1: as last then first; 2: words scattered."""
    if _reads_as(f"{client.first_name} {client.last_name}", tokens):
        return 0
    if _reads_as(f"{client.last_name} {client.first_name}", tokens):
        return 1
    return 2


def _summary(row: Sequence[Any]) -> ClientSummary:
    return _first_page_summary(tuple(row))


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def _client(r: dict[str, Any]) -> Client:
    return Client(first_name=r["first_name"], last_name=r["last_name"], id=r["id"],
                  date_of_birth=_day(r["date_of_birth"]), phone=r["phone"], email=r["email"],
                  fitzpatrick=r["fitzpatrick"], concerns=json.loads(r["concerns"]),
                  notes=r["notes"])


def _course_row(c: Course) -> dict[str, Any]:
    return {"id": c.id, "client_id": c.client_id, "concern": c.concern,
            "planned_sessions": c.planned_sessions, "interval_weeks": c.interval_weeks,
            "started_on": fmt_date(c.started_on), "notes": c.notes,
            "areas_planned": _json(c.areas_planned), "ended_on": fmt_date(c.ended_on),
            "end_reason": c.end_reason}


def _course(r: dict[str, Any]) -> Course:
    return Course(r["client_id"], r["concern"], r["planned_sessions"], r["interval_weeks"],
                  date.fromisoformat(r["started_on"]), r["id"], r["notes"],
                  # (a file of schema 5 or older, checked read-only, has no such columns)
                  json.loads(r.get("areas_planned", "[]")), _day(r.get("ended_on")),
                  r.get("end_reason", ""))


def _screening_row(s: Screening) -> dict[str, Any]:
    return {"id": s.id, "client_id": s.client_id, "date": fmt_date(s.date),
            "answers": _json(s.answers), "consent_signed": int(s.consent_signed),
            "notes": s.notes}


def _screening(r: dict[str, Any]) -> Screening:
    return Screening(r["client_id"], date.fromisoformat(r["date"]), json.loads(r["answers"]),
                     bool(r["consent_signed"]), r["id"], r["notes"])


def _session(r: dict[str, Any]) -> Session:
    anaesthetic = None
    if r["anaesthetic_product"] is not None:
        anaesthetic = Anaesthetic(r["anaesthetic_product"],
                                  datetime.fromisoformat(r["anaesthetic_applied_at"]),
                                  _time(r["anaesthetic_removed_at"]),
                                  # (a file of schema 7 or older has no such columns)
                                  r.get("anaesthetic_lot"), r.get("anaesthetic_lot_id"))
    check = None
    if r.get("screening_check") is not None:
        check = ScreeningCheck(r["screening_id"], ScreeningOutcome(r["screening_check"]))
    fee = None
    if r["fee_amount"] is not None:
        fee = Fee(Decimal(r["fee_amount"]), r["fee_currency"])
    return Session(
        client_id=r["client_id"], started_at=datetime.fromisoformat(r["started_at"]),
        practitioner=r["practitioner"], areas=[], id=r["id"], course_id=r["course_id"],
        device=Device(DeviceType(r["device_type"]), r["device_model"], r["cartridge"],
                      r["cartridge_lot"], r.get("cartridge_lot_id")),
        anaesthetic=anaesthetic, combined_with=json.loads(r["combined_with"]),
        aftercare=json.loads(r["aftercare"]), fee=fee, notes=r["notes"],
        signed_at=_time(r["signed_at"]), screening_check=check)


def _product_row(p: Product) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": str(p.kind), "maker": p.maker,
            "notes": p.notes, "retired": int(p.retired)}


def _product(r: dict[str, Any]) -> Product:
    return Product(r["name"], ProductKind(r["kind"]), r["maker"], r["id"], r["notes"],
                   bool(r["retired"]))


def _lot_row(lot: Lot) -> dict[str, Any]:
    return {"id": lot.id, "product_id": lot.product_id, "lot": lot.lot,
            "expires_on": fmt_date(lot.expires_on), "received_on": fmt_date(lot.received_on),
            "notes": lot.notes}


def _lot(r: dict[str, Any]) -> Lot:
    return Lot(r["product_id"], r["lot"], _day(r["expires_on"]), r["id"],
               _day(r["received_on"]), r["notes"])


def _has_table(db: Any, name: str) -> bool:
    return dialect(db).has_table(db, name)


def statements_json(statements: list[ConsentStatement]) -> str:
    return _json([{"key": s.key, "text": s.text, "required": s.required} for s in statements])


def _statements(text: str) -> list[ConsentStatement]:
    return [ConsentStatement(x["key"], x["text"], bool(x["required"]))
            for x in json.loads(text)]


def strokes_json(signature: Signature | None) -> str | None:
    """A signature's strokes as stored: `{"width", "height", "strokes": [[[x, y, pressure,
    ms], ...], ...]}`, coordinates to a tenth of a point and pressure to a thousandth (what
    a pad can tell apart), so the same drawing always stores the same text."""
    if signature is None:
        return None
    return _json({"width": round(float(signature.width), 1),
                  "height": round(float(signature.height), 1),
                  "strokes": [[[round(float(p.x), 1), round(float(p.y), 1),
                                round(float(p.pressure), 3), int(p.t_ms)] for p in stroke]
                              for stroke in signature.strokes]})


def signature_from(strokes: str | None, image: bytes | None) -> Signature | None:
    if strokes is None:
        return None
    plain = json.loads(strokes)
    return Signature([[StrokePoint(x, y, p, t) for x, y, p, t in stroke]
                      for stroke in plain["strokes"]],
                     plain["width"], plain["height"], bytes(image or b""))


def _template_row(t: ConsentTemplate) -> dict[str, Any]:
    return {"id": t.id, "kind": str(t.kind), "version": t.version, "title": t.title,
            "body": t.body, "statements": statements_json(t.statements),
            "created_at": _fmt_time(t.created_at), "created_by": t.created_by}


def _template(r: dict[str, Any]) -> ConsentTemplate:
    return ConsentTemplate(ConsentKind(r["kind"]), r["version"], r["title"], r["body"],
                           _statements(r["statements"]), r["id"], _time(r["created_at"]),
                           r["created_by"])


def _consent_row(c: Consent) -> dict[str, Any]:
    return {"id": c.id, "client_id": c.client_id, "kind": str(c.kind),
            "method": str(c.method), "signed_at": _fmt_time(c.signed_at),
            "practitioner": c.practitioner.strip(), "title": c.title, "body": c.body,
            "statements": statements_json(c.statements),
            "answers": _json({s.key: bool(c.answers.get(s.key)) for s in c.statements}),
            "template_id": c.template_id, "template_version": c.template_version,
            "client_strokes": strokes_json(c.client_signature),
            "client_image": (c.client_signature.image_png or None
                             if c.client_signature else None),
            "practitioner_strokes": strokes_json(c.practitioner_signature),
            "practitioner_image": (c.practitioner_signature.image_png or None
                                   if c.practitioner_signature else None),
            "notes": c.notes}


def _consent(r: dict[str, Any]) -> Consent:
    return Consent(
        client_id=r["client_id"], kind=ConsentKind(r["kind"]),
        signed_at=datetime.fromisoformat(r["signed_at"]), method=ConsentMethod(r["method"]),
        practitioner=r["practitioner"], title=r["title"], body=r["body"],
        statements=_statements(r["statements"]), answers=json.loads(r["answers"]),
        template_id=r["template_id"], template_version=r["template_version"],
        client_signature=signature_from(r["client_strokes"], r["client_image"]),
        practitioner_signature=signature_from(r["practitioner_strokes"],
                                              r["practitioner_image"]),
        id=r["id"], notes=r["notes"])


def _photo_row(p: Photo) -> dict[str, Any]:
    return {"id": p.id, "client_id": p.client_id, "session_id": p.session_id,
            "view": str(p.view), "label": p.label, "taken_at": _fmt_time(p.taken_at),
            "added_at": _fmt_time(p.added_at), "added_by": p.added_by, "source": str(p.source),
            "original_sha256": p.original_sha256, "sha256": p.sha256,
            "media_type": p.media_type, "width": p.width, "height": p.height, "size": p.size,
            "consent_id": p.consent_id, "removed_at": _fmt_time(p.removed_at),
            "removed_by": p.removed_by, "removed_reason": p.removed_reason}


def _photo(r: dict[str, Any]) -> Photo:
    return Photo(
        client_id=r["client_id"], session_id=r["session_id"], view=PhotoView(r["view"]),
        sha256=r["sha256"], original_sha256=r["original_sha256"], media_type=r["media_type"],
        width=r["width"], height=r["height"], size=r["size"],
        added_at=datetime.fromisoformat(r["added_at"]), added_by=r["added_by"],
        label=r["label"], taken_at=_time(r["taken_at"]), source=PhotoSource(r["source"]),
        consent_id=r["consent_id"], removed_at=_time(r["removed_at"]),
        removed_by=r["removed_by"], removed_reason=r["removed_reason"], id=r["id"])
