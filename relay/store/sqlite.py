"""The default store: one SQLite database in WAL mode, written by one dedicated thread.

Design
    * One read-write connection runs one transaction at a time. Callers submit operations
      (plain functions of the connection, or runs of message adds and deletes); the operations
      submitted while a transaction runs go into the next one, which commits once
      (`synchronous=FULL`: one fsync of the WAL per batch). This is group commit: under load
      one fsync covers hundreds of SENDs, yet every result is reported only after its batch
      committed.
    * Where a batch runs depends on its size. A small one (at most `inline_ops` message
      operations: the usual case below a few thousand messages per second) runs on the event
      loop, at the end of the loop iteration that submitted it: it blocks the loop for the
      commit (a fraction of a millisecond), and costs no hand-off to another thread and back.
      Those two hand-offs each wait for the GIL and for a free core, and on a 2-core machine
      they made up most of a message's time in the relay (bench/relay.py, docs/self-hosting.md).
      A big batch goes to the writer thread instead, where SQLite's own work runs beside the
      event loop (the sqlite3 module releases the GIL while a statement runs); while it does,
      new operations queue up for the thread, which takes all of them (up to `max_batch`) as
      its next batch. Results come back with one ``call_soon_threadsafe`` per batch.
    * A refused operation (`CommandFailed`) validates before it writes, so it changes nothing
      and does not disturb the rest of its batch. An unexpected error rolls the whole batch
      back and fails each of its operations with `StoreError`.
    * `stats()` and `read_stats()` use a separate read-only connection: WAL lets them run while
      the server writes, so ``securechat-relay stats`` works on a live relay.
    * The schema is versioned (`PRAGMA user_version`) by the files in `relay/schema/`; opening
      applies every newer file in its own transaction, and refuses a database from the future.
    * The database and its WAL are created with mode 0600.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import os
import queue
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from relay.exceptions import (
    AuthError,
    CommandFailed,
    NoMessage,
    NoPublication,
    NoQueue,
    QuotaExceeded,
    StoreError,
)
from relay.mailbox import PublicationRecord, QueueRecord, StoredMessage
from relay.store.base import (
    AddMessage,
    DeleteMessage,
    MessageOp,
    MessageResult,
    Store,
    StoreStats,
)

__all__ = ["DB_NAME", "SQLiteStore", "read_stats", "schema_files"]

log = logging.getLogger(__name__)

DB_NAME = "relay.sqlite3"
_CHUNK = 1000  # rows per multi-row statement (SQLite allows 32766 parameters)
_BUSY_TIMEOUT_MS = 5000  # how long a connection waits for a lock another one holds
T = TypeVar("T")
_Op = Callable[[sqlite3.Connection], Any]
_STOP = object()


class _Hot:
    """A `submit_messages` batch travelling to the writer thread and back."""

    __slots__ = ("done", "ops", "results")

    def __init__(
        self, ops: Sequence[MessageOp], done: Callable[[list[MessageResult]], None]
    ) -> None:
        self.ops = ops
        self.done = done
        self.results: list[MessageResult] = [None] * len(ops)


class _Redo(Exception):
    """A batch must be rolled back and run again one delete at a time (see _delete_chunk)."""


# Where a result goes: the future of a plain operation, or (last) the list of the batch's
# `_Hot` batches, whose results are in their own `results`.
_Slot = Any


def schema_files() -> list[tuple[int, str]]:
    """Return [(version, sql)] of the packaged schema files, in order."""
    out = []
    for res in importlib.resources.files("relay.schema").iterdir():
        m = re.fullmatch(r"(\d{4})_\w+\.sql", res.name)
        if m:
            out.append((int(m.group(1)), res.read_text(encoding="utf-8")))
    out.sort()
    return out


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    return conn


def _migrate(conn: sqlite3.Connection) -> int:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    files = schema_files()
    latest = files[-1][0] if files else 0
    if current > latest:
        raise StoreError("the relay database was written by a newer version of the relay")
    if current == 0:
        log.info("creating the relay database (schema version %s)", latest)
    for version, sql in files:
        if version <= current:
            continue
        if current != 0:
            log.info("upgrading the relay database to schema version %s", version)
        conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version:d};\nCOMMIT;")
    return latest


def _probe_writable(conn: sqlite3.Connection, data_dir: Path) -> None:
    """Write the database without changing it, so a read-only one is refused at start-up.

    SQLite opens a file it may not write (owned by another user, on a read-only mount)
    read-only without saying so, and reads work: only the first write would fail. Setting
    `user_version` to its own value is a write; the transaction is rolled back.

    Raises:
        StoreError: the database cannot be written; `conn` is closed.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {version:d}")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(
            f"the relay database in {data_dir} cannot be written: {_failure_reason(exc)}; "
            "the relay's user must be able to write it and its directory"
        ) from exc
    conn.execute("ROLLBACK")


