"""What the relay's logs may say about a connection: that it opened and closed, never who.

aiohttp's own error lines name the client (``Error handling request from 1.2.3.4``) and come
with a traceback that quotes the request (its headers can carry an address too, through a
proxy's ``X-Forwarded-For``). Anyone who can reach the port can trigger them with a malformed
request. `anonymize_aiohttp_logs` replaces every such line with a fixed sentence, keeping its
level, and drops the arguments and the traceback, at every log level.
"""

from __future__ import annotations

import logging

__all__ = ["anonymize_aiohttp_logs"]

_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.websocket", "aiohttp.internal")
_SAY = {
    "aiohttp.server": (
        "an HTTP request could not be handled (malformed, too large or cut off); "
        "its connection was closed"
    ),
    "aiohttp.websocket": "a WebSocket request was refused by aiohttp",
}
_DEFAULT = "aiohttp reported a problem with a connection"


class _Anonymous(logging.Filter):
    """Rewrites a record to a fixed sentence without arguments or traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _SAY.get(record.name, _DEFAULT)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def anonymize_aiohttp_logs() -> None:
    """Install the filter on aiohttp's server-side loggers (idempotent); turn off its access
    log, which would write one line with the client's address per request."""
    logging.getLogger("aiohttp.access").disabled = True
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Anonymous) for f in logger.filters):
            logger.addFilter(_Anonymous())
