"""Tests that secrets stay out of text: reprs are redacted, errors carry no detail, no logging."""

from __future__ import annotations

import ast
import traceback
from pathlib import Path

import pytest

import crypto
from crypto.envelope import Text
from crypto.errors import CryptoError
from crypto.keys import IdentityKeyPair, X25519KeyPair
from crypto.passphrase import KdfParams
from crypto.session import Session
from tests.crypto.helpers import new_store, start, state_secrets

PLAINTEXT = "my secret worry, in plain words"


def _texts(obj: object) -> list[str]:
    return [repr(obj), str(obj), f"{obj}", f"{obj!r}", repr([obj]), repr({"k": obj})]


def _leaks(text: str, secrets: list[bytes]) -> list[bytes]:
    return [s for s in secrets if len(s) >= 16 and (s.hex() in text or repr(s)[2:-1] in text)]


def test_every_secret_holding_object_prints_redacted() -> None:
    """Identity and X25519 key pairs, sessions, ratchets, prekey stores, KDF parameters, payloads
    and decrypted messages print `<redacted>` and none of their secret bytes or plaintext, however
    they are formatted."""
    pair = start()
    identity, x25519 = IdentityKeyPair.generate(), X25519KeyPair.generate()
    store = new_store(identity)
    params = KdfParams.generate(opslimit=1, memlimit=8192)
    message = pair.bob.decrypt(pair.alice.encrypt(Text(PLAINTEXT)))
    secrets = [identity.to_bytes(), x25519.to_bytes(), params.salt]
    secrets += state_secrets(pair.bob.to_bytes()) + state_secrets(pair.alice.to_bytes())
    objects: list[object] = [
        identity,
        x25519,
        pair.bob,
        pair.bob._ratchet,
        store,
        params,
        message,
        message.payload,
    ]
    for obj in objects:
        for text in _texts(obj):
            assert "<redacted>" in text, type(obj).__name__
            assert PLAINTEXT not in text
            assert _leaks(text, secrets) == [], type(obj).__name__


def test_decryption_errors_carry_no_plaintext_or_key_material() -> None:
    """The full traceback of a failed decryption (with its chained causes) shows neither the
    plaintext nor any key in either party's state."""
    pair = start()
    envelope = pair.alice.encrypt(Text(PLAINTEXT))
    tampered = envelope[:-1] + bytes((envelope[-1] ^ 1,))
    secrets = state_secrets(pair.bob.to_bytes()) + state_secrets(pair.alice.to_bytes())
    failures: list[BaseException] = []
    for bad in (tampered, envelope[:-16], b"\x01\x09" + envelope[2:]):
        with pytest.raises(CryptoError) as raised:
            pair.bob.decrypt(bad)
        failures.append(raised.value)
    pair.bob.decrypt(envelope)
    with pytest.raises(CryptoError) as replayed:
        pair.bob.decrypt(envelope)
    failures.append(replayed.value)
    for failure in failures:
        text = "".join(traceback.format_exception(failure))
        assert PLAINTEXT not in text
        assert _leaks(text, secrets) == []


def test_crypto_neither_logs_nor_prints() -> None:
    """No module in crypto/ imports logging, prints, or writes to stdout/stderr."""
    for path in Path(crypto.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in ("logging", "sys") for n in names), path.name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "breakpoint"), path.name


def test_session_keeps_no_plaintext() -> None:
    """After encrypting and decrypting, neither side's stored state contains the plaintext."""
    pair = start()
    pair.bob.decrypt(pair.alice.encrypt(Text(PLAINTEXT)))
    for session in (pair.alice, pair.bob, Session.from_bytes(pair.bob.to_bytes())):
        assert PLAINTEXT.encode() not in session.to_bytes()
