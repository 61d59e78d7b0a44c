"""Tests for crypto.passphrase: Argon2id key derivation and its stored parameters."""

from __future__ import annotations

import json

import nacl.pwhash
import pytest

from crypto.errors import PassphraseError
from crypto.passphrase import KEY_SIZE, MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams, derive_key

FAST = {"opslimit": MIN_OPSLIMIT, "memlimit": MIN_MEMLIMIT}


def test_same_passphrase_and_params_give_same_32_byte_key() -> None:
    """Derivation is deterministic for a given passphrase and stored parameters."""
    params = KdfParams.generate(**FAST)
    key = derive_key("correct horse", params)
    assert len(key) == KEY_SIZE
    assert derive_key("correct horse", params) == key


def test_other_passphrase_or_salt_gives_other_key() -> None:
    """A different passphrase or a different salt changes the key."""
    params = KdfParams.generate(**FAST)
    other_salt = KdfParams.generate(**FAST)
    key = derive_key("correct horse", params)
    assert derive_key("correct horsf", params) != key
    assert derive_key("correct horse", other_salt) != key


def test_matches_libsodium_argon2id_directly() -> None:
    """The key is libsodium's Argon2id output for the stored parameters, nothing else."""
    params = KdfParams(b"\x01" * 16, MIN_OPSLIMIT, MIN_MEMLIMIT)
    expected = nacl.pwhash.argon2id.kdf(
        32, b"pass", b"\x01" * 16, opslimit=MIN_OPSLIMIT, memlimit=MIN_MEMLIMIT
    )
    assert derive_key("pass", params) == expected


def test_params_round_trip_through_json() -> None:
    """Stored parameters read back to the same values."""
    params = KdfParams.generate(opslimit=4, memlimit=64 * 1024 * 1024)
    assert KdfParams.from_json(params.to_json()) == params


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=99),
        lambda d: d.update(alg="scrypt"),
        lambda d: d.update(opslimit=0),
        lambda d: d.update(memlimit=2**40),
        lambda d: d.update(memlimit=2**31),  # a hostile export asking for 2 GiB
        lambda d: d.update(opslimit=17),
        lambda d: d.update(salt="not base64!"),
        lambda d: d.update(salt="AAAA"),
        lambda d: d.pop("salt"),
        lambda d: d.update(opslimit="3"),
    ],
)
def test_tampered_params_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    """Unknown formats, wrong types and out-of-range costs raise PassphraseError."""
    doc = json.loads(KdfParams.generate(**FAST).to_json())
    mutate(doc)
    with pytest.raises(PassphraseError):
        KdfParams.from_json(json.dumps(doc))


def test_garbage_params_are_refused() -> None:
    """Text that is not JSON raises PassphraseError, not a parser error."""
    with pytest.raises(PassphraseError):
        KdfParams.from_json("\x00garbage")


def test_empty_passphrase_is_refused() -> None:
    """An empty passphrase is an error, never a key."""
    with pytest.raises(PassphraseError):
        derive_key("", KdfParams.generate(**FAST))


def test_repr_hides_salt() -> None:
    """The repr shows costs, not the salt."""
    params = KdfParams(b"\xaa" * 16, MIN_OPSLIMIT, MIN_MEMLIMIT)
    assert "<redacted>" in repr(params)
    assert "aa" not in repr(params).lower().replace("redacted", "")
