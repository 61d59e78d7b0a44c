"""The `securechat-relay` command: serve, check, stats, and clear failures for bad input."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from relay.client import RelayClient
from relay.exceptions import ClientError, CommandFailed
from relay.store import SQLiteStore, read_stats
from tests.relay.conftest import ROOT, RelayProcess
from tests.relay.tls import self_signed
from tests.relay_process import serve_command


def unprivileged() -> list[str]:
    """A command prefix under which file modes apply to the command even when we are root.

    Root ignores file modes (CAP_DAC_OVERRIDE). `unshare --user` runs the command in a new
    user namespace where it keeps its uid but holds no capability over the host's files, as
    the relay's own unprivileged user would; no privilege is needed to do so.
    """
    return ["unshare", "--user"] if os.geteuid() == 0 else []


def cli(
    *args: str,
    timeout: float = 60,
    prefix: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "relay.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
        env={**os.environ, **env} if env is not None else None,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_help() -> None:
    """--help works and lists the three commands."""
    r = cli("--help")
    assert r.returncode == 0
    for word in ("serve", "check", "stats"):
        assert word in r.stdout


async def test_serve_check_stats_and_sigterm(tmp_path: Path) -> None:
    """serve writes the port file; check passes step by step; stats reads a live store; TERM exits 0."""
    relay = await RelayProcess(tmp_path / "data").start()
    try:
        r = await asyncio.to_thread(cli, "check", relay.url)
        assert r.returncode == 0, r.stderr
        for step in (
            "connected",
            "created",
            "secured",
            "sent",
            "received",
            "acknowledged",
            "deleted",
        ):
            assert step in r.stdout
        async with await RelayClient.connect(relay.url) as c:
            _, sid = await c.create_queue(SigningKey.generate())
            await c.send(sid, b"x")
        r = await asyncio.to_thread(cli, "stats", "--data-dir", str(relay.data_dir), "--json")
        assert r.returncode == 0
        assert '"queues": 1' in r.stdout
        assert '"messages": 1' in r.stdout
        assert await relay.terminate() == 0
        assert "relay stopped" in relay.stderr()
        assert "127.0.0.1" not in relay.stderr().replace("--host 127.0.0.1", "")
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


async def test_sigterm_lets_inflight_sends_finish(tmp_path: Path) -> None:
    """SIGTERM during a stream of sends: exit 0, and every SEND answered OK is kept."""
    relay = await RelayProcess(tmp_path / "data").start()
    ok: list[bytes] = []
    try:
        c = await RelayClient.connect(relay.url)
        rkey = SigningKey.generate()
        _rid, sid = await c.create_queue(rkey)

        async def sender(k: int) -> None:
            for i in range(100_000):
                await c.send(sid, b"%d-%d" % (k, i))
                ok.append(b"x")

        tasks = [asyncio.create_task(sender(k)) for k in range(4)]
        async with asyncio.timeout(60):
            while len(ok) < 200:
                await asyncio.sleep(0.01)
        assert await relay.terminate() == 0
        results = await asyncio.gather(*tasks, return_exceptions=True)
        # Each sender stops on a relay error: the connection closing (ClientError) or, for a
        # SEND that reached the relay while it was shutting down, an ERR reply (CommandFailed).
        # Either way the sender was told it was not stored; nothing hangs.
        assert all(isinstance(r, ClientError | CommandFailed) for r in results), results
        await c.close()
        assert read_stats(relay.data_dir).messages >= len(ok)
    finally:
        with contextlib.suppress(ProcessLookupError):
            await relay.kill()


def _start_serve(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    """`serve` on loopback port 0 with its data in tmp_path/data, its log on a pipe."""
    return subprocess.Popen(
        serve_command(tmp_path / "data", tmp_path / "port", "0", *extra),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _catches_sigterm(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGTERM (Linux: SigCgt in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)[1], 16)  # type: ignore[index]
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def test_sigterm_as_soon_as_serve_can_catch_it_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM at the first moment `serve` catches it (before the half second of imports that
    used to end in exit 143) stops it with exit 0 and a log line, without serving."""
    proc = _start_serve(tmp_path)
    try:
        while not _catches_sigterm(proc.pid):
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.001)
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "shutting down: stopped while starting" in err
    assert "serving" not in err
    assert not (tmp_path / "port").exists()


