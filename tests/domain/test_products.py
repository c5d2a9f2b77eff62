"""The lot warning's expiry boundaries (30 days: warn; 31: not; the day itself and past),
an unknown lot, and a product outside the catalogue, as pure rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from needledesk.domain.model import Lot
from needledesk.domain.products import (
    LOT_EXPIRED,
    LOT_EXPIRING,
    LOT_UNKNOWN,
    lot_warning,
    offered_lots,
)

DAY = date(2026, 11, 20)


def _lot(text: str, days: int | None) -> Lot:
    return Lot("p1", text, DAY + timedelta(days=days) if days is not None else None)


@pytest.mark.parametrize(("days", "code", "words"), [
    (31, None, None),
    (30, LOT_EXPIRING, "expires 20 Dec 2026 (in 30 days)"),
    (0, LOT_EXPIRING, "expires today (20 Nov 2026)"),
    (-1, LOT_EXPIRED, "expired 19 Nov 2026 (1 day ago)"),
])
def test_expiry_warning_boundaries(days, code, words):
    warning = lot_warning("HA serum", "L1", [_lot("L1", days)], DAY)
    if code is None:
        assert warning is None
        return
    assert warning is not None
    assert warning.code.startswith(code)
    assert warning.message == f"Serum HA serum lot L1 {words}"


def test_the_lot_is_matched_ignoring_case_and_spaces():
    warning = lot_warning("HA serum", "  l1 ", [_lot("L1", -3)], DAY)
    assert warning is not None and warning.code == f"{LOT_EXPIRED} (HA serum L1)"


def test_a_lot_not_in_the_catalogue_warns_and_a_product_outside_it_does_not():
    unknown = lot_warning("HA serum", "X9", [_lot("L1", 100)], DAY, what="Cartridge")
    assert unknown is not None and unknown.code.startswith(LOT_UNKNOWN)
    assert unknown.message.startswith("Cartridge HA serum lot X9 is not in the catalogue")
    assert lot_warning("Other gel", "X9", [], DAY) is None
    assert lot_warning("HA serum", "", [_lot("L1", -5)], DAY) is None


def test_offered_order_newest_open_lot_first_then_undated_then_expired():
    lots = [_lot("old", -40), _lot("soon", 5), _lot("undated", None), _lot("new", 200),
            _lot("recent", -2)]
    assert [x.lot for x in offered_lots(lots, DAY)] == ["new", "soon", "undated", "recent",
                                                         "old"]
