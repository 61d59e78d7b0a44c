"""``securechat-relay``: run a relay, smoke-test one, or read its store's counts.

::

    securechat-relay serve --data-dir D [--host H] [--port P] [--config F] [--port-file F]
                           [--tls-cert C --tls-key K] [--log-level L]
    securechat-relay check URL [--timeout S]
    securechat-relay stats --data-dir D [--json]

Exit codes: 0 success, 1 runtime failure (port in use, unusable data directory, relay
unreachable, check failed), 2 bad usage or configuration. Errors are one line on stderr.
The process sets ``umask 077`` before anything touches the disk.

SIGTERM or SIGINT stops ``serve`` cleanly (exit 0, "shutting down" logged) at any moment from
the start of `main` on: during start-up, while serving, and while shutting down. That is why
this module imports only the standard library at its top and the rest (aiohttp, PyNaCl, the
server: about half a second) inside the commands, after `serve` has taken over the signals.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relay.config import RelayConfig

__all__ = ["main", "run_check"]

log = logging.getLogger("relay")
PROG = "securechat-relay"
NO_DATA_DIR = "a data directory is required (--data-dir or data_dir in the config)"


def _data_dir(value: str) -> Path:
    """An argparse type: a directory path; an empty one would mean the current directory."""
    if not value:
        raise argparse.ArgumentTypeError(NO_DATA_DIR)
    return Path(value)


def _seconds(value: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {value!r}")
    return seconds


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="The securechat relay: a content-blind message queue server."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("serve", help="run the relay")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="TCP port; 0 picks a free one (default 8765)")
    s.add_argument("--data-dir", type=_data_dir, help="directory of the relay database")
    s.add_argument("--config", type=Path, help="TOML configuration file")
    s.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    s.add_argument("--tls-cert", type=Path, help="PEM certificate chain for built-in TLS")
    s.add_argument("--tls-key", type=Path, help="PEM private key for built-in TLS")
    s.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    c = sub.add_parser(
        "check", help="smoke-test a relay: queue, secure, send, receive, ack, delete"
    )
    c.add_argument("url", help="the relay's WebSocket URL, e.g. wss://relay.example.org/ws")
    c.add_argument("--timeout", type=_seconds, default=10.0, help="seconds per step (default 10)")
    t = sub.add_parser("stats", help="print queue and message counts of a relay's store")
    t.add_argument("--data-dir", type=_data_dir, required=True)
    t.add_argument("--json", action="store_true", help="print JSON")
    return p


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _run(coro_fn: Callable[[], Any]) -> Any:
    import asyncio

    factory = None
    try:
        import uvloop  # optional speed-up

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro_fn())


# ---- serve ------------------------------------------------------------------------------------

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _StopRequest:
    """The stop signals' handler whenever the event loop is not running: it remembers that a
    stop was asked for, and `_serve_async` stops as soon as it can."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum

    def install(self) -> None:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self)


def _serve(args: argparse.Namespace) -> int:
    # First of all, before the slow imports: SIGTERM's default action would end the process
    # with 143 and no word in the log.
    stop_request = _StopRequest()
    stop_request.install()
    try:
        return _serve_with(args, stop_request)
    finally:
        # The event loop gave the signals back to their defaults when it closed.
        stop_request.install()


def _serve_with(args: argparse.Namespace, stop_request: _StopRequest) -> int:
    from relay.config import load_config
    from relay.exceptions import ConfigError

    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "port_file": args.port_file,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "log_level": args.log_level,
    }
    try:
        cfg = load_config(args.config, os.environ, overrides)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    if cfg.data_dir is None:
        return _fail(NO_DATA_DIR, 2)
    logging.basicConfig(
        level=cfg.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The store's writer thread hands the GIL back and forth with the event loop on every
    # SQLite call; the default 5 ms switch interval would make each hand-off a 5 ms stall.
    sys.setswitchinterval(cfg.switch_interval)
    # Each command allocates a few short-lived containers; with the default thresholds the
    # cyclic GC ran often enough to take a third of the relay's CPU under load.
    gc.set_threshold(50_000, 20, 20)
    result: int = _run(lambda: _serve_async(cfg, stop_request))
    return result


async def _serve_async(cfg: RelayConfig, stop_request: _StopRequest) -> int:
    import asyncio

    from relay.exceptions import ConfigError, StoreError
    from relay.server import RelayServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if stop_request.signal is not None:  # asked before the loop took the signals over
        log.info("shutting down: stopped while starting")
        return 0
    server = RelayServer(cfg)
    try:
        await server.start()
    except (StoreError, ConfigError) as exc:  # ConfigError: the TLS files
        return _fail(str(exc))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"cannot listen on {cfg.host}:{cfg.port}: address already in use")
        return _fail(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}")
    if stop.is_set():  # asked while the store opened and the socket bound
        log.info("shutting down: stopped while starting")
        await server.close()
        return 0
    gc.collect()
    gc.freeze()  # what exists after start-up lives for the whole run
    if cfg.port_file is not None:
        try:
            tmp = cfg.port_file.with_name(cfg.port_file.name + ".tmp")
            tmp.write_text(f"{server.port}\n", encoding="ascii")
            os.replace(tmp, cfg.port_file)
        except OSError as exc:
            await server.close()
            return _fail(f"cannot write the port file {cfg.port_file}: {exc.strerror}")
    log.info("serving on port %s; stop with SIGTERM", server.port)
    await stop.wait()
    log.info("shutting down")
    await server.close()
    return 0


