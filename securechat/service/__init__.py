"""`Service`: the asyncio client core behind the desktop app and the CLI (`securechat.api`).

One `Service` holds at most one unlocked profile. Commands are coroutines on the service's
loop; changes reach the faces as `api.Event`s through `events()`. The conversation engine
(`securechat.conversations`) does the storage and cryptography synchronously on the loop
(each statement is short); Argon2id key derivation runs in a worker thread.

Relays: one `RelayLink` per relay URL in use keeps a connection, subscribes to our queues,
flushes the outbox in order and acknowledges deliveries only after `Engine.receive`
committed them. One-off commands (NEW, KEY, PUB, FETCH, DIR) use a short `RelayClient`
connection of their own, so they work whether or not a link is up.

Sends are group-committed: every `send_*` issued in the same loop iteration is encrypted and
written in one SQLCipher transaction; each call returns after that commit (durable, fsync'd).

Invariants:
- Nothing here logs plaintext, keys, queue ids or relay URLs; `repr(service)` is redacted.
- Every error a command raises is a `SecureChatError`; a `sqlcipher3.DatabaseError` becomes
  what `securechat.store.db.storage_error` says it means (`ProfileInUse`, `ProfileReadOnly`,
  `CorruptProfile` only for a damaged file, else `StorageError`); relay failures become
  `RelayUnavailable`.

Modules: `base` (state, events, relay plumbing, group commit), `lifecycle`, `chat`, `records`.
"""

from __future__ import annotations

from securechat import api
from securechat.service.chat import Chat
from securechat.service.lifecycle import Lifecycle
from securechat.service.records import Records

__all__ = ["Service"]


class Service(Lifecycle, Chat, Records):
    """The client core. See the module docstring; implements `securechat.api.ServiceAPI`."""


def _static_check(service: Service) -> api.ServiceAPI:
    """mypy proves here that `Service` satisfies `ServiceAPI` (never called)."""
    return service
