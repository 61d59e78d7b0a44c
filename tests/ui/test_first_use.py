"""First use of the real app: fresh homes, no relay address yet, on the real core.

Every test starts from an empty securechat home with a real `Service` (SQLCipher profiles,
Argon2id at its minimum cost) and keyring's `fail` backend, as a person's first start would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
from securechat.service import Service
from tests.relay_process import running_relay
from tests.ui.conftest import close_app
from ui.app import SecureChatApp
from ui.chat.window import MainWindow
from ui.common.style import apply_style

TIMEOUT = 30_000  # ms; a shared 2-core machine can be slow
PASSPHRASE = "a calm morning by the sea"  # test profiles only


@pytest.fixture(autouse=True)
def no_system_keyring() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    return


@pytest.fixture
def fresh_app(qapp: QApplication, tmp_path: Path) -> Iterator[Callable[..., SecureChatApp]]:
    """A factory: one app in `language` on a real `Service` with an empty home, no relay."""
    apps: list[SecureChatApp] = []

    def make(language: str, folder: str = "home") -> SecureChatApp:
        apply_style(qapp)
        kdf = KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)
        home = tmp_path / folder
        app = SecureChatApp(
            qapp, lambda: Service(home, kdf=kdf), quit_on_quick_exit=False, language=language
        )
        app.show()
        apps.append(app)
        return app

    try:
        yield make
    finally:
        for app in apps:
            close_app(qapp, app)


def _create(qtbot: QtBot, app: SecureChatApp, *, counselor: bool) -> MainWindow:
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.stack.currentWidget() is welcome.create_page, timeout=TIMEOUT)
    welcome.name_edit.setText("Rina" if counselor else "Ayu")
    (welcome.role_counselor if counselor else welcome.role_client).setChecked(True)
    welcome.pass1.setText(PASSPHRASE)
    welcome.pass2.setText(PASSPHRASE)
    with qtbot.waitSignal(app.unlocked, timeout=TIMEOUT):
        welcome.create_button.click()
    qtbot.waitUntil(lambda: app.main_window is not None, timeout=TIMEOUT)
    assert app.main_window is not None
    return app.main_window


def test_sharing_the_invite_continues_once_the_relay_address_is_saved(
    qtbot: QtBot, fresh_app: Callable[..., SecureChatApp], tmp_path: Path
) -> None:
    """A new counselor chooses "Share my invite link", is sent to Settings for the relay
    address, saves it, and then gets the invite link, without a stale "enter the relay
    address first" left in the status line."""
    app = fresh_app("en")
    window = _create(qtbot, app, counselor=True)
    window.new_button.click()
    qtbot.waitUntil(lambda: window.findChild(QWidget, "settingsDialog") is not None)
    dialog = window.findChild(QWidget, "settingsDialog")
    assert dialog is not None
    hint = window.help_bar.status.text()
    assert "relay address in Settings" in hint

    with running_relay(tmp_path / "relay") as url:
        relay_input = dialog.findChild(QLineEdit, "relayUrlInput")
        save = dialog.findChild(QPushButton, "saveSettingsButton")
        assert relay_input is not None
        assert save is not None
        relay_input.setText(url)
        save.click()
        qtbot.waitUntil(
            lambda: window.findChild(QDialog, "inviteLinkDialog") is not None, timeout=TIMEOUT
        )

    field = window.findChild(QLineEdit, "inviteLinkField")
    assert field is not None
    assert field.text().startswith("securechat:invite?")
    assert window.help_bar.status.text() != hint
