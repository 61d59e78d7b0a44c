"""Remember a profile's derived key on this device with the system keyring.

What is stored is the 32-byte database key derived by Argon2id, never the passphrase: a
stolen keyring entry opens this one profile but reveals nothing that might be reused
elsewhere. The entry is named after a hash of the profile's absolute path, so two homes on
one machine never collide and the entry name carries no profile name.

Whether a key is remembered is also written beside the profile as an empty-looking marker file
(`remembered`, 0600, no secret in it), so listing profiles never reads the keyring: reading it
can be slow (backend discovery) and may make the desktop ask to unlock the user's keyring.

Where no usable backend exists (the `fail` or `null` backend, a locked or broken service),
`KeyringUnavailable` says so in words a person can act on; there is no plaintext fallback.
The backends of the `keyrings.alt` package count as unusable: keyring picks its
`PlaintextKeyring` (a file in clear) wherever that package is installed and no system keyring
runs, and the others store no safer than the profile folder itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.chainer
import keyring.errors

from securechat.errors import KeyringUnavailable
from securechat.paths import write_private_atomic
from securechat.secret import SecretKey

__all__ = ["MARKER", "SERVICE", "delete_key", "entry_name", "is_marked", "load_key", "store_key"]

SERVICE = "securechat"
MARKER = "remembered"  # file name in the profile folder: "a key is in the keyring"


def is_marked(profile_dir: Path) -> bool:
    """True if a key for this profile was stored in the keyring here (no keyring access)."""
    return (profile_dir / MARKER).is_file()


def entry_name(profile_dir: Path) -> str:
    """The keyring user name for a profile: a hash of its absolute path."""
    digest = hashlib.sha256(str(profile_dir.absolute()).encode("utf-8")).hexdigest()
    return f"profile-key-{digest[:32]}"


_INSECURE_PACKAGE = "keyrings.alt"  # alternate backends: files in clear or weakly protected


def _insecure(backend: Any) -> bool:
    """True if what we store would go to a `keyrings.alt` backend (for a chain: its first
    backend, the one a write goes to)."""
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return False
        backend = chained[0]
    module = type(backend).__module__
    return module == _INSECURE_PACKAGE or module.startswith(_INSECURE_PACKAGE + ".")


def _backend(*, removing: bool = False) -> Any:
    """The usable backend. `removing`: a `keyrings.alt` backend is fine for deleting (a key
    stored there by an earlier version can still be forgotten)."""
    try:
        backend = keyring.get_keyring()
        priority = float(backend.priority)
        insecure = _insecure(backend)
    except (keyring.errors.KeyringError, RuntimeError) as exc:  # pragma: no cover - defensive
        raise KeyringUnavailable() from exc
    if priority <= 0 or (insecure and not removing):
        raise KeyringUnavailable()
    return backend


def store_key(profile_dir: Path, key: SecretKey) -> None:
    """Remember `key` for the profile at `profile_dir`.

    Raises:
        KeyringUnavailable: no usable keyring backend, or it refused the write.
    """
    backend = _backend()
    try:
        backend.set_password(SERVICE, entry_name(profile_dir), key.hex())
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise KeyringUnavailable() from exc
    write_private_atomic(profile_dir / MARKER, b"keyring\n")


def load_key(profile_dir: Path) -> SecretKey | None:
    """The remembered key, or None when nothing (or something malformed) is stored.

    Raises:
        KeyringUnavailable: no usable keyring backend, or it refused the read.
    """
    backend = _backend()
    try:
        value = backend.get_password(SERVICE, entry_name(profile_dir))
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise KeyringUnavailable() from exc
    if not isinstance(value, str):
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    if len(raw) != 32:
        return None
    return SecretKey(raw)


def delete_key(profile_dir: Path) -> bool:
    """Forget the remembered key; True if there was one.

    Raises:
        KeyringUnavailable: no usable keyring backend, or it refused the deletion.
    """
    backend = _backend(removing=True)
    name = entry_name(profile_dir)
    try:
        if backend.get_password(SERVICE, name) is None:
            (profile_dir / MARKER).unlink(missing_ok=True)
            return False
        backend.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        (profile_dir / MARKER).unlink(missing_ok=True)
        return False
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise KeyringUnavailable() from exc
    (profile_dir / MARKER).unlink(missing_ok=True)
    return True
