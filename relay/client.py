"""A thin asyncio client of the relay protocol: one WebSocket, typed requests and pushes.

It does what every client needs and nothing more: connect and read HELLO, sign commands over
the connection's challenge, batch commands issued together into one frame, match replies to
requests by correlation id, and hand out pushed MSG/END items as an async iterator.
Reconnection, resubscription and an outbox belong to the caller (the client core).

Invariants
    * Commands are written in the order they were issued; commands issued in the same event
      loop iteration share one frame (up to the relay's ``max_batch``).
    * Every `request` ends: with its reply, with `CommandFailed` (an ERR reply), or with
      `ConnectionClosed` when the connection goes away first.
    * With ``session_auth`` (the default) a command is signed unless this connection already
      had a signed command for the same entity and key accepted; the relay accepts either.
    * Nothing is logged except connection open/close at DEBUG; never ids, keys or bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from nacl.signing import SigningKey

from relay.exceptions import (
    ClientError,
    CommandFailed,
    ConnectionClosed,
    ErrorCode,
    ProtocolError,
)
from relay.protocol import (
    PROTOCOL_VERSION,
    Ack,
    CodecLimits,
    Command,
    Del,
    Dir,
    DirList,
    End,
    Err,
    Fetch,
    Hello,
    Ids,
    Key,
    Msg,
    New,
    Ok,
    Pid,
    Ping,
    Pong,
    Pub,
    Pubd,
    Reply,
    Send,
    Sub,
    Unpub,
    decode_server_frame,
    encode_client_frame,
    sign_command,
)

__all__ = ["CLIENT_LIMITS", "PushItem", "RelayClient"]

log = logging.getLogger(__name__)

# Generous decoding limits: the relay's own announced limits are what it enforces.
CLIENT_LIMITS = CodecLimits(
    max_frame=16 * 1024 * 1024,
    max_batch=4096,
    max_body=1024 * 1024,
    max_blob=1024 * 1024,
    max_summary=64 * 1024,
    max_prekeys=4096,
    max_prekey=4096,
    max_dir_page=4096,
)
_CODE_CLASSES: dict[str, type[CommandFailed]] = {
    c.default_code.value: c for c in CommandFailed.__subclasses__()
}
PushItem = Msg | End | Err
R = TypeVar("R", bound=Reply)
_CLOSED = object()


def _failure(code: str) -> CommandFailed:
    cls = _CODE_CLASSES.get(code)
    if cls is not None:
        return cls()
    try:
        return CommandFailed(ErrorCode(code))
    except ValueError:
        return CommandFailed(ErrorCode.INTERNAL, f"relay error {code[:32]!r}")


class RelayClient:
    """One connection to a relay. Create it with `RelayClient.connect`."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        session: aiohttp.ClientSession | None,
        hello: Hello,
        *,
        session_auth: bool = True,
    ) -> None:
        self._ws = ws
        self._own_session = session
        self.challenge: bytes = hello.challenge
        self.limits: Mapping[str, int] = hello.limits
        self.versions: tuple[int, ...] = hello.versions
        self.session_auth = session_auth
        self._corr = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._pushes: asyncio.Queue[Any] = asyncio.Queue()
        self._outbuf: list[Command] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._proved: set[tuple[bytes, bytes]] = set()
        self._closed = False
        self._max_batch = max(1, int(hello.limits.get("max_batch", 64)))
        self._max_frame = max(4096, int(hello.limits.get("max_frame", 256 * 1024)))
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        heartbeat: float | None = 30.0,
        session_auth: bool = True,
    ) -> RelayClient:
        """Open a WebSocket to `url` (``ws://`` or ``wss://``) and read the relay's HELLO.

        Raises:
            ClientError: the relay is unreachable, refuses the WebSocket, or does not speak
                a protocol version this client supports.
        """
        own = session is None
        http = session if session is not None else aiohttp.ClientSession()
        try:
            ws_timeout: Any = getattr(aiohttp, "ClientWSTimeout", None)  # aiohttp >= 3.11
            extra: dict[str, Any] = (
                {"timeout": ws_timeout(ws_receive=None, ws_close=timeout)}
                if ws_timeout is not None
                else {}
            )
            ws = await http.ws_connect(
                url,
                **extra,
                heartbeat=heartbeat,
                max_msg_size=CLIENT_LIMITS.max_frame,
                autoclose=True,
                compress=0,
            )
            msg = await asyncio.wait_for(ws.receive(), timeout)
            if msg.type != aiohttp.WSMsgType.BINARY:
                raise ClientError("the relay did not greet with a binary HELLO frame")
            _, items = decode_server_frame(msg.data, CLIENT_LIMITS)
            hello = items[0] if items else None
            if not isinstance(hello, Hello):
                raise ClientError("the relay did not greet with HELLO")
            if PROTOCOL_VERSION not in hello.versions:
                raise ClientError("the relay does not speak this client's protocol version")
        except BaseException as exc:  # cancellation (a caller's timeout) included
            if own:
                await http.close()  # never leak the session
            if isinstance(exc, ClientError) or not isinstance(
                exc, (aiohttp.ClientError, OSError, TimeoutError, ProtocolError)
            ):
                raise
            raise ClientError(f"cannot connect to the relay: {exc.__class__.__name__}") from exc
        log.debug("connected to a relay")
        return cls(ws, http if own else None, hello, session_auth=session_auth)

    async def __aenter__(self) -> RelayClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once the connection is closed (by either side)."""
        return self._closed

    async def close(self) -> None:
        """Close the connection; waiting requests fail with `ConnectionClosed`. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._flush_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(self._flush_task), 2.0)
            with contextlib.suppress(Exception):
                await self._ws.close()
        if not self._reader.done():
            self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        self._fail_all()
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    # ---- requests ---------------------------------------------------------------------------

    def next_corr(self) -> int:
        """Return a fresh correlation id."""
        return next(self._corr)

    def submit(self, command: Command) -> asyncio.Future[Reply]:
        """Queue `command` for the next frame; return a future of its reply.

        The future fails with `CommandFailed` on ERR and `ConnectionClosed` if the
        connection closes first.

        Raises:
            ConnectionClosed: the connection is already closed.
        """
        if self._closed:
            raise ConnectionClosed("the relay connection is closed")
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[command.corr] = fut
        self._outbuf.append(command)
        if self._flush_task is None:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())
        return fut

    async def request(self, command: Command, timeout: float | None = None) -> Reply:
        """Send `command` and return its reply.

        Raises:
            CommandFailed: the relay answered ERR (a subclass names the code).
            ConnectionClosed: the connection closed before the reply.
            TimeoutError: no reply within `timeout` seconds.
        """
        fut = self.submit(command)
        return await (asyncio.wait_for(fut, timeout) if timeout is not None else fut)

    async def _expect(self, command: Command, kind: type[R]) -> R:
        reply = await self.request(command)
        if not isinstance(reply, kind):
            raise ClientError("the relay answered with an unexpected reply")
        return reply

    def sign(self, command: Command, key: SigningKey, entity: bytes | None = None) -> Command:
        """Return `command` signed by `key`, or unsigned if this connection proved it already."""
        mark = (entity or b"", bytes(key.verify_key))
        if self.session_auth and entity is not None and mark in self._proved:
            return command
        return sign_command(command, self.challenge, key)

    def _proved_ok(self, entity: bytes, key: SigningKey) -> None:
        self._proved.add((entity, bytes(key.verify_key)))

    # ---- commands ---------------------------------------------------------------------------

    async def create_queue(self, recipient_key: SigningKey) -> tuple[bytes, bytes]:
        """NEW: create a queue owned by `recipient_key`; return (rid, sid).

        Raises:
            CommandFailed: AUTH, QUOTA, RATE, ...; ConnectionClosed.
        """
        cmd = New(self.next_corr(), bytes(recipient_key.verify_key))
        ids = await self._expect(self.sign(cmd, recipient_key), Ids)
        self._proved_ok(ids.rid, recipient_key)
        return ids.rid, ids.sid

    async def secure_queue(self, rid: bytes, recipient_key: SigningKey, sender_key: bytes) -> None:
        """KEY: allow only `sender_key` (a public key) to send to queue `rid`.

        Raises:
            CommandFailed: NO_QUEUE, AUTH (wrong key or already secured); ConnectionClosed.
        """
        cmd = Key(self.next_corr(), rid, sender_key)
        await self._expect(self.sign(cmd, recipient_key, rid), Ok)
        self._proved_ok(rid, recipient_key)

    def submit_send(
        self, sid: bytes, body: bytes, sender_key: SigningKey | None = None
    ) -> asyncio.Future[Reply]:
        """SEND without waiting: queue it and return the future of its OK (see `send`).

        Raises:
            ConnectionClosed: the connection is already closed.
        """
        cmd: Command = Send(self.next_corr(), sid, body)
        if sender_key is not None:
            cmd = self.sign(cmd, sender_key, sid)
            mark = (sid, bytes(sender_key.verify_key))
            fut = self.submit(cmd)
            if self.session_auth and mark not in self._proved:
                fut.add_done_callback(
                    lambda f: None if f.cancelled() or f.exception() else self._proved.add(mark)
                )
            return fut
        return self.submit(cmd)

    async def send(self, sid: bytes, body: bytes, sender_key: SigningKey | None = None) -> None:
        """SEND `body` to sender id `sid`; returns once the relay stored it durably.

        `sender_key` is required once the queue is secured.

        Raises:
            CommandFailed: NO_QUEUE, AUTH, QUOTA (nothing stored), SIZE, RATE; ConnectionClosed.
        """
        reply = await self.submit_send(sid, body, sender_key)
        if not isinstance(reply, Ok):
            raise ClientError("the relay answered with an unexpected reply")

    async def subscribe(self, rid: bytes, recipient_key: SigningKey) -> None:
        """SUB: receive queue `rid`'s messages as MSG pushes on this connection.

        Raises:
            CommandFailed: NO_QUEUE, AUTH, QUOTA; ConnectionClosed.
        """
        cmd = Sub(self.next_corr(), rid)
        await self._expect(self.sign(cmd, recipient_key, rid), Ok)
        self._proved_ok(rid, recipient_key)

    async def ack(self, rid: bytes, mid: bytes, recipient_key: SigningKey) -> None:
        """ACK: delete message `mid` of queue `rid` (after storing it durably yourself).

        Raises:
            CommandFailed: NO_QUEUE, NO_MSG, AUTH; ConnectionClosed.
        """
        cmd = Ack(self.next_corr(), rid, mid)
        await self._expect(self.sign(cmd, recipient_key, rid), Ok)
        self._proved_ok(rid, recipient_key)

    async def delete_queue(self, rid: bytes, recipient_key: SigningKey) -> None:
        """DEL: delete queue `rid` and its messages.

        Raises:
            CommandFailed: NO_QUEUE, AUTH; ConnectionClosed.
        """
        cmd = Del(self.next_corr(), rid)
        await self._expect(self.sign(cmd, recipient_key, rid), Ok)

    async def publish(
        self,
        key: SigningKey,
        blob: bytes,
        *,
        summary: bytes | None = None,
        prekeys: Sequence[bytes] = (),
        pid: bytes | None = None,
    ) -> bytes:
        """PUB: create (or, with `pid`, update) a publication; return its address.

        Raises:
            CommandFailed: AUTH, NO_PUB, QUOTA, SIZE; ConnectionClosed.
        """
        cmd = Pub(self.next_corr(), bytes(key.verify_key), blob, summary, tuple(prekeys), pid)
        reply = await self._expect(self.sign(cmd, key, pid), Pid)
        self._proved_ok(reply.pid, key)
        return reply.pid

    async def unpublish(self, pid: bytes, key: SigningKey) -> None:
        """UNPUB: delete publication `pid`.

        Raises:
            CommandFailed: NO_PUB, AUTH; ConnectionClosed.
        """
        await self._expect(self.sign(Unpub(self.next_corr(), pid), key, pid), Ok)

    async def fetch(self, pid: bytes) -> Pubd:
        """FETCH: return publication `pid` with one one-time prekey (None when exhausted).

        Raises:
            CommandFailed: NO_PUB; ConnectionClosed.
        """
        return await self._expect(Fetch(self.next_corr(), pid), Pubd)

    async def directory(self, after: bytes | None = None, limit: int = 50) -> DirList:
        """DIR: one page of the relay's directory of listed publications.

        Raises:
            CommandFailed: RATE; ConnectionClosed.
        """
        return await self._expect(Dir(self.next_corr(), after, limit), DirList)

    async def ping(self) -> None:
        """PING the relay.

        Raises:
            ConnectionClosed: the connection is gone.
        """
        await self._expect(Ping(self.next_corr()), Pong)

    # ---- pushes -----------------------------------------------------------------------------

    async def next_push(self, timeout: float | None = None) -> PushItem:
        """Return the next pushed MSG or END (or a frame-level ERR).

        Raises:
            ConnectionClosed: the connection closed and no push is left.
            TimeoutError: nothing arrived within `timeout` seconds.
        """
        item = await (
            asyncio.wait_for(self._pushes.get(), timeout)
            if timeout is not None
            else self._pushes.get()
        )
        if item is _CLOSED:
            self._pushes.put_nowait(_CLOSED)  # later callers see the close too
            raise ConnectionClosed("the relay connection is closed")
        assert isinstance(item, Msg | End | Err)  # noqa: S101
        return item

    async def pushes(self) -> AsyncIterator[PushItem]:
        """Iterate over pushed items until the connection closes."""
        while True:
            try:
                yield await self.next_push()
            except ConnectionClosed:
                return

    # ---- I/O tasks --------------------------------------------------------------------------

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let the caller issue more commands into this frame
            budget = self._max_frame - 4096
            while self._outbuf and not self._ws.closed:
                count, size = 0, 0
                for cmd in self._outbuf:
                    n = 128 + len(getattr(cmd, "body", b"")) + len(getattr(cmd, "blob", b""))
                    if count >= self._max_batch or (count and size + n > budget):
                        break
                    count, size = count + 1, size + n
                batch = self._outbuf[:count]
                del self._outbuf[:count]
                await self._ws.send_bytes(encode_client_frame(batch))
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            self._fail_all()
        finally:
            self._flush_task = None
            if self._outbuf and not self._ws.closed and not self._closed:
                self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _read_loop(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                try:
                    _, items = decode_server_frame(msg.data, CLIENT_LIMITS)
                except ProtocolError:
                    log.debug("ignored a malformed frame from the relay")
                    continue
                for item in items:
                    if isinstance(item, Msg | End) or (isinstance(item, Err) and item.corr is None):
                        self._pushes.put_nowait(item)
                    elif not isinstance(item, Hello):
                        fut = self._waiting.pop(item.corr, None)  # type: ignore[arg-type]
                        if fut is None or fut.done():
                            continue
                        if isinstance(item, Err):
                            fut.set_exception(_failure(item.code))
                        else:
                            fut.set_result(item)
        finally:
            self._closed = True
            self._fail_all()
            log.debug("relay connection closed")

    def _fail_all(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(ConnectionClosed("the relay connection closed"))
        self._outbuf.clear()
        self._pushes.put_nowait(_CLOSED)
