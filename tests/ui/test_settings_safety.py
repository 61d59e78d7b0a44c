"""Settings that cannot hurt by accident: a shorter "Keep history" asks before it deletes,
the mouse wheel leaves unfocused fields alone, and the passphrase change cannot be clicked twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressBar, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from securechat.api import SettingsView
from tests.ui.conftest import unlock
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.settings.dialog import SettingsDialog

DAY = 86_400.0


def _with_old_messages(count: int, age_days: float = 40) -> FakeService:
    """A client whose first conversation holds 12 recent messages and `count` old ones."""
    fake = FakeService(messages=12)
    fake.fill("c1", count, now=time.time() - age_days * DAY)
    return fake


def _settings(qtbot: QtBot, app: SecureChatApp) -> SettingsDialog:
    """Unlock, then open Settings from the main window as a person would."""
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    window.settings_button.click()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def _save_button(dialog: SettingsDialog) -> QPushButton:
    button = dialog.findChild(QPushButton, "saveSettingsButton")
    assert button is not None
    return button


def _question(dialog: SettingsDialog) -> QMessageBox | None:
    """The "delete older messages?" question, while it is shown."""
    box = dialog.findChild(QMessageBox, "retentionConfirm")
    return box if box is not None and box.isVisible() else None


def _ask_to_keep_30_days(qtbot: QtBot, dialog: SettingsDialog, fake: FakeService) -> QMessageBox:
    """Lower "Keep history" from always to 30 days, press Save, return the question."""
    dialog.retention.setValue(30)
    _save_button(dialog).click()
    qtbot.waitUntil(lambda: _question(dialog) is not None or bool(fake.called("update_settings")))
    assert fake.called("update_settings") == [], "saved (and so deleted) without asking"
    box = _question(dialog)
    assert box is not None
    return box


def _button(box: QMessageBox, name: str) -> QPushButton:
    button = box.findChild(QPushButton, name)
    assert button is not None
    return button


def test_shortening_history_asks_how_many_messages_go_before_saving(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Lowering "Keep history" below the age of stored messages saves nothing yet: it asks,
    saying how many messages will be deleted for good and that this cannot be undone."""
    fake = _with_old_messages(3)
    dialog = _settings(qtbot, make_app(fake))

    box = _ask_to_keep_30_days(qtbot, dialog, fake)

    assert box.text() == "3 messages older than 30 days will be deleted from this device for good."
    assert box.informativeText() == "This cannot be undone."
    assert fake.called("update_settings") == []


