"""Exports start in the user's Documents folder (never the program's working folder),
remember the last folder, and confirm where the file went with "Open folder"."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from needledesk.ui import printing
from needledesk.ui.session_editor import SessionEditor


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)   # the program's working folder: never offered
    QSettings().remove(printing.EXPORT_FOLDER_KEY)
    yield home
    QSettings().remove(printing.EXPORT_FOLDER_KEY)


@pytest.fixture
def offered(monkeypatch):
    """Records the start path of each save dialog and answers with `answer[0]`."""
    seen: list[str] = []
    answer: list[str] = [""]

    def dialog(parent, caption, start, filters):
        seen.append(start)
        return answer[0], filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    return seen, answer


def test_the_first_export_starts_in_documents(qtbot, home, offered):
    (home / "Documents").mkdir()
    seen, _ = offered
    parent = QWidget()
    qtbot.addWidget(parent)
    assert printing.choose_save_path(parent, "Summary Ana.pdf") is None   # cancelled
    assert Path(seen[0]) == home / "Documents" / "Summary Ana.pdf"


def test_without_documents_the_home_folder_and_then_the_last_folder(qtbot, home, offered,
                                                                     tmp_path):
    seen, answer = offered
    parent = QWidget()
    qtbot.addWidget(parent)
    printing.choose_save_path(parent, "a.pdf")
    assert Path(seen[0]).parent == home and Path(seen[0]).parent != tmp_path
    stick = tmp_path / "usb"
    stick.mkdir()
    answer[0] = str(stick / "a.pdf")
    assert printing.choose_save_path(parent, "a.pdf") == str(stick / "a.pdf")
    printing.choose_save_path(parent, "b.pdf")
    assert Path(seen[-1]) == stick / "b.pdf", "the last folder is remembered"
    stick.rmdir()
    printing.choose_save_path(parent, "c.pdf")
    assert Path(seen[-1]).parent == home, "a folder that is gone is not offered"


def test_an_export_says_where_it_went_and_opens_the_folder(qtbot, home, offered, tmp_path,
                                                           monkeypatch):
    seen, answer = offered
    target = tmp_path / "out" / "summary.pdf"
    target.parent.mkdir()
    answer[0] = str(target)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url.toLocalFile()) or True))
    parent = QWidget()
    qtbot.addWidget(parent)
    saved = SessionEditor.export_pdf(parent, b"%PDF-1.4 test", "summary.pdf",
                                     str(tmp_path / "clinic.db"))
    assert saved == str(target) and target.read_bytes() == b"%PDF-1.4 test"
    (box,) = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
    assert "summary.pdf" in box.text() and str(target.parent) in box.text()
    (button,) = [b for b in box.buttons() if b.text() == "Open folder"]
    button.click()
    assert opened == [str(target.parent)]
    assert not box.isVisible()
    again = printing.confirm_saved(parent, target)
    assert again.isVisible()
    qtbot.keyClick(again, Qt.Key.Key_Escape)
    assert not again.isVisible(), "Escape closes it"