def _writable_dir(data_dir: Path) -> bool:
    """Whether this process may create files in `data_dir` (SQLite's -wal and -shm files)."""
    return os.access(data_dir, os.W_OK | os.X_OK)


def _stats(conn: sqlite3.Connection) -> StoreStats:
    def count(table: str) -> int:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

    return StoreStats(count("queues"), count("messages"), count("publications"), count("prekeys"))


def read_stats(data_dir: Path) -> StoreStats:
    """Read counts from the database in `data_dir` without writing (safe on a live relay).

    Raises:
        StoreError: there is no readable relay database there; the message says why.
    """
    path = data_dir / DB_NAME
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise StoreError("no relay database in that data directory") from None
    except NotADirectoryError:
        raise StoreError(f"the data directory {data_dir} is not a directory") from None
    except PermissionError:
        raise StoreError(f"permission denied reading {path}: run it as the relay's user") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise StoreError(f"{path} is not a file")
    if not os.access(path, os.R_OK):
        raise StoreError(f"permission denied reading {path}: run it as the relay's user")
    try:
        conn = _connect(path, readonly=True)
        try:
            return _stats(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if not _writable_dir(data_dir):
            raise StoreError(
                f"cannot read the relay database: the data directory {data_dir} is read-only "
                "for this user, and reading needs the database's -shm file there; run stats "
                "as the relay's user"
            ) from exc
        raise StoreError("cannot read the relay database") from exc


class SQLiteStore(Store):
    """`Store` on one SQLite file in `data_dir`, with a group-committing writer thread."""

    def __init__(
        self,
        data_dir: Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 1024,
        inline_ops: int = 64,
    ) -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._synchronous = synchronous.upper()
        self._max_batch = max_batch
        self.inline_ops = inline_ops  # a batch of at most this many message ops runs inline
        self._pending: list[tuple[Any, Any]] = []  # loop only: the next batch, thread idle
        self._pending_ops = 0  # loop only: message operations in `_pending`
        self._scheduled = False  # loop only: `_run_pending` is scheduled
        self._in_thread = 0  # loop only: submitted to the writer thread, not yet resolved
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoint_thread: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self.checkpoint_interval = 0.05  # seconds between passive checkpoints
        self.checkpointed_frames = 0  # WAL frames copied into the database, for tests
        self.wal_restart_frames = 4000  # WAL frames (pages) before the WAL is started over
        self.wal_restarts = 0
        self._counts: dict[bytes, int] = {}  # writer thread only: messages per queue
        self._next_seq: int | None = None  # writer thread only
        self._careful = False  # writer thread only: deletes one at a time (see _delete_chunk)
        self._closed = False
        self.batches = 0  # committed transactions, for the benchmark and metrics
        self.batched_ops = 0  # operations run in those transactions
        self.batch_seconds = 0.0  # time spent running them, commit (fsync) included
        self.inline_batches = 0  # of those, run on the event loop (small batches)
        self.write_failures = 0  # transactions that failed (disk full, I/O error, ...)
        self.failure_log_interval = 60.0  # seconds between "still cannot write" lines
        self._failures_since = 0  # failed transactions since the store last wrote
        self._failures_unlogged = 0
        self._failure_logged_at = 0.0

    # ---- lifecycle --------------------------------------------------------------------------

    async def open(self) -> None:
        """Create or upgrade the database and start the writer thread.

        Raises:
            StoreError: the data directory or database is unusable.
        """
        self._loop = asyncio.get_running_loop()
        self._conn = await asyncio.to_thread(self._open_sync)
        self._thread = threading.Thread(target=self._run, name="relay-store-writer", daemon=True)
        self._thread.start()
        self._checkpoint_thread = threading.Thread(
            target=self._checkpoint_forever, name="relay-store-checkpoint", daemon=True
        )
        self._checkpoint_thread.start()

    def _open_sync(self) -> sqlite3.Connection:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            old = os.umask(0o077)
            try:
                conn = _connect(self.path)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
                conn.execute("PRAGMA foreign_keys = OFF")
                _migrate(conn)
                # Checkpoints run in their own thread (`_checkpoint_forever`), not inside a
                # commit: an automatic checkpoint stalls the commit that triggers it, and every
                # SEND waiting on that commit, for tens of milliseconds.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
                _probe_writable(conn, self.data_dir)
            finally:
                os.umask(old)
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
            self._reader = _connect(self.path, readonly=True)
            self._checkpointer = _connect(self.path)
        except sqlite3.Error as exc:
            if not _writable_dir(self.data_dir):
                raise StoreError(
                    f"the data directory {self.data_dir} is read-only (the relay's user cannot "
                    "create files in it, and the database and its -wal and -shm files live "
                    "there): make it writable by that user, for example by chowning it to that "
                    "user, or choose another data directory"
                ) from exc
            raise StoreError(f"cannot open the relay database in {self.data_dir}") from exc
        except OSError as exc:
            raise StoreError(
                f"cannot use the data directory {self.data_dir}: {exc.strerror}"
            ) from exc
        return conn

    async def close(self) -> None:
        """Let submitted operations commit, stop the writer thread, close; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._pending:
            self._run_pending()
        if self._thread is not None:
            self._ops.put(_STOP)
            await asyncio.to_thread(self._thread.join)
        self._stop_checkpoints.set()
        if self._checkpoint_thread is not None:
            await asyncio.to_thread(self._checkpoint_thread.join)
        for conn in (self._checkpointer, self._conn, self._reader):
            if conn is not None:
                conn.close()
        self._conn = self._reader = self._checkpointer = None

    def _checkpoint_forever(self) -> None:
        """Copy committed WAL frames into the database, off the commit path (PASSIVE: never
        blocks the writer); start the WAL over once it holds `wal_restart_frames` frames."""
        conn = self._checkpointer
        assert conn is not None  # noqa: S101
        while not self._stop_checkpoints.wait(self.checkpoint_interval):
            try:
                row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if row is not None and row[2] > 0:
                    self.checkpointed_frames += int(row[2])
                if row is not None and row[1] >= self.wal_restart_frames:
                    # Under steady writes a passive checkpoint never catches the WAL's end,
                    # so the writer never starts it over and the file grows without bound.
                    # RESTART waits for the current commit, copies the few frames left and
                    # makes the next commit write from the WAL's start: a short pause, not
                    # one per commit.
                    conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                    self.wal_restarts += 1
            except sqlite3.Error:
                log.debug("a WAL checkpoint failed; the next one retries", exc_info=True)

    # ---- the writer thread ------------------------------------------------------------------

    def _submit(
        self, op: Callable[[sqlite3.Connection], T], *, heavy: bool = False
    ) -> asyncio.Future[T]:
        """Queue `op` for the next transaction; `heavy`: it may touch many rows, so its
        batch runs in the writer thread, never on the event loop."""
        if self._closed or self._loop is None:
            raise StoreError("the store is closed")
        fut: asyncio.Future[T] = self._loop.create_future()
        self._put((op, fut), self.inline_ops + 1 if heavy else 1)
        return fut

    def _one(self, op: MessageOp) -> asyncio.Future[Any]:
        """One message operation as a batch of one, with a future for its result."""
        if self._closed or self._loop is None:
            raise StoreError("the store is closed")
        fut: asyncio.Future[Any] = self._loop.create_future()

        def done(results: list[MessageResult]) -> None:
            if fut.done():
                return
            res = results[0]
            if isinstance(res, BaseException):
                fut.set_exception(res)
            else:
                fut.set_result(res)

        self._put((_Hot((op,), done), None), 1)
        return fut

    def _put(self, item: tuple[Any, Any], ops: int) -> None:
        """Queue `item` for the next transaction (event loop only)."""
        if self._in_thread:
            # The writer thread is busy: it takes this with its next batch, in order.
            self._in_thread += 1
            self._ops.put(item)
            return
        self._pending.append(item)
        self._pending_ops += ops
        if not self._scheduled:
            self._scheduled = True
            assert self._loop is not None  # noqa: S101
            self._loop.call_soon(self._run_pending)

    def _run_pending(self) -> None:
        """Run the waiting batch here if it is small, else hand it to the writer thread."""
        self._scheduled = False
        batch, self._pending = self._pending, []
        ops, self._pending_ops = self._pending_ops, 0
        if not batch:
            return
        conn = self._conn
        assert conn is not None  # noqa: S101
        if ops > self.inline_ops or self._in_thread or not self._begin_now(conn):
            self._in_thread += len(batch)
            for item in batch:
                self._ops.put(item)
            return
        started = time.perf_counter()
        results = self._run_batch(conn, batch, begun=True)
        self.batch_seconds += time.perf_counter() - started
        self.batched_ops += len(batch)
        self.inline_batches += 1
        _resolve(results)

    @staticmethod
    def _begin_now(conn: sqlite3.Connection) -> bool:
        """Start a write transaction if nobody holds the database's write lock, without
        waiting: the event loop must not sleep in SQLite's busy handler while a checkpoint
        (ours, or an administrator's) or another tool holds it. False: the writer thread,
        which may wait, takes the batch."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        return True

    def _thread_done(self, results: list[tuple[Any, bool, Any]], n: int) -> None:
        self._in_thread -= n
        _resolve(results)

    def _run(self) -> None:
        assert self._conn is not None  # noqa: S101
        conn, loop = self._conn, self._loop
        assert loop is not None  # noqa: S101
        stop = False
        while not stop:
            first = self._ops.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._ops.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            started = time.perf_counter()
            results = self._run_batch(conn, batch)
            self.batch_seconds += time.perf_counter() - started
            self.batched_ops += len(batch)
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
                loop.call_soon_threadsafe(self._thread_done, results, len(batch))

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[tuple[Any, Any]], *, begun: bool = False
    ) -> list[Any]:
        """Run `batch` in one transaction (already open if `begun`); return the results for
        `_resolve`.

        Message operations (`_Hot`) write their outcomes straight into their own
        ``results`` lists: no object per operation beyond its result.
        """
        results: list[tuple[_Slot, bool, Any]] = []
        hots: list[_Hot] = []
        waiting: list[_Hot] = []  # message batches not applied yet

        def flush_hot() -> None:
            # Deletions first: they only free room, so a send never gets QUOTA because of
            # the order of the batch. Adds and deletes never touch the same message.
            if waiting:
                self._apply_deletes(conn, waiting)
                self._apply_adds(conn, waiting)
                waiting.clear()

        try:
            if not begun:
                conn.execute("BEGIN IMMEDIATE")
            for op, slot in batch:
                if type(op) is _Hot:
                    hots.append(op)
                    waiting.append(op)
                    continue
                flush_hot()
                try:
                    results.append((slot, True, op(conn)))
                except CommandFailed as exc:
                    results.append((slot, False, exc))
            flush_hot()
            conn.execute("COMMIT")
            self.batches += 1
            if self.failing is not None:
                self.failing = None
                log.warning(
                    "the relay store writes again (%s transactions were refused)",
                    self._failures_since,
                )
        except _Redo:
            conn.execute("ROLLBACK")
            self._counts.clear()
            self._next_seq = None
            self._careful = True
            for hot in hots:
                hot.results = [None] * len(hot.ops)
            try:
                return self._run_batch(conn, batch)
            finally:
                self._careful = False
        except Exception as exc:
            self._note_failure(exc)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._counts.clear()
            self._next_seq = None
            err = StoreError("the relay store failed")
            err.__cause__ = exc
            results = [(slot, False, err) for op, slot in batch if type(op) is not _Hot]
            for hot in hots:
                hot.results = [err] * len(hot.ops)
        if hots:
            results.append((hots, True, None))
        return results

    def _note_failure(self, exc: BaseException) -> None:
        """Count a failed transaction and tell the operator why, once per minute at most:
        on a full disk every SEND fails, and a line per failure would flood the log (and
        the disk the log is on)."""
        self.write_failures += 1
        now = time.monotonic()
        if self.failing is None:
            self.failing = _failure_reason(exc)
            self._failures_since = 1
            self._failure_logged_at = now
            self._failures_unlogged = 0
            log.error(
                "the relay store cannot write: %s; commands that write are refused "
                "(INTERNAL, which clients retry) until it can",
                self.failing,
            )
            log.debug("store failure", exc_info=exc)
            return
        self._failures_since += 1
        self._failures_unlogged += 1
        if now - self._failure_logged_at >= self.failure_log_interval:
            log.error(
                "the relay store still cannot write: %s (%s more transactions refused)",
                self.failing,
                self._failures_unlogged,
            )
            self._failure_logged_at = now
            self._failures_unlogged = 0

    def _apply_adds(self, conn: sqlite3.Connection, hots: list[_Hot]) -> None:
        """Insert the adds of `hots` with one multi-row statement per chunk."""
        if self._next_seq is None:
            used = conn.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM messages), 0), "
                "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0))"
            ).fetchone()[0]
            self._next_seq = int(used) + 1
        rows: list[Any] = []
        counts = self._counts
        seq = self._next_seq
        for hot in hots:
            res = hot.results
            for i, op in enumerate(hot.ops):
                if type(op) is not AddMessage:
                    continue
                rid = op.rid
                n = counts.get(rid)
                if n is None:
                    n = self._count(conn, rid)
                    if n is None:
                        res[i] = NoQueue()
                        continue
                if n >= op.quota:
                    res[i] = QuotaExceeded()
                    continue
                counts[rid] = n + 1
                mid, ts, body = op.mid, op.ts, op.body
                rows.extend((seq, rid, mid, ts, body))
                res[i] = StoredMessage(seq, mid, ts, body)
                seq += 1
        self._next_seq = seq
        # One multi-row INSERT per chunk: the sqlite3 module releases and re-takes the GIL
        # around every statement step, so executemany would hand the GIL back and forth
        # with the event loop once per row.
        step = _CHUNK * 5
        for i in range(0, len(rows), step):
            chunk = rows[i : i + step]
            conn.execute(_insert_sql(len(chunk) // 5), chunk)

    def _apply_deletes(self, conn: sqlite3.Connection, hots: list[_Hot]) -> None:
        """Delete the acknowledged messages of `hots`, one statement per chunk.

        A delete that knows its message's `seq` (the mailbox does, for a subscribed queue)
        deletes by primary key; the others by (rid, mid). If fewer rows go than asked (an
        ACK of a message that is gone, or the same message twice: rare), `_Redo` rolls the
        batch back and runs it again deleting one message at a time (`_careful`), to tell
        which get NO_MSG.

        (Neither ``RETURNING`` nor a savepoint per chunk: the sqlite3 module hands the GIL
        back and forth once per statement and once per returned row, and under load each
        hand-off costs more than the statement.)
        """
        counts = self._counts
        if self._careful:
            for hot in hots:
                res = hot.results
                for i, op in enumerate(hot.ops):
                    if type(op) is AddMessage:
                        continue
                    one = conn.execute(
                        "DELETE FROM messages WHERE rid = ? AND mid = ?", (op.rid, op.mid)
                    )
                    if one.rowcount == 1:
                        n = counts.get(op.rid)
                        if n:
                            counts[op.rid] = n - 1
                    else:
                        res[i] = NoMessage()
            return
        seqs: list[int] = []
        rids: list[bytes] = []
        by_mid: list[DeleteMessage] = []
        for hot in hots:
            for op in hot.ops:
                if type(op) is AddMessage:
                    continue
                if op.seq is None:  # type: ignore[union-attr]
                    by_mid.append(op)  # type: ignore[arg-type]
                else:
                    seqs.append(op.seq)  # type: ignore[union-attr]
                    rids.append(op.rid)
        for i in range(0, len(seqs), _CHUNK):
            chunk = seqs[i : i + _CHUNK]
            sql = f"DELETE FROM messages WHERE seq IN ({','.join('?' * len(chunk))})"  # noqa: S608
            if conn.execute(sql, chunk).rowcount != len(chunk):
                raise _Redo
        for i in range(0, len(by_mid), _CHUNK):
            ops = by_mid[i : i + _CHUNK]
            n = len(ops)
            # by rid first: the messages_by_queue index narrows it to those queues' messages
            sql = (
                f"DELETE FROM messages WHERE rid IN ({','.join('?' * n)}) "  # noqa: S608
                f"AND (rid, mid) IN (VALUES {','.join(['(?,?)'] * n)})"
            )
            params = [op.rid for op in ops] + [v for op in ops for v in (op.rid, op.mid)]
            if conn.execute(sql, params).rowcount != n:
                raise _Redo
            rids.extend(op.rid for op in ops)
        for rid in rids:
            n = counts.get(rid)
            if n:
                counts[rid] = n - 1

    # ---- queues -----------------------------------------------------------------------------

    def create_queue(self, queue: QueueRecord) -> asyncio.Future[None]:
        """See `Store.create_queue`."""

        def op(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    "INSERT INTO queues (rid, sid, rkey, skey, created) VALUES (?, ?, ?, ?, ?)",
                    (queue.rid, queue.sid, queue.rkey, queue.skey, queue.created),
                )
            except sqlite3.IntegrityError:
                raise CommandFailed(message="queue id collision") from None
            self._counts[queue.rid] = 0

        return self._submit(op)

    def queue_by_rid(self, rid: bytes) -> asyncio.Future[QueueRecord | None]:
        """See `Store.queue_by_rid`."""
        return self._submit(lambda c: _queue(c, "rid", rid))

    def queue_by_sid(self, sid: bytes) -> asyncio.Future[QueueRecord | None]:
        """See `Store.queue_by_sid`."""
        return self._submit(lambda c: _queue(c, "sid", sid))

    def secure_queue(self, rid: bytes, skey: bytes) -> asyncio.Future[QueueRecord]:
        """See `Store.secure_queue`."""

        def op(c: sqlite3.Connection) -> QueueRecord:
            q = _queue(c, "rid", rid)
            if q is None:
                raise NoQueue
            if q.skey is not None:
                raise AuthError
            c.execute("UPDATE queues SET skey = ? WHERE rid = ?", (skey, rid))
            return QueueRecord(q.rid, q.sid, q.rkey, skey, q.created)

        return self._submit(op)

    def delete_queue(self, rid: bytes) -> asyncio.Future[None]:
        """See `Store.delete_queue`."""

        def op(c: sqlite3.Connection) -> None:
            if c.execute("DELETE FROM queues WHERE rid = ?", (rid,)).rowcount == 0:
                raise NoQueue
            c.execute("DELETE FROM messages WHERE rid = ?", (rid,))
            self._counts.pop(rid, None)

        return self._submit(op)

    # ---- messages ---------------------------------------------------------------------------

    def _count(self, c: sqlite3.Connection, rid: bytes) -> int | None:
        n = self._counts.get(rid)
        if n is None:
            if c.execute("SELECT 1 FROM queues WHERE rid = ?", (rid,)).fetchone() is None:
                return None
            n = c.execute("SELECT count(*) FROM messages WHERE rid = ?", (rid,)).fetchone()[0]
            self._counts[rid] = n
        return n

    def add_message(
        self, rid: bytes, mid: bytes, ts: int, body: bytes, quota: int
    ) -> asyncio.Future[StoredMessage]:
        """See `Store.add_message` (applied in bulk by the writer thread)."""
        return self._one(AddMessage(rid, mid, ts, body, quota))

    def pending(
        self, rid: bytes, limit: int, after: int = 0
    ) -> asyncio.Future[list[StoredMessage]]:
        """See `Store.pending`."""

        def op(c: sqlite3.Connection) -> list[StoredMessage]:
            rows = c.execute(
                "SELECT seq, mid, ts, body FROM messages WHERE rid = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (rid, after, limit),
            )
            return [StoredMessage(*r) for r in rows]

        return self._submit(op)

    def delete_message(self, rid: bytes, mid: bytes) -> asyncio.Future[None]:
        """See `Store.delete_message` (applied in bulk by the writer thread)."""
        return self._one(DeleteMessage(rid, mid))

    def submit_messages(
        self, ops: Sequence[MessageOp], done: Callable[[list[MessageResult]], None]
    ) -> None:
        """See `Store.submit_messages`: one queue entry and one callback for the whole batch.

        Raises:
            StoreError: the store is closed.
        """
        if self._closed or self._loop is None:
            raise StoreError("the store is closed")
        self._put((_Hot(ops, done), None), len(ops))

    def expire(self, before: int) -> asyncio.Future[int]:
        """See `Store.expire`."""

        def op(c: sqlite3.Connection) -> int:
            n = c.execute("DELETE FROM messages WHERE ts < ?", (before,)).rowcount
            if n:
                self._counts.clear()
            return int(n)

        return self._submit(op, heavy=True)

    # ---- publications -----------------------------------------------------------------------

    def put_publication(
        self, pub: PublicationRecord, prekeys: Sequence[bytes], max_prekeys: int
    ) -> asyncio.Future[None]:
        """See `Store.put_publication`."""
        keys = list(prekeys)

        def op(c: sqlite3.Connection) -> None:
            row = c.execute("SELECT pkey FROM publications WHERE pid = ?", (pub.pid,)).fetchone()
            if row is not None and row[0] != pub.pkey:
                raise AuthError
            have = c.execute("SELECT count(*) FROM prekeys WHERE pid = ?", (pub.pid,)).fetchone()
            if have[0] + len(keys) > max_prekeys:
                raise QuotaExceeded
            c.execute(
                "INSERT INTO publications (pid, pkey, blob, summary, updated) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pid) DO UPDATE SET "
                "blob = excluded.blob, summary = excluded.summary, updated = excluded.updated",
                (pub.pid, pub.pkey, pub.blob, pub.summary, pub.updated),
            )
            c.executemany(
                "INSERT INTO prekeys (pid, prekey) VALUES (?, ?)", [(pub.pid, k) for k in keys]
            )

        return self._submit(op)

    def publication(self, pid: bytes) -> asyncio.Future[PublicationRecord | None]:
        """See `Store.publication`."""
        return self._submit(lambda c: _publication(c, pid))

    def fetch_publication(
        self, pid: bytes
    ) -> asyncio.Future[tuple[PublicationRecord, bytes | None]]:
        """See `Store.fetch_publication`."""

        def op(c: sqlite3.Connection) -> tuple[PublicationRecord, bytes | None]:
            pub = _publication(c, pid)
            if pub is None:
                raise NoPublication
            row = c.execute(
                "DELETE FROM prekeys WHERE id = "
                "(SELECT id FROM prekeys WHERE pid = ? ORDER BY id LIMIT 1) RETURNING prekey",
                (pid,),
            ).fetchone()
            return pub, (None if row is None else bytes(row[0]))

        return self._submit(op)

    def delete_publication(self, pid: bytes) -> asyncio.Future[None]:
        """See `Store.delete_publication`."""

        def op(c: sqlite3.Connection) -> None:
            if c.execute("DELETE FROM publications WHERE pid = ?", (pid,)).rowcount == 0:
                raise NoPublication
            c.execute("DELETE FROM prekeys WHERE pid = ?", (pid,))

        return self._submit(op)

    def directory(
        self, after: bytes | None, limit: int
    ) -> asyncio.Future[list[tuple[bytes, bytes]]]:
        """See `Store.directory`."""

        def op(c: sqlite3.Connection) -> list[tuple[bytes, bytes]]:
            rows = c.execute(
                "SELECT pid, summary FROM publications WHERE summary IS NOT NULL AND pid > ? "
                "ORDER BY pid LIMIT ?",
                (after or b"", limit),
            )
            return [(bytes(p), bytes(s)) for p, s in rows]

        return self._submit(op)

    # ---- statistics -------------------------------------------------------------------------

    async def stats(self) -> StoreStats:
        """See `Store.stats`.

        Raises:
            StoreError: the store is closed or unreadable.
        """
        reader = self._reader
        if reader is None or self._closed:
            raise StoreError("the store is closed")
        try:
            return await asyncio.to_thread(_stats, reader)
        except sqlite3.Error as exc:
            raise StoreError("cannot read the relay database") from exc


def _queue(c: sqlite3.Connection, column: str, value: bytes) -> QueueRecord | None:
    row = c.execute(
        f"SELECT rid, sid, rkey, skey, created FROM queues WHERE {column} = ?",  # noqa: S608
        (value,),
    ).fetchone()
    return None if row is None else QueueRecord(*row)


def _publication(c: sqlite3.Connection, pid: bytes) -> PublicationRecord | None:
    row = c.execute(
        "SELECT pid, pkey, blob, summary, updated FROM publications WHERE pid = ?", (pid,)
    ).fetchone()
    return None if row is None else PublicationRecord(*row)


def _insert_sql(n: int) -> str:
    sql = _INSERTS.get(n)
    if sql is None:
        sql = "INSERT INTO messages (seq, rid, mid, ts, body) VALUES " + ",".join(  # noqa: S608
            ["(?,?,?,?,?)"] * n
        )
        if n <= 64:
            _INSERTS[n] = sql
    return sql


_INSERTS: dict[int, str] = {}


def _failure_reason(exc: BaseException) -> str:
    """What an operator should know about a failed transaction (never any data)."""
    name = getattr(exc, "sqlite_errorname", None)
    if not isinstance(name, str):
        return f"unexpected {type(exc).__name__}"
    if name == "SQLITE_FULL":
        return "the disk is full"
    if name.startswith("SQLITE_IOERR"):
        return f"the disk refused a write or a sync ({name}; full, or failing)"
    if name.startswith("SQLITE_READONLY"):
        return f"the database is read-only ({name})"
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return f"the database file is damaged ({name}); restore it from a backup"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"another program holds the database lock ({name})"
    return name


def _resolve(results: list[tuple[Any, bool, Any]]) -> None:
    hots: list[_Hot] = []
    for slot, ok, value in results:
        if type(slot) is list:
            hots = slot
            continue
        if slot.done():
            continue
        if ok:
            slot.set_result(value)
        else:
            slot.set_exception(value)
    for hot in hots:
        try:
            hot.done(hot.results)
        except Exception:
            log.error("a store batch callback failed")
            log.debug("store batch callback failure", exc_info=True)
