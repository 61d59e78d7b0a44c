"""Chat: sending with delivery states, receiving, plain peer text, paging, key changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from securechat.api import DeliveryState, MessageKind, SessionSummary
from tests.ui.conftest import counselor_fake, unlock
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.chat.model import MESSAGE_ROLE, MessageListModel
from ui.chat.panel import ChatPanel
from ui.chat.summary import TaskDialog


def _open_chat(qtbot: QtBot, app: SecureChatApp) -> ChatPanel:
    unlock(qtbot, app)
    assert app.main_window is not None
    chat = app.main_window.chat
    qtbot.waitUntil(lambda: chat.model is not None and chat.model.is_open)
    return chat


def _texts(model: MessageListModel) -> list[str]:
    return [model.message(r).text for r in range(model.rowCount())]


def test_sent_message_shows_delivery_state_and_incoming_appears(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A sent message appears as "Waiting to send", follows DeliveryChanged; MessageReceived adds the peer's."""
    fake = FakeService(messages=12)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    model = chat.model
    assert model is not None
    assert model.rowCount() == 12
    assert not chat.send_button.isEnabled()
    chat.input.setPlainText("I tried walking again yesterday.")
    assert chat.send_button.isEnabled()
    chat.send_button.click()
    qtbot.waitUntil(lambda: model.rowCount() == 13)
    last = model.index(12, 0)
    message = last.data(MESSAGE_ROLE)
    assert message.text == "I tried walking again yesterday."
    assert message.state is DeliveryState.QUEUED
    assert "Waiting to send" in last.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "Waiting to send" in chat.delegate.footer(message)
    assert chat.input.toPlainText() == ""
    fake.set_state("c1", message.message_id, DeliveryState.DELIVERED)
    qtbot.waitUntil(lambda: model.index(12, 0).data(MESSAGE_ROLE).state is DeliveryState.DELIVERED)
    assert "✓✓ Delivered" in chat.delegate.footer(model.index(12, 0).data(MESSAGE_ROLE))
    fake.set_state("c1", message.message_id, DeliveryState.FAILED)
    qtbot.waitUntil(
        lambda: "Not delivered" in model.index(12, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    )

    fake.receive("c1", "Well done. How did it feel?")
    qtbot.waitUntil(lambda: model.rowCount() == 14)
    incoming = model.index(13, 0).data(MESSAGE_ROLE)
    assert incoming.text == "Well done. How did it feel?"
    assert not incoming.outgoing


def test_enter_sends_and_shift_enter_adds_a_line(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Enter sends; Shift+Enter inserts a new line instead."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    chat.input.setPlainText("first line")
    chat.input.moveCursor(chat.input.textCursor().MoveOperation.End)
    qtbot.keyClick(chat.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert chat.input.toPlainText() == "first line\n"
    qtbot.keyClicks(chat.input, "second")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: fake.called("send_text") != [])
    assert fake.called("send_text")[0] == ("c1", "first line\nsecond")


def test_peer_html_is_shown_literally(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Peer text with <b>html</b> or <img src=...> is laid out and drawn as the literal characters."""
    fake = FakeService(messages=1)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    model = chat.model
    assert model is not None
    hostile = '<b>html</b> <img src="file:///etc/passwd"> <a href="x">link</a>'
    fake.receive("c1", hostile)
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    message = model.index(1, 0).data(MESSAGE_ROLE)
    assert model.index(1, 0).data(Qt.ItemDataRole.DisplayRole) == hostile
    assert chat.delegate.body(message) == hostile
    # the tags take up room on screen: they are characters, not markup
    font = QFont(chat.view.font())
    plain = chat.delegate._layout(type(message)(**{**message.__dict__, "text": "html"}), 800, font)[
        1
    ]
    tagged = chat.delegate._layout(
        type(message)(**{**message.__dict__, "text": "<b>html</b>"}), 800, font
    )[1]
    assert tagged.width() > plain.width()
    assert "<b>html</b>" in model.index(1, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    # render the view once with the hostile row visible: no crash, nothing loaded
    chat.view.grab()


def test_paged_model_loads_older_pages_only_at_the_top(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A long conversation opens with its newest page; older pages load when the top is reached."""
    fake = FakeService(messages=1000)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    model = chat.model
    assert model is not None
    assert model.rowCount() == model.page_size
    assert model.message(model.rowCount() - 1).message_id == "c1-m999"
    model.set_older_wanted(False)
    assert not model.canFetchMore(QModelIndex())
    chat.view.verticalScrollBar().setValue(0)
    chat.view.on_scrolled(0)  # as the scroll bar reports it, even if it already sat at 0
    qtbot.waitUntil(lambda: model.rowCount() == 2 * model.page_size)
    assert model.message(0).message_id == "c1-m800"
    ids = [model.message(r).message_id for r in range(model.rowCount())]
    assert len(ids) == len(set(ids))


def test_key_change_blocks_sending_until_confirmed(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """SafetyNumberChanged shows a banner and disables sending until "I have checked it"."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    assert chat.can_send()
    fake.change_key("c1")
    qtbot.waitUntil(lambda: chat.key_banner.isVisibleTo(chat))
    assert not chat.input.isEnabled()
    assert not chat.send_button.isEnabled()
    chat.confirm_key_button.click()
    qtbot.waitUntil(lambda: not chat.key_banner.isVisibleTo(chat))
    assert fake.called("confirm_key_change") == [("c1",)]
    assert chat.input.isEnabled()


def test_consent_required_pauses_sending(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A new disclosure version (ConsentRequired) disables the send box with a banner."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    fake.require_consent("c1", 2)
    qtbot.waitUntil(lambda: chat.consent_banner.isVisibleTo(chat))
    assert not chat.input.isEnabled()


def test_client_ticks_summary_tasks(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A received session summary shows key points and tasks; ticking one calls set_task_done."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    model = chat.model
    assert model is not None
    summary = SessionSummary(("Sleep matters",), ("Walk 15 minutes", "Write three good things"))
    mid = fake.receive("c1", "", MessageKind.SUMMARY, summary)
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    body = chat.delegate.body(model.message(2))
    assert "Sleep matters" in body
    assert "☐  Walk 15 minutes" in body
    chat.on_task_toggled(mid, 1, True)
    qtbot.waitUntil(lambda: fake.called("set_task_done") == [(mid, 1, True)])
    assert "☑  Write three good things" in chat.delegate.body(model.message(2))


def test_consent_required_for_another_conversation_is_kept(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """ConsentRequired for a conversation not on screen pauses sending when it is opened."""
    fake = FakeService(messages=2, conversations=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    window = app.main_window
    assert window is not None
    first = chat._cid()
    other = "c2" if first == "c1" else "c1"
    fake.require_consent(other, 2)
    qtbot.waitUntil(lambda: other in window.consent_pending)
    assert chat.can_send()
    window.open_conversation(other)
    assert chat._cid() == other
    assert not chat.can_send()
    assert chat.consent_banner.isVisibleTo(chat)


def test_consent_on_record_is_shown_with_version_and_language(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The chat header says which disclosure version and language the consent covers."""
    app = make_app(FakeService(messages=2))
    chat = _open_chat(qtbot, app)
    assert chat.consent_label.text() == "Consent on record: disclosure version 1, English"
    app.set_language("id")
    qtbot.waitUntil(lambda: "versi 1, English" in chat.consent_label.text())
    app.set_language("en")


def test_an_open_conversation_shows_no_unread_count(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The list says "2 new" until the conversation is opened; while it is open, a listing
    taken a moment before the read (still counting it unread) does not bring the count back."""
    fake = FakeService(messages=12, conversations=2)
    fake.fill("c2", 4)
    fake.convs["c2"] = dataclasses.replace(fake.convs["c2"], unread=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    window = app.main_window
    assert window is not None

    def shown(cid: str) -> str:
        row = window.conversations.find(cid)
        assert row is not None
        return str(window.conversations.index(row, 0).data(Qt.ItemDataRole.DisplayRole))

    assert shown("c2").endswith("2 new")
    window.open_conversation("c2")
    assert "new" not in shown("c2")
    qtbot.waitUntil(lambda: chat.model is not None and chat.model.is_open)
    qtbot.waitUntil(lambda: fake.convs["c2"].unread == 0)  # the fake, like the core, read it
    stale = [dataclasses.replace(v, unread=1) for v in fake.convs.values()]
    window.on_conversations_listed(stale)
    assert "new" not in shown("c2")
    assert shown("c1").endswith("1 new")  # not open: its count stays


def test_chat_actions_wrap_when_the_panel_is_narrow(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The action buttons ask for no more width than the widest of them: in a narrow panel
    they wrap onto more rows, and every one stays inside the panel."""
    fake = counselor_fake()
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    buttons = [b for b in chat.action_row.findChildren(QPushButton) if b.isVisibleTo(chat)]
    assert len(buttons) >= 3
    widest = max(b.sizeHint().width() for b in buttons)
    in_a_row = sum(b.sizeHint().width() for b in buttons)
    assert chat.action_row.minimumSizeHint().width() < in_a_row
    flow = chat.action_row.layout()
    assert flow is not None
    chat.action_row.resize(widest + 10, flow.heightForWidth(widest + 10))
    flow.setGeometry(chat.action_row.rect())
    rows = {b.geometry().top() for b in buttons}
    assert len(rows) >= 2
    for b in buttons:
        assert chat.action_row.rect().contains(b.geometry())
    wide = in_a_row + 100
    flow.setGeometry(chat.action_row.rect().adjusted(0, 0, wide, 0))
    assert len({b.geometry().top() for b in buttons}) == 1


def test_a_long_name_in_the_list_is_shortened_not_scrolled(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A name wider than the conversation list is shortened in the middle: the list never
    scrolls sideways, and the full text (with the unread count) stays the accessible text."""
    fake = FakeService(messages=3, conversations=2)
    long_name = "Rina Wulandari Kusumaningtyas Prameswari, M.Psi., Psikolog"
    fake.convs["c2"] = dataclasses.replace(fake.convs["c2"], peer_name=long_name, unread=2)
    app = make_app(fake)
    _open_chat(qtbot, app)
    window = app.main_window
    assert window is not None
    window.splitter.setSizes([200, 800, 0])
    qtbot.wait(50)
    row = window.conversations.find("c2")
    assert row is not None
    index = window.conversations.index(row, 0)
    assert window.conversation_list.sizeHintForColumn(0) > window.conversation_list.width()
    assert not window.conversation_list.horizontalScrollBar().isVisible()
    assert window.conversation_list.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == f"{long_name}  ·  2 new"


def test_double_clicking_a_summary_opens_its_tasks_once(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A double-click is also an activation; the task list opens once, not twice in a row."""
    fake = FakeService(messages=2)
    app = make_app(fake)
    chat = _open_chat(qtbot, app)
    model = chat.model
    assert model is not None
    fake.receive("c1", "", MessageKind.SUMMARY, SessionSummary(("Sleep",), ("Walk",)))
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    opened: list[TaskDialog] = []

    def close_task_dialogs() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, TaskDialog):
            opened.append(dialog)
            dialog.reject()

    poll = QTimer()
    poll.timeout.connect(close_task_dialogs)
    poll.start(20)
    rect = chat.view.visualRect(model.index(2, 0))
    viewport = chat.view.viewport()
    # what a mouse sends for a double-click: press, release, then the double-click
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.wait(200)
    poll.stop()
    assert len(opened) == 1
