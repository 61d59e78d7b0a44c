"""Tests for crypto.session: the Double Ratchet properties the design requires."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from crypto.envelope import Text
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidState,
    ReplayedMessage,
    TooManySkipped,
)
from crypto.keys import IdentityKeyPair
from crypto.ratchet import MAX_SKIP, MAX_SKIPPED_KEYS
from crypto.session import Session
from tests.crypto.helpers import Pair, attacker_opens, new_store, start

FIXTURES = Path(__file__).parent / "fixtures"


def _text(session: Session, envelope: bytes) -> str:
    payload = session.decrypt(envelope).payload
    assert isinstance(payload, Text)
    return payload.body


def _restored(session: Session) -> Session:
    return Session.from_bytes(session.to_bytes())


@settings(max_examples=60)
@given(st.data())
def test_every_message_decrypts_in_any_delivery_order(data: st.DataObject) -> None:
    """Random schedules in both directions (bursts, DH steps, deliveries in any order, replays,
    saves and restores) decrypt every message to what was sent; replays are refused with the
    state unchanged."""
    pair = start(finish_handshake=data.draw(st.booleans()))
    sessions = {"a": pair.alice, "b": pair.bob}
    other = {"a": "b", "b": "a"}
    in_flight: dict[str, list[tuple[bytes, str]]] = {"a": [], "b": []}  # keyed by recipient
    delivered: dict[str, list[bytes]] = {"a": [], "b": []}
    counter = 0
    actions = st.sampled_from(["send", "deliver", "deliver", "replay", "restore"])
    steps = data.draw(st.lists(st.tuples(st.sampled_from("ab"), actions), min_size=10, max_size=60))
    for side, action in steps:
        if action == "send" or (action == "deliver" and not in_flight[side]):
            for _ in range(data.draw(st.integers(1, 12))):  # a burst from `side`
                counter += 1
                body = f"{side}-{counter}"
                in_flight[other[side]].append((sessions[side].encrypt(Text(body)), body))
        elif action == "deliver":
            index = data.draw(st.integers(0, len(in_flight[side]) - 1))
            envelope, body = in_flight[side].pop(index)
            assert _text(sessions[side], envelope) == body
            delivered[side].append(envelope)
        elif action == "replay" and delivered[side]:
            before = sessions[side].to_bytes()
            with pytest.raises(DecryptionError):
                sessions[side].decrypt(data.draw(st.sampled_from(delivered[side])))
            assert sessions[side].to_bytes() == before
            event("replay refused")
        elif action == "restore":
            sessions[side] = _restored(sessions[side])
    for side in "ab":
        order = data.draw(st.permutations(range(len(in_flight[side]))))
        for index in order:
            envelope, body = in_flight[side][index]
            assert _text(sessions[side], envelope) == body
    event(f"messages: {counter // 20 * 20}+")


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


def test_skipping_past_the_bound_in_a_new_chain_raises_too_many_skipped() -> None:
    """The bound holds for a message that also starts a DH step: refused clearly, state unchanged,
    and the messages within the bound still open."""
    pair = start()
    assert _text(pair.alice, pair.bob.encrypt(Text("new ratchet key"))) == "new ratchet key"
    envelopes = [pair.alice.encrypt(Text(str(i))) for i in range(MAX_SKIP + 2)]
    before = pair.bob.to_bytes()
    with pytest.raises(TooManySkipped) as raised:
        pair.bob.decrypt(envelopes[-1])
    assert str(raised.value) == f"message lies more than {MAX_SKIP} messages ahead in its chain"
    assert pair.bob.to_bytes() == before
    assert _text(pair.bob, envelopes[MAX_SKIP]) == str(MAX_SKIP)
    assert _text(pair.bob, envelopes[-1]) == str(MAX_SKIP + 1)


def _skipped_keys(session: Session) -> int:
    return len(session._ratchet._dr.model.skipped_message_keys)


def test_skipped_keys_are_bounded_and_the_oldest_are_dropped_first() -> None:
    """At most MAX_SKIPPED_KEYS skipped keys are kept across chains; the oldest go first and
    their messages are then refused, while the newer ones still open."""
    pair = start()
    old_chain = [pair.alice.encrypt(Text(f"old {i}")) for i in range(MAX_SKIP + 1)]
    assert _text(pair.bob, old_chain[-1]) == f"old {MAX_SKIP}"
    assert _skipped_keys(pair.bob) == MAX_SKIPPED_KEYS == MAX_SKIP
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    new_chain = [pair.alice.encrypt(Text(f"new {i}")) for i in range(6)]
    assert _text(pair.bob, new_chain[5]) == "new 5"  # skips 5 more: the 5 oldest are dropped
    assert _skipped_keys(pair.bob) == MAX_SKIPPED_KEYS
    before = pair.bob.to_bytes()
    for envelope in old_chain[:5]:
        with pytest.raises(DecryptionError):
            pair.bob.decrypt(envelope)
    assert pair.bob.to_bytes() == before
    assert _text(pair.bob, old_chain[5]) == "old 5"
    assert _text(pair.bob, new_chain[0]) == "new 0"


def test_replayed_message_is_rejected() -> None:
    """A message decrypted once is refused the second time with ReplayedMessage, in order or out
    of order (its skipped key was used), before and after a save/restore, state unchanged."""
    pair = start()
    first, second, third = (pair.alice.encrypt(Text(str(i))) for i in (1, 2, 3))
    assert _text(pair.bob, second) == "2"
    assert _text(pair.bob, first) == "1"  # from the skipped-key store
    assert _text(pair.bob, third) == "3"  # in order
    for bob in (pair.bob, Session.from_bytes(pair.bob.to_bytes())):
        before = bob.to_bytes()
        for envelope in (first, second, third):
            with pytest.raises(ReplayedMessage):
                bob.decrypt(envelope)
        assert bob.to_bytes() == before


def test_replays_from_older_chains_and_prekey_envelopes_are_rejected() -> None:
    """After DH steps, replayed envelopes of older chains (prekey ones included) are refused with
    the state unchanged, and the conversation goes on."""
    pair = start(finish_handshake=False)
    prekey = pair.alice.encrypt(Text("p"))
    assert _text(pair.bob, prekey) == "p"
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    old = pair.alice.encrypt(Text("old"))
    assert _text(pair.bob, old) == "old"
    assert _text(pair.alice, pair.bob.encrypt(Text("b"))) == "b"
    assert _text(pair.bob, pair.alice.encrypt(Text("new"))) == "new"
    before = pair.bob.to_bytes()
    for envelope in (prekey, old):
        with pytest.raises(DecryptionError):
            pair.bob.decrypt(envelope)
    assert pair.bob.to_bytes() == before
    assert _text(pair.bob, pair.alice.encrypt(Text("on"))) == "on"


TAMPER_CASES = ["prekey", "symmetric", "dh-step", "skipped-key", "first-reply"]


def _tamper_case(case: str) -> tuple[Session, bytes, str]:
    """A receiving session and a genuine envelope for it, in the state named by `case`."""
    pair = start(finish_handshake=case not in ("prekey", "first-reply"))
    if case == "prekey":  # Bob's session receives another X3DH-carrying envelope
        return pair.bob, pair.alice.encrypt(Text("tamper me")), "tamper me"
    if case == "first-reply":  # Alice, still awaiting a reply, receives Bob's first one
        return pair.alice, pair.bob.encrypt(Text("tamper me")), "tamper me"
    if case == "dh-step":  # Alice's next message carries a new ratchet key: Bob steps
        return pair.bob, pair.alice.encrypt(Text("tamper me")), "tamper me"
    first = pair.alice.encrypt(Text("tamper me"))
    second = pair.alice.encrypt(Text("second"))
    if case == "symmetric":  # the same chain, next index: no DH
        assert _text(pair.bob, first) == "tamper me"
        return pair.bob, second, "second"
    assert _text(pair.bob, second) == "second"  # skipped-key: `first` opens from the store
    return pair.bob, first, "tamper me"


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_every_single_bit_flip_is_rejected_and_leaves_state_unchanged(case: str) -> None:
    """Every bit of every byte of the envelope, flipped alone, is refused with a CryptoError and
    leaves the serialised session byte-for-byte unchanged; the genuine envelope then opens."""
    receiver, envelope, body = _tamper_case(case)
    before = receiver.to_bytes()
    for position in range(len(envelope)):
        for bit in range(8):
            bad = bytearray(envelope)
            bad[position] ^= 1 << bit
            with pytest.raises(CryptoError):
                receiver.decrypt(bytes(bad))
            assert receiver.to_bytes() == before, (position, bit)
    assert _text(receiver, envelope) == body


@settings(max_examples=100)
@given(case=st.sampled_from(TAMPER_CASES), data=st.data())
def test_any_byte_replaced_is_rejected_and_leaves_state_unchanged(
    case: str, data: st.DataObject
) -> None:
    """Replacing any byte of any envelope with any other value, or several at once, is refused;
    the session is unchanged and the genuine envelope still opens afterwards."""
    receiver, envelope, body = _tamper_case(case)
    before = receiver.to_bytes()
    bad = bytearray(envelope)
    positions = data.draw(
        st.sets(st.integers(0, len(envelope) - 1), min_size=1, max_size=4), label="positions"
    )
    for position in positions:  # XOR with 1..255: every other value of that byte
        bad[position] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(CryptoError):
        receiver.decrypt(bytes(bad))
    assert receiver.to_bytes() == before
    assert _text(receiver, envelope) == body


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
    """After a message is decrypted, nothing in the saved state opens it again: not the session
    itself, and no key an attacker can derive from the state's secrets (a state saved just
    before each decryption does open it, so the search is strong enough to find a key)."""
    pair = start()
    first, second = pair.alice.encrypt(Text("1")), pair.alice.encrypt(Text("2"))
    before_second = pair.bob.to_bytes()
    assert attacker_opens(before_second, second)
    assert _text(pair.bob, second) == "2"  # skips `first`: its key is stored
    before_first = pair.bob.to_bytes()
    assert attacker_opens(before_first, first)
    assert _text(pair.bob, first) == "1"  # uses the stored skipped key, which is then deleted
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    stepping = pair.alice.encrypt(Text("3"))  # opens only through a DH ratchet step
    before_step = pair.bob.to_bytes()
    assert attacker_opens(before_step, stepping)
    assert _text(pair.bob, stepping) == "3"
    saved = pair.bob.to_bytes()
    for envelope in (first, second, stepping):
        with pytest.raises(DecryptionError):
            Session.from_bytes(saved).decrypt(envelope)
        assert not attacker_opens(saved, envelope)


def test_post_compromise_security_attacker_copy_stops_after_one_round_trip() -> None:
    """A stolen copy of Bob's state reads Alice's messages until one DH round trip heals it;
    after that neither the copy nor any key derived from it opens her messages."""
    pair = start()
    stolen_bytes = pair.bob.to_bytes()  # the attacker's copy
    stolen = Session.from_bytes(stolen_bytes)
    leaked = [pair.alice.encrypt(Text(f"before healing {i}")) for i in range(3)]
    for i, envelope in enumerate(leaked):  # the compromise is real
        assert attacker_opens(stolen_bytes, envelope)
        assert _text(stolen, envelope) == f"before healing {i}"
        assert _text(pair.bob, envelope) == f"before healing {i}"
    # One DH round trip: Bob replies under a fresh ratchet key, Alice answers under hers.
    assert _text(pair.alice, pair.bob.encrypt(Text("reply"))) == "reply"
    healed = [pair.alice.encrypt(Text(f"after healing {i}")) for i in range(3)]
    for envelope in healed:  # the attacker sees all traffic but no longer keeps up
        for copy in (stolen, Session.from_bytes(stolen_bytes)):
            with pytest.raises(DecryptionError):
                copy.decrypt(envelope)
        assert not attacker_opens(stolen_bytes, envelope)
        assert not attacker_opens(stolen.to_bytes(), envelope)
    assert [_text(pair.bob, e) for e in healed] == [f"after healing {i}" for i in range(3)]


def _with_identity(stored: bytes, field: int, identity: bytes) -> Session:
    import msgpack

    doc = msgpack.unpackb(stored)
    doc[field] = identity
    return Session.from_bytes(msgpack.packb(doc, use_bin_type=True))


def test_messages_are_bound_to_both_identities() -> None:
    """The same ratchet keys with either identity key replaced in the associated data do not
    open a message (and an envelope from another session does not either)."""
    one, two = start(), start()
    envelope = one.alice.encrypt(Text("x"))
    stored = one.bob.to_bytes()
    mallory = IdentityKeyPair.generate().public.to_bytes()
    for field in (2, 3):  # own identity, peer identity
        with pytest.raises(DecryptionError):
            _with_identity(stored, field, mallory).decrypt(envelope)
    with pytest.raises(DecryptionError):
        two.bob.decrypt(envelope)
    assert _text(Session.from_bytes(stored), envelope) == "x"


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
