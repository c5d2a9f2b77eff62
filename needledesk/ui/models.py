"""Item models over repository results: the client list and a client's session history.

Both hold plain dataclasses handed to them; neither runs SQL. The client list grows in
pages (`canFetchMore`/`fetchMore`) so a clinic of thousands draws at once.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from needledesk.domain.model import SEVERITY_LABELS
from needledesk.store.repository import ClientSummary, SessionSummary

ID_ROLE = Qt.ItemDataRole.UserRole + 1
PAGE = 200


def format_date(day: date | None) -> str:
    return day.strftime("%d %b %Y").lstrip("0") if day else ""


class ClientListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list[ClientSummary] = []
        self._shown = 0

    def set_clients(self, clients: list[ClientSummary]) -> None:
        self.beginResetModel()
        self._all = clients
        self._shown = min(PAGE, len(clients))
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent=QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._shown < len(self._all)

    def fetchMore(self, parent=QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        more = min(PAGE, len(self._all) - self._shown)
        if more <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + more - 1)
        self._shown += more
        self.endInsertRows()

    def total(self) -> int:
        return len(self._all)

    def client(self, row: int) -> ClientSummary:
        return self._all[row]

    def row_of(self, client_id: str) -> int | None:
        for row, client in enumerate(self._all):
            if client.id == client_id:
                while row >= self._shown and self.canFetchMore():
                    self.fetchMore()
                return row
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        client = self._all[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{client.last_name}, {client.first_name}"
        if role == Qt.ItemDataRole.ToolTipRole:
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
    HEADERS = ("Date", "Areas", "Deepest", "Reactions", "Status")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._sessions: list[SessionSummary] = []

    def set_sessions(self, sessions: list[SessionSummary]) -> None:
        self.beginResetModel()
        self._sessions = list(sessions)
        self.endResetModel()

    def session(self, row: int) -> SessionSummary:
        return self._sessions[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._sessions)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._sessions):
            return None
        s = self._sessions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return s.started_at.strftime("%d %b %Y %H:%M").lstrip("0")
            if column == 1:
                return ", ".join(s.areas)
            if column == 2:
                return f"{s.deepest_mm:.2f} mm" if s.deepest_mm is not None else ""
            if column == 3:
                return ", ".join(_reaction_text(r) for r in s.reactions)
            if column == 4:
                status = "signed" if s.signed else "draft"
                return f"{status}, amended" if s.amended else status
        if role == Qt.ItemDataRole.ForegroundRole and column == 4 and not s.signed:
            return QBrush(QColor("#8a5a00"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return s.id
        return None


def _reaction_text(stored: str) -> str:
    """`erythema 2` -> `erythema (moderate)`."""
    kind, _, severity = stored.rpartition(" ")
    label = SEVERITY_LABELS.get(int(severity)) if severity.isdigit() else None
    return f"{kind} ({label})" if label else stored
