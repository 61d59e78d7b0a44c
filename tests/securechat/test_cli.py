"""Tests for `securechat-cli`, run as a real subprocess against a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crypto.envelope import Control, ControlAction, SessionSummary
from crypto.passphrase import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT
from securechat import api, profiles, secret
from securechat.conversations import SendRequest
from tests.securechat.conftest import PASSPHRASE, add_clients, database_held_elsewhere, fast_kdf
from tests.securechat.engine_helpers import FakeRelay, first_contact, make_profile

ROOT = Path(__file__).resolve().parents[2]
PASS = "sandi yang panjang sekali"


def run(
    home: Path,
    *args: str,
    passphrase: str | None = PASS,
    module: str = "tests.cheap_kdf_cli",
    stdin_text: str | None = None,
    **extra_env: str,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a private home, the fail keyring and (unless `module` is the shipped
    ``securechat.cli``) the cheapest Argon2id cost (`tests.cheap_kdf_cli`), in a session of
    its own: it has no terminal, so a prompt reads `stdin_text` (or finds nothing)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECURECHAT_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(home.parent),
        **extra_env,
    }
    if passphrase is not None:
        env["SECURECHAT_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        input=stdin_text,
        stdin=subprocess.DEVNULL if stdin_text is None else None,
        start_new_session=True,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """Parse stdout as JSON lines, failing on any line that is not a JSON object."""
    out = []
    for line in result.stdout.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict)
        out.append(obj)
    return out


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with one counselor profile made through the CLI, which knows clients 1 and 5."""
    home = tmp_path / "home"
    result = run(home, "--profile", "sari", "init", "--role", "counselor", "--name", "Sari")
    assert result.returncode == 0, result.stderr
    assert "Created the counselor profile" in result.stdout
    with profiles.unlock_profile("sari", PASS, home=home) as profile:
        add_clients(profile.store, 1, 5)
    return home


def test_the_shipped_cli_has_no_cheap_key_derivation(tmp_path: Path) -> None:
    """A new profile made by `securechat-cli` itself gets the real Argon2id cost, whatever the
    environment says (an old test-only variable once lowered it)."""
    home = tmp_path / "home"
    result = run(
        home,
        *("--profile", "ayu", "init", "--role", "client", "--name", "Ayu"),
        module="securechat.cli",
        SECURECHAT_INSECURE_TEST_KDF="1",
    )
    assert result.returncode == 0, result.stderr
    assert "insecure" not in result.stderr
    unlock = json.loads((profiles.profile_dir("ayu", home) / profiles.UNLOCK_FILE).read_text())
    assert (unlock["kdf"]["opslimit"], unlock["kdf"]["memlimit"]) == (
        DEFAULT_OPSLIMIT,
        DEFAULT_MEMLIMIT,
    )


def test_notes_workflow(home: Path, tmp_path: Path) -> None:
    """init, notes add, search, show, export and verify work end to end with --json lines."""
    add = run(
        home,
        "--json",
        "notes",
        "add",
        "--client",
        "5",
        "--session",
        "1",
        "--template",
        "soap",
        "--section",
        "subjective=Klien merasa cemas menjelang sidang skripsi",
        "--section",
        "plan=Latihan napas 4-7-8",
    )
    assert add.returncode == 0, add.stderr
    assert lines(add) == [{"event": "note_added", "note_id": 1, "revision": 1}]
    edit = run(home, "--json", "notes", "edit", "1", "--section", "plan=Jurnal harian")
    assert lines(edit)[0]["revision"] == 2

    search = run(home, "--json", "notes", "search", 'cemas "NEAR( AND')
    assert search.returncode == 0, search.stderr
    hits = lines(search)
    assert [h["note_id"] for h in hits] == [1]
    assert "[cemas]" in hits[0]["snippet"]

    show = run(home, "--json", "notes", "show", "1")
    assert lines(show)[0]["sections"]["plan"] == "Jurnal harian"
    history = run(home, "--json", "notes", "show", "1", "--history")
    assert [r["revision"] for r in lines(history)] == [1, 2]
    listing = run(home, "--json", "notes", "list", "--client", "5")
    assert [n["note_id"] for n in lines(listing)] == [1]

    out = tmp_path / "export.scx"
    export = run(
        home,
        "--json",
        "notes",
        "export",
        "--out",
        str(out),
        SECURECHAT_EXPORT_PASSPHRASE="ekspor catatan",
    )
    assert export.returncode == 0, export.stderr
    assert lines(export) == [{"event": "notes_exported", "format": "encrypted", "notes": 1}]
    assert b"cemas" not in out.read_bytes()
    back = run(
        home,
        "--json",
        "notes",
        "read-export",
        str(out),
        SECURECHAT_EXPORT_PASSPHRASE="ekspor catatan",
    )
    assert lines(back)[0]["sections"]["plan"] == "Jurnal harian"
    wrong = run(home, "notes", "read-export", str(out), SECURECHAT_EXPORT_PASSPHRASE="salah")
    assert wrong.returncode != 0
    assert "passphrase is wrong" in wrong.stderr

    verify = run(home, "--json", "notes", "verify")
    assert verify.returncode == 0, verify.stderr
    report = lines(verify)[0]
    assert report["ok"] is True
    assert report["entries"] >= 5


