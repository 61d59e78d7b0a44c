"""Shared parts of `Service`: state, events, relay plumbing, the link adapter, group commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from nacl.signing import SigningKey

from crypto.documents import Disclosure as SignedDisclosure
from crypto.passphrase import KdfParams
from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed
from securechat import api, profiles
from securechat.conversations import Engine, SendRequest
from securechat.conversations.base import LANGUAGE_SETTING
from securechat.errors import (
    InvalidInput,
    NotFound,
    ProfileLocked,
    RelayUnavailable,
    SecureChatError,
    StorageError,
)
from securechat.listing import QueueAddress
from securechat.relay_link import Incoming, OutgoingItem, RelayLink, Subscription
from securechat.store.db import DatabaseError, storage_error

__all__ = ["ServiceBase"]

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S", bound="ServiceBase")


def _guarded(
    fn: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Turn a database failure inside a command into a `securechat.errors` exception with a
    safe message that names its cause (`storage_error`: in use, read-only, damaged, or a
    `StorageError`)."""

    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(self, *args, **kwargs)
        except DatabaseError as exc:
            log.debug("a database operation failed")
            raise storage_error(exc) from exc

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    return wrapper


_RELAY_TIMEOUT = 10.0
_SETTINGS = {
    "relay_url": "ui.relay_url",
    "language": LANGUAGE_SETTING,
    "auto_lock_minutes": "ui.auto_lock_minutes",
    "region": "ui.region",
}


