"""A hash-chained audit log of what was done to counselor notes: opens, edits and exports.

A search counts as an open, because its results show excerpts of note text; its entry records
the number of results, never the query.

Each entry is `(seq, at, action, note_id, detail)`; its hash is
`SHA-256(prev_hash || canonical(entry))`, where `canonical` is compact, key-sorted UTF-8 JSON
and the first entry's `prev_hash` is 32 zero bytes. The newest `(seq, hash)` is also kept as
the chain head in `settings`, so cutting entries off the end is noticed too.

What this proves and what it does not: any altered, removed, inserted or reordered entry is
detected by `verify`. Someone who holds the database key could rewrite the whole chain and its
head consistently; to guard against that, a counselor can copy the head hash (shown by
`verify`) somewhere else and compare later.

Invariants:
- Entries are appended inside the caller's transaction, together with the change they record.
- Entries carry ids and counts only, never note text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from securechat.store import Store, now_ms

__all__ = [
    "AUDIT_ACTIONS",
    "GENESIS_HASH",
    "AuditAction",
    "AuditEntry",
    "AuditReport",
    "append_entry",
    "canonical_entry",
    "list_entries",
    "verify_chain",
]

AuditAction = Literal["create", "open", "edit", "search", "export_encrypted", "export_markdown"]
AUDIT_ACTIONS: tuple[str, ...] = (
    "create",
    "open",
    "edit",
    "search",
    "export_encrypted",
    "export_markdown",
)
GENESIS_HASH = bytes(32)
_HEAD_SETTING = "audit.head"


@dataclass(frozen=True)
class AuditEntry:
    """One link of the chain."""

    seq: int
    at: int
    action: str
    note_id: int | None
    detail: str
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class AuditReport:
    """The outcome of `verify_chain`: ok, how many entries, and the first bad one if any."""

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    reason: str = ""


def canonical_entry(seq: int, at: int, action: str, note_id: int | None, detail: str) -> bytes:
    """The byte string an entry's hash covers."""
    return json.dumps(
        {"seq": seq, "at": at, "action": action, "note_id": note_id, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def _hash(prev: bytes, seq: int, at: int, action: str, note_id: int | None, detail: str) -> bytes:
    return hashlib.sha256(prev + canonical_entry(seq, at, action, note_id, detail)).digest()


def append_entry(
    conn: Any, action: AuditAction, note_id: int | None, detail: str = ""
) -> AuditEntry:
    """Append an entry using `conn`, which must be inside an open transaction."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (1, GENESIS_HASH) if row is None else (int(row[0]) + 1, bytes(row[1]))
    at = now_ms()
    digest = _hash(prev, seq, at, action, note_id, detail)
    conn.execute(
        "INSERT INTO audit_log(seq, at, action, note_id, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, at, action, note_id, detail, prev, digest),
    )
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (_HEAD_SETTING, f"{seq}:{digest.hex()}"),
    )
    return AuditEntry(seq, at, action, note_id, detail, prev, digest)


def list_entries(store: Store) -> list[AuditEntry]:
    """Every entry, in `seq` order."""
    rows = store.conn.execute(
        "SELECT seq, at, action, note_id, detail, prev_hash, hash FROM audit_log ORDER BY seq"
    ).fetchall()
    return [
        AuditEntry(
            int(r[0]),
            int(r[1]),
            str(r[2]),
            None if r[3] is None else int(r[3]),
            str(r[4]),
            bytes(r[5]),
            bytes(r[6]),
        )
        for r in rows
    ]


def verify_chain(store: Store) -> AuditReport:
    """Recompute the chain; report the first entry that was altered, removed or moved."""
    entries = list_entries(store)
    prev = GENESIS_HASH
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq:
            return AuditReport(False, len(entries), "", expected_seq, "an entry is missing")
        if entry.prev_hash != prev:
            return AuditReport(False, len(entries), "", entry.seq, "the chain is broken here")
        digest = _hash(prev, entry.seq, entry.at, entry.action, entry.note_id, entry.detail)
        if digest != entry.hash:
            return AuditReport(False, len(entries), "", entry.seq, "this entry was altered")
        prev = digest
    head = store.get_setting(_HEAD_SETTING)
    expected_head = f"{len(entries)}:{prev.hex()}" if entries else None
    if head != expected_head:
        return AuditReport(
            False, len(entries), "", len(entries) + 1, "entries were removed from the end"
        )
    return AuditReport(True, len(entries), prev.hex())
