"""Publishing, invites and consent, conversations and messages, sync."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import msgpack
from nacl.signing import SigningKey

from crypto.envelope import (
    MAX_TEXT_BYTES,
    Control,
    ControlAction,
    Payload,
    SessionSummary,
    Text,
)
from relay.client import RelayClient
from securechat import api
from securechat.conversations import SendRequest, clean_peer_name, referral_text
from securechat.disclosure import LANGUAGES, CounselorProfile, DisclosureBook
from securechat.errors import (
    InvalidInput,
    RelayUnavailable,
    SecureChatError,
)
from securechat.invite import Invite, check_relay_url
from securechat.relay_link import Subscription
from securechat.retention import purge_expired
from securechat.service.base import (
    ServiceBase,
    _conv_id,
    _disclosure_view,
    _guarded,
)

__all__ = ["Chat"]


def _clean_list(untrusted: Iterable[str]) -> tuple[str, ...]:
    """Each item as `clean_peer_name` makes a peer's name (one line, no control or direction
    characters), the empty ones left out."""
    return tuple(t for t in map(clean_peer_name, untrusted) if t)


_DIRECTORY_PAGE = 100  # entries asked for per DIR (the relay's largest page)
_DIRECTORY_MAX = 2000  # entries listed at most: a directory this long needs a search first


class Chat(ServiceBase):
    """Publishing, invites and consent, conversations and messages, sync."""

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
        book = DisclosureBook(self._counselor_or_raise("has a disclosure").store)
        current = book.ensure_default()
        draft = current.shared_at is None
        return [
            _disclosure_view(lang, current.version, current.texts[lang], draft=draft)
            for lang in LANGUAGES
        ]

    @_guarded
    async def edit_disclosure(self, language: str, text: str) -> api.DisclosureView:
        """Replace one language's text (a new version, or the draft's if never published);
        republish if already published."""
        profile = self._counselor_or_raise("has a disclosure")
        book = DisclosureBook(profile.store)
        disclosure = book.edit(language, text)
        await self._republish()
        draft = book.get(disclosure.version).shared_at is None
        return _disclosure_view(
            language, disclosure.version, disclosure.texts[language], draft=draft
        )

    @_guarded
    async def counselor_profile(self) -> api.CounselorProfileView:
        """The counselor's public profile (a default one from the display name if unset)."""
        profile = self._counselor_or_raise("has a public profile")
        stored = DisclosureBook(profile.store).get_profile()
        return _profile_view(stored or CounselorProfile(name=profile.display_name))

    @_guarded
    async def update_counselor_profile(
        self, view: api.CounselorProfileView, *, regenerate_disclosure: bool = False
    ) -> api.CounselorProfileView:
        """Store the public profile (and maybe a re-rendered disclosure); republish if published.

        Raises:
            InvalidInput: a field is empty, too long or out of range; or not a counselor.
        """
        profile = self._counselor_or_raise("has a public profile")
        updated = CounselorProfile(
            name=view.name.strip(),
            credentials=view.credentials.strip(),
            specializations=tuple(s.strip() for s in view.specializations if s.strip()),
            languages=tuple(s.strip() for s in view.languages if s.strip()),
            service_hours=view.service_hours.strip(),
            time_zone=view.time_zone.strip(),
            response_time_hours=view.response_time_hours,
            records_retention_years=view.records_retention_years,
        )
        book = DisclosureBook(profile.store)
        book.set_profile(updated)
        if regenerate_disclosure:
            book.regenerate_default()
        await self._republish()
        return _profile_view(updated)

    def _only_counselors_send(self) -> None:
        """A client's summary or crisis numbers would reach the counselor looking like the
        counselor's own (and the receiver drops them): refuse them here, clearly."""
        self._counselor_or_raise("sends session summaries and crisis numbers")

    async def _republish(self) -> None:
        """Publish again at the same address if this profile is published (best effort)."""
        info = self._engine_or_raise().intake()
        if info is not None and info.pid is not None:
            listed = self._profile_or_raise().store.get_setting("publish.directory") == "1"
            with contextlib.suppress(RelayUnavailable):
                await self.publish(info.relay_url, directory=listed)

    async def directory(self, relay_url: str) -> Sequence[api.DirectoryEntry]:
        """The relay's opt-in directory (unauthenticated summaries: verify safety numbers),
        page after page up to `_DIRECTORY_MAX` entries."""
        url = check_relay_url(relay_url)

        async def listing(client: RelayClient) -> list[Any]:
            entries: list[Any] = []
            after = None
            while len(entries) < _DIRECTORY_MAX:
                page = await client.directory(after, _DIRECTORY_PAGE)
                entries.extend(page.entries)
                if page.next is None or not page.entries:
                    break
                after = page.next
            return entries[:_DIRECTORY_MAX]

        out = []
        for entry in await self._relay(url, listing):
            try:
                doc = msgpack.unpackb(entry.summary, raw=False, max_bin_len=4096)
                _, name, specs, langs, key = doc
                out.append(
                    api.DirectoryEntry(
                        Invite(url, entry.pid, bytes(key)).to_uri(),
                        clean_peer_name(str(name)),
                        _clean_list(str(s) for s in specs),
                        _clean_list(str(s) for s in langs),
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
            # signed by the counselor's key, yet written by whoever holds it: one line each
            counselor_name=clean_peer_name(pub.profile.display_name),
            credentials=clean_peer_name(pub.profile.credentials),
            specializations=_clean_list(pub.profile.specialisations),
            languages=_clean_list(pub.profile.languages),
            service_hours=clean_peer_name(pub.profile.service_hours),
            time_zone=clean_peer_name(pub.profile.time_zone),
            response_time=clean_peer_name(pub.profile.response_time),
            disclosures=tuple(
                _disclosure_view(d.language, d.version, d.text, d) for d in pub.disclosures
            ),
        )

    @_guarded
    async def consent(self, invite_id: str, language: str, first_message: str) -> str:
        """Sign consent to the shown disclosure and make first contact.

        With a counselor the client already talks with (an active conversation), no second
        conversation starts: the client consents inside the existing one if it asks for
        consent or the shown version is newer, the first message goes there, and its id is
        returned."""
        engine = self._engine_or_raise()
        profile = self._profile_or_raise()
        if profile.role != "client":
            raise InvalidInput("Only a client profile can consent.")
        if first_message:
            _check_text(first_message)
        invite, listing, _ = engine.load_invite(invite_id)
        disclosure = listing.publication.disclosure(language)
        if disclosure is None:
            raise InvalidInput("The counselor has no disclosure in this language.")
        for view in engine.conversations():
            conv = _conv_id(view.conversation_id)
            if view.active and engine.peer_of(conv) == listing.publication.identity.to_bytes():
                if view.consent_version is None or view.consent_version < disclosure.version:
                    engine.reconsent(conv, language, disclosure)
                if first_message:
                    await self.send_text(view.conversation_id, first_message)
                self._kick(invite.relay_url)
                return view.conversation_id
        rid, rkey, address = await self._new_queue(invite.relay_url)
        conv_id, events = engine.start_conversation(
            invite_id, language, first_message, rid, bytes(rkey), address, profile.display_name
        )
        self._emit(events)
        link = self._link(invite.relay_url)
        link.subscribe(Subscription(rid, rkey))
        if self._autoconnect:
            await link.start()
        link.kick()
        return str(conv_id)

    @_guarded
    async def withdraw_consent(self, conversation_id: str) -> None:
        """Withdraw consent: recorded, told to the peer, the conversation ends on both sides."""
        engine = self._engine_or_raise()
        self._emit(engine.withdraw(_conv_id(conversation_id)))
        for link in self._links.values():
            link.kick()

    @_guarded
    async def conversations(self) -> Sequence[api.ConversationView]:
        return self._engine_or_raise().conversations()

    @_guarded
    async def send_text(self, conversation_id: str, text: str) -> str:
        """Encrypt and queue a text; returns its message id once stored (works offline)."""
        _check_text(text)
        return await self._send(
            SendRequest(_conv_id(conversation_id), Text(text), api.MessageKind.TEXT, {"text": text})
        )

    @_guarded
    async def send_summary(self, conversation_id: str, summary: api.SessionSummary) -> str:
        """Send a session summary with key points and tasks (a counselor, to a client)."""
        self._only_counselors_send()
        if not any(line.strip() for line in (*summary.key_points, *summary.tasks)):
            raise InvalidInput("The summary has no key point and no task.")
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
        """Send a crisis referral with the emergency numbers of the profile's region (a
        counselor, to a client)."""
        self._only_counselors_send()
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
            await self._republish()  # rotate / refill prekeys, same address
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


def _profile_view(profile: CounselorProfile) -> api.CounselorProfileView:
    return api.CounselorProfileView(
        name=profile.name,
        credentials=profile.credentials,
        specializations=profile.specializations,
        languages=profile.languages,
        service_hours=profile.service_hours,
        time_zone=profile.time_zone,
        response_time_hours=profile.response_time_hours,
        records_retention_years=profile.records_retention_years,
    )


def _check_text(text: str) -> None:
    """Refuse, before anything is stored, a text the envelope cannot carry.

    Raises:
        InvalidInput: empty, not encodable as UTF-8 (a lone surrogate), or too long.
    """
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in text):
        raise InvalidInput("The message is empty.")  # also spaces or control characters only
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput("The message contains characters that cannot be sent.") from None
    if size > MAX_TEXT_BYTES:
        raise InvalidInput("The message is too long.")
