"""Receiving: one delivered batch per transaction, de-duplicated before decryption, routed to
its conversation (or, on the intake queue, to a new one), then receipts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from crypto.documents import (
    ConsentRecord,
    Disclosure,
    countersign_consent,
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
    Receipt,
    ReceiptStatus,
    SessionSummary,
    Text,
)
from crypto.errors import CryptoError
from crypto.session import Session
from crypto.x3dh import PrekeyStore
from securechat import api
from securechat.conversations.base import (
    _PROCESSED_KEEP_MS,
    _RECEIPT_CHUNK,
    LANGUAGE_SETTING,
    EngineBase,
    IntakeInfo,
    _Conv,
    _parse_consent_request,
    clean_peer_name,
    client_fallback_name,
    log,
)
from securechat.disclosure import DisclosureBook
from securechat.errors import (
    InvalidInput,
    NotFound,
)
from securechat.listing import QueueAddress
from securechat.store import now_ms

__all__ = ["Receiving"]


class Receiving(EngineBase):
    """`receive` and the handlers of each payload kind."""

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
        contact_id = self._contact_for_client(conn, peer_key, intro.name)
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

    def _never_read(self, conn: Any, conv_id: int) -> list[api.Event]:
        """The peer withdrew: what we wrote that it had not confirmed (no receipt) will never
        be read. It is marked FAILED ("not delivered"), and what still waits in the outbox is
        not sent. (Receipts go out before a withdrawal on the same queue, so a message the
        peer did read is DELIVERED by now.)"""
        conn.execute(
            "DELETE FROM outbox WHERE conversation_id = ? AND message_id IS NOT NULL", (conv_id,)
        )
        rows = conn.execute(
            "UPDATE messages SET delivery_state = 'failed' WHERE conversation_id = ? "
            "AND direction = 'out' AND delivery_state IN ('queued', 'sent') "
            "RETURNING message_id",
            (conv_id,),
        ).fetchall()
        return [
            api.DeliveryChanged(str(conv_id), str(r[0]), api.DeliveryState.FAILED) for r in rows
        ]

    def _contact_for_client(self, conn: Any, key: bytes, untrusted_name: str = "") -> int:
        """The contact of a client key: known, or new under the name the client chose
        (`clean_peer_name`: one line, no control characters, at most 200 characters; shown as
        plain text), else "Klien N" / "Client N" in the profile's language."""
        row = conn.execute("SELECT id FROM contacts WHERE identity_key = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        name = clean_peer_name(untrusted_name)
        if not name:
            count = int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])
            row = conn.execute(
                "SELECT value FROM settings WHERE key = ?", (LANGUAGE_SETTING,)
            ).fetchone()
            name = client_fallback_name(count + 1, "id" if row is None else str(row[0]))
        return self._contact(conn, key, name, "client")

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
            if conv.our_role == "counselor":  # summaries come from the counselor only
                return
            kind = api.MessageKind.SUMMARY
            stored = {"key_points": list(payload.key_points), "tasks": list(payload.tasks)}
        elif isinstance(payload, Control):
            if payload.action is ControlAction.REFERRAL:
                if conv.our_role == "counselor":  # crisis numbers come from the counselor only
                    return
                kind = api.MessageKind.REFERRAL
                stored = {"text": payload.text}
            elif payload.action is ControlAction.WITHDRAW_CONSENT:
                self._rx_convs.pop(conv_id, None)
                self._end(conn, conv, by_peer=True)
                events.append(api.ConsentWithdrawn(str(conv_id), by_peer=True))
                events += self._never_read(conn, conv_id)
                return
            else:
                # CLOSE_SESSION: no build sends it (a session closes with a summary, and the
                # conversation goes on). Acting on it would let a modified peer app end the
                # conversation silently, with no event and nothing on record: dropped.
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
        if record.counselor_identity.to_bytes() != conv.peer:
            return
        row_id = self._own_consent_row(conn, conv.contact_id, record, latest_only=True)
        if row_id is None:  # not the record we signed for this conversation
            return
        address = QueueAddress.from_bytes(intro.reply_queue)
        conn.execute(
            "UPDATE consent_records SET countersignature = ? WHERE id = ?",
            (intro.consent_record, row_id),
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
            if record.disclosure_version < (conv.consent_version or 0):
                return  # a replayed (or stale) consent to an older version: keep the newer
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
            if record.counselor_identity.to_bytes() != conv.peer:
                return
            row_id = self._own_consent_row(conn, conv.contact_id, record, latest_only=False)
            if row_id is None:  # not a record we signed
                return
            conn.execute(
                "UPDATE consent_records SET countersignature = ? WHERE id = ?",
                (payload.record, row_id),
            )

    def _own_consent_row(
        self, conn: Any, contact_id: int, record: ConsentRecord, *, latest_only: bool
    ) -> int | None:
        """Client: the id of the consent we gave (the latest one, with `latest_only`) whose
        signed record is exactly `record`, so a counter-signature is stored only beside the
        record it counter-signs; None if there is no such record."""
        rows = conn.execute(
            "SELECT id, disclosure_version, signed_record FROM consent_records "
            "WHERE contact_id = ? AND kind = 'given' ORDER BY id DESC",
            (contact_id,),
        ).fetchall()
        for row_id, version, signed in rows[:1] if latest_only else rows:
            if int(version) == record.disclosure_version and (
                verify_consent(bytes(signed), require_countersignature=False) == record
            ):
                return int(row_id)
        return None

    def prune_processed(self) -> None:
        """Forget de-duplication marks older than any envelope the relay could still hold."""
        with self._tx() as conn:
            conn.execute("DELETE FROM processed WHERE at < ?", (now_ms() - _PROCESSED_KEEP_MS,))
