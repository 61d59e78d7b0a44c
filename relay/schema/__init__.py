"""Versioned SQLite schema files (`NNNN_name.sql`), applied in order by `relay.store.sqlite`.

Each file upgrades the database from version NNNN-1 to NNNN (`PRAGMA user_version`). Files
are never edited once released; a change is a new file with its own test.
"""
