"""A session's photos: thumbnails by view, the clinic's views not taken yet shown as empty
places to drop a photo, and the ways to get photos in (drag and drop, Add photos…, the
watched import folder), give a photo its view, open it large and remove it by amendment.

Every write goes through the repository (`add_photo`, `assign_view`, `remove_photo`): a
photo is refused, with the reason in plain words and nothing stored, when the client's photo
consent does not allow it or the file is not a picture. Thumbnails are made on worker
threads (`Tasks`), so a session with many photos opens at once and fills in.

The panel sits in the session editor (its Photos section) and in `PhotosDialog`, opened from
the client card's session list for any session, signed or not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.labels import problem_text
from needledesk.domain.model import Client, Photo, PhotoSource, PhotoView
from needledesk.domain.photos import (
    SOURCE_TEXT,
    VIEW_TEXT,
    reason_problems,
    use_refusal,
    view_text,
)
from needledesk.domain.rules import Problem
from needledesk.domain.text import day_text, moment_text
from needledesk.errors import NeedleDeskError, NotFoundError, ValidationError
from needledesk.settings import ClinicSettings, wanted_views
from needledesk.ui.forms import FieldMessage, remember_geometry, restore_geometry, window_state
from needledesk.ui.tasks import Tasks

#: The picture files taken in (what `imaging.prepare` reads), lower case.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif")
FILE_FILTER = ("Photos (" + " ".join(f"*{s} *{s.upper()}" for s in PHOTO_SUFFIXES)
               + ");;All files (*)")
#: The side of a thumbnail as the grid shows it, in pixels.
ICON_SIDE = 132
#: The panel's keys (listed under Help › Keyboard shortcuts: `help.PHOTO_KEYS`).
ADD_KEY = "Ctrl+Shift+A"
INBOX_KEY = "Ctrl+Shift+I"
TAKE_KEY = "Ctrl+Shift+T"
VIEW_KEY = "F2"
#: QSettings key of the folder Add photos… last opened (per PC).
LAST_FOLDER_KEY = "photos/last_folder"


def is_photo_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def local_files(urls: Iterable[QUrl]) -> list[str]:
    """The local files among dropped urls (folders and web addresses left out)."""
    return [u.toLocalFile() for u in urls if u.isLocalFile() and Path(u.toLocalFile()).is_file()]


def photos_text(count: int) -> str:
    return f"{count} photo" + ("" if count == 1 else "s")


@dataclass
class AddResult:
    """What one Add (a drop, the file dialog, the import folder) did."""

    added: list[Photo] = field(default_factory=list)
    already: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """`3 photos added; 1 was already stored` and, a line each, what was refused."""
        parts = []
        if self.added:
            parts.append(f"{photos_text(len(self.added))} added")
        if self.already:
            parts.append(f"{self.already} {'was' if self.already == 1 else 'were'} already "
                         "stored")
        if self.failed:
            parts.append(f"{len(self.failed)} could not be added")
        text = "; ".join(parts) or "No photo was added"
        return text[:1].upper() + text[1:] + "".join(f"\n• {line}" for line in self.failed)


def photo_tooltip(photo: Photo) -> str:
    """`Front — added 20 Nov 2026 11:00 by Jane Smith, from a file; taken 20 Nov 2026 …`."""
    text = (f"{view_text(photo.view, photo.label)} — added {moment_text(photo.added_at)} by "
            f"{photo.added_by}, {SOURCE_TEXT.get(photo.source, '')}")
    if photo.taken_at is not None:
        text += f"; taken {moment_text(photo.taken_at)}"
    return text + f"\n{photo.width} × {photo.height} pixels"


def removed_lines(photos: Iterable[Photo]) -> list[str]:
    """The session's photo history: who removed which photo, when and why."""
    return [f"{view_text(p.view, p.label)} (added {moment_text(p.added_at)} by {p.added_by}) "
            f"— removed {moment_text(p.removed_at)} by {p.removed_by}: {p.removed_reason}"
            for p in photos if p.removed]


def slot_icon(text: str, side: int = ICON_SIDE) -> QIcon:
    """An empty place for a view: a dashed frame."""
    pixmap = QPixmap(side, side)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    pen = QPen(QColor("#8a8a8a"))
    pen.setStyle(Qt.PenStyle.DashLine)
    pen.setWidth(2)
    painter.setPen(pen)
    painter.drawRoundedRect(3, 3, side - 6, side - 6, 8, 8)
    font = painter.font()
    font.setPointSize(max(font.pointSize(), 9) * (3 if text == "+" else 1))
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)


