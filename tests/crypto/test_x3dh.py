"""Tests for crypto.x3dh: bundle checks, the prekey store, and agreement with the x3dh package."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import x3dh
from hypothesis import given, settings
from hypothesis import strategies as st
from x3dh.identity_key_pair import IdentityKeyPairSeed

from crypto.envelope import Text
from crypto.errors import (
    CryptoError,
    DecryptionError,
    IdentityMismatch,
    InvalidKey,
    InvalidSignature,
    InvalidState,
)
from crypto.keys import IdentityKeyPair, IdentityPublicKey, X25519KeyPair, X25519PublicKey
from crypto.session import Session
from crypto.x3dh import (
    NO_ONE_TIME_PREKEY,
    SIGNED_PREKEY_DOMAIN,
    X3DH_INFO,
    PrekeyBundle,
    PrekeyStore,
    X3DHHeader,
    initiate,
)
from tests.crypto.helpers import NOW, new_store


class _ReferenceState(x3dh.State):
    """The maintained x3dh package, configured with our info string and key encoding."""

    @staticmethod
    def _encode_public_key(key_format: x3dh.IdentityKeyFormat, pub: bytes) -> bytes:
        return (
            SIGNED_PREKEY_DOMAIN + pub if key_format is x3dh.IdentityKeyFormat.CURVE_25519 else pub
        )

    def _publish_bundle(self, bundle: x3dh.Bundle) -> None:
        pass


def _reference(identity: IdentityKeyPair) -> _ReferenceState:
    return _ReferenceState.create(
        x3dh.IdentityKeyFormat.ED_25519,
        x3dh.HashFunction.SHA_256,
        X3DH_INFO,
        IdentityKeyPairSeed(identity.to_bytes()),
        pre_key_refill_threshold=2,
        pre_key_refill_target=3,
    )


@pytest.mark.parametrize("with_opk", [True, False], ids=["one-time-prekey", "no-one-time-prekey"])
def test_initiator_agrees_with_the_x3dh_package_as_responder(with_opk: bool) -> None:
    """Our initiator verifies an x3dh-package bundle and derives the same secret it does."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    ref = _reference(bob)
    ref_bundle = ref.bundle
    assert ref_bundle.identity_key == bob.public.to_bytes()
    opk = sorted(ref_bundle.pre_keys)[0] if with_opk else None
    bundle = PrekeyBundle(
        IdentityPublicKey(ref_bundle.identity_key),
        1,
        X25519PublicKey(ref_bundle.signed_pre_key),
        ref_bundle.signed_pre_key_sig,
        7 if with_opk else NO_ONE_TIME_PREKEY,
        None if opk is None else X25519PublicKey(opk),
    )
    secret, header = initiate(alice, bundle, bob.public)
    ref_header = x3dh.Header(
        identity_key=alice.public.to_bytes(),
        ephemeral_key=header.ephemeral_key.to_bytes(),
        signed_pre_key=ref_bundle.signed_pre_key,
        pre_key=opk,
    )
    ref_secret, _, _ = asyncio.run(
        ref.get_shared_secret_passive(ref_header, require_pre_key=with_opk)
    )
    assert secret == ref_secret


@pytest.mark.parametrize("with_opk", [True, False], ids=["one-time-prekey", "no-one-time-prekey"])
def test_responder_agrees_with_the_x3dh_package_as_initiator(with_opk: bool) -> None:
    """The x3dh package, initiating against our bundle, derives what our store derives."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    opk_id, opk = store.one_time_prekeys()[0]
    ours = store.bundle(bob, opk_id)
    ref = _reference(alice)
    ref_bundle = x3dh.Bundle(
        identity_key=bob.public.to_bytes(),
        signed_pre_key=ours.signed_prekey.to_bytes(),
        signed_pre_key_sig=ours.signed_prekey_signature,
        pre_keys=frozenset([opk.to_bytes()] if with_opk else []),
    )
    ref_secret, _, ref_header = asyncio.run(
        ref.get_shared_secret_active(ref_bundle, require_pre_key=with_opk)
    )
    assert (ref_header.pre_key is not None) == with_opk
    header = X3DHHeader(
        IdentityPublicKey(ref_header.identity_key),
        X25519PublicKey(ref_header.ephemeral_key),
        ours.signed_prekey_id,
        opk_id if with_opk else NO_ONE_TIME_PREKEY,
    )
    secret, _ = store.agree(bob, header)
    assert secret == ref_secret


def _flipped(data: bytes, position: int, bit: int) -> bytes:
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


def test_bundle_with_bad_signature_is_refused() -> None:
    """Every single-bit change of the signature, a signature by another key, one without the
    domain prefix, and a swapped signed prekey are refused with InvalidSignature, whether the
    bundle is used directly or arrives as bytes; Session.initiate refuses it too."""
    alice, bob, mallory = (IdentityKeyPair.generate() for _ in range(3))
    bundle = new_store(bob).bundle(bob)
    spk = bundle.signed_prekey.to_bytes()
    sig = bundle.signed_prekey_signature
    bad = [_flipped(sig, position, bit) for position in range(len(sig)) for bit in range(8)]
    bad += [mallory.sign(SIGNED_PREKEY_DOMAIN + spk), bob.sign(spk), bob.sign(b"")]
    bundles = [replace(bundle, signed_prekey_signature=s) for s in bad]
    bundles.append(replace(bundle, signed_prekey=X25519KeyPair.generate().public))
    for forged in bundles:
        with pytest.raises(InvalidSignature):
            initiate(alice, forged, bob.public)
        with pytest.raises(InvalidSignature):
            PrekeyBundle.from_bytes(forged.to_bytes()).verify(bob.public)
    with pytest.raises(InvalidSignature):
        Session.initiate(alice, bundles[0], bob.public, Text("hi"))
    initiate(alice, bundle, bob.public)  # the genuine one passes


def test_bundle_from_another_identity_than_the_invite_is_refused() -> None:
    """A valid bundle whose identity differs from the invite's pinned key raises IdentityMismatch."""
    alice, bob, mallory = (IdentityKeyPair.generate() for _ in range(3))
    bundle = new_store(mallory).bundle(mallory)
    with pytest.raises(IdentityMismatch):
        initiate(alice, bundle, bob.public)
    with pytest.raises(IdentityMismatch):
        Session.initiate(alice, bundle, bob.public, Text("hi"))


