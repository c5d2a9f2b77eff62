"""When the clinic server is away: the editor's banner and retry, and recovery drafts.

A save that finds the server away (`Repository.server_away`) is not an error to dismiss:
the editor shows a plain banner, keeps every entry, and `AwayRetry` tries again every few
seconds (connect again, then the same save through the normal path: validation, the
version check and the audit trail as ever). When it goes through, the banner goes and the
editor shows its usual saved state. If the editor or the window is closed meanwhile, the
session is kept as a recovery draft on this PC (`needledesk.recovery`); the next start on
the same store offers it (`offer_recovery`): Save it now (the editor opens on it and saves
it), Keep for later, or Discard (asked to confirm).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from needledesk.errors import NeedleDeskError

BANNER_TEXT = ("The clinic server can't be reached. Your entries are kept here and will be "
               "saved when it is back.")
#: What the main window's status bar says while an editor waits for the server.
STATUS_AWAY = "Clinic server away — retrying"
STATUS_BACK = "The clinic server is back."
STATUS_KEPT = "The clinic server is still away: the session is kept on this PC to save later."


def away_banner() -> QLabel:
    """The editor's banner, hidden until a save finds the server away."""
    banner = QLabel(BANNER_TEXT)
    banner.setObjectName("server-away-banner")
    banner.setWordWrap(True)
    banner.setStyleSheet("background: #fdecea; color: #5f2120; padding: 6px; "
                         "font-weight: 600;")
    banner.hide()
    return banner


class AwayRetry(QObject):
    """Retries one save while the server is away. `changed("away")` when it starts
    waiting, `changed("back")` when the server answered and the save ran (saved, or refused
    for another reason, which the editor says itself), `changed("kept")` when the editor
    closed meanwhile and kept a recovery draft."""

    changed = Signal(str)
    INTERVAL_MS = 5000

    def __init__(self, repo: Any, banner: QLabel, parent: QObject | None = None):
        super().__init__(parent)
        self.repo = repo
        self.banner = banner
        self._retry: Callable[[], object] | None = None
        self._probing = False
        self.timer = QTimer(self)
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self._tick)

    @property
    def waiting(self) -> bool:
        """True while a save is waiting for the server."""
        return self._retry is not None

    def start(self, retry: Callable[[], object]) -> None:
        """The server was away for a save: show the banner and retry `retry` (the same
        save through the editor's normal path) every few seconds."""
        first = self._retry is None
        self._retry = retry
        self.banner.show()
        if not self.timer.isActive():
            self.timer.start()
        if first:
            self.changed.emit("away")

    def _tick(self) -> None:
        """Every few seconds: whether the server answers is asked on a worker, with a
        connection of its own (a server gone quiet on the network would otherwise hold the
        window for the whole connect timeout); once it answers, `try_again` here."""
        if self._probing or self._retry is None:
            return
        from needledesk.ui.tasks import Tasks

        repo = self.repo

        def probe() -> bool:
            repo.reader().db.close()
            return True

        def finished() -> None:
            self._probing = False

        self._probing = True
        Tasks.run(probe, lambda _ok: self.try_again(), lambda _exc: None, owner=self,
                  on_finish=finished)

    def try_again(self) -> bool:
        """One retry: when the server answers again, the save runs; True once it is no
        longer waiting."""
        retry = self._retry
        if retry is None:
            self.timer.stop()
            return True
        try:
            if not self.repo.server_reachable():
                return False
        except NeedleDeskError:
            return False
        self._retry = None
        retry()   # away again: it calls `start` once more and the banner stays
        if self._retry is None:
            self._finish()
        return self._retry is None

    def stop(self) -> None:
        """No longer waiting (the editor is closing and keeps a recovery draft)."""
        was = self._retry is not None
        self._retry = None
        self.timer.stop()
        self.banner.hide()
        if was:
            self.changed.emit("kept")

    def _finish(self) -> None:
        self.timer.stop()
        self.banner.hide()
        self.changed.emit("back")


# --- recovery drafts at the next start ------------------------------------------------------

SAVE, KEEP, DISCARD = "save", "keep", "discard"


