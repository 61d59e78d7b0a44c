"""The relay wire contract: frame codec, typed commands, replies and pushes, signed bytes.

This module is sans-I/O (bytes in, typed values out) and is the only part of `relay` that
clients import besides `relay.client`. It depends on msgpack, PyNaCl and the standard library
only. `docs/protocol.md` describes the same contract in prose; keep them in step.

Frames
    Every WebSocket message is one binary frame: a msgpack map ``{"v": 1, "b": [item, ...]}``.
    ``v`` is the protocol version, ``b`` a batch of 1..``max_batch`` items. Client items are
    commands; server items are replies (carrying the command's ``corr``) and pushes (no corr).
    Unknown keys are ignored everywhere; known keys have strict types and sizes.

Invariants
    * Decoding never raises anything but `ProtocolError` (or `FrameError`) on untrusted bytes,
      and bounds every allocation by the limits it is given.
    * A command that fails to decode still yields a `BadCommand` carrying its ``corr`` when the
      ``corr`` itself was readable, so one bad command does not cost the whole batch.
    * The bytes a client signs are ``SIGN_DOMAIN || challenge || canonical(command)``, where
      ``canonical`` is the msgpack array ``[version, op, corr, field, ...]`` of every field but
      ``sig`` in declaration order. They depend only on the command's values.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias

import msgpack
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import SigningKey, VerifyKey

from relay.exceptions import ErrorCode, FrameError, ProtocolError

__all__ = [
    "CHALLENGE_LEN",
    "DEFAULT_LIMITS",
    "ID_LEN",
    "KEY_LEN",
    "PROTOCOL_VERSION",
    "SIGN_DOMAIN",
    "SIG_LEN",
    "SUPPORTED_VERSIONS",
    "Ack",
    "Acks",
    "BadCommand",
    "CodecLimits",
    "Command",
    "Del",
    "Dir",
    "DirEntry",
    "DirList",
    "End",
    "Err",
    "ErrorCode",
    "Fetch",
    "Hello",
    "Ids",
    "Key",
    "Msg",
    "New",
    "Ok",
    "Pid",
    "Ping",
    "Pong",
    "Pub",
    "Pubd",
    "Push",
    "Reply",
    "Role",
    "Send",
    "ServerItem",
    "Sub",
    "Unpub",
    "decode_client_frame",
    "decode_server_frame",
    "encode_client_frame",
    "encode_server_frame",
    "sign_command",
    "signed_bytes",
    "verify_command",
]

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS: frozenset[int] = frozenset({1})
SIGN_DOMAIN = b"securechat-relay/v1/command\x00"
CHALLENGE_LEN = 32
ID_LEN = 16
KEY_LEN = 32
SIG_LEN = 64
_MAX_CORR = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CodecLimits:
    """Size limits the codec enforces; the server announces its own in HELLO."""

    max_frame: int = 256 * 1024
    max_batch: int = 64
    max_body: int = 64 * 1024
    max_blob: int = 64 * 1024
    max_summary: int = 2 * 1024
    max_prekeys: int = 100
    max_prekey: int = 256
    max_dir_page: int = 100


DEFAULT_LIMITS = CodecLimits()


class Role(enum.Enum):
    """Whose key authorises a command."""

    NONE = "none"  # anyone (PING, FETCH, DIR)
    SELF = "self"  # the key carried in the command (NEW, creating PUB)
    RECIPIENT = "recipient"
    SENDER = "sender"
    PUBLISHER = "publisher"


# --------------------------------------------------------------------------------------------
# Field kinds: how each field is checked on the way in.

_Check: TypeAlias = Callable[[Any, CodecLimits], Any]


def _fail(field: str, code: ErrorCode = ErrorCode.SYNTAX) -> ProtocolError:
    return ProtocolError(code, f"bad field {field!r}")


def _exact(n: int) -> _Check:
    def check(v: Any, _: CodecLimits) -> bytes:
        if type(v) is not bytes or len(v) != n:
            raise ValueError
        return v

    return check


def _upto(limit_name: str) -> _Check:
    def check(v: Any, lim: CodecLimits) -> bytes:
        if type(v) is not bytes:
            raise ValueError
        if len(v) > getattr(lim, limit_name):
            raise OverflowError
        return v

    return check


def _uint(v: Any, _: CodecLimits) -> int:
    if type(v) is not int or not 0 <= v <= _MAX_CORR:
        raise ValueError
    return v


def _text(v: Any, _: CodecLimits) -> str:
    if type(v) is not str or len(v) > 64:
        raise ValueError
    return v


def _prekeys(v: Any, lim: CodecLimits) -> tuple[bytes, ...]:
    if type(v) is not list:
        raise ValueError
    if len(v) > lim.max_prekeys:
        raise OverflowError
    for k in v:
        if type(k) is not bytes or not k:
            raise ValueError
        if len(k) > lim.max_prekey:
            raise OverflowError
    return tuple(v)


def _mids(v: Any, lim: CodecLimits) -> tuple[bytes, ...]:
    if type(v) is not list or not v:
        raise ValueError
    if len(v) > lim.max_batch:
        raise OverflowError
    for m in v:
        if type(m) is not bytes or len(m) != ID_LEN:
            raise ValueError
    return tuple(v)


def _uints(v: Any, _: CodecLimits) -> tuple[int, ...]:
    if type(v) is not list or len(v) > 16:
        raise ValueError
    return tuple(_uint(x, _) for x in v)


def _limits_map(v: Any, _: CodecLimits) -> Mapping[str, int]:
    if type(v) is not dict or len(v) > 64:
        raise ValueError
    return {k: x for k, x in v.items() if type(k) is str and type(x) is int}


def _entries(v: Any, lim: CodecLimits) -> tuple[DirEntry, ...]:
    if type(v) is not list or len(v) > lim.max_dir_page:
        raise ValueError
    out = []
    for e in v:
        if type(e) is not list or len(e) != 2:
            raise ValueError
        out.append(DirEntry(_exact(ID_LEN)(e[0], lim), _upto("max_summary")(e[1], lim)))
    return tuple(out)


def _optional(check: _Check) -> _Check:
    def opt(v: Any, lim: CodecLimits) -> Any:
        return None if v is None else check(v, lim)

    return opt


def _fields(spec: dict[str, _Check]) -> Mapping[str, _Check]:
    return MappingProxyType(spec)


_ID = _exact(ID_LEN)
_KEY = _exact(KEY_LEN)
_SIG = _optional(_exact(SIG_LEN))

# --------------------------------------------------------------------------------------------
# Items. Each class lists its wire fields (name -> check) in canonical order.


@dataclass(frozen=True, slots=True)
class _Item:
    OP: ClassVar[str] = ""
    FIELDS: ClassVar[Mapping[str, _Check]] = MappingProxyType({})

    def to_wire(self) -> dict[str, Any]:
        """Return the msgpack-ready map of this item."""
        d: dict[str, Any] = {"op": self.OP}
        for name in self._wire_names():
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, tuple):
                v = [[e.pid, e.summary] if isinstance(e, DirEntry) else e for e in v]
            d[name] = v
        return d

    @classmethod
    def _wire_names(cls) -> tuple[str, ...]:
        return ("corr", *cls.FIELDS) if "corr" in cls.__dataclass_fields__ else tuple(cls.FIELDS)


# ---- commands (client -> server) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Command(_Item):
    ROLE: ClassVar[Role] = Role.NONE
    corr: int

    @property
    def entity(self) -> bytes | None:
        """The id the command acts on (rid, sid or pid), or None."""
        return None

    def signed_fields(self) -> tuple[Any, ...]:
        """The values covered by the signature, in canonical order (every field but sig)."""
        return tuple(getattr(self, n) for n in self.FIELDS if n != "sig")


@dataclass(frozen=True, slots=True)
class New(_Command):
    """Create a queue whose recipient key is `key`; signed by that key. Reply: IDS."""

    OP = "NEW"
    ROLE = Role.SELF
    FIELDS = _fields({"key": _KEY, "sig": _SIG})
    key: bytes
    sig: bytes | None = None


@dataclass(frozen=True, slots=True)
class Key(_Command):
    """Secure queue `rid` with sender key `key` (once); recipient-signed. Reply: OK."""

    OP = "KEY"
    ROLE = Role.RECIPIENT
    FIELDS = _fields({"rid": _ID, "key": _KEY, "sig": _SIG})
    rid: bytes
    key: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.rid


@dataclass(frozen=True, slots=True)
class Send(_Command):
    """Queue `body` on sender id `sid`; sender-signed once secured. Reply: OK once durable."""

    OP = "SEND"
    ROLE = Role.SENDER
    FIELDS = _fields({"sid": _ID, "body": _upto("max_body"), "sig": _SIG})
    sid: bytes
    body: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.sid


@dataclass(frozen=True, slots=True)
class Sub(_Command):
    """Subscribe this connection to queue `rid`; recipient-signed. Reply: OK, then MSG pushes."""

    OP = "SUB"
    ROLE = Role.RECIPIENT
    FIELDS = _fields({"rid": _ID, "sig": _SIG})
    rid: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.rid


@dataclass(frozen=True, slots=True)
class Ack(_Command):
    """Acknowledge (delete) message `mid` of queue `rid`; recipient-signed. Reply: OK."""

    OP = "ACK"
    ROLE = Role.RECIPIENT
    FIELDS = _fields({"rid": _ID, "mid": _ID, "sig": _SIG})
    rid: bytes
    mid: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.rid


@dataclass(frozen=True, slots=True)
class Acks(_Command):
    """Acknowledge (delete) messages `mids` (1..max_batch) of queue `rid` at once;
    recipient-signed. Reply: OK once all are deleted, NO_MSG if any was not there (the
    others are deleted all the same). Optional: the relay announces ``max_acks`` in HELLO.
    """

    OP = "ACKS"
    ROLE = Role.RECIPIENT
    FIELDS = _fields({"rid": _ID, "mids": _mids, "sig": _SIG})
    rid: bytes
    mids: tuple[bytes, ...]
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.rid


@dataclass(frozen=True, slots=True)
class Del(_Command):
    """Delete queue `rid` and its messages; recipient-signed. Reply: OK."""

    OP = "DEL"
    ROLE = Role.RECIPIENT
    FIELDS = _fields({"rid": _ID, "sig": _SIG})
    rid: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.rid


@dataclass(frozen=True, slots=True)
class Pub(_Command):
    """Create (no `pid`) or update (`pid`) a publication; signed by `key`. Reply: PID.

    An update replaces `blob` and `summary` and appends `prekeys`; `key` must be the key the
    publication was created with. `summary` present means "list me in the directory".
    """

    OP = "PUB"
    ROLE = Role.PUBLISHER
    FIELDS = _fields(
        {
            "key": _KEY,
            "blob": _upto("max_blob"),
            "summary": _optional(_upto("max_summary")),
            "prekeys": _prekeys,
            "pid": _optional(_ID),
            "sig": _SIG,
        }
    )
    key: bytes
    blob: bytes
    summary: bytes | None = None
    prekeys: tuple[bytes, ...] = ()
    pid: bytes | None = None
    sig: bytes | None = None

    @property
    def entity(self) -> bytes | None:
        return self.pid


@dataclass(frozen=True, slots=True)
class Unpub(_Command):
    """Delete publication `pid` and its unused prekeys; publisher-signed. Reply: OK."""

    OP = "UNPUB"
    ROLE = Role.PUBLISHER
    FIELDS = _fields({"pid": _ID, "sig": _SIG})
    pid: bytes
    sig: bytes | None = None

    @property
    def entity(self) -> bytes:
        return self.pid


@dataclass(frozen=True, slots=True)
class Fetch(_Command):
    """Fetch publication `pid`, popping one one-time prekey if any. Unsigned. Reply: PUBD."""

    OP = "FETCH"
    FIELDS = _fields({"pid": _ID})
    pid: bytes


@dataclass(frozen=True, slots=True)
class Dir(_Command):
    """List directory entries with pid > `after`, at most `limit`. Unsigned. Reply: DIRL."""

    OP = "DIR"
    FIELDS = _fields({"after": _optional(_ID), "limit": _uint})
    after: bytes | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Ping(_Command):
    """Liveness check. Unsigned. Reply: PONG."""

    OP = "PING"
    FIELDS = _fields({})


Command: TypeAlias = New | Key | Send | Sub | Ack | Acks | Del | Pub | Unpub | Fetch | Dir | Ping


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A batch item that did not decode; the server answers ERR `code` to `corr`."""

    corr: int | None
    code: ErrorCode


