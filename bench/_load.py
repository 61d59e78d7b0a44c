"""Load generator for bench/relay.py; runs in its own process and prints one JSON line.

Phases (``--phase``), each against ``--target relay`` (the real relay, durable store) or
``--target forward`` (bench/_forwarder.py, no auth, no storage):

throughput  ``--conns`` sender and as many receiver connections, ``--queues`` queues spread
            over them; every queue keeps ``--inflight`` messages in flight: a new one is sent
            to a queue when its receiver got one (so both arms are paced by delivery).
            Receivers acknowledge every message (relay: ACK, which deletes it and frees the
            window; forwarder: an ack routed back to the sender through the forwarder). The
            relay also answers every SEND with OK after its durable commit. Reports
            messages delivered per second after a warm-up, relay errors, and the CPU
            (cores) used by the load generator and by the server while measuring.
latency     a paced background load (``--rate`` msg/s) plus a probe every 2 ms rotating over
            8 probe queues; reports one-hop latency (send issued -> message received)
            p50/p99 of the probes.
idle        opens ``--idle`` connections, reads the server's RSS (``--server-pid``) before
            and after, checks the server counts them all and that a sample still answers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import random
import resource
import statistics
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from nacl.signing import SigningKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relay.client import RelayClient
from relay.protocol import (
    PROTOCOL_VERSION,
    Command,
    Hello,
    Key,
    New,
    Send,
    Sub,
    decode_server_frame,
    sign_command,
)

BODY = 256


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the relay --------------------------------------------------------------------------------


def _frame(items: list[Any]) -> bytes:
    out: bytes = msgpack.packb({"v": PROTOCOL_VERSION, "b": items})
    return out


class RawRelayConn:
    """A lean relay connection: msgpack maps in, msgpack maps out, no per-item dataclasses.

    Same batching as `FwdConn`: items queued in one loop iteration go out together, at most
    64 per frame, one ``msgpack.packb`` per frame. Replies are routed by corr to callbacks.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, challenge: bytes) -> None:
        self.ws, self.challenge = ws, challenge
        self.out: list[dict[str, Any]] = []
        self.flushing = False
        self.corr = 0
        self.waiting: dict[int, Callable[[dict[str, Any]], None]] = {}
        self.on_msg: Callable[[RawRelayConn, dict[str, Any]], None] = lambda c, m: None
        self.errors = 0
        self.reader: asyncio.Task[None] | None = None
        self.max_acks = 0  # > 0: the relay takes ACKS (several mids per item)
        self.acks: dict[bytes, list[bytes]] = {}  # rid -> mids to acknowledge after this frame

    @classmethod
    async def open(cls, url: str, session: aiohttp.ClientSession) -> RawRelayConn:
        ws = await session.ws_connect(url, compress=0, max_msg_size=0)
        first = await ws.receive()
        _, items = decode_server_frame(first.data)
        hello = items[0]
        assert isinstance(hello, Hello)
        c = cls(ws, hello.challenge)
        c.max_acks = int(hello.limits.get("max_acks", 0))
        c.reader = asyncio.get_running_loop().create_task(c._read())
        return c

    def next_corr(self) -> int:
        self.corr += 1
        return self.corr

    def put(self, item: dict[str, Any], cb: Callable[[dict[str, Any]], None] | None = None) -> None:
        corr = item.get("corr")
        if corr is None:
            self.corr += 1
            item["corr"] = corr = self.corr
        if cb is not None:
            self.waiting[corr] = cb
        self.out.append(item)
        if not self.flushing:
            self.flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def request(self, cmd: Command) -> dict[str, Any]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.put(cmd.to_wire(), fut.set_result)
        reply = await fut
        if reply["op"] == "ERR":
            raise RuntimeError(f"relay refused {cmd.OP}: {reply['code']}")
        return reply

    def signed(self, cmd: Command, key: SigningKey) -> Command:
        return sign_command(cmd, self.challenge, key)

    async def _flush(self) -> None:
        await asyncio.sleep(0)
        try:
            while self.out:
                batch, self.out = self.out[:64], self.out[64:]
                await self.ws.send_bytes(_frame(batch))
        finally:
            self.flushing = False

    async def _read(self) -> None:
        waiting = self.waiting
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            for item in msgpack.unpackb(msg.data)["b"]:
                op = item["op"]
                if op == "MSG":
                    self.on_msg(self, item)
                    continue
                if op == "ERR":
                    self.errors += 1
                cb = waiting.pop(item.get("corr"), None)
                if cb is not None:
                    cb(item)
            if self.acks:  # one ACKS per queue per received frame
                n = self.max_acks
                for rid, mids in self.acks.items():
                    for i in range(0, len(mids), n):
                        self.put({"op": "ACKS", "rid": rid, "mids": mids[i : i + n]})
                self.acks.clear()


