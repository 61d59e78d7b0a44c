"""First use of the real app: fresh homes, no relay address yet, on the real core.

Every test starts from an empty securechat home with a real `Service` (SQLCipher profiles,
Argon2id at its minimum cost) and keyring's `fail` backend, as a person's first start would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.relay_process import running_relay
from tests.ui.conftest import close_app
from tests.ui.real import PASSPHRASE, TIMEOUT, no_system_keyring, real_factory  # noqa: F401
from ui.app import SecureChatApp
from ui.chat.window import MainWindow
from ui.common.style import apply_style
from ui.consent.invite import DirectoryState


@pytest.fixture
def fresh_app(qapp: QApplication, tmp_path: Path) -> Iterator[Callable[..., SecureChatApp]]:
    """A factory: one app in `language` on a real `Service` with an empty home, no relay."""
    apps: list[SecureChatApp] = []

    def make(language: str, folder: str = "home") -> SecureChatApp:
        apply_style(qapp)
        app = SecureChatApp(
            qapp, real_factory(tmp_path / folder), quit_on_quick_exit=False, language=language
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


@pytest.mark.parametrize(
    ("language", "expected", "wrong"),
    [
        ("en", "relay address in Settings", "invite link is not valid"),
        ("id", "alamat relay organisasi Anda di Pengaturan", "undangan ini tidak valid"),
    ],
)
def test_the_directory_without_a_relay_address_points_to_settings(
    qtbot: QtBot,
    fresh_app: Callable[..., SecureChatApp],
    language: str,
    expected: str,
    wrong: str,
) -> None:
    """A new client who chooses "Show counselors" before any relay address is set is told to
    set it in Settings, not that an invite link (which they never typed) is invalid."""
    window = _create(qtbot, fresh_app(language), counselor=False)
    page = window.invite_page
    qtbot.waitUntil(lambda: window.stack.currentWidget() is page, timeout=TIMEOUT)

    page.load_button.click()
    qtbot.waitUntil(lambda: page.directory_state is DirectoryState.FAILED, timeout=TIMEOUT)

    text = page.directory_state_text.text()
    assert expected in text
    assert wrong not in text


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


def test_the_usual_time_to_reply_reads_in_indonesian(
    qtbot: QtBot, fresh_app: Callable[..., SecureChatApp], tmp_path: Path
) -> None:
    """The counselor's app publishes "24 h"; a client reading the profile in Bahasa Indonesia
    sees "24 jam", not the English abbreviation."""
    counselor = fresh_app("en", "counselor")
    _create(qtbot, counselor, counselor=True)
    client = fresh_app("id", "client")
    window = _create(qtbot, client, counselor=False)
    links: list[str] = []
    with running_relay(tmp_path / "relay") as url:
        counselor.bridge.call(lambda s: s.publish(url), links.append)
        qtbot.waitUntil(lambda: bool(links), timeout=TIMEOUT)
        window.invite_page.open_invite(links[0])
        qtbot.waitUntil(
            lambda: window.stack.currentWidget() is window.consent_page, timeout=TIMEOUT
        )

    assert window.consent_page.response_value.text() == "24 jam"
