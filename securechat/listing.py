"""First-contact documents: the signed listing, queue addresses, one-time prekey encoding.

A counselor publishes, on the relay, a *listing*: the signed publication of `crypto.documents`
(profile, disclosures, signed prekey) plus the sender id of the counselor's intake queue, bound
to it by a second signature from the same identity key:

    listing   = msgpack [1, publication, intake_sid, signature]
    signature = Ed25519_identity("securechat/v1/intake\\x00" || lp(publication) || intake_sid)

`open_listing` verifies both signatures against the identity key pinned by the invite, so the
relay can neither swap the disclosure nor redirect first messages to a queue of its choosing.

A *queue address* tells the peer where to send and with which key:

    address = msgpack [1, sender_id, sender_key_seed(32)]

It travels only inside end-to-end encrypted `Introduction` payloads. Each side creates its own
receive queue, secures it (KEY) with a fresh Ed25519 sender key, and hands the private half of
that sender key to the peer: the queue is secured from its first message, and nobody but the
peer (who holds the seed) can fill it.

A one-time prekey on the relay is `msgpack [id, public key(32)]`.

Invariants: parsing is strict (exact fields, types, sizes) and raises `InvalidPublication`
(listings) or `ValueError` (addresses, prekeys) with fixed messages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import msgpack

from crypto.documents import Publication, verify_publication
from crypto.errors import CryptoError
from crypto.keys import IdentityKeyPair, IdentityPublicKey, X25519PublicKey
from securechat.errors import InvalidPublication

__all__ = [
    "INTAKE_DOMAIN",
    "Listing",
    "QueueAddress",
    "decode_prekey",
    "encode_prekey",
    "open_listing",
    "seal_listing",
]

INTAKE_DOMAIN = b"securechat/v1/intake\x00"
_VERSION = 1
_MAX_LISTING = 256 * 1024
_ID_LEN = 16


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


def _unpack(untrusted: bytes, limit: int) -> Any:
    if len(untrusted) > limit:
        raise ValueError("too large")
    return msgpack.unpackb(
        untrusted, raw=False, strict_map_key=True, max_bin_len=limit, max_str_len=limit
    )


def _signed_part(publication: bytes, intake_sid: bytes) -> bytes:
    return INTAKE_DOMAIN + struct.pack(">I", len(publication)) + publication + intake_sid


@dataclass(frozen=True)
class Listing:
    """A verified listing: the publication and where to send the first message."""

    publication: Publication
    intake_sid: bytes

    def __repr__(self) -> str:
        return "Listing(<redacted>)"


def seal_listing(identity: IdentityKeyPair, publication: bytes, intake_sid: bytes) -> bytes:
    """Bind the intake queue's sender id to a signed publication."""
    return _pack(
        [_VERSION, publication, intake_sid, identity.sign(_signed_part(publication, intake_sid))]
    )


def open_listing(untrusted: bytes, pinned: IdentityPublicKey) -> Listing:
    """Verify a listing against the identity key the invite pinned.

    Raises:
        InvalidPublication: damaged, of an unknown version, signed by another key, or a
            signature does not verify.
    """
    try:
        doc = _unpack(untrusted, _MAX_LISTING)
        if not (isinstance(doc, list) and len(doc) == 4 and doc[0] == _VERSION):
            raise ValueError("unknown listing")
        _, publication, sid, signature = doc
        if not (
            isinstance(publication, bytes)
            and isinstance(sid, bytes)
            and len(sid) == _ID_LEN
            and isinstance(signature, bytes)
        ):
            raise ValueError("malformed listing")
        verified = verify_publication(publication, pinned)
        pinned.verify(signature, _signed_part(publication, sid))
    except (CryptoError, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise InvalidPublication() from exc
    return Listing(verified, sid)


@dataclass(frozen=True)
class QueueAddress:
    """Where to send to a peer: its queue's sender id and the sender key it gave us."""

    sid: bytes
    sender_seed: bytes

    def to_bytes(self) -> bytes:
        """msgpack `[1, sid, sender_seed]`."""
        return _pack([_VERSION, self.sid, self.sender_seed])

    @classmethod
    def from_bytes(cls, untrusted: bytes) -> QueueAddress:
        """Parse an address.

        Raises:
            ValueError: malformed.
        """
        try:
            doc = _unpack(untrusted, 256)
        except (msgpack.UnpackException, ValueError) as exc:
            raise ValueError("malformed queue address") from exc
        if not (isinstance(doc, list) and len(doc) == 3 and doc[0] == _VERSION):
            raise ValueError("malformed queue address")
        _, sid, seed = doc
        if not (isinstance(sid, bytes) and len(sid) == _ID_LEN):
            raise ValueError("malformed queue address")
        if not (isinstance(seed, bytes) and len(seed) == 32):
            raise ValueError("malformed queue address")
        return cls(sid, seed)

    def __repr__(self) -> str:
        return "QueueAddress(<redacted>)"

    __str__ = __repr__


def encode_prekey(key_id: int, key: X25519PublicKey) -> bytes:
    """A one-time prekey as uploaded to the relay: msgpack `[id, public key]`."""
    return _pack([key_id, key.to_bytes()])


def decode_prekey(untrusted: bytes) -> tuple[int, X25519PublicKey]:
    """Parse a one-time prekey handed out by the relay.

    Raises:
        ValueError: malformed (including a low-order key).
    """
    try:
        doc = _unpack(untrusted, 128)
        key_id, raw = doc
        if not (isinstance(key_id, int) and 1 <= key_id < 2**32 and isinstance(raw, bytes)):
            raise ValueError("malformed prekey")
        return key_id, X25519PublicKey(raw)
    except (CryptoError, TypeError, msgpack.UnpackException) as exc:
        raise ValueError("malformed prekey") from exc
