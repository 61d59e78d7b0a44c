"""X3DH session setup (Signal's spec) on PyNaCl: prekey bundles, the prekey store, agreement.

The responder (a counselor) owns a `PrekeyStore`: a signed prekey (rotated; each retired one kept
for a grace period so messages already in flight still open) and a pool of one-time prekeys
(refilled). It publishes a `PrekeyBundle`; the relay hands out each one-time prekey once. The
initiator verifies the bundle (`PrekeyBundle.verify`) and runs `initiate`; the responder runs
`PrekeyStore.agree` on the `X3DHHeader` that arrives in the first envelope, and only after the
first message has decrypted does it `consume` the one-time prekey.

    DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)   DH4 = DH(EK_A, OPK_B)
    SK  = HKDF-SHA-256(salt = 32 zero bytes, ikm = 32 x 0xFF || DH1 || DH2 || DH3 [|| DH4],
                       info = "securechat/v1/x3dh", 32 bytes)

Identity keys are Ed25519 and enter the DH as their libsodium Curve25519 conversion. The
signed-prekey signature is Ed25519 over `"securechat/v1/signed-prekey\\x00" || SPK`. This matches
the maintained `x3dh` package with the same info string and key encoding (cross-checked in
`tests/crypto/test_x3dh.py`).

Invariants:
- `initiate` refuses a bundle whose identity key differs from the pinned one (`IdentityMismatch`)
  before anything else, then one whose signature fails (`InvalidSignature`); keys with bad
  encodings or low order never become objects (`InvalidKey`).
- `PrekeyStore.agree` does not change the store; `consume` does, once, after success.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from crypto._codec import hkdf_sha256, pack, unpack
from crypto.errors import (
    DecryptionError,
    IdentityMismatch,
    InvalidKey,
    InvalidState,
    MalformedEnvelope,
)
from crypto.keys import (
    KEY_SIZE,
    IdentityKeyPair,
    IdentityPublicKey,
    X25519KeyPair,
    X25519PublicKey,
)

__all__ = [
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_ONE_TIME_PREKEYS",
    "DEFAULT_ROTATION_PERIOD",
    "MAX_ONE_TIME_PREKEYS",
    "MAX_RETIRED_SIGNED_PREKEYS",
    "NO_ONE_TIME_PREKEY",
    "SIGNED_PREKEY_DOMAIN",
    "X3DH_INFO",
    "PrekeyBundle",
    "PrekeyStore",
    "X3DHHeader",
    "initiate",
]

SIGNED_PREKEY_DOMAIN = b"securechat/v1/signed-prekey\x00"
X3DH_INFO = b"securechat/v1/x3dh"
DEFAULT_ROTATION_PERIOD = 7 * 24 * 3600
DEFAULT_GRACE_PERIOD = 30 * 24 * 3600
DEFAULT_ONE_TIME_PREKEYS = 100
MAX_ONE_TIME_PREKEYS = 1000
MAX_RETIRED_SIGNED_PREKEYS = 8
NO_ONE_TIME_PREKEY = 0
_MAX_ID = 2**32 - 1
_STORE_VERSION = 1
_BUNDLE_VERSION = 1
_MAX_BUNDLE_SIZE = 512
_MAX_STORE_SIZE = 256 * 1024


def _spk_message(spk: X25519PublicKey) -> bytes:
    return SIGNED_PREKEY_DOMAIN + spk.to_bytes()


def _derive(dh: list[bytes]) -> bytes:
    return hkdf_sha256(b"\x00" * 32, b"\xff" * 32 + b"".join(dh), X3DH_INFO, 32)


def _check_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_ID:
        raise MalformedEnvelope("prekey id out of range")
    return value


@dataclass(frozen=True)
class X3DHHeader:
    """What the initiator sends so the responder can derive the same secret (not secret)."""

    initiator_identity: IdentityPublicKey
    ephemeral_key: X25519PublicKey
    signed_prekey_id: int
    one_time_prekey_id: int  # NO_ONE_TIME_PREKEY (0) when the bundle had none

    SIZE = 2 * KEY_SIZE + 8

    def to_bytes(self) -> bytes:
        """Fixed 72 bytes: identity(32) || ephemeral(32) || spk id(u32 BE) || opk id(u32 BE)."""
        return (
            self.initiator_identity.to_bytes()
            + self.ephemeral_key.to_bytes()
            + struct.pack(">II", self.signed_prekey_id, self.one_time_prekey_id)
        )

    @classmethod
    def from_bytes(cls, untrusted: bytes) -> X3DHHeader:
        """Parse the fixed layout.

        Raises:
            MalformedEnvelope: wrong length.
            InvalidKey: a key is malformed or of low order.
        """
        if len(untrusted) != cls.SIZE:
            raise MalformedEnvelope("X3DH header has the wrong length")
        spk_id, opk_id = struct.unpack(">II", untrusted[64:72])
        return cls(
            IdentityPublicKey(untrusted[:32]), X25519PublicKey(untrusted[32:64]), spk_id, opk_id
        )


@dataclass(frozen=True)
class PrekeyBundle:
    """A responder's public prekeys as handed out by the relay: one one-time prekey at most."""

    identity: IdentityPublicKey
    signed_prekey_id: int
    signed_prekey: X25519PublicKey
    signed_prekey_signature: bytes
    one_time_prekey_id: int = NO_ONE_TIME_PREKEY
    one_time_prekey: X25519PublicKey | None = None

    def verify(self, pinned_identity: IdentityPublicKey) -> None:
        """Check the bundle belongs to `pinned_identity` and its signed prekey is signed.

        Raises:
            IdentityMismatch: the bundle's identity key is not the pinned one.
            InvalidSignature: the signed-prekey signature does not verify.
            MalformedEnvelope: one-time prekey id and key are inconsistent.
        """
        if self.identity != pinned_identity:
            raise IdentityMismatch("the bundle's identity key does not match the invite")
        self.identity.verify(self.signed_prekey_signature, _spk_message(self.signed_prekey))
        if (self.one_time_prekey is None) != (self.one_time_prekey_id == NO_ONE_TIME_PREKEY):
            raise MalformedEnvelope("one-time prekey id and key disagree")

    def to_bytes(self) -> bytes:
        """msgpack `[1, identity, spk_id, spk, signature, opk_id, opk | nil]`."""
        opk = None if self.one_time_prekey is None else self.one_time_prekey.to_bytes()
        return pack(
            [
                _BUNDLE_VERSION,
                self.identity.to_bytes(),
                self.signed_prekey_id,
                self.signed_prekey.to_bytes(),
                self.signed_prekey_signature,
                self.one_time_prekey_id,
                opk,
            ]
        )

    @classmethod
    def from_bytes(cls, untrusted: bytes) -> PrekeyBundle:
        """Parse a bundle (does not verify it: call `verify`).

        Raises:
            MalformedEnvelope: not a bundle of a known version.
            InvalidKey: a key is malformed or of low order.
        """
        doc = unpack(untrusted, _MAX_BUNDLE_SIZE, MalformedEnvelope, "malformed prekey bundle")
        if not (isinstance(doc, list) and len(doc) == 7 and doc[0] == _BUNDLE_VERSION):
            raise MalformedEnvelope("malformed prekey bundle")
        _, ik, spk_id, spk, sig, opk_id, opk = doc
        if not (isinstance(ik, bytes) and isinstance(spk, bytes) and isinstance(sig, bytes)):
            raise MalformedEnvelope("malformed prekey bundle")
        if opk is not None and not isinstance(opk, bytes):
            raise MalformedEnvelope("malformed prekey bundle")
        return cls(
            IdentityPublicKey(ik),
            _check_id(spk_id),
            X25519PublicKey(spk),
            sig,
            _check_id(opk_id),
            None if opk is None else X25519PublicKey(opk),
        )


