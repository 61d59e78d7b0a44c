"""The relay server: a thin aiohttp WebSocket layer over `relay.mailbox` and a `Store`.

Endpoints
    ``GET /ws``       the WebSocket of the relay protocol (binary msgpack frames)
    ``GET /healthz``  200 "ok" while serving, 503 while shutting down
    ``GET /metrics``  Prometheus text: gauges and counters, no per-client labels

Messages (docs/protocol.md has their fields)
    client -> relay commands: NEW, KEY, SEND, SUB, ACK, ACKS, DEL, PUB, UNPUB, FETCH, DIR, PING
    relay -> client replies:  IDS (NEW), OK (KEY SEND SUB ACK ACKS DEL UNPUB), PID (PUB),
                              PUBD (FETCH), DIRL (DIR), PONG (PING), ERR (any)
    relay -> client pushes:   HELLO (on connect: challenge, versions, limits),
                              MSG (a message of a subscribed queue), END (subscription ended)

Invariants
    * A SEND is answered OK only after the store committed the message; an ACK only after it
      deleted it. Replies to one frame go out together once all its commands are done.
    * Commands of one connection are checked and submitted to the store in arrival order.
      SENDs, ACKs and ACKSes of cached queues go to the store as one batch per frame
      (`Store.submit_messages`), with one callback for the batch, not one future per message.
    * A handler that crashes is logged (ERROR, generic; traceback at DEBUG) and closes only its
      own connection. Malformed input gets an ERR item (or a clean close), never a crash.
    * Nothing here logs client addresses, queue ids, keys or payloads; aiohttp's access log is
      off. Logs say when a connection opens and closes, with the number open.
    * `close()` is idempotent: stop accepting, let submitted commits finish and their replies
      go out, close every connection, then close the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from itertools import repeat
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from relay.config import RelayConfig
from relay.connection import MAX_PENDING, Conn, FrameReplies, random_ids, refilled
from relay.exceptions import (
    AuthError,
    CommandFailed,
    ErrorCode,
    FrameError,
    NoMessage,
    NoPublication,
    NoQueue,
    QuotaExceeded,
    StoreError,
)
from relay.logs import anonymize_aiohttp_logs
from relay.mailbox import Mailbox, PublicationRecord, QueueRecord, StoredMessage, authorize
from relay.metrics import render_metrics
from relay.protocol import (
    ID_LEN,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    Ack,
    Acks,
    BadCommand,
    Command,
    Del,
    Dir,
    DirEntry,
    DirList,
    End,
    Err,
    Fetch,
    Hello,
    Ids,
    Key,
    New,
    Ok,
    Pid,
    Ping,
    Pong,
    Pub,
    Pubd,
    Role,
    Send,
    ServerItem,
    Sub,
    Unpub,
    decode_client_frame,
)
from relay.store import SQLiteStore, Store, StoreStats
from relay.store.base import AddMessage, DeleteMessage, MessageOp, MessageResult
from relay.tls import load_tls_context

__all__ = ["RelayServer"]

log = logging.getLogger(__name__)
_DAY = 86400
_MAX_PROTOCOL_ERRORS = 32  # unusable frames per connection before it is closed
_SENDER, _RECIPIENT = Role.SENDER, Role.RECIPIENT
_Result = ServerItem | tuple["asyncio.Future[Any]", Callable[[Any], ServerItem]]


class RelayServer:
    """A relay on `config`, storing in `store` (default: SQLite in ``config.data_dir``)."""

    def __init__(self, config: RelayConfig, store: Store | None = None) -> None:
        if store is None:
            if config.data_dir is None:
                raise ValueError("a data directory is required")
            store = SQLiteStore(
                config.data_dir, synchronous=config.sync, max_batch=config.store_batch
            )
        anonymize_aiohttp_logs()  # aiohttp's own error lines name the client
        self.config = config
        self.store = store
        self.limits = config.codec_limits()
        self.mailbox = Mailbox(window=config.window)
        # Messages held in memory per subscription: a page, refilled as acks drain it.
        self._page = max(4 * config.window, 64)
        self.counters: Counter[str] = Counter()
        self._prekey_tokens: dict[bytes, tuple[float, float]] = {}  # pid -> (tokens, when)
        self.errors: Counter[str] = Counter()
        self._conns: set[Conn] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False
        self._closed: asyncio.Event | None = None
        self._close_task: asyncio.Task[None] | None = None
        self.port: int | None = None
        self._hello_limits = {
            "max_frame": config.max_frame,
            "max_batch": config.max_batch,
            "max_body": config.max_body,
            "max_blob": config.max_blob,
            "max_summary": config.max_summary,
            "max_prekeys": config.max_prekeys,
            "queue_quota": config.queue_quota,
            "message_ttl": config.message_ttl,
            "window": config.window,
            "rate": int(config.rate),
            "max_acks": config.max_batch,  # ACKS supported, with up to this many mids
        }

    # ---- lifecycle --------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """Return the aiohttp application (routes only; `start` runs it)."""
        app = web.Application(client_max_size=self.config.max_frame)
        app.router.add_get("/ws", self._ws_handler)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> None:
        """Open the store and start listening; sets `port`.

        Raises:
            StoreError: the store cannot be opened.
            OSError: the address cannot be bound (for instance, in use).
            ConfigError: the TLS certificate or key is unusable (the message says why);
                nothing was opened.
        """
        cfg = self.config
        self._closed = asyncio.Event()
        ssl_ctx = None
        if cfg.tls_cert is not None and cfg.tls_key is not None:
            ssl_ctx = load_tls_context(cfg.tls_cert, cfg.tls_key)
        await self.store.open()
        try:
            self._runner = web.AppRunner(
                self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, cfg.host, cfg.port, ssl_context=ssl_ctx, backlog=1024)
            await site.start()
        except BaseException:
            if self._runner is not None:
                await self._runner.cleanup()
            await self.store.close()
            raise
        addrs = self._runner.addresses
        self.port = int(addrs[0][1]) if addrs else cfg.port
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self._sweep_forever())
        self._watchdog = loop.create_task(self._close_idle_forever())
        log.info("relay listening (protocol version %s)", PROTOCOL_VERSION)

    async def close(self) -> None:
        """Shut down gracefully; idempotent and safe to call concurrently."""
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close())
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._closing = True
        timeout = self.config.shutdown_timeout
        for task in (self._sweeper, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()  # stop accepting
        deadline = time.monotonic() + timeout
        while any(c.pending for c in self._conns) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # bounded: submitted commits finish, replies queued
        for conn in list(self._conns):
            flush = conn.flush_task
            if flush is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        asyncio.shield(flush), max(0.1, deadline - time.monotonic())
                    )
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    conn.ws.close(code=1001, message=b"relay shutting down"), 1.0
                )
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=max(0.1, deadline - time.monotonic()))
        if self._runner is not None:
            await self._runner.cleanup()
        await self.store.close()
        if self._closed is not None:
            self._closed.set()
        log.info("relay stopped")

    async def wait_closed(self) -> None:
        """Wait until `close` finished."""
        if self._closed is not None:
            await self._closed.wait()

    # ---- HTTP endpoints ---------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        if self._closing:
            return web.Response(status=503, text="closing\n")
        if self.store.failing is not None:
            return web.Response(status=503, text="store cannot write\n")
        return web.Response(text="ok\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            stats: StoreStats | None = await self.store.stats()
        except StoreError:
            stats = None
        text = render_metrics(
            self.counters,
            self.errors,
            len(self._conns),
            self.mailbox.subscriptions,
            stats,
            self.store,
        )
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    # ---- the WebSocket ----------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        cfg = self.config
        if self._closing or len(self._conns) >= cfg.max_connections:
            return web.Response(status=503, text="busy\n")
        ws = web.WebSocketResponse(
            heartbeat=cfg.heartbeat, max_msg_size=cfg.max_frame, compress=False
        )
        await ws.prepare(request)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        conn = Conn(ws, cfg.burst)
        self._conns.add(conn)
        self.counters["opened"] += 1
        log.info("connection opened (%s open)", len(self._conns))
        conn.out.append(
            Hello(conn.challenge, tuple(sorted(SUPPORTED_VERSIONS)), self._hello_limits)
        )
        self._schedule_flush(conn)
        reason = "closed by client"
        try:
            reason = await self._read_loop(conn)
        except Exception:
            reason = "handler error"
            log.error("a connection handler failed; closing that connection")
            log.debug("connection handler failure", exc_info=True)
        finally:
            conn.closed = True
            self.mailbox.drop_owner(conn, conn.subs)
            conn.subs.clear()
            self._conns.discard(conn)
            if task is not None:
                self._handlers.discard(task)
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close(code=1011 if reason == "handler error" else 1000)
            log.info("connection closed: %s (%s open)", reason, len(self._conns))
        return ws

    async def _read_loop(self, conn: Conn) -> str:
        ws = conn.ws
        while True:
            if conn.pending >= MAX_PENDING:
                conn.resume = asyncio.get_running_loop().create_future()
                await conn.resume
            msg = await ws.receive()
            conn.active = time.monotonic()
            if self._closing:  # shutting down: run no new commands; finish the old ones
                deadline = time.monotonic() + self.config.shutdown_timeout
                while conn.pending and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                await self._drain(conn)
                await ws.close(code=1001, message=b"relay shutting down")
                return "relay shutting down"
            if msg.type == WSMsgType.BINARY:
                await self._on_frame(conn, msg.data)
                if conn.errors >= _MAX_PROTOCOL_ERRORS:
                    await self._drain(conn)
                    await ws.close(code=1002, message=b"too many protocol errors")
                    return "protocol errors"
            elif msg.type == WSMsgType.TEXT:
                conn.out.append(Err(None, ErrorCode.SYNTAX))
                self.errors[ErrorCode.SYNTAX] += 1
                await self._drain(conn)
                await ws.close(code=1003, message=b"binary frames only")
                return "text frame"
            elif msg.type == WSMsgType.ERROR:
                return "transport error"
            elif conn.idle:
                return "idle"
            else:  # CLOSE, CLOSING, CLOSED
                return "closed by client"

    async def _drain(self, conn: Conn) -> None:
        self._schedule_flush(conn)
        if conn.flush_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(conn.flush_task), 1.0)

    # ---- frames and commands ----------------------------------------------------------------

    async def _on_frame(self, conn: Conn, data: bytes) -> None:
        try:
            version, items = decode_client_frame(data, self.limits)
        except FrameError as exc:
            conn.errors += 1
            self.errors[exc.code] += 1
            conn.out.append(Err(None, exc.code))
            self._schedule_flush(conn)
            return
        conn.version = version
        replies = FrameReplies(self, conn, len(items))
        cfg = self.config
        mailbox = self.mailbox
        self.counters["commands"] += len(items)
        # SENDs and ACKs of cached queues go to the store together, one batch per run of
        # them (store order = arrival order: the batch is submitted before any other command).
        hot: list[MessageOp] = []
        meta: list[tuple[int, int, int]] = []  # (index in frame, corr, ops) per command
        now = int(time.time())
        conn.refill(cfg.rate, cfg.burst)
        session = conn.session
        for i, item in enumerate(items):
            if isinstance(item, BadCommand):
                conn.errors += 1
                self.errors[item.code] += 1
                replies.set(i, Err(item.corr, item.code))
                continue
            if conn.tokens < 1.0:
                self.errors[ErrorCode.RATE] += 1
                replies.set(i, Err(item.corr, ErrorCode.RATE))
                continue
            conn.tokens -= 1.0
            kind = type(item)
            try:
                if kind is Send:
                    q = mailbox.by_sid(item.sid)  # type: ignore[union-attr]
                    if q is not None:
                        if (
                            item.sig is not None  # type: ignore[union-attr]
                            or q.skey is None
                            or session.get((_SENDER, q.sid)) != q.skey
                        ):
                            authorize(item, Role.SENDER, q.sid, q.skey, conn.challenge, session)
                        hot.append(
                            AddMessage(
                                q.rid,
                                random_ids.take(ID_LEN),
                                now,
                                item.body,  # type: ignore[union-attr]
                                cfg.queue_quota,
                            )
                        )
                        meta.append((i, item.corr, 1))
                        continue
                elif kind is Ack:
                    q = mailbox.by_rid(item.rid)  # type: ignore[union-attr]
                    if q is not None:
                        if (
                            item.sig is not None  # type: ignore[union-attr]
                            or session.get((_RECIPIENT, q.rid)) != q.rkey
                        ):
                            authorize(item, Role.RECIPIENT, q.rid, q.rkey, conn.challenge, session)
                        mid = item.mid  # type: ignore[union-attr]
                        hot.append(DeleteMessage(q.rid, mid, mailbox.seq_of(q.rid, mid)))
                        meta.append((i, item.corr, 1))
                        continue
                elif kind is Acks:
                    rid = item.rid  # type: ignore[union-attr]
                    q = mailbox.by_rid(rid)
                    if q is None:
                        if hot:
                            self._submit_hot(conn, replies, hot, meta)
                            hot, meta = [], []
                        q = await self._queue(rid)
                    if (
                        item.sig is not None  # type: ignore[union-attr]
                        or session.get((_RECIPIENT, q.rid)) != q.rkey
                    ):
                        authorize(item, Role.RECIPIENT, q.rid, q.rkey, conn.challenge, session)
                    mids = item.mids  # type: ignore[union-attr]
                    hot.extend(
                        map(DeleteMessage, repeat(q.rid), mids, mailbox.seqs_of(q.rid, mids))
                    )
                    meta.append((i, item.corr, len(mids)))
                    continue
                elif kind is Ping:
                    replies.set(i, Pong(item.corr))
                    continue
                if hot:
                    self._submit_hot(conn, replies, hot, meta)
                    hot, meta = [], []
                result = await self._dispatch(conn, item)
            except Exception as exc:
                replies.set(i, self._error_item(item.corr, exc))
                continue
            if isinstance(result, tuple):
                fut, make = result
                replies.wait(i, item.corr, fut, make)
            else:
                replies.set(i, result)
        if hot:
            self._submit_hot(conn, replies, hot, meta)

    def _submit_hot(
        self,
        conn: Conn,
        replies: FrameReplies,
        ops: list[MessageOp],
        meta: list[tuple[int, int, int]],
    ) -> None:
        """Submit a run of SENDs and ACKs to the store; reply and push once committed.

        `meta` has one entry per command: its index in the frame, its corr and how many of
        `ops` it owns (1, or the number of mids of an ACKS).
        """
        mailbox = self.mailbox

        def done(results: list[MessageResult]) -> None:
            replies.done_many(len(meta))
            stored = acked = 0
            k = 0
            arrived, gone = mailbox.arrived, mailbox.acked
            for i, corr, n in meta:
                failure: BaseException | None = None
                for j in range(k, k + n):
                    res = results[j]
                    op = ops[j]
                    if res is None:  # a delete
                        acked += 1
                        owner = gone(op.rid, op.mid)
                    elif type(res) is StoredMessage:
                        stored += 1
                        owner = arrived(op.rid, res)
                    else:  # refused
                        if failure is None or isinstance(failure, NoMessage):
                            failure = res  # type: ignore[assignment]  # NO_MSG if nothing worse
                        continue
                    if owner is not None and type(owner) is Conn:
                        owner.dirty.add(op.rid)
                        if owner.flush_task is None:
                            self._schedule_flush(owner)
                k += n
                if failure is None:
                    replies.set(i, {"op": "OK", "corr": corr})  # the wire map of Ok(corr)
                else:
                    replies.set(i, self._error_item(corr, failure))
            counters = self.counters
            if stored:
                counters["in"] += stored
            if acked:
                counters["acked"] += acked

        try:
            self.store.submit_messages(ops, done)
        except Exception as exc:
            for i, corr, _n in meta:
                replies.set(i, self._error_item(corr, exc))
            return
        replies.wait_many(len(meta))

    def _error_item(self, corr: int | None, exc: BaseException) -> Err:
        if isinstance(exc, CommandFailed):
            code = exc.code
        else:
            code = ErrorCode.INTERNAL
            if isinstance(exc, StoreError):  # the store logged why, once
                log.debug("the store refused a command")
            else:
                log.error("a command failed unexpectedly")
            log.debug("command failure", exc_info=exc)
        self.errors[code] += 1
        return Err(corr, code)

    async def _dispatch(self, conn: Conn, cmd: Command) -> _Result:
        """Check and submit one command; return its reply or (future, reply maker).

        Raises:
            CommandFailed: the command is refused before reaching the store.
            StoreError: the store is closed.
        """
        if isinstance(cmd, Send):
            return await self._send(conn, cmd)
        if isinstance(cmd, Ack):
            return await self._ack(conn, cmd)
        if isinstance(cmd, Acks):  # pragma: no cover - handled in _on_frame
            raise AssertionError("ACKS is handled in _on_frame")
        if isinstance(cmd, Sub):
            return await self._sub(conn, cmd)
        if isinstance(cmd, Ping):
            return Pong(cmd.corr)
        if isinstance(cmd, New):
            return self._new(conn, cmd)
        if isinstance(cmd, Key):
            return await self._key(conn, cmd)
        if isinstance(cmd, Del):
            return await self._del(conn, cmd)
        if isinstance(cmd, Pub):
            return await self._pub(conn, cmd)
        if isinstance(cmd, Unpub):
            return await self._unpub(conn, cmd)
        if isinstance(cmd, Fetch):
            corr = cmd.corr
            if self._prekey_allowed(cmd.pid):
                fut = _future(self.store.fetch_publication(cmd.pid))
            else:
                fut = _future(self._without_prekey(cmd.pid))
            return fut, lambda r: Pubd(corr, r[0].blob, r[0].pkey, r[1])
        return self._dir(cmd)

    def _prekey_allowed(self, pid: bytes) -> bool:
        """Take a one-time prekey token of publication `pid` (a bucket of `prekey_burst`,
        refilled at `prekeys_per_hour`); False once they are used up for now."""
        rate, burst = self.config.prekeys_per_hour / 3600.0, self.config.prekey_burst
        now = time.monotonic()
        tokens = refilled(*self._prekey_tokens.get(pid, (burst, now)), now, rate, burst)
        if tokens < 1.0:
            self._prekey_tokens[pid] = (tokens, now)
            self.counters["prekeys_withheld"] += 1
            return False
        self._prekey_tokens[pid] = (tokens - 1.0, now)
        return True

    async def _without_prekey(self, pid: bytes) -> tuple[PublicationRecord, None]:
        """FETCH past the prekey rate: the publication, without handing out a prekey."""
        pub = await self.store.publication(pid)
        if pub is None:
            raise NoPublication
        return pub, None

    def _forget_full_prekey_buckets(self) -> None:
        """Drop the buckets that have refilled: a new one starts full anyway."""
        rate, burst = self.config.prekeys_per_hour / 3600.0, self.config.prekey_burst
        now = time.monotonic()
        full = [
            p
            for p, held in self._prekey_tokens.items()
            if refilled(*held, now, rate, burst) >= burst
        ]
        for pid in full:
            del self._prekey_tokens[pid]

    async def _queue(self, rid: bytes) -> QueueRecord:
        q = self.mailbox.by_rid(rid)
        if q is None:
            q = await self.store.queue_by_rid(rid)
            if q is None:
                raise NoQueue
            self.mailbox.remember(q)
        return q

    async def _recipient(self, conn: Conn, cmd: Key | Sub | Ack | Del) -> QueueRecord:
        q = await self._queue(cmd.rid)
        authorize(cmd, Role.RECIPIENT, q.rid, q.rkey, conn.challenge, conn.session)
        return q

    def _new(self, conn: Conn, cmd: New) -> _Result:
        authorize(cmd, Role.SELF, b"", cmd.key, conn.challenge, {})
        if conn.queues_created >= self.config.max_queues_per_conn:
            raise QuotaExceeded
        conn.queues_created += 1
        now = int(time.time())
        q = QueueRecord(os.urandom(ID_LEN), os.urandom(ID_LEN), cmd.key, None, now - now % _DAY)
        conn.session[(Role.RECIPIENT, q.rid)] = cmd.key
        fut = _future(self.store.create_queue(q))
        fut.add_done_callback(lambda f: None if f.exception() else self.mailbox.remember(q))
        corr = cmd.corr
        return fut, lambda _: Ids(corr, q.rid, q.sid)

    async def _key(self, conn: Conn, cmd: Key) -> _Result:
        q = await self._recipient(conn, cmd)
        if q.skey is not None:
            raise AuthError
        fut = _future(self.store.secure_queue(q.rid, cmd.key))

        def secured(f: asyncio.Future[QueueRecord]) -> None:
            if not f.cancelled() and f.exception() is None:
                self.mailbox.remember(f.result())

        fut.add_done_callback(secured)
        corr = cmd.corr
        return fut, lambda _: Ok(corr)

    async def _send(self, conn: Conn, cmd: Send) -> _Result:
        q = self.mailbox.by_sid(cmd.sid)
        if q is None:
            q = await self.store.queue_by_sid(cmd.sid)
            if q is None:
                raise NoQueue
            self.mailbox.remember(q)
        return self._send_to(conn, cmd, q)

    def _send_to(self, conn: Conn, cmd: Send, q: QueueRecord) -> _Result:
        authorize(cmd, Role.SENDER, q.sid, q.skey, conn.challenge, conn.session)
        rid = q.rid
        fut = _future(
            self.store.add_message(
                rid, random_ids.take(ID_LEN), int(time.time()), cmd.body, self.config.queue_quota
            )
        )

        def stored(f: asyncio.Future[StoredMessage]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            self.counters["in"] += 1
            owner = self.mailbox.arrived(rid, f.result())
            if isinstance(owner, Conn):
                self._want_push(owner, rid)

        fut.add_done_callback(stored)
        corr = cmd.corr
        return fut, lambda _: Ok(corr)

    async def _sub(self, conn: Conn, cmd: Sub) -> _Result:
        q = await self._recipient(conn, cmd)
        rid = q.rid
        if rid not in conn.subs and len(conn.subs) >= self.config.max_subs_per_conn:
            raise QuotaExceeded
        old = self.mailbox.subscribe(rid, conn)
        if isinstance(old, Conn):
            old.subs.discard(rid)
            old.out.append(End(rid))
            self._schedule_flush(old)
        conn.subs.add(rid)
        fut = self._load_page(conn, rid, 0)
        corr = cmd.corr
        return fut, lambda _: Ok(corr)

    def _load_page(self, conn: Conn, rid: bytes, after: int) -> asyncio.Future[Any]:
        """Load the next page of `rid`'s stored messages into `conn`'s subscription."""
        page = self._page
        token = self.mailbox.token(rid)
        fut = _future(self.store.pending(rid, page, after))

        def loaded(f: asyncio.Future[list[StoredMessage]]) -> None:
            if f.cancelled() or f.exception() is not None:
                if self.mailbox.owner(rid) is conn and self.mailbox.token(rid) == token:
                    self.mailbox.unsubscribe(rid)
                    conn.subs.discard(rid)
                return
            msgs = f.result()
            if self.mailbox.loaded(rid, conn, msgs, complete=len(msgs) < page, token=token):
                self._want_push(conn, rid)

        fut.add_done_callback(loaded)
        return fut

    async def _ack(self, conn: Conn, cmd: Ack) -> _Result:
        return self._ack_on(conn, cmd, await self._queue(cmd.rid))

    def _ack_on(self, conn: Conn, cmd: Ack, q: QueueRecord) -> _Result:
        authorize(cmd, Role.RECIPIENT, q.rid, q.rkey, conn.challenge, conn.session)
        rid, mid = q.rid, cmd.mid
        fut = _future(self.store.delete_message(rid, mid))

        def deleted(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            self.counters["acked"] += 1
            owner = self.mailbox.acked(rid, mid)
            if isinstance(owner, Conn):
                self._want_push(owner, rid)

        fut.add_done_callback(deleted)
        corr = cmd.corr
        return fut, lambda _: Ok(corr)

    async def _del(self, conn: Conn, cmd: Del) -> _Result:
        q = await self._recipient(conn, cmd)
        rid = q.rid
        fut = _future(self.store.delete_queue(rid))

        def deleted(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            self.mailbox.forget(rid)
            owner = self.mailbox.unsubscribe(rid)
            if isinstance(owner, Conn):
                owner.subs.discard(rid)
                if owner is not conn:
                    owner.out.append(End(rid))
                    self._schedule_flush(owner)

        fut.add_done_callback(deleted)
        corr = cmd.corr
        return fut, lambda _: Ok(corr)

    async def _pub(self, conn: Conn, cmd: Pub) -> _Result:
        now = int(time.time())
        if cmd.pid is None:
            authorize(cmd, Role.SELF, b"", cmd.key, conn.challenge, {})
            if conn.pubs_created >= self.config.max_pubs_per_conn:
                raise QuotaExceeded
            conn.pubs_created += 1
            pid = os.urandom(ID_LEN)
            conn.session[(Role.PUBLISHER, pid)] = cmd.key
        else:
            pid = cmd.pid
            existing = await self.store.publication(pid)
            if existing is None:
                raise NoPublication
            if existing.pkey != cmd.key:
                raise AuthError
            authorize(cmd, Role.PUBLISHER, pid, existing.pkey, conn.challenge, conn.session)
        rec = PublicationRecord(pid, cmd.key, cmd.blob, cmd.summary, now - now % _DAY)
        fut = _future(self.store.put_publication(rec, cmd.prekeys, self.config.max_prekeys))
        corr = cmd.corr
        return fut, lambda _: Pid(corr, pid)

    async def _unpub(self, conn: Conn, cmd: Unpub) -> _Result:
        existing = await self.store.publication(cmd.pid)
        if existing is None:
            raise NoPublication
        authorize(cmd, Role.PUBLISHER, cmd.pid, existing.pkey, conn.challenge, conn.session)
        corr = cmd.corr
        return _future(self.store.delete_publication(cmd.pid)), lambda _: Ok(corr)

    def _dir(self, cmd: Dir) -> _Result:
        limit = max(1, min(cmd.limit or 50, self.limits.max_dir_page))
        corr = cmd.corr

        def page(rows: list[tuple[bytes, bytes]]) -> DirList:
            entries = tuple(DirEntry(p, s) for p, s in rows)
            return DirList(corr, entries, entries[-1].pid if len(entries) == limit else None)

        return _future(self.store.directory(cmd.after, limit)), page

    # ---- output -----------------------------------------------------------------------------

    def _want_push(self, conn: Conn, rid: bytes) -> None:
        conn.dirty.add(rid)
        self._schedule_flush(conn)

    def _schedule_flush(self, conn: Conn) -> None:
        if conn.flush_task is None and not conn.closed:
            conn.flush_task = asyncio.get_running_loop().create_task(self._flush(conn))

    async def _flush(self, conn: Conn) -> None:
        ws, mailbox = conn.ws, self.mailbox
        budget = self.limits.max_frame - 4096
        max_batch = self.limits.max_batch
        try:
            while not conn.closed:
                out, conn.out = conn.out, []
                items: list[Any] = [x if type(x) is dict else x.to_wire() for x in out]  # type: ignore[union-attr]
                sizes = [96 + len(getattr(x, "blob", b"")) for x in out]
                if conn.dirty:
                    dirty, conn.dirty = conn.dirty, set()
                    pushed = 0
                    for rid in dirty:
                        for m in mailbox.next_pushes(rid, conn):
                            body = m.body
                            items.append(
                                {"op": "MSG", "rid": rid, "mid": m.mid, "ts": m.ts, "body": body}
                            )
                            sizes.append(96 + len(body))
                            pushed += 1
                        after = mailbox.more(rid, conn)
                        if after is not None:
                            self._load_page(conn, rid, after).add_done_callback(_retrieve)
                    if pushed:
                        self.counters["out"] += pushed
                if not items:
                    break
                start, size = 0, 0
                for i, n in enumerate(sizes):
                    if i > start and (size + n > budget or i - start >= max_batch):
                        await ws.send_bytes(_pack_frame(items[start:i], conn.version))
                        start, size = i, 0
                    size += n
                await ws.send_bytes(_pack_frame(items[start:], conn.version))
        except (ConnectionError, RuntimeError):
            conn.closed = True  # the reader notices the close and cleans up
        finally:
            conn.flush_task = None

    # ---- housekeeping -----------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval)
            try:
                await self.sweep()
            except StoreError:
                log.error("the message expiry sweep failed")
                log.debug("sweep failure", exc_info=True)

    async def _close_idle_forever(self) -> None:
        """Close connections without subscriptions that sent nothing for `idle_timeout`."""
        timeout = self.config.idle_timeout
        while True:
            await asyncio.sleep(min(30.0, timeout / 4))
            cutoff = time.monotonic() - timeout
            for conn in list(self._conns):
                if conn.active < cutoff and not conn.subs and not conn.pending and not conn.idle:
                    conn.idle = True
                    with contextlib.suppress(Exception):
                        await conn.ws.close(code=1000, message=b"idle")

    async def sweep(self, now: float | None = None) -> int:
        """Delete messages older than the TTL; return how many the store deleted.

        Raises:
            StoreError: the store failed.
        """
        before = int(now if now is not None else time.time()) - self.config.message_ttl
        self._forget_full_prekey_buckets()
        n = await self.store.expire(before)
        self.counters["expired"] += n
        for rid, owner in self.mailbox.expire(before):
            if isinstance(owner, Conn):
                self._want_push(owner, rid)
        if n:
            log.debug("expired %s messages", n)
        return n


def _pack_frame(wire_items: list[Any], version: int) -> bytes:
    """Encode already wire-shaped items into one frame (as `encode_server_frame` does)."""
    out: bytes = msgpack.packb({"v": version, "b": wire_items}, use_bin_type=True)
    return out


def _retrieve(f: asyncio.Future[Any]) -> None:
    if not f.cancelled():
        f.exception()  # failures are handled in the future's own callback


def _future(aw: Awaitable[Any]) -> asyncio.Future[Any]:
    return aw if isinstance(aw, asyncio.Future) else asyncio.ensure_future(aw)