def test_wrong_passphrase_exit_code(home: Path) -> None:
    """A wrong passphrase exits non-zero with a readable message and no traceback."""
    result = run(home, "notes", "list", passphrase="not it")
    assert result.returncode == 3
    assert "passphrase is not correct" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = run(home, "--json", "notes", "list", passphrase="not it")
    assert json.loads(as_json.stderr.strip().splitlines()[-1])["error"] == "WrongPassphrase"


def test_markdown_needs_plaintext_flag(home: Path, tmp_path: Path) -> None:
    """Markdown export is refused without --plaintext and works with it."""
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "rahasia kecil")
    out = tmp_path / "n.md"
    refused = run(home, "notes", "export", "--format", "markdown", "--out", str(out))
    assert refused.returncode == 1
    assert "unencrypted" in refused.stderr
    assert "--plaintext" in refused.stderr  # says how to ask for it
    assert not out.exists()
    ok = run(home, "notes", "export", "--format", "markdown", "--plaintext", "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "rahasia kecil" in out.read_text(encoding="utf-8")


def test_profiles_passwd_and_disclosure(home: Path, tmp_path: Path) -> None:
    """profiles lists, passwd switches passphrases, disclosure show/edit make versions."""
    assert lines(run(home, "--json", "profiles")) == [{"profile": "sari"}]
    changed = run(home, "passwd", SECURECHAT_NEW_PASSPHRASE="sandi yang baru")
    assert changed.returncode == 0, changed.stderr
    assert run(home, "notes", "list").returncode == 3
    assert run(home, "notes", "list", passphrase="sandi yang baru").returncode == 0

    show = run(home, "--json", "disclosure", "show", passphrase="sandi yang baru")
    docs = lines(show)
    assert [d["lang"] for d in docs] == ["en", "id"]
    assert all(d["version"] == 1 for d in docs)
    assert "119" in docs[1]["text"]
    new_text = tmp_path / "id.txt"
    new_text.write_text("Teks pernyataan yang baru.", encoding="utf-8")
    edit = run(
        home,
        "--json",
        "disclosure",
        "edit",
        "--lang",
        "id",
        "--file",
        str(new_text),
        passphrase="sandi yang baru",
    )
    # Never published: the edit replaces the draft, which keeps its number.
    assert lines(edit)[0]["version"] == 1
    assert lines(edit)[0]["published"] is False
    again = run(home, "--json", "disclosure", "show", "--lang", "id", passphrase="sandi yang baru")
    assert lines(again)[0]["text"] == "Teks pernyataan yang baru."
    history = run(home, "disclosure", "history", passphrase="sandi yang baru")
    assert history.returncode == 0, history.stderr
    assert history.stdout.strip().endswith("\tdraft")


def test_errors_are_clear(home: Path, tmp_path: Path) -> None:
    """Unknown profiles, missing keyring and bad input give messages, never tracebacks."""
    missing = run(home, "--profile", "nobody", "notes", "list")
    assert missing.returncode == 1
    assert "no profile" in missing.stderr
    remember = run(home, "remember")
    assert remember.returncode == 1
    assert "keyring" in remember.stderr
    bad = run(home, "notes", "add", "--client", "1", "--session", "1", "--section", "oops")
    assert bad.returncode == 1
    assert "NAME=TEXT" in bad.stderr
    empty_home = run(tmp_path / "empty", "notes", "list")
    assert empty_home.returncode == 1
    assert "init" in empty_home.stderr
    for result in (missing, remember, bad, empty_home):
        assert "Traceback" not in result.stderr


def test_tampered_audit_log_fails_verify(home: Path) -> None:
    """`notes verify` exits 4 when the audit log was changed behind the app's back."""
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "x")
    run(home, "notes", "show", "1")
    from securechat import profiles

    with profiles.unlock_profile("sari", PASS, home=home) as p:
        p.store.conn.execute("UPDATE audit_log SET action = 'edit' WHERE seq = 2")
    result = run(home, "--json", "notes", "verify")
    assert result.returncode == 4
    assert lines(result)[0]["ok"] is False


