"""Which guideline warnings still need the practitioner's acknowledgement, and recording it.

A warning is acknowledged once per session: an acknowledgement with its code (whatever
reason was given) covers it on every later save.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from needledesk.domain.model import AcknowledgedWarning
from needledesk.domain.rules import GuidelineWarning
from needledesk.domain.text import ACK_SEPARATOR


def is_acknowledged(code: str, acknowledged: Iterable[AcknowledgedWarning]) -> bool:
    """True when one of `acknowledged` records the warning `code` (with or without a
    reason). Compared on the stored text, so a code that itself holds the separator (an
    area typed with a dash) still matches."""
    return any(a.code == code or a.warning == code
               or a.warning.startswith(code + ACK_SEPARATOR)
               for a in acknowledged)


def pending(warnings: Iterable[GuidelineWarning],
            acknowledged: Iterable[AcknowledgedWarning]) -> list[GuidelineWarning]:
    """The warnings not yet acknowledged, in their order."""
    acknowledged = list(acknowledged)
    return [w for w in warnings if not is_acknowledged(w.code, acknowledged)]


def acknowledge(warnings: Iterable[GuidelineWarning], reason: str, by: str,
                at: datetime) -> list[AcknowledgedWarning]:
    """One acknowledgement per warning, all with the same reason, name and time."""
    return [AcknowledgedWarning(w.code, by, at, reason.strip()) for w in warnings]
