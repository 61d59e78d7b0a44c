"""Tests for the schema migrations: each step on its own, upgrades from older versions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from securechat.errors import (
    CorruptProfile,
    ProfileInUse,
    ProfileReadOnly,
    StorageError,
    UnsupportedSchema,
    WrongPassphrase,
)
from securechat.secret import SecretKey
from securechat.store import LATEST_VERSION, MIGRATIONS, Migration, Store
from securechat.store import migrations as migrations_module
from securechat.store.db import storage_error


@pytest.fixture
def key() -> SecretKey:
    """A random raw database key."""
    return SecretKey(os.urandom(32))


def _tables(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(r[0]) for r in rows}


def test_versions_are_consecutive() -> None:
    """Migration versions run 1, 2, ... with no gap, so the runner's order is unambiguous."""
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_fresh_database_reaches_latest(tmp_path: Path, key: SecretKey) -> None:
    """A new database is migrated to the latest version with every table present."""
    store = Store.open(tmp_path / "db", key)
    assert store.schema_version() == LATEST_VERSION
    assert {
        "profile",
        "identity",
        "contacts",
        "conversations",
        "messages",
        "outbox",
        "consent_records",
        "processed",
        "intake",
        "invites",
        "settings",
        "counselor_profile",
        "disclosures",
        "notes",
        "note_revisions",
        "audit_log",
    } <= _tables(store)
    store.close()


def _add_conversation(conn: Any) -> None:
    """Contact 1 ("Ayu") with conversation 1, in the columns every version since 1 has."""
    conn.execute("INSERT INTO contacts VALUES (1, x'01', 'Ayu', 'client', NULL, 0, 0)")
    conn.execute(
        "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
    )


def test_migration_1_core_tables(tmp_path: Path, key: SecretKey) -> None:
    """Step 1 creates the messaging tables; message ids are unique for de-duplication."""
    store = Store.open(tmp_path / "db", key, migrate_to=1)
    assert store.schema_version() == 1
    conn = store.conn
    _add_conversation(conn)
    insert = (
        "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, body, "
        "created_at) VALUES (1, 'm-1', 'in', 'received', x'00', 0)"
    )
    conn.execute(insert)
    with pytest.raises(sqlcipher3.IntegrityError):
        conn.execute(insert)
    assert "notes" not in _tables(store)
    store.close()


def test_migration_2_upgrade_keeps_data(tmp_path: Path, key: SecretKey) -> None:
    """A version-1 database with data upgrades to 2: data kept, disclosure tables usable."""
    path = tmp_path / "db"
    store = Store.open(path, key, migrate_to=1)
    store.conn.execute("INSERT INTO profile VALUES (1, 'counselor', 'Sari', 5)")
    store.close()
    store = Store.open(path, key, migrate_to=2)
    assert store.schema_version() == 2
    assert store.conn.execute("SELECT display_name FROM profile").fetchone()[0] == "Sari"
    store.conn.execute("INSERT INTO disclosures VALUES (1, x'aa', '{}', 0)")
    assert "notes" not in _tables(store)
    store.close()


def test_migration_3_upgrade_keeps_data(tmp_path: Path, key: SecretKey) -> None:
    """A version-2 database with a disclosure upgrades to 3: notes, FTS and audit work."""
    path = tmp_path / "db"
    store = Store.open(path, key, migrate_to=2)
    store.conn.execute("INSERT INTO disclosures VALUES (1, x'aa', '{}', 0)")
    store.close()
    store = Store.open(path, key, migrate_to=3)
    assert store.schema_version() == 3
    assert store.conn.execute("SELECT count(*) FROM disclosures").fetchone()[0] == 1
    store.conn.execute("INSERT INTO notes_fts(rowid, body, note_id) VALUES (1, 'halo', 1)")
    hits = store.conn.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'halo'")
    assert hits.fetchall() == [(1,)]
    store.close()


def test_migration_4_upgrade_keeps_data(tmp_path: Path, key: SecretKey) -> None:
    """A version-3 database with a conversation and a message upgrades to 4, keeping both."""
    path = tmp_path / "db"
    store = Store.open(path, key, migrate_to=3)
    conn = store.conn
    _add_conversation(conn)
    conn.execute(
        "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, body, "
        "created_at) VALUES (1, 'm-1', 'in', 'received', x'00', 0)"
    )
    store.close()
    store = Store.open(path, key)
    assert store.schema_version() == LATEST_VERSION
    row = store.conn.execute("SELECT our_role, unread, session FROM conversations").fetchone()
    assert tuple(row) == ("client", 0, None)
    assert store.conn.execute("SELECT tasks_done FROM messages").fetchone()[0] == ""
    store.conn.execute(
        "INSERT INTO outbox(conversation_id, message_id, relay_url, sid, envelope, created_at) "
        "VALUES (1, NULL, 'ws://127.0.0.1:1/ws', x'00', x'01', 0)"
    )
    assert "ratchet_sessions" not in _tables(store)
    store.close()


