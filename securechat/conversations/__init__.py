"""The conversation engine: first contact, the consent gate, sending, receiving, receipts.

Synchronous and network-free: it turns decisions into rows of the profile's encrypted store
and envelopes in its outbox; `securechat.service.Service` moves envelopes to and from relays
(see `docs/client-core.md` for the whole flow).

Invariants:
- **Send** encrypts at once (the ratchet advances) and writes the message (state QUEUED), the
  new session state and the outbox item in the caller's transaction: all three or none.
  `send_many` takes several sends into one transaction (group commit).
- **Receive** (`receive`) handles one delivered batch in one transaction: every envelope's
  SHA-256 goes into `processed` *before* it is decrypted, so a redelivered envelope is dropped
  without touching the ratchet; decrypted messages, session states, receipts to send and the
  de-duplication marks commit together, and only then may the link acknowledge.
- On any exception inside a transaction the in-memory session cache is dropped, so the next
  use reloads the last committed state (sessions are never ahead of the database).
- The consent gate: `send` refuses with `ConsentRequired` unless consent for the counselor's
  current disclosure version is on record, with `ConversationClosed` after a withdrawal, and
  with `IdentityKeyChanged` while a changed key is unconfirmed. A refused send changes nothing.
- Plaintext, keys and queue ids are never logged; errors carry fixed messages.

Modules: `base` (values, shared helpers, outbox), `first_contact`, `receiving`, `engine`.
"""

from __future__ import annotations

from securechat.conversations.base import (
    IntakeInfo,
    OutItem,
    SendRequest,
    clean_peer_name,
    referral_text,
)
from securechat.conversations.engine import Engine

__all__ = [
    "Engine",
    "IntakeInfo",
    "OutItem",
    "SendRequest",
    "clean_peer_name",
    "referral_text",
]
