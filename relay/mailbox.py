"""Queue logic without I/O: records, authorisation, subscriptions and the delivery window.

The relay's durable truth is the store; this module holds what one relay process decides in
memory, and is tested without sockets or storage:

* `QueueRecord`, `StoredMessage`, `PublicationRecord`: the values the store keeps.
* `authorize`: which key must sign a command, with per-connection *session authorisation*
  (once a connection has proved a key for an entity by a valid signature over its challenge,
  later commands for that entity on the same connection may omit the signature).
* `Mailbox`: the subscriptions of this process. Each queue has at most one subscriber; a new
  subscriber replaces the old one (which gets END). For a subscribed queue the mailbox keeps
  the messages not yet acknowledged, in store order, and hands out at most `window` of them
  un-acknowledged at a time.

Invariants
    * A message is handed out (``next_pushes``) at most once per subscription until acknowledged;
      a new subscription hands out every un-acknowledged message again (at-least-once).
    * Messages are handed out in store order (`seq`), never twice within a subscription, and
      never after `acked` or `expire` removed them. A message that arrives while a page of
      the store is being loaded is held aside: it joins the pushable messages only if that
      page reached the end of the queue; otherwise a later page reads it from the store, so
      it cannot overtake the older messages that no page has loaded yet.
    * A page loaded for an earlier subscription (the same owner subscribed again meanwhile)
      is ignored: it carries the page's `token`.
    * Nothing here decides durability: messages enter through `loaded`/`arrived` only after the
      store made them durable.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Hashable, Iterable, MutableMapping
from dataclasses import dataclass, field

from relay.exceptions import AuthError
from relay.protocol import Command, Role, verify_command

__all__ = [
    "Mailbox",
    "PublicationRecord",
    "QueueRecord",
    "SessionAuth",
    "StoredMessage",
    "authorize",
]


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """A queue: recipient id, sender id, recipient key, sender key once secured."""

    rid: bytes
    sid: bytes
    rkey: bytes
    skey: bytes | None = None
    created: int = 0  # unix day * 86400: coarse on purpose

    def __repr__(self) -> str:
        return "QueueRecord(<redacted>)"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A durable message: store order `seq`, random id `mid`, unix seconds `ts`, opaque body."""

    seq: int
    mid: bytes
    ts: int
    body: bytes

    def __repr__(self) -> str:
        return f"StoredMessage(seq={self.seq}, <redacted>)"


@dataclass(frozen=True, slots=True)
class PublicationRecord:
    """A publication: address, publisher key, opaque blob, optional directory summary."""

    pid: bytes
    pkey: bytes
    blob: bytes
    summary: bytes | None = None
    updated: int = 0  # unix day * 86400

    def __repr__(self) -> str:
        return "PublicationRecord(<redacted>)"


SessionAuth = MutableMapping[tuple[Role, bytes], bytes]
"""Per-connection map (role, entity id) -> the key this connection has proved."""


def authorize(
    command: Command,
    role: Role,
    entity: bytes,
    key: bytes | None,
    challenge: bytes,
    session: SessionAuth,
) -> None:
    """Check that `command` is authorised by `key` for (`role`, `entity`) on this connection.

    `key` None means the entity needs no key (an unsecured queue's SEND). A present signature
    must verify; a missing one is accepted only if this connection already proved `key` for
    the same entity. A verified signature is remembered in `session`.

    Raises:
        AuthError: the signature is wrong, or missing without a session authorisation.
    """
    if key is None:
        return
    sig = getattr(command, "sig", None)
    if sig is not None:
        if not verify_command(command, challenge, key):
            raise AuthError
        session[(role, entity)] = key
        return
    if session.get((role, entity)) != key:
        raise AuthError


