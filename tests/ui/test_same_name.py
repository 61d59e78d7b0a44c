"""Peers who share a name, in the counselor's window on the real core.

The counselor's profile is a real SQLCipher file that the engine harness filled (real X3DH and
ratchet, the relay stood in for by a dict): Ayu, a second Ayu under other keys who wrote her
name in full-width letters, and Budi. The window runs `securechat.service.Service` on a copy of
it; the relay address in the profile answers nothing, so the window is offline.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from securechat.service import Service
from tests.securechat.conftest import PASSPHRASE, fast_kdf
from tests.securechat.engine_helpers import FakeRelay, first_contact, make_profile
from tests.ui.conftest import close_app, unlock
from ui.app import SecureChatApp
from ui.chat.window import MainWindow
from ui.common.style import apply_style
from ui.safety.dialog import SafetyNumberDialog

TIMEOUT = 30_000  # ms; a shared 2-core machine can be slow
SECOND_AYU = "\uff21\uff59\uff55"  # "Ayu" in full-width letters
EXPLANATION = (
    "Another conversation has the same name. Names are chosen by people themselves; "
    "compare safety numbers before you treat them as the same person."
)


@pytest.fixture(scope="module")
def counselor_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A counselor home (profile 'sari') with conversations with Ayu, the second Ayu and Budi."""
    root = tmp_path_factory.mktemp("same-name")
    relay = FakeRelay()
    sari, counselor = make_profile(root / "counselor", "sari", "counselor")
    for folder, name in (("ayu", "Ayu"), ("ayu-again", SECOND_AYU), ("budi", "Budi")):
        client_profile, client = make_profile(root / "clients", folder, "client")
        first_contact(relay, counselor, client, name=name)
        client_profile.lock()
    sari.lock()
    return root / "counselor"


@pytest.fixture
def open_window(
    qapp: QApplication, qtbot: QtBot, counselor_profile: Path, tmp_path: Path
) -> Iterator[Callable[[str], MainWindow]]:
    """Unlock a copy of the counselor's profile in the app, in English or Indonesian."""
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    apply_style(qapp)
    home = tmp_path / "counselor"
    shutil.copytree(counselor_profile, home)
    kdf = fast_kdf()
    made: list[SecureChatApp] = []

    def open_in(language: str) -> MainWindow:
        app = SecureChatApp(
            qapp, lambda: Service(home, kdf=kdf), quit_on_quick_exit=False, language=language
        )
        made.append(app)
        app.show()
        unlock(qtbot, app, PASSPHRASE)
        window = app.main_window
        assert window is not None
        app.set_language(language)  # the profile's own language would win otherwise
        qtbot.waitUntil(lambda: window.conversations.rowCount() == 3, timeout=TIMEOUT)
        return window

    yield open_in
    for app in made:
        close_app(qapp, app)


def row_of(window: MainWindow, name: str) -> int:
    rows = [
        r
        for r in range(window.conversations.rowCount())
        if window.conversations.view(r).peer_name == name
    ]
    assert len(rows) == 1, name
    return rows[0]


def shown(window: MainWindow, name: str, role: Qt.ItemDataRole) -> object:
    return window.conversations.index(row_of(window, name), 0).data(role)


def test_peers_who_share_a_name_are_marked_in_the_list(
    open_window: Callable[[str], MainWindow],
) -> None:
    """Both Ayus carry "⚠ same name" under their name and the reason as their tooltip (and
    accessible description); Budi carries neither."""
    window = open_window("en")
    for name in ("Ayu", SECOND_AYU):
        first, mark = str(shown(window, name, Qt.ItemDataRole.DisplayRole)).split("\n")
        assert first == f"{name}  ·  1 new"
        assert mark == "⚠ same name"  # a line of its own: a narrow list never shortens it
        assert shown(window, name, Qt.ItemDataRole.AccessibleTextRole) == (
            f"{name}  ·  1 new  ·  ⚠ same name"
        )
        tooltip = str(shown(window, name, Qt.ItemDataRole.ToolTipRole))
        assert " ".join(tooltip.split()) == EXPLANATION  # wrapped onto lines
        assert shown(window, name, Qt.ItemDataRole.AccessibleDescriptionRole) == EXPLANATION
    assert "same name" not in str(shown(window, "Budi", Qt.ItemDataRole.DisplayRole))
    assert shown(window, "Budi", Qt.ItemDataRole.ToolTipRole) is None


def test_the_chat_header_explains_a_shared_name(
    qtbot: QtBot, open_window: Callable[[str], MainWindow]
) -> None:
    """Opening either Ayu shows, under the name, why a shared name matters; opening Budi
    does not. Sending stays possible: the note blocks nothing."""
    window = open_window("en")
    chat = window.chat
    for name in ("Ayu", SECOND_AYU):
        window.open_conversation(window.conversations.view(row_of(window, name)).conversation_id)
        assert chat.peer_label.text() == name
        assert chat.same_name_banner.isVisibleTo(chat)
        assert chat.same_name_text.text() == "⚠ " + EXPLANATION
        assert chat.input.isEnabled()
    window.open_conversation(window.conversations.view(row_of(window, "Budi")).conversation_id)
    assert chat.peer_label.text() == "Budi"
    assert not chat.same_name_banner.isVisibleTo(chat)


def test_the_header_offers_the_safety_number(
    qtbot: QtBot, open_window: Callable[[str], MainWindow]
) -> None:
    """The note's "Compare safety numbers" opens the safety number of that conversation."""
    window = open_window("en")
    cid = window.conversations.view(row_of(window, SECOND_AYU)).conversation_id
    window.open_conversation(cid)
    assert window.chat.compare_safety_button.text() == "Compare safety numbers"
    window.chat.compare_safety_button.click()
    qtbot.waitUntil(lambda: window.findChild(SafetyNumberDialog) is not None, timeout=TIMEOUT)
    dialog = window.findChild(SafetyNumberDialog)
    assert dialog is not None
    assert dialog.conversation_id == cid
    dialog.close()


def test_the_mark_and_the_reason_are_in_indonesian(
    open_window: Callable[[str], MainWindow],
) -> None:
    """In Bahasa Indonesia the list says "⚠ nama sama" and the reason is Indonesian, in the
    tooltip and under the name."""
    window = open_window("id")
    assert str(shown(window, "Ayu", Qt.ItemDataRole.DisplayRole)) == "Ayu  ·  1 baru\n⚠ nama sama"
    reason = " ".join(str(shown(window, "Ayu", Qt.ItemDataRole.ToolTipRole)).split())
    assert reason.startswith("Ada percakapan lain dengan nama yang sama.")
    assert "nomor keamanan" in reason
    window.open_conversation(window.conversations.view(row_of(window, "Ayu")).conversation_id)
    assert window.chat.same_name_text.text() == "⚠ " + reason
    assert window.chat.compare_safety_button.text() == "Bandingkan nomor keamanan"
