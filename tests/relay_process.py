"""A real relay process for tests: `python -m relay.cli serve` on a free loopback port.

Shared by the relay's own tests and the client core's tests (which must not import the relay
server in-process: they talk to it over a socket like the app does).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "RelayProcess"]

ROOT = Path(__file__).resolve().parents[1]


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
            sys.executable,
            "-m",
            "relay.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--data-dir",
            str(self.data_dir),
            "--port-file",
            str(self.port_file),
            *self.extra,
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
