"""Tests for crypto.envelope: layout, padding buckets, payload types and limits."""

from __future__ import annotations

import msgpack
import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.envelope import (
    BLOCK_SIZE,
    MAX_BLOB,
    MAX_ENVELOPE_SIZE,
    MAX_ITEMS,
    MAX_NAME_BYTES,
    MAX_PADDED_SIZE,
    MAX_TEXT_BYTES,
    ConsentPayload,
    Control,
    ControlAction,
    Envelope,
    EnvelopeKind,
    Introduction,
    Receipt,
    ReceiptStatus,
    SessionSummary,
    Text,
    decode_plaintext,
    encode_plaintext,
    new_message_id,
)
from crypto.errors import MalformedEnvelope
from tests.crypto.helpers import start

PAYLOADS = [
    Text("hello"),
    Text(""),
    SessionSummary(("slept better", "named the trigger"), ("breathing 4-7-8 nightly",)),
    ConsentPayload(b"\x93signed record"),
    Receipt((new_message_id(), new_message_id()), ReceiptStatus.READ),
    Control(ControlAction.WITHDRAW_CONSENT),
    Control(ControlAction.REFERRAL, "Please call the crisis line on 119 ext 8."),
    Introduction(b"consent", b"queue-id", "first words"),
    Introduction(b"consent", b"queue-id", "first words", "Dewi"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_every_payload_type_round_trips_through_a_session(payload: object) -> None:
    """Each typed payload arrives as sent, with the message id it was given."""
    pair = start()
    message_id = new_message_id()
    message = pair.bob.decrypt(pair.alice.encrypt(payload, message_id))  # type: ignore[arg-type]
    assert message.payload == payload
    assert message.message_id == message_id
    assert "<redacted>" in repr(message)


@given(st.integers(0, BLOCK_SIZE * 3))
def test_padding_hides_length_within_a_bucket(size: int) -> None:
    """Envelopes are the same length for every message whose padded size falls in one bucket."""
    pair = start()
    envelope = pair.alice.encrypt(Text("x" * size))
    inner_len = len(encode_plaintext(new_message_id(), Text("x" * size)))
    assert inner_len % BLOCK_SIZE == 0
    body = len(envelope) - 2 - 40 - 24 - 16
    assert body == inner_len
    short = pair.alice.encrypt(Text(""))
    if inner_len == BLOCK_SIZE:
        assert len(envelope) == len(short)


def test_layout_is_version_kind_header_ciphertext() -> None:
    """The documented byte layout: version, kind, (X3DH header), ratchet header, nonce+AEAD."""
    pair = start(finish_handshake=False)
    prekey = pair.alice.encrypt(Text("p"))
    assert prekey[0] == 1
    assert prekey[1] == EnvelopeKind.PREKEY
    assert len(prekey) == 2 + 72 + 40 + 24 + BLOCK_SIZE + 16
    parsed = Envelope.parse(prekey)
    assert parsed.x3dh is not None
    assert parsed.x3dh.initiator_identity == pair.alice_identity.public
    assert parsed.to_bytes() == prekey
    pair.alice.decrypt(pair.bob.encrypt(Text("r")))
    normal = pair.alice.encrypt(Text("n"))
    assert normal[1] == EnvelopeKind.MESSAGE
    assert len(normal) == 2 + 40 + 24 + BLOCK_SIZE + 16


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x01",
        b"\x02\x02" + bytes(400),  # unknown version
        b"\x01\x07" + bytes(400),  # unknown kind
        b"\x01\x02" + bytes(39),  # truncated header
        b"\x01\x02" + b"\x09" * 40 + bytes(24 + 16 + 100),  # not whole padding blocks
        b"\x01\x02" + b"\x09" * 40 + bytes(24 + 16),  # empty body
        b"\x01\x02" + bytes(MAX_ENVELOPE_SIZE),  # too large
    ],
)
def test_malformed_envelopes_are_refused(bad: bytes) -> None:
    """Unknown versions or kinds, truncation, bad ciphertext lengths and oversize are refused."""
    with pytest.raises(MalformedEnvelope):
        Envelope.parse(bad)


def test_oversized_payloads_are_refused_when_sending() -> None:
    """Payloads over the limits cannot be encrypted."""
    with pytest.raises(MalformedEnvelope):
        encode_plaintext(new_message_id(), Text("x" * (MAX_TEXT_BYTES + 1)))
    with pytest.raises(MalformedEnvelope):
        encode_plaintext(new_message_id(), SessionSummary(tuple("x" for _ in range(101)), ()))


@pytest.mark.parametrize(
    "doc",
    [
        [2, bytes(16), 1, "x"],  # unknown inner version
        [1, bytes(15), 1, "x"],  # short id
        [1, bytes(16), 9, "x"],  # unknown payload kind
        [1, bytes(16), 1, b"x"],  # text as bytes
        [1, bytes(16), 1, "x", "extra"],  # extra field
        [1, bytes(16), 4, [bytes(16)], 7],  # unknown receipt status
        [1, bytes(16), 5, 99, ""],  # unknown control action
        {"v": 1},
    ],
)
def test_malformed_payloads_are_refused(doc: object) -> None:
    """Decrypted payloads that are not exactly a known type are refused."""
    padded = nacl.bindings.sodium_pad(msgpack.packb(doc, use_bin_type=True), BLOCK_SIZE)
    with pytest.raises(MalformedEnvelope):
        decode_plaintext(padded)


