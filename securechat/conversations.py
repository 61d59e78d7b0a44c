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
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from crypto import safety
from crypto.documents import (
    ConsentRecord,
    Disclosure,
    Profile,
    countersign_consent,
    sign_consent,
    sign_publication,
    verify_consent,
)
from crypto.envelope import (
    ConsentPayload,
    Control,
    ControlAction,
    DecryptedMessage,
    Envelope,
    EnvelopeKind,
    Introduction,
    Payload,
    Receipt,
    ReceiptStatus,
    SessionSummary,
    Text,
)
from crypto.errors import CryptoError
from crypto.keys import IdentityKeyPair, IdentityPublicKey
from crypto.session import Session
from crypto.x3dh import NO_ONE_TIME_PREKEY, PrekeyStore
from securechat import api
from securechat.disclosure import DisclosureBook
from securechat.errors import (
    ConsentRequired,
    ConversationClosed,
    IdentityKeyChanged,
    InvalidInput,
    InvalidInvite,
    NotFound,
    StorageError,
)
from securechat.firstcontact import (
    Listing,
    QueueAddress,
    decode_prekey,
    encode_prekey,
    open_listing,
    seal_listing,
)
from securechat.invite import Invite
from securechat.store import Store, now_ms

__all__ = [
    "Engine",
    "IntakeInfo",
    "OutItem",
    "SendRequest",
    "referral_text",
]

log = logging.getLogger(__name__)

_RECEIPT_CHUNK = 100
_MAX_SENT_MARKS = 4096
_PROCESSED_KEEP_MS = 60 * 86_400_000  # longer than the relay's message lifetime


def referral_text(region: str, language: str) -> str:
    """The crisis referral: Indonesia's numbers for region ID, else the local number."""
    if region.upper() == "ID":
        if language == "id":
            return (
                "Jika Anda dalam bahaya atau berpikir untuk menyakiti diri sendiri, segera "
                "hubungi 112 (darurat) atau 119 ext 8 (layanan kesehatan jiwa)."
            )
        return (
            "If you are in danger or thinking about harming yourself, call 112 (emergency) "
            "or 119 ext 8 (mental health line) now."
        )
    if language == "id":
        return (
            "Jika Anda dalam bahaya atau berpikir untuk menyakiti diri sendiri, segera hubungi "
            "nomor darurat setempat."
        )
    return (
        "If you are in danger or thinking about harming yourself, call your local emergency "
        "number now."
    )


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


def _consent_request(version: int) -> bytes:
    """A counselor's request to consent to disclosure `version` (in a `ConsentPayload`)."""
    return _pack([2, version])


def _parse_consent_request(untrusted: bytes) -> int | None:
    try:
        doc = msgpack.unpackb(untrusted, raw=False, max_bin_len=64, max_str_len=64)
    except (msgpack.UnpackException, ValueError, TypeError):
        return None
    if isinstance(doc, list) and len(doc) == 2 and doc[0] == 2 and type(doc[1]) is int:
        return int(doc[1]) if 1 <= doc[1] < 2**31 else None
    return None


@dataclass(frozen=True)
class OutItem:
    """One envelope waiting in the outbox for a relay."""

    item_id: int
    sid: bytes
    envelope: bytes
    sender_seed: bytes | None

    def __repr__(self) -> str:
        return f"OutItem({self.item_id}, <redacted>)"


@dataclass(frozen=True)
class IntakeInfo:
    """The counselor's intake queue and publication (secret: keys)."""

    relay_url: str
    pid: bytes | None
    publisher_seed: bytes
    rid: bytes
    rkey_seed: bytes
    sid: bytes
    published_version: int | None

    def __repr__(self) -> str:
        return "IntakeInfo(<redacted>)"


@dataclass
class SendRequest:
    """One send for `send_many`: a conversation, a payload and how to store it."""

    conversation_id: int
    payload: Payload
    kind: api.MessageKind
    stored: dict[str, Any]
    gate: bool = True  # apply the consent gate (withdrawal itself bypasses it)
    result: str | BaseException | None = field(default=None)

    def __repr__(self) -> str:
        return f"SendRequest({self.conversation_id}, {self.kind.value}, <redacted>)"


@dataclass
class _Conv:
    id: int
    contact_id: int
    state: str
    our_role: str
    relay_url: str
    send_queue: bytes | None
    send_key: bytes | None
    recv_queue: bytes | None
    consent_version: int | None
    consent_needed: int | None
    answered: bool
    identity_changed: bool
    peer: bytes

    def __repr__(self) -> str:
        return f"_Conv({self.id}, <redacted>)"


_CONV_COLS = (
    "c.id, c.contact_id, c.state, c.our_role, c.relay_url, c.send_queue, c.send_key, "
    "c.recv_queue, c.consent_version, c.consent_needed, c.answered, k.identity_changed, "
    "k.identity_key"
)


