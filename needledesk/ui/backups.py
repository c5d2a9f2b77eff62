"""Backups from the window: "Back up now", "Restore…", and the automatic generations.

The copying itself is `store.backup` (SQLite's online backup API, checked, fsynced, renamed
into place); here it runs off the UI thread and the practitioner chooses what to restore.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.text import moment_text
from needledesk.store.backup import BackupInfo, default_backup_dir

if TYPE_CHECKING:  # only a type here; store.restore pulls in the Repository and check
    from needledesk.store.restore import Restored


def backup_folder(state: QSettings, db_path: str | Path) -> Path:
    """Per PC: a USB stick on one machine is not a folder on another."""
    chosen = state.value("backup_folder", "")
    return Path(str(chosen)) if chosen else default_backup_dir(db_path)


def describe_backup(info: BackupInfo) -> str:
    when = moment_text(info.taken_at)
    if not info.ok:
        return f"{when} — cannot be used: {info.problem}"
    return (f"{when} — {info.clients:,} clients, {info.sessions:,} sessions, "
            f"{info.size / 1_000_000:.1f} MB")


def restored_text(restored: Restored) -> str:
    """What the practitioner is told after a restore: which backup, and where the records as
    they were before it are kept."""
    info = restored.backup
    kept = (f"\n\nThe records as they were are kept in {restored.safety}."
            if restored.safety else "")
    return (f"Restored the backup of {moment_text(info.taken_at)} ({info.clients:,} clients, "
            f"{info.sessions:,} sessions).{kept}")


class RestoreDialog(QDialog):
    """Pick a backup to restore; each shows its date and record counts."""

    def __init__(self, backups: list[BackupInfo], folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"Backups in {folder}. Restoring replaces the records with the chosen backup; the "
            "current records are kept beside them as a safety copy."))
        self.backups = QListWidget()
        for info in backups:
            item = QListWidgetItem(describe_backup(info))
            item.setData(Qt.ItemDataRole.UserRole, info)
            if not info.ok:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.backups.addItem(item)
        layout.addWidget(self.backups)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = self.buttons.addButton(
            "&Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.backups.currentItemChanged.connect(lambda *_: self._update())
        self.backups.itemDoubleClicked.connect(lambda *_: self.accept())
        first_ok = next((i for i, b in enumerate(backups) if b.ok), None)
        if first_ok is not None:
            self.backups.setCurrentRow(first_ok)
        self._update()
        self.resize(620, 360)

    def chosen(self) -> BackupInfo | None:
        item = self.backups.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _update(self) -> None:
        chosen = self.chosen()
        self.restore_button.setEnabled(chosen is not None and chosen.ok)

    @classmethod
    def ask(cls, parent, backups: list[BackupInfo], folder: Path) -> BackupInfo | None:
        dialog = cls(backups, folder, parent)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


def choose_folder(parent, current: Path) -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, "Backup folder (e.g. a USB stick)",
                                            str(current))
    return Path(path) if path else None