# ---- replies and pushes (server -> client) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ok(_Item):
    """Success without data (KEY, SEND, SUB, ACK, DEL, UNPUB)."""

    OP = "OK"
    corr: int

    def to_wire(self) -> dict[str, Any]:
        """Return the msgpack-ready map of this item (hot path: no generic field loop)."""
        return {"op": "OK", "corr": self.corr}


@dataclass(frozen=True, slots=True)
class Ids(_Item):
    """Reply to NEW: the recipient id and the sender id of the new queue."""

    OP = "IDS"
    FIELDS = _fields({"rid": _ID, "sid": _ID})
    corr: int
    rid: bytes
    sid: bytes


@dataclass(frozen=True, slots=True)
class Pid(_Item):
    """Reply to PUB: the publication's address."""

    OP = "PID"
    FIELDS = _fields({"pid": _ID})
    corr: int
    pid: bytes


@dataclass(frozen=True, slots=True)
class Pubd(_Item):
    """Reply to FETCH: the publication blob and one one-time prekey (None when exhausted)."""

    OP = "PUBD"
    FIELDS = _fields(
        {"blob": _upto("max_blob"), "key": _KEY, "prekey": _optional(_upto("max_prekey"))}
    )
    corr: int
    blob: bytes
    key: bytes
    prekey: bytes | None = None


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One directory entry: a publication address and its opaque public summary."""

    pid: bytes
    summary: bytes


@dataclass(frozen=True, slots=True)
class DirList(_Item):
    """Reply to DIR: a page of entries; `next` is the `after` for the next page, or None."""

    OP = "DIRL"
    FIELDS = _fields({"entries": _entries, "next": _optional(_ID)})
    corr: int
    entries: tuple[DirEntry, ...]
    next: bytes | None = None


@dataclass(frozen=True, slots=True)
class Pong(_Item):
    """Reply to PING."""

    OP = "PONG"
    corr: int


@dataclass(frozen=True, slots=True)
class Err(_Item):
    """A refused command (`corr`) or an unusable frame (`corr` None)."""

    OP = "ERR"
    FIELDS = _fields({"code": _text})
    corr: int | None
    code: str


@dataclass(frozen=True, slots=True)
class Hello(_Item):
    """First push on every connection: the challenge to sign over, versions and limits."""

    OP = "HELLO"
    FIELDS = _fields(
        {"challenge": _exact(CHALLENGE_LEN), "versions": _uints, "limits": _limits_map}
    )
    challenge: bytes
    versions: tuple[int, ...]
    limits: Mapping[str, int]

    def to_wire(self) -> dict[str, Any]:
        """Return the msgpack-ready map of this item."""
        return {
            "op": self.OP,
            "challenge": self.challenge,
            "versions": list(self.versions),
            "limits": dict(self.limits),
        }


@dataclass(frozen=True, slots=True)
class Msg(_Item):
    """Push: message `mid` of subscribed queue `rid`, queued at `ts` (unix seconds)."""

    OP = "MSG"
    FIELDS = _fields({"rid": _ID, "mid": _ID, "ts": _uint, "body": _upto("max_body")})
    rid: bytes
    mid: bytes
    ts: int
    body: bytes

    def to_wire(self) -> dict[str, Any]:
        """Return the msgpack-ready map of this item (hot path: no generic field loop)."""
        return {"op": "MSG", "rid": self.rid, "mid": self.mid, "ts": self.ts, "body": self.body}


@dataclass(frozen=True, slots=True)
class End(_Item):
    """Push: this connection's subscription to `rid` ended (another SUB, or DEL)."""

    OP = "END"
    FIELDS = _fields({"rid": _ID})
    rid: bytes


