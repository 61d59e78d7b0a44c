"""Versioned schema migrations: a tiny runner of ordered SQL steps keyed on `PRAGMA user_version`.

Why not a migration library: alembic would bring SQLAlchemy into a security-sensitive client,
needs a custom connection creator to issue `PRAGMA key` before anything else touches the file,
and its autogenerate cannot see FTS5 virtual tables or triggers, so every step would be
hand-written SQL anyway. Our schema is small and strictly linear (one database per profile,
no branches, no downgrades), so a forty-line runner is easier to audit than the dependency.

How it works:
- `MIGRATIONS` is an ordered tuple; step N upgrades a database at version N-1 to N.
- Each step runs inside one `BEGIN IMMEDIATE` transaction together with
  `PRAGMA user_version = N` (DDL and the header write are transactional in SQLite), so a crash
  leaves the database at N-1 or N, never in between.
- A database whose version is newer than this build raises `UnsupportedSchema`.

Invariants for whoever adds a step: never edit a released step, append a new one; give it a
test that builds a database at the previous version, fills it, upgrades and checks the data.
Timestamps are integer milliseconds since the Unix epoch (UTC) throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from securechat.errors import UnsupportedSchema

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "migrate", "schema_version"]


@dataclass(frozen=True)
class Migration:
    """One step: the version it produces, a short name, and the SQL statements it runs."""

    version: int
    name: str
    statements: tuple[str, ...]


_V1_CORE = Migration(
    1,
    "core: profile, identity, contacts, conversations, messages, outbox, consent, ratchet",
    (
        """CREATE TABLE profile (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            role TEXT NOT NULL CHECK (role IN ('counselor', 'client')),
            display_name TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seed BLOB NOT NULL CHECK (length(seed) = 32),
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            identity_key BLOB NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('counselor', 'client')),
            verified_at INTEGER,
            identity_changed INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'active', 'closed', 'withdrawn')),
            relay_url TEXT,
            send_queue BLOB,
            recv_queue BLOB,
            recv_auth_key BLOB,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        "CREATE INDEX conversations_contact ON conversations(contact_id)",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            message_id TEXT NOT NULL UNIQUE,
            sender_contact_id INTEGER REFERENCES contacts(id),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            delivery_state TEXT NOT NULL
                CHECK (delivery_state IN ('queued', 'sent', 'delivered', 'received', 'failed')),
            payload_type TEXT NOT NULL DEFAULT 'text',
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            received_at INTEGER
        )""",
        "CREATE INDEX messages_conversation ON messages(conversation_id, created_at, id)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT NOT NULL UNIQUE REFERENCES messages(message_id) ON DELETE CASCADE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            envelope BLOB,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE consent_records (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('given', 'withdrawn')),
            disclosure_version INTEGER NOT NULL,
            disclosure_hash BLOB NOT NULL,
            language TEXT NOT NULL,
            signed_record BLOB NOT NULL,
            countersignature BLOB,
            created_at INTEGER NOT NULL
        )""",
        "CREATE INDEX consent_contact ON consent_records(contact_id, created_at)",
        """CREATE TABLE ratchet_sessions (
            contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
            state BLOB NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    ),
)

_V2_DISCLOSURE = Migration(
    2,
    "counselor public profile and versioned disclosures",
    (
        """CREATE TABLE counselor_profile (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE disclosures (
            version INTEGER PRIMARY KEY,
            content_hash BLOB NOT NULL UNIQUE,
            document TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""",
    ),
)

_V3_NOTES = Migration(
    3,
    "counselor notes with revisions, full-text search and a hash-chained audit log",
    (
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL,
            session_id TEXT NOT NULL,
            template TEXT NOT NULL,
            current_revision INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        "CREATE INDEX notes_contact ON notes(contact_id, session_id)",
        """CREATE TABLE note_revisions (
            note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
            revision INTEGER NOT NULL,
            sections TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (note_id, revision)
        )""",
        """CREATE VIRTUAL TABLE notes_fts USING fts5(
            body, note_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
        )""",
        """CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            action TEXT NOT NULL,
            note_id INTEGER,
            detail TEXT NOT NULL DEFAULT '',
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )""",
    ),
)

_V4_CONVERSATIONS = Migration(
    4,
    "conversations: queues, sessions, consent state; link outbox; de-duplication; intake",
    (
        # One Double Ratchet session per conversation (replaces the unused per-contact table).
        "DROP TABLE ratchet_sessions",
        "ALTER TABLE conversations ADD COLUMN our_role TEXT NOT NULL DEFAULT 'client'",
        "ALTER TABLE conversations ADD COLUMN recv_sid BLOB",
        "ALTER TABLE conversations ADD COLUMN send_key BLOB",
        "ALTER TABLE conversations ADD COLUMN handshake BLOB",
        "ALTER TABLE conversations ADD COLUMN session BLOB",
        "ALTER TABLE conversations ADD COLUMN consent_version INTEGER",
        "ALTER TABLE conversations ADD COLUMN consent_language TEXT",
        "ALTER TABLE conversations ADD COLUMN consent_needed INTEGER",
        "ALTER TABLE conversations ADD COLUMN invite_pid BLOB",
        "ALTER TABLE conversations ADD COLUMN answered INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE conversations ADD COLUMN unread INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX conversations_recv ON conversations(recv_queue)",
        "CREATE INDEX conversations_handshake ON conversations(handshake)",
        "ALTER TABLE messages ADD COLUMN wire_id BLOB",
        "ALTER TABLE messages ADD COLUMN tasks_done TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX messages_wire ON messages(conversation_id, wire_id)",
        # The outbox now holds every envelope to send (messages, receipts, control), in order.
        "DROP TABLE outbox",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
            message_id TEXT REFERENCES messages(message_id) ON DELETE CASCADE,
            relay_url TEXT NOT NULL,
            sid BLOB NOT NULL,
            sender_key BLOB,
            envelope BLOB NOT NULL,
            created_at INTEGER NOT NULL
        )""",
        "CREATE INDEX outbox_relay ON outbox(relay_url, id)",
        """CREATE TABLE processed (
            digest BLOB PRIMARY KEY,
            at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE intake (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            relay_url TEXT NOT NULL,
            pid BLOB,
            publisher_key BLOB NOT NULL,
            rid BLOB NOT NULL,
            rkey BLOB NOT NULL,
            sid BLOB NOT NULL,
            prekeys BLOB NOT NULL,
            published_version INTEGER,
            published_at INTEGER
        )""",
        """CREATE TABLE invites (
            invite_id TEXT PRIMARY KEY,
            relay_url TEXT NOT NULL,
            pid BLOB NOT NULL,
            identity_key BLOB NOT NULL,
            publication BLOB NOT NULL,
            prekey BLOB,
            created_at INTEGER NOT NULL
        )""",
    ),
)

