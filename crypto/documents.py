"""Signed documents: a counselor's publication and a client's consent record.

Each document has a canonical body (msgpack, fixed field order, no maps) and is signed with
Ed25519 over `domain || body`, where the domain string names the document type, so a signature
for one kind of document can never be presented as another:

    publication     "securechat/v1/publication\\x00"
    consent         "securechat/v1/consent\\x00"
    countersign     "securechat/v1/consent-countersignature\\x00"  (over body || client signature)
    disclosure hash SHA-256("securechat/v1/disclosure\\x00" || msgpack [language, version, text])

Stored/wire forms (msgpack):

    publication  [1, body, signature]
        body = [1, identity, profile, disclosures, [spk_id, spk, spk_signature], issued_at]
        profile = [display_name, credentials, [specialisations], [languages], service_hours,
                   response_time, time_zone]
        disclosures = [[language, version, text], ...]
    consent      [1, body, client_signature, counselor_signature | nil]
        body = [1, disclosure_hash, disclosure_version, language, time, client_identity,
                counselor_identity]

Invariants:
- A verify function returns a value only if every signature in the document verifies with the
  key named in the document, and that key is the one pinned by the caller when one is given.
- Parsing is strict: exact field counts and types, bounded sizes, and only the canonical
  encoding (what `pack` produces) of both the outer document and the signed body
  (`MalformedDocument`), so a document has one byte form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from crypto._codec import pack, unpack
from crypto.errors import (
    IdentityMismatch,
    MalformedDocument,
    MalformedEnvelope,
)
from crypto.keys import IdentityKeyPair, IdentityPublicKey, X25519PublicKey
from crypto.x3dh import NO_ONE_TIME_PREKEY, PrekeyBundle

__all__ = [
    "CONSENT_DOMAIN",
    "COUNTERSIGN_DOMAIN",
    "DISCLOSURE_DOMAIN",
    "PUBLICATION_DOMAIN",
    "ConsentRecord",
    "Disclosure",
    "Profile",
    "Publication",
    "countersign_consent",
    "sign_consent",
    "sign_publication",
    "verify_consent",
    "verify_publication",
]

PUBLICATION_DOMAIN = b"securechat/v1/publication\x00"
CONSENT_DOMAIN = b"securechat/v1/consent\x00"
COUNTERSIGN_DOMAIN = b"securechat/v1/consent-countersignature\x00"
DISCLOSURE_DOMAIN = b"securechat/v1/disclosure\x00"
_VERSION = 1
_MAX_DOCUMENT = 256 * 1024
_MAX_FIELD = 1024
_MAX_TEXT = 64 * 1024
_MAX_ITEMS = 32


def _str(value: Any, limit: int = _MAX_FIELD) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedDocument("text field invalid or too long")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise MalformedDocument("integer field invalid")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        raise MalformedDocument("list field invalid or too long")
    return tuple(_str(v) for v in value)


def _bin(value: Any, size: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise MalformedDocument("binary field invalid")
    return value


def _list(value: Any, size: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != size:
        raise MalformedDocument("malformed document")
    return value


def _canonical(untrusted: bytes, size: int) -> list[Any]:
    """Decode a list of `size` fields, refusing any encoding but the canonical one, so each
    document (and each signed body) has exactly one byte form."""
    doc = _list(unpack(untrusted, _MAX_DOCUMENT, MalformedDocument, "malformed document"), size)
    if pack(doc) != untrusted:
        raise MalformedDocument("document is not canonically encoded")
    return doc


@dataclass(frozen=True)
class Profile:
    """A counselor's public profile."""

    display_name: str
    credentials: str
    specialisations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    service_hours: str = ""
    response_time: str = ""
    time_zone: str = ""

    def _encode(self) -> list[Any]:
        return [
            self.display_name,
            self.credentials,
            list(self.specialisations),
            list(self.languages),
            self.service_hours,
            self.response_time,
            self.time_zone,
        ]

    @classmethod
    def _decode(cls, value: Any) -> Profile:
        f = _list(value, 7)
        return cls(
            _str(f[0]), _str(f[1]), _strs(f[2]), _strs(f[3]), _str(f[4]), _str(f[5]), _str(f[6])
        )


