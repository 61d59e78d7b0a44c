"""Benchmark the client core: send, receive and outbox drain, beside bare crypto in the same run.

Figures (medians of several rounds, microseconds per message unless stated):

- crypto baseline: bare `Session.encrypt` and `Session.decrypt` of a 100-byte text;
- send: `Service.send_text` with 100 concurrent sends per group commit (one SQLCipher
  transaction, synchronous = FULL), and one send at a time (one commit each);
- receive: `Engine.receive` of batches of 8 (the relay's default window) and 64 envelopes,
  each batch one transaction;
- drain: 10,000 messages queued offline, then `Service.sync()` against a real relay process
  (`securechat-relay serve`, SQLite synchronous = FULL; its queue quota and per-connection
  rate limit raised, since the default 1,000 commands/s would otherwise be what is measured):
  messages per second until the relay has answered OK for all of them and they are marked SENT.

Targets (issue 4): send <= 200 us per message; drain >= 5,000 messages/s.

    PYTHONPATH=. python bench/client.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crypto.envelope import Text
from crypto.keys import IdentityKeyPair
from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
from crypto.session import Session
from crypto.x3dh import PrekeyStore
from securechat import api
from securechat.service import Service
from tests.relay_process import serve_command

PASS = "bench passphrase"  # noqa: S105 - a throwaway profile
BODY = "x" * 100


def kdf() -> KdfParams:
    return KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)


def crypto_baseline(n: int) -> tuple[float, float]:
    a, b = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = PrekeyStore.create(b, 0, 1)
    alice, first = Session.initiate(a, store.bundle(b), b.public, Text("hi"))
    bob, _ = Session.respond(b, store, first)
    bob.decrypt(alice.encrypt(Text("warm")))
    alice.decrypt(bob.encrypt(Text("up")))
    envs = []
    t0 = time.perf_counter()
    for _ in range(n):
        envs.append(alice.encrypt(Text(BODY)))
    enc = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for env in envs:
        bob.decrypt(env)
    dec = (time.perf_counter() - t0) / n
    return enc * 1e6, dec * 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Relay:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        port_file = self.data.parent / "relay.port"
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            serve_command(self.data, port_file, str(self.port)),
            env={
                **os.environ,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                # the backlog goes to one queue whose reader is offline: allow it to hold it all
                "SECURECHAT_RELAY_QUEUE_QUOTA": "50000",
                # the default per-connection rate limit (1000 commands/s) would be the bottleneck
                "SECURECHAT_RELAY_RATE": "100000",
                "SECURECHAT_RELAY_BURST": "100000",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("relay did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


async def setup(tmp: Path, relay: Relay) -> tuple[Service, Service, str, str]:
    counselor = Service(tmp / "sari", kdf=kdf())
    client = Service(tmp / "ayu", kdf=kdf())
    await counselor.create_profile("sari", api.Role.COUNSELOR, PASS)
    await client.create_profile("ayu", api.Role.CLIENT, PASS)
    view = await client.open_invite(await counselor.publish(relay.url))
    cc = await client.consent(view.invite_id, "en", "hello")
    async with asyncio.timeout(60):
        while not (
            await counselor.conversations()
            and (await client.history(cc, 0, 1))[0].state is api.DeliveryState.DELIVERED
        ):
            await asyncio.sleep(0.02)
    sc = (await counselor.conversations())[0].conversation_id
    return counselor, client, cc, sc


async def main(quick: bool) -> None:
    rounds = 3 if quick else 5
    n = 1000 if quick else 2000
    backlog = 10_000
    enc, dec = zip(*(crypto_baseline(n) for _ in range(rounds)), strict=True)
    crypto_enc, crypto_dec = statistics.median(enc), statistics.median(dec)

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        relay = Relay(tmp / "relay")
        relay.start()
        try:
            counselor, client, cc, sc = await setup(tmp, relay)
            # stop background links: measure storage and crypto, not the network
            await client.close()
            await counselor.close()
            client = Service(tmp / "ayu", kdf=kdf(), autoconnect=False)
            counselor = Service(tmp / "sari", kdf=kdf(), autoconnect=False)
            await client.unlock("ayu", PASS)
            await counselor.unlock("sari", PASS)

            grouped = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(n // 100):
                    await asyncio.gather(*(client.send_text(cc, BODY) for _ in range(100)))
                grouped.append((time.perf_counter() - t0) / n * 1e6)
            single = []
            for _ in range(rounds):
                k = 50
                t0 = time.perf_counter()
                for _ in range(k):
                    await client.send_text(cc, BODY)
                single.append((time.perf_counter() - t0) / k * 1e6)

            # receive: take the client's queued envelopes and feed them to the counselor
            engine_c = client._engine_or_raise()
            engine_s = counselor._engine_or_raise()
            rid = engine_s._store.conn.execute(
                "SELECT recv_queue FROM conversations WHERE id = ?", (int(sc),)
            ).fetchone()[0]
            url = relay.url
            items = engine_c.pending(url, 1_000_000)
            bodies = [i.envelope for i in items]
            receive: dict[int, list[float]] = {8: [], 64: []}
            per_round = len(bodies) // (2 * rounds)
            pos = 0
            for _ in range(rounds):
                for size in (8, 64):
                    chunk = bodies[pos : pos + per_round]
                    pos += per_round
                    t0 = time.perf_counter()
                    for s in range(0, len(chunk), size):
                        engine_s.receive([(bytes(rid), b) for b in chunk[s : s + size]])
                    receive[size].append((time.perf_counter() - t0) / max(1, len(chunk)) * 1e6)
            engine_c.sent([i.item_id for i in items])  # these envelopes were "delivered" by hand

            # drain: a backlog of 10,000 queued while offline, then sync with the relay
            for _ in range(backlog // 100):
                await asyncio.gather(*(client.send_text(cc, BODY) for _ in range(100)))
            assert engine_c.outbox_size() >= backlog
            t0 = time.perf_counter()
            while engine_c.outbox_size():
                await client.sync(timeout=120)
            drain = backlog / (time.perf_counter() - t0)
            await client.close()
            await counselor.close()
        finally:
            relay.stop()

    send_grouped = statistics.median(grouped)
    print("securechat client core benchmark (medians)")
    print(f"  crypto only: encrypt {crypto_enc:8.1f} us/msg   decrypt {crypto_dec:8.1f} us/msg")
    print(
        f"  send, 100 per commit : {send_grouped:8.1f} us/msg   "
        f"({send_grouped / crypto_enc:4.1f}x bare encrypt; target <= 200 us)"
    )
    print(
        f"  send, 1 per commit   : {statistics.median(single):8.1f} us/msg   "
        f"({statistics.median(single) / crypto_enc:4.1f}x bare encrypt; fsync-bound)"
    )
    for size, values in receive.items():
        med = statistics.median(values)
        print(
            f"  receive, batch {size:3d}   : {med:8.1f} us/msg   ({med / crypto_dec:4.1f}x bare decrypt)"
        )
    print(f"  drain of {backlog} queued via a relay process: {drain:8.0f} msg/s (target >= 5000)")


if __name__ == "__main__":
    asyncio.run(main("--quick" in sys.argv))
