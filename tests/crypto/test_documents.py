"""Tests for crypto.documents: signed publications and counter-signed consent records."""

from __future__ import annotations

from dataclasses import replace

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.documents import (
    ConsentRecord,
    Disclosure,
    Profile,
    countersign_consent,
    sign_consent,
    sign_publication,
    verify_consent,
    verify_publication,
)
from crypto.errors import CryptoError, IdentityMismatch, InvalidSignature, MalformedDocument
from crypto.keys import IdentityKeyPair
from tests.crypto.helpers import NOW, new_store

PROFILE = Profile(
    "Dr. Sari",
    "M.Psi., Psikolog",
    ("anxiety", "grief"),
    ("id", "en"),
    "Mon-Fri 09-17",
    "24h",
    "Asia/Jakarta",
)
DISCLOSURES = (
    Disclosure("en", 3, "Scope: non-acute concerns..."),
    Disclosure("id", 3, "Lingkup: ..."),
)


def _publication() -> tuple[IdentityKeyPair, bytes]:
    counselor = IdentityKeyPair.generate()
    bundle = new_store(counselor).bundle(counselor)
    return counselor, sign_publication(counselor, PROFILE, DISCLOSURES, bundle, NOW)


def _consent(client: IdentityKeyPair, counselor: IdentityKeyPair) -> ConsentRecord:
    return ConsentRecord(DISCLOSURES[0].digest(), 3, "en", NOW, client.public, counselor.public)


def test_publication_verifies_and_yields_a_usable_bundle() -> None:
    """A signed publication verifies against the pinned key and gives back every field."""
    counselor, signed = _publication()
    publication = verify_publication(signed, counselor.public)
    assert publication.profile == PROFILE
    assert publication.disclosures == DISCLOSURES
    assert publication.disclosure("id") == DISCLOSURES[1]
    publication.bundle().verify(counselor.public)


def test_publication_from_another_identity_is_refused() -> None:
    """A publication signed by someone other than the invite's identity raises IdentityMismatch."""
    _, signed = _publication()
    with pytest.raises(IdentityMismatch):
        verify_publication(signed, IdentityKeyPair.generate().public)


@settings(max_examples=80)
@given(position=st.integers(0, 100_000), bit=st.integers(0, 7))
def test_tampered_publication_is_refused(position: int, bit: int) -> None:
    """Any flipped bit in a signed publication makes verification fail."""
    counselor, signed = _publication()
    bad = bytearray(signed)
    bad[position % len(bad)] ^= 1 << bit
    with pytest.raises(CryptoError):
        verify_publication(bytes(bad), counselor.public)


def test_re_signed_body_with_changed_disclosure_is_refused() -> None:
    """Swapping the disclosure text under the original signature raises InvalidSignature."""
    counselor, signed = _publication()
    outer = msgpack.unpackb(signed)
    body = msgpack.unpackb(outer[1])
    body[3][0][2] = "Scope: everything, including emergencies."
    outer[1] = msgpack.packb(body, use_bin_type=True)
    with pytest.raises(InvalidSignature):
        verify_publication(msgpack.packb(outer, use_bin_type=True), counselor.public)


def test_consent_is_signed_by_the_client_and_countersigned_by_the_counselor() -> None:
    """A consent record verifies only once both signatures are on it."""
    client, counselor = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    record = _consent(client, counselor)
    signed = sign_consent(client, record)
    assert verify_consent(signed, require_countersignature=False) == record
    with pytest.raises(MalformedDocument):
        verify_consent(signed)
    both = countersign_consent(counselor, signed)
    assert verify_consent(both) == record


def test_consent_countersigned_by_the_wrong_counselor_is_refused() -> None:
    """Only the counselor the record names can counter-sign it."""
    client, counselor = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    signed = sign_consent(client, _consent(client, counselor))
    with pytest.raises(IdentityMismatch):
        countersign_consent(IdentityKeyPair.generate(), signed)
    with pytest.raises(IdentityMismatch):
        sign_consent(IdentityKeyPair.generate(), _consent(client, counselor))


@settings(max_examples=80)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_tampered_consent_is_refused(position: int, bit: int) -> None:
    """Any flipped bit in a counter-signed consent record makes verification fail."""
    client, counselor = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    both = countersign_consent(counselor, sign_consent(client, _consent(client, counselor)))
    bad = bytearray(both)
    bad[position % len(bad)] ^= 1 << bit
    with pytest.raises(CryptoError):
        verify_consent(bytes(bad))


def test_signatures_are_domain_separated() -> None:
    """A client signature over a consent body does not pass as the counselor's counter-signature."""
    client = IdentityKeyPair.generate()
    record = _consent(client, client)  # a client "counselling" itself, to reuse one key
    signed = msgpack.unpackb(sign_consent(client, record))
    signed[3] = signed[2]  # present the consent signature as the counter-signature
    with pytest.raises(InvalidSignature):
        verify_consent(msgpack.packb(signed, use_bin_type=True))


def test_disclosure_hash_changes_with_version_language_and_text() -> None:
    """The consented disclosure hash pins text, version and language."""
    base = DISCLOSURES[0]
    digests = {
        base.digest(),
        replace(base, version=4).digest(),
        replace(base, language="id").digest(),
        replace(base, text=base.text + " ").digest(),
    }
    assert len(digests) == 4


def _widen_int(encoded: bytes, value: int) -> bytes:
    """The same msgpack value with `value` (a uint32) re-encoded as a uint64: not canonical."""
    narrow = b"\xce" + value.to_bytes(4, "big")
    assert encoded.count(narrow) == 1
    return encoded.replace(narrow, b"\xcf" + value.to_bytes(8, "big"))


def test_documents_have_one_canonical_encoding() -> None:
    """Signing the same content twice gives identical bytes; another encoding of the same values,
    of the signed body or of the outer document, is refused even under the genuine signatures."""
    counselor, client = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    bundle = new_store(counselor).bundle(counselor)
    publication = sign_publication(counselor, PROFILE, DISCLOSURES, bundle, NOW)
    assert publication == sign_publication(counselor, PROFILE, DISCLOSURES, bundle, NOW)
    consent = countersign_consent(counselor, sign_consent(client, _consent(client, counselor)))
    assert consent == countersign_consent(
        counselor, sign_consent(client, _consent(client, counselor))
    )
    for signed, verify in (
        (publication, lambda b: verify_publication(b, counselor.public)),
        (consent, verify_consent),
    ):
        verify(signed)
        outer = msgpack.unpackb(signed)
        wide_body = _widen_int(outer[1], NOW)
        assert msgpack.unpackb(wide_body) == msgpack.unpackb(outer[1])
        forged = msgpack.packb([outer[0], wide_body, *outer[2:]], use_bin_type=True)
        with pytest.raises(MalformedDocument):
            verify(forged)
        wide_outer = signed[:1] + b"\xcf" + (1).to_bytes(8, "big") + signed[2:]  # version 1
        assert msgpack.unpackb(wide_outer) == outer
        with pytest.raises(MalformedDocument):
            verify(wide_outer)
