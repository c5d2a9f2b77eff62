"""Help menu, Ctrl+L without an app lock, and the client count's wording."""

from __future__ import annotations

from factories import make_client, make_session
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTextBrowser

from needledesk.ui import help as help_pages
from needledesk.ui.session_editor import SessionEditor


def _page_text(dialog) -> str:
    return dialog.findChild(QTextBrowser, "help-text").toPlainText()


def test_the_shortcuts_page_lists_the_windows_real_keys(qtbot, window):
    window.show_shortcuts()
    text = _page_text(window.help_page)
    for key, what in (("Ctrl+N", "New client"), ("Ctrl+F", "Find client"),
                      ("Ctrl+L", "Lock now"), ("Ctrl+B", "Back up now"),
                      ("Ctrl+Shift+N", "New session")):
        assert f"{key}{what}" in text.replace("\t", "").replace("\n", ""), (key, what)
    for _key, what in help_pages.EDITOR_KEYS:
        assert what in text


def test_the_editor_keys_listed_are_the_editors_own(qtbot, window, ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.save_draft(make_session(client.id), by="Jane Smith")
    editor = SessionEditor(ui_repo, ui_repo.settings(), client, user="Jane Smith",
                           parent=window)
    qtbot.addWidget(editor)
    keys = {s.key().toString() for s in editor.findChildren(QShortcut)}
    for key, _what in help_pages.EDITOR_KEYS:
        assert QKeySequence(key).toString() in keys, f"{key} is listed but does nothing"


def test_the_guide_opens_and_closes_freed(qtbot, window):
    window.show_guide()
    dialog = window.help_page
    assert "Sign off" in _page_text(dialog)
    with qtbot.waitSignal(dialog.destroyed, timeout=2000):
        dialog.reject()


def test_ctrl_l_without_an_app_lock_says_why(qtbot, window):
    assert not window.settings.lock_hash
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not window.is_locked
    assert "App lock" in window.statusBar().currentMessage()


def test_one_client_is_one_client(qtbot, window, ui_repo):
    ui_repo.add_client(make_client(), by="Jane Smith")
    window.find("")
    assert window.count_label.text() == "1 client"
    window.find("ana")
    assert window.count_label.text() == "1 of 1 client"


def test_every_menu_entry_the_guide_names_is_in_the_menus(window):
    """The guide says "File › Products and lots…": each such entry must exist, so the
    guide cannot send a practitioner looking for a menu entry that was renamed or moved."""
    import re

    menus = {menu.title().replace("&", ""): [a.text().replace("&", "")
                                             for a in menu.actions() if a.text()]
             for menu in (a.menu() for a in window.menuBar().actions()) if menu is not None}
    guide = " ".join(help_pages.GUIDE.split())
    named = re.findall(r"(File|Edit|Client|Reports|Help) › ([^.()›]+?…|[A-Z][a-z]+(?: [a-z]+)*)",
                       guide)
    assert len(named) >= 6
    for menu, entry in named:
        # "Help › Where the records are shows each place": the entry is a prefix of the text
        assert any(entry.startswith(text.rstrip("…")) or text.startswith(entry)
                   for text in menus[menu]), (menu, entry, menus[menu])