class RelayRig:
    """Queues on the real relay, each with a receiver (subscribed) and a sender connection.

    Senders SEND (one signed SEND per queue during set-up proves the sender key for the
    connection; later SENDs use session authorisation); receivers ACK every MSG (session
    authorised by their NEW).
    """

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session
        self.on_message: Callable[[int, bytes], None] = lambda q, b: None
        self.queues: list[tuple[RawRelayConn, bytes]] = []  # sender, sid
        self.conns: list[RawRelayConn] = []
        self.single_acks = False  # True: one ACK item per message even if ACKS is offered

    async def setup(self, n_conns: int, n_queues: int) -> None:
        conns = await asyncio.gather(
            *(RawRelayConn.open(self.url, self.session) for _ in range(2 * n_conns))
        )
        self.conns = list(conns)
        senders, receivers = conns[:n_conns], conns[n_conns:]
        index: dict[bytes, int] = {}
        self.queues = [None] * n_queues  # type: ignore[list-item]

        async def make(i: int) -> None:
            r, s = receivers[i % n_conns], senders[i % n_conns]
            rkey, skey = SigningKey.generate(), SigningKey.generate()
            new = New(r.next_corr(), bytes(rkey.verify_key))
            ids = await r.request(r.signed(new, rkey))
            rid, sid = ids["rid"], ids["sid"]
            await r.request(r.signed(Key(r.next_corr(), rid, bytes(skey.verify_key)), rkey))
            index[rid] = i
            await r.request(Sub(r.next_corr(), rid))  # session-authorised by NEW
            # prove the sender key on the sender's connection (the receiver acks this one)
            await s.request(s.signed(Send(s.next_corr(), sid, b"hello"), skey))
            self.queues[i] = (s, sid)

        def on_msg(c: RawRelayConn, m: dict[str, Any]) -> None:
            rid = m["rid"]
            if c.max_acks and not self.single_acks:
                c.acks.setdefault(rid, []).append(m["mid"])
            else:
                c.put({"op": "ACK", "rid": rid, "mid": m["mid"]})
            body = m["body"]
            if body != b"hello":
                self.on_message(index[rid], body)

        for r in receivers:
            r.on_msg = on_msg
        await asyncio.gather(*(make(i) for i in range(n_queues)))

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.conns)

    def send(self, q: int, body: bytes, done: Callable[[], None] | None = None) -> None:
        s, sid = self.queues[q]
        s.put({"op": "SEND", "sid": sid, "body": body}, None if done is None else lambda r: done())

    async def close(self) -> None:
        for c in self.conns:
            if c.reader is not None:
                c.reader.cancel()
        await asyncio.gather(*(c.ws.close() for c in self.conns), return_exceptions=True)


# ---- the bare forwarder -----------------------------------------------------------------------


