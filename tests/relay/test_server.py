"""Every command, push and error against a real relay on port 0."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.exceptions import (
    AuthError,
    ClientError,
    CommandFailed,
    ConnectionClosed,
    ErrorCode,
    NoMessage,
    NoPublication,
    NoQueue,
    QuotaExceeded,
)
from relay.protocol import (
    ID_LEN,
    Ack,
    Acks,
    Del,
    End,
    Err,
    Hello,
    Msg,
    Ok,
    Ping,
    Pong,
    Send,
    Sub,
    encode_client_frame,
    sign_command,
)
from relay.server import RelayServer
from relay.store.base import MessageOp, MessageResult
from tests.relay.conftest import RawConn, StartRelay, wait_until, ws_url
from tests.relay.tls import self_signed

Connect = Callable[[], Awaitable[RelayClient]]


async def new_queue(c: RelayClient) -> tuple[SigningKey, bytes, bytes]:
    key = SigningKey.generate()
    rid, sid = await c.create_queue(key)
    return key, rid, sid


async def next_msg(c: RelayClient) -> Msg:
    item = await c.next_push(timeout=10)
    assert isinstance(item, Msg), item
    return item


async def receive_and_ack(c: RelayClient, rid: bytes, rkey: SigningKey, n: int) -> list[bytes]:
    """The bodies of the next `n` pushes of queue `rid`, each acknowledged once received."""
    got = []
    for _ in range(n):
        m = await next_msg(c)
        got.append(m.body)
        await c.ack(rid, m.mid, rkey)
    return got


async def test_hello_announces_challenge_versions_and_limits(relay: RelayServer) -> None:
    """HELLO comes first with a fresh 32-byte challenge per connection and the limits."""
    a, b = await RawConn.open(relay), await RawConn.open(relay)
    try:
        assert isinstance(a.hello, Hello)
        assert a.hello.versions == (1,)
        assert len(a.hello.challenge) == 32
        assert a.hello.challenge != b.hello.challenge
        assert a.hello.limits["max_frame"] == relay.config.max_frame
        assert a.hello.limits["window"] == relay.config.window
    finally:
        await a.close()
        await b.close()


async def test_ping(connect: Connect) -> None:
    """PING is answered with PONG."""
    c = await connect()
    await c.ping()


async def test_queue_lifecycle_new_key_send_sub_ack_del(connect: Connect) -> None:
    """NEW, KEY, SEND, SUB, MSG, ACK and DEL work end to end across two connections."""
    recipient_conn, sender_conn = await connect(), await connect()
    rkey, rid, sid = await new_queue(recipient_conn)
    assert rid != sid
    assert len(rid) == len(sid) == ID_LEN
    skey = SigningKey.generate()
    await recipient_conn.secure_queue(rid, rkey, bytes(skey.verify_key))
    await sender_conn.send(sid, b"hello", skey)
    await recipient_conn.subscribe(rid, rkey)
    m = await next_msg(recipient_conn)
    assert (m.rid, m.body) == (rid, b"hello")
    assert m.ts > 0
    await recipient_conn.ack(rid, m.mid, rkey)
    await sender_conn.send(sid, b"second", skey)
    m2 = await next_msg(recipient_conn)
    assert m2.body == b"second"
    assert m2.mid != m.mid
    await recipient_conn.ack(rid, m2.mid, rkey)
    await recipient_conn.delete_queue(rid, rkey)
    with pytest.raises(NoQueue):
        await sender_conn.send(sid, b"after delete", skey)


async def test_unsecured_queue_accepts_unsigned_send(connect: Connect) -> None:
    """Before KEY, anyone holding the sender id may SEND without a signature."""
    c = await connect()
    rkey, rid, sid = await new_queue(c)
    await c.send(sid, b"first contact")
    await c.subscribe(rid, rkey)
    assert (await next_msg(c)).body == b"first contact"


async def test_messages_delivered_in_order_with_window(start_relay: StartRelay) -> None:
    """With window 2 only two messages are pushed before an ACK; order is kept."""
    relay = await start_relay(window=2)
    async with await RelayClient.connect(ws_url(relay)) as c:
        rkey, rid, sid = await new_queue(c)
        for i in range(5):
            await c.send(sid, b"m%d" % i)
        await c.subscribe(rid, rkey)
        first = [await next_msg(c), await next_msg(c)]
        await c.ping()  # any further push would have been queued before this reply
        assert c._pushes.empty()
        got = [m.body for m in first]
        await c.ack(rid, first[0].mid, rkey)
        await c.ack(rid, first[1].mid, rkey)
        got += await receive_and_ack(c, rid, rkey, 3)
        assert got == [b"m0", b"m1", b"m2", b"m3", b"m4"]


async def test_new_sub_ends_previous_subscription(connect: Connect) -> None:
    """A second SUB takes the queue over; the first subscriber gets END and no more MSG."""
    a, b = await connect(), await connect()
    rkey, rid, sid = await new_queue(a)
    await a.subscribe(rid, rkey)
    await b.subscribe(rid, rkey)
    end = await a.next_push(timeout=10)
    assert isinstance(end, End)
    assert end.rid == rid
    await a.send(sid, b"to b")
    assert (await next_msg(b)).body == b"to b"
    await a.ping()
    assert a._pushes.empty()


async def test_acks_deletes_several_messages_with_one_reply(
    relay: RelayServer, connect: Connect
) -> None:
    """ACKS deletes several messages at once; an unknown mid is NO_MSG, the others still go."""
    c = await connect()
    key, rid, sid = await new_queue(c)
    assert c.limits["max_acks"] == relay.config.max_batch
    for i in range(4):
        await c.send(sid, b"%d" % i)
    await c.subscribe(rid, key)
    msgs = [await next_msg(c) for _ in range(4)]
    corr = c.next_corr()
    assert await c.request(c.sign(Acks(corr, rid, (msgs[0].mid, msgs[1].mid)), key, rid)) == Ok(
        corr
    )
    with pytest.raises(CommandFailed) as err:
        await c.request(c.sign(Acks(c.next_corr(), rid, (msgs[2].mid, os.urandom(16))), key, rid))
    assert err.value.code == ErrorCode.NO_MSG
    assert (await relay.store.stats()).messages == 1
    other = await connect()  # has not proved the recipient key: needs a signature
    with pytest.raises(CommandFailed) as err:
        await other.request(Acks(other.next_corr(), rid, (msgs[3].mid,)))
    assert err.value.code == ErrorCode.AUTH
    await other.request(other.sign(Acks(other.next_corr(), rid, (msgs[3].mid,)), key, rid))
    assert (await relay.store.stats()).messages == 0
    with pytest.raises(CommandFailed) as err:
        await c.request(Acks(c.next_corr(), os.urandom(16), (msgs[3].mid,)))
    assert err.value.code == ErrorCode.NO_QUEUE


async def test_unacked_message_redelivered_to_next_subscriber(connect: Connect) -> None:
    """A pushed but unacknowledged message is pushed again on the next SUB (at-least-once)."""
    a = await connect()
    rkey, rid, sid = await new_queue(a)
    await a.send(sid, b"x")
    await a.subscribe(rid, rkey)
    m1 = await next_msg(a)
    await a.close()
    b = await connect()
    await b.subscribe(rid, rkey)
    m2 = await next_msg(b)
    assert m2.mid == m1.mid
    await b.ack(rid, m2.mid, rkey)


async def test_publication_pub_fetch_dir_unpub(connect: Connect) -> None:
    """PUB, FETCH (each prekey once), DIR (opt-in summary), PUB update and UNPUB."""
    counselor, client = await connect(), await connect()
    key = SigningKey.generate()
    pid = await counselor.publish(key, b"profile", summary=b"grief; en", prekeys=[b"p1", b"p2"])
    hidden = await counselor.publish(SigningKey.generate(), b"unlisted")
    got = [await client.fetch(pid) for _ in range(3)]
    assert [g.prekey for g in got] == [b"p1", b"p2", None]
    assert got[0].blob == b"profile"
    assert got[0].key == bytes(key.verify_key)
    page = await client.directory()
    assert [(e.pid, e.summary) for e in page.entries] == [(pid, b"grief; en")]
    assert hidden not in [e.pid for e in page.entries]
    assert (
        await counselor.publish(key, b"profile v2", summary=b"s", prekeys=[b"p3"], pid=pid) == pid
    )
    again = await client.fetch(pid)
    assert (again.blob, again.prekey) == (b"profile v2", b"p3")
    with pytest.raises(AuthError):
        await client.publish(SigningKey.generate(), b"hijack", pid=pid)
    with pytest.raises(AuthError):
        await client.unpublish(pid, SigningKey.generate())
    await counselor.unpublish(pid, key)
    with pytest.raises(NoPublication):
        await client.fetch(pid)
    with pytest.raises(NoPublication):
        await counselor.unpublish(pid, key)
    assert (await client.directory()).entries == ()


async def test_directory_pages(connect: Connect) -> None:
    """DIR returns pages in pid order with a cursor to the next page."""
    c = await connect()
    pids = sorted([await c.publish(SigningKey.generate(), b"b", summary=b"s") for _ in range(5)])
    first = await c.directory(limit=3)
    assert [e.pid for e in first.entries] == pids[:3]
    assert first.next == pids[2]
    second = await c.directory(after=first.next, limit=3)
    assert [e.pid for e in second.entries] == pids[3:]
    assert second.next is None


async def test_wrong_key_refused(connect: Connect) -> None:
    """SUB, ACK, DEL and KEY signed with a key other than the recipient key get AUTH."""
    owner, attacker = await connect(), await connect()
    _, rid, _ = await new_queue(owner)
    wrong = SigningKey.generate()
    with pytest.raises(AuthError):
        await attacker.subscribe(rid, wrong)
    with pytest.raises(AuthError):
        await attacker.ack(rid, os.urandom(ID_LEN), wrong)
    with pytest.raises(AuthError):
        await attacker.delete_queue(rid, wrong)
    with pytest.raises(AuthError):
        await attacker.secure_queue(rid, wrong, bytes(wrong.verify_key))


async def test_unsigned_recipient_command_refused(relay: RelayServer) -> None:
    """A recipient command without a signature on a connection that never proved the key: AUTH."""
    async with await RelayClient.connect(ws_url(relay)) as owner:
        _, rid, _ = await new_queue(owner)
    async with await RelayClient.connect(ws_url(relay)) as other:
        with pytest.raises(AuthError):
            await other.request(Sub(other.next_corr(), rid))


async def test_signature_replayed_on_another_connection_refused(relay: RelayServer) -> None:
    """A SUB signed over one connection's challenge is refused (AUTH) on another connection."""
    async with await RelayClient.connect(ws_url(relay)) as a:
        rkey, rid, _ = await new_queue(a)
        captured = sign_command(Sub(a.next_corr(), rid), a.challenge, rkey)
        await a.request(captured)  # valid where it was made
        async with await RelayClient.connect(ws_url(relay)) as b:
            with pytest.raises(AuthError):
                await b.request(captured)