def test_disclosure_profile_regenerates(home: Path) -> None:
    """`disclosure profile` stores credentials and hours, and --regenerate re-renders the text."""
    result = run(
        home,
        "--json",
        "disclosure",
        "profile",
        "--credentials",
        "Psikolog klinis, SIPP aktif",
        "--specialization",
        "kecemasan",
        "--hours",
        "Senin-Kamis 10.00-16.00",
        "--response-hours",
        "48",
        "--regenerate",
    )
    assert result.returncode == 0, result.stderr
    record = lines(result)[0]
    assert record["specializations"] == ["kecemasan"]
    assert record["disclosure_version"] == 1  # the unpublished draft, re-rendered in place
    shown = lines(run(home, "--json", "disclosure", "show", "--lang", "id"))[0]
    assert "Psikolog klinis, SIPP aktif" in shown["text"]
    assert "Senin-Kamis 10.00-16.00" in shown["text"]
    assert "2 hari" in shown["text"]


def test_passphrase_file(home: Path, tmp_path: Path) -> None:
    """--passphrase-file supplies the passphrase when the environment does not."""
    good = tmp_path / "pass.txt"
    good.write_text(PASS + "\n", encoding="utf-8")
    ok = run(home, "--passphrase-file", str(good), "notes", "list", passphrase=None)
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("salah\n", encoding="utf-8")
    refused = run(home, "--passphrase-file", str(bad), "notes", "list", passphrase=None)
    assert refused.returncode == 3


def test_profile_in_use_is_not_reported_as_damaged(home: Path) -> None:
    """While another program holds the profile's database lock, a command says the profile is
    in use (exit 1), never that its files are damaged."""
    opened = profiles.unlock_profile("sari", PASS, home=home)
    with database_held_elsewhere(opened) as other:
        opened.lock()  # the folder is free; the database is not
        other.conn.execute("COMMIT")
        other.conn.execute("BEGIN EXCLUSIVE")
        result = run(home, "--json", "notes", "list")
    assert result.returncode == 1
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["error"] == "ProfileInUse"
    assert "in use by another SecureChat window or command" in error["message"]
    assert "damaged" not in result.stderr
    assert "backup" not in result.stderr


def test_failed_export_leaves_no_file(home: Path, tmp_path: Path) -> None:
    """A plain-text export whose audit entry cannot be written (the profile's write lock is
    held elsewhere) exits 1 with a clear message and leaves nothing in the target folder."""
    added = run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "rahasia")
    assert added.returncode == 0, added.stderr
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "notes.md"
    opened = profiles.unlock_profile("sari", PASS, home=home)
    with database_held_elsewhere(opened):
        opened.lock()  # the folder is free for the CLI; the database's write lock is not
        result = run(
            home, "notes", "export", "--format", "markdown", "--plaintext", "--out", str(out)
        )
    assert result.returncode == 1
    assert "in use by another SecureChat window or command" in result.stderr
    assert list(folder.iterdir()) == []


def test_note_for_unknown_client_is_refused(home: Path) -> None:
    """`notes add --client` with an id no client has (77, -5) exits 1 and saves nothing."""
    for client in ("77", "-5"):
        result = run(home, "notes", "add", "--client", client, "--session", "1", "--text", "x")
        assert result.returncode == 1
        assert "There is no such client." in result.stderr
    assert run(home, "notes", "list").stdout.strip() == "No notes."