Reply: TypeAlias = Ok | Ids | Pid | Pubd | DirList | Pong | Err
Push: TypeAlias = Hello | Msg | End
ServerItem: TypeAlias = Reply | Push

_COMMANDS: dict[str, type[_Command]] = {
    c.OP: c for c in (New, Key, Send, Sub, Ack, Acks, Del, Pub, Unpub, Fetch, Dir, Ping)
}
_SERVER_ITEMS: dict[str, type[_Item]] = {
    c.OP: c for c in (Ok, Ids, Pid, Pubd, DirList, Pong, Err, Hello, Msg, End)
}

# --------------------------------------------------------------------------------------------
# Frame codec


def _pack(version: int, items: Sequence[Any]) -> bytes:
    out = msgpack.packb({"v": version, "b": items}, use_bin_type=True)
    assert isinstance(out, bytes)  # noqa: S101 - msgpack's stubs say Any
    return out


def encode_client_frame(commands: Sequence[Command], version: int = PROTOCOL_VERSION) -> bytes:
    """Encode a batch of commands into one frame."""
    return _pack(version, [c.to_wire() for c in commands])


def encode_server_frame(items: Sequence[ServerItem], version: int = PROTOCOL_VERSION) -> bytes:
    """Encode a batch of replies and pushes into one frame."""
    return _pack(version, [i.to_wire() for i in items])