P = 2**255 - 19
# Every X25519 u-coordinate of small order (RFC 7748 section 7), in its canonical encoding and in
# the non-canonical ones (u + p, and with the unused top bit set) that decode to the same point.
_LOW_ORDER_U = [
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P - 1,
]
LOW_ORDER_X25519 = [
    encoded
    for u in _LOW_ORDER_U
    for encoded in (
        u.to_bytes(32, "little"),
        (u + 2**255).to_bytes(32, "little"),
        *([(u + P).to_bytes(32, "little")] if u + P < 2**256 else []),
    )
]
# Every Ed25519 point of small order (libsodium's blocklist), both signs of x.
_LOW_ORDER_ED25519 = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    (P - 1).to_bytes(32, "little"),
    P.to_bytes(32, "little"),
    (P + 1).to_bytes(32, "little"),
]
LOW_ORDER_ED25519 = _LOW_ORDER_ED25519 + [
    raw[:31] + bytes((raw[31] | 0x80,)) for raw in _LOW_ORDER_ED25519
]


def _mixed_order_identity() -> bytes:
    """A valid identity key plus a point of order 8: on the curve, outside the prime-order group."""
    import nacl.bindings

    return nacl.bindings.crypto_core_ed25519_add(
        IdentityKeyPair.generate().public.to_bytes(), _LOW_ORDER_ED25519[3]
    )


def _bundle_bytes_with(field: int, raw: bytes) -> bytes:
    import msgpack

    bob = IdentityKeyPair.generate()
    store = new_store(bob)
    doc = msgpack.unpackb(store.bundle(bob, store.one_time_prekeys()[0][0]).to_bytes())
    doc[field] = raw
    return msgpack.packb(doc, use_bin_type=True)


@pytest.mark.parametrize("raw", LOW_ORDER_X25519, ids=lambda r: r.hex()[:8] + ".." + r.hex()[-4:])
@pytest.mark.parametrize("field", [3, 6], ids=["signed-prekey", "one-time-prekey"])
def test_bundle_with_a_low_order_prekey_is_refused(field: int, raw: bytes) -> None:
    """A signed or one-time prekey that is a low-order X25519 point, in any encoding, is refused
    with InvalidKey when the bundle is parsed, before any DH."""
    with pytest.raises(InvalidKey):
        PrekeyBundle.from_bytes(_bundle_bytes_with(field, raw))


@pytest.mark.parametrize(
    "raw", [*LOW_ORDER_ED25519, None], ids=lambda r: "mixed-order" if r is None else r.hex()[:8]
)
def test_bundle_with_a_low_order_identity_key_is_refused(raw: bytes | None) -> None:
    """An identity key of small order (either sign) or with a small-order component is refused
    with InvalidKey when the bundle is parsed."""
    with pytest.raises(InvalidKey):
        PrekeyBundle.from_bytes(_bundle_bytes_with(1, raw or _mixed_order_identity()))


