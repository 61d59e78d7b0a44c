"""How long the chat history is kept on this device, and the purge that enforces it.

The setting `retention.days` holds a positive number of days, or is absent for "keep forever"
(the default). `purge_expired` deletes messages older than that; it touches the `messages`
table only, never counselor notes, consent records or the audit log, and never a message
still waiting in the outbox. `secure_delete` is on in the store, so purged rows are
overwritten rather than left in free pages.
"""

from __future__ import annotations

from securechat.errors import InvalidInput
from securechat.store import Store, now_ms

__all__ = [
    "MAX_DAYS",
    "RETENTION_SETTING",
    "count_expiring",
    "get_retention_days",
    "purge_expired",
    "retention_value",
    "set_retention_days",
]

RETENTION_SETTING = "retention.days"
MAX_DAYS = 36_500
_DAY_MS = 86_400_000


def get_retention_days(store: Store) -> int | None:
    """Days of history kept, or None for "never delete"."""
    value = store.get_setting(RETENTION_SETTING)
    if value is None:
        return None
    try:
        days = int(value)
    except ValueError:
        return None
    return days if 1 <= days <= MAX_DAYS else None


def set_retention_days(store: Store, days: int | None) -> None:
    """Keep history for `days` days, or forever with None.

    Raises:
        InvalidInput: `days` is not between 1 and 36,500.
    """
    store.set_setting(RETENTION_SETTING, retention_value(days))


def retention_value(days: int | None) -> str | None:
    """How `days` is stored under `RETENTION_SETTING` (None: the setting is removed).

    Raises:
        InvalidInput: `days` is not between 1 and 36,500.
    """
    if days is None:
        return None
    if isinstance(days, bool) or not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput("History can be kept for 1 to 36,500 days, or forever.")
    return str(int(days))


# The messages a purge deletes: older than the cutoff and not waiting in the outbox.
_EXPIRED = (
    "FROM messages WHERE created_at < ? "
    "AND message_id NOT IN (SELECT message_id FROM outbox WHERE message_id IS NOT NULL)"
)


def _cutoff(days: int, now: int | None) -> int:
    return (now_ms() if now is None else int(now)) - days * _DAY_MS


def count_expiring(store: Store, days: int | None, *, now: int | None = None) -> int:
    """How many messages a retention period of `days` would delete now (None: none).

    Counts exactly what `purge_expired` would delete with that period set; deletes nothing.

    Raises:
        InvalidInput: `days` is not None and not between 1 and 36,500.
    """
    if days is None:
        return 0
    retention_value(days)  # refuses an out-of-range period
    row = store.conn.execute("SELECT count(*) " + _EXPIRED, (_cutoff(days, now),)).fetchone()
    return int(row[0])


def purge_expired(store: Store, *, now: int | None = None) -> int:
    """Delete messages older than the retention period; return how many were deleted.

    `now` (ms since the epoch) is for tests; it defaults to the current time.
    """
    days = get_retention_days(store)
    if days is None:
        return 0
    with store.transaction() as conn:
        cur = conn.execute("DELETE " + _EXPIRED, (_cutoff(days, now),))
        deleted = int(cur.rowcount)
        if deleted:  # a purged message is no longer waiting to be read
            conn.execute(
                "UPDATE conversations SET unread = (SELECT count(*) FROM messages m "
                "WHERE m.conversation_id = conversations.id AND m.direction = 'in') "
                "WHERE unread > (SELECT count(*) FROM messages m "
                "WHERE m.conversation_id = conversations.id AND m.direction = 'in')"
            )
        return deleted
