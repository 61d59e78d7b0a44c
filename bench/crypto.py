"""Benchmark of the end-to-end crypto core: cost per message, beside raw libsodium.

Run `python bench/crypto.py` from the repository root. It prints medians (in microseconds) over
repeated runs, measured in one process on this machine:

- symmetric step: encrypt and decrypt of messages in one sending chain (no DH),
- DH step: encrypt and decrypt in a ping-pong exchange, where every decrypt performs a
  Diffie-Hellman ratchet step (two X25519 multiplications and one key generation). In
  python-doubleratchet the whole DH step happens when the peer's new ratchet key is *received*;
  the encrypt that follows is the first message of the new chain and costs a symmetric step,
- baselines: one raw PyNaCl XChaCha20-Poly1305-IETF encryption of the same padded size, and one
  raw X25519 scalar multiplication,

and the ratio of each step to the baselines. Tests never assert on time; this script only prints.
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
ROUNDS = 7
TEXT = Text("a sentence of ordinary length, as a client would type it " * 2)


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
    dec = [_timed(lambda e=e: b.decrypt(e)) for e in envelopes]
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


def baseline_round() -> tuple[float, float]:
    key, nonce = nacl.utils.random(32), nacl.utils.random(24)
    padded = nacl.bindings.sodium_pad(b"x" * 150, 256)
    ad = b"a" * 150
    aead = [
        _timed(
            lambda: nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, key)
        )
        for _ in range(MESSAGES)
    ]
    scalar, point = (
        nacl.utils.random(32),
        nacl.bindings.crypto_scalarmult_base(nacl.utils.random(32)),
    )
    x25519 = [
        _timed(lambda: nacl.bindings.crypto_scalarmult(scalar, point)) for _ in range(MESSAGES)
    ]
    return statistics.median(aead), statistics.median(x25519)


def main() -> None:
    results: dict[str, list[float]] = {k: [] for k in ("se", "sd", "de", "dd", "aead", "x25519")}
    for _ in range(ROUNDS):
        se, sd = symmetric_round()
        de, dd = dh_round()
        aead, x25519 = baseline_round()
        for key, value in zip(results, (se, sd, de, dd, aead, x25519), strict=True):
            results[key].append(value)
    m = {key: statistics.median(values) for key, values in results.items()}
    print(f"crypto core, {MESSAGES} messages x {ROUNDS} rounds, medians in microseconds")
    print(f"  raw XChaCha20-Poly1305 encrypt (256 B)  {m['aead']:8.1f}")
    print(f"  raw X25519 scalar multiplication        {m['x25519']:8.1f}")
    rows = (
        ("symmetric step, encrypt", "se", 60),
        ("symmetric step, decrypt", "sd", 60),
        ("DH step, encrypt", "de", 250),
        ("DH step, decrypt", "dd", 250),
    )
    print("  (targets are for the reference machine; compare the ratios when this one is slower)")
    for label, key, target in rows:
        print(
            f"  {label:<39} {m[key]:8.1f}   x{m[key] / m['aead']:5.1f} AEAD"
            f"  x{m[key] / m['x25519']:4.1f} X25519   (target <= {target})"
        )


if __name__ == "__main__":
    main()
