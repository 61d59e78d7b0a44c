"""The storage contract (`relay.store.base.Store`) as a test suite runnable against any backend.

A backend's test module subclasses `StoreSuite` and provides an async `store` fixture that
yields an opened store (and closes it afterwards), plus `reopen` for restart tests.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from relay.exceptions import (
    AuthError,
    NoMessage,
    NoPublication,
    NoQueue,
    QuotaExceeded,
    StoreError,
)
from relay.mailbox import PublicationRecord, QueueRecord, StoredMessage
from relay.store import Store
from relay.store.base import AddMessage, DeleteMessage, MessageOp, MessageResult


def new_queue() -> QueueRecord:
    return QueueRecord(os.urandom(16), os.urandom(16), os.urandom(32), None, 86400 * 20000)


def new_pub(key: bytes | None = None, summary: bytes | None = b"summary") -> PublicationRecord:
    return PublicationRecord(os.urandom(16), key or os.urandom(32), b"blob", summary, 0)


class StoreSuite:
    """Contract tests every `Store` backend must pass."""

    async def test_queue_create_and_lookup(self, store: Store) -> None:
        """A created queue is found by rid and by sid; unknown ids give None."""
        q = new_queue()
        await store.create_queue(q)
        assert await store.queue_by_rid(q.rid) == q
        assert await store.queue_by_sid(q.sid) == q
        assert await store.queue_by_rid(q.sid) is None
        assert await store.queue_by_sid(os.urandom(16)) is None

    async def test_secure_once(self, store: Store) -> None:
        """secure_queue sets the sender key once; again is AUTH; unknown queue is NO_QUEUE."""
        q = new_queue()
        await store.create_queue(q)
        secured = await store.secure_queue(q.rid, b"k" * 32)
        assert secured.skey == b"k" * 32
        assert (await store.queue_by_sid(q.sid)) == secured
        with pytest.raises(AuthError):
            await store.secure_queue(q.rid, b"j" * 32)
        with pytest.raises(NoQueue):
            await store.secure_queue(os.urandom(16), b"k" * 32)

    async def test_messages_in_order_and_deleted_on_ack(self, store: Store) -> None:
        """Messages come back in order; deleting one leaves the others; NO_MSG for unknown."""
        q = new_queue()
        await store.create_queue(q)
        mids = [os.urandom(16) for _ in range(5)]
        stored = [
            await store.add_message(q.rid, m, 100, b"b%d" % i, 10) for i, m in enumerate(mids)
        ]
        assert [s.seq for s in stored] == sorted(s.seq for s in stored)
        pending = await store.pending(q.rid, 100)
        assert [m.mid for m in pending] == mids
        assert pending[2].body == b"b2"
        await store.delete_message(q.rid, mids[1])
        assert [m.mid for m in await store.pending(q.rid, 100)] == [mids[0], *mids[2:]]
        assert [m.mid for m in await store.pending(q.rid, 2)] == [mids[0], mids[2]]
        after = (await store.pending(q.rid, 2))[-1].seq
        assert [m.mid for m in await store.pending(q.rid, 10, after)] == mids[3:]
        with pytest.raises(NoMessage):
            await store.delete_message(q.rid, mids[1])
        other = new_queue()
        await store.create_queue(other)
        with pytest.raises(NoMessage):  # a message id of another queue
            await store.delete_message(other.rid, mids[0])

    async def test_quota_refuses_without_dropping(self, store: Store) -> None:
        """At quota, add_message raises QUOTA and keeps every stored message; room after ack."""
        q = new_queue()
        await store.create_queue(q)
        mids = [os.urandom(16) for _ in range(3)]
        for m in mids:
            await store.add_message(q.rid, m, 100, b"x", 3)
        with pytest.raises(QuotaExceeded):
            await store.add_message(q.rid, os.urandom(16), 100, b"x", 3)
        assert [m.mid for m in await store.pending(q.rid, 10)] == mids
        await store.delete_message(q.rid, mids[0])
        await store.add_message(q.rid, os.urandom(16), 100, b"x", 3)

    async def test_concurrent_sends_respect_quota(self, store: Store) -> None:
        """Many sends submitted at once: exactly `quota` succeed, the rest get QUOTA."""
        q = new_queue()
        await store.create_queue(q)
        futs = [store.add_message(q.rid, os.urandom(16), 1, b"x", 7) for _ in range(20)]
        results = await asyncio.gather(*futs, return_exceptions=True)
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 7
        assert all(isinstance(r, QuotaExceeded) for r in results if isinstance(r, BaseException))

    async def _batch(self, store: Store, ops: list[MessageOp]) -> list[MessageResult]:
        fut: asyncio.Future[list[MessageResult]] = asyncio.get_running_loop().create_future()
        store.submit_messages(ops, fut.set_result)
        return await asyncio.wait_for(fut, 10)

    async def test_submit_messages_adds_in_order_with_refusals(self, store: Store) -> None:
        """A batch of adds stores in order; a full or missing queue fails only its own op."""
        q = new_queue()
        await store.create_queue(q)
        mids = [os.urandom(16) for _ in range(4)]
        missing = AddMessage(os.urandom(16), os.urandom(16), 1, b"z", 10)
        ops: list[MessageOp] = [AddMessage(q.rid, m, 1, b"%d" % i, 3) for i, m in enumerate(mids)]
        ops.insert(1, missing)
        results = await self._batch(store, ops)
        assert isinstance(results[1], NoQueue)
        assert isinstance(results[4], QuotaExceeded)
        stored = [r for r in results if isinstance(r, StoredMessage)]
        assert [m.mid for m in stored] == mids[:3]
        assert await store.pending(q.rid, 10) == stored

    async def test_submit_messages_deletes_by_seq_and_by_mid(self, store: Store) -> None:
        """Deletes with or without seq remove their message; unknown or repeated is NO_MSG."""
        q, other = new_queue(), new_queue()
        await store.create_queue(q)
        await store.create_queue(other)
        added = await self._batch(
            store, [AddMessage(q.rid, os.urandom(16), 1, b"x", 10) for _ in range(4)]
        )
        m = [r for r in added if isinstance(r, StoredMessage)]
        assert len(m) == 4
        results = await self._batch(
            store,
            [
                DeleteMessage(q.rid, m[0].mid, m[0].seq),
                DeleteMessage(q.rid, m[1].mid),
                DeleteMessage(q.rid, m[1].mid),  # repeated in the batch
                DeleteMessage(other.rid, m[2].mid),  # another queue's message
                DeleteMessage(q.rid, os.urandom(16)),
            ],
        )
        assert results[:2] == [None, None]
        assert all(isinstance(r, NoMessage) for r in results[2:])
        assert await store.pending(q.rid, 10) == m[2:]
        again = await self._batch(store, [DeleteMessage(q.rid, m[0].mid, m[0].seq)])
        assert isinstance(again[0], NoMessage)

    async def test_submit_messages_failed_delete_leaves_the_rest_once(self, store: Store) -> None:
        """A NO_MSG delete in a batch does not lose or repeat the batch's other effects."""
        q = new_queue()
        await store.create_queue(q)
        first = await store.add_message(q.rid, os.urandom(16), 1, b"a", 10)
        mid = os.urandom(16)
        results = await self._batch(
            store,
            [
                AddMessage(q.rid, mid, 1, b"b", 10),
                DeleteMessage(q.rid, os.urandom(16), first.seq + 1000),
                DeleteMessage(q.rid, first.mid, first.seq),
            ],
        )
        assert isinstance(results[0], StoredMessage)
        assert isinstance(results[1], NoMessage)
        assert results[2] is None
        assert [m.mid for m in await store.pending(q.rid, 10)] == [mid]
        assert (await store.stats()).messages == 1

    async def test_submit_messages_frees_quota_first(self, store: Store) -> None:
        """In one batch, deletes free room for adds to the same full queue."""
        q = new_queue()
        await store.create_queue(q)
        first = await store.add_message(q.rid, os.urandom(16), 1, b"x", 1)
        results = await self._batch(
            store,
            [AddMessage(q.rid, os.urandom(16), 1, b"y", 1), DeleteMessage(q.rid, first.mid)],
        )
        assert isinstance(results[0], StoredMessage)
        assert results[1] is None

    async def test_add_to_missing_queue(self, store: Store) -> None:
        """add_message to an unknown queue is NO_QUEUE."""
        with pytest.raises(NoQueue):
            await store.add_message(os.urandom(16), os.urandom(16), 1, b"x", 10)

    async def test_delete_queue_removes_messages(self, store: Store) -> None:
        """delete_queue removes the queue and its messages; twice is NO_QUEUE."""
        q = new_queue()
        await store.create_queue(q)
        await store.add_message(q.rid, os.urandom(16), 1, b"x", 10)
        await store.delete_queue(q.rid)
        assert await store.queue_by_rid(q.rid) is None
        assert await store.pending(q.rid, 10) == []
        assert (await store.stats()).messages == 0
        with pytest.raises(NoQueue):
            await store.delete_queue(q.rid)

    async def test_expire(self, store: Store) -> None:
        """expire deletes exactly the messages older than the cut-off."""
        q = new_queue()
        await store.create_queue(q)
        await store.add_message(q.rid, os.urandom(16), 10, b"old", 10)
        new = await store.add_message(q.rid, os.urandom(16), 30, b"new", 10)
        assert await store.expire(20) == 1
        assert await store.pending(q.rid, 10) == [new]
        assert await store.expire(20) == 0

    async def test_publication_prekeys_handed_out_once(self, store: Store) -> None:
        """fetch_publication pops each prekey exactly once, even under concurrency."""
        pub = new_pub()
        keys = [b"pk%d" % i for i in range(10)]
        await store.put_publication(pub, keys, 100)
        got = await asyncio.gather(*(store.fetch_publication(pub.pid) for _ in range(12)))
        handed = [k for _, k in got if k is not None]
        assert sorted(handed) == sorted(keys)
        assert all(p == pub for p, _ in got)

    async def test_publication_update_and_auth(self, store: Store) -> None:
        """Updating replaces blob and summary, appends prekeys; another key is AUTH."""
        pub = new_pub()
        await store.put_publication(pub, [b"a"], 100)
        upd = PublicationRecord(pub.pid, pub.pkey, b"blob2", None, 0)
        await store.put_publication(upd, [b"b"], 100)
        assert await store.publication(pub.pid) == upd
        assert [(await store.fetch_publication(pub.pid))[1] for _ in range(3)] == [b"a", b"b", None]
        with pytest.raises(AuthError):
            await store.put_publication(new_pub().__class__(pub.pid, b"z" * 32, b"x"), [], 100)
        with pytest.raises(QuotaExceeded):
            await store.put_publication(upd, [b"c"] * 101, 100)

    async def test_publication_delete(self, store: Store) -> None:
        """delete_publication removes it; fetch and delete then give NO_PUB."""
        pub = new_pub()
        await store.put_publication(pub, [b"a"], 10)
        await store.delete_publication(pub.pid)
        assert await store.publication(pub.pid) is None
        with pytest.raises(NoPublication):
            await store.fetch_publication(pub.pid)
        with pytest.raises(NoPublication):
            await store.delete_publication(pub.pid)
        assert (await store.stats()).prekeys == 0

    async def test_directory_lists_opt_in_only_in_pid_order(self, store: Store) -> None:
        """directory returns listed publications by pid, paged by `after`."""
        listed = [new_pub() for _ in range(4)]
        for p in [*listed, new_pub(summary=None)]:
            await store.put_publication(p, [], 10)
        want = sorted((p.pid, b"summary") for p in listed)
        assert await store.directory(None, 10) == want
        assert await store.directory(None, 2) == want[:2]
        assert await store.directory(want[1][0], 10) == want[2:]

    async def test_stats(self, store: Store) -> None:
        """stats counts queues, messages, publications and prekeys."""
        q = new_queue()
        await store.create_queue(q)
        await store.add_message(q.rid, os.urandom(16), 1, b"x", 10)
        await store.put_publication(new_pub(), [b"a", b"b"], 10)
        st = await store.stats()
        assert (st.queues, st.messages, st.publications, st.prekeys) == (1, 1, 1, 2)

    async def test_closed_store_refuses(self, store: Store) -> None:
        """After close (idempotent), operations raise StoreError."""
        await store.close()
        await store.close()
        with pytest.raises(StoreError):
            await store.queue_by_rid(os.urandom(16))
