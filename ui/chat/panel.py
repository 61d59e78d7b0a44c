"""One conversation: header, banners, the message list and the composer.

Keys: Enter sends; Shift+Enter (or Ctrl+Enter) starts a new line.

Invariants:
- The send box is enabled only when the conversation is active, consent is on record and no
  key change is waiting for confirmation. A `ConsentRequired` or `SafetyNumberChanged` event
  disables it at once, before anything else is fetched.
- Peer text reaches the screen only through `MessageDelegate` (plain text) and `PlainLabel`.
- A peer whose name another peer in the list shares gets a banner under the name saying that
  names are self-chosen, with a button to the safety number; it does not block sending.
- `clear_sensitive()` empties the model and the composer.

Signals (all carry the conversation id):
- `safety_requested(conversation_id: str)`
- `summary_requested(conversation_id: str)` (counselor)
- `referral_requested(conversation_id: str)` (counselor)
- `message_sent(conversation_id: str, message_id: str)`
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from securechat.api import ConversationView, MessageKind, Role
from ui.bridge import Bridge
from ui.chat.conversations import same_name_text
from ui.chat.delegate import MessageDelegate
from ui.chat.model import MessageListModel
from ui.chat.summary import TaskDialog
from ui.common.flow import FlowLayout
from ui.common.forms import label, primary_button
from ui.errors import message_for
from ui.i18n import language_name

__all__ = ["ChatPanel", "ChatView", "ComposerEdit"]


class ComposerEdit(QPlainTextEdit):
    """A plain-text box where Enter submits and Shift/Ctrl+Enter inserts a new line.

    Signal: `submitted()`.
    """

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
                self.insertPlainText("\n")
                return
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def insertFromMimeData(self, source: object) -> None:
        # paste as plain text only
        text = source.text() if hasattr(source, "text") else ""
        self.insertPlainText(str(text))


class ChatView(QListView):
    """A message list that loads older pages at the top and keeps the reader's place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageList")
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.verticalScrollBar().setSingleStep(24)
        self._from_bottom = 0
        self.verticalScrollBar().valueChanged.connect(self.on_scrolled)

    def attach(self, model: MessageListModel) -> None:
        self.setModel(model)
        model.rowsAboutToBeInserted.connect(self.on_rows_about_to_be_inserted)
        model.older_loaded.connect(self.on_older_loaded)

    def message_model(self) -> MessageListModel | None:
        model = self.model()
        return model if isinstance(model, MessageListModel) else None

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def on_scrolled(self, value: int) -> None:
        model = self.message_model()
        if model is None:
            return
        near_top = value <= 40
        model.set_older_wanted(near_top)
        if near_top and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())

    def on_rows_about_to_be_inserted(self, _parent: QModelIndex, first: int, _last: int) -> None:
        if first == 0:
            bar = self.verticalScrollBar()
            self._from_bottom = bar.maximum() - bar.value()

    def on_older_loaded(self, _count: int) -> None:
        self.executeDelayedItemsLayout()
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum() - self._from_bottom)
        self.fill_viewport()

    def scroll_to_end(self) -> None:
        self.executeDelayedItemsLayout()
        self.scrollToBottom()
        self.fill_viewport()

    def fill_viewport(self) -> None:
        """When the loaded rows do not fill the view there is no top to scroll to: load more."""
        model = self.message_model()
        bar = self.verticalScrollBar()
        if model is not None and bar.maximum() == 0 and model.can_load_older():
            model.set_older_wanted(True)
            model.fetchMore(QModelIndex())


