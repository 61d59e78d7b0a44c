"""Identity keys and X25519 keys: generation, validation, conversion and their stored forms.

A party's long-term **identity** is an Ed25519 key pair. It signs (prekeys, publications,
consent records) and, converted with libsodium's Ed25519→Curve25519 map, takes part in X3DH as
an X25519 key. Every other Diffie-Hellman key (signed prekeys, one-time prekeys, X3DH ephemeral
keys, ratchet keys) is a plain X25519 key pair.

Invariants:
- A public key object exists only if its bytes passed validation: the right length, a canonical
  encoding, and not a low-order point (Ed25519: libsodium's `crypto_core_ed25519_is_valid_point`,
  which also refuses points outside the prime-order subgroup; X25519: u < p, top bit clear, and
  not one of the low-order u-coordinates). Anything else raises `InvalidKey`.
- Objects holding secrets print `<redacted>` from `repr` and `str`, and compare by identity only.
- `to_bytes`/`from_bytes` are the stored forms: the raw 32-byte public key, or the 32-byte
  Ed25519 seed / X25519 scalar for private keys. Callers store private forms only encrypted.
"""

from __future__ import annotations

import hmac

import nacl.bindings
import nacl.exceptions
import nacl.signing
import nacl.utils

from crypto.errors import InvalidKey, InvalidSignature

__all__ = [
    "KEY_SIZE",
    "SIGNATURE_SIZE",
    "IdentityKeyPair",
    "IdentityPublicKey",
    "X25519KeyPair",
    "X25519PublicKey",
]

KEY_SIZE = 32
SIGNATURE_SIZE = 64

_P = 2**255 - 19

# X25519 u-coordinates of small order (RFC 7748 section 7; the list libsodium blacklists).
# Together with the canonical-encoding check (u < p, top bit clear) this refuses every
# low-order input.
_LOW_ORDER_U = frozenset(
    (
        0,
        1,
        325606250916557431795983626356110631294008115727848805560023387167927233504,
        39382357235489614581723060781553021112529911719440698176882885853963445705823,
        _P - 1,
    )
)

_REDACTED = "<redacted>"


def _check_length(untrusted: bytes, size: int) -> bytes:
    if type(untrusted) is bytes and len(untrusted) == size:  # the common case, on every message
        return untrusted
    if not isinstance(untrusted, bytes | bytearray) or len(untrusted) != size:
        raise InvalidKey("key has the wrong length")
    return bytes(untrusted)


class X25519PublicKey:
    """A validated X25519 public key (32-byte little-endian u-coordinate)."""

    __slots__ = ("_raw",)

    def __init__(self, untrusted_raw: bytes) -> None:
        """Validate and wrap 32 bytes.

        Raises:
            InvalidKey: wrong length, non-canonical encoding, or a low-order point.
        """
        raw = _check_length(untrusted_raw, KEY_SIZE)
        u = int.from_bytes(raw, "little")
        if u >= _P or u in _LOW_ORDER_U:
            raise InvalidKey("key is not a valid X25519 public key")
        self._raw = raw

    @classmethod
    def from_bytes(cls, untrusted_raw: bytes) -> X25519PublicKey:
        """Parse the stored form. Raises `InvalidKey` as the constructor does."""
        return cls(untrusted_raw)

    def to_bytes(self) -> bytes:
        """The raw 32 bytes."""
        return self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519PublicKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return "X25519PublicKey(<32 bytes>)"