def test_bad_padding_is_refused() -> None:
    """A plaintext without valid ISO/IEC 7816-4 padding is refused."""
    with pytest.raises(MalformedEnvelope):
        decode_plaintext(bytes(BLOCK_SIZE))


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_sender_and_receiver_agree_on_what_is_valid(payload: object) -> None:
    """Whatever the sender encodes, the receiver's strict decoder accepts unchanged."""
    message_id = new_message_id()
    decoded = decode_plaintext(encode_plaintext(message_id, payload))  # type: ignore[arg-type]
    assert decoded.payload == payload
    assert decoded.message_id == message_id


def test_sender_refuses_malformed_payload_fields() -> None:
    """Wrong ids, statuses or actions are refused before anything is encrypted."""
    bad = [
        (bytes(15), Text("x")),
        (new_message_id(), Receipt((bytes(3),), ReceiptStatus.READ)),
        (new_message_id(), Receipt((), 2)),  # not a ReceiptStatus
        (new_message_id(), Control(7)),  # not a ControlAction
        (new_message_id(), "not a payload"),
    ]
    for message_id, payload in bad:
        with pytest.raises(MalformedEnvelope):
            encode_plaintext(message_id, payload)  # type: ignore[arg-type]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_payloads_print_redacted(payload: object) -> None:
    """Payload reprs never show plaintext, so a stray log line cannot leak a message."""
    assert repr(payload) == str(payload) == f"{type(payload).__name__}(<redacted>)"


def test_size_limits_hold_on_both_sides() -> None:
    """The largest text travels; one byte more, a total padded size over 64 KiB, or an over-long
    field or list in a received plaintext is refused; an envelope one byte over the maximum is
    refused before any decryption."""
    pair = start()
    biggest = Text("x" * MAX_TEXT_BYTES)
    envelope = pair.alice.encrypt(biggest)
    assert len(envelope) <= MAX_ENVELOPE_SIZE
    assert pair.bob.decrypt(envelope).payload == biggest
    too_big = Introduction(bytes(MAX_BLOB), bytes(MAX_BLOB), "x" * MAX_TEXT_BYTES)
    with pytest.raises(MalformedEnvelope):
        pair.alice.encrypt(too_big)
    for doc in (
        [1, bytes(16), 1, "x" * (MAX_TEXT_BYTES + 1)],
        [1, bytes(16), 2, ["x"] * (MAX_ITEMS + 1), []],
        [1, bytes(16), 3, bytes(MAX_BLOB + 1)],
        [1, bytes(16), 4, [bytes(16)] * (MAX_ITEMS + 1), 1],
    ):
        padded = nacl.bindings.sodium_pad(msgpack.packb(doc, use_bin_type=True), BLOCK_SIZE)
        with pytest.raises(MalformedEnvelope):
            decode_plaintext(padded)
    prekey_head = start(finish_handshake=False).alice.encrypt(Text(""))[: 2 + 72 + 40]
    for head in (b"\x01\x02" + b"\x09" * 40, prekey_head):
        largest = head + bytes(24 + MAX_PADDED_SIZE + 16)
        assert len(largest) <= MAX_ENVELOPE_SIZE
        Envelope.parse(largest)
        with pytest.raises(MalformedEnvelope):
            Envelope.parse(largest + bytes(BLOCK_SIZE))


@pytest.mark.parametrize(
    "payload",
    [
        Text("\ud800"),
        Control(ControlAction.REFERRAL, "call \udfff"),
        SessionSummary(("ok", "\udc80"), ()),
        Introduction(b"c", b"q", "\ud83d"),
    ],
    ids=["text", "control", "summary", "introduction"],
)
def test_text_with_a_lone_surrogate_is_refused_with_malformed_envelope(payload: object) -> None:
    """Text that is not valid Unicode (a lone surrogate, e.g. from a bad paste) raises
    MalformedEnvelope like any other invalid payload, not a UnicodeEncodeError."""
    pair = start()
    with pytest.raises(MalformedEnvelope):
        pair.alice.encrypt(payload)  # type: ignore[arg-type]
    assert pair.bob.decrypt(pair.alice.encrypt(Text("still fine"))).payload == Text("still fine")


def test_introduction_name_is_optional_and_bounded() -> None:
    """An introduction without a name (the earlier three-field form) still decodes, with an
    empty name; a name over its limit is refused on both sides."""
    message_id = new_message_id()
    old_form = msgpack.packb([1, message_id, 6, b"consent", b"queue", "hi"], use_bin_type=True)
    padded = nacl.bindings.sodium_pad(old_form, BLOCK_SIZE)
    assert decode_plaintext(padded).payload == Introduction(b"consent", b"queue", "hi", "")
    with pytest.raises(MalformedEnvelope):
        encode_plaintext(message_id, Introduction(b"c", b"q", "hi", "x" * (MAX_NAME_BYTES + 1)))
    too_long = msgpack.packb(
        [1, message_id, 6, b"c", b"q", "hi", "x" * (MAX_NAME_BYTES + 1)], use_bin_type=True
    )
    with pytest.raises(MalformedEnvelope):
        decode_plaintext(nacl.bindings.sodium_pad(too_long, BLOCK_SIZE))
