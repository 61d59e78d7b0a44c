"""Benchmark the encrypted store against plain SQLite with the same schema and pragmas.

Prints inserts per second and the time of a 100-message history page (keyset pagination on
`messages_conversation`), for SQLCipher (securechat.store) and for stdlib sqlite3 as the
baseline measured in the same run. Figures only; nothing is asserted.

    python bench/store.py [N]     (from the repository root, after `pip install -e .`;
                                   or prefix PYTHONPATH=.)
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from securechat.secret import SecretKey
from securechat.store import MIGRATIONS, Store


def _fill(conn: Any, n: int) -> float:
    conn.execute("INSERT INTO contacts VALUES (1, x'01', 'A', 'client', NULL, 0, 0)")
    conn.execute(
        "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
    )
    body = os.urandom(200)
    start = time.perf_counter()
    conn.execute("BEGIN")
    for i in range(n):
        conn.execute(
            "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
            "body, created_at) VALUES (1, ?, 'in', 'received', ?, ?)",
            (f"m{i}", body, i),
        )
    conn.execute("COMMIT")
    return time.perf_counter() - start


def _page(conn: Any, n: int) -> float:
    start = time.perf_counter()
    rows = conn.execute(
        "SELECT id, body FROM messages WHERE conversation_id = 1 AND created_at < ? "
        "ORDER BY created_at DESC, id DESC LIMIT 100",
        (n // 2,),
    ).fetchall()
    assert len(rows) == 100
    return time.perf_counter() - start


def main() -> None:
    """Run both and print a small table."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "enc.db", SecretKey(os.urandom(32)))
        enc_fill, enc_page = _fill(store.conn, n), _page(store.conn, n)
        store.close()
        plain = sqlite3.connect(Path(tmp) / "plain.db", isolation_level=None)
        for pragma in ("journal_mode = DELETE", "synchronous = FULL", "temp_store = MEMORY"):
            plain.execute(f"PRAGMA {pragma}")
        for step in MIGRATIONS:
            for statement in step.statements:
                plain.execute(statement)
        plain_fill, plain_page = _fill(plain, n), _page(plain, n)
        plain.close()
    print(f"messages: {n}")
    print(f"{'':10} {'inserts/s':>12} {'page of 100 (ms)':>18}")
    print(f"{'sqlcipher':10} {n / enc_fill:12.0f} {enc_page * 1000:18.2f}")
    print(f"{'sqlite3':10} {n / plain_fill:12.0f} {plain_page * 1000:18.2f}")


if __name__ == "__main__":
    main()