def test_sigterm_while_serve_reads_its_config_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM while `serve` waits for its config file (a FIFO nobody has written yet) is
    kept until it can stop: exit 0 and a log line, where it used to die with 143."""
    config = tmp_path / "relay.toml"
    os.mkfifo(config)
    proc = _start_serve(tmp_path, "--config", str(config))
    try:
        while True:  # a FIFO opens for writing without blocking once its reader has it open
            try:
                fd = os.open(config, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.005)
        proc.terminate()  # while it reads the config
        os.write(fd, b"[relay]\n")
        os.close(fd)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "shutting down: stopped while starting" in err
    assert not (tmp_path / "port").exists()


def test_check_unreachable_relay() -> None:
    """check against a port where nothing listens fails with a clear message and exit 1."""
    r = cli("check", f"ws://127.0.0.1:{free_port()}/ws", "--timeout", "5")
    assert r.returncode == 1
    assert "check failed at connect: nothing accepts connections" in r.stderr
    assert "127.0.0.1" not in r.stderr
    assert "Traceback" not in r.stderr


def test_check_against_a_listener_that_never_answers() -> None:
    """check against a TCP listener that never answers the WebSocket handshake fails at
    connect once its step timeout is over, and closes its HTTP session (no aiohttp noise)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()  # the kernel completes TCP handshakes; nobody reads or answers
        r = cli("check", f"ws://127.0.0.1:{s.getsockname()[1]}/ws", "--timeout", "1")
    assert r.returncode == 1
    assert "check failed at connect: no answer within the timeout" in r.stderr
    assert "Unclosed" not in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "ten"])
def test_check_refuses_a_timeout_that_is_not_positive(value: str) -> None:
    """check --timeout takes only a positive, finite number of seconds (exit 2)."""
    r = cli("check", "ws://127.0.0.1:1/ws", f"--timeout={value}")
    assert r.returncode == 2
    assert "--timeout: must be a positive number of seconds" in r.stderr


async def test_check_explains_why_it_cannot_connect(tmp_path: Path) -> None:
    """check's connection failures say what to do (wrong path, untrusted certificate and
    SSL_CERT_FILE, ws:// and wss:// swapped, bad URL), without the URL or a class name."""
    cert, key = self_signed(tmp_path / "tls")
    plain = await RelayProcess(tmp_path / "plain").start()
    tls = await RelayProcess(
        tmp_path / "tls-data", "--tls-cert", str(cert), "--tls-key", str(key)
    ).start()
    try:
        cases = [
            (f"ws://127.0.0.1:{plain.port}/nope", "HTTP 404 instead of opening a WebSocket"),
            (f"wss://127.0.0.1:{tls.port}/ws", "set SSL_CERT_FILE to the CA certificate"),
            (f"ws://127.0.0.1:{tls.port}/ws", "use wss:// instead of ws://"),
            (f"wss://127.0.0.1:{plain.port}/ws", "use ws:// instead of wss://"),
            ("ws://127.0.0.1:99999/ws", "the URL is not valid"),
        ]
        for url, advice in cases:
            r = await asyncio.to_thread(cli, "check", url, "--timeout", "10")
            assert r.returncode == 1, url
            assert "check failed at connect: " in r.stderr
            assert advice in r.stderr, (url, r.stderr)
            assert "127.0.0.1" not in r.stderr
            assert not re.search(r"[A-Z]\w+Error", r.stderr), r.stderr
            assert "Traceback" not in r.stderr
        # The advice works: trusting the relay's certificate through SSL_CERT_FILE.
        r = await asyncio.to_thread(
            cli, "check", f"wss://127.0.0.1:{tls.port}/ws", env={"SSL_CERT_FILE": str(cert)}
        )
        assert r.returncode == 0, r.stderr
        assert "relay check passed" in r.stdout
    finally:
        await plain.stop()
        await tls.stop()


def test_check_bad_url() -> None:
    """check refuses a URL that is not ws:// or wss:// (exit 2)."""
    r = cli("check", "http://127.0.0.1:1/ws")
    assert r.returncode == 2
    assert "ws://" in r.stderr


