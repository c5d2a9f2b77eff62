"""The watched import folder: where a tablet or a camera saves its photos (a synced folder,
a memory card). This PC's folder is kept in the window's QSettings, not the clinic settings:
another PC has its own.

The folder's picture files not taken in yet are listed with thumbnails (a file is known by
the hash of its bytes: `repo.known_originals()`, so one already taken in, for any client,
is not listed again, whatever its name). The practitioner picks files and the view they show
and adds them to the open session. NeedleDesk never moves, renames or deletes a file in the
folder: a photo taken in simply leaves the list. Reading and hashing the files and making
their thumbnails runs on a worker thread (`Tasks`); the folder is watched
(QFileSystemWatcher), so a photo saved into it appears by itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from needledesk import imaging
from needledesk.domain.model import Client, PhotoSource, PhotoView
from needledesk.domain.photos import VIEW_TEXT
from needledesk.settings import ClinicSettings, wanted_views
from needledesk.ui.forms import FieldMessage, remember_geometry, restore_geometry, window_state
from needledesk.ui.photos_panel import (
    ICON_SIDE,
    PHOTO_SUFFIXES,
    AddResult,
    PhotosPanel,
    slot_icon,
    square_icon,
)
from needledesk.ui.tasks import Tasks

#: QSettings key of this PC's import folder.
FOLDER_KEY = "photos/import_folder"
#: How long after the folder changes it is read again (a camera writes a file in pieces).
SETTLE_MS = 500
NOTE = ("Photos stay in this folder: NeedleDesk never moves, renames or deletes them. A photo "
        "taken in leaves this list; delete it from the folder yourself when you wish.")


@dataclass(frozen=True)
class InboxFile:
    """A picture file waiting in the folder: its hash, and its thumbnail (None: not a
    picture NeedleDesk can read, with `problem` saying so)."""

    path: str
    sha256: str
    thumbnail: bytes | None
    problem: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class Scan:
    """What reading the folder found: the files not taken in yet, or why it could not be
    read (`problem`); `cache` keeps each file's hash and thumbnail for the next reading."""

    files: list[InboxFile]
    problem: str = ""
    cache: dict | None = None


def folder_problem(folder: str) -> str:
    """Why the folder cannot be read, in plain words ("" when it can)."""
    if not folder:
        return "No import folder is chosen for this PC yet: choose one (Choose folder…)."
    path = Path(folder)
    if not path.exists():
        return (f"The import folder {folder} cannot be found. Is the tablet, camera card or "
                "USB stick connected? Or choose another folder (Choose folder…).")
    if not path.is_dir():
        return f"{folder} is a file, not a folder: choose a folder (Choose folder…)."
    if not os.access(path, os.R_OK | os.X_OK):
        return (f"The import folder {folder} cannot be read: this Windows user has no "
                "permission to open it. Choose another folder (Choose folder…).")
    return ""


def scan_folder(folder: str, known: set[str], cache: dict | None = None) -> Scan:
    """The picture files in `folder` (not its sub-folders) whose hash is not in `known`,
    by name. `cache` maps (path, size, mtime) to (hash, thumbnail, problem) from an earlier
    reading: a file not changed since is not read again. Runs on a worker thread."""
    problem = folder_problem(folder)
    if problem:
        return Scan([], problem, {})
    cache = dict(cache or {})
    fresh: dict = {}
    files: list[InboxFile] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.casefold())
    except OSError as exc:
        return Scan([], f"The import folder {folder} cannot be read ({exc.strerror or exc}).",
                    {})
    for entry in entries:
        if Path(entry.name).suffix.lower() not in PHOTO_SUFFIXES or entry.name.startswith("."):
            continue
        try:
            if not entry.is_file():
                continue
            stat = entry.stat()
        except OSError:
            continue
        key = (entry.path, stat.st_size, stat.st_mtime_ns)
        known_file = cache.get(key)
        if known_file is None:
            known_file = _read(entry.path)
            if known_file is None:
                continue   # gone, or unreadable just now: the next reading tries again
        fresh[key] = known_file
        sha, thumb, why = known_file
        if sha not in known:
            files.append(InboxFile(entry.path, sha, thumb, why))
    return Scan(files, "", fresh)


def _read(path: str) -> tuple[str, bytes | None, str] | None:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    sha = hashlib.sha256(data).hexdigest()
    try:
        return sha, imaging.thumbnail(data, ICON_SIDE * 2), ""
    except Exception as exc:   # noqa: BLE001 (any unreadable picture is said so, not raised)
        message = str(exc) if isinstance(exc, imaging.PhotoError) else \
            "this file is not a picture NeedleDesk can read"
        return sha, None, message


