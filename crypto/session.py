"""A conversation's end-to-end session: X3DH to start, the Double Ratchet after, envelopes on the wire.

    # initiator (client), after verifying the publication and getting consent:
    session, envelope = Session.initiate(own_identity, bundle, pinned_identity, Introduction(...))
    # responder (counselor), on the first envelope from a new peer:
    session, message = Session.respond(own_identity, prekey_store, envelope)
    # then, both sides:
    envelope = session.encrypt(Text("..."))
    message = session.decrypt(envelope)        # DecryptedMessage(message_id, payload)
    stored = session.to_bytes(); session = Session.from_bytes(stored)

Until the initiator has decrypted a reply it keeps sending *prekey* envelopes (each carrying the
same X3DH header), so the responder can start the session from whichever arrives first; the
responder's session accepts later prekey envelopes only with that same X3DH header.

The API is synchronous: every call is pure CPU (tens of microseconds; see `bench/crypto.py`), so
the asyncio client core calls it directly. A `Session` is not thread-safe; use one per task.

Associated data of every message (`lp` = u32 big-endian length prefix):

    lp("securechat/v1/ad") || lp(initiator Ed25519 identity) || lp(responder Ed25519 identity)
      || lp(envelope prefix: version || kind || x3dh header) , then the ratchet header.

Invariants:
- `decrypt` and `respond` are transactional: on any exception neither the session nor the
  prekey store has changed (the one-time prekey is consumed only after success).
- Stored form: msgpack `[1, role, own identity, peer identity, x3dh header, awaiting_reply,
  ratchet JSON]`; unknown versions are refused with `InvalidState`.
"""

from __future__ import annotations

from typing import Any

from crypto._codec import lp, pack, unpack
from crypto.envelope import (
    DecryptedMessage,
    Envelope,
    EnvelopeKind,
    Payload,
    encode_plaintext,
    new_message_id,
    prefix_for,
)
from crypto.errors import (
    DecryptionError,
    InvalidKey,
    InvalidState,
    MalformedEnvelope,
)
from crypto.keys import IdentityKeyPair, IdentityPublicKey
from crypto.ratchet import Ratchet
from crypto.x3dh import PrekeyBundle, PrekeyStore, X3DHHeader, initiate

__all__ = ["AD_DOMAIN", "Session"]

AD_DOMAIN = b"securechat/v1/ad"
_STATE_VERSION = 1
_MAX_STATE_SIZE = 4 * 1024 * 1024


def _session_ad(initiator: IdentityPublicKey, responder: IdentityPublicKey) -> bytes:
    return lp(AD_DOMAIN) + lp(initiator.to_bytes()) + lp(responder.to_bytes())


