"""Tests for crypto.safety: libsignal's fingerprint vector, symmetry and the QR payload."""

from __future__ import annotations

from crypto.keys import IdentityKeyPair
from crypto.safety import (
    displayable_fingerprint,
    fingerprint_hash,
    qr_payload,
    qr_payload_matches,
    safety_number,
    scannable_fingerprint,
)

# libsignal's published test vector (NumericFingerprintGeneratorTest / test_fingerprint.c):
# serialised (0x05-prefixed) Curve25519 identity keys, phone numbers as stable identifiers.
ALICE_IDENTITY = bytes.fromhex("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868")
BOB_IDENTITY = bytes.fromhex("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b")
ALICE_STABLE_ID = b"+14152222222"
BOB_STABLE_ID = b"+14153333333"
DISPLAYABLE = "300354477692869396892869876765458257569162576843440918079131"
ALICE_SCANNABLE_V1 = bytes.fromhex(
    "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
    "1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
)
BOB_SCANNABLE_V1 = bytes.fromhex(
    "080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
    "1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
)


def test_libsignal_published_vector() -> None:
    """Our fingerprint reproduces libsignal's 60 digits and scannable bytes for its test keys."""
    assert len(ALICE_IDENTITY) == len(BOB_IDENTITY) == 33
    alice = fingerprint_hash(ALICE_IDENTITY, ALICE_STABLE_ID)
    bob = fingerprint_hash(BOB_IDENTITY, BOB_STABLE_ID)
    assert displayable_fingerprint(alice, bob) == DISPLAYABLE
    assert displayable_fingerprint(bob, alice) == DISPLAYABLE
    assert scannable_fingerprint(alice, bob) == ALICE_SCANNABLE_V1
    assert scannable_fingerprint(bob, alice) == BOB_SCANNABLE_V1


def test_safety_number_is_60_digits_and_the_same_on_both_sides() -> None:
    """Both parties compute the same 60 digits; another key changes them."""
    a, b, c = (IdentityKeyPair.generate().public for _ in range(3))
    number = safety_number(a, b)
    assert len(number) == 60
    assert number.isdigit()
    assert safety_number(b, a) == number
    assert safety_number(a, c) != number


def test_qr_payload_matches_the_peers_view_only() -> None:
    """The peer's QR payload matches ours; one for a different key does not."""
    a, b, c = (IdentityKeyPair.generate().public for _ in range(3))
    assert qr_payload_matches(qr_payload(b, a), a, b)
    assert not qr_payload_matches(qr_payload(c, a), a, b)
    assert not qr_payload_matches(qr_payload(a, b), a, b)
