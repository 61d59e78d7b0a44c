"""The "Get help now" panel is reachable from every screen and shows the right numbers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from securechat.api import Role
from tests.ui.conftest import unlock
from tests.ui.fake_service import INVITE_LINK, FakeService
from ui.app import SecureChatApp
from ui.crisis.data import CrisisEntry, entries_for
from ui.crisis.panel import CrisisPanel


def _help_from(qtbot: QtBot, app: SecureChatApp, button: QPushButton) -> None:
    app.crisis.hide()
    assert button.objectName() == "getHelpButton"
    assert button.isVisible()
    button.click()
    qtbot.waitUntil(app.crisis.isVisible)


def test_crisis_panel_from_every_screen(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Every window and page (welcome, create, chat, invite, consent, counselor) has the button and F1."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1)
    _help_from(qtbot, app, welcome.help_bar.help_button)
    assert "112" in app.crisis.shown_numbers()
    assert "119 ext. 8" in app.crisis.shown_numbers()
    welcome.show_page("create")
    _help_from(qtbot, app, welcome.help_bar.help_button)
    app.crisis.hide()
    qtbot.keyClick(QApplication.focusWidget() or welcome, Qt.Key.Key_F1)
    qtbot.waitUntil(app.crisis.isVisible)
    welcome.show_page("unlock")

    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    _help_from(qtbot, app, window.help_bar.help_button)
    window.on_new_clicked()  # client: the invite page
    assert window.stack.currentWidget() is window.invite_page
    _help_from(qtbot, app, window.help_bar.help_button)
    window.invite_page.open_invite(INVITE_LINK)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.consent_page)
    _help_from(qtbot, app, window.help_bar.help_button)
    app.crisis.hide()
    qtbot.keyClick(window.consent_page.understood, Qt.Key.Key_F1)
    qtbot.waitUntil(app.crisis.isVisible)
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible() and widget is not app.crisis:
            assert widget.findChild(QPushButton, "getHelpButton") is not None


def test_counselor_window_has_help(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The counselor's main window (with notes) shows the help button too."""
    app = make_app(FakeService(role=Role.COUNSELOR, messages=2))
    unlock(qtbot, app)
    assert app.main_window is not None
    _help_from(qtbot, app, app.main_window.help_bar.help_button)


def test_other_region_gets_the_local_emergency_line(qtbot: QtBot) -> None:
    """A region without numbers still tells the person to call their local emergency number."""
    panel = CrisisPanel("FR", (CrisisEntry("Campus duty counselor", "+62 811 000", "", False),))
    qtbot.addWidget(panel)
    assert entries_for("FR") == ()
    assert panel.shown_numbers() == ["+62 811 000"]
    texts = [w.text() for w in panel.findChildren(type(panel._close)) if hasattr(w, "text")]
    del texts
    from ui.common.labels import PlainLabel

    labels = " ".join(w.text() for w in panel.findChildren(PlainLabel))
    assert "local emergency number" in labels
    assert "Campus duty counselor" in labels


def test_dialogs_leave_quick_exit_reachable(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """With the crisis panel or a dialog open, no window is blocked and the panel has its own Quick exit."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.chat.conversation is not None)
    from ui.safety.dialog import SafetyNumberDialog
    from ui.settings.dialog import SettingsDialog

    window.chat.safety_button.click()
    window.settings_button.click()
    app.show_help()
    safety = window.findChild(SafetyNumberDialog)
    assert safety is not None
    qtbot.waitUntil(lambda: safety.digits.text() != "")
    assert safety.isVisible()
    settings = window.findChild(SettingsDialog)
    assert settings is not None
    assert settings.isVisible()
    assert QApplication.activeModalWidget() is None
    assert window.help_bar.exit_button.isEnabled()
    with qtbot.waitSignal(app.locked) as blocker:
        app.crisis.exit_button.click()
    assert blocker.args == ["quick-exit"]
    assert all(not w.isVisible() for w in QApplication.topLevelWidgets())
