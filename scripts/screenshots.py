"""Render every main screen of the desktop app, in English and Bahasa Indonesia, to PNG files.

A developer tool: it drives the real widgets against the in-memory test double
(`tests/ui/fake_service.py`), so it needs no core and no relay. Run it under Xvfb:

    xvfb-run -a -s "-screen 0 1400x900x24" python scripts/screenshots.py

(or with QT_QPA_PLATFORM=offscreen). Files land in docs/screenshots/<screen>_<lang>.png.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECURECHAT_ALLOW_FAKE", "1")

from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from securechat.api import DeliveryState, MessageKind, Role, SessionSummary  # noqa: E402
from tests.ui.fake_service import INVITE_LINK, FakeService  # noqa: E402
from ui.app import SecureChatApp  # noqa: E402
from ui.chat.summary import SummaryComposer  # noqa: E402
from ui.common.style import apply_style  # noqa: E402
from ui.consent.editor import DisclosureEditor  # noqa: E402
from ui.consent.profile import CounselorProfileDialog  # noqa: E402
from ui.safety.dialog import SafetyNumberDialog  # noqa: E402
from ui.settings.dialog import SettingsDialog  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
T = TypeVar("T")


def need(value: T | None) -> T:
    if value is None:
        raise RuntimeError("the screen is not ready")
    return value


def pump(seconds: float = 0.15) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("screen did not get ready")
        QApplication.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, name: str, lang: str) -> None:
    pump()
    path = OUT / f"{name}_{lang}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def unlock(app: SecureChatApp, fake: FakeService) -> None:
    wait_until(lambda: app.welcome.profile_list.count() > 0)
    app.welcome.unlock_pass.setText(fake.passphrase)
    app.welcome.unlock_button.click()
    wait_until(lambda: app.main_window is not None and app.main_window.isVisible())


def client_screens(qapp: QApplication, lang: str) -> None:
    fake = FakeService(messages=0, conversations=0)
    app = SecureChatApp(qapp, lambda: fake, quit_on_quick_exit=False, language=lang)
    fake.settings_view = type(fake.settings_view)(
        **{**fake.settings_view.__dict__, "language": lang}
    )
    app.show()
    wait_until(lambda: app.welcome.profile_list.count() > 0)
    app.welcome.remember.setChecked(False)
    save(app.welcome, "welcome_unlock", lang)
    app.welcome.unlock_pass.setText("wrong passphrase")
    app.welcome.unlock_button.click()
    wait_until(lambda: app.welcome.unlock_error.isVisible())
    save(app.welcome, "welcome_wrong_passphrase", lang)
    app.welcome.show_page("create")
    app.welcome.name_edit.setText("Dewi")
    app.welcome.pass1.setText("a calm morning by the sea")
    app.welcome.pass2.setText("a calm morning by the sea")
    save(app.welcome, "welcome_create", lang)
    app.welcome.show_page("unlock")
    unlock(app, fake)
    window = need(app.main_window)
    window.resize(1200, 780)
    wait_until(lambda: window.stack.currentWidget() is window.invite_page)
    window.invite_page.load_button.click()
    wait_until(lambda: window.invite_page.directory_list.count() > 0)
    save(window, "invite_directory", lang)
    window.invite_page.open_invite(INVITE_LINK)
    wait_until(lambda: window.stack.currentWidget() is window.consent_page)
    save(window, "consent_before", lang)
    window.consent_page.understood.setChecked(True)
    window.consent_page.accept_button.click()
    window.consent_page.input.setPlainText(
        "Halo, saya ingin bercerita tentang stres menjelang ujian."
        if lang == "id"
        else "Hello, I would like to talk about exam stress."
    )
    save(window, "consent_accepted", lang)
    window.consent_page.send_button.click()
    wait_until(lambda: window.stack.currentWidget() is window.chat)
    cid = window.chat._cid()
    wait_until(lambda: window.chat.model is not None and window.chat.model.rowCount() == 1)
    model = need(window.chat.model)
    first = model.message(0).message_id
    fake.set_state(cid, first, DeliveryState.DELIVERED)
    if lang == "id":
        fake.receive(cid, "Halo, terima kasih sudah menulis. Bagaimana perasaan Anda hari ini?")
        fake.receive(cid, "Saya sempat lihat <b>teks</b> aneh: <img src=x>. Itu tampil apa adanya.")
    else:
        fake.receive(cid, "Hello, thank you for writing. How are you feeling today?")
        fake.receive(cid, "Peer text like <b>this</b> or <img src=x> is shown as it is.")
    fake.receive(
        cid,
        "",
        MessageKind.SUMMARY,
        SessionSummary(
            ("Sleep affects how you cope with exams", "Walking helps you unwind"),
            ("Walk 15 minutes each evening", "Write three good things before bed"),
        ),
    )
    wait_until(lambda: model.rowCount() == 4)
    window.chat.input.setPlainText("Terima kasih." if lang == "id" else "Thank you.")
    window.chat.send_button.click()
    wait_until(lambda: model.rowCount() == 5)
    pump(0.3)
    save(window, "chat_client", lang)
    fake.change_key(cid)
    wait_until(lambda: window.chat.key_banner.isVisible())
    save(window, "chat_key_changed", lang)

    dialog = SafetyNumberDialog(app.bridge, cid, "Rina Wulandari, M.Psi.", window)
    dialog.show()
    wait_until(lambda: dialog.digits.text() != "")
    save(dialog, "safety_number", lang)
    dialog.close()

    app.show_help()
    save(app.crisis, "crisis_panel", lang)
    app.crisis.hide()

    settings = SettingsDialog(app.bridge, need(app.settings), window)
    settings.show()
    save(settings, "settings", lang)
    settings.close()
    app.quick_exit()
    pump()
    app.shutdown()
    for widget in app.windows():
        widget.deleteLater()


def counselor_screens(qapp: QApplication, lang: str) -> None:
    fake = FakeService(role=Role.COUNSELOR, messages=9, conversations=3)
    fake.settings_view = type(fake.settings_view)(
        **{**fake.settings_view.__dict__, "language": lang}
    )
    app = SecureChatApp(qapp, lambda: fake, quit_on_quick_exit=False, language=lang)
    app.show()
    unlock(app, fake)
    window = need(app.main_window)
    window.resize(1280, 800)
    wait_until(lambda: window.notes.conversation_id == "c1")
    wait_until(lambda: window.chat.model is not None and window.chat.model.rowCount() > 0)
    window.notes._timer.setInterval(50)
    window.notes.editors["subjective"].setPlainText(
        "Sulit tidur menjelang ujian; merasa tertekan oleh target keluarga."
        if lang == "id"
        else "Poor sleep before exams; feels pressure from family expectations."
    )
    window.notes.editors["plan"].setPlainText(
        "Jalan sore 15 menit; buku harian tidur; tindak lanjut minggu depan."
        if lang == "id"
        else "15-minute evening walk; sleep diary; follow up next week."
    )
    wait_until(lambda: window.notes.status.text() not in ("", window.notes.tr("Editing…")))
    pump(0.3)
    save(window, "chat_counselor_notes", lang)
    composer = SummaryComposer(window)
    composer.points.setPlainText(
        "Tidur memengaruhi cara menghadapi ujian\nJalan kaki membantu relaksasi"
        if lang == "id"
        else "Sleep affects how you cope with exams\nWalking helps you unwind"
    )
    composer.tasks.setPlainText(
        "Jalan 15 menit setiap sore\nTulis tiga hal baik sebelum tidur"
        if lang == "id"
        else "Walk 15 minutes each evening\nWrite three good things before bed"
    )
    composer.show()
    save(composer, "summary_composer", lang)
    composer.done(QDialog.DialogCode.Rejected)
    window.disclosure_button.click()
    editor = need(window.findChild(DisclosureEditor))
    wait_until(lambda: editor.text.toPlainText() != "")
    save(editor, "disclosure_editor", lang)
    editor.done(QDialog.DialogCode.Rejected)
    window.profile_button.click()
    profile = need(window.findChild(CounselorProfileDialog))
    wait_until(lambda: profile.name_edit.text() != "")
    save(profile, "counselor_profile", lang)
    profile.done(QDialog.DialogCode.Rejected)
    window.on_published(INVITE_LINK)
    invite = need(window.findChild(QDialog, "inviteLinkDialog"))
    save(invite, "invite_link", lang)
    invite.done(QDialog.DialogCode.Rejected)
    app.quick_exit()
    pump()
    app.shutdown()
    for widget in app.windows():
        widget.deleteLater()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    apply_style(qapp)
    for lang in ("en", "id"):
        client_screens(qapp, lang)
        counselor_screens(qapp, lang)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
