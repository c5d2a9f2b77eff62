"""The app lock: asked at start, fires when idle, hides client data, slows down guessing."""

from __future__ import annotations

from dataclasses import replace

from factories import make_client, make_screening
from PySide6.QtCore import QSettings

from needledesk.security import hash_secret
from needledesk.ui.main_window import MainWindow


def _locked_window(qtbot, ui_repo, tmp_path, minutes=10):
    settings = replace(ui_repo.settings(), lock_hash=hash_secret("4711"),
                       idle_lock_minutes=minutes)
    ui_repo.save_settings(settings, by="Jane Smith")
    window = MainWindow(ui_repo, ui_repo.settings(),
                        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_lock_is_asked_at_start_and_hides_client_data(qtbot, ui_repo, tmp_path):
    ui_repo.add_client(make_client(), by="Jane Smith")
    window = _locked_window(qtbot, ui_repo, tmp_path)
    assert window.is_locked
    assert not window.splitter.isVisible() and not window.menuBar().isEnabled()
    window.lock_screen.secret.setText("4711")
    window.lock_screen.unlock_button.click()
    assert not window.is_locked and window.splitter.isVisible()


def test_the_idle_lock_fires_and_hides_an_open_session(qtbot, ui_repo, tmp_path,
                                                       no_real_modals):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    ui_repo.add_screening(make_screening(client.id), by="Jane Smith")
    window = _locked_window(qtbot, ui_repo, tmp_path)
    window.lock_screen.secret.setText("4711")
    window.lock_screen.try_unlock()
    window.find("")
    window.open_first_match()
    editor = window.new_session()
    assert editor.isVisible()
    window.idle.set_interval_ms(50)
    qtbot.waitUntil(lambda: window.is_locked, timeout=3000)
    assert not editor.isVisible(), "an open session is hidden too"
    window.lock_screen.secret.setText("4711")
    window.lock_screen.try_unlock()
    assert editor.isVisible()


def test_wrong_tries_make_you_wait_longer(qtbot, ui_repo, tmp_path):
    window = _locked_window(qtbot, ui_repo, tmp_path)
    screen = window.lock_screen
    for _ in range(2):
        screen.secret.setText("0000")
        assert not screen.try_unlock()
    assert screen.secret.isEnabled()
    screen.secret.setText("0000")
    assert not screen.try_unlock()
    assert not screen.secret.isEnabled()
    assert "Try again in 2 s" in screen.message.text()
    screen.secret.setText("4711")
    assert not screen.try_unlock(), "even the right secret waits out the delay"
    qtbot.waitUntil(screen.secret.isEnabled, timeout=4000)
    screen.secret.setText("4711")
    assert screen.try_unlock()


def test_setting_and_removing_the_lock(qtbot, window, ui_repo, monkeypatch):
    monkeypatch.setattr(MainWindow, "ask_new_secret",
                        staticmethod(lambda parent, minutes: ("2468", 5)))
    window.set_app_lock()
    stored = ui_repo.settings()
    assert stored.lock_hash.startswith("$argon2id$") and stored.idle_lock_minutes == 5
    window.lock()
    assert window.is_locked
    window.lock_screen.secret.setText("2468")
    window.lock_screen.try_unlock()
    monkeypatch.setattr(MainWindow, "ask_new_secret",
                        staticmethod(lambda parent, minutes: ("", 5)))
    window.set_app_lock()
    assert ui_repo.settings().lock_hash is None
    window.lock()
    assert not window.is_locked, "no lock set: nothing to lock"
