"""The SQLite store: the shared storage suite plus durability, group commit and schema."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relay.exceptions import StoreError
from relay.mailbox import StoredMessage
from relay.store import SQLiteStore, read_stats
from relay.store.base import AddMessage, MessageResult
from relay.store.sqlite import DB_NAME, schema_files
from tests.relay.conftest import wait_until
from tests.relay.store_suite import StoreSuite, new_queue


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "data")
    await s.open()
    yield s
    await s.close()


class TestSQLiteStoreContract(StoreSuite):
    """The backend-independent storage suite, run on SQLite."""


async def test_state_survives_reopen(tmp_path: Path) -> None:
    """Queues and messages written before close() are there after a new open()."""
    s = SQLiteStore(tmp_path / "d")
    await s.open()
    q = new_queue()
    await s.create_queue(q)
    m = await s.add_message(q.rid, os.urandom(16), 5, b"kept", 10)
    await s.close()
    s2 = SQLiteStore(tmp_path / "d")
    await s2.open()
    try:
        assert await s2.queue_by_sid(q.sid) == q
        assert await s2.pending(q.rid, 10) == [m]
    finally:
        await s2.close()


async def test_wal_is_checkpointed_in_the_background(store: SQLiteStore) -> None:
    """Commits do not checkpoint; the checkpoint thread copies the WAL into the database."""
    q = new_queue()
    await store.create_queue(q)
    await asyncio.gather(
        *(store.add_message(q.rid, os.urandom(16), 1, b"x" * 512, 1000) for _ in range(200))
    )
    assert store._conn is not None
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    await wait_until(lambda: store.checkpointed_frames > 0)


async def test_wal_is_started_over_under_steady_writes(store: SQLiteStore) -> None:
    """Past `wal_restart_frames` the checkpoint thread restarts the WAL; nothing is lost."""
    store.wal_restart_frames = 20
    q = new_queue()
    await store.create_queue(q)
    n = 0
    async with asyncio.timeout(20):
        while store.wal_restarts == 0:
            await asyncio.gather(
                *(store.add_message(q.rid, os.urandom(16), 1, b"x" * 4096, 10**6) for _ in range(5))
            )
            n += 5
            await asyncio.sleep(0.01)
    assert (await store.stats()).messages == n


async def test_group_commit_batches_concurrent_sends(store: SQLiteStore) -> None:
    """500 sends submitted together commit in far fewer than 500 transactions."""
    q = new_queue()
    await store.create_queue(q)
    before = store.batches
    await asyncio.gather(
        *(store.add_message(q.rid, os.urandom(16), 1, b"x", 1000) for _ in range(500))
    )
    assert store.batches - before < 50
    assert (await store.stats()).messages == 500


async def _submit(store: SQLiteStore, ops: list[AddMessage]) -> list[MessageResult]:
    fut: asyncio.Future[list[MessageResult]] = asyncio.get_running_loop().create_future()
    store.submit_messages(ops, fut.set_result)
    return await fut


async def test_a_small_batch_commits_on_the_event_loop(store: SQLiteStore) -> None:
    """A batch of at most `inline_ops` message operations commits without the writer thread,
    and is durable when its result comes back."""
    q = new_queue()
    await store.create_queue(q)
    inline, batches = store.inline_batches, store.batches
    ops = [AddMessage(q.rid, os.urandom(16), 1, b"m%d" % i, 100) for i in range(3)]
    results = await _submit(store, ops)
    assert (store.inline_batches, store.batches) == (inline + 1, batches + 1)
    assert [r.body for r in results if isinstance(r, StoredMessage)] == [b"m0", b"m1", b"m2"]
    other = sqlite3.connect(store.path)  # another connection sees the committed rows
    try:
        assert other.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
    finally:
        other.close()


async def test_a_big_batch_goes_to_the_writer_thread_and_order_holds(store: SQLiteStore) -> None:
    """A batch over `inline_ops` runs in the writer thread; what is submitted while it runs
    follows it there, and the store keeps the order of submission throughout."""
    q = new_queue()
    await store.create_queue(q)
    inline = store.inline_batches
    big = [
        AddMessage(q.rid, os.urandom(16), 1, b"big%03d" % i, 10_000)
        for i in range(store.inline_ops + 1)
    ]
    first = asyncio.ensure_future(_submit(store, big))
    await asyncio.sleep(0)  # the big batch is handed over at the end of this iteration
    small = [
        asyncio.ensure_future(
            _submit(store, [AddMessage(q.rid, os.urandom(16), 1, b"s%d" % i, 10_000)])
        )
        for i in range(5)
    ]
    await asyncio.gather(first, *small)
    assert store.inline_batches == inline  # none of them ran on the loop
    bodies = [m.body for m in await store.pending(q.rid, 1000)]
    assert bodies == [op.body for op in big] + [b"s%d" % i for i in range(5)]
    # Once the thread is idle again, a small batch commits on the loop.
    inline = store.inline_batches
    await _submit(store, [AddMessage(q.rid, os.urandom(16), 1, b"after", 10_000)])
    assert store.inline_batches == inline + 1


async def test_a_locked_database_does_not_stall_the_event_loop(store: SQLiteStore) -> None:
    """While another connection holds the write lock (a checkpoint, a backup tool), a small
    batch waits in the writer thread, not on the event loop, and commits once it is free."""
    q = new_queue()
    await store.create_queue(q)
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        inline = store.inline_batches
        fut = asyncio.ensure_future(store.add_message(q.rid, os.urandom(16), 1, b"waits", 10))
        for _ in range(5):  # the loop keeps turning meanwhile
            await asyncio.sleep(0.01)
        assert not fut.done()
        other.execute("COMMIT")
    finally:
        other.close()
    stored = await fut
    assert stored.body == b"waits"
    assert store.inline_batches == inline


async def test_expiry_never_runs_on_the_event_loop(store: SQLiteStore) -> None:
    """`expire` may delete a great many rows: it always goes to the writer thread."""
    q = new_queue()
    await store.create_queue(q)
    await store.add_message(q.rid, os.urandom(16), 1, b"old", 10)
    inline = store.inline_batches
    assert await store.expire(2) == 1
    assert store.inline_batches == inline


async def test_close_commits_what_was_submitted_in_the_same_iteration(tmp_path: Path) -> None:
    """Operations submitted just before close() (not yet run) are committed, not dropped."""
    s = SQLiteStore(tmp_path / "d")
    await s.open()
    q = new_queue()
    await s.create_queue(q)
    got: list[list[MessageResult]] = []
    s.submit_messages([AddMessage(q.rid, os.urandom(16), 1, b"last", 10)], got.append)
    await s.close()
    assert len(got) == 1
    assert isinstance(got[0][0], StoredMessage)
    assert read_stats(tmp_path / "d").messages == 1


async def test_schema_version_and_files(store: SQLiteStore) -> None:
    """A new database is at the newest schema version, and schema files are numbered 1..n."""
    versions = [v for v, _ in schema_files()]
    assert versions == list(range(1, len(versions) + 1))
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == versions[-1]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_newer_schema_refused(tmp_path: Path) -> None:
    """A database written by a newer relay (higher user_version) is refused, not touched."""
    d = tmp_path / "d"
    d.mkdir()
    conn = sqlite3.connect(d / DB_NAME)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await SQLiteStore(d).open()


async def test_upgrade_from_each_version(tmp_path: Path) -> None:
    """Every schema file applies on top of the previous version's database."""
    files = schema_files()
    for upto in range(len(files)):
        d = tmp_path / f"v{upto}"
        d.mkdir()
        conn = sqlite3.connect(d / DB_NAME)
        for version, sql in files[:upto]:
            conn.executescript(sql)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.close()
        s = SQLiteStore(d)
        await s.open()
        q = new_queue()
        await s.create_queue(q)
        assert await s.queue_by_rid(q.rid) == q
        await s.close()