def test_search_limit_must_be_positive_and_export_notes_once(home: Path, tmp_path: Path) -> None:
    """`notes search --limit 0` or `-1` is a usage error (exit 2); `notes export --note 1
    --note 1` exports that note once."""
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "cemas")
    for limit in ("0", "-1", "x"):
        refused = run(home, "notes", "search", "cemas", "--limit", limit)
        assert refused.returncode == 2
        assert "at least 1" in refused.stderr
        history = run(home, "history", "1", "--limit", limit)  # the same rule everywhere
        assert history.returncode == 2
        assert "at least 1" in history.stderr
    assert lines(run(home, "--json", "notes", "search", "cemas", "--limit", "1"))[0]["note_id"] == 1

    out = tmp_path / "twice.md"
    export = run(
        home,
        *("--json", "notes", "export", "--format", "markdown", "--plaintext"),
        *("--out", str(out), "--note", "1", "--note", "1"),
    )
    assert export.returncode == 0, export.stderr
    assert lines(export)[0]["notes"] == 1
    assert out.read_text(encoding="utf-8").count("## Note 1 ") == 1


def test_read_export_asks_for_its_passphrase_once(home: Path, tmp_path: Path) -> None:
    """`notes read-export` prompts "Export passphrase:" once (it is not a new passphrase);
    with no terminal and nothing to read it fails with a hint naming the export passphrase's
    variable and option, as InvalidInput."""
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "cemas")
    out = tmp_path / "notes.scx"
    export = run(
        home, "notes", "export", "--out", str(out), SECURECHAT_EXPORT_PASSPHRASE="ekspor catatan"
    )
    assert export.returncode == 0, export.stderr

    typed = run(
        home,
        "--json",
        "notes",
        "read-export",
        str(out),
        passphrase=None,
        stdin_text="ekspor catatan\n",
    )
    assert typed.returncode == 0, typed.stderr
    assert typed.stderr.count("Export passphrase:") == 1
    assert "New" not in typed.stderr
    assert "Repeat" not in typed.stderr
    assert lines(typed)[0]["sections"] == {"note": "cemas"}

    missing = run(home, "--json", "notes", "read-export", str(out), passphrase=None)
    assert missing.returncode == 1
    error = json.loads(missing.stderr.strip().splitlines()[-1])
    assert error["error"] == "InvalidInput"
    assert "SECURECHAT_EXPORT_PASSPHRASE" in error["message"]
    assert "--export-passphrase-file" in error["message"]
    assert "SECURECHAT_PASSPHRASE" not in error["message"]


RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\x85")


def test_peer_text_cannot_drive_the_terminal_or_forge_lines(tmp_path: Path) -> None:
    """A peer's name, message, summary and referral full of ESC/BEL/CR/C1/bidi characters and
    newlines reach the terminal only as visible escapes: `conversations` prints one line per
    conversation, `history` one record per message with further lines indented, and --json
    keeps the exact text while escaping every such character."""
    home = tmp_path / "home"
    sari, counselor = make_profile(home, "sari", "counselor")
    ayu, client = make_profile(home, "ayu", "client")
    relay = FakeRelay()
    evil = "halo\x1b]0;owned\x07\n[1] > forged line\r\x9b31m\u202eevil\x85"
    cc, sc = first_contact(relay, counselor, client, evil)
    # A name stored before names were cleaned on arrival still reaches the screen safely.
    evil_name = "Evil\x1b[31mRED\n2\tFake"
    sari.store.conn.execute("UPDATE contacts SET display_name = ?", (evil_name,))
    summary = SendRequest(
        sc,
        SessionSummary((evil,), ("tugas\x1b[2J",)),
        api.MessageKind.SUMMARY,
        {"key_points": [evil], "tasks": ["tugas\x1b[2J"]},
    )
    referral = SendRequest(
        sc, Control(ControlAction.REFERRAL, evil), api.MessageKind.REFERRAL, {"text": evil}
    )
    counselor.send_many([summary, referral])
    relay.flush(counselor)
    relay.deliver(client)
    sari.lock()
    ayu.lock()

    listed = run(home, "--profile", "sari", "conversations", passphrase=PASSPHRASE)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"{sc}\tEvil\\x1b[31mRED\\x0a2\\x09Fake\tactive\tunread 1"
    ]

    history = run(home, "--profile", "sari", "history", str(sc), passphrase=PASSPHRASE)
    assert history.returncode == 0, history.stderr
    prefix = f"[{sc}] < "
    assert history.stdout.splitlines()[:2] == [
        prefix + "halo\\x1b]0;owned\\x07",
        " " * len(prefix) + "[1] > forged line\\x0d\\x9b31m\\u202eevil\\x85  (delivered)",
    ]
    theirs = run(home, "--profile", "ayu", "history", str(cc), passphrase=PASSPHRASE)
    assert theirs.returncode == 0, theirs.stderr
    received = [line for line in theirs.stdout.splitlines() if line.startswith(f"[{cc}] < ")]
    assert any("Summary: halo\\x1b]0;owned\\x07\\x0a[1] > forged" in line for line in received)
    assert any("Tasks: tugas\\x1b[2J" in line for line in received)
    assert any(
        line.endswith("[1] > forged line\\x0d\\x9b31m\\u202eevil\\x85  (delivered)")
        for line in theirs.stdout.splitlines()
    )  # the referral's second line, indented
    for result in (listed, history, theirs):
        assert not any(ch in result.stdout for ch in RAW_CONTROLS)
    for result in (history, theirs):  # each line starts a record of ours or is indented in one
        assert all(line.startswith(("[", " ")) for line in result.stdout.splitlines())

    as_json = run(home, "--json", "--profile", "ayu", "history", str(cc), passphrase=PASSPHRASE)
    assert as_json.returncode == 0, as_json.stderr
    assert not any(ch in as_json.stdout for ch in RAW_CONTROLS)
    records = lines(as_json)
    assert {r["kind"]: r["text"] for r in records if not r["outgoing"]}["referral"] == evil