class FwdConn:
    """A forwarder connection with the same one-frame-per-loop-iteration batching as RelayClient."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, me: bytes) -> None:
        self.ws, self.me = ws, me
        self.out: list[list[bytes]] = []
        self.flushing = False

    @classmethod
    async def open(cls, url: str, session: aiohttp.ClientSession) -> FwdConn:
        ws = await session.ws_connect(url, compress=0, max_msg_size=0)
        me = os.urandom(16)
        await ws.send_bytes(me)
        return cls(ws, me)

    def put(self, dest: bytes, body: bytes) -> None:
        self.out.append([dest, body])
        if not self.flushing:
            self.flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)
        try:
            while self.out:
                batch, self.out = self.out[:64], self.out[64:]
                await self.ws.send_bytes(msgpack.packb({"b": batch}))
        finally:
            self.flushing = False


class FwdRig:
    """The forwarder with the relay rig's shape: receiver acks are routed back to senders."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session
        self.on_message: Callable[[int, bytes], None] = lambda q, b: None
        self.queues: list[tuple[FwdConn, FwdConn]] = []  # sender, receiver
        self.conns: list[FwdConn] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.waiting: dict[bytes, collections.deque[Callable[[], None]]] = {}
        self.errors = 0

    async def setup(self, n_conns: int, n_queues: int) -> None:
        conns = await asyncio.gather(
            *(FwdConn.open(self.url, self.session) for _ in range(2 * n_conns))
        )
        self.conns = list(conns)
        senders, receivers = conns[:n_conns], conns[n_conns:]
        self.queues = [(senders[i % n_conns], receivers[i % n_conns]) for i in range(n_queues)]
        for s in senders:
            self.waiting[s.me] = collections.deque()
            self.tasks.append(asyncio.create_task(self._sender_loop(s)))
        for r in receivers:
            self.tasks.append(asyncio.create_task(self._receiver_loop(r)))

    async def _receiver_loop(self, r: FwdConn) -> None:
        async for msg in r.ws:
            acks: dict[bytes, int] = {}
            for body in msgpack.unpackb(msg.data)["b"]:
                q, sender = struct.unpack_from(">I16s", body)
                acks[sender] = acks.get(sender, 0) + 1
                self.on_message(q, body)
            for sender, n in acks.items():  # one ack per sender per received frame
                r.put(sender, struct.pack(">I", n))

    async def _sender_loop(self, s: FwdConn) -> None:
        waiting = self.waiting[s.me]
        async for msg in s.ws:
            for ack in msgpack.unpackb(msg.data)["b"]:
                for _ in range(struct.unpack(">I", ack)[0] if len(ack) == 4 else 1):
                    if waiting:
                        waiting.popleft()()

    def send(self, q: int, body: bytes, done: Callable[[], None] | None = None) -> None:
        s, r = self.queues[q]
        s.put(r.me, struct.pack(">I16s", q, s.me) + body[20:])
        if done is not None:
            self.waiting[s.me].append(done)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*(c.ws.close() for c in self.conns), return_exceptions=True)


# ---- phases -----------------------------------------------------------------------------------


async def make_rig(args: argparse.Namespace, session: aiohttp.ClientSession) -> RelayRig | FwdRig:
    if args.target == "forward":
        return FwdRig(args.url, session)
    rig = RelayRig(args.url, session)
    rig.single_acks = args.single_acks
    return rig


async def throughput(args: argparse.Namespace) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        rig = await make_rig(args, session)
        await rig.setup(args.conns, args.queues)
        delivered = 0
        running = True
        body = os.urandom(BODY)

        def got(q: int, b: bytes) -> None:
            # A message stops being in flight when the receiver has it; then the next one
            # to that queue goes out. Both arms are paced by delivery, not by the sender's
            # confirmation (a relay OK only says "stored"; it would let senders outrun
            # delivery and grow the store without bound).
            nonlocal delivered
            delivered += 1
            if running:
                rig.send(q, body)

        rig.on_message = got
        for q in range(args.queues):
            for _ in range(args.inflight):
                rig.send(q, body)
        await asyncio.sleep(args.warmup)
        me, srv = os.getpid(), args.server_pid
        d0, t0 = delivered, time.perf_counter()
        c0, s0 = cpu_seconds(me), cpu_seconds(srv) if srv else 0.0
        await asyncio.sleep(args.duration)
        d1, t1 = delivered, time.perf_counter()
        c1, s1 = cpu_seconds(me), cpu_seconds(srv) if srv else 0.0
        running = False
        await asyncio.sleep(0.5)
        errors = rig.errors
        await rig.close()
    wall = t1 - t0
    return {
        "msgs_per_s": (d1 - d0) / wall,
        "delivered": d1 - d0,
        "seconds": wall,
        "errors": errors,
        "load_cpu": (c1 - c0) / wall,  # cores used by this load generator
        "server_cpu": (s1 - s0) / wall,  # cores used by the server process
    }


