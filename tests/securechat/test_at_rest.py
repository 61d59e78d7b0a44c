"""Nothing readable at rest, and the database is standard SQLCipher 4 (read by another build).

The reader test builds a separate virtualenv with `sqlcipher3-binary` once (cached in the
system temp dir, or `$SECURECHAT_TEST_READER_VENV`) and runs a script there that opens the
profile database with the raw Argon2id key only: no securechat code, no app settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from securechat import profiles
from securechat.notes import NoteBook, export_encrypted
from securechat.store import now_ms
from tests.securechat.conftest import fast_kdf

MARKER = "ZEBRA-MARKER-Rahasia-7741"


def _write_marker_data(profile: profiles.Profile) -> None:
    conn = profile.store.conn
    with profile.store.transaction():
        conn.execute(
            "INSERT INTO contacts(id, identity_key, display_name, role, created_at) "
            "VALUES (1, x'0102', ?, 'client', 0)",
            (MARKER + " contact",),
        )
        conn.execute(
            "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
        )
        for i in range(50):
            conn.execute(
                "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
                "body, created_at) VALUES (1, ?, 'in', 'received', ?, ?)",
                (f"m{i}", f"{MARKER} message {i}".encode(), now_ms()),
            )
    book = NoteBook(profile.store)
    note = book.add(1, "1", "soap", {"subjective": f"{MARKER} merasa cemas", "plan": MARKER})
    book.edit(note.id, {"subjective": f"{MARKER} revisi", "plan": "latihan napas"})
    book.search(MARKER)


def _needles(profile: profiles.Profile) -> list[bytes]:
    seed = profile.identity_seed()
    return [
        MARKER.encode(),
        MARKER.encode("utf-16-le"),
        seed,
        seed.hex().encode(),
        b"SQLite format 3",
        b"merasa cemas",
    ]


def _assert_no_needles(directory: Path, needles: list[bytes]) -> list[str]:
    seen = []
    for path in directory.rglob("*"):
        if path.is_file():
            seen.append(path.name)
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"{needle[:12]!r} readable in {path.name}"
    return seen


def test_nothing_readable_at_rest(home: Path, counselor: profiles.Profile) -> None:
    """Marker text in notes and messages, and the identity seed, appear in no profile file."""
    _write_marker_data(counselor)
    directory = counselor.directory
    needles = _needles(counselor)
    # Mid-transaction: the rollback journal exists and holds (encrypted) pages.
    conn = counselor.store.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE messages SET body = ? WHERE message_id = 'm1'", (MARKER.encode() * 200,))
    conn.execute("DELETE FROM messages WHERE message_id = 'm2'")
    seen_mid = _assert_no_needles(directory, needles)
    conn.execute("COMMIT")
    seen_after = _assert_no_needles(directory, needles)
    assert "store.db" in seen_after
    assert "store.db-journal" in seen_mid
    # The data really is there, decrypted, for the key holder.
    row = conn.execute("SELECT body FROM messages WHERE message_id = 'm3'").fetchone()
    assert MARKER.encode() in bytes(row[0])


def test_encrypted_export_unreadable(tmp_path: Path, counselor: profiles.Profile) -> None:
    """An encrypted notes export contains no marker text."""
    _write_marker_data(counselor)
    out = tmp_path / "notes.scx"
    export_encrypted(counselor.store, out, "export pass", kdf=fast_kdf())
    assert MARKER.encode() not in out.read_bytes()


# --- a reader outside the app -------------------------------------------------------------

_READER = textwrap.dedent(
    """
    import sys
    import sqlcipher3
    path, hexkey = sys.argv[1], sys.argv[2]
    conn = sqlcipher3.connect(path)
    conn.execute("PRAGMA key = \\"x'%s'\\"" % hexkey)
    try:
        row = conn.execute("SELECT hex(seed) FROM identity").fetchone()
        role = conn.execute("SELECT role FROM profile").fetchone()[0]
    except sqlcipher3.DatabaseError:
        print("refused")
        sys.exit(3)
    version = conn.execute("PRAGMA cipher_version").fetchone()[0]
    print(row[0].lower(), role, version)
    """
)


def _reader_python() -> Path:
    base = Path(
        os.environ.get(
            "SECURECHAT_TEST_READER_VENV",
            Path(tempfile.gettempdir()) / "securechat-test-sqlcipher-reader" / "venv",
        )
    )
    python = base / "bin" / "python"
    ready = base / ".ready"
    if ready.exists() and python.exists():
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(base)], check=True, timeout=300)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "sqlcipher3-binary"],
            check=True,
            timeout=600,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"could not install sqlcipher3-binary into a separate venv: {exc}")
    ready.touch()
    return python


@pytest.fixture(scope="session")
def reader_python() -> Path:
    """Python of a separate virtualenv that has only sqlcipher3-binary installed."""
    return _reader_python()


def test_standard_sqlcipher4_reader(
    home: Path, counselor: profiles.Profile, reader_python: Path
) -> None:
    """Another SQLCipher 4 build opens the database with the raw key and refuses a wrong one."""
    key_hex = counselor._key.hex() if counselor._key else ""
    seed = counselor.identity_seed()
    db = counselor.directory / profiles.DB_FILE
    counselor.lock()
    script = home.parent / "reader.py"
    script.write_text(_READER)
    env = {"PATH": os.environ.get("PATH", "")}
    good = subprocess.run(
        [str(reader_python), str(script), str(db), key_hex],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    seed_hex, role, version = good.stdout.split(maxsplit=2)
    assert seed_hex == seed.hex()
    assert role == "counselor"
    assert version.startswith("4.")
    bad = subprocess.run(
        [str(reader_python), str(script), str(db), "11" * 32],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 3
    assert "refused" in bad.stdout


def test_standard_reader_after_passphrase_change(
    home: Path, counselor: profiles.Profile, reader_python: Path
) -> None:
    """After a rekey the file is still plain SQLCipher 4, readable with the new raw key only."""
    old_hex = counselor._key.hex() if counselor._key else ""
    profiles.change_passphrase(counselor, "kata sandi baru", kdf=fast_kdf())
    new_hex = counselor._key.hex() if counselor._key else ""
    db = counselor.directory / profiles.DB_FILE
    counselor.lock()
    script = home.parent / "reader.py"
    script.write_text(_READER)
    env = {"PATH": os.environ.get("PATH", "")}
    for key_hex, code in ((new_hex, 0), (old_hex, 3)):
        result = subprocess.run(
            [str(reader_python), str(script), str(db), key_hex],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == code, result.stderr
