"""The encrypted per-profile store: SQLCipher 4 connection, schema and migrations.

See `securechat.store.db` for the storage choices and `securechat.store.migrations` for the
schema and how it evolves.
"""

from __future__ import annotations

from securechat.store.db import Store, now_ms
from securechat.store.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "Store", "migrate", "now_ms"]
