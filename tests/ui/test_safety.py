"""The safety number dialog: digits in groups, a QR code, and "mark as verified"."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from tests.ui.conftest import unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.bridge import Bridge
from ui.safety.dialog import SafetyNumberDialog, group_digits


def test_group_digits() -> None:
    """60 digits become 12 groups of 5."""
    groups = group_digits("".join(str(i % 10) for i in range(60)))
    assert len(groups) == 12
    assert all(len(g) == 5 for g in groups)


def test_safety_dialog_shows_digits_qr_and_marks_verified(
    qtbot: QtBot, bridge: Bridge, fake: FakeService
) -> None:
    """The dialog shows 12 groups of 5 digits and a QR pixmap; "Mark as verified" calls the core."""
    dialog = SafetyNumberDialog(bridge, "c1", "Rina")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.digits.text() != "")
    rows = dialog.digits.text().split("\n")
    assert len(rows) == 3
    groups = [g for row in rows for g in row.split()]
    assert len(groups) == 12
    assert all(len(g) == 5 and g.isdigit() for g in groups)
    pixmap = dialog.qr.pixmap()
    assert not pixmap.isNull()
    assert pixmap.width() > 50
    assert dialog.verify_button.isEnabled()
    with qtbot.waitSignal(dialog.verified) as blocker:
        dialog.verify_button.click()
    assert blocker.args == ["c1"]
    assert fake.called("mark_verified") == [("c1",)]
    assert "verified" in dialog.state.text()


def test_safety_dialog_opens_from_the_chat(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The chat's "Safety number" button opens the dialog for that conversation."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.chat.conversation is not None)
    window.chat.safety_button.click()
    qtbot.waitUntil(lambda: window.findChild(SafetyNumberDialog) is not None)
    qtbot.waitUntil(lambda: fake.called("safety_number") == [("c1",)])


def test_an_open_safety_dialog_follows_a_language_switch(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The dialog is not modal, so the help bar's language can change while it is open."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.chat.conversation is not None)
    window.chat.safety_button.click()
    dialog = window.findChild(SafetyNumberDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.verify_button.isEnabled())
    app.set_language("id")
    qtbot.waitUntil(lambda: dialog.verify_button.text() == "Tandai terverifikasi")
    assert dialog.state.text() == "Belum diverifikasi."
