"""Durability: a relay process killed with SIGKILL loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed, ErrorCode
from relay.protocol import Msg, Send
from relay.store import read_stats
from relay.store.sqlite import DB_NAME
from tests.relay.conftest import RelayProcess


async def receive_all(relay: RelayProcess, rid: bytes, rkey: SigningKey) -> list[bytes]:
    """Receive and acknowledge every message the store holds, then check nothing else comes."""
    expected = read_stats(relay.data_dir).messages  # the relay is idle: an exact count
    async with await RelayClient.connect(relay.url) as c:
        await c.subscribe(rid, rkey)
        bodies: list[bytes] = []
        for _ in range(expected):
            item = await c.next_push(timeout=10)
            assert isinstance(item, Msg)
            bodies.append(item.body)
            await c.ack(rid, item.mid, rkey)
        await c.ping()
        assert c._pushes.empty()
    assert read_stats(relay.data_dir).messages == 0
    return bodies


async def test_sigkill_loses_nothing_and_never_redelivers_acked(tmp_path: Path) -> None:
    """N sends answered OK survive SIGKILL; acked ones are never redelivered after restart."""
    n, acked_before_kill = 300, 100
    relay = await RelayProcess(tmp_path / "data").start()
    rkey = SigningKey.generate()
    try:
        async with await RelayClient.connect(relay.url) as c:
            rid, sid = await c.create_queue(rkey)
            await asyncio.gather(*(c.send(sid, b"%04d" % i) for i in range(n)))
            await c.subscribe(rid, rkey)
            for i in range(acked_before_kill):
                m = await c.next_push(timeout=10)
                assert isinstance(m, Msg)
                assert m.body == b"%04d" % i
                await c.ack(rid, m.mid, rkey)
            await relay.kill()
        assert read_stats(relay.data_dir).messages == n - acked_before_kill

        await relay.start()
        got = await receive_all(relay, rid, rkey)
        assert got == [b"%04d" % i for i in range(acked_before_kill, n)]
        await relay.kill()

        await relay.start()
        assert await receive_all(relay, rid, rkey) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


async def test_sigkill_during_sends_keeps_every_ok(tmp_path: Path) -> None:
    """Killed mid-stream, every SEND that was answered OK is delivered after restart, once."""
    relay = await RelayProcess(tmp_path / "data").start()
    rkey = SigningKey.generate()
    ok: list[bytes] = []
    try:
        c = await RelayClient.connect(relay.url)
        rid, sid = await c.create_queue(rkey)

        async def sender(k: int) -> None:
            for i in range(10_000):
                body = b"%d-%05d" % (k, i)
                await c.send(sid, body)
                ok.append(body)

        tasks = [asyncio.create_task(sender(k)) for k in range(8)]
        async with asyncio.timeout(60):
            while len(ok) < 400:
                await asyncio.sleep(0.01)
        await relay.kill()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, ClientError) for r in results)
        await c.close()
        confirmed = list(ok)

        await relay.start()
        got = await receive_all(relay, rid, rkey)
        assert len(got) == len(set(got))  # each delivered once
        assert set(confirmed) <= set(got)  # nothing confirmed was lost
        for k in range(8):  # per sender, order is kept
            mine = [b for b in got if b.startswith(b"%d-" % k)]
            assert mine == sorted(mine)
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


@contextlib.contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    """Hold SQLite's write lock on the relay's database: its commits wait until released."""
    db = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
    finally:
        db.close()


async def test_no_ok_and_no_delivery_before_the_commit(tmp_path: Path) -> None:
    """While the store cannot commit, a SEND gets no OK and no MSG; killed then, it is gone."""
    relay = await RelayProcess(tmp_path / "data").start()
    rkey = SigningKey.generate()
    try:
        async with (
            await RelayClient.connect(relay.url) as recipient,
            await RelayClient.connect(relay.url) as sender,
        ):
            rid, sid = await recipient.create_queue(rkey)
            await recipient.subscribe(rid, rkey)
            with write_lock(relay.data_dir):
                ok = sender.submit(Send(sender.next_corr(), sid, b"held"))
                with contextlib.suppress(TimeoutError):  # nothing may arrive: neither MSG
                    early = await recipient.next_push(timeout=1.0)
                    raise AssertionError(f"pushed before the commit: {early!r}")
                assert not ok.done()  # nor OK
            await asyncio.wait_for(ok, 10)  # committed once the lock is gone: OK, then MSG
            m = await recipient.next_push(timeout=10)
            assert isinstance(m, Msg)
            assert m.body == b"held"
            await recipient.ack(rid, m.mid, rkey)

            with write_lock(relay.data_dir):
                lost = sender.submit(Send(sender.next_corr(), sid, b"never confirmed"))
                with contextlib.suppress(TimeoutError):
                    early = await recipient.next_push(timeout=0.5)
                    raise AssertionError(f"pushed before the commit: {early!r}")
                await relay.kill()
        assert lost.done()
        assert isinstance(lost.exception(), ClientError)  # the sender never got OK

        await relay.start()
        assert await receive_all(relay, rid, rkey) == []  # and the relay never stored it
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


async def test_no_client_address_on_disk(tmp_path: Path) -> None:
    """After a session over loopback, no file of the data directory contains the address."""
    relay = await RelayProcess(tmp_path / "data").start()
    rkey = SigningKey.generate()
    try:
        async with await RelayClient.connect(relay.url) as c:
            rid, sid = await c.create_queue(rkey)
            await c.send(sid, b"x" * 64)
            await c.subscribe(rid, rkey)
            m = await c.next_push(timeout=10)
            assert isinstance(m, Msg)
            await c.ack(rid, m.mid, rkey)
        await relay.terminate()
        files = [p for p in relay.data_dir.rglob("*") if p.is_file()]
        assert files
        for path in [*files, relay.log_path]:
            data = path.read_bytes()
            assert b"127.0.0.1" not in data, path.name
            assert b"localhost" not in data, path.name
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


async def test_a_full_disk_refuses_writes_then_recovers_losing_nothing(tmp_path: Path) -> None:
    """When the disk stops taking writes the relay stays up: SENDs get INTERNAL (clients
    retry), /healthz answers 503, the log says why once; once writes work again every
    confirmed message is delivered, once, and the database is intact.

    The disk is filled with the kernel's file-size limit on the relay process (lowered, then
    raised again, with prlimit): SQLite meets the refused write exactly as on a full disk (a
    short write is SQLITE_FULL, a refused one SQLITE_IOERR). A small tmpfs would need root."""
    relay = await RelayProcess(tmp_path / "data").start()
    pid = relay.proc.pid
    base = relay.url.replace("ws://", "http://").removesuffix("/ws")
    rkey = SigningKey.generate()
    confirmed: list[bytes] = []
    try:
        async with (
            aiohttp.ClientSession() as http,
            await RelayClient.connect(relay.url) as c,
        ):
            rid, sid = await c.create_queue(rkey)
            await c.send(sid, b"before")
            confirmed.append(b"before")
            _soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            used = max(p.stat().st_size for p in relay.data_dir.iterdir() if p.is_file())
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (used + 300_000, hard))
            refused = None
            for i in range(200):  # nothing is acknowledged, so the files must grow
                body = b"%04d" % i + os.urandom(20_000)
                try:
                    await c.send(sid, body)
                except CommandFailed as exc:
                    refused = exc
                    break
                confirmed.append(body)
            assert refused is not None
            assert refused.code == ErrorCode.INTERNAL
            async with http.get(f"{base}/healthz") as r:
                assert (r.status, await r.text()) == (503, "store cannot write\n")
            async with http.get(f"{base}/metrics") as r:
                assert "securechat_relay_store_writable 0\n" in await r.text()
            assert relay.stderr().count("cannot write") == 1
            codes = []
            for i in range(5):  # more of the same: refused, or taken where the WAL has room
                body = b"more%d" % i + os.urandom(20_000)
                try:
                    await c.send(sid, body)
                except CommandFailed as exc:
                    codes.append(exc.code)
                    continue
                confirmed.append(body)
            assert set(codes) <= {ErrorCode.INTERNAL}
            assert "refused a command" not in relay.stderr()  # no line per refused command

            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
            await c.send(sid, b"after")
            confirmed.append(b"after")
            async with http.get(f"{base}/healthz") as r:
                assert (r.status, await r.text()) == (200, "ok\n")
            assert "writes again" in relay.stderr()
        assert relay.proc.returncode is None
        assert await receive_all(relay, rid, rkey) == confirmed
        assert await relay.terminate() == 0
        db = sqlite3.connect(relay.data_dir / DB_NAME)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            db.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


async def test_malformed_http_requests_log_no_address_and_no_request(tmp_path: Path) -> None:
    """A request aiohttp cannot parse (bad Content-Length, a huge request line) is logged as
    one fixed sentence: no client address, no traceback quoting the request."""
    relay = await RelayProcess(tmp_path / "data").start()
    try:
        for request in (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"GET /healthz?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /ws HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n"
            b"Content-Length: -5\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
            writer.write(request)
            await writer.drain()
            await reader.read()  # the relay answers 400 and closes
            writer.close()
        async with await RelayClient.connect(relay.url) as c:  # and it still serves
            await c.ping()
        await relay.terminate()
        log = relay.stderr()
        assert "could not be handled" in log
        for leak in ("127.0.0.1", "203.0.113.9", "Traceback", "Content-Length", "aaaa"):
            assert leak not in log, leak
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()
