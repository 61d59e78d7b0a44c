"""`Engine`: first contact and receiving (from their modules), plus sending, withdrawal,
subscriptions and the views the service returns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from crypto import safety
from crypto.envelope import (
    Control,
    ControlAction,
)
from crypto.errors import CryptoError
from crypto.keys import IdentityPublicKey
from crypto.session import Session
from securechat import api
from securechat.conversations.base import (
    SendRequest,
    _Conv,
    _local_id,
    _message_view,
    _wire_id,
    same_name_key,
)
from securechat.conversations.first_contact import FirstContact
from securechat.conversations.receiving import Receiving
from securechat.errors import (
    ConsentRequired,
    ConversationClosed,
    IdentityKeyChanged,
    InvalidInput,
    NotFound,
    StorageError,
)
from securechat.store import now_ms

__all__ = ["Engine"]


class Engine(FirstContact, Receiving):
    """Conversations of one unlocked profile. Not thread-safe: one loop owns it."""

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

    def conversations(self) -> list[api.ConversationView]:
        """Every conversation, most recent first. Each counts the other peers in the list whose
        name is the same (`same_name_key`): another person, or the same person under a new
        key, which only the safety number tells apart. Conversations with one peer (a new one
        after a withdrawal) do not count."""
        self.flush_sent()
        rows = self._store.conn.execute(
            "SELECT c.id, k.display_name, c.our_role, c.consent_version, c.consent_language, "
            "c.state, c.unread, c.updated_at, k.verified_at, k.identity_changed, c.consent_needed, "
            "c.contact_id "
            "FROM conversations c JOIN contacts k ON k.id = c.contact_id "
            "ORDER BY c.updated_at DESC, c.id DESC"
        ).fetchall()
        peers_by_name: dict[str, set[int]] = {}
        for r in rows:
            peers_by_name.setdefault(same_name_key(str(r[1])), set()).add(int(r[11]))
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
                same_name_peers=len(peers_by_name[same_name_key(str(r[1]))]) - 1,
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
        """A page of messages, oldest first (offset 0 = the oldest); reading the page that
        holds the newest message clears the unread count.

        A page in the newer half is read backwards from the newest message, so opening a long
        conversation at its end does not walk past every older message (SQL's OFFSET is linear).
        """
        self.flush_sent()
        conn = self._store.conn
        self._get_conv(conn, conversation_id)
        offset, limit = max(0, int(offset)), max(0, int(limit))
        total = self.message_count(conversation_id)
        columns = (
            "SELECT message_id, direction, payload_type, body, created_at, delivery_state, "
            "tasks_done FROM messages WHERE conversation_id = ? "
        )
        if 2 * offset > total:
            rows = conn.execute(
                columns + "ORDER BY id DESC LIMIT ? OFFSET ?",
                (
                    conversation_id,
                    max(0, min(limit, total - offset)),
                    max(0, total - offset - limit),
                ),
            ).fetchall()
            rows.reverse()
        else:
            rows = conn.execute(
                columns + "ORDER BY id LIMIT ? OFFSET ?", (conversation_id, limit, offset)
            ).fetchall()
        if offset + limit >= total:
            with self._tx() as tx:
                tx.execute("UPDATE conversations SET unread = 0 WHERE id = ?", (conversation_id,))
        return [_message_view(str(conversation_id), r) for r in rows]

    def set_task_done(self, message_id: str, index: int, done: bool) -> None:
        """Tick (or untick) task `index` of a received session summary."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT body, tasks_done FROM messages WHERE message_id = ? "
                "AND payload_type = 'summary' AND direction = 'in'",  # the client's to tick
                (message_id,),
            ).fetchone()
            if row is None:
                raise NotFound("There is no such session summary.")
            tasks = json.loads(bytes(row[0]).decode("utf-8")).get("tasks", [])
            if type(index) is not int or not 0 <= index < len(tasks):
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
        """Accept a changed identity key: sending is allowed again (unverified). Without a
        pending key change it does nothing: a stray click must not undo a verification."""
        with self._tx() as conn:
            conv = self._get_conv(conn, conversation_id)
            if not conv.identity_changed:
                return
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
