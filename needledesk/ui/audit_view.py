"""The audit trail of a session, as the window shows it: every write, who made it, when,
what changed, and which rows seal the record."""

from __future__ import annotations

from html import escape

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from needledesk.domain.labels import action_label, audit_lines
from needledesk.domain.text import moment_text


def audit_trail_html(entries) -> str:
    """The rows of the audit trail in plain words: what each write was, and each changed
    field by its label with values as the card shows them (domain.labels.audit_lines; the
    rows' stored JSON, which the seals cover, is only read)."""
    if not entries:
        return "<p>No writes are recorded for this session.</p>"
    rows = []
    for e in entries:
        changed = "<br>".join(escape(line) for line in audit_lines(e.kind, e.before, e.after))
        seal = " · sealed" if e.seals else ""
        rows.append(f"<tr><td>#{e.seq}</td><td>{moment_text(e.at)}</td>"
                    f"<td>{escape(e.who)}</td><td>{escape(action_label(e.action))}{seal}</td>"
                    f"<td>{changed}</td></tr>")
    return ("<table cellpadding=4><tr><th>#</th><th>When</th><th>Who</th><th>What</th>"
            "<th>Changed</th></tr>" + "".join(rows) + "</table>")


def text_dialog(parent: QWidget, title: str, html: str) -> QDialog:
    """A read-only page of text, owned by `parent` and freed when closed."""
    dialog = QDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowTitle(title)
    layout = QVBoxLayout(dialog)
    browser = QTextBrowser(dialog)
    browser.setHtml(html)
    layout.addWidget(browser)
    close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    close.rejected.connect(dialog.reject)
    layout.addWidget(close)
    dialog.resize(640, 480)
    return dialog


def show_text(parent: QWidget, title: str, html: str) -> None:
    """Show the page modally; the dialog is freed when it closes."""
    dialog = text_dialog(parent, title, html)
    try:
        dialog.exec()
    finally:
        if shiboken6.isValid(dialog):
            dialog.deleteLater()  # an exec() ended without a close event is freed too
