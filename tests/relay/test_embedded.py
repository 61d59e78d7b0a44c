"""`EmbeddedRelay`: the same relay on a thread of its own, as the desktop demo runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relay.cli import run_check
from relay.embedded import EmbeddedRelay
from relay.exceptions import RelayError, StoreError


def test_serves_the_protocol_and_stops_cleanly(tmp_path: Path) -> None:
    """A started relay passes `securechat-relay check`; stop() is idempotent and frees the port."""
    relay = EmbeddedRelay(tmp_path / "relay")
    url = relay.start()
    assert url.startswith("ws://127.0.0.1:")
    assert repr(relay) == "EmbeddedRelay(<redacted>)"
    steps: list[str] = []
    try:
        asyncio.run(run_check(url, timeout=10.0, out=steps.append))
    finally:
        relay.stop()
    relay.stop()
    assert len(steps) >= 5
    with pytest.raises(RelayError, match="nothing accepts connections"):  # nothing listens now
        asyncio.run(run_check(url, timeout=2.0, out=steps.append))


def test_unusable_data_dir_is_raised_at_start(tmp_path: Path) -> None:
    """A data directory that cannot be created fails start() with StoreError, not a hang."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    relay = EmbeddedRelay(blocker / "relay")
    with pytest.raises(StoreError):
        relay.start()
    relay.stop()  # safe after a failed start
