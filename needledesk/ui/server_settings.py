"""The clinic server in the window: Settings › Clinic server, the password asked at start,
and what to do when the server cannot be reached at start.

Which store this PC uses is kept per PC in QSettings (`clinic_server/...`): the file on
this PC (the default) or the clinic server at host, port, database and user, checked
against the clinic's certificate. The password is never kept there: it goes into the
system's password store (`server_login.store_password`), or, on a PC without one, is asked
at each start. Nothing here imports the server's driver until a server is actually used:
the file's window starts without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from urllib.parse import quote

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.rules import Problem
from needledesk.errors import NeedleDeskError
from needledesk.ui.forms import FieldMessage, with_message

log = logging.getLogger(__name__)

#: Where this PC's choice is kept in QSettings (never the password).
GROUP = "clinic_server"
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "needledesk"
#: Host names that are this PC: the server there needs no TLS (as `parse_address`).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

#: The answers `ask_when_unreachable` gives.
RETRY, USE_FILE, QUIT = "retry", "file", "quit"


@dataclass(frozen=True)
class ServerChoice:
    """This PC's store: the file (use_server False) or the clinic server at this address."""

    use_server: bool = False
    host: str = ""
    port: int = DEFAULT_PORT
    database: str = DEFAULT_DATABASE
    user: str = ""
    #: The clinic's CA certificate file the server's certificate is checked against.
    ca_file: str = ""

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS or self.host.startswith("/")

    def url(self) -> str:
        """The server's `postgresql://` address (no password), as `parse_address` reads it;
        a host starting with / is a socket folder on this PC."""
        query: dict[str, str] = {}
        netloc = quote(self.user, safe="") + "@" if self.user else ""
        if self.host.startswith("/"):
            query.update(host=self.host, port=str(self.port))
        else:
            netloc += f"[{self.host}]" if ":" in self.host else self.host
            netloc += f":{self.port}"
        if self.ca_file:
            query["sslrootcert"] = self.ca_file
        text = f"postgresql://{netloc}/{quote(self.database, safe='')}"
        if query:
            text += "?" + "&".join(f"{k}={quote(v, safe='/')}" for k, v in sorted(query.items()))
        return text

    def display(self) -> str:
        """`user@host:port/database` as the server's address shows it (the name its
        password is kept under in the system's password store)."""
        where = self.host if not self.host.startswith("/") else "this PC"
        who = f"{self.user}@" if self.user else ""
        return f"{who}{where}:{self.port}/{self.database}"

    def same_store(self, other: ServerChoice) -> bool:
        """True when both open the same store (the file, or the same server address)."""
        if not self.use_server and not other.use_server:
            return True
        return self == other


def load_choice(state: QSettings) -> ServerChoice:
    """This PC's saved choice (the file when nothing was saved)."""
    def text(key: str, default: str = "") -> str:
        value = state.value(f"{GROUP}/{key}", default)
        return str(value) if value is not None else default

    try:
        port = int(text("port", str(DEFAULT_PORT)))
    except ValueError:
        port = DEFAULT_PORT
    return ServerChoice(use_server=text("use_server", "false").lower() == "true",
                        host=text("host"), port=port if 1 <= port <= 65535 else DEFAULT_PORT,
                        database=text("database", DEFAULT_DATABASE) or DEFAULT_DATABASE,
                        user=text("user"), ca_file=text("ca_file"))


def save_choice(state: QSettings, choice: ServerChoice) -> None:
    state.setValue(f"{GROUP}/use_server", "true" if choice.use_server else "false")
    for key in ("host", "port", "database", "user", "ca_file"):
        state.setValue(f"{GROUP}/{key}", str(getattr(choice, key)))
    state.sync()


def saved_server_url(state: QSettings) -> str | None:
    """The clinic server this PC was set to use in Settings, or None (the file)."""
    choice = load_choice(state)
    return choice.url() if choice.use_server and choice.host else None


def choice_problems(choice: ServerChoice) -> list[Problem]:
    """What must be filled in before the clinic server can be saved as this PC's store."""
    if not choice.use_server:
        return []
    problems = []
    if not choice.host:
        problems.append(Problem("server_host", "Type the clinic server's name or address "
                                               "(ask whoever set it up)."))
    if not choice.database:
        problems.append(Problem("server_database", "Type the name of the clinic's database "
                                                   "on the server (usually needledesk)."))
    if choice.host and not choice.local and not choice.ca_file:
        problems.append(Problem("server_ca_file", "Choose the clinic's certificate: the server "
                                                  "is checked against it, so that health data "
                                                  "only goes to the clinic's own server."))
    return problems


def server_problem_text(exc: BaseException) -> str:
    """A server failure as the practitioner reads it at start or in Settings: the problem
    itself (the words about an open editor's entries belong to the editor, not here)."""
    text = str(exc).strip()
    cut = text.find(" Nothing was lost")
    return text[:cut] if cut > 0 else text


