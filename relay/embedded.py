"""A relay on a thread of its own: for the desktop demo, which needs one inside its process.

`EmbeddedRelay(data_dir).start()` runs a `RelayServer` on 127.0.0.1 (a free port) with its
own asyncio loop in a daemon thread and returns the WebSocket URL; `stop()` closes it
gracefully (commits in flight finish) and joins the thread. Self-hosters run
`securechat-relay serve` instead; this is the same server, only hosted differently.

Invariants:
- `start()` returns only once the relay listens, or raises what stopped it from starting.
- `stop()` is idempotent and safe to call when `start()` failed.
- The thread is a daemon: a process that dies without calling `stop()` does not hang on it,
  and the store stays consistent (SQLite WAL, OK only after commit).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

from relay.config import RelayConfig
from relay.server import RelayServer

__all__ = ["EmbeddedRelay"]

_START_TIMEOUT = 30.0


class EmbeddedRelay:
    """A `RelayServer` on 127.0.0.1 in a background thread with its own event loop."""

    def __init__(self, data_dir: Path, config: RelayConfig | None = None) -> None:
        base = config or RelayConfig()
        self.config = dataclasses.replace(base, host="127.0.0.1", port=0, data_dir=data_dir)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: RelayServer | None = None
        self.url = ""

    def __repr__(self) -> str:
        return "EmbeddedRelay(<redacted>)"

    def start(self) -> str:
        """Start listening and return the relay's `ws://127.0.0.1:PORT/ws` URL.

        Raises:
            relay.exceptions.StoreError: the data directory cannot be used.
            OSError: no loopback port could be bound.
            TimeoutError: the relay did not start in time.
        """
        if self._thread is not None:
            return self.url
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        server = RelayServer(self.config)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._loop, self._server = loop, server
        self._thread = threading.Thread(target=run, name="securechat-relay", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise TimeoutError("the embedded relay did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        self.url = f"ws://127.0.0.1:{server.port}/ws"
        return self.url

    def stop(self, timeout: float = 15.0) -> None:
        """Close the relay gracefully and join its thread (idempotent)."""
        thread, loop, server = self._thread, self._loop, self._server
        self._thread = None
        if thread is None or loop is None or server is None:
            return
        if loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(server.close(), loop)
            try:
                closing.result(timeout)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