class ChatPanel(QWidget):
    safety_requested = Signal(str)
    summary_requested = Signal(str)
    referral_requested = Signal(str)
    message_sent = Signal(str, str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatPanel")
        self._bridge = bridge
        self.conversation: ConversationView | None = None
        self.model: MessageListModel | None = None
        self._consent_pending = False
        self._sending = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)

        header = QHBoxLayout()
        self.peer_label = label("subtitle", "peerName", wrap=False)
        self.verified_label = label("muted", "verifiedState", wrap=False)
        self.safety_button = QPushButton()
        self.safety_button.setObjectName("safetyNumberButton")
        self.summary_button = QPushButton()
        self.summary_button.setObjectName("summaryButton")
        self.referral_button = QPushButton()
        self.referral_button.setObjectName("referralButton")
        self.withdraw_button = QPushButton()
        self.withdraw_button.setObjectName("withdrawConsentButton")
        header.addWidget(self.peer_label)
        header.addWidget(self.verified_label)
        header.addStretch(1)
        layout.addLayout(header)
        # another peer in the list goes by the same name: say so under the name, and offer
        # the one check that tells people apart (it does not block sending)
        self.same_name_banner = QFrame()
        self.same_name_banner.setObjectName("sameNameBanner")
        self.same_name_banner.setProperty("role", "banner")
        same_name_layout = QHBoxLayout(self.same_name_banner)
        self.same_name_text = label(object_name="sameNameText")
        self.compare_safety_button = QPushButton()
        self.compare_safety_button.setObjectName("compareSafetyButton")
        same_name_layout.addWidget(self.same_name_text, 1)
        same_name_layout.addWidget(self.compare_safety_button)
        self.same_name_banner.hide()
        layout.addWidget(self.same_name_banner)
        # a line of its own under the name: in a narrow window it wraps across the width
        # instead of into a column beside the name
        self.consent_label = label("muted", "consentOnRecord")
        layout.addWidget(self.consent_label)
        # the actions get rows of their own, wrapping when narrow: a narrow window (two side
        # by side, a small screen, longer Indonesian labels) still shows every one of them
        self.action_row = QWidget()
        self.action_row.setObjectName("chatActions")
        actions = FlowLayout(self.action_row)
        for button in (
            self.summary_button,
            self.referral_button,
            self.safety_button,
            self.withdraw_button,
        ):
            actions.addWidget(button)
        layout.addWidget(self.action_row)

        self.key_banner = QFrame()
        self.key_banner.setObjectName("keyChangeBanner")
        self.key_banner.setProperty("role", "banner")
        # the text above its two buttons, which wrap onto a second row when narrow
        banner_layout = QVBoxLayout(self.key_banner)
        self.key_banner_text = label(object_name="keyChangeText")
        self.review_key_button = QPushButton()
        self.review_key_button.setObjectName("reviewKeyButton")
        self.confirm_key_button = QPushButton()
        self.confirm_key_button.setObjectName("confirmKeyButton")
        key_buttons = QWidget()
        key_buttons_layout = FlowLayout(key_buttons)
        key_buttons_layout.addWidget(self.review_key_button)
        key_buttons_layout.addWidget(self.confirm_key_button)
        banner_layout.addWidget(self.key_banner_text)
        banner_layout.addWidget(key_buttons)
        self.key_banner.hide()
        layout.addWidget(self.key_banner)

        self.consent_banner = QFrame()
        self.consent_banner.setObjectName("consentBanner")
        self.consent_banner.setProperty("role", "banner")
        consent_layout = QHBoxLayout(self.consent_banner)
        self.consent_text = label(object_name="consentBannerText")
        consent_layout.addWidget(self.consent_text)
        self.consent_banner.hide()
        layout.addWidget(self.consent_banner)

        self.view = ChatView()
        self.delegate = MessageDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        # `activated` comes with a double-click (or a single one where the platform says so)
        # and with Enter; `doubleClicked` as well would open the task list a second time
        self.view.activated.connect(self.on_message_activated)
        layout.addWidget(self.view, 1)

        self.error_label = label("error", "chatError")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        composer = QHBoxLayout()
        self.input = ComposerEdit()
        self.input.setObjectName("messageInput")
        self.input.setTabChangesFocus(True)
        self.input.setMaximumHeight(84)
        self.send_button = primary_button("sendButton")
        composer.addWidget(self.input, 1)
        composer.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(composer)
        self.keys_hint = label("muted", "composerHint")  # wraps: never widens the window
        layout.addWidget(self.keys_hint)

        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(0)
        self._scroll_timer.timeout.connect(self.view.scroll_to_end)
        self.send_button.clicked.connect(self.on_send_clicked)
        self.input.submitted.connect(self.on_send_clicked)
        self.input.textChanged.connect(self._update_send_enabled)
        self.safety_button.clicked.connect(self._emit_safety)
        self.review_key_button.clicked.connect(self._emit_safety)
        self.compare_safety_button.clicked.connect(self._emit_safety)
        self.confirm_key_button.clicked.connect(self.on_confirm_key_clicked)
        self.summary_button.clicked.connect(lambda: self.summary_requested.emit(self._cid()))
        self.referral_button.clicked.connect(lambda: self.referral_requested.emit(self._cid()))
        self.withdraw_button.clicked.connect(self.on_withdraw_clicked)
        self.setTabOrder(self.input, self.send_button)
        self.retranslate_ui()
        self._update_send_enabled()

    # --- conversation --------------------------------------------------------------------

    def _cid(self) -> str:
        return self.conversation.conversation_id if self.conversation else ""

    def _emit_safety(self) -> None:
        self.safety_requested.emit(self._cid())

    def show_conversation(self, view: ConversationView) -> None:
        """Open a conversation: a fresh paged model, newest page first."""
        same = self.conversation is not None and self.conversation.conversation_id == (
            view.conversation_id
        )
        self.conversation = view
        if not same or self.model is None:
            self._consent_pending = False
            old = self.model
            self.model = MessageListModel(self._bridge, view.conversation_id, parent=self)
            self.view.attach(self.model)
            self.model.opened.connect(self.view.scroll_to_end)
            self.model.newer_loaded.connect(self.on_newer_loaded)
            if old is not None:
                old.clear()
                old.deleteLater()
            self.delegate.clear_cache()
            self.input.clear()
            self.error_label.hide()
            self.model.open()
        self._apply_state()

    def update_conversation(self, view: ConversationView) -> None:
        if self.conversation and view.conversation_id == self.conversation.conversation_id:
            self.conversation = view
            self._apply_state()

    def _apply_state(self) -> None:
        view = self.conversation
        counselor = view is not None and view.role is Role.COUNSELOR
        self.summary_button.setVisible(counselor)
        self.referral_button.setVisible(counselor)
        self.withdraw_button.setVisible(view is not None and not counselor)
        self.withdraw_button.setEnabled(view is not None and view.active)
        self.key_banner.setVisible(view is not None and view.blocked_by_key_change)
        self.same_name_banner.setVisible(view is not None and view.same_name_peers > 0)
        no_consent = view is not None and (view.consent_version is None or self._consent_pending)
        inactive = view is not None and not view.active
        self.consent_banner.setVisible(no_consent or inactive)
        self._set_texts()  # cheap: the bubbles' layout does not depend on this state
        self._update_send_enabled()

    def can_send(self) -> bool:
        view = self.conversation
        return (
            view is not None
            and view.active
            and view.consent_version is not None
            and not self._consent_pending
            and not view.blocked_by_key_change
        )

    def _update_send_enabled(self) -> None:
        allowed = self.can_send()
        self.input.setEnabled(allowed)
        self.send_button.setEnabled(
            allowed and not self._sending and bool(self.input.toPlainText().strip())
        )

    # --- events from the core ------------------------------------------------------------

    def on_message_received(self, conversation_id: str) -> None:
        if self.model is not None and conversation_id == self._cid():
            self.model.load_newer()

    def on_delivery_changed(self, conversation_id: str, message_id: str, state: str) -> None:
        if self.model is not None and conversation_id == self._cid():
            self.model.on_delivery_changed(message_id, state)

    def on_safety_number_changed(self, conversation_id: str) -> None:
        if self.conversation and conversation_id == self._cid():
            self.conversation = dataclasses.replace(
                self.conversation, blocked_by_key_change=True, verified=False
            )
            self._apply_state()

    def on_consent_required(self, conversation_id: str, _version: int) -> None:
        if conversation_id == self._cid():
            self._consent_pending = True
            self._apply_state()

    def on_newer_loaded(self, _count: int) -> None:
        if not self._scroll_timer.isActive():
            self._scroll_timer.start()

    # --- actions -------------------------------------------------------------------------

    def on_send_clicked(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or not self.can_send() or self._sending:
            return
        cid = self._cid()
        self._sending = True
        self._update_send_enabled()
        self._bridge.call(
            lambda s: s.send_text(cid, text),
            lambda mid: self.on_sent(cid, mid),
            self.on_send_failed,
            owner=self,
        )

    def on_sent(self, conversation_id: str, message_id: str) -> None:
        self._sending = False
        self.input.clear()
        self.error_label.hide()
        if self.model is not None and conversation_id == self._cid():
            self.model.load_newer()
        self._update_send_enabled()
        self.message_sent.emit(conversation_id, message_id)

    def on_send_failed(self, error: BaseException) -> None:
        self._sending = False
        self.error_label.setText(message_for(error))
        self.error_label.show()
        self._update_send_enabled()

    def on_confirm_key_clicked(self) -> None:
        cid = self._cid()
        self._bridge.call(
            lambda s: s.confirm_key_change(cid), lambda _r: self.on_key_confirmed(cid), owner=self
        )

    def on_key_confirmed(self, conversation_id: str) -> None:
        if self.conversation and conversation_id == self._cid():
            self.conversation = dataclasses.replace(self.conversation, blocked_by_key_change=False)
            self._apply_state()

    def on_withdraw_clicked(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Withdraw consent?"),
            self.tr(
                "Your counselor will be told, and this conversation will stop. "
                "You can still read it here. Withdraw consent?"
            ),
            parent=self,
        )
        withdraw = box.addButton(self.tr("Withdraw consent"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Keep the conversation"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        chosen = box.clickedButton()
        box.deleteLater()
        if chosen is not withdraw:
            return
        cid = self._cid()
        self._bridge.call(lambda s: s.withdraw_consent(cid), owner=self)
        if self.conversation is not None:
            self.conversation = dataclasses.replace(self.conversation, active=False)
            self._apply_state()

    def on_message_activated(self, index: QModelIndex) -> None:
        if self.model is None or not index.isValid():
            return
        message = self.model.message(index.row())
        if message.kind is not MessageKind.SUMMARY or message.summary is None:
            return
        dialog = TaskDialog(message, editable=not message.outgoing, parent=self)
        dialog.task_toggled.connect(self.on_task_toggled)
        dialog.exec()
        dialog.deleteLater()

    def on_task_toggled(self, message_id: str, index: int, done: bool) -> None:
        if self.model is None:
            return
        row = self.model.row_of(message_id)
        if row is None:
            return
        ticks = list(self.model.message(row).tasks_done)
        while len(ticks) <= index:
            ticks.append(False)
        ticks[index] = done
        self.model.update_message(message_id, tasks_done=tuple(ticks))
        self._bridge.call(lambda s: s.set_task_done(message_id, index, done), owner=self)

    def clear_sensitive(self) -> None:
        """Empty the model and the composer (quick exit, lock)."""
        if self.model is not None:
            self.model.clear()
        self.delegate.clear_cache()
        self.input.clear()
        self.peer_label.clear()
        self.conversation = None

    # --- texts ---------------------------------------------------------------------------

    def retranslate_ui(self) -> None:
        """New language: every text, and every bubble laid out again (dates, states)."""
        self._set_texts()
        self.delegate.clear_cache()
        self.view.doItemsLayout()

    def _set_texts(self) -> None:
        view = self.conversation
        self.peer_label.setText(view.peer_name if view else "")
        if view is not None:
            self.verified_label.setText(
                self.tr("✓ Verified") if view.verified else self.tr("Not verified yet")
            )
            if view.consent_version is not None:
                self.consent_label.setText(
                    self.tr("Consent on record: disclosure version %1, %2")
                    .replace("%1", str(view.consent_version))
                    .replace("%2", language_name(view.consent_language or ""))
                )
            else:
                self.consent_label.setText(self.tr("No consent on record"))
        self.safety_button.setText(self.tr("Safety number"))
        self.summary_button.setText(self.tr("Session summary"))
        self.referral_button.setText(self.tr("Send crisis numbers"))
        self.withdraw_button.setText(self.tr("Withdraw consent"))
        self.key_banner_text.setText(
            self.tr(
                "The other person's safety number has changed. This can happen when they "
                "reinstall the app. Check it with them, then confirm to keep writing."
            )
        )
        self.review_key_button.setText(self.tr("Check safety number"))
        self.same_name_text.setText("⚠ " + same_name_text())
        self.compare_safety_button.setText(self.tr("Compare safety numbers"))
        self.confirm_key_button.setText(self.tr("I have checked it"))
        if view is not None and not view.active:
            self.consent_text.setText(
                self.tr(
                    "Consent was withdrawn. This conversation is closed; you can still read it."
                )
            )
        else:
            self.consent_text.setText(
                self.tr(
                    "The counselor updated their disclosure. Sending is paused until you "
                    "have read and accepted the new version."
                )
            )
        self.input.setPlaceholderText(self.tr("Write a message…"))
        self.input.setAccessibleName(self.tr("Message"))
        self.send_button.setText(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send message"))
        self.view.setAccessibleName(self.tr("Messages"))
        self.keys_hint.setText(self.tr("Enter sends · Shift+Enter starts a new line"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
