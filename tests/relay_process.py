"""A real relay process for tests: `python -m relay.cli serve` on a free loopback port.

Shared by the relay's own tests and the client core's tests (which must not import the relay
server in-process: they talk to it over a socket like the app does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "RelayProcess", "running_relay", "serve_command"]

ROOT = Path(__file__).resolve().parents[1]


def serve_command(data_dir: Path, port_file: Path, port: str = "0", *extra: str) -> list[str]:
    """The argv of `securechat-relay serve` on loopback, writing its port to `port_file`."""
    return [
        sys.executable,
        "-m",
        "relay.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--data-dir",
        str(data_dir),
        "--port-file",
        str(port_file),
        *extra,
    ]


@contextlib.contextmanager
def running_relay(data_dir: Path, timeout: float = 30.0) -> Iterator[str]:
    """A relay process for synchronous tests (the Qt ones); yields its `ws://` URL."""
    port_file = data_dir.parent / f"{data_dir.name}.port"
    log_path = data_dir.parent / f"{data_dir.name}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            serve_command(data_dir, port_file), env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + timeout
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"relay did not start: {log_path.read_text()}")
                time.sleep(0.02)
            yield f"ws://127.0.0.1:{int(port_file.read_text())}/ws"
        finally:
            proc.kill()
            proc.wait()


class RelayProcess:
    """`python -m relay.cli serve` in a child process on a free loopback port."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port_file = data_dir.parent / f"{data_dir.name}.port"
        self.extra = extra
        self.env = env or {}
        self.proc: Any = None
        self.port = 0
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self, timeout: float = 30.0, *, same_port: bool = False) -> RelayProcess:
        """Start the relay and wait until it listens; `same_port` reuses the last port."""
        self.port_file.unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the next start
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        port = str(self.port) if same_port and self.port else "0"
        self.proc = await asyncio.create_subprocess_exec(
            *serve_command(self.data_dir, self.port_file, port, *self.extra),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self._log,
        )
        async with asyncio.timeout(timeout):
            while not (self.port_file.exists() and self.port_file.read_text().strip()):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"relay exited: {self.stderr()}")
                await asyncio.sleep(0.02)
        self.port = int(self.port_file.read_text())
        return self

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self.proc.kill()
        await self.proc.wait()

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; return the exit code."""
        self.proc.terminate()
        async with asyncio.timeout(timeout):
            rc: int = await self.proc.wait()
        return rc

    async def stop(self) -> None:
        """Kill the process if it still runs and close the log file (for fixtures)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace")
