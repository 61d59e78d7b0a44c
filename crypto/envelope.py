"""Envelopes: the bytes that travel through the relay, and the typed payloads inside them.

Outer layout (all integers big-endian; every field fixed-size except the trailing ciphertext):

    version      1 byte    0x01 (a later PQXDH envelope gets a new version)
    kind         1 byte    0x01 prekey message, 0x02 normal message
    x3dh header  72 bytes  prekey messages only: initiator identity (32), ephemeral key (32),
                           signed prekey id (u32), one-time prekey id (u32, 0 = none)
    ratchet_pub  32 bytes  sender's current ratchet public key
    pn           u32       length of the sender's previous sending chain
    n            u32       index of this message in the sending chain
    ciphertext   rest      nonce (24) || XChaCha20-Poly1305-IETF(padded plaintext) incl. tag (16)

The padded plaintext is `sodium_pad(inner, 256)`, so the relay sees lengths only in 256-byte
buckets, and is at most 64 KiB. Inner plaintext, msgpack:

    [1, message_id (16 random bytes), payload kind (int), field, ...]

Invariants:
- `parse` refuses (with `MalformedEnvelope`) unknown versions and kinds, wrong lengths, ciphertext
  not in whole padding buckets, and anything over `MAX_ENVELOPE_SIZE`; keys that are malformed or
  of low order raise `InvalidKey`.
- `decode_plaintext` refuses any payload that is not exactly one of the payload types below with
  fields of the right type and within the limits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.utils

from crypto._codec import pack, unpack
from crypto.errors import MalformedEnvelope
from crypto.keys import KEY_SIZE, X25519PublicKey
from crypto.x3dh import X3DHHeader

__all__ = [
    "BLOCK_SIZE",
    "MAX_ENVELOPE_SIZE",
    "MAX_NAME_BYTES",
    "MAX_PADDED_SIZE",
    "MAX_TEXT_BYTES",
    "VERSION",
    "ConsentPayload",
    "Control",
    "ControlAction",
    "DecryptedMessage",
    "Envelope",
    "EnvelopeKind",
    "Introduction",
    "Payload",
    "RatchetHeader",
    "Receipt",
    "ReceiptStatus",
    "SessionSummary",
    "Text",
    "decode_plaintext",
    "encode_plaintext",
    "new_message_id",
    "prefix_for",
]

VERSION = 1
BLOCK_SIZE = 256
MAX_PADDED_SIZE = 64 * 1024
NONCE_SIZE = 24
TAG_SIZE = 16
MESSAGE_ID_SIZE = 16
MAX_TEXT_BYTES = 32 * 1024
MAX_NAME_BYTES = 800  # a display name: 200 characters of up to 4 bytes
MAX_ITEMS = 100
MAX_BLOB = 16 * 1024
RATCHET_HEADER_SIZE = KEY_SIZE + 8
MAX_ENVELOPE_SIZE = (
    2 + X3DHHeader.SIZE + RATCHET_HEADER_SIZE + NONCE_SIZE + MAX_PADDED_SIZE + TAG_SIZE
)
_INNER_VERSION = 1


class EnvelopeKind(IntEnum):
    """Outer envelope kinds."""

    PREKEY = 1
    MESSAGE = 2


_KINDS = {int(kind): kind for kind in EnvelopeKind}


@dataclass(frozen=True)
class RatchetHeader:
    """The Double Ratchet header (not secret, authenticated as associated data)."""

    ratchet_pub: X25519PublicKey
    previous_chain_length: int
    index: int

    def to_bytes(self) -> bytes:
        """ratchet_pub (32) || pn (u32) || n (u32)."""
        return self.ratchet_pub.to_bytes() + struct.pack(
            ">II", self.previous_chain_length, self.index
        )


@dataclass(frozen=True)
class Envelope:
    """A parsed outer envelope."""

    kind: EnvelopeKind
    x3dh: X3DHHeader | None
    header: RatchetHeader
    ciphertext: bytes

    def prefix(self) -> bytes:
        """version || kind || x3dh header: authenticated as part of the associated data."""
        return prefix_for(self.kind, self.x3dh)

    def to_bytes(self) -> bytes:
        """The wire form (see the module docstring)."""
        return self.prefix() + self.header.to_bytes() + self.ciphertext

    @classmethod
    def parse(cls, untrusted: bytes) -> Envelope:
        """Parse the wire form.

        Raises:
            MalformedEnvelope: unknown version or kind, wrong size, or bad ciphertext length.
            InvalidKey: a key is malformed or of low order.
        """
        if not isinstance(untrusted, bytes) or not 2 <= len(untrusted) <= MAX_ENVELOPE_SIZE:
            raise MalformedEnvelope("envelope has an invalid size")
        if untrusted[0] != VERSION:
            raise MalformedEnvelope("unknown envelope version")
        kind = _KINDS.get(untrusted[1])
        if kind is None:
            raise MalformedEnvelope("unknown envelope kind")
        offset = 2
        x3dh = None
        if kind is EnvelopeKind.PREKEY:
            x3dh = X3DHHeader.from_bytes(untrusted[offset : offset + X3DHHeader.SIZE])
            offset += X3DHHeader.SIZE
        raw_header = untrusted[offset : offset + RATCHET_HEADER_SIZE]
        if len(raw_header) != RATCHET_HEADER_SIZE:
            raise MalformedEnvelope("envelope is truncated")
        pn, n = struct.unpack(">II", raw_header[KEY_SIZE:])
        header = RatchetHeader(X25519PublicKey(raw_header[:KEY_SIZE]), pn, n)
        ciphertext = untrusted[offset + RATCHET_HEADER_SIZE :]
        body = len(ciphertext) - NONCE_SIZE - TAG_SIZE
        if body < BLOCK_SIZE or body % BLOCK_SIZE != 0:
            raise MalformedEnvelope("ciphertext is not a whole number of padding blocks")
        return cls(kind, x3dh, header, ciphertext)


def prefix_for(kind: EnvelopeKind, x3dh: X3DHHeader | None) -> bytes:
    """The envelope prefix (version || kind || X3DH header), authenticated with every message."""
    out = bytes((VERSION, kind))
    if x3dh is not None:
        out += x3dh.to_bytes()
    return out


# ---------------------------------------------------------------------------------- payloads


class _Redacted:
    """Payloads hold plaintext: their repr names the type only."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"

    __str__ = __repr__


