"""The pure queue logic: authorisation, subscriptions and the delivery window, no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from relay.exceptions import AuthError
from relay.mailbox import Mailbox, QueueRecord, SessionAuth, StoredMessage, authorize
from relay.protocol import Ack, Role, Send, Sub, sign_command

RID = b"r" * 16
CH = b"c" * 32


def msg(seq: int, ts: int = 100) -> StoredMessage:
    return StoredMessage(seq, b"%016d" % seq, ts, b"body%d" % seq)


def test_signed_command_authorises_and_is_remembered() -> None:
    """A valid signature passes and lets later unsigned commands for that entity through."""
    key = SigningKey.generate()
    pub = bytes(key.verify_key)
    session: SessionAuth = {}
    authorize(sign_command(Sub(1, RID), CH, key), Role.RECIPIENT, RID, pub, CH, session)
    authorize(Ack(2, RID, b"m" * 16), Role.RECIPIENT, RID, pub, CH, session)
    with pytest.raises(AuthError):  # another entity is not covered
        authorize(Ack(3, b"x" * 16, b"m" * 16), Role.RECIPIENT, b"x" * 16, pub, CH, session)


def test_wrong_signature_is_refused_even_with_session() -> None:
    """A present but wrong signature is refused, whatever the session holds."""
    key, other = SigningKey.generate(), SigningKey.generate()
    pub = bytes(key.verify_key)
    session: SessionAuth = {(Role.RECIPIENT, RID): pub}
    bad = sign_command(Sub(1, RID), CH, other)
    with pytest.raises(AuthError):
        authorize(bad, Role.RECIPIENT, RID, pub, CH, session)
    with pytest.raises(AuthError):
        authorize(sign_command(Sub(1, RID), b"d" * 32, key), Role.RECIPIENT, RID, pub, CH, {})


def test_unsigned_without_session_is_refused_and_unsecured_needs_nothing() -> None:
    """No signature and no session: AUTH. A None key (unsecured queue): no check at all."""
    pub = bytes(SigningKey.generate().verify_key)
    with pytest.raises(AuthError):
        authorize(Sub(1, RID), Role.RECIPIENT, RID, pub, CH, {})
    authorize(Send(1, b"s" * 16, b"x"), Role.SENDER, b"s" * 16, None, CH, {})


def test_session_bound_to_key() -> None:
    """A session proof for one key does not authorise a different key for the same entity."""
    k1, k2 = SigningKey.generate(), SigningKey.generate()
    session: SessionAuth = {(Role.RECIPIENT, RID): bytes(k1.verify_key)}
    with pytest.raises(AuthError):
        authorize(Sub(1, RID), Role.RECIPIENT, RID, bytes(k2.verify_key), CH, session)


def test_window_limits_unacked_pushes() -> None:
    """At most `window` messages are out un-acknowledged; an ACK frees one slot."""
    mb = Mailbox(window=2)
    mb.subscribe(RID, "a")
    mb.loaded(RID, "a", [msg(1), msg(2), msg(3)])
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1, 2]
    assert mb.next_pushes(RID, "a") == []
    assert mb.acked(RID, msg(1).mid) == "a"
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [3]


def test_nothing_pushed_before_load() -> None:
    """Arrivals before the store's pending list is loaded wait for it, then keep seq order."""
    mb = Mailbox(window=10)
    mb.subscribe(RID, "a")
    assert mb.arrived(RID, msg(5)) is None  # held aside until the page is in
    assert mb.next_pushes(RID, "a") == []
    mb.loaded(RID, "a", [msg(3), msg(4), msg(5)])  # 5 raced: appears in both
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [3, 4, 5]


def test_late_older_message_is_still_handed_out() -> None:
    """A message with a lower seq arriving after later ones were pushed is pushed, not lost."""
    mb = Mailbox(window=10)
    mb.subscribe(RID, "a")
    mb.loaded(RID, "a", [msg(2)])
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [2]
    mb.arrived(RID, msg(1))
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1]


def test_new_subscriber_replaces_old_and_redelivers() -> None:
    """SUB by another owner returns the old owner; un-acked messages go out again."""
    mb = Mailbox(window=5)
    assert mb.subscribe(RID, "a") is None
    mb.loaded(RID, "a", [msg(1)])
    assert len(mb.next_pushes(RID, "a")) == 1
    assert mb.subscribe(RID, "b") == "a"
    assert mb.next_pushes(RID, "a") == []
    assert mb.loaded(RID, "a", [msg(1)]) is False  # the old owner's late load is ignored
    mb.loaded(RID, "b", [msg(1)])
    assert [m.seq for m in mb.next_pushes(RID, "b")] == [1]
    assert mb.subscribe(RID, "b") is None  # same owner: no END


