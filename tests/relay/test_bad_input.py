"""Bad input: junk, wrong types, huge and text frames, out-of-order commands, never harm the relay.

One relay serves all examples of a property (hence the suppressed function-scoped-fixture
health check); before and after, a canary queue proves the store is intact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.protocol import (
    ID_LEN,
    Ack,
    Del,
    Dir,
    DirList,
    End,
    Err,
    Fetch,
    Ids,
    Key,
    Msg,
    New,
    Ok,
    Pid,
    Ping,
    Pong,
    Pub,
    Pubd,
    Send,
    Sub,
    Unpub,
    encode_client_frame,
    sign_command,
)
from relay.server import RelayServer
from tests.relay.conftest import RawConn, ws_url

SHARED_RELAY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SERVER_ITEMS = (Ok, Ids, Pid, Pubd, DirList, Pong, Err, Msg, End)
OPS = ["NEW", "KEY", "SEND", "SUB", "ACK", "DEL", "PUB", "UNPUB", "FETCH", "DIR", "PING", "X"]


@dataclass
class Canary:
    rid: bytes
    key: SigningKey
    bodies: list[bytes]


@pytest.fixture
async def canary(relay: RelayServer) -> Canary:
    """A queue holding three messages that must survive everything."""
    key = SigningKey.generate()
    bodies = [b"canary-%d" % i for i in range(3)]
    async with await RelayClient.connect(ws_url(relay)) as c:
        rid, sid = await c.create_queue(key)
        for b in bodies:
            await c.send(sid, b)
    return Canary(rid, key, bodies)


async def assert_intact(relay: RelayServer, canary: Canary) -> None:
    """PING works on a new connection and the canary's messages are all still delivered."""
    async with await RelayClient.connect(ws_url(relay)) as c:
        await c.ping()
        await c.subscribe(canary.rid, canary.key)
        got = []
        for _ in canary.bodies:
            item = await c.next_push(timeout=10)
            assert isinstance(item, Msg)
            got.append(item.body)
        assert got == canary.bodies  # not acknowledged: they stay for the next check


async def exchange(raw: RawConn, frame: bytes) -> list[Any] | None:
    """Send one frame; return the reply items, or None if the relay closed the connection."""
    if raw.ws.closed:
        return None
    try:
        await raw.send(frame)
    except ConnectionError:
        return None
    items = await raw.items()
    if not items:
        assert raw.ws.closed
        return None
    assert all(isinstance(i, SERVER_ITEMS) for i in items)
    return items


# ---- strategies -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=80),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    values, st.binary(min_size=ID_LEN, max_size=ID_LEN), st.binary(min_size=32, max_size=32)
)
commands = st.fixed_dictionaries(
    {"op": st.sampled_from(OPS), "corr": st.one_of(st.integers(0, 2**32), values)},
    optional={
        k: field_values
        for k in ["key", "rid", "sid", "mid", "pid", "sig", "body", "blob", "summary", "after"]
    }
    | {"prekeys": st.lists(st.binary(max_size=40), max_size=5), "limit": values, "zz": values},
)


