"""The Double Ratchet: python-doubleratchet with PyNaCl plugged in, driven synchronously.

Choices plugged into `doubleratchet` (pinned `>=1.3,<2`):
- AEAD: XChaCha20-Poly1305-IETF (libsodium through PyNaCl's public `nacl.bindings`) with a
  random 24-byte nonce prepended. Decryption
  also checks the padding and the inner payload, so a message that authenticates but does not
  parse is refused *before* the library commits its state.
- DH: X25519 (libsodium). A ratchet "private key" as the library sees it is the 64 bytes
  `scalar || public`, so the per-message header needs no scalar multiplication.
- Root KDF: HKDF-SHA-256, salt = root key, ikm = DH output, info = "securechat/v1/ratchet-root".
- Chain KDF: HMAC-SHA-256, chain key' = HMAC(ck, 0x02), message key = HMAC(ck, 0x01).
  Both KDFs compute exactly what the library's `recommended.kdf_hkdf` / `kdf_separate_hmacs`
  compute (a test checks it), with the standard library's `hmac` instead of `cryptography`,
  which is several times faster per call.
- The library deep-copies the DH ratchet on every decryption (its transaction); `_Dh` provides a
  `__deepcopy__` that copies exactly the mutable chain objects, falling back to `copy.deepcopy`
  for anything unexpected. Profiling showed the generic deep copy was most of a decryption.
- Associated data: `lp(ad) || ratchet_pub || pn (u32) || n (u32)` (`lp` = u32 length prefix), where
  `ad` is built by `crypto.session` and binds both identity keys and the envelope prefix.
- Bounds: at most `MAX_SKIP` (1000) keys are derived for one chain; more raises
  `TooManySkipped`. At most `MAX_SKIPPED_KEYS` (1000) skipped keys are kept in all; the oldest
  are dropped first.

The library is async but never suspends (pure CPU); `_run` drives its coroutines to completion
without an event loop, so this module and `crypto.session` are synchronous. Call them from the
asyncio client core directly (a step costs tens of microseconds) or in an executor.

Invariants:
- `Ratchet.decrypt` is transactional: on any exception the state is as before (the library works
  on a copy and commits on success; the AEAD validates the payload before that commit).
- No exception message carries key material or attacker-controlled bytes.
"""

from __future__ import annotations

import copy
import hmac
import json
import struct
import warnings
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import nacl.bindings
import nacl.exceptions
import nacl.utils
import pydantic
from doubleratchet import aead as dr_aead
from doubleratchet import diffie_hellman_ratchet as dr_dh
from doubleratchet import kdf as dr_kdf
from doubleratchet.double_ratchet import DoubleRatchet
from doubleratchet.kdf_chain import KDFChain
from doubleratchet.migrations import InconsistentSerializationException
from doubleratchet.symmetric_key_ratchet import SymmetricKeyRatchet
from doubleratchet.types import EncryptedMessage, Header

from crypto._codec import hkdf_sha256
from crypto.envelope import (
    MAX_PADDED_SIZE,
    NONCE_SIZE,
    TAG_SIZE,
    DecryptedMessage,
    RatchetHeader,
    decode_plaintext,
)
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidState,
    ReplayedMessage,
    TooManySkipped,
)
from crypto.keys import X25519KeyPair, X25519PublicKey

_aead_encrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
_aead_decrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt

__all__ = ["MAX_SKIP", "MAX_SKIPPED_KEYS", "ROOT_KDF_INFO", "Ratchet"]

MAX_SKIP = 1000
MAX_SKIPPED_KEYS = 1000
ROOT_KDF_INFO = b"securechat/v1/ratchet-root"
_CHAIN_CONSTANT = b"\x02\x01"

_T = TypeVar("_T")


# The payload decoded while validating inside the AEAD, handed back to `Ratchet` so a message is
# parsed once. A ContextVar keeps concurrent threads and tasks apart.
_DECODED: ContextVar[DecryptedMessage | None] = ContextVar("_DECODED", default=None)


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Drive a coroutine that never suspends to completion."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(_T, done.value)
    coro.close()
    raise RuntimeError("ratchet coroutine suspended")  # pragma: no cover


