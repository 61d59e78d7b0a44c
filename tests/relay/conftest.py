"""Fixtures for relay tests: a real relay on port 0 in a temporary data directory."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from relay.client import RelayClient
from relay.config import RelayConfig
from relay.server import RelayServer

StartRelay = Callable[..., Awaitable[RelayServer]]


def relay_test_config(data_dir: Path, **overrides: Any) -> RelayConfig:
    """A config for tests: loopback, port 0, fast sweeps, generous rate limits."""
    base = RelayConfig(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        sweep_interval=0.05,
        shutdown_timeout=5.0,
        rate=100000.0,
        burst=100000,
    )
    return dataclasses.replace(base, **overrides).validate()


@pytest.fixture
async def start_relay(tmp_path: Path) -> AsyncIterator[StartRelay]:
    """Start relays with config overrides; all are closed at the end of the test."""
    servers: list[RelayServer] = []

    async def start(**overrides: Any) -> RelayServer:
        overrides.setdefault("data_dir", tmp_path / f"data{len(servers)}")
        server = RelayServer(relay_test_config(**overrides))
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def relay(start_relay: StartRelay) -> RelayServer:
    """A relay with the test defaults."""
    return await start_relay()


def ws_url(server: RelayServer) -> str:
    """The WebSocket URL of a running test relay."""
    return f"ws://127.0.0.1:{server.port}/ws"


@pytest.fixture
async def connect(relay: RelayServer) -> AsyncIterator[Callable[[], Awaitable[RelayClient]]]:
    """Open clients to `relay`; all are closed at the end of the test."""
    clients: list[RelayClient] = []

    async def open_client() -> RelayClient:
        c = await RelayClient.connect(ws_url(relay))
        clients.append(c)
        return c

    yield open_client
    for c in clients:
        await c.close()


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `cond()` is true (polling), failing the test after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


class RawConn:
    """A bare WebSocket to a relay for sending hand-made frames (no client logic)."""

    def __init__(self, session: Any, ws: Any, hello: Any) -> None:
        self.session = session
        self.ws = ws
        self.hello = hello

    @classmethod
    async def open(cls, server: RelayServer) -> RawConn:
        import aiohttp

        from relay.protocol import decode_server_frame

        session = aiohttp.ClientSession()
        ws = await session.ws_connect(ws_url(server), max_msg_size=0)
        msg = await ws.receive(timeout=10)
        _, items = decode_server_frame(msg.data)
        return cls(session, ws, items[0])

    async def send(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def items(self, timeout: float = 10.0) -> list[Any]:
        """Return the items of the next frame, or [] if the relay closed the connection."""
        import aiohttp

        from relay.protocol import decode_server_frame

        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.BINARY:
            return []
        return decode_server_frame(msg.data)[1]

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


# The relay-process helper moved to tests/relay_process.py (shared with the client core's
# tests); re-exported here for the relay tests that import it from this module.
from tests.relay_process import ROOT, RelayProcess  # noqa: E402, F401
