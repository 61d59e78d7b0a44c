"""Quick exit, auto-lock and notifications: nothing stays on screen or in a model."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from securechat.api import ProfileLocked
from tests.ui.conftest import counselor_fake, unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp


def _chat_open(qtbot: QtBot, app: SecureChatApp) -> None:
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.chat.model is not None and window.chat.model.rowCount() > 0)


def test_quick_exit_button_hides_locks_and_empties(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The quick-exit button hides every window, calls lock("quick-exit") and empties models."""
    fake = FakeService(messages=20)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    window.chat.input.setPlainText("a draft I do not want anyone to see")
    app.show_help()
    model, conversations = window.chat.model, window.conversations
    assert model is not None
    with qtbot.waitSignal(app.locked) as blocker:
        window.help_bar.exit_button.click()
    assert blocker.args == ["quick-exit"]
    assert all(not w.isVisible() for w in QApplication.topLevelWidgets())
    assert model.rowCount() == 0
    assert conversations.rowCount() == 0
    assert window.chat.input.toPlainText() == ""
    assert app.main_window is None
    qtbot.waitUntil(lambda: fake.called("lock") == [("quick-exit",)])


def test_quick_exit_keys(qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]) -> None:
    """Ctrl+Shift+Q, and Esc pressed twice, both trigger the quick exit."""
    fake = FakeService(messages=3)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    with qtbot.waitSignal(app.locked):
        qtbot.keyClick(
            QApplication.focusWidget() or window,
            Qt.Key.Key_Q,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert not window.isVisible()
    qtbot.waitUntil(lambda: fake.called("lock") == [("quick-exit",)])

    app.welcome.show()
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    target: QWidget = QApplication.focusWidget() or window
    with qtbot.waitSignal(app.locked):
        qtbot.keyClick(target, Qt.Key.Key_Escape)
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_single_escape_does_not_exit(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """One Esc alone does nothing drastic."""
    fake = FakeService(messages=3)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Escape)
    assert app.main_window is window
    assert fake.called("lock") == []


def test_auto_lock_after_inactivity(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """With no input for the auto-lock time the profile locks and the unlock screen returns."""
    fake = FakeService(messages=5)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    model = window.chat.model
    assert model is not None
    app.guard.set_timeout_ms(150)
    with qtbot.waitSignal(app.locked, timeout=5000) as blocker:
        pass
    assert blocker.args == ["auto-lock"]
    qtbot.waitUntil(lambda: fake.called("lock") == [("auto-lock",)])
    assert model.rowCount() == 0
    assert app.main_window is None
    assert app.welcome.isVisible()


def test_activity_postpones_auto_lock(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Input events restart the inactivity timer."""
    fake = FakeService(messages=5)
    app = make_app(fake)
    _chat_open(qtbot, app)
    app.guard.set_timeout_ms(60_000)
    app.guard._timer.stop()  # as if the countdown had run on
    window = app.main_window
    assert window is not None
    qtbot.keyClick(window.chat.input, Qt.Key.Key_A)
    assert app.guard._timer.isActive()
    app.guard._timer.stop()
    qtbot.mouseMove(window.chat.view.viewport())
    qtbot.mouseClick(window.chat.view.viewport(), Qt.MouseButton.LeftButton)
    assert app.guard._timer.isActive()


def test_notification_says_only_that_something_arrived(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A message arriving while the window is not active notifies without name or text."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    window.hide()
    with qtbot.waitSignal(app.notifier.notified):
        fake.receive("c1", "my secret words")
    shown = app.notifier.last_title + app.notifier.last_body
    assert "secret" not in shown
    assert "Rina" not in shown
    assert app.notifier.last_body == "You have a new message."


def test_slow_unlock_shows_progress_and_keeps_the_gui_responsive(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """While key derivation runs, a busy bar shows and the GUI thread keeps serving events."""
    fake = FakeService(messages=1, unlock_delay=0.5)
    app = make_app(fake)
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1)
    welcome.unlock_pass.setText(fake.passphrase)
    welcome.unlock_button.click()
    assert welcome.unlock_busy.isVisibleTo(welcome)
    assert not welcome.unlock_button.isEnabled()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: app.main_window is not None, timeout=5000)
    timer.stop()
    assert ticks  # the event loop ran during the unlock
    assert not welcome.unlock_busy.isVisibleTo(welcome)


def test_core_lock_event_clears_the_screen(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A ProfileLocked event from the core empties the models and shows the unlock screen."""
    fake = FakeService(messages=4)
    app = make_app(fake)
    _chat_open(qtbot, app)
    window = app.main_window
    assert window is not None
    model = window.chat.model
    assert model is not None
    with qtbot.waitSignal(app.locked):
        fake.emit(ProfileLocked("user"))
    assert model.rowCount() == 0
    assert app.main_window is None
    assert app.welcome.isVisible()


def test_unlocking_after_auto_lock_reopens_the_conversation(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Auto-lock closes everything; unlocking again brings back the conversation that was open,
    not the first in the list."""
    app = make_app(counselor_fake())
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.conversations.rowCount() == 2)
    window.open_conversation("c2")
    app.guard.set_timeout_ms(100)
    with qtbot.waitSignal(app.locked, timeout=5000):
        pass
    app.guard.set_timeout_ms(0)

    again = unlocked_window(qtbot, app)

    qtbot.waitUntil(lambda: again.chat.conversation is not None)
    assert again.chat.conversation is not None
    assert again.chat.conversation.conversation_id == "c2"


def test_unlocking_after_a_lock_reopens_the_note_that_was_open(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The note being written when the profile locked is open again after unlocking, not an
    empty new one beside it in the list."""
    fake = counselor_fake()
    app = make_app(fake)
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.conversations.rowCount() == 2)
    window.open_conversation("c2")
    notes = window.notes
    notes.editors["subjective"].setPlainText("Sleeps badly before exams.")
    notes.flush()
    qtbot.waitUntil(lambda: notes.note_id is not None)
    with qtbot.waitSignal(app.locked, timeout=5000):
        window.lock_button.click()

    again = unlocked_window(qtbot, app)

    qtbot.waitUntil(lambda: again.notes.note_id is not None)
    assert again.notes.editors["subjective"].toPlainText() == "Sleeps badly before exams."
    assert again.notes.note_list.currentRow() == 0


def test_unlocking_brings_the_window_back_where_it_was(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The main window is made anew after every lock; it comes back at the size it had."""
    app = make_app(counselor_fake())
    window = unlocked_window(qtbot, app)
    window.setGeometry(40, 30, 1010, 690)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1010, 690))
    with qtbot.waitSignal(app.locked, timeout=5000):
        window.lock_button.click()

    again = unlocked_window(qtbot, app)

    assert again is not window
    assert again.geometry().getRect() == (40, 30, 1010, 690)


def test_quick_exit_forgets_the_open_conversation(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """After a quick exit nothing says where the person was: unlocking opens the first one."""
    app = make_app(counselor_fake())
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.conversations.rowCount() == 2)
    window.open_conversation("c2")
    app.quick_exit()

    again = unlocked_window(qtbot, app)

    qtbot.waitUntil(lambda: again.chat.conversation is not None)
    assert again.chat.conversation is not None
    assert again.chat.conversation.conversation_id == "c1"
