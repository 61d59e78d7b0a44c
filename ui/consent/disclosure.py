"""The disclosure-and-consent gate: read how the counselor works, then decide.

Job: show the counselor's profile and the disclosure (plain text) in the chosen language, with
its version and language; consent is explicit: tick "I have read and understood", press
"I agree". Only then is the first-message box enabled; sending it calls
`consent(invite_id, language, first_message)`, which signs the consent record and makes first
contact. "Not now" declines: nothing has been sent.

Invariants:
- `messageInput` and `sendButton` on this page are disabled until `consentAcceptButton` was
  pressed with the box ticked; changing the disclosure language withdraws that acceptance (the
  person must accept the text they read).
- The disclosure comes from a relay: it is shown in a read-only `QPlainTextEdit` (never HTML).

Signals:
- `consented(conversation_id: str)`: the core made first contact.
- `declined()`: the person chose not to go on.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from securechat.api import DisclosureView, InviteView
from ui.bridge import Bridge
from ui.chat.panel import ComposerEdit
from ui.common.forms import busy_bar, label, primary_button
from ui.common.labels import CheckLabel
from ui.errors import message_for
from ui.i18n import language_name

# the usual time to reply as securechat publishes it (`first_contact`): "24 h"
_HOURS = re.compile(r"([0-9]{1,3}) h")

__all__ = ["ConsentPage"]


class ConsentPage(QWidget):
    consented = Signal(str)
    declined = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentPage")
        self._bridge = bridge
        self.invite: InviteView | None = None
        self.accepted = False
        self.preferred_language = "id"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 20)
        layout.setSpacing(10)
        self.title = label("title")
        layout.addWidget(self.title)

        card = QFrame()
        card.setProperty("role", "card")
        form = QFormLayout(card)
        form.setContentsMargins(16, 12, 16, 12)
        self.name_value = label("subtitle", "counselorName")
        self.credentials_value = label(object_name="counselorCredentials")
        self.topics_value = label()
        self.languages_value = label()
        self.hours_value = label()
        self.response_value = label()
        self.row_labels = [label(wrap=False) for _ in range(6)]
        for row_label, value in zip(
            self.row_labels,
            (
                self.name_value,
                self.credentials_value,
                self.topics_value,
                self.languages_value,
                self.hours_value,
                self.response_value,
            ),
            strict=True,
        ):
            form.addRow(row_label, value)
        layout.addWidget(card)

        lang_row = QHBoxLayout()
        self.language_label = label(wrap=False)
        self.language_box = QComboBox()
        self.language_box.setObjectName("disclosureLanguage")
        self.language_label.setBuddy(self.language_box)
        # wraps (right-aligned) rather than widen the window: longer in Indonesian
        self.version_label = label("muted", "disclosureVersion")
        self.version_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lang_row.addWidget(self.language_label)
        lang_row.addWidget(self.language_box)
        lang_row.addWidget(self.version_label, 1)
        layout.addLayout(lang_row)

        self.text = QPlainTextEdit()
        self.text.setObjectName("disclosureText")
        self.text.setReadOnly(True)
        layout.addWidget(self.text, 1)

        accept_row = QHBoxLayout()
        # the box and its text apart: a check box's own text never wraps, and this line is
        # long in Indonesian; clicking the text ticks the box as usual
        self.understood = QCheckBox()
        self.understood.setObjectName("consentUnderstoodCheck")
        self.understood_text = CheckLabel()
        self.understood_text.setObjectName("consentUnderstoodText")
        self.understood_text.setBuddy(self.understood)
        understood_row = QHBoxLayout()
        understood_row.addWidget(self.understood, 0, Qt.AlignmentFlag.AlignTop)
        understood_row.addWidget(self.understood_text, 1)
        self.accept_button = primary_button("consentAcceptButton")
        self.accept_button.setEnabled(False)
        self.decline_button = QPushButton()
        self.decline_button.setObjectName("consentDeclineButton")
        # the tick on a line of its own, the two answers under it: long in Indonesian, and the
        # window must still fit a 1366-pixel laptop screen
        layout.addLayout(understood_row)
        accept_row.addStretch(1)
        accept_row.addWidget(self.decline_button)
        accept_row.addWidget(self.accept_button)
        layout.addLayout(accept_row)

        self.first_label = label("muted", "firstMessageHint")
        layout.addWidget(self.first_label)
        composer = QHBoxLayout()
        self.input = ComposerEdit()
        self.input.setObjectName("messageInput")
        self.input.setTabChangesFocus(True)
        self.input.setMaximumHeight(90)
        self.send_button = primary_button("sendButton")
        composer.addWidget(self.input, 1)
        composer.addWidget(self.send_button)
        layout.addLayout(composer)
        self.error = label("error", "consentError")
        self.error.hide()
        self.busy = busy_bar("consentBusy")
        layout.addWidget(self.error)
        layout.addWidget(self.busy)

        self.understood.toggled.connect(self._update)
        self.accept_button.clicked.connect(self.on_accept_clicked)
        self.decline_button.clicked.connect(self.on_decline_clicked)
        self.language_box.currentIndexChanged.connect(self.on_language_chosen)
        self.send_button.clicked.connect(self.on_send_clicked)
        self.input.submitted.connect(self.on_send_clicked)
        self.input.textChanged.connect(self._update)
        self.retranslate_ui()
        self._update()

    # --- content ---------------------------------------------------------------------

    def show_invite(self, invite: InviteView) -> None:
        self.invite = invite
        self.accepted = False
        self.understood.setChecked(False)
        self.input.clear()
        self.error.hide()
        self.language_box.blockSignals(True)
        self.language_box.clear()
        for disclosure in invite.disclosures:
            self.language_box.addItem(language_name(disclosure.language), disclosure.language)
        preferred = self.language_box.findData(self.preferred_language)
        self.language_box.setCurrentIndex(max(0, preferred))
        self.language_box.blockSignals(False)
        self.on_language_chosen()
        self.retranslate_ui()

    def current_disclosure(self) -> DisclosureView | None:
        if self.invite is None:
            return None
        code = self.language_box.currentData()
        for disclosure in self.invite.disclosures:
            if disclosure.language == code:
                return disclosure
        return self.invite.disclosures[0] if self.invite.disclosures else None

    def on_language_chosen(self) -> None:
        disclosure = self.current_disclosure()
        self.text.setPlainText(disclosure.text if disclosure else "")
        # the person must accept the text they actually read
        self.accepted = False
        self.understood.setChecked(False)
        self.retranslate_ui()
        self._update()

    def _update(self) -> None:
        has_text = self.current_disclosure() is not None
        self.accept_button.setEnabled(
            has_text and self.understood.isChecked() and not self.accepted
        )
        self.input.setEnabled(self.accepted)
        self.send_button.setEnabled(self.accepted and bool(self.input.toPlainText().strip()))
        self.first_label.setVisible(True)

    # --- actions ---------------------------------------------------------------------

    def on_accept_clicked(self) -> None:
        if not self.understood.isChecked():
            return
        self.accepted = True
        self._update()
        self.retranslate_ui()
        self.input.setFocus()

    def on_decline_clicked(self) -> None:
        self.clear_sensitive()
        self.declined.emit()

    def on_send_clicked(self) -> None:
        text = self.input.toPlainText().strip()
        disclosure = self.current_disclosure()
        if not (self.accepted and text and self.invite and disclosure):
            return
        invite_id, language = self.invite.invite_id, disclosure.language
        self.busy.show()
        self.send_button.setEnabled(False)
        self._bridge.call(
            lambda s: s.consent(invite_id, language, text),
            self.on_consented,
            self.on_failed,
            owner=self,
        )

    def on_consented(self, conversation_id: str) -> None:
        self.busy.hide()
        self.clear_sensitive()
        self.consented.emit(conversation_id)

    def on_failed(self, error: BaseException) -> None:
        self.busy.hide()
        self.error.setText(message_for(error))
        self.error.show()
        self._update()

    def clear_sensitive(self) -> None:
        self.invite = None
        self.accepted = False
        self.understood.setChecked(False)
        self.input.clear()
        self.text.clear()
        self.language_box.clear()
        self._update()

    # --- texts -----------------------------------------------------------------------

    def response_text(self, response_time: str) -> str:
        """The counselor's usual time to reply in the reader's language: the app publishes it
        as "<hours> h"; anything else (another app, a hand-made profile) is shown as written."""
        hours = _HOURS.fullmatch(response_time)
        if hours is None:
            return response_time
        return self.tr("%1 h").replace("%1", hours.group(1))

    def retranslate_ui(self) -> None:
        invite = self.invite
        self.title.setText(self.tr("Before you start: how this counselor works"))
        for row_label, text in zip(
            self.row_labels,
            (
                self.tr("Counselor"),
                self.tr("Qualifications"),
                self.tr("Topics"),
                self.tr("Languages"),
                self.tr("Hours"),
                self.tr("Replies"),
            ),
            strict=True,
        ):
            row_label.setText(text)
        if invite is not None:
            self.name_value.setText(invite.counselor_name)
            self.credentials_value.setText(invite.credentials)
            self.topics_value.setText(", ".join(invite.specializations))
            self.languages_value.setText(", ".join(language_name(x) for x in invite.languages))
            self.hours_value.setText(f"{invite.service_hours} ({invite.time_zone})")
            self.response_value.setText(self.response_text(invite.response_time))
        disclosure = self.current_disclosure()
        if disclosure is not None:
            self.version_label.setText(
                self.tr("Disclosure version %1, %2")
                .replace("%1", str(disclosure.version))
                .replace("%2", language_name(disclosure.language))
            )
        self.language_label.setText(self.tr("&Read it in"))
        self.text.setAccessibleName(self.tr("Disclosure"))
        understood = self.tr("I have read and understood this disclosure")
        self.understood_text.setText(understood)
        self.understood.setAccessibleName(understood)
        self.accept_button.setText(self.tr("✓ Agreed") if self.accepted else self.tr("I agree"))
        self.accept_button.setAccessibleName(self.tr("I agree to this disclosure"))
        self.decline_button.setText(self.tr("Not now"))
        if self.accepted:
            self.first_label.setText(
                self.tr(
                    "Thank you. Write your first message: your consent is signed and sent "
                    "together with it."
                )
            )
        else:
            self.first_label.setText(
                self.tr(
                    "You can write your first message after you have agreed. Nothing has been sent."
                )
            )
        self.input.setPlaceholderText(self.tr("Write a message…"))
        self.input.setAccessibleName(self.tr("Message"))
        self.send_button.setText(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send message"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
