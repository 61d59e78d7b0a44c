"""The bridge, the error map and the plain-text label."""

from __future__ import annotations

import asyncio
import threading

import shiboken6
from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

from securechat.api import ConversationStarted, MessageReceived
from securechat.errors import RelayUnavailable
from tests.ui.fake_service import FakeService, WrongPassphrase
from ui.bridge import Bridge
from ui.common.labels import PlainLabel
from ui.errors import GENERIC, message_for


def test_bridge_delivers_results_and_errors_on_the_gui_thread(qtbot: QtBot, bridge: Bridge) -> None:
    """Results and errors come back on the GUI thread; the command ran on the worker thread."""
    seen: dict[str, object] = {}

    async def where(_service: object) -> str:
        return threading.current_thread().name

    def on_result(name: str) -> None:
        seen["ran_on"] = name
        seen["callback_on"] = threading.current_thread().name

    bridge.call(where, on_result)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: "callback_on" in seen)
    assert seen["ran_on"] == "securechat-core"
    assert seen["callback_on"] == threading.main_thread().name
    bridge.call(lambda s: s.unlock("ayu", "wrong"), on_error=lambda e: seen.update(error=e))
    qtbot.waitUntil(lambda: "error" in seen)
    assert isinstance(seen["error"], WrongPassphrase)


def test_bridge_turns_events_into_signals(qtbot: QtBot, bridge: Bridge, fake: FakeService) -> None:
    """A core event arrives as the matching Qt signal carrying ids only."""
    bridge.call(lambda s: s.sync())
    with qtbot.waitSignal(bridge.message_received) as blocker:
        fake.emit(MessageReceived("c1", "m9"))
    assert blocker.args == ["c1", "m9"]


def test_bridge_drops_callbacks_of_deleted_owners(qtbot: QtBot, bridge: Bridge) -> None:
    """A callback whose owner widget is gone is not called."""
    owner = QObject()
    called: list[object] = []
    gate = threading.Event()

    async def gated(_service: object) -> str:
        await asyncio.get_running_loop().run_in_executor(None, gate.wait)
        return "done"

    bridge.call(gated, called.append, owner=owner)  # type: ignore[arg-type]
    shiboken6.delete(owner)
    gate.set()
    qtbot.waitUntil(lambda: not bridge._callbacks)
    assert called == []


def test_bridge_shutdown_joins_the_thread(qapp: object) -> None:
    """shutdown() stops the loop and joins the worker thread, twice without harm."""
    b = Bridge(lambda: FakeService())
    b.start()
    assert b._thread.is_alive()
    b.shutdown()
    b.shutdown()
    assert not b._thread.is_alive()
    assert not b.running


def test_error_messages_are_fixed_and_mapped_by_class_name(qapp: object) -> None:
    """Known errors (and subclasses) get their message; unknown ones the generic; no echo."""

    class WrongPassphraseTooManyTimes(WrongPassphrase):
        pass

    assert "passphrase" in message_for(WrongPassphrase("<b>secret</b>"))
    assert message_for(WrongPassphraseTooManyTimes()) == message_for(WrongPassphrase)
    assert message_for(RuntimeError("leak me")) == GENERIC
    assert "leak" not in message_for(RuntimeError("leak me"))


def test_an_unreachable_relay_asks_to_try_again_and_promises_no_sending(qapp: object) -> None:
    """The error comes from one-off requests (publish, the directory, an invite), which nobody
    retries by themselves; chat messages wait in the outbox and raise nothing. So the message
    asks the person to try again instead of promising that something will be sent later."""
    text = message_for(RelayUnavailable())
    assert "try again" in text
    assert "sent later" not in text


def test_plain_label_never_renders_rich_text(qtbot: QtBot) -> None:
    """PlainLabel stays plain text even when asked for rich text."""
    label = PlainLabel('<b>bold</b><img src="x">')
    qtbot.addWidget(label)
    label.setTextFormat(Qt.TextFormat.RichText)
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == '<b>bold</b><img src="x">'
    assert not label.openExternalLinks()


def test_bridge_reopens_a_failed_event_stream(qtbot: QtBot) -> None:
    """If events() fails (e.g. before unlock), the bridge opens it again and events still arrive."""

    class FlakyEvents(FakeService):
        opened = 0

        def events(self):  # type: ignore[no-untyped-def, override]
            FlakyEvents.opened += 1
            if FlakyEvents.opened == 1:
                raise RuntimeError("not unlocked yet")
            return super().events()

    fake = FlakyEvents()
    b = Bridge(lambda: fake)
    b.start()
    try:
        qtbot.waitUntil(lambda: FlakyEvents.opened >= 2, timeout=5000)
        with qtbot.waitSignal(b.conversation_started, timeout=5000) as blocker:
            fake.emit(ConversationStarted("c9"))
        assert blocker.args == ["c9"]
    finally:
        b.shutdown()


def test_deferred_bridge_builds_the_service_on_release(qtbot: QtBot, fake: FakeService) -> None:
    """With start(deferred=True) the factory waits for release() and runs on the worker
    thread; a command issued before then waits for the service instead of being dropped."""
    built_on: list[str] = []

    def factory() -> FakeService:
        built_on.append(threading.current_thread().name)
        return fake

    b = Bridge(factory)
    try:
        b.start(deferred=True)
        answers: list[object] = []
        assert b.call(lambda s: s.list_profiles(), answers.append) > 0
        qtbot.wait(100)
        assert built_on == []
        assert answers == []
        b.release()
        qtbot.waitUntil(lambda: answers != [])
        assert built_on == ["securechat-core"]
        assert [p.name for p in answers[0]] == ["ayu"]  # type: ignore[attr-defined]
    finally:
        b.shutdown()
