"""Storage backends of the relay behind one interface, `Store` (see `relay.store.base`)."""

from relay.store.base import Store, StoreStats
from relay.store.sqlite import SQLiteStore, read_stats

__all__ = ["SQLiteStore", "Store", "StoreStats", "read_stats"]