async def test_sender_cannot_read_queue(connect: Connect) -> None:
    """A sender (sender id, sender key) cannot SUB, ACK or DEL: NO_QUEUE by sid, AUTH by rid."""
    owner, sender = await connect(), await connect()
    rkey, rid, sid = await new_queue(owner)
    skey = SigningKey.generate()
    await owner.secure_queue(rid, rkey, bytes(skey.verify_key))
    await sender.send(sid, b"secret", skey)
    with pytest.raises(NoQueue):
        await sender.subscribe(sid, skey)
    with pytest.raises(NoQueue):
        await sender.ack(sid, os.urandom(ID_LEN), skey)
    with pytest.raises(NoQueue):
        await sender.delete_queue(sid, skey)
    with pytest.raises(AuthError):
        await sender.subscribe(rid, skey)
    await owner.subscribe(rid, rkey)
    assert (await next_msg(owner)).body == b"secret"


async def test_secured_queue_refuses_unsigned_and_wrong_sender(connect: Connect) -> None:
    """Once secured, SEND needs the sender key's signature; KEY cannot be repeated."""
    c, s = await connect(), await connect()
    rkey, rid, sid = await new_queue(c)
    skey = SigningKey.generate()
    await c.secure_queue(rid, rkey, bytes(skey.verify_key))
    with pytest.raises(AuthError):
        await s.send(sid, b"unsigned")
    with pytest.raises(AuthError):
        await s.send(sid, b"wrong key", SigningKey.generate())
    with pytest.raises(AuthError):
        await c.secure_queue(rid, rkey, bytes(SigningKey.generate().verify_key))


