"""The counselor directory ("Find a counselor"): wrapping entries, what it says when there is
nothing to choose, and a choose button that follows the visible selection."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from securechat.api import DirectoryEntry
from securechat.errors import RelayUnavailable
from tests.ui.conftest import unlocked_window
from tests.ui.fake_service import INVITE_LINK, FakeService
from ui.app import SecureChatApp
from ui.common.labels import PlainLabel
from ui.consent.invite import InvitePage

LONG_TOPICS = (
    "anxiety and worry about the future",
    "family conflict and relationships with parents",
    "grief after losing someone close",
    "self-esteem, body image and confidence",
    "cyberbullying" + "-and-online-harassment" * 4,  # one long run without a space
)


def _page(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp], fake: FakeService
) -> tuple[SecureChatApp, InvitePage]:
    app = make_app(fake)
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.invite_page)
    return app, window.invite_page


def _load(qtbot: QtBot, page: InvitePage) -> None:
    page.load_button.click()
    qtbot.waitUntil(page.busy.isHidden)


def _state(page: InvitePage) -> PlainLabel:
    """The sentence shown in place of the list."""
    found = page.findChild(PlainLabel, "directoryState")
    assert found is not None
    return found


def test_long_entries_wrap_instead_of_scrolling_sideways(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """At the narrowest the window goes, a long topic line wraps inside the list's width."""
    fake = FakeService(conversations=0)
    fake.directory_entries = [
        DirectoryEntry(INVITE_LINK, "Rina Wulandari, M.Psi.", LONG_TOPICS, ("id", "en"))
    ]
    app, page = _page(qtbot, make_app, fake)
    window = app.main_window
    assert window is not None
    window.resize(window.minimumSizeHint().width(), 700)
    _load(qtbot, page)
    qtbot.wait(50)
    view = page.directory_list
    rect = view.visualItemRect(view.item(0))
    assert view.horizontalScrollBar().maximum() == 0
    assert rect.right() <= view.viewport().width()
    assert rect.height() > 3 * view.fontMetrics().height()  # wrapped onto several lines


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "No counselors have listed themselves on this relay yet"),
        ("id", "Belum ada konselor yang mendaftarkan diri di relay ini"),
    ],
)
def test_an_empty_directory_says_so_and_what_to_do(
    qtbot: QtBot,
    make_app: Callable[[FakeService], SecureChatApp],
    language: str,
    expected: str,
) -> None:
    """Nobody listed: a kind sentence in place of the list, pointing to an invite link."""
    fake = FakeService(conversations=0)
    fake.directory_entries = []
    app, page = _page(qtbot, make_app, fake)
    app.set_language(language)
    _load(qtbot, page)
    assert _state(page).isVisibleTo(page)
    assert not page.directory_list.isVisibleTo(page)
    assert expected in _state(page).text()
    assert ("invite link" if language == "en" else "tautan undangan") in (_state(page).text())


def test_filters_that_match_nobody_say_so(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A topic and a language nobody offers together: a sentence instead of an empty list."""
    _app, page = _page(qtbot, make_app, FakeService(conversations=0))
    _load(qtbot, page)
    page.spec_filter.setCurrentIndex(page.spec_filter.findData("family"))
    page.lang_filter.setCurrentIndex(page.lang_filter.findData("en"))
    assert page.visible_counselors() == []
    assert _state(page).isVisibleTo(page)
    assert "Any topic" in _state(page).text()


def test_the_choose_button_follows_a_visible_selection(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """When a filter hides the selected counselor, "Read this counselor's disclosure" is
    disabled (it would do nothing) until a visible entry is selected again."""
    fake = FakeService(conversations=0)
    _app, page = _page(qtbot, make_app, fake)
    _load(qtbot, page)
    page.directory_list.setCurrentRow(1)  # Andreas Putra: Indonesian only
    assert page.choose_button.isEnabled()
    page.lang_filter.setCurrentIndex(page.lang_filter.findData("en"))
    assert "Andreas Putra, M.Psi." not in page.visible_counselors()
    assert not page.choose_button.isEnabled()
    page.directory_list.setCurrentRow(2)
    assert page.choose_button.isEnabled()


def test_loading_says_so_and_cannot_be_started_twice(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """While the relay is asked, a sentence says so and "Show counselors" waits."""
    fake = FakeService(conversations=0)
    fake.directory_delay = 0.5
    _app, page = _page(qtbot, make_app, fake)
    page.load_button.click()
    assert "Looking for counselors" in _state(page).text()
    assert not page.load_button.isEnabled()
    qtbot.waitUntil(lambda: page.directory_list.isVisibleTo(page), timeout=5000)
    assert page.load_button.isEnabled()
    assert len(fake.called("directory")) == 1


def test_an_unreachable_relay_says_what_to_do(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The relay out of reach: the list's own sentence says so and how to try again (not the
    chat's "your messages will be sent later")."""
    fake = FakeService(conversations=0)
    fake.directory_error = RelayUnavailable()
    _app, page = _page(qtbot, make_app, fake)
    _load(qtbot, page)
    text = _state(page).text()
    assert "could not be loaded" in text
    assert "Show counselors" in text
    assert "messages" not in text
    assert page.load_button.isEnabled()


def test_a_strangers_entry_is_shown_as_plain_text(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Markup shows literally; a line break or direction mark in a name cannot forge a line."""
    fake = FakeService(conversations=0)
    fake.directory_entries = [
        DirectoryEntry(INVITE_LINK, "<b>Dr</b>\nVerified ‮x", ("<img src=x>",), ("en",))
    ]
    _app, page = _page(qtbot, make_app, fake)
    _load(qtbot, page)
    lines = page.directory_list.item(0).text().split("\n")
    assert lines[0] == "<b>Dr</b> Verified x"
    assert lines[1].startswith("<img src=x>")


def test_a_late_answer_after_a_lock_is_dropped(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Entries that arrive after the page was cleared (lock, quick exit) are not shown."""
    fake = FakeService(conversations=0)
    fake.directory_delay = 0.3
    _app, page = _page(qtbot, make_app, fake)
    page.load_button.click()
    page.clear_sensitive()
    qtbot.wait(600)
    assert page.directory_list.count() == 0


def test_many_entries_with_long_topics_do_not_widen_the_window(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A hundred counselors, with long topics in the filter box, leave the window's minimum
    width as it was."""
    fake = FakeService(conversations=0)
    app, page = _page(qtbot, make_app, fake)
    window = app.main_window
    assert window is not None
    before = window.minimumSizeHint().width()
    fake.directory_entries = [
        DirectoryEntry(f"{INVITE_LINK}{n}", f"Counselor {n}", (LONG_TOPICS[n % 5],), ("id",))
        for n in range(100)
    ]
    _load(qtbot, page)
    qtbot.wait(50)
    assert page.directory_list.count() == 100
    assert window.minimumSizeHint().width() <= before
