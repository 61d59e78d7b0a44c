"""The default store: one SQLite database in WAL mode, written by one dedicated thread.

Design
    * A single writer thread owns the read-write connection. Callers submit operations (plain
      functions of the connection) to a queue; the thread takes every operation waiting (up to
      `max_batch`), runs them in one transaction and commits once (`synchronous=FULL`: one
      fsync of the WAL per batch). This is group commit: under load one fsync covers hundreds
      of SENDs, yet every result is reported only after its batch committed.
    * Results go back to the event loop with one ``call_soon_threadsafe`` per batch.
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
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

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
from relay.store.base import Store, StoreStats

__all__ = ["DB_NAME", "SQLiteStore", "read_stats", "schema_files"]

log = logging.getLogger(__name__)

DB_NAME = "relay.sqlite3"
_CHUNK = 1000  # rows per multi-row statement (SQLite allows 32766 parameters)
T = TypeVar("T")
_Op = Callable[[sqlite3.Connection], Any]
_STOP = object()


class _AddMessage(NamedTuple):
    rid: bytes
    mid: bytes
    ts: int
    body: bytes
    quota: int


class _DeleteMessage(NamedTuple):
    rid: bytes
    mid: bytes


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
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _migrate(conn: sqlite3.Connection) -> int:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    files = schema_files()
    latest = files[-1][0] if files else 0
    if current > latest:
        raise StoreError("the relay database was written by a newer version of the relay")
    for version, sql in files:
        if version <= current:
            continue
        if current == 0 and version == 1:
            log.info("creating the relay database (schema version %s)", latest)
        else:
            log.info("upgrading the relay database to schema version %s", version)
        conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version:d};\nCOMMIT;")
    return latest


def _stats(conn: sqlite3.Connection) -> StoreStats:
    def count(table: str) -> int:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

    return StoreStats(count("queues"), count("messages"), count("publications"), count("prekeys"))


def read_stats(data_dir: Path) -> StoreStats:
    """Read counts from the database in `data_dir` without writing (safe on a live relay).

    Raises:
        StoreError: there is no readable relay database there.
    """
    path = data_dir / DB_NAME
    if not path.is_file():
        raise StoreError("no relay database in that data directory")
    try:
        conn = _connect(path, readonly=True)
        try:
            return _stats(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError("cannot read the relay database") from exc


class SQLiteStore(Store):
    """`Store` on one SQLite file in `data_dir`, with a group-committing writer thread."""

    def __init__(self, data_dir: Path, *, synchronous: str = "FULL", max_batch: int = 1024) -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._synchronous = synchronous.upper()
        self._max_batch = max_batch
        self._ops: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._counts: dict[bytes, int] = {}  # writer thread only: messages per queue
        self._next_seq: int | None = None  # writer thread only
        self._closed = False
        self.batches = 0  # committed transactions, for the benchmark and metrics
        self.batched_ops = 0  # operations run in those transactions
        self.batch_seconds = 0.0  # time spent running them, commit (fsync) included

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
                conn.execute("PRAGMA wal_autocheckpoint = 4000")
            finally:
                os.umask(old)
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
            self._reader = _connect(self.path, readonly=True)
        except sqlite3.Error as exc:
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
        if self._thread is not None:
            self._ops.put(_STOP)
            await asyncio.to_thread(self._thread.join)
        for conn in (self._conn, self._reader):
            if conn is not None:
                conn.close()
        self._conn = self._reader = None

    # ---- the writer thread ------------------------------------------------------------------

    def _submit(self, op: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        if self._closed or self._loop is None:
            raise StoreError("the store is closed")
        fut: asyncio.Future[T] = self._loop.create_future()
        self._ops.put((op, fut))
        return fut

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
                loop.call_soon_threadsafe(_resolve, results)

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[tuple[Any, asyncio.Future[Any]]]
    ) -> list[tuple[asyncio.Future[Any], bool, Any]]:
        results: list[tuple[asyncio.Future[Any], bool, Any]] = []
        adds: list[tuple[_AddMessage, asyncio.Future[Any]]] = []
        dels: list[tuple[_DeleteMessage, asyncio.Future[Any]]] = []

        def flush_hot() -> None:
            # Deletions first: they only free room, so a send never gets QUOTA because of
            # the order of the batch. Adds and deletes never touch the same message.
            if dels:
                self._apply_deletes(conn, dels, results)
                dels.clear()
            if adds:
                self._apply_adds(conn, adds, results)
                adds.clear()

        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, fut in batch:
                if type(op) is _AddMessage:
                    adds.append((op, fut))
                    continue
                if type(op) is _DeleteMessage:
                    dels.append((op, fut))
                    continue
                flush_hot()
                try:
                    results.append((fut, True, op(conn)))
                except CommandFailed as exc:
                    results.append((fut, False, exc))
            flush_hot()
            conn.execute("COMMIT")
            self.batches += 1
        except Exception as exc:
            log.error("a store transaction failed; its operations were refused")
            log.debug("store failure", exc_info=True)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._counts.clear()
            self._next_seq = None
            err = StoreError("the relay store failed")
            err.__cause__ = exc
            results = [(fut, False, err) for _, fut in batch]
        return results

    def _apply_adds(
        self,
        conn: sqlite3.Connection,
        adds: list[tuple[_AddMessage, asyncio.Future[Any]]],
        results: list[tuple[asyncio.Future[Any], bool, Any]],
    ) -> None:
        """Insert many messages with one executemany (one GIL hand-off, not one per row)."""
        if self._next_seq is None:
            used = conn.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM messages), 0), "
                "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0))"
            ).fetchone()[0]
            self._next_seq = int(used) + 1
        rows: list[Any] = []
        for op, fut in adds:
            n = self._count(conn, op.rid)
            if n is None:
                results.append((fut, False, NoQueue()))
                continue
            if n >= op.quota:
                results.append((fut, False, QuotaExceeded()))
                continue
            self._counts[op.rid] = n + 1
            seq = self._next_seq
            self._next_seq += 1
            rows.append((seq, op.rid, op.mid, op.ts, op.body))
            results.append((fut, True, StoredMessage(seq, op.mid, op.ts, op.body)))
        # One multi-row INSERT per chunk: the sqlite3 module releases and re-takes the GIL
        # around every statement step, so executemany would hand the GIL back and forth
        # with the event loop once per row.
        for i in range(0, len(rows), _CHUNK):
            chunk = rows[i : i + _CHUNK]
            conn.execute(
                "INSERT INTO messages (seq, rid, mid, ts, body) VALUES "  # noqa: S608
                + ",".join(["(?,?,?,?,?)"] * len(chunk)),
                [v for row in chunk for v in row],
            )

    def _apply_deletes(
        self,
        conn: sqlite3.Connection,
        dels: list[tuple[_DeleteMessage, asyncio.Future[Any]]],
        results: list[tuple[asyncio.Future[Any], bool, Any]],
    ) -> None:
        """Delete many acknowledged messages with one statement per chunk.

        The fast path assumes every acknowledged message exists; if a chunk deletes fewer rows
        than asked, it is rolled back to a savepoint and redone one message at a time to tell
        which acknowledgements get NO_MSG.
        """
        seen: set[tuple[bytes, bytes]] = set()
        todo: list[tuple[_DeleteMessage, asyncio.Future[Any]]] = []
        for op, fut in dels:
            if (op.rid, op.mid) in seen:
                results.append((fut, False, NoMessage()))
                continue
            seen.add((op.rid, op.mid))
            todo.append((op, fut))
        for i in range(0, len(todo), _CHUNK):
            chunk = todo[i : i + _CHUNK]
            n = len(chunk)
            conn.execute("SAVEPOINT acks")
            cur = conn.execute(
                f"DELETE FROM messages WHERE mid IN ({','.join('?' * n)}) "  # noqa: S608
                f"AND (rid, mid) IN (VALUES {','.join(['(?,?)'] * n)})",
                [op.mid for op, _ in chunk] + [v for op, _ in chunk for v in (op.rid, op.mid)],
            )
            if cur.rowcount == n:
                conn.execute("RELEASE acks")
                done = [(op, fut, True) for op, fut in chunk]
            else:
                conn.execute("ROLLBACK TO acks")
                conn.execute("RELEASE acks")
                done = []
                for op, fut in chunk:
                    one = conn.execute(
                        "DELETE FROM messages WHERE mid = ? AND rid = ?", (op.mid, op.rid)
                    )
                    done.append((op, fut, one.rowcount == 1))
            for op, fut, ok in done:
                if not ok:
                    results.append((fut, False, NoMessage()))
                    continue
                count = self._counts.get(op.rid)
                if count is not None:
                    self._counts[op.rid] = max(0, count - 1)
                results.append((fut, True, None))

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
        return self._submit(_AddMessage(rid, mid, ts, body, quota))  # type: ignore[arg-type]

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
        return self._submit(_DeleteMessage(rid, mid))  # type: ignore[arg-type]

    def expire(self, before: int) -> asyncio.Future[int]:
        """See `Store.expire`."""

        def op(c: sqlite3.Connection) -> int:
            n = c.execute("DELETE FROM messages WHERE ts < ?", (before,)).rowcount
            if n:
                self._counts.clear()
            return int(n)

        return self._submit(op)

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


def _resolve(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for fut, ok, value in results:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