async def test_session_authorisation_is_per_connection(relay: RelayServer) -> None:
    """After a signed SUB, unsigned ACKs work on that connection only."""
    async with await RelayClient.connect(ws_url(relay)) as a:
        rkey, rid, sid = await new_queue(a)
        await a.send(sid, b"x")
        await a.subscribe(rid, rkey)
        m = await next_msg(a)
        async with await RelayClient.connect(ws_url(relay)) as b:
            with pytest.raises(AuthError):
                await b.request(Ack(b.next_corr(), rid, m.mid))
        assert isinstance(await a.request(Ack(a.next_corr(), rid, m.mid)), Ok)


async def test_no_queue_and_no_msg(connect: Connect) -> None:
    """Unknown ids: NO_QUEUE for queues, NO_MSG for an ACK of an unknown message."""
    c = await connect()
    key = SigningKey.generate()
    with pytest.raises(NoQueue):
        await c.send(os.urandom(ID_LEN), b"x")
    with pytest.raises(NoQueue):
        await c.subscribe(os.urandom(ID_LEN), key)
    rkey, rid, _ = await new_queue(c)
    with pytest.raises(NoMessage):
        await c.ack(rid, os.urandom(ID_LEN), rkey)


async def test_quota_refuses_and_loses_nothing(start_relay: StartRelay) -> None:
    """A full queue answers QUOTA; every message that got OK is delivered, then room returns."""
    relay = await start_relay(queue_quota=5)
    async with await RelayClient.connect(ws_url(relay)) as c:
        rkey, rid, sid = await new_queue(c)
        results = await asyncio.gather(
            *(c.send(sid, b"m%d" % i) for i in range(8)), return_exceptions=True
        )
        accepted = [b"m%d" % i for i, r in enumerate(results) if r is None]
        refused = [r for r in results if r is not None]
        assert len(accepted) == 5
        assert all(isinstance(r, QuotaExceeded) and r.code == ErrorCode.QUOTA for r in refused)
        await c.subscribe(rid, rkey)
        assert await receive_and_ack(c, rid, rkey, len(accepted)) == accepted
        await c.send(sid, b"room again")
        assert (await next_msg(c)).body == b"room again"


