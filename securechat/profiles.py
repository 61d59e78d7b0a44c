"""Profiles: create, list, unlock, lock, change passphrase, remember on this device.

A profile is a folder `<home>/profiles/<name>/` holding:

- `store.db`: the SQLCipher 4 database (see `securechat.store`), keyed with the raw 32-byte
  Argon2id output;
- `unlock.json`: `{"format": 1, "kdf": <KdfParams>, "key_check": <base64>}`, where the key
  check is a keyed BLAKE2b of a fixed label under the derived key. It lets unlock tell a wrong
  passphrase (check fails, nothing touched) from a damaged database (check passes, the
  database does not open). It offers an attacker nothing the database header does not: both
  test a guess at full Argon2id cost;
- `unlock.next.json`: present only while a passphrase change is in flight.

Role and display name live inside the encrypted database; `list_profiles` shows folder names
only, so a shared computer does not reveal who is a counselor.

Passphrase change is crash-safe: (1) write `unlock.next.json` atomically, (2) `PRAGMA rekey`
(one atomic SQLCipher transaction), (3) rename it over `unlock.json`. A crash after (1) leaves
the old passphrase working; after (2) the new one works through the next file, and the first
successful unlock finishes step (3). Unlock tries both files, so the profile always opens.

Invariants:
- A wrong passphrase raises `WrongPassphrase` and writes nothing.
- `lock()` closes the database and overwrites the key buffer; a locked profile raises
  `ProfileLocked` on use.
- Files are 0600 and folders 0700 (`securechat.paths`).
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args

import nacl.encoding
import nacl.hash
import nacl.utils

from crypto.errors import PassphraseError
from crypto.passphrase import KdfParams, derive_key
from securechat import keystore
from securechat.errors import (
    CorruptProfile,
    InvalidInput,
    InvalidProfileName,
    KeyringUnavailable,
    NotRemembered,
    ProfileExists,
    ProfileInUse,
    ProfileLocked,
    ProfileNotFound,
    StorageError,
    WrongPassphrase,
)
from securechat.paths import ensure_private_dir, home_dir, profiles_dir, write_private_atomic
from securechat.secret import SecretKey, check_new_passphrase
from securechat.store import Store, now_ms
from securechat.store.db import DatabaseError, storage_error

__all__ = [
    "DB_FILE",
    "NEXT_UNLOCK_FILE",
    "ROLES",
    "UNLOCK_FILE",
    "Profile",
    "Role",
    "change_passphrase",
    "create_profile",
    "forget_on_device",
    "is_remembered",
    "list_profiles",
    "profile_dir",
    "remember_on_device",
    "unlock_profile",
    "unlock_remembered",
    "validate_profile_name",
]

Role = Literal["counselor", "client"]
ROLES: tuple[str, ...] = get_args(Role)
DB_FILE = "store.db"
UNLOCK_FILE = "unlock.json"
NEXT_UNLOCK_FILE = "unlock.next.json"
IN_USE_FILE = "in-use.lock"  # held (flock) by whoever has the profile unlocked
_UNLOCK_FORMAT = 1
_KEY_CHECK_LABEL = b"securechat/profile-key-check/v1"
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SEED_SIZE = 32


def validate_profile_name(untrusted_name: str) -> str:
    """Return the name if it is 1-64 letters, digits, '-' or '_'.

    Raises:
        InvalidProfileName: anything else (path separators, dots, spaces, empty).
    """
    if not _NAME_RE.fullmatch(untrusted_name):
        raise InvalidProfileName()
    return untrusted_name


def profile_dir(name: str, home: Path | None = None) -> Path:
    """The folder of profile `name` (nothing is created).

    Raises:
        InvalidProfileName: the name is not acceptable.
    """
    return profiles_dir(home_dir(home)) / validate_profile_name(name)


def _key_check(key: SecretKey) -> bytes:
    return nacl.hash.blake2b(
        _KEY_CHECK_LABEL, key=key.raw(), digest_size=32, encoder=nacl.encoding.RawEncoder
    )


def _unlock_doc(params: KdfParams, key: SecretKey) -> bytes:
    doc = {
        "format": _UNLOCK_FORMAT,
        "kdf": json.loads(params.to_json()),
        "key_check": base64.b64encode(_key_check(key)).decode("ascii"),
    }
    return json.dumps(doc, sort_keys=True).encode("utf-8")


def _check_matches(info: _UnlockInfo, key: SecretKey) -> bool:
    return hmac.compare_digest(_key_check(key), info.key_check)


@dataclass(frozen=True)
class _UnlockInfo:
    params: KdfParams
    key_check: bytes


def _read_unlock(path: Path) -> _UnlockInfo:
    """Parse an unlock file. Raises CorruptProfile when it is unreadable."""
    try:
        untrusted: Any = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(untrusted, dict) or untrusted.get("format") != _UNLOCK_FORMAT:
            raise CorruptProfile()
        params = KdfParams.from_json(json.dumps(untrusted["kdf"]))
        check = base64.b64decode(untrusted["key_check"], validate=True)
        if len(check) != 32:
            raise CorruptProfile()
    except CorruptProfile:
        raise
    except (OSError, ValueError, KeyError, TypeError, PassphraseError) as exc:
        raise CorruptProfile() from exc
    return _UnlockInfo(params, check)


class _InUse:
    """An exclusive lock on a profile's folder while it is unlocked, so that a second app
    window or CLI command on the same profile is refused (`ProfileInUse`) instead of
    reading the same queues and database behind the first one's back.

    It is the operating system's lock on `IN_USE_FILE` (``flock``; ``msvcrt.locking`` on
    Windows): a crashed holder releases it with its process, and the file holds nothing.
    """

    def __init__(self, directory: Path) -> None:
        fd = os.open(directory / IN_USE_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(fd)
        except OSError as exc:
            os.close(fd)
            raise ProfileInUse(
                "This profile is open in another SecureChat window or command. "
                "Close it there, then try again."
            ) from exc
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the lock up (closing the file releases it); idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _lock_fd(fd: int) -> None:
    """Take an exclusive lock on `fd` without waiting; OSError if someone holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class Profile:
    """An unlocked profile: its open store, role and display name. Lock it when done.

    While unlocked it holds the folder's in-use lock (`_InUse`); `lock()` releases it.
    """

    def __init__(
        self, name: str, directory: Path, store: Store, key: SecretKey, in_use: _InUse
    ) -> None:
        self._name = name
        self._dir = directory
        self._store: Store | None = store
        self._key: SecretKey | None = key
        self._in_use: _InUse | None = in_use
        row = store.conn.execute("SELECT role, display_name FROM profile WHERE id = 1").fetchone()
        if row is None:
            raise CorruptProfile()
        self._role: Role = "counselor" if row[0] == "counselor" else "client"
        self._display_name = str(row[1])

    @property
    def name(self) -> str:
        """The profile's folder name."""
        return self._name

    @property
    def directory(self) -> Path:
        """The profile's folder."""
        return self._dir

    @property
    def role(self) -> Role:
        """'counselor' or 'client'."""
        return self._role

    @property
    def display_name(self) -> str:
        """The name the person chose to be shown under."""
        return self._display_name

    @property
    def locked(self) -> bool:
        """True after `lock()`."""
        return self._store is None

    @property
    def store(self) -> Store:
        """The open store. Raises ProfileLocked after `lock()`."""
        if self._store is None:
            raise ProfileLocked()
        return self._store

    def _key_or_raise(self) -> SecretKey:
        if self._key is None:
            raise ProfileLocked()
        return self._key

    def identity_seed(self) -> bytes:
        """The 32-byte identity seed (the Ed25519 identity key derives from it).

        Raises:
            ProfileLocked: the profile is locked.
            CorruptProfile: the identity row is missing.
        """
        row = self.store.conn.execute("SELECT seed FROM identity WHERE id = 1").fetchone()
        if row is None:
            raise CorruptProfile()
        return bytes(row[0])

    def lock(self) -> None:
        """Close the database, overwrite the key in memory, release the folder. Idempotent."""
        if self._store is not None:
            store, self._store = self._store, None
            store.close()
        if self._key is not None:
            key, self._key = self._key, None
            key.wipe()
        if self._in_use is not None:
            in_use, self._in_use = self._in_use, None
            in_use.release()

    def __enter__(self) -> Profile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.lock()

    def __repr__(self) -> str:
        return f"Profile(name={self._name!r}, role={self._role!r}, locked={self.locked})"


