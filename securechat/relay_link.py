"""PLACEHOLDER until the `link` branch lands: a minimal `RelayLink` with the agreed interface.

The real module (reconnect with backoff and jitter, resubscribe, ordered outbox flush, acks
after the inbox committed) is written on the `link` branch; this stand-in implements the same
names so the service can be built and tested meanwhile, and is replaced on merge.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed
from relay.protocol import Msg
from securechat.errors import RelayUnavailable

__all__ = ["Inbox", "Incoming", "Outbox", "OutgoingItem", "RelayLink", "Subscription"]

T = TypeVar("T")


@dataclass(frozen=True)
class Subscription:
    rid: bytes
    recipient_key: SigningKey

    def __repr__(self) -> str:
        return "Subscription(<redacted>)"


@dataclass(frozen=True)
class Incoming:
    rid: bytes
    mid: bytes
    body: bytes

    def __repr__(self) -> str:
        return "Incoming(<redacted>)"


@dataclass(frozen=True)
class OutgoingItem:
    item_id: int
    sid: bytes
    body: bytes
    sender_key: SigningKey | None

    def __repr__(self) -> str:
        return f"OutgoingItem({self.item_id}, <redacted>)"


class Inbox(Protocol):
    async def deliver(self, batch: Sequence[Incoming]) -> None: ...


class Outbox(Protocol):
    async def pending(self, limit: int) -> Sequence[OutgoingItem]: ...
    async def sent(self, item_ids: Sequence[int]) -> None: ...
    async def refused(self, item_id: int, code: str) -> None: ...


class RelayLink:
    """One relay connection kept alive for a profile (placeholder implementation)."""

    def __init__(
        self,
        url: str,
        inbox: Inbox,
        outbox: Outbox,
        *,
        on_state: Callable[[str], None] | None = None,
        backoff_min: float = 0.2,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self._url = url
        self._inbox = inbox
        self._outbox = outbox
        self._on_state = on_state
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._rng = rng or random.Random()  # noqa: S311 - jitter only
        self._subs: dict[bytes, Subscription] = {}
        self._client: RelayClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._online = asyncio.Event()
        self._busy = 0
        self._activity = 0
        self.state = "offline"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._online.clear()
        self._set_state("offline")

    def subscribe(self, sub: Subscription) -> None:
        self._subs[sub.rid] = sub
        client = self._client
        if client is not None and not client.closed:
            fut = asyncio.ensure_future(client.subscribe(sub.rid, sub.recipient_key))
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def unsubscribe(self, rid: bytes) -> None:
        self._subs.pop(rid, None)

    def kick(self) -> None:
        self._kick.set()

    async def wait_online(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._online.wait(), timeout)
        except TimeoutError as exc:
            raise RelayUnavailable() from exc

    async def wait_idle(self, timeout: float) -> None:
        async def idle() -> None:
            while True:
                await self._online.wait()
                if self._busy == 0 and not await self._outbox.pending(1):
                    before = self._activity
                    client = self._client
                    if client is None:
                        continue
                    with contextlib.suppress(ClientError):
                        await client.ping()
                    await asyncio.sleep(0.05)
                    if (
                        before == self._activity
                        and self._busy == 0
                        and not await self._outbox.pending(1)
                    ):
                        return
                await asyncio.sleep(0.02)

        try:
            await asyncio.wait_for(idle(), timeout)
        except TimeoutError as exc:
            raise RelayUnavailable() from exc

    async def call(self, fn: Callable[[RelayClient], Awaitable[T]], timeout: float = 10.0) -> T:
        await self.wait_online(timeout)
        assert self._client is not None  # noqa: S101
        try:
            return await asyncio.wait_for(fn(self._client), timeout)
        except (ClientError, TimeoutError) as exc:
            raise RelayUnavailable() from exc

    async def _run(self) -> None:
        delay = self._backoff_min
        while True:
            self._set_state("connecting")
            try:
                client = await RelayClient.connect(self._url)
            except ClientError:
                self._set_state("offline")
                await asyncio.sleep(delay * (0.5 + self._rng.random()))
                delay = min(self._backoff_max, delay * 2)
                continue
            self._client = client
            try:
                for sub in list(self._subs.values()):
                    await client.subscribe(sub.rid, sub.recipient_key)
                delay = self._backoff_min
                self._set_state("online")
                self._online.set()
                reader = asyncio.ensure_future(self._reader(client))
                writer = asyncio.ensure_future(self._writer(client))
                done, pending = await asyncio.wait(
                    {reader, writer}, return_when=asyncio.FIRST_COMPLETED
                )
                for t in pending:
                    t.cancel()
                for t in pending:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t
                for t in done:
                    with contextlib.suppress(Exception):
                        t.result()
            except ClientError:
                pass
            finally:
                self._online.clear()
                self._busy = 0
                self._client = None
                await client.close()
            self._set_state("offline")
            await asyncio.sleep(delay * (0.5 + self._rng.random()))

    async def _reader(self, client: RelayClient) -> None:
        while True:
            item = await client.next_push()
            batch = [item]
            while not client._pushes.empty():
                batch.append(await client.next_push())
            msgs = [m for m in batch if isinstance(m, Msg)]
            if not msgs:
                continue
            self._busy += 1
            self._activity += 1
            try:
                await self._inbox.deliver([Incoming(m.rid, m.mid, m.body) for m in msgs])
                futs = []
                for m in msgs:
                    sub = self._subs.get(m.rid)
                    if sub is not None:
                        futs.append(client.ack(m.rid, m.mid, sub.recipient_key))
                await asyncio.gather(*futs)
            finally:
                self._busy -= 1

    async def _writer(self, client: RelayClient) -> None:
        while True:
            items = await self._outbox.pending(256)
            if not items:
                self._kick.clear()
                await self._kick.wait()
                continue
            self._busy += 1
            try:
                futs = [client.submit_send(i.sid, i.body, i.sender_key) for i in items]
                ok: list[int] = []
                for item, fut in zip(items, futs, strict=True):
                    try:
                        await fut
                        ok.append(item.item_id)
                    except CommandFailed as exc:
                        if ok:
                            await self._outbox.sent(ok)
                            ok = []
                        if exc.code in ("QUOTA", "RATE", "INTERNAL"):
                            raise ClientError("retry later") from exc
                        await self._outbox.refused(item.item_id, str(exc.code))
                if ok:
                    await self._outbox.sent(ok)
            finally:
                self._busy -= 1
