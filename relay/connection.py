"""Per-connection state of the relay server: `Conn`, `FrameReplies`, random ids.

Invariants
    * A `Conn` is owned by its handler task; other code only appends to `out`, adds to
      `dirty` and asks the server to flush.
    * `FrameReplies` sends the replies to one frame together, in command order, exactly once,
      when the last of them is known; a command still waiting for the store counts in
      `Conn.pending`, which pauses reading when it reaches `MAX_PENDING`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from relay.exceptions import ErrorCode
from relay.protocol import CHALLENGE_LEN, PROTOCOL_VERSION, Err, Role, ServerItem

__all__ = ["MAX_PENDING", "Conn", "FrameReplies", "RandomPool", "Server", "random_ids"]

MAX_PENDING = 4096  # commands awaiting the store per connection before reading pauses


class Server(Protocol):
    """What `FrameReplies` needs from the server."""

    def _schedule_flush(self, conn: Conn) -> None: ...

    def _error_item(self, corr: int | None, exc: BaseException) -> Err: ...


class RandomPool:
    """Random ids from the OS CSPRNG, read 64 KiB at a time (one getrandom per 4096 ids)."""

    __slots__ = ("_buf", "_pos")

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0

    def take(self, n: int) -> bytes:
        if self._pos + n > len(self._buf):
            self._buf, self._pos = os.urandom(65536), 0
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out


random_ids = RandomPool()


class Conn:
    """State of one WebSocket connection."""

    __slots__ = (
        "active",
        "challenge",
        "closed",
        "dirty",
        "errors",
        "flush_task",
        "idle",
        "last",
        "out",
        "pending",
        "pubs_created",
        "queues_created",
        "resume",
        "session",
        "subs",
        "tokens",
        "version",
        "ws",
    )

    def __init__(self, ws: web.WebSocketResponse, burst: int) -> None:
        self.ws = ws
        self.challenge = os.urandom(CHALLENGE_LEN)
        self.session: dict[tuple[Role, bytes], bytes] = {}
        self.subs: set[bytes] = set()
        self.queues_created = 0
        self.pubs_created = 0
        self.tokens = float(burst)
        self.last = time.monotonic()
        self.out: list[ServerItem | dict[str, Any]] = []  # items, or their wire maps
        self.dirty: set[bytes] = set()
        self.flush_task: asyncio.Task[None] | None = None
        self.closed = False
        self.version = PROTOCOL_VERSION
        self.errors = 0
        self.pending = 0
        self.resume: asyncio.Future[None] | None = None
        self.active = time.monotonic()  # last frame received
        self.idle = False  # closed by the idle watchdog

    def refill(self, rate: float, burst: int) -> None:
        """Add the tokens earned since the last refill (at most `burst`)."""
        now = time.monotonic()
        self.tokens = refilled(self.tokens, self.last, now, rate, burst)
        self.last = now


def refilled(tokens: float, since: float, now: float, rate: float, burst: float) -> float:
    """A token bucket's content at `now`: it held `tokens` at `since` and earns `rate` a
    second, up to `burst` (the connection's command rate, a publication's prekeys)."""
    return min(float(burst), tokens + (now - since) * rate)


class FrameReplies:
    """Collects the replies to one frame and sends them together when all are known."""

    __slots__ = ("conn", "items", "remaining", "server")

    def __init__(self, server: Server, conn: Conn, n: int) -> None:
        self.server = server
        self.conn = conn
        self.items: list[ServerItem | dict[str, Any] | None] = [None] * n
        self.remaining = n

    def set(self, i: int, item: ServerItem | dict[str, Any]) -> None:
        self.items[i] = item
        self.remaining -= 1
        if self.remaining == 0:
            self.conn.out.extend(x for x in self.items if x is not None)
            self.server._schedule_flush(self.conn)

    def wait_many(self, n: int) -> None:
        """Count `n` commands of this frame as waiting for the store (see `done_many`)."""
        self.conn.pending += n

    def done_many(self, n: int) -> None:
        """`n` commands counted by `wait_many` are back from the store."""
        conn = self.conn
        conn.pending -= n
        if conn.resume is not None and conn.pending < MAX_PENDING // 2:
            if not conn.resume.done():
                conn.resume.set_result(None)
            conn.resume = None

    def wait(
        self, i: int, corr: int, fut: asyncio.Future[Any], make: Callable[[Any], ServerItem]
    ) -> None:
        conn = self.conn
        conn.pending += 1

        def done(f: asyncio.Future[Any]) -> None:
            conn.pending -= 1
            if conn.resume is not None and conn.pending < MAX_PENDING // 2:
                if not conn.resume.done():
                    conn.resume.set_result(None)
                conn.resume = None
            if f.cancelled():
                self.set(i, Err(corr, ErrorCode.INTERNAL))
                return
            exc = f.exception()
            if exc is None:
                self.set(i, make(f.result()))
            else:
                self.set(i, self.server._error_item(corr, exc))

        fut.add_done_callback(done)
