"""Internal helpers: strict msgpack, length prefixes and HKDF-SHA-256.

Invariants:
- `unpack` refuses trailing bytes, extension types, non-string map keys and anything larger than
  the caller's size bound; it raises the caller's exception class with a fixed message.
- `hkdf_sha256` is RFC 5869 HKDF with SHA-256 (stdlib `hmac`), used for X3DH and nothing that
  needs more than 255 blocks.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Any

import msgpack

from crypto.errors import CryptoError

__all__ = ["hkdf_sha256", "lp", "pack", "unpack"]


def pack(obj: Any) -> bytes:
    """Canonical msgpack: binary as `bin`, text as `str`, smallest integer encodings."""
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


def unpack(untrusted: bytes, max_size: int, error: type[CryptoError], message: str) -> Any:
    """Decode one msgpack object strictly, or raise `error(message)`."""
    if len(untrusted) > max_size:
        raise error(message)
    try:
        return msgpack.unpackb(
            untrusted,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_bin_len=max_size,
            max_str_len=max_size,
            max_array_len=max_size,
            max_map_len=max_size,
            max_ext_len=0,
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.UnpackException) as exc:
        raise error(message) from exc


def lp(data: bytes) -> bytes:
    """`data` prefixed with its length as a big-endian uint32."""
    return struct.pack(">I", len(data)) + data


def hkdf_sha256(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA-256 (extract then expand)."""
    prk = hmac.digest(salt or b"\x00" * 32, ikm, hashlib.sha256)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes((counter,)), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]
