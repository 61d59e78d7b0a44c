"""English and Bahasa Indonesia: run-time switching and up-to-date catalogues."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.ui.conftest import unlock
from tests.ui.fake_service import FakeService, WrongPassphrase
from ui.app import SecureChatApp
from ui.errors import GENERIC, MESSAGES, message_for
from ui.i18n import I18N_DIR

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_switching_language_changes_visible_text(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Choosing Bahasa Indonesia retranslates open screens at once, and back again."""
    fake = FakeService(messages=3)
    app = make_app(fake)
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    chat = window.chat
    assert chat.send_button.text() == "Send"
    assert window.help_bar.help_button.text() == "Get help now"
    window.help_bar.language_box.setCurrentIndex(1)
    window.help_bar.language_box.activated.emit(1)
    qtbot.waitUntil(lambda: chat.send_button.text() == "Kirim")
    assert window.help_bar.help_button.text() == "Cari bantuan sekarang"
    assert window.help_bar.exit_button.text() == "Keluar cepat"
    assert message_for(WrongPassphrase()).startswith("Frasa sandi")
    assert app.welcome.unlock_button.text() == "Buka kunci"
    qtbot.waitUntil(lambda: any(s.language == "id" for (s,) in fake.called("update_settings")))
    app.set_language("en")
    qtbot.waitUntil(lambda: chat.send_button.text() == "Send")
    assert window.help_bar.help_button.text() == "Get help now"


def test_every_error_has_an_indonesian_message(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """Each mapped error, and the generic fallback, has its own Indonesian text."""
    app = make_app(FakeService())
    app.translations.set_language("id")
    for name, source in MESSAGES.items():
        error = type(name, (Exception,), {})()
        assert message_for(error) != source, name
    assert message_for(KeyError("secret text")) != message_for(WrongPassphrase())
    app.translations.set_language("en")


def test_every_core_error_has_its_own_message() -> None:
    """Each error class the core raises maps to a message of its own, never the generic one."""
    import securechat.errors as core_errors

    names = [n for n in core_errors.__all__ if n != "SecureChatError"]
    assert len(names) > 20
    for name in names:
        assert message_for(getattr(core_errors, name)) != GENERIC, name
    assert message_for(core_errors.SecureChatError) == GENERIC


def test_catalogue_complete_and_qm_up_to_date(tmp_path: Path) -> None:
    """Every source string is in securechat_id.ts, translated, and the committed .qm matches it."""
    lupdate, lrelease = BIN / "pyside6-lupdate", BIN / "pyside6-lrelease"
    if not lupdate.exists() or not lrelease.exists():
        pytest.skip("pyside6-lupdate / lrelease not installed")
    ts = tmp_path / "securechat_id.ts"
    shutil.copy(I18N_DIR / "securechat_id.ts", ts)
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").rglob("*.py"))
    subprocess.run(
        [str(lupdate), *sources, "-ts", str(ts), "-locations", "none", "-no-obsolete"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    unfinished = [
        m.findtext("source")
        for m in ET.parse(ts).iter("message")  # noqa: S314 (our own catalogue)
        if m.find("translation") is not None
        and m.find("translation").get("type") in ("unfinished", "vanished", "obsolete")  # type: ignore[union-attr]
    ]
    assert unfinished == [], "run pyside6-lupdate and translate these"
    qm = tmp_path / "securechat_id.qm"
    subprocess.run(
        [str(lrelease), str(I18N_DIR / "securechat_id.ts"), "-qm", str(qm)],
        check=True,
        capture_output=True,
    )
    assert qm.read_bytes() == (I18N_DIR / "securechat_id.qm").read_bytes(), "run pyside6-lrelease"


def test_the_connection_state_follows_a_new_language(
    qtbot: QtBot, make_app: Callable[[FakeService], SecureChatApp]
) -> None:
    """The connection state ("Connected") is said again in a newly chosen language."""
    app = make_app(FakeService(messages=1))
    unlock(qtbot, app)
    window = app.main_window
    assert window is not None
    window.on_connection_changed("online")
    assert window.help_bar.status.text() == "Connected"
    app.set_language("id")
    qtbot.waitUntil(lambda: window.help_bar.status.text() == "Tersambung")
    app.set_language("en")
    qtbot.waitUntil(lambda: window.help_bar.status.text() == "Connected")
