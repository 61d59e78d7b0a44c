"""The relay's store alone: cost per message operation, beside raw sqlite3 in the same run.

`bench/relay.py` measures the relay end to end; this isolates its store. Each round submits
700 SENDs (adds, 256-byte bodies, spread over 256 queues) and 700 ACKs (deletes of messages
added earlier, about 2,800 kept stored) as one batch through `SQLiteStore.submit_messages`,
the relay's hot path (group commit in the writer thread), and waits for its results. The
baseline runs the same rows through raw sqlite3 in the same process: the same schema files
and pragmas, one transaction per round holding one multi-row INSERT and one
``DELETE ... WHERE seq IN (...)``, with none of the store's bookkeeping (quota counts,
results, the hand-off to the writer thread and back). Both with ``synchronous`` FULL and
NORMAL. Figures are medians of the rounds' wall time per operation; nothing is asserted.

A message costs two operations (its add and its delete), so ``1e6 / (2 * us_per_op)`` is
the most messages per second this store could move if it had a core to itself.

    python bench/relay_store.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relay.mailbox import QueueRecord, StoredMessage
from relay.store import SQLiteStore
from relay.store.base import AddMessage, DeleteMessage, MessageOp, MessageResult
from relay.store.sqlite import schema_files

PER_ROUND = 700
QUEUES = 256
KEEP = 2800
BODY = os.urandom(256)


def _queues() -> list[QueueRecord]:
    return [
        QueueRecord(os.urandom(16), os.urandom(16), os.urandom(32), os.urandom(32), 0)
        for _ in range(QUEUES)
    ]


async def store_round_costs(directory: Path, sync: str, rounds: int) -> list[float]:
    """Microseconds per operation of each round through the relay's `SQLiteStore`."""
    store = SQLiteStore(directory, synchronous=sync)
    await store.open()
    try:
        queues = _queues()
        for q in queues:
            await store.create_queue(q)
        live: list[tuple[bytes, bytes, int]] = []
        costs = []
        loop = asyncio.get_running_loop()
        for r in range(rounds):
            adds = [
                AddMessage(queues[(r * PER_ROUND + i) % QUEUES].rid, os.urandom(16), 1, BODY, 10**6)
                for i in range(PER_ROUND)
            ]
            gone = live[:PER_ROUND] if len(live) >= KEEP else []
            live = live[len(gone) :]
            ops: list[MessageOp] = [
                *adds,
                *(DeleteMessage(rid, mid, seq) for rid, mid, seq in gone),
            ]
            fut: asyncio.Future[list[MessageResult]] = loop.create_future()
            started = time.perf_counter()
            store.submit_messages(ops, fut.set_result)
            results = await fut
            costs.append((time.perf_counter() - started) * 1e6 / len(ops))
            for op, res in zip(adds, results, strict=False):
                if not isinstance(res, StoredMessage):
                    raise RuntimeError(f"the store refused an add: {res!r}")
                live.append((op.rid, op.mid, res.seq))
        return costs
    finally:
        await store.close()


def raw_round_costs(directory: Path, sync: str, rounds: int) -> list[float]:
    """The same rounds as plain statements on a raw sqlite3 connection."""
    directory.mkdir(parents=True)
    conn = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {sync}")
        for _version, sql in schema_files():
            conn.executescript(sql)
        rids = [q.rid for q in _queues()]
        live: list[int] = []
        seq = 1
        costs = []
        for r in range(rounds):
            rows: list[object] = []
            for i in range(PER_ROUND):
                rows += (seq, rids[(r * PER_ROUND + i) % QUEUES], os.urandom(16), 1, BODY)
                seq += 1
            gone = live[:PER_ROUND] if len(live) >= KEEP else []
            live = live[len(gone) :]
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            if gone:
                marks = ",".join("?" * len(gone))
                conn.execute(f"DELETE FROM messages WHERE seq IN ({marks})", gone)  # noqa: S608
            values = ",".join(["(?,?,?,?,?)"] * PER_ROUND)
            conn.execute(f"INSERT INTO messages (seq, rid, mid, ts, body) VALUES {values}", rows)  # noqa: S608
            conn.execute("COMMIT")
            costs.append((time.perf_counter() - started) * 1e6 / (PER_ROUND + len(gone)))
            live += range(seq - PER_ROUND, seq)
        return costs
    finally:
        conn.close()


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=60, help="rounds per arm (default 60)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each arm (default 3)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="relay-store-bench-"))
    skip = max(1, args.rounds // 6)  # warm-up rounds: the kept backlog builds up first
    figures: dict[tuple[str, str], list[float]] = {}
    try:
        for rep in range(args.repeats):
            for sync in ("FULL", "NORMAL"):
                d = tmp / f"{rep}-{sync}"
                store = asyncio.run(store_round_costs(d / "store", sync, args.rounds))[skip:]
                raw = raw_round_costs(d / "raw", sync, args.rounds)[skip:]
                figures.setdefault(("store", sync), []).append(statistics.median(store))
                figures.setdefault(("raw", sync), []).append(statistics.median(raw))
                shutil.rmtree(d, ignore_errors=True)
                print(
                    f"[{rep + 1}/{args.repeats}] {sync:6s} store {figures['store', sync][-1]:6.2f}"
                    f" us/op, raw sqlite3 {figures['raw', sync][-1]:6.2f} us/op",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(
        f"relay store: {platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, rounds of {PER_ROUND} adds + "
        f"{PER_ROUND} deletes, {args.repeats} repeats, medians"
    )
    print(f"{'':10s}{'store us/op':>13s}{'raw us/op':>11s}{'store/raw':>11s}{'store ceiling':>15s}")
    for sync in ("FULL", "NORMAL"):
        s = statistics.median(figures["store", sync])
        r = statistics.median(figures["raw", sync])
        print(f"{sync:10s}{s:13.2f}{r:11.2f}{s / r:11.2f}{1e6 / (2 * s):11.0f} msg/s")
    print("store ceiling = 1e6 / (2 x store us/op): one add and one delete per message, one core")


if __name__ == "__main__":
    main()
