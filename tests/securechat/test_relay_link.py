"""`securechat.relay_link.RelayLink` against a real relay process on a free loopback port."""

from __future__ import annotations

import asyncio
import logging
import random
import resource
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from relay.client import RelayClient
from securechat.api import ConnectionState
from securechat.errors import RelayUnavailable
from securechat.relay_link import (
    Incoming,
    OutgoingItem,
    RelayLink,
    Subscription,
)
from tests.relay_process import RelayProcess

WAIT = 30.0  # generous: two shared cores


class MemoryInbox:
    """Records every delivered batch; can fail or block on demand."""

    def __init__(self) -> None:
        self.batches: list[list[Incoming]] = []
        self.fail_next = 0
        self.gate: asyncio.Event | None = None  # when set to an Event, deliver waits on it
        self.block_after: int | None = None
        self.blocked = asyncio.Event()
        self.changed = asyncio.Event()

    @property
    def delivered(self) -> list[Incoming]:
        return [m for b in self.batches for m in b]

    async def deliver(self, batch: Sequence[Incoming]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk full (simulated)")
        if self.block_after is not None and len(self.delivered) >= self.block_after:
            self.block_after = None
            self.gate = asyncio.Event()
            self.blocked.set()
        self.batches.append(list(batch))
        self.changed.set()
        if self.gate is not None:
            await self.gate.wait()
            self.gate = None

    async def wait_for(self, cond: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not cond():
                self.changed.clear()
                await self.changed.wait()


class MemoryOutbox:
    """An in-memory durable outbox: items leave it only through `sent` or `refused`."""

    def __init__(self) -> None:
        self.items: dict[int, OutgoingItem] = {}
        self.sent_ids: list[int] = []
        self.refusals: list[tuple[int, str]] = []
        self.changed = asyncio.Event()
        self._next = 1

    def put(self, sid: bytes, body: bytes, key: SigningKey | None = None) -> int:
        item_id = self._next
        self._next += 1
        self.items[item_id] = OutgoingItem(item_id, sid, body, key)
        return item_id

    async def pending(self, limit: int) -> Sequence[OutgoingItem]:
        return [self.items[i] for i in sorted(self.items)[:limit]]

    async def sent(self, item_ids: Sequence[int]) -> None:
        for i in item_ids:
            del self.items[i]
        self.sent_ids.extend(item_ids)
        self.changed.set()

    async def refused(self, item_id: int, code: str) -> None:
        del self.items[item_id]
        self.refusals.append((item_id, code))
        self.changed.set()

    async def wait_for(self, cond: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not cond():
                self.changed.clear()
                await self.changed.wait()

    async def wait_empty(self, timeout: float = WAIT) -> None:
        await self.wait_for(lambda: not self.items, timeout)


class RecordingRandom(random.Random):
    """Records every (low, high, chosen) the link asks `uniform` for."""

    def __init__(self) -> None:
        super().__init__(1234)
        self.calls: list[tuple[float, float, float]] = []
        self.changed = asyncio.Event()

    def uniform(self, a: float, b: float) -> float:
        x = super().uniform(a, b)
        self.calls.append((a, b, x))
        self.changed.set()
        return x


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RelayProcess]:
    proc = await RelayProcess(tmp_path / "data").start()
    yield proc
    await proc.stop()


LinkFactory = Callable[..., Awaitable[RelayLink]]


@pytest.fixture
async def make_link() -> AsyncIterator[LinkFactory]:
    links: list[RelayLink] = []

    async def make(url: str, inbox: MemoryInbox, outbox: MemoryOutbox, **kw: object) -> RelayLink:
        kw.setdefault("backoff_min", 0.05)
        kw.setdefault("backoff_max", 0.5)
        link = RelayLink(url, inbox, outbox, **kw)  # type: ignore[arg-type]
        links.append(link)
        await link.start()
        return link

    yield make
    for link in links:
        await link.stop()


async def new_queue(url: str) -> tuple[bytes, bytes, SigningKey]:
    key = SigningKey.generate()
    async with await RelayClient.connect(url) as c:
        rid, sid = await c.create_queue(key)
    return rid, sid, key


async def assert_all_acked(url: str, rid: bytes, sid: bytes, rkey: SigningKey) -> None:
    """The queue holds nothing un-acked: a marker sent now is the first thing pushed."""
    async with await RelayClient.connect(url) as c:
        await c.subscribe(rid, rkey)
        await c.send(sid, b"marker")
        push = await c.next_push(timeout=WAIT)
        assert getattr(push, "body", None) == b"marker"


async def link_delivering(
    relay: RelayProcess, make_link: LinkFactory, body: bytes
) -> tuple[RelayLink, MemoryInbox, tuple[bytes, bytes, SigningKey]]:
    """A link subscribed to a new queue holding `body`, blocked inside delivering it (the
    inbox's `gate` lets it go on)."""
    rid, sid, rkey = await new_queue(relay.url)
    async with await RelayClient.connect(relay.url) as c:
        await c.send(sid, body)
    inbox = MemoryInbox()
    inbox.block_after = 0
    link = await make_link(relay.url, inbox, MemoryOutbox())
    link.subscribe(Subscription(rid, rkey))
    async with asyncio.timeout(WAIT):
        await inbox.blocked.wait()
    return link, inbox, (rid, sid, rkey)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_messages_arrive_once_in_order_and_ack_after_deliver(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """Sent items arrive exactly once and in order; a failing deliver gets the batch again."""
    rid, sid, rkey = await new_queue(relay.url)
    inbox, outbox = MemoryInbox(), MemoryOutbox()
    inbox.fail_next = 1
    receiver = await make_link(relay.url, inbox, MemoryOutbox())
    receiver.subscribe(Subscription(rid, rkey))
    sender = await make_link(relay.url, MemoryInbox(), outbox)
    bodies = [f"m{i:03}".encode() for i in range(60)]
    for b in bodies:
        outbox.put(sid, b)
    sender.kick()
    await outbox.wait_empty()
    assert outbox.sent_ids == sorted(outbox.sent_ids)
    assert len(outbox.sent_ids) == len(bodies)
    await inbox.wait_for(lambda: len(inbox.delivered) >= len(bodies))
    await receiver.wait_idle(WAIT)
    assert [m.body for m in inbox.delivered] == bodies  # the failed batch was never recorded
    assert len({m.mid for m in inbox.delivered}) == len(bodies)
    # Everything was acked: a fresh subscriber gets nothing.
    await receiver.stop()
    await assert_all_acked(relay.url, rid, sid, rkey)


async def test_outbox_written_while_relay_down_is_sent_in_order(
    tmp_path: Path, make_link: LinkFactory
) -> None:
    """Items queued while the relay is down go out in order once it starts; OFFLINE→ONLINE."""
    proc = RelayProcess(tmp_path / "data")
    await proc.start()
    rid, sid, rkey = await new_queue(proc.url)
    await proc.terminate()
    states: list[ConnectionState] = []
    outbox = MemoryOutbox()
    bodies = [f"offline {i}".encode() for i in range(20)]
    for b in bodies:
        outbox.put(sid, b)
    link = await make_link(proc.url, MemoryInbox(), outbox, on_state=states.append)
    with pytest.raises(RelayUnavailable):
        await link.wait_online(0.3)
    assert link.state is not ConnectionState.ONLINE
    assert outbox.sent_ids == []
    try:
        await proc.start(same_port=True)
        await link.wait_online(WAIT)
        await outbox.wait_empty()
        assert outbox.sent_ids == list(range(1, 21))
        assert states[0] is ConnectionState.CONNECTING
        assert ConnectionState.OFFLINE in states
        assert states[-1] is ConnectionState.ONLINE
        assert states[-2] is ConnectionState.CONNECTING
        inbox = MemoryInbox()
        receiver = await make_link(proc.url, inbox, MemoryOutbox())
        receiver.subscribe(Subscription(rid, rkey))
        await inbox.wait_for(lambda: len(inbox.delivered) >= len(bodies))
        assert [m.body for m in inbox.delivered] == bodies
    finally:
        await proc.stop()


async def test_sigkill_mid_stream_reconnects_and_loses_nothing(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """After a SIGKILL and restart the link resubscribes; after de-dup by mid nothing is lost."""
    rid, sid, rkey = await new_queue(relay.url)
    bodies = [f"k{i:03}".encode() for i in range(150)]
    async with await RelayClient.connect(relay.url) as c:
        for b in bodies:
            await c.send(sid, b)
    inbox = MemoryInbox()
    inbox.block_after = 40
    states: list[ConnectionState] = []
    link = await make_link(relay.url, inbox, MemoryOutbox(), on_state=states.append)
    link.subscribe(Subscription(rid, rkey))
    async with asyncio.timeout(WAIT):
        await inbox.blocked.wait()
    before_kill = {m.mid for m in inbox.delivered}
    unacked = {m.mid for m in inbox.batches[-1]}  # being delivered: not acked yet
    await relay.kill()
    assert inbox.gate is not None
    inbox.gate.set()  # deliver returns; its acks meet a dead connection
    await relay.start(same_port=True)
    await inbox.wait_for(lambda: len({m.mid for m in inbox.delivered}) >= len(bodies))
    await link.wait_idle(WAIT)

    first_seen: dict[bytes, bytes] = {}
    duplicates: list[bytes] = []
    for m in inbox.delivered:
        if m.mid in first_seen:
            duplicates.append(m.mid)
        else:
            first_seen[m.mid] = m.body
    assert list(first_seen.values()) == bodies  # all there, in relay order
    assert set(duplicates) <= before_kill  # only messages delivered before the kill come again
    assert set(duplicates) >= unacked  # the batch whose acks were lost came again
    assert states.count(ConnectionState.ONLINE) >= 2


async def test_acks_the_relay_could_not_store_are_done_again_later(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """When the relay refuses ACKs for now (its disk takes no writes: INTERNAL), the link does
    not leave those messages in the relay's delivery window, where they would hold back every
    later message of the queue: it reconnects, gets them again and acknowledges them once the
    relay can write. (The disk is "filled" with the kernel's file-size limit on the relay
    process, as in tests/relay/test_durability.py.)"""
    rid, sid, rkey = await new_queue(relay.url)
    bodies = [b"m%02d" % i for i in range(20)]  # more than the relay's window of 8
    async with await RelayClient.connect(relay.url) as c:
        for body in bodies:
            await c.send(sid, body)
    pid = relay.proc.pid
    _soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (4096, hard))  # no commit fits any more
    inbox = MemoryInbox()
    link = await make_link(relay.url, inbox, MemoryOutbox())
    link.subscribe(Subscription(rid, rkey))
    await inbox.wait_for(lambda: len(inbox.delivered) >= 8)  # a window's worth, not acked
    await asyncio.sleep(1.0)  # a few rounds of refused ACKs
    assert {m.body for m in inbox.delivered} < set(bodies)  # the rest is held back meanwhile
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
    await inbox.wait_for(lambda: {m.body for m in inbox.delivered} == set(bodies))
    await link.stop()
    await assert_all_acked(relay.url, rid, sid, rkey)


async def test_backoff_grows_exponentially_with_jitter_and_is_capped(
    make_link: LinkFactory,
) -> None:
    """With the relay down, the delays the link draws double up to the cap, jittered."""
    rng = RecordingRandom()
    url = f"ws://127.0.0.1:{free_port()}/ws"
    link = await make_link(
        url, MemoryInbox(), MemoryOutbox(), backoff_min=0.001, backoff_max=0.016, rng=rng
    )
    async with asyncio.timeout(WAIT):
        while len(rng.calls) < 8:
            rng.changed.clear()
            await rng.changed.wait()
    await link.stop()
    highs = [b for _, b, _ in rng.calls[:8]]
    assert highs == pytest.approx([0.001, 0.002, 0.004, 0.008, 0.016, 0.016, 0.016, 0.016])
    assert all(a == 0.001 and a <= x <= b for a, b, x in rng.calls)
    assert len({x for _, _, x in rng.calls[1:]}) == len(rng.calls) - 1  # jittered, not fixed
    assert link.state is ConnectionState.OFFLINE


def test_backoff_delay_formula() -> None:
    """`backoff_delay` draws from [min, min(max, min * 2**n)] and never exceeds the cap."""
    link = RelayLink(
        "ws://127.0.0.1:9/ws",
        MemoryInbox(),
        MemoryOutbox(),
        backoff_min=0.2,
        backoff_max=30.0,
        rng=random.Random(7),
    )
    for n in range(200):
        d = link.backoff_delay(n)
        assert 0.2 <= d <= min(30.0, 0.2 * 2**n)


async def test_refused_send_is_reported_and_does_not_block(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """A send to a deleted queue is reported as refused (NO_QUEUE); later items still go."""
    dead_rid, dead_sid, dead_key = await new_queue(relay.url)
    rid, sid, rkey = await new_queue(relay.url)
    async with await RelayClient.connect(relay.url) as c:
        await c.delete_queue(dead_rid, dead_key)
    outbox = MemoryOutbox()
    first = outbox.put(sid, b"before")
    dead = outbox.put(dead_sid, b"lost cause")
    last = outbox.put(sid, b"after")
    inbox = MemoryInbox()
    link = await make_link(relay.url, inbox, outbox)
    link.subscribe(Subscription(rid, rkey))
    await outbox.wait_empty()
    assert outbox.refusals == [(dead, "NO_QUEUE")]
    assert outbox.sent_ids == [first, last]
    await inbox.wait_for(lambda: len(inbox.delivered) >= 2)
    assert [m.body for m in inbox.delivered] == [b"before", b"after"]


async def test_quota_stops_the_flush_and_retries_in_order(
    tmp_path: Path, make_link: LinkFactory
) -> None:
    """QUOTA holds back the rest of that queue's items (not others'); they go later, in order."""
    proc = await RelayProcess(tmp_path / "data", env={"SECURECHAT_RELAY_QUEUE_QUOTA": "3"}).start()
    try:
        rid, sid, rkey = await new_queue(proc.url)
        _other_rid, other_sid, _ = await new_queue(proc.url)
        outbox = MemoryOutbox()
        ids = [outbox.put(sid, f"q{i}".encode()) for i in range(6)]
        other = outbox.put(other_sid, b"elsewhere")
        await make_link(proc.url, MemoryInbox(), outbox)
        await outbox.wait_for(lambda: len(outbox.sent_ids) == 4)
        assert outbox.sent_ids == [*ids[:3], other]  # the full queue did not block the other
        assert sorted(outbox.items) == ids[3:]  # held back, not refused
        inbox = MemoryInbox()
        receiver = await make_link(proc.url, inbox, MemoryOutbox())
        receiver.subscribe(Subscription(rid, rkey))
        await outbox.wait_empty()
        await inbox.wait_for(lambda: len(inbox.delivered) >= 6)
        assert outbox.sent_ids == [*ids[:3], other, *ids[3:]]
        assert outbox.refusals == []
        assert [m.body for m in inbox.delivered] == [f"q{i}".encode() for i in range(6)]
    finally:
        await proc.stop()


async def test_stop_is_idempotent_and_leaves_no_tasks(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """`stop()` twice is fine, ends OFFLINE, and leaves no task of the link running."""
    before = asyncio.all_tasks()
    rid, _sid, rkey = await new_queue(relay.url)
    link = await make_link(relay.url, MemoryInbox(), MemoryOutbox())
    link.subscribe(Subscription(rid, rkey))
    await link.wait_online(WAIT)
    await link.stop()
    await link.stop()
    assert link.state is ConnectionState.OFFLINE
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], leftover
    with pytest.raises(RelayUnavailable):
        await link.wait_idle(1.0)


async def test_stop_waits_for_an_inflight_deliver_and_its_acks(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """`stop()` during a deliver lets it finish and acks the batch before closing."""
    link, inbox, (rid, sid, rkey) = await link_delivering(relay, make_link, b"in flight")
    stopping = asyncio.create_task(link.stop())
    await asyncio.wait({stopping}, timeout=0.3)
    assert not stopping.done()  # still waiting for the deliver (it can never end before it)
    assert inbox.gate is not None
    inbox.gate.set()
    async with asyncio.timeout(WAIT):
        await stopping
    assert [m.body for m in inbox.delivered] == [b"in flight"]
    await assert_all_acked(relay.url, rid, sid, rkey)  # acked before the link closed


async def test_subscribing_again_does_not_push_a_message_twice(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """The service subscribes every queue at each sync. A queue already subscribed on the
    live connection is not subscribed again, so a message being delivered is not pushed a
    second time (a second SUB makes the relay push its un-acknowledged messages again)."""
    link, inbox, (rid, _sid, rkey) = await link_delivering(relay, make_link, b"once")
    link.subscribe(Subscription(rid, SigningKey(bytes(rkey))))  # what a sync does
    await asyncio.sleep(0.5)  # room for a second SUB and its push to arrive
    assert inbox.gate is not None
    inbox.gate.set()
    await link.wait_idle(WAIT)
    await asyncio.sleep(0.5)
    assert [m.body for m in inbox.delivered] == [b"once"]


async def test_call_runs_one_off_commands_and_fails_cleanly_when_down(
    relay: RelayProcess, make_link: LinkFactory
) -> None:
    """`call` runs a command on the live connection; with no relay it raises RelayUnavailable."""
    link = await make_link(relay.url, MemoryInbox(), MemoryOutbox())
    key = SigningKey.generate()
    rid, sid = await link.call(lambda c: c.create_queue(key))
    assert rid != sid
    await relay.terminate()
    with pytest.raises(RelayUnavailable):
        await link.call(lambda c: c.ping(), timeout=0.5)


async def test_end_push_drops_the_subscription_until_subscribed_again(
    tmp_path: Path, make_link: LinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """END keeps the link online but forgets the queue, even across reconnects, until re-subscribed."""
    caplog.set_level(logging.DEBUG, logger="securechat")
    relay = await RelayProcess(tmp_path / "data").start()
    try:
        rid, sid, rkey = await new_queue(relay.url)
        inbox = MemoryInbox()
        states: list[ConnectionState] = []
        back_online = asyncio.Event()

        def on_state(state: ConnectionState) -> None:
            states.append(state)
            if states.count(ConnectionState.ONLINE) >= 2:
                back_online.set()

        link = await make_link(relay.url, inbox, MemoryOutbox(), on_state=on_state)
        link.subscribe(Subscription(rid, rkey))
        await link.wait_online(WAIT)
        await link.wait_idle(WAIT)
        async with await RelayClient.connect(relay.url) as thief:
            await thief.subscribe(rid, rkey)  # the link gets END
            async with await RelayClient.connect(relay.url) as c:
                await c.send(sid, b"taken")
            push = await thief.next_push(timeout=WAIT)
            assert getattr(push, "body", None) == b"taken"  # not acked: stays on the relay
            await link.wait_idle(WAIT)
            assert link.state is ConnectionState.ONLINE
        # A reconnect does not bring the queue back.
        await relay.terminate()
        await relay.start(same_port=True)
        async with asyncio.timeout(WAIT):
            await back_online.wait()
        await link.wait_idle(WAIT)
        assert inbox.delivered == []
        link.subscribe(Subscription(rid, rkey))
        await inbox.wait_for(lambda: len(inbox.delivered) == 1)
        assert inbox.delivered[0].body == b"taken"
    finally:
        await relay.stop()
    logged = caplog.text
    assert f":{relay.port}" not in logged
    assert "127.0.0.1" not in logged
    assert rid.hex() not in logged
    assert "connected to the relay" in logged


def test_reprs_are_redacted() -> None:
    """Subscription, Incoming and OutgoingItem never print ids, keys or bodies."""
    key = SigningKey.generate()
    for value in (
        Subscription(b"RID-SECRET", key),
        Incoming(b"RID-SECRET", b"MID", b"BODY-SECRET"),
        OutgoingItem(3, b"SID-SECRET", b"BODY-SECRET", key),
    ):
        text = repr(value)
        assert "<redacted>" in text
        assert "SECRET" not in text
        assert bytes(key).hex() not in text