def test_a_reader_that_goes_away_ends_the_command_quietly(home: Path) -> None:
    """`securechat-cli ... | head` that stops reading early: no error line on stderr (it was
    '{"error": "BrokenPipeError", ...}'), and exit 141, as for a process ended by SIGPIPE."""
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "cemas")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECURECHAT_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(home.parent),
        "SECURECHAT_PASSPHRASE": PASS,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cheap_kdf_cli", "--json", "notes", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def _row_counts(home: Path, name: str) -> dict[str, int]:
    """How many rows each table of the profile's database holds."""
    with profiles.unlock_profile(name, PASS, home=home) as profile:
        conn = profile.store.conn
        tables = [
            str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}  # noqa: S608


COUNSELOR_ONLY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("notes add", ("--client", "1", "--session", "1", "--text", "rahasia")),
    ("notes edit", ("1", "--text", "rahasia")),
    ("notes list", ()),
    ("notes show", ("1",)),
    ("notes search", ("rahasia",)),
    ("notes export", ("--format", "markdown", "--plaintext", "--out", "{out}")),
    ("notes export", ("--out", "{out}")),
    ("notes verify", ()),
    ("disclosure show", ()),
    ("disclosure edit", ("--lang", "en", "--file", "{text}")),
    ("disclosure history", ()),
    ("disclosure profile", ("--credentials", "M.Psi.", "--regenerate")),
    ("publish", ("--relay", "ws://127.0.0.1:9/ws", "--profile-file", "{profile}")),
)
CLIENT_ONLY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("open", ("securechat:invite?v=1",)),
    ("consent", ("securechat:invite?v=1", "--message", "halo")),
)