def list_profiles(home: Path | None = None) -> list[str]:
    """Names of the profiles under `home`, sorted. Creates nothing."""
    root = profiles_dir(home_dir(home))
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if _NAME_RE.fullmatch(p.name) and (p / DB_FILE).is_file()
    )


def create_profile(
    name: str,
    role: str,
    display_name: str,
    passphrase: str,
    *,
    home: Path | None = None,
    kdf: KdfParams | None = None,
) -> Profile:
    """Create a profile with a fresh identity seed and return it unlocked.

    `kdf` defaults to fresh `KdfParams.generate()` (the real Argon2id cost); tests pass cheap
    parameters.

    Raises:
        InvalidProfileName: the name is not acceptable.
        InvalidInput: unknown role, empty display name, passphrase too short
            (`check_new_passphrase`).
        ProfileExists: a profile of that name exists.
    """
    directory = profile_dir(name, home)
    if role not in ROLES:
        raise InvalidInput("The role must be 'counselor' or 'client'.")
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise InvalidInput("The display name must be 1 to 200 characters.")
    check_new_passphrase(passphrase)
    params = kdf if kdf is not None else KdfParams.generate()
    ensure_private_dir(directory.parent)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError as exc:
        raise ProfileExists() from exc
    os.chmod(directory, 0o700)
    in_use = _InUse(directory)
    try:
        key = SecretKey(derive_key(passphrase, params))
        write_private_atomic(directory / UNLOCK_FILE, _unlock_doc(params, key))
        store = Store.open(directory / DB_FILE, key)
        now = now_ms()
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO profile(id, role, display_name, created_at) VALUES (1, ?, ?, ?)",
                (role, display_name, now),
            )
            conn.execute(
                "INSERT INTO identity(id, seed, created_at) VALUES (1, ?, ?)",
                (nacl.utils.random(_SEED_SIZE), now),
            )
        return Profile(name, directory, store, key, in_use)
    except BaseException:
        in_use.release()
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _existing_dir(name: str, home: Path | None) -> Path:
    directory = profile_dir(name, home)
    if not directory.is_dir():
        raise ProfileNotFound()
    if not (directory / DB_FILE).is_file():
        raise CorruptProfile()
    return directory


