"""Settings, the counselor's summary and referral actions, and the ui/tests boundary."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from securechat.api import MessageKind, Role, SessionSummary
from securechat.errors import InvalidInput
from tests.ui.conftest import unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.chat.summary import ReferralDialog, SummaryComposer
from ui.settings.dialog import SettingsDialog


def _when_modal(kind: type[QDialog], act: Callable[[QDialog], None]) -> None:
    """Act on the next modal dialog of `kind` once it is shown."""

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, kind):
            act(widget)
        else:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(10, poll)


def test_settings_save_applies_language_and_auto_lock(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Saving settings stores them in the core and applies language and auto-lock at once."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    window.settings_button.click()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    dialog.language.setCurrentIndex(dialog.language.findData("id"))
    dialog.auto_lock.setValue(3)
    dialog.relay.setText("wss://relay.example.net")
    dialog.on_save_clicked()
    qtbot.waitUntil(lambda: app.settings is not None and app.settings.auto_lock_minutes == 3)
    saved = fake.called("update_settings")[0][0]
    assert saved.relay_url == "wss://relay.example.net"
    assert app.guard._timer.interval() == 3 * 60_000
    qtbot.waitUntil(lambda: window.chat.send_button.text() == "Kirim")
    assert window.invite_page.relay_url == "wss://relay.example.net"
    app.set_language("en")


def test_change_passphrase_clears_fields(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Changing the passphrase calls the core and leaves no passphrase in the fields."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    unlock(qtbot, app)
    assert app.settings is not None
    dialog = SettingsDialog(app.bridge, app.settings)
    qtbot.addWidget(dialog)
    dialog.old_pass.setText("correct horse battery")
    dialog.new_pass.setText("a brand new passphrase")
    dialog.new_pass2.setText("a brand new passphrase")
    dialog.change_button.click()
    assert dialog.old_pass.text() == dialog.new_pass.text() == dialog.new_pass2.text() == ""
    qtbot.waitUntil(lambda: fake.passphrase == "a brand new passphrase")
    qtbot.waitUntil(lambda: "changed" in dialog.pass_state.text())


def test_counselor_sends_summary_and_referral(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The counselor's composer sends key points and tasks; the referral sends crisis numbers."""
    fake = FakeService(role=Role.COUNSELOR, messages=2)
    chat = unlocked_window(qtbot, make_app(fake)).chat
    qtbot.waitUntil(lambda: chat.model is not None and chat.model.is_open)
    assert chat.summary_button.isVisibleTo(chat)
    assert not chat.withdraw_button.isVisibleTo(chat)

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, SummaryComposer)
        dialog.points.setPlainText("Sleep matters\n\nWalking helps")
        dialog.tasks.setPlainText("Walk 15 minutes")
        dialog.accept()

    _when_modal(SummaryComposer, fill)
    chat.summary_button.click()
    qtbot.waitUntil(lambda: fake.called("send_summary") != [])
    assert fake.called("send_summary")[0] == (
        "c1",
        SessionSummary(("Sleep matters", "Walking helps"), ("Walk 15 minutes",)),
    )
    model = chat.model
    assert model is not None
    qtbot.waitUntil(lambda: model.message(model.rowCount() - 1).kind is MessageKind.SUMMARY)

    def send(dialog: QDialog) -> None:
        assert isinstance(dialog, ReferralDialog)
        assert dialog.language() == "id"
        dialog.accept()

    _when_modal(ReferralDialog, send)
    chat.referral_button.click()
    qtbot.waitUntil(lambda: fake.called("send_referral") == [("c1", "id")])
    qtbot.waitUntil(lambda: model.message(model.rowCount() - 1).kind is MessageKind.REFERRAL)
    assert "112" in model.message(model.rowCount() - 1).text


def test_ui_never_imports_the_test_double() -> None:
    """No module under ui/ imports from tests/ (the fake core stays a test double)."""
    root = Path(__file__).resolve().parents[2] / "ui"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("tests"), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("tests") for a in node.names), path


D = TypeVar("D", bound=QDialog)


def _counselor_dialog(qtbot: QtBot, app: SecureChatApp, button: str, kind: type[D]) -> D:
    """Unlock the counselor, click the sidebar `button` (which a counselor sees) and return
    the dialog of type `kind` it opened."""
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    clicked = getattr(window, button)
    assert clicked.isVisibleTo(window)
    clicked.click()
    dialog = window.findChild(kind)
    assert dialog is not None
    return dialog


