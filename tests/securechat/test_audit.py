"""Tests for the hash-chained audit log: what it records and that tampering is detected."""

from __future__ import annotations

import pytest

from securechat import profiles
from securechat.notes import NoteBook, export_encrypted, list_entries, verify_chain
from securechat.store import Store
from tests.securechat.conftest import add_clients, fast_kdf


@pytest.fixture
def store(counselor: profiles.Profile, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store with a few audited actions: create, open, edit, open, export."""
    add_clients(counselor.store, 1)
    book = NoteBook(counselor.store)
    note = book.add(1, "1", "free", {"note": "catatan pertama"})
    book.open(note.id)
    book.edit(note.id, {"note": "catatan kedua"})
    book.open(note.id)
    out = tmp_path_factory.mktemp("exp") / "n.scx"
    export_encrypted(counselor.store, out, "kata sandi ekspor", kdf=fast_kdf())
    return counselor.store


def test_records_opens_edits_exports(store: Store) -> None:
    """Creates, opens, edits and exports are each recorded, in order, without note text."""
    entries = list_entries(store)
    assert [e.action for e in entries] == ["create", "open", "edit", "open", "export_encrypted"]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all("catatan" not in e.detail for e in entries)
    report = verify_chain(store)
    assert report.ok
    assert report.entries == 5
    assert report.head == entries[-1].hash.hex()


def test_search_is_audited_without_query(counselor: profiles.Profile) -> None:
    """A search is recorded with its result count, never the words searched for."""
    add_clients(counselor.store, 1)
    book = NoteBook(counselor.store)
    book.add(1, "1", "free", {"note": "mimpi buruk"})
    book.search("mimpi")
    last = list_entries(counselor.store)[-1]
    assert last.action == "search"
    assert last.detail == "1 results"
    assert "mimpi" not in repr(last)


def test_empty_chain_verifies(counselor: profiles.Profile) -> None:
    """A profile without notes has an empty, valid chain."""
    assert verify_chain(counselor.store).ok


def test_altered_entry_detected(store: Store) -> None:
    """Changing an entry's action with SQL is detected at that entry."""
    store.conn.execute("UPDATE audit_log SET action = 'open' WHERE seq = 3")
    report = verify_chain(store)
    assert not report.ok
    assert report.first_bad_seq == 3


def test_altered_time_detected(store: Store) -> None:
    """Changing an entry's timestamp is detected."""
    store.conn.execute("UPDATE audit_log SET at = at + 1 WHERE seq = 2")
    assert verify_chain(store).first_bad_seq == 2


def test_deleted_entry_detected(store: Store) -> None:
    """Deleting an entry from the middle is detected."""
    store.conn.execute("DELETE FROM audit_log WHERE seq = 2")
    report = verify_chain(store)
    assert not report.ok
    assert report.first_bad_seq == 2


def test_deleted_last_entry_detected(store: Store) -> None:
    """Cutting the newest entry off the end is detected through the stored head."""
    store.conn.execute("DELETE FROM audit_log WHERE seq = 5")
    report = verify_chain(store)
    assert not report.ok
    assert "end" in report.reason


def test_swapped_entries_detected(store: Store) -> None:
    """Swapping two entries' positions is detected."""
    conn = store.conn
    conn.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2")
    conn.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
    conn.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1")
    report = verify_chain(store)
    assert not report.ok
    assert report.first_bad_seq == 2


def test_swapped_contents_detected(store: Store) -> None:
    """Swapping two entries' contents (keeping seq and hashes) is detected."""
    conn = store.conn
    a = conn.execute("SELECT at, action, note_id FROM audit_log WHERE seq = 2").fetchone()
    b = conn.execute("SELECT at, action, note_id FROM audit_log WHERE seq = 3").fetchone()
    conn.execute("UPDATE audit_log SET at=?, action=?, note_id=? WHERE seq = 2", tuple(b))
    conn.execute("UPDATE audit_log SET at=?, action=?, note_id=? WHERE seq = 3", tuple(a))
    assert not verify_chain(store).ok


def test_recomputed_hash_without_head_detected(store: Store) -> None:
    """Rewriting one entry and its own hash still breaks the link to the next entry."""
    import hashlib

    from securechat.notes.audit import canonical_entry

    conn = store.conn
    row = conn.execute("SELECT seq, at, note_id, detail, prev_hash FROM audit_log WHERE seq = 3")
    seq, at, note_id, detail, prev = row.fetchone()
    forged = hashlib.sha256(
        bytes(prev) + canonical_entry(seq, at, "open", note_id, detail)
    ).digest()
    conn.execute("UPDATE audit_log SET action = 'open', hash = ? WHERE seq = 3", (forged,))
    report = verify_chain(store)
    assert not report.ok
    assert report.first_bad_seq == 4