def _conv(row: Any) -> _Conv:
    return _Conv(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4] or ""),
        None if row[5] is None else bytes(row[5]),
        None if row[6] is None else bytes(row[6]),
        None if row[7] is None else bytes(row[7]),
        None if row[8] is None else int(row[8]),
        None if row[9] is None else int(row[9]),
        bool(row[10]),
        bool(row[11]),
        bytes(row[12]),
    )


def _local_id() -> str:
    """A local id: 8 bytes of time then 8 random bytes, so index inserts append (fast)."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def _wire_id() -> bytes:
    """A message id for the wire (16 bytes): time-ordered like `_local_id`, for the same
    reason; the peer learns nothing it does not see anyway (when the message was sent)."""
    return time.time_ns().to_bytes(8, "big") + secrets.token_bytes(8)


def _now_s() -> int:
    return int(time.time())


class Engine:
    """Conversations of one unlocked profile. Not thread-safe: one loop owns it."""

    def __init__(self, store: Store, identity: IdentityKeyPair, role: str) -> None:
        self._store = store
        self._identity = identity
        self._role = role
        self._sessions: dict[int, Session] = {}
        self._sent_marks: set[int] = set()
        self._marks_in_tx: set[int] = set()
        self._rx_convs: dict[int, _Conv] = {}  # caches for one received batch
        self._rx_rids: dict[bytes, int | None] = {}
        self._rx_unread: dict[int, int] = {}
        self.region = "ID"

    def __repr__(self) -> str:
        return "Engine(<redacted>)"

    @property
    def identity(self) -> IdentityPublicKey:
        """Our identity public key."""
        return self._identity.public

    # ------------------------------------------------------------------ helpers

    def _get_conv(self, conn: Any, conversation_id: int) -> _Conv:
        row = conn.execute(
            f"SELECT {_CONV_COLS} FROM conversations c JOIN contacts k ON k.id = c.contact_id "  # noqa: S608
            "WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise NotFound("There is no such conversation.")
        return _conv(row)

    def _session(self, conn: Any, conversation_id: int) -> Session:
        cached = self._sessions.get(conversation_id)
        if cached is not None:
            return cached
        row = conn.execute(
            "SELECT session FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise NotFound("There is no such conversation.")
        try:
            session = Session.from_bytes(bytes(row[0]))
        except CryptoError as exc:
            raise StorageError() from exc
        self._sessions[conversation_id] = session
        return session

    def _save_session(self, conn: Any, conversation_id: int, session: Session) -> None:
        conn.execute(
            "UPDATE conversations SET session = ?, updated_at = ? WHERE id = ?",
            (session.to_bytes(), now_ms(), conversation_id),
        )

    def _tx(self) -> Any:
        return _Tx(self)

    def _store_message(
        self,
        conn: Any,
        conv_id: int,
        outgoing: bool,
        kind: api.MessageKind,
        stored: dict[str, Any],
        wire_id: bytes | None,
        state: str,
    ) -> str:
        message_id = _local_id()
        now = now_ms()
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
            "payload_type, body, created_at, sent_at, received_at, wire_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conv_id,
                message_id,
                "out" if outgoing else "in",
                state,
                kind.value,
                json.dumps(stored, ensure_ascii=False).encode("utf-8"),
                now,
                now if outgoing else None,
                None if outgoing else now,
                wire_id,
            ),
        )
        return message_id

    def _enqueue(
        self,
        conn: Any,
        conv: _Conv,
        payload: Payload,
        message_id: str | None = None,
        wire_id: bytes | None = None,
    ) -> None:
        if conv.send_queue is None:
            raise ConversationClosed()
        session = self._session(conn, conv.id)
        envelope = session.encrypt(payload, wire_id)
        self._save_session(conn, conv.id, session)
        conn.execute(
            "INSERT INTO outbox(conversation_id, message_id, relay_url, sid, sender_key, "
            "envelope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conv.id,
                message_id,
                conv.relay_url,
                conv.send_queue,
                conv.send_key,
                envelope,
                now_ms(),
            ),
        )

    # ------------------------------------------------------------------ counselor: intake

    def intake(self) -> IntakeInfo | None:
        """The intake queue and publication, if this counselor has published."""
        row = self._store.conn.execute(
            "SELECT relay_url, pid, publisher_key, rid, rkey, sid, published_version "
            "FROM intake WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return IntakeInfo(
            str(row[0]),
            None if row[1] is None else bytes(row[1]),
            bytes(row[2]),
            bytes(row[3]),
            bytes(row[4]),
            bytes(row[5]),
            None if row[6] is None else int(row[6]),
        )

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

    # ------------------------------------------------------------------ client: invites

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
            raise InvalidInvite("the invite link is damaged") from exc
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
    ) -> tuple[int, list[api.Event]]:
        """Sign consent, run X3DH and queue the introduction, all in one transaction.

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
                Introduction(signed, own_address.to_bytes(), text),
            )
        except CryptoError as exc:
            raise InvalidInput("The message is too long.") from exc
        x3dh = Envelope.parse(envelope).x3dh
        assert x3dh is not None  # noqa: S101 - initiate always makes a prekey envelope
        now = now_ms()
        with self._tx() as conn:
            contact_id = self._contact(
                conn, pub.identity.to_bytes(), pub.profile.display_name, "counselor"
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

    def _contact(self, conn: Any, key: bytes, name: str, role: str) -> int:
        row = conn.execute("SELECT id FROM contacts WHERE identity_key = ?", (key,)).fetchone()
        if row is not None:
            conn.execute("UPDATE contacts SET display_name = ? WHERE id = ?", (name, row[0]))
            return int(row[0])
        cur = conn.execute(
            "INSERT INTO contacts(identity_key, display_name, role, created_at) "
            "VALUES (?, ?, ?, ?)",
            (key, name, role, now_ms()),
        )
        return int(cur.lastrowid)

    def _record_consent(
        self,
        conn: Any,
        contact_id: int,
        kind: str,
        record: ConsentRecord | None,
        signed: bytes,
        countersigned: bytes | None,
        version: int = 0,
        language: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO consent_records(contact_id, kind, disclosure_version, disclosure_hash, "
            "language, signed_record, countersignature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                contact_id,
                kind,
                record.disclosure_version if record else version,
                record.disclosure_hash if record else b"",
                record.language if record else language,
                signed,
                countersigned,
                now_ms(),
            ),
        )

    # ------------------------------------------------------------------ counselor: queues

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

    # ------------------------------------------------------------------ subscriptions

    def subscriptions(self) -> list[tuple[str, bytes, bytes]]:
        """(relay URL, rid, recipient key seed) of every queue we receive on."""
        out: list[tuple[str, bytes, bytes]] = []
        info = self.intake()
        if info is not None and info.pid is not None:
            out.append((info.relay_url, info.rid, info.rkey_seed))
        for url, rid, key in self._store.conn.execute(
            "SELECT relay_url, recv_queue, recv_auth_key FROM conversations "
            "WHERE recv_queue IS NOT NULL AND state IN ('pending', 'active')"
        ).fetchall():
            out.append((str(url), bytes(rid), bytes(key)))
        return out

    def relay_urls(self) -> set[str]:
        """Every relay with a queue to receive on or an envelope to send."""
        urls = {u for u, _, _ in self.subscriptions()}
        for (url,) in self._store.conn.execute("SELECT DISTINCT relay_url FROM outbox"):
            urls.add(str(url))
        return urls

    # ------------------------------------------------------------------ outbox

    def pending(self, relay_url: str, limit: int) -> list[OutItem]:
        """The oldest `limit` envelopes waiting for `relay_url`, in order."""
        rows = self._store.conn.execute(
            "SELECT id, sid, envelope, sender_key FROM outbox WHERE relay_url = ? "
            "ORDER BY id LIMIT ?",
            (relay_url, limit + len(self._sent_marks)),
        ).fetchall()
        return [
            OutItem(int(r[0]), bytes(r[1]), bytes(r[2]), None if r[3] is None else bytes(r[3]))
            for r in rows
            if int(r[0]) not in self._sent_marks
        ][:limit]

    def outbox_size(self) -> int:
        """How many envelopes wait in the outbox (not yet accepted by a relay)."""
        count = int(self._store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
        return count - len(self._sent_marks)

    def sent(self, item_ids: Sequence[int]) -> list[api.Event]:
        """The relay stored these items: report them SENT now, persist the mark lazily.

        The marks are written with the next transaction (a send, a received batch) or by
        `flush_sent` (the service calls it shortly after, and on close). If the process dies
        first, the items are sent again; the receiver drops the duplicates by envelope hash.
        That saves one fsync'd commit per relay round trip while draining a backlog.
        """
        if not item_ids:
            return []
        events: list[api.Event] = []
        conn = self._store.conn
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            sql = "".join(
                (
                    "SELECT conversation_id, message_id FROM outbox WHERE message_id IS NOT NULL ",
                    "AND id IN (",
                    marks,
                    ")",
                )
            )
            events += [
                api.DeliveryChanged(str(c), str(m), api.DeliveryState.SENT)
                for c, m in conn.execute(sql, chunk).fetchall()
            ]
        self._sent_marks.update(int(i) for i in item_ids)
        if len(self._sent_marks) >= _MAX_SENT_MARKS:
            self.flush_sent()
        return events

    @property
    def unflushed_sent(self) -> int:
        """How many SENT marks wait to be written."""
        return len(self._sent_marks)

    def flush_sent(self) -> None:
        """Write the pending SENT marks (one transaction)."""
        if self._sent_marks:
            with self._tx() as conn:
                self._apply_sent(conn)

    def _apply_sent(self, conn: Any) -> None:
        ids = sorted(self._sent_marks)
        if ids:
            self._mark(conn, ids, "sent")
            self._marks_in_tx.update(ids)  # restored by `_Tx` if the transaction fails
            self._sent_marks.clear()

    def refused(self, item_id: int) -> list[api.Event]:
        """The relay refused an item for good: drop it, mark its message FAILED."""
        self._sent_marks.discard(item_id)
        return self._finish([item_id], "failed")

    def _finish(self, item_ids: Sequence[int], state: str) -> list[api.Event]:
        if not item_ids:
            return []
        with self._tx() as conn:
            return self._mark(conn, item_ids, state)

    def _mark(self, conn: Any, item_ids: Sequence[int], state: str) -> list[api.Event]:
        events: list[api.Event] = []
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            # only "?" placeholders are interpolated
            sql = "".join(
                (
                    "UPDATE messages SET delivery_state = ? WHERE delivery_state = 'queued' ",
                    "AND message_id IN (SELECT message_id FROM outbox WHERE id IN (",
                    marks,
                    ") AND message_id IS NOT NULL) RETURNING conversation_id, message_id",
                )
            )
            rows = conn.execute(sql, [state, *chunk]).fetchall()
            events += [
                api.DeliveryChanged(str(c), str(m), api.DeliveryState(state)) for c, m in rows
            ]
            conn.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608
        return events

    # ------------------------------------------------------------------ sending

    def send_many(self, requests: Sequence[SendRequest]) -> list[api.Event]:
        """Encrypt and store several sends in one transaction (group commit).

        A request the consent gate refuses (or whose payload is too large) gets its exception
        in `result` and changes nothing; the others get their message id. If the transaction
        fails, every request gets `StorageError` and nothing is stored.
        """
        try:
            with self._tx() as conn:
                self._apply_sent(conn)
                touched: dict[int, Session] = {}
                convs: dict[int, _Conv] = {}
                msg_rows: list[tuple[Any, ...]] = []
                out_rows: list[tuple[Any, ...]] = []
                now = now_ms()
                for req in requests:
                    try:
                        conv = convs.get(req.conversation_id) or self._get_conv(
                            conn, req.conversation_id
                        )
                        convs[conv.id] = conv
                        self._check_gate(conv, req.gate)
                        session = self._session(conn, conv.id)
                        wire_id = _wire_id()
                        try:
                            envelope = session.encrypt(req.payload, wire_id)
                        except CryptoError as exc:  # validated before the ratchet moves
                            raise InvalidInput("The message is too long.") from exc
                    except (
                        ConsentRequired,
                        ConversationClosed,
                        IdentityKeyChanged,
                        NotFound,
                        InvalidInput,
                    ) as exc:
                        req.result = exc
                        continue
                    touched[conv.id] = session
                    message_id = _local_id()
                    body = json.dumps(req.stored, ensure_ascii=False).encode("utf-8")
                    msg_rows.append((conv.id, message_id, req.kind.value, body, now, now, wire_id))
                    out_rows.append(
                        (
                            conv.id,
                            message_id,
                            conv.relay_url,
                            conv.send_queue,
                            conv.send_key,
                            envelope,
                            now,
                        )
                    )
                    req.result = message_id
                conn.executemany(
                    "INSERT INTO messages(conversation_id, message_id, direction, "
                    "delivery_state, payload_type, body, created_at, sent_at, wire_id) "
                    "VALUES (?, ?, 'out', 'queued', ?, ?, ?, ?, ?)",
                    msg_rows,
                )
                conn.executemany(
                    "INSERT INTO outbox(conversation_id, message_id, relay_url, sid, "
                    "sender_key, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    out_rows,
                )
                for conv_id, session in touched.items():
                    self._save_session(conn, conv_id, session)
        except Exception as exc:
            failure = exc if isinstance(exc, StorageError) else StorageError()
            for req in requests:
                req.result = failure
        return []

    def _check_gate(self, conv: _Conv, gate: bool) -> None:
        if conv.state in ("withdrawn", "closed") or conv.send_queue is None:
            raise ConversationClosed()
        if conv.identity_changed:
            raise IdentityKeyChanged()
        if gate and (conv.consent_version is None or conv.consent_needed is not None):
            raise ConsentRequired()

    def withdraw(self, conversation_id: int) -> list[api.Event]:
        """Withdraw consent: record it, tell the peer, end the conversation."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            if conv.state in ("withdrawn", "closed"):
                raise ConversationClosed()
            if conv.send_queue is not None:
                self._enqueue(conn, conv, Control(ControlAction.WITHDRAW_CONSENT, ""))
            self._end(conn, conv, by_peer=False)
        return [api.ConsentWithdrawn(str(conversation_id), by_peer=False)]

    def _end(self, conn: Any, conv: _Conv, *, by_peer: bool) -> None:
        conn.execute(
            "UPDATE conversations SET state = 'withdrawn', updated_at = ? WHERE id = ?",
            (now_ms(), conv.id),
        )
        self._record_consent(conn, conv.contact_id, "withdrawn", None, b"", None)
        self._store_message(
            conn,
            conv.id,
            not by_peer,
            api.MessageKind.SYSTEM,
            {"text": "consent_withdrawn", "by_peer": by_peer},
            None,
            "received" if by_peer else "sent",
        )

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

    # ------------------------------------------------------------------ receiving

    def receive(self, items: Iterable[tuple[bytes, bytes]]) -> list[api.Event]:
        """Handle one delivered batch of (rid, envelope) in one transaction.

        Envelopes seen before (by SHA-256) are skipped before decryption; envelopes that do
        not decrypt, or carry something out of place, are dropped (and remembered, so they
        are not retried). Raises `StorageError` if the batch could not be committed: then
        nothing of it is stored and the link redelivers it.
        """
        events: list[api.Event] = []
        info = self.intake()
        self._rx_convs.clear()
        self._rx_rids.clear()
        self._rx_unread.clear()
        try:
            with self._tx() as conn:
                self._receive_batch(conn, info, items, events)
        finally:
            self._rx_convs.clear()
            self._rx_rids.clear()
            self._rx_unread.clear()
        return events

    def _receive_batch(
        self,
        conn: Any,
        info: IntakeInfo | None,
        items: Iterable[tuple[bytes, bytes]],
        events: list[api.Event],
    ) -> None:
        self._apply_sent(conn)
        touched: dict[int, Session] = {}
        receipts: dict[int, list[bytes]] = {}
        for rid, body in items:
            digest = hashlib.sha256(body).digest()
            cur = conn.execute(
                "INSERT OR IGNORE INTO processed(digest, at) VALUES (?, ?)",
                (digest, now_ms()),
            )
            if cur.rowcount == 0:
                continue  # a redelivery: already stored
            try:
                self._receive_one(conn, info, rid, body, touched, receipts, events)
            except (CryptoError, ValueError, NotFound, InvalidInput) as exc:
                log.debug("dropped an envelope that did not decrypt: %s", type(exc).__name__)
        for conv_id, count in self._rx_unread.items():
            conn.execute(
                "UPDATE conversations SET unread = unread + ?, updated_at = ? WHERE id = ?",
                (count, now_ms(), conv_id),
            )
        for conv_id, wire_ids in receipts.items():
            conv = self._get_conv(conn, conv_id)
            if conv.send_queue is None or conv.state not in ("pending", "active"):
                continue
            session = self._session(conn, conv_id)
            for start in range(0, len(wire_ids), _RECEIPT_CHUNK):
                chunk = tuple(wire_ids[start : start + _RECEIPT_CHUNK])
                envelope = session.encrypt(Receipt(chunk, ReceiptStatus.DELIVERED))
                conn.execute(
                    "INSERT INTO outbox(conversation_id, message_id, relay_url, sid, "
                    "sender_key, envelope, created_at) VALUES (?, NULL, ?, ?, ?, ?, ?)",
                    (conv.id, conv.relay_url, conv.send_queue, conv.send_key, envelope, now_ms()),
                )
            touched[conv_id] = session
        for conv_id, session in touched.items():
            self._save_session(conn, conv_id, session)

    def _receive_one(
        self,
        conn: Any,
        info: IntakeInfo | None,
        rid: bytes,
        body: bytes,
        touched: dict[int, Session],
        receipts: dict[int, list[bytes]],
        events: list[api.Event],
    ) -> None:
        if rid in self._rx_rids:
            cached = self._rx_rids[rid]
        else:
            row = conn.execute(
                "SELECT id FROM conversations WHERE recv_queue = ? LIMIT 1", (rid,)
            ).fetchone()
            cached = self._rx_rids[rid] = None if row is None else int(row[0])
        if cached is not None:
            conv_id = cached
            session = self._session(conn, conv_id)
            message = session.decrypt(body)
            touched[conv_id] = session
            self._handle(conn, conv_id, message, receipts, events)
            return
        if info is None or rid != info.rid:
            return
        env = Envelope.parse(body)
        if env.kind is not EnvelopeKind.PREKEY or env.x3dh is None:
            return
        row = conn.execute(
            "SELECT id FROM conversations WHERE handshake = ? AND our_role = 'counselor'",
            (env.x3dh.to_bytes(),),
        ).fetchone()
        if row is not None:
            conv_id = int(row[0])
            session = self._session(conn, conv_id)
            message = session.decrypt(body)
            touched[conv_id] = session
            self._handle(conn, conv_id, message, receipts, events)
            return
        self._first_contact(conn, body, touched, events)

    def _first_contact(
        self, conn: Any, body: bytes, touched: dict[int, Session], events: list[api.Event]
    ) -> None:
        row = conn.execute("SELECT prekeys FROM intake WHERE id = 1").fetchone()
        store = PrekeyStore.from_bytes(bytes(row[0]))
        session, message = Session.respond(self._identity, store, body)
        intro = message.payload
        if not isinstance(intro, Introduction):
            return
        record = verify_consent(intro.consent_record, require_countersignature=False)
        if record.client_identity != session.peer_identity:
            return
        if record.counselor_identity != self._identity.public:
            return
        if not self._published_hash(conn, record):
            return
        address = QueueAddress.from_bytes(intro.reply_queue)
        countersigned = countersign_consent(self._identity, intro.consent_record)
        conn.execute("UPDATE intake SET prekeys = ? WHERE id = 1", (store.to_bytes(),))
        peer_key = session.peer_identity.to_bytes()
        contact_id = self._contact_for_client(conn, peer_key)
        now = now_ms()
        relay_url = str(conn.execute("SELECT relay_url FROM intake WHERE id = 1").fetchone()[0])
        cur = conn.execute(
            "INSERT INTO conversations(contact_id, state, relay_url, send_queue, send_key, "
            "created_at, updated_at, our_role, handshake, session, consent_version, "
            "consent_language, answered) "
            "VALUES (?, 'active', ?, ?, ?, ?, ?, 'counselor', ?, ?, ?, ?, 0)",
            (
                contact_id,
                relay_url,
                address.sid,
                address.sender_seed,
                now,
                now,
                session.handshake.to_bytes(),
                session.to_bytes(),
                record.disclosure_version,
                record.language,
            ),
        )
        conv_id = int(cur.lastrowid)
        self._sessions[conv_id] = session
        touched[conv_id] = session
        self._record_consent(conn, contact_id, "given", record, intro.consent_record, countersigned)
        events.append(api.ConversationStarted(str(conv_id)))
        if intro.text:
            message_id = self._store_message(
                conn,
                conv_id,
                False,
                api.MessageKind.TEXT,
                {"text": intro.text},
                message.message_id,
                "received",
            )
            conn.execute("UPDATE conversations SET unread = unread + 1 WHERE id = ?", (conv_id,))
            events.append(api.MessageReceived(str(conv_id), message_id))

    def _contact_for_client(self, conn: Any, key: bytes) -> int:
        row = conn.execute("SELECT id FROM contacts WHERE identity_key = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        count = int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])
        return self._contact(conn, key, f"Client {count + 1}", "client")

    def _published_hash(self, conn: Any, record: ConsentRecord) -> bool:
        try:
            disclosure = DisclosureBook(self._store).get(record.disclosure_version)
        except NotFound:
            return False
        text = disclosure.texts.get(record.language)
        if text is None:
            return False
        expected = Disclosure(record.language, disclosure.version, text).digest()
        return expected == record.disclosure_hash

    def _handle(
        self,
        conn: Any,
        conv_id: int,
        message: DecryptedMessage,
        receipts: dict[int, list[bytes]],
        events: list[api.Event],
    ) -> None:
        conv = self._rx_convs.get(conv_id) or self._get_conv(conn, conv_id)
        self._rx_convs[conv_id] = conv
        payload = message.payload
        if conv.state in ("withdrawn", "closed"):
            return
        stored: dict[str, Any] | None = None
        kind = api.MessageKind.TEXT
        if isinstance(payload, Text):
            stored = {"text": payload.body}
        elif isinstance(payload, SessionSummary):
            kind = api.MessageKind.SUMMARY
            stored = {"key_points": list(payload.key_points), "tasks": list(payload.tasks)}
        elif isinstance(payload, Control):
            if payload.action is ControlAction.REFERRAL:
                kind = api.MessageKind.REFERRAL
                stored = {"text": payload.text}
            elif payload.action is ControlAction.WITHDRAW_CONSENT:
                self._rx_convs.pop(conv_id, None)
                self._end(conn, conv, by_peer=True)
                events.append(api.ConsentWithdrawn(str(conv_id), by_peer=True))
                return
            else:
                self._rx_convs.pop(conv_id, None)
                conn.execute("UPDATE conversations SET state = 'closed' WHERE id = ?", (conv_id,))
                return
        elif isinstance(payload, Receipt):
            for wire_id in payload.message_ids:
                row = conn.execute(
                    "SELECT message_id FROM messages WHERE conversation_id = ? AND wire_id = ? "
                    "AND direction = 'out' AND delivery_state IN ('queued', 'sent')",
                    (conv_id, wire_id),
                ).fetchone()
                if row is not None:
                    conn.execute(
                        "UPDATE messages SET delivery_state = 'delivered' WHERE message_id = ?",
                        (row[0],),
                    )
                    events.append(
                        api.DeliveryChanged(str(conv_id), str(row[0]), api.DeliveryState.DELIVERED)
                    )
            return
        elif isinstance(payload, Introduction):
            self._rx_convs.pop(conv_id, None)
            self._answer_received(conn, conv, payload, events)
            return
        elif isinstance(payload, ConsentPayload):
            self._rx_convs.pop(conv_id, None)
            self._consent_payload(conn, conv, payload, events)
            return
        message_id = self._store_message(
            conn, conv_id, False, kind, stored, message.message_id, "received"
        )
        self._rx_unread[conv_id] = self._rx_unread.get(conv_id, 0) + 1
        receipts.setdefault(conv_id, []).append(message.message_id)
        events.append(api.MessageReceived(str(conv_id), message_id))

    def _answer_received(
        self, conn: Any, conv: _Conv, intro: Introduction, events: list[api.Event]
    ) -> None:
        """Client: the counselor's answer (counter-signed consent, its queue address)."""
        if conv.our_role != "client" or conv.state != "pending":
            return
        record = verify_consent(intro.consent_record)
        if record.client_identity != self._identity.public:
            return
        if record.counselor_identity.to_bytes() != conv.peer:
            return
        address = QueueAddress.from_bytes(intro.reply_queue)
        conn.execute(
            "UPDATE consent_records SET countersignature = ? WHERE id = (SELECT id FROM "
            "consent_records WHERE contact_id = ? AND kind = 'given' ORDER BY id DESC LIMIT 1)",
            (intro.consent_record, conv.contact_id),
        )
        conn.execute(
            "UPDATE conversations SET send_queue = ?, send_key = ?, state = 'active' WHERE id = ?",
            (address.sid, address.sender_seed, conv.id),
        )
        rows = conn.execute(
            "SELECT message_id FROM messages WHERE conversation_id = ? AND direction = 'out' "
            "AND wire_id IS NULL AND delivery_state IN ('queued', 'sent')",
            (conv.id,),
        ).fetchall()
        for (message_id,) in rows:
            conn.execute(
                "UPDATE messages SET delivery_state = 'delivered' WHERE message_id = ?",
                (message_id,),
            )
            events.append(
                api.DeliveryChanged(str(conv.id), str(message_id), api.DeliveryState.DELIVERED)
            )

    def _consent_payload(
        self, conn: Any, conv: _Conv, payload: ConsentPayload, events: list[api.Event]
    ) -> None:
        version = _parse_consent_request(payload.record)
        if version is not None:
            if conv.our_role == "client" and (conv.consent_version or 0) < version:
                conn.execute(
                    "UPDATE conversations SET consent_needed = ? WHERE id = ?", (version, conv.id)
                )
                events.append(api.ConsentRequired(str(conv.id), version))
            return
        if conv.our_role == "counselor":
            record = verify_consent(payload.record, require_countersignature=False)
            if record.client_identity.to_bytes() != conv.peer:
                return
            if not self._published_hash(conn, record):
                return
            countersigned = countersign_consent(self._identity, payload.record)
            self._record_consent(
                conn, conv.contact_id, "given", record, payload.record, countersigned
            )
            conn.execute(
                "UPDATE conversations SET consent_version = ?, consent_language = ? WHERE id = ?",
                (record.disclosure_version, record.language, conv.id),
            )
            self._enqueue(conn, conv, ConsentPayload(countersigned))
        else:
            record = verify_consent(payload.record)
            if record.client_identity != self._identity.public:
                return
            conn.execute(
                "UPDATE consent_records SET countersignature = ? WHERE id = (SELECT id FROM "
                "consent_records WHERE contact_id = ? AND kind = 'given' "
                "AND disclosure_version = ? ORDER BY id DESC LIMIT 1)",
                (payload.record, conv.contact_id, record.disclosure_version),
            )

    def prune_processed(self) -> None:
        """Forget de-duplication marks older than any envelope the relay could still hold."""
        with self._tx() as conn:
            conn.execute("DELETE FROM processed WHERE at < ?", (now_ms() - _PROCESSED_KEEP_MS,))

    # ------------------------------------------------------------------ views

    def conversations(self) -> list[api.ConversationView]:
        """Every conversation, most recent first."""
        self.flush_sent()
        rows = self._store.conn.execute(
            "SELECT c.id, k.display_name, c.our_role, c.consent_version, c.consent_language, "
            "c.state, c.unread, c.updated_at, k.verified_at, k.identity_changed, c.consent_needed "
            "FROM conversations c JOIN contacts k ON k.id = c.contact_id "
            "ORDER BY c.updated_at DESC, c.id DESC"
        ).fetchall()
        return [
            api.ConversationView(
                conversation_id=str(r[0]),
                peer_name=str(r[1]),
                role=api.Role(str(r[2])),
                consent_version=None if r[3] is None or r[10] is not None else int(r[3]),
                consent_language=None if r[4] is None else str(r[4]),
                active=str(r[5]) in ("pending", "active"),
                unread=int(r[6]),
                last_activity=int(r[7]) / 1000.0,
                verified=r[8] is not None,
                blocked_by_key_change=bool(r[9]),
            )
            for r in rows
        ]

    def message_count(self, conversation_id: int) -> int:
        """How many messages the conversation holds."""
        self._get_conv(self._store.conn, conversation_id)
        row = self._store.conn.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return int(row[0])

    def history(self, conversation_id: int, offset: int, limit: int) -> list[api.MessageView]:
        """A page of messages, oldest first; reading clears the unread count."""
        self.flush_sent()
        conn = self._store.conn
        self._get_conv(conn, conversation_id)
        rows = conn.execute(
            "SELECT message_id, direction, payload_type, body, created_at, delivery_state, "
            "tasks_done FROM messages WHERE conversation_id = ? ORDER BY id LIMIT ? OFFSET ?",
            (conversation_id, max(0, int(limit)), max(0, int(offset))),
        ).fetchall()
        if offset == 0:
            with self._tx() as tx:
                tx.execute("UPDATE conversations SET unread = 0 WHERE id = ?", (conversation_id,))
        return [_message_view(str(conversation_id), r) for r in rows]

    def set_task_done(self, message_id: str, index: int, done: bool) -> None:
        """Tick (or untick) task `index` of a received session summary."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT body, tasks_done FROM messages WHERE message_id = ? "
                "AND payload_type = 'summary'",
                (message_id,),
            ).fetchone()
            if row is None:
                raise NotFound("There is no such session summary.")
            tasks = json.loads(bytes(row[0]).decode("utf-8")).get("tasks", [])
            if not 0 <= index < len(tasks):
                raise InvalidInput("There is no task with this number.")
            ticks = list(str(row[1]).ljust(len(tasks), "0"))
            ticks[index] = "1" if done else "0"
            conn.execute(
                "UPDATE messages SET tasks_done = ? WHERE message_id = ?",
                ("".join(ticks), message_id),
            )

    def safety_number(self, conversation_id: int) -> api.SafetyNumberView:
        """The safety number with the conversation's peer."""
        conn = self._store.conn
        conv = self._get_conv(conn, conversation_id)
        peer = IdentityPublicKey(conv.peer)
        verified = conn.execute(
            "SELECT verified_at FROM contacts WHERE id = ?", (conv.contact_id,)
        ).fetchone()[0]
        return api.SafetyNumberView(
            digits=safety.safety_number(self._identity.public, peer),
            qr_payload=safety.qr_payload(self._identity.public, peer),
            verified=verified is not None,
        )

    def mark_verified(self, conversation_id: int) -> None:
        """Mark the peer's safety number as compared."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            conn.execute(
                "UPDATE contacts SET verified_at = ? WHERE id = ?", (now_ms(), conv.contact_id)
            )

    def confirm_key_change(self, conversation_id: int) -> None:
        """Accept a changed identity key: sending is allowed again (unverified)."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            conn.execute(
                "UPDATE contacts SET identity_changed = 0, verified_at = NULL WHERE id = ?",
                (conv.contact_id,),
            )
            self._store_message(
                conn,
                conv.id,
                False,
                api.MessageKind.SYSTEM,
                {"text": "key_change_confirmed"},
                None,
                "received",
            )

    def peer_of(self, conversation_id: int) -> bytes:
        """The peer's identity key (public)."""
        return self._get_conv(self._store.conn, conversation_id).peer


def _message_view(conversation_id: str, r: Any) -> api.MessageView:
    try:
        stored: dict[str, Any] = json.loads(bytes(r[3]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        stored = {}
    kind = api.MessageKind(str(r[2]))
    summary = None
    tasks_done: tuple[bool, ...] = ()
    text = str(stored.get("text", ""))
    if kind is api.MessageKind.SUMMARY:
        tasks = tuple(str(t) for t in stored.get("tasks", []))
        summary = api.SessionSummary(tuple(str(p) for p in stored.get("key_points", [])), tasks)
        ticks = str(r[6]).ljust(len(tasks), "0")
        tasks_done = tuple(c == "1" for c in ticks[: len(tasks)])
    state = str(r[5])
    return api.MessageView(
        message_id=str(r[0]),
        conversation_id=conversation_id,
        outgoing=str(r[1]) == "out",
        kind=kind,
        text=text,
        sent_at=int(r[4]) / 1000.0,
        state=api.DeliveryState.DELIVERED if state == "received" else api.DeliveryState(state),
        summary=summary,
        tasks_done=tasks_done,
    )


class _Tx:
    """A store transaction that drops the session cache when it rolls back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cm: Any = None

    def __enter__(self) -> Any:
        self._cm = self._engine._store.transaction()
        return self._cm.__enter__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        engine = self._engine
        try:
            result = bool(self._cm.__exit__(exc_type, exc, tb))
        except BaseException:
            engine._sessions.clear()
            engine._sent_marks |= engine._marks_in_tx
            engine._marks_in_tx.clear()
            raise
        if exc_type is not None:
            engine._sessions.clear()
            engine._sent_marks |= engine._marks_in_tx
        engine._marks_in_tx.clear()
        return result
