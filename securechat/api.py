"""The contract between the client core's service and its two faces, the desktop app and the CLI.

The service (`securechat.service.Service`) implements `ServiceAPI`. Every command is a coroutine
run on the service's own asyncio loop; every change the faces must know about arrives as an
`Event` through `ServiceAPI.events()`. Values that cross this line are frozen dataclasses that
carry ids and display data, never keys.

Invariants:
- No command blocks the loop for long: key derivation and SQLCipher work run in a thread.
- Events carry ids (conversation, message) and states; the text of a message is fetched with
  `history` by whoever is allowed to show it. `MessageReceived` carries no plaintext, so an
  event logged by mistake leaks nothing.
- Every error a command raises is a `securechat.errors.SecureChatError` subclass whose class
  the UI maps to a message in both languages (`ui/errors.py`).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "ConnectionChanged",
    "ConnectionState",
    "ConsentRequired",
    "ConsentWithdrawn",
    "ConversationStarted",
    "ConversationView",
    "CounselorProfileView",
    "DeliveryChanged",
    "DeliveryState",
    "DirectoryEntry",
    "DisclosureView",
    "Event",
    "InviteView",
    "MessageKind",
    "MessageReceived",
    "MessageView",
    "NoteView",
    "ProfileLocked",
    "ProfileView",
    "Role",
    "SafetyNumberChanged",
    "SafetyNumberView",
    "ServiceAPI",
    "SessionSummary",
    "SettingsView",
]

MIN_PASSPHRASE_LENGTH = 10
"""The fewest characters a new passphrase (a profile's, or an export's) may have. Checked by
the core (`securechat.secret.check_new_passphrase`) and shown by the faces; passphrases
chosen before this rule still unlock."""


class Role(enum.StrEnum):
    CLIENT = "client"
    COUNSELOR = "counselor"


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"  # written to the local outbox, not yet accepted by the relay
    SENT = "sent"  # the relay answered OK: it is durable there
    DELIVERED = "delivered"  # the peer's app stored it and sent a receipt
    FAILED = "failed"  # refused for good (e.g. consent withdrawn); shown with a reason


class ConnectionState(enum.StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    SUMMARY = "summary"  # a session summary with key points and tasks
    REFERRAL = "referral"  # a crisis referral carrying emergency numbers
    SYSTEM = "system"  # consent given or withdrawn, safety number changed, ...


# --- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileView:
    name: str  # the profile's directory name, unique on this device
    display_name: str
    role: Role
    remembered: bool  # a key for it is kept in the system keyring
    # False for a locked profile: its role is inside the encrypted database, and `role` is
    # only a placeholder until it is unlocked.
    role_known: bool = True


@dataclass(frozen=True)
class DisclosureView:
    version: int
    language: str  # "en" or "id"
    text: str  # untrusted when it came from a relay: show as plain text only
    sha256: str  # hex digest of the canonical disclosure document
    draft: bool = False  # the counselor's own, not published yet: edits replace it


@dataclass(frozen=True)
class CounselorProfileView:
    """What a counselor publishes about themselves (shown with the disclosure)."""

    name: str
    credentials: str
    specializations: tuple[str, ...]
    languages: tuple[str, ...]
    service_hours: str
    time_zone: str
    response_time_hours: int
    records_retention_years: int  # how long the counselor keeps records (their code of ethics)


@dataclass(frozen=True)
class InviteView:
    """What the client sees after opening an invite: nothing has been sent."""

    invite_id: str  # local handle for `consent`
    counselor_name: str
    credentials: str
    specializations: tuple[str, ...]
    languages: tuple[str, ...]
    service_hours: str
    time_zone: str
    response_time: str
    disclosures: tuple[DisclosureView, ...]  # one per language the counselor wrote


@dataclass(frozen=True)
class DirectoryEntry:
    invite: str  # a `securechat:` link, ready for `open_invite`
    counselor_name: str
    specializations: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class ConversationView:
    conversation_id: str
    peer_name: str
    role: Role  # our role in it
    consent_version: int | None  # the disclosure version consented to, if any
    consent_language: str | None
    active: bool  # False once consent is withdrawn or the conversation is closed
    unread: int
    last_activity: float  # unix time
    verified: bool  # the safety number was marked verified
    blocked_by_key_change: bool  # the peer's identity key changed: confirm before sending
    # how many other peers in the list go by the same name (compared after NFKC, case and
    # whitespace folding). Names are self-chosen and unverified: > 0 means another person, or
    # the same person under a new key, and only the safety number tells which.
    same_name_peers: int = 0


@dataclass(frozen=True)
class SessionSummary:
    key_points: tuple[str, ...]
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class MessageView:
    message_id: str
    conversation_id: str
    outgoing: bool
    kind: MessageKind
    text: str  # untrusted peer text: show as plain text only
    sent_at: float
    state: DeliveryState
    summary: SessionSummary | None = None
    tasks_done: tuple[bool, ...] = ()  # the client's ticks, one per task of `summary`


@dataclass(frozen=True)
class SafetyNumberView:
    digits: str  # 60 digits, no spaces; show in 12 groups of 5
    qr_payload: bytes
    verified: bool


@dataclass(frozen=True)
class NoteView:
    note_id: str
    conversation_id: str
    session_label: str  # e.g. "Session 3, 2026-11-22"
    template: str  # "soap", "dap" or "free"
    sections: tuple[tuple[str, str], ...]  # (section name, text) in template order
    updated_at: float
    revision: int


@dataclass(frozen=True)
class SettingsView:
    relay_url: str
    language: str  # "en" or "id"
    auto_lock_minutes: int  # 0 = never
    retention_days: int  # 0 = keep history forever
    remember_on_device: bool
    region: str  # ISO 3166 code used to pick emergency numbers, e.g. "ID"


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Base of every event the service emits."""


