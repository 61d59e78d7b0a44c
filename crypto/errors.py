"""The exception tree of `crypto`.

    CryptoError                  base of everything this package raises
    ├── DecryptionError          a message could not be authenticated or decrypted (no detail)
    │   └── ReplayedMessage      the message's key was already used: a duplicate or a replay
    ├── InvalidSignature         a signed document or prekey bundle failed verification
    ├── InvalidKey               a key is malformed, of the wrong length, or a low-order point
    ├── IdentityMismatch         a bundle's identity key differs from the one the invite pinned
    ├── TooManySkipped           a message lies further ahead than the skipped-key bound allows
    ├── MalformedEnvelope        bytes that are not a well-formed envelope of a known version
    ├── MalformedDocument        bytes that are not a well-formed signed document of a known version
    ├── InvalidState             stored state (session, prekey store) that cannot be restored
    └── PassphraseError          a passphrase cannot be turned into a key (bad parameters)

Messages are fixed strings, safe to show and to log: they never carry key material,
plaintext or attacker-controlled bytes.
"""

from __future__ import annotations

__all__ = [
    "CryptoError",
    "DecryptionError",
    "IdentityMismatch",
    "InvalidKey",
    "InvalidSignature",
    "InvalidState",
    "MalformedDocument",
    "MalformedEnvelope",
    "PassphraseError",
    "ReplayedMessage",
    "TooManySkipped",
]


class CryptoError(Exception):
    """Base class of every error raised by `crypto`."""


class DecryptionError(CryptoError):
    """A message failed authentication or decryption. Deliberately carries no detail."""

    def __init__(self) -> None:
        super().__init__("message could not be decrypted")


class ReplayedMessage(DecryptionError):
    """The message's key is gone: it was already decrypted (a duplicate delivery or a replay), or
    it was skipped so long ago that its key was evicted by the skipped-key bound. Safe to drop.

    Raised for messages of the receiving chain in use. A used or evicted message of an *older*
    chain cannot be told apart from a forgery and raises plain `DecryptionError`."""

    def __init__(self) -> None:
        CryptoError.__init__(self, "message was already decrypted")


class InvalidSignature(CryptoError):
    """A signature did not verify."""


class InvalidKey(CryptoError):
    """A public or private key is malformed, of the wrong size, or a low-order point."""


class IdentityMismatch(CryptoError):
    """The identity key presented differs from the one that was pinned."""


class TooManySkipped(CryptoError):
    """A message is further ahead in its chain than the skipped-message-key bound allows."""


class MalformedEnvelope(CryptoError):
    """Bytes that are not a well-formed envelope of a version this build understands."""


class MalformedDocument(CryptoError):
    """Bytes that are not a well-formed signed document (publication, consent) we understand."""


class InvalidState(CryptoError):
    """Stored state (a session or a prekey store) is corrupt or of an unknown version."""


class PassphraseError(CryptoError):
    """A passphrase could not be stretched into a key (parameters out of range)."""
