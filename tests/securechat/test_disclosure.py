"""Tests for the counselor profile and the versioned, bilingual disclosure."""

from __future__ import annotations

import time

import pytest

from securechat import profiles
from securechat.disclosure import (
    CounselorProfile,
    DisclosureBook,
    canonical_texts,
    content_hash,
)
from securechat.disclosure_text import render_default_texts
from securechat.errors import InvalidInput, NotFound

PROFILE = CounselorProfile(
    name="Sari Wulandari, M.Psi., Psikolog",
    credentials="Psikolog klinis dengan SIPP aktif, anggota HIMPSI",
    specializations=("kecemasan", "duka", "hubungan keluarga"),
    languages=("Bahasa Indonesia", "English"),
    service_hours="Senin-Jumat 09.00-17.00",
    time_zone="Asia/Jakarta (WIB, UTC+7)",
    response_time_hours=24,
    records_retention_years=5,
)


@pytest.fixture
def book(counselor: profiles.Profile) -> DisclosureBook:
    """A disclosure book with the sample profile stored."""
    book = DisclosureBook(counselor.store)
    book.set_profile(PROFILE)
    return book


def test_default_covers_every_point_in_english() -> None:
    """The English default names the counselor and covers every required point."""
    text = render_default_texts(PROFILE)["en"]
    for needle in [
        PROFILE.name,
        PROFILE.credentials,
        "kecemasan",
        "not an emergency",
        "diagnos",
        "cannot see your face",
        "ask what you meant",
        PROFILE.service_hours,
        PROFILE.time_zone,
        "1 day",
        "112",
        "119",
        "extension 8",
        "local emergency number",
        "confidential",
        "harm yourself or someone else",
        "the law",
        "end-to-end encrypted",
        "relay",
        "deletes each message once it has been delivered",
        "never sent over the internet",
        "5 years",
        "private place",
        "screenshots",
        "forward",
        "Lock your device",
        "Withdraw consent",
        "ask for your consent again",
    ]:
        assert needle in text, needle


def test_default_covers_every_point_in_indonesian() -> None:
    """The Indonesian default covers the same points in its own words."""
    text = render_default_texts(PROFILE)["id"]
    for needle in [
        PROFILE.name,
        PROFILE.credentials,
        "tidak bersifat darurat",
        "diagnosis",
        "raut wajah",
        "bertanya",
        PROFILE.service_hours,
        "zona waktu",
        "1 hari",
        "112",
        "119",
        "ekstensi 8",
        "nomor darurat setempat",
        "rahasia",
        "menyakiti diri sendiri atau orang lain",
        "hukum",
        "end-to-end",
        "relay",
        "tidak pernah dikirim lewat internet",
        "5 tahun",
        "tempat yang pribadi",
        "tangkapan layar",
        "meneruskan",
        "Kunci perangkat",
        "Tarik persetujuan",
        "persetujuan Anda kembali",
    ]:
        assert needle in text, needle
    assert render_default_texts(PROFILE)["en"] != text


def test_default_without_optional_fields_reads_cleanly() -> None:
    """A profile with only a name still renders without blank placeholders or double spaces."""
    texts = render_default_texts(CounselorProfile(name="Budi"))
    for text in texts.values():
        assert "{" not in text
        assert "  " not in text
        assert "Budi" in text


def test_versions_change_only_with_text(book: DisclosureBook) -> None:
    """Saving identical texts keeps the version; once shared, any change makes a new one with
    a new hash, and the shared one stays as it was."""
    v1 = book.ensure_default()
    assert v1.version == 1
    book.mark_shared(1)
    v1 = book.get(1)
    assert v1.shared_at is not None
    assert book.save(dict(v1.texts)).version == 1
    v2 = book.edit("en", v1.texts["en"] + "\nOne more line.")
    assert v2.version == 2
    assert v2.content_hash != v1.content_hash
    assert v2.texts["id"] == v1.texts["id"]
    assert [d.version for d in book.history()] == [1, 2]
    assert book.current() == v2
    assert book.get(1) == v1


def test_a_draft_is_replaced_until_it_is_shared(book: DisclosureBook) -> None:
    """Edits before the first publication stay version 1 (no client saw the earlier words);
    after `mark_shared` the next edit is version 2."""
    v1 = book.ensure_default()
    assert v1.shared_at is None
    draft = book.edit("en", "Edited before anyone saw it.")
    assert (draft.version, draft.texts["en"]) == (1, "Edited before anyone saw it.")
    assert draft.content_hash != v1.content_hash
    assert [d.version for d in book.history()] == [1]
    book.mark_shared(1)
    first = book.get(1).shared_at
    assert first is not None
    time.sleep(0.002)
    book.mark_shared(1)  # idempotent: the first time counts
    assert book.get(1).shared_at == first
    assert book.edit("en", "Edited after publishing.").version == 2
    assert book.get(1).texts["en"] == "Edited before anyone saw it."
    with pytest.raises(NotFound):
        book.mark_shared(9)


def test_an_edit_undone_is_a_new_version_with_the_old_text(book: DisclosureBook) -> None:
    """Going back to an earlier text after it was shared (an edit undone, or a profile change
    and back) gives the next version with that text's hash; it used to fail on a UNIQUE hash."""
    v1 = book.ensure_default()
    book.mark_shared(1)
    book.edit("en", "A passing change.")
    book.mark_shared(2)
    v3 = book.save(dict(v1.texts))
    assert v3.version == 3
    assert v3.content_hash == v1.content_hash
    assert v3.texts == v1.texts


def test_content_hash_is_canonical() -> None:
    """The hash covers a canonical encoding: key order does not matter, content does."""
    a = {"en": "Hello", "id": "Halo"}
    b = {"id": "Halo", "en": "Hello"}
    assert content_hash(a) == content_hash(b)
    assert canonical_texts(a) == canonical_texts(b)
    assert content_hash(a) != content_hash({"en": "Hello", "id": "Halo!"})


def test_profile_edit_regenerates(book: DisclosureBook) -> None:
    """Changing the profile and regenerating the default creates a new version."""
    book.mark_shared(book.ensure_default().version)
    book.set_profile(CounselorProfile(name=PROFILE.name, response_time_hours=48))
    assert book.get_profile() == CounselorProfile(name=PROFILE.name, response_time_hours=48)
    new = book.regenerate_default()
    assert new.version == 2
    assert "2 days" in new.texts["en"]
    assert "2 hari" in new.texts["id"]


def test_invalid_inputs(book: DisclosureBook, counselor: profiles.Profile) -> None:
    """Missing languages, empty texts, bad languages and bad profiles are InvalidInput."""
    with pytest.raises(InvalidInput):
        book.save({"en": "only english"})
    with pytest.raises(InvalidInput):
        book.save({"en": "x", "id": "  "})
    with pytest.raises(InvalidInput):
        book.edit("fr", "Bonjour")
    with pytest.raises(InvalidInput):
        CounselorProfile(name=" ")
    with pytest.raises(InvalidInput):
        CounselorProfile(name="A", response_time_hours=0)
    counselor.store.conn.execute("DELETE FROM counselor_profile")
    with pytest.raises(NotFound):
        DisclosureBook(counselor.store).ensure_default()