def _unpack(data: bytes, lim: CodecLimits) -> tuple[int, list[Any]]:
    """Return (version, batch) of a frame.

    Raises:
        FrameError: SIZE if the frame is too big, VERSION if the version is not supported,
            SYNTAX for anything else that is not a well-formed frame.
    """
    if len(data) > lim.max_frame:
        raise FrameError(ErrorCode.SIZE, "frame too large")
    try:
        frame = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_array_len=max(lim.max_batch, lim.max_prekeys, lim.max_dir_page, 16),
            max_map_len=64,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises many types on bad bytes; all mean SYNTAX
        raise FrameError(ErrorCode.SYNTAX, "frame is not msgpack") from exc
    if type(frame) is not dict:
        raise FrameError(ErrorCode.SYNTAX, "frame is not a map")
    version = frame.get("v")
    if type(version) is not int:
        raise FrameError(ErrorCode.SYNTAX, "frame has no version")
    if version not in SUPPORTED_VERSIONS:
        raise FrameError(ErrorCode.VERSION, "unsupported protocol version")
    batch = frame.get("b")
    if type(batch) is not list or not batch:
        raise FrameError(ErrorCode.SYNTAX, "frame has no batch")
    if len(batch) > lim.max_batch:
        raise FrameError(ErrorCode.SIZE, "batch too long")
    return version, batch


