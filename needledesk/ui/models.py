"""Item models over repository results: the client list and a client's session history.

Both hold plain dataclasses handed to them; neither runs SQL. The client list grows in
pages (`canFetchMore`/`fetchMore`) so a clinic of thousands draws at once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
)
from PySide6.QtGui import QBrush, QColor

from needledesk.domain.text import day_text
from needledesk.store.first_page import PAGE, ClientSearch, ClientSummary

if TYPE_CHECKING:   # the history's types; the client list is drawn before the store loads
    from needledesk.store.repository import SessionSummary

# Qt's item data roles the client list answers, as plain numbers: the list is drawn at the
# first paint, before anything needs Qt's namespace of enums, whose first use builds all of
# them (some 20 ms at start-up). tests/ui/test_model_roles.py keeps them equal to Qt's.
DISPLAY_ROLE = 0    # Qt.ItemDataRole.DisplayRole
TOOLTIP_ROLE = 3    # Qt.ItemDataRole.ToolTipRole
ID_ROLE = 256 + 1   # Qt.ItemDataRole.UserRole + 1


def format_date(day: date | None) -> str:
    return day_text(day)


#: How many of the phone's last digits the list shows beside a name.
PHONE_TAIL = 3


def list_text(client: ClientSummary) -> str:
    """A row of the client list: the name, then what tells namesakes apart, the date of
    birth as the card writes it and the phone's last digits: `López, Ana · 14 Jul 1990 ·
    …123`."""
    parts = [f"{client.last_name}, {client.first_name}"]
    if client.date_of_birth:
        parts.append(format_date(client.date_of_birth))
    tail = "".join(ch for ch in client.phone or "" if ch.isdigit())[-PHONE_TAIL:]
    if tail:
        parts.append(f"…{tail}")
    return " · ".join(parts)


class ClientListModel(QAbstractListModel):
    """The client list. Rows come from a `ClientSearch` a page at a time (`fetchMore`), so
    a clinic of thousands shows its first page without reading every client."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._search = ClientSearch(0, lambda offset, limit: [], lambda client_id: None)
        self._rows: list[ClientSummary] = []

    def set_search(self, search: ClientSearch) -> None:
        self.beginResetModel()
        self._search = search
        self._rows = search.fetch(0, PAGE)
        self.endResetModel()

    def set_clients(self, clients: list[ClientSummary]) -> None:
        """A plain list as the source (tests, small lists)."""
        order = {c.id: i for i, c in enumerate(clients)}
        self.set_search(ClientSearch(len(clients),
                                     lambda offset, limit: clients[offset:offset + limit],
                                     order.get))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self._rows) < self._search.total

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        page = self._search.fetch(len(self._rows), PAGE)
        if not page:
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def total(self) -> int:
        return self._search.total

    def client(self, row: int) -> ClientSummary:
        return self._rows[row]

    def row_of(self, client_id: str) -> int | None:
        """The client's row, reading pages until it is loaded; None if not in the list."""
        row = self._search.position(client_id)
        if row is None:
            return None
        while row >= len(self._rows) and self.canFetchMore():
            self.fetchMore()
        return row if row < len(self._rows) else None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = DISPLAY_ROLE):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        client = self._rows[index.row()]
        if role == DISPLAY_ROLE:
            return list_text(client)
        if role == TOOLTIP_ROLE:
            parts = [client.full_name]
            if client.date_of_birth:
                parts.append(f"born {format_date(client.date_of_birth)}")
            if client.phone:
                parts.append(client.phone)
            return " · ".join(parts)
        if role == ID_ROLE:
            return client.id
        return None


class HistoryModel(QAbstractTableModel):
    HEADERS = ("Date", "Areas", "Deepest", "Reactions", "Status", "Photos")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._sessions: list[SessionSummary] = []
        self._photos: dict[str, int] = {}

    def set_sessions(self, sessions: list[SessionSummary],
                     photo_counts: dict[str, int] | None = None) -> None:
        """The sessions, and how many live photos each has (`repo.photo_counts`)."""
        self.beginResetModel()
        self._sessions = list(sessions)
        self._photos = dict(photo_counts or {})
        self.endResetModel()

    def session(self, row: int) -> SessionSummary:
        return self._sessions[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._sessions)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role=DISPLAY_ROLE):
        horizontal = orientation == QtCore.Qt.Orientation.Horizontal
        if role == DISPLAY_ROLE and horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = DISPLAY_ROLE):
        if not index.isValid() or not 0 <= index.row() < len(self._sessions):
            return None
        s = self._sessions[index.row()]
        column = index.column()
        if role == DISPLAY_ROLE:
            if column == 0:
                return f"{day_text(s.started_at)} {s.started_at:%H:%M}"
            if column == 1:
                return ", ".join(s.areas)
            if column == 2:
                return f"{s.deepest_mm:.2f} mm" if s.deepest_mm is not None else ""
            if column == 3:
                return ", ".join(_reaction_text(r) for r in s.reactions)
            if column == 4:
                status = "signed" if s.signed else "draft"
                return f"{status}, amended" if s.amended else status
            if column == 5:
                return str(self._photos.get(s.id, "") or "")
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and column == 4 and not s.signed:
            return QBrush(QColor("#8a5a00"))
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and column in (2, 5):
            align = QtCore.Qt.AlignmentFlag
            return int(align.AlignRight | align.AlignVCenter)
        if role == ID_ROLE:
            return s.id
        return None


def _reaction_text(stored: str) -> str:
    """`erythema 2` -> `erythema (moderate)`."""
    from needledesk.domain.model import SEVERITY_LABELS

    kind, _, severity = stored.rpartition(" ")
    label = SEVERITY_LABELS.get(int(severity)) if severity.isdigit() else None
    return f"{kind} ({label})" if label else stored
