"""The desktop app: start-up order, the app controller, quick exit and auto-lock.

Start-up (`main`): `os.umask(0o077)` first, then logging (no secrets; DEBUG only with
`SECURECHAT_DEBUG=1`), an excepthook that logs generically, then the `QApplication`, style,
translations and the welcome window. The service is given as a factory
(`Callable[[], ServiceAPI]`), so tests and the demo pass their own; `main()` passes one
that imports `securechat.service.Service` on the bridge's worker thread, so the welcome
window shows while the core loads.

Keys (application-wide): F1 opens "Get help now"; Ctrl+Shift+Q, or Esc pressed twice, is the
quick exit.

Invariants:
- Quick exit hides every window at once, then locks the profile (`lock("quick-exit")`), then
  empties every model and input and deletes the main window; with `quit_on_quick_exit` the
  process ends once the lock is done.
- Auto-lock after the configured idle minutes does the same clean-up, then shows the unlock
  screen again; unlocking the same profile reopens the conversation and note that were open,
  in a window of the same size and place (their ids are all that is kept; quick exit forgets
  them).
- Notifications never say who or what.

Signals of `SecureChatApp`:
- `unlocked(profile_name: str)`
- `locked(reason: str)`: "user", "auto-lock", "quick-exit" or the core's reason.
"""

from __future__ import annotations

import logging
import os
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QObject, QRect, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from securechat.api import Role, ServiceAPI, SettingsView
from ui.bridge import Bridge, ServiceFactory
from ui.common.guard import ActivityGuard
from ui.common.notify import Notifier, app_icon
from ui.common.style import apply_style
from ui.common.window import AppWindow
from ui.crisis.data import CrisisEntry, load_organisation_entries
from ui.crisis.panel import CrisisPanel
from ui.i18n import Translations
from ui.welcome.window import WelcomeWindow

if TYPE_CHECKING:
    from ui.chat.window import MainWindow
    from ui.settings.dialog import SettingsDialog

__all__ = ["SecureChatApp", "configure_logging", "main"]

log = logging.getLogger(__name__)