def square_icon(pixmap: QPixmap, side: int = ICON_SIDE) -> QIcon:
    """The thumbnail fitted into the grid's square (grey bars, so the rows line up)."""
    canvas = QPixmap(side, side)
    canvas.fill(QColor("#e6e6e6"))
    scaled = pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    painter = QPainter(canvas)
    painter.drawPixmap((side - scaled.width()) // 2, (side - scaled.height()) // 2, scaled)
    painter.end()
    icon = QIcon(canvas)
    icon.addPixmap(canvas, QIcon.Mode.Selected)   # the photo itself, not tinted, when chosen
    return icon


# --- the grid --------------------------------------------------------------------------------

#: An item's role: ("photo", photo id) or ("slot", view).
ITEM_ROLE = Qt.ItemDataRole.UserRole
#: A photo's item: True once it shows the thumbnail (not the "…" it starts with).
THUMB_ROLE = Qt.ItemDataRole.UserRole + 2


class PhotoGrid(QListWidget):
    """The thumbnails. Files dropped on a photo or an empty place take its view; dropped
    elsewhere, the panel chooses. Enter opens, Delete removes, F2 changes the view, the menu
    key (or a right click) offers all three."""

    files_dropped = Signal(list, object)   # paths, PhotoView | None
    open_requested = Signal()
    remove_requested = Signal()
    view_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.setGridSize(QSize(ICON_SIDE + 36, ICON_SIDE + 48))
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMinimumHeight(ICON_SIDE + 72)
        self.setAccessibleName("Photos of the session")
        self.itemDoubleClicked.connect(lambda _item: self.open_requested.emit())

    def view_at(self, item: QListWidgetItem | None) -> PhotoView | None:
        if item is None:
            return None
        kind, value = item.data(ITEM_ROLE)
        return PhotoView(value) if kind == "slot" else PhotoView(item.data(ITEM_ROLE + 1))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            item = self.itemAt(event.position().toPoint())
            if item is not None:
                self.setCurrentItem(item)   # shows which view the photo will take
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        paths = local_files(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(paths, self.view_at(self.itemAt(event.position().toPoint())))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()   # kept from the dialog: Enter must not save it
        elif key == Qt.Key.Key_Delete:
            self.remove_requested.emit()
        elif key == Qt.Key.Key_F2:
            self.view_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


# --- the panel -------------------------------------------------------------------------------


class PhotosPanel(QWidget):
    """The photos of one session. `by()` names who adds or removes (the audit trail);
    `ensure_saved()` (the session editor's) saves a new session's draft before its first
    photo, returning False when it could not."""

    #: After every photo added, given its view or removed (the card's counts follow).
    changed = Signal()

    def __init__(self, repo, settings: ClinicSettings, client: Client, session_id: str, *,
                 by: Callable[[], str] | str = "", state: QSettings | None = None,
                 ensure_saved: Callable[[], bool] | None = None,
                 today: Callable[[], date] = date.today, parent: QWidget | None = None):
        super().__init__(parent)
        self.repo, self.settings, self.client = repo, settings, client
        self.session_id = session_id
        self._by = by if callable(by) else (lambda: by)
        self.state = state if state is not None else window_state(parent, None)
        self.ensure_saved = ensure_saved
        self.today = today
        self.photos: list[Photo] = []
        self.removed: list[Photo] = []
        self._icons: dict[str, QIcon] = {}       # sha256 -> the thumbnail's icon
        self._loading: set[str] = set()
        _ = repo.photo_store   # made here, on the UI thread, before any worker reads it
        self._build()
        self.refresh()

    # --- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        consent_row = QHBoxLayout()
        self.consent_label = QLabel()
        self.consent_label.setWordWrap(True)
        self.consent_label.setStyleSheet("color:#b3261e; font-weight:600")
        self.sign_consent_button = QPushButton("Sign photo consent…")
        self.sign_consent_button.setToolTip("The client reads and signs the photo consent now")
        self.sign_consent_button.clicked.connect(self.sign_photo_consent)
        consent_row.addWidget(self.consent_label, 1)
        consent_row.addWidget(self.sign_consent_button, 0, Qt.AlignmentFlag.AlignTop)
        self.consent_box = QWidget()
        self.consent_box.setLayout(consent_row)
        consent_row.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.consent_box)

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#555")
        layout.addWidget(self.hint)

        self.grid = PhotoGrid()
        self.grid.files_dropped.connect(self.add_files)
        self.grid.open_requested.connect(self.open_current)
        self.grid.remove_requested.connect(self.remove_current)
        self.grid.view_requested.connect(self.change_view_of_current)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.grid, 1)

        self.message = FieldMessage()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.message)
        self.history_label = QLabel()
        self.history_label.setStyleSheet("color:#555")
        layout.addWidget(self.history_label)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add photos…")
        self.add_button.setToolTip(f"Choose photo files to add to this session ({ADD_KEY}); "
                                   "or drag them onto the photos")
        self.inbox_button = QPushButton("Import folder…")
        self.inbox_button.setToolTip("Photos waiting in this PC's import folder (where a "
                                     f"tablet or camera saves them) ({INBOX_KEY})")
        self.take_button = QPushButton("Take photo…")
        self.take_button.setToolTip("Take the chosen view's photo with a webcam or document "
                                    f"camera, the previous one shown over it ({TAKE_KEY})")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show the chosen photo large (Enter)")
        self.view_button = QPushButton("View…")
        self.view_button.setToolTip(f"Change the chosen photo's view ({VIEW_KEY})")
        self.remove_button = QPushButton("Remove photo…")
        self.remove_button.setToolTip("Remove the chosen photo, saying why (Delete); who "
                                      "removed it, when and why is kept")
        # two short rows: the panel fits the session editor's narrower column
        for button in (self.add_button, self.inbox_button, self.take_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        chosen = QHBoxLayout()
        for button in (self.open_button, self.view_button, self.remove_button):
            chosen.addWidget(button)
        chosen.addStretch(1)
        layout.addLayout(buttons)
        layout.addLayout(chosen)
        self.add_button.clicked.connect(lambda: self.choose_and_add())
        self.inbox_button.clicked.connect(self.show_inbox)
        self.take_button.clicked.connect(lambda: self.take_photo())
        self.open_button.clicked.connect(self.open_current)
        self.view_button.clicked.connect(self.change_view_of_current)
        self.remove_button.clicked.connect(self.remove_current)
        for key, slot in ((ADD_KEY, self.choose_and_add), (INBOX_KEY, self.show_inbox),
                          (TAKE_KEY, self.take_photo)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        self.setAcceptDrops(True)

    def tab_chain(self) -> list[QWidget]:
        """The panel's widgets in the order Tab visits them."""
        return [self.sign_consent_button, self.grid, self.add_button, self.inbox_button,
                self.take_button, self.open_button, self.view_button, self.remove_button]

    # --- what is shown ---------------------------------------------------------------------

    def by(self) -> str:
        return self._by().strip() or "unknown"

    def consent_refusal(self) -> str | None:
        """Why photos cannot be added today (no photo consent allowing the record)."""
        return use_refusal(self.repo.consents(self.client.id), self.today())

    def session_stored(self) -> bool:
        try:
            self.repo.get_session(self.session_id)
        except NotFoundError:
            return False
        return True

    def refresh(self) -> None:
        """Read the session's photos again and show them, the views still missing after."""
        every = self.repo.photos(session_id=self.session_id, removed=True)
        self.photos = [p for p in every if not p.removed]
        self.removed = [p for p in every if p.removed]
        refusal = self.consent_refusal()
        self.consent_label.setText(refusal or "")
        self.consent_box.setVisible(refusal is not None)
        stored = self.session_stored()
        if not stored:
            self.hint.setText("A new session: it is saved as a draft when its first photo is "
                              "added." if self.ensure_saved is not None
                              else "Save the session to add photos.")
        else:
            self.hint.setText(f"Drop photo files onto a view, or press {ADD_KEY}. "
                              "Enter opens the chosen photo, Delete removes it.")
        self.hint.setVisible(bool(self.hint.text()))
        self._fill_grid()
        lines = removed_lines(self.removed)
        self.history_label.setText(f"{photos_text(len(lines))} removed (point here for who, "
                                   "when and why)" if lines else "")
        self.history_label.setToolTip("\n".join(lines))
        self.history_label.setVisible(bool(lines))
        usable = refusal is None and (stored or self.ensure_saved is not None)
        for button in (self.add_button, self.inbox_button, self.take_button):
            button.setEnabled(usable)
        self._update_buttons()

    def _fill_grid(self) -> None:
        current = self.current_key()
        self.grid.clear()
        order = list(PhotoView)
        wanted = wanted_views(self.settings)
        have = {p.view for p in self.photos}
        entries: list[tuple[int, int, object]] = []
        for i, photo in enumerate(self.photos):
            entries.append((order.index(photo.view), i, photo))
        for view in wanted:
            if view not in have:
                entries.append((order.index(view), 10_000, view))
        for _rank, _i, entry in sorted(entries, key=lambda e: (e[0], e[1])):
            if isinstance(entry, Photo):
                item = QListWidgetItem(view_text(entry.view, entry.label))
                item.setData(ITEM_ROLE, ("photo", entry.id))
                item.setData(ITEM_ROLE + 1, str(entry.view))
                item.setToolTip(photo_tooltip(entry))
                item.setIcon(self._icons.get(entry.sha256) or slot_icon("…"))
                item.setData(THUMB_ROLE, entry.sha256 in self._icons)
                self.grid.addItem(item)
                self._load_thumbnail(entry)
                continue
            else:
                view = PhotoView(entry)   # type: ignore[arg-type]
                item = QListWidgetItem(f"{VIEW_TEXT[view]} — drop a photo here")
                item.setData(ITEM_ROLE, ("slot", str(view)))
                item.setData(ITEM_ROLE + 1, str(view))
                item.setToolTip(f"No {VIEW_TEXT[view]} photo yet: drop a file here, or press "
                                "Enter to choose one")
                item.setIcon(slot_icon("+"))
            self.grid.addItem(item)
        self._select_key(current)

    def _load_thumbnail(self, photo: Photo) -> None:
        """Made (or read from the cache) on a worker thread; the icon follows."""
        if photo.sha256 in self._icons or photo.sha256 in self._loading:
            return
        self._loading.add(photo.sha256)
        repo = self.repo

        def done(data: bytes, sha: str = photo.sha256) -> None:
            self._loading.discard(sha)
            pixmap = QPixmap()
            if pixmap.loadFromData(data):
                self._icons[sha] = square_icon(pixmap)
                self._show_icon(sha)

        def failed(_exc: Exception, sha: str = photo.sha256) -> None:
            self._loading.discard(sha)
            self._icons[sha] = slot_icon("cannot show")
            self._show_icon(sha)

        Tasks.run(lambda: repo.thumbnail(photo), done, failed, owner=self)

    def _show_icon(self, sha: str) -> None:
        by_id = {p.id: p for p in self.photos}
        for row in range(self.grid.count()):
            item = self.grid.item(row)
            kind, value = item.data(ITEM_ROLE)
            if kind == "photo" and value in by_id and by_id[value].sha256 == sha:
                item.setIcon(self._icons[sha])
                item.setData(THUMB_ROLE, True)

    def thumbnails_shown(self) -> int:
        """How many photos in the grid show their thumbnail (tests, the screenshot)."""
        return sum(1 for row in range(self.grid.count())
                   if self.grid.item(row).data(THUMB_ROLE) is True)

    # --- the chosen item -----------------------------------------------------------------

    def current_key(self) -> tuple[str, str] | None:
        item = self.grid.currentItem()
        if item is None:
            return None
        kind, value = item.data(ITEM_ROLE)
        return str(kind), str(value)

    def _select_key(self, key: tuple[str, str] | None) -> None:
        for row in range(self.grid.count()):
            if key is not None and tuple(self.grid.item(row).data(ITEM_ROLE)) == key:
                self.grid.setCurrentRow(row)
                return
        if self.grid.count():
            self.grid.setCurrentRow(0)

    def select_photo(self, photo_id: str) -> None:
        self._select_key(("photo", photo_id))

    def current_photo(self) -> Photo | None:
        key = self.current_key()
        if key is None or key[0] != "photo":
            return None
        return next((p for p in self.photos if p.id == key[1]), None)

    def _update_buttons(self) -> None:
        chosen = self.current_photo() is not None
        for button in (self.open_button, self.view_button, self.remove_button):
            button.setEnabled(chosen)

    def _context_menu(self, pos) -> None:
        item = self.grid.itemAt(pos) or self.grid.currentItem()
        if item is None:
            return
        self.grid.setCurrentItem(item)
        menu = self.photo_menu()
        menu.exec(self.grid.viewport().mapToGlobal(self.grid.visualItemRect(item).center()))
        menu.deleteLater()

    def photo_menu(self) -> QMenu:
        """Open, each view, Remove photo… for the chosen photo; Add photos… for a view."""
        menu = QMenu(self)
        photo = self.current_photo()
        if photo is None:
            key = self.current_key()
            if key is not None:
                view = PhotoView(key[1])
                menu.addAction(f"Add a {VIEW_TEXT[view]} photo…",
                               lambda: self.choose_and_add(view))
            return menu
        menu.addAction("Open\tEnter", self.open_current)
        views = menu.addMenu("View")
        for view in PhotoView:
            act = views.addAction(VIEW_TEXT[view] + ("…" if view == PhotoView.CLOSE_UP else ""))
            act.triggered.connect(partial(self.change_view, photo.id, view))
            act.setCheckable(True)
            act.setChecked(view == photo.view)
        menu.addSeparator()
        menu.addAction("Remove photo…\tDelete", self.remove_current)
        return menu

    # --- getting photos in ---------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        paths = local_files(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_files(paths, None)

    def choose_and_add(self, view: PhotoView | None = None) -> AddResult | None:
        """Add photos…: the file dialog (many at once); an empty place chosen gives its view."""
        if not self.add_button.isEnabled():
            self.refresh()
            refusal = self.consent_refusal()
            self.message.show_error(refusal or "Save the session to add photos.")
            return None
        if view is None:
            key = self.current_key()
            view = PhotoView(key[1]) if key is not None and key[0] == "slot" else None
        folder = str(self.state.value(LAST_FOLDER_KEY, "") or "") if self.state else ""
        paths = self.choose_files(self, folder if folder and Path(folder).is_dir() else "")
        if not paths:
            return None
        if self.state is not None:
            self.state.setValue(LAST_FOLDER_KEY, str(Path(paths[0]).parent))
        return self.add_files(paths, view)

    def next_view(self, taken: Iterable[PhotoView]) -> PhotoView:
        """The view a photo without one takes: the first of the clinic's views not taken
        yet, else a close-up (its view can be changed after)."""
        have = set(taken)
        return next((v for v in wanted_views(self.settings) if v not in have),
                    PhotoView.CLOSE_UP)

    def add_files(self, paths: Sequence[str], view: PhotoView | None = None,
                  source: PhotoSource = PhotoSource.FILE, label: str = "") -> AddResult:
        """Take in the files (each through `repo.add_photo`), with `view`, or else each the
        next view missing; progress for several; the summary shown under the photos."""
        result = AddResult()
        paths = [str(p) for p in paths]
        if not paths:
            return result
        refusal = self.consent_refusal()
        if refusal is not None:
            self.refresh()
            self.message.show_error(f"No photo was added. {refusal}")
            return result
        if not self.session_stored() and (self.ensure_saved is None
                                          or not self.ensure_saved()):
            self.message.show_error("No photo was added: save the session first (its "
                                    "form shows what it still needs).")
            return result
        progress = self._progress(len(paths))
        taken = [p.view for p in self.photos]
        try:
            for i, path in enumerate(paths):
                name = Path(path).name
                if progress is not None:
                    progress.setLabelText(f"Adding photo {i + 1} of {len(paths)}: {name}")
                    progress.setValue(i)
                    if progress.wasCanceled():
                        result.failed.append(f"{len(paths) - i} not added: stopped")
                        break
                chosen = view if view is not None else self.next_view(taken)
                outcome = self._add_one(path, chosen, source, label)
                if isinstance(outcome, str):
                    result.failed.append(f"{name}: {outcome}")
                elif outcome.added:
                    result.added.append(outcome.photo)
                    taken.append(outcome.photo.view)
                else:
                    result.already += 1
        finally:
            if progress is not None:
                progress.setValue(len(paths))
                progress.deleteLater()
        self.refresh()
        if result.added:
            self.select_photo(result.added[-1].id)
            self.changed.emit()
        show = self.message.show_error if result.failed else self.message.show_warning \
            if not result.added else self._show_done
        show(result.summary())
        return result

    def _show_done(self, text: str) -> None:
        self.message._show(text, "color:#1b5e20", "done")

    def _add_one(self, path: str, view: PhotoView, source: PhotoSource, label: str):
        """The PhotoAdded, or why the file was not taken in (a plain sentence)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return f"the file could not be read ({exc.strerror or exc})"
        try:
            return self.repo.add_photo(self.session_id, data, view=view, by=self.by(),
                                       label=label if view == PhotoView.CLOSE_UP else "",
                                       source=source, name=Path(path).name)
        except ValidationError as exc:
            return _plain(exc)
        except NeedleDeskError as exc:
            return str(exc)
        except (OSError, sqlite3.Error) as exc:
            return f"it could not be stored ({exc})"

    def _progress(self, count: int) -> QProgressDialog | None:
        if count < 2:
            return None
        dialog = QProgressDialog("Adding photos…", "Stop", 0, count, self)
        dialog.setWindowTitle("Adding photos")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        return dialog

    def take_photo(self, view: PhotoView | None = None):
        """Take photo…: the camera (ui/camera_dialog.py) for `view`, else the chosen place's
        view, else the next one missing; the PhotoAdded, or None."""
        from needledesk.ui.camera_dialog import capture_photo

        if not self.take_button.isEnabled():
            self.choose_and_add()   # says why not
            return None
        if not self.session_stored() and (self.ensure_saved is None or
                                          not self.ensure_saved()):
            return None
        photo = self.current_photo()
        key = self.current_key()
        label = ""
        if view is None and photo is not None:
            view, label = photo.view, photo.label
        elif view is None and key is not None and key[0] == "slot":
            view = PhotoView(key[1])
        view = view or self.next_view(p.view for p in self.photos)
        added = capture_photo(self.repo, self.session_id, view, self, by=self._by,
                              label=label, state=self.state)
        self.refresh()
        if added is not None:
            self.select_photo(added.photo.id)
            if added.added:
                self.changed.emit()
                self._show_done(f"Photo taken: {view_text(view, label)}.")
            else:
                self.message.show_warning("This picture is already stored for the client.")
        return added

    def show_inbox(self) -> None:
        """The import folder's photos not taken in yet, to assign to this session's views."""
        from needledesk.ui.photo_inbox import PhotoInboxDialog

        if not self.add_button.isEnabled():
            self.choose_and_add()   # says why not
            return
        if not self.session_stored() and (self.ensure_saved is None or
                                          not self.ensure_saved()):
            return
        dialog = PhotoInboxDialog(self.repo, self.client, self.session_id, by=self._by,
                                  state=self.state, settings=self.settings,
                                  taken=[p.view for p in self.photos], parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.inbox = dialog
        dialog.open()

    def sign_photo_consent(self) -> None:
        """The photo consent, signed now (the consents dialog's own form)."""
        from needledesk.domain.model import ConsentKind
        from needledesk.ui.consents_list import ConsentsDialog

        dialog = ConsentsDialog(self.repo, self.client, self.settings, by=self.by(),
                                parent=self, state=self.state)
        try:
            dialog.sign(ConsentKind.PHOTO)
        finally:
            dialog.deleteLater()
        self.refresh()

    # --- views, opening, removing --------------------------------------------------------

    def change_view_of_current(self) -> None:
        """F2: choose the chosen photo's view from a list."""
        photo = self.current_photo()
        if photo is None:
            return
        names = [VIEW_TEXT[v] for v in PhotoView]
        chosen = self.ask_view(self, names, list(PhotoView).index(photo.view))
        if chosen is None:
            return
        self.change_view(photo.id, list(PhotoView)[names.index(chosen)])

    def change_view(self, photo_id: str, view: PhotoView) -> Photo | None:
        """Give the photo `view` (a close-up asks for its label)."""
        photo = next((p for p in self.photos if p.id == photo_id), None)
        if photo is None:
            return None
        label = ""
        if view == PhotoView.CLOSE_UP:
            asked = self.ask_label(self, photo.label)
            if asked is None:
                return None
            label = asked
        try:
            changed = self.repo.assign_view(photo_id, view, by=self.by(), label=label)
        except NeedleDeskError as exc:
            self.message.show_error(f"The view was not changed: {_plain(exc)}")
            return None
        self.refresh()
        self.select_photo(photo_id)
        self._show_done(f"Now {view_text(changed.view, changed.label)}.")
        self.changed.emit()
        return changed

    def open_current(self) -> None:
        """Enter: the chosen photo large; on an empty place, Add photos… for its view."""
        photo = self.current_photo()
        if photo is not None:
            self.open_photo(photo)
            return
        key = self.current_key()
        if key is not None and key[0] == "slot":
            self.choose_and_add(PhotoView(key[1]))

    def open_photo(self, photo: Photo) -> QDialog | None:
        try:
            data = self.repo.photo_bytes(photo)
        except (NeedleDeskError, OSError) as exc:
            self.message.show_error(f"This photo cannot be shown: {_plain(exc)}")
            return None
        viewer = PhotoViewer(data, self.photo_title(photo), state=self.state, parent=self)
        viewer.browse(self.shown_order(), photo, self._viewed)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewer = viewer
        viewer.open()
        return viewer

    def photo_title(self, photo: Photo) -> str:
        return (f"{view_text(photo.view, photo.label)} — {self.client.full_name} — "
                f"{day_text(photo.added_at.date())}")

    def shown_order(self) -> list[Photo]:
        """The photos in the order the grid shows them."""
        by_id = {p.id: p for p in self.photos}
        order = []
        for row in range(self.grid.count()):
            kind, value = self.grid.item(row).data(ITEM_ROLE)
            if kind == "photo" and value in by_id:
                order.append(by_id[value])
        return order

    def _viewed(self, photo: Photo) -> tuple[bytes, str] | None:
        """The viewer moved to `photo` (← →): its bytes and title; the grid follows."""
        try:
            data = self.repo.photo_bytes(photo)
        except (NeedleDeskError, OSError):
            return None
        self.select_photo(photo.id)
        return data, self.photo_title(photo)

    def remove_current(self) -> Photo | None:
        """Delete: remove the chosen photo by amendment, with a reason."""
        photo = self.current_photo()
        if photo is None:
            return None
        reason = self.ask_reason(self, view_text(photo.view, photo.label))
        if reason is None:
            return None
        try:
            gone = self.repo.remove_photo(photo.id, reason, by=self.by())
        except NeedleDeskError as exc:
            self.message.show_error(f"The photo was not removed: {_plain(exc)}")
            return None
        self.refresh()
        self._show_done(f"{view_text(photo.view, photo.label)} photo removed; the reason is "
                        "kept in the session's photo history.")
        self.changed.emit()
        return gone

    # --- questions; tests replace these ----------------------------------------------------

    @staticmethod
    def choose_files(parent: QWidget, folder: str) -> list[str]:
        paths, _filter = QFileDialog.getOpenFileNames(parent, "Add photos", folder,
                                                      FILE_FILTER)
        return list(paths)

    @staticmethod
    def ask_label(parent: QWidget, current: str) -> str | None:
        """A close-up's label ("left cheek scar"); None when cancelled."""
        text, ok = QInputDialog.getText(parent, "Close-up", "What does the close-up show? "
                                        "(for example \"left cheek scar\"; may stay empty)",
                                        QLineEdit.EchoMode.Normal, current)
        return text.strip()[:80] if ok else None

    @staticmethod
    def ask_view(parent: QWidget, names: list[str], current: int) -> str | None:
        name, ok = QInputDialog.getItem(parent, "View", "The photo's view:", names, current,
                                        False)
        return name if ok else None

    @staticmethod
    def ask_reason(parent: QWidget, what: str) -> str | None:
        return RemovePhotoDialog.ask(parent, what)


def _plain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(problem_text(p, kind="photo") if isinstance(p, Problem) else str(p)
                         for p in exc.problems)
    return str(exc)


class RemovePhotoDialog(QDialog):
    """Why a photo is removed: required (3 to 500 characters), kept with who and when."""

    def __init__(self, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Remove photo")
        layout = QVBoxLayout(self)
        prompt = QLabel(f"Remove the {escape(what)} photo from this session?\nIt leaves the "
                        "session, the comparisons, exports and backups made from now on; who "
                        "removed it, when and why are kept.\n\n&Reason:")
        prompt.setTextFormat(Qt.TextFormat.PlainText)
        prompt.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("for example: blurred, taken again")
        self.reason.setMaxLength(500)
        prompt.setBuddy(self.reason)
        self.problem = FieldMessage()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.remove_button = buttons.addButton("Remove photo",
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (prompt, self.reason, self.problem, buttons):
            layout.addWidget(widget)
        self.reason.textChanged.connect(lambda *_: self.problem.clear_message())
        self.setMinimumWidth(440)

    def accept(self) -> None:
        problems = reason_problems(self.reason.text())
        if problems:
            self.problem.show_error(problems[0].message)
            self.reason.setFocus()
            return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, what: str) -> str | None:
        dialog = cls(what, parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.reason.text().strip()
        finally:
            dialog.deleteLater()


class PhotoViewer(QDialog):
    """One photo, large, fitted to the window (Escape closes; its size is remembered);
    ← and → go to the session's previous and next photo (`browse`)."""

    GEOMETRY_KEY = "photos/viewer_geometry"

    def __init__(self, data: bytes, title: str, *, state: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.state = state
        self.pixmap = QPixmap()
        self.pixmap.loadFromData(data)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setAccessibleName(title)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.picture)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        restore_geometry(self, state, self.GEOMETRY_KEY, QSize(900, 720))
        self._photos: list[Photo] = []
        self._at = 0
        self._load: Callable[[Photo], tuple[bytes, str] | None] | None = None
        for key, step in ((Qt.Key.Key_Left, -1), (Qt.Key.Key_Right, 1)):
            QShortcut(QKeySequence(key), self).activated.connect(partial(self.step, step))

    def browse(self, photos: Sequence[Photo], shown: Photo,
               load: Callable[[Photo], tuple[bytes, str] | None]) -> None:
        """← → go through `photos` (the one shown among them), each read by `load`."""
        self._photos = list(photos)
        self._at = next((i for i, p in enumerate(self._photos) if p.id == shown.id), 0)
        self._load = load

    def step(self, by: int) -> Photo | None:
        """Show the photo `by` places on (none past either end)."""
        at = self._at + by
        if self._load is None or not 0 <= at < len(self._photos):
            return None
        loaded = self._load(self._photos[at])
        if loaded is None:
            return None
        data, title = loaded
        self._at = at
        self.pixmap = QPixmap()
        self.pixmap.loadFromData(data)
        self.setWindowTitle(title)
        self.picture.setAccessibleName(title)
        self._fit()
        return self._photos[at]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self.pixmap.isNull():
            size = self.picture.size()
            self.picture.setPixmap(self.pixmap.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))

    def done(self, result: int) -> None:
        remember_geometry(self, self.state, self.GEOMETRY_KEY)
        super().done(result)


class PhotosDialog(QDialog):
    """A session's photos on their own (from the client card's session list): for a
    signed session too, as photos are often copied off the tablet after sign-off."""

    GEOMETRY_KEY = "photos/dialog_geometry"

    def __init__(self, repo, settings: ClinicSettings, client: Client, session_id: str, *,
                 by: Callable[[], str] | str = "", state: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.state = window_state(parent, state)
        session = repo.get_session(session_id)
        self.setWindowTitle(f"Photos — {client.full_name} — session of "
                            f"{day_text(session.started_at.date())}")
        self.panel = PhotosPanel(repo, settings, client, session_id, by=by, state=self.state,
                                 parent=self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)
        restore_geometry(self, self.state, self.GEOMETRY_KEY, QSize(860, 560))
        self.panel.grid.setFocus()

    def done(self, result: int) -> None:
        remember_geometry(self, self.state, self.GEOMETRY_KEY)
        super().done(result)


def photo_windows(window: QWidget) -> list[QDialog]:
    """The photo windows open under `window` (closed when it locks): a session's photos, a
    photo opened large, the import folder."""
    kinds: tuple[type, ...] = (PhotosDialog, PhotoViewer)
    import sys

    inbox = sys.modules.get("needledesk.ui.photo_inbox")
    if inbox is not None:
        kinds += (inbox.PhotoInboxDialog,)
    return [w for w in window.findChildren(QDialog) if isinstance(w, kinds) and w.isVisible()]