async def test_upgrade_to_2_keeps_messages_and_acks_work(tmp_path: Path) -> None:
    """Schema 2 drops the mid index; a v1 database keeps its messages, acked by (rid, mid)."""
    d = tmp_path / "v1"
    d.mkdir()
    conn = sqlite3.connect(d / DB_NAME)
    conn.executescript(schema_files()[0][1])
    conn.execute("PRAGMA user_version = 1")
    q = new_queue()
    mids = [os.urandom(16), os.urandom(16)]
    conn.execute("INSERT INTO queues VALUES (?, ?, ?, ?, ?)", (q.rid, q.sid, q.rkey, None, 0))
    for i, mid in enumerate(mids):
        conn.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", (i + 1, q.rid, mid, 5, b"b"))
    conn.commit()
    conn.close()
    s = SQLiteStore(d)
    await s.open()
    try:
        assert [m.mid for m in await s.pending(q.rid, 10)] == mids
        await s.delete_message(q.rid, mids[0])
        assert [m.mid for m in await s.pending(q.rid, 10)] == mids[1:]
        check = sqlite3.connect(d / DB_NAME)
        names = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        check.close()
        assert "messages_by_mid" not in names
        assert "messages_by_queue" in names
    finally:
        await s.close()


async def test_database_file_is_private(store: SQLiteStore) -> None:
    """The database is created with mode 0600 (no group or other access)."""
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode & 0o077 == 0


