"""The client core's durable connection to one relay.

`RelayLink` keeps one `relay.client.RelayClient` connected for as long as it runs: it
reconnects with capped exponential backoff and full jitter, subscribes every remembered queue on
every connect, flushes a durable outbox in order, and acknowledges received messages only after
the caller's `Inbox.deliver` returned (the caller committed them).

Invariants
    * A message is ACKed only after `Inbox.deliver` returned for a batch holding it. If
      `deliver` raises, nothing of that batch is acked and the connection is dropped; the relay
      hands the un-acked messages out again on the next subscription (at-least-once: the inbox
      de-duplicates by ``mid``). An ACK the relay refuses for now (INTERNAL, RATE) drops the
      connection the same way, so it is done again on the next one.
    * Pushes are delivered in the order the relay sent them (relay order within a queue).
    * Outbox items are submitted oldest first, pipelined, and reported with `Outbox.sent` in
      that order. A transient failure (QUOTA, RATE, INTERNAL, connection closed) stops the flush
      at that item; it and the later items of its queue are retried later, never dropped. A
      permanent refusal (NO_QUEUE, AUTH, SIZE, ...) is reported with `Outbox.refused` and the
      flush goes on. An item may reach the relay twice (OK lost with the connection).
    * A relay that is down never crashes the link nor spins the CPU: every failed connect is
      followed by a delay drawn uniformly from [backoff_min, min(backoff_max, backoff_min * 2**n)].
    * Every method runs on the event loop's thread (`kick` and `subscribe` included).
    * Logging: connection open and close at INFO without the URL; never URLs, queue ids, keys or
      bodies; everything else at DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed
from relay.protocol import End, Msg
from securechat.api import ConnectionState
from securechat.errors import ProfileLocked, RelayUnavailable

__all__ = [
    "Inbox",
    "Incoming",
    "Outbox",
    "OutgoingItem",
    "RelayLink",
    "Subscription",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Error codes worth retrying later; every other refusal of a SEND is permanent.
TRANSIENT_CODES = frozenset({"QUOTA", "RATE", "INTERNAL"})
#: Error codes that make a remembered subscription useless until `subscribe()` is called again.
_DEAD_SUB_CODES = frozenset({"NO_QUEUE", "AUTH"})

MAX_BATCH = 512  # pushes handed to one `Inbox.deliver`
OUTBOX_LIMIT = 256  # outbox items fetched and pipelined per round
STABLE_AFTER = 5.0  # seconds a connection must stay up before the backoff resets
QUIET_PERIOD = 0.3  # seconds without a push before `wait_idle` calls the link idle
CONNECT_TIMEOUT = 10.0
STOP_GRACE = 10.0  # seconds `stop` lets an in-flight deliver and its acks finish


@dataclass(frozen=True)
class Subscription:
    """A queue to receive: its recipient id and the recipient's signing key."""

    rid: bytes
    recipient_key: SigningKey = field(compare=False)

    def __repr__(self) -> str:
        return "Subscription(<redacted>)"


@dataclass(frozen=True)
class Incoming:
    """One pushed message: the queue it came from, its relay message id and the ciphertext."""

    rid: bytes
    mid: bytes
    body: bytes

    def __repr__(self) -> str:
        return "Incoming(<redacted>)"


@dataclass(frozen=True)
class OutgoingItem:
    """One outbox row to send: its local id, the queue's sender id, the body, the sender key."""

    item_id: int
    sid: bytes
    body: bytes
    sender_key: SigningKey | None = field(compare=False)

    def __repr__(self) -> str:
        return f"OutgoingItem(item_id={self.item_id}, <redacted>)"


class Inbox(Protocol):
    async def deliver(self, batch: Sequence[Incoming]) -> None:
        """Store every message of the batch durably (one transaction), or decide to drop it.

        The link ACKs each message only after this returns. Raising means a transient
        failure: nothing is acked, and the messages will come again.
        """


class Outbox(Protocol):
    async def pending(self, limit: int) -> Sequence[OutgoingItem]:
        """Return up to `limit` unsent items, oldest first."""

    async def sent(self, item_ids: Sequence[int]) -> None:
        """The relay answered OK for these items (in order): they are durable there."""

    async def refused(self, item_id: int, code: str) -> None:
        """The relay refused this item for good (NO_QUEUE, AUTH, SIZE, ...): do not retry."""


