"""The relay's one exception tree, shared by the codec, the server and the thin client.

::

    RelayError                      base of everything raised on purpose in `relay`
    ├── ProtocolError               bytes that do not follow the wire contract (has `.code`)
    │   └── FrameError              a whole frame is unusable (not msgpack, wrong version, ...)
    ├── CommandFailed               a well-formed command the relay refuses (has `.code`);
    │   │                           the client raises it when it receives an ERR reply
    │   ├── AuthError               AUTH: missing or wrong signature, wrong role
    │   ├── NoQueue                 NO_QUEUE: no queue with that id
    │   ├── NoMessage               NO_MSG: no message with that id in the queue
    │   ├── NoPublication           NO_PUB: no publication with that address
    │   └── QuotaExceeded           QUOTA: the queue (or connection) is full; nothing dropped
    ├── StoreError                  the storage backend failed or is closed
    ├── ConfigError                 a configuration value is missing, malformed or out of range
    └── ClientError                 the thin client could not talk to a relay
        └── ConnectionClosed        the WebSocket closed while a request was waiting

Messages are fixed, short and safe to show a self-hoster: they never contain queue ids,
keys, message bodies or client addresses.
"""

from __future__ import annotations

import enum

__all__ = [
    "AuthError",
    "ClientError",
    "CommandFailed",
    "ConfigError",
    "ConnectionClosed",
    "ErrorCode",
    "FrameError",
    "NoMessage",
    "NoPublication",
    "NoQueue",
    "ProtocolError",
    "QuotaExceeded",
    "RelayError",
    "StoreError",
]


class ErrorCode(enum.StrEnum):
    """Every error code that may appear in an ERR reply (see docs/protocol.md)."""

    AUTH = "AUTH"
    NO_QUEUE = "NO_QUEUE"
    NO_MSG = "NO_MSG"
    NO_PUB = "NO_PUB"
    QUOTA = "QUOTA"
    SIZE = "SIZE"
    RATE = "RATE"
    SYNTAX = "SYNTAX"
    VERSION = "VERSION"
    INTERNAL = "INTERNAL"


class RelayError(Exception):
    """Base class of every exception the relay package raises on purpose."""


class ProtocolError(RelayError):
    """Input that does not follow the wire contract; `code` is SYNTAX, SIZE or VERSION."""

    def __init__(self, code: ErrorCode, message: str = "malformed input") -> None:
        super().__init__(message)
        self.code = code


class FrameError(ProtocolError):
    """A whole frame is unusable: not msgpack, not a map, no batch, unsupported version."""


class CommandFailed(RelayError):
    """The relay refused a well-formed command; `code` says why."""

    default_code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, code: ErrorCode | None = None, message: str | None = None) -> None:
        self.code = code if code is not None else self.default_code
        super().__init__(message or f"relay refused the command: {self.code}")


class AuthError(CommandFailed):
    """AUTH: the command's signature is missing or does not match the entity's key."""

    default_code = ErrorCode.AUTH


class NoQueue(CommandFailed):
    """NO_QUEUE: there is no queue with that id (for that role)."""

    default_code = ErrorCode.NO_QUEUE


class NoMessage(CommandFailed):
    """NO_MSG: the queue holds no message with that id."""

    default_code = ErrorCode.NO_MSG


class NoPublication(CommandFailed):
    """NO_PUB: there is no publication at that address."""

    default_code = ErrorCode.NO_PUB


class QuotaExceeded(CommandFailed):
    """QUOTA: a per-queue or per-connection quota is reached; nothing was dropped."""

    default_code = ErrorCode.QUOTA


class StoreError(RelayError):
    """The storage backend failed, is closed, or holds a schema this code cannot read."""


class ConfigError(RelayError):
    """A configuration value is missing, malformed or out of range."""


class ClientError(RelayError):
    """The thin client could not connect to, or keep talking to, a relay."""


class ConnectionClosed(ClientError):
    """The WebSocket closed while a request was still waiting for its reply."""
