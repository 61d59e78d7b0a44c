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
- Every error a command raises is a `SecureChatError`; `sqlcipher3.DatabaseError` becomes
  `CorruptProfile` (on unlock) or `StorageError` (afterwards); relay failures become
  `RelayUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import msgpack
from nacl.signing import SigningKey

from crypto.documents import Disclosure as SignedDisclosure
from crypto.envelope import (
    MAX_TEXT_BYTES,
    Control,
    ControlAction,
    Payload,
    SessionSummary,
    Text,
)
from crypto.keys import IdentityKeyPair
from crypto.passphrase import KdfParams
from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed
from securechat import api, keystore, profiles
from securechat.conversations import Engine, SendRequest, referral_text
from securechat.disclosure import LANGUAGES, CounselorProfile, DisclosureBook
from securechat.errors import (
    CorruptProfile,
    InvalidInput,
    KeyringUnavailable,
    NotFound,
    ProfileLocked,
    RelayUnavailable,
    SecureChatError,
    StorageError,
)
from securechat.firstcontact import QueueAddress
from securechat.invite import Invite, check_relay_url
from securechat.notes import NoteBook
from securechat.relay_link import Incoming, OutgoingItem, RelayLink, Subscription
from securechat.retention import get_retention_days, purge_expired, set_retention_days
from securechat.store.db import DatabaseError

__all__ = ["Service"]

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S", bound="Service")


def _guarded(
    fn: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Turn a database failure inside a command into `StorageError` (safe message)."""

    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(self, *args, **kwargs)
        except DatabaseError as exc:
            log.debug("a database operation failed")
            raise StorageError() from exc

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__doc__ = fn.__doc__
    return wrapper


_RELAY_TIMEOUT = 10.0
_SETTINGS = {
    "relay_url": "ui.relay_url",
    "language": "ui.language",
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

    def __init__(self, service: Service, relay_url: str) -> None:
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


class Service:
    """The client core. See the module docstring; implements `securechat.api.ServiceAPI`."""

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

    # ------------------------------------------------------------------ plumbing

    def _engine_or_raise(self) -> Engine:
        if self._engine is None:
            raise ProfileLocked()
        return self._engine

    def _profile_or_raise(self) -> profiles.Profile:
        if self._profile is None:
            raise ProfileLocked()
        return self._profile

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

    def _storage_guard(self, exc: BaseException) -> SecureChatError:
        return StorageError() if isinstance(exc, DatabaseError) else SecureChatError()

    # ------------------------------------------------------------------ profiles

    async def list_profiles(self) -> Sequence[api.ProfileView]:
        """Profiles on this device. Role and name are inside the encrypted database, so a
        locked profile shows its folder name and the client role."""
        names = profiles.list_profiles(self._home)
        out = []
        for name in names:
            try:
                remembered = profiles.is_remembered(name, home=self._home)
            except KeyringUnavailable:
                remembered = False
            current = self._profile
            if current is not None and current.name == name and not current.locked:
                out.append(
                    api.ProfileView(name, current.display_name, api.Role(current.role), remembered)
                )
            else:
                out.append(api.ProfileView(name, name, api.Role.CLIENT, remembered))
        return out

    async def create_profile(
        self, display_name: str, role: api.Role, passphrase: str
    ) -> api.ProfileView:
        """Create a profile (its folder name derives from the display name) and unlock it."""
        base = _slug(display_name)
        existing = set(profiles.list_profiles(self._home))
        name, n = base, 1
        while name in existing or profiles.profile_dir(name, self._home).exists():
            n += 1
            name = f"{base}-{n}"
        profile = await asyncio.to_thread(
            profiles.create_profile,
            name,
            str(api.Role(role).value),
            display_name,
            passphrase,
            home=self._home,
            kdf=self._kdf,
        )
        if profile.role == "counselor":
            book = DisclosureBook(profile.store)
            book.set_profile(CounselorProfile(name=profile.display_name))
            book.ensure_default()
        await self._close_profile()
        await self._open(profile)
        return api.ProfileView(name, profile.display_name, api.Role(profile.role), False)

    async def unlock(self, profile: str, passphrase: str | None, remember: bool = False) -> None:
        """Unlock `profile` with its passphrase, or with the remembered key (`None`)."""
        try:
            if passphrase is None:
                opened = await asyncio.to_thread(
                    profiles.unlock_remembered, profile, home=self._home
                )
            else:
                opened = await asyncio.to_thread(
                    profiles.unlock_profile, profile, passphrase, home=self._home
                )
        except DatabaseError as exc:
            raise CorruptProfile() from exc
        if remember:
            try:
                profiles.remember_on_device(opened)
            except KeyringUnavailable:
                opened.lock()
                raise
        await self._close_profile()
        await self._open(opened)

    async def _open(self, profile: profiles.Profile) -> None:
        try:
            # A larger page cache (16 MiB, in memory only) spares re-decrypting hot index pages.
            profile.store.conn.execute("PRAGMA cache_size = -16384")
            engine = Engine(profile.store, IdentityKeyPair(profile.identity_seed()), profile.role)
            engine.region = profile.store.get_setting(_SETTINGS["region"]) or "ID"
            purge_expired(profile.store)
            engine.prune_processed()
        except DatabaseError as exc:
            profile.lock()
            raise CorruptProfile() from exc
        except BaseException:
            profile.lock()
            raise
        self._profile, self._engine = profile, engine
        if self._autoconnect:
            await self._connect_all()
            self._spawn(self._provision())

    async def lock(self, reason: str = "user") -> None:
        """Disconnect and lock: the key leaves memory."""
        await self._close_profile()
        self._emit([api.ProfileLocked(reason)])

    async def close(self) -> None:
        """Stop every link and background task and lock the profile (idempotent)."""
        await self._close_profile()

    async def _close_profile(self) -> None:
        await self._flush_sends_now()
        links, self._links = self._links, {}
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
        if self._profile is not None:
            self._profile.lock()
        self._profile, self._engine = None, None

    @_guarded
    async def change_passphrase(self, old: str, new: str) -> None:
        """Check `old`, then re-key the database under `new` (crash-safe)."""
        profile = self._profile_or_raise()
        check = await asyncio.to_thread(profiles.unlock_profile, profile.name, old, home=self._home)
        check.lock()
        await asyncio.to_thread(profiles.change_passphrase, profile, new, kdf=self._kdf)

    # ------------------------------------------------------------------ links

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

    @_guarded
    async def sync(self, timeout: float = 30.0) -> None:
        """Connect if needed, flush the outbox, receive what is waiting (and acknowledge)."""
        engine = self._engine_or_raise()
        await self._flush_sends_now()
        purge_expired(self._profile_or_raise().store)
        await self._connect_all()
        await self._provision()
        info = engine.intake()
        if info is not None and engine.upkeep_due():
            listed = self._profile_or_raise().store.get_setting("publish.directory") == "1"
            with contextlib.suppress(RelayUnavailable):
                # rotate / refill prekeys, same address
                await self.publish(info.relay_url, directory=listed)
        for url in sorted(engine.relay_urls()):
            link = self._link(url)
            link.kick()
            await link.wait_online(timeout)
            await link.wait_idle(timeout)
        if engine.conversations_needing_queue():
            await self._provision()
            for link in self._links.values():
                link.kick()
                await link.wait_idle(timeout)

    # ------------------------------------------------------------------ counselor

    @_guarded
    async def publish(self, relay_url: str, *, directory: bool = False) -> str:
        """Create the intake queue (first time), sign and publish; return the invite."""
        profile = self._profile_or_raise()
        engine = self._engine_or_raise()
        if profile.role != "counselor":
            raise InvalidInput("Only a counselor profile can publish.")
        url = check_relay_url(relay_url)
        info = engine.intake()
        if info is None:
            rkey = SigningKey.generate()

            async def make(client: RelayClient) -> tuple[bytes, bytes]:
                return await client.create_queue(rkey)

            rid, sid = await self._relay(url, make)
            engine.create_intake(url, bytes(SigningKey.generate()), rid, bytes(rkey), sid)
            info = engine.intake()
            assert info is not None  # noqa: S101
        elif info.relay_url != url:
            raise InvalidInput("This profile already publishes on another relay.")
        blob, prekeys, version = engine.prepare_publication()
        summary = None
        if directory:
            book = DisclosureBook(profile.store)
            cp = book.get_profile()
            summary = msgpack.packb(
                [
                    1,
                    profile.display_name if cp is None else cp.name,
                    list(cp.specializations) if cp else [],
                    list(cp.languages) if cp else [],
                    engine.identity.to_bytes(),
                ],
                use_bin_type=True,
            )
        publisher = SigningKey(info.publisher_seed)
        pid_before = info.pid

        async def pub(client: RelayClient) -> bytes:
            return await client.publish(
                publisher, blob, summary=summary, prekeys=prekeys, pid=pid_before
            )

        pid = await self._relay(url, pub)
        profile.store.set_setting("publish.directory", "1" if directory else "0")
        self._emit(engine.published(pid, version))
        link = self._link(url)
        link.subscribe(Subscription(info.rid, SigningKey(info.rkey_seed)))
        if self._autoconnect:
            await link.start()
        link.kick()
        return Invite(url, pid, engine.identity.to_bytes()).to_uri()

    @_guarded
    async def disclosures(self) -> Sequence[api.DisclosureView]:
        """The current disclosure, one view per language."""
        book = DisclosureBook(self._profile_or_raise().store)
        current = book.ensure_default()
        return [_disclosure_view(lang, current.version, current.texts[lang]) for lang in LANGUAGES]

    @_guarded
    async def edit_disclosure(self, language: str, text: str) -> api.DisclosureView:
        """Replace one language's text (a new version); republish if already published."""
        profile = self._profile_or_raise()
        engine = self._engine_or_raise()
        disclosure = DisclosureBook(profile.store).edit(language, text)
        info = engine.intake()
        if info is not None and info.pid is not None:
            listed = profile.store.get_setting("publish.directory") == "1"
            with contextlib.suppress(RelayUnavailable):
                await self.publish(info.relay_url, directory=listed)
        return _disclosure_view(language, disclosure.version, disclosure.texts[language])

    # ------------------------------------------------------------------ client

    async def directory(self, relay_url: str) -> Sequence[api.DirectoryEntry]:
        """The relay's opt-in directory (unauthenticated summaries: verify safety numbers)."""
        url = check_relay_url(relay_url)

        async def listing(client: RelayClient) -> Any:
            return await client.directory(None, 100)

        page = await self._relay(url, listing)
        out = []
        for entry in page.entries:
            try:
                doc = msgpack.unpackb(entry.summary, raw=False, max_bin_len=4096)
                _, name, specs, langs, key = doc
                out.append(
                    api.DirectoryEntry(
                        Invite(url, entry.pid, bytes(key)).to_uri(),
                        str(name),
                        tuple(str(s) for s in specs),
                        tuple(str(s) for s in langs),
                    )
                )
            except (ValueError, TypeError, msgpack.UnpackException, SecureChatError):
                continue
        return out

    @_guarded
    async def open_invite(self, invite: str) -> api.InviteView:
        """Fetch and verify the counselor's publication; sends nothing."""
        engine = self._engine_or_raise()
        parsed = Invite.parse(invite)

        async def fetch(client: RelayClient) -> Any:
            return await client.fetch(parsed.publication)

        reply = await self._relay(parsed.relay_url, fetch)
        invite_id, listing, events = engine.save_invite(parsed, reply.blob, reply.prekey)
        self._emit(events)
        pub = listing.publication
        return api.InviteView(
            invite_id=invite_id,
            counselor_name=pub.profile.display_name,
            credentials=pub.profile.credentials,
            specializations=pub.profile.specialisations,
            languages=pub.profile.languages,
            service_hours=pub.profile.service_hours,
            time_zone=pub.profile.time_zone,
            response_time=pub.profile.response_time,
            disclosures=tuple(
                _disclosure_view(d.language, d.version, d.text, d) for d in pub.disclosures
            ),
        )

    @_guarded
    async def consent(self, invite_id: str, language: str, first_message: str) -> str:
        """Sign consent to the shown disclosure and make first contact (or, for a counselor
        already in a conversation that asks for consent again, consent inside it)."""
        engine = self._engine_or_raise()
        profile = self._profile_or_raise()
        if profile.role != "client":
            raise InvalidInput("Only a client profile can consent.")
        if len(first_message.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            raise InvalidInput("The message is too long.")
        invite, listing, _ = engine.load_invite(invite_id)
        disclosure = listing.publication.disclosure(language)
        if disclosure is None:
            raise InvalidInput("The counselor has no disclosure in this language.")
        for view in engine.conversations():
            conv = _conv_id(view.conversation_id)
            if (
                view.active
                and view.consent_version is None
                and engine.peer_of(conv) == listing.publication.identity.to_bytes()
            ):
                engine.reconsent(conv, language, disclosure)
                if first_message:
                    await self.send_text(view.conversation_id, first_message)
                self._kick(invite.relay_url)
                return view.conversation_id
        rid, rkey, address = await self._new_queue(invite.relay_url)
        conv_id, events = engine.start_conversation(
            invite_id, language, first_message, rid, bytes(rkey), address
        )
        self._emit(events)
        link = self._link(invite.relay_url)
        link.subscribe(Subscription(rid, rkey))
        if self._autoconnect:
            await link.start()
        link.kick()
        return str(conv_id)

    def _kick(self, url: str) -> None:
        link = self._links.get(url)
        if link is not None:
            link.kick()

    @_guarded
    async def withdraw_consent(self, conversation_id: str) -> None:
        """Withdraw consent: recorded, told to the peer, the conversation ends on both sides."""
        engine = self._engine_or_raise()
        self._emit(engine.withdraw(_conv_id(conversation_id)))
        for link in self._links.values():
            link.kick()

    # ------------------------------------------------------------------ conversations

    @_guarded
    async def conversations(self) -> Sequence[api.ConversationView]:
        return self._engine_or_raise().conversations()

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

    @_guarded
    async def send_text(self, conversation_id: str, text: str) -> str:
        """Encrypt and queue a text; returns its message id once stored (works offline)."""
        if not text:
            raise InvalidInput("The message is empty.")
        return await self._send(
            SendRequest(_conv_id(conversation_id), Text(text), api.MessageKind.TEXT, {"text": text})
        )

    @_guarded
    async def send_summary(self, conversation_id: str, summary: api.SessionSummary) -> str:
        """Send a session summary with key points and tasks."""
        payload: Payload = SessionSummary(tuple(summary.key_points), tuple(summary.tasks))
        return await self._send(
            SendRequest(
                _conv_id(conversation_id),
                payload,
                api.MessageKind.SUMMARY,
                {"key_points": list(summary.key_points), "tasks": list(summary.tasks)},
            )
        )

    @_guarded
    async def send_referral(self, conversation_id: str, language: str) -> str:
        """Send a crisis referral with the emergency numbers of the profile's region."""
        if language not in LANGUAGES:
            raise InvalidInput("The language must be 'en' or 'id'.")
        engine = self._engine_or_raise()
        text = referral_text(engine.region, language)
        return await self._send(
            SendRequest(
                _conv_id(conversation_id),
                Control(ControlAction.REFERRAL, text),
                api.MessageKind.REFERRAL,
                {"text": text},
            )
        )

    @_guarded
    async def set_task_done(self, message_id: str, index: int, done: bool) -> None:
        self._engine_or_raise().set_task_done(message_id, index, done)

    @_guarded
    async def message_count(self, conversation_id: str) -> int:
        return self._engine_or_raise().message_count(_conv_id(conversation_id))

    @_guarded
    async def history(
        self, conversation_id: str, offset: int, limit: int
    ) -> Sequence[api.MessageView]:
        return self._engine_or_raise().history(_conv_id(conversation_id), offset, limit)

    @_guarded
    async def safety_number(self, conversation_id: str) -> api.SafetyNumberView:
        return self._engine_or_raise().safety_number(_conv_id(conversation_id))

    @_guarded
    async def mark_verified(self, conversation_id: str) -> None:
        self._engine_or_raise().mark_verified(_conv_id(conversation_id))

    @_guarded
    async def confirm_key_change(self, conversation_id: str) -> None:
        self._engine_or_raise().confirm_key_change(_conv_id(conversation_id))

    # ------------------------------------------------------------------ notes

    def _contact_of(self, conversation_id: str) -> int:
        store = self._profile_or_raise().store
        row = store.conn.execute(
            "SELECT contact_id FROM conversations WHERE id = ?", (_conv_id(conversation_id),)
        ).fetchone()
        if row is None:
            raise NotFound("There is no such conversation.")
        return int(row[0])

    def _note_view(self, conversation_id: str, note: Any) -> api.NoteView:
        from securechat.notes import get_template

        order = get_template(note.template).sections
        return api.NoteView(
            note_id=str(note.id),
            conversation_id=conversation_id,
            session_label=note.session_id,
            template=note.template,
            sections=tuple((name, str(note.sections.get(name, ""))) for name in order),
            updated_at=note.updated_at / 1000.0,
            revision=note.revision,
        )

    @_guarded
    async def notes(self, conversation_id: str) -> Sequence[api.NoteView]:
        book = NoteBook(self._profile_or_raise().store)
        contact = self._contact_of(conversation_id)
        return [
            self._note_view(conversation_id, book.open(n.id))
            for n in book.list_notes(contact_id=contact)
        ]

    @_guarded
    async def save_note(
        self,
        conversation_id: str,
        note_id: str | None,
        template: str,
        sections: Sequence[tuple[str, str]],
        session_label: str = "",
    ) -> api.NoteView:
        book = NoteBook(self._profile_or_raise().store)
        contact = self._contact_of(conversation_id)
        if note_id is None:
            note = book.add(contact, session_label or "1", template, dict(sections))
        else:
            try:
                nid = int(note_id)
            except ValueError as exc:
                raise NotFound() from exc
            note = book.edit(nid, dict(sections))
        return self._note_view(conversation_id, note)

    @_guarded
    async def search_notes(self, query: str) -> Sequence[api.NoteView]:
        store = self._profile_or_raise().store
        book = NoteBook(store)
        out = []
        for hit in book.search(query):
            row = store.conn.execute(
                "SELECT id FROM conversations WHERE contact_id = ? ORDER BY id DESC LIMIT 1",
                (hit.contact_id,),
            ).fetchone()
            conv = "" if row is None else str(row[0])
            out.append(self._note_view(conv, book.open(hit.note_id)))
        return out

    # ------------------------------------------------------------------ settings

    @_guarded
    async def settings(self) -> api.SettingsView:
        profile = self._profile_or_raise()
        store = profile.store
        try:
            remembered = keystore.load_key(profile.directory) is not None
        except KeyringUnavailable:
            remembered = False
        info = self._engine_or_raise().intake()
        return api.SettingsView(
            relay_url=store.get_setting(_SETTINGS["relay_url"]) or (info.relay_url if info else ""),
            language=store.get_setting(_SETTINGS["language"]) or "id",
            auto_lock_minutes=int(store.get_setting(_SETTINGS["auto_lock_minutes"]) or 0),
            retention_days=get_retention_days(store) or 0,
            remember_on_device=remembered,
            region=store.get_setting(_SETTINGS["region"]) or "ID",
        )

    @_guarded
    async def update_settings(self, settings: api.SettingsView) -> api.SettingsView:
        profile = self._profile_or_raise()
        store = profile.store
        if settings.relay_url:
            check_relay_url(settings.relay_url)
        if settings.language not in LANGUAGES:
            raise InvalidInput("The language must be 'en' or 'id'.")
        if not 0 <= settings.auto_lock_minutes <= 24 * 60:
            raise InvalidInput("Auto-lock must be between 0 and 1440 minutes.")
        if not re.fullmatch(r"[A-Z]{2}", settings.region):
            raise InvalidInput("The region must be a two-letter country code.")
        set_retention_days(store, settings.retention_days or None)
        store.set_setting(_SETTINGS["relay_url"], settings.relay_url or None)
        store.set_setting(_SETTINGS["language"], settings.language)
        store.set_setting(_SETTINGS["auto_lock_minutes"], str(settings.auto_lock_minutes))
        store.set_setting(_SETTINGS["region"], settings.region)
        self._engine_or_raise().region = settings.region
        if settings.remember_on_device:
            profiles.remember_on_device(profile)
        else:
            with contextlib.suppress(KeyringUnavailable):
                profiles.forget_on_device(profile.name, home=self._home)
        purge_expired(store)
        return await self.settings()


def _disclosure_view(
    language: str, version: int, text: str, signed: SignedDisclosure | None = None
) -> api.DisclosureView:
    digest = (signed or SignedDisclosure(language, version, text)).digest()
    return api.DisclosureView(version=version, language=language, text=text, sha256=digest.hex())


def _static_check(service: Service) -> api.ServiceAPI:
    """mypy proves here that `Service` satisfies `ServiceAPI` (never called)."""
    return service
