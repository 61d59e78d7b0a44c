"""The baseline for bench/relay.py: a bare aiohttp WebSocket forwarder, no auth, no storage.

Each connection first sends a binary frame with its 16-byte id (registration); after that
each frame is ``msgpack({"b": [[dest_id, body], ...]})`` and the forwarder sends every body
on to the connection registered as ``dest_id``, one frame per destination per input frame
(``msgpack({"b": [body, ...]})``). ``GET /count`` returns the number of open connections.

Run: ``python bench/_forwarder.py --port-file F`` (loopback, port 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

import msgpack
from aiohttp import WSMsgType, web

__all__ = ["main"]


async def serve(port_file: Path) -> None:
    conns: dict[bytes, web.WebSocketResponse] = {}

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
        return web.Response(text=str(len(conns)))

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/count", count)
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
    args = p.parse_args()
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as r:
        r.run(serve(args.port_file))


if __name__ == "__main__":
    main()
