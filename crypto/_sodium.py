"""The per-message libsodium calls, made straight through PyNaCl's own cffi binding.

Why: PyNaCl's public wrappers (`nacl.bindings`) check every argument with eagerly formatted
error messages, and for a chat-sized message that costs more than the cipher itself (measured
with callgrind: 42,000 instructions per 256-byte XChaCha20-Poly1305 decryption through the
wrapper, 19,500 through the binding). These functions call the *same* libsodium functions
through the *same* binding (`nacl._sodium`, PyNaCl's compiled module, which every PyNaCl 1.x
release ships and `pyproject.toml` pins), keeping the checks that make the calls memory-safe.

Invariants:
- Every argument is `bytes`; keys and nonces have exactly their libsodium sizes, and lengths
  passed to C are the Python lengths of those same objects, so no call reads or writes out of
  bounds. Anything else raises `ValueError` before reaching C.
- Results equal the public wrappers' byte for byte; a failed authentication or unpadding raises
  `ValueError` (`tests/crypto/test_sodium.py` checks both against `nacl.bindings`).
- Nothing here keeps, logs or prints its inputs.
"""

from __future__ import annotations

from typing import Any

from nacl import _sodium

__all__ = [
    "AEAD_KEY_SIZE",
    "AEAD_NONCE_SIZE",
    "AEAD_TAG_SIZE",
    "aead_decrypt",
    "aead_encrypt",
    "unpad",
]

_ffi: Any = _sodium.ffi
_lib: Any = _sodium.lib

AEAD_KEY_SIZE = int(_lib.crypto_aead_xchacha20poly1305_ietf_keybytes())
AEAD_NONCE_SIZE = int(_lib.crypto_aead_xchacha20poly1305_ietf_npubbytes())
AEAD_TAG_SIZE = int(_lib.crypto_aead_xchacha20poly1305_ietf_abytes())
_MAX_MESSAGE = 2**31  # far above any envelope; keeps every length well inside C's types


def _check(key: bytes, nonce: bytes, *data: bytes) -> None:
    if type(key) is not bytes or len(key) != AEAD_KEY_SIZE:
        raise ValueError("AEAD key must be 32 bytes")
    if type(nonce) is not bytes or len(nonce) != AEAD_NONCE_SIZE:
        raise ValueError("AEAD nonce must be 24 bytes")
    for item in data:
        if type(item) is not bytes or len(item) > _MAX_MESSAGE:
            raise ValueError("AEAD input must be bytes of a sane length")


def aead_encrypt(plaintext: bytes, associated_data: bytes, nonce: bytes, key: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF encryption: ciphertext || tag (as `nacl.bindings`' function).

    Raises:
        ValueError: an argument is not bytes of the right size.
    """
    _check(key, nonce, plaintext, associated_data)
    size = len(plaintext) + AEAD_TAG_SIZE
    out = _ffi.new("unsigned char[]", size)
    out_len = _ffi.new("unsigned long long *")
    if (
        _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
            out,
            out_len,
            plaintext,
            len(plaintext),
            associated_data,
            len(associated_data),
            _ffi.NULL,
            nonce,
            key,
        )
        != 0
    ):  # pragma: no cover - libsodium's encryption does not fail
        raise ValueError("encryption failed")
    return bytes(_ffi.buffer(out, out_len[0]))


def aead_decrypt(ciphertext: bytes, associated_data: bytes, nonce: bytes, key: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF decryption of ciphertext || tag.

    Raises:
        ValueError: an argument is malformed, or the ciphertext does not authenticate.
    """
    _check(key, nonce, ciphertext, associated_data)
    if len(ciphertext) < AEAD_TAG_SIZE:
        raise ValueError("ciphertext too short")
    out = _ffi.new("unsigned char[]", max(len(ciphertext) - AEAD_TAG_SIZE, 1))
    out_len = _ffi.new("unsigned long long *")
    if (
        _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
            out,
            out_len,
            _ffi.NULL,
            ciphertext,
            len(ciphertext),
            associated_data,
            len(associated_data),
            nonce,
            key,
        )
        != 0
    ):
        raise ValueError("authentication failed")
    return bytes(_ffi.buffer(out, out_len[0]))


def unpad(padded: bytes, block_size: int) -> bytes:
    """`sodium_unpad`: remove ISO/IEC 7816-4 padding to a multiple of `block_size`.

    Raises:
        ValueError: the padding is invalid.
    """
    if type(padded) is not bytes or not 0 < block_size <= len(padded):
        raise ValueError("bad padding")
    out_len = _ffi.new("size_t *")
    if _lib.sodium_unpad(out_len, padded, len(padded), block_size) != 0:
        raise ValueError("bad padding")
    return padded[: out_len[0]]
