"""First contact: the counselor's intake and publication, the client's invites and consent,
the counselor's answer, and consent again after a new disclosure version."""

from __future__ import annotations

from crypto.documents import (
    ConsentRecord,
    Disclosure,
    Profile,
    sign_consent,
    sign_publication,
)
from crypto.envelope import (
    ConsentPayload,
    Envelope,
    Introduction,
)
from crypto.errors import CryptoError
from crypto.keys import IdentityPublicKey
from crypto.session import Session
from crypto.x3dh import NO_ONE_TIME_PREKEY, PrekeyStore
from securechat import api
from securechat.conversations.base import (
    EngineBase,
    _consent_request,
    _local_id,
    _now_s,
    clean_peer_name,
)
from securechat.disclosure import DisclosureBook
from securechat.errors import (
    ConversationClosed,
    InvalidInput,
    InvalidInvite,
    NotFound,
    StorageError,
)
from securechat.invite import Invite
from securechat.listing import (
    Listing,
    QueueAddress,
    decode_prekey,
    encode_prekey,
    open_listing,
    seal_listing,
)
from securechat.store import now_ms

__all__ = ["FirstContact"]


class FirstContact(EngineBase):
    """Publishing, opening invites, consenting and answering (see `docs/client-core.md`)."""

    def create_intake(
        self, relay_url: str, publisher_seed: bytes, rid: bytes, rkey_seed: bytes, sid: bytes
    ) -> None:
        """Record a freshly created intake queue, with a fresh prekey store."""
        store = PrekeyStore.create(self._identity, _now_s())
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO intake(id, relay_url, pid, publisher_key, rid, rkey, sid, prekeys) "
                "VALUES (1, ?, NULL, ?, ?, ?, ?, ?)",
                (relay_url, publisher_seed, rid, rkey_seed, sid, store.to_bytes()),
            )

    def prepare_publication(self) -> tuple[bytes, list[bytes], int]:
        """Rotate/refill prekeys (saved first), sign the listing.

        Returns:
            The listing blob, the one-time prekeys to upload, and the disclosure version.
        """
        info = self.intake()
        if info is None:
            raise NotFound("Publish to a relay first.")
        book = DisclosureBook(self._store)
        profile = book.get_profile()
        if profile is None:
            raise NotFound("Set up the counselor profile first.")
        current = book.ensure_default()
        # Fixed before anything leaves: from now on a client may read this version and
        # consent to it, so a later edit must make a new version, not rewrite this one.
        book.mark_shared(current.version)
        now = _now_s()
        with self._tx() as conn:
            row = conn.execute("SELECT prekeys FROM intake WHERE id = 1").fetchone()
            try:
                store = PrekeyStore.from_bytes(bytes(row[0]))
            except CryptoError as exc:
                raise StorageError() from exc
            store.rotate_signed_prekey(self._identity, now)
            store.prune(now)
            added = store.refill()
            upload = store.one_time_prekeys() if info.pid is None else added
            conn.execute("UPDATE intake SET prekeys = ? WHERE id = 1", (store.to_bytes(),))
        disclosures = tuple(
            Disclosure(lang, current.version, current.texts[lang]) for lang in ("en", "id")
        )
        publication = sign_publication(
            self._identity,
            Profile(
                profile.name,
                profile.credentials,
                tuple(profile.specializations),
                tuple(profile.languages),
                profile.service_hours,
                f"{profile.response_time_hours} h",
                profile.time_zone,
            ),
            disclosures,
            store.bundle(self._identity),
            now,
        )
        blob = seal_listing(self._identity, publication, info.sid)
        return blob, [encode_prekey(i, k) for i, k in upload], current.version

    def upkeep_due(self) -> bool:
        """Whether the signed prekey is due for rotation or one-time prekeys run low
        (then the counselor republishes), or the disclosure changed since publishing."""
        info = self.intake()
        if info is None or info.pid is None:
            return False
        row = self._store.conn.execute("SELECT prekeys FROM intake WHERE id = 1").fetchone()
        try:
            store = PrekeyStore.from_bytes(bytes(row[0]))
        except CryptoError as exc:
            raise StorageError() from exc
        if store.rotate_signed_prekey(self._identity, _now_s()):  # on a throwaway copy
            return True
        if len(store.one_time_prekeys()) < 50:
            return True
        current = DisclosureBook(self._store).current()
        return current is not None and current.version != info.published_version

    def published(self, pid: bytes, version: int) -> list[api.Event]:
        """Record a publication; ask active conversations to consent to a new version."""
        events: list[api.Event] = []
        with self._tx() as conn:
            row = conn.execute("SELECT published_version FROM intake WHERE id = 1").fetchone()
            previous = None if row is None or row[0] is None else int(row[0])
            conn.execute(
                "UPDATE intake SET pid = ?, published_version = ?, published_at = ? WHERE id = 1",
                (pid, version, now_ms()),
            )
            if previous is not None and previous != version:
                for (conv_id,) in conn.execute(
                    "SELECT id FROM conversations WHERE state IN ('pending', 'active') "
                    "AND our_role = 'counselor' AND send_queue IS NOT NULL"
                ).fetchall():
                    conv = self._get_conv(conn, int(conv_id))
                    self._enqueue(conn, conv, ConsentPayload(_consent_request(version)))
        return events

    def save_invite(
        self, invite: Invite, untrusted_blob: bytes, untrusted_prekey: bytes | None
    ) -> tuple[str, Listing, list[api.Event]]:
        """Verify a fetched listing against the invite's key and keep it for `consent`.

        Raises:
            InvalidPublication: bad signature, another identity key, or damaged.
        """
        try:
            pinned = IdentityPublicKey(invite.identity_key)
        except CryptoError as exc:
            raise InvalidInvite(
                "The invite link is damaged. Ask the counselor to send it again."
            ) from exc
        listing = open_listing(untrusted_blob, pinned)
        prekey = untrusted_prekey
        if prekey is not None:
            try:
                decode_prekey(prekey)
            except ValueError:
                prekey = None
        invite_id = _local_id()
        events: list[api.Event] = []
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT c.id, k.id, k.identity_key FROM conversations c "
                "JOIN contacts k ON k.id = c.contact_id "
                "WHERE c.relay_url = ? AND c.invite_pid = ?",
                (invite.relay_url, invite.publication),
            ).fetchall()
            for conv_id, contact_id, key in rows:
                if bytes(key) != listing.publication.identity.to_bytes():
                    conn.execute(
                        "UPDATE contacts SET identity_changed = 1, verified_at = NULL WHERE id = ?",
                        (contact_id,),
                    )
                    events.append(api.SafetyNumberChanged(str(conv_id)))
            conn.execute(
                "INSERT INTO invites(invite_id, relay_url, pid, identity_key, publication, "
                "prekey, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    invite_id,
                    invite.relay_url,
                    invite.publication,
                    invite.identity_key,
                    untrusted_blob,
                    prekey,
                    now_ms(),
                ),
            )
        return invite_id, listing, events

    def load_invite(self, invite_id: str) -> tuple[Invite, Listing, bytes | None]:
        """A saved invite and its verified listing.

        Raises:
            NotFound: unknown invite id (open the invite again).
        """
        row = self._store.conn.execute(
            "SELECT relay_url, pid, identity_key, publication, prekey FROM invites "
            "WHERE invite_id = ?",
            (invite_id,),
        ).fetchone()
        if row is None:
            raise NotFound("Open the invite again.")
        invite = Invite(str(row[0]), bytes(row[1]), bytes(row[2]))
        listing = open_listing(bytes(row[3]), IdentityPublicKey(invite.identity_key))
        return invite, listing, None if row[4] is None else bytes(row[4])

    def start_conversation(
        self,
        invite_id: str,
        language: str,
        text: str,
        rid: bytes,
        rkey_seed: bytes,
        own_address: QueueAddress,
        name: str = "",
    ) -> tuple[int, list[api.Event]]:
        """Sign consent, run X3DH and queue the introduction (with `name`, what the client
        chose to be called), all in one transaction.

        Raises:
            NotFound: unknown invite; InvalidInput: no disclosure in `language`, or text too
            long; InvalidPublication: the stored listing no longer verifies.
        """
        invite, listing, prekey = self.load_invite(invite_id)
        pub = listing.publication
        disclosure = pub.disclosure(language)
        if disclosure is None:
            raise InvalidInput("The counselor has no disclosure in this language.")
        record = ConsentRecord(
            disclosure.digest(),
            disclosure.version,
            language,
            _now_s(),
            self._identity.public,
            pub.identity,
        )
        signed = sign_consent(self._identity, record)
        opk_id, opk = NO_ONE_TIME_PREKEY, None
        if prekey is not None:
            opk_id, opk = decode_prekey(prekey)
        try:
            session, envelope = Session.initiate(
                self._identity,
                pub.bundle(opk_id, opk),
                pub.identity,
                Introduction(signed, own_address.to_bytes(), text, name),
            )
        except CryptoError as exc:
            raise InvalidInput("The message is too long.") from exc
        x3dh = Envelope.parse(envelope).x3dh
        assert x3dh is not None  # noqa: S101 - initiate always makes a prekey envelope
        now = now_ms()
        with self._tx() as conn:
            contact_id = self._contact(
                conn,
                pub.identity.to_bytes(),
                clean_peer_name(pub.profile.display_name),
                "counselor",
            )
            cur = conn.execute(
                "INSERT INTO conversations(contact_id, state, relay_url, send_queue, recv_queue, "
                "recv_auth_key, created_at, updated_at, our_role, recv_sid, send_key, handshake, "
                "session, consent_version, consent_language, invite_pid, answered) "
                "VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, 'client', ?, NULL, ?, ?, ?, ?, ?, 1)",
                (
                    contact_id,
                    invite.relay_url,
                    listing.intake_sid,
                    rid,
                    rkey_seed,
                    now,
                    now,
                    own_address.sid,
                    x3dh.to_bytes(),
                    session.to_bytes(),
                    disclosure.version,
                    language,
                    invite.publication,
                ),
            )
            conv_id = int(cur.lastrowid)
            self._record_consent(conn, contact_id, "given", record, signed, None)
            message_id = None
            if text:
                message_id = self._store_message(
                    conn, conv_id, True, api.MessageKind.TEXT, {"text": text}, None, "queued"
                )
            conn.execute(
                "INSERT INTO outbox(conversation_id, message_id, relay_url, sid, sender_key, "
                "envelope, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
                (conv_id, message_id, invite.relay_url, listing.intake_sid, envelope, now),
            )
            conn.execute("DELETE FROM invites WHERE invite_id = ?", (invite_id,))
        self._sessions[conv_id] = session
        return conv_id, [api.ConversationStarted(str(conv_id))]

    def conversations_needing_queue(self) -> list[int]:
        """Counselor conversations whose own receive queue is not created yet."""
        rows = self._store.conn.execute(
            "SELECT id FROM conversations WHERE our_role = 'counselor' AND answered = 0 "
            "AND recv_queue IS NULL AND state IN ('pending', 'active')"
        ).fetchall()
        return [int(r[0]) for r in rows]

    def answer(
        self, conversation_id: int, rid: bytes, rkey_seed: bytes, own_address: QueueAddress
    ) -> None:
        """Record the conversation's own queue and queue the answer: counter-signed consent
        and that queue's address, in one transaction."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            row = conn.execute(
                "SELECT countersignature FROM consent_records WHERE contact_id = ? "
                "AND kind = 'given' ORDER BY id DESC LIMIT 1",
                (conv.contact_id,),
            ).fetchone()
            countersigned = bytes(row[0]) if row is not None and row[0] is not None else b""
            conn.execute(
                "UPDATE conversations SET recv_queue = ?, recv_auth_key = ?, recv_sid = ?, "
                "answered = 1 WHERE id = ?",
                (rid, rkey_seed, own_address.sid, conversation_id),
            )
            self._enqueue(conn, conv, Introduction(countersigned, own_address.to_bytes(), ""))
            # The client consented to the version it read; if a newer one was published
            # meanwhile (it opened the invite before an edit), ask at once, as `published`
            # asks every conversation that was active when the edit went out.
            row = conn.execute("SELECT published_version FROM intake WHERE id = 1").fetchone()
            current = None if row is None or row[0] is None else int(row[0])
            if current is not None and (conv.consent_version or 0) < current:
                self._enqueue(conn, conv, ConsentPayload(_consent_request(current)))

    def reconsent(
        self, conversation_id: int, language: str, disclosure: Disclosure
    ) -> list[api.Event]:
        """Client: consent to a new disclosure version inside an existing conversation."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            if conv.state in ("withdrawn", "closed"):
                raise ConversationClosed()
            record = ConsentRecord(
                disclosure.digest(),
                disclosure.version,
                language,
                _now_s(),
                self._identity.public,
                IdentityPublicKey(conv.peer),
            )
            signed = sign_consent(self._identity, record)
            self._record_consent(conn, conv.contact_id, "given", record, signed, None)
            conn.execute(
                "UPDATE conversations SET consent_version = ?, consent_language = ?, "
                "consent_needed = NULL WHERE id = ?",
                (disclosure.version, language, conv.id),
            )
            self._enqueue(conn, conv, ConsentPayload(signed))
        return []
