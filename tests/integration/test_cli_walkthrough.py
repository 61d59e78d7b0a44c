"""The self-hoster's walkthrough with the CLI alone: a relay process and two profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crypto.keys import IdentityKeyPair
from securechat import profiles
from securechat.invite import Invite
from tests.relay_process import RelayProcess

ROOT = Path(__file__).resolve().parents[2]
PASS = "sandi yang panjang sekali"


def cli(home: Path, *args: str) -> list[dict[str, Any]]:
    """Run `securechat-cli --json ...` as a subprocess; return its JSON lines."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECURECHAT_HOME": str(home),
        "SECURECHAT_PASSPHRASE": PASS,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(home.parent),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.cheap_kdf_cli", "--json", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def cli_fails(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECURECHAT_HOME": str(home),
        "SECURECHAT_PASSPHRASE": PASS,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.cheap_kdf_cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def counselor_and_client(relay: RelayProcess, sari: Path, ayu: Path) -> dict[str, Any]:
    """Make the counselor Sari and the client Ayu with the CLI; publish Sari on `relay`.
    Returns what `publish` printed (its "invite")."""
    cli(sari, "init", "--role", "counselor", "--name", "Sari Wulandari")
    cli(ayu, "init", "--role", "client", "--name", "Ayu")
    (published,) = cli(sari, "publish", "--relay", relay.url)
    return published


async def test_cli_walkthrough(tmp_path: Path) -> None:
    """init twice, publish, open, consent, send, sync, history; safety numbers agree on both sides."""
    relay = await RelayProcess(tmp_path / "relay").start()
    sari, ayu = tmp_path / "sari", tmp_path / "ayu"
    try:
        published = counselor_and_client(relay, sari, ayu)
        invite = published["invite"]
        assert invite.startswith("securechat:invite?")

        parsed = Invite.parse(invite)
        forged = Invite(
            parsed.relay_url, parsed.publication, IdentityKeyPair.generate().public.to_bytes()
        ).to_uri()
        refused = cli_fails(ayu, "open", forged)  # the publication is not signed by that key
        assert refused.returncode == 1
        assert "could not be verified" in refused.stderr
        assert "Traceback" not in refused.stderr

        (shown,) = cli(ayu, "open", invite)
        assert shown["counselor"] == "Sari Wulandari"
        assert {d["language"] for d in shown["disclosures"]} == {"en", "id"}
        assert cli(ayu, "conversations") == []  # opening sent nothing

        (consented,) = cli(ayu, "consent", invite, "--language", "id", "--message", "Halo")
        ayu_conv = consented["conversation"]
        cli(ayu, "send", ayu_conv, "Saya sulit tidur")  # offline: queued
        cli(ayu, "sync")
        got = cli(sari, "sync")
        assert [m["text"] for m in got] == ["Halo", "Saya sulit tidur"]
        sari_conv = got[0]["conversation"]
        cli(sari, "send", sari_conv, "Terima kasih sudah menulis")
        cli(sari, "sync")
        got = cli(ayu, "sync")
        assert [m["text"] for m in got] == ["Terima kasih sudah menulis"]

        history = cli(ayu, "history", ayu_conv)
        assert [(m["outgoing"], m["text"]) for m in history] == [
            (True, "Halo"),
            (True, "Saya sulit tidur"),
            (False, "Terima kasih sudah menulis"),
        ]
        (listed,) = cli(sari, "conversations")
        assert listed["peer"] == "Ayu"  # the name the client chose to show
        (note,) = cli(sari, "notes", "add", "--conversation", sari_conv, "--session", "1",
                      "--text", "sulit tidur")  # fmt: skip
        (row,) = cli(sari, "notes", "list", "--conversation", sari_conv)
        assert row["note_id"] == note["note_id"]
        nowhere = cli_fails(sari, "notes", "add", "--conversation", "99", "--session", "1",
                            "--text", "x")  # fmt: skip
        assert nowhere.returncode == 1
        assert "no such conversation" in nowhere.stderr

        (a,) = cli(ayu, "safety-number", ayu_conv)
        (b,) = cli(sari, "safety-number", sari_conv)
        assert a["safety_number"] == b["safety_number"]
        assert len(a["safety_number"]) == 60

        # what a changed identity key leaves behind: sending waits for --confirm-change
        with (
            profiles.unlock_profile("default", PASS, home=ayu) as profile,
            profile.store.transaction() as conn,
        ):
            conn.execute("UPDATE contacts SET identity_changed = 1")
        blocked = cli_fails(ayu, "send", ayu_conv, "blocked")
        assert blocked.returncode == 1
        assert "security key has changed" in blocked.stderr
        cli(ayu, "safety-number", ayu_conv, "--confirm-change")
        cli(ayu, "send", ayu_conv, "after confirming")

        (w,) = cli(ayu, "withdraw", ayu_conv)
        assert w["event"] == "withdrawn"
        failed = cli_fails(ayu, "send", ayu_conv, "after")
        assert failed.returncode == 1
        assert "ended" in failed.stderr
        assert "Traceback" not in failed.stderr
        cli(ayu, "sync")
        notices = [e for e in cli(sari, "sync") if e.get("event") == "consent_withdrawn"]
        assert notices == [{"event": "consent_withdrawn", "conversation": sari_conv,
                            "by_peer": True}]  # fmt: skip
    finally:
        await relay.terminate()
        await relay.stop()


def incoming(home: Path, conv: str) -> list[str]:
    return [m["text"] for m in cli(home, "history", conv) if not m["outgoing"]]


async def test_cli_relay_killed_and_offline_sends(tmp_path: Path) -> None:
    """With the CLI alone: texts written while the relay is SIGKILLed are kept, `sync` fails
    clearly meanwhile, and after the restart every text arrives exactly once, in order."""
    relay = await RelayProcess(tmp_path / "relay").start()
    sari, ayu = tmp_path / "sari", tmp_path / "ayu"
    try:
        published = counselor_and_client(relay, sari, ayu)
        (consented,) = cli(ayu, "consent", published["invite"], "--message", "c-first")
        ayu_conv = consented["conversation"]
        cli(ayu, "sync")
        sari_conv = cli(sari, "sync")[0]["conversation"]
        for i in range(2):
            cli(ayu, "send", ayu_conv, f"c-{i}")
            cli(sari, "send", sari_conv, f"s-{i}")
        cli(ayu, "sync")
        cli(sari, "sync")

        await relay.kill()  # SIGKILL: no shutdown code runs
        for i in range(2, 4):
            cli(ayu, "send", ayu_conv, f"c-{i}")
            cli(sari, "send", sari_conv, f"s-{i}")
        down = cli_fails(ayu, "sync", "--timeout", "3")
        assert down.returncode == 1, down.stdout
        assert "cannot be reached" in down.stderr
        assert "Traceback" not in down.stderr
        queued = cli(ayu, "history", ayu_conv)
        assert [(m["text"], m["state"]) for m in queued[-2:]] == [
            ("c-2", "queued"),
            ("c-3", "queued"),
        ]

        await relay.start(same_port=True)
        cli(ayu, "sync")
        cli(sari, "sync")
        cli(ayu, "sync")
        cli(sari, "sync")
        assert incoming(sari, sari_conv) == ["c-first"] + [f"c-{i}" for i in range(4)]
        assert incoming(ayu, ayu_conv) == [f"s-{i}" for i in range(4)]
        assert {m["state"] for m in cli(ayu, "history", ayu_conv) if m["outgoing"]} == {"delivered"}
    finally:
        await relay.terminate()
        await relay.stop()