async def latency(args: argparse.Namespace) -> dict[str, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        rig = await make_rig(args, session)
        n_probe = 8  # probes rotate over their own queues, so no single queue is a bottleneck
        await rig.setup(args.conns, args.queues + n_probe)
        probe_qs = set(range(args.queues, args.queues + n_probe))
        samples: list[float] = []
        sent: dict[bytes, int] = {}

        def got(q: int, b: bytes) -> None:
            if q in probe_qs:
                key = b[-8:]
                start = sent.pop(key, None)
                if start is not None:
                    samples.append((time.perf_counter_ns() - start) / 1e6)

        rig.on_message = got
        body = bytearray(os.urandom(BODY))
        stop = time.perf_counter() + args.warmup + args.duration
        measure_from = time.perf_counter() + args.warmup
        tick, per_tick_f, carry, q = 0.002, args.rate * 0.002, 0.0, 0
        next_t = time.perf_counter()
        n = 0
        while time.perf_counter() < stop:
            carry += per_tick_f
            k = int(carry)
            carry -= k
            for _ in range(k):
                rig.send(q, bytes(body))
                q = (q + 1) % args.queues
            if time.perf_counter() >= measure_from:
                n += 1
                tag = struct.pack(">Q", n)
                probe = bytes(body[:-8]) + tag
                sent[tag] = time.perf_counter_ns()
                rig.send(args.queues + n % n_probe, probe)
            next_t += tick
            await asyncio.sleep(max(0.0, next_t - time.perf_counter()))
        await asyncio.sleep(0.5)
        await rig.close()
    samples.sort()
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "probes": 0}
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "probes": len(samples),
        "lost": len(sent),
    }


async def idle(args: argparse.Namespace) -> dict[str, Any]:
    n = args.idle
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.sleep(0.5)
        before = rss_kib(args.server_pid)
        sem = asyncio.Semaphore(200)
        conns: list[Any] = []
        failed = 0

        async def one() -> None:
            nonlocal failed
            async with sem:
                try:
                    if args.target == "relay":
                        conns.append(
                            await RelayClient.connect(args.url, session=session, heartbeat=None)
                        )
                    else:
                        conns.append(await FwdConn.open(args.url, session))
                except Exception:
                    failed += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        open_s = time.perf_counter() - t0
        await asyncio.sleep(2.0)
        after = rss_kib(args.server_pid)
        base = args.url.replace("ws://", "http://").rsplit("/", 1)[0]
        if args.target == "relay":
            async with session.get(f"{base}/metrics") as r:
                text = await r.text()
            counted = next(
                int(float(line.split()[1]))
                for line in text.splitlines()
                if line.startswith("securechat_relay_connections ")
            )
        else:
            async with session.get(f"{base}/count") as r:
                counted = int(await r.text())
        sample = random.sample(conns, min(200, len(conns)))
        ok = 0
        for c in sample:
            with contextlib.suppress(Exception):
                if isinstance(c, RelayClient):
                    await asyncio.wait_for(c.ping(), 10)
                else:
                    c.put(c.me, os.urandom(20))
                    await asyncio.wait_for(c.ws.receive(), 10)
                ok += 1
        for c in conns:
            with contextlib.suppress(Exception):
                await (c.close() if isinstance(c, RelayClient) else c.ws.close())
    return {
        "connections": n,
        "opened": len(conns),
        "failed": failed,
        "server_counted": counted,
        "sample_answered": ok,
        "sample": len(sample),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_conn": (after - before) / max(1, len(conns)),
        "open_seconds": open_s,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--target", choices=["relay", "forward"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--phase", choices=["throughput", "latency", "idle"], required=True)
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--queues", type=int, default=256)
    p.add_argument("--inflight", type=int, default=16)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rate", type=float, default=5000.0)
    p.add_argument("--idle", type=int, default=10000)
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--single-acks", action="store_true", help="relay: one ACK per message")
    args = p.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gc.set_threshold(50_000, 20, 20)
    gc.freeze()
    phase = {"throughput": throughput, "latency": latency, "idle": idle}[args.phase]
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as r:
        result = r.run(phase(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