class ReceiptStatus(IntEnum):
    """What a receipt acknowledges."""

    DELIVERED = 1
    READ = 2


class ControlAction(IntEnum):
    """Control messages."""

    WITHDRAW_CONSENT = 1
    REFERRAL = 2
    CLOSE_SESSION = 3


@dataclass(frozen=True, repr=False)
class Text(_Redacted):
    """A chat message. Render as plain text only."""

    body: str


@dataclass(frozen=True, repr=False)
class SessionSummary(_Redacted):
    """A counselor's closing summary: key points and tasks to practise."""

    key_points: tuple[str, ...]
    tasks: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class ConsentPayload(_Redacted):
    """A signed consent record (`crypto.documents` stored form)."""

    record: bytes


@dataclass(frozen=True, repr=False)
class Receipt(_Redacted):
    """Acknowledges messages by their ids."""

    message_ids: tuple[bytes, ...]
    status: ReceiptStatus


@dataclass(frozen=True, repr=False)
class Control(_Redacted):
    """A control message: withdraw consent, a referral (with its text), close the session."""

    action: ControlAction
    text: str = ""


@dataclass(frozen=True, repr=False)
class Introduction(_Redacted):
    """The client's first message: signed consent record, reply queue, first words, and the
    name the client chose to show (empty in the counselor's answer, or if none was given)."""

    consent_record: bytes
    reply_queue: bytes
    text: str
    name: str = ""


Payload = Text | SessionSummary | ConsentPayload | Receipt | Control | Introduction


@dataclass(frozen=True)
class DecryptedMessage:
    """A decrypted message: its random id (for de-duplication) and its typed payload."""

    message_id: bytes
    payload: Payload

    def __repr__(self) -> str:
        return f"DecryptedMessage({type(self.payload).__name__}, <redacted>)"


def new_message_id() -> bytes:
    """16 random bytes."""
    return nacl.utils.random(MESSAGE_ID_SIZE)


def _fields(payload: Payload) -> tuple[int, list[Any]]:
    if isinstance(payload, Text):
        return 1, [payload.body]
    if isinstance(payload, SessionSummary):
        return 2, [list(payload.key_points), list(payload.tasks)]
    if isinstance(payload, ConsentPayload):
        return 3, [payload.record]
    if isinstance(payload, Receipt):
        return 4, [list(payload.message_ids), int(payload.status)]
    if isinstance(payload, Control):
        return 5, [int(payload.action), payload.text]
    fields = [payload.consent_record, payload.reply_queue, payload.text]
    return 6, [*fields, payload.name] if payload.name else fields


