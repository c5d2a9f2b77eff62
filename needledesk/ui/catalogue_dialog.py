"""Products and lots: the clinic's catalogue of serums, topical anaesthetics and needle
cartridges with their delivered lots and expiry dates, which the session editor offers.

A product is never deleted (a session may name it): one no longer bought is retired, kept
here greyed and no longer offered. Every write goes through the repository (validated,
audited); a refused one is explained in the small edit dialog, which stays open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.labels import LOT_LABELS, PRODUCT_KIND_LABELS, PRODUCT_LABELS, problem_text
from needledesk.domain.model import Lot, Product, ProductKind
from needledesk.domain.products import expiry, offered_lots, validate_lot, validate_product
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text
from needledesk.errors import NeedleDeskError, ValidationError
from needledesk.ui.forms import (
    DateField,
    FieldMessage,
    add_labelled_rows,
    lay_out_form_dialog,
    remember_geometry,
    restore_geometry,
    route,
    window_state,
)

#: Where the dialog's size is remembered in the window's QSettings.
GEOMETRY_KEY = "catalogue/geometry"
DEFAULT_SIZE = QSize(900, 560)
RETIRED_COLOUR = "#8a8a8a"
EXPIRED_COLOUR = "#b3261e"
EXPIRING_COLOUR = "#8a5a00"
WARNING_BACKGROUND = "#fff4d6"
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def lot_state(lot: Lot, today: date) -> tuple[str, str]:
    """How a lot stands today, in words, and how it is shown: `("expired 3 Nov 2026",
    "expired")`, `("expires in 12 days", "soon")`, `("in date", "")`."""
    state = expiry(lot, today)
    if state.days_left is None or state.expires_on is None:
        return "no expiry date", ""
    if state.expired:
        return f"expired {day_text(state.expires_on)}", "expired"
    if state.days_left == 0:
        return "expires today", "soon"
    if state.soon:
        days = state.days_left
        return f"expires in {days} day{'s' if days != 1 else ''}", "soon"
    return "in date", ""


def _label(labels: dict[str, str], path: str, key: str) -> str:
    """A field's label as `domain.labels` names it, with `key` as its Alt+ letter."""
    text = labels[path]
    at = text.lower().find(key)
    return f"{text[:at]}&{text[at:]}:" if at >= 0 else f"{text}:"


# --- the small edit dialogs --------------------------------------------------------------------


class _RecordDialog(QDialog):
    """A product's or a lot's fields with a message under each; Save writes through `write`
    (the repository) and closes only once it was written: a refused write is explained
    beside its field, by its label, and the dialog stays open."""

    kind = ""            # "product" or "lot": which labels name the fields
    labels: dict[str, str] = {}
    write: Callable[[Any], Any]
    _original: Any = None

    def _finish(self, rows: list[tuple[str, QWidget, str | None]]) -> None:
        paths = [path for _text, _widget, path in rows if path]
        self.messages = {path: FieldMessage() for path in paths}
        self._widgets = {path: widget for _text, widget, path in rows if path}
        self.other_problems = FieldMessage()
        self.touched: set[str] = set()
        self.show_all = False
        #: What was written (None until Save succeeded).
        self.written: Any = None
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        add_labelled_rows(form, [(text, widget, widget, path) for text, widget, path in rows],
                          self.messages)
        self.buttons, self.save_button = lay_out_form_dialog(self, form, self.other_problems,
                                                             min_width=440)

    def record(self) -> Any:
        raise NotImplementedError

    def problems(self) -> list[Problem]:
        raise NotImplementedError

    def _named(self, problems: list[Problem]) -> list[Problem]:
        return [Problem(p.path, problem_text(p, kind=self.kind)) for p in problems]

    def _touch(self, path: str) -> None:
        self.touched.add(path)
        self.revalidate()

    def revalidate(self) -> bool:
        problems = self._named(self.problems())
        shown = [p for p in problems if self.show_all or p.path in self.touched]
        route(shown, self.messages, self.other_problems, describe=lambda p: p.message)
        return not problems

    def _show_refusal(self, problems: list[Problem]) -> None:
        route(self._named(problems), self.messages, self.other_problems,
              describe=lambda p: p.message)
        first = next((path for path, message in self.messages.items() if message.text()),
                     None)
        widget = self._widgets.get(first) if first else None
        if widget is not None:
            widget.setFocus()

    def accept(self) -> None:
        self.show_all = True
        if not self.revalidate():
            self._show_refusal(self.problems())
            return
        if self._original is not None and self.record() == self._original:
            super().accept()   # nothing changed: nothing to write
            return
        try:
            self.written = self.write(self.record())
        except ValidationError as exc:   # the store's own checks (a duplicate name or lot)
            self._show_refusal([p if isinstance(p, Problem) else Problem("", str(p))
                                for p in exc.problems])
            return
        except (NeedleDeskError, OSError, sqlite3.Error) as exc:
            self.other_problems.show_error(f"Not saved: {exc}. What you typed is kept here.")
            return
        super().accept()

    def opened(self) -> None:
        """Note the fields as the dialog opens (call last in `__init__`)."""
        self._as_opened = self._typed()

    def _typed(self) -> Any:
        return self.record()

    def reject(self) -> None:
        """Escape, Cancel or closing: typed changes are discarded only once the practitioner
        says so."""
        if self._typed() != getattr(self, "_as_opened", None) and not self.ask_discard(self):
            return
        super().reject()

    @staticmethod
    def ask_discard(parent: QWidget) -> bool:
        from needledesk.ui.forms import ask_discard

        return ask_discard(parent, "Discard changes?", "What you typed here is not saved.")