def test_unsubscribed_queue_keeps_nothing() -> None:
    """Arrivals for queues without a subscriber are not held in memory."""
    mb = Mailbox()
    assert mb.arrived(RID, msg(1)) is None
    assert mb.acked(RID, b"m" * 16) is None
    mb.subscribe(RID, "a")
    mb.drop_owner("a", [RID])
    assert mb.owner(RID) is None
    assert mb.subscriptions == 0


def test_expire_drops_old_messages() -> None:
    """expire() removes messages older than the cut-off and reports the subscription."""
    mb = Mailbox(window=1)
    mb.subscribe(RID, "a")
    mb.loaded(RID, "a", [msg(1, ts=10), msg(2, ts=50)])
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1]
    assert mb.expire(20) == [(RID, "a")]
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [2]


def test_queue_cache() -> None:
    """remember/forget keep the rid and sid lookups in step."""
    mb = Mailbox()
    q = QueueRecord(RID, b"s" * 16, b"k" * 32)
    mb.remember(q)
    assert mb.by_rid(RID) is q
    assert mb.by_sid(b"s" * 16) is q
    mb.forget(RID)
    assert mb.by_rid(RID) is None
    assert mb.by_sid(b"s" * 16) is None


def test_window_must_be_positive() -> None:
    """A window below 1 is a programming error."""
    with pytest.raises(ValueError, match="window"):
        Mailbox(window=0)


@given(
    window=st.integers(1, 5),
    ops=st.lists(st.tuples(st.sampled_from(["arrive", "push", "ack", "resub"]), st.integers(0, 9))),
)
def test_each_message_pushed_once_per_subscription_in_order(
    window: int, ops: list[tuple[str, int]]
) -> None:
    """Whatever the interleaving: no duplicate within a subscription, seq order, window kept."""
    mb = Mailbox(window=window)
    mb.subscribe(RID, 0)
    mb.loaded(RID, 0, [])
    owner, seq, live = 0, 0, {}
    pushed: list[int] = []
    inflight: set[bytes] = set()
    for op, n in ops:
        if op == "arrive":
            seq += 1
            m = msg(seq)
            live[m.mid] = m
            mb.arrived(RID, m)
        elif op == "push":
            out = mb.next_pushes(RID, owner)
            assert all(m.mid in live for m in out)
            pushed.extend(m.seq for m in out)
            inflight |= {m.mid for m in out}
            assert len(inflight) <= window
        elif op == "ack" and inflight:
            mid = sorted(inflight)[n % len(inflight)]
            inflight.discard(mid)
            live.pop(mid)
            mb.acked(RID, mid)
        elif op == "resub":
            owner += 1
            mb.subscribe(RID, owner)
            mb.loaded(RID, owner, sorted(live.values(), key=lambda m: m.seq))
            pushed, inflight = [], set()
        assert pushed == sorted(set(pushed))


def test_pages_bound_memory_and_keep_order() -> None:
    """With an incomplete page, arrivals wait for later pages; `more` asks for them in order."""
    mb = Mailbox(window=2)
    mb.subscribe(RID, "a")
    mb.loaded(RID, "a", [msg(1), msg(2), msg(3)], complete=False)
    assert mb.arrived(RID, msg(9)) is None  # left to a later page
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1, 2]
    assert mb.more(RID, "a") == 3  # one unsent message left: below the window
    assert mb.more(RID, "a") is None  # already loading
    mb.acked(RID, msg(1).mid)
    mb.loaded(RID, "a", [msg(4), msg(9)], complete=True)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [3]
    mb.acked(RID, msg(2).mid)
    mb.acked(RID, msg(3).mid)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [4, 9]
    assert mb.arrived(RID, msg(10)) == "a"  # complete again: arrivals join directly
    assert mb.more(RID, "a") is None


