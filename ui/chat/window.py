"""The main window after unlocking: conversations, the open chat, and (counselors) notes.

Job: arrange the screens (conversation list | chat, invite or consent | notes) and route the
bridge's events to them. It holds no conversation data of its own beyond the models.

Invariants:
- Counselors see the notes panel; clients never do.
- `clear_sensitive()` empties every model and input (quick exit, lock), so no decrypted text
  stays in a widget.

Signals:
- `settings_requested()`
- `settings_changed()` when the settings dialog saved (`settings` holds the new view).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from securechat.api import ConversationView, Role, SettingsView
from securechat.errors import InvalidInvite
from ui.bridge import Bridge
from ui.chat.conversations import CONVERSATION_ROLE, ConversationListModel
from ui.chat.panel import ChatPanel
from ui.chat.summary import ReferralDialog, SummaryComposer
from ui.common.forms import label, name_buttons
from ui.common.window import AppWindow
from ui.consent.disclosure import ConsentPage
from ui.consent.invite import InvitePage
from ui.errors import message_for
from ui.notes.panel import NotesPanel
from ui.safety.dialog import SafetyNumberDialog, qr_pixmap

__all__ = ["MainWindow"]


class MainWindow(AppWindow):
    settings_changed = Signal()
    settings_requested = Signal()

    def __init__(
        self, bridge: Bridge, role: Role, settings: SettingsView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self._bridge = bridge
        self.role = role
        self.settings = settings
        # conversations whose counselor published a new disclosure (the contract has no way
        # to ask for this later, so it is remembered from the ConsentRequired event)
        self.consent_pending: dict[str, int] = {}
        self._connection = ""  # the last connection state, so a language switch can restate it
        self._share_pending = False  # "Share my invite link" waits for a relay address
        # the conversation to open first (the one open before a lock), if it still exists
        self.resume_conversation: str | None = None
        self.resize(1200, 780)
        outer = QHBoxLayout(self.content)
        outer.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(self.splitter)

        side = QWidget()
        side.setObjectName("sidebar")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(12, 12, 12, 12)
        self.list_title = label("subtitle", wrap=False)
        self.conversations = ConversationListModel(self)
        self.conversation_list = QListView()
        self.conversation_list.setObjectName("conversationList")
        self.conversation_list.setModel(self.conversations)
        self.conversation_list.setSpacing(2)
        # names stay readable however narrow the window; the buttons below set their own minimum
        self.conversation_list.setMinimumWidth(196)
        # a long name is shortened in the middle, so "· 2 new" stays in sight; no sideways
        # scrolling (the full text is the item's accessible text)
        self.conversation_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.new_button = QPushButton()
        self.new_button.setObjectName("newConversationButton")
        self.settings_button = QPushButton()
        self.settings_button.setObjectName("settingsButton")
        self.lock_button = QPushButton()
        self.lock_button.setObjectName("lockButton")
        side_layout.addWidget(self.list_title)
        side_layout.addWidget(self.conversation_list, 1)
        self.no_conversations = label("muted", "noConversationsHint")
        side_layout.addWidget(self.no_conversations)
        side_layout.addWidget(self.new_button)
        self.disclosure_button = QPushButton()
        self.disclosure_button.setObjectName("editDisclosureButton")
        self.disclosure_button.setVisible(role is Role.COUNSELOR)
        side_layout.addWidget(self.disclosure_button)
        self.profile_button = QPushButton()
        self.profile_button.setObjectName("editProfileButton")
        self.profile_button.setVisible(role is Role.COUNSELOR)
        side_layout.addWidget(self.profile_button)
        side_layout.addWidget(self.settings_button)
        side_layout.addWidget(self.lock_button)
        self.splitter.addWidget(side)

        self.stack = QStackedWidget()
        self.empty = QWidget()
        empty_layout = QVBoxLayout(self.empty)
        self.empty_title = label("title")
        self.empty_text = label("muted")
        empty_layout.addStretch(1)
        for text in (self.empty_title, self.empty_text):
            text.setAlignment(Qt.AlignmentFlag.AlignHCenter)  # full width, so wrapping works
            empty_layout.addWidget(text)
        empty_layout.addStretch(2)
        self.chat = ChatPanel(bridge)
        self.invite_page = InvitePage(bridge)
        self.invite_page.relay_url = settings.relay_url
        self.consent_page = ConsentPage(bridge)
        self.consent_page.preferred_language = settings.language
        for page in (self.empty, self.chat, self.invite_page, self.consent_page):
            self.stack.addWidget(page)
        self.splitter.addWidget(self.stack)

        self.notes = NotesPanel(bridge)
        self.splitter.addWidget(self.notes)
        self.notes.setVisible(role is Role.COUNSELOR)
        self.splitter.setSizes([260, 640, 320] if role is Role.COUNSELOR else [260, 900, 0])
        self.splitter.setStretchFactor(1, 1)

        self._shortcuts()
        self.conversation_list.activated.connect(self.on_conversation_chosen)
        self.conversation_list.clicked.connect(self.on_conversation_chosen)
        self.new_button.clicked.connect(self.on_new_clicked)
        self.settings_button.clicked.connect(self.settings_requested)
        self.disclosure_button.clicked.connect(self.on_disclosure_clicked)
        self.profile_button.clicked.connect(self.on_profile_clicked)
        self.notes.conversation_requested.connect(self.open_conversation)
        self.invite_page.invite_opened.connect(self.on_invite_opened)
        self.consent_page.consented.connect(self.on_consented)
        self.consent_page.declined.connect(self.on_declined)
        self.chat.safety_requested.connect(self.on_safety_requested)
        self.chat.summary_requested.connect(self.on_summary_requested)
        self.chat.referral_requested.connect(self.on_referral_requested)
        self.chat.message_sent.connect(lambda _c, _m: self.refresh_conversations())

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(150)
        self._refresh_timer.timeout.connect(self.refresh_conversations)
        bridge.message_received.connect(self.on_message_received)
        bridge.delivery_changed.connect(self.chat.on_delivery_changed)
        bridge.conversation_started.connect(lambda _cid: self.refresh_conversations())
        bridge.safety_number_changed.connect(self.chat.on_safety_number_changed)
        bridge.consent_required.connect(self.on_consent_required)
        bridge.consent_withdrawn.connect(lambda _cid, _peer: self.refresh_conversations())
        bridge.connection_changed.connect(self.on_connection_changed)
        self.retranslate_ui()
        self.refresh_conversations(open_first=True)

    def _shortcuts(self) -> None:
        """Keys for a full working day: switch conversations, search notes, lock, new."""
        bindings = (
            ("Ctrl+PgDown", lambda: self.step_conversation(1)),
            ("Ctrl+PgUp", lambda: self.step_conversation(-1)),
            ("Ctrl+N", self.on_new_clicked),
            ("Ctrl+L", self.lock_button.click),
            ("Ctrl+F", self.focus_search),
        )
        for keys, action in bindings:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(action)

    def step_conversation(self, step: int) -> None:
        count = self.conversations.rowCount()
        if count == 0:
            return
        current = self.conversation_list.currentIndex().row()
        row = (current + step) % count if current >= 0 else 0
        self.open_conversation(self.conversations.view(row).conversation_id)

    def focus_search(self) -> None:
        if self.role is Role.COUNSELOR:
            self.notes.search.setFocus()
            self.notes.search.selectAll()

    # --- conversations ---------------------------------------------------------------

    def refresh_conversations(self, open_first: bool = False) -> None:
        self._bridge.call(
            lambda s: s.conversations(),
            lambda views: self.on_conversations_listed(views, open_first),
            owner=self,
        )

    def on_conversations_listed(
        self, views: Sequence[ConversationView], open_first: bool = False
    ) -> None:
        current = self.chat.conversation.conversation_id if self.chat.conversation else None
        self.conversations.set_conversations(views)
        if current is not None:  # open, so read: a listing taken just before says otherwise
            self.conversations.mark_read(current)
        self.no_conversations.setVisible(not views)
        if current is not None:
            row = self.conversations.find(current)
            if row is not None:
                self.conversation_list.setCurrentIndex(self.conversations.index(row, 0))
                self.chat.update_conversation(self.conversations.view(row))
        elif open_first and self.conversations.rowCount() > 0:
            resume = self.resume_conversation
            row = self.conversations.find(resume) if resume is not None else None
            self.open_conversation(self.conversations.view(row or 0).conversation_id)
        elif open_first and self.role is Role.CLIENT:
            self.stack.setCurrentWidget(self.invite_page)

    def open_conversation(self, conversation_id: str) -> None:
        row = self.conversations.find(conversation_id)
        if row is None:
            return
        self.conversations.mark_read(conversation_id)
        view = self.conversations.view(row)
        self.conversation_list.setCurrentIndex(self.conversations.index(row, 0))
        self.chat.show_conversation(view)
        if conversation_id in self.consent_pending:
            self.chat.on_consent_required(conversation_id, self.consent_pending[conversation_id])
        self.stack.setCurrentWidget(self.chat)
        if self.role is Role.COUNSELOR:
            self.notes.show_conversation(conversation_id)

    def on_consent_required(self, conversation_id: str, version: int) -> None:
        self.consent_pending[conversation_id] = version
        self.chat.on_consent_required(conversation_id, version)

    def on_conversation_chosen(self, index: QModelIndex) -> None:
        view = index.data(CONVERSATION_ROLE)
        if isinstance(view, ConversationView):
            self.open_conversation(view.conversation_id)

    def on_message_received(self, conversation_id: str, _message_id: str) -> None:
        self.chat.on_message_received(conversation_id)
        # one refresh of the list per burst of arrivals, not one per message
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def on_connection_changed(self, state: str) -> None:
        self._connection = state
        texts = {
            "online": self.tr("Connected"),
            "connecting": self.tr("Connecting…"),
            "offline": self.tr("Offline: messages will be sent later"),
        }
        self.help_bar.status.setText(texts.get(state, ""))

    # --- new conversation / invite -----------------------------------------------------

    def on_new_clicked(self) -> None:
        if self.role is Role.CLIENT:
            self.stack.setCurrentWidget(self.invite_page)
            self.invite_page.link_edit.setFocus()
            return
        relay = self.settings.relay_url
        if not relay:
            self.help_bar.status.setText(self._relay_hint())
            # once a relay address is saved, the link the counselor asked for is shown
            self._share_pending = True
            self.settings_requested.emit()
            return
        self._share_pending = False
        self._bridge.call(
            lambda s: s.publish(relay), self.on_published, self.on_publish_failed, owner=self
        )

    def _relay_hint(self) -> str:
        return self.tr(
            "Enter your organisation's relay address in Settings first (it starts with wss://)."
        )

    def on_published(self, link: str) -> None:
        dialog = QDialog(self)
        dialog.setObjectName("inviteLinkDialog")
        dialog.setMinimumWidth(520)
        dialog.setWindowTitle(self.tr("Your invite link"))
        layout = QVBoxLayout(dialog)
        hint = label("muted")
        hint.setText(
            self.tr(
                "Give this link (or the code) to a client. It lets them read your "
                "disclosure; nothing is shared until they agree."
            )
        )
        layout.addWidget(hint)
        field = QLineEdit(link)
        field.setReadOnly(True)
        field.setObjectName("inviteLinkField")
        field.setCursorPosition(0)
        layout.addWidget(field)
        qr = QLabel()
        qr.setPixmap(qr_pixmap(link.encode(), scale=4))
        qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(qr)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        name_buttons(buttons)
        copy = buttons.addButton(self.tr("Copy link"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(link))
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.show()  # not modal: Quick exit stays clickable

    def on_publish_failed(self, error: BaseException) -> None:
        # an unusable relay address is the one invite-shaped error a counselor can fix here
        bad_address = isinstance(error, InvalidInvite)
        self.help_bar.status.setText(self._relay_hint() if bad_address else message_for(error))

    def on_invite_opened(self, _invite_id: str) -> None:
        invite = self.invite_page.last_invite
        if invite is None:
            return
        self.consent_page.show_invite(invite)
        self.stack.setCurrentWidget(self.consent_page)
        self.consent_page.understood.setFocus()

    def on_consented(self, conversation_id: str) -> None:
        self._bridge.call(
            lambda s: s.conversations(),
            lambda views: self._open_after_consent(views, conversation_id),
            owner=self,
        )

    def _open_after_consent(self, views: Sequence[ConversationView], cid: str) -> None:
        self.on_conversations_listed(views)
        self.open_conversation(cid)

    def on_declined(self) -> None:
        self.stack.setCurrentWidget(self.invite_page)

    # --- dialogs ---------------------------------------------------------------------

    def on_disclosure_clicked(self) -> None:
        from ui.consent.editor import DisclosureEditor

        dialog = DisclosureEditor(self._bridge, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.show()  # not modal: Quick exit stays clickable

    def on_profile_clicked(self) -> None:
        from ui.consent.profile import CounselorProfileDialog

        dialog = CounselorProfileDialog(self._bridge, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.show()  # not modal: Quick exit stays clickable

    def on_safety_requested(self, conversation_id: str) -> None:
        peer = self.chat.conversation.peer_name if self.chat.conversation else ""
        dialog = SafetyNumberDialog(self._bridge, conversation_id, peer, self)
        dialog.verified.connect(lambda _cid: self.refresh_conversations())
        dialog.finished.connect(dialog.deleteLater)
        dialog.show()  # not modal: Quick exit stays clickable

    def on_summary_requested(self, conversation_id: str) -> None:
        dialog = SummaryComposer(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            summary = dialog.summary()
            self._bridge.call(
                lambda s: s.send_summary(conversation_id, summary),
                lambda _mid: self.chat.on_message_received(conversation_id),
                owner=self,
            )
        dialog.deleteLater()

    def on_referral_requested(self, conversation_id: str) -> None:
        dialog = ReferralDialog(self.settings.region, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            language = dialog.language()
            self._bridge.call(
                lambda s: s.send_referral(conversation_id, language),
                lambda _mid: self.chat.on_message_received(conversation_id),
                owner=self,
            )
        dialog.deleteLater()

    def apply_settings(self, settings: SettingsView) -> None:
        self.settings = settings
        self.invite_page.relay_url = settings.relay_url
        if self.help_bar.status.text() == self._relay_hint() and settings.relay_url:
            self.on_connection_changed(self._connection)  # the hint is answered now
        if self._share_pending and settings.relay_url and self.role is Role.COUNSELOR:
            self.on_new_clicked()

    # --- privacy and texts -------------------------------------------------------------

    def clear_sensitive(self) -> None:
        """Drop every decrypted text this window holds (quick exit, lock)."""
        self.notes.flush()
        self.notes.clear_sensitive()
        self.chat.clear_sensitive()
        self.consent_page.clear_sensitive()
        self.invite_page.clear_sensitive()
        self.conversations.clear()
        self.stack.setCurrentWidget(self.empty)

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("SecureChat"))
        self.list_title.setText(self.tr("Conversations"))
        self.conversation_list.setAccessibleName(self.tr("Conversations"))
        self.new_button.setText(
            self.tr("Find a counselor")
            if self.role is Role.CLIENT
            else self.tr("Share my invite link")
        )
        self.settings_button.setText(self.tr("Settings"))
        self.disclosure_button.setText(self.tr("My disclosure"))
        self.profile_button.setText(self.tr("My profile"))
        self.no_conversations.setText(
            self.tr('No conversations yet. Use "Find a counselor" to start one.')
            if self.role is Role.CLIENT
            else self.tr("No conversations yet. Share your invite link with a client.")
        )
        self.lock_button.setText(self.tr("Lock"))
        self.empty_title.setText(self.tr("Choose a conversation"))
        self.empty_text.setText(self.tr("Everything here is end-to-end encrypted."))
        if self._connection:
            self.on_connection_changed(self._connection)
