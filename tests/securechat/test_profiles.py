"""Tests for securechat.profiles: create, unlock, lock, passphrase change, corruption."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from securechat import profiles, secret
from securechat.api import MIN_PASSPHRASE_LENGTH
from securechat.errors import (
    CorruptProfile,
    InvalidInput,
    InvalidProfileName,
    ProfileExists,
    ProfileInUse,
    ProfileLocked,
    ProfileNotFound,
    WrongPassphrase,
)
from securechat.store import Store
from tests.securechat.conftest import PASSPHRASE, fast_kdf, snapshot


def test_create_and_unlock_round_trip(home: Path, counselor: profiles.Profile) -> None:
    """A created profile unlocks with its passphrase and keeps role, name and 32-byte seed."""
    seed = counselor.identity_seed()
    assert len(seed) == 32
    counselor.lock()
    with profiles.unlock_profile("sari", PASSPHRASE, home=home) as again:
        assert again.role == "counselor"
        assert again.display_name == "Sari Wulandari"
        assert again.identity_seed() == seed
    assert profiles.list_profiles(home) == ["sari"]


def test_seeds_are_random(home: Path) -> None:
    """Two profiles get different identity seeds."""
    with (
        profiles.create_profile(
            "a", "client", "A", "kata sandi panjang", home=home, kdf=fast_kdf()
        ) as a,
        profiles.create_profile(
            "b", "client", "B", "kata sandi panjang", home=home, kdf=fast_kdf()
        ) as b,
    ):
        assert a.identity_seed() != b.identity_seed()


def test_wrong_passphrase_changes_nothing(home: Path, counselor: profiles.Profile) -> None:
    """A wrong passphrase raises WrongPassphrase and every file's bytes stay identical."""
    counselor.lock()
    directory = profiles.profile_dir("sari", home)
    before = snapshot(directory)
    with pytest.raises(WrongPassphrase) as info:
        profiles.unlock_profile("sari", "not the passphrase", home=home)
    assert "passphrase" in str(info.value)
    assert "not the passphrase" not in str(info.value)
    assert snapshot(directory) == before


def test_corrupt_database_is_clear_error(home: Path, counselor: profiles.Profile) -> None:
    """A database overwritten with garbage gives CorruptProfile, not WrongPassphrase."""
    counselor.lock()
    db = profiles.profile_dir("sari", home) / profiles.DB_FILE
    db.write_bytes(os.urandom(db.stat().st_size))
    with pytest.raises(CorruptProfile):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)


def test_truncated_database_is_clear_error(home: Path, counselor: profiles.Profile) -> None:
    """A truncated database gives CorruptProfile."""
    counselor.lock()
    db = profiles.profile_dir("sari", home) / profiles.DB_FILE
    db.write_bytes(db.read_bytes()[:100])
    with pytest.raises(CorruptProfile):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)


@pytest.mark.parametrize(
    "content", [b"", b"{", b"[]", b'{"format": 1}', b'{"format": 2, "kdf": {}, "key_check": ""}']
)
def test_corrupt_unlock_file_is_clear_error(
    home: Path, counselor: profiles.Profile, content: bytes
) -> None:
    """A damaged or missing key-parameter file gives CorruptProfile."""
    counselor.lock()
    (profiles.profile_dir("sari", home) / profiles.UNLOCK_FILE).write_bytes(content)
    with pytest.raises(CorruptProfile):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)


def test_missing_unlock_file_is_clear_error(home: Path, counselor: profiles.Profile) -> None:
    """Without its key-parameter file a profile is CorruptProfile."""
    counselor.lock()
    (profiles.profile_dir("sari", home) / profiles.UNLOCK_FILE).unlink()
    with pytest.raises(CorruptProfile):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)


def test_change_passphrase_then_only_new_works(home: Path, counselor: profiles.Profile) -> None:
    """After a passphrase change the new one unlocks, the old one does not, data survives."""
    seed = counselor.identity_seed()
    profiles.change_passphrase(counselor, "new passphrase", kdf=fast_kdf())
    counselor.lock()
    with pytest.raises(WrongPassphrase):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)
    with profiles.unlock_profile("sari", "new passphrase", home=home) as again:
        assert again.identity_seed() == seed
    assert not (profiles.profile_dir("sari", home) / profiles.NEXT_UNLOCK_FILE).exists()


def test_crash_before_rekey_keeps_old_passphrase(
    home: Path, counselor: profiles.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after writing the new parameters but before the rekey leaves the old one valid."""

    def crash(self: Store, new_key: object) -> None:
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(Store, "rekey", crash)
    with pytest.raises(RuntimeError):
        profiles.change_passphrase(counselor, "new passphrase", kdf=fast_kdf())
    counselor.lock()
    monkeypatch.undo()
    directory = profiles.profile_dir("sari", home)
    assert (directory / profiles.NEXT_UNLOCK_FILE).exists()
    with pytest.raises(WrongPassphrase):
        profiles.unlock_profile("sari", "new passphrase", home=home)
    with profiles.unlock_profile("sari", PASSPHRASE, home=home):
        pass
    assert not (directory / profiles.NEXT_UNLOCK_FILE).exists()


def test_crash_after_rekey_opens_with_new_passphrase(
    home: Path, counselor: profiles.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the rekey but before the parameter swap: the new passphrase opens it."""
    real_replace = os.replace
    calls = {"n": 0}

    def replace_then_crash(src: object, dst: object) -> None:
        calls["n"] += 1
        if str(src).endswith(profiles.NEXT_UNLOCK_FILE):
            raise RuntimeError("simulated crash")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(RuntimeError):
        profiles.change_passphrase(counselor, "new passphrase", kdf=fast_kdf())
    monkeypatch.undo()
    counselor.lock()  # the crashed process is gone, and its files and locks with it
    directory = profiles.profile_dir("sari", home)
    assert (directory / profiles.NEXT_UNLOCK_FILE).exists()
    with profiles.unlock_profile("sari", "new passphrase", home=home) as again:
        assert again.role == "counselor"
    assert not (directory / profiles.NEXT_UNLOCK_FILE).exists()
    with pytest.raises(WrongPassphrase):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)
    with profiles.unlock_profile("sari", "new passphrase", home=home):
        pass