def _candidates(directory: Path) -> list[tuple[str, _UnlockInfo]]:
    out = [("current", _read_unlock(directory / UNLOCK_FILE))]
    nxt = directory / NEXT_UNLOCK_FILE
    if nxt.exists():
        with contextlib.suppress(CorruptProfile):
            out.append(("next", _read_unlock(nxt)))
    return out


@contextlib.contextmanager
def _holding(directory: Path) -> Iterator[_InUse]:
    """Take `directory`'s in-use lock for an unlock; release it if the unlock fails (on
    success the new `Profile` holds it)."""
    in_use = _InUse(directory)
    try:
        yield in_use
    except BaseException:
        in_use.release()
        raise


def _open_with(
    name: str, directory: Path, keys: list[tuple[str, SecretKey]], in_use: _InUse
) -> Profile:
    current_matched = False
    for which, key in keys:
        try:
            store = Store.open(directory / DB_FILE, key)
        except WrongPassphrase:
            if which == "current":
                current_matched = True
            continue
        except BaseException:
            for _, k in keys:
                k.wipe()
            raise
        # Finish or roll back an interrupted passphrase change (only after a real unlock).
        nxt = directory / NEXT_UNLOCK_FILE
        if which == "next":
            os.replace(nxt, directory / UNLOCK_FILE)
        elif nxt.exists():
            nxt.unlink()
        for other_which, other in keys:
            if other_which != which:
                other.wipe()
        try:
            return Profile(name, directory, store, key, in_use)
        except DatabaseError as exc:
            store.close()
            key.wipe()
            raise storage_error(exc) from exc
        except BaseException:
            store.close()
            key.wipe()
            raise
    for _, key in keys:
        key.wipe()
    if current_matched:
        raise CorruptProfile()
    raise WrongPassphrase()


