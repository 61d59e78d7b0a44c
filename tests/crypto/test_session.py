"""Tests for crypto.session: the Double Ratchet properties the design requires."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.envelope import Text
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidState,
    ReplayedMessage,
    TooManySkipped,
)
from crypto.ratchet import MAX_SKIP
from crypto.session import Session
from tests.crypto.helpers import Pair, new_store, start

FIXTURES = Path(__file__).parent / "fixtures"


def _text(session: Session, envelope: bytes) -> str:
    payload = session.decrypt(envelope).payload
    assert isinstance(payload, Text)
    return payload.body


@settings(max_examples=40)
@given(st.data())
def test_every_message_decrypts_in_any_delivery_order(data: st.DataObject) -> None:
    """Random send/deliver schedules in both directions, with DH steps between, lose nothing."""
    pair = start(finish_handshake=data.draw(st.booleans()))
    sessions = {"a": pair.alice, "b": pair.bob}
    other = {"a": "b", "b": "a"}
    in_flight: dict[str, list[tuple[bytes, str]]] = {"a": [], "b": []}  # keyed by recipient
    counter = 0
    steps = data.draw(st.lists(st.tuples(st.sampled_from("ab"), st.booleans()), max_size=40))
    for side, send in steps:
        if send or not in_flight[side]:
            counter += 1
            body = f"{side}-{counter}"
            in_flight[other[side]].append((sessions[side].encrypt(Text(body)), body))
        else:
            index = data.draw(st.integers(0, len(in_flight[side]) - 1))
            envelope, body = in_flight[side].pop(index)
            assert _text(sessions[side], envelope) == body
    for side in "ab":
        order = data.draw(st.permutations(range(len(in_flight[side]))))
        for index in order:
            envelope, body = in_flight[side][index]
            assert _text(sessions[side], envelope) == body


@settings(max_examples=15)
@given(st.permutations(range(6)))
def test_prekey_messages_start_the_session_in_any_order(order: list[int]) -> None:
    """Before any reply, all initiator messages carry X3DH; any of them can arrive first."""
    pair = start(finish_handshake=False)
    store = new_store(pair.bob_identity, one_time=1)
    opk = store.one_time_prekeys()[0][0]
    alice, first = Session.initiate(
        pair.alice_identity,
        store.bundle(pair.bob_identity, opk),
        pair.bob_identity.public,
        Text("0"),
    )
    envelopes = [first] + [alice.encrypt(Text(str(i))) for i in range(1, 6)]
    bob, message = Session.respond(pair.bob_identity, store, envelopes[order[0]])
    assert message.payload == Text(str(order[0]))
    for i in order[1:]:
        assert _text(bob, envelopes[i]) == str(i)
    assert _text(alice, bob.encrypt(Text("reply"))) == "reply"
    assert alice.encrypt(Text("after"))[1] == 2  # a normal envelope once a reply arrived


def test_skipping_past_the_bound_raises_too_many_skipped() -> None:
    """A message more than MAX_SKIP ahead is refused clearly; the bound itself is fine."""
    pair = start()
    envelopes = [pair.alice.encrypt(Text(str(i))) for i in range(MAX_SKIP + 2)]
    before = pair.bob.to_bytes()
    with pytest.raises(TooManySkipped, match=str(MAX_SKIP)):
        pair.bob.decrypt(envelopes[MAX_SKIP + 1])
    assert pair.bob.to_bytes() == before
    assert _text(pair.bob, envelopes[MAX_SKIP]) == str(MAX_SKIP)  # skips exactly MAX_SKIP
    assert _text(pair.bob, envelopes[0]) == "0"
    assert _text(pair.bob, envelopes[MAX_SKIP + 1]) == str(MAX_SKIP + 1)


def test_replayed_message_is_rejected() -> None:
    """A message decrypted once is refused the second time, in order or out of order."""
    pair = start()
    first, second = pair.alice.encrypt(Text("1")), pair.alice.encrypt(Text("2"))
    assert _text(pair.bob, second) == "2"
    assert _text(pair.bob, first) == "1"
    for envelope in (first, second):
        with pytest.raises(ReplayedMessage):
            pair.bob.decrypt(envelope)


def _flip(envelope: bytes, position: int, bit: int) -> bytes:
    out = bytearray(envelope)
    out[position % len(out)] ^= 1 << bit
    return bytes(out)


@settings(max_examples=150)
@given(
    kind=st.sampled_from(["prekey", "message", "dh-step"]),
    position=st.integers(0, 10_000),
    bit=st.integers(0, 7),
)
def test_any_flipped_bit_is_rejected_and_leaves_state_unchanged(
    kind: str, position: int, bit: int
) -> None:
    """Flipping any bit of any envelope is refused, the session is unchanged, and the genuine
    envelope still decrypts afterwards."""
    pair = start(finish_handshake=kind != "prekey")
    receiver = pair.bob
    if kind == "prekey" or kind == "message":
        envelope = pair.alice.encrypt(Text("tamper me"))
    else:  # Bob receives a message that makes him do a DH step
        pair.alice.decrypt(pair.bob.encrypt(Text("ping")))
        envelope = pair.alice.encrypt(Text("tamper me"))
    before = receiver.to_bytes()
    with pytest.raises(CryptoError):
        receiver.decrypt(_flip(envelope, position, bit))
    assert receiver.to_bytes() == before
    assert _text(receiver, envelope) == "tamper me"


def test_truncated_and_extended_envelopes_are_rejected() -> None:
    """Cutting or extending an envelope is refused without changing the session."""
    pair = start()
    envelope = pair.alice.encrypt(Text("x"))
    before = pair.bob.to_bytes()
    for bad in (envelope[:-1], envelope + b"\x00", envelope[:50], b"", envelope + bytes(256)):
        with pytest.raises(CryptoError):
            pair.bob.decrypt(bad)
    assert pair.bob.to_bytes() == before


def test_saved_and_restored_sessions_go_on_working() -> None:
    """Both sides saved and restored mid-conversation (with pending skipped keys) keep working."""
    pair = start()
    early = pair.alice.encrypt(Text("early"))
    late = pair.alice.encrypt(Text("late"))
    assert _text(pair.bob, late) == "late"  # leaves a skipped key for `early`
    alice = Session.from_bytes(pair.alice.to_bytes())
    bob = Session.from_bytes(pair.bob.to_bytes())
    assert _text(bob, early) == "early"
    for i in range(3):
        assert _text(alice, bob.encrypt(Text(f"b{i}"))) == f"b{i}"
        assert _text(bob, alice.encrypt(Text(f"a{i}"))) == f"a{i}"
    assert bob.peer_identity == pair.alice_identity.public
    assert alice.peer_identity == pair.bob_identity.public


def test_stored_state_of_unknown_version_or_corrupt_is_refused() -> None:
    """Stored sessions carry a version; other versions and corrupt bytes raise InvalidState."""
    import msgpack

    pair = start()
    doc = msgpack.unpackb(pair.bob.to_bytes())
    assert doc[0] == 1
    doc[0] = 2
    bad_version = msgpack.packb(doc, use_bin_type=True)
    doc[0] = 1
    doc[6] = '{"version": "1.0.0"}'
    bad_ratchet = msgpack.packb(doc, use_bin_type=True)
    for garbage in (b"", b"\xc1", bad_version, bad_ratchet, pair.bob.to_bytes()[:-5]):
        with pytest.raises(InvalidState):
            Session.from_bytes(garbage)


def test_forward_secrecy_saved_state_cannot_decrypt_used_messages() -> None:
    """After a message is decrypted, no saved state (including skipped keys) decrypts it again."""
    pair = start()
    first, second = pair.alice.encrypt(Text("1")), pair.alice.encrypt(Text("2"))
    assert _text(pair.bob, second) == "2"
    assert _text(pair.bob, first) == "1"  # used the stored skipped key, which is now gone
    saved = pair.bob.to_bytes()
    for envelope in (first, second):
        with pytest.raises(DecryptionError):
            Session.from_bytes(saved).decrypt(envelope)


def test_post_compromise_security_attacker_copy_stops_after_one_round_trip() -> None:
    """A stolen copy of Bob's state reads Alice's messages until one DH round trip heals it."""
    pair = start()
    stolen = Session.from_bytes(pair.bob.to_bytes())  # the attacker's copy
    leaked = pair.alice.encrypt(Text("before healing"))
    assert _text(stolen, leaked) == "before healing"  # the compromise is real
    assert _text(pair.bob, leaked) == "before healing"
    # One DH round trip: Bob replies with a fresh ratchet key, Alice answers with hers.
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    answer = pair.alice.encrypt(Text("answer"))
    assert _text(pair.bob, answer) == "answer"
    assert _text(pair.alice, pair.bob.encrypt(Text("again"))) == "again"
    healed = pair.alice.encrypt(Text("after healing"))
    for envelope in (answer, healed):  # the attacker sees all traffic but no longer keeps up
        with pytest.raises(DecryptionError):
            stolen.decrypt(envelope)
    assert _text(pair.bob, healed) == "after healing"


def test_messages_are_bound_to_both_identities() -> None:
    """An envelope from another session (same shape, other identities) does not decrypt."""
    one, two = start(), start()
    with pytest.raises(DecryptionError):
        two.bob.decrypt(one.alice.encrypt(Text("x")))


def test_session_prints_redacted() -> None:
    """A session's repr and str show no state."""
    pair: Pair = start()
    assert repr(pair.alice) == str(pair.alice) == "Session(<redacted>)"


