"""The baselines for bench/relay.py: bare aiohttp WebSocket forwarders, no auth, no storage.

``--wire minimal`` (the floor): each connection first sends a binary frame with its 16-byte
id (registration); after that each frame is ``msgpack({"b": [[dest_id, body], ...]})`` and
the forwarder sends every body on to the connection registered as ``dest_id``, one frame per
destination per input frame (``msgpack({"b": [body, ...]})``). No replies.

``--wire relay`` (same frames as the relay): speaks the relay's wire protocol, so the load
generator runs the very same client code against it as against the relay. HELLO on connect;
NEW answers IDS with fresh random ids, KEY/SUB/ACK/ACKS answer OK, PING answers PONG, and
SEND answers OK and pushes ``MSG {rid, mid, ts, body}`` to the queue's subscriber at once.
Per input frame: the replies go out in one frame, the pushes in one frame per destination
connection (the relay batches the same way). What it does not do: verify signatures, store
or delete anything, keep a delivery window. Signatures are ignored.

``GET /count`` returns the number of open connections (``GET /metrics`` too, for
``--wire relay``, in the relay's metric name).

Run: ``python bench/_forwarder.py --port-file F [--wire relay]`` (loopback, port 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

__all__ = ["main"]


def relay_wire_handler(
    open_conns: set[web.WebSocketResponse],
) -> Any:
    """The ``--wire relay`` WebSocket handler (see the module docstring)."""
    queues: dict[bytes, bytes] = {}  # sid -> rid
    seq = 0  # message ids: a counter (the relay draws random ones from a pool)
    subscribers: dict[bytes, web.WebSocketResponse] = {}  # rid -> connection
    hello = msgpack.packb(
        {
            "v": 1,
            "b": [
                {
                    "op": "HELLO",
                    "challenge": bytes(32),
                    "versions": [1],
                    "limits": {"max_batch": 64, "max_acks": 64, "window": 16},
                }
            ],
        }
    )

    async def handler(request: web.Request) -> web.WebSocketResponse:
        nonlocal seq
        ws = web.WebSocketResponse(max_msg_size=256 * 1024, compress=False, heartbeat=30)
        await ws.prepare(request)
        open_conns.add(ws)
        try:
            await ws.send_bytes(hello)
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    break
                replies: list[dict[str, Any]] = []
                pushes: dict[web.WebSocketResponse, list[dict[str, Any]]] = {}
                now = int(time.time())
                for item in msgpack.unpackb(msg.data)["b"]:
                    op, corr = item["op"], item.get("corr")
                    if op == "SEND":
                        rid = queues.get(item["sid"])
                        peer = subscribers.get(rid) if rid is not None else None
                        if peer is not None:
                            seq += 1
                            pushes.setdefault(peer, []).append(
                                {
                                    "op": "MSG",
                                    "rid": rid,
                                    "mid": seq.to_bytes(16, "big"),
                                    "ts": now,
                                    "body": item["body"],
                                }
                            )
                        replies.append({"op": "OK", "corr": corr})
                    elif op == "NEW":
                        rid, sid = os.urandom(16), os.urandom(16)
                        queues[sid] = rid
                        replies.append({"op": "IDS", "corr": corr, "rid": rid, "sid": sid})
                    elif op == "SUB":
                        subscribers[item["rid"]] = ws
                        replies.append({"op": "OK", "corr": corr})
                    elif op == "PING":
                        replies.append({"op": "PONG", "corr": corr})
                    else:  # KEY, ACK, ACKS
                        replies.append({"op": "OK", "corr": corr})
                if replies:
                    await ws.send_bytes(msgpack.packb({"v": 1, "b": replies}))
                for peer, items in pushes.items():
                    if not peer.closed:
                        with contextlib.suppress(ConnectionError, RuntimeError):
                            await peer.send_bytes(msgpack.packb({"v": 1, "b": items}))
        finally:
            open_conns.discard(ws)
        return ws

    return handler


async def serve(port_file: Path, wire: str) -> None:
    conns: dict[bytes, web.WebSocketResponse] = {}
    relay_conns: set[web.WebSocketResponse] = set()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=256 * 1024, compress=False, heartbeat=30)
        await ws.prepare(request)
        me = b""
        try:
            first = await ws.receive()
            if first.type != WSMsgType.BINARY:
                return ws
            me = first.data
            conns[me] = ws
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    break
                out: dict[bytes, list[bytes]] = {}
                for dest, body in msgpack.unpackb(msg.data)["b"]:
                    out.setdefault(dest, []).append(body)
                for dest, bodies in out.items():
                    peer = conns.get(dest)
                    if peer is not None and not peer.closed:
                        with contextlib.suppress(ConnectionError, RuntimeError):
                            await peer.send_bytes(msgpack.packb({"b": bodies}))
        finally:
            if conns.get(me) is ws:
                del conns[me]
        return ws

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(len(conns) + len(relay_conns)))

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=f"securechat_relay_connections {len(relay_conns)}\n")

    app = web.Application()
    if wire == "relay":
        app.router.add_get("/ws", relay_wire_handler(relay_conns))
    else:
        app.router.add_get("/ws", ws_handler)
    app.router.add_get("/count", count)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    tmp = port_file.with_name(port_file.name + ".tmp")
    tmp.write_text(str(port))
    os.replace(tmp, port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", type=Path, required=True)
    p.add_argument("--wire", choices=["minimal", "relay"], default="minimal")
    args = p.parse_args()
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as r:
        r.run(serve(args.port_file, args.wire))


if __name__ == "__main__":
    main()
