"""Words the window and the PDFs share: every field's on-screen label, values written as the
card shows them, and the lines that say what changed.

This is the one place that maps a field's path (the exchange format's own, `areas[0].depth_mm`,
`device.cartridge_lot`) to the label the practitioner sees. The rules' messages, the
editor's and the client dialog's field messages, the amendment history, the audit trail
and the PDFs all name fields through it, so nothing on screen shows a dotted path, an ISO
timestamp or a Python repr.

`change_lines` turns an amendment's changes (`{"areas[0].depth_mm": [1.5, 1.25]}`, see
`amend.diff`) into plain lines, `Depth (cheeks): 1.5 mm → 1.25 mm`; `problem_text` turns a
rule's problem into a sentence, `Removed at 00:00 is before Applied at 16:00`.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Protocol

from needledesk.domain.amend import diff
from needledesk.domain.consent import KIND_TEXT, METHOD_TEXT
from needledesk.domain.face_chart import ZONES
from needledesk.domain.model import SCREENING_QUESTIONS, SEVERITY_LABELS, Amendment, Observed
from needledesk.domain.text import day_text, moment_text, read_acknowledgement

#: When a reaction was seen, as the editor offers it and the PDFs print it.
OBSERVED_LABELS: dict[str, str] = {
    Observed.IMMEDIATE: "immediately",
    Observed.NEXT_DAY: "next day",
    Observed.FOLLOW_UP: "at follow-up",
    Observed.NEXT_VISIT: "at the next visit",
}

#: The device types as the editor's Type box names them (short).
DEVICE_TYPE_LABELS: dict[str, str] = {"pen": "Pen", "roller": "Roller"}

#: Fitzpatrick skin types as the card writes them.
FITZPATRICK_NUMERALS = ("I", "II", "III", "IV", "V", "VI")

#: What the empty value of a field reads as.
NOT_SET = "not set"


def observed_label(observed: str) -> str:
    return OBSERVED_LABELS.get(observed, str(observed).replace("_", " "))


#: A session's fields by path, list indices written `[]`: every path `amend.diff` can give
#: for two sessions (whole objects and lists included), and the parts an amendment never
#: changes, which the audit trail shows.
FIELD_LABELS: dict[str, str] = {
    "id": "Record id",
    "client_id": "Client",
    "course_id": "Course",
    "started_at": "Started",
    "practitioner": "Practitioner",
    "device": "Device",
    "device.type": "Device type",
    "device.model": "Device model",
    "device.cartridge": "Cartridge",
    "device.cartridge_lot": "Cartridge lot",
    "device.cartridge_lot_id": "Cartridge lot from the catalogue",
    "anaesthetic": "Topical anaesthetic",
    "anaesthetic.product": "Anaesthetic",
    "anaesthetic.applied_at": "Applied at",
    "anaesthetic.removed_at": "Removed at",
    "anaesthetic.lot": "Anaesthetic lot",
    "anaesthetic.lot_id": "Anaesthetic lot from the catalogue",
    "areas": "Treated areas",
    "areas[]": "Treated area",
    "areas[].area": "Area",
    "areas[].depth_mm": "Depth",
    "areas[].passes": "Passes",
    "areas[].endpoint": "Endpoint",
    "areas[].notes": "Area notes",
    "areas[].zone": "Face-chart zone",
    "serums": "Serums",
    "serums[]": "Serum",
    "serums[].product": "Serum",
    "serums[].lot": "Serum lot",
    "serums[].lot_id": "Serum lot from the catalogue",
    "combined_with": "Combined with",
    "combined_with[]": "Combined treatment",
    "reactions": "Reactions",
    "reactions[]": "Reaction",
    "reactions[].kind": "Reaction",
    "reactions[].severity": "Severity",
    "reactions[].observed": "Seen",
    "reactions[].notes": "Reaction notes",
    "aftercare": "Aftercare",
    "aftercare[]": "Aftercare item",
    "fee": "Fee",
    "fee.amount": "Fee",
    "fee.currency": "Fee currency",
    "notes": "Notes",
    "signed_at": "Signed off",
    "acknowledged_warnings": "Guidelines acknowledged",
    "acknowledged_warnings[]": "Guideline acknowledged",
    "acknowledged_warnings[].warning": "Guideline acknowledged",
    "acknowledged_warnings[].by": "Acknowledged by",
    "acknowledged_warnings[].at": "Acknowledged at",
    "amendments": "Amendments",
    "amendments[]": "Amendment",
    "amendments[].at": "Amended at",
    "amendments[].by": "Amended by",
    "amendments[].reason": "Reason for the amendment",
    "amendments[].changes": "Changes",
    "screening_check": "Screening at the visit",
    "screening_check.screening_id": "Screening re-confirmed",
    "screening_check.outcome": "Screening at the visit",
}

#: A client's fields, as the client dialog labels them.
CLIENT_LABELS: dict[str, str] = {
    "id": "Record id",
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "fitzpatrick": "Fitzpatrick type",
    "concerns": "Concerns",
    "concerns[]": "Concern",
    "notes": "Notes",
    # the exchange file's list of a client's photos (a version 1 file may not carry it)
    "photos": "Photos",
}

#: A course's fields.
COURSE_LABELS: dict[str, str] = {
    "id": "Record id",
    "client_id": "Client",
    "concern": "Concern",
    "planned_sessions": "Planned sessions",
    "interval_weeks": "Weeks between sessions",
    "started_on": "Started on",
    "notes": "Notes",
    "areas_planned": "Areas planned",
    "areas_planned[]": "Planned area",
    "ended_on": "Ended on",
    "end_reason": "Reason for ending",
}

#: A screening's fields; each answer is labelled by its question.
SCREENING_LABELS: dict[str, str] = {
    "id": "Record id",
    "client_id": "Client",
    "date": "Screening date",
    "answers": "Answers",
    "consent_signed": "Consent signed",
    "notes": "Notes",
} | {f"answers.{key}": question for key, question in SCREENING_QUESTIONS.items()}

#: A consent form's statement (of a form version or of a consent as signed).
_STATEMENT_LABELS: dict[str, str] = {
    "statements": "Statements",
    "statements[]": "Statement",
    "statements[].key": "Statement's key",
    "statements[].text": "Text",
    "statements[].required": "Statement must be ticked",
}

#: A consent form version's fields (the exchange format's `consent_templates[]`).
CONSENT_TEMPLATE_LABELS: dict[str, str] = {
    "id": "Record id",
    "kind": "Consent form",
    "version": "Form version",
    "title": "Form title",
    "body": "Form text",
    "created_at": "Form saved at",
    "created_by": "Form saved by",
} | _STATEMENT_LABELS


def _signature_labels(path: str, who: str) -> dict[str, str]:
    return {path: f"{who} signature",
            f"{path}.strokes": f"{who} signature",
            f"{path}.strokes[]": f"{who} signature",
            f"{path}.width": f"{who} signature pad's width",
            f"{path}.height": f"{who} signature pad's height",
            f"{path}.image": f"Picture of the {who.lower()} signature",
            f"{path}.image_png": f"Picture of the {who.lower()} signature"}


#: A consent's fields (the exchange format's `clients[].consents[]`). Every answer is
#: labelled by the statements ticked (its message quotes the statement).
CONSENT_LABELS: dict[str, str] = {
    "id": "Record id",
    "client_id": "Client",
    "kind": "Consent to",
    "method": "Signed",
    "signed_at": "Signed at",
    "practitioner": "Practitioner",
    "title": "Consent form",
    "body": "Consent text",
    "answers": "Statements ticked",
    "template_id": "Consent form version",
    "template_version": "Form version",
    "notes": "Notes",
    "carried_from": "Ticked on the screening",
} | _STATEMENT_LABELS | _signature_labels("client_signature", "Client's") \
  | _signature_labels("practitioner_signature", "Practitioner's")

#: A photo's fields (the exchange format's `clients[].photos[]`).
PHOTO_LABELS: dict[str, str] = {
    "id": "Record id",
    "client_id": "Client",
    "session_id": "Session",
    "view": "View",
    "label": "Close-up label",
    "taken_at": "Taken at",
    "added_at": "Added at",
    "added_by": "Added by",
    "source": "Came from",
    "original_sha256": "Hash of the original file",
    "sha256": "Hash of the picture",
    "media_type": "Picture type",
    "width": "Width",
    "height": "Height",
    "size": "File size",
    "file": "Picture file",
    "consent_id": "Photo consent",
    "removed_at": "Removed at",
    "removed_by": "Removed by",
    "removed_reason": "Reason for removing",
    "reason": "Reason",
}

#: How each photo view reads (`domain.photos.VIEW_TEXT` by its stored value).
#: (domain.photos imports the rules, which import this module: kept equal by a test.)
VIEW_NAMES: dict[str, str] = {"front": "Front", "left_45": "Left 45°", "right_45": "Right 45°",
                              "left_profile": "Left profile", "right_profile": "Right profile",
                              "close_up": "Close-up"}

#: A catalogue product's fields.
PRODUCT_LABELS: dict[str, str] = {
    "id": "Record id",
    "name": "Product",
    "kind": "Used as",
    "maker": "Maker",
    "notes": "Notes",
    "retired": "No longer used",
    "lots": "Lots",
}

#: A catalogue lot's fields.
LOT_LABELS: dict[str, str] = {
    "id": "Record id",
    "product_id": "Product",
    "lot": "Lot",
    "expires_on": "Expires on",
    "received_on": "Received on",
    "notes": "Notes",
}

#: How each kind of product reads.
PRODUCT_KIND_LABELS: dict[str, str] = {"serum": "Serum", "anaesthetic": "Topical anaesthetic",
                                       "cartridge": "Needle cartridge"}

#: How the answer at the visit reads.
SCREENING_OUTCOME_LABELS: dict[str, str] = {"no_change": "No change",
                                            "updated": "Screening updated"}

#: The labels of each kind of record, by the kind the audit trail names.
LABELS: dict[str, dict[str, str]] = {
    "session": FIELD_LABELS,
    "client": CLIENT_LABELS,
    "course": COURSE_LABELS,
    "screening": SCREENING_LABELS,
    "product": PRODUCT_LABELS,
    "lot": LOT_LABELS,
    "consent": CONSENT_LABELS,
    "consent_template": CONSENT_TEMPLATE_LABELS,
    "photo": PHOTO_LABELS,
}

#: A whole client record's parts (the exchange format's `clients[]` items), for the place
#: of an import problem: `Session 2, Treated area 1: Depth`.
RECORD_PARTS: dict[str, str] = {"sessions": "Session", "courses": "Course",
                                "screenings": "Screening", "clients": "Client",
                                "products": "Product", "lots": "Lot", "consents": "Consent",
                                "consent_templates": "Consent form", "photos": "Photo"}
_PARTS = ("clients|sessions|courses|screenings|products|lots|consents|consent_templates|"
          "photos")
#: The kind of record (as `LABELS` names it) each part of a file is.
_PART_KINDS: dict[str, str] = {"Session": "session", "Course": "course",
                               "Screening": "screening", "Product": "product", "Lot": "lot",
                               "Consent": "consent", "Consent form": "consent_template",
                               "Photo": "photo"}

_INDEX = re.compile(r"\[(\d+)\]")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
#: Messages that read on from the label with a space: `First name is required`,
#: `Removed at 00:00 is before …`; the rest follow a colon.
_READS_ON = re.compile(r"(is|are|has|must|needs|cannot|\d)")


def generic_path(path: str) -> str:
    """`areas[2].depth_mm` -> `areas[].depth_mm`."""
    return _INDEX.sub("[]", path)


def _known(path: str, kind: str) -> str | None:
    labels = LABELS.get(kind, FIELD_LABELS)
    generic = generic_path(path)
    label = labels.get(generic)
    if label is None and kind == "consent" and generic.startswith("answers."):
        label = labels["answers"]
    if label is None and generic.endswith("[]"):
        label = labels.get(generic[:-2])
    return label


def field_label(path: str, after: dict[str, Any] | None = None, kind: str = "session") -> str:
    """The label of a field path, with the item it belongs to: `Depth (cheeks)`,
    `Reaction 2`, `Serum lot (Hyaluronic acid)`. `after` is the record's plain form (as
    `exchange.encode_session` gives it), for the item's name; `kind` the kind of record
    (`session`, `client`, `course`, `screening`)."""
    label = _known(path, kind)
    if label is None:
        return path.replace("_", " ").replace(".", " › ")
    found = _INDEX.search(path)
    if found is None:
        return label
    index = int(found.group(1))
    part = path[:found.start()]
    field = path[found.end():].lstrip(".")
    name_key = {"areas": "area", "serums": "product", "reactions": "kind"}.get(part)
    name = None
    if after and field and field != name_key:
        items = after.get(part)
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            name = items[index].get(name_key)
    return f"{label} ({name})" if name else f"{label} {index + 1}"


def place_label(path: str) -> str:
    """Where in a whole file or record a problem is: `clients[0].sessions[1].areas[0].depth_mm`
    -> `Client 1, Session 2, Treated area 1: Depth`."""
    parts: list[str] = []
    rest = path
    while True:
        found = re.match(rf"({_PARTS})\[(\d+)\]\.?", rest)
        if not found:
            break
        parts.append(f"{RECORD_PARTS[found.group(1)]} {int(found.group(2)) + 1}")
        rest = rest[found.end():]
    kind = _PART_KINDS.get(parts[-1].rsplit(" ", 1)[0] if parts else "",
                           "client" if parts else "session")
    item = re.match(r"(\w+)\[(\d+)\]\.(.+)", rest)
    item_label = _known(f"{item.group(1)}[]", kind) if item else None
    if item and item_label:  # `Treated area 1: Depth`, not `Depth 1`
        parts.append(f"{item_label} {int(item.group(2)) + 1}")
        field = _known(rest, kind) or item.group(3).replace("_", " ").replace(".", " › ")
        text = f"{', '.join(parts)}: {field}"
    else:
        if rest:
            parts.append(field_label(rest, kind=kind))
        text = ", ".join(parts)
    return text[:1].upper() + text[1:]


class _Problem(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def message(self) -> str: ...


def problem_text(problem: _Problem, after: dict[str, Any] | None = None,
                 kind: str = "session") -> str:
    """A rule's problem as a sentence naming its field by label: `First name is required`,
    `Depth (cheeks) 3.5 is outside 0.1–3.0 mm`, `Removed at 00:00 is before Applied at
    16:00`. A problem of a whole file keeps its place: `Client 1, session 1: …`."""
    if not problem.path:
        return problem.message[:1].upper() + problem.message[1:]
    if re.match(rf"({_PARTS})\[", problem.path):
        label = place_label(problem.path)
    else:
        label = field_label(problem.path, after, kind)
    joiner = " " if _READS_ON.match(problem.message) else ": "
    return f"{label}{joiner}{problem.message}"


def when_text(moment: datetime, beside: datetime | None = None) -> str:
    """A time as the card shows it (`30 Nov 2026 16:00`), or just `16:00` when `beside`
    (the time it is compared with) is on the same day."""
    if beside is not None and beside.date() == moment.date():
        return f"{moment:%H:%M}"
    return moment_text(moment)


def _leaf(path: str) -> str:
    return generic_path(path).rsplit(".", 1)[-1]


def _money(amount: Any, currency: Any) -> str:
    return f"{amount} {currency}".strip() if currency else str(amount)


def amendment_text(amendment: dict[str, Any], after: dict[str, Any] | None = None) -> str:
    """An amendment in its plain form (`{"at", "by", "reason", "changes"}`) as one line:
    `20 Nov 2026 12:00 by Jane Smith — lot misread (Cartridge lot: L2311A → L2311B)`."""
    head = " ".join(part for part in (
        value_text("amendments[].at", amendment.get("at")) if amendment.get("at") else "",
        f"by {amendment['by']}" if amendment.get("by") else "") if part)
    reason = amendment.get("reason")
    changes = amendment.get("changes")
    lines = change_lines(changes, after) if isinstance(changes, dict) else []
    text = head + (f" — {reason}" if reason else "")
    return text + (f" ({'; '.join(lines)})" if lines else "")


def warning_label(code: str) -> str:
    """A guideline warning's code (what an acknowledgement stores, `screening: pregnant`,
    `depth: cheeks 2.5 mm`) in words: `Screening: Pregnant`, `Depth: cheeks 2.5 mm`. The
    stored code itself never changes (see domain.acknowledgements)."""
    kind, _, rest = code.partition(": ")
    if kind == "screening":
        if rest == "none":
            return "No screening on record"
        if rest == "no consent":
            return "Consent not signed"
        if rest.startswith("consent older than"):
            return rest[:1].upper() + rest[1:]
        question = SCREENING_QUESTIONS.get(rest)
        if question is not None:
            return f"Screening: {question}"
    if kind in ("depth", "anaesthetic") and rest:
        return f"{kind.capitalize()}: {rest}"
    if kind == "lot" and rest:
        # `lot: expired (HA serum L2201)` -> `Lot expired: HA serum L2201`
        what, _, item = rest.partition(" (")
        return f"Lot {what}: {item.removesuffix(')')}" if item else f"Lot {what}"
    return code


def acknowledgement_label(warning: str) -> str:
    """An acknowledgement's stored text (`code — reason`) in words, the reason kept."""
    code, reason = read_acknowledgement(warning)
    return warning_label(code) + (f" — {reason}" if reason else "")


