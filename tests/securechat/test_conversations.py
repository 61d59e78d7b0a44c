"""The conversation engine without a network: first contact, consent gate, receipts, errors."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import pytest

from crypto.envelope import Text
from crypto.keys import IdentityKeyPair
from securechat import api
from securechat.conversations import Engine, SendRequest
from securechat.conversations.base import LANGUAGE_SETTING
from securechat.disclosure import DisclosureBook
from securechat.errors import (
    ConsentRequired,
    ConversationClosed,
    IdentityKeyChanged,
    InvalidInput,
    InvalidInvite,
    InvalidPublication,
    NotFound,
)
from securechat.invite import Invite
from securechat.listing import seal_listing
from tests.securechat.engine_helpers import (
    RELAY,
    FakeRelay,
    first_contact,
    make_profile,
    publish,
)


def send(engine: Engine, conv: int, text: str) -> str:
    req = SendRequest(conv, Text(text), api.MessageKind.TEXT, {"text": text})
    engine.send_many([req])
    if isinstance(req.result, BaseException):
        raise req.result
    assert isinstance(req.result, str)
    return req.result


def texts(engine: Engine, conv: int, outgoing: bool) -> list[str]:
    return [
        m.text
        for m in engine.history(conv, 0, 100_000)
        if m.outgoing == outgoing and m.kind is api.MessageKind.TEXT
    ]


def counts(engine: Engine) -> tuple[int, int, bytes | None]:
    conn = engine._store.conn
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    outbox = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    row = conn.execute("SELECT session FROM conversations ORDER BY id LIMIT 1").fetchone()
    return int(messages), int(outbox), None if row is None else bytes(row[0])


@pytest.fixture
def pair(home: Path) -> tuple[Engine, Engine, FakeRelay]:
    _, counselor = make_profile(home, "sari", "counselor")
    _, client = make_profile(home, "ayu", "client")
    return counselor, client, FakeRelay()


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Client 1"), ("id", "Klien 1"), (None, "Klien 1")]
)
def test_a_client_without_a_name_is_numbered_in_the_counselors_language(
    pair: tuple[Engine, Engine, FakeRelay], language: str | None, expected: str
) -> None:
    """A client who chose no name shows as "Client N" or "Klien N", in the language of the
    counselor's profile (Indonesian when none is set)."""
    counselor, client, relay = pair
    if language is not None:
        counselor._store.set_setting(LANGUAGE_SETTING, language)
    first_contact(relay, counselor, client)
    (view,) = counselor.conversations()
    assert view.peer_name == expected