async def test_queues_per_connection_quota(start_relay: StartRelay) -> None:
    """A connection may create at most max_queues_per_conn queues (QUOTA after that)."""
    relay = await start_relay(max_queues_per_conn=2)
    async with await RelayClient.connect(ws_url(relay)) as c:
        await new_queue(c)
        await new_queue(c)
        with pytest.raises(QuotaExceeded):
            await new_queue(c)


async def test_expired_messages_are_deleted(start_relay: StartRelay) -> None:
    """Messages older than the TTL are swept from the store and never delivered."""
    relay = await start_relay(message_ttl=1, sweep_interval=0.05)
    async with await RelayClient.connect(ws_url(relay)) as c:
        rkey, rid, sid = await new_queue(c)
        await c.send(sid, b"old")
        assert (await relay.store.stats()).messages == 1

        async def gone() -> None:
            while (await relay.store.stats()).messages:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(gone(), 15)
        await c.subscribe(rid, rkey)
        await c.send(sid, b"new")
        assert (await next_msg(c)).body == b"new"


async def test_size_error_for_oversized_body(start_relay: StartRelay) -> None:
    """A SEND body above max_body is refused with SIZE; the connection stays usable."""
    relay = await start_relay(max_body=1000)
    async with await RelayClient.connect(ws_url(relay)) as c:
        _, _, sid = await new_queue(c)
        with pytest.raises(CommandFailed) as err:
            await c.send(sid, b"x" * 1001)
        assert err.value.code == ErrorCode.SIZE
        await c.send(sid, b"x" * 1000)


async def test_oversized_frame_closes_connection_cleanly(relay: RelayServer) -> None:
    """A frame above max_frame closes that connection (1009); the relay keeps serving."""
    raw = await RawConn.open(relay)
    try:
        await raw.send(b"\x00" * (relay.config.max_frame + 1))
        assert await raw.items() == []
        assert raw.ws.close_code == 1009
    finally:
        await raw.close()
    async with await RelayClient.connect(ws_url(relay)) as c:
        await c.ping()