def test_migration_5_history_index(tmp_path: Path, key: SecretKey) -> None:
    """A version-4 database keeps its messages at 5, and a history page is read through the
    new index in message order, with no sort of the whole conversation."""
    path = tmp_path / "db"
    store = Store.open(path, key, migrate_to=4)
    conn = store.conn
    _add_conversation(conn)
    for n in range(3):
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, body, "
            "created_at) VALUES (1, ?, 'in', 'received', x'00', ?)",
            (f"m-{n}", 10 - n),  # clocks can go backwards: order is by id, not time
        )
    store.close()
    store = Store.open(path, key, migrate_to=5)
    assert store.schema_version() == 5
    query = "SELECT message_id FROM messages WHERE conversation_id = 1 ORDER BY id DESC LIMIT 2"
    assert [r[0] for r in store.conn.execute(query)] == ["m-2", "m-1"]
    plan = " ".join(str(r[-1]) for r in store.conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "messages_history" in plan
    assert "TEMP B-TREE" not in plan
    store.close()


def test_migration_6_disclosures_keep_their_versions_and_count_as_shared(
    tmp_path: Path, key: SecretKey
) -> None:
    """At 6 the disclosures of a version-5 database keep number, text and hash, count as
    shared (nothing says a client never saw them), and a later version may repeat a text."""
    path = tmp_path / "db"
    store = Store.open(path, key, migrate_to=5)
    for version, digest in ((1, b"a" * 32), (2, b"b" * 32)):
        store.conn.execute(
            "INSERT INTO disclosures(version, content_hash, document, created_at) "
            "VALUES (?, ?, ?, ?)",
            (version, digest, f'{{"v": {version}}}', 1000 * version),
        )
    store.close()
    store = Store.open(path, key)
    assert store.schema_version() == 6
    rows = store.conn.execute(
        "SELECT version, content_hash, document, created_at, shared_at FROM disclosures "
        "ORDER BY version"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        (1, b"a" * 32, '{"v": 1}', 1000, 1000),
        (2, b"b" * 32, '{"v": 2}', 2000, 2000),
    ]
    store.conn.execute(
        "INSERT INTO disclosures(version, content_hash, document, created_at) "
        "VALUES (3, ?, '{}', 3000)",
        (b"a" * 32,),
    )
    store.close()


def test_upgrade_from_every_older_version(tmp_path: Path, key: SecretKey) -> None:
    """Databases made at each older version all reach the latest version."""
    for start in range(0, LATEST_VERSION):
        path = tmp_path / f"db{start}"
        Store.open(path, key, migrate_to=start).close()
        store = Store.open(path, key)
        assert store.schema_version() == LATEST_VERSION
        store.close()


def test_failed_step_rolls_back(
    tmp_path: Path, key: SecretKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that fails half-way leaves the database at the previous version, untouched."""
    path = tmp_path / "db"
    Store.open(path, key).close()
    broken = Migration(
        LATEST_VERSION + 1, "broken", ("CREATE TABLE half_done (x)", "THIS IS NOT SQL")
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS", (*MIGRATIONS, broken))
    monkeypatch.setattr(migrations_module, "LATEST_VERSION", LATEST_VERSION + 1)
    with pytest.raises(sqlcipher3.DatabaseError):
        Store.open(path, key, migrate_to=LATEST_VERSION + 1)
    monkeypatch.undo()
    store = Store.open(path, key)
    assert store.schema_version() == LATEST_VERSION
    assert "half_done" not in _tables(store)
    store.close()


def test_newer_database_refused(tmp_path: Path, key: SecretKey) -> None:
    """A database from a newer securechat raises UnsupportedSchema instead of guessing."""
    path = tmp_path / "db"
    store = Store.open(path, key)
    store.conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    store.close()
    with pytest.raises(UnsupportedSchema):
        Store.open(path, key)


def test_wrong_key_refused(tmp_path: Path, key: SecretKey) -> None:
    """Opening a store with another key raises WrongPassphrase."""
    path = tmp_path / "db"
    Store.open(path, key).close()
    with pytest.raises(WrongPassphrase):
        Store.open(path, SecretKey(os.urandom(32)))


def test_pragmas(tmp_path: Path, key: SecretKey) -> None:
    """The store runs with a rollback journal, in-memory temp storage and secure delete."""
    store = Store.open(tmp_path / "db", key)
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
    store.close()


def test_transaction_rolls_back_on_error(tmp_path: Path, key: SecretKey) -> None:
    """An exception inside `transaction()` leaves no partial write."""
    store = Store.open(tmp_path / "db", key)

    def failing_write() -> None:
        with store.transaction() as conn:
            conn.execute("INSERT INTO settings VALUES ('a', 'b')")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing_write()
    assert store.get_setting("a") is None
    store.close()


def test_storage_error_names_the_cause(tmp_path: Path, key: SecretKey) -> None:
    """A lock held elsewhere is ProfileInUse, a read-only database ProfileReadOnly, a file that
    is not a database CorruptProfile; any other refusal a plain StorageError."""
    path = tmp_path / "db"
    store = Store.open(path, key)
    other = sqlcipher3.connect(str(path), isolation_level=None, timeout=0)
    try:
        other.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        store.conn.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlcipher3.OperationalError) as busy:
            other.execute("SELECT count(*) FROM settings").fetchone()
        store.conn.execute("ROLLBACK")
        assert type(storage_error(busy.value)) is ProfileInUse

        with pytest.raises(sqlcipher3.OperationalError) as unknown:
            other.execute("SELECT * FROM no_such_table")
        assert type(storage_error(unknown.value)) is StorageError
    finally:
        other.close()

    store.conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write, as for a 0400 file
    with pytest.raises(ProfileReadOnly):
        store.set_setting("x", "y")
    store.close()

    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(8192))
    damaged = sqlcipher3.connect(str(garbage), timeout=0)
    try:
        with pytest.raises(sqlcipher3.DatabaseError) as notadb:
            damaged.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        damaged.close()
    assert type(storage_error(notadb.value)) is CorruptProfile
