"""The desktop app on the real core: two windows, two `Service`s, one real relay process.

Nothing here is faked: the services are `securechat.service.Service` with SQLCipher profiles in
a temporary directory, and the relay is `securechat-relay serve` on a free loopback port. Only
Argon2id runs at its minimum cost, and keyring's `fail` backend keeps the system keyring out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from securechat.api import Role, ServiceAPI
from securechat.errors import ProfileLocked
from securechat.service import Service
from tests.relay_process import running_relay
from tests.ui.conftest import close_app
from tests.ui.real import PASSPHRASE, TIMEOUT, no_system_keyring, real_factory  # noqa: F401
from ui.app import SecureChatApp
from ui.chat.window import MainWindow
from ui.common.style import apply_style
from ui.demo import DEMO_PASSPHRASE, DemoSession, build_backend

_factory = real_factory


def _texts(window: MainWindow) -> list[str]:
    model = window.chat.model
    if model is None:
        return []
    return [model.message(r).text for r in range(model.rowCount())]


def _close(qapp: QApplication, session: DemoSession) -> None:
    apps: tuple[SecureChatApp, ...] = (session.counselor, session.client)
    for app in apps:
        for w in app.windows():
            w.hide()
        qapp.removeEventFilter(app.guard)
    session.shutdown()


def _core_refuses(qtbot: QtBot, app: SecureChatApp) -> bool:
    """True once the app's core answers a command with ProfileLocked (the lock completes
    after the relay links close, so ask until it does)."""
    answers: list[object] = []
    for _ in range(100):
        app.bridge.call(lambda s: s.conversations(), answers.append, answers.append)
        qtbot.waitUntil(lambda: answers != [], timeout=TIMEOUT)
        if isinstance(answers.pop(), ProfileLocked):
            return True
        qtbot.wait(50)
    return False


@contextlib.contextmanager
def _demo_on_a_real_relay(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> Iterator[tuple[DemoSession, MainWindow, MainWindow]]:
    """The demo's two apps on a relay process: (session, client window, counselor window),
    the client's at the disclosure; everything is closed afterwards."""
    with running_relay(tmp_path / "relay") as url:
        session = DemoSession(
            qapp, url, _factory(tmp_path / "counselor"), _factory(tmp_path / "client")
        )
        try:
            with qtbot.waitSignal(session.invite_ready, timeout=TIMEOUT):
                session.start()
            client, counselor = session.client.main_window, session.counselor.main_window
            assert client is not None
            assert counselor is not None
            yield session, client, counselor
        finally:
            _close(qapp, session)


def _consent_and_send(qtbot: QtBot, window: MainWindow, first: str) -> None:
    page = window.consent_page
    assert not page.send_button.isEnabled()
    page.understood.setChecked(True)
    page.accept_button.click()
    page.input.setPlainText(first)
    page.send_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.chat, timeout=TIMEOUT)


