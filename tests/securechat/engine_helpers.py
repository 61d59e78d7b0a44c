"""A network-free harness for the conversation engine: a dict stands in for the relay."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from crypto.keys import IdentityKeyPair
from securechat import api, profiles
from securechat.conversations import Engine
from securechat.disclosure import CounselorProfile, DisclosureBook
from securechat.invite import Invite
from securechat.listing import QueueAddress
from tests.securechat.conftest import PASSPHRASE, fast_kdf

RELAY = "ws://127.0.0.1:9/ws"


@dataclass
class FakeRelay:
    """Queues by sender id; each holds (rid, owner engine, bodies)."""

    queues: dict[bytes, tuple[bytes, Engine]] = field(default_factory=dict)
    held: dict[bytes, list[bytes]] = field(default_factory=dict)
    publication: tuple[bytes, list[bytes]] | None = None

    def new_queue(self, owner: Engine) -> tuple[bytes, bytes]:
        rid, sid = os.urandom(16), os.urandom(16)
        self.queues[sid] = (rid, owner)
        self.held[rid] = []
        return rid, sid

    def flush(self, sender: Engine) -> int:
        """Move `sender`'s outbox into the queues (like a link's OK)."""
        items = sender.pending(RELAY, 10_000)
        for item in items:
            rid, _ = self.queues[item.sid]
            self.held[rid].append(item.envelope)
        sender.sent([i.item_id for i in items])
        return len(items)

    def deliver(self, owner: Engine, batch: int = 8) -> list[api.Event]:
        """Deliver everything held for `owner`'s queues, `batch` at a time."""
        events: list[api.Event] = []
        for rid, owned_by in [(r, o) for r, o in self.queues.values() if o is owner]:
            bodies = self.held[rid]
            while bodies:
                chunk, self.held[rid] = bodies[:batch], bodies[batch:]
                events += owner.receive([(rid, b) for b in chunk])
                bodies = self.held[rid]
            del owned_by
        return events


def make_profile(home: Path, name: str, role: str) -> tuple[profiles.Profile, Engine]:
    """A profile and its engine; counselors get a profile and disclosure."""
    profile = profiles.create_profile(
        name, role, name.title(), PASSPHRASE, home=home, kdf=fast_kdf()
    )
    if role == "counselor":
        book = DisclosureBook(profile.store)
        book.set_profile(CounselorProfile(name="Sari Wulandari", credentials="M.Psi."))
        book.ensure_default()
    engine = Engine(profile.store, IdentityKeyPair(profile.identity_seed()), role)
    return profile, engine


def publish(relay: FakeRelay, counselor: Engine) -> Invite:
    """Counselor: create the intake queue and publish; return the invite."""
    if counselor.intake() is None:
        rid, sid = relay.new_queue(counselor)
        counselor.create_intake(RELAY, os.urandom(32), rid, os.urandom(32), sid)
    blob, prekeys, version = counselor.prepare_publication()
    relay.publication = (blob, prekeys)
    pid = b"P" * 16
    counselor.published(pid, version)
    return Invite(RELAY, pid, counselor.identity.to_bytes())


def first_contact(
    relay: FakeRelay, counselor: Engine, client: Engine, text: str = "halo", name: str = ""
) -> tuple[int, int]:
    """Open, consent (as `name`), deliver the introduction, answer, deliver the answer."""
    invite = publish(relay, counselor)
    assert relay.publication is not None
    blob, prekeys = relay.publication
    invite_id, _, _ = client.save_invite(invite, blob, prekeys.pop(0) if prekeys else None)
    rid, sid = relay.new_queue(client)
    client_conv, _ = client.start_conversation(
        invite_id, "en", text, rid, os.urandom(32), QueueAddress(sid, os.urandom(32)), name
    )
    relay.flush(client)
    relay.deliver(counselor)
    (counselor_conv,) = counselor.conversations_needing_queue()
    rid2, sid2 = relay.new_queue(counselor)
    counselor.answer(counselor_conv, rid2, os.urandom(32), QueueAddress(sid2, os.urandom(32)))
    relay.flush(counselor)
    relay.deliver(client)
    return client_conv, counselor_conv