class Session:
    """An end-to-end session with one peer. Secret: prints `<redacted>`."""

    __slots__ = (
        "_ad",
        "_awaiting_reply",
        "_initiator",
        "_message_ad",
        "_own",
        "_peer",
        "_ratchet",
        "_x3dh",
    )

    def __init__(
        self,
        ratchet: Ratchet,
        own: IdentityPublicKey,
        peer: IdentityPublicKey,
        initiator: bool,
        x3dh: X3DHHeader,
        awaiting_reply: bool,
    ) -> None:
        self._ratchet = ratchet
        self._own = own
        self._peer = peer
        self._initiator = initiator
        self._x3dh = x3dh
        self._awaiting_reply = awaiting_reply
        self._ad = _session_ad(own, peer) if initiator else _session_ad(peer, own)
        self._message_ad = self._ad + lp(prefix_for(EnvelopeKind.MESSAGE, None))

    # ------------------------------------------------------------------------------ set-up

    @classmethod
    def initiate(
        cls,
        own_identity: IdentityKeyPair,
        bundle: PrekeyBundle,
        pinned_identity: IdentityPublicKey,
        first: Payload,
    ) -> tuple[Session, bytes]:
        """Verify `bundle` against the identity the invite pinned, run X3DH, encrypt `first`.

        Returns:
            The session and the first (prekey) envelope to send.

        Raises:
            IdentityMismatch: the bundle's identity key is not `pinned_identity`.
            InvalidSignature: the signed prekey's signature does not verify.
            MalformedEnvelope: the bundle is inconsistent or `first` breaks a payload limit.
        """
        secret, x3dh = initiate(own_identity, bundle, pinned_identity)
        prefix = prefix_for(EnvelopeKind.PREKEY, x3dh)
        ad = _session_ad(own_identity.public, bundle.identity)
        plaintext = encode_plaintext(new_message_id(), first)
        ratchet, header, ciphertext = Ratchet.initiate(
            secret, bundle.signed_prekey, plaintext, ad + lp(prefix)
        )
        session = cls(ratchet, own_identity.public, bundle.identity, True, x3dh, True)
        return session, Envelope(EnvelopeKind.PREKEY, x3dh, header, ciphertext).to_bytes()

    @classmethod
    def respond(
        cls, own_identity: IdentityKeyPair, store: PrekeyStore, untrusted_envelope: bytes
    ) -> tuple[Session, DecryptedMessage]:
        """Start the responder's session from a prekey envelope; consume its one-time prekey.

        The caller decides whether to trust the initiator's identity (`Session.peer_identity`),
        e.g. by the consent record inside and later by safety numbers.

        Raises:
            MalformedEnvelope: not a well-formed prekey envelope.
            InvalidKey: a key in it is malformed or of low order.
            DecryptionError: it does not decrypt (tampered, unknown or used prekey).
            TooManySkipped: it lies more than the skip bound into its chain.
        """
        env = Envelope.parse(untrusted_envelope)
        if env.kind is not EnvelopeKind.PREKEY or env.x3dh is None:
            raise MalformedEnvelope("not a prekey envelope")
        x3dh = env.x3dh
        secret, spk = store.agree(own_identity, x3dh)
        ad = _session_ad(x3dh.initiator_identity, own_identity.public)
        ratchet, message = Ratchet.respond(
            secret, spk, env.header, env.ciphertext, ad + lp(env.prefix())
        )
        store.consume(x3dh.one_time_prekey_id)
        session = cls(ratchet, own_identity.public, x3dh.initiator_identity, False, x3dh, False)
        return session, message

    # ------------------------------------------------------------------------------ messages

    @property
    def peer_identity(self) -> IdentityPublicKey:
        """The peer's identity key (for safety numbers and pinning)."""
        return self._peer

    @property
    def own_identity(self) -> IdentityPublicKey:
        """Our identity key in this session."""
        return self._own

    @property
    def is_initiator(self) -> bool:
        """Whether we started this session with X3DH."""
        return self._initiator

    @property
    def handshake(self) -> X3DHHeader:
        """The X3DH header that started this session (to route later prekey envelopes)."""
        return self._x3dh

    def encrypt(self, payload: Payload, message_id: bytes | None = None) -> bytes:
        """Encrypt a payload into an envelope. `message_id` defaults to 16 fresh random bytes.

        Raises:
            MalformedEnvelope: the payload breaks a limit.
        """
        plaintext = encode_plaintext(message_id or new_message_id(), payload)
        if self._awaiting_reply:
            prefix = prefix_for(EnvelopeKind.PREKEY, self._x3dh)
            ad = self._ad + lp(prefix)
        else:
            prefix = prefix_for(EnvelopeKind.MESSAGE, None)
            ad = self._message_ad
        header, ciphertext = self._ratchet.encrypt(plaintext, ad)
        return prefix + header.to_bytes() + ciphertext

    def decrypt(self, untrusted_envelope: bytes) -> DecryptedMessage:
        """Decrypt an envelope from the peer. On any error the session is unchanged.

        Raises:
            MalformedEnvelope: not a well-formed envelope of a known version.
            InvalidKey: a key in it is malformed or of low order.
            DecryptionError: it does not authenticate (tampered, forged, not for this session).
            ReplayedMessage: it was already decrypted (a duplicate delivery or a replay).
            TooManySkipped: it lies more than the skip bound ahead in its chain.
        """
        env = Envelope.parse(untrusted_envelope)
        if env.kind is EnvelopeKind.MESSAGE:
            ad = self._message_ad
        elif self._initiator or env.x3dh != self._x3dh:
            raise DecryptionError()
        else:
            ad = self._ad + lp(env.prefix())
        message = self._ratchet.decrypt(env.header, env.ciphertext, ad)
        self._awaiting_reply = False
        return message

    # ------------------------------------------------------------------------------ storage

    def to_bytes(self) -> bytes:
        """The stored form (contains secrets: store it only encrypted)."""
        return pack(
            [
                _STATE_VERSION,
                1 if self._initiator else 0,
                self._own.to_bytes(),
                self._peer.to_bytes(),
                self._x3dh.to_bytes(),
                self._awaiting_reply,
                self._ratchet.to_json(),
            ]
        )

    @classmethod
    def from_bytes(cls, stored: bytes) -> Session:
        """Restore a session saved with `to_bytes`.

        Raises:
            InvalidState: corrupt, or of an unknown version.
        """
        doc: Any = unpack(stored, _MAX_STATE_SIZE, InvalidState, "malformed session state")
        if not (isinstance(doc, list) and len(doc) == 7 and doc[0] == _STATE_VERSION):
            raise InvalidState("unknown session state version")
        _, role, own, peer, x3dh, awaiting, ratchet = doc
        if role not in (0, 1) or not isinstance(awaiting, bool) or not isinstance(ratchet, str):
            raise InvalidState("malformed session state")
        try:
            return cls(
                Ratchet.from_json(ratchet),
                IdentityPublicKey(own),
                IdentityPublicKey(peer),
                role == 1,
                X3DHHeader.from_bytes(x3dh),
                awaiting,
            )
        except (InvalidKey, MalformedEnvelope, TypeError) as exc:
            raise InvalidState("malformed session state") from exc

    def __repr__(self) -> str:
        return "Session(<redacted>)"

    __str__ = __repr__
