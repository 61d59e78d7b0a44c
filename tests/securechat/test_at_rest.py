"""Nothing readable at rest, and the database is standard SQLCipher 4 (read by another build).

The reader tests build a separate virtualenv with `sqlcipher3-binary` (another SQLCipher 4
build than the app's `sqlcipher3`) and `argon2-cffi` (the Argon2 reference code, not
libsodium) from PyPI, once, cached in the system temp dir (or `$SECURECHAT_TEST_READER_VENV`).
A script there derives the key from the passphrase and `unlock.json` and opens the profile
database with that raw key alone: no securechat code, no app settings. If the venv cannot be
built (no network) the tests fail; `SECURECHAT_TEST_SKIP_READER=1` turns that into a skip for
offline work, and CI never sets it.
"""

from __future__ import annotations

import fcntl
import hashlib
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
from tests.securechat.conftest import PASSPHRASE, fast_kdf

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

READER_REQUIREMENTS = ("sqlcipher3-binary", "argon2-cffi")

_READER = textwrap.dedent(
    """
    import base64, json, os, sys
    import sqlcipher3
    from argon2.low_level import Type, hash_secret_raw

    db, unlock_json, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    doc = json.load(open(unlock_json))["kdf"]
    assert doc["alg"] == "argon2id13", doc["alg"]
    # libsodium's crypto_pwhash argon2id13: t = opslimit, m = memlimit in KiB, one lane
    key = hash_secret_raw(
        os.environ["READER_PASSPHRASE"].encode(),
        base64.b64decode(doc["salt"]),
        time_cost=doc["opslimit"],
        memory_cost=doc["memlimit"] // 1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    conn = sqlcipher3.connect(db)
    if mode == "raw-key":
        conn.execute("PRAGMA key = \\"x'%s'\\"" % key.hex())
    elif mode == "passphrase-as-sqlcipher-key":  # SQLCipher's own PBKDF2 path: must not work
        conn.execute("PRAGMA key = '%s'" % os.environ["READER_PASSPHRASE"].replace("'", "''"))
    try:
        seed = conn.execute("SELECT hex(seed) FROM identity").fetchone()[0]
        role = conn.execute("SELECT role FROM profile").fetchone()[0]
    except sqlcipher3.DatabaseError:
        print("refused")
        sys.exit(3)
    version = conn.execute("PRAGMA cipher_version").fetchone()[0]
    print(seed.lower(), role, version)
    """
)


def _reader_python() -> Path:
    tag = hashlib.sha256(" ".join(READER_REQUIREMENTS).encode()).hexdigest()[:12]
    base = Path(
        os.environ.get(
            "SECURECHAT_TEST_READER_VENV",
            Path(tempfile.gettempdir()) / "securechat-test-sqlcipher-reader" / f"venv-{tag}",
        )
    )
    python = base / "bin" / "python"
    ready = base / ".ready"
    base.parent.mkdir(parents=True, exist_ok=True)
    with open(base.parent / f"{base.name}.lock", "w") as lock:  # concurrent test runs
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists() and python.exists():
            return python
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(base)], check=True, timeout=300
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *READER_REQUIREMENTS],
                check=True,
                timeout=600,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            message = f"could not install {READER_REQUIREMENTS} into a separate venv: {exc}"
            if os.environ.get("SECURECHAT_TEST_SKIP_READER") == "1":
                pytest.skip(message)
            pytest.fail(message + " (SECURECHAT_TEST_SKIP_READER=1 skips this offline)")
        ready.touch()
    return python


@pytest.fixture(scope="session")
def reader_python() -> Path:
    """Python of a separate virtualenv with only sqlcipher3-binary and argon2-cffi."""
    return _reader_python()


def _read(
    reader_python: Path, script: Path, directory: Path, passphrase: str, mode: str = "raw-key"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(reader_python),
            str(script),
            str(directory / profiles.DB_FILE),
            str(directory / profiles.UNLOCK_FILE),
            mode,
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "READER_PASSPHRASE": passphrase},
        timeout=120,
        check=False,
    )


def test_standard_sqlcipher4_reader(
    home: Path, counselor: profiles.Profile, reader_python: Path
) -> None:
    """Another SQLCipher 4 build opens the database with the key it derives itself from the
    passphrase (Argon2id, raw key, no PBKDF2); a wrong passphrase, no key, or the passphrase
    handed to SQLCipher's own PBKDF2 are all refused."""
    seed = counselor.identity_seed()
    directory = counselor.directory
    counselor.lock()
    script = home.parent / "reader.py"
    script.write_text(_READER)
    good = _read(reader_python, script, directory, PASSPHRASE)
    assert good.returncode == 0, good.stderr
    seed_hex, role, version = good.stdout.split(maxsplit=2)
    assert seed_hex == seed.hex()
    assert role == "counselor"
    assert version.startswith("4.")
    for passphrase, mode in (
        ("not the passphrase", "raw-key"),
        (PASSPHRASE, "no-key"),
        (PASSPHRASE, "passphrase-as-sqlcipher-key"),
    ):
        bad = _read(reader_python, script, directory, passphrase, mode)
        assert (bad.returncode, bad.stdout.strip()) == (3, "refused"), (mode, bad.stderr)


def test_standard_reader_after_passphrase_change(
    home: Path, counselor: profiles.Profile, reader_python: Path
) -> None:
    """After a rekey the file is still plain SQLCipher 4, readable with the new passphrase's
    key only."""
    directory = counselor.directory
    old_params = (directory / profiles.UNLOCK_FILE).read_bytes()
    profiles.change_passphrase(counselor, "kata sandi baru", kdf=fast_kdf())
    counselor.lock()
    script = home.parent / "reader.py"
    script.write_text(_READER)
    assert _read(reader_python, script, directory, "kata sandi baru").returncode == 0
    assert _read(reader_python, script, directory, PASSPHRASE).returncode == 3
    # the old passphrase with the old parameters (the old key) no longer opens it either
    (directory / profiles.UNLOCK_FILE).write_bytes(old_params)
    assert _read(reader_python, script, directory, PASSPHRASE).returncode == 3