async def test_rate_limit(start_relay: StartRelay) -> None:
    """Commands beyond the per-connection burst are answered RATE, not executed."""
    relay = await start_relay(rate=0.001, burst=3)
    async with await RelayClient.connect(ws_url(relay)) as c:
        futs = [c.submit(Ping(c.next_corr())) for _ in range(5)]
        results = await asyncio.gather(*futs, return_exceptions=True)
        assert [isinstance(r, Pong) for r in results] == [True, True, True, False, False]
        assert all(r.code == ErrorCode.RATE for r in results[3:])  # type: ignore[union-attr]


async def test_syntax_and_version_errors(relay: RelayServer) -> None:
    """Unknown op and wrong types get SYNTAX with their corr; a wrong version gets VERSION."""
    raw = await RawConn.open(relay)
    try:
        frame = {"v": 1, "b": [{"op": "NOPE", "corr": 7}, {"op": "SEND", "corr": 8, "sid": 5}]}
        await raw.send(msgpack.packb(frame))
        items = await raw.items()
        assert items == [Err(7, "SYNTAX"), Err(8, "SYNTAX")]
        await raw.send(msgpack.packb({"v": 99, "b": [{"op": "PING", "corr": 1}]}))
        assert await raw.items() == [Err(None, "VERSION")]
        await raw.send(encode_client_frame([Ping(3)]))
        assert await raw.items() == [Pong(3)]
    finally:
        await raw.close()


async def test_batched_commands_answered_in_one_frame(relay: RelayServer) -> None:
    """Several commands in one frame get their replies together, in order, by corr."""
    raw = await RawConn.open(relay)
    try:
        sid = os.urandom(ID_LEN)
        await raw.send(encode_client_frame([Ping(1), Send(2, sid, b"x"), Ping(3)]))
        assert await raw.items() == [Pong(1), Err(2, "NO_QUEUE"), Pong(3)]
    finally:
        await raw.close()


async def test_internal_error_when_store_fails(relay: RelayServer, connect: Connect) -> None:
    """A store failure answers INTERNAL to that command; the connection and relay go on."""
    c = await connect()
    _, _, sid = await new_queue(c)
    original = relay.store.submit_messages

    def broken(ops: Sequence[MessageOp], done: Callable[[list[MessageResult]], None]) -> None:
        from relay.exceptions import StoreError

        results: list[MessageResult] = [StoreError("disk on fire") for _ in ops]
        asyncio.get_running_loop().call_soon(done, results)

    relay.store.submit_messages = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(CommandFailed) as err:
            await c.send(sid, b"x")
        assert err.value.code == ErrorCode.INTERNAL
    finally:
        relay.store.submit_messages = original  # type: ignore[method-assign]
    await c.send(sid, b"y")


