"""Tests for "remember on this device" through keyring, with a test backend only."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from securechat import profiles
from securechat.errors import KeyringUnavailable, NotRemembered, WrongPassphrase
from tests.securechat.conftest import PASSPHRASE, MemoryKeyring, fast_kdf


def test_remember_round_trip(
    home: Path, counselor: profiles.Profile, memory_keyring: MemoryKeyring
) -> None:
    """A remembered profile unlocks without its passphrase; forgetting removes the entry."""
    profiles.remember_on_device(counselor)
    seed = counselor.identity_seed()
    counselor.lock()
    assert profiles.is_remembered("sari", home=home)
    with profiles.unlock_remembered("sari", home=home) as again:
        assert again.identity_seed() == seed
    assert profiles.forget_on_device("sari", home=home)
    assert memory_keyring.items == {}
    with pytest.raises(NotRemembered):
        profiles.unlock_remembered("sari", home=home)


def test_keyring_holds_key_not_passphrase(
    counselor: profiles.Profile, memory_keyring: MemoryKeyring
) -> None:
    """What the keyring stores is the derived key (64 hex chars), never the passphrase."""
    profiles.remember_on_device(counselor)
    (value,) = memory_keyring.items.values()
    assert PASSPHRASE not in value
    assert len(value) == 64
    (username,) = (u for (_, u) in memory_keyring.items)
    assert "sari" not in username


def test_remembered_key_follows_passphrase_change(home: Path, counselor: profiles.Profile) -> None:
    """After a passphrase change the remembered key is replaced and still unlocks."""
    profiles.remember_on_device(counselor)
    profiles.change_passphrase(counselor, "a brand new passphrase", kdf=fast_kdf())
    counselor.lock()
    with profiles.unlock_remembered("sari", home=home):
        pass


def test_stale_remembered_key_is_wrong_passphrase(
    home: Path, counselor: profiles.Profile, memory_keyring: MemoryKeyring
) -> None:
    """A remembered key that no longer matches gives WrongPassphrase, not a crash."""
    profiles.remember_on_device(counselor)
    counselor.lock()
    for k in memory_keyring.items:
        memory_keyring.items[k] = "00" * 32
    with pytest.raises(WrongPassphrase):
        profiles.unlock_remembered("sari", home=home)


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring])
def test_no_keyring_is_clear_error(home: Path, counselor: profiles.Profile, backend: type) -> None:
    """Without a usable backend, remembering raises KeyringUnavailable with advice."""
    keyring.set_keyring(backend())
    with pytest.raises(KeyringUnavailable) as info:
        profiles.remember_on_device(counselor)
    assert "keyring" in str(info.value)
    assert "passphrase" in str(info.value)
    with pytest.raises(KeyringUnavailable):
        profiles.unlock_remembered("sari", home=home)


class _RefusingKeyring(MemoryKeyring):
    """A keyring that fails the test if anyone reads it."""

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("the keyring was read")


async def test_listing_profiles_never_reads_the_keyring(
    home: Path, counselor: profiles.Profile
) -> None:
    """The welcome screen's list knows which profiles are remembered without opening the
    keyring (which can be slow and may prompt the user); forgetting clears the mark."""
    from securechat.service import Service

    profiles.remember_on_device(counselor)
    counselor.lock()
    marker = home / "profiles" / "sari" / "remembered"
    assert marker.read_bytes() == b"keyring\n"
    assert marker.stat().st_mode & 0o777 == 0o600
    keyring.set_keyring(_RefusingKeyring())
    (view,) = await Service(home).list_profiles()
    assert view.remembered
    keyring.set_keyring(MemoryKeyring())
    profiles.forget_on_device("sari", home=home)
    assert not marker.exists()
    assert not profiles.is_remembered("sari", home=home)


class _FileKeyring(MemoryKeyring):
    """Stands in for `keyrings.alt.file.PlaintextKeyring` (priority 0.5), which keyring picks
    wherever that package is installed and no system keyring runs: it writes passwords to a
    file in clear."""

    __module__ = "keyrings.alt.file"
    priority = 0.5  # type: ignore[assignment]


def test_a_plaintext_file_keyring_is_refused(home: Path, counselor: profiles.Profile) -> None:
    """The profile key is never handed to keyrings.alt's file backends: remembering says no
    keyring is usable, as it does without any backend, and nothing is stored."""
    backend = _FileKeyring()
    keyring.set_keyring(backend)
    with pytest.raises(KeyringUnavailable):
        profiles.remember_on_device(counselor)
    assert backend.items == {}
    assert not profiles.is_remembered("sari", home=home)


def test_a_key_left_in_a_plaintext_file_keyring_can_still_be_forgotten(
    home: Path, counselor: profiles.Profile
) -> None:
    """A key an earlier version stored in a keyrings.alt file is removed by forgetting."""
    profiles.remember_on_device(counselor)  # the in-memory test keyring
    backend = _FileKeyring()
    backend.items = dict(keyring.get_keyring().items)  # as if it had gone to the file
    keyring.set_keyring(backend)
    assert profiles.forget_on_device("sari", home=home)
    assert backend.items == {}