def try_server(choice: ServerChoice, password: str | None) -> str:
    """Connect to the clinic server `choice` names and read how many clients it holds,
    writing nothing (no migration, no id given); the password typed, else the one kept
    for it. The result in plain words; raises NeedleDeskError in plain words when it
    cannot. Runs off the UI thread."""
    from needledesk.domain.text import count_text
    from needledesk.server_login import stored_password
    from needledesk.store.repository import Repository
    from needledesk.store.server import open_server

    db = open_server(choice.url(), password or stored_password(choice),
                     migrate_schema=False, bare=True)
    try:
        count = Repository(db).count_clients()
    finally:
        db.close()
    return (f"Connected: the clinic server {choice.display()} answered and holds "
            f"{count_text(count, 'client')}.")


class ServerSettingsPage(QWidget):
    """Settings › Clinic server: the file on this PC or the clinic server, its address, the
    clinic's certificate, the password (into the system's password store) and a test."""

    def __init__(self, state: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.use_file = QRadioButton("Use the clinic's &file on this PC")
        self.use_server = QRadioButton("&Use the clinic server")
        self._mode = QButtonGroup(self)
        self._mode.addButton(self.use_file)
        self._mode.addButton(self.use_server)
        self.host = QLineEdit()
        self.host.setPlaceholderText("e.g. clinic-server or 192.168.1.20")
        self.host_message = FieldMessage()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setGroupSeparatorShown(False)
        self.database = QLineEdit()
        self.database_message = FieldMessage()
        self.user = QLineEdit()
        self.user.setPlaceholderText("This PC's or practitioner's user on the server")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("The clinic's certificate file (.crt or .pem)")
        self.ca_file_message = FieldMessage()
        self.choose_ca_button = QPushButton("Choose…")
        self.choose_ca_button.setToolTip("Choose the clinic's certificate file")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Leave empty to keep the saved one")
        from needledesk.server_login import has_keyring

        self.keyring = has_keyring()
        self.password_note = _hint(
            "Kept in this PC's password store (never in a file)." if self.keyring else
            "This PC has no password store: NeedleDesk will ask for the password at each "
            "start (it is never kept in a file).")
        self.test_button = QPushButton("T&est connection")
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.setAccessibleName("Result of the connection test")

        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.choose_ca_button)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for text, field, buddy in (
                ("&Host:", with_message(self.host, self.host_message), self.host),
                ("P&ort:", self.port, self.port),
                ("&Database:", with_message(self.database, self.database_message),
                 self.database),
                ("User &name:", self.user, self.user),
                ("Clinic's cert&ificate:", with_message(ca_row, self.ca_file_message),
                 self.ca_file),
                ("Pass&word:", self.password, self.password)):
            label = QLabel(text)
            label.setBuddy(buddy)
            self.form.addRow(label, field)
        self.form.addRow("", self.password_note)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        self.form.addRow("", test_row)
        self.form.addRow("", self.test_result)
        self.server_fields = QWidget()
        self.server_fields.setLayout(self.form)

        layout = QVBoxLayout(self)
        layout.addWidget(self.use_file)
        layout.addWidget(_hint("The records stay in one file on this PC (one treatment room)."))
        layout.addWidget(self.use_server)
        layout.addWidget(_hint("Every room's PC uses the same records on the clinic's server. "
                               "The change takes effect when NeedleDesk next starts."))
        layout.addWidget(self.server_fields)
        layout.addStretch(1)

        self.messages = {"server_host": self.host_message,
                         "server_database": self.database_message,
                         "server_ca_file": self.ca_file_message}
        self.use_server.toggled.connect(self._update_enabled)
        self.choose_ca_button.clicked.connect(self._choose_ca_file)
        self.test_button.clicked.connect(self.test_connection)
        self.load(load_choice(state))

    # --- load and read ----------------------------------------------------------------------

    def load(self, choice: ServerChoice) -> None:
        (self.use_server if choice.use_server else self.use_file).setChecked(True)
        self.host.setText(choice.host)
        self.port.setValue(choice.port)
        self.database.setText(choice.database)
        self.user.setText(choice.user)
        self.ca_file.setText(choice.ca_file)
        self.password.clear()
        self._update_enabled()

    def choice(self) -> ServerChoice:
        return ServerChoice(use_server=self.use_server.isChecked(),
                            host=self.host.text().strip(), port=self.port.value(),
                            database=self.database.text().strip(),
                            user=self.user.text().strip(), ca_file=self.ca_file.text().strip())

    def changed(self) -> bool:
        """True when Save would change this PC's choice or its saved password."""
        return self.choice() != load_choice(self.state) or bool(self.password.text())

    def problems(self) -> list[Problem]:
        return choice_problems(self.choice())

    def _update_enabled(self) -> None:
        self.server_fields.setEnabled(self.use_server.isChecked())

    # --- the certificate --------------------------------------------------------------------

    def choose_ca_path(self) -> str | None:
        """Ask for the clinic's certificate file; its path, or None. Tests replace this."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the clinic's certificate", self.ca_file.text(),
            "Certificates (*.crt *.pem *.cer);;All files (*)")
        return path or None

    def _choose_ca_file(self) -> None:
        path = self.choose_ca_path()
        if path:
            self.ca_file.setText(path)

    # --- test and save ----------------------------------------------------------------------

    def test_connection(self) -> None:
        """Try the address and password as typed (the saved password if none is typed),
        off the UI thread; the result is said under the button in plain words."""
        from needledesk.ui.tasks import Tasks

        choice = replace(self.choice(), use_server=True)
        problems = choice_problems(choice)
        if problems:
            self._say("Not tried yet: " + " ".join(p.message for p in problems), error=True)
            return
        password = self.password.text() or None
        self.test_button.setEnabled(False)
        self._say("Trying the clinic server…")
        Tasks.run(lambda: try_server(choice, password), self._say, self._test_failed,
                  owner=self, on_finish=lambda: self.test_button.setEnabled(True))

    def _test_failed(self, exc: Exception) -> None:
        if isinstance(exc, NeedleDeskError):
            self._say(server_problem_text(exc), error=True)
        else:   # the server answered, but not as NeedleDesk's records
            log.warning("the clinic server test failed: %s", exc)
            self._say("The clinic server answered, but its records could not be read. "
                      "Details are in the log.", error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.test_result.setStyleSheet("color: #a00000;" if error else "")
        self.test_result.setText(text)

    def apply(self) -> str:
        """Keep the choice for this PC (QSettings) and a typed password in the system's
        password store. What the practitioner should know afterwards, or ""."""
        before = load_choice(self.state)
        choice = self.choice()
        save_choice(self.state, choice)
        notes = []
        typed = self.password.text()
        if choice.use_server and typed:
            from needledesk.server_login import store_password

            if not store_password(choice, typed):   # kept under choice.display()
                notes.append("This PC has no password store: NeedleDesk will ask for the "
                             "clinic server's password at each start.")
            self.password.clear()
        if not choice.same_store(before):
            notes.insert(0, "From its next start NeedleDesk uses "
                         + ("the clinic server." if choice.use_server
                            else "the clinic's file on this PC."))
        return " ".join(notes)


# --- at start -------------------------------------------------------------------------------

class PasswordDialog(QDialog):
    """The clinic server's password, asked at start when this PC's password store has none
    (or the PC has no store): typed hidden, kept in the store only if asked to."""

    def __init__(self, where: str, keyring: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Clinic server password")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.can_keep = keyring
        self.keep = QCheckBox("&Keep it in this PC's password store")
        self.keep.setChecked(keyring)
        self.keep.setVisible(keyring)
        label = QLabel("&Password:")
        label.setBuddy(self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        intro = QLabel(f"The clinic server {where} asks for this PC's password.")
        intro.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.password, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.keep)
        if not keyring:
            layout.addWidget(_hint("This PC has no password store: NeedleDesk asks for the "
                                   "password at each start."))
        layout.addWidget(buttons)
        self.password.setFocus()


class PasswordPrompt:
    """`open_server_repository`'s `ask`: the password typed in a PasswordDialog (None if
    cancelled). `keep_if_asked()` puts it into the password store once it has worked."""

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent
        self._address = None
        self._typed = ""
        self._keep = False

    def dialog(self, address) -> PasswordDialog:
        from needledesk.server_login import has_keyring

        return PasswordDialog(address.display(), has_keyring(), self.parent)

    def __call__(self, address) -> str | None:
        dialog = self.dialog(address)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.password.text():
                return None
            self._address = address
            self._typed = dialog.password.text()
            self._keep = dialog.can_keep and dialog.keep.isChecked()
            return self._typed
        finally:
            dialog.deleteLater()

    def keep_if_asked(self) -> None:
        if self._address is not None and self._typed and self._keep:
            from needledesk.server_login import store_password

            store_password(self._address, self._typed)
        self._typed = ""


def unreachable_box(problem: str, parent: QWidget | None = None) -> QMessageBox:
    """The question when the clinic server cannot be opened at start; its buttons carry
    `choice` (RETRY, USE_FILE, QUIT) as a property."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("NeedleDesk: the clinic server")
    box.setText(problem)
    box.setInformativeText(
        "Check that the server PC is switched on and that this PC is on the clinic's "
        "network, then try again. The clinic's file on this PC has records of its own: "
        "what is written there is not seen by the other rooms.")
    for text, role, choice in (
            ("&Try again", QMessageBox.ButtonRole.AcceptRole, RETRY),
            ("Use the &file on this PC instead", QMessageBox.ButtonRole.ActionRole, USE_FILE),
            ("&Quit", QMessageBox.ButtonRole.RejectRole, QUIT)):
        button = box.addButton(text, role)
        button.setProperty("choice", choice)
        if choice == RETRY:
            box.setDefaultButton(button)
        if choice == QUIT:
            box.setEscapeButton(button)
    return box


def ask_when_unreachable(problem: str, parent: QWidget | None = None) -> str:
    """RETRY, USE_FILE or QUIT, as the practitioner chose."""
    box = unreachable_box(problem, parent)
    try:
        box.exec()
        clicked = box.clickedButton()
        choice = clicked.property("choice") if clicked is not None else None
        return str(choice) if choice in (RETRY, USE_FILE, QUIT) else QUIT
    finally:
        box.deleteLater()


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label
