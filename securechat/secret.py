"""A holder for key material that never prints itself and can be wiped; the rule for new
passphrases.

`SecretKey` keeps its bytes in a `bytearray` so `wipe()` can overwrite them in place. This is
best effort: Python may have made copies (the `bytes` returned by Argon2id, the hex string
handed to SQLCipher), which we drop as soon as we can but cannot scrub.

Invariants:
- `repr()` and `str()` print `<redacted>`, never key bytes.
- After `wipe()`, every accessor raises `ProfileLocked`.
"""

from __future__ import annotations

import hmac

from securechat.api import MIN_PASSPHRASE_LENGTH
from securechat.errors import InvalidInput, ProfileLocked

__all__ = ["SecretKey", "check_new_passphrase"]


def check_new_passphrase(passphrase: str, what: str = "passphrase") -> None:
    """Refuse a new passphrase (`what`: which one, for the message) shorter than
    `MIN_PASSPHRASE_LENGTH` characters. Existing passphrases are never checked: a profile made
    before the rule still unlocks.

    Raises:
        InvalidInput: too short (or empty).
    """
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise InvalidInput(
            f"The new {what} is too short: use at least {MIN_PASSPHRASE_LENGTH} characters "
            "(a few words are easy to remember and hard to guess). Nothing was saved."
        )


class SecretKey:
    """32 bytes of key material with a redacted repr and a best-effort `wipe()`."""

    __slots__ = ("_buf", "_wiped")

    def __init__(self, key: bytes | bytearray) -> None:
        self._buf = bytearray(key)
        self._wiped = False

    def _check(self) -> None:
        if self._wiped:
            raise ProfileLocked()

    def raw(self) -> bytes:
        """A copy of the key bytes. Raises ProfileLocked after `wipe()`."""
        self._check()
        return bytes(self._buf)

    def hex(self) -> str:
        """The key as lowercase hex. Raises ProfileLocked after `wipe()`."""
        self._check()
        return self._buf.hex()

    def equals(self, other: bytes | bytearray) -> bool:
        """Constant-time comparison. Raises ProfileLocked after `wipe()`."""
        self._check()
        return hmac.compare_digest(bytes(self._buf), bytes(other))

    def wipe(self) -> None:
        """Overwrite the bytes with zeros and mark the key unusable. Idempotent."""
        for i in range(len(self._buf)):
            self._buf[i] = 0
        self._wiped = True

    @property
    def wiped(self) -> bool:
        """True once `wipe()` has run."""
        return self._wiped

    def __len__(self) -> int:
        return len(self._buf)

    def __repr__(self) -> str:
        return "SecretKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SecretKey cannot be pickled")
