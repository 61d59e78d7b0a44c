"""Tests for crypto._sodium: the direct libsodium calls equal PyNaCl's public wrappers."""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
import nacl.utils
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto._sodium import aead_decrypt, aead_encrypt, unpad


@given(plaintext=st.binary(max_size=1200), associated_data=st.binary(max_size=300))
def test_aead_matches_pynacl_both_ways(plaintext: bytes, associated_data: bytes) -> None:
    """Encryption gives PyNaCl's bytes for the same key and nonce; each side opens the other's."""
    key, nonce = nacl.utils.random(32), nacl.utils.random(24)
    ours = aead_encrypt(plaintext, associated_data, nonce, key)
    theirs = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated_data, nonce, key
    )
    assert ours == theirs
    assert aead_decrypt(theirs, associated_data, nonce, key) == plaintext


@given(position=st.integers(0, 10_000), bit=st.integers(0, 7), part=st.sampled_from("cak"))
def test_aead_refuses_any_change_like_pynacl(position: int, bit: int, part: str) -> None:
    """A flipped bit in the ciphertext, associated data or key fails in both implementations."""
    key, nonce, associated_data = (nacl.utils.random(n) for n in (32, 24, 40))
    sealed = aead_encrypt(b"x" * 256, associated_data, nonce, key)
    args = {"c": bytearray(sealed), "a": bytearray(associated_data), "k": bytearray(key)}
    args[part][position % len(args[part])] ^= 1 << bit
    c, a, k = (bytes(args[name]) for name in "cak")
    with pytest.raises(ValueError, match="authentication failed"):
        aead_decrypt(c, a, nonce, k)
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(c, a, nonce, k)


@pytest.mark.parametrize(
    ("key", "nonce", "data"),
    [
        (bytes(31), bytes(24), b""),
        (bytes(33), bytes(24), b""),
        (bytearray(32), bytes(24), b""),
        (bytes(32), bytes(23), b""),
        (bytes(32), bytes(25), b""),
        (bytes(32), bytes(24), bytearray(16)),
        (bytes(32), bytes(24), "text"),
    ],
)
def test_malformed_arguments_never_reach_libsodium(
    key: object, nonce: object, data: object
) -> None:
    """Wrong key or nonce sizes and non-bytes inputs raise ValueError before any C call."""
    for call in (aead_encrypt, aead_decrypt):
        with pytest.raises(ValueError, match="AEAD"):
            call(data, b"", nonce, key)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too short"):
        aead_decrypt(bytes(15), b"", bytes(24), bytes(32))


@given(st.binary(max_size=1000), st.sampled_from([1, 16, 256]))
def test_unpad_matches_pynacl(data: bytes, block: int) -> None:
    """Unpadding returns what sodium_unpad returns, for padded and arbitrary inputs alike."""
    padded = nacl.bindings.sodium_pad(data, block)
    assert unpad(padded, block) == data == nacl.bindings.sodium_unpad(padded, block)
    try:
        expected: bytes | None = nacl.bindings.sodium_unpad(data, block)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError):
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="bad padding"):
            unpad(data, block)
    else:
        assert unpad(data, block) == expected