def test_a_clients_chosen_name_is_stored_without_control_characters(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """The name a client chooses is stored as one line of plain text: ESC, BEL, CR, C1 and
    format characters (bidi override, zero-width space) are dropped, newlines and tabs become
    spaces; letters of every script and an emoji's zero-width joiner stay."""
    counselor, client, relay = pair
    chosen = "Evil\x1b[31mRED\n2\tFake\x07\r\u202eX\u200b\x9b Сергей 李 👩\u200d💻"
    first_contact(relay, counselor, client, name=chosen)
    (view,) = counselor.conversations()
    assert view.peer_name == "Evil[31mRED 2 Fake X Сергей 李 👩\u200d💻"


def test_first_contact_then_messages_both_ways(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """Consent, introduction and answer set up a conversation; texts flow in order both ways."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client, "first words")
    assert texts(counselor, sc, outgoing=False) == ["first words"]
    (view,) = client.conversations()
    assert view.active
    assert view.consent_version == 1
    assert view.consent_language == "en"
    assert view.peer_name == "Sari Wulandari"
    for i in range(20):
        send(client, cc, f"c{i}")
        send(counselor, sc, f"s{i}")
    relay.flush(client)
    relay.flush(counselor)
    relay.deliver(counselor, batch=3)
    relay.deliver(client, batch=5)
    assert texts(counselor, sc, outgoing=False) == ["first words"] + [f"c{i}" for i in range(20)]
    assert texts(client, cc, outgoing=False) == [f"s{i}" for i in range(20)]
    # receipts come back: every outgoing text of the client is DELIVERED
    relay.flush(counselor)
    relay.deliver(client)
    states = {m.state for m in client.history(cc, 0, 1000) if m.outgoing}
    assert states == {api.DeliveryState.DELIVERED}
    # both sides store both signatures of the consent record
    for engine in (client, counselor):
        row = engine._store.conn.execute(
            "SELECT signed_record, countersignature FROM consent_records WHERE kind = 'given'"
        ).fetchone()
        assert row[0]
        assert row[1]
    assert client.safety_number(cc).digits == counselor.safety_number(sc).digits


def test_redelivered_envelope_is_stored_once(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """A batch delivered twice (the ack was lost) is de-duplicated before decryption."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    send(client, cc, "once")
    items = client.pending(RELAY, 10)
    rid, _ = relay.queues[items[0].sid]
    batch = [(rid, i.envelope) for i in items]
    counselor.receive(batch)
    counselor.receive(batch)
    assert texts(counselor, sc, outgoing=False).count("once") == 1


def test_send_before_consent_is_refused_and_changes_nothing(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """A new disclosure version requires consent again: send raises, nothing is written."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    DisclosureBook(counselor._store).edit("en", "A new disclosure text.")
    publish(relay, counselor)  # a new version: consent requests go to active conversations
    relay.flush(counselor)
    events = relay.deliver(client)
    assert api.ConsentRequired(str(cc), 2) in events
    before = counts(client)
    with pytest.raises(ConsentRequired):
        send(client, cc, "must not leave")
    assert counts(client) == before
    # consenting again (inside the conversation) lifts the gate
    _invite_id, listing, _ = client.save_invite(
        Invite(RELAY, b"P" * 16, counselor.identity.to_bytes()),
        relay.publication[0],
        None,  # type: ignore[index]
    )
    disclosure = listing.publication.disclosure("en")
    assert disclosure is not None
    assert disclosure.version == 2
    client.reconsent(cc, "en", disclosure)
    send(client, cc, "after consent")
    relay.flush(client)
    relay.deliver(counselor)
    assert "after consent" in texts(counselor, sc, outgoing=False)


def test_withdraw_ends_both_sides(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """Withdrawal is recorded, reaches the peer, and refuses further sends on both sides."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    events = client.withdraw(cc)
    assert events == [api.ConsentWithdrawn(str(cc), by_peer=False)]
    relay.flush(client)
    assert api.ConsentWithdrawn(str(sc), by_peer=True) in relay.deliver(counselor)
    for engine, conv in ((client, cc), (counselor, sc)):
        with pytest.raises(ConversationClosed):
            send(engine, conv, "no")
        assert not engine.conversations()[0].active


def test_what_the_peer_never_read_before_withdrawing_is_not_delivered(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """The client withdraws while the counselor writes: a message the relay took but the
    client dropped, and one still in the outbox, become FAILED ("not delivered") when the
    withdrawal arrives, and the queued one is not sent; what the client read stays
    DELIVERED."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    read = send(counselor, sc, "read before")
    relay.flush(counselor)
    relay.deliver(client)
    relay.flush(client)  # the receipt
    relay.deliver(counselor)
    client.withdraw(cc)
    unread = send(counselor, sc, "are you there?")
    relay.flush(counselor)  # taken by the relay: "sent"
    relay.deliver(client)  # the client has withdrawn: dropped
    queued = send(counselor, sc, "hello?")  # still in the outbox
    relay.flush(client)  # the withdrawal
    events = relay.deliver(counselor)
    for mid in (unread, queued):
        assert api.DeliveryChanged(str(sc), mid, api.DeliveryState.FAILED) in events
    states = {m.message_id: m.state for m in counselor.history(sc, 0, 100)}
    assert states[read] is api.DeliveryState.DELIVERED
    assert states[unread] is states[queued] is api.DeliveryState.FAILED
    assert counselor.pending(RELAY, 100) == []


def test_changed_identity_key_blocks_sending(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """Re-opening the invite address with another identity key blocks sending until confirmed."""
    counselor, client, relay = pair
    cc, _ = first_contact(relay, counselor, client)
    _, impostor = make_profile(Path(str(counselor._store.path.parents[2])), "imp", "counselor")
    invite = publish(relay, impostor)  # same relay, same publication address, another key
    assert relay.publication is not None
    publication = relay.publication[0]
    _, _, events = client.save_invite(invite, publication, None)
    assert events == [api.SafetyNumberChanged(str(cc))]
    assert client.conversations()[0].blocked_by_key_change
    before = counts(client)
    with pytest.raises(IdentityKeyChanged):
        send(client, cc, "blocked")
    assert counts(client) == before
    client.confirm_key_change(cc)
    send(client, cc, "confirmed")


def test_bad_publication_is_refused(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """A listing with a bad signature, or under another key than the invite's, is refused."""
    counselor, client, relay = pair
    invite = publish(relay, counselor)
    assert relay.publication is not None
    blob = relay.publication[0]
    tampered = bytearray(blob)
    tampered[-10] ^= 1
    with pytest.raises(InvalidPublication):
        client.save_invite(invite, bytes(tampered), None)
    other = Invite(RELAY, invite.publication, IdentityKeyPair.generate().public.to_bytes())
    with pytest.raises(InvalidPublication):
        client.save_invite(other, blob, None)
    with pytest.raises(InvalidInvite):
        client.save_invite(Invite(RELAY, invite.publication, b"\xff" * 32), blob, None)
    # the intake sid is bound by the identity's signature: a relay cannot swap it
    _, publication, _, _ = msgpack.unpackb(blob)
    forged = seal_listing(IdentityKeyPair.generate(), publication, os.urandom(16))
    with pytest.raises(InvalidPublication):
        client.save_invite(invite, forged, None)
    assert client._store.conn.execute("SELECT count(*) FROM invites").fetchone()[0] == 0


def test_summary_tasks_and_referral(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """A session summary arrives with tasks the client can tick; a referral carries 112."""
    from crypto.envelope import Control, ControlAction, SessionSummary
    from securechat.conversations import referral_text

    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    summary = SessionSummary(("sleep matters",), ("walk daily", "write a diary"))
    req = SendRequest(
        sc,
        summary,
        api.MessageKind.SUMMARY,
        {"key_points": ["sleep matters"], "tasks": ["walk daily", "write a diary"]},
    )
    text = referral_text("ID", "en")
    ref = SendRequest(
        sc, Control(ControlAction.REFERRAL, text), api.MessageKind.REFERRAL, {"text": text}
    )
    counselor.send_many([req, ref])
    relay.flush(counselor)
    relay.deliver(client)
    got = [m for m in client.history(cc, 0, 100) if not m.outgoing]
    assert got[0].summary == api.SessionSummary(("sleep matters",), ("walk daily", "write a diary"))
    client.set_task_done(got[0].message_id, 1, True)
    assert client.history(cc, 0, 100)[-2].tasks_done == (False, True)
    with pytest.raises(InvalidInput):
        client.set_task_done(got[0].message_id, True, False)  # type: ignore[arg-type]  # a bool is no task number
    sent = next(m for m in counselor.history(sc, 0, 100) if m.kind is api.MessageKind.SUMMARY)
    with pytest.raises(NotFound):  # the counselor does not tick the client's tasks
        counselor.set_task_done(sent.message_id, 0, True)
    assert got[1].kind is api.MessageKind.REFERRAL
    assert "112" in got[1].text
    assert "119" in got[1].text


def test_failed_receive_commit_stores_nothing_and_redelivery_works(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """If storing a batch fails, nothing of it (message, session, de-dup mark) is kept; the
    redelivered batch then decrypts and is stored exactly once."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    send(client, cc, "kept once")
    items = client.pending(RELAY, 10)
    rid, _ = relay.queues[items[0].sid]
    batch = [(rid, i.envelope) for i in items]
    conn = counselor._store.conn
    conn.execute(
        "CREATE TRIGGER fail_insert BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    before = counts(counselor)
    marks = conn.execute("SELECT count(*) FROM processed").fetchone()[0]
    with pytest.raises(Exception, match="no"):
        counselor.receive(batch)
    assert counts(counselor) == before
    assert conn.execute("SELECT count(*) FROM processed").fetchone()[0] == marks
    conn.execute("DROP TRIGGER fail_insert")
    counselor.receive(batch)
    assert texts(counselor, sc, outgoing=False).count("kept once") == 1


def test_failed_send_commit_changes_nothing(pair: tuple[Engine, Engine, FakeRelay]) -> None:
    """If the send transaction fails, every send of the group gets StorageError, no row is
    written and the ratchet is not ahead of the database: later sends still decrypt."""
    from securechat.errors import StorageError

    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    conn = client._store.conn
    conn.execute(
        "CREATE TRIGGER fail_out BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    before = counts(client)
    reqs = [SendRequest(cc, Text(t), api.MessageKind.TEXT, {"text": t}) for t in ("a", "b")]
    client.send_many(reqs)
    assert all(isinstance(r.result, StorageError) for r in reqs)
    assert counts(client) == before
    conn.execute("DROP TRIGGER fail_out")
    send(client, cc, "after the failure")
    relay.flush(client)
    relay.deliver(counselor)
    assert texts(counselor, sc, outgoing=False)[-1] == "after the failure"


def test_history_pages_and_unread_of_a_long_conversation(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """Every page (read forwards or, in the newer half, backwards) equals the same slice of the
    whole history; reading the newest page clears unread, reading an older one does not."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    for n in range(249):
        send(client, cc, f"m{n:03}")
    relay.flush(client)
    relay.deliver(counselor)
    whole = [m.message_id for m in counselor.history(sc, 0, 100_000)]
    assert len(whole) == counselor.message_count(sc) >= 250
    send(client, cc, "one more")  # unread again
    relay.flush(client)
    relay.deliver(counselor)
    whole = [m.message_id for m in counselor.history(sc, 0, 100_000)]
    total = len(whole)
    for offset, limit in [(0, 100), (40, 100), (total // 2, 7), (total - 100, 100),
                          (total - 30, 100), (total - 1, 5), (total, 10), (total + 5, 10)]:  # fmt: skip
        page = [m.message_id for m in counselor.history(sc, offset, limit)]
        assert page == whole[offset : offset + limit], (offset, limit)
    send(client, cc, "newest")
    relay.flush(client)
    relay.deliver(counselor)
    unread = lambda: next(c.unread for c in counselor.conversations())  # noqa: E731
    assert unread() == 1
    counselor.history(sc, 0, 100)  # an old page
    assert unread() == 1
    counselor.history(sc, total + 1 - 100, 100)  # the newest page
    assert unread() == 0


def test_a_counselor_drops_summaries_and_referrals_from_a_client(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """Summaries and crisis numbers come from the counselor only: sent by a client (a
    modified app) they are dropped on arrival, and the conversation goes on."""
    from crypto.envelope import Control, ControlAction, SessionSummary, Text

    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    relay.flush(counselor)
    relay.deliver(client)
    before = len(counselor.history(sc, 0, 100))
    client.send_many(
        [
            SendRequest(
                cc,
                SessionSummary(("I decide",), ()),
                api.MessageKind.SUMMARY,
                {"key_points": ["I decide"], "tasks": []},
            ),
            SendRequest(
                cc,
                Control(ControlAction.REFERRAL, "call 000"),
                api.MessageKind.REFERRAL,
                {"text": "call 000"},
            ),
            SendRequest(cc, Text("still here"), api.MessageKind.TEXT, {"text": "still here"}),
        ]
    )
    relay.flush(client)
    relay.deliver(counselor)
    got = counselor.history(sc, 0, 100)[before:]
    assert [(m.kind, m.text) for m in got] == [(api.MessageKind.TEXT, "still here")]
