"""Relay benchmark: durable end-to-end throughput, latency under load, idle-connection memory.

Runs the real relay (``python -m relay.cli serve``, SQLite WAL, synchronous=FULL; and a
second one with synchronous=NORMAL) and, as baselines in the same run, two bare aiohttp
WebSocket forwarders (bench/_forwarder.py: no auth, no storage), each in its own process; the
load generator (bench/_load.py) runs in another process. Everything is on loopback. Figures
are medians over ``--repeats`` runs, with the relay/forwarder ratios. Nothing here asserts:
it prints what it measured, including the CPU the server and the load generator used and the
disk's fsync latency (the floor under a durable commit).

The two forwarders:

* ``fwd same`` (``--wire relay``), the baseline of the ratio: it speaks the relay's wire
  protocol, so the load generator runs the same client code, sends the same frames and gets
  the same replies as from the relay (OK per SEND, MSG pushes, OK per ACKS). It skips exactly
  what the relay adds: signature checks, the store (and its commit before OK and push), the
  delivery window.
* ``fwd min`` (``--wire minimal``), the floor: ``[dest, body]`` items in, bodies out, one ack
  item per sender per received frame, no replies at all. Per message it does a fraction of
  the protocol's work (no reply item, no ids), so its figure bounds what aiohttp and msgpack
  can move on this machine rather than what a relay could.

What each arm does per message (throughput phase; bench/_load.py has the details):

* Both: 256-byte body; the sender's items queued in one event-loop iteration go out in one
  WebSocket frame (at most 64 items, one ``msgpack.packb`` per frame); the receiver decodes
  each frame with one ``msgpack.unpackb``; the next message to a queue is sent when the
  receiver got one (``--inflight`` per queue in flight end to end).
* Relay: ``SEND {sid, body}`` (session-authorised after one signed SEND per queue); the relay
  stores it (group commit, fsync with FULL), answers ``OK`` and pushes ``MSG {rid, mid, ts,
  body}`` to the subscribed receiver, several per frame; the receiver acknowledges with one
  ``ACKS {rid, mids}`` per queue per received frame (``--single-acks``: one ACK per message),
  which the relay deletes durably and answers ``OK``; the window (16) then lets the next
  messages go.
* ``fwd same``: as the relay, except that OK and MSG go out at once (no store, no checks).
* ``fwd min``: ``[dest, body]`` items; the forwarder regroups them by destination and sends
  one frame per destination per input frame; the receiver sends one ack item per sender per
  received frame, routed back through the forwarder the same way.

    python bench/relay.py            # full run (about 7 minutes on 2 cores)
    python bench/relay.py --quick    # short run (about two minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tests.relay_process import serve_command  # noqa: E402

BENCH_CONFIG = """
[relay]
rate = 1000000
burst = 1000000
max_queues_per_conn = 1000000
max_connections = 20000
queue_quota = 100000
window = 16
log_level = "WARNING"
sync = "FULL"
"""


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    def __init__(self, name: str, argv: list[str], port_file: Path) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.url = f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def load(server: Server, target: str, phase: str, extra: list[str]) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(HERE / "_load.py"),
        "--target",
        target,
        "--url",
        server.url,
        "--phase",
        phase,
        "--server-pid",
        str(server.proc.pid),
        *extra,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise RuntimeError(f"load generator failed ({target} {phase})")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def fsync_floor(directory: Path, n: int = 300) -> tuple[float, float]:
    """p50/p99 ms of appending 4 KiB and fsync-ing it in `directory`: what one durable
    group commit (SQLite WAL, synchronous=FULL) costs at least on this disk."""
    path = directory / "fsync-probe"
    samples = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        page = os.urandom(4096)
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, page)
            os.fsync(fd)
            samples.append((time.perf_counter() - t) * 1e3)
    finally:
        os.close(fd)
        path.unlink()
    samples.sort()
    return statistics.median(samples), samples[int(n * 0.99)]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="short run: 1 repeat, fewer connections")
    p.add_argument("--repeats", type=int, help="runs per figure (default 3, quick 1)")
    p.add_argument("--idle", type=int, help="idle connections to hold (default 10000)")
    args = p.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    duration = "4" if args.quick else "10"
    idle_n = args.idle or (2000 if args.quick else 10000)
    hard = raise_nofile()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    cfg = tmp / "bench.toml"
    cfg.write_text(BENCH_CONFIG)
    relay = Server(
        "relay",
        serve_command(tmp / "data", tmp / "relay.port", "0", "--config", str(cfg)),
        tmp / "relay.port",
    )
    cfg_normal = tmp / "bench-normal.toml"
    cfg_normal.write_text(BENCH_CONFIG.replace('sync = "FULL"', 'sync = "NORMAL"'))
    normal = Server(
        "relay-normal",
        serve_command(tmp / "data-normal", tmp / "normal.port", "0", "--config", str(cfg_normal)),
        tmp / "normal.port",
    )
    same = Server(
        "fwd-same",
        [
            sys.executable,
            str(HERE / "_forwarder.py"),
            "--wire",
            "relay",
            "--port-file",
            str(tmp / "same.port"),
        ],
        tmp / "same.port",
    )
    fwd = Server(
        "forward",
        [sys.executable, str(HERE / "_forwarder.py"), "--port-file", str(tmp / "fwd.port")],
        tmp / "fwd.port",
    )
    servers = {"relay": relay, "relay-normal": normal, "fwd-same": same, "forward": fwd}
    results: dict[str, dict[str, list[Any]]] = {
        t: {"tp": [], "lat": [], "lat1k": [], "idle": []} for t in servers
    }
    tp_args = [
        "--conns",
        "8",
        "--queues",
        "256",
        "--inflight",
        "16",
        "--duration",
        duration,
        "--warmup",
        "2",
    ]
    lat_args = [
        "--conns",
        "4",
        "--queues",
        "64",
        "--duration",
        duration,
        "--warmup",
        "2",
    ]
    floors: list[tuple[float, float]] = []
    try:
        for rep in range(repeats):
            floors.append(fsync_floor(tmp))
            print(
                f"[{rep + 1}/{repeats}] fsync of 4 KiB: p50 {floors[-1][0]:.2f} ms "
                f"p99 {floors[-1][1]:.2f} ms",
                flush=True,
            )
            for name, server in servers.items():
                target = "forward" if name == "forward" else "relay"
                r = load(server, target, "throughput", tp_args)
                results[name]["tp"].append(r)
                print(
                    f"[{rep + 1}/{repeats}] {name:12s} throughput {r['msgs_per_s']:9.0f} msg/s "
                    f"(errors {r['errors']}, server {r['server_cpu']:.2f} cores, "
                    f"load generator {r['load_cpu']:.2f} cores)",
                    flush=True,
                )
            for key, rate in (("lat", "5000"), ("lat1k", "1000")):
                for name, server in servers.items():
                    target = "forward" if name == "forward" else "relay"
                    r = load(server, target, "latency", [*lat_args, "--rate", rate])
                    results[name][key].append(r)
                    print(
                        f"[{rep + 1}/{repeats}] {name:12s} latency @ {rate} msg/s: p50 "
                        f"{r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms ({r['probes']} probes)",
                        flush=True,
                    )
        for name, target in (("relay", "relay"), ("fwd-same", "relay"), ("forward", "forward")):
            r = load(servers[name], target, "idle", ["--idle", str(idle_n)])
            results[name]["idle"].append(r)
            print(
                f"        {name:12s} idle: {r['opened']}/{r['connections']} open, server counted "
                f"{r['server_counted']}, {r['kib_per_conn']:.1f} KiB/conn",
                flush=True,
            )
    finally:
        for s in servers.values():
            with contextlib.suppress(Exception):
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def tp(t: str) -> float:
        return med([r["msgs_per_s"] for r in results[t]["tp"]])

    def lat(t: str, k: str, key: str = "lat") -> float:
        return med([r[k] for r in results[t][key]])

    ri, si, fi = (results[t]["idle"][0] for t in ("relay", "fwd-same", "forward"))
    print()
    print(
        f"relay benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, loopback, {repeats} repeat(s), medians; RLIMIT_NOFILE {hard}; "
        f"load average before/after {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        "body 256 B; relay: SQLite WAL, secured queues, sender-signed SENDs (session auth), "
        "ACKS per queue per frame; fwd same: the relay's frames without checks or store; "
        "fwd min: [dest, body] in, bodies out, no replies; all paced by delivery, <= 64 items "
        "per frame"
    )
    w = 36
    print(
        f"{'':{w}s}{'relay':>9s}{'(NORMAL)':>9s}{'fwd same':>10s}{'fwd min':>10s}"
        f"{'r/same':>8s}{'r/min':>7s}   target"
    )

    def row(name: str, a: float, n: float, b: float, c: float, fmt: str, goal: str = "") -> None:
        print(
            f"{name:{w}s}{a:9{fmt}}{n:9{fmt}}{b:10{fmt}}{c:10{fmt}}{a / b:8.2f}{a / c:7.2f}   {goal}"
        )

    row(
        "delivered msg/s (256 q, 16 conns)",
        tp("relay"),
        tp("relay-normal"),
        tp("fwd-same"),
        tp("forward"),
        ".0f",
        ">= 20000, ratio >= 0.3",
    )
    for key, k, name in (
        ("lat", "p50_ms", "one-hop p50 ms @ 5000 msg/s"),
        ("lat", "p99_ms", "one-hop p99 ms @ 5000 msg/s"),
        ("lat1k", "p50_ms", "one-hop p50 ms @ 1000 msg/s"),
        ("lat1k", "p99_ms", "one-hop p99 ms @ 1000 msg/s"),
    ):
        goal = "<= 2 ms" if (key, k) == ("lat", "p99_ms") else ""
        vals = [lat(t, k, key) for t in ("relay", "relay-normal", "fwd-same", "forward")]
        row(name, *vals, ".2f", goal)
    cpu = {t: med([r["server_cpu"] for r in results[t]["tp"]]) for t in servers}
    lcpu = {t: med([r["load_cpu"] for r in results[t]["tp"]]) for t in servers}
    order = ("relay", "relay-normal", "fwd-same", "forward")
    print(
        f"{'server CPU (cores) in throughput':{w}s}"
        + "".join(f"{cpu[t]:{9 if i < 2 else 10}.2f}" for i, t in enumerate(order))
    )
    print(
        f"{'load generator CPU (cores)':{w}s}"
        + "".join(f"{lcpu[t]:{9 if i < 2 else 10}.2f}" for i, t in enumerate(order))
    )
    fl50, fl99 = med([f[0] for f in floors]), med([f[1] for f in floors])
    print(f"{'fsync 4 KiB p50 / p99 ms (floor)':{w}s}{fl50:9.2f}{fl99:9.2f}")
    print(
        f"{'KiB per idle connection (RSS/N)':{w}s}{ri['kib_per_conn']:9.1f}{'':9s}"
        f"{si['kib_per_conn']:10.1f}{fi['kib_per_conn']:10.1f}"
        f"{ri['kib_per_conn'] / max(0.01, si['kib_per_conn']):8.2f}"
        f"{ri['kib_per_conn'] / max(0.01, fi['kib_per_conn']):7.2f}   <= 30 KiB"
    )
    held = lambda r: r["server_counted"] == r["connections"] and r["sample_answered"] == r["sample"]  # noqa: E731
    print(
        f"{f'{idle_n} connections held':{w}s}{held(ri)!s:>9s}{'':9s}{held(si)!s:>10s}"
        f"{held(fi)!s:>10s}"
    )
    print(
        "relay = SQLite synchronous=FULL (fsync per group commit); (NORMAL) = synchronous=NORMAL "
        "(survives a process crash, not a power cut); r/same, r/min = relay FULL / forwarder"
    )


if __name__ == "__main__":
    main()