def test_message_crosses_a_real_relay_between_two_windows(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    """Consent in the client's window, the first words and a reply cross a real relay process."""
    with _demo_on_a_real_relay(qtbot, qapp, tmp_path) as (session, client, counselor):
        assert client.stack.currentWidget() is client.consent_page

        _consent_and_send(qtbot, client, "Halo, saya butuh teman bicara")

        qtbot.waitUntil(lambda: counselor.conversations.rowCount() == 1, timeout=TIMEOUT)
        assert counselor.conversations.view(0).peer_name == "Dewi (demo client)"
        counselor.conversation_list.setCurrentIndex(counselor.conversations.index(0, 0))
        counselor.on_conversation_chosen(counselor.conversations.index(0, 0))
        qtbot.waitUntil(
            lambda: "Halo, saya butuh teman bicara" in _texts(counselor), timeout=TIMEOUT
        )

        counselor.chat.input.setPlainText("Terima kasih sudah menulis. Sejak kapan?")
        counselor.chat.send_button.click()
        qtbot.waitUntil(
            lambda: "Terima kasih sudah menulis. Sejak kapan?" in _texts(client),
            timeout=TIMEOUT,
        )

        # quick exit in the client's window: hidden, emptied, and the real core locked
        session.client.quit_on_quick_exit = False
        with qtbot.waitSignal(session.client.locked, timeout=TIMEOUT):
            client.help_bar.exit_button.click()
        assert not client.isVisible()
        assert session.client.main_window is None
        assert _core_refuses(qtbot, session.client)  # the key has left memory


def test_demo_backend_runs_the_real_core(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    """`make demo`'s backend: an embedded relay and two real services reach the disclosure."""
    backend = build_backend(tmp_path)
    try:
        assert backend.relay_url.startswith("ws://127.0.0.1:")
        service: ServiceAPI = backend.counselor()
        assert isinstance(service, Service)
        session = DemoSession(qapp, backend.relay_url, backend.counselor, backend.client)
        try:
            with qtbot.waitSignal(session.invite_ready, timeout=TIMEOUT):
                session.start()
            window = session.client.main_window
            assert window is not None
            assert window.stack.currentWidget() is window.consent_page
            assert "Rina" in window.consent_page.name_value.text()
        finally:
            _close(qapp, session)
    finally:
        backend.stop()
    assert (tmp_path / "counselor" / "profiles").is_dir()
    assert (tmp_path / "client" / "profiles").is_dir()


@pytest.fixture
def real_app(qapp: QApplication, tmp_path: Path) -> Iterator[SecureChatApp]:
    """One app on a real `Service` with its home in `tmp_path / "home"`, no relay."""
    apply_style(qapp)
    app = SecureChatApp(qapp, _factory(tmp_path / "home"), quit_on_quick_exit=False, language="en")
    app.show()
    try:
        yield app
    finally:
        close_app(qapp, app)


def _create_counselor(qtbot: QtBot, app: SecureChatApp) -> MainWindow:
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.stack.currentWidget() is welcome.create_page, timeout=TIMEOUT)
    welcome.name_edit.setText("Rina")
    welcome.role_counselor.setChecked(True)
    welcome.pass1.setText(PASSPHRASE)
    welcome.pass2.setText(PASSPHRASE)
    with qtbot.waitSignal(app.unlocked, timeout=TIMEOUT):
        welcome.create_button.click()
    qtbot.waitUntil(lambda: app.main_window is not None, timeout=TIMEOUT)
    assert app.main_window is not None
    return app.main_window


def _unlock_again(qtbot: QtBot, app: SecureChatApp) -> MainWindow:
    welcome = app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1, timeout=TIMEOUT)
    welcome.unlock_pass.setText(PASSPHRASE)
    with qtbot.waitSignal(app.unlocked, timeout=TIMEOUT):
        welcome.unlock_button.click()
    qtbot.waitUntil(lambda: app.main_window is not None, timeout=TIMEOUT)
    assert app.main_window is not None
    return app.main_window


def test_a_counselor_unlocks_again_as_a_counselor(qtbot: QtBot, real_app: SecureChatApp) -> None:
    """After a lock the real core lists every profile as a client; unlocking a counselor's
    profile still opens the counselor's window (notes, disclosure, invite link)."""
    window = _create_counselor(qtbot, real_app)
    assert window.role is Role.COUNSELOR
    with qtbot.waitSignal(real_app.locked, timeout=TIMEOUT):
        window.lock_button.click()

    again = _unlock_again(qtbot, real_app)

    assert again.role is Role.COUNSELOR
    assert again.notes.isVisibleTo(again)
    assert again.disclosure_button.isVisibleTo(again)


def test_the_unlock_list_does_not_guess_a_locked_profiles_role(
    qtbot: QtBot, real_app: SecureChatApp
) -> None:
    """A locked profile's role is inside its encrypted database: the list shows no role for
    it (it used to call every locked profile a client), and the known one once unlocked."""
    window = _create_counselor(qtbot, real_app)
    with qtbot.waitSignal(real_app.locked, timeout=TIMEOUT):
        window.lock_button.click()
    welcome = real_app.welcome
    qtbot.waitUntil(lambda: welcome.profile_list.count() == 1, timeout=TIMEOUT)
    label = welcome.profile_list.item(0).text()
    assert "Client" not in label
    assert "Counselor" not in label
    assert welcome.profiles[welcome.selected_profile() or ""].role_known is False


