"""Backups from the window: "Back up now", "Restore…", and the automatic generations.

The copying itself is `store.backup` (SQLite's online backup API, checked, fsynced, renamed
into place); here it runs off the UI thread and the practitioner chooses what to restore.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.text import count_text, moment_text
from needledesk.store.backup import BackupInfo, default_backup_dir
from needledesk.store.database import DatabaseError

if TYPE_CHECKING:  # only a type here; store.restore pulls in the Repository and check
    from needledesk.store.restore import Restored


def on_server(db_path: str | Path) -> bool:
    """The records are on the clinic server (the window's `db_path` is then its address)."""
    return str(db_path).startswith(("postgresql:", "postgres:"))


def backup_folder(state: QSettings, db_path: str | Path) -> Path:
    """Per PC: a USB stick on one machine is not a folder on another. The clinic server's
    backups have a folder of their own (`server-backups` in the data folder by default)."""
    if on_server(db_path):
        chosen = state.value("server_backup_folder", "")
        if chosen:
            return Path(str(chosen))
        from needledesk.store.server_backup import default_folder

        return default_folder()
    chosen = state.value("backup_folder", "")
    return Path(str(chosen)) if chosen else default_backup_dir(db_path)


def folder_setting(db_path: str | Path) -> str:
    """The QSettings key of the backup folder chosen for these records."""
    return "server_backup_folder" if on_server(db_path) else "backup_folder"


def describe_backup(info: BackupInfo) -> str:
    when = moment_text(info.taken_at)
    if not info.ok:
        return f"{when} — cannot be used: {info.problem}"
    photos = f"{count_text(info.photos, 'photo')}, " if info.photos else ""
    return (f"{when} — {count_text(info.clients, 'client')}, "
            f"{count_text(info.sessions, 'session')}, {photos}{info.size / 1_000_000:.1f} MB")


def restored_text(restored: Restored) -> str:
    """What the practitioner is told after a restore: which backup, and where the records as
    they were before it are kept."""
    info = restored.backup
    kept = (f"\n\nThe records as they were are kept in {restored.safety}."
            if restored.safety else "")
    photos = (f"\n\n{count_text(restored.photos_restored, 'photo')} of its "
              f"{info.photos} {'was' if restored.photos_restored == 1 else 'were'} brought "
              "back into the photo folder; the others were there already."
              if info.photos else "")
    return (f"Restored the backup of {moment_text(info.taken_at)} "
            f"({count_text(info.clients, 'client')}, "
            f"{count_text(info.sessions, 'session')}).{photos}{kept}")


def server_restored_text(restored) -> str:
    """What the practitioner is told after the clinic server was restored."""
    info = restored.backup
    kept = (f"\n\nThe server's records as they were are kept in {restored.safety}."
            if restored.safety else "")
    return (f"Restored the clinic server's backup of {moment_text(info.taken_at)} "
            f"({count_text(info.clients, 'client')}, "
            f"{count_text(info.sessions, 'session')}) for every room.{kept}")


class _Checked(QObject):
    """Made on the UI thread; the worker reports each checked backup through it."""

    row = Signal(int, object)


def check_backup(info: BackupInfo) -> BackupInfo:
    """`info` with SQLite's quick_check done (reads every page: run it on a worker)."""
    from needledesk.store.backup import describe

    try:
        return describe(info.path)
    except (DatabaseError, OSError) as exc:
        return replace(info, problem=str(exc))


def check_server_backup(info: BackupInfo) -> BackupInfo:
    """`info` once the clinic server backup's bytes were read against its manifest's hash
    (reads the whole dump: run it on a worker)."""
    from needledesk.store.server_backup import verify_dump

    try:
        return verify_dump(info.path)
    except (DatabaseError, OSError) as exc:
        return replace(info, problem=str(exc))


#: What the restore list says of a restore on the clinic server.
SERVER_NOTE = ("Restoring replaces the records on the clinic server, for every room, with "
               "the chosen backup (checked in full first); the server's records as they are "
               "now are kept as a backup in this folder before that.")


class RestoreDialog(QDialog):
    """Pick a backup to restore. The list shows at once with each backup's date, counts and
    size; each is then checked (quick_check; a clinic server's: its hash) on a worker and its
    row filled in as it finishes. Only a checked, sound backup can be chosen."""

    def __init__(self, backups: list[BackupInfo], folder: Path, parent: QWidget | None = None,
                 *, check: Callable[[BackupInfo], BackupInfo] | None = None,
                 note: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        self.check = check or check_backup
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"Backups in {folder}. " + (note or "Restoring replaces the records with the "
                                        "chosen backup; the current records are kept beside "
                                        "them as a safety copy.")))
        self.backups = QListWidget()
        self.checked: list[bool] = []
        for info in backups:
            item = QListWidgetItem(f"{describe_backup(info)} — checking…" if info.ok
                                   else describe_backup(info))
            item.setData(Qt.ItemDataRole.UserRole, info)
            self.checked.append(not info.ok)  # an unreadable one is settled already
            if not info.ok:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.backups.addItem(item)
        layout.addWidget(self.backups)
        self.progress = QProgressBar()
        self.progress.setRange(0, len(backups))
        self.progress.setValue(sum(self.checked))
        self.progress.setFormat("Checked %v of %m backups")
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = self.buttons.addButton(
            "&Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.backups.currentItemChanged.connect(lambda *_: self._update())
        self.backups.itemDoubleClicked.connect(lambda *_: self._accept_if_chosen())
        first_ok = next((i for i, b in enumerate(backups) if b.ok), None)
        if first_ok is not None:
            self.backups.setCurrentRow(first_ok)
        self._stop = threading.Event()
        self.finished.connect(lambda *_: self._stop.set())
        self._update()
        self.resize(620, 360)

    def start_checks(self) -> None:
        """Check each backup on a worker; rows fill in as each check finishes."""
        from needledesk.ui.tasks import Tasks

        todo = [(row, self.backups.item(row).data(Qt.ItemDataRole.UserRole))
                for row in range(self.backups.count()) if not self.checked[row]]
        if not todo:
            return
        reports, stop, check = _Checked(), self._stop, self.check
        reports.row.connect(self.show_checked)

        def work() -> None:
            for row, info in todo:
                if stop.is_set():  # the dialog was closed: no more reading
                    return
                reports.row.emit(row, check(info))

        Tasks.run(work, lambda _: None, lambda _exc: None, owner=self,
                  on_finish=lambda: reports.row.disconnect())

    def show_checked(self, row: int, info: BackupInfo) -> None:
        item = self.backups.item(row)
        item.setData(Qt.ItemDataRole.UserRole, info)
        item.setText(describe_backup(info))
        if not info.ok:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.checked[row] = True
        self.progress.setValue(sum(self.checked))
        self._update()

    def chosen(self) -> BackupInfo | None:
        item = self.backups.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _ready(self) -> bool:
        chosen = self.chosen()
        return chosen is not None and chosen.ok and self.checked[self.backups.currentRow()]

    def _accept_if_chosen(self) -> None:
        if self._ready():
            self.accept()

    def _update(self) -> None:
        self.restore_button.setEnabled(self._ready())

    @classmethod
    def ask(cls, parent, backups: list[BackupInfo], folder: Path, *,
            check: Callable[[BackupInfo], BackupInfo] | None = None,
            note: str | None = None) -> BackupInfo | None:
        dialog = cls(backups, folder, parent, check=check, note=note)
        try:
            dialog.start_checks()
            return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


def choose_folder(parent, current: Path) -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, "Backup folder (e.g. a USB stick)",
                                            str(current))
    return Path(path) if path else None