class X25519KeyPair:
    """An X25519 private scalar and its public key. Secret: prints `<redacted>`."""

    __slots__ = ("_private", "public")

    def __init__(self, private: bytes) -> None:
        """Wrap a 32-byte private scalar (libsodium clamps it when used).

        Raises:
            InvalidKey: the scalar is not 32 bytes, or yields an invalid public key.
        """
        self._private = _check_length(private, KEY_SIZE)
        self.public = X25519PublicKey(nacl.bindings.crypto_scalarmult_base(self._private))

    @classmethod
    def generate(cls) -> X25519KeyPair:
        """A fresh random key pair."""
        return cls(nacl.utils.random(KEY_SIZE))

    @classmethod
    def from_bytes(cls, private: bytes) -> X25519KeyPair:
        """Restore from the stored 32-byte scalar. Raises `InvalidKey`."""
        return cls(private)

    def to_bytes(self) -> bytes:
        """The private scalar: store it only encrypted."""
        return self._private

    def exchange(self, peer: X25519PublicKey) -> bytes:
        """X25519(own private, peer public): a 32-byte shared secret.

        Raises:
            InvalidKey: the result is all zeros (cannot happen for a validated peer key).
        """
        try:
            return nacl.bindings.crypto_scalarmult(self._private, peer.to_bytes())
        except nacl.exceptions.RuntimeError as exc:
            raise InvalidKey("key agreement produced a degenerate secret") from exc

    def __repr__(self) -> str:
        return f"X25519KeyPair({_REDACTED})"

    __str__ = __repr__


class IdentityPublicKey:
    """A validated Ed25519 identity public key."""

    __slots__ = ("_raw", "_verify_key", "_x25519")

    def __init__(self, untrusted_raw: bytes) -> None:
        """Validate and wrap 32 bytes.

        Raises:
            InvalidKey: wrong length, not a canonical point, a low-order point, or a point outside
                the prime-order subgroup.
        """
        raw = _check_length(untrusted_raw, KEY_SIZE)
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
            raise InvalidKey("key is not a valid Ed25519 public key")
        try:
            x25519 = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(raw)
        except nacl.exceptions.RuntimeError as exc:  # pragma: no cover - refused above
            raise InvalidKey("key is not a valid Ed25519 public key") from exc
        self._raw = raw
        self._verify_key = nacl.signing.VerifyKey(raw)
        self._x25519 = X25519PublicKey(x25519)

    @classmethod
    def from_bytes(cls, untrusted_raw: bytes) -> IdentityPublicKey:
        """Parse the stored form. Raises `InvalidKey` as the constructor does."""
        return cls(untrusted_raw)

    def to_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._raw

    def to_x25519(self) -> X25519PublicKey:
        """The birationally equivalent Curve25519 key (libsodium's conversion)."""
        return self._x25519

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check an Ed25519 signature over `message`.

        Raises:
            InvalidSignature: the signature is malformed or does not verify.
        """
        if len(signature) != SIGNATURE_SIZE:
            raise InvalidSignature("signature has the wrong length")
        try:
            self._verify_key.verify(message, signature)
        except nacl.exceptions.BadSignatureError as exc:
            raise InvalidSignature("signature does not verify") from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdentityPublicKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return "IdentityPublicKey(<32 bytes>)"


class IdentityKeyPair:
    """An Ed25519 identity key pair (stored as its 32-byte seed). Secret: prints `<redacted>`."""

    __slots__ = ("_signing_key", "_x25519", "public")

    def __init__(self, seed: bytes) -> None:
        """Wrap a 32-byte Ed25519 seed.

        Raises:
            InvalidKey: the seed is not 32 bytes.
        """
        seed = _check_length(seed, KEY_SIZE)
        self._signing_key = nacl.signing.SigningKey(seed)
        self.public = IdentityPublicKey(bytes(self._signing_key.verify_key))
        x_private = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
            seed + self.public.to_bytes()
        )
        self._x25519 = X25519KeyPair(x_private)

    @classmethod
    def generate(cls) -> IdentityKeyPair:
        """A fresh random identity."""
        return cls(nacl.utils.random(KEY_SIZE))

    @classmethod
    def from_bytes(cls, seed: bytes) -> IdentityKeyPair:
        """Restore from the stored seed. Raises `InvalidKey`."""
        return cls(seed)

    def to_bytes(self) -> bytes:
        """The 32-byte seed: store it only encrypted."""
        return bytes(self._signing_key)

    def sign(self, message: bytes) -> bytes:
        """A 64-byte Ed25519 signature over `message`."""
        return self._signing_key.sign(message).signature

    def x25519(self) -> X25519KeyPair:
        """The identity as an X25519 key pair (libsodium's Ed25519→Curve25519 conversion)."""
        return self._x25519

    def __repr__(self) -> str:
        return f"IdentityKeyPair({_REDACTED})"

    __str__ = __repr__
