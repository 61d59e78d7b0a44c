"""Profiles: create, list, unlock, lock, close, change passphrase."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from crypto.keys import IdentityKeyPair
from securechat import api, profiles
from securechat.conversations import Engine
from securechat.disclosure import CounselorProfile, DisclosureBook
from securechat.errors import KeyringUnavailable
from securechat.retention import purge_expired
from securechat.service.base import (
    _SETTINGS,
    ServiceBase,
    _guarded,
    _slug,
)
from securechat.store.db import DatabaseError, storage_error

__all__ = ["Lifecycle"]


class Lifecycle(ServiceBase):
    """Profiles: create, list, unlock, lock, close, change passphrase."""

    async def list_profiles(self) -> Sequence[api.ProfileView]:
        """Profiles on this device. Role and name are inside the encrypted database, so a
        locked profile shows its folder name, and its role is not known (`role_known`)."""
        names = profiles.list_profiles(self._home)
        out = []
        for name in names:
            remembered = profiles.is_remembered(name, home=self._home)
            current = self._profile
            if current is not None and current.name == name and not current.locked:
                out.append(
                    api.ProfileView(name, current.display_name, api.Role(current.role), remembered)
                )
            else:
                out.append(
                    api.ProfileView(name, name, api.Role.CLIENT, remembered, role_known=False)
                )
        return out

    async def create_profile(
        self, display_name: str, role: api.Role, passphrase: str
    ) -> api.ProfileView:
        """Create a profile (its folder name derives from the display name) and unlock it."""
        base = _slug(display_name)
        existing = set(profiles.list_profiles(self._home))
        name, n = base, 1
        while name in existing or profiles.profile_dir(name, self._home).exists():
            n += 1
            name = f"{base}-{n}"
        profile = await asyncio.to_thread(
            profiles.create_profile,
            name,
            str(api.Role(role).value),
            display_name,
            passphrase,
            home=self._home,
            kdf=self._kdf,
        )
        if profile.role == "counselor":
            book = DisclosureBook(profile.store)
            book.set_profile(CounselorProfile(name=profile.display_name))
            book.ensure_default()
        await self._close_profile()
        await self._open(profile)
        return api.ProfileView(name, profile.display_name, api.Role(profile.role), False)

    async def unlock(self, profile: str, passphrase: str | None, remember: bool = False) -> None:
        """Unlock `profile` with its passphrase, or with the remembered key (`None`)."""
        current = self._profile
        if current is not None and current.name == profile:
            # Unlocking the open profile again (the app does, right after creating one):
            # this service holds its in-use lock, so it lets it go first.
            await self._close_profile()
        try:
            if passphrase is None:
                opened = await asyncio.to_thread(
                    profiles.unlock_remembered, profile, home=self._home
                )
            else:
                opened = await asyncio.to_thread(
                    profiles.unlock_profile, profile, passphrase, home=self._home
                )
        except DatabaseError as exc:
            raise storage_error(exc) from exc
        if remember:
            try:
                profiles.remember_on_device(opened)
            except KeyringUnavailable:
                opened.lock()
                raise
        await self._close_profile()
        await self._open(opened)

    async def _open(self, profile: profiles.Profile) -> None:
        try:
            # A larger page cache (16 MiB, in memory only) spares re-decrypting hot index pages.
            profile.store.conn.execute("PRAGMA cache_size = -16384")
            engine = Engine(profile.store, IdentityKeyPair(profile.identity_seed()), profile.role)
            engine.region = profile.store.get_setting(_SETTINGS["region"]) or "ID"
            purge_expired(profile.store)
            engine.prune_processed()
        except DatabaseError as exc:
            profile.lock()
            raise storage_error(exc) from exc
        except BaseException:
            profile.lock()
            raise
        self._profile, self._engine = profile, engine
        if self._autoconnect:
            await self._connect_all()
            self._spawn(self._provision())

    async def lock(self, reason: str = "user") -> None:
        """Disconnect and lock: the key leaves memory. For "quick-exit" and "auto-lock" the
        key goes first, without waiting for the relay connections to close."""
        await self._close_profile(keys_first=reason in ("quick-exit", "auto-lock"))
        self._emit([api.ProfileLocked(reason)])

    async def close(self) -> None:
        """Stop every link and background task and lock the profile (idempotent)."""
        await self._close_profile()

    @_guarded
    async def change_passphrase(self, old: str, new: str) -> None:
        """Check `old`, then re-key the database under `new` (crash-safe)."""
        profile = self._profile_or_raise()
        check = await asyncio.to_thread(profiles.unlock_profile, profile.name, old, home=self._home)
        check.lock()
        await asyncio.to_thread(profiles.change_passphrase, profile, new, kdf=self._kdf)