class _Aead(dr_aead.AEAD):
    @staticmethod
    async def encrypt(plaintext: bytes, key: bytes, associated_data: bytes) -> bytes:
        nonce = nacl.utils.random(NONCE_SIZE)
        return nonce + _aead_encrypt(plaintext, associated_data, nonce, key)

    @staticmethod
    async def decrypt(ciphertext: bytes, key: bytes, associated_data: bytes) -> bytes:
        if len(ciphertext) < NONCE_SIZE + TAG_SIZE:
            raise dr_aead.DecryptionFailedException("short ciphertext")
        try:
            plaintext = _aead_decrypt(
                ciphertext[NONCE_SIZE:], associated_data, ciphertext[:NONCE_SIZE], key
            )
        except nacl.exceptions.CryptoError as exc:
            raise dr_aead.AuthenticationFailedException("authentication failed") from exc
        try:
            _DECODED.set(decode_plaintext(plaintext))
        except CryptoError as exc:
            raise dr_aead.DecryptionFailedException("malformed plaintext") from exc
        return plaintext


_IMMUTABLE = frozenset((bytes, int, str, bool, type(None)))
_CHAINS = frozenset((KDFChain, SymmetricKeyRatchet))


def _clone(obj: Any, memo: dict[int, Any]) -> Any:
    """Copy a ratchet object: new objects for every chain, shared immutable values."""
    new = object.__new__(type(obj))
    fields = obj.__dict__.copy()
    for name, value in fields.items():
        kind = type(value)
        if kind in _CHAINS:
            fields[name] = _clone(value, memo)
        elif kind not in _IMMUTABLE and not isinstance(value, type):
            fields[name] = copy.deepcopy(value, memo)  # pragma: no cover - future fields
    new.__dict__ = fields
    return new


class _Dh(dr_dh.DiffieHellmanRatchet):
    def __deepcopy__(self, memo: dict[int, Any]) -> _Dh:
        return cast(_Dh, _clone(self, memo))

    @staticmethod
    def _generate_priv() -> bytes:
        pair = X25519KeyPair.generate()
        return pair.to_bytes() + pair.public.to_bytes()

    @staticmethod
    def _derive_pub(priv: bytes) -> bytes:
        return priv[32:]

    @staticmethod
    def _perform_diffie_hellman(own_priv: bytes, other_pub: bytes) -> bytes:
        return nacl.bindings.crypto_scalarmult(own_priv[:32], other_pub)


class _RootKdf(dr_kdf.KDF):
    """HKDF-SHA-256 with the key as salt and the data as input key material."""

    @staticmethod
    async def derive(key: bytes, data: bytes, length: int) -> bytes:
        return hkdf_sha256(key, data, ROOT_KDF_INFO, length)


class _ChainKdf(dr_kdf.KDF):
    """One HMAC-SHA-256 per byte of `data`, concatenated."""

    @staticmethod
    async def derive(key: bytes, data: bytes, length: int) -> bytes:
        if length != 32 * len(data):  # pragma: no cover - fixed by the library's use
            raise ValueError("chain KDF output length")
        keyed = hmac.new(key, digestmod="sha256")  # keyed once, copied per byte: cheaper
        out = []
        for byte in data:
            mac = keyed.copy()
            mac.update(bytes((byte,)))
            out.append(mac.digest())
        return b"".join(out)


class _DoubleRatchet(DoubleRatchet):
    @staticmethod
    def _build_associated_data(associated_data: bytes, header: Header) -> bytes:
        return (
            struct.pack(">I", len(associated_data))
            + associated_data
            + header.ratchet_pub
            + struct.pack(">II", header.previous_sending_chain_length, header.sending_chain_length)
        )


_CONFIG: dict[str, Any] = {
    "diffie_hellman_ratchet_class": _Dh,
    "root_chain_kdf": _RootKdf,
    "message_chain_kdf": _ChainKdf,
    "message_chain_constant": _CHAIN_CONSTANT,
    "dos_protection_threshold": MAX_SKIP,
    "max_num_skipped_message_keys": MAX_SKIPPED_KEYS,
    "aead": _Aead,
}


def _to_header(header: RatchetHeader) -> Header:
    return Header(header.ratchet_pub.to_bytes(), header.previous_chain_length, header.index)


def _from_header(header: Header) -> RatchetHeader:
    return RatchetHeader(
        X25519PublicKey(header.ratchet_pub),
        header.previous_sending_chain_length,
        header.sending_chain_length,
    )


def _take_decoded() -> DecryptedMessage:
    message = _DECODED.get()
    _DECODED.set(None)
    if message is None:  # pragma: no cover - the AEAD always sets it on success
        raise DecryptionError()
    return message


