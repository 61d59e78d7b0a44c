"""Shared parts of the conversation engine: values, row helpers and `EngineBase`.

`EngineBase` holds the store, the identity and the session cache, and the helpers every part
of the engine uses: conversation rows, sessions, message rows, the outbox and its SENT marks,
consent records and the end of a conversation. See `securechat.conversations` for the whole.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

from crypto.documents import ConsentRecord
from crypto.envelope import Payload
from crypto.errors import CryptoError
from crypto.keys import IdentityKeyPair, IdentityPublicKey
from crypto.session import Session
from securechat import api
from securechat.errors import (
    ConsentRequired,
    ConversationClosed,
    IdentityKeyChanged,
    NotFound,
    StorageError,
)
from securechat.store import Store, now_ms

__all__ = [
    "LANGUAGE_SETTING",
    "EngineBase",
    "IntakeInfo",
    "OutItem",
    "SendRequest",
    "clean_peer_name",
    "client_fallback_name",
    "referral_text",
    "same_name_key",
]

log = logging.getLogger(__name__)

_RECEIPT_CHUNK = 100
_MAX_SENT_MARKS = 2048
_PROCESSED_KEEP_MS = 60 * 86_400_000  # longer than the relay's message lifetime


LANGUAGE_SETTING = "ui.language"  # the profile's language ("id" when unset), a settings key


_ZWJ = "\u200d"  # joins emoji sequences (👩‍💻): the one format character a name keeps
_MAX_NAME_CHARS = 200


def clean_peer_name(untrusted_name: str) -> str:
    """A name a peer chose, fit to store and show: one line (each run of whitespace, newlines
    and tabs included, becomes one space), without control or format characters (Unicode Cc
    and Cf: ESC, BEL, CR, bidi overrides, zero-width spaces; ZWJ stays), at most 200
    characters. Letters, marks and symbols of every script are kept."""
    kept = "".join(
        ch
        for ch in untrusted_name
        if ch == _ZWJ or ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return " ".join(kept.split())[:_MAX_NAME_CHARS]


def same_name_key(name: str) -> str:
    """The form in which two peer names count as the same name: NFKC (full-width and other
    compatibility letters become plain ones), case folded, without whitespace, control or
    format characters. "Ayu", "ayu ", "A yu" and "Ayu" in full-width letters share one key.
    Names are chosen by people themselves, so a shared key says only that two peers look alike
    in a list. It does not map letters of one script to look-alikes of another: a Cyrillic "a"
    stays apart from a Latin one."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(
        ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")
    )


def client_fallback_name(number: int, language: str) -> str:
    """What a counselor sees for a client who chose no name: "Klien 3" or "Client 3"."""
    return f"{'Client' if language == 'en' else 'Klien'} {number}"


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


class EngineBase:
    """State and helpers shared by the parts of `Engine`. Not thread-safe: one loop owns it."""

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

    def _check_gate(self, conv: _Conv, gate: bool) -> None:
        if conv.state in ("withdrawn", "closed") or conv.send_queue is None:
            raise ConversationClosed()
        if conv.identity_changed:
            raise IdentityKeyChanged()
        if gate and (conv.consent_version is None or conv.consent_needed is not None):
            raise ConsentRequired()

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

    def pending(self, relay_url: str, limit: int) -> list[OutItem]:
        """The oldest `limit` envelopes waiting for `relay_url`, in order."""
        conn = self._store.conn
        if not self._sent_marks:
            rows = conn.execute(
                "SELECT id, sid, envelope, sender_key FROM outbox WHERE relay_url = ? "
                "ORDER BY id LIMIT ?",
                (relay_url, limit),
            ).fetchall()
        else:
            # Skip items already accepted but not yet marked: ids first (index only), then rows.
            ids = [
                int(r[0])
                for r in conn.execute(
                    "SELECT id FROM outbox WHERE relay_url = ? ORDER BY id LIMIT ?",
                    (relay_url, limit + len(self._sent_marks)),
                )
                if int(r[0]) not in self._sent_marks
            ][:limit]
            if not ids:
                return []
            rows = conn.execute(
                "SELECT id, sid, envelope, sender_key FROM outbox WHERE id BETWEEN ? AND ? "
                "AND relay_url = ? ORDER BY id",
                (ids[0], ids[-1], relay_url),
            ).fetchall()
            wanted = set(ids)
            rows = [r for r in rows if int(r[0]) in wanted]
        return [
            OutItem(int(r[0]), bytes(r[1]), bytes(r[2]), None if r[3] is None else bytes(r[3]))
            for r in rows
        ]

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

    def __init__(self, engine: EngineBase) -> None:
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
