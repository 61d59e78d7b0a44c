"""Tests for crypto.keys: validation, conversion, stored forms and redaction."""

from __future__ import annotations

import nacl.bindings
import pytest
import xeddsa

from crypto.errors import InvalidKey, InvalidSignature
from crypto.keys import IdentityKeyPair, IdentityPublicKey, X25519KeyPair, X25519PublicKey

P = 2**255 - 19
LOW_ORDER_X25519 = [
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P - 1,
]


@pytest.mark.parametrize("u", LOW_ORDER_X25519)
def test_low_order_x25519_points_are_refused(u: int) -> None:
    """Every low-order X25519 u-coordinate is refused with InvalidKey."""
    with pytest.raises(InvalidKey):
        X25519PublicKey(u.to_bytes(32, "little"))


@pytest.mark.parametrize("u", [P, P + 1, 2**255 - 1, 2**255 + 9])
def test_non_canonical_x25519_encodings_are_refused(u: int) -> None:
    """u >= p, or the top bit set, is refused: one key has one encoding."""
    with pytest.raises(InvalidKey):
        X25519PublicKey(u.to_bytes(32, "little"))


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_wrong_lengths_are_refused(size: int) -> None:
    """Public keys of the wrong length are refused for both key types."""
    with pytest.raises(InvalidKey):
        X25519PublicKey(b"\x09" * size)
    with pytest.raises(InvalidKey):
        IdentityPublicKey(b"\x09" * size)


@pytest.mark.parametrize(
    "raw",
    [
        bytes(32),  # small order (the identity's y = 0 is not even on the curve)
        (1).to_bytes(32, "little"),  # the neutral element: order 1
        (P - 1).to_bytes(32, "little"),  # order 2
        bytes.fromhex(
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
        ),  # order 8
        b"\xff" * 32,  # non-canonical
    ],
)
def test_invalid_or_low_order_ed25519_keys_are_refused(raw: bytes) -> None:
    """Ed25519 identity keys must be canonical points of prime order."""
    with pytest.raises(InvalidKey):
        IdentityPublicKey(raw)


def test_identity_round_trips_and_converts_like_libsodium_and_xeddsa() -> None:
    """Seed and public key round-trip; the X25519 form matches libsodium and the xeddsa package."""
    identity = IdentityKeyPair.generate()
    restored = IdentityKeyPair.from_bytes(identity.to_bytes())
    assert restored.public == identity.public
    pub = IdentityPublicKey.from_bytes(identity.public.to_bytes())
    expected = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(pub.to_bytes())
    assert pub.to_x25519().to_bytes() == expected
    assert xeddsa.ed25519_pub_to_curve25519_pub(pub.to_bytes()) == expected
    assert identity.x25519().public.to_bytes() == expected


def test_identity_dh_agrees_both_ways() -> None:
    """Converted identity keys agree on a shared secret with an ordinary X25519 key."""
    identity, other = IdentityKeyPair.generate(), X25519KeyPair.generate()
    assert identity.x25519().exchange(other.public) == other.exchange(identity.public.to_x25519())


def test_signatures_verify_and_forgeries_fail() -> None:
    """A signature verifies for its message and key only."""
    identity, other = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    sig = identity.sign(b"message")
    identity.public.verify(sig, b"message")
    with pytest.raises(InvalidSignature):
        identity.public.verify(sig, b"messagE")
    with pytest.raises(InvalidSignature):
        other.public.verify(sig, b"message")
    with pytest.raises(InvalidSignature):
        identity.public.verify(sig[:-1], b"message")


def test_secret_types_print_redacted() -> None:
    """repr and str of secret-holding key types never show key bytes."""
    identity, pair = IdentityKeyPair.generate(), X25519KeyPair.generate()
    for obj, secret in ((identity, identity.to_bytes()), (pair, pair.to_bytes())):
        for text in (repr(obj), str(obj)):
            assert "<redacted>" in text
            assert secret.hex() not in text
    assert identity.public.to_bytes().hex() not in repr(identity.public)
