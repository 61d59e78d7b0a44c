"""Safety numbers: libsignal's numeric fingerprint (version 0 hashing, 5200 iterations).

For each party:

    h = 0x00 0x00 || key || stable_id;  repeat 5200 times: h = SHA-512(h || key)
    digits = for each of the first six 5-byte chunks of h: (big-endian int) mod 100000, 5 digits

The displayed safety number is the two 30-digit strings, the smaller first: 60 digits in all,
identical on both sides. The QR payload is libsignal's *scannable fingerprint*, version 1: the
protobuf `CombinedFingerprints { version = 1; local = { content = h_local[:32] };
remote = { content = h_remote[:32] } }`, byte for byte.

How our keys enter: `key` is libsignal's serialised public key, the DJB type byte 0x05 followed by
the 32-byte Curve25519 key; for our Ed25519 identity keys that is libsodium's Ed25519→Curve25519
conversion of the identity key. `stable_id` (libsignal uses the phone number) is, for us, the
ASCII string `securechat:` followed by the lowercase hex of the Ed25519 identity key, which both
sides know and which never changes for that identity.

Invariants: `safety_number(a, b) == safety_number(b, a)`; a different key on either side changes
both halves with overwhelming probability; nothing here logs.
"""

from __future__ import annotations

import hashlib
import hmac

from crypto.keys import IdentityPublicKey

__all__ = [
    "ITERATIONS",
    "SCANNABLE_VERSION",
    "displayable_fingerprint",
    "fingerprint_hash",
    "qr_payload",
    "qr_payload_matches",
    "safety_number",
    "scannable_fingerprint",
    "stable_id",
]

ITERATIONS = 5200
SCANNABLE_VERSION = 1
_FINGERPRINT_VERSION = b"\x00\x00"
_DJB_TYPE = b"\x05"


def fingerprint_hash(serialized_key: bytes, stable_identifier: bytes) -> bytes:
    """libsignal's iterated SHA-512 over one party's serialised key (0x05 || X25519 key)."""
    digest = _FINGERPRINT_VERSION + serialized_key + stable_identifier
    for _ in range(ITERATIONS):
        digest = hashlib.sha512(digest + serialized_key).digest()
    return digest


def _digits(digest: bytes) -> str:
    return "".join(
        f"{int.from_bytes(digest[i : i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5)
    )


def displayable_fingerprint(local_hash: bytes, remote_hash: bytes) -> str:
    """The 60 digits for two parties' fingerprint hashes, the smaller half first."""
    local, remote = _digits(local_hash), _digits(remote_hash)
    return local + remote if local <= remote else remote + local


def stable_id(identity: IdentityPublicKey) -> bytes:
    """Our stable identifier for an identity (see the module docstring)."""
    return b"securechat:" + identity.to_bytes().hex().encode("ascii")


def _hash_for(identity: IdentityPublicKey) -> bytes:
    return fingerprint_hash(_DJB_TYPE + identity.to_x25519().to_bytes(), stable_id(identity))


def safety_number(local: IdentityPublicKey, remote: IdentityPublicKey) -> str:
    """The 60-digit safety number for two identities (same on both sides)."""
    return displayable_fingerprint(_hash_for(local), _hash_for(remote))


def _logical(content: bytes) -> bytes:
    return b"\x0a" + bytes((len(content),)) + content


def scannable_fingerprint(local_hash: bytes, remote_hash: bytes) -> bytes:
    """libsignal's scannable fingerprint (version 1) for two fingerprint hashes."""
    local, remote = _logical(local_hash[:32]), _logical(remote_hash[:32])
    return (
        b"\x08"
        + bytes((SCANNABLE_VERSION,))
        + b"\x12"
        + bytes((len(local),))
        + local
        + b"\x1a"
        + bytes((len(remote),))
        + remote
    )


def qr_payload(local: IdentityPublicKey, remote: IdentityPublicKey) -> bytes:
    """The bytes to show as a QR code on the local side."""
    return scannable_fingerprint(_hash_for(local), _hash_for(remote))


def qr_payload_matches(
    untrusted_scanned: bytes, local: IdentityPublicKey, remote: IdentityPublicKey
) -> bool:
    """Whether a payload scanned from the peer's screen matches our view of both keys.

    The peer's payload has the halves swapped (their local is our remote). Never raises.
    """
    expected = scannable_fingerprint(_hash_for(remote), _hash_for(local))
    return hmac.compare_digest(untrusted_scanned, expected)