def test_a_half_written_note_survives_auto_lock(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    """A note typed just before auto-lock is saved by the real core and is there after
    unlocking again."""
    with _demo_on_a_real_relay(qtbot, qapp, tmp_path) as (session, client, counselor):
        _consent_and_send(qtbot, client, "Halo")
        qtbot.waitUntil(lambda: counselor.conversations.rowCount() == 1, timeout=TIMEOUT)
        cid = counselor.conversations.view(0).conversation_id
        counselor.open_conversation(cid)
        notes = counselor.notes
        notes._timer.setInterval(600_000)  # nothing saved by the debounce: only the lock
        first_section = next(iter(notes.editors.values()))
        first_section.setPlainText("Sleeps badly before exams")
        app = session.counselor

        with qtbot.waitSignal(app.locked, timeout=TIMEOUT) as locked:
            app.guard.set_timeout_ms(50)
        assert locked.args == ["auto-lock"]
        qtbot.waitUntil(lambda: app.welcome.profile_list.count() == 1, timeout=TIMEOUT)
        app.welcome.unlock_pass.setText(DEMO_PASSPHRASE)
        with qtbot.waitSignal(app.unlocked, timeout=TIMEOUT):
            app.welcome.unlock_button.click()

        found: list[object] = []
        app.bridge.call(lambda s: s.notes(cid), found.append, found.append)
        qtbot.waitUntil(lambda: found != [], timeout=TIMEOUT)
        notes_found = found[0]
        assert isinstance(notes_found, list)
        texts = [text for note in notes_found for _key, text in note.sections if text]
        assert texts == ["Sleeps badly before exams"]


async def _seed_old_messages(service: ServiceAPI) -> None:
    """Two messages from 40 and 90 days ago and one from today, straight into the real
    SQLCipher store (no relay needed)."""
    from securechat.store import now_ms

    assert isinstance(service, Service)
    conn = service._profile_or_raise().store.conn
    conn.execute("INSERT INTO contacts VALUES (1, x'01', 'Ayu', 'client', NULL, 0, 0)")
    conn.execute(
        "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
    )
    for mid, age_days in [("old-1", 90), ("old-2", 40), ("today", 0)]:
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
            "body, created_at) VALUES (1, ?, 'in', 'received', x'00', ?)",
            (mid, now_ms() - age_days * 86_400_000),
        )


def test_a_shorter_history_deletes_on_the_real_core_what_it_said(
    qtbot: QtBot, real_app: SecureChatApp
) -> None:
    """On a real profile, lowering "Keep history" asks about exactly the messages the real
    core then deletes, and deletes them only after "Delete them"."""
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from ui.settings.dialog import SettingsDialog

    window = _create_counselor(qtbot, real_app)
    done: list[object] = []
    real_app.bridge.call(_seed_old_messages, done.append, done.append)
    qtbot.waitUntil(lambda: done == [None], timeout=TIMEOUT)
    window.settings_button.click()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    dialog.retention.setValue(30)
    save = dialog.findChild(QPushButton, "saveSettingsButton")
    assert save is not None
    save.click()
    qtbot.waitUntil(lambda: dialog.findChild(QMessageBox, "retentionConfirm") is not None)
    box = dialog.findChild(QMessageBox, "retentionConfirm")
    assert box is not None
    assert box.text().startswith("2 messages older than 30 days")
    left: list[object] = []
    real_app.bridge.call(lambda s: s.message_count("1"), left.append, left.append)
    qtbot.waitUntil(lambda: left != [], timeout=TIMEOUT)
    assert left == [3]  # asking deleted nothing

    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT):
        delete = box.findChild(QPushButton, "deleteHistoryButton")
        assert delete is not None
        delete.click()

    left.clear()
    real_app.bridge.call(lambda s: s.message_count("1"), left.append, left.append)
    qtbot.waitUntil(lambda: left != [], timeout=TIMEOUT)
    assert left == [1]
