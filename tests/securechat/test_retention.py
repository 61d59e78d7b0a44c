"""Tests for the history retention setting and the purge."""

from __future__ import annotations

import pytest

from securechat import profiles
from securechat.errors import InvalidInput
from securechat.notes import NoteBook
from securechat.retention import (
    count_expiring,
    get_retention_days,
    purge_expired,
    set_retention_days,
)

DAY = 86_400_000
NOW = 1_800_000_000_000


def _seed(profile: profiles.Profile) -> None:
    conn = profile.store.conn
    conn.execute("INSERT INTO contacts VALUES (1, x'01', 'Ayu', 'client', NULL, 0, 0)")
    conn.execute(
        "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
    )
    for mid, age_days, state in [
        ("old", 40, "received"),
        ("old-queued", 40, "queued"),
        ("recent", 5, "received"),
    ]:
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, body, "
            "created_at) VALUES (1, ?, 'out', ?, x'00', ?)",
            (mid, state, NOW - age_days * DAY),
        )
    conn.execute(
        "INSERT INTO outbox(message_id, conversation_id, relay_url, sid, envelope, created_at) "
        "VALUES ('old-queued', 1, 'ws://127.0.0.1:1/ws', x'00', x'00', 0)"
    )


def test_default_keeps_forever(counselor: profiles.Profile) -> None:
    """Without a setting nothing is purged."""
    _seed(counselor)
    assert get_retention_days(counselor.store) is None
    assert purge_expired(counselor.store, now=NOW) == 0


def test_purge_old_messages_only(counselor: profiles.Profile) -> None:
    """Messages older than N days go; recent ones, queued ones and notes stay."""
    _seed(counselor)
    NoteBook(counselor.store).add(1, "1", "free", {"note": "catatan"})
    set_retention_days(counselor.store, 30)
    assert get_retention_days(counselor.store) == 30
    assert purge_expired(counselor.store, now=NOW) == 1
    left = {r[0] for r in counselor.store.conn.execute("SELECT message_id FROM messages")}
    assert left == {"old-queued", "recent"}
    assert len(NoteBook(counselor.store).list_notes()) == 1
    set_retention_days(counselor.store, None)
    assert get_retention_days(counselor.store) is None


@pytest.mark.parametrize("days", [0, -1, 36_501])
def test_invalid_days(counselor: profiles.Profile, days: int) -> None:
    """Out-of-range retention periods are refused."""
    with pytest.raises(InvalidInput):
        set_retention_days(counselor.store, days)


def test_purged_messages_no_longer_count_as_unread(counselor: profiles.Profile) -> None:
    """A conversation whose unread messages were purged shows only what is left unread."""
    conn = counselor.store.conn
    conn.execute("INSERT INTO contacts VALUES (1, x'01', 'Ayu', 'client', NULL, 0, 0)")
    conn.execute(
        "INSERT INTO conversations(id, contact_id, created_at, updated_at, unread) "
        "VALUES (1, 1, 0, 0, 3)"
    )
    for mid, age_days in [("old-1", 40), ("old-2", 40), ("new", 1)]:
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
            "body, created_at) VALUES (1, ?, 'in', 'received', x'00', ?)",
            (mid, NOW - age_days * DAY),
        )
    set_retention_days(counselor.store, 30)
    assert purge_expired(counselor.store, now=NOW) == 2
    assert conn.execute("SELECT unread FROM conversations WHERE id = 1").fetchone()[0] == 1


def test_count_expiring_counts_what_a_purge_would_delete(counselor: profiles.Profile) -> None:
    """The count for a period is exactly what the purge then deletes, and counting deletes
    nothing (queued messages are neither counted nor purged)."""
    _seed(counselor)
    assert count_expiring(counselor.store, 30, now=NOW) == 1
    assert count_expiring(counselor.store, 3, now=NOW) == 2
    assert count_expiring(counselor.store, None, now=NOW) == 0
    assert counselor.store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
    set_retention_days(counselor.store, 3)
    assert purge_expired(counselor.store, now=NOW) == 2


@pytest.mark.parametrize("days", [0, -1, 36_501])
def test_count_expiring_refuses_invalid_days(counselor: profiles.Profile, days: int) -> None:
    """The count refuses the periods the setting refuses."""
    with pytest.raises(InvalidInput):
        count_expiring(counselor.store, days)
