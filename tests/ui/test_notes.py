"""Counselor notes: beside the chat, autosaved, searchable; clients never see them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.backends.fail
from PySide6.QtCore import QEvent
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
from securechat import profiles
from securechat.api import Role
from securechat.notes import NoteBook
from securechat.service import Service
from tests.securechat.conftest import add_clients
from tests.ui.conftest import unlock, unlocked_window
from tests.ui.fake_service import FakeService
from ui.app import SecureChatApp
from ui.bridge import Bridge
from ui.i18n import Translations
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
    assert list(notes.editors) == ["subjective", "objective", "assessment", "plan"]
    assert AUTOSAVE_MS == 1500
    notes._timer.setInterval(100)  # same debounce logic, shorter for the test
    notes.editors["subjective"].setPlainText("Reports poor sleep before exams.")
    notes.editors["plan"].setPlainText("Evening walk; sleep diary.")
    assert fake.called("save_note") == []  # debounced: nothing saved mid-typing
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 1)
    cid, note_id, template, sections = fake.called("save_note")[0]
    assert (cid, note_id, template) == ("c1", None, "soap")
    assert ("subjective", "Reports poor sleep before exams.") in sections
    qtbot.waitUntil(lambda: notes.note_id is not None)
    qtbot.waitUntil(lambda: notes.status.text() == "Saved")
    notes.editors["objective"].setPlainText("Calm, clear.")
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 2)
    assert fake.called("save_note")[1][1] == notes.note_id  # a revision, not a new note
    qtbot.waitUntil(lambda: notes.listed_labels() != [])


def test_notes_save_on_focus_loss_and_switch(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Leaving an editor, or switching conversation, saves at once without waiting."""
    fake, app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(60_000)
    editor = notes.editors["assessment"]
    editor.setPlainText("Stress linked to exams; no risk indicators.")
    QApplication.sendEvent(editor, QFocusEvent(QEvent.Type.FocusOut))
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 1)
    qtbot.waitUntil(lambda: notes.note_id is not None)
    notes.editors["plan"].setPlainText("Follow up next week.")
    assert app.main_window is not None
    app.main_window.open_conversation("c2")
    qtbot.waitUntil(lambda: len(fake.called("save_note")) == 2)
    assert fake.called("save_note")[1][0] == "c1"
    assert notes.conversation_id == "c2"
    assert notes.editors["plan"].toPlainText() == ""


def test_notes_search(qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]) -> None:
    """The search box lists the notes whose text matches, and clearing it lists this client's notes."""
    fake, _app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(50)
    notes.session_edit.setText("Session 1")
    notes.editors["subjective"].setPlainText("Talked about grief after losing a grandparent.")
    qtbot.waitUntil(lambda: notes.note_id is not None)
    notes.new_button.click()
    notes.session_edit.setText("Session 2")
    notes.editors["subjective"].setPlainText("Exam stress again.")
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
    notes.editors["subjective"].setPlainText("Panic before presentations.")
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
    assert notes.editors["subjective"].toPlainText() == "Panic before presentations."


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


def test_a_saved_note_keeps_its_template(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The core revises a note's sections, never its template: once saved, the template box
    is off until a new note is started."""
    _fake, _app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(50)
    assert notes.template_box.isEnabled()
    notes.editors["subjective"].setPlainText("Exam stress.")
    qtbot.waitUntil(lambda: notes.note_id is not None)
    assert not notes.template_box.isEnabled()
    notes.new_button.click()
    assert notes.template_box.isEnabled()


def test_switching_a_new_note_to_another_template_keeps_its_text(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Text in a section the chosen template lacks moves into its last section, under its
    own heading, and the note saves."""
    fake, _app, notes = _counselor(qtbot, make_app)
    notes._timer.setInterval(60_000)
    notes.editors["subjective"].setPlainText("Sleeps badly.")
    notes.editors["plan"].setPlainText("Sleep diary.")
    notes.template_box.setCurrentIndex(notes.template_box.findData("dap"))
    assert list(notes.editors) == ["data", "assessment", "plan"]
    assert notes.editors["plan"].toPlainText() == "Sleep diary.\n\nSubjective\nSleeps badly."
    notes.flush()
    qtbot.waitUntil(lambda: notes.note_id is not None)
    assert fake.notes_by_id[notes.note_id].template == "dap"


def test_a_search_of_too_many_words_says_so_on_the_real_core(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    """On the real core (SQLCipher profile, FTS5), typing a 33rd word empties the hit list and
    shows, under the search box and in the chosen language, that 32 words is the most; one
    word fewer finds the note again and the message goes."""
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    kdf = KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)
    home, passphrase = tmp_path / "home", "kata sandi panjang"
    words = " ".join(f"kata{i}" for i in range(32))
    with profiles.create_profile("sari", "counselor", "Sari", passphrase, home=home, kdf=kdf) as p:
        add_clients(p.store, 1)
        NoteBook(p.store).add(1, "Sesi 1", "free", {"note": words})
    bridge = Bridge(lambda: Service(home, kdf=kdf, autoconnect=False))
    bridge.start()
    translations = Translations(qapp)
    try:
        done: list[object] = []
        bridge.call(lambda s: s.unlock("sari", passphrase), done.append, done.append)
        qtbot.waitUntil(lambda: done != [], timeout=30_000)
        assert done == [None]
        panel = NotesPanel(bridge)
        qtbot.addWidget(panel)
        panel.setEnabled(True)
        panel.show()

        panel.search.setText(words)
        qtbot.waitUntil(lambda: panel.listed_labels() == ["Sesi 1"], timeout=30_000)
        assert not panel.search_error.isVisible()
        panel.search.setText(words + " tidakada")
        qtbot.waitUntil(panel.search_error.isVisible, timeout=30_000)
        assert panel.listed_labels() == []  # not the note, which lacks the 33rd word
        assert panel.search_error.text() == (
            "This search is too long. Please search for at most 32 words."
        )
        translations.set_language("id")  # the change reaches the panel as an event
        qtbot.waitUntil(
            lambda: (
                panel.search_error.text()
                == "Pencarian ini terlalu panjang. Silakan cari dengan paling banyak 32 kata."
            )
        )
        panel.search.setText(words)
        qtbot.waitUntil(lambda: panel.listed_labels() == ["Sesi 1"], timeout=30_000)
        assert not panel.search_error.isVisible()
    finally:
        translations.set_language("en")
        closed: list[object] = []
        bridge.call(lambda s: s.close(), closed.append, closed.append)
        qtbot.waitUntil(lambda: closed != [], timeout=30_000)
        bridge.shutdown()