def _decrypting(call: Coroutine[Any, Any, _T], quiet: bool = False) -> _T:
    """Run a library decryption, mapping its exceptions onto ours.

    With `quiet`, the library's warning for a DH step that skips more than MAX_SKIP keys of the
    previous chain is suppressed: the session moves on and those messages are lost, which is the
    bound doing its job. (`catch_warnings` is used only then: it is not thread-safe.)
    """
    try:
        if quiet:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return _run(call)
        return _run(call)
    except dr_dh.DoSProtectionException as exc:
        raise TooManySkipped(
            f"message lies more than {MAX_SKIP} messages ahead in its chain"
        ) from exc
    except dr_dh.DuplicateMessageException as exc:
        raise ReplayedMessage() from exc
    except (
        dr_aead.AuthenticationFailedException,
        dr_aead.DecryptionFailedException,
        nacl.exceptions.CryptoError,
        ValueError,
    ) as exc:
        raise DecryptionError() from exc


class Ratchet:
    """One party's Double Ratchet state. Secret: prints `<redacted>`."""

    __slots__ = ("_dr",)

    def __init__(self, dr: _DoubleRatchet) -> None:
        self._dr = dr

    @classmethod
    def initiate(
        cls,
        shared_secret: bytes,
        peer_ratchet_key: X25519PublicKey,
        padded_plaintext: bytes,
        associated_data: bytes,
    ) -> tuple[Ratchet, RatchetHeader, bytes]:
        """Start as the initiator (X3DH's Alice) and encrypt the first message.

        Returns:
            The ratchet, the first message's header and its ciphertext.
        """
        dr, message = _run(
            _DoubleRatchet.encrypt_initial_message(
                shared_secret=shared_secret,
                recipient_ratchet_pub=peer_ratchet_key.to_bytes(),
                message=padded_plaintext,
                associated_data=associated_data,
                **_CONFIG,
            )
        )
        return cls(dr), _from_header(message.header), message.ciphertext

    @classmethod
    def respond(
        cls,
        shared_secret: bytes,
        own_ratchet_key: X25519KeyPair,
        header: RatchetHeader,
        ciphertext: bytes,
        associated_data: bytes,
    ) -> tuple[Ratchet, DecryptedMessage]:
        """Start as the responder (X3DH's Bob) from the first message to arrive.

        Returns:
            The ratchet and the decoded message.

        Raises:
            DecryptionError: the message does not authenticate.
            TooManySkipped: it lies more than `MAX_SKIP` messages into the chain.
        """
        priv = own_ratchet_key.to_bytes() + own_ratchet_key.public.to_bytes()
        dr, _ = _decrypting(
            _DoubleRatchet.decrypt_initial_message(
                shared_secret=shared_secret,
                own_ratchet_priv=priv,
                message=EncryptedMessage(_to_header(header), ciphertext),
                associated_data=associated_data,
                **_CONFIG,
            )
        )
        return cls(dr), _take_decoded()

    def encrypt(
        self, padded_plaintext: bytes, associated_data: bytes
    ) -> tuple[RatchetHeader, bytes]:
        """Encrypt the next message: its header and ciphertext (nonce || AEAD output)."""
        if len(padded_plaintext) > MAX_PADDED_SIZE:  # pragma: no cover - checked by the caller
            raise ValueError("plaintext too large")
        message = _run(self._dr.encrypt_message(padded_plaintext, associated_data))
        return _from_header(message.header), message.ciphertext

    def decrypt(
        self, header: RatchetHeader, ciphertext: bytes, associated_data: bytes
    ) -> DecryptedMessage:
        """Decrypt and decode a message; the state changes only if this succeeds.

        Raises:
            DecryptionError: the message does not authenticate or does not parse.
            ReplayedMessage: its key was already used.
            TooManySkipped: it lies more than `MAX_SKIP` messages ahead in its chain.
        """
        quiet = False
        if header.previous_chain_length > MAX_SKIP:  # only then can the previous chain overflow
            receiving = self._dr.receiving_chain_length
            quiet = receiving is not None and header.previous_chain_length - receiving > MAX_SKIP
        _decrypting(
            self._dr.decrypt_message(
                EncryptedMessage(_to_header(header), ciphertext), associated_data
            ),
            quiet,
        )
        return _take_decoded()

    def to_json(self) -> str:
        """The library's own versioned JSON model of the state (contains secrets)."""
        return self._dr.model.model_dump_json()

    @classmethod
    def from_json(cls, stored: str) -> Ratchet:
        """Restore from `to_json`, through the library's migrations.

        Raises:
            InvalidState: the stored state is corrupt.
        """
        try:
            return cls(_DoubleRatchet.from_json(json.loads(stored), **_CONFIG))
        except (
            ValueError,
            TypeError,
            KeyError,
            pydantic.ValidationError,
            InconsistentSerializationException,
        ) as exc:
            raise InvalidState("malformed ratchet state") from exc

    def __repr__(self) -> str:
        return "Ratchet(<redacted>)"

    __str__ = __repr__
