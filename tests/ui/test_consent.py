"""The disclosure-and-consent gate: nothing can be sent before an explicit "I agree"."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from tests.ui.conftest import unlock
from tests.ui.fake_service import INVITE_LINK, FakeService
from ui.app import SecureChatApp


def _open_invite(qtbot: QtBot, app: SecureChatApp) -> None:
    window = app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.invite_page)
    window.invite_page.link_edit.setText(INVITE_LINK)
    window.invite_page.open_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.consent_page)


def test_send_disabled_until_consent(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The send box is disabled before consent and enabled only after tick + "I agree"."""
    fake = FakeService(conversations=0)
    app = make_app(fake)
    unlock(qtbot, app)
    _open_invite(qtbot, app)
    assert app.main_window is not None
    page = app.main_window.consent_page
    assert page.name_value.text() == "Rina Wulandari, M.Psi."
    assert "not an emergency service" in page.text.toPlainText()
    assert "version 1" in page.version_label.text()
    assert not page.input.isEnabled()
    assert not page.send_button.isEnabled()
    assert not page.accept_button.isEnabled()
    page.understood.setChecked(True)
    assert page.accept_button.isEnabled()
    assert not page.input.isEnabled()
    page.accept_button.click()
    assert page.input.isEnabled()
    assert not page.send_button.isEnabled()  # nothing typed yet
    page.input.setPlainText("Hello, I would like to talk about exam stress.")
    assert page.send_button.isEnabled()
    assert fake.called("consent") == []
    page.send_button.click()
    qtbot.waitUntil(lambda: fake.called("consent") != [])
    invite_id, language, first = fake.called("consent")[0]
    assert invite_id == "inv1"
    assert language == "en"
    assert first == "Hello, I would like to talk about exam stress."
    window = app.main_window
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.chat)
    qtbot.waitUntil(lambda: window.chat.model is not None and window.chat.model.rowCount() == 1)
    assert window.chat.can_send()


def test_changing_disclosure_language_asks_again(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Switching the disclosure's language withdraws an earlier "I agree" for the other text."""
    app = make_app(FakeService(conversations=0))
    unlock(qtbot, app)
    _open_invite(qtbot, app)
    assert app.main_window is not None
    page = app.main_window.consent_page
    page.understood.setChecked(True)
    page.accept_button.click()
    assert page.input.isEnabled()
    page.language_box.setCurrentIndex(1 - page.language_box.currentIndex())
    assert not page.input.isEnabled()
    assert not page.understood.isChecked()


def test_decline_sends_nothing(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """ "Not now" goes back to finding a counselor and never calls consent."""
    fake = FakeService(conversations=0)
    app = make_app(fake)
    unlock(qtbot, app)
    _open_invite(qtbot, app)
    window = app.main_window
    assert window is not None
    window.consent_page.decline_button.click()
    assert window.stack.currentWidget() is window.invite_page
    assert fake.called("consent") == []
    assert window.consent_page.text.toPlainText() == ""


def test_invalid_invite_shows_mapped_error(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A bad link shows the fixed message for InvalidInvite, not the link."""
    app = make_app(FakeService(conversations=0))
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    window.invite_page.link_edit.setText("https://evil.example/<b>x</b>")
    window.invite_page.open_button.click()
    qtbot.waitUntil(lambda: window.invite_page.error.isVisibleTo(window.invite_page))
    assert "invite link is not valid" in window.invite_page.error.text()
    assert "evil" not in window.invite_page.error.text()


def test_directory_filters(qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]) -> None:
    """The directory lists counselors and filters them by topic and language."""
    app = make_app(FakeService(conversations=0))
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    page = window.invite_page
    page.load_button.click()
    qtbot.waitUntil(lambda: page.directory_list.count() == 3)
    page.lang_filter.setCurrentIndex(page.lang_filter.findData("en"))
    assert page.visible_counselors() == ["Rina Wulandari, M.Psi.", "Maya Lestari, S.Psi."]
    page.spec_filter.setCurrentIndex(page.spec_filter.findData("relationships"))
    assert page.visible_counselors() == ["Maya Lestari, S.Psi."]
    page.directory_list.setCurrentRow(2)
    page.choose_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.consent_page)