@dataclass(slots=True)
class _Subscription:
    owner: Hashable
    loaded: bool = False
    complete: bool = False  # every stored message of the queue has been loaded
    loading: bool = False  # a page load is under way
    high: int = 0  # highest seq loaded so far
    seqs: list[int] = field(default_factory=list)  # sorted; parallel to `messages`
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    by_mid: dict[bytes, int] = field(default_factory=dict)
    inflight: set[bytes] = field(default_factory=set)  # handed out, not yet acknowledged
    token: int = 0  # tells this subscription's page loads from an earlier one's
    # Arrivals while a page load is under way, by mid: they may lie beyond messages no page
    # has loaded yet, so they wait for that page (kept if it was the last, else dropped).
    early: dict[bytes, StoredMessage] = field(default_factory=dict)


class Mailbox:
    """Subscriptions and delivery windows of one relay process."""

    def __init__(self, window: int = 8) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._subs: dict[bytes, _Subscription] = {}
        self._queues: dict[bytes, QueueRecord] = {}
        self._by_sid: dict[bytes, bytes] = {}
        self._tokens = itertools.count(1)

    # ---- queue record cache ---------------------------------------------------------------

    def remember(self, queue: QueueRecord) -> None:
        """Cache a queue record read from, or written to, the store."""
        self._queues[queue.rid] = queue
        self._by_sid[queue.sid] = queue.rid

    def forget(self, rid: bytes) -> None:
        """Drop a deleted queue from the cache."""
        q = self._queues.pop(rid, None)
        if q is not None:
            self._by_sid.pop(q.sid, None)

    def by_rid(self, rid: bytes) -> QueueRecord | None:
        """Return the cached queue with recipient id `rid`, if cached."""
        return self._queues.get(rid)

    def by_sid(self, sid: bytes) -> QueueRecord | None:
        """Return the cached queue with sender id `sid`, if cached."""
        rid = self._by_sid.get(sid)
        return None if rid is None else self._queues.get(rid)

    # ---- subscriptions ----------------------------------------------------------------------

    def subscribe(self, rid: bytes, owner: Hashable) -> Hashable | None:
        """Make `owner` the subscriber of `rid`; return the previous, different owner if any.

        Resubscribing (same owner) restarts delivery: every un-acknowledged message is handed
        out again once `loaded` is called.
        """
        old = self._subs.get(rid)
        self._subs[rid] = _Subscription(owner, token=next(self._tokens))
        if old is not None and old.owner != owner:
            return old.owner
        return None

    def token(self, rid: bytes) -> int | None:
        """Return the current subscription's token (pass it to `loaded`), or None."""
        s = self._subs.get(rid)
        return None if s is None else s.token

    def owner(self, rid: bytes) -> Hashable | None:
        """Return the subscriber of `rid`, or None."""
        s = self._subs.get(rid)
        return None if s is None else s.owner

    def unsubscribe(self, rid: bytes) -> Hashable | None:
        """End the subscription to `rid` (queue deleted); return its owner, if any."""
        s = self._subs.pop(rid, None)
        return None if s is None else s.owner

    def drop_owner(self, owner: Hashable, rids: Iterable[bytes]) -> None:
        """End `owner`'s subscriptions among `rids` (its connection closed)."""
        for rid in rids:
            s = self._subs.get(rid)
            if s is not None and s.owner == owner:
                del self._subs[rid]

    @property
    def subscriptions(self) -> int:
        """The number of subscribed queues."""
        return len(self._subs)

    # ---- messages ---------------------------------------------------------------------------

    def _add(self, s: _Subscription, m: StoredMessage) -> None:
        if m.seq in s.messages:
            return
        s.messages[m.seq] = m
        s.by_mid[m.mid] = m.seq
        bisect.insort(s.seqs, m.seq)

    def loaded(
        self,
        rid: bytes,
        owner: Hashable,
        messages: Iterable[StoredMessage],
        complete: bool = True,
        token: int | None = None,
    ) -> bool:
        """Merge a page of the store's pending messages into `owner`'s subscription of `rid`.

        `complete` says the page reached the end of the queue. Pages keep only a bounded
        number of messages in memory per subscription; `more` asks for the next one.
        `token` (from `token` when the load was started) ties the page to the subscription
        it was loaded for. Returns False (and does nothing) if `owner` is no longer the
        subscriber, or the subscription is not the one the page was loaded for.
        """
        s = self._subs.get(rid)
        if s is None or s.owner != owner or (token is not None and token != s.token):
            return False
        for m in messages:
            self._add(s, m)
            s.high = max(s.high, m.seq)
        if complete:
            # Nothing older is left in the store only: the arrivals held aside can go out
            # (those the page already held are not added twice).
            for m in s.early.values():
                self._add(s, m)
        # Otherwise they lie beyond this page, maybe beyond unloaded older messages too:
        # they are durable, so a later page reads them in store order.
        s.early.clear()
        s.loaded = True
        s.loading = False
        s.complete = complete
        return True

    def more(self, rid: bytes, owner: Hashable) -> int | None:
        """Return the seq to load the next page after, if the subscription runs low; else None.

        Marks the subscription as loading until `loaded` is called.
        """
        s = self._subs.get(rid)
        if s is None or s.owner != owner or not s.loaded or s.complete or s.loading:
            return None
        if len(s.seqs) - len(s.inflight) >= self.window:
            return None
        s.loading = True
        return s.high

    def arrived(self, rid: bytes, message: StoredMessage) -> Hashable | None:
        """Note a message that became durable; return the subscriber to push to, or None.

        While older messages are still in the store only (`complete` False), the arrival is
        left to a later page, so that messages go out in store order. While a page is being
        loaded (the first one, or one asked for by `more`), the arrival is held aside until
        the page tells whether it reached the end of the queue (see `loaded`).
        """
        s = self._subs.get(rid)
        if s is None:
            return None
        if not s.loaded or s.loading:
            s.early[message.mid] = message
            return None
        if not s.complete:
            return None
        self._add(s, message)
        return s.owner

    def next_pushes(self, rid: bytes, owner: Hashable) -> list[StoredMessage]:
        """Hand out the next messages for `owner`, keeping at most `window` un-acknowledged."""
        s = self._subs.get(rid)
        if s is None or s.owner != owner or not s.loaded:
            return []
        room = self.window - len(s.inflight)
        out: list[StoredMessage] = []
        if room <= 0:
            return out
        for seq in s.seqs:  # the in-flight ones are few (<= window) and mostly first
            m = s.messages[seq]
            if m.mid in s.inflight:
                continue
            s.inflight.add(m.mid)
            out.append(m)
            room -= 1
            if room == 0:
                break
        return out

    def seq_of(self, rid: bytes, mid: bytes) -> int | None:
        """Return the store seq of message `mid` of subscribed queue `rid`, if held here."""
        s = self._subs.get(rid)
        return None if s is None else s.by_mid.get(mid)

    def seqs_of(self, rid: bytes, mids: Iterable[bytes]) -> list[int | None]:
        """`seq_of` for each of `mids` (one ACKS)."""
        s = self._subs.get(rid)
        if s is None:
            return [None for _ in mids]
        return list(map(s.by_mid.get, mids))

    def acked(self, rid: bytes, mid: bytes) -> Hashable | None:
        """Forget an acknowledged (deleted) message; return the subscriber, if any."""
        s = self._subs.get(rid)
        if s is None:
            return None
        s.early.pop(mid, None)
        self._remove(s, mid)
        return s.owner

    def _remove(self, s: _Subscription, mid: bytes) -> None:
        seq = s.by_mid.pop(mid, None)
        s.inflight.discard(mid)
        if seq is None:
            return
        del s.messages[seq]
        del s.seqs[bisect.bisect_left(s.seqs, seq)]

    def expire(self, before: int) -> list[tuple[bytes, Hashable]]:
        """Drop messages queued before `before`; return (rid, owner) of changed subscriptions."""
        changed = []
        for rid, s in self._subs.items():
            old = [m.mid for m in s.messages.values() if m.ts < before]
            for mid in old:
                self._remove(s, mid)
            for mid in [m.mid for m in s.early.values() if m.ts < before]:
                del s.early[mid]
            if old:
                changed.append((rid, s.owner))
        return changed
