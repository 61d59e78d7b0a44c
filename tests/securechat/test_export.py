"""Tests for notes export: encrypted round trip, wrong passphrase, Markdown only on request."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from securechat import profiles
from securechat.errors import ExportUnreadable, NotFound, PlaintextExportRefused, ProfileInUse
from securechat.notes import (
    NoteBook,
    export_encrypted,
    export_markdown,
    list_entries,
    read_encrypted_export,
)
from tests.securechat.conftest import add_clients, database_held_elsewhere, fast_kdf


@pytest.fixture
def book(counselor: profiles.Profile) -> NoteBook:
    """A notebook with two notes, one edited."""
    add_clients(counselor.store, 3, 4)
    book = NoteBook(counselor.store)
    note = book.add(3, "sesi-2", "soap", {"subjective": "Sulit tidur sejak pindah kerja"})
    book.edit(note.id, {"subjective": "Tidur membaik", "plan": "Jurnal syukur"})
    book.add(4, "sesi-1", "free", {"note": "Perkenalan dan tujuan konseling"})
    return book


def test_encrypted_round_trip(tmp_path: Path, counselor: profiles.Profile, book: NoteBook) -> None:
    """An encrypted export decrypts with its passphrase to every note and revision."""
    out = tmp_path / "notes.scx"
    assert export_encrypted(counselor.store, out, "kata sandi ekspor", kdf=fast_kdf()) == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"Tidur" not in out.read_bytes()
    doc = read_encrypted_export(out, "kata sandi ekspor")
    notes = {n["id"]: n for n in doc["notes"]}
    first = notes[1]
    assert [r["revision"] for r in first["revisions"]] == [1, 2]
    assert first["revisions"][0]["sections"]["subjective"] == "Sulit tidur sejak pindah kerja"
    assert first["revisions"][1]["sections"]["plan"] == "Jurnal syukur"
    assert notes[2]["contact_id"] == 4


def test_export_selected_notes(tmp_path: Path, counselor: profiles.Profile, book: NoteBook) -> None:
    """Only the chosen notes are exported; an unknown id is NotFound."""
    out = tmp_path / "one.scx"
    assert (
        export_encrypted(counselor.store, out, "kata sandi ekspor", note_ids=[2], kdf=fast_kdf())
        == 1
    )
    assert [n["id"] for n in read_encrypted_export(out, "kata sandi ekspor")["notes"]] == [2]
    assert (
        export_encrypted(
            counselor.store, out, "kata sandi ekspor", note_ids=[2, 1, 2], kdf=fast_kdf()
        )
        == 2
    )
    assert [n["id"] for n in read_encrypted_export(out, "kata sandi ekspor")["notes"]] == [
        2,
        1,
    ]  # each once
    with pytest.raises(NotFound):
        export_encrypted(counselor.store, out, "kata sandi ekspor", note_ids=[42], kdf=fast_kdf())


def test_wrong_passphrase_fails(
    tmp_path: Path, counselor: profiles.Profile, book: NoteBook
) -> None:
    """Decrypting with another passphrase raises ExportUnreadable."""
    out = tmp_path / "notes.scx"
    export_encrypted(counselor.store, out, "the right one", kdf=fast_kdf())
    with pytest.raises(ExportUnreadable):
        read_encrypted_export(out, "wrong")


@pytest.mark.parametrize("position", [0, 16, 20, -40, -1])
def test_tampered_file_fails(
    tmp_path: Path, counselor: profiles.Profile, book: NoteBook, position: int
) -> None:
    """Flipping any byte (header, parameters, nonce or ciphertext) makes the export unreadable."""
    out = tmp_path / "notes.scx"
    export_encrypted(counselor.store, out, "kata sandi ekspor", kdf=fast_kdf())
    data = bytearray(out.read_bytes())
    data[position] ^= 0x01
    out.write_bytes(bytes(data))
    with pytest.raises(ExportUnreadable):
        read_encrypted_export(out, "kata sandi ekspor")


def test_truncated_file_fails(tmp_path: Path) -> None:
    """Short or foreign files are ExportUnreadable."""
    out = tmp_path / "x"
    for data in (b"", b"SECURECHAT-NOTES", b"not an export at all, just text"):
        out.write_bytes(data)
        with pytest.raises(ExportUnreadable):
            read_encrypted_export(out, "kata sandi ekspor")


def test_markdown_only_on_request(
    tmp_path: Path, counselor: profiles.Profile, book: NoteBook
) -> None:
    """Markdown export is refused (and writes nothing) unless explicitly confirmed."""
    out = tmp_path / "notes.md"
    with pytest.raises(PlaintextExportRefused):
        export_markdown(counselor.store, out)
    assert not out.exists()
    assert export_markdown(counselor.store, out, plaintext_confirmed=True) == 2
    text = out.read_text(encoding="utf-8")
    assert "Tidur membaik" in text
    assert "Sulit tidur" not in text  # only the current revision
    assert "### Plan" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_exports_are_audited(tmp_path: Path, counselor: profiles.Profile, book: NoteBook) -> None:
    """Each export adds an audit entry naming its kind."""
    export_encrypted(counselor.store, tmp_path / "a", "kata sandi ekspor", kdf=fast_kdf())
    export_markdown(counselor.store, tmp_path / "b", plaintext_confirmed=True)
    actions = [e.action for e in list_entries(counselor.store)]
    assert actions[-2:] == ["export_encrypted", "export_markdown"]


@pytest.mark.parametrize("fmt", ["encrypted", "markdown"])
def test_no_export_without_its_audit_entry(
    tmp_path: Path, home: Path, counselor: profiles.Profile, book: NoteBook, fmt: str
) -> None:
    """When the audit entry cannot be committed (another connection holds the write lock until
    the busy timeout), the export fails and leaves no file at all, temporary or final."""
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "notes.out"
    entries = len(list_entries(counselor.store))

    def export() -> int:
        if fmt == "encrypted":
            return export_encrypted(counselor.store, out, "kata sandi ekspor", kdf=fast_kdf())
        return export_markdown(counselor.store, out, plaintext_confirmed=True)

    with database_held_elsewhere(counselor), pytest.raises(ProfileInUse):
        export()
    assert list(folder.iterdir()) == []
    assert len(list_entries(counselor.store)) == entries
    assert export() == 2  # once the lock is gone, the same export works and is recorded
    assert [p.name for p in folder.iterdir()] == ["notes.out"]
    assert len(list_entries(counselor.store)) == entries + 1
