"""Exporting counselor notes: an encrypted file by default, plain Markdown only on request.

Encrypted export file format, version 1 (all integers big-endian):

    magic      16 bytes  b"SECURECHAT-NOTES"
    version     1 byte   0x01
    kdf_len     2 bytes  length of the next field
    kdf        kdf_len   `KdfParams.to_json()` (Argon2id salt and cost), UTF-8
    nonce      24 bytes  random
    ciphertext  rest     XChaCha20-Poly1305-IETF(key = Argon2id(passphrase, kdf), nonce,
                         associated data = every header byte above, plaintext = UTF-8 JSON)

The header is authenticated, so changing the version or the cost parameters breaks
decryption instead of silently weakening it. The plaintext JSON is
`{"format": 1, "exported_at": ms, "notes": [...]}` with every revision of every note.

Invariants:
- Files are written atomically with mode 0600.
- Markdown export raises `PlaintextExportRefused` unless `plaintext_confirmed=True`.
- Every export is recorded in the audit log (ids and counts only), and no export exists
  without its entry: the file is written to a temporary file beside the target, the entry is
  committed, and only then is the file renamed into place. If either fails, the temporary
  file is removed and nothing is left at the target.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.utils

from crypto.errors import PassphraseError
from crypto.passphrase import KdfParams, derive_key
from securechat.errors import ExportUnreadable, PlaintextExportRefused
from securechat.notes.audit import append_entry
from securechat.notes.notebook import NoteBook
from securechat.paths import staged_private_file
from securechat.secret import check_new_passphrase
from securechat.store import Store, now_ms

__all__ = [
    "EXPORT_MAGIC",
    "EXPORT_VERSION",
    "export_encrypted",
    "export_markdown",
    "read_encrypted_export",
    "render_markdown",
]

EXPORT_MAGIC = b"SECURECHAT-NOTES"
EXPORT_VERSION = 1
_NONCE_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


def _collect(store: Store, note_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    return NoteBook(store).all_with_revisions(None if note_ids is None else list(note_ids))


def export_encrypted(
    store: Store,
    path: Path,
    passphrase: str,
    *,
    note_ids: Sequence[int] | None = None,
    kdf: KdfParams | None = None,
) -> int:
    """Write the notes (all, or `note_ids`) to an encrypted file; return how many.

    Raises:
        InvalidInput: the export passphrase is too short (`check_new_passphrase`).
        NotFound: one of `note_ids` does not exist.
        OSError: the file cannot be written.
        StorageError: the audit entry cannot be written (`ProfileInUse`, `ProfileReadOnly`);
            then no file is left behind.
    """
    check_new_passphrase(passphrase, "export passphrase")
    notes = _collect(store, note_ids)
    params = kdf if kdf is not None else KdfParams.generate()
    key = derive_key(passphrase, params)
    kdf_bytes = params.to_json().encode("utf-8")
    nonce = nacl.utils.random(_NONCE_SIZE)
    header = EXPORT_MAGIC + bytes([EXPORT_VERSION]) + struct.pack(">H", len(kdf_bytes)) + kdf_bytes
    header += nonce
    plaintext = json.dumps(
        {"format": 1, "exported_at": now_ms(), "notes": notes}, ensure_ascii=False
    ).encode("utf-8")
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, header, nonce, key
    )
    with staged_private_file(path, header + ciphertext), store.transaction() as conn:
        append_entry(conn, "export_encrypted", None, f"{len(notes)} notes")
    return len(notes)


def read_encrypted_export(path: Path, passphrase: str) -> dict[str, Any]:
    """Decrypt an export written by `export_encrypted`.

    Raises:
        ExportUnreadable: wrong passphrase, a damaged or truncated file, or an unknown version.
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    base = len(EXPORT_MAGIC) + 3
    if len(data) < base or not data.startswith(EXPORT_MAGIC):
        raise ExportUnreadable()
    if data[len(EXPORT_MAGIC)] != EXPORT_VERSION:
        raise ExportUnreadable()
    (kdf_len,) = struct.unpack(">H", data[base - 2 : base])
    nonce_end = base + kdf_len + _NONCE_SIZE
    if len(data) < nonce_end + 16:
        raise ExportUnreadable()
    try:
        params = KdfParams.from_json(data[base : base + kdf_len].decode("utf-8"))
        key = derive_key(passphrase, params)
        plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            data[nonce_end:], data[:nonce_end], data[base + kdf_len : nonce_end], key
        )
        doc: Any = json.loads(plaintext.decode("utf-8"))
    except (PassphraseError, UnicodeDecodeError, ValueError, nacl.exceptions.CryptoError) as exc:
        raise ExportUnreadable() from exc
    if not isinstance(doc, dict) or doc.get("format") != 1:
        raise ExportUnreadable()
    return doc


def render_markdown(notes: list[dict[str, Any]]) -> str:
    """The notes as Markdown: one heading per note, the current revision's sections."""
    lines = ["# Counselor notes", ""]
    for note in notes:
        current = note["revisions"][-1]
        lines.append(
            f"## Note {note['id']} - client {note['contact_id']}, session {note['session_id']}"
        )
        lines.append("")
        lines.append(f"Template: {note['template']}; revision {current['revision']}")
        lines.append("")
        for section, text in current["sections"].items():
            lines.append(f"### {section.capitalize()}")
            lines.append("")
            lines.append(str(text))
            lines.append("")
    return "\n".join(lines)


def export_markdown(
    store: Store,
    path: Path,
    *,
    plaintext_confirmed: bool = False,
    note_ids: Sequence[int] | None = None,
) -> int:
    """Write the notes as plain Markdown (unencrypted!) only when explicitly confirmed.

    Raises:
        PlaintextExportRefused: `plaintext_confirmed` is not True.
        NotFound: one of `note_ids` does not exist.
        OSError: the file cannot be written.
        StorageError: the audit entry cannot be written (`ProfileInUse`, `ProfileReadOnly`);
            then no file is left behind.
    """
    if plaintext_confirmed is not True:
        raise PlaintextExportRefused()
    notes = _collect(store, note_ids)
    with (
        staged_private_file(path, render_markdown(notes).encode("utf-8")),
        store.transaction() as conn,
    ):
        append_entry(conn, "export_markdown", None, f"{len(notes)} notes")
    return len(notes)
