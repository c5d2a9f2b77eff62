"""Run slow work (PDFs, imports, backups) off the UI thread, with the result back on it.

One small helper for everything slow, so tests can make it synchronous (`Tasks.synchronous
= True`) and the window never touches widgets from a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the UI thread; queued signals carry the outcome back to it."""

    done = Signal(object)
    failed = Signal(object)


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
    def run(cls, work: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[Exception], None]) -> None:
        """Call `work()` on a worker thread; then `on_done(result)` or `on_error(exc)` on
        the UI thread. `work` must not touch widgets."""
        if cls.synchronous:
            try:
                result = work()
            except Exception as exc:
                on_error(exc)
            else:
                on_done(result)
            return
        relay = _Relay()
        cls._relays.add(relay)  # kept alive until the job reports

        def finish(callback, value):
            cls._relays.discard(relay)
            callback(value)

        relay.done.connect(lambda value: finish(on_done, value))
        relay.failed.connect(lambda exc: finish(on_error, exc))
        QThreadPool.globalInstance().start(_Job(work, relay))