def packed(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


frames = st.one_of(
    st.binary(max_size=512),  # random bytes
    values.map(packed),  # msgpack, wrong shape
    st.lists(commands, min_size=1, max_size=6).map(lambda b: packed({"v": 1, "b": b})),
    st.builds(
        lambda v, b: packed({"v": v, "b": b}), values, st.lists(commands, max_size=3) | values
    ),
)


# ---- properties -------------------------------------------------------------------------------


@SHARED_RELAY
@given(batch=st.lists(frames, min_size=1, max_size=5))
async def test_junk_frames_get_errors_or_clean_close(
    relay: RelayServer, canary: Canary, batch: list[bytes]
) -> None:
    """Random bytes, wrong shapes and wrong types get ERR items or a clean close, never a crash."""
    raw = await RawConn.open(relay)
    try:
        for frame in batch:
            if await exchange(raw, frame) is None:
                break
    finally:
        await raw.close()
    await assert_intact(relay, canary)


async def test_store_intact_after_junk(relay: RelayServer, canary: Canary) -> None:
    """After a burst of hand-picked bad frames the canary's messages are all delivered."""
    raw = await RawConn.open(relay)
    try:
        bad = [
            b"",
            b"\xc1",  # never-used msgpack byte
            packed([1, 2, 3]),
            packed({"v": "1", "b": []}),
            packed({"v": 1, "b": []}),
            packed({"v": 1, "b": [{"op": "SEND", "corr": 1, "sid": "text", "body": 5}]}),
            packed({"v": 1, "b": [{"op": "ACK", "corr": -1}]}),
            packed({"v": 1, "b": [{"op": "PUB", "corr": 2, "prekeys": "nope"}]}),
            packed({"v": 1, "b": [{"op": "PING", "corr": 3}] * 1000}),
            msgpack.packb({"v": 1, "b": [msgpack.ExtType(1, b"x")]}),
        ]
        for frame in bad:
            await exchange(raw, frame)
    finally:
        await raw.close()
    await assert_intact(relay, canary)


@pytest.mark.parametrize("size", [1, 64 * 1024, 255 * 1024])
async def test_huge_frames(relay: RelayServer, canary: Canary, size: int) -> None:
    """Frames near and above max_frame get SIZE/SYNTAX errors or a 1009 close; store intact."""
    raw = await RawConn.open(relay)
    try:
        over = b"\x92" + b"\xc4\xff" * (relay.config.max_frame // 2 + size)
        assert await exchange(raw, over) is None
        assert raw.ws.close_code == 1009
    finally:
        await raw.close()
    raw = await RawConn.open(relay)
    try:
        body = os.urandom(min(size, relay.config.max_frame - 2048))
        frame = encode_client_frame([Send(1, os.urandom(ID_LEN), body)])
        items = await exchange(raw, frame)
        assert items is not None
        assert items[0].code in {"SIZE", "NO_QUEUE"}
    finally:
        await raw.close()
    await assert_intact(relay, canary)


async def test_text_frame_gets_error_and_close(relay: RelayServer, canary: Canary) -> None:
    """A text frame is answered ERR SYNTAX and the connection is closed with 1003."""
    raw = await RawConn.open(relay)
    try:
        await raw.ws.send_str('{"v": 1, "b": [{"op": "PING", "corr": 1}]}')
        assert await raw.items() == [Err(None, "SYNTAX")]
        assert await raw.items() == []
        assert raw.ws.close_code == 1003
    finally:
        await raw.close()
    await assert_intact(relay, canary)


async def test_persistent_junk_closes_connection(relay: RelayServer, canary: Canary) -> None:
    """A connection that keeps sending unusable frames is closed; the relay carries on."""
    raw = await RawConn.open(relay)
    try:
        for _ in range(100):
            if await exchange(raw, b"junk") is None:
                break
        assert raw.ws.closed
    finally:
        await raw.close()
    await assert_intact(relay, canary)


@dataclass
class World:
    """Real ids and keys that out-of-order commands pick from (alongside random ones)."""

    rid: bytes
    sid: bytes
    rkey: SigningKey
    pid: bytes
    pkey: SigningKey


def out_of_order(world: World) -> st.SearchStrategy[list[Any]]:
    ids = st.sampled_from([world.rid, world.sid, world.pid]) | st.binary(
        min_size=ID_LEN, max_size=ID_LEN
    )
    keys = st.sampled_from([world.rkey, world.pkey]) | st.builds(SigningKey.generate)
    corr = st.integers(1, 2**31)
    body = st.binary(max_size=64)
    cmd = st.one_of(
        st.builds(lambda c, k: (New(c, bytes(k.verify_key)), k), corr, keys),
        st.builds(lambda c, i, k, s: (Key(c, i, bytes(s.verify_key)), k), corr, ids, keys, keys),
        st.builds(lambda c, i, b, k: (Send(c, i, b), k), corr, ids, body, keys | st.none()),
        st.builds(lambda c, i, k: (Sub(c, i), k), corr, ids, keys),
        st.builds(lambda c, i, m, k: (Ack(c, i, m), k), corr, ids, ids, keys),
        st.builds(lambda c, i, k: (Del(c, i), k), corr, ids, keys | st.none()),
        st.builds(
            lambda c, k, i: (Pub(c, bytes(k.verify_key), b"b", None, (), i), k),
            corr,
            keys,
            ids | st.none(),
        ),
        st.builds(lambda c, i, k: (Unpub(c, i), k), corr, ids, keys | st.none()),
        st.builds(lambda c, i: (Fetch(c, i), None), corr, ids),
        st.builds(lambda c, i: (Dir(c, i, 5), None), corr, ids | st.none()),
        st.builds(lambda c: (Ping(c), None), corr),
    )
    return st.lists(cmd, min_size=1, max_size=8)


@SHARED_RELAY
@given(data=st.data())
async def test_out_of_order_commands_get_errors(
    relay: RelayServer, canary: Canary, data: st.DataObject
) -> None:
    """Commands in any order (SEND before NEW, ACK of unknown ids, DEL twice...) get a reply each."""
    async with await RelayClient.connect(ws_url(relay)) as owner:
        rkey, pkey = SigningKey.generate(), SigningKey.generate()
        rid, sid = await owner.create_queue(rkey)
        pid = await owner.publish(pkey, b"blob")
    world = World(rid, sid, rkey, pid, pkey)
    sequence = data.draw(out_of_order(world))
    raw = await RawConn.open(relay)
    try:
        for cmd, key in sequence:
            if key is not None and data.draw(st.booleans()):
                cmd = sign_command(cmd, raw.hello.challenge, key)
            await raw.send(encode_client_frame([cmd]))
            replies: list[Any] = []
            while not replies:  # pushes (MSG, END) may come first in their own frames
                items = await raw.items()
                assert items, "the relay closed a connection over a well-formed command"
                replies = [i for i in items if not isinstance(i, Msg | End)]
            assert len(replies) == 1
            assert replies[0].corr == cmd.corr
    finally:
        await raw.close()
    await assert_intact(relay, canary)
