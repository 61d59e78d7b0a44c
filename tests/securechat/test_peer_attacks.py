"""What a malicious peer (a modified app on the other end of a real session) can make the
other side store or believe, through the conversation engine: real SQLCipher profiles, real
PyNaCl sessions and signatures; a dict stands in for the relay, which sees only ciphertext."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crypto.documents import countersign_consent
from crypto.envelope import ConsentPayload, Control, ControlAction, Introduction, Payload, Text
from securechat import api
from securechat.conversations import Engine, SendRequest
from securechat.disclosure import DisclosureBook
from securechat.listing import QueueAddress
from tests.securechat.engine_helpers import FakeRelay, first_contact, make_profile, publish


@pytest.fixture
def pair(home: Path) -> tuple[Engine, Engine, FakeRelay]:
    _, counselor = make_profile(home, "sari", "counselor")
    _, client = make_profile(home, "ayu", "client")
    return counselor, client, FakeRelay()


def inject(engine: Engine, conv: int, payload: Payload) -> None:
    """What a modified app can do: encrypt any payload into the real session and queue it."""
    with engine._tx() as conn:
        engine._enqueue(conn, engine._get_conv(conn, conv), payload)


def send_text(engine: Engine, conv: int, text: str) -> None:
    req = SendRequest(conv, Text(text), api.MessageKind.TEXT, {"text": text})
    engine.send_many([req])
    assert isinstance(req.result, str), req.result


def view(engine: Engine, conv: int) -> api.ConversationView:
    return next(v for v in engine.conversations() if v.conversation_id == str(conv))


def new_version(relay: FakeRelay, counselor: Engine, client: Engine, cc: int) -> None:
    """The counselor publishes disclosure version 2; the client reads it and consents."""
    DisclosureBook(counselor._store).edit("en", "Version two of the disclosure.")
    invite = publish(relay, counselor)
    relay.flush(counselor)
    relay.deliver(client)  # the request for version 2
    assert relay.publication is not None
    _, listing, _ = client.save_invite(invite, relay.publication[0], None)
    disclosure = listing.publication.disclosure("en")
    assert disclosure is not None
    assert disclosure.version == 2
    client.reconsent(cc, "en", disclosure)
    relay.flush(client)
    relay.deliver(counselor)  # the counselor counter-signs version 2
    relay.flush(counselor)
    relay.deliver(client)


def test_a_close_session_control_from_the_peer_does_not_end_the_conversation(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """No securechat build sends CLOSE_SESSION; one from a modified client must not silently
    close the counselor's conversation (no event, no record), which would stop the counselor
    from writing to the client at all, crisis numbers included."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    inject(client, cc, Control(ControlAction.CLOSE_SESSION, ""))
    relay.flush(client)
    relay.deliver(counselor)
    assert view(counselor, sc).active
    send_text(counselor, sc, "I am still here for you.")


def test_a_replayed_consent_to_an_older_version_does_not_lower_the_recorded_one(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """After the client agreed to version 2, a replay of its own signed consent to version 1
    (a modified client) must not make the counselor's record say version 1 again."""
    counselor, client, relay = pair
    cc, sc = first_contact(relay, counselor, client)
    new_version(relay, counselor, client, cc)
    assert view(counselor, sc).consent_version == 2
    (old,) = client._store.conn.execute(
        "SELECT signed_record FROM consent_records WHERE disclosure_version = 1"
    ).fetchone()
    inject(client, cc, ConsentPayload(bytes(old)))
    relay.flush(client)
    relay.deliver(counselor)
    assert view(counselor, sc).consent_version == 2
    versions = [
        int(r[0])
        for r in counselor._store.conn.execute(
            "SELECT disclosure_version FROM consent_records WHERE kind = 'given' ORDER BY id"
        )
    ]
    assert versions == [1, 2]


def test_an_answer_that_countersigns_another_record_is_not_stored(
    pair: tuple[Engine, Engine, FakeRelay],
) -> None:
    """The counselor's answer must counter-sign the very record the client signed for this
    conversation. A modified counselor app that returns another record (here one the client
    signed earlier, for another disclosure version) must not have it stored beside the
    client's consent as if it were the counter-signature."""
    counselor, client, relay = pair
    cc, _ = first_contact(relay, counselor, client)
    client.withdraw(cc)
    relay.flush(client)
    relay.deliver(counselor)
    (first_record,) = client._store.conn.execute(
        "SELECT signed_record FROM consent_records WHERE kind = 'given'"
    ).fetchone()
    # A second conversation: the client agrees to version 2.
    DisclosureBook(counselor._store).edit("en", "Version two of the disclosure.")
    invite = publish(relay, counselor)
    assert relay.publication is not None
    invite_id, _, _ = client.save_invite(invite, relay.publication[0], None)
    rid, sid = relay.new_queue(client)
    client.start_conversation(
        invite_id, "en", "hello again", rid, os.urandom(32), QueueAddress(sid, os.urandom(32))
    )
    relay.flush(client)
    relay.deliver(counselor)
    (sc2,) = counselor.conversations_needing_queue()
    # The modified counselor app answers with a counter-signature of the old record.
    old = countersign_consent(counselor._identity, bytes(first_record))
    rid2, sid2 = relay.new_queue(counselor)
    address = QueueAddress(sid2, os.urandom(32))
    with counselor._tx() as conn:
        conn.execute(
            "UPDATE conversations SET recv_queue = ?, recv_sid = ?, answered = 1 WHERE id = ?",
            (rid2, sid2, sc2),
        )
        counselor._enqueue(
            conn, counselor._get_conv(conn, sc2), Introduction(old, address.to_bytes(), "")
        )
    relay.flush(counselor)
    relay.deliver(client)
    row = client._store.conn.execute(
        "SELECT disclosure_version, countersignature FROM consent_records "
        "WHERE kind = 'given' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert int(row[0]) == 2
    assert row[1] is None