def initiate(
    own_identity: IdentityKeyPair,
    bundle: PrekeyBundle,
    pinned_identity: IdentityPublicKey,
) -> tuple[bytes, X3DHHeader]:
    """Run X3DH as the initiator against a verified bundle.

    Returns:
        The 32-byte shared secret and the header to send in the first envelope.

    Raises:
        IdentityMismatch: the bundle is not from the pinned identity.
        InvalidSignature: the signed prekey is not signed by that identity.
        MalformedEnvelope: the bundle is inconsistent.
    """
    bundle.verify(pinned_identity)
    ephemeral = X25519KeyPair.generate()
    dh = [
        own_identity.x25519().exchange(bundle.signed_prekey),
        ephemeral.exchange(bundle.identity.to_x25519()),
        ephemeral.exchange(bundle.signed_prekey),
    ]
    if bundle.one_time_prekey is not None:
        dh.append(ephemeral.exchange(bundle.one_time_prekey))
    header = X3DHHeader(
        own_identity.public, ephemeral.public, bundle.signed_prekey_id, bundle.one_time_prekey_id
    )
    return _derive(dh), header


@dataclass
class _SignedPrekey:
    id: int
    pair: X25519KeyPair
    signature: bytes
    created: int
    retired: int | None = None


class PrekeyStore:
    """A responder's private prekeys. Secret: prints `<redacted>`; store `to_bytes` encrypted.

    Time is passed in (`now`, Unix seconds) so rotation and grace periods are testable.
    Make one with `create` or `from_bytes`.
    """

    def __init__(
        self,
        current: _SignedPrekey,
        previous: list[_SignedPrekey],
        one_time: dict[int, X25519KeyPair],
        next_id: int,
    ) -> None:
        self._current = current
        self._previous = previous
        self._one_time = one_time
        self._next_id = next_id

    def _new_id(self) -> int:
        value = self._next_id
        self._next_id = 1 if value >= _MAX_ID else value + 1
        return value

    @classmethod
    def create(
        cls, identity: IdentityKeyPair, now: int, one_time: int = DEFAULT_ONE_TIME_PREKEYS
    ) -> PrekeyStore:
        """A fresh store with a signed prekey and `one_time` one-time prekeys."""
        pair = X25519KeyPair.generate()
        current = _SignedPrekey(1, pair, identity.sign(_spk_message(pair.public)), now)
        store = cls(current, [], {}, 2)
        store.refill(one_time, one_time)
        return store

    def _make_signed(self, identity: IdentityKeyPair, now: int) -> _SignedPrekey:
        pair = X25519KeyPair.generate()
        return _SignedPrekey(self._new_id(), pair, identity.sign(_spk_message(pair.public)), now)

    def rotate_signed_prekey(
        self,
        identity: IdentityKeyPair,
        now: int,
        period: int = DEFAULT_ROTATION_PERIOD,
        force: bool = False,
    ) -> bool:
        """Replace the signed prekey if it is older than `period` (or `force`); keep the retired
        one until `prune` drops it after the grace period (at most `MAX_RETIRED_SIGNED_PREKEYS`
        are kept, the oldest dropped first). Returns whether it rotated (then republish)."""
        if not force and now - self._current.created < period:
            return False
        self._current.retired = now
        self._previous = [*self._previous, self._current][-MAX_RETIRED_SIGNED_PREKEYS:]
        self._current = self._make_signed(identity, now)
        return True

    def prune(self, now: int, grace: int = DEFAULT_GRACE_PERIOD) -> None:
        """Forget retired signed prekeys whose grace period has passed."""
        self._previous = [p for p in self._previous if p.retired is None or now - p.retired < grace]

    def refill(
        self, threshold: int = DEFAULT_ONE_TIME_PREKEYS // 2, target: int = DEFAULT_ONE_TIME_PREKEYS
    ) -> list[tuple[int, X25519PublicKey]]:
        """If fewer than `threshold` one-time prekeys remain, generate up to `target`.

        Returns:
            The new one-time prekeys (id, public key) to upload; empty if none were needed.
        """
        target = min(target, MAX_ONE_TIME_PREKEYS)
        if len(self._one_time) >= threshold:
            return []
        added: list[tuple[int, X25519PublicKey]] = []
        while len(self._one_time) < target:
            pair = X25519KeyPair.generate()
            key_id = self._new_id()
            self._one_time[key_id] = pair
            added.append((key_id, pair.public))
        return added

    def one_time_prekeys(self) -> list[tuple[int, X25519PublicKey]]:
        """Every unused one-time prekey (id, public key), for upload to the relay."""
        return [(key_id, pair.public) for key_id, pair in self._one_time.items()]

    def bundle(
        self, identity: IdentityKeyPair, one_time_prekey_id: int | None = None
    ) -> PrekeyBundle:
        """The public bundle, with the named one-time prekey or none.

        Raises:
            InvalidKey: the one-time prekey id is unknown.
        """
        opk: X25519PublicKey | None = None
        if one_time_prekey_id is not None:
            pair = self._one_time.get(one_time_prekey_id)
            if pair is None:
                raise InvalidKey("unknown one-time prekey")
            opk = pair.public
        return PrekeyBundle(
            identity.public,
            self._current.id,
            self._current.pair.public,
            self._current.signature,
            one_time_prekey_id or NO_ONE_TIME_PREKEY,
            opk,
        )

    def agree(self, identity: IdentityKeyPair, header: X3DHHeader) -> tuple[bytes, X25519KeyPair]:
        """Derive the responder's shared secret for `header`, without changing the store.

        Returns:
            The 32-byte shared secret and the signed prekey pair used (the ratchet's first key).

        Raises:
            DecryptionError: the signed or one-time prekey named is unknown (used, expired, or
                never ours).
        """
        spk = None
        for candidate in (self._current, *self._previous):
            if candidate.id == header.signed_prekey_id:
                spk = candidate.pair
        if spk is None:
            raise DecryptionError()
        dh = [
            spk.exchange(header.initiator_identity.to_x25519()),
            identity.x25519().exchange(header.ephemeral_key),
            spk.exchange(header.ephemeral_key),
        ]
        if header.one_time_prekey_id != NO_ONE_TIME_PREKEY:
            opk = self._one_time.get(header.one_time_prekey_id)
            if opk is None:
                raise DecryptionError()
            dh.append(opk.exchange(header.ephemeral_key))
        return _derive(dh), spk

    def consume(self, one_time_prekey_id: int) -> None:
        """Delete a one-time prekey after the first message using it has decrypted."""
        self._one_time.pop(one_time_prekey_id, None)

    def to_bytes(self) -> bytes:
        """Versioned msgpack: `[1, next_id, current, [retired, ...], [[id, scalar], ...]]`,
        each signed prekey as `[id, scalar, signature, created, retired | nil]`."""

        def spk(s: _SignedPrekey) -> list[Any]:
            return [s.id, s.pair.to_bytes(), s.signature, s.created, s.retired]

        return pack(
            [
                _STORE_VERSION,
                self._next_id,
                spk(self._current),
                [spk(p) for p in self._previous],
                [[key_id, pair.to_bytes()] for key_id, pair in self._one_time.items()],
            ]
        )

    @classmethod
    def from_bytes(cls, stored: bytes) -> PrekeyStore:
        """Restore a store.

        Raises:
            InvalidState: not a store of a known version, or a key in it is malformed.
        """
        doc = unpack(stored, _MAX_STORE_SIZE, InvalidState, "malformed prekey store")
        try:
            version, next_id, cur, prev, opks = doc
            if version != _STORE_VERSION:
                raise InvalidState("unknown prekey store version")

            def spk(s: list[Any]) -> _SignedPrekey:
                key_id, scalar, sig, created, retired = s
                return _SignedPrekey(
                    _check_id(key_id), X25519KeyPair(scalar), bytes(sig), int(created), retired
                )

            one_time = {_check_id(i): X25519KeyPair(k) for i, k in opks}
            retired = [spk(p) for p in prev]
            if len(retired) > MAX_RETIRED_SIGNED_PREKEYS:
                raise InvalidState("too many retired signed prekeys")
            return cls(spk(cur), retired, one_time, _check_id(next_id))
        except (TypeError, ValueError, InvalidKey, MalformedEnvelope) as exc:
            raise InvalidState("malformed prekey store") from exc

    def __repr__(self) -> str:
        return "PrekeyStore(<redacted>)"

    __str__ = __repr__
