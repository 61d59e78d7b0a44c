"""Error cases of the service: each a specific error with a safe message, nothing half-written."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from crypto.envelope import MAX_TEXT_BYTES
from securechat import api, profiles
from securechat.errors import (
    CorruptProfile,
    InvalidInput,
    NotFound,
    ProfileInUse,
    ProfileLocked,
    ProfileReadOnly,
    WrongPassphrase,
)
from securechat.service import Service
from tests.securechat.conftest import PASSPHRASE, database_held_elsewhere, fast_kdf, snapshot


async def make(home: Path) -> Service:
    service = Service(home, kdf=fast_kdf(), autoconnect=False)
    await service.create_profile("Ayu", api.Role.CLIENT, PASSPHRASE)
    return service


async def test_wrong_passphrase_changes_nothing(tmp_path: Path) -> None:
    """A wrong passphrase raises WrongPassphrase and leaves every file byte-for-byte as it was."""
    service = await make(tmp_path)
    await service.close()
    before = snapshot(tmp_path)
    with pytest.raises(WrongPassphrase) as info:
        await service.unlock("Ayu", "wrong")
    assert "wrong" not in str(info.value)
    assert snapshot(tmp_path) == before
    with pytest.raises(ProfileLocked):
        await service.conversations()


async def test_corrupt_database_is_reported(tmp_path: Path) -> None:
    """A damaged database file raises CorruptProfile, not a raw sqlcipher error, and every file
    stays byte-for-byte as it was (nothing overwritten, no new database beside it)."""
    service = await make(tmp_path)
    await service.close()
    db = profiles.profile_dir("Ayu", tmp_path) / profiles.DB_FILE
    data = bytearray(db.read_bytes())
    data[:4096] = os.urandom(4096)  # the first page: header and schema
    db.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    for _ in range(2):  # and again: the failed unlock repaired, replaced or removed nothing
        with pytest.raises(CorruptProfile) as info:
            await service.unlock("Ayu", PASSPHRASE)
        assert str(info.value) == CorruptProfile.default_message
        assert snapshot(tmp_path) == before
    with pytest.raises(ProfileLocked):
        await service.conversations()


async def test_database_in_use_or_read_only_is_not_called_damaged(tmp_path: Path) -> None:
    """While another window holds the database's lock a command raises ProfileInUse, and a
    database that refuses writes gives ProfileReadOnly: neither says the files are damaged."""
    service = await make(tmp_path)
    try:
        with database_held_elsewhere(service._profile_or_raise()) as other:
            other.conn.execute("COMMIT")
            other.conn.execute("BEGIN EXCLUSIVE")  # readers wait too
            with pytest.raises(ProfileInUse) as in_use:
                await service.conversations()
        assert "in use by another SecureChat window" in str(in_use.value)
        assert (await service.conversations()) == []  # usable again once the lock is gone

        service._profile_or_raise().store.conn.execute("PRAGMA query_only = ON")
        current = await service.settings()
        with pytest.raises(ProfileReadOnly) as read_only:
            await service.update_settings(dataclasses.replace(current, region="SG"))
        assert "read-only" in str(read_only.value)
    finally:
        await service.close()


async def test_send_without_consent_or_conversation(tmp_path: Path) -> None:
    """Empty texts, bad referral languages, publishing as a client and unknown conversations
    are refused with specific errors."""
    service = await make(tmp_path)
    try:
        with pytest.raises(InvalidInput):
            await service.send_text("1", "")
        with pytest.raises(InvalidInput):
            await service.send_referral("1", "fr")
        with pytest.raises(InvalidInput):
            await service.publish("ws://127.0.0.1:9/ws")  # a client cannot publish
        with pytest.raises(NotFound):
            await service.send_text("1", "no such conversation")
        with pytest.raises(NotFound):
            await service.history("not-a-number", 0, 10)
    finally:
        await service.close()


async def test_events_and_settings(tmp_path: Path) -> None:
    """Settings round-trip (retention, region); lock emits ProfileLocked to every listener."""
    service = await make(tmp_path)
    events = service.events()
    other = service.events()
    current = await service.settings()
    updated = await service.update_settings(
        api.SettingsView(
            relay_url="",
            language="en",
            auto_lock_minutes=5,
            retention_days=30,
            remember_on_device=False,
            region="SG",
        )
    )
    assert current.region == "ID"
    assert current.auto_lock_minutes == 10  # locks itself unless told otherwise
    assert (updated.retention_days, updated.region, updated.language) == (30, "SG", "en")
    never = await service.update_settings(dataclasses.replace(updated, auto_lock_minutes=0))
    assert never.auto_lock_minutes == 0
    assert (await service.settings()).auto_lock_minutes == 0  # "never" is kept, not the default
    await service.lock("auto-lock")
    assert await anext(events) == api.ProfileLocked("auto-lock")
    assert await anext(other) == api.ProfileLocked("auto-lock")  # every listener gets it
    await events.aclose()
    await other.aclose()
    assert "redacted" in repr(service)


async def test_unsendable_text_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    """Empty, too long, or not UTF-8 (a lone surrogate): InvalidInput, whatever the conversation."""
    service = await make(tmp_path)
    try:
        for text in ("", "x" * (MAX_TEXT_BYTES + 1), "broken \ud800 text"):
            with pytest.raises(InvalidInput):
                await service.send_text("1", text)
        with pytest.raises(NotFound):  # a sendable text reaches the conversation lookup
            await service.send_text("1", "x" * MAX_TEXT_BYTES)
    finally:
        await service.close()