def test_lock_drops_key_and_store(counselor: profiles.Profile) -> None:
    """Locking closes the store, zeroes the key buffer, and further use raises ProfileLocked."""
    key = counselor._key
    assert key is not None
    counselor.lock()
    assert counselor.locked
    assert key.wiped
    assert bytes(key._buf) == bytes(32)
    with pytest.raises(ProfileLocked):
        counselor.identity_seed()
    counselor.lock()  # idempotent


def test_reprs_are_redacted(counselor: profiles.Profile) -> None:
    """Reprs of profiles, keys and stores show no key bytes or display name."""
    key = counselor._key
    assert key is not None
    text = repr(counselor) + repr(key) + str(key) + repr(counselor.store)
    assert key.hex() not in text
    assert "Sari Wulandari" not in text
    assert "<redacted>" in repr(key)


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".", "..", "with space", "x" * 65])
def test_invalid_names_rejected(home: Path, name: str) -> None:
    """Names that could escape the profiles folder or are empty are rejected."""
    with pytest.raises(InvalidProfileName):
        profiles.create_profile(
            name, "client", "X", "kata sandi panjang", home=home, kdf=fast_kdf()
        )


def test_exists_and_not_found(home: Path, counselor: profiles.Profile) -> None:
    """Creating a duplicate raises ProfileExists; unlocking an unknown raises ProfileNotFound."""
    with pytest.raises(ProfileExists):
        profiles.create_profile(
            "sari", "client", "X", "kata sandi panjang", home=home, kdf=fast_kdf()
        )
    with pytest.raises(ProfileNotFound):
        profiles.unlock_profile("nobody", "kata sandi panjang", home=home)


def test_list_profiles_empty_home_creates_nothing(home: Path) -> None:
    """Listing profiles in a fresh home returns nothing and creates no folder."""
    assert profiles.list_profiles(home) == []
    assert not home.exists()


def test_a_new_passphrase_needs_ten_characters(home: Path, counselor: profiles.Profile) -> None:
    """A profile is not created, and a passphrase not changed, with fewer than ten characters
    (the desktop app's rule, `MIN_PASSPHRASE_LENGTH`): InvalidInput says the minimum, no folder
    is left, and the old passphrase still unlocks."""
    assert MIN_PASSPHRASE_LENGTH == 10
    short = "yang baru"  # nine characters
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        profiles.create_profile("ayu", "client", "Ayu", short, home=home, kdf=fast_kdf())
    assert not profiles.profile_dir("ayu", home).exists()
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        profiles.change_passphrase(counselor, short, kdf=fast_kdf())
    counselor.lock()
    with profiles.unlock_profile("sari", PASSPHRASE, home=home):
        pass
    with profiles.create_profile("ayu", "client", "Ayu", short + "!", home=home, kdf=fast_kdf()):
        pass


def test_a_short_passphrase_from_before_the_rule_still_unlocks(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile whose passphrase an earlier version accepted ("pw") still unlocks, and its
    owner can change to a long one."""
    monkeypatch.setattr(secret, "MIN_PASSPHRASE_LENGTH", 1)  # as an earlier version allowed
    profiles.create_profile("ayu", "client", "Ayu", "pw", home=home, kdf=fast_kdf()).lock()
    monkeypatch.undo()
    with profiles.unlock_profile("ayu", "pw", home=home) as profile:
        profiles.change_passphrase(profile, "a much longer passphrase", kdf=fast_kdf())
    with profiles.unlock_profile("ayu", "a much longer passphrase", home=home):
        pass


def test_a_profile_open_elsewhere_is_refused_until_it_is_locked(
    home: Path, counselor: profiles.Profile
) -> None:
    """While a profile is unlocked, a second unlock (another window, a CLI command) is
    refused with ProfileInUse before any key is derived; once locked, it opens again."""
    with pytest.raises(ProfileInUse, match="open in another SecureChat window"):
        profiles.unlock_profile("sari", PASSPHRASE, home=home)
    with pytest.raises(ProfileInUse):
        profiles.unlock_profile("sari", "not even the passphrase", home=home)
    assert not counselor.locked  # the refused attempt changed nothing for the holder
    counselor.identity_seed()
    counselor.lock()
    with profiles.unlock_profile("sari", PASSPHRASE, home=home) as again:
        assert again.role == "counselor"


def test_a_failed_unlock_leaves_the_profile_free(home: Path, counselor: profiles.Profile) -> None:
    """A wrong passphrase releases the in-use lock it took: the right one works next."""
    counselor.lock()
    with pytest.raises(WrongPassphrase):
        profiles.unlock_profile("sari", "not the passphrase at all", home=home)
    profiles.unlock_profile("sari", PASSPHRASE, home=home).lock()
