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
    SIGNED_PREKEY_DOMAIN,
    X3DH_INFO,
    PrekeyBundle,
    PrekeyStore,
    X3DHHeader,
    initiate,
)
from tests.crypto.helpers import NOW, new_store

LOW_ORDER = (325606250916557431795983626356110631294008115727848805560023387167927233504).to_bytes(
    32, "little"
)


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


def test_initiator_agrees_with_the_x3dh_package_as_responder() -> None:
    """Our initiator verifies an x3dh-package bundle and derives the same secret it does."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    ref = _reference(bob)
    ref_bundle = ref.bundle
    assert ref_bundle.identity_key == bob.public.to_bytes()
    opk = sorted(ref_bundle.pre_keys)[0]
    bundle = PrekeyBundle(
        IdentityPublicKey(ref_bundle.identity_key),
        1,
        X25519PublicKey(ref_bundle.signed_pre_key),
        ref_bundle.signed_pre_key_sig,
        7,
        X25519PublicKey(opk),
    )
    secret, header = initiate(alice, bundle, bob.public)
    ref_header = x3dh.Header(
        identity_key=alice.public.to_bytes(),
        ephemeral_key=header.ephemeral_key.to_bytes(),
        signed_pre_key=ref_bundle.signed_pre_key,
        pre_key=opk,
    )
    ref_secret, _, _ = asyncio.run(ref.get_shared_secret_passive(ref_header))
    assert secret == ref_secret


def test_responder_agrees_with_the_x3dh_package_as_initiator() -> None:
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
        pre_keys=frozenset([opk.to_bytes()]),
    )
    ref_secret, _, ref_header = asyncio.run(ref.get_shared_secret_active(ref_bundle))
    header = X3DHHeader(
        IdentityPublicKey(ref_header.identity_key),
        X25519PublicKey(ref_header.ephemeral_key),
        ours.signed_prekey_id,
        opk_id,
    )
    secret, _ = store.agree(bob, header)
    assert secret == ref_secret


def test_bundle_with_bad_signature_is_refused() -> None:
    """A signed prekey whose signature does not verify is refused with InvalidSignature."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    bundle = new_store(bob).bundle(bob)
    bad = bytearray(bundle.signed_prekey_signature)
    bad[5] ^= 1
    with pytest.raises(InvalidSignature):
        initiate(alice, replace(bundle, signed_prekey_signature=bytes(bad)), bob.public)
    swapped = replace(bundle, signed_prekey=X25519KeyPair.generate().public)
    with pytest.raises(InvalidSignature):
        initiate(alice, swapped, bob.public)


def test_bundle_from_another_identity_than_the_invite_is_refused() -> None:
    """A valid bundle whose identity differs from the invite's pinned key raises IdentityMismatch."""
    alice, bob, mallory = (IdentityKeyPair.generate() for _ in range(3))
    bundle = new_store(mallory).bundle(mallory)
    with pytest.raises(IdentityMismatch):
        initiate(alice, bundle, bob.public)
    with pytest.raises(IdentityMismatch):
        Session.initiate(alice, bundle, bob.public, Text("hi"))


@pytest.mark.parametrize("field", [1, 3, 6])
def test_bundle_with_a_low_order_key_is_refused(field: int) -> None:
    """A low-order identity, signed or one-time prekey in stored bundle bytes raises InvalidKey."""
    import msgpack

    bob = IdentityKeyPair.generate()
    store = new_store(bob)
    doc = msgpack.unpackb(store.bundle(bob, store.one_time_prekeys()[0][0]).to_bytes())
    doc[field] = bytes(32) if field == 1 else LOW_ORDER
    with pytest.raises(InvalidKey):
        PrekeyBundle.from_bytes(msgpack.packb(doc, use_bin_type=True))


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


@settings(max_examples=60)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_failed_first_message_leaves_the_store_unchanged(position: int, bit: int) -> None:
    """Any flipped bit in the first prekey message is refused and consumes no prekey."""
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob)
    opk_id = store.one_time_prekeys()[0][0]
    _, first = Session.initiate(alice, store.bundle(bob, opk_id), bob.public, Text("hi"))
    before = store.to_bytes()
    bad = bytearray(first)
    bad[position % len(bad)] ^= 1 << bit
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