def test_arrival_during_first_load_waits_for_the_older_pages() -> None:
    """An arrival while the first page loads does not overtake messages beyond that page.

    The relay restarted with a long queue: the recipient subscribes while the sender flushes
    its backlog. The page (1..3) is incomplete; 9 arrived meanwhile; 4..8 are in the store
    only. 9 must go out after them, read again from the store by a later page.
    """
    mb = Mailbox(window=2)
    mb.subscribe(RID, "a")
    assert mb.arrived(RID, msg(9)) is None
    mb.loaded(RID, "a", [msg(1), msg(2), msg(3)], complete=False)
    pushed = [m.seq for m in mb.next_pushes(RID, "a")]
    for seq in (1, 2):
        mb.acked(RID, msg(seq).mid)
    pushed += [m.seq for m in mb.next_pushes(RID, "a")]
    assert pushed == [1, 2, 3]  # 9 is not among the messages ready to go
    assert mb.more(RID, "a") == 3
    mb.loaded(RID, "a", [msg(4), msg(5), msg(6), msg(7), msg(8), msg(9)], complete=True)
    mb.acked(RID, msg(3).mid)
    while out := mb.next_pushes(RID, "a"):
        pushed += [m.seq for m in out]
        for m in out:
            mb.acked(RID, m.mid)
    assert pushed == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_arrival_during_a_load_that_reaches_the_end_is_kept() -> None:
    """A message committed just after a page was read is kept if that page was the last.

    The store hands out the page and the arrival together; the arrival may be noted first.
    Whether the load was the first or one asked for by `more`, the message must not be lost
    (it is in no page: it came after the read).
    """
    mb = Mailbox(window=10)
    mb.subscribe(RID, "a")
    assert mb.arrived(RID, msg(4)) is None
    mb.loaded(RID, "a", [msg(1), msg(2)], complete=False)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1, 2]
    assert mb.more(RID, "a") == 2
    assert mb.arrived(RID, msg(5)) is None  # committed after the read of the next page
    mb.loaded(RID, "a", [msg(3), msg(4)], complete=True)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [3, 4, 5]


def test_acked_or_expired_arrival_held_aside_is_not_pushed() -> None:
    """An arrival held aside during a load is forgotten if acknowledged or expired first."""
    mb = Mailbox(window=10)
    mb.subscribe(RID, "a")
    mb.arrived(RID, msg(1, ts=10))
    mb.arrived(RID, msg(2, ts=50))
    mb.arrived(RID, msg(3, ts=50))
    mb.acked(RID, msg(2).mid)
    mb.expire(20)
    mb.loaded(RID, "a", [], complete=True)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [3]


def test_page_of_an_earlier_subscription_is_ignored() -> None:
    """The same owner subscribing again starts over: a page loaded before is not merged.

    Otherwise a late page (seq 5..6, asked for by `more`) would go out before the new
    subscription's first page (1..) and move its high mark past messages never loaded.
    """
    mb = Mailbox(window=10)
    mb.subscribe(RID, "a")
    first = mb.token(RID)
    mb.loaded(RID, "a", [msg(1), msg(2), msg(3), msg(4)], complete=False, token=first)
    mb.next_pushes(RID, "a")
    assert mb.more(RID, "a") == 4
    assert mb.subscribe(RID, "a") is None
    second = mb.token(RID)
    assert second != first
    assert mb.loaded(RID, "a", [msg(5), msg(6)], complete=False, token=first) is False
    assert mb.next_pushes(RID, "a") == []
    assert mb.loaded(RID, "a", [msg(1), msg(2), msg(3), msg(4)], complete=False, token=second)
    assert [m.seq for m in mb.next_pushes(RID, "a")] == [1, 2, 3, 4]
    assert mb.more(RID, "a") == 4
    assert mb.token(b"x" * 16) is None


def test_seqs_of_gives_each_held_message_its_seq() -> None:
    """`seqs_of` answers like `seq_of` for each id: the seq of a held message, else None."""
    mb = Mailbox(window=4)
    mb.remember(QueueRecord(RID, b"s" * 16, b"k" * 32, None, 0))
    mb.subscribe(RID, "conn")
    mb.loaded(RID, "conn", [msg(5), msg(9)])
    ids = [msg(9).mid, b"?" * 16, msg(5).mid]
    assert mb.seqs_of(RID, ids) == [9, None, 5]
    assert mb.seqs_of(RID, ids) == [mb.seq_of(RID, m) for m in ids]
    assert mb.seqs_of(b"x" * 16, ids) == [None, None, None]
