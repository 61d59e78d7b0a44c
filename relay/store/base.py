"""The storage interface every relay backend implements (SQLite now, PostgreSQL later).

Contract
    * Every operation is *submitted when called* and returns an awaitable of its result.
      Operations submitted by one caller take effect in submission order; the server relies on
      this to keep SENDs to one queue in order without awaiting each one.
    * An awaitable resolves only once the effect is durable (committed). Backends may batch
      many operations into one transaction (group commit) as long as each result is reported
      only after its batch committed.
    * Refusals are raised as `CommandFailed` subclasses (`NoQueue`, `NoMessage`,
      `NoPublication`, `QuotaExceeded`, `AuthError`) and change nothing; any other failure is a
      `StoreError` and the operation had no effect.
    * The store never learns client addresses; timestamps of queues and publications are
      rounded down to the day by the caller.
    * `close()` is idempotent and lets operations already submitted finish.

The test suite in ``tests/relay/store_suite.py`` checks this contract against any backend.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from relay.mailbox import PublicationRecord, QueueRecord, StoredMessage

__all__ = ["AddMessage", "DeleteMessage", "MessageOp", "MessageResult", "Store", "StoreStats"]


class AddMessage(NamedTuple):
    """A batched `Store.add_message`."""

    rid: bytes
    mid: bytes
    ts: int
    body: bytes
    quota: int


class DeleteMessage(NamedTuple):
    """A batched `Store.delete_message`; `seq`, if known, must be the message's own seq."""

    rid: bytes
    mid: bytes
    seq: int | None = None


MessageOp = AddMessage | DeleteMessage
MessageResult = StoredMessage | BaseException | None
"""A `StoredMessage` (add), None (delete), or the failure (`CommandFailed`, `StoreError`)."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts for `/metrics` and `securechat-relay stats`; nothing per client."""

    queues: int
    messages: int
    publications: int
    prekeys: int


class Store(abc.ABC):
    """Durable state of a relay: queues, messages, publications and their prekeys."""

    #: Why the last write failed (for example "the disk is full"), or None once a write
    #: succeeded again. `/healthz` answers 503 while it is set.
    failing: str | None = None

    @abc.abstractmethod
    async def open(self) -> None:
        """Open (creating or upgrading as needed) the store.

        Raises:
            StoreError: the store cannot be opened, created or upgraded.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish submitted operations and release resources; idempotent."""

    # ---- queues -----------------------------------------------------------------------------

    @abc.abstractmethod
    def create_queue(self, queue: QueueRecord) -> Awaitable[None]:
        """Store a new queue.

        Raises:
            StoreError: an id collides (the caller retries with fresh ids) or the store failed.
        """

    @abc.abstractmethod
    def queue_by_rid(self, rid: bytes) -> Awaitable[QueueRecord | None]:
        """Return the queue with recipient id `rid`, or None."""

    @abc.abstractmethod
    def queue_by_sid(self, sid: bytes) -> Awaitable[QueueRecord | None]:
        """Return the queue with sender id `sid`, or None."""

    @abc.abstractmethod
    def secure_queue(self, rid: bytes, skey: bytes) -> Awaitable[QueueRecord]:
        """Set the sender key of `rid` once; return the updated queue.

        Raises:
            NoQueue: no such queue.
            AuthError: the queue already has a sender key.
        """

    @abc.abstractmethod
    def delete_queue(self, rid: bytes) -> Awaitable[None]:
        """Delete queue `rid` and all its messages.

        Raises:
            NoQueue: no such queue.
        """

    # ---- messages ---------------------------------------------------------------------------

    @abc.abstractmethod
    def add_message(
        self, rid: bytes, mid: bytes, ts: int, body: bytes, quota: int
    ) -> Awaitable[StoredMessage]:
        """Append a message to queue `rid` unless it already holds `quota` messages.

        Raises:
            NoQueue: no such queue (for instance deleted meanwhile).
            QuotaExceeded: the queue is full; nothing was stored or dropped.
        """

    @abc.abstractmethod
    def pending(self, rid: bytes, limit: int, after: int = 0) -> Awaitable[list[StoredMessage]]:
        """Return up to `limit` messages of `rid` with seq > `after`, in store order.

        Empty if there is no such queue. The result includes every message whose
        `add_message` result was delivered before this result (the mailbox relies on it).
        """

    @abc.abstractmethod
    def delete_message(self, rid: bytes, mid: bytes) -> Awaitable[None]:
        """Delete message `mid` of queue `rid` (an acknowledgement).

        Raises:
            NoMessage: the queue holds no such message.
        """

    def submit_messages(
        self, ops: Sequence[MessageOp], done: Callable[[list[MessageResult]], None]
    ) -> None:
        """Submit many adds and deletes in order; call `done(results)` once all are durable.

        The hot path of the relay: one call per frame instead of one awaitable per message.
        ``results[i]`` is the outcome of ``ops[i]``. `done` runs on the event loop. This
        default runs each op through `add_message` / `delete_message`; backends may batch.

        Raises:
            StoreError: the store is closed (nothing was submitted).
        """
        aws: list[Awaitable[Any]] = [
            self.add_message(op.rid, op.mid, op.ts, op.body, op.quota)
            if type(op) is AddMessage
            else self.delete_message(op.rid, op.mid)
            for op in ops
        ]
        gathered = asyncio.gather(*aws, return_exceptions=True)
        gathered.add_done_callback(lambda f: done(list(f.result())))

    @abc.abstractmethod
    def expire(self, before: int) -> Awaitable[int]:
        """Delete every message queued before unix time `before`; return how many."""

    # ---- publications -----------------------------------------------------------------------

    @abc.abstractmethod
    def put_publication(
        self, pub: PublicationRecord, prekeys: Sequence[bytes], max_prekeys: int
    ) -> Awaitable[None]:
        """Create or replace publication `pub.pid`, appending `prekeys` to its unused ones.

        Raises:
            AuthError: the publication exists with a different publisher key.
            QuotaExceeded: it would hold more than `max_prekeys` unused prekeys.
        """

    @abc.abstractmethod
    def publication(self, pid: bytes) -> Awaitable[PublicationRecord | None]:
        """Return publication `pid`, or None."""

    @abc.abstractmethod
    def fetch_publication(self, pid: bytes) -> Awaitable[tuple[PublicationRecord, bytes | None]]:
        """Return publication `pid` and pop its oldest unused prekey (None when none is left).

        Each prekey is returned by exactly one call.

        Raises:
            NoPublication: no such publication.
        """

    @abc.abstractmethod
    def delete_publication(self, pid: bytes) -> Awaitable[None]:
        """Delete publication `pid` and its unused prekeys.

        Raises:
            NoPublication: no such publication.
        """

    @abc.abstractmethod
    def directory(self, after: bytes | None, limit: int) -> Awaitable[list[tuple[bytes, bytes]]]:
        """Return up to `limit` (pid, summary) of listed publications with pid > `after`."""

    # ---- statistics -------------------------------------------------------------------------

    @abc.abstractmethod
    async def stats(self) -> StoreStats:
        """Return current counts without blocking the operations queue."""
