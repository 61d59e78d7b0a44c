"""Two services and a real relay process: restarts, SIGKILL, offline sends, nothing at rest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgpack

from securechat import api, profiles
from securechat.service import Service
from tests.relay_process import RelayProcess
from tests.securechat.conftest import PASSPHRASE, fast_kdf

N = 500  # messages each way
DOWN = 50  # of which written while the relay is down


async def wait_for(cond: Callable[[], Awaitable[bool]], timeout: float = 90.0) -> None:
    async with asyncio.timeout(timeout):
        while not await cond():
            await asyncio.sleep(0.05)


async def start(home: Path, name: str) -> Service:
    service = Service(home, kdf=fast_kdf())
    await service.unlock(name, PASSPHRASE)
    return service


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
            *(
                service.send_text(conv, f"{prefix}-{i:04d} secret words")
                for i in range(start_, min(hi, start_ + 25))
            )
        )


def secrets_of(home: Path, name: str) -> list[bytes]:
    """Every private key we can pull out of a profile: identity seed, ratchet and prekey keys."""
    found: list[bytes] = []
    with profiles.unlock_profile(name, PASSPHRASE, home=home) as profile:
        conn = profile.store.conn
        found.append(profile.identity_seed())
        for (state,) in conn.execute("SELECT session FROM conversations WHERE session IS NOT NULL"):
            ratchet = json.loads(msgpack.unpackb(bytes(state))[6])
            dh = ratchet["diffie_hellman_ratchet"]
            found.append(dh["own_ratchet_priv"].encode("latin-1"))
            found.append(dh["root_chain"]["key"].encode("latin-1"))
        for (store,) in conn.execute("SELECT prekeys FROM intake"):
            doc = msgpack.unpackb(bytes(store))
            found.append(bytes(doc[2][1]))  # current signed prekey scalar
            found += [bytes(k) for _, k in doc[4]]  # one-time prekey scalars
        for row in conn.execute("SELECT recv_auth_key, send_key FROM conversations"):
            found += [bytes(v) for v in row if v is not None]
    return [s for s in found if len(s) >= 16]


def all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


async def test_restarts_sigkill_and_offline_sends_exactly_once(tmp_path: Path) -> None:
    """500 each way across client restarts and a SIGKILLed relay: each arrives once, in order;
    50 each way written while the relay is down arrive after it is back; nothing readable at rest."""
    relay = await RelayProcess(tmp_path / "relay").start()
    homes = {"sari": tmp_path / "sari", "ayu": tmp_path / "ayu"}
    counselor = Service(homes["sari"], kdf=fast_kdf())
    client = Service(homes["ayu"], kdf=fast_kdf())
    try:
        await counselor.create_profile("sari", api.Role.COUNSELOR, PASSPHRASE)
        await client.create_profile("ayu", api.Role.CLIENT, PASSPHRASE)
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        cc = await client.consent(view.invite_id, "en", "first words, secret")

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
        await counselor.save_note(sc, None, "free", [("note", "NOTE-PLAINTEXT insomnia")], "1")

        # phase 1: 200 each way, online
        await asyncio.gather(
            send_range(client, cc, "c", 0, 200), send_range(counselor, sc, "s", 0, 200)
        )

        async def got(n_client: int, n_counselor: int) -> bool:
            a = await received(counselor, sc)
            b = await received(client, cc)
            return len(a) >= n_client + 1 and len(b) >= n_counselor

        await wait_for(lambda: got(150, 150))  # part-way: some still in flight

        # restart both clients and SIGKILL the relay
        await client.close()
        await counselor.close()
        await relay.kill()
        client = await start(homes["ayu"], "ayu")
        counselor = await start(homes["sari"], "sari")
        # phase 2: written while the relay is down (to the outbox)
        await asyncio.gather(
            send_range(client, cc, "c", 200, 200 + DOWN),
            send_range(counselor, sc, "s", 200, 200 + DOWN),
        )
        assert (await client.history(cc, 0, 100_000))[-1].state is api.DeliveryState.QUEUED
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

        expect_c = ["first words, secret"] + [f"c-{i:04d} secret words" for i in range(N)]
        expect_s = [f"s-{i:04d} secret words" for i in range(N)]
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
    finally:
        await client.close()
        await counselor.close()
        await relay.terminate()
        await relay.stop()

    # nothing readable at rest: plaintexts, note text, private keys
    keys = secrets_of(homes["sari"], "sari") + secrets_of(homes["ayu"], "ayu")
    blobs = {
        "counselor": all_bytes(homes["sari"]),
        "client": all_bytes(homes["ayu"]),
        "relay": all_bytes(tmp_path / "relay"),
    }
    needles = [b"secret words", b"first words", b"NOTE-PLAINTEXT", b"insomnia"]
    needles += [f"c-{i:04d}".encode() for i in range(0, N, 50)]
    for where, blob in blobs.items():
        assert blob, where
        for needle in needles:
            assert needle not in blob, (where, needle)
        for key in keys:
            assert key not in blob, where
