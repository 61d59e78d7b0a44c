"""Fixtures for client-core tests: a private home, cheap Argon2id, an in-memory keyring.

No test touches the real keyring or the real home: `SECURECHAT_HOME` points into tmp_path,
and every test runs with `MemoryKeyring` installed (tests that need "no keyring" install the
`fail` backend themselves).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
from securechat import profiles
from securechat.store import Store

PASSPHRASE = "correct horse battery staple"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict: never the system's."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


def fast_kdf() -> KdfParams:
    """Argon2id at its minimum cost: fine for tests, never for people."""
    return KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring for the test; leave the fail backend afterwards."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(keyring.backends.fail.Keyring())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private securechat home (also exported as SECURECHAT_HOME)."""
    path = tmp_path / "home"
    monkeypatch.setenv("SECURECHAT_HOME", str(path))
    return path


@pytest.fixture
def counselor(home: Path) -> Iterator[profiles.Profile]:
    """An unlocked counselor profile named 'sari'."""
    profile = profiles.create_profile(
        "sari", "counselor", "Sari Wulandari", PASSPHRASE, home=home, kdf=fast_kdf()
    )
    yield profile
    profile.lock()


def add_clients(store: Store, *contact_ids: int) -> None:
    """Client contacts with these ids, as first contact stores them (a note needs its client)."""
    with store.transaction() as conn:
        for contact_id in contact_ids:
            conn.execute(
                "INSERT INTO contacts(id, identity_key, display_name, role, created_at) "
                "VALUES (?, ?, ?, 'client', 0)",
                (contact_id, os.urandom(32), f"Klien {contact_id}"),
            )


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@contextlib.contextmanager
def database_held_elsewhere(profile: profiles.Profile) -> Iterator[Store]:
    """A second connection to `profile`'s database holding its write lock, as another program
    would hold it (a backup tool, sqlite3 at the prompt): the folder's in-use lock, which only
    SecureChat takes, does not keep those out."""
    other = Store.open(profile.directory / profiles.DB_FILE, profile._key_or_raise())
    other.conn.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.conn.execute("ROLLBACK")
        other.close()