def _decode_command(raw: Any, lim: CodecLimits) -> Command | BadCommand:
    if type(raw) is not dict:
        return BadCommand(None, ErrorCode.SYNTAX)
    corr = raw.get("corr")
    if type(corr) is not int or not 0 <= corr <= _MAX_CORR:
        return BadCommand(None, ErrorCode.SYNTAX)
    op = raw.get("op")
    if op == "SEND":  # hot path: a well-formed SEND without the generic field loop
        sid, body, sig = raw.get("sid"), raw.get("body"), raw.get("sig")
        if (
            type(sid) is bytes
            and len(sid) == ID_LEN
            and type(body) is bytes
            and len(body) <= lim.max_body
            and (sig is None or (type(sig) is bytes and len(sig) == SIG_LEN))
        ):
            return Send(corr, sid, body, sig)
    elif op == "ACK":
        rid, mid, sig = raw.get("rid"), raw.get("mid"), raw.get("sig")
        if (
            type(rid) is bytes
            and len(rid) == ID_LEN
            and type(mid) is bytes
            and len(mid) == ID_LEN
            and (sig is None or (type(sig) is bytes and len(sig) == SIG_LEN))
        ):
            return Ack(corr, rid, mid, sig)
    cls = _COMMANDS.get(op)  # type: ignore[arg-type]
    if cls is None:
        return BadCommand(corr, ErrorCode.SYNTAX)
    try:
        fields = _build_fields(cls, raw, lim)
    except ProtocolError as exc:
        return BadCommand(corr, exc.code)
    cmd: Command = cls(corr=corr, **fields)  # type: ignore[assignment]
    return cmd


