"""Two services and a real relay process: restarts, SIGKILL, offline sends, nothing at rest.

The relay is SIGKILLed while both clients are connected and messages are in flight, both
clients are restarted (twice for the client), 50 messages each way are written while the relay
is down; at the end every message has arrived exactly once and in order per sender, and no
plaintext or private key is in any file of either profile or of the relay's data directory
(scanned at the moment of the kill, with the relay's -wal/-shm, and again at the end).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgpack

from securechat import api
from securechat.service import Service
from tests.relay_process import RelayProcess
from tests.securechat.conftest import PASSPHRASE, fast_kdf

N = 500  # messages each way
DOWN = 50  # of which written while the relay is down (after both clients restarted)
KILL_AT = 60  # the relay is SIGKILLed once this many have arrived each way
FIRST = "first words, secret"
NOTE = "NOTE-PLAINTEXT insomnia since the exams"


async def wait_for(cond: Callable[[], Awaitable[bool]], timeout: float = 120.0) -> None:
    async with asyncio.timeout(timeout):
        while not await cond():
            await asyncio.sleep(0.05)


async def start(home: Path, name: str) -> Service:
    service = Service(home, kdf=fast_kdf())
    await service.unlock(name, PASSPHRASE)
    return service


def text(prefix: str, i: int) -> str:
    return f"{prefix}-{i:04d} secret words {prefix * 3}{i}"


async def received(service: Service, conv: str) -> list[str]:
    return [
        m.text
        for m in await service.history(conv, 0, 100_000)
        if not m.outgoing and m.kind is api.MessageKind.TEXT
    ]


async def send_range(service: Service, conv: str, prefix: str, lo: int, hi: int) -> None:
    """Send texts lo..hi-1 in order (groups of 25 share one commit)."""
    for start_ in range(lo, hi, 25):
        await asyncio.gather(
            *(service.send_text(conv, text(prefix, i)) for i in range(start_, min(hi, start_ + 25)))
        )


def secrets_of(service: Service) -> list[bytes]:
    """Every private key the profile holds now: identity seed, ratchet, prekeys, queue keys."""
    profile = service._profile_or_raise()
    conn: Any = profile.store.conn
    found = [profile.identity_seed()]
    for (state,) in conn.execute("SELECT session FROM conversations WHERE session IS NOT NULL"):
        ratchet = json.loads(msgpack.unpackb(bytes(state))[6])
        dh = ratchet["diffie_hellman_ratchet"]
        found.append(dh["own_ratchet_priv"].encode("latin-1"))
        found.append(dh["root_chain"]["key"].encode("latin-1"))
        chains = dh["symmetric_key_ratchet"]
        for chain in ("sending_chain", "receiving_chain"):
            if chains.get(chain):
                found.append(chains[chain]["key"].encode("latin-1"))
    for (store,) in conn.execute("SELECT prekeys FROM intake"):
        doc = msgpack.unpackb(bytes(store))
        found.append(bytes(doc[2][1]))  # current signed prekey scalar
        found += [bytes(k) for _, k in doc[4]]  # one-time prekey scalars
    for row in conn.execute("SELECT recv_auth_key, send_key FROM conversations"):
        found += [bytes(v) for v in row if v is not None]
    keys = [s for s in found if len(s) >= 16]
    assert len(keys) >= 5, "the key extraction no longer finds the keys"
    return keys


def scan(where: dict[str, Path], needles: list[bytes]) -> set[str]:
    """Assert no needle occurs in any file under the given folders; return the file names."""
    names: set[str] = set()
    for label, directory in where.items():
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            try:
                blob = path.read_bytes()
            except FileNotFoundError:  # a -journal that was just removed
                continue
            names.add(path.name)
            for needle in needles:
                assert needle not in blob, (label, path.name, needle[:24])
    return names


def relay_holds(data_dir: Path) -> int:
    """How many messages the (stopped) relay still stores."""
    conn = sqlite3.connect(data_dir / "relay.sqlite3")
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


async def test_restarts_sigkill_and_offline_sends_exactly_once(tmp_path: Path) -> None:
    """500 each way with the relay SIGKILLed mid-traffic and both clients restarted: each
    message arrives once, in order per sender; 50 each way written while the relay is down
    arrive after it is back; no plaintext or private key in any file, -wal/-shm included."""
    relay = await RelayProcess(tmp_path / "relay").start()
    homes = {"sari": tmp_path / "sari", "ayu": tmp_path / "ayu"}
    dirs = {**homes, "relay": tmp_path / "relay"}
    counselor = Service(homes["sari"], kdf=fast_kdf())
    client = Service(homes["ayu"], kdf=fast_kdf())
    expect_c = [FIRST] + [text("c", i) for i in range(N)]
    expect_s = [text("s", i) for i in range(N)]
    needles = [t.encode() for t in expect_c + expect_s]
    needles += [b"secret words", NOTE.encode(), b"insomnia"]
    keys: list[bytes] = []
    try:
        await counselor.create_profile("sari", api.Role.COUNSELOR, PASSPHRASE)
        await client.create_profile("ayu", api.Role.CLIENT, PASSPHRASE)
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        cc = await client.consent(view.invite_id, "en", FIRST)

        async def answered() -> bool:
            convs = await client.conversations()
            return (
                bool(await counselor.conversations())
                and convs[0].active
                and ((await client.history(cc, 0, 1))[0].state is api.DeliveryState.DELIVERED)
            )

        await wait_for(answered)
        (sview,) = await counselor.conversations()
        sc = sview.conversation_id
        await counselor.save_note(sc, None, "free", [("note", NOTE)], "1")

        async def got(n_client: int, n_counselor: int) -> bool:
            a = await received(counselor, sc)
            b = await received(client, cc)
            return len(a) >= n_client + 1 and len(b) >= n_counselor

        # phase 1: 200 each way while both are online; SIGKILL the relay mid-stream
        sending = asyncio.gather(
            send_range(client, cc, "c", 0, 200), send_range(counselor, sc, "s", 0, 200)
        )
        await wait_for(lambda: got(KILL_AT, KILL_AT))
        await relay.kill()
        killed_at = (len(await received(counselor, sc)) - 1, len(await received(client, cc)))
        keys += secrets_of(client) + secrets_of(counselor)
        files = scan(dirs, needles + keys)
        assert {"relay.sqlite3-wal", "store.db"} <= files, files  # the kill left the WAL behind
        await sending  # local commits: they finish with the relay down
        assert killed_at < (200, 200), "the kill came too late to interrupt anything"

        # restart both clients while the relay is down; write 50 each way to the outboxes
        await client.close()
        await counselor.close()
        client = await start(homes["ayu"], "ayu")
        counselor = await start(homes["sari"], "sari")
        await asyncio.gather(
            send_range(client, cc, "c", 200, 200 + DOWN),
            send_range(counselor, sc, "s", 200, 200 + DOWN),
        )
        for svc, conv in ((client, cc), (counselor, sc)):
            tail = [m.state for m in (await svc.history(conv, 0, 100_000))[-DOWN:]]
            assert set(tail) == {api.DeliveryState.QUEUED}
        await relay.start(same_port=True)

        # phase 3: the rest, with one more client restart in the middle
        await asyncio.gather(
            send_range(client, cc, "c", 200 + DOWN, 400),
            send_range(counselor, sc, "s", 200 + DOWN, 400),
        )
        await client.close()
        client = await start(homes["ayu"], "ayu")
        await asyncio.gather(
            send_range(client, cc, "c", 400, N), send_range(counselor, sc, "s", 400, N)
        )
        await wait_for(lambda: got(N, N))
        await client.sync()
        await counselor.sync()

        # exactly once, in order per sender (list equality: a duplicate or a gap fails)
        assert await received(counselor, sc) == expect_c
        assert await received(client, cc) == expect_s

        async def all_delivered() -> bool:
            await client.sync()
            await counselor.sync()
            for svc, conv in ((client, cc), (counselor, sc)):
                states = {m.state for m in await svc.history(conv, 0, 100_000) if m.outgoing}
                if states != {api.DeliveryState.DELIVERED}:
                    return False
            return True

        await wait_for(all_delivered)
        keys += secrets_of(client) + secrets_of(counselor)
    finally:
        await client.close()
        await counselor.close()
        await relay.terminate()
        await relay.stop()

    assert relay_holds(dirs["relay"]) == 0  # delivered messages are forgotten
    scan(dirs, needles + keys)