# ---- check ------------------------------------------------------------------------------------


async def run_check(url: str, timeout: float = 10.0, out: Callable[[str], None] = print) -> None:
    """Exercise a relay end to end, reporting each step that worked through `out`.

    Raises:
        RelayError: with a message naming the step that failed.
    """
    import asyncio

    from nacl.signing import SigningKey

    from relay.client import RelayClient
    from relay.exceptions import ClientError, CommandFailed, RelayError
    from relay.protocol import Msg

    step = "connect"
    try:
        async with asyncio.timeout(timeout * 8):
            async with asyncio.timeout(timeout):  # the WebSocket handshake has none of its own
                client = await RelayClient.connect(url, timeout=timeout)
            async with client:
                out(f"ok   connected (protocol versions {list(client.versions)})")
                recipient, sender = SigningKey.generate(), SigningKey.generate()
                step = "create a queue (NEW)"
                rid, sid = await client.create_queue(recipient)
                out("ok   created a queue")
                step = "secure the queue (KEY)"
                await client.secure_queue(rid, recipient, bytes(sender.verify_key))
                out("ok   secured it with a sender key")
                step = "send a message (SEND)"
                body = os.urandom(32)
                await client.send(sid, body, sender)
                out("ok   sent a message (stored durably)")
                step = "subscribe and receive (SUB)"
                await client.subscribe(rid, recipient)
                while True:
                    item = await client.next_push(timeout)
                    if isinstance(item, Msg) and item.rid == rid:
                        break
                if item.body != body:
                    raise RelayError("the relay returned a different message")
                out("ok   received it")
                step = "acknowledge (ACK)"
                await client.ack(rid, item.mid, recipient)
                out("ok   acknowledged it (deleted on the relay)")
                step = "delete the queue (DEL)"
                await client.delete_queue(rid, recipient)
                out("ok   deleted the queue")
    except TimeoutError:
        raise RelayError(f"{step}: no answer within the timeout") from None
    except CommandFailed as exc:
        raise RelayError(f"{step}: the relay refused with {exc.code}") from exc
    except ClientError as exc:
        raise RelayError(f"{step}: {_why_no_connection(exc.__cause__) or exc}") from exc


def _why_no_connection(exc: BaseException | None) -> str | None:
    """What a self-hoster can do about a failed connection (never the URL), if we know."""
    import aiohttp

    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return (
            f"the server answered HTTP {exc.status} instead of opening a WebSocket: it is not "
            "a relay, or the URL's path is wrong (a relay's ends in /ws)"
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        why = getattr(exc.certificate_error, "verify_message", None) or "not trusted"
        return (
            f"the relay's TLS certificate is not trusted ({why}); for a certificate from a "
            "private CA, set SSL_CERT_FILE to the CA certificate's PEM file"
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        return (
            "the TLS handshake failed: if the server speaks plain HTTP on that port (no TLS "
            "of its own), use ws:// instead of wss://"
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return (
            "the server closed the connection without answering: if it serves TLS on that "
            "port, use wss:// instead of ws://"
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return "the URL is not valid"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "cannot resolve the relay's host name"
    if isinstance(exc, aiohttp.ClientConnectorError):  # its strerror names the address
        why = f" ({os.strerror(exc.errno)})" if exc.errno else ""
        return f"nothing accepts connections at that host and port{why}"
    return None


def _check(args: argparse.Namespace) -> int:
    if not args.url.startswith(("ws://", "wss://")):
        return _fail("the URL must start with ws:// or wss://", 2)
    from relay.exceptions import RelayError

    try:
        _run(lambda: run_check(args.url, args.timeout))
    except RelayError as exc:
        return _fail(f"check failed at {exc}")
    print("relay check passed")
    return 0


# ---- stats ------------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    from relay.exceptions import StoreError
    from relay.store import read_stats

    try:
        st = read_stats(args.data_dir)
    except StoreError as exc:
        return _fail(str(exc))
    counts = {
        "queues": st.queues,
        "messages": st.messages,
        "publications": st.publications,
        "prekeys": st.prekeys,
    }
    if args.json:
        print(json.dumps(counts))
    else:
        for k, v in counts.items():
            print(f"{k}: {v}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``securechat-relay``; returns the exit code."""
    os.umask(0o077)
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        return _check(args)
    return _stats(args)


if __name__ == "__main__":
    sys.exit(main())