_V5_HISTORY_INDEX = Migration(
    5,
    "history pages in message order from the index (no sort of the whole conversation)",
    ("CREATE INDEX messages_history ON messages(conversation_id, id)",),
)

_V6_DISCLOSURE_DRAFTS = Migration(
    6,
    "disclosures: a version may repeat an earlier text; a version nobody was shown is a draft",
    (
        # The UNIQUE on content_hash made returning to an earlier text (undoing an edit,
        # or a profile change and back) fail. `shared_at`: when the version first went out
        # in a publication; until then it is a draft that a new save replaces. Versions
        # from before this step count as shared: nothing says they were not.
        """CREATE TABLE disclosures_v6 (
            version INTEGER PRIMARY KEY,
            content_hash BLOB NOT NULL,
            document TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            shared_at INTEGER
        )""",
        "INSERT INTO disclosures_v6(version, content_hash, document, created_at, shared_at) "
        "SELECT version, content_hash, document, created_at, created_at FROM disclosures",
        "DROP TABLE disclosures",
        "ALTER TABLE disclosures_v6 RENAME TO disclosures",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    _V1_CORE,
    _V2_DISCLOSURE,
    _V3_NOTES,
    _V4_CONVERSATIONS,
    _V5_HISTORY_INDEX,
    _V6_DISCLOSURE_DRAFTS,
)
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(conn: Any) -> int:
    """The database's `PRAGMA user_version`."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: Any, target: int = LATEST_VERSION) -> int:
    """Apply every step above the database's version up to `target`; return the new version.

    `conn` is an open, keyed sqlcipher3 connection in autocommit mode (`isolation_level=None`).

    Raises:
        UnsupportedSchema: the database is newer than this build knows.
        sqlcipher3.DatabaseError: a step failed; that step was rolled back.
    """
    current = schema_version(conn)
    if current > LATEST_VERSION:
        raise UnsupportedSchema()
    for step in MIGRATIONS:
        if step.version <= current or step.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in step.statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(step.version)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        current = step.version
    return current
