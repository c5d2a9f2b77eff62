"""The client list's roles are plain numbers (so the first paint needs no Qt enum): they must
stay Qt's own."""

from __future__ import annotations

from PySide6.QtCore import Qt

from needledesk.ui import models


def test_the_plain_roles_are_qts():
    assert Qt.ItemDataRole.DisplayRole.value == models.DISPLAY_ROLE
    assert Qt.ItemDataRole.ToolTipRole.value == models.TOOLTIP_ROLE
    assert Qt.ItemDataRole.UserRole.value + 1 == models.ID_ROLE