def test_enter_in_the_question_keeps_the_messages(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The default button of the question is "Keep them": Enter deletes nothing."""
    fake = _with_old_messages(3)
    dialog = _settings(qtbot, make_app(fake))
    box = _ask_to_keep_30_days(qtbot, dialog, fake)
    assert box.defaultButton() is _button(box, "keepHistoryButton")
    assert not _button(box, "deleteHistoryButton").autoDefault()

    QTest.keyClick(box, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: not box.isVisible())
    assert fake.called("update_settings") == []


def test_keeping_the_messages_restores_the_period_and_leaves_settings_open(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """ "Keep them" saves nothing, puts the old period back and leaves Settings open to edit."""
    fake = _with_old_messages(3)
    dialog = _settings(qtbot, make_app(fake))
    box = _ask_to_keep_30_days(qtbot, dialog, fake)

    _button(box, "keepHistoryButton").click()

    qtbot.waitUntil(lambda: not box.isVisible())
    assert dialog.isVisible()
    assert dialog.retention.value() == 0
    assert _save_button(dialog).isEnabled()
    assert fake.called("update_settings") == []


def test_confirming_saves_the_shorter_period(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """ "Delete them" saves the shorter period (the core then deletes) and closes Settings."""
    fake = _with_old_messages(3)
    dialog = _settings(qtbot, make_app(fake))
    box = _ask_to_keep_30_days(qtbot, dialog, fake)

    with qtbot.waitSignal(dialog.accepted):
        _button(box, "deleteHistoryButton").click()

    ((saved,),) = fake.called("update_settings")
    assert isinstance(saved, SettingsView)
    assert saved.retention_days == 30


def test_quick_exit_while_the_question_is_open_saves_nothing(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Ctrl+Shift+Q still works over the question: everything hides, the profile locks,
    nothing is saved or deleted (the question runs no event loop of its own)."""
    fake = _with_old_messages(3)
    app = make_app(fake)
    box = _ask_to_keep_30_days(qtbot, _settings(qtbot, app), fake)

    with qtbot.waitSignal(app.locked):
        QTest.keyClick(
            QApplication.focusWidget() or box,
            Qt.Key.Key_Q,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )

    assert app.main_window is None
    qtbot.wait(50)  # the deleted dialog's question answers nothing
    assert fake.called("update_settings") == []


def test_a_shorter_period_that_deletes_nothing_saves_without_asking(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """When no message is older than the new period there is nothing to confirm."""
    fake = FakeService(messages=12)
    dialog = _settings(qtbot, make_app(fake))
    dialog.retention.setValue(30)

    _save_button(dialog).click()

    qtbot.waitUntil(lambda: fake.called("update_settings") != [])
    assert _question(dialog) is None


def test_the_question_speaks_indonesian(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """In Bahasa Indonesia the question, its warning and its buttons are Indonesian."""
    fake = _with_old_messages(1)
    app = make_app(fake)
    dialog = _settings(qtbot, app)
    app.set_language("id")
    qtbot.waitUntil(lambda: bool(fake.called("update_settings")))  # the language is kept
    fake.calls.clear()
    try:
        box = _ask_to_keep_30_days(qtbot, dialog, fake)
        assert box.windowTitle() == "Hapus pesan lama?"
        assert box.text() == (
            "1 pesan yang lebih lama dari 30 hari akan dihapus permanen dari perangkat ini."
        )
        assert box.informativeText() == "Tindakan ini tidak dapat dibatalkan."
        assert _button(box, "deleteHistoryButton").text() == "Hapus pesan"
        assert _button(box, "keepHistoryButton").text() == "Jangan hapus"
    finally:
        app.set_language("en")


def _wheel_up(widget: QWidget) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_leaves_an_unfocused_history_period_alone(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Scrolling over "Keep history" while another field has focus does not change it."""
    dialog = _settings(qtbot, make_app(FakeService(messages=2)))
    dialog.retention.setValue(365)
    dialog.activateWindow()
    dialog.relay.setFocus()
    qtbot.waitUntil(dialog.relay.hasFocus)

    _wheel_up(dialog.retention)

    assert dialog.retention.value() == 365
    assert not dialog.retention.hasFocus()


def test_the_wheel_changes_the_history_period_once_it_has_focus(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Clicked or tabbed into, the field still steps with the wheel."""
    dialog = _settings(qtbot, make_app(FakeService(messages=2)))
    dialog.retention.setValue(365)
    dialog.activateWindow()
    dialog.retention.setFocus()
    qtbot.waitUntil(dialog.retention.hasFocus)

    _wheel_up(dialog.retention)

    assert dialog.retention.value() == 366


class SlowPassphraseChange(FakeService):
    """A passphrase change that takes as long as the test says (Argon2id takes seconds)."""

    def __init__(self) -> None:
        super().__init__(messages=2)
        self.release = threading.Event()

    async def change_passphrase(self, old: str, new: str) -> None:
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await super().change_passphrase(old, new)


def _start_change(qtbot: QtBot, app: SecureChatApp, old: str) -> SettingsDialog:
    dialog = _settings(qtbot, app)
    dialog.old_pass.setText(old)
    dialog.new_pass.setText("a brand new passphrase")
    dialog.new_pass2.setText("a brand new passphrase")
    dialog.change_button.click()
    return dialog


def _form_enabled(dialog: SettingsDialog) -> list[bool]:
    return [
        w.isEnabled()
        for w in (dialog.old_pass, dialog.new_pass, dialog.new_pass2, dialog.change_button)
    ]


def _busy_shown(dialog: SettingsDialog) -> bool:
    busy = dialog.findChild(QProgressBar, "passphraseBusy")
    return busy is not None and busy.isVisibleTo(dialog)


def test_the_passphrase_form_is_off_while_the_change_runs(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """While the slow change runs, its fields and button are off and it says it is working."""
    fake = SlowPassphraseChange()
    dialog = _start_change(qtbot, make_app(fake), "correct horse battery")
    try:
        assert _form_enabled(dialog) == [False] * 4
        assert dialog.pass_state.text().startswith("Changing your passphrase")
        assert _busy_shown(dialog)
    finally:
        fake.release.set()


def test_the_passphrase_form_comes_back_after_the_change(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Once the change is done the form is usable again and says so."""
    fake = SlowPassphraseChange()
    dialog = _start_change(qtbot, make_app(fake), "correct horse battery")
    fake.release.set()

    qtbot.waitUntil(lambda: dialog.pass_state.text() == "Your passphrase was changed.")
    assert _form_enabled(dialog) == [True] * 4
    assert not _busy_shown(dialog)


def test_the_passphrase_form_comes_back_after_a_refused_change(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A wrong current passphrase gives its message and the form back, to try again."""
    fake = SlowPassphraseChange()
    dialog = _start_change(qtbot, make_app(fake), "not my passphrase")
    fake.release.set()

    qtbot.waitUntil(lambda: dialog.pass_state.text().startswith("That passphrase"))
    assert _form_enabled(dialog) == [True] * 4
    assert not _busy_shown(dialog)
    assert fake.passphrase == "correct horse battery"


def test_a_language_chosen_while_settings_is_open_survives_save(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Settings stays open beside the window; a language picked meanwhile in the help bar is
    what Save keeps, not the one the dialog opened with."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    dialog = _settings(qtbot, app)
    app.set_language("id")
    qtbot.waitUntil(lambda: fake.settings_view.language == "id")
    _save_button(dialog).click()
    qtbot.waitUntil(lambda: dialog.saved_view is not None)
    assert fake.settings_view.language == "id"
    assert app.translations.language == "id"


def test_zero_reads_as_never_and_always(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """0 minutes of idle time and 0 days of history say what they mean, in words."""
    dialog = _settings(qtbot, make_app(FakeService(messages=2)))
    dialog.auto_lock.setValue(0)
    dialog.retention.setValue(0)
    assert (dialog.auto_lock.text(), dialog.retention.text()) == ("Never", "Always")
