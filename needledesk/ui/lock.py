"""The app lock on screen: a lock page that hides client data, and an idle watcher."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from needledesk.ui.forms import FieldMessage

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel, QEvent.Type.TouchBegin,
             # a pen signing a consent (the pad takes them: no mouse events are made)
             QEvent.Type.TabletPress, QEvent.Type.TabletMove}


class LockScreen(QWidget):
    """Shown instead of the records until the password or PIN is given."""

    unlocked = Signal()

    def __init__(self, verify: Callable[[str], bool], parent: QWidget | None = None):
        super().__init__(parent)
        self.verify = verify
        self.failures = 0
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("NeedleDesk is locked")
        title.setStyleSheet("font-size: 20pt; font-weight: 600;")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        hint = QLabel("Client records are hidden. Enter the clinic's password or PIN.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("Password or PIN")
        self.secret.setMaximumWidth(320)
        self.unlock_button = QPushButton("&Unlock")
        self.message = FieldMessage()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.secret, self.unlock_button, self.message):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.secret.returnPressed.connect(self.try_unlock)
        self.unlock_button.clicked.connect(self.try_unlock)
        self._wait = QTimer(self)
        self._wait.setSingleShot(True)
        self._wait.timeout.connect(self._ready)

    def reset(self) -> None:
        self.secret.clear()
        self.message.clear_message()
        self.secret.setFocus()

    def try_unlock(self) -> bool:
        if self._wait.isActive():
            return False
        if self.verify(self.secret.text()):
            self.failures = 0
            self.secret.clear()
            self.unlocked.emit()
            return True
        self.failures += 1
        self.secret.clear()
        from needledesk.security import wait_after

        wait = wait_after(self.failures)
        if wait:
            self.secret.setEnabled(False)
            self.unlock_button.setEnabled(False)
            self.message.show_error(f"Wrong password or PIN. Try again in {wait} s.")
            self._wait.start(wait * 1000)
        else:
            self.message.show_error("Wrong password or PIN.")
        return False

    def _ready(self) -> None:
        self.secret.setEnabled(True)
        self.unlock_button.setEnabled(True)
        self.message.show_error("Wrong password or PIN. You can try again.")
        self.secret.setFocus()


class IdleWatcher(QObject):
    """Emits `idle` after a stretch with no key press, click or mouse movement."""

    idle = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle.emit)
        self.set_interval_ms(minutes * 60_000)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_interval_ms(self, ms: int) -> None:
        self.timer.setInterval(ms)
        self.timer.start()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() in _ACTIVITY:
            self.timer.start()
        return False

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
