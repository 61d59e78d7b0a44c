"""Shared fixtures-as-functions for the crypto tests: identities, stores, session pairs."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.envelope import Text
from crypto.keys import IdentityKeyPair
from crypto.session import Session
from crypto.x3dh import PrekeyStore

NOW = 1_800_000_000


@dataclass
class Pair:
    """Two parties with established sessions (the prekey phase is over)."""

    alice_identity: IdentityKeyPair
    bob_identity: IdentityKeyPair
    alice: Session
    bob: Session


def new_store(identity: IdentityKeyPair, one_time: int = 3) -> PrekeyStore:
    """A responder's prekey store."""
    return PrekeyStore.create(identity, NOW, one_time)


def start(finish_handshake: bool = True) -> Pair:
    """Alice initiates to Bob; Bob answers once unless told not to."""
    alice_id, bob_id = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = new_store(bob_id)
    bundle = store.bundle(bob_id, store.one_time_prekeys()[0][0])
    alice, first = Session.initiate(alice_id, bundle, bob_id.public, Text("hello"))
    bob, _ = Session.respond(bob_id, store, first)
    if finish_handshake:
        alice.decrypt(bob.encrypt(Text("welcome")))
    return Pair(alice_id, bob_id, alice, bob)