class PhotoInboxDialog(QDialog):
    """This PC's import folder, for one session: pick photos, choose their view, add them.
    Emits `added(summary)` after photos were added."""

    GEOMETRY_KEY = "photos/inbox_geometry"
    added = Signal(str)

    def __init__(self, repo, client: Client, session_id: str, *,
                 by: Callable[[], str] | str = "", state: QSettings | None = None,
                 settings: ClinicSettings | None = None, taken: Iterable[PhotoView] = (),
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.repo, self.client, self.session_id = repo, client, session_id
        self._by = by if callable(by) else (lambda: by)
        self.state = window_state(parent, state)
        self.settings = settings or ClinicSettings()
        self.files: list[InboxFile] = []
        self._cache: dict = {}
        self.scanning = False
        self._again = False
        self.setWindowTitle(f"Import folder — {client.full_name}")
        self._build()
        self._first_view(taken)
        self.watcher = self._make_watcher()
        self.settle = QTimer(self)
        self.settle.setSingleShot(True)
        self.settle.setInterval(SETTLE_MS)
        self.settle.timeout.connect(self.refresh)
        restore_geometry(self, self.state, self.GEOMETRY_KEY, QSize(820, 560))
        self.set_folder(self.folder(), remember=False)

    def _build(self) -> None:
        self.folder_label = QLabel()
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_label.setWordWrap(True)
        self.choose_button = QPushButton("&Choose folder…")
        self.choose_button.setToolTip("The folder on this PC where the tablet or camera saves "
                                      "its photos")
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setToolTip("Read the folder again (F5)")
        top = QHBoxLayout()
        top.addWidget(QLabel("Folder:"))
        top.addWidget(self.folder_label, 1)
        top.addWidget(self.choose_button)
        top.addWidget(self.refresh_button)
        self.note = note = QLabel(NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color:#555")
        self.message = FieldMessage()
        self.message.setTextFormat(Qt.TextFormat.PlainText)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.list.setGridSize(QSize(ICON_SIDE + 36, ICON_SIDE + 40))
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAccessibleName("Photos waiting in the import folder")
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)

        self.view = QComboBox()
        for view in PhotoView:
            self.view.addItem(VIEW_TEXT[view], str(view))
        self.label = QLineEdit()
        self.label.setPlaceholderText("what the close-up shows, e.g. left cheek scar")
        self.label.setMaxLength(80)
        self.add_button = QPushButton("&Add to the session")
        self.add_button.setToolTip("Add the chosen photos to this session with this view "
                                   "(Ctrl+Enter)")
        form = QFormLayout()
        form.addRow("&View of the chosen photos:", self.view)
        form.addRow("Close-up &label:", self.label)
        bottom = QHBoxLayout()
        bottom.addLayout(form, 1)
        bottom.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.close_button = QPushButton("Close")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(bottom)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        close_row.addWidget(self.close_button)
        layout.addLayout(close_row)

        self.choose_button.clicked.connect(self.choose_folder)
        self.refresh_button.clicked.connect(self.refresh)
        self.add_button.clicked.connect(self.add_chosen)
        self.close_button.clicked.connect(self.reject)
        self.view.currentIndexChanged.connect(self._update)
        self.list.itemSelectionChanged.connect(self._update)
        self.list.itemActivated.connect(lambda _item: self.add_chosen())
        QShortcut(QKeySequence("F5"), self).activated.connect(self.refresh)
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(key), self).activated.connect(self.add_chosen)
        self.add_button.setAutoDefault(False)
        self.close_button.setAutoDefault(False)
        self.list.setFocus()

    def _first_view(self, taken: Iterable[PhotoView]) -> None:
        have = set(taken)
        first = next((v for v in wanted_views(self.settings) if v not in have),
                     PhotoView.CLOSE_UP)
        self.view.setCurrentIndex(max(self.view.findData(str(first)), 0))

    def _make_watcher(self):
        from PySide6.QtCore import QFileSystemWatcher

        watcher = QFileSystemWatcher(self)
        watcher.directoryChanged.connect(lambda _path: self.settle.start())
        return watcher

    def _update(self, *_args) -> None:
        view = PhotoView(self.view.currentData())
        self.label.setEnabled(view == PhotoView.CLOSE_UP)
        chosen = self.chosen()
        self.add_button.setEnabled(bool(chosen) and all(f.thumbnail is not None
                                                         for f in chosen))
        count = len(chosen)
        self.add_button.setText("&Add to the session" if count < 2
                                else f"&Add {count} photos to the session")

    # --- the folder --------------------------------------------------------------------

    def folder(self) -> str:
        return str(self.state.value(FOLDER_KEY, "") or "") if self.state is not None else ""

    def set_folder(self, folder: str, *, remember: bool = True) -> None:
        """Watch `folder` (kept for this PC) and list it."""
        if remember and self.state is not None:
            self.state.setValue(FOLDER_KEY, folder)
            self.state.sync()
        self.folder_label.setText(folder or "none chosen")
        self.folder_label.setToolTip(folder)
        watched = self.watcher.directories()
        if watched:
            self.watcher.removePaths(watched)
        if folder and Path(folder).is_dir():
            self.watcher.addPath(folder)
        self._cache = {}
        self.refresh()

    def choose_folder(self) -> None:
        folder = self.ask_folder(self, self.folder())
        if folder:
            self.set_folder(folder)

    @staticmethod
    def ask_folder(parent: QWidget, current: str) -> str:
        return QFileDialog.getExistingDirectory(parent, "The import folder on this PC",
                                                current)

    def refresh(self) -> None:
        """Read the folder again (on a worker thread), listing what is not taken in."""
        if self.scanning:
            self._again = True
            return
        folder = self.folder()
        if folder and Path(folder).is_dir() and folder not in self.watcher.directories():
            self.watcher.addPath(folder)   # it came back (the card was put in again)
        known = self.repo.known_originals()
        cache = dict(self._cache)
        self.scanning = True
        self.empty_label.setText("Reading the folder…")
        self.empty_label.show()
        Tasks.run(lambda: scan_folder(folder, known, cache), self._scanned, self._failed,
                  owner=self, on_finish=self._scan_done)

    def _scan_done(self) -> None:
        self.scanning = False

    def _scanned(self, scan: Scan) -> None:
        self._cache = scan.cache or {}
        self.files = scan.files
        chosen = {f.path for f in self.chosen()}
        self.list.clear()
        for f in self.files:
            item = QListWidgetItem(f.name)
            item.setData(Qt.ItemDataRole.UserRole, f.path)
            pixmap = QPixmap()
            if f.thumbnail is not None and pixmap.loadFromData(f.thumbnail):
                item.setIcon(square_icon(pixmap))
                item.setToolTip(f.path)
            else:
                item.setIcon(slot_icon("cannot read"))
                item.setToolTip(f"{f.name}: {f.problem}")
            self.list.addItem(item)
            item.setSelected(f.path in chosen)
        if scan.problem:
            self.message.show_error(scan.problem)
        else:
            self.message.clear_message()
        self.empty_label.setText("" if self.files or scan.problem else
                                 "No photo is waiting: every picture in the folder has been "
                                 "taken in. New ones appear here by themselves.")
        self.empty_label.setVisible(bool(self.empty_label.text()))
        if self.files and self.list.currentRow() < 0:
            self.list.setCurrentRow(0)
        self._update()
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, exc: Exception) -> None:
        self.message.show_error(f"The import folder could not be read: {exc}")
        self.empty_label.hide()

    def chosen(self) -> list[InboxFile]:
        paths = {item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()}
        return [f for f in self.files if f.path in paths]

    # --- adding --------------------------------------------------------------------------

    def add_chosen(self) -> AddResult | None:
        """Add the chosen files to the session with the chosen view (and close-up label),
        through the panel's path (source: the import folder); they then leave the list."""
        chosen = self.chosen()
        if not chosen:
            self.message.show_error("Choose one or more photos in the list first.")
            return None
        view = PhotoView(self.view.currentData())
        panel = self.parent()
        if not isinstance(panel, PhotosPanel):
            raise TypeError("the import folder is opened from a session's photos")
        result = panel.add_files([f.path for f in chosen], view, source=PhotoSource.FOLDER,
                                 label=self.label.text().strip())
        summary = result.summary()
        if result.failed:
            self.message.show_error(summary)
        else:
            self.message.clear_message()
        if result.added or result.already:
            self.added.emit(summary)
            self._first_view([*panel_views(panel)])
        self.refresh()
        return result

    def done(self, result: int) -> None:
        remember_geometry(self, self.state, self.GEOMETRY_KEY)
        super().done(result)


def panel_views(panel: PhotosPanel) -> list[PhotoView]:
    return [p.view for p in panel.photos]
