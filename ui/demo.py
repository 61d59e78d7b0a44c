"""`python -m ui.demo` (`make demo`): a counselor and a client side by side on a local relay.

Job: start an embedded relay on 127.0.0.1, give the counselor and the client each a temporary
profile, publish the counselor, and open the invite in the client's window, so a newcomer sees
disclosure → consent → chat within a minute.

The window orchestration (`DemoSession`) takes two service factories and a relay URL, so it
runs against any `ServiceAPI`; tests drive it with the in-memory fake. The one piece that
needs the real core and relay is `start_backend()` below: it is marked for the engineer who
wires in `securechat.service.Service` and the relay.

Invariants: everything the demo creates lives in one temporary directory, removed on exit;
the demo passphrases are demo-only and never used outside it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from securechat.api import ProfileView, Role, ServiceAPI
from ui.app import SecureChatApp, configure_logging
from ui.bridge import ServiceFactory
from ui.common.style import apply_style

__all__ = ["Backend", "DemoNotWired", "DemoSession", "build_backend", "main", "start_backend"]

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "demo only: not a real passphrase"  # noqa: S105 (demo profiles only)


class DemoNotWired(RuntimeError):
    """The real core or relay is not plugged into the demo yet."""


@dataclass(frozen=True)
class Backend:
    relay_url: str
    counselor: ServiceFactory
    client: ServiceFactory
    stop: Callable[[], None]


def build_backend(workdir: Path) -> Backend:
    """Start an embedded relay on 127.0.0.1 (port 0) and build the two services.

    NEXT ENGINEER — wire the real pieces in here, and only here:
      1. start the relay in-process on 127.0.0.1, port 0, data under `workdir / "relay"`
         (the relay server on its own asyncio loop/thread), and read back its
         `ws://127.0.0.1:<port>` URL;
      2. return factories that build `securechat.service.Service` with data directories
         `workdir / "counselor"` and `workdir / "client"` (and a non-system keyring);
      3. stop the relay in `Backend.stop`.
    Until then this raises `DemoNotWired`, and `main()` says so in a dialog.
    """
    try:
        from securechat.service import Service  # type: ignore[import-not-found,unused-ignore] # noqa: F401
    except ImportError as exc:
        raise DemoNotWired("securechat.service is not available yet") from exc
    raise DemoNotWired("the embedded relay is not wired into the demo yet")


@contextlib.contextmanager
def start_backend(workdir: Path) -> Iterator[Backend]:
    """`build_backend`, stopped on exit."""
    backend = build_backend(workdir)
    try:
        yield backend
    finally:
        backend.stop()


class DemoSession(QObject):
    """Opens a counselor window and a client window and walks them to the consent screen.

    Signals:
    - `invite_ready()`: the client window shows the counselor's disclosure (`client` app).
    - `failed(step: str)`: a step failed; the reason is logged generically.
    """

    invite_ready = Signal()
    failed = Signal(str)

    def __init__(
        self,
        qapp: QApplication,
        relay_url: str,
        counselor_factory: ServiceFactory,
        client_factory: ServiceFactory,
    ) -> None:
        super().__init__()
        self.relay_url = relay_url
        self.invite = ""
        self.counselor = SecureChatApp(qapp, counselor_factory, quit_on_quick_exit=True)
        self.client = SecureChatApp(qapp, client_factory, quit_on_quick_exit=True)
        self.counselor.welcome.setWindowTitle("SecureChat demo: counselor")
        self.client.welcome.setWindowTitle("SecureChat demo: client")
        self.counselor.unlocked.connect(self.on_counselor_unlocked)
        self.client.unlocked.connect(self.on_client_unlocked)

    def start(self) -> None:
        self.counselor.show()
        self.client.show()
        self._create(self.counselor, "Rina (demo counselor)", Role.COUNSELOR)

    def _create(self, app: SecureChatApp, name: str, role: Role) -> None:
        async def create(service: ServiceAPI) -> ProfileView:
            view = await service.create_profile(name, role, DEMO_PASSPHRASE)
            await service.unlock(view.name, DEMO_PASSPHRASE, False)
            settings = await service.settings()
            await service.update_settings(replace(settings, relay_url=self.relay_url))
            return view

        def created(view: ProfileView) -> None:
            app.welcome.on_created(view)

        app.bridge.call(create, created, lambda _e: self.failed.emit("create profile"), owner=self)

    def on_counselor_unlocked(self, _profile: str) -> None:
        relay = self.relay_url
        self.counselor.bridge.call(
            lambda s: s.publish(relay, directory=True),
            self.on_published,
            lambda _e: self.failed.emit("publish"),
            owner=self,
        )

    def on_published(self, invite: str) -> None:
        self.invite = invite
        self._create(self.client, "Dewi (demo client)", Role.CLIENT)

    def on_client_unlocked(self, _profile: str) -> None:
        window = self.client.main_window
        counselor = self.counselor.main_window
        if window is None:
            self.failed.emit("client window")
            return
        if counselor is not None:
            counselor.resize(900, 720)
            counselor.move(0, 0)
            window.resize(900, 720)
            window.move(counselor.frameGeometry().right() + 8, 0)
        window.invite_page.invite_opened.connect(lambda _id: self.invite_ready.emit())
        window.invite_page.open_invite(self.invite)

    def shutdown(self) -> None:
        self.counselor.shutdown()
        self.client.shutdown()


def main() -> int:
    configure_logging()
    qapp = QApplication(sys.argv)
    apply_style(qapp)
    with tempfile.TemporaryDirectory(prefix="securechat-demo-") as tmp:
        try:
            with start_backend(Path(tmp)) as backend:
                session = DemoSession(qapp, backend.relay_url, backend.counselor, backend.client)
                session.start()
                code = qapp.exec()
                session.shutdown()
                return code
        except DemoNotWired:
            QMessageBox.information(
                None,
                "SecureChat demo",
                "The demo needs the SecureChat core and the embedded relay, which are not "
                "wired in yet.\nDemo ini memerlukan inti SecureChat dan relay bawaan, yang "
                "belum tersambung.",
            )
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