def configure_logging(debug: bool = False) -> None:
    """INFO by default (nothing secret is logged at any level we ship); DEBUG on request."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    log.error("unexpected error: %s", kind.__name__)
    log.debug("unexpected error detail", exc_info=(kind, value, tb))


class SecureChatApp(QObject):
    unlocked = Signal(str)
    locked = Signal(str)

    def __init__(
        self,
        app: QApplication,
        factory: ServiceFactory,
        *,
        quit_on_quick_exit: bool = True,
        organisation: tuple[CrisisEntry, ...] | None = None,
        language: str | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.quit_on_quick_exit = quit_on_quick_exit
        self.bridge = Bridge(factory, self)
        # the core loads once the first window is up (see `show`), or after a moment anyway
        self.bridge.start(deferred=True)
        QTimer.singleShot(250, self.bridge.release)
        self.translations = Translations(app)
        if language is None:
            language = "id" if QLocale.system().name().startswith("id") else "en"
        self.translations.set_language(language)
        self.guard = ActivityGuard(self)
        app.installEventFilter(self.guard)
        self.notifier = Notifier(self)
        self._notify_timer = QTimer(self)
        self._notify_timer.setSingleShot(True)
        self._notify_timer.setInterval(300)
        self._notify_timer.timeout.connect(self._notify)
        self.settings: SettingsView | None = None
        self.profile: str | None = None
        self.role = Role.CLIENT
        self._organisation = organisation
        self._crisis: CrisisPanel | None = None
        self.welcome = WelcomeWindow(self.bridge)
        self.main_window: MainWindow | None = None
        # (profile, conversation, note) open when the profile was last locked: unlocking it
        # again brings them back. Ids only, no decrypted text; quick exit forgets them.
        self._resume: tuple[str, str, str | None] | None = None
        # where the main window was, and whether maximized (not private): a lock makes it anew
        self._geometry: tuple[QRect, bool] | None = None
        self._connect_window(self.welcome)
        self.welcome.unlocked.connect(self.on_unlocked)
        self.guard.idle_timed_out.connect(self.on_idle_timed_out)
        self.guard.quick_exit_pressed.connect(self.quick_exit)
        self.guard.help_pressed.connect(self.show_help)
        self.bridge.profile_locked.connect(self.on_profile_locked)
        self.bridge.message_received.connect(self.on_message_received)
        app.aboutToQuit.connect(self.shutdown)

    # --- windows ---------------------------------------------------------------------

    def _connect_window(self, window: AppWindow) -> None:
        window.setWindowIcon(app_icon())
        window.help_bar.help_requested.connect(self.show_help)
        window.help_bar.quick_exit_requested.connect(self.quick_exit)
        window.help_bar.language_chosen.connect(self.set_language)
        window.help_bar.show_language(self.translations.language)

    @property
    def crisis(self) -> CrisisPanel:
        """The "Get help now" panel, built on first use (start-up stays quick)."""
        if self._crisis is None:
            entries = self._organisation
            if entries is None:
                entries = load_organisation_entries()
            self._crisis = CrisisPanel(self.settings.region if self.settings else "ID", entries)
            self._crisis.quick_exit_requested.connect(self.quick_exit)
        return self._crisis

    def windows(self) -> list[QWidget]:
        """Every window of the app that may show something."""
        out: list[QWidget] = [self.welcome]
        if self._crisis is not None:
            out.append(self._crisis)
        if self.main_window is not None:
            out.append(self.main_window)
        return out

    def show(self) -> None:
        self.welcome.show()
        QTimer.singleShot(0, self.bridge.release)  # once the window has been laid out

    def show_help(self) -> None:
        """Open the crisis panel over whatever is showing."""
        if self.settings is not None:
            self.crisis.set_region(self.settings.region)
        self.crisis.show()
        self.crisis.raise_()
        self.crisis.activateWindow()

    def set_language(self, code: str) -> None:
        self.translations.set_language(code)
        for window in (self.welcome, self.main_window):
            if window is not None:
                window.help_bar.show_language(self.translations.language)
        if self.main_window is not None:
            from ui.settings.dialog import SettingsDialog

            for dialog in self.main_window.findChildren(SettingsDialog):
                dialog.follow_language(code)
        if self.settings is not None and self.settings.language != code and self.profile:
            import dataclasses

            view = dataclasses.replace(self.settings, language=code)
            self.settings = view
            self.bridge.call(lambda s: s.update_settings(view), owner=self)

    # --- unlocking -------------------------------------------------------------------

    def on_unlocked(self, profile: str) -> None:
        self.profile = profile
        view = self.welcome.profiles.get(profile)
        self.role = view.role if view is not None else Role.CLIENT
        self.bridge.call(lambda s: s.settings(), self.on_settings_loaded, owner=self)

    def on_settings_loaded(self, settings: SettingsView) -> None:
        if self.profile is None:
            return  # locked in the meantime
        self.settings = settings
        self.translations.set_language(settings.language)
        self.guard.set_timeout_minutes(settings.auto_lock_minutes)
        self.guard.arm(True)
        if self._crisis is not None:
            self._crisis.set_region(settings.region)
        from ui.chat.window import MainWindow  # imported late: start-up shows the welcome fast

        resume, self._resume = self._resume, None
        window = MainWindow(self.bridge, self.role, settings)
        if resume is not None and resume[0] == self.profile:
            window.resume_conversation = resume[1]
            window.notes.resume_note = resume[2]
        if self._geometry is not None:
            window.setGeometry(self._geometry[0])
        self._connect_window(window)
        window.settings_requested.connect(self.on_settings_requested)
        window.lock_button.clicked.connect(lambda: self.lock("user"))
        self.main_window = window
        if self._geometry is not None and self._geometry[1]:
            window.showMaximized()
        else:
            window.show()
        self.welcome.hide()
        self.bridge.call(lambda s: s.sync(), owner=self)
        self.unlocked.emit(self.profile)

    def on_settings_requested(self) -> None:
        if self.settings is None or self.main_window is None:
            return
        from ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.bridge, self.settings, self.main_window)
        dialog.settings_saved.connect(lambda: self.on_settings_saved(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.show()  # never modal: Quick exit stays clickable

    def on_settings_saved(self, dialog: SettingsDialog) -> None:
        view = dialog.saved_view
        if view is None:
            return
        self.settings = view
        self.set_language(view.language)
        self.guard.set_timeout_minutes(view.auto_lock_minutes)
        if self._crisis is not None:
            self._crisis.set_region(view.region)
        if self.main_window is not None:
            self.main_window.apply_settings(view)

    # --- locking ---------------------------------------------------------------------

    def _drop_sensitive(self) -> None:
        """Empty every model and input, and delete the main window."""
        self.guard.arm(False)
        window = self.main_window
        open_now = window.chat.conversation if window is not None else None
        if self.profile is not None and open_now is not None and window is not None:
            self._resume = (self.profile, open_now.conversation_id, window.notes.note_id)
        if window is not None:
            self._geometry = (window.normalGeometry(), window.isMaximized())
        self.main_window = None
        if window is not None:
            window.clear_sensitive()
            window.hide()
            window.deleteLater()
        self.welcome.clear_sensitive()
        self.profile = None
        self.settings = None

    def lock(self, reason: str) -> None:
        """Lock the profile and return to the unlock screen."""
        was_open = self.main_window is not None
        if was_open and self.main_window is not None:
            self.main_window.notes.flush()
        self.bridge.call(lambda s: s.lock(reason), owner=self)
        self._drop_sensitive()
        self.locked.emit(reason)
        if reason != "quick-exit":
            self.welcome.refresh_profiles()
            self.welcome.show()

    def on_idle_timed_out(self) -> None:
        if self.main_window is not None:
            self.lock("auto-lock")

    def on_profile_locked(self, reason: str) -> None:
        # the core locked by itself (or confirmed our lock): make sure nothing is left shown
        if self.main_window is not None:
            self._drop_sensitive()
            self.locked.emit(reason)
            self.welcome.refresh_profiles()
            self.welcome.show()

    def quick_exit(self) -> None:
        """Hide every window at once, lock, drop decrypted text; maybe quit."""
        for widget in QApplication.topLevelWidgets():
            widget.hide()
        self.notifier.hide()
        if self.main_window is not None:
            self.main_window.notes.flush()

        def done(_result: object = None) -> None:
            if self.quit_on_quick_exit:
                QTimer.singleShot(0, self.app.quit)

        self.bridge.call(lambda s: s.lock("quick-exit"), done, lambda _e: done(), owner=self)
        self._drop_sensitive()
        self._resume = None
        if self._crisis is not None:
            self._crisis.hide()
        self.locked.emit("quick-exit")

    # --- notifications ---------------------------------------------------------------

    def on_message_received(self, _conversation_id: str, _message_id: str) -> None:
        # a burst of arrivals gives one notification, not one each
        if not self._notify_timer.isActive():
            self._notify_timer.start()

    def _notify(self) -> None:
        window = self.main_window
        if window is not None and not window.isActiveWindow():
            self.notifier.notify_new_message(window)

    def shutdown(self) -> None:
        self.bridge.shutdown()


def _real_service() -> ServiceAPI:
    """The client core, imported on the bridge's worker thread while the first window shows."""
    from securechat.service import Service

    return Service()


def main(argv: list[str] | None = None) -> int:
    """The `securechat` command."""
    os.umask(0o077)
    configure_logging(debug=os.environ.get("SECURECHAT_DEBUG") == "1")
    sys.excepthook = _excepthook
    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("SecureChat")
    app.setWindowIcon(app_icon())
    apply_style(app)
    controller = SecureChatApp(app, _real_service)
    controller.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
