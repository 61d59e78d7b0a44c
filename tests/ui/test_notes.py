"""Counselor notes: beside the chat, autosaved, searchable; clients never see them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from securechat.api import Role
from tests.ui.conftest import unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.notes.panel import AUTOSAVE_MS, NotesPanel


def _counselor(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> tuple[FakeService, SecureChatApp, NotesPanel]:
    fake = FakeService(role=Role.COUNSELOR, messages=4, conversations=2)
    app = make_app(fake)
    window = unlocked_window(qtbot, app)
    qtbot.waitUntil(lambda: window.notes.conversation_id == "c1")
    return fake, app, window.notes


def test_notes_autosave_after_typing_pauses(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Typing in a SOAP section saves once, after the debounce, as one revision of one note."""
    fake, _app, notes = _counselor(qtbot, make_app)
    assert notes.isVisibleTo(notes.window())
    assert list(notes.editors) == ["Subjective", "Objective", "Assessment", "Plan"]
    assert AUTOSAVE_MS == 1500
    notes._timer.setInterval(100)  # same debounce logic, shorter for the test
    notes.editors["Subjective"].setPlainText("Reports poor sleep before exams.")
    notes.editors["Plan"].setPlainText("Evening walk; sleep diary.")
    assert fake.called("save_note") == []  # debounced: nothing saved mid-typing
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 1)
    cid, note_id, template, sections = fake.called("save_note")[0]
    assert (cid, note_id, template) == ("c1", None, "soap")
    assert ("Subjective", "Reports poor sleep before exams.") in sections
    qtbot.waitUntil(lambda: notes.note_id is not None)
    qtbot.waitUntil(lambda: notes.status.text() == "Saved")
    notes.editors["Objective"].setPlainText("Calm, clear.")
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 2)
    assert fake.called("save_note")[1][1] == notes.note_id  # a revision, not a new note
    qtbot.waitUntil(lambda: notes.listed_labels() != [])


def test_notes_save_on_focus_loss_and_switch(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Leaving an editor, or switching conversation, saves at once without waiting."""
    fake, app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(60_000)
    editor = notes.editors["Assessment"]
    editor.setPlainText("Stress linked to exams; no risk indicators.")
    QApplication.sendEvent(editor, QFocusEvent(QEvent.Type.FocusOut))
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 1)
    qtbot.waitUntil(lambda: notes.note_id is not None)
    notes.editors["Plan"].setPlainText("Follow up next week.")
    assert app.main_window is not None
    app.main_window.open_conversation("c2")
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 2)
    assert fake.called("save_note")[1][0] == "c1"
    assert notes.conversation_id == "c2"
    assert notes.editors["Plan"].toPlainText() == ""


def test_notes_search(qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]) -> None:
    """The search box lists the notes whose text matches, and clearing it lists this client's notes."""
    fake, _app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(50)
    notes.session_edit.setText("Session 1")
    notes.editors["Subjective"].setPlainText("Talked about grief after losing a grandparent.")
    qtbot.waitUntil(lambda: notes.note_id is not None)
    notes.new_button.click()
    notes.session_edit.setText("Session 2")
    notes.editors["Subjective"].setPlainText("Exam stress again.")
    qtbot.waitUntil(lambda: len(fake.notes_by_id) == 2)
    notes.search.setText("grief")
    qtbot.waitUntil(lambda: fake.called("search_notes") == [("grief",)])
    qtbot.waitUntil(lambda: notes.listed_labels() == ["Session 1"])
    notes.search.setText("")
    qtbot.waitUntil(lambda: sorted(notes.listed_labels()) == ["Session 1", "Session 2"])


def test_clients_have_no_notes_panel(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """A client's window never shows the notes panel."""
    app = make_app(FakeService(messages=2))
    unlock(qtbot, app)
    assert app.main_window is not None
    assert not app.main_window.notes.isVisibleTo(app.main_window)


def test_search_hit_in_another_conversation_opens_it(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Choosing a search hit from another client opens that conversation and that note."""
    fake, app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(50)
    notes.session_edit.setText("Budi, session 1")
    notes.editors["Subjective"].setPlainText("Panic before presentations.")
    qtbot.waitUntil(lambda: notes.note_id is not None)
    window = app.main_window
    assert window is not None
    window.open_conversation("c2")
    qtbot.waitUntil(lambda: notes.conversation_id == "c2")
    notes.search.setText("panic")
    qtbot.waitUntil(lambda: ("panic",) in fake.called("search_notes"))
    qtbot.waitUntil(lambda: notes.listed_labels() == ["Budi, session 1"])
    notes.on_note_chosen(notes.note_list.item(0))
    qtbot.waitUntil(
        lambda: (
            window.chat.conversation is not None
            and window.chat.conversation.conversation_id == "c1"
        )
    )
    assert notes.conversation_id == "c1"
    assert notes.editors["Subjective"].toPlainText() == "Panic before presentations."


def test_notes_say_what_to_do_until_a_conversation_is_chosen(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """With no conversation open the notes panel is disabled and says why; the hint goes
    once a conversation is open, and comes back when the panel is cleared (lock)."""
    window = unlocked_window(qtbot, make_app(FakeService(role=Role.COUNSELOR, conversations=0)))
    notes = window.notes
    assert not notes.isEnabled()
    assert notes.choose_hint.isVisibleTo(notes)
    assert notes.choose_hint.text() == (
        "Choose a conversation to read its notes and write new ones."
    )
    notes.show_conversation("c1")
    assert notes.isEnabled()
    assert not notes.choose_hint.isVisibleTo(notes)
    notes.clear_sensitive()
    assert not notes.isEnabled()
    assert notes.choose_hint.isVisibleTo(notes)
