"""Fixtures for the UI tests: a fake core behind a real bridge, and the app controller."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from securechat.api import Role
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.bridge import Bridge
from ui.chat.window import MainWindow
from ui.common.style import apply_style

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def fake() -> FakeService:
    return FakeService(messages=12)


@pytest.fixture
def bridge(qapp: QApplication, fake: FakeService) -> Iterator[Bridge]:
    b = Bridge(lambda: fake)
    b.start()
    yield b
    b.shutdown()


@pytest.fixture
def make_app(qapp: QApplication, qtbot: QtBot) -> Iterator[Callable[[FakeService], SecureChatApp]]:
    apply_style(qapp)
    made: list[SecureChatApp] = []

    def make(service: FakeService) -> SecureChatApp:
        controller = SecureChatApp(qapp, lambda: service, quit_on_quick_exit=False, language="en")
        made.append(controller)
        controller.show()
        return controller

    yield make
    for controller in made:
        close_app(qapp, controller)


def close_app(qapp: QApplication, app: SecureChatApp) -> None:
    """Hide and delete an app made by a test, and leave the next test in English."""
    for window in app.windows():
        window.hide()
    app.translations.set_language("en")
    app.shutdown()
    qapp.removeEventFilter(app.guard)
    for window in app.windows():
        window.deleteLater()
    app.deleteLater()


def unlock(qtbot: QtBot, app: SecureChatApp, passphrase: str = "correct horse battery") -> None:
    """Drive the welcome window to unlock the first profile."""
    qtbot.waitUntil(lambda: app.welcome.profile_list.count() > 0)
    app.welcome.unlock_pass.setText(passphrase)
    with qtbot.waitSignal(app.unlocked, timeout=5000):
        app.welcome.unlock_button.click()
    qtbot.waitUntil(lambda: app.main_window is not None and app.main_window.isVisible())


def unlocked_window(qtbot: QtBot, app: SecureChatApp) -> MainWindow:
    """`unlock`, then the main window it opened."""
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    return window


def counselor_fake() -> FakeService:
    return FakeService(role=Role.COUNSELOR, messages=6, conversations=2)
