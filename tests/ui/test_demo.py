"""The demo's window orchestration, driven with two fake cores."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from securechat.api import Role
from tests.ui.conftest import counselor_fake, unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.demo import DEMO_PASSPHRASE, DemoSession

# the demo's two windows side by side on a 1920-pixel screen: half of it, less the gap
# between them and a window frame's borders
HALF_FULL_HD = 1920 // 2 - 32


def _started_demo(qtbot: QtBot, qapp: QApplication) -> tuple[FakeService, FakeService, DemoSession]:
    """The demo's walk on two fake services, up to the client's disclosure."""
    counselor, client = (
        FakeService(profiles=[], conversations=0),
        FakeService(profiles=[], conversations=0),
    )
    session = DemoSession(qapp, "ws://127.0.0.1:9", lambda: counselor, lambda: client)
    session.counselor.quit_on_quick_exit = False
    session.client.quit_on_quick_exit = False
    with qtbot.waitSignal(session.invite_ready, timeout=10_000):
        session.start()
    return counselor, client, session


def test_demo_reaches_the_disclosure(qtbot: QtBot, qapp: QApplication) -> None:
    """Counselor created and published, client created and shown the disclosure, no clicks."""
    counselor, _client, session = _started_demo(qtbot, qapp)
    window = session.client.main_window
    assert window is not None
    assert window.stack.currentWidget() is window.consent_page
    assert counselor.called("publish") == [(True,)]
    assert counselor.settings_view.relay_url == "ws://127.0.0.1:9"
    assert not window.consent_page.send_button.isEnabled()
    for app in (session.counselor, session.client):
        for w in app.windows():
            w.hide()
        qapp.removeEventFilter(app.guard)
    session.shutdown()


def test_unlocking_the_demo_counselor_again_leaves_the_client_alone(
    qtbot: QtBot, qapp: QApplication
) -> None:
    """The walk to the disclosure runs once: a counselor who locks and unlocks again does not
    publish again, nor make the client a second profile."""
    counselor, client, session = _started_demo(qtbot, qapp)
    session.counselor.lock("user")
    unlock(qtbot, session.counselor, DEMO_PASSPHRASE)
    qtbot.wait(300)
    assert counselor.called("publish") == [(True,)]
    assert len(client.called("create_profile")) == 1
    for app in (session.counselor, session.client):
        for w in app.windows():
            w.hide()
        qapp.removeEventFilter(app.guard)
    session.shutdown()


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.CLIENT])
def test_the_main_window_fits_half_a_full_hd_screen(
    qtbot: QtBot,
    make_app: Callable[[FakeService], SecureChatApp],
    role: Role,
    language: str,
) -> None:
    """No label or button row, in either language, makes the main window need more than half
    of a 1920-pixel screen: the demo's two windows fit side by side without cutting text."""
    fake = counselor_fake() if role is Role.COUNSELOR else FakeService(messages=4)
    app = make_app(fake)
    window = unlocked_window(qtbot, app)
    app.set_language(language)
    qtbot.waitUntil(
        lambda: window.list_title.text() == ("Percakapan" if language == "id" else "Conversations")
    )
    qtbot.wait(50)
    layout = window.layout()
    assert layout is not None
    layout.activate()
    assert window.minimumSizeHint().width() <= HALF_FULL_HD
