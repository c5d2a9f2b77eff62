"""Words the window and the PDFs share: when a reaction was seen, and a session's fields as
an amendment or the audit trail names them.

`change_lines` turns an amendment's changes (`{"areas[0].depth_mm": [1.5, 1.25]}`, paths
of the exchange format, see `amend.diff`) into plain lines, `Depth (cheeks): 1.5 mm →
1.25 mm`, so the editor's history, the audit view and the PDFs read the same.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from needledesk.domain.model import SEVERITY_LABELS, Amendment, Observed
from needledesk.domain.text import moment_text

#: When a reaction was seen, as the editor offers it and the PDFs print it.
OBSERVED_LABELS: dict[str, str] = {
    Observed.IMMEDIATE: "immediately",
    Observed.NEXT_DAY: "next day",
    Observed.FOLLOW_UP: "at follow-up",
    Observed.NEXT_VISIT: "at the next visit",
}


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
    "anaesthetic": "Topical anaesthetic",
    "anaesthetic.product": "Anaesthetic",
    "anaesthetic.applied_at": "Anaesthetic applied",
    "anaesthetic.removed_at": "Anaesthetic removed",
    "areas": "Treated areas",
    "areas[]": "Treated area",
    "areas[].area": "Area",
    "areas[].depth_mm": "Depth",
    "areas[].passes": "Passes",
    "areas[].endpoint": "Endpoint",
    "areas[].notes": "Area notes",
    "serums": "Serums",
    "serums[]": "Serum",
    "serums[].product": "Serum",
    "serums[].lot": "Serum lot",
    "combined_with": "Combined with",
    "reactions": "Reactions",
    "reactions[]": "Reaction",
    "reactions[].kind": "Reaction",
    "reactions[].severity": "Severity",
    "reactions[].observed": "Seen",
    "reactions[].notes": "Reaction notes",
    "aftercare": "Aftercare",
    "fee": "Fee",
    "fee.amount": "Fee",
    "fee.currency": "Fee currency",
    "notes": "Notes",
    "signed_at": "Signed off",
    "acknowledged_warnings": "Guidelines acknowledged",
    "amendments": "Amendments",
}

_INDEX = re.compile(r"\[(\d+)\]")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?")


def generic_path(path: str) -> str:
    """`areas[2].depth_mm` -> `areas[].depth_mm`."""
    return _INDEX.sub("[]", path)


def field_label(path: str, after: dict[str, Any] | None = None) -> str:
    """The label of a field path, with the item it belongs to: `Depth (cheeks)`,
    `Reaction 2`, `Serum lot (Hyaluronic acid)`. `after` is the session's plain form (as
    `exchange.encode_session` gives it), for the item's name."""
    label = FIELD_LABELS.get(generic_path(path))
    if label is None:
        return path.replace("_", " ").replace(".", " › ")
    found = _INDEX.search(path)
    if found is None:
        return label
    index = int(found.group(1))
    kind = path[:found.start()]
    field = path[found.end():].lstrip(".")
    name_key = {"areas": "area", "serums": "product", "reactions": "kind"}.get(kind)
    name = None
    if after and field and field != name_key:
        items = after.get(kind)
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            name = items[index].get(name_key)
    return f"{label} ({name})" if name else f"{label} {index + 1}"


def value_text(path: str, value: Any) -> str:
    """A changed value as words: `1.5 mm`, `20 Nov 2026 10:30`, `2 moderate`, `(empty)`."""
    if value is None or value == "" or value == []:
        return "(empty)"
    leaf = generic_path(path).rsplit(".", 1)[-1]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [(f"{k.removesuffix('_at')} " if k.endswith("_at") else "")
                 + value_text(f"{path}.{k}", v) for k, v in value.items()
                 if v not in (None, "", [])]
        return ", ".join(parts) or "(empty)"
    if isinstance(value, list):
        return "; ".join(value_text(f"{path}[{i}]", v) for i, v in enumerate(value))
    if leaf == "depth_mm" and isinstance(value, int | float):
        return f"{value:g} mm"
    if leaf == "severity" and isinstance(value, int):
        return f"{value} {SEVERITY_LABELS.get(value, '')}".strip()
    if leaf == "observed" and isinstance(value, str):
        return observed_label(value)
    if isinstance(value, str) and _TIME.fullmatch(value):
        return moment_text(datetime.fromisoformat(value))
    return str(value)


def change_lines(changes: dict[str, list[Any]], after: dict[str, Any] | None = None) -> list[str]:
    """One plain line per changed field: `Depth (cheeks): 1.5 mm → 1.25 mm`."""
    lines = []
    for path, change in changes.items():
        before, new = (list(change) + [None, None])[:2] if isinstance(change, list | tuple) \
            else (None, change)
        lines.append(f"{field_label(path, after)}: {value_text(path, before)} → "
                     f"{value_text(path, new)}")
    return lines


def amendment_lines(amendment: Amendment, after: dict[str, Any] | None = None) -> list[str]:
    """The lines of one `Amendment`; `after` is the session's plain form, for item names."""
    return change_lines(amendment.changes, after)


def amendment_heading(amendment: Amendment) -> str:
    """`20 Nov 2026 10:30 by Jane Smith — reason`."""
    return f"{moment_text(amendment.at)} by {amendment.by} — {amendment.reason}"