def test_a_command_for_the_other_role_is_refused_and_writes_nothing(
    home: Path, tmp_path: Path
) -> None:
    """Every notes action (but read-export), every disclosure action and publish, run with a
    client profile, and open and consent run with a counselor profile, exit 1 with the one
    line "'<command>' is for counselors; this profile is a client." (or the reverse); no row
    of either profile's database changes and no file is written."""
    run(home, "--profile", "ayu", "init", "--role", "client", "--name", "Ayu")
    out = tmp_path / "exports" / "notes.out"
    out.parent.mkdir()
    text = tmp_path / "text.txt"
    text.write_text("Teks pernyataan.", encoding="utf-8")
    profile_file = tmp_path / "profile.json"
    profile_file.write_text('{"name": "Ayu", "credentials": "M.Psi."}', encoding="utf-8")
    files = {"out": str(out), "text": str(text), "profile": str(profile_file)}
    cases = [("ayu", "counselors", "client", *case) for case in COUNSELOR_ONLY]
    cases += [("sari", "clients", "counselor", *case) for case in CLIENT_ONLY]
    before = {name: _row_counts(home, name) for name in ("ayu", "sari")}
    for name, needed, actual, command, args in cases:
        argv = [*command.split(), *(arg.format(**files) for arg in args)]
        result = run(home, "--profile", name, *argv, SECURECHAT_EXPORT_PASSPHRASE="ekspor catatan")
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr == (
            f"securechat-cli: error: '{command}' is for {needed}; this profile is a {actual}.\n"
        )
        assert result.stdout == ""
    as_json = run(home, "--json", "--profile", "ayu", "notes", "add", *COUNSELOR_ONLY[0][1])
    assert json.loads(as_json.stderr)["error"] == "InvalidInput"
    assert {name: _row_counts(home, name) for name in ("ayu", "sari")} == before
    assert list(out.parent.iterdir()) == []


def test_a_new_passphrase_shorter_than_ten_characters_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init`, `passwd` (given or typed) and an encrypted `notes export` refuse a new
    passphrase of fewer than 10 characters with exit 1 and one line saying the minimum; no
    profile or export is made, the old passphrase still works. A profile whose short
    passphrase an earlier version accepted still opens."""
    short = "yang baru"  # nine characters
    too_short = "securechat-cli: error: The new passphrase is too short: use at least 10 characters"
    init = run(
        home, "--profile", "ayu", "init", "--role", "client", "--name", "Ayu", passphrase=short
    )
    assert init.returncode == 1
    assert init.stderr.startswith(too_short)
    assert init.stderr.count("\n") == 1
    assert not profiles.profile_dir("ayu", home).exists()

    given = run(home, "passwd", SECURECHAT_NEW_PASSPHRASE=short)
    typed = run(home, "passwd", stdin_text="pendek\npendek\n")  # refused before the repeat
    for result in (given, typed):
        assert result.returncode == 1
        assert too_short in result.stderr
    assert "Repeat" not in typed.stderr
    assert run(home, "notes", "list").returncode == 0  # the old passphrase still opens it

    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", "cemas")
    out = tmp_path / "notes.scx"
    export = run(home, "notes", "export", "--out", str(out), SECURECHAT_EXPORT_PASSPHRASE="ekspor")
    assert export.returncode == 1
    assert "The new export passphrase is too short" in export.stderr
    assert not out.exists()

    monkeypatch.setattr(secret, "MIN_PASSPHRASE_LENGTH", 1)  # as an earlier version allowed
    profiles.create_profile("lama", "counselor", "Lama", "pw", home=home, kdf=fast_kdf()).lock()
    monkeypatch.undo()
    old = run(home, "--profile", "lama", "notes", "list", passphrase="pw")
    assert old.returncode == 0, old.stderr


def test_a_search_of_more_than_32_words_is_refused(home: Path) -> None:
    """`notes search` with 33 words exits 1 with one line saying the limit (it used to drop
    the 33rd word and list notes without it); 32 words still search."""
    words = [f"kata{i}" for i in range(32)]
    run(home, "notes", "add", "--client", "1", "--session", "1", "--text", " ".join(words))
    found = run(home, "--json", "notes", "search", " ".join(words))
    assert [hit["note_id"] for hit in lines(found)] == [1]
    refused = run(home, "notes", "search", " ".join([*words, "tidakada"]))
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        "securechat-cli: error: The search is too long: use at most 32 words and 2000 characters.\n"
    )
    as_json = run(home, "--json", "notes", "search", " ".join([*words, "tidakada"]))
    assert json.loads(as_json.stderr)["error"] == "SearchTooLong"


def test_a_command_on_a_profile_the_app_has_open_is_refused(home: Path) -> None:
    """While another process (here: this test, as the app would) has the profile unlocked,
    a CLI command says so and exits 1, instead of reading its queues behind its back."""
    with profiles.unlock_profile("sari", PASS, home=home):
        result = run(home, "--profile", "sari", "conversations")
    assert result.returncode == 1
    assert "open in another SecureChat window" in result.stderr
    assert PASS not in result.stderr
    assert run(home, "--profile", "sari", "conversations").returncode == 0