@pytest.mark.parametrize("raw", LOW_ORDER_X25519[:5], ids=lambda r: r.hex()[:8])
def test_prekey_envelope_with_a_low_order_ephemeral_key_is_refused(raw: bytes) -> None:
    """A first message whose X3DH ephemeral key is low-order raises InvalidKey and consumes
    nothing from the responder's prekey store."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    opk_id = store.one_time_prekeys()[0][0]
    _, first = Session.initiate(alice, store.bundle(bob, opk_id), bob.public, Text("hi"))
    before = store.to_bytes()
    with pytest.raises(InvalidKey):
        Session.respond(bob, store, first[:34] + raw + first[66:])
    assert store.to_bytes() == before


def test_bundle_round_trips_through_bytes() -> None:
    """A bundle survives its wire form and still verifies."""
    bob = IdentityKeyPair.generate()
    store = new_store(bob)
    bundle = store.bundle(bob, store.one_time_prekeys()[0][0])
    again = PrekeyBundle.from_bytes(bundle.to_bytes())
    assert again == bundle
    again.verify(bob.public)


def test_rotation_keeps_retired_signed_prekeys_for_the_grace_period() -> None:
    """Retired signed prekeys still open sessions until their own grace period ends, even when
    the grace period spans several rotations."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    old_bundle = store.bundle(bob)
    assert not store.rotate_signed_prekey(bob, NOW + 10, period=100)
    assert store.rotate_signed_prekey(bob, NOW + 100, period=100)  # old one retired at +100
    assert store.bundle(bob).signed_prekey_id != old_bundle.signed_prekey_id
    assert store.rotate_signed_prekey(bob, NOW + 200, period=100)  # a second rotation
    _, header = initiate(alice, old_bundle, bob.public)
    store.prune(NOW + 299, grace=200)
    store.agree(bob, header)  # still within its grace period after two rotations
    again = PrekeyStore.from_bytes(store.to_bytes())
    again.agree(bob, header)  # and after a save and restore
    store.prune(NOW + 300, grace=200)
    with pytest.raises(DecryptionError):
        store.agree(bob, header)


def test_one_time_prekeys_are_consumed_once_and_refilled() -> None:
    """A session consumes its one-time prekey; a replayed prekey message then fails; refill tops up."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob, one_time=3)
    opk_id = store.one_time_prekeys()[0][0]
    _, first = Session.initiate(alice, store.bundle(bob, opk_id), bob.public, Text("hi"))
    Session.respond(bob, store, first)
    assert opk_id not in dict(store.one_time_prekeys())
    with pytest.raises(DecryptionError):
        Session.respond(bob, store, first)
    assert store.refill(threshold=2, target=3) == []
    store.consume(store.one_time_prekeys()[0][0])
    added = store.refill(threshold=2, target=3)
    assert len(added) == 2
    assert len(store.one_time_prekeys()) == 3


def test_every_bit_flip_of_a_first_message_is_refused_and_consumes_nothing() -> None:
    """Every single-bit change of a first (prekey) message, at every byte, is refused by
    Session.respond and leaves the prekey store byte-for-byte unchanged; the genuine one opens."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    opk_id = store.one_time_prekeys()[0][0]
    _, first = Session.initiate(alice, store.bundle(bob, opk_id), bob.public, Text("hi"))
    before = store.to_bytes()
    for position in range(len(first)):
        for bit in range(8):
            with pytest.raises(CryptoError):
                Session.respond(bob, store, _flipped(first, position, bit))
            assert store.to_bytes() == before, (position, bit)
    _, message = Session.respond(bob, store, first)
    assert message.payload == Text("hi")
    assert opk_id not in dict(store.one_time_prekeys())


@settings(max_examples=60)
@given(data=st.data())
def test_failed_first_message_leaves_the_store_unchanged(data: st.DataObject) -> None:
    """Any bytes of a first message replaced by other values are refused and consume no
    prekey; the genuine message still opens afterwards."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    opk_id = store.one_time_prekeys()[0][0]
    _, first = Session.initiate(alice, store.bundle(bob, opk_id), bob.public, Text("hi"))
    before = store.to_bytes()
    bad = bytearray(first)
    for position in data.draw(st.sets(st.integers(0, len(first) - 1), min_size=1, max_size=4)):
        bad[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CryptoError):
        Session.respond(bob, store, bytes(bad))
    assert store.to_bytes() == before
    Session.respond(bob, store, first)


def test_store_round_trips_and_refuses_garbage() -> None:
    """The stored prekey store restores to the same keys; corrupt bytes raise InvalidState."""
    bob = IdentityKeyPair.generate()
    store = new_store(bob)
    store.rotate_signed_prekey(bob, NOW + 1, force=True)
    again = PrekeyStore.from_bytes(store.to_bytes())
    assert again.to_bytes() == store.to_bytes()
    assert again.bundle(bob) == store.bundle(bob)
    for garbage in (b"", b"\x90", b"\x95\x02\x01\x01\x01\x01", store.to_bytes()[:-3]):
        with pytest.raises(InvalidState):
            PrekeyStore.from_bytes(garbage)
    assert repr(store) == "PrekeyStore(<redacted>)"


def test_respond_refuses_a_normal_envelope_and_unknown_prekeys() -> None:
    """Only prekey envelopes start sessions; a bundle cannot name a one-time prekey we lack."""
    from crypto.errors import MalformedEnvelope
    from tests.crypto.helpers import start

    pair = start()
    with pytest.raises(MalformedEnvelope):
        Session.respond(
            pair.bob_identity, new_store(pair.bob_identity), pair.alice.encrypt(Text("x"))
        )
    bob = IdentityKeyPair.generate()
    with pytest.raises(InvalidKey):
        new_store(bob).bundle(bob, 999_999)
