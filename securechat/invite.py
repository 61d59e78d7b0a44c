"""The `securechat:` invite link a counselor shares and a client opens.

An invite carries what a client needs to find a counselor and to know it found the right one:

    securechat:invite?v=1&relay=<relay URL>&pub=<publication address>&key=<identity key>

- `relay`: the relay's WebSocket URL, percent-encoded. `wss://` anywhere; plain `ws://` only
  for loopback hosts, unless the user explicitly allows an insecure relay (a LAN test).
- `pub`: the publication's address on that relay, unpadded base64url of 16 to 64 bytes.
- `key`: the counselor's Ed25519 identity public key, unpadded base64url of 32 bytes. The
  client pins it: a publication signed by any other key is refused.

Parsing is strict: unknown versions, missing or repeated fields, wrong lengths and bad URLs
raise `InvalidInvite` with a fixed message (never echoing the untrusted text back). Unknown
extra fields are ignored, so a later version can add some. An invite is not secret, but it
names a relay and a person, so `Invite.__repr__` shows neither.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from securechat.errors import InvalidInvite

__all__ = ["SCHEME", "Invite", "check_relay_url"]

SCHEME = "securechat"
_VERSION = "1"
_MAX_LENGTH = 2048
_ALLOW_INSECURE_ENV = "SECURECHAT_ALLOW_INSECURE_RELAY"


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(untrusted: str, low: int, high: int) -> bytes:
    if not untrusted or len(untrusted) > 4 * high:
        raise InvalidInvite("The invite link is damaged. Ask the counselor to send it again.")
    try:
        data = base64.urlsafe_b64decode(untrusted + "=" * (-len(untrusted) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInvite(
            "The invite link is damaged. Ask the counselor to send it again."
        ) from exc
    if not low <= len(data) <= high or _b64e(data) != untrusted:
        raise InvalidInvite("The invite link is damaged. Ask the counselor to send it again.")
    return data


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_relay_url(untrusted_url: str, *, allow_insecure: bool | None = None) -> str:
    """Return the relay URL if it is one we will connect to.

    `wss://` is always accepted; `ws://` only for loopback hosts, or anywhere when
    `allow_insecure` is true (default: the `SECURECHAT_ALLOW_INSECURE_RELAY=1` setting).

    Raises:
        InvalidInvite: not a ws/wss URL with a host, carries credentials, or is plain ws to a
            non-loopback host without permission.
    """
    if allow_insecure is None:
        allow_insecure = os.environ.get(_ALLOW_INSECURE_ENV) == "1"
    try:
        parts = urlsplit(untrusted_url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInvite("The relay address is not valid.") from exc
    if parts.scheme not in ("ws", "wss") or not host:
        raise InvalidInvite("The relay address is not valid.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInvite("The relay address is not valid.")
    if parts.scheme == "ws" and not (_is_loopback(host) or allow_insecure):
        raise InvalidInvite("The relay does not use an encrypted connection (wss://).")
    return untrusted_url


@dataclass(frozen=True)
class Invite:
    """A parsed invite: where the counselor's publication is, and whose key signs it."""

    relay_url: str
    publication: bytes
    identity_key: bytes

    def __post_init__(self) -> None:
        if not 16 <= len(self.publication) <= 64:
            raise InvalidInvite("The invite link is damaged. Ask the counselor to send it again.")
        if len(self.identity_key) != 32:
            raise InvalidInvite("The invite link is damaged. Ask the counselor to send it again.")

    def to_uri(self) -> str:
        """The link to share (also the QR code's content)."""
        return (
            f"{SCHEME}:invite?v={_VERSION}"
            f"&relay={quote(self.relay_url, safe='')}"
            f"&pub={_b64e(self.publication)}"
            f"&key={_b64e(self.identity_key)}"
        )

    @classmethod
    def parse(cls, untrusted_uri: str, *, allow_insecure: bool | None = None) -> Invite:
        """Parse and validate an invite link (surrounding white space is ignored).

        Raises:
            InvalidInvite: anything about the link is wrong; the message says what a person
                can do about it and never repeats the link.
        """
        text = untrusted_uri.strip()
        if len(text) > _MAX_LENGTH:
            raise InvalidInvite("The invite link is damaged. Ask the counselor to send it again.")
        prefix = f"{SCHEME}:invite?"
        if not text.startswith(prefix):
            raise InvalidInvite("This is not a securechat invite link.")
        try:
            fields = parse_qs(
                text[len(prefix) :], keep_blank_values=True, strict_parsing=True, max_num_fields=32
            )
        except ValueError as exc:
            raise InvalidInvite(
                "The invite link is damaged. Ask the counselor to send it again."
            ) from exc
        values: dict[str, str] = {}
        for name in ("v", "relay", "pub", "key"):
            got = fields.get(name, [])
            if len(got) != 1:
                raise InvalidInvite(
                    "The invite link is damaged. Ask the counselor to send it again."
                )
            values[name] = got[0]
        if values["v"] != _VERSION:
            raise InvalidInvite("This invite needs a newer version of securechat.")
        relay_url = check_relay_url(values["relay"], allow_insecure=allow_insecure)
        return cls(
            relay_url=relay_url,
            publication=_b64d(values["pub"], 16, 64),
            identity_key=_b64d(values["key"], 32, 32),
        )

    def __repr__(self) -> str:
        return "Invite(<redacted>)"

    __str__ = __repr__