def unlock_profile(name: str, passphrase: str, *, home: Path | None = None) -> Profile:
    """Unlock with a passphrase.

    Raises:
        InvalidProfileName, ProfileNotFound: no such profile.
        WrongPassphrase: the passphrase does not open it (nothing on disk changes).
        CorruptProfile: the unlock file or database is damaged.
        UnsupportedSchema: written by a newer securechat.
    """
    directory = _existing_dir(name, home)
    # The lock first: a second window is told so before the slow KDF.
    with _holding(directory) as in_use:
        keys: list[tuple[str, SecretKey]] = []
        try:
            for which, info in _candidates(directory):
                try:
                    key = SecretKey(derive_key(passphrase, info.params))
                except PassphraseError as exc:
                    raise WrongPassphrase() from exc
                if _check_matches(info, key):
                    keys.append((which, key))
                else:
                    key.wipe()
        except BaseException:
            for _, k in keys:
                k.wipe()
            raise
        return _open_with(name, directory, keys, in_use)


def unlock_remembered(name: str, *, home: Path | None = None) -> Profile:
    """Unlock with the key remembered on this device.

    Raises:
        ProfileNotFound: no such profile.
        KeyringUnavailable: there is no usable keyring.
        NotRemembered: nothing is remembered for this profile.
        WrongPassphrase: the remembered key no longer opens the profile.
        CorruptProfile: the unlock file or database is damaged.
    """
    directory = _existing_dir(name, home)
    remembered = keystore.load_key(directory)
    if remembered is None:
        raise NotRemembered()
    try:
        with _holding(directory) as in_use:
            keys = [
                (which, remembered)
                for which, info in _candidates(directory)
                if _check_matches(info, remembered)
            ][:1]
            if not keys:
                raise WrongPassphrase(
                    "The key remembered on this device no longer opens this profile. "
                    "Enter your passphrase."
                )
            return _open_with(name, directory, keys, in_use)
    except BaseException:
        remembered.wipe()
        raise


def change_passphrase(
    profile: Profile, new_passphrase: str, *, kdf: KdfParams | None = None
) -> None:
    """Re-key the profile's database under a new passphrase, crash-safely.

    If the key is remembered on this device, the remembered key is replaced too.

    Raises:
        ProfileLocked: the profile is locked.
        InvalidInput: the new passphrase is too short (`check_new_passphrase`).
        StorageError: SQLCipher refused the re-key; the old passphrase still works.
    """
    old_key = profile._key_or_raise()
    check_new_passphrase(new_passphrase)
    params = kdf if kdf is not None else KdfParams.generate()
    new_key = SecretKey(derive_key(new_passphrase, params))
    directory = profile.directory
    nxt = directory / NEXT_UNLOCK_FILE
    write_private_atomic(nxt, _unlock_doc(params, new_key))
    try:
        profile.store.rekey(new_key)
    except StorageError:
        nxt.unlink(missing_ok=True)
        new_key.wipe()
        raise
    os.replace(nxt, directory / UNLOCK_FILE)
    profile._key = new_key
    old_key.wipe()
    if keystore.is_marked(directory):
        try:
            keystore.store_key(directory, new_key)
        except KeyringUnavailable:
            # A stale remembered key would only fail later; drop it if we still can.
            with contextlib.suppress(KeyringUnavailable):
                keystore.delete_key(directory)


def remember_on_device(profile: Profile) -> None:
    """Store the profile's derived key (never the passphrase) in the system keyring.

    Raises:
        ProfileLocked: the profile is locked.
        KeyringUnavailable: no usable keyring backend.
    """
    keystore.store_key(profile.directory, profile._key_or_raise())


def is_remembered(name: str, *, home: Path | None = None) -> bool:
    """True if a key for the profile was remembered on this device (the keyring is not read).

    Raises:
        InvalidProfileName: the name is not acceptable.
    """
    return keystore.is_marked(profile_dir(name, home))


def forget_on_device(name: str, *, home: Path | None = None) -> bool:
    """Remove the remembered key; True if there was one.

    Raises:
        InvalidProfileName: the name is not acceptable.
        KeyringUnavailable: no usable keyring backend.
    """
    return keystore.delete_key(profile_dir(name, home))
