"""Tests for crypto.ratchet: our KDFs equal the library's recommended ones; the copy is deep."""

from __future__ import annotations

import asyncio
import copy

import nacl.utils
from doubleratchet.recommended import HashFunction, kdf_hkdf, kdf_separate_hmacs

from crypto.envelope import Text
from crypto.ratchet import _CHAIN_CONSTANT, ROOT_KDF_INFO, _ChainKdf, _RootKdf
from tests.crypto.helpers import start


class _LibraryRoot(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256

    @staticmethod
    def _get_info() -> bytes:
        return ROOT_KDF_INFO


class _LibraryChain(kdf_separate_hmacs.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256


def test_kdfs_match_the_librarys_recommended_implementations() -> None:
    """Our stdlib HKDF and HMAC KDFs give exactly the doubleratchet recommended outputs."""
    for _ in range(20):
        key, data = nacl.utils.random(32), nacl.utils.random(32)
        ours = asyncio.run(_RootKdf.derive(key, data, 64))
        assert ours == asyncio.run(_LibraryRoot.derive(key, data, 64))
        ours = asyncio.run(_ChainKdf.derive(key, _CHAIN_CONSTANT, 64))
        assert ours == asyncio.run(_LibraryChain.derive(key, _CHAIN_CONSTANT, 64))


def test_ratchet_copy_is_independent_of_the_original() -> None:
    """The fast copy used for transactional decryption shares no mutable chain with the original."""
    pair = start()
    dh = pair.bob._ratchet._dr._DoubleRatchet__diffie_hellman_ratchet  # type: ignore[attr-defined]
    clone = copy.deepcopy(dh)
    before = clone.model.model_dump_json()
    assert before == dh.model.model_dump_json()
    pair.bob.decrypt(pair.alice.encrypt(Text("advance the original")))
    pair.bob.encrypt(Text("and its sending chain"))
    assert clone.model.model_dump_json() == before