class ProductDialog(_RecordDialog):
    """Add a product to the catalogue, or correct one."""

    kind = "product"
    labels = PRODUCT_LABELS

    def __init__(self, write: Callable[[Product], Product], product: Product | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.write = write
        self._original = product
        self._id = product.id if product else Product("", ProductKind.SERUM).id
        self.setWindowTitle(f"Edit product — {product.name}" if product else "Add a product")
        self.name = QLineEdit()
        self.name.setPlaceholderText("required, as on the box")
        self.product_kind = QComboBox()
        for kind in ProductKind:
            self.product_kind.addItem(PRODUCT_KIND_LABELS[str(kind)], kind)
        self.maker = QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(60)
        self._finish([(_label(PRODUCT_LABELS, "name", "p"), self.name, "name"),
                      (_label(PRODUCT_LABELS, "kind", "u"), self.product_kind, "kind"),
                      (_label(PRODUCT_LABELS, "maker", "m"), self.maker, "maker"),
                      (_label(PRODUCT_LABELS, "notes", "n"), self.notes, "notes")])
        if product is not None:
            self.name.setText(product.name)
            self.product_kind.setCurrentIndex(max(0, self.product_kind.findData(product.kind)))
            self.maker.setText(product.maker)
            self.notes.setPlainText(product.notes)
        self.name.textChanged.connect(lambda *_: self._touch("name"))
        self.maker.textChanged.connect(lambda *_: self._touch("maker"))
        self.notes.textChanged.connect(lambda *_: self._touch("notes"))
        self.name.setFocus()
        self.opened()

    def record(self) -> Product:
        values: dict[str, Any] = {"name": self.name.text().strip(),
                                  "kind": self.product_kind.currentData(),
                                  "maker": self.maker.text().strip(),
                                  "notes": self.notes.toPlainText().rstrip()}
        if self._original is not None:
            return replace(self._original, **values)
        return Product(id=self._id, **values)

    def problems(self) -> list[Problem]:
        return validate_product(self.record())


class LotDialog(_RecordDialog):
    """Add a delivered lot of a product, or correct one."""

    kind = "lot"
    labels = LOT_LABELS

    def __init__(self, write: Callable[[Lot], Lot], product: Product, lot: Lot | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.write = write
        self._original = lot
        self._product = product
        self._id = lot.id if lot else Lot(product.id, "").id
        self.setWindowTitle(f"Edit lot {lot.lot} — {product.name}" if lot
                            else f"Add a lot — {product.name}")
        self.lot = QLineEdit()
        self.lot.setPlaceholderText("required, as printed on the box")
        self.expires_on = DateField(LOT_LABELS["expires_on"])
        self.received_on = DateField(LOT_LABELS["received_on"])
        for field in (self.expires_on, self.received_on):
            field.setPlaceholderText("not recorded — type e.g. 3 Mar 2027 or 2027-03-03")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setMinimumHeight(60)
        self._finish([(_label(LOT_LABELS, "lot", "l"), self.lot, "lot"),
                      (_label(LOT_LABELS, "expires_on", "e"), self.expires_on, "expires_on"),
                      (_label(LOT_LABELS, "received_on", "r"), self.received_on,
                       "received_on"),
                      (_label(LOT_LABELS, "notes", "n"), self.notes, "notes")])
        if lot is not None:
            self.lot.setText(lot.lot)
            self.expires_on.set_value(lot.expires_on)
            self.received_on.set_value(lot.received_on)
            self.notes.setPlainText(lot.notes)
        self.lot.textChanged.connect(lambda *_: self._touch("lot"))
        self.expires_on.editingFinished.connect(lambda: self._touch("expires_on"))
        self.received_on.editingFinished.connect(lambda: self._touch("received_on"))
        self.notes.textChanged.connect(lambda *_: self._touch("notes"))
        self.lot.setFocus()
        self.opened()

    def record(self) -> Lot:
        values: dict[str, Any] = {"lot": self.lot.text().strip(),
                                  "expires_on": self.expires_on.value(),
                                  "received_on": self.received_on.value(),
                                  "notes": self.notes.toPlainText().rstrip()}
        if self._original is not None:
            return replace(self._original, **values)
        return Lot(product_id=self._product.id, id=self._id, **values)

    def _typed(self) -> Any:
        return (self.record(), self.expires_on.text().strip(), self.received_on.text().strip())

    def problems(self) -> list[Problem]:
        unread = [Problem(path, problem) for path, field in
                  (("expires_on", self.expires_on), ("received_on", self.received_on))
                  if (problem := field.problem())]
        return unread + validate_lot(self.record())


# --- the catalogue -----------------------------------------------------------------------------


class _EnterFilter(QObject):
    """Enter in a list edits its selected row (instead of pressing a button)."""

    def __init__(self, action: Callable[[], object], parent: QObject):
        super().__init__(parent)
        self._action = action

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.KeyPress and event.key() in _ENTER_KEYS:
            self._action()
            return True
        return False


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


class CatalogueDialog(QDialog):
    """The products (name, maker, used as; retired ones greyed and marked) and the selected
    product's lots (lot, expires, received, how it stands today). Insert or Ctrl+N adds (a
    lot when the lots have the cursor, else a product), Enter edits the selected row,
    Escape closes."""

    def __init__(self, repo: Any, *, user: str = "", today: Callable[[], date] = date.today,
                 parent: QWidget | None = None, state: QSettings | None = None):
        super().__init__(parent)
        self.state = window_state(parent, state)
        self.repo = repo
        self.user = user
        self.today = today
        self.setWindowTitle("Products and lots")
        self.setMinimumSize(640, 420)

        intro = QLabel("The serums, topical anaesthetics and needle cartridges the clinic "
                       "uses, with their lots. The session editor offers them and warns about "
                       "a lot near or past its expiry. A product is never deleted: retire one "
                       "no longer used.")
        intro.setWordWrap(True)
        self.products = _table(["Product", "Maker", "Used as", "State"], "Products")
        products_label = QLabel("&Products:")
        products_label.setBuddy(self.products)
        self.lots = _table(["Lot", "Expires", "Received", "State"], "Lots")
        self.lots_label = QLabel("&Lots:")
        self.lots_label.setBuddy(self.lots)
        self.add_product_button = QPushButton("&Add product…")
        self.add_product_button.setToolTip("Insert or Ctrl+N")
        self.edit_product_button = QPushButton("&Edit product…")
        self.edit_product_button.setToolTip("Enter")
        self.retire_button = QPushButton("&Retire")
        self.add_lot_button = QPushButton("Add l&ot…")
        self.add_lot_button.setToolTip("Insert or Ctrl+N in the lots")
        self.edit_lot_button = QPushButton("Edi&t lot…")
        self.edit_lot_button.setToolTip("Enter in the lots")
        self.close_button = QPushButton("Close")
        self.message = FieldMessage()
        for button in (self.add_product_button, self.edit_product_button, self.retire_button,
                       self.add_lot_button, self.edit_lot_button, self.close_button):
            button.setAutoDefault(False)

        left = QVBoxLayout()
        left.addWidget(products_label)
        left.addWidget(self.products, 1)
        row = QHBoxLayout()
        for button in (self.add_product_button, self.edit_product_button, self.retire_button):
            row.addWidget(button)
        row.addStretch(1)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(self.lots_label)
        right.addWidget(self.lots, 1)
        row = QHBoxLayout()
        for button in (self.add_lot_button, self.edit_lot_button):
            row.addWidget(button)
        row.addStretch(1)
        right.addLayout(row)
        columns = QHBoxLayout()
        columns.addLayout(left, 11)
        columns.addLayout(right, 9)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)

        self.add_product_button.clicked.connect(self.add_product)
        self.edit_product_button.clicked.connect(self.edit_product)
        self.retire_button.clicked.connect(self.toggle_retired)
        self.add_lot_button.clicked.connect(self.add_lot)
        self.edit_lot_button.clicked.connect(self.edit_lot)
        self.close_button.clicked.connect(self.close)
        self.products.itemSelectionChanged.connect(self._product_chosen)
        self.lots.itemSelectionChanged.connect(self._update_buttons)
        self.products.itemDoubleClicked.connect(lambda *_: self.edit_product())
        self.lots.itemDoubleClicked.connect(lambda *_: self.edit_lot())
        self.products.installEventFilter(_EnterFilter(self.edit_product, self))
        self.lots.installEventFilter(_EnterFilter(self.edit_lot, self))
        for keys in (QKeySequence(Qt.Key.Key_Insert), QKeySequence("Ctrl+N")):
            QShortcut(keys, self).activated.connect(self.add_here)

        self._products: list[Product] = []
        self._lots: list[Lot] = []
        self._restore_size()
        self.reload()
        self.products.setFocus()

    # --- reading ------------------------------------------------------------------------

    def reload(self, product_id: str | None = None, lot_id: str | None = None) -> None:
        """Read the catalogue again; keep (or move to) the given product and lot."""
        chosen = self.product()
        product_id = product_id or (chosen.id if chosen else None)
        self._products = self.repo.products()
        self.products.blockSignals(True)
        self.products.setRowCount(0)
        for product in self._products:
            row = self.products.rowCount()
            self.products.insertRow(row)
            cells = [product.name, product.maker, PRODUCT_KIND_LABELS[str(product.kind)],
                     "no longer used" if product.retired else ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if product.retired:
                    item.setForeground(QBrush(QColor(RETIRED_COLOUR)))
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                    item.setToolTip("No longer used: kept for the sessions that name it, no "
                                    "longer offered in the session editor")
                self.products.setItem(row, column, item)
        self.products.blockSignals(False)
        ids = [p.id for p in self._products]
        if self._products:
            self.products.selectRow(ids.index(product_id) if product_id in ids else 0)
        self._show_lots(lot_id)

    def product(self) -> Product | None:
        rows = self.products.selectionModel().selectedRows() \
            if self.products.selectionModel() else []
        if not rows or rows[0].row() >= len(self._products):
            return None
        return self._products[rows[0].row()]

    def lot(self) -> Lot | None:
        rows = self.lots.selectionModel().selectedRows() if self.lots.selectionModel() else []
        if not rows or rows[0].row() >= len(self._lots):
            return None
        return self._lots[rows[0].row()]

    def _product_chosen(self) -> None:
        self._show_lots()

    def _show_lots(self, lot_id: str | None = None) -> None:
        product = self.product()
        today = self.today()
        self._lots = offered_lots(self.repo.lots(product.id), today) if product else []
        self.lots_label.setText(f"&Lots of {product.name.replace('&', '&&')}:" if product
                                else "&Lots:")
        self.lots.setRowCount(0)
        for lot in self._lots:
            row = self.lots.rowCount()
            self.lots.insertRow(row)
            words, how = lot_state(lot, today)
            cells = [lot.lot, day_text(lot.expires_on) if lot.expires_on else "—",
                     day_text(lot.received_on) if lot.received_on else "—", words]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if how:
                    item.setForeground(QBrush(QColor(
                        EXPIRED_COLOUR if how == "expired" else EXPIRING_COLOUR)))
                    item.setBackground(QBrush(QColor(WARNING_BACKGROUND)))
                self.lots.setItem(row, column, item)
        ids = [x.id for x in self._lots]
        if lot_id in ids:
            self.lots.selectRow(ids.index(lot_id))
        self._update_buttons()

    def _update_buttons(self) -> None:
        product = self.product()
        self.edit_product_button.setEnabled(product is not None)
        self.retire_button.setEnabled(product is not None)
        self.retire_button.setText("&Use again" if product and product.retired else "&Retire")
        self.retire_button.setToolTip(
            "Offer it again in the session editor" if product and product.retired else
            "No longer offered in the session editor; kept here and on every session")
        self.add_lot_button.setEnabled(product is not None)
        self.edit_lot_button.setEnabled(self.lot() is not None)

    # --- writing ------------------------------------------------------------------------

    def add_here(self) -> None:
        """Insert / Ctrl+N: a lot when the lots (or their buttons) have the cursor, else a
        product."""
        focused = self.focusWidget()
        if focused in (self.lots, self.add_lot_button, self.edit_lot_button) \
                and self.product() is not None:
            self.add_lot()
        else:
            self.add_product()

    def _by(self) -> str:
        return self.user or "unknown"

    def add_product(self) -> Product | None:
        product = self.ask_product(None)
        if product is not None:
            self.reload(product.id)
            self.message.clear_message()
            self.products.setFocus()
        return product

    def edit_product(self) -> Product | None:
        chosen = self.product()
        if chosen is None:
            return None
        product = self.ask_product(chosen)
        if product is not None:
            self.reload(product.id)
        self.products.setFocus()
        return product

    def ask_product(self, product: Product | None) -> Product | None:
        """The product dialog (run modally): the product written, or None."""
        writer = self.repo.update_product if product else self.repo.add_product
        dialog = ProductDialog(lambda p: writer(p, by=self._by()), product, parent=self)
        try:
            dialog.exec()
            return dialog.written
        finally:
            dialog.deleteLater()

    def toggle_retired(self) -> None:
        """Retire the selected product (no longer offered; kept on every session), or use a
        retired one again."""
        product = self.product()
        if product is None:
            return
        changed = replace(product, retired=not product.retired)
        try:
            self.repo.update_product(changed, by=self._by())
        except (NeedleDeskError, OSError, sqlite3.Error) as exc:
            self.message.show_error(f"Not changed: {exc}")
            return
        self.message.clear_message()
        self.reload(product.id)
        self.products.setFocus()

    def add_lot(self) -> Lot | None:
        product = self.product()
        if product is None:
            return None
        lot = self.ask_lot(product, None)
        if lot is not None:
            self._show_lots(lot.id)
            self.lots.setFocus()
        return lot

    def edit_lot(self) -> Lot | None:
        product, chosen = self.product(), self.lot()
        if product is None or chosen is None:
            return None
        lot = self.ask_lot(product, chosen)
        if lot is not None:
            self._show_lots(lot.id)
        self.lots.setFocus()
        return lot

    def ask_lot(self, product: Product, lot: Lot | None) -> Lot | None:
        """The lot dialog (run modally): the lot written, or None."""
        writer = self.repo.update_lot if lot else self.repo.add_lot
        dialog = LotDialog(lambda x: writer(x, by=self._by()), product, lot, parent=self)
        try:
            dialog.exec()
            return dialog.written
        finally:
            dialog.deleteLater()

    # --- size ---------------------------------------------------------------------------

    def _restore_size(self) -> None:
        restore_geometry(self, self.state, GEOMETRY_KEY, DEFAULT_SIZE)

    def _remember_size(self) -> None:
        remember_geometry(self, self.state, GEOMETRY_KEY)

    def done(self, result: int) -> None:  # noqa: D401 (closing by Escape, Close or the frame)
        self._remember_size()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._remember_size()
        super().closeEvent(event)

    @classmethod
    def show_for(cls, parent: QWidget | None, repo: Any, *, user: str = "",
                 state: QSettings | None = None) -> None:
        """Run the dialog modally (every change is written as it is made)."""
        dialog = cls(repo, user=user, parent=parent, state=state)
        try:
            dialog.exec()
        finally:
            dialog.deleteLater()
