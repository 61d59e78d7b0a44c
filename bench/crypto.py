"""Benchmark of the end-to-end crypto core: cost per message, beside raw libsodium.

Run `python bench/crypto.py` from the repository root. It prints medians (in microseconds) over
repeated runs, measured in one process on this machine:

- symmetric step: encrypt and decrypt of messages in one sending chain (no DH),
- DH step: encrypt and decrypt in a ping-pong exchange, where every decrypt performs a
  Diffie-Hellman ratchet step (two X25519 multiplications and one key generation). In
  python-doubleratchet the whole DH step happens when the peer's new ratchet key is *received*;
  the encrypt that follows is the first message of the new chain and costs a symmetric step,
- baselines: one raw PyNaCl XChaCha20-Poly1305-IETF encryption and decryption of the same padded
  size (256 bytes) and associated-data length, and one raw X25519 scalar multiplication.

Each round measures the steps and then the baselines, a fraction of a second apart; a ratio is
the median over rounds of that round's step / baseline, so a change of load on this shared
machine between rounds moves both sides of it (absolute figures move with the load, ratios much
less). Tests never assert on time; this script only prints.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.bindings
import nacl.utils

from crypto.envelope import Text
from crypto.keys import IdentityKeyPair
from crypto.session import Session
from crypto.x3dh import PrekeyStore

MESSAGES = 400
ROUNDS = 9
TEXT = Text("a sentence of ordinary length, as a client would type it " * 2)

_KEY, _NONCE = nacl.utils.random(32), nacl.utils.random(24)
_PADDED = nacl.bindings.sodium_pad(b"x" * 150, 256)
_AD = b"a" * 150
_SEALED = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(_PADDED, _AD, _NONCE, _KEY)
_SCALAR = nacl.utils.random(32)
_POINT = nacl.bindings.crypto_scalarmult_base(nacl.utils.random(32))


def raw_encrypt() -> bytes:
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(_PADDED, _AD, _NONCE, _KEY)


def raw_decrypt() -> bytes:
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(_SEALED, _AD, _NONCE, _KEY)


def raw_x25519() -> bytes:
    return nacl.bindings.crypto_scalarmult(_SCALAR, _POINT)


def _pair() -> tuple[Session, Session]:
    alice, bob = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    store = PrekeyStore.create(bob, now=0, one_time=1)
    bundle = store.bundle(bob, store.one_time_prekeys()[0][0])
    a, first = Session.initiate(alice, bundle, bob.public, TEXT)
    b, _ = Session.respond(bob, store, first)
    a.decrypt(b.encrypt(TEXT))  # leave the prekey phase
    return a, b


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1000


def symmetric_round() -> tuple[float, float]:
    a, b = _pair()
    enc: list[float] = []
    envelopes: list[bytes] = []
    for _ in range(MESSAGES):
        start = time.perf_counter_ns()
        envelopes.append(a.encrypt(TEXT))
        enc.append((time.perf_counter_ns() - start) / 1000)
    dec = [_timed(lambda e=e: b.decrypt(e)) for e in envelopes]  # type: ignore[misc]
    return statistics.median(enc), statistics.median(dec)


def dh_round() -> tuple[float, float]:
    a, b = _pair()
    enc: list[float] = []
    dec: list[float] = []
    sender, receiver = a, b
    for _ in range(MESSAGES):
        start = time.perf_counter_ns()
        envelope = sender.encrypt(TEXT)
        enc.append((time.perf_counter_ns() - start) / 1000)
        start = time.perf_counter_ns()
        receiver.decrypt(envelope)
        dec.append((time.perf_counter_ns() - start) / 1000)
        sender, receiver = receiver, sender
    return statistics.median(enc), statistics.median(dec)


def baseline_round() -> tuple[float, float, float]:
    return (
        statistics.median(_timed(raw_encrypt) for _ in range(MESSAGES)),
        statistics.median(_timed(raw_decrypt) for _ in range(MESSAGES)),
        statistics.median(_timed(raw_x25519) for _ in range(MESSAGES)),
    )


def main() -> None:
    names = ("se", "sd", "de", "dd", "aead_enc", "aead_dec", "x25519")
    rounds: list[dict[str, float]] = []
    for _ in range(ROUNDS):
        se, sd = symmetric_round()
        de, dd = dh_round()
        rounds.append(dict(zip(names, (se, sd, de, dd, *baseline_round()), strict=True)))
    m = {name: statistics.median(r[name] for r in rounds) for name in names}

    def ratio(step: str, base: str) -> float:
        """The median over rounds of each round's step / baseline: both measured seconds apart,
        so a change in the machine's load between rounds moves both."""
        return statistics.median(r[step] / r[base] for r in rounds)

    print(f"crypto core, {MESSAGES} messages x {ROUNDS} rounds, medians in microseconds")
    print("  baselines (raw PyNaCl calls in a loop, 256-byte padded message, 150-byte AD):")
    print(f"    XChaCha20-Poly1305 encrypt        {m['aead_enc']:7.1f}")
    print(f"    XChaCha20-Poly1305 decrypt        {m['aead_dec']:7.1f}")
    print(f"    X25519 scalar multiplication      {m['x25519']:7.1f}")
    print("  step                               median   / raw AEAD   / X25519   target")
    rows = (
        ("symmetric step, encrypt", "se", "aead_enc", 60),
        ("symmetric step, decrypt", "sd", "aead_dec", 60),
        ("DH step, encrypt", "de", "aead_enc", 250),
        ("DH step, decrypt", "dd", "aead_dec", 250),
    )
    for label, key, base, target in rows:
        note = "" if m[key] <= target else "  (over: compare the ratios; the machine may be loaded)"
        print(
            f"    {label:<30} {m[key]:7.1f}   x{ratio(key, base):5.1f}      "
            f"x{ratio(key, 'x25519'):4.1f}     <= {target}{note}"
        )


if __name__ == "__main__":
    main()
