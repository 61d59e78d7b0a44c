"""Passphrase to 32-byte key with Argon2id (libsodium's argon2id13).

The salt and the cost parameters are stored together, beside the data they protect, as a small
versioned JSON document (`KdfParams.to_json`). Because the parameters travel with the salt, the
cost can rise in a later release: old profiles keep opening with the parameters they were made
with, and re-keying writes new ones.

Invariants:
- A derived key is exactly 32 bytes; the same passphrase and `KdfParams` give the same key.
- Parameters read from disk are bounded (`MIN_*`/`MAX_*`), so a tampered parameter file cannot
  exhaust memory. The lower bounds are libsodium's minimum (tests use it); lowering the cost
  in a file gains an attacker nothing, since other parameters derive another key and the
  stored key check refuses it. New keys always get `DEFAULT_*`: the app and the CLI have no
  setting that lowers them.
- Nothing here logs or keeps the passphrase.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.utils

from crypto.errors import PassphraseError

__all__ = ["KEY_SIZE", "SALT_SIZE", "KdfParams", "derive_key"]

KEY_SIZE = 32
SALT_SIZE = nacl.pwhash.argon2id.SALTBYTES  # 16

# Default cost: about half a second and 256 MiB on the 2-core reference machine.
DEFAULT_OPSLIMIT = 3
DEFAULT_MEMLIMIT = 256 * 1024 * 1024

MIN_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MIN
MIN_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MIN  # 8 KiB: used only by fast tests
# The most a stored header may ask for: four times the default memory, five times its passes.
# The header comes from a file (a profile's, or a notes export someone hands over), so its
# cost is untrusted: 4 GiB and 64 passes would stall or exhaust the machine that opens it.
MAX_OPSLIMIT = 16
MAX_MEMLIMIT = 1024 * 1024 * 1024

_FORMAT_VERSION = 1
_ALG = "argon2id13"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters and salt. Not secret, but not meant to be shown either."""

    salt: bytes
    opslimit: int = DEFAULT_OPSLIMIT
    memlimit: int = DEFAULT_MEMLIMIT

    def __post_init__(self) -> None:
        if len(self.salt) != SALT_SIZE:
            raise PassphraseError("salt has the wrong length")
        if not MIN_OPSLIMIT <= self.opslimit <= MAX_OPSLIMIT:
            raise PassphraseError("Argon2id opslimit out of range")
        if not MIN_MEMLIMIT <= self.memlimit <= MAX_MEMLIMIT:
            raise PassphraseError("Argon2id memlimit out of range")

    @classmethod
    def generate(
        cls, opslimit: int = DEFAULT_OPSLIMIT, memlimit: int = DEFAULT_MEMLIMIT
    ) -> KdfParams:
        """Fresh random salt with the given cost."""
        return cls(nacl.utils.random(SALT_SIZE), opslimit, memlimit)

    def to_json(self) -> str:
        """The stored form: versioned JSON, salt in base64."""
        return json.dumps(
            {
                "version": _FORMAT_VERSION,
                "alg": _ALG,
                "opslimit": self.opslimit,
                "memlimit": self.memlimit,
                "salt": base64.b64encode(self.salt).decode("ascii"),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, untrusted_text: str) -> KdfParams:
        """Parse the stored form.

        Raises:
            PassphraseError: not valid JSON, an unknown version or algorithm, or parameters
                out of range.
        """
        try:
            doc: Any = json.loads(untrusted_text)
            if not isinstance(doc, dict):
                raise PassphraseError("KDF parameters are not an object")
            if doc.get("version") != _FORMAT_VERSION or doc.get("alg") != _ALG:
                raise PassphraseError("unknown KDF parameter format")
            ops, mem, salt_b64 = doc["opslimit"], doc["memlimit"], doc["salt"]
            if not (isinstance(ops, int) and isinstance(mem, int) and isinstance(salt_b64, str)):
                raise PassphraseError("KDF parameters have the wrong types")
            salt = base64.b64decode(salt_b64, validate=True)
        except PassphraseError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise PassphraseError("KDF parameters are unreadable") from exc
        return cls(salt, ops, mem)

    def __repr__(self) -> str:
        return f"KdfParams(opslimit={self.opslimit}, memlimit={self.memlimit}, salt=<redacted>)"


def derive_key(passphrase: str, params: KdfParams) -> bytes:
    """Stretch `passphrase` into a 32-byte key with Argon2id.

    Raises:
        PassphraseError: the passphrase is empty or libsodium refused the parameters.
    """
    if not passphrase:
        raise PassphraseError("the passphrase is empty")
    try:
        return nacl.pwhash.argon2id.kdf(
            KEY_SIZE,
            passphrase.encode("utf-8"),
            params.salt,
            opslimit=params.opslimit,
            memlimit=params.memlimit,
        )
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError) as exc:
        raise PassphraseError("key derivation failed") from exc