async def test_crashing_handler_closes_only_its_connection(
    relay: RelayServer,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A handler bug closes that connection with a generic ERROR log; others keep working."""
    bystander = await connect()
    victim = await connect()

    async def boom(conn: object, data: bytes) -> None:
        raise RuntimeError("bug")

    with caplog.at_level(logging.INFO, logger="relay"):
        monkeypatch.setattr(relay, "_on_frame", boom)
        with pytest.raises(ConnectionClosed):
            await victim.ping()
        monkeypatch.undo()
        await bystander.ping()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert all(r.exc_info is None for r in errors)
    assert "bug" not in caplog.text


async def test_delete_ends_other_subscriber(connect: Connect) -> None:
    """DEL on one connection sends END to the queue's subscriber on another."""
    a, b = await connect(), await connect()
    rkey, rid, _ = await new_queue(a)
    await a.subscribe(rid, rkey)
    await b.request(sign_command(Del(b.next_corr(), rid), b.challenge, rkey))
    end = await a.next_push(timeout=10)
    assert isinstance(end, End)
    assert end.rid == rid


async def test_healthz_and_metrics(relay: RelayServer, connect: Connect) -> None:
    """/healthz answers ok; /metrics is Prometheus text with counts and no per-client labels."""
    c = await connect()
    _rkey, rid, sid = await new_queue(c)
    await c.send(sid, b"x")
    base = f"http://127.0.0.1:{relay.port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200
            assert (await r.text()).strip() == "ok"
        async with http.get(f"{base}/metrics") as r:
            text = await r.text()
    assert r.content_type == "text/plain"
    assert "securechat_relay_connections 1" in text
    assert "securechat_relay_queues 1" in text
    assert "securechat_relay_messages_stored 1" in text
    assert "securechat_relay_messages_in_total 1" in text
    assert "# TYPE securechat_relay_messages_out_total counter" in text
    assert "127.0.0.1" not in text
    assert rid.hex() not in text


async def test_logs_carry_no_addresses_or_ids(
    start_relay: StartRelay, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, a full session logs open/close lines without IPs, ids or payloads."""
    with caplog.at_level(logging.DEBUG):
        relay = await start_relay()
        async with await RelayClient.connect(ws_url(relay)) as c:
            rkey, rid, sid = await new_queue(c)
            await c.send(sid, b"PAYLOAD-MARKER")
            await c.subscribe(rid, rkey)
            m = await next_msg(c)
            await c.ack(rid, m.mid, rkey)
        await wait_until(lambda: "connection closed" in caplog.text)
    text = caplog.text
    assert "connection opened" in text
    for secret in (rid.hex(), sid.hex(), repr(rid), repr(sid), "PAYLOAD-MARKER", "127.0.0.1"):
        assert secret not in text


async def test_graceful_close_is_idempotent(start_relay: StartRelay) -> None:
    """close() stops the relay, closes clients, and can be called twice."""
    relay = await start_relay()
    c = await RelayClient.connect(ws_url(relay))
    _, _, sid = await new_queue(c)
    await c.send(sid, b"kept")
    await asyncio.gather(relay.close(), relay.close())
    await relay.close()
    await wait_until(lambda: c.closed)
    with pytest.raises(ConnectionClosed):
        await c.ping()
    await c.close()


async def test_idle_connection_closed_subscriber_kept(start_relay: StartRelay) -> None:
    """Without a subscription, a silent connection is closed after idle_timeout; a subscriber is not."""
    relay = await start_relay(idle_timeout=0.4)
    idle = await RelayClient.connect(ws_url(relay))
    listener = await RelayClient.connect(ws_url(relay))
    try:
        rkey, rid, _ = await new_queue(listener)
        await listener.subscribe(rid, rkey)
        await wait_until(lambda: idle.closed)
        await asyncio.sleep(0.5)  # well past the timeout: the subscriber must still be open
        await listener.ping()
    finally:
        await idle.close()
        await listener.close()


async def test_long_queue_delivered_in_pages_in_order(start_relay: StartRelay) -> None:
    """A queue longer than one in-memory page is delivered completely and in order."""
    relay = await start_relay(window=2, queue_quota=500)
    async with await RelayClient.connect(ws_url(relay)) as c:
        rkey, rid, sid = await new_queue(c)
        sent = [b"%03d" % i for i in range(150)]  # the page is 64 messages
        await asyncio.gather(*(c.send(sid, b) for b in sent[:100]))
        await c.subscribe(rid, rkey)
        got = []
        for i in range(150):
            if i == 50:  # more arrive while older ones are still only in the store
                await asyncio.gather(*(c.send(sid, b) for b in sent[100:]))
            m = await next_msg(c)
            got.append(m.body)
            await c.ack(rid, m.mid, rkey)
        assert got == sent


async def test_tls_serves_wss_only(start_relay: StartRelay, tmp_path: Path) -> None:
    """With tls_cert/tls_key the relay speaks wss:// (a full round trip); plain ws:// fails."""
    cert, key = self_signed(tmp_path)
    relay = await start_relay(tls_cert=cert, tls_key=key)
    trusted = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as http:
        url = f"wss://127.0.0.1:{relay.port}/ws"
        async with await RelayClient.connect(url, session=http) as c:
            rkey, rid, sid = await new_queue(c)
            await c.send(sid, b"over tls")
            await c.subscribe(rid, rkey)
            assert (await next_msg(c)).body == b"over tls"
    with pytest.raises(ClientError):
        await RelayClient.connect(ws_url(relay), timeout=5)


async def test_heartbeat_closes_a_peer_that_stops_answering(start_relay: StartRelay) -> None:
    """A peer that never answers the relay's WebSocket pings is closed; one that does stays."""
    relay = await start_relay(heartbeat=0.2)
    async with aiohttp.ClientSession() as http:
        silent = await http.ws_connect(ws_url(relay), autoping=False)
        alive = await RelayClient.connect(ws_url(relay), heartbeat=None)
        try:
            async with asyncio.timeout(10):
                while True:
                    msg = await silent.receive()
                    if msg.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}:
                        break  # the relay gave up on it
            await wait_until(lambda: relay.counters["opened"] == 2 and len(relay._conns) == 1)
            await asyncio.sleep(0.5)  # several heartbeats later the answering peer is still served
            await alive.ping()
        finally:
            await silent.close()
            await alive.close()


async def test_sends_during_the_first_page_load_do_not_overtake_older_ones(
    start_relay: StartRelay,
) -> None:
    """SENDs committed while a new subscription's first page is being loaded go out after the
    older messages that page did not reach.

    This is the relay restart: the queue holds more than a page (64) when the recipient
    subscribes, and the sender flushes its outbox at the same moment. The page load is held
    until the new SENDs are committed, which makes the race deterministic.
    """
    relay = await start_relay(window=4, queue_quota=500)
    sent = [b"%03d" % i for i in range(100)]
    async with (
        await RelayClient.connect(ws_url(relay)) as rx,
        await RelayClient.connect(ws_url(relay)) as tx,
    ):
        rkey, rid, sid = await new_queue(rx)
        await asyncio.gather(*(tx.send(sid, b) for b in sent[:80]))
        original = relay.store.pending
        release = asyncio.Event()
        held: list[asyncio.Future[Any]] = []

        def pending(rid_: bytes, limit: int, after: int = 0) -> asyncio.Future[Any]:
            read = original(rid_, limit, after)  # the store reads the page now

            async def later() -> Any:
                page = await read
                await release.wait()
                return page

            held.append(asyncio.ensure_future(later()))
            return held[-1]

        relay.store.pending = pending  # type: ignore[method-assign]
        try:
            subscribed = asyncio.ensure_future(rx.subscribe(rid, rkey))
            await wait_until(lambda: bool(held))
            await asyncio.gather(*(tx.send(sid, b) for b in sent[80:]))  # OK: committed
        finally:
            relay.store.pending = original  # type: ignore[method-assign]
            release.set()
        await subscribed
        assert await receive_and_ack(rx, rid, rkey, len(sent)) == sent


def test_metrics_keep_every_digit_of_a_big_counter() -> None:
    """Counters past a million print in full (`:g` printed 12345678 as 1.23457e+07, so
    Prometheus saw them stall), and floats keep their precision."""
    from collections import Counter

    from relay.metrics import render_metrics

    text = render_metrics(Counter(commands=12_345_678, opened=1_000_001), Counter(), 3, 0, None, 0)
    assert "securechat_relay_commands_total 12345678\n" in text
    assert "securechat_relay_connections_opened_total 1000001\n" in text
    assert "securechat_relay_connections 3\n" in text


async def test_one_time_prekeys_go_out_at_a_limited_rate(start_relay: StartRelay) -> None:
    """Past a publication's prekey burst, FETCH still answers, without a one-time prekey: the
    stock is not used up by whoever fetches again and again."""
    server = await start_relay(prekey_burst=3, prekeys_per_hour=0.001)
    counselor = await RelayClient.connect(ws_url(server))
    stranger = await RelayClient.connect(ws_url(server))
    try:
        key = SigningKey.generate()
        stock = [b"p%d" % i for i in range(6)]
        pid = await counselor.publish(key, b"profile", prekeys=stock)
        got = [await stranger.fetch(pid) for _ in range(5)]
        assert [g.prekey for g in got] == [b"p0", b"p1", b"p2", None, None]
        assert {g.blob for g in got} == {b"profile"}
        assert (await server.store.stats()).prekeys == 3
        assert server.counters["prekeys_withheld"] == 2
        await counselor.unpublish(pid, key)
        with pytest.raises(NoPublication):  # past the rate, a missing one is still missing
            await stranger.fetch(pid)
    finally:
        await counselor.close()
        await stranger.close()