@dataclass(frozen=True)
class ConnectionChanged(Event):
    state: ConnectionState


@dataclass(frozen=True)
class ConversationStarted(Event):
    conversation_id: str


@dataclass(frozen=True)
class MessageReceived(Event):
    conversation_id: str
    message_id: str


@dataclass(frozen=True)
class DeliveryChanged(Event):
    conversation_id: str
    message_id: str
    state: DeliveryState


@dataclass(frozen=True)
class SafetyNumberChanged(Event):
    conversation_id: str


@dataclass(frozen=True)
class ConsentRequired(Event):
    """The counselor published a new disclosure version: the client must consent again."""

    conversation_id: str
    version: int


@dataclass(frozen=True)
class ConsentWithdrawn(Event):
    conversation_id: str
    by_peer: bool


@dataclass(frozen=True)
class ProfileLocked(Event):
    reason: str = field(default="user")  # "user", "auto-lock", "quick-exit"


# --- the service -------------------------------------------------------------------------


class ServiceAPI(Protocol):
    """What the desktop app and the CLI may ask of the client core."""

    # profiles
    async def list_profiles(self) -> Sequence[ProfileView]: ...
    async def create_profile(
        self, display_name: str, role: Role, passphrase: str
    ) -> ProfileView: ...
    async def unlock(self, profile: str, passphrase: str | None, remember: bool = False) -> None:
        """`passphrase=None` unlocks with the key remembered in the keyring."""

    async def lock(self, reason: str = "user") -> None: ...
    async def change_passphrase(self, old: str, new: str) -> None:
        """`new` (like `create_profile`'s passphrase) needs `MIN_PASSPHRASE_LENGTH`
        characters, else `InvalidInput`."""

    # counselor
    async def publish(self, relay_url: str, *, directory: bool = False) -> str:
        """Publish profile, disclosure and prekeys; return the `securechat:` invite link."""

    async def disclosures(self) -> Sequence[DisclosureView]: ...
    async def edit_disclosure(self, language: str, text: str) -> DisclosureView: ...
    async def counselor_profile(self) -> CounselorProfileView: ...
    async def update_counselor_profile(
        self, profile: CounselorProfileView, *, regenerate_disclosure: bool = False
    ) -> CounselorProfileView:
        """Store the public profile; with `regenerate_disclosure`, re-render the default
        disclosure from it (a new version: clients are asked to consent again). Republishes
        when already published."""

    # client
    async def directory(self, relay_url: str) -> Sequence[DirectoryEntry]: ...
    async def open_invite(self, invite: str) -> InviteView: ...
    async def consent(self, invite_id: str, language: str, first_message: str) -> str:
        """Sign consent to the shown disclosure and make first contact; return the
        conversation id."""

    async def withdraw_consent(self, conversation_id: str) -> None: ...

    # conversations
    async def conversations(self) -> Sequence[ConversationView]: ...
    async def send_text(self, conversation_id: str, text: str) -> str: ...
    async def send_summary(self, conversation_id: str, summary: SessionSummary) -> str: ...
    async def send_referral(self, conversation_id: str, language: str) -> str: ...
    async def set_task_done(self, message_id: str, index: int, done: bool) -> None: ...
    async def message_count(self, conversation_id: str) -> int: ...
    async def history(
        self, conversation_id: str, offset: int, limit: int
    ) -> Sequence[MessageView]: ...
    async def safety_number(self, conversation_id: str) -> SafetyNumberView: ...
    async def mark_verified(self, conversation_id: str) -> None: ...
    async def confirm_key_change(self, conversation_id: str) -> None: ...

    # counselor notes (never leave this device)
    async def notes(self, conversation_id: str) -> Sequence[NoteView]: ...
    async def save_note(
        self,
        conversation_id: str,
        note_id: str | None,
        template: str,
        sections: Sequence[tuple[str, str]],
        session_label: str = "",
    ) -> NoteView:
        """Create (`note_id=None`) or revise a note; every save is a new revision."""

    async def search_notes(self, query: str) -> Sequence[NoteView]: ...

    # settings
    async def settings(self) -> SettingsView: ...
    async def update_settings(self, settings: SettingsView) -> SettingsView:
        """Store the settings; a shorter `retention_days` deletes older messages at once."""

    async def messages_older_than(self, days: int) -> int:
        """How many messages keeping history for `days` days would delete now: what
        `update_settings` would purge with that period (0 for `days=0`, keep forever).
        Deletes nothing."""

    # connection
    async def sync(self) -> None:
        """Connect if needed, flush the outbox and receive what is waiting."""

    def events(self) -> AsyncIterator[Event]: ...