def test_port_in_use(tmp_path: Path) -> None:
    """serve on a port already taken exits 1 saying so."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli(
            "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path / "d")
        )
    assert r.returncode == 1
    assert "address already in use" in r.stderr


def test_unusable_data_dir(tmp_path: Path) -> None:
    """serve with a file as data directory exits 1 with a clear message."""
    f = tmp_path / "file"
    f.write_text("x")
    r = cli("serve", "--port", "0", "--data-dir", str(f))
    assert r.returncode == 1
    assert "data directory" in r.stderr
    assert "Traceback" not in r.stderr


async def test_serve_refuses_a_database_it_cannot_write(tmp_path: Path) -> None:
    """serve on a database its user may only read exits 1 at start-up, instead of serving."""
    data = tmp_path / "data"
    store = SQLiteStore(data)
    await store.open()
    await store.close()
    # Readable, not writable: SQLite opens such a file read-only without a word, as after a
    # restore done as another user. The directory stays writable (its -wal and -shm files).
    (data / "relay.sqlite3").chmod(0o444)
    r = await asyncio.to_thread(
        cli, "serve", "--port", "0", "--data-dir", str(data), timeout=20, prefix=unprivileged()
    )
    assert r.returncode == 1
    assert f"the relay database in {data} cannot be written" in r.stderr
    assert "read-only" in r.stderr
    assert "serving" not in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing database"])
async def test_serve_says_a_read_only_data_directory_is_read_only(
    tmp_path: Path, existing: bool
) -> None:
    """serve on a data directory its user may not write (empty, or holding a database that
    is itself writable) exits 1 saying the directory is read-only and what to do, where it
    said only "cannot open the relay database"; stats on it says the same and whom to run
    it as. Nothing is created there."""
    data = tmp_path / "data"
    data.mkdir()
    if existing:
        store = SQLiteStore(data)
        await store.open()
        await store.close()
    before = sorted(p.name for p in data.iterdir())
    data.chmod(0o500)
    try:
        r = await asyncio.to_thread(
            cli, "serve", "--port", "0", "--data-dir", str(data), timeout=20, prefix=unprivileged()
        )
        stats = await asyncio.to_thread(
            cli, "stats", "--data-dir", str(data), timeout=20, prefix=unprivileged()
        )
    finally:
        data.chmod(0o700)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == (
        f"securechat-relay: error: the data directory {data} is read-only (the relay's user "
        "cannot create files in it, and the database and its -wal and -shm files live there): "
        "make it writable by that user, for example by chowning it to that user, or choose "
        "another data directory"
    )
    assert "serving" not in r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in data.iterdir()) == before
    if existing:
        assert stats.returncode == 1
        assert f"the data directory {data} is read-only for this user" in stats.stderr
        assert "run stats as the relay's user" in stats.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("queue_quota = 10\nnot_a_setting = 1\n", "unknown setting"),
        ("queue_quota = [\n", "not valid TOML"),
        ("[relay]\nport = -5\n", "port"),
        ("max_body = 'big'\n", "wrong type"),
        ("tls_cert = '/x.pem'\n", "together"),
    ],
)
def test_bad_config_exits_2(tmp_path: Path, toml: str, message: str) -> None:
    """A bad config file is refused with exit code 2 and a one-line reason."""
    cfg = tmp_path / "relay.toml"
    cfg.write_text(toml)
    r = cli("serve", "--data-dir", str(tmp_path / "d"), "--config", str(cfg), timeout=20)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_data_dir_exits_2() -> None:
    """serve without any data directory is a usage error."""
    r = cli("serve", "--port", "0")
    assert r.returncode == 2
    assert "data directory" in r.stderr


def test_stats_without_database(tmp_path: Path) -> None:
    """stats on a directory without a relay database exits 1."""
    r = cli("stats", "--data-dir", str(tmp_path))
    assert r.returncode == 1
    assert "no relay database" in r.stderr


def test_stats_permission_denied(tmp_path: Path) -> None:
    """stats on a data directory it may not read exits 1 saying whose user to run it as."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "relay.sqlite3").write_bytes(b"")
    data.chmod(0)
    try:
        r = cli("stats", "--data-dir", str(data), prefix=unprivileged())
    finally:
        data.chmod(0o700)
    assert r.returncode == 1
    assert "permission denied" in r.stderr
    assert "run it as the relay's user" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("file", "is not a directory"),
        ("database is a directory", "relay.sqlite3 is not a file"),
        ("name too long", "File name too long"),
    ],
)
def test_stats_unusable_data_dir(tmp_path: Path, layout: str, message: str) -> None:
    """stats on a data directory that cannot hold a database exits 1 saying why."""
    data = tmp_path / "data"
    if layout == "file":
        data.write_text("x")
    elif layout == "database is a directory":
        (data / "relay.sqlite3").mkdir(parents=True)
    else:
        data = tmp_path / ("x" * 300)
    r = cli("stats", "--data-dir", str(data))
    assert r.returncode == 1
    assert message in r.stderr
    assert "Traceback" not in r.stderr


