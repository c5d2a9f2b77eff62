"""What an amendment changed, as `{"device.cartridge_lot": [old, new]}`, and how to undo it.

Works on the plain (JSON-shaped) form of a session, so the paths are the exchange format's
own and an amendment reads the same in the window, the course record and an export.
"""

from __future__ import annotations

import copy
import re
from typing import Any

#: Parts of a session an amendment never touches: identity, sign-off and its own history.
FROZEN_KEYS = frozenset({"id", "signed_at", "amendments", "acknowledged_warnings"})

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def diff(old: dict[str, Any], new: dict[str, Any], *,
         skip: frozenset[str] = FROZEN_KEYS) -> dict[str, list[Any]]:
    """Every leaf that differs, top-level keys in `skip` aside. Lists of objects of equal
    length diff per item."""
    changes: dict[str, list[Any]] = {}
    _diff(old, new, "", changes, skip)
    return changes


def _diff(old: Any, new: Any, path: str, out: dict[str, list[Any]],
          skip: frozenset[str] = frozenset()) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if not path and key in skip:
                continue
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key, out)
    elif (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
          and all(isinstance(x, dict) for x in old + new)):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out[path] = [copy.deepcopy(old), copy.deepcopy(new)]


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def set_path(document: Any, path: str, value: Any) -> None:
    steps = _steps(path)
    target = document
    for step in steps[:-1]:
        target = target[step]
        if target is None:
            return
    target[steps[-1]] = copy.deepcopy(value)


def undo(plain: dict[str, Any], amendments: list[dict[str, list[Any]]]) -> dict[str, Any]:
    """The session as it was before the given amendments (newest undone first)."""
    original = copy.deepcopy(plain)
    for changes in reversed(amendments):
        # Whole objects (e.g. an anaesthetic added later) restore before their leaves.
        for path, (before, _after) in sorted(changes.items(), key=lambda kv: len(kv[0])):
            set_path(original, path, before)
    return original