def recovery_text(repo: Any, draft: Any) -> str:
    """What the offer says: whose session, when it was kept, and whether the session was
    changed elsewhere since (the version check's wording)."""
    from needledesk.domain.text import moment_text

    try:
        client = repo.get_client(draft.client_id).full_name
    except NeedleDeskError:
        client = "a client no longer in the records"
    when = str(draft.session.get("started_at") or "")
    try:
        from datetime import datetime

        when = moment_text(datetime.fromisoformat(when))
    except ValueError:
        pass
    what = "An amendment" if draft.pending == "amend" else "A session"
    by = f" by {draft.practitioner}" if draft.practitioner else ""
    text = (f"{what} for {client} ({when}){by} could not be saved before NeedleDesk was "
            f"closed on {moment_text(draft.kept_at)}: the clinic server could not be reached. "
            "It is kept on this PC only.")
    conflict = changed_since(repo, draft)
    if conflict:
        text += f"\n\n{conflict}"
    return text + ("\n\nSave it now opens it in the session editor, where it is checked and "
                   "saved as any session is.")


def changed_since(repo: Any, draft: Any) -> str:
    """The version check's words when the session was saved elsewhere after the draft's
    version; empty when it was not."""
    from needledesk.errors import ChangedElsewhereError

    now = repo.record_version("session", draft.session_id)
    seq = now.seq if now is not None else 0
    if draft.version is None or seq == draft.version:
        return ""
    place = "in another room" if repo.on_server else "in another window"
    error = ChangedElsewhereError("session", draft.session_id, now.who if now else "",
                                  now.at if now else None, place=place)
    return str(error).split(" Your entries", 1)[0].replace("after you opened it",
                                                           "after this draft was made")


class RecoveryOffer:
    """The questions asked at start; tests replace them."""

    @staticmethod
    def ask(parent: QWidget | None, text: str) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved session kept on this PC", text,
                          parent=parent)
        save = box.addButton("Save it now", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep for later", QMessageBox.ButtonRole.RejectRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(save)
        box.exec()
        clicked = box.clickedButton()
        return {id(save): SAVE, id(discard): DISCARD, id(keep): KEEP}.get(id(clicked), KEEP)

    @staticmethod
    def confirm_discard(parent: QWidget | None) -> bool:
        answer = QMessageBox.question(
            parent, "Discard the unsaved session?",
            "The session's entries kept on this PC will be deleted and cannot be brought "
            "back. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard


def offer_recovery(window: Any, *, base: Path | None = None, waits: int = 120) -> list[str]:
    """Offer each recovery draft kept for the window's store, one at a time (the next once
    the editor opened for one is closed). Returns the choices made (tests look)."""
    from needledesk import recovery

    if not getattr(window, "attached", False):   # the file's first paint: once it is loaded
        if waits > 0:   # (a file that never loads: given up after a minute)
            QTimer.singleShot(500, window,
                              lambda: offer_recovery(window, base=base, waits=waits - 1))
        return []
    choices: list[str] = []
    skipped: set[Path] = set()

    def next_draft() -> None:
        try:
            pending = [d for d in recovery.drafts(window.repo.path, base=base)
                       if d.path not in skipped]
        except OSError:
            return
        if not pending:
            return
        draft = pending[0]
        skipped.add(draft.path)
        try:
            text = recovery_text(window.repo, draft)
        except NeedleDeskError:   # the server went away again: offered at the next start
            return
        choice = RecoveryOffer.ask(window, text)
        choices.append(choice)
        if choice == DISCARD and RecoveryOffer.confirm_discard(window):
            recovery.discard(draft)
        if choice == SAVE:
            editor = open_recovered(window, draft)
            if editor is not None:
                editor.finished.connect(lambda *_: QTimer.singleShot(0, window, next_draft))
                return
        next_draft()

    next_draft()
    return choices


def open_recovered(window: Any, draft: Any) -> Any:
    """The session editor on a recovery draft, its entries filled in and saved at once
    through the normal path; the draft is deleted once saved (kept when refused)."""
    from needledesk import recovery
    from needledesk.errors import NotFoundError
    from needledesk.exchange import encode_session
    from needledesk.ui.session_editor import SessionEditor

    repo = window.repo
    try:
        session = draft.decoded()
        client = repo.get_client(draft.client_id)
    except NeedleDeskError as exc:
        QMessageBox.warning(window, "The unsaved session cannot be opened", str(exc))
        return None
    try:
        stored = repo.get_session(session.id)
    except NotFoundError:
        stored = None
    window._select_client(client.id)
    if stored is not None and encode_session(stored) == encode_session(session):
        recovery.discard(draft)   # it reached the records after all: nothing to save
        return window.open_session(session.id)
    editor = SessionEditor(repo, window.settings, client, stored or session,
                           user=draft.practitioner or window._user(), parent=window)
    editor.restore_entries(session, draft.version, stored)
    editor.saved.connect(lambda *_: recovery.discard(draft))
    window._open_editor(editor)
    editor.save()
    return editor
