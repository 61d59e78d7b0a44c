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


def state_secrets(stored: bytes) -> list[bytes]:
    """Every byte string in a stored session's ratchet state: root, chain and skipped message
    keys, the ratchet private key (and its 32-byte scalar), as an attacker holding a copy sees
    them. Read through the library's own model, so no field is missed."""
    import json

    import msgpack
    from pydantic import BaseModel

    from crypto.ratchet import _CONFIG, _DoubleRatchet

    ratchet_json = msgpack.unpackb(stored)[6]
    model = _DoubleRatchet.from_json(json.loads(ratchet_json), **_CONFIG).model
    found: list[bytes] = []

    def walk(value: object) -> None:
        if isinstance(value, bytes):
            found.extend([value, value[:32]] if len(value) == 64 else [value])
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)

    walk(model)
    return found


def attacker_opens(stored: bytes, envelope: bytes, chain_steps: int = 8) -> bool:
    """Whether any key an attacker can compute from a stored session opens `envelope`.

    Tries each secret in the state as a message key; as a chain key, the message keys of the
    next `chain_steps` steps; as a root key, one DH ratchet step with every private scalar in
    the state and the envelope's ratchet key, then the new chain's first `chain_steps` keys.
    The AEAD is called directly with the envelope's true associated data, so a failure means
    the key is wrong, not that some check refused it.
    """
    import hmac

    import nacl.bindings
    import nacl.exceptions

    from crypto._codec import hkdf_sha256, lp
    from crypto.envelope import NONCE_SIZE, Envelope
    from crypto.ratchet import ROOT_KDF_INFO, _DoubleRatchet, _to_header

    session = Session.from_bytes(stored)
    env = Envelope.parse(envelope)
    ad = _DoubleRatchet._build_associated_data(
        session._ad + lp(env.prefix()), _to_header(env.header)
    )
    nonce, sealed = env.ciphertext[:NONCE_SIZE], env.ciphertext[NONCE_SIZE:]
    secrets = [s for s in state_secrets(stored) if len(s) == 32]

    def chain(key: bytes) -> list[bytes]:
        keys = []
        for _ in range(chain_steps):
            keys.append(hmac.digest(key, b"\x01", "sha256"))
            key = hmac.digest(key, b"\x02", "sha256")
        return keys

    candidates = list(secrets)
    for secret in secrets:
        candidates += chain(secret)
        for scalar in secrets:
            try:
                dh = nacl.bindings.crypto_scalarmult(scalar, env.header.ratchet_pub.to_bytes())
            except nacl.exceptions.RuntimeError:
                continue
            candidates += chain(hkdf_sha256(secret, dh, ROOT_KDF_INFO, 64)[32:])
    for key in candidates:
        try:
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, ad, nonce, key)
        except nacl.exceptions.CryptoError:
            continue
        return True
    return False
