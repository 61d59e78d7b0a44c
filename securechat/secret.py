"""A holder for key material that never prints itself and can be wiped.

`SecretKey` keeps its bytes in a `bytearray` so `wipe()` can overwrite them in place. This is
best effort: Python may have made copies (the `bytes` returned by Argon2id, the hex string
handed to SQLCipher), which we drop as soon as we can but cannot scrub.

Invariants:
- `repr()` and `str()` print `<redacted>`, never key bytes.
- After `wipe()`, every accessor raises `ProfileLocked`.
"""

from __future__ import annotations

import hmac

from securechat.errors import ProfileLocked

__all__ = ["SecretKey"]


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
