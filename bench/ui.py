"""Desktop app figures on the real core: start-up, a 100,000-message conversation, a burst.

    QT_QPA_PLATFORM=offscreen python bench/ui.py [--runs 5] [--messages 100000]

Everything is real: `securechat.service.Service` with SQLCipher profiles in a temporary home,
relay processes (`securechat-relay serve`) on loopback, the app's own windows offscreen. Only
Argon2id runs at its minimum cost, because unlocking is not what is measured.

Set-up (printed with its duration): a client profile with two conversations.
  - "big": first contact over relay A, then relay A is stopped for good and the client writes
    100,000 messages into it (they wait in the outbox; the link to the dead relay backs off).
  - "live": first contact over relay B, which keeps running; its counselor lives in a child
    process, as it would on another machine.

1. process start → unlock window shown, and → its profile list filled by the real core (which
   loads on the bridge's worker thread meanwhile): a fresh interpreter per run, medians.
   Baseline in the same run: a bare `QApplication` + `QWidget` shown.
2. open the 100,000-message conversation: from `open_conversation` to the newest page laid out
   and painted (SQLCipher count + page read on the core thread included), median over runs,
   and the Python memory it allocated (tracemalloc, every thread). Baseline in the same run:
   opening the small "live" conversation.
3. the longest GUI-thread stall while 1,000 messages arrive in a burst: the counselor's child
   process sends them at once; the client's core receives, decrypts and stores them on its
   thread while a 5 ms QTimer heartbeat on the GUI thread records the largest gap between ticks.
   Baseline: the same heartbeat with nothing arriving.

Targets: ≤ 500 ms to the unlock window, ≤ 300 ms to open the conversation, no stall > 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSPHRASE = "bench only: not a real passphrase"  # noqa: S105 (bench profiles only)

_CHILD_APP = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["SECURECHAT_HOME"] = {home!r}
from PySide6.QtWidgets import QApplication
from ui.app import SecureChatApp, _real_service
from ui.common.style import apply_style
app = QApplication([])
apply_style(app)
c = SecureChatApp(app, _real_service, quit_on_quick_exit=False, language="en")
c.show()
app.processEvents()
print("shown", flush=True)
while c.welcome.profile_list.count() == 0:
    app.processEvents()
app.processEvents()
print("listed", flush=True)
os._exit(0)
"""

_CHILD_BARE = """
import os
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.show()
app.processEvents()
print("shown", flush=True)
os._exit(0)
"""

# The counselor of the "live" conversation, in its own process: unlock, wait for "go" on stdin,
# send COUNT texts at once (one group commit), flush them to the relay, report, exit.
_CHILD_SENDER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from crypto.passphrase import KdfParams
from securechat.service import Service