def _conv_id(conversation_id: str) -> int:
    try:
        value = int(conversation_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("There is no such conversation.") from exc
    if value <= 0:
        raise NotFound("There is no such conversation.")
    return value


def _slug(display_name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", display_name.strip()).strip("-")[:48]
    return slug or "profile"


class _LinkPort:
    """Adapts the engine to one link's `Inbox` and `Outbox`."""

    def __init__(self, service: ServiceBase, relay_url: str) -> None:
        self._service = service
        self._url = relay_url
        self._keys: dict[bytes, SigningKey] = {}  # deriving an Ed25519 key costs ~50 us

    def _key(self, seed: bytes) -> SigningKey:
        key = self._keys.get(seed)
        if key is None:
            key = self._keys[seed] = SigningKey(seed)
        return key

    async def deliver(self, batch: Sequence[Incoming]) -> None:
        await self._service._deliver(batch)

    async def pending(self, limit: int) -> Sequence[OutgoingItem]:
        engine = self._service._engine_or_raise()
        return [
            OutgoingItem(
                i.item_id,
                i.sid,
                i.envelope,
                None if i.sender_seed is None else self._key(i.sender_seed),
            )
            for i in engine.pending(self._url, limit)
        ]

    async def sent(self, item_ids: Sequence[int]) -> None:
        self._service._emit(self._service._engine_or_raise().sent(item_ids))
        self._service._schedule_sent_flush()

    async def refused(self, item_id: int, code: str) -> None:
        log.debug("the relay refused an envelope for good")
        self._service._emit(self._service._engine_or_raise().refused(item_id))


class ServiceBase:
    """State and plumbing shared by the parts of `Service`."""

    def __init__(
        self,
        home: Path | None = None,
        *,
        kdf: KdfParams | None = None,
        autoconnect: bool = True,
        link_factory: Callable[..., RelayLink] = RelayLink,
    ) -> None:
        self._home = home
        self._kdf = kdf
        self._autoconnect = autoconnect
        self._link_factory = link_factory
        self._profile: profiles.Profile | None = None
        self._engine: Engine | None = None
        self._links: dict[str, RelayLink] = {}
        self._subscribers: list[asyncio.Queue[api.Event]] = []
        self._pending: list[tuple[SendRequest, asyncio.Future[str]]] = []
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._provisioning = asyncio.Lock()  # one queue creation round at a time
        self._sent_flush: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"Service(<redacted>, unlocked={self._profile is not None})"

    def _engine_or_raise(self) -> Engine:
        if self._engine is None:
            raise ProfileLocked()
        return self._engine

    def _profile_or_raise(self) -> profiles.Profile:
        if self._profile is None:
            raise ProfileLocked()
        return self._profile

    def _counselor_or_raise(self, what: str) -> profiles.Profile:
        """The open profile, if it is a counselor's; `what` says what a client cannot do.

        Raises:
            ProfileLocked: no profile is open.
            InvalidInput: it is a client's profile (the app shows clients none of this; the
                core refuses it too, so no other caller writes a client's profile with it).
        """
        profile = self._profile_or_raise()
        if profile.role != "counselor":
            raise InvalidInput(f"Only a counselor profile {what}.")
        return profile

    def _emit(self, events: Sequence[api.Event]) -> None:
        for event in events:
            for queue in self._subscribers:
                queue.put_nowait(event)

    def events(self) -> AsyncGenerator[api.Event, None]:
        """Every event from now on, in order, until the iterator is closed."""
        queue: asyncio.Queue[api.Event] = asyncio.Queue()
        self._subscribers.append(queue)

        async def iterate() -> AsyncGenerator[api.Event, None]:
            try:
                while True:
                    yield await queue.get()
            finally:
                with contextlib.suppress(ValueError):
                    self._subscribers.remove(queue)

        return iterate()

    def _schedule_sent_flush(self) -> None:
        """Persist SENT marks soon (batched: see `Engine.sent`)."""
        if self._sent_flush is None:
            self._sent_flush = asyncio.get_running_loop().call_later(0.25, self._flush_sent)

    def _flush_sent(self) -> None:
        self._sent_flush = None
        if self._engine is not None:
            try:
                self._engine.flush_sent()
            except (SecureChatError, DatabaseError):
                log.debug("could not persist SENT marks yet; they stay pending")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, url: str, fn: Callable[[RelayClient], Awaitable[T]]) -> T:
        """Run one-off relay commands on a short connection of their own."""
        try:
            async with asyncio.timeout(_RELAY_TIMEOUT):
                client = await RelayClient.connect(url)
                try:
                    return await fn(client)
                finally:
                    await client.close()
        except CommandFailed as exc:
            if exc.code == "NO_PUB":
                raise NotFound("The counselor's profile is no longer on this relay.") from exc
            raise RelayUnavailable("The relay refused the request. Try again later.") from exc
        except (ClientError, TimeoutError, OSError) as exc:
            raise RelayUnavailable() from exc

    def _link(self, url: str) -> RelayLink:
        link = self._links.get(url)
        if link is None:
            port = _LinkPort(self, url)
            link = self._link_factory(url, port, port, on_state=self._on_state)
            self._links[url] = link
        return link

    def _on_state(self, state: object) -> None:
        value = getattr(state, "value", state)
        with contextlib.suppress(ValueError):
            self._emit([api.ConnectionChanged(api.ConnectionState(str(value)))])

    async def _connect_all(self) -> None:
        engine = self._engine_or_raise()
        for url, rid, seed in engine.subscriptions():
            self._link(url).subscribe(Subscription(rid, SigningKey(seed)))
        for url in engine.relay_urls():
            link = self._link(url)
            await link.start()
            link.kick()

    async def _deliver(self, batch: Sequence[Incoming]) -> None:
        engine = self._engine_or_raise()
        try:
            events = engine.receive([(i.rid, i.body) for i in batch])
        except DatabaseError as exc:
            raise StorageError() from exc
        self._emit(events)
        for link in self._links.values():
            link.kick()
        if engine.conversations_needing_queue():
            self._spawn(self._provision())

    async def _provision(self) -> None:
        """Counselor: create each new conversation's own queue and send the answer."""
        async with self._provisioning:
            await self._provision_locked()

    async def _provision_locked(self) -> None:
        try:
            engine = self._engine_or_raise()
            for conv_id in engine.conversations_needing_queue():
                info = engine.intake()
                if info is None:
                    return
                rid, rkey, address = await self._new_queue(info.relay_url)
                engine.answer(conv_id, rid, bytes(rkey), address)
                link = self._link(info.relay_url)
                link.subscribe(Subscription(rid, rkey))
                link.kick()
        except SecureChatError:
            log.debug("could not create a conversation queue yet; will retry on sync")

    async def _new_queue(self, url: str) -> tuple[bytes, SigningKey, QueueAddress]:
        """NEW a queue and secure it with a fresh sender key whose seed we hand to the peer."""
        rkey = SigningKey.generate()
        skey = SigningKey.generate()

        async def make(client: RelayClient) -> tuple[bytes, bytes]:
            rid, sid = await client.create_queue(rkey)
            await client.secure_queue(rid, rkey, bytes(skey.verify_key))
            return rid, sid

        rid, sid = await self._relay(url, make)
        return rid, rkey, QueueAddress(sid, bytes(skey))

    def _kick(self, url: str) -> None:
        link = self._links.get(url)
        if link is not None:
            link.kick()

    async def _send(self, req: SendRequest) -> str:
        self._engine_or_raise()
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append((req, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_sends)
        return await fut

    def _flush_sends(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        engine = self._engine
        if engine is None:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(ProfileLocked())
            return
        engine.send_many([req for req, _ in batch])
        for req, fut in batch:
            if fut.done():
                continue
            if isinstance(req.result, BaseException):
                fut.set_exception(req.result)
            elif isinstance(req.result, str):
                fut.set_result(req.result)
            else:
                fut.set_exception(StorageError())
        for link in self._links.values():
            link.kick()

    async def _flush_sends_now(self) -> None:
        if self._pending:
            self._flush_sends()
            await asyncio.sleep(0)

    async def _close_profile(self, *, keys_first: bool = False) -> None:
        """Stop the links and background tasks and lock the profile.

        With `keys_first` (quick exit, auto-lock) the profile is locked as soon as the pending
        sends are committed, before the links close: a slow or unreachable relay cannot keep the
        key in memory. A delivery caught in flight then fails without being acknowledged, and
        the relay hands it out again after the next unlock (at-least-once; duplicates dropped).
        """
        await self._flush_sends_now()
        links, self._links = self._links, {}
        if keys_first:
            if self._sent_flush is not None:
                self._sent_flush.cancel()
            self._flush_sent()
            self._drop_profile()
        for link in links.values():
            with contextlib.suppress(Exception):
                await link.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if self._sent_flush is not None:
            self._sent_flush.cancel()
        self._flush_sent()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._drop_profile()

    def _drop_profile(self) -> None:
        """Lock the profile: its key and the engine's sessions leave memory (idempotent)."""
        if self._profile is not None:
            self._profile.lock()
        self._profile, self._engine = None, None


def _disclosure_view(
    language: str,
    version: int,
    text: str,
    signed: SignedDisclosure | None = None,
    *,
    draft: bool = False,
) -> api.DisclosureView:
    digest = (signed or SignedDisclosure(language, version, text)).digest()
    return api.DisclosureView(
        version=version, language=language, text=text, sha256=digest.hex(), draft=draft
    )
