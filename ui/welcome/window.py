"""The welcome window: unlock a profile, or create one (client or counselor).

Flow: the window asks the bridge for `list_profiles`; with none it opens on "create". Creating
a profile unlocks it at once with the same passphrase. Wrong passphrases and other errors are
shown inline, mapped by `ui.errors`. Unlocking (key derivation) shows a busy bar and never
blocks the GUI thread.

Signals:
- `unlocked(profile_name: str)`: the profile with this directory name is unlocked.

Invariants: passphrase fields are cleared after every attempt and on `clear_sensitive()`;
profile names from the store are shown as plain text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from securechat.api import ProfileView, Role, ServiceAPI
from ui.bridge import Bridge
from ui.common.forms import busy_bar, label, primary_button
from ui.common.window import AppWindow
from ui.errors import message_for
from ui.welcome.strength import HINTS, MIN_LENGTH, score

__all__ = ["WelcomeWindow"]


class WelcomeWindow(AppWindow):
    unlocked = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeWindow")
        self._bridge = bridge
        self.profiles: dict[str, ProfileView] = {}
        self.resize(640, 600)
        self.stack = QStackedWidget()
        outer = QVBoxLayout(self.content)
        outer.setContentsMargins(48, 32, 48, 32)
        outer.addWidget(self.stack)
        self._build_unlock()
        self._build_create()
        self.retranslate_ui()
        self.refresh_profiles()

    # --- unlock page -----------------------------------------------------------------

    def _build_unlock(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(12)
        self.unlock_title = label("title")
        self.unlock_intro = label("muted")
        self.profile_list = QListWidget()
        self.profile_list.setObjectName("profileList")
        self.profile_list.setMaximumHeight(160)
        self.unlock_pass_label = label(wrap=False)
        self.unlock_pass = QLineEdit()
        self.unlock_pass.setObjectName("unlockPassphrase")
        self.unlock_pass.setEchoMode(QLineEdit.EchoMode.Password)
        self.unlock_pass_label.setBuddy(self.unlock_pass)
        self.remember = QCheckBox()
        self.remember.setObjectName("rememberCheck")
        self.unlock_error = label("error", "unlockError")
        self.unlock_error.hide()
        self.unlock_busy = busy_bar("unlockBusy")
        self.unlock_button = primary_button("unlockButton")
        self.to_create = QPushButton()
        self.to_create.setObjectName("toCreateButton")
        self.to_create.setFlat(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.to_create)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        for widget in (
            self.unlock_title,
            self.unlock_intro,
            self.profile_list,
            self.unlock_pass_label,
            self.unlock_pass,
            self.remember,
            self.unlock_error,
            self.unlock_busy,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.stack.addWidget(page)
        self.unlock_page = page
        self.unlock_button.clicked.connect(self.on_unlock_clicked)
        self.unlock_pass.returnPressed.connect(self.on_unlock_clicked)
        self.to_create.clicked.connect(lambda: self.show_page("create"))
        self.profile_list.currentRowChanged.connect(lambda _row: self.unlock_pass.setFocus())

    # --- create page -----------------------------------------------------------------

    def _build_create(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(12)
        self.create_title = label("title")
        self.create_intro = label("muted")
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("displayNameInput")
        self.role_client = QRadioButton()
        self.role_client.setObjectName("roleClient")
        self.role_client.setChecked(True)
        self.role_counselor = QRadioButton()
        self.role_counselor.setObjectName("roleCounselor")
        roles = QButtonGroup(page)
        roles.addButton(self.role_client)
        roles.addButton(self.role_counselor)
        role_box = QVBoxLayout()
        role_box.addWidget(self.role_client)
        role_box.addWidget(self.role_counselor)
        self.pass1 = QLineEdit()
        self.pass1.setObjectName("newPassphrase")
        self.pass1.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass2 = QLineEdit()
        self.pass2.setObjectName("repeatPassphrase")
        self.pass2.setEchoMode(QLineEdit.EchoMode.Password)
        self.strength = label("muted", "strengthHint")
        self.name_label = label(wrap=False)
        self.role_label = label(wrap=False)
        self.pass1_label = label(wrap=False)
        self.pass2_label = label(wrap=False)
        self.name_label.setBuddy(self.name_edit)
        self.pass1_label.setBuddy(self.pass1)
        self.pass2_label.setBuddy(self.pass2)
        form.addRow(self.name_label, self.name_edit)
        form.addRow(self.role_label, role_box)
        form.addRow(self.pass1_label, self.pass1)
        form.addRow("", self.strength)
        form.addRow(self.pass2_label, self.pass2)
        self.create_error = label("error", "createError")
        self.create_error.hide()
        self.create_busy = busy_bar("createBusy")
        self.create_button = primary_button("createButton")
        self.to_unlock = QPushButton()
        self.to_unlock.setObjectName("toUnlockButton")
        self.to_unlock.setFlat(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.to_unlock)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        layout.addWidget(self.create_title)
        layout.addWidget(self.create_intro)
        layout.addLayout(form)
        layout.addWidget(self.create_error)
        layout.addWidget(self.create_busy)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.stack.addWidget(page)
        self.create_page = page
        self.pass1.textChanged.connect(self.on_passphrase_edited)
        self.pass2.textChanged.connect(self.on_passphrase_edited)
        self.create_button.clicked.connect(self.on_create_clicked)
        self.pass2.returnPressed.connect(self.on_create_clicked)
        self.to_unlock.clicked.connect(lambda: self.show_page("unlock"))
        self.on_passphrase_edited()

    # --- behaviour -------------------------------------------------------------------

    def show_page(self, page: str) -> None:
        if page == "create":
            self.stack.setCurrentWidget(self.create_page)
            self.name_edit.setFocus()
        else:
            self.stack.setCurrentWidget(self.unlock_page)
            self.unlock_pass.setFocus()
        self.to_unlock.setVisible(bool(self.profiles))

    def refresh_profiles(self) -> None:
        self._bridge.call(lambda s: s.list_profiles(), self.on_profiles_listed, owner=self)

    def on_profiles_listed(self, profiles: Sequence[ProfileView]) -> None:
        self.profiles = {p.name: p for p in profiles if isinstance(p, ProfileView)}
        self.profile_list.clear()
        for view in self.profiles.values():
            item = QListWidgetItem(self._profile_text(view))
            item.setData(Qt.ItemDataRole.UserRole, view.name)
            self.profile_list.addItem(item)
        if self.profiles:
            self.profile_list.setCurrentRow(0)
            self.show_page("unlock")
        else:
            self.show_page("create")

    def _profile_text(self, view: ProfileView) -> str:
        if not view.role_known:  # locked: its role is inside the encrypted profile
            return view.display_name
        role = self.tr("Counselor") if view.role is Role.COUNSELOR else self.tr("Client")
        return f"{view.display_name}  ·  {role}"

    def selected_profile(self) -> str | None:
        item = self.profile_list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, str) else None

    def on_unlock_clicked(self) -> None:
        name = self.selected_profile()
        if name is None or not self.unlock_button.isEnabled():
            return
        passphrase = self.unlock_pass.text()
        remember = self.remember.isChecked()
        view = self.profiles.get(name)
        # an empty field unlocks with the remembered key only when there is one
        secret: str | None = passphrase if passphrase or not (view and view.remembered) else None
        self._set_busy(True)

        async def unlock_and_describe(svc: ServiceAPI) -> ProfileView | None:
            await svc.unlock(name, secret, remember)
            # a locked profile is listed with its folder name and no known role (both are
            # inside the encrypted database): ask again now that the core can read them
            return next((p for p in await svc.list_profiles() if p.name == name), None)

        self._bridge.call(
            unlock_and_describe,
            lambda view: self.on_unlock_finished(name, view),
            self.on_unlock_failed,
            owner=self,
        )

    def on_unlock_finished(self, name: str, view: ProfileView | None = None) -> None:
        if view is not None:
            self.profiles[name] = view
        self._set_busy(False)
        self.unlock_pass.clear()
        self.unlock_error.hide()
        self.unlocked.emit(name)

    def on_unlock_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.unlock_pass.clear()
        self.unlock_error.setText(message_for(error))
        self.unlock_error.show()
        self.unlock_pass.setFocus()

    def on_passphrase_edited(self) -> None:
        first, second = self.pass1.text(), self.pass2.text()
        strength = score(first)
        self.strength.setText(QCoreApplication.translate("strength", HINTS[strength]))
        ok = len(first) >= MIN_LENGTH and first == second
        self.create_button.setEnabled(ok)
        if second and first != second:
            self.create_error.setText(self.tr("The two passphrases are not the same yet."))
            self.create_error.show()
        else:
            self.create_error.hide()

    def on_create_clicked(self) -> None:
        name = self.name_edit.text().strip()
        passphrase = self.pass1.text()
        if not name:
            self.create_error.setText(self.tr("Please enter a name to show to the other person."))
            self.create_error.show()
            self.name_edit.setFocus()
            return
        if len(passphrase) < MIN_LENGTH or passphrase != self.pass2.text():
            return
        role = Role.COUNSELOR if self.role_counselor.isChecked() else Role.CLIENT
        self._set_busy(True)
        language = str(self.help_bar.language_box.currentData() or "")

        async def create_and_unlock(svc: ServiceAPI) -> ProfileView:
            view = await svc.create_profile(name, role, passphrase)
            await svc.unlock(view.name, passphrase, False)
            if language:  # the new profile keeps the language it was created in
                settings = await svc.settings()
                if settings.language != language:
                    await svc.update_settings(dataclasses.replace(settings, language=language))
            return view

        self._bridge.call(create_and_unlock, self.on_created, self.on_create_failed, owner=self)

    def on_created(self, view: ProfileView) -> None:
        self._set_busy(False)
        self.profiles[view.name] = view
        self.pass1.clear()
        self.pass2.clear()
        self.unlocked.emit(view.name)

    def on_create_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.create_error.setText(message_for(error))
        self.create_error.show()

    def _set_busy(self, busy: bool) -> None:
        self.unlock_busy.setVisible(busy)
        self.create_busy.setVisible(busy)
        self.unlock_button.setEnabled(not busy)
        self.unlock_pass.setEnabled(not busy)
        self.create_button.setEnabled(not busy)
        if not busy:
            self.on_passphrase_edited()

    def clear_sensitive(self) -> None:
        """Drop typed passphrases and errors (quick exit, lock)."""
        for edit in (self.unlock_pass, self.pass1, self.pass2):
            edit.clear()
        self.unlock_error.hide()
        self.create_error.hide()

    # --- texts -----------------------------------------------------------------------

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("SecureChat: welcome"))
        self.unlock_title.setText(self.tr("Welcome back"))
        self.unlock_intro.setText(
            self.tr("Choose your profile and enter your passphrase. Only you know it.")
        )
        self.profile_list.setAccessibleName(self.tr("Profiles on this device"))
        self.unlock_pass_label.setText(self.tr("&Passphrase"))
        self.unlock_pass.setAccessibleName(self.tr("Passphrase"))
        self.remember.setText(self.tr("Remember on this device (no passphrase next time)"))
        self.unlock_button.setText(self.tr("Unlock"))
        self.to_create.setText(self.tr("Create a new profile"))
        self.create_title.setText(self.tr("Create your profile"))
        self.create_intro.setText(
            self.tr(
                "Your profile stays on this computer, locked with a passphrase. "
                "If you forget the passphrase, nobody can recover your messages."
            )
        )
        self.name_label.setText(self.tr("&Name shown to the other person"))
        self.name_edit.setAccessibleName(self.tr("Name shown to the other person"))
        self.name_edit.setPlaceholderText(self.tr("A first name or a nickname is enough"))
        self.role_label.setText(self.tr("I am"))
        self.role_client.setText(self.tr("Looking for support (client)"))
        self.role_counselor.setText(self.tr("A counselor"))
        self.pass1_label.setText(self.tr("Pass&phrase"))
        self.pass1.setAccessibleName(self.tr("Passphrase"))
        self.pass1.setPlaceholderText(self.tr("A few words only you would think of"))
        self.pass2_label.setText(self.tr("&Repeat it"))
        self.pass2.setAccessibleName(self.tr("Repeat the passphrase"))
        self.create_button.setText(self.tr("Create and unlock"))
        self.to_unlock.setText(self.tr("Back to my profiles"))
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            view = self.profiles.get(key) if isinstance(key, str) else None
            if view is not None:
                item.setText(self._profile_text(view))
        self.on_passphrase_edited()
