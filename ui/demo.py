"""`python -m ui.demo` (`make demo`): a counselor and a client side by side on a local relay.

Job: start an embedded relay on 127.0.0.1, give the counselor and the client each a temporary
profile, publish the counselor, and open the invite in the client's window, so a newcomer sees
disclosure → consent → chat within a minute.

The window orchestration (`DemoSession`) takes two service factories and a relay URL, so it
runs against any `ServiceAPI`. `start_backend()` supplies the real ones: a relay on its own
thread (`relay.embedded.EmbeddedRelay`) and two `securechat.service.Service`s, each with a
home of its own.

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

import keyring
import keyring.backends.fail
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from relay.embedded import EmbeddedRelay
from relay.exceptions import RelayError
from securechat.api import CounselorProfileView, ProfileView, Role, ServiceAPI
from securechat.service import Service
from ui.app import SecureChatApp, configure_logging
from ui.bridge import ServiceFactory
from ui.common.style import apply_style

__all__ = ["Backend", "DemoSession", "build_backend", "main", "start_backend"]

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "demo only: not a real passphrase"  # noqa: S105 (demo profiles only)
DEMO_COUNSELOR = CounselorProfileView(
    name="Rina Wulandari (demo)",
    credentials="M.Psi., psikolog klinis / clinical psychologist (demo profile)",
    specializations=("stres / stress", "kuliah / studies", "keluarga / family", "duka / grief"),
    languages=("Bahasa Indonesia", "English"),
    service_hours="Senin-Jumat / Monday-Friday 09.00-17.00",
    time_zone="Asia/Jakarta (WIB, UTC+7)",
    response_time_hours=24,
    records_retention_years=5,
)


@dataclass(frozen=True)
class Backend:
    relay_url: str
    counselor: ServiceFactory
    client: ServiceFactory
    stop: Callable[[], None]


def build_backend(workdir: Path) -> Backend:
    """Start an embedded relay on 127.0.0.1 (a free port) and make the two services' factories.

    The relay keeps its data under `workdir / "relay"`; the counselor's and the client's
    profiles live in `workdir / "counselor"` and `workdir / "client"`. The system keyring is
    never touched: the demo installs keyring's `fail` backend, so "remember on this device"
    says plainly that it is not available (a demo profile is deleted on exit anyway).

    Raises:
        relay.exceptions.StoreError, OSError, TimeoutError: the relay could not start.
    """
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    relay = EmbeddedRelay(workdir / "relay")
    url = relay.start()

    def factory(name: str) -> ServiceFactory:
        home = workdir / name
        return lambda: Service(home)

    return Backend(url, factory("counselor"), factory("client"), relay.stop)


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
        self._client_walked = False
        self.counselor = SecureChatApp(qapp, counselor_factory, quit_on_quick_exit=True)
        self.client = SecureChatApp(qapp, client_factory, quit_on_quick_exit=True)
        self.counselor.welcome.setWindowTitle("SecureChat demo: counselor")
        self.client.welcome.setWindowTitle("SecureChat demo: client")
        self.counselor.unlocked.connect(self.on_counselor_unlocked)
        self.client.unlocked.connect(self.on_client_unlocked)

    def start(self) -> None:
        self.counselor.show()
        self.client.show()
        self._create(self.counselor, DEMO_COUNSELOR.name, Role.COUNSELOR)

    def _create(self, app: SecureChatApp, name: str, role: Role) -> None:
        language = app.translations.language

        async def create(service: ServiceAPI) -> ProfileView:
            view = await service.create_profile(name, role, DEMO_PASSPHRASE)
            await service.unlock(view.name, DEMO_PASSPHRASE, False)
            settings = await service.settings()
            await service.update_settings(
                replace(settings, relay_url=self.relay_url, language=language)
            )
            if role is Role.COUNSELOR:
                await service.update_counselor_profile(DEMO_COUNSELOR, regenerate_disclosure=True)
            return view

        def created(view: ProfileView) -> None:
            app.welcome.on_created(view)

        app.bridge.call(create, created, lambda _e: self.failed.emit("create profile"), owner=self)

    def on_counselor_unlocked(self, _profile: str) -> None:
        if self.invite:  # unlocked again after a lock: the walk is done, the client is there
            return
        relay = self.relay_url
        self.counselor.bridge.call(
            lambda s: s.publish(relay, directory=True),
            self.on_published,
            lambda _e: self.failed.emit("publish"),
            owner=self,
        )

    def on_published(self, invite: str) -> None:
        if self.invite:
            return
        self.invite = invite
        self._create(self.client, "Dewi (demo client)", Role.CLIENT)

    def on_client_unlocked(self, _profile: str) -> None:
        if self._client_walked:  # unlocked again after a lock: leave the client where it is
            return
        self._client_walked = True
        window = self.client.main_window
        counselor = self.counselor.main_window
        if window is None:
            self.failed.emit("client window")
            return
        if counselor is not None:
            self._tile(counselor, window)
        window.invite_page.invite_opened.connect(lambda _id: self.invite_ready.emit())
        window.invite_page.open_invite(self.invite)

    @staticmethod
    def _tile(left: QWidget, right: QWidget) -> None:
        """Counselor on the left, client on the right, side by side where the screen allows
        (the spare width shared between them), overlapping only on a small screen."""
        screen = left.screen().availableGeometry()
        height = min(screen.height(), 1000)  # tall enough to read the disclosure
        gap = 8
        lmin, rmin = left.minimumSizeHint().width(), right.minimumSizeHint().width()
        spare = max(0, screen.width() - gap - lmin - rmin)
        lw, rw = lmin + spare // 2, rmin + spare - spare // 2
        left.setGeometry(screen.x(), screen.y(), lw, height)
        right.setGeometry(screen.right() - rw + 1, screen.y(), rw, height)

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
        except (RelayError, OSError, TimeoutError):
            log.debug("the embedded relay did not start", exc_info=True)
            QMessageBox.critical(
                None,
                "SecureChat demo",
                "The demo could not start its local relay. Check that the temporary folder "
                "is writable and try again.\nDemo tidak dapat menyalakan relay lokalnya. "
                "Pastikan folder sementara dapat ditulisi, lalu coba lagi.",
            )
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
