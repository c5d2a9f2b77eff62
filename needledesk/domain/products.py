"""The product catalogue's rules: what a product and a lot must hold, when a lot is near or
past its expiry, and how a lot typed on a session is matched with the catalogue. No Qt, no
SQL.

A session keeps the product and lot text exactly as the practitioner recorded them; the
catalogue only offers them and warns. So a recall matches lots by their text (ignoring case
and surrounding spaces), which also finds the lots typed before the catalogue existed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from needledesk.domain.model import Lot, Product, ProductKind, Session
from needledesk.domain.rules import (
    NOTE_MAX,
    PRODUCT_MAX,
    GuidelineWarning,
    Problem,
    text_limit_problems,
)
from needledesk.domain.text import day_text

#: A lot expiring within this many days (or already expired) is warned about in amber.
EXPIRY_WARNING_DAYS = 30

#: The acknowledgement codes of the lot warnings (one per product line of the session).
LOT_EXPIRED = "lot: expired"
LOT_EXPIRING = "lot: expires soon"
LOT_UNKNOWN = "lot: not in the catalogue"


def lot_key(text: str | None) -> str:
    """The form lots are compared in: surrounding spaces dropped, case folded, Unicode
    compatibility forms made one (a full-width "Ａ１" is "a1")."""
    return unicodedata.normalize("NFKC", (text or "").strip()).casefold()


def validate_product(product: Product) -> list[Problem]:
    problems: list[Problem] = []
    if not product.name or not product.name.strip():
        problems.append(Problem("name", "is required"))
    problems += text_limit_problems("name", product.name, limit=PRODUCT_MAX)
    problems += text_limit_problems("maker", product.maker, limit=PRODUCT_MAX)
    problems += text_limit_problems("notes", product.notes, kind="note", limit=NOTE_MAX)
    if product.kind not in tuple(ProductKind):
        problems.append(Problem("kind", f"“{product.kind}” is not a serum, a topical "
                                "anaesthetic or a needle cartridge"))
    return problems


def validate_lot(lot: Lot) -> list[Problem]:
    problems: list[Problem] = []
    if not lot.lot or not lot.lot.strip():
        problems.append(Problem("lot", "is required"))
    problems += text_limit_problems("lot", lot.lot, limit=PRODUCT_MAX)
    problems += text_limit_problems("notes", lot.notes, kind="note", limit=NOTE_MAX)
    if (lot.received_on is not None and lot.expires_on is not None
            and lot.received_on > lot.expires_on):
        problems.append(Problem("received_on", f"{day_text(lot.received_on)} is after the lot "
                                f"expires ({day_text(lot.expires_on)})"))
    return problems


@dataclass(frozen=True)
class Expiry:
    """A lot's expiry as it stands on a day: `days_left` (negative once past; None when the
    lot has no expiry date)."""

    expires_on: date | None
    days_left: int | None

    @property
    def expired(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def soon(self) -> bool:
        """Within the warning window and not yet past (expiring today counts)."""
        return self.days_left is not None and 0 <= self.days_left <= EXPIRY_WARNING_DAYS

    @property
    def warn(self) -> bool:
        return self.expired or self.soon

    def text(self) -> str:
        """`expired 3 Nov 2026 (2 days ago)`, `expires today`, `expires 30 Dec 2026 (in 30
        days)`, or "" when nothing needs saying."""
        if self.expires_on is None or self.days_left is None:
            return ""
        when = day_text(self.expires_on)
        if self.days_left < 0:
            ago = -self.days_left
            return f"expired {when} ({ago} day{'s' if ago != 1 else ''} ago)"
        if self.days_left == 0:
            return f"expires today ({when})"
        if self.days_left <= EXPIRY_WARNING_DAYS:
            return f"expires {when} (in {self.days_left} day{'s' if self.days_left != 1 else ''})"
        return f"expires {when}"


def expiry(lot: Lot, on: date) -> Expiry:
    if lot.expires_on is None:
        return Expiry(None, None)
    return Expiry(lot.expires_on, (lot.expires_on - on).days)


def offered_lots(lots: Iterable[Lot], on: date) -> list[Lot]:
    """A product's lots in the order the editor offers them: lots still in date first, the
    newest (latest expiry) first; then expired ones, most recently expired first; lots with
    no expiry date between the two."""
    def order(lot: Lot) -> tuple[int, int]:
        left = expiry(lot, on).days_left
        if left is None:
            return (1, 0)
        return (0, -left) if left >= 0 else (2, -left)
    return sorted(lots, key=order)


@dataclass(frozen=True)
class LotWarning:
    """A warning on one product line of a session: its acknowledgement `code` (which names
    the line) and the words shown in amber."""

    code: str
    message: str


def lot_warning(product: str, lot_text: str | None, lots: Iterable[Lot], on: date, *,
                what: str = "Serum") -> LotWarning | None:
    """The warning for a lot as recorded on a session on the day `on`: past or within
    `EXPIRY_WARNING_DAYS` of its expiry, or not among the catalogue's lots of `product`
    (`lots`: that product's catalogue lots; empty when the product is not in the
    catalogue, which is not warned about: the clinic may not keep a catalogue at all).
    None when there is nothing to say (no lot typed, or a lot in date)."""
    key = lot_key(lot_text)
    lots = list(lots)
    if not key or not lots:
        return None
    typed = (lot_text or "").strip()
    label = f"{what} {product.strip()} lot {typed}"
    match = next((lot for lot in lots if lot_key(lot.lot) == key), None)
    if match is None:
        return LotWarning(f"{LOT_UNKNOWN} ({product.strip()} {typed})",
                          f"{label} is not in the catalogue: check the lot number")
    state = expiry(match, on)
    if state.expired:
        return LotWarning(f"{LOT_EXPIRED} ({product.strip()} {match.lot})",
                          f"{label} {state.text()}")
    if state.soon:
        return LotWarning(f"{LOT_EXPIRING} ({product.strip()} {match.lot})",
                          f"{label} {state.text()}")
    return None


def find_lot(lots: Iterable[Lot], lot_text: str | None) -> Lot | None:
    """The catalogue lot `lot_text` names (compared by `lot_key`), if any."""
    key = lot_key(lot_text)
    if not key:
        return None
    return next((lot for lot in lots if lot_key(lot.lot) == key), None)


def product_key(name: str | None) -> str:
    """How product names are compared when a session's product is looked up in the
    catalogue: like lots, case and surrounding spaces ignored."""
    return lot_key(name)


def catalogue_product(products: Iterable[Product], name: str | None,
                      kind: ProductKind) -> Product | None:
    """The catalogue product of `kind` named `name`, if any (retired ones included: a
    session may name a product no longer bought)."""
    key = product_key(name)
    if not key:
        return None
    return next((p for p in products if p.kind == kind and product_key(p.name) == key), None)


def picked_lots(session: Session) -> list[tuple[str, str]]:
    """The catalogue lots `session` names, as (field path, lot id): the cartridge's, the
    anaesthetic's and each serum's, those picked from the catalogue only."""
    a = session.anaesthetic
    named = [("device.cartridge_lot_id", session.device.cartridge_lot_id),
             ("anaesthetic.lot_id", a.lot_id if a else None),
             *((f"serums[{i}].lot_id", x.lot_id) for i, x in enumerate(session.serums))]
    return [(path, lot_id) for path, lot_id in named if lot_id]


def session_lot_warnings(session: Session, products: Iterable[Product],
                         lots_by_product: Mapping[str, Iterable[Lot]]
                         ) -> list[GuidelineWarning]:
    """A warning per product line of `session` whose lot is past or within
    `EXPIRY_WARNING_DAYS` of its expiry on the session's day, or not among the catalogue's
    lots of its product (a product not in the catalogue is not warned about). The code names
    the line and is what an acknowledgement records: one rule for the editor and import."""
    products = list(products)
    day = session.started_at.date()
    lines: list[tuple[str, str, str | None, ProductKind, str]] = [
        (f"serums[{i}].lot", s.product, s.lot, ProductKind.SERUM, "Serum")
        for i, s in enumerate(session.serums)]
    if session.anaesthetic is not None:
        lines.append(("anaesthetic.lot", session.anaesthetic.product, session.anaesthetic.lot,
                      ProductKind.ANAESTHETIC, "Anaesthetic"))
    lines.append(("device.cartridge_lot", session.device.cartridge or "",
                  session.device.cartridge_lot, ProductKind.CARTRIDGE, "Cartridge"))
    warnings = []
    for path, name, lot, kind, what in lines:
        product = catalogue_product(products, name, kind)
        lots = list(lots_by_product.get(product.id, [])) if product is not None else []
        found = lot_warning(name, lot, lots, day, what=what)
        if found is not None:
            warnings.append(GuidelineWarning(found.code, path, found.message))
    return warnings
