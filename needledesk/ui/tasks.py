"""Run slow work (PDFs, imports, backups) off the UI thread, with the result back on it.

One small helper for everything slow. Work that belongs to a widget names it as `owner`: if
the widget is closed and deleted before the work ends, its callbacks are never called (a
closed dialog is not touched), while `on_finish` (e.g. restoring the cursor) always runs.
Tests may make it synchronous (`Tasks.synchronous = True`) for flows that are not about
threads; the threaded path has tests of its own that run real threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the UI thread; queued signals carry the outcome back to it."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.owner_gone = False


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.work = work
        self.relay = relay

    @Slot()
    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # handed to the UI thread, shown as a message there
            log.exception("background task failed")
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)


class Tasks:
    synchronous = False
    _relays: set[_Relay] = set()

    @classmethod
    def run(cls, work: Callable[[], Any], on_done: Callable[[Any], object],
            on_error: Callable[[Exception], object], *, owner: QObject | None = None,
            on_finish: Callable[[], object] | None = None) -> None:
        """Call `work()` on a worker thread; then, on the UI thread, `on_finish()` and
        `on_done(result)` or `on_error(exc)`: the latter two only while `owner` (if given)
        still exists. `work` must not touch widgets."""
        if cls.synchronous:
            outcome: Callable[[Any], object]
            try:
                result = work()
            except Exception as exc:
                outcome, value = on_error, exc
            else:
                outcome, value = on_done, result
            if on_finish is not None:
                on_finish()
            outcome(value)
            return
        relay = _Relay()
        cls._relays.add(relay)  # kept alive until the job reports
        if owner is not None:
            owner.destroyed.connect(lambda *_: setattr(relay, "owner_gone", True))

        def finish(callback, value) -> None:
            cls._relays.discard(relay)
            if on_finish is not None:
                on_finish()
            if relay.owner_gone or (owner is not None and not shiboken6.isValid(owner)):
                log.info("background task finished after its window closed; result dropped")
                return
            callback(value)

        relay.done.connect(lambda value: finish(on_done, value))
        relay.failed.connect(lambda exc: finish(on_error, exc))
        QThreadPool.globalInstance().start(_Job(work, relay))

    @classmethod
    def pending(cls) -> int:
        """Jobs started and not yet reported back (tests, and quitting)."""
        return len(cls._relays)
