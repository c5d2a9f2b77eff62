"""Clinical guideline tables: usual needle depth per area and usual anaesthetic contact time.

Guidelines warn; they never block. A practitioner may go past one and the acknowledgement
is recorded on the session. The clinic can edit both tables in its settings; these are the
defaults the program ships with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from needledesk.domain.text import fold


@dataclass(frozen=True)
class DepthRange:
    low_mm: float
    high_mm: float

    def __str__(self) -> str:
        return f"{self.low_mm:g}–{self.high_mm:g} mm"


@dataclass(frozen=True)
class ContactTime:
    """Usual minutes a topical anaesthetic stays on before needling."""

    low_min: int
    high_min: int

    def __str__(self) -> str:
        return f"{self.low_min}–{self.high_min} min"


#: The standard list of treated areas, in the order the session editor offers them.
STANDARD_AREAS: tuple[str, ...] = (
    "forehead",
    "periorbital",
    "nose",
    "cheeks",
    "upper lip/perioral",
    "chin",
    "jawline",
    "neck",
    "décolletage",
    "scalp",
    "abdomen",
    "thighs",
    "arms",
    "back",
)

#: Usual depth range per area. Thin-skinned zones take shallow depths; scars and body deeper.
DEFAULT_AREA_DEPTHS: dict[str, DepthRange] = {
    "forehead": DepthRange(0.25, 0.75),
    "periorbital": DepthRange(0.25, 0.5),
    "nose": DepthRange(0.25, 0.5),
    "cheeks": DepthRange(0.5, 2.0),
    "upper lip/perioral": DepthRange(0.25, 1.0),
    "chin": DepthRange(0.5, 1.5),
    "jawline": DepthRange(0.5, 1.5),
    "neck": DepthRange(0.25, 1.0),
    "décolletage": DepthRange(0.25, 1.0),
    "scalp": DepthRange(0.5, 1.5),
    "abdomen": DepthRange(1.0, 2.5),
    "thighs": DepthRange(1.0, 2.5),
    "arms": DepthRange(0.5, 2.0),
    "back": DepthRange(1.0, 2.5),
    "acne scars": DepthRange(1.0, 2.5),
    "stretch marks": DepthRange(1.5, 2.5),
}

#: Usual contact time per topical anaesthetic product (manufacturers' guidance, rounded).
DEFAULT_ANAESTHETICS: dict[str, ContactTime] = {
    "EMLA 5%": ContactTime(45, 60),
    "LMX4": ContactTime(30, 60),
    "LMX5": ContactTime(30, 60),
    "BLT 20/6/4": ContactTime(20, 45),
    "Pliaglis": ContactTime(20, 60),
    "Lidocaine 5% cream": ContactTime(30, 60),
}


_T = TypeVar("_T")


def lookup(table: Mapping[str, _T], name: str) -> _T | None:
    """Find `name` in a guideline table, ignoring case and accents (`Decolletage`)."""
    key = fold(name.strip())
    for entry, value in table.items():
        if fold(entry) == key:
            return value
    return None
