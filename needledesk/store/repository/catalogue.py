"""The product catalogue: products (serums, anaesthetics, cartridges) and their lots, read
and written like every other record (validated by `domain.products`, audited and sealed).

A product or lot is never deleted: a session may name it. A product no longer bought is
retired (no longer offered); a lot is corrected by an update, which changes no session (a
session keeps the lot text exactly as it was recorded).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from needledesk.domain.model import ClientRecord, Lot, Product, ProductKind
from needledesk.domain.products import (
    lot_key,
    picked_lots,
    product_key,
    validate_lot,
    validate_product,
)
from needledesk.domain.rules import Problem
from needledesk.errors import NotFoundError, ValidationError
from needledesk.store.repository.mapping import (
    _has_table,
    _lot,
    _lot_row,
    _product,
    _product_row,
    _raise_if,
)
from needledesk.store.repository.writes import Writes


def _has_catalogue(db: Any) -> bool:
    return _has_table(db, "lots")


class Catalogue(Writes):
    # --- reads --------------------------------------------------------------------------

    def products(self, kind: ProductKind | None = None, *, retired: bool = True
                 ) -> list[Product]:
        """The catalogue's products by name (`kind`: only those; `retired=False`: only
        those still offered)."""
        if not _has_catalogue(self.db):
            return []   # a file of schema 7 or older, read without upgrading
        where, params = [], []
        if kind is not None:
            where.append("kind = ?")
            params.append(str(kind))
        if not retired:
            where.append("retired = 0")
        sql = "SELECT * FROM products" + (f" WHERE {' AND '.join(where)}" if where else "")
        found = [_product(r) for r in self.db.query(sql, params)]
        return sorted(found, key=lambda p: (p.name.casefold(), p.maker.casefold(), p.id))

    def get_product(self, product_id: str) -> Product:
        rows = list(self.db.query("SELECT * FROM products WHERE id = ?", [product_id]))
        if not rows:
            raise NotFoundError("This product is not in the catalogue (it may have been "
                                "restored away from a backup)")
        return _product(rows[0])

    def lots(self, product_id: str | None = None) -> list[Lot]:
        """The catalogue's lots (`product_id`: one product's), by expiry date then lot."""
        if not _has_catalogue(self.db):
            return []
        sql, params = "SELECT * FROM lots", []
        if product_id is not None:
            sql, params = sql + " WHERE product_id = ?", [product_id]
        found = [_lot(r) for r in self.db.query(sql, params)]
        return sorted(found, key=lambda x: (x.expires_on is None, x.expires_on or 0, x.lot))

    def get_lot(self, lot_id: str) -> Lot:
        rows = list(self.db.query("SELECT * FROM lots WHERE id = ?", [lot_id]))
        if not rows:
            raise NotFoundError("This lot is not in the catalogue")
        return _lot(rows[0])

    def lots_by_product(self) -> dict[str, list[Lot]]:
        found: dict[str, list[Lot]] = {}
        for lot in self.lots():
            found.setdefault(lot.product_id, []).append(lot)
        return found

    # --- writes -------------------------------------------------------------------------

    def _same_name(self, product: Product) -> list[Problem]:
        for other in self.products(product.kind):
            if other.id != product.id and product_key(other.name) == product_key(product.name):
                return [Problem("name", f"“{other.name.strip()}” is already in the catalogue "
                                "as this kind of product")]
        return []

    def add_product(self, product: Product, *, by: str) -> Product:
        product.name = product.name.strip()
        product.maker = product.maker.strip()
        _raise_if(validate_product(product) + self._same_name(product))
        with self._writing():
            self._table("products").insert(_product_row(product))
            self._record("create", "product", product.id, by=by, after=_product_row(product))
        return product

    def update_product(self, product: Product, *, by: str) -> Product:
        product.name = product.name.strip()
        product.maker = product.maker.strip()
        _raise_if(validate_product(product) + self._same_name(product))
        old = self.get_product(product.id)
        before, after = _product_row(old), _product_row(product)
        if before == after:
            raise ValidationError([Problem("", "nothing was changed in the product")])
        with self._writing():
            self._table("products").update(product.id, after)
            self._record("update", "product", product.id, by=by, before=before, after=after)
        return product

    def _same_lot(self, lot: Lot) -> list[Problem]:
        for other in self.lots(lot.product_id):
            if other.id != lot.id and lot_key(other.lot) == lot_key(lot.lot):
                return [Problem("lot", f"lot {other.lot} of this product is already in the "
                                "catalogue")]
        return []

    def add_lot(self, lot: Lot, *, by: str) -> Lot:
        lot.lot = lot.lot.strip()
        _raise_if(validate_lot(lot))
        self.get_product(lot.product_id)
        _raise_if(self._same_lot(lot))
        with self._writing():
            self._table("lots").insert(_lot_row(lot))
            self._record("create", "lot", lot.id, by=by, after=_lot_row(lot))
        return lot

    def update_lot(self, lot: Lot, *, by: str) -> Lot:
        lot.lot = lot.lot.strip()
        _raise_if(validate_lot(lot))
        old = self.get_lot(lot.id)
        if old.product_id != lot.product_id:
            raise ValidationError([Problem("", "a lot stays with the product it was "
                                              "delivered as")])
        _raise_if(self._same_lot(lot))
        before, after = _lot_row(old), _lot_row(lot)
        if before == after:
            raise ValidationError([Problem("", "nothing was changed in the lot")])
        with self._writing():
            self._table("lots").update(lot.id, after)
            self._record("update", "lot", lot.id, by=by, before=before, after=after)
        return lot

    def write_catalogue(self, products: Iterable[Product], lots: Iterable[Lot], *,
                        by: str) -> tuple[int, int]:
        """Import a catalogue: products and lots not yet stored are added (their ids
        kept); one stored with the same id must be the same, or the import is refused.
        Returns how many products and lots were added."""
        products, lots = list(products), list(lots)
        _raise_if(self.catalogue_problems(products, lots))
        if self._new_in_catalogue(products, lots) == ([], []):
            return 0, 0
        with self._writing():
            return self._insert_catalogue(products, lots, by=by)

    def _new_in_catalogue(self, products: list[Product], lots: list[Lot]
                          ) -> tuple[list[Product], list[Lot]]:
        stored_products = {p.id for p in self.products()}
        stored_lots = {x.id for x in self.lots()}
        return ([p for p in products if p.id not in stored_products],
                [x for x in lots if x.id not in stored_lots])

    def _insert_catalogue(self, products: list[Product], lots: list[Lot], *,
                          by: str) -> tuple[int, int]:
        """Add the products and lots not yet stored, each with its audit row (inside the
        caller's transaction: an import writes its catalogue and its records together)."""
        new_products, new_lots = self._new_in_catalogue(products, lots)
        for p in new_products:
            self._table("products").insert(_product_row(p))
            self._record("import", "product", p.id, by=by, after=_product_row(p))
        for x in new_lots:
            self._table("lots").insert(_lot_row(x))
            self._record("import", "lot", x.id, by=by, after=_lot_row(x))
        return len(new_products), len(new_lots)

    def catalogue_problems(self, products: list[Product], lots: list[Lot]) -> list[Problem]:
        """Why an imported catalogue cannot be written (nothing is written then). Each
        problem is placed as in the file, where a product's lots are nested in it:
        `products[1].lots[0].lot`."""
        problems: list[Problem] = []
        places = _lot_places(products, lots)
        for i, p in enumerate(products):
            problems += [x.under(f"products[{i}]") for x in validate_product(p)]
        for place, x in zip(places, lots, strict=True):
            problems += [y.under(place) for y in validate_lot(x)]
        if problems:
            return problems
        stored_products = {p.id: p for p in self.products()}
        stored_lots = {x.id: x for x in self.lots()}
        known = set(stored_products) | {p.id for p in products}
        for place, x in zip(places, lots, strict=True):
            if x.product_id not in known:
                problems.append(Problem(f"{place}.product_id", "names a product that is "
                                        "neither in the file nor in the catalogue"))
        for i, p in enumerate(products):
            old = stored_products.get(p.id)
            if old is not None and _product_row(old) != _product_row(p):
                problems.append(Problem(f"products[{i}]", f"“{p.name}” differs from the "
                                        f"catalogue's “{old.name}” with the same id"))
        for place, x in zip(places, lots, strict=True):
            old_lot = stored_lots.get(x.id)
            if old_lot is not None and _lot_row(old_lot) != _lot_row(x):
                problems.append(Problem(place, f"lot {x.lot} differs from the "
                                        f"catalogue's lot {old_lot.lot} with the same id"))
        return problems

    def lot_reference_problems(self, records: list[ClientRecord], lots: list[Lot]
                               ) -> list[Problem]:
        """Sessions of imported records that name a catalogue lot (`serums[].lot_id`,
        `anaesthetic.lot_id`, `device.cartridge_lot_id`) neither in the file (`lots`) nor in
        the catalogue: the lot they were picked from would be unknown here."""
        known = {x.id for x in lots} | {x.id for x in self.lots()}
        problems: list[Problem] = []
        for i, record in enumerate(records):
            for j, s in enumerate(record.sessions):
                problems += [Problem(f"clients[{i}].sessions[{j}].{path}", "names a catalogue "
                                     "lot that is neither in the file nor in the catalogue")
                             for path, lot_id in picked_lots(s) if lot_id not in known]
        return problems


def _lot_places(products: list[Product], lots: list[Lot]) -> list[str]:
    """Each lot's place in an exchange file: `products[i].lots[k]`, its product's place and
    its position among that product's lots (`lots[n]` for a lot of no product listed)."""
    index: dict[str, int] = {}
    for i, p in enumerate(products):
        index.setdefault(p.id, i)
    seen: dict[str, int] = {}
    places = []
    for n, x in enumerate(lots):
        if x.product_id not in index:
            places.append(f"lots[{n}]")
            continue
        k = seen[x.product_id] = seen.get(x.product_id, -1) + 1
        places.append(f"products[{index[x.product_id]}].lots[{k}]")
    return places
