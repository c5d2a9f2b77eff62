"""The start-up's writer gate: the window paints from a read-only connection while SQLite's
whole-file check runs on a thread, and nothing is written until the check has passed.

- Finding and reading work at once (the read-only connection).
- Any write (a save, a new client, the settings) goes through `Repository._writing`; here it
  first waits for the check, with "Checking the records file…" in the status bar while it
  runs, then swaps the read-only connection for the writer.
- A check that fails never opens a writer: the write is refused (DamagedDatabaseError,
  nothing written) and `on_damaged(problem)` runs once, on the GUI thread, for the
  damaged-file flow.

No SQL here: the store opens the connections (`store.database`), the check is
`store.integrity.quick_check`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from needledesk.store.repository import Repository

CHECKING = "Checking the records file…"


class FileCheck(QObject):
    """A file check already running (`store.integrity.check_in_background`);
    `finished(problems)` is emitted on the GUI thread when it ends."""

    finished = Signal(list)

    def __init__(self, path: Path, future: Future, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.future = future
        future.add_done_callback(self._ended)

    def _ended(self, future: Future) -> None:
        with contextlib.suppress(RuntimeError):   # the object may be gone at shutdown
            self.finished.emit(future.result())

    def done(self) -> bool:
        return self.future.done()

    def wait(self) -> list[str]:
        return self.future.result()


class GatedRepository(Repository):
    """A Repository that reads from a read-only connection until the file check passes, and
    writes only after it: `_writing` (every write's transaction) waits for the check."""

    def __init__(self, db, check: FileCheck, path: Path):
        super().__init__(db)
        self._check = check
        self._file = Path(path)
        self._writer = False
        self._problems: list[str] | None = None
        #: Shows a line in the window's status bar ("" clears it), set once the window is.
        self.on_status: Callable[[str], None] | None = None
        self.on_damaged: Callable[[str], None] | None = None
        check.finished.connect(self._checked)
        if check.done():   # ended before the connection: settle on the next loop turn
            QTimer.singleShot(0, lambda: self._checked(check.wait()))

    @property
    def writable(self) -> bool:
        return self._writer

    @property
    def checking(self) -> bool:
        return self._problems is None and not self._check.done()

    def _checked(self, problems: list[str]) -> None:
        """The check ended (GUI thread): open the writer, or start the damaged-file flow."""
        if self._writer or self._problems is not None:
            return
        self._settle(problems)

    def _settle(self, problems: list[str]) -> None:
        from needledesk.store.database import DamagedDatabaseError, open_checked

        self._problems = problems
        if problems:
            self._say("")
            message = str(DamagedDatabaseError(self._file, problems))
            # The damaged-file flow runs on its own loop turn, never inside a write.
            QTimer.singleShot(0, lambda: self.on_damaged and self.on_damaged(message))
            return
        reading = self.db
        self.db = open_checked(self._file, checked=problems)
        from needledesk.store.audit import AuditLog

        self.audit = AuditLog(self.db)
        self._writer = True
        reading.close()
        self._say("")

    def _say(self, text: str) -> None:
        if self.on_status is not None:
            with contextlib.suppress(RuntimeError):
                self.on_status(text)

    def wait_for_check(self) -> None:
        """Block until the check has ended and the writer is open; raises
        DamagedDatabaseError (nothing written) when the file is damaged."""
        from needledesk.store.database import DamagedDatabaseError

        if not self._writer:
            if self._problems is None:
                if not self._check.done():
                    self._say(CHECKING)
                    app = QApplication.instance()
                    if app is not None:
                        app.processEvents()   # let the status line paint
                self._settle(self._check.wait())
            if self._problems:
                raise DamagedDatabaseError(self._file, self._problems)

    @contextlib.contextmanager
    def _writing(self):
        self.wait_for_check()
        with super()._writing():
            yield

    def reader(self) -> Repository:
        """Before the check has passed, a second read-only connection (no writer opens)."""
        if self._writer:
            return super().reader()
        from needledesk.store.database import open_readonly

        return Repository(open_readonly(self._file), clock=self.clock)