def test_counselor_edits_disclosure(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The disclosure editor loads the current text and saves a new version per language."""
    from ui.consent.editor import DisclosureEditor

    fake = FakeService(role=Role.COUNSELOR, messages=1)
    editor = _counselor_dialog(qtbot, make_app(fake), "disclosure_button", DisclosureEditor)
    qtbot.waitUntil(lambda: "Tentang layanan ini" in editor.text.toPlainText())
    assert editor.version.text() == "Version 1"
    editor.on_template_clicked()
    assert "Dalam keadaan darurat" in editor.text.toPlainText()
    with qtbot.waitSignal(editor.disclosure_saved) as blocker:
        editor.save_button.click()
    assert blocker.args == ["id", 2]
    assert editor.version.text() == "Version 2"


def test_an_unpublished_disclosure_says_it_is_a_draft(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Before the first publication the editor says the text is a draft, and a save keeps
    its number (the service replaces a draft nobody has seen)."""
    from ui.consent.editor import DisclosureEditor

    fake = FakeService(role=Role.COUNSELOR, messages=1)
    fake.published = False
    editor = _counselor_dialog(qtbot, make_app(fake), "disclosure_button", DisclosureEditor)
    qtbot.waitUntil(lambda: "Tentang layanan ini" in editor.text.toPlainText())
    assert editor.version.text() == "Version 1 · draft, not published yet"
    editor.text.setPlainText("Teks baru sebelum diterbitkan.")
    with qtbot.waitSignal(editor.disclosure_saved) as blocker:
        editor.save_button.click()
    assert blocker.args == ["id", 1]
    assert editor.version.text() == "Version 1 · draft, not published yet"


def test_counselor_edits_public_profile(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """ "My profile" loads the public profile, saves edited fields, and shows a refused save."""
    from ui.consent.profile import CounselorProfileDialog

    fake = FakeService(role=Role.COUNSELOR, messages=1)
    dialog = _counselor_dialog(qtbot, make_app(fake), "profile_button", CounselorProfileDialog)
    qtbot.waitUntil(lambda: dialog.name_edit.text() == "Rina Wulandari, M.Psi.")
    assert dialog.topics_edit.text() == "stress, study"
    dialog.topics_edit.setText("grief,  family , ")
    dialog.response_hours.setValue(12)
    dialog.regenerate.setChecked(True)
    with qtbot.waitSignal(dialog.profile_saved):
        dialog.save_button.click()
    ((view, regenerate),) = fake.called("update_counselor_profile")
    assert view.specializations == ("grief", "family")
    assert view.response_time_hours == 12
    assert regenerate is True
    assert not dialog.regenerate.isChecked()
    dialog.name_edit.setText(" ")
    assert not dialog.save_button.isEnabled()
    dialog.on_failed(InvalidInput())
    assert dialog.error.isVisibleTo(dialog)
    assert "check what you entered" in dialog.error.text()


def test_invite_without_relay_points_to_settings(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A counselor with no relay address is sent to Settings, not told the invite is bad."""
    fake = FakeService(role=Role.COUNSELOR, messages=1)
    fake.settings_view = dataclasses.replace(fake.settings_view, relay_url="")
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    with qtbot.waitSignal(window.settings_requested):
        window.new_button.click()
    assert "relay address in Settings" in window.help_bar.status.text()
    assert fake.called("publish") == []


def test_counselor_keyboard_shortcuts(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Ctrl+PgDown/PgUp step through conversations; Ctrl+F, Ctrl+L and Ctrl+N are bound."""
    from PySide6.QtGui import QKeySequence, QShortcut

    fake = FakeService(role=Role.COUNSELOR, messages=2, conversations=3)
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.chat.conversation is not None)
    keys = {s.key().toString() for s in window.findChildren(QShortcut)}
    assert {"Ctrl+PgDown", "Ctrl+PgUp", "Ctrl+F", "Ctrl+L", "Ctrl+N"} <= keys
    assert QKeySequence("Ctrl+PgDown").toString() in keys
    first = window.chat.conversation
    assert first is not None
    window.step_conversation(1)
    assert window.chat.conversation is not None
    assert window.chat.conversation.conversation_id != first.conversation_id
    window.step_conversation(-1)
    assert window.chat.conversation.conversation_id == first.conversation_id
    window.focus_search()
    qtbot.waitUntil(lambda: window.notes.search.hasFocus() or not window.isActiveWindow())


def test_dates_follow_the_language(qapp: QApplication) -> None:
    """Message times use the app's language for month names."""
    from PySide6.QtCore import QLocale

    from securechat.api import DeliveryState, MessageView
    from ui.chat.delegate import MessageDelegate
    from ui.i18n import Translations

    message = MessageView(
        "m", "c", False, MessageKind.TEXT, "hi", 1_692_000_000.0, DeliveryState.DELIVERED
    )
    delegate = MessageDelegate()
    translations = Translations(qapp)
    translations.set_language("id")
    indonesian = delegate.footer(message)
    translations.set_language("en")
    english = delegate.footer(message)
    assert "Aug" in english  # 14 August 2023
    assert "Agu" in indonesian
    assert QLocale().language() == QLocale.Language.English


def test_an_open_settings_dialog_follows_a_language_switch(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Settings is not modal, so the help bar's language can change while it is open."""
    app = make_app(FakeService(messages=2))
    window = unlocked_window(qtbot, app)
    window.settings_button.click()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    app.set_language("id")
    qtbot.waitUntil(lambda: dialog.change_button.text() == "Ganti frasa sandi")
    assert dialog.windowTitle() == "Pengaturan"


def test_the_connection_state_follows_a_language_switch(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """'Connected' beside the app name is said again in the new language."""
    app = make_app(FakeService(messages=2))
    window = unlocked_window(qtbot, app)
    window.on_connection_changed("online")
    assert window.help_bar.status.text() == "Connected"
    app.set_language("id")
    qtbot.waitUntil(lambda: window.list_title.text() == "Percakapan")
    assert window.help_bar.status.text() == "Tersambung"


def test_tab_moves_on_from_the_summary_key_points(qtbot: QtBot) -> None:
    """Tab in the summary composer goes to the tasks box instead of typing a tab."""
    dialog = SummaryComposer()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.points.setFocus()
    qtbot.waitUntil(dialog.points.hasFocus)
    QTest.keyClicks(dialog.points, "Sleep matters")
    QTest.keyClick(dialog.points, Qt.Key.Key_Tab)
    assert dialog.points.toPlainText() == "Sleep matters"
    assert dialog.tasks.hasFocus()