async def main():
    service = Service({home!r})
    await service.unlock({profile!r}, {passphrase!r})
    await service.sync()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await asyncio.gather(*(service.send_text({cid!r}, f"burst message {{n}}") for n in range({count})))
    await service.sync()
    print("sent", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await service.close()

asyncio.run(main())
"""


class Relay:
    """`securechat-relay serve` on a free loopback port."""

    def __init__(self, data_dir: Path) -> None:
        port_file = data_dir.parent / f"{data_dir.name}.port"
        from tests.relay_process import serve_command

        self.proc = subprocess.Popen(
            serve_command(data_dir, port_file, "0", "--log-level", "WARNING"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the relay did not start")
            time.sleep(0.02)
        self.url = f"ws://127.0.0.1:{int(port_file.read_text())}/ws"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


async def _wait(cond: Callable[[], Any], timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not await cond():
            await asyncio.sleep(0.05)


async def _first_contact(counselor: Any, client: Any, url: str, words: str) -> tuple[str, str]:
    """Publish, open, consent; return (client's, counselor's) conversation ids once active."""
    invite = await counselor.publish(url)
    view = await client.open_invite(invite)
    cid = await client.consent(view.invite_id, "en", words)

    async def active() -> bool:
        mine = [c for c in await client.conversations() if c.conversation_id == cid]
        theirs = await counselor.conversations()
        return bool(mine and mine[0].active and theirs)

    await _wait(active)
    (peer,) = await counselor.conversations()
    return cid, peer.conversation_id


async def _set_up(work: Path, messages: int) -> dict[str, Any]:
    from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
    from securechat.api import Role
    from securechat.service import Service

    kdf = KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)
    relay_a, relay_b = Relay(work / "relay-a"), Relay(work / "relay-b")
    client = Service(work / "client", kdf=kdf)
    far = Service(work / "counselor-a", kdf=kdf)
    near = Service(work / "counselor-b", kdf=kdf)
    await client.create_profile("Ayu", Role.CLIENT, PASSPHRASE)
    await far.create_profile("Sari", Role.COUNSELOR, PASSPHRASE)
    near_profile = (await near.create_profile("Rina", Role.COUNSELOR, PASSPHRASE)).name
    big, _ = await _first_contact(far, client, relay_a.url, "hello")
    live, live_peer = await _first_contact(near, client, relay_b.url, "hello")
    await far.close()
    relay_a.stop()  # from now on the big conversation's messages stay in the outbox
    chunk = 2000
    for start in range(0, messages, chunk):
        await asyncio.gather(
            *(client.send_text(big, f"message {n}: " + "words " * (n % 20))
              for n in range(start, min(messages, start + chunk)))
        )  # fmt: skip
    count = await client.message_count(big)
    await client.close()
    await near.close()
    return {
        "relay": relay_b,
        "big": big,
        "live": live,
        "live_peer": live_peer,
        "count": count,
        "home": work / "client",
        "near_home": work / "counselor-b",
        "near_profile": near_profile,
    }


def _time_child(code: str) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; ms until it printed "shown", and until "listed"."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    marks = {}
    for line in proc.stdout:
        marks[line.strip()] = (time.perf_counter() - start) * 1000
    proc.wait(timeout=30)
    if "shown" not in marks:
        raise RuntimeError("the child did not show its window")
    return marks["shown"], marks.get("listed", marks["shown"])


def bench_startup(runs: int, home: Path) -> None:
    code = _CHILD_APP.format(root=str(ROOT), home=str(home))
    app = [_time_child(code) for _ in range(runs)]
    bare = [_time_child(_CHILD_BARE)[0] for _ in range(runs)]
    shown = [a[0] for a in app]
    listed = [a[1] for a in app]
    print(
        f"start → unlock window shown: median {statistics.median(shown):.0f} ms, its profile "
        f"list read from disk by the real core at {statistics.median(listed):.0f} ms "
        f"(bare Qt window baseline {statistics.median(bare):.0f} ms; target ≤ 500 ms; "
        f"{runs} runs; shown {', '.join(f'{t:.0f}' for t in shown)})"
    )


def _pump_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop until `predicate()` holds, as `app.exec()` would: waiting for events
    (the GIL is free meanwhile), with a 2 ms timer to look at the predicate again."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return
    loop = QEventLoop()
    end = time.monotonic() + timeout
    failed = []

    def check() -> None:
        if predicate():
            loop.quit()
        elif time.monotonic() > end:
            failed.append(True)
            loop.quit()

    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if failed:
        raise TimeoutError


def _heartbeat_gaps(run: Callable[[], None]) -> list[float]:
    """Run `run` (which pumps events) with a 5 ms heartbeat; return the gaps in ms."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def beat() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    last[0] = clock.nsecsElapsed()
    run()
    heartbeat.stop()
    return gaps


def bench_open_and_burst(runs: int, data: dict[str, Any]) -> None:
    from PySide6.QtWidgets import QApplication

    from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
    from securechat.service import Service
    from ui.app import SecureChatApp
    from ui.common.style import apply_style

    qapp = QApplication.instance() or QApplication([])
    assert isinstance(qapp, QApplication)
    apply_style(qapp)
    kdf = KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)
    app = SecureChatApp(
        qapp, lambda: Service(data["home"], kdf=kdf), quit_on_quick_exit=False, language="en"
    )
    app.show()
    _pump_until(lambda: app.welcome.profile_list.count() > 0)
    app.welcome.profile_list.setCurrentRow(0)
    app.welcome.unlock_pass.setText(PASSPHRASE)
    app.welcome.unlock_button.click()
    _pump_until(lambda: app.main_window is not None)
    window = app.main_window
    assert window is not None
    window.resize(1100, 760)
    _pump_until(lambda: window.conversations.rowCount() == 2)

    def open_timed(cid: str) -> tuple[float, int]:
        mem0 = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        window.open_conversation(cid)
        _pump_until(
            lambda: (
                window.chat.model is not None
                and window.chat.model.is_open
                and window.chat.model.rowCount() > 0
            )
        )
        window.chat.view.executeDelayedItemsLayout()
        window.chat.view.viewport().repaint()
        qapp.processEvents()
        return (time.perf_counter() - start) * 1000, tracemalloc.get_traced_memory()[0] - mem0

    tracemalloc.start()
    big, small, memory = [], [], []
    for _ in range(runs):
        t, _m = open_timed(data["live"])
        small.append(t)
        t, m = open_timed(data["big"])
        big.append(t)
        memory.append(m)
    tracemalloc.stop()
    print(
        f"open the {data['count']:,}-message conversation: median {statistics.median(big):.0f} ms "
        f"(target ≤ 300 ms; {runs} runs; runs {', '.join(f'{t:.0f}' for t in big)}); "
        f"allocates {statistics.median(memory) / 1024:.0f} KiB; baseline: the 2-message "
        f"conversation opens in {statistics.median(small):.0f} ms"
    )

    # --- a burst of 1,000 arrivals from the counselor's own process -------------------
    window.open_conversation(data["live"])
    _pump_until(lambda: window.chat.model is not None and window.chat.model.is_open)
    model = window.chat.model
    assert model is not None
    sender = subprocess.Popen(
        [sys.executable, "-c", _CHILD_SENDER.format(
            root=str(ROOT), home=str(data["near_home"]), profile=data["near_profile"],
            passphrase=PASSPHRASE, cid=data["live_peer"], count=1000)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sender.stdin is not None
    assert sender.stdout is not None
    if sender.stdout.readline().strip() != "ready":
        raise RuntimeError("the sender did not start")
    idle = _heartbeat_gaps(lambda: _idle(1.0))
    target = model.rowCount() + 1000
    started = time.perf_counter()

    def burst() -> None:
        sender.stdin.write("go\n")  # type: ignore[union-attr]
        sender.stdin.flush()  # type: ignore[union-attr]
        _pump_until(lambda: model.rowCount() >= target, timeout=300)

    gaps = _heartbeat_gaps(burst)
    took = (time.perf_counter() - started) * 1000
    sender.stdin.write("done\n")
    sender.stdin.flush()
    sender.wait(timeout=60)
    worst = max(gaps) if gaps else 0.0
    print(
        f"1,000 messages in a burst: longest GUI stall {worst:.0f} ms (target ≤ 50 ms; "
        f"heartbeat 5 ms, {len(gaps)} ticks, 99th percentile "
        f"{statistics.quantiles(gaps, n=100)[98]:.0f} ms); all shown {took:.0f} ms after the "
        f"sender started; baseline: idle heartbeat's longest gap {max(idle):.0f} ms"
    )
    app.shutdown()


def _idle(seconds: float) -> None:
    end = time.monotonic() + seconds
    try:
        _pump_until(lambda: False, seconds)
    except TimeoutError:
        assert time.monotonic() >= end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="securechat-bench-ui-") as tmp:
        started = time.perf_counter()
        data = asyncio.run(_set_up(Path(tmp), args.messages))
        print(
            f"set-up: {data['count']:,} messages written in {time.perf_counter() - started:.0f} s "
            f"(real core, SQLCipher, two relay processes)"
        )
        try:
            bench_startup(args.runs, Path(tmp) / "client")
            bench_open_and_burst(args.runs, data)
        finally:
            data["relay"].stop()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt objects: nothing left to measure


if __name__ == "__main__":
    raise SystemExit(main())