async def test_uncreatable_data_dir() -> None:
    """A data directory that cannot be created, even by root (inside /proc), raises StoreError."""
    with pytest.raises(StoreError):
        await SQLiteStore(Path("/proc/self/securechat-relay-data")).open()


async def test_file_in_place_of_data_dir(tmp_path: Path) -> None:
    """A regular file where the data directory should be raises StoreError."""
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError):
        await SQLiteStore(f).open()


async def test_read_stats_while_open(store: SQLiteStore) -> None:
    """read_stats reads counts from another connection while the store is open."""
    q = new_queue()
    await store.create_queue(q)
    await store.add_message(q.rid, os.urandom(16), 1, b"x", 10)
    st = read_stats(store.data_dir)
    assert (st.queues, st.messages) == (1, 1)
    with pytest.raises(StoreError):
        read_stats(store.data_dir / "nowhere")


async def test_log_says_created_or_upgraded_never_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A new data directory logs one "creating" line; an older database logs its upgrades."""
    caplog.set_level("INFO", logger="relay.store.sqlite")
    s = SQLiteStore(tmp_path / "new")
    await s.open()
    await s.close()
    lines = [r.getMessage() for r in caplog.records if "relay database" in r.getMessage()]
    latest = schema_files()[-1][0]
    assert lines == [f"creating the relay database (schema version {latest})"]

    caplog.clear()
    old = tmp_path / "old"
    old.mkdir()
    conn = sqlite3.connect(old / DB_NAME)
    version, sql = schema_files()[0]
    conn.executescript(sql)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    s = SQLiteStore(old)
    await s.open()
    await s.close()
    lines = [r.getMessage() for r in caplog.records if "relay database" in r.getMessage()]
    assert lines == [
        f"upgrading the relay database to schema version {v}" for v, _ in schema_files()[1:]
    ]


async def test_failing_writes_are_logged_once_a_minute_with_their_reason(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """The first failed transaction is logged with why; the next ones only as a count once
    per `failure_log_interval`; the first commit after them says the store writes again."""

    def full(_conn: sqlite3.Connection) -> None:
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
        raise exc

    caplog.set_level("WARNING", logger="relay.store.sqlite")
    for _ in range(5):
        with pytest.raises(StoreError):
            await store._submit(full)
    assert store.failing == "the disk is full"
    assert store.write_failures == 5
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert lines[0].startswith("the relay store cannot write: the disk is full;")
    store.failure_log_interval = 0.0
    with pytest.raises(StoreError):
        await store._submit(full)
    assert caplog.records[-1].getMessage() == (
        "the relay store still cannot write: the disk is full (5 more transactions refused)"
    )
    await store.create_queue(new_queue())
    assert store.failing is None
    assert caplog.records[-1].getMessage() == (
        "the relay store writes again (6 transactions were refused)"
    )