async def test_config_file_and_environment_apply(tmp_path: Path) -> None:
    """Settings from the TOML file and SECURECHAT_RELAY_* reach the running relay."""
    cfg = tmp_path / "relay.toml"
    cfg.write_text("[relay]\nqueue_quota = 7\nwindow = 3\n")
    relay = RelayProcess(
        tmp_path / "data", "--config", str(cfg), env={"SECURECHAT_RELAY_WINDOW": "5"}
    )
    await relay.start()
    try:
        async with await RelayClient.connect(relay.url) as c:
            assert c.limits["queue_quota"] == 7
            assert c.limits["window"] == 5  # environment beats the file
    finally:
        await relay.terminate()


@pytest.mark.parametrize("source", ["serve flag", "stats flag", "config file"])
def test_empty_data_dir_refused(tmp_path: Path, source: str) -> None:
    """An empty data directory is refused (exit 2) the same way from a flag or the config file."""
    cfg = tmp_path / "relay.toml"
    cfg.write_text('data_dir = ""\n')
    if source == "serve flag":
        r = cli("serve", "--port", "0", "--data-dir", "", timeout=20)
    elif source == "stats flag":
        r = cli("stats", "--data-dir", "")
    else:
        r = cli("serve", "--port", "0", "--config", str(cfg))
    assert r.returncode == 2
    assert "a data directory is required (--data-dir or data_dir in the config)" in r.stderr
    assert "Traceback" not in r.stderr
    assert not list(ROOT.glob("relay.sqlite3*"))


async def test_log_level_in_any_case(tmp_path: Path) -> None:
    """--log-level accepts lower case, as SECURECHAT_RELAY_LOG_LEVEL does, and applies it."""
    relay = await RelayProcess(tmp_path / "data", "--log-level", "warning").start()
    try:
        assert await relay.terminate() == 0
        assert "serving on port" not in relay.stderr()  # an INFO line
    finally:
        await relay.stop()


def test_port_file_error_names_the_path(tmp_path: Path) -> None:
    """A port file that cannot be written fails with exit 1, naming the file."""
    port_file = tmp_path / "missing" / "relay.port"
    r = cli(
        "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--port-file", str(port_file)
    )
    assert r.returncode == 1
    assert f"cannot write the port file {port_file}: No such file or directory" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        (
            "missing certificate",
            "cannot read the TLS certificate {cert}: No such file or directory",
        ),
        ("unreadable key", "cannot read the TLS key {key}: Permission denied"),
        ("certificate not PEM", "cannot read the TLS certificate {cert}: not a PEM certificate"),
        ("key not PEM", "cannot read the TLS key {key}: not a PEM private key"),
        ("key of another certificate", "the TLS key {key} does not match the certificate {cert}"),
        (
            "encrypted key",
            "the TLS key {key} is encrypted with a passphrase; give an unencrypted key",
        ),
    ],
)
def test_unusable_tls_files(tmp_path: Path, problem: str, message: str) -> None:
    """serve with an unusable TLS certificate or key exits 1 naming the file and the problem,
    before it opens the store or listens, and never prompts for a passphrase."""
    cert, key = self_signed(
        tmp_path / "tls", passphrase=b"pw" if problem == "encrypted key" else None
    )
    prefix: list[str] = []
    if problem == "missing certificate":
        cert.unlink()
    elif problem == "unreadable key":
        key.chmod(0)
        prefix = unprivileged()
    elif problem == "certificate not PEM":
        cert.write_text("not a certificate\n")
    elif problem == "key not PEM":
        key.write_text("not a key\n")
    elif problem == "key of another certificate":
        _, key = self_signed(tmp_path / "other")
    data = tmp_path / "data"
    r = cli(
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data),
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        timeout=20,
        prefix=prefix,
    )
    assert r.returncode == 1
    assert message.format(cert=cert, key=key) in r.stderr
    assert "Traceback" not in r.stderr
    assert "pass phrase" not in r.stderr + r.stdout
    assert not data.exists()  # refused before the store was opened