@dataclass(frozen=True)
class Disclosure:
    """The scope-of-service disclosure in one language, with its version."""

    language: str
    version: int
    text: str

    def digest(self) -> bytes:
        """SHA-256 over the domain and the canonical encoding: what a consent record names."""
        return hashlib.sha256(
            DISCLOSURE_DOMAIN + pack([self.language, self.version, self.text])
        ).digest()


@dataclass(frozen=True)
class Publication:
    """A verified counselor publication."""

    identity: IdentityPublicKey
    profile: Profile
    disclosures: tuple[Disclosure, ...]
    signed_prekey_id: int
    signed_prekey: X25519PublicKey
    signed_prekey_signature: bytes
    issued_at: int

    def disclosure(self, language: str) -> Disclosure | None:
        """The disclosure in `language`, if published."""
        return next((d for d in self.disclosures if d.language == language), None)

    def bundle(
        self,
        one_time_prekey_id: int = NO_ONE_TIME_PREKEY,
        one_time_prekey: X25519PublicKey | None = None,
    ) -> PrekeyBundle:
        """The prekey bundle, with the one-time prekey the relay handed out (if any)."""
        return PrekeyBundle(
            self.identity,
            self.signed_prekey_id,
            self.signed_prekey,
            self.signed_prekey_signature,
            one_time_prekey_id,
            one_time_prekey,
        )


def sign_publication(
    identity: IdentityKeyPair,
    profile: Profile,
    disclosures: tuple[Disclosure, ...],
    bundle: PrekeyBundle,
    issued_at: int,
) -> bytes:
    """Sign a publication (profile, disclosures, signed prekey) with the identity key.

    Raises:
        MalformedDocument: a field breaks a limit (checked by parsing the result back).
        IdentityMismatch: the bundle belongs to another identity.
    """
    if bundle.identity != identity.public:
        raise IdentityMismatch("the bundle belongs to another identity")
    body = pack(
        [
            _VERSION,
            identity.public.to_bytes(),
            profile._encode(),
            [[d.language, d.version, d.text] for d in disclosures],
            [
                bundle.signed_prekey_id,
                bundle.signed_prekey.to_bytes(),
                bundle.signed_prekey_signature,
            ],
            issued_at,
        ]
    )
    signed = pack([_VERSION, body, identity.sign(PUBLICATION_DOMAIN + body)])
    verify_publication(signed, identity.public)
    return signed


def verify_publication(
    untrusted: bytes, pinned_identity: IdentityPublicKey | None = None
) -> Publication:
    """Parse and verify a publication, including its signed prekey.

    Raises:
        MalformedDocument: not a publication of a known version, or a field out of bounds.
        InvalidKey: a key in it is malformed or of low order.
        IdentityMismatch: its identity key is not `pinned_identity`.
        InvalidSignature: the publication or signed-prekey signature does not verify.
    """
    outer = _canonical(untrusted, 3)
    if outer[0] != _VERSION or not isinstance(outer[1], bytes):
        raise MalformedDocument("unknown publication version")
    body_bytes, signature = outer[1], _bin(outer[2], 64)
    body = _canonical(body_bytes, 6)
    if body[0] != _VERSION:
        raise MalformedDocument("unknown publication version")
    identity = IdentityPublicKey(_bin(body[1], 32))
    if pinned_identity is not None and identity != pinned_identity:
        raise IdentityMismatch("the publication's identity key does not match the invite")
    identity.verify(signature, PUBLICATION_DOMAIN + body_bytes)
    if not isinstance(body[3], list) or len(body[3]) > _MAX_ITEMS:
        raise MalformedDocument("too many disclosures")
    disclosures = []
    for entry in body[3]:
        d = _list(entry, 3)
        disclosures.append(Disclosure(_str(d[0]), _int(d[1]), _str(d[2], _MAX_TEXT)))
    spk = _list(body[4], 3)
    publication = Publication(
        identity,
        Profile._decode(body[2]),
        tuple(disclosures),
        _int(spk[0]),
        X25519PublicKey(_bin(spk[1], 32)),
        _bin(spk[2], 64),
        _int(body[5]),
    )
    try:
        publication.bundle().verify(identity)
    except MalformedEnvelope as exc:  # pragma: no cover - no one-time prekey here
        raise MalformedDocument("malformed prekey in publication") from exc
    return publication


