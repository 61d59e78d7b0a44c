"""The settings dialog: relay URL, language, region, auto-lock, retention, remembering, passphrase.

Job: edit a `SettingsView` and save it with `update_settings`; change the passphrase with
`change_passphrase`. The app applies language and auto-lock when `settings_saved` fires.

Signals:
- `settings_saved()`: `saved_view` holds the `SettingsView` the core returned.

Invariants: passphrase fields are cleared whatever happens; the relay URL is never logged.
A shorter "Keep history" that would delete messages is saved only after the person confirms
how many go (`messages_older_than`; "keep them" is the default button, and restores the old
period). The value fields change on the mouse wheel only when they have focus. While the
passphrase changes (Argon2id, seconds), its fields and button are off and a busy bar runs.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from securechat.api import SettingsView
from ui.bridge import Bridge
from ui.common.forms import busy_bar, label, name_buttons, wheel_only_with_focus
from ui.errors import message_for
from ui.welcome.strength import MIN_LENGTH

__all__ = ["SettingsDialog", "deletes_history"]


def deletes_history(old_days: int, new_days: int) -> bool:
    """True when keeping history for `new_days` instead of `old_days` (0 = always) is
    shorter, so saving it can delete messages."""
    return new_days != 0 and (old_days == 0 or new_days < old_days)


def _chose_delete(box: QMessageBox) -> bool:
    clicked = box.clickedButton()  # Esc and closing the box count as "keep"
    return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole


class SettingsDialog(QDialog):
    settings_saved = Signal()

    def __init__(self, bridge: Bridge, view: SettingsView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self._bridge = bridge
        self._view = view
        self.saved_view: SettingsView | None = None
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.relay = QLineEdit(view.relay_url)
        self.relay.setObjectName("relayUrlInput")
        self.language = QComboBox()
        self.language.setObjectName("languageChoice")
        self.language.addItem("English", "en")
        self.language.addItem("Bahasa Indonesia", "id")
        self.language.setCurrentIndex(max(0, self.language.findData(view.language)))
        self.region = QComboBox()
        self.region.setObjectName("regionChoice")
        self.region.addItem("Indonesia", "ID")
        self.region.addItem("", "ZZ")
        self.region.setCurrentIndex(max(0, self.region.findData(view.region)))
        self.auto_lock = QSpinBox()
        self.auto_lock.setObjectName("autoLockMinutes")
        self.auto_lock.setRange(0, 240)
        self.auto_lock.setValue(view.auto_lock_minutes)
        self.retention = QSpinBox()
        self.retention.setObjectName("retentionDays")
        self.retention.setRange(0, 3650)
        self.retention.setValue(view.retention_days)
        self.remember = QCheckBox()
        self.remember.setObjectName("rememberOnDevice")
        self.remember.setChecked(view.remember_on_device)
        wheel_only_with_focus(self.language, self.region, self.auto_lock, self.retention)
        self.labels = [label(wrap=False) for _ in range(6)]
        for row_label, field in zip(
            self.labels,
            (self.relay, self.language, self.region, self.auto_lock, self.retention, self.remember),
            strict=True,
        ):
            row_label.setBuddy(field)
            form.addRow(row_label, field)
        layout.addLayout(form)

        self.pass_box = QGroupBox()
        pass_form = QFormLayout(self.pass_box)
        self.old_pass = QLineEdit()
        self.old_pass.setObjectName("oldPassphrase")
        self.new_pass = QLineEdit()
        self.new_pass.setObjectName("changedPassphrase")
        self.new_pass2 = QLineEdit()
        self.new_pass2.setObjectName("changedPassphraseRepeat")
        for edit in (self.old_pass, self.new_pass, self.new_pass2):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass_labels = [label(wrap=False) for _ in range(3)]
        for row_label, edit in zip(
            self.pass_labels, (self.old_pass, self.new_pass, self.new_pass2), strict=True
        ):
            pass_form.addRow(row_label, edit)
        self.change_button = QPushButton()
        self.change_button.setObjectName("changePassphraseButton")
        self.pass_state = label("muted", "passphraseState")
        self.pass_busy = busy_bar("passphraseBusy")
        pass_form.addRow(self.change_button)
        pass_form.addRow(self.pass_state)
        pass_form.addRow(self.pass_busy)
        self.confirm_box: QMessageBox | None = None
        layout.addWidget(self.pass_box)
        self.error = label("error", "settingsError")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName(
            "saveSettingsButton"
        )
        self.buttons.accepted.connect(self.on_save_clicked)
        self.buttons.rejected.connect(self.reject)
        self.change_button.clicked.connect(self.on_change_passphrase_clicked)
        layout.addWidget(self.buttons)
        self.retranslate_ui()

    def edited_view(self) -> SettingsView:
        return dataclasses.replace(
            self._view,
            relay_url=self.relay.text().strip(),
            language=str(self.language.currentData()),
            region=str(self.region.currentData()),
            auto_lock_minutes=self.auto_lock.value(),
            retention_days=self.retention.value(),
            remember_on_device=self.remember.isChecked(),
        )

    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def on_save_clicked(self) -> None:
        view = self.edited_view()
        self.save_button().setEnabled(False)  # until saved, refused, or the question answered
        self.error.hide()
        if not deletes_history(self._view.retention_days, view.retention_days):
            self._save(view)
            return
        days = view.retention_days
        self._bridge.call(
            lambda s: s.messages_older_than(days),
            lambda count: self.on_counted(view, count),
            self.on_failed,
            owner=self,
        )

    def on_counted(self, view: SettingsView, count: int) -> None:
        if count <= 0:
            self._save(view)
            return
        box = self._confirmation(view.retention_days, count)
        self.confirm_box = box
        box.finished.connect(lambda _result: self.on_confirmed(view, _chose_delete(box)))
        box.open()  # window-modal, no nested event loop: quick exit stays safe

    def _confirmation(self, days: int, count: int) -> QMessageBox:
        messages = (
            self.tr("1 message") if count == 1 else self.tr("%1 messages").replace("%1", str(count))
        )
        period = self.tr("1 day") if days == 1 else self.tr("%1 days").replace("%1", str(days))
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete older messages?"),
            self.tr("%1 older than %2 will be deleted from this device for good.")
            .replace("%1", messages)
            .replace("%2", period),
            parent=self,
        )
        box.setObjectName("retentionConfirm")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(self.tr("This cannot be undone."))
        delete = box.addButton(self.tr("Delete them"), QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("deleteHistoryButton")
        delete.setAutoDefault(False)
        keep = box.addButton(self.tr("Keep them"), QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("keepHistoryButton")
        box.setDefaultButton(keep)  # Enter keeps the messages
        box.setEscapeButton(keep)
        return box

    def on_confirmed(self, view: SettingsView, delete: bool) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is not None:
            box.deleteLater()
        if delete:
            self._save(view)
            return
        self.retention.setValue(self._view.retention_days)  # nothing saved, nothing deleted
        self.save_button().setEnabled(True)
        self.retention.setFocus()

    def _save(self, view: SettingsView) -> None:
        self._bridge.call(
            lambda s: s.update_settings(view), self.on_saved, self.on_failed, owner=self
        )

    def on_saved(self, view: SettingsView) -> None:
        self.saved_view = view
        self.settings_saved.emit()
        self.accept()

    def on_failed(self, error: BaseException) -> None:
        self.error.setText(message_for(error))
        self.error.show()
        self.save_button().setEnabled(True)

    def on_change_passphrase_clicked(self) -> None:
        old, new = self.old_pass.text(), self.new_pass.text()
        same = new == self.new_pass2.text()
        for edit in (self.old_pass, self.new_pass, self.new_pass2):
            edit.clear()
        if len(new) < MIN_LENGTH or not same:
            self.pass_state.setText(
                self.tr("The new passphrase needs at least 10 characters, typed the same twice.")
            )
            return
        self._set_changing(True)
        self.pass_state.setText(self.tr("Changing your passphrase… This takes a few seconds."))
        self._bridge.call(
            lambda s: s.change_passphrase(old, new),
            lambda _r: self.on_passphrase_done(self.tr("Your passphrase was changed.")),
            lambda e: self.on_passphrase_done(message_for(e)),
            owner=self,
        )

    def on_passphrase_done(self, text: str) -> None:
        self._set_changing(False)
        self.pass_state.setText(text)

    def _set_changing(self, changing: bool) -> None:
        """Fields and button off while the passphrase changes, so nobody clicks twice."""
        for widget in (self.old_pass, self.new_pass, self.new_pass2, self.change_button):
            widget.setEnabled(not changing)
        self.pass_busy.setVisible(changing)

    def changeEvent(self, event: QEvent) -> None:
        # not modal, so the language can be switched while it is open
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def follow_language(self, code: str) -> None:
        """The language was chosen elsewhere (the help bar) while this is open: show it, so
        that Save keeps it instead of putting back the one this dialog opened with."""
        self._view = dataclasses.replace(self._view, language=code)
        self.language.setCurrentIndex(max(0, self.language.findData(code)))

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        name_buttons(self.buttons)
        texts = (
            self.tr("&Server (relay) address"),
            self.tr("&Language"),
            self.tr("&Emergency numbers for"),
            self.tr("&Lock after (minutes idle, 0 = never)"),
            self.tr("&Keep history (days, 0 = always)"),
            self.tr("Re&member on this device"),
        )
        for row_label, text in zip(self.labels, texts, strict=True):
            row_label.setText(text)
        self.region.setItemText(1, self.tr("Another country"))
        self.auto_lock.setSpecialValueText(self.tr("Never"))  # what 0 means
        self.retention.setSpecialValueText(self.tr("Always"))
        self.remember.setText(self.tr("Unlock without a passphrase on this computer"))
        self.pass_box.setTitle(self.tr("Change passphrase"))
        for row_label, text in zip(
            self.pass_labels,
            (self.tr("Current passphrase"), self.tr("New passphrase"), self.tr("Repeat it")),
            strict=True,
        ):
            row_label.setText(text)
        self.change_button.setText(self.tr("Change passphrase"))