def _build_fields(cls: type[_Item], raw: dict[Any, Any], lim: CodecLimits) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, check in cls.FIELDS.items():
        try:
            kwargs[name] = check(raw.get(name), lim)
        except OverflowError:
            raise _fail(name, ErrorCode.SIZE) from None
        except (ValueError, TypeError):
            raise _fail(name) from None
    return kwargs


def decode_client_frame(
    data: bytes, limits: CodecLimits = DEFAULT_LIMITS
) -> tuple[int, list[Command | BadCommand]]:
    """Decode an untrusted client frame into (version, commands).

    Items that do not decode come back as `BadCommand` in their place.

    Raises:
        FrameError: the frame as a whole is unusable (see `_unpack`).
    """
    version, batch = _unpack(data, limits)
    return version, [_decode_command(raw, limits) for raw in batch]


def decode_server_frame(
    data: bytes, limits: CodecLimits = DEFAULT_LIMITS
) -> tuple[int, list[ServerItem]]:
    """Decode a server frame into (version, items); unknown item ops are skipped.

    Raises:
        FrameError: the frame as a whole is unusable.
        ProtocolError: a known item is malformed.
    """
    version, batch = _unpack(data, limits)
    items: list[ServerItem] = []
    for raw in batch:
        if type(raw) is not dict:
            raise ProtocolError(ErrorCode.SYNTAX, "item is not a map")
        op = raw.get("op")
        if op == "OK":  # hot paths: the replies and pushes of the message flow
            corr = raw.get("corr")
            if type(corr) is int and 0 <= corr <= _MAX_CORR:
                items.append(Ok(corr))
                continue
        elif op == "MSG":
            rid, mid, ts, body = raw.get("rid"), raw.get("mid"), raw.get("ts"), raw.get("body")
            if (
                type(rid) is bytes
                and len(rid) == ID_LEN
                and type(mid) is bytes
                and len(mid) == ID_LEN
                and type(ts) is int
                and 0 <= ts <= _MAX_CORR
                and type(body) is bytes
                and len(body) <= limits.max_body
            ):
                items.append(Msg(rid, mid, ts, body))
                continue
        cls = _SERVER_ITEMS.get(op)  # type: ignore[arg-type]
        if cls is None:
            continue  # a newer server's push: ignore
        fields = _build_fields(cls, raw, limits)
        if "corr" in cls.__dataclass_fields__:
            corr = raw.get("corr")
            if corr is not None and (type(corr) is not int or not 0 <= corr <= _MAX_CORR):
                raise ProtocolError(ErrorCode.SYNTAX, "bad corr")
            if corr is None and cls is not Err:
                raise ProtocolError(ErrorCode.SYNTAX, "missing corr")
            fields["corr"] = corr
        items.append(cls(**fields))  # type: ignore[arg-type]
    return version, items


# --------------------------------------------------------------------------------------------
# Signatures


def signed_bytes(challenge: bytes, command: Command, version: int = PROTOCOL_VERSION) -> bytes:
    """Return exactly the bytes a client signs for `command` on a connection.

    ``SIGN_DOMAIN || challenge || msgpack([version, op, corr, *fields-but-sig])``.
    """
    fields = [list(v) if isinstance(v, tuple) else v for v in command.signed_fields()]
    canonical: bytes = msgpack.packb(
        [version, command.OP, command.corr, *fields], use_bin_type=True
    )
    return SIGN_DOMAIN + challenge + canonical


def sign_command(command: Command, challenge: bytes, key: SigningKey) -> Command:
    """Return `command` with its `sig` set by `key` over this connection's `challenge`."""
    sig = key.sign(signed_bytes(challenge, command)).signature
    signed: Command = dataclasses.replace(command, sig=sig)  # type: ignore[arg-type]
    return signed


def verify_command(command: Command, challenge: bytes, public_key: bytes) -> bool:
    """Return True iff `command.sig` is `public_key`'s signature over its signed bytes."""
    sig = getattr(command, "sig", None)
    if sig is None:
        return False
    try:
        VerifyKey(public_key).verify(signed_bytes(challenge, command), sig)
    except (BadSignatureError, NaclValueError, TypeError, ValueError):
        return False
    return True