@dataclass(frozen=True)
class ConsentRecord:
    """A client's consent to one version of a counselor's disclosure."""

    disclosure_hash: bytes
    disclosure_version: int
    language: str
    time: int
    client_identity: IdentityPublicKey
    counselor_identity: IdentityPublicKey

    def _body(self) -> bytes:
        return pack(
            [
                _VERSION,
                self.disclosure_hash,
                self.disclosure_version,
                self.language,
                self.time,
                self.client_identity.to_bytes(),
                self.counselor_identity.to_bytes(),
            ]
        )


def sign_consent(client: IdentityKeyPair, record: ConsentRecord) -> bytes:
    """The client signs its consent record.

    Raises:
        IdentityMismatch: the record names another client identity.
    """
    if record.client_identity != client.public:
        raise IdentityMismatch("the consent record names another client")
    body = record._body()
    return pack([_VERSION, body, client.sign(CONSENT_DOMAIN + body), None])


def countersign_consent(counselor: IdentityKeyPair, untrusted_signed: bytes) -> bytes:
    """The counselor verifies the client's signature and counter-signs.

    Raises:
        MalformedDocument, InvalidKey, InvalidSignature: as `verify_consent`.
        IdentityMismatch: the record names another counselor.
    """
    record = verify_consent(untrusted_signed, require_countersignature=False)
    if record.counselor_identity != counselor.public:
        raise IdentityMismatch("the consent record names another counselor")
    outer = unpack(untrusted_signed, _MAX_DOCUMENT, MalformedDocument, "malformed document")
    body, client_sig = outer[1], outer[2]
    return pack(
        [_VERSION, body, client_sig, counselor.sign(COUNTERSIGN_DOMAIN + body + client_sig)]
    )


def verify_consent(untrusted: bytes, require_countersignature: bool = True) -> ConsentRecord:
    """Parse and verify a consent record: the client's signature, and the counselor's.

    Raises:
        MalformedDocument: not a consent record of a known version; counter-signature missing
            when required.
        InvalidKey: a key in it is malformed or of low order.
        InvalidSignature: a signature does not verify.
    """
    outer = _canonical(untrusted, 4)
    if outer[0] != _VERSION or not isinstance(outer[1], bytes):
        raise MalformedDocument("unknown consent record version")
    body_bytes, client_sig = outer[1], _bin(outer[2], 64)
    body = _canonical(body_bytes, 7)
    if body[0] != _VERSION:
        raise MalformedDocument("unknown consent record version")
    record = ConsentRecord(
        _bin(body[1], 32),
        _int(body[2]),
        _str(body[3]),
        _int(body[4]),
        IdentityPublicKey(_bin(body[5], 32)),
        IdentityPublicKey(_bin(body[6], 32)),
    )
    record.client_identity.verify(client_sig, CONSENT_DOMAIN + body_bytes)
    if outer[3] is None:
        if require_countersignature:
            raise MalformedDocument("the consent record is not counter-signed")
        return record
    counter_sig = _bin(outer[3], 64)
    record.counselor_identity.verify(counter_sig, COUNTERSIGN_DOMAIN + body_bytes + client_sig)
    return record