class _SessionEnded(Exception):
    """Internal: the current connection must be dropped (and retried after a backoff)."""


class RelayLink:
    """A self-healing connection to one relay; see the module docstring for the guarantees."""

    def __init__(
        self,
        url: str,
        inbox: Inbox,
        outbox: Outbox,
        *,
        on_state: Callable[[ConnectionState], None] | None = None,
        backoff_min: float = 0.2,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < backoff_min <= backoff_max:
            raise ValueError("need 0 < backoff_min <= backoff_max")
        self._url = url
        self._inbox = inbox
        self._outbox = outbox
        self._on_state = on_state
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._rng = rng if rng is not None else random.SystemRandom()
        self._subs: dict[bytes, Subscription] = {}
        self._to_subscribe: dict[bytes, Subscription] = {}
        self._state = ConnectionState.OFFLINE
        self._changed = asyncio.Event()  # set (and replaced) on every state or activity change
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()  # the session has work: kick or new subscriptions
        self._task: asyncio.Task[None] | None = None
        self._client: RelayClient | None = None
        self._kicked = True
        self._outbox_empty = False
        self._delivering = False
        self._last_push = 0.0
        self._attempt = 0

    # ---- public interface -------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection's current state."""
        return self._state

    async def start(self) -> None:
        """Start the background task that keeps the link connected; returns at once.

        Calling it again is a no-op; a stopped link stays stopped (make a new one).
        """
        if self._task is None and not self._stopping.is_set():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="relay-link")

    async def stop(self) -> None:
        """Stop the link: let an in-flight deliver and its acks end, then close. Idempotent."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE + CONNECT_TIMEOUT)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._set_state(ConnectionState.OFFLINE)

    def subscribe(self, sub: Subscription) -> None:
        """Remember `sub`; it is subscribed now if online and again on every connect.

        Subscribing a queue again with the same key changes nothing (the service does so for
        every queue at each sync): a second SUB on the live connection would only make the
        relay push its un-acknowledged messages once more.
        """
        known = self._subs.get(sub.rid)
        if known is not None and bytes(known.recipient_key) == bytes(sub.recipient_key):
            return
        self._subs[sub.rid] = sub
        self._to_subscribe[sub.rid] = sub
        self._wake.set()

    def unsubscribe(self, rid: bytes) -> None:
        """Forget the queue `rid`: its pushes are no longer delivered nor acked.

        The relay protocol has no unsubscribe command, so the relay may still push until the
        connection closes; those messages stay on the relay, un-acked.
        """
        self._subs.pop(rid, None)
        self._to_subscribe.pop(rid, None)

    def kick(self) -> None:
        """New outbox items are waiting: flush soon."""
        self._kicked = True
        self._outbox_empty = False
        self._wake.set()
        self._notify()

    async def wait_online(self, timeout: float) -> None:
        """Wait until the link is online.

        Raises:
            RelayUnavailable: not online within `timeout` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                while self._state is not ConnectionState.ONLINE:
                    await self._changed.wait()
        except TimeoutError:
            raise RelayUnavailable from None

    async def wait_idle(self, timeout: float) -> None:
        """Wait until online, the outbox is empty and no push came for a short quiet period.

        Raises:
            RelayUnavailable: not online, or not idle within `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._state is not ConnectionState.ONLINE:
                raise RelayUnavailable
            quiet = loop.time() - self._last_push
            if self._outbox_empty and not self._kicked and not self._delivering:
                if quiet >= QUIET_PERIOD:
                    return
                wait = QUIET_PERIOD - quiet
            else:
                wait = QUIET_PERIOD
            left = deadline - loop.time()
            if left <= 0:
                raise RelayUnavailable
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(wait, left))

    async def call(self, fn: Callable[[RelayClient], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run a one-off command (NEW, KEY, PUB, FETCH, DIR, DEL, ...) once online.

        Raises:
            RelayUnavailable: not online within `timeout`, no answer within it, or the
                connection dropped during the call.
            CommandFailed: the relay refused the command (the subclass names the code).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.wait_online(timeout)
        client = self._client
        if client is None or client.closed:
            raise RelayUnavailable
        try:
            async with asyncio.timeout_at(deadline):
                return await fn(client)
        except (TimeoutError, ClientError) as exc:  # ConnectionClosed is a ClientError
            raise RelayUnavailable from exc

    # ---- the connection loop ----------------------------------------------------------------

    def backoff_delay(self, attempt: int) -> float:
        """The delay before reconnect number `attempt` (0-based): full jitter, capped."""
        ceiling = min(self._backoff_max, self._backoff_min * 2.0 ** min(attempt, 64))
        return self._rng.uniform(self._backoff_min, ceiling)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._set_state(ConnectionState.CONNECTING)
            client = await self._connect()
            if client is not None:
                opened = time.monotonic()
                log.info("connected to the relay")
                try:
                    await self._session(client)
                except (_SessionEnded, ClientError, CommandFailed) as exc:
                    log.debug("relay session ended: %s", exc.__class__.__name__)
                except ProfileLocked:
                    # quick exit or auto-lock took the key while this session was busy; what
                    # was not acknowledged comes again after the next unlock
                    log.debug("relay session ended: the profile was locked")
                except Exception:
                    # A bug or a failing outbox: keep the link alive, but say so.
                    log.error("the relay link hit an unexpected error")
                    log.debug("relay link failure", exc_info=True)
                finally:
                    self._client = None
                    await client.close()
                    log.info("disconnected from the relay")
                if time.monotonic() - opened >= STABLE_AFTER:
                    self._attempt = 0
            self._set_state(ConnectionState.OFFLINE)
            if self._stopping.is_set():
                break
            delay = self.backoff_delay(self._attempt)
            self._attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _connect(self) -> RelayClient | None:
        connect = asyncio.ensure_future(RelayClient.connect(self._url, timeout=CONNECT_TIMEOUT))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not connect.done():
            connect.cancel()
            with contextlib.suppress(BaseException):
                await connect
            return None
        try:
            client = connect.result()
        except ClientError as exc:
            log.debug("cannot connect to the relay: %s", exc.__class__.__name__)
            return None
        if self._stopping.is_set():
            await client.close()
            return None
        return client

    async def _session(self, client: RelayClient) -> None:
        """Subscribe, then receive and flush until the connection ends or the link stops."""
        self._to_subscribe = dict(self._subs)
        await self._subscribe_pending(client)
        self._client = client
        self._kicked = True
        self._outbox_empty = False
        self._set_state(ConnectionState.ONLINE)
        pushes: asyncio.Queue[Msg | End | None] = asyncio.Queue()
        pump = asyncio.ensure_future(self._pump(client, pushes))
        receiver = asyncio.ensure_future(self._receive(client, pushes))
        sender = asyncio.ensure_future(self._send_loop(client))
        tasks = {pump, receiver, sender}
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({*tasks, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            sender.cancel()
            if not receiver.done() and self._delivering:
                # Let the batch being delivered finish and get its acks out.
                await asyncio.wait({receiver}, timeout=STOP_GRACE)
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                raise r

    async def _pump(self, client: RelayClient, out: asyncio.Queue[Msg | End | None]) -> None:
        async for item in client.pushes():
            if isinstance(item, Msg | End):
                out.put_nowait(item)
            else:
                log.debug("the relay sent an error frame")
        out.put_nowait(None)

    async def _subscribe_pending(self, client: RelayClient) -> None:
        if not self._to_subscribe:
            return
        subs, self._to_subscribe = list(self._to_subscribe.values()), {}
        # Issued in one loop iteration, so the client batches them into one frame.
        results = await asyncio.gather(
            *(client.subscribe(s.rid, s.recipient_key) for s in subs), return_exceptions=True
        )
        for sub, r in zip(subs, results, strict=True):
            if isinstance(r, CommandFailed) and r.code in _DEAD_SUB_CODES:
                log.debug("a subscription was refused for good: %s", r.code)
                if self._subs.get(sub.rid) is sub:
                    del self._subs[sub.rid]
            elif isinstance(r, BaseException):
                self._to_subscribe.update({s.rid: s for s in subs if s.rid in self._subs})
                raise r

    # ---- receiving --------------------------------------------------------------------------

    async def _receive(self, client: RelayClient, pushes: asyncio.Queue[Msg | End | None]) -> None:
        while not self._stopping.is_set():
            first = await pushes.get()
            items = [first]
            while len(items) < MAX_BATCH and not pushes.empty():
                items.append(pushes.get_nowait())
            closed = None in items
            batch: list[Incoming] = []
            keys: list[SigningKey] = []
            for item in items:
                if isinstance(item, End):
                    if self._subs.pop(item.rid, None) is not None:
                        log.debug("another connection took over a subscription")
                elif isinstance(item, Msg):
                    sub = self._subs.get(item.rid)
                    if sub is not None:  # unsubscribed queues: left on the relay, un-acked
                        batch.append(Incoming(item.rid, item.mid, item.body))
                        keys.append(sub.recipient_key)
            if batch:
                self._delivering = True
                self._last_push = asyncio.get_running_loop().time()
                self._notify()
                try:
                    await self._deliver_and_ack(client, batch, keys)
                finally:
                    self._delivering = False
                    self._last_push = asyncio.get_running_loop().time()
                    self._notify()
            if closed:
                raise _SessionEnded("connection closed")

    async def _deliver_and_ack(
        self, client: RelayClient, batch: list[Incoming], keys: list[SigningKey]
    ) -> None:
        try:
            await self._inbox.deliver(batch)
        except Exception as exc:
            log.debug("the inbox refused a batch: %s", exc.__class__.__name__)
            raise _SessionEnded("deliver failed") from exc
        # Issued together: the client pipelines them into as few frames as it can.
        results = await asyncio.gather(
            *(client.ack(m.rid, m.mid, k) for m, k in zip(batch, keys, strict=True)),
            return_exceptions=True,
        )
        retry = False
        for r in results:
            if isinstance(r, ClientError):
                raise r
            if isinstance(r, CommandFailed):
                log.debug("an acknowledgement was refused: %s", r.code)
                # NO_MSG / NO_QUEUE: already gone (expired, deleted); nothing to redo.
                # INTERNAL, RATE: the relay could not delete it now. Left alone, the message
                # would hold a place in the relay's delivery window for as long as this
                # connection lives, and with the window full nothing more would come.
                retry = retry or str(r.code) in TRANSIENT_CODES
            elif isinstance(r, BaseException):
                raise r
        if retry:
            # A new connection gets the un-acknowledged messages again (the inbox drops
            # them as duplicates) and acknowledges them, after the usual backoff.
            raise _SessionEnded("an acknowledgement was refused for now")

    # ---- sending ----------------------------------------------------------------------------

    async def _send_loop(self, client: RelayClient) -> None:
        retry = 0
        while True:
            if self._to_subscribe:
                await self._subscribe_pending(client)
            if self._kicked:
                self._kicked = False
                if await self._flush(client):
                    retry = 0
                else:  # a transient refusal: try again after a backoff (or a kick)
                    delay = self.backoff_delay(retry)
                    retry += 1
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    self._kicked = True
                    continue
            self._notify()
            self._wake.clear()
            if self._kicked or self._to_subscribe:
                continue
            await self._wake.wait()
            if self._stopping.is_set():
                return

    async def _flush(self, client: RelayClient) -> bool:
        """Send pending items until the outbox is empty (True) or a transient refusal (False).

        Raises:
            ConnectionClosed: the connection went away (OKs already seen are reported first).
        """
        while True:
            items = list(await self._outbox.pending(OUTBOX_LIMIT))
            if not items:
                self._outbox_empty = True
                return True
            self._outbox_empty = False
            futures = [client.submit_send(i.sid, i.body, i.sender_key) for i in items]
            ok: list[int] = []
            blocked: set[bytes] = set()  # queues with a transient failure in this round
            lost: BaseException | None = None
            for item, fut in zip(items, futures, strict=True):
                try:
                    await fut
                except CommandFailed as exc:
                    code = str(exc.code)
                    if code in TRANSIENT_CODES:
                        log.debug("a send was refused for now: %s", code)
                        blocked.add(item.sid)
                    elif item.sid not in blocked:
                        await self._report_sent(ok)
                        await self._outbox.refused(item.item_id, code)
                    continue
                except ClientError as exc:
                    lost = exc
                    break
                if item.sid not in blocked:
                    ok.append(item.item_id)
                # An OK after a transient failure on the same queue: resent later, in order
                # after the failed one (the peer de-duplicates).
            await self._report_sent(ok)
            if lost is not None:
                for f in futures:
                    if not f.done():
                        f.cancel()
                raise lost
            if blocked:
                return False

    async def _report_sent(self, ok: list[int]) -> None:
        if ok:
            ids = list(ok)
            ok.clear()
            await self._outbox.sent(ids)

    # ---- state ------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        self._notify()
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.error("a connection-state listener failed")
                log.debug("listener failure", exc_info=True)