def acknowledgement_text(ack: dict[str, Any]) -> str:
    """An acknowledged guideline in its plain form (`{"warning", "by", "at"}`):
    `depth: cheeks 2.5 mm — scar tissue (Jane Smith, 20 Nov 2026 10:20)`."""
    who = ", ".join(str(part) for part in (
        ack.get("by"), value_text("acknowledged_warnings[].at", ack.get("at"))
        if ack.get("at") else None) if part)
    return acknowledgement_label(str(ack.get("warning", ""))) + (f" ({who})" if who else "")


def value_text(path: str, value: Any, after: dict[str, Any] | None = None,
               kind: str = "session") -> str:
    """A value as words, as the card shows it: `1.5 mm`, `20 Nov 2026 10:30`, `2 moderate`,
    `250.00 USD`, `Yes`, `not set`; lists and objects as words too, never as a repr."""
    if value is None or value == "" or value == [] or value == {}:
        return NOT_SET
    generic = generic_path(path)
    leaf = _leaf(path)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if kind == "screening" and generic == "consent_signed" and value in (0, 1):
        return "Yes" if value else "No"
    if value == "not_applicable":  # a screening answer (model.NOT_APPLICABLE)
        return "Not applicable"
    if kind == "screening" and generic == "answers" and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    if generic == "amendments" and isinstance(value, list):
        return "; ".join(amendment_text(a, after) if isinstance(a, dict) else str(a)
                         for a in value)
    if generic == "amendments[]" and isinstance(value, dict):
        return amendment_text(value, after)
    if generic == "acknowledged_warnings" and isinstance(value, list):
        return "; ".join(acknowledgement_text(a) if isinstance(a, dict) else str(a)
                         for a in value)
    if generic == "acknowledged_warnings[]" and isinstance(value, dict):
        return acknowledgement_text(value)
    if generic == "fee" and isinstance(value, dict):
        return _money(value.get("amount"), value.get("currency"))
    if generic == "fee.amount":
        fee = (after or {}).get("fee")
        return _money(value, fee.get("currency") if isinstance(fee, dict) else None)
    if isinstance(value, dict):
        if generic in ("anaesthetic", "device", "areas[]", "serums[]", "reactions[]"):
            parts = [(f"{k.removesuffix('_at')} " if k.endswith("_at") else "")
                     + value_text(f"{path}.{k}", v, after, kind) for k, v in value.items()
                     if v not in (None, "", [])]
            return ", ".join(parts) or NOT_SET
        return "; ".join(f"{field_label(f'{path}.{k}' if path else k, after, kind)}: "
                         f"{value_text(f'{path}.{k}' if path else k, v, after, kind)}"
                         for k, v in value.items()) or NOT_SET
    if isinstance(value, list):
        return "; ".join(value_text(f"{path}[{i}]", v, after, kind)
                         for i, v in enumerate(value))
    if generic == "device.type" and isinstance(value, str):
        return DEVICE_TYPE_LABELS.get(value, value)
    if leaf == "depth_mm" and isinstance(value, int | float):
        return f"{value:g} mm"
    if leaf == "severity" and isinstance(value, int):
        return f"{value} {SEVERITY_LABELS.get(value, '')}".strip()
    if leaf == "observed" and isinstance(value, str):
        return observed_label(value)
    if leaf == "zone" and isinstance(value, str):
        return ZONES.get(value, value)
    if kind == "photo" and generic == "view" and isinstance(value, str):
        return VIEW_NAMES.get(value, value)
    if kind == "photo" and generic == "sha256" and isinstance(value, str):
        return value[:12] + "…"
    if kind == "consent" and generic == "kind" and value in KIND_TEXT:
        return KIND_TEXT[value].capitalize()
    if kind == "consent" and generic == "method" and value in METHOD_TEXT:
        return METHOD_TEXT[value].capitalize()
    if leaf == "fitzpatrick" and isinstance(value, int) and 1 <= value <= 6:
        return FITZPATRICK_NUMERALS[value - 1]
    if leaf == "interval_weeks" and isinstance(value, int):
        return f"{value} weeks" if value != 1 else "1 week"
    if leaf in ("client_id", "course_id") and isinstance(value, str):
        return "a course" if leaf == "course_id" else "a client"
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return day_text(value)
    if isinstance(value, str) and _TIME.fullmatch(value):
        return moment_text(datetime.fromisoformat(value))
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return day_text(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def change_lines(changes: dict[str, Any], after: dict[str, Any] | None = None,
                 kind: str = "session") -> list[str]:
    """One plain line per changed field: `Depth (cheeks): 1.5 mm → 1.25 mm`."""
    lines = []
    for path, change in changes.items():
        before, new = (list(change) + [None, None])[:2] if isinstance(change, list | tuple) \
            else (None, change)
        lines.append(f"{field_label(path, after, kind)}: "
                     f"{value_text(path, before, after, kind)} → "
                     f"{value_text(path, new, after, kind)}")
    return lines


def amendment_lines(amendment: Amendment, after: dict[str, Any] | None = None) -> list[str]:
    """The lines of one `Amendment`; `after` is the session's plain form, for item names."""
    return change_lines(amendment.changes, after)


def amendment_heading(amendment: Amendment) -> str:
    """`20 Nov 2026 10:30 by Jane Smith — reason`."""
    return f"{moment_text(amendment.at)} by {amendment.by} — {amendment.reason}"


#: What each kind of write in the audit trail is called.
ACTION_LABELS: dict[str, str] = {
    "create": "Created",
    "add": "Added",
    "remove": "Removed (amendment)",
    "update": "Changed",
    "end": "Ended early",
    "sign": "Signed off",
    "amend": "Amended",
    "import": "Imported",
    "baseline": "Recorded as found at an upgrade",
    "identify": "Database identified",
    "restore": "Restored from a backup",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


def audit_lines(kind: str, before: Any, after: Any) -> list[str]:
    """What one audit row changed, in plain lines (its stored JSON is not touched): the
    changed fields by label, an amendment by when, who and why (its changes are the row's
    other lines), values as the card shows them."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    changes = diff(before, after, skip=frozenset())
    lines = []
    old_amendments = before.get("amendments")
    new_amendments = after.get("amendments")
    if kind == "session" and "amendments" in changes and isinstance(new_amendments, list) \
            and isinstance(old_amendments, list | type(None)):
        known = len(old_amendments or [])
        if new_amendments[:known] == (old_amendments or []):
            changes.pop("amendments")
            for added in new_amendments[known:]:
                if isinstance(added, dict):
                    lines.append("Amendment: " + amendment_text(
                        {k: v for k, v in added.items() if k != "changes"}))
    return lines + change_lines(changes, after, kind)