def encode_plaintext(message_id: bytes, payload: Payload) -> bytes:
    """Encode, validate and pad a payload.

    Raises:
        MalformedEnvelope: the payload breaks a limit or has a field of the wrong type.
    """
    _validate(message_id, payload)
    kind, fields = _fields(payload)
    inner = pack([_INNER_VERSION, message_id, kind, *fields])
    padded: bytes = nacl.bindings.sodium_pad(inner, BLOCK_SIZE)
    if len(padded) > MAX_PADDED_SIZE:
        raise MalformedEnvelope("message is too large")
    return padded


def decode_plaintext(untrusted_padded: bytes) -> DecryptedMessage:
    """Unpad and decode a decrypted plaintext.

    Raises:
        MalformedEnvelope: bad padding, or not exactly one valid payload.
    """
    try:
        inner = nacl.bindings.sodium_unpad(untrusted_padded, BLOCK_SIZE)
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise MalformedEnvelope("bad padding") from exc
    return _decode(inner)


def _text(value: Any, limit: int = MAX_TEXT_BYTES) -> str:
    if not isinstance(value, str):
        raise MalformedEnvelope("text field invalid or too long")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: msgpack could not encode it either
        raise MalformedEnvelope("text field is not valid Unicode") from exc
    if size > limit:
        raise MalformedEnvelope("text field invalid or too long")
    return value


def _blob(value: Any, exact: int | None = None) -> bytes:
    if not isinstance(value, bytes) or len(value) > MAX_BLOB:
        raise MalformedEnvelope("binary field invalid or too long")
    if exact is not None and len(value) != exact:
        raise MalformedEnvelope("binary field has the wrong length")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise MalformedEnvelope("list field invalid or too long")
    return tuple(_text(item, MAX_TEXT_BYTES // 4) for item in value)


def _validate(message_id: bytes, payload: Payload) -> None:
    """The limits `_decode` enforces, checked on our own payload before sending."""
    _blob(message_id, MESSAGE_ID_SIZE)
    if isinstance(payload, Text):
        _text(payload.body)
    elif isinstance(payload, SessionSummary):
        _texts(list(payload.key_points))
        _texts(list(payload.tasks))
    elif isinstance(payload, ConsentPayload):
        _blob(payload.record)
    elif isinstance(payload, Receipt):
        if len(payload.message_ids) > MAX_ITEMS or not isinstance(payload.status, ReceiptStatus):
            raise MalformedEnvelope("malformed receipt")
        for message in payload.message_ids:
            _blob(message, MESSAGE_ID_SIZE)
    elif isinstance(payload, Control):
        if not isinstance(payload.action, ControlAction):
            raise MalformedEnvelope("unknown control action")
        _text(payload.text)
    elif isinstance(payload, Introduction):
        _blob(payload.consent_record)
        _blob(payload.reply_queue)
        _text(payload.text)
        _text(payload.name, MAX_NAME_BYTES)
    else:
        raise MalformedEnvelope("unknown payload kind")


def _decode(inner: bytes) -> DecryptedMessage:
    doc = unpack(inner, MAX_PADDED_SIZE, MalformedEnvelope, "malformed message")
    if not (isinstance(doc, list) and len(doc) >= 3 and doc[0] == _INNER_VERSION):
        raise MalformedEnvelope("malformed message")
    _, message_id, kind, *f = doc
    message_id = _blob(message_id, MESSAGE_ID_SIZE)
    if type(kind) is not int:
        raise MalformedEnvelope("unknown payload kind")
    payload: Payload
    try:
        if kind == 1 and len(f) == 1:
            payload = Text(_text(f[0]))
        elif kind == 2 and len(f) == 2:
            payload = SessionSummary(_texts(f[0]), _texts(f[1]))
        elif kind == 3 and len(f) == 1:
            payload = ConsentPayload(_blob(f[0]))
        elif kind == 4 and len(f) == 2 and isinstance(f[0], list) and len(f[0]) <= MAX_ITEMS:
            ids = tuple(_blob(i, MESSAGE_ID_SIZE) for i in f[0])
            payload = Receipt(ids, ReceiptStatus(f[1]))
        elif kind == 5 and len(f) == 2:
            payload = Control(ControlAction(f[0]), _text(f[1]))
        elif kind == 6 and len(f) in (3, 4):  # the name is optional (absent before it existed)
            name = _text(f[3], MAX_NAME_BYTES) if len(f) == 4 else ""
            payload = Introduction(_blob(f[0]), _blob(f[1], None), _text(f[2]), name)
        else:
            raise MalformedEnvelope("unknown payload kind")
    except (ValueError, TypeError) as exc:
        raise MalformedEnvelope("malformed payload") from exc
    return DecryptedMessage(message_id, payload)
