"""Onboarding: create a profile, unlock, and a wrong passphrase."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from securechat.api import Role
from tests.ui.conftest import unlock
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.errors import message_for


def test_create_profile_then_unlocked(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """With no profile the app opens on "create"; creating one unlocks it and opens the chat."""
    fake = FakeService(profiles=[])
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.stack.currentWidget() is welcome.create_page)
    welcome.name_edit.setText("Dewi")
    welcome.role_client.setChecked(True)
    welcome.pass1.setText("short")
    welcome.pass2.setText("short")
    assert not welcome.create_button.isEnabled()
    welcome.pass1.setText("a calm morning by the sea")
    welcome.pass2.setText("a calm morning by the sea")
    assert welcome.create_button.isEnabled()
    assert welcome.strength.text()
    with qtbot.waitSignal(app.unlocked, timeout=5000) as blocker:
        welcome.create_button.click()
    assert blocker.args == ["dewi"]
    qtbot.waitUntil(lambda: app.main_window is not None and app.main_window.isVisible())
    assert not welcome.isVisible()
    assert fake.unlocked == "dewi"
    assert fake.called("create_profile") == [("Dewi", Role.CLIENT)]
    assert welcome.pass1.text() == ""
    assert welcome.pass2.text() == ""


def test_wrong_passphrase_shows_mapped_error(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A wrong passphrase shows the message mapped in ui.errors, inline, and clears the field."""
    fake = FakeService()
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1)
    welcome.unlock_pass.setText("not the passphrase")
    welcome.unlock_button.click()
    qtbot.waitUntil(lambda: welcome.unlock_error.isVisibleTo(welcome))
    from tests.ui.fake_service import WrongPassphrase

    assert welcome.unlock_error.text() == message_for(WrongPassphrase())
    assert "passphrase" in welcome.unlock_error.text()
    assert welcome.unlock_pass.text() == ""
    assert app.main_window is None
    unlock(qtbot, app)
    assert app.main_window is not None


def test_remembered_profile_unlocks_without_passphrase(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """For a remembered profile an empty field asks the core to use the stored key (None)."""
    from securechat.api import ProfileView

    fake = FakeService(profiles=[ProfileView("ayu", "Ayu", Role.CLIENT, True)])
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1)
    welcome.remember.setChecked(True)
    welcome.unlock_button.click()
    qtbot.waitUntil(lambda: fake.called("unlock") != [])
    assert fake.called("unlock")[0] == ("ayu", True)
    qtbot.waitUntil(lambda: welcome.unlock_error.isVisibleTo(welcome))  # the fake has no keyring


def test_nothing_secret_reaches_the_log(
    qtbot: QtBot,
    make_app: Callable[[FakeService], SecureChatApp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Passphrases, message text and relay URLs never appear in log lines, even at DEBUG."""
    import logging

    caplog.set_level(logging.DEBUG)
    fake = FakeService(messages=2)
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1)
    welcome.unlock_pass.setText("wrong secret phrase")
    welcome.unlock_button.click()
    qtbot.waitUntil(lambda: welcome.unlock_error.isVisibleTo(welcome))
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.chat.model is not None and window.chat.model.is_open)
    window.chat.input.setPlainText("my private words")
    window.chat.send_button.click()
    qtbot.waitUntil(lambda: fake.called("send_text") != [])
    app.bridge.call(lambda s: s.unlock("x", "another secret"))  # an error nobody handles
    qtbot.waitUntil(lambda: "WrongPassphrase" in caplog.text)
    for secret in (
        "wrong secret",
        "correct horse",
        "private words",
        "another secret",
        "relay.example",
    ):
        assert secret not in caplog.text


def test_new_profile_keeps_the_language_it_was_created_in(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A profile created with the app in Indonesian opens in Indonesian, not the default."""
    fake = FakeService(profiles=[])
    assert fake.settings_view.language == "en"
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.stack.currentWidget() is welcome.create_page)
    app.set_language("id")
    welcome.name_edit.setText("Dewi")
    welcome.pass1.setText("a calm morning by the sea")
    welcome.pass2.setText("a calm morning by the sea")
    with qtbot.waitSignal(app.unlocked, timeout=5000):
        welcome.create_button.click()
    assert fake.settings_view.language == "id"
    qtbot.waitUntil(lambda: app.main_window is not None and app.main_window.isVisible())
    assert app.translations.language == "id"
