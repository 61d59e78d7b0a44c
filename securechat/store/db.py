"""One SQLCipher 4 database per profile, opened with a raw 256-bit key.

The key comes from Argon2id (`crypto.passphrase`), so it is handed to SQLCipher as a raw key
(`PRAGMA key = "x'<64 hex>'"`): no second PBKDF2 on top, and every other SQLCipher 4 default
is kept, so any SQLCipher 4 reader opens the file with that raw key alone.

Journal mode: rollback journal (`DELETE`), not WAL. SQLCipher encrypts the -journal (and a
-wal) page by page with the database key, so neither mode leaks plaintext, but the rollback
journal (a) is the mode SQLCipher's `PRAGMA rekey` has always supported atomically, which the
crash-safe passphrase change relies on, (b) leaves no -shm file and nothing lingering beside
the database once a transaction ends, and (c) costs nothing here: a desktop profile has one
writer. `temp_store = MEMORY` keeps temporary tables and sort spills out of unencrypted temp
files; `secure_delete = ON` overwrites deleted rows, so purged messages do not survive in free
pages for someone who later learns the key; `synchronous = FULL` for durability before acks.

Invariants:
- The database file is created 0600 (under umask 077, then chmod).
- A `Store` is used by one thread at a time (the later asyncio service serialises calls);
  `check_same_thread` is off so a worker thread may own it.
- After `close()`, every method raises `ProfileLocked`.
- A refusal by SQLite is reported by its cause (`storage_error`): busy or locked is
  `ProfileInUse`, read-only `ProfileReadOnly`, only a damaged file (`SQLITE_CORRUPT`,
  `SQLITE_NOTADB`) `CorruptProfile`, anything else `StorageError`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlcipher3

from securechat.errors import (
    CorruptProfile,
    ProfileInUse,
    ProfileLocked,
    ProfileReadOnly,
    SecureChatError,
    StorageError,
    WrongPassphrase,
)
from securechat.paths import FILE_MODE, private_umask
from securechat.secret import SecretKey
from securechat.store.migrations import LATEST_VERSION, migrate, schema_version

__all__ = ["DatabaseError", "Store", "now_ms", "storage_error"]

DatabaseError = sqlcipher3.DatabaseError

_IN_USE = frozenset({sqlcipher3.SQLITE_BUSY, sqlcipher3.SQLITE_LOCKED})
_DAMAGED = frozenset({sqlcipher3.SQLITE_CORRUPT, sqlcipher3.SQLITE_NOTADB})


def _primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # extended codes keep it in the low byte


def storage_error(exc: BaseException) -> SecureChatError:
    """The `securechat.errors` exception that tells a person what a SQLite failure means.

    Busy or locked: `ProfileInUse`; read-only: `ProfileReadOnly`; a damaged file or one that
    is not a database: `CorruptProfile`; anything else (disk full, I/O error): `StorageError`.
    """
    code = _primary_code(exc)
    if code in _IN_USE:
        return ProfileInUse()
    if code == sqlcipher3.SQLITE_READONLY:
        return ProfileReadOnly()
    if code in _DAMAGED:
        return CorruptProfile()
    return StorageError()


def now_ms() -> int:
    """Milliseconds since the Unix epoch, UTC: the unit of every timestamp in the store."""
    return time.time_ns() // 1_000_000


def _key_pragma(key: SecretKey) -> str:
    # The hex literal is generated from bytes we own; nothing user-controlled is interpolated.
    return f"PRAGMA key = \"x'{key.hex()}'\""


def _rekey_pragma(key: SecretKey) -> str:
    return f"PRAGMA rekey = \"x'{key.hex()}'\""


class Store:
    """An open, keyed and migrated profile database."""

    def __init__(self, conn: Any, path: Path) -> None:
        self._conn: Any | None = conn
        self._path = path

    @classmethod
    def open(cls, path: Path, key: SecretKey, *, migrate_to: int = LATEST_VERSION) -> Store:
        """Open (creating if missing) the database at `path` with `key`, then migrate it.

        Raises:
            WrongPassphrase: the key does not decrypt an existing database (or it is damaged;
                the profile layer tells the two apart with its key check).
            ProfileInUse: another connection holds the database's lock.
            CorruptProfile: the file cannot be read as a database at all.
            UnsupportedSchema: the database was written by a newer securechat.
        """
        created = not path.exists()
        try:
            with private_umask():
                conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlcipher3.Error as exc:
            raise CorruptProfile() from exc
        try:
            with contextlib.suppress(sqlcipher3.Error):
                conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(_key_pragma(key))
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlcipher3.DatabaseError as exc:
                if _primary_code(exc) in _IN_USE:
                    raise ProfileInUse() from exc
                raise WrongPassphrase() from exc
            conn.execute("PRAGMA journal_mode = DELETE").fetchone()
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if created:
                os.chmod(path, FILE_MODE)
            migrate(conn, migrate_to)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @property
    def path(self) -> Path:
        """Where the database lives."""
        return self._path

    @property
    def conn(self) -> Any:
        """The raw sqlcipher3 connection (autocommit mode). Raises ProfileLocked when closed."""
        if self._conn is None:
            raise ProfileLocked()
        return self._conn

    @property
    def closed(self) -> bool:
        """True after `close()`."""
        return self._conn is None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolling back on any exception.

        Raises:
            ProfileLocked: the store is closed.
            StorageError: the database refused to begin or commit; `ProfileInUse` when
                another connection holds the lock, `ProfileReadOnly` when it cannot be
                written.
            CorruptProfile: the database file is damaged.
        """
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error as exc:
            raise storage_error(exc) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlcipher3.Error as exc:
            with contextlib.suppress(sqlcipher3.Error):
                conn.execute("ROLLBACK")
            raise storage_error(exc) from exc

    def schema_version(self) -> int:
        """The database's schema version (`PRAGMA user_version`)."""
        return schema_version(self.conn)

    def get_setting(self, key: str) -> str | None:
        """A value from the `settings` table, or None."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None) -> None:
        """Set (or, with None, delete) a value in the `settings` table."""
        self.set_settings({key: value})

    def set_settings(self, values: Mapping[str, str | None]) -> None:
        """`set_setting` for several keys in one transaction: all of them or none."""
        with self.transaction() as conn:
            for key, value in values.items():
                if value is None:
                    conn.execute("DELETE FROM settings WHERE key = ?", (key,))
                else:
                    conn.execute(
                        "INSERT INTO settings(key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value),
                    )

    def rekey(self, new_key: SecretKey) -> None:
        """Re-encrypt every page with `new_key` (`PRAGMA rekey`), atomically.

        Raises:
            StorageError: SQLCipher refused; the database is unchanged and keeps its old key.
        """
        try:
            self.conn.execute(_rekey_pragma(new_key))
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.Error as exc:
            raise StorageError() from exc

    def close(self) -> None:
        """Close the connection. Idempotent."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def __repr__(self) -> str:
        return f"Store(closed={self.closed})"