def test_a_dh_step_past_the_bound_moves_on_and_drops_the_lost_messages() -> None:
    """If more than MAX_SKIP messages of an old chain were lost, the session still heals."""
    pair = start()
    assert _text(pair.bob, pair.alice.encrypt(Text("m0"))) == "m0"
    lost = [pair.alice.encrypt(Text(str(i))) for i in range(MAX_SKIP + 3)]
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    assert _text(pair.bob, pair.alice.encrypt(Text("new chain"))) == "new chain"
    with pytest.raises(DecryptionError):
        pair.bob.decrypt(lost[0])


def test_format_1_stored_state_still_restores() -> None:
    """A prekey store and a session saved by the first release restore and keep working."""
    import msgpack

    from crypto.keys import IdentityKeyPair
    from crypto.x3dh import PrekeyStore

    fixture = msgpack.unpackb((FIXTURES / "stored_v1.msgpack").read_bytes())
    bob = IdentityKeyPair.from_bytes(fixture["bob_identity_seed"])
    store = PrekeyStore.from_bytes(fixture["prekey_store_v1"])
    _, message = Session.respond(bob, store, fixture["first_envelope"])
    assert message.payload == Text("first words")
    session = Session.from_bytes(fixture["bob_session_v1"])
    assert _text(session, fixture["next_envelope"]) == "stored in format 1"
