"""Tests for securechat.invite: the `securechat:` link format and its strict parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securechat.errors import InvalidInvite
from securechat.invite import Invite, check_relay_url

PUB = bytes(range(16))
KEY = bytes(range(32, 64))


def test_round_trip() -> None:
    """A link made by to_uri parses back to the same invite."""
    invite = Invite("wss://relay.example.org/ws", PUB, KEY)
    assert Invite.parse(invite.to_uri()) == invite


@given(
    pub=st.binary(min_size=16, max_size=64),
    key=st.binary(min_size=32, max_size=32),
    port=st.integers(min_value=1, max_value=65535),
)
def test_round_trip_any_fields(pub: bytes, key: bytes, port: int) -> None:
    """Any valid publication address, key and port survive the link unchanged."""
    invite = Invite(f"wss://relay.example.org:{port}/ws?x=1&y=%20", pub, key)
    assert Invite.parse(invite.to_uri()) == invite


def test_surrounding_white_space_is_ignored() -> None:
    """A link pasted with spaces or a newline still opens."""
    invite = Invite("ws://127.0.0.1:8000/ws", PUB, KEY)
    assert Invite.parse(f"  {invite.to_uri()}\n") == invite


def test_unknown_extra_fields_are_ignored() -> None:
    """A later version may add fields; this one ignores them."""
    invite = Invite("wss://r.example/ws", PUB, KEY)
    assert Invite.parse(invite.to_uri() + "&label=hello") == invite


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "https://example.org",
        "securechat:other?v=1",
        "securechat:invite?v=2&relay=wss%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAAA&key=" + "A" * 43,
        "securechat:invite?v=1&relay=wss%3A%2F%2Fr%2Fws&pub=AAAA&key=" + "A" * 43,
        "securechat:invite?v=1&relay=wss%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAAA&key=AAAA",
        "securechat:invite?v=1&relay=wss%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAAA",
        "securechat:invite?v=1&v=1&relay=wss%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAAA&key="
        + "A" * 43,
        "securechat:invite?v=1&relay=wss%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAA!&key=" + "A" * 43,
        "securechat:invite?v=1&relay=https%3A%2F%2Fr%2Fws&pub=AAAAAAAAAAAAAAAAAAAAAA&key="
        + "A" * 43,
        "securechat:invite?" + "a=b&" * 600,
    ],
)
def test_damaged_links_are_refused(uri: str) -> None:
    """Wrong scheme, version, lengths, encodings, repeats or size raise InvalidInvite."""
    with pytest.raises(InvalidInvite):
        Invite.parse(uri)


@given(st.text(max_size=300))
def test_random_text_never_crashes_the_parser(text: str) -> None:
    """Whatever is pasted, the parser returns an invite or raises InvalidInvite."""
    try:
        invite = Invite.parse(text)
    except InvalidInvite:
        return
    assert Invite.parse(invite.to_uri()) == invite


def test_error_message_never_repeats_the_link() -> None:
    """The error a person sees does not echo the untrusted link back."""
    uri = "securechat:invite?v=1&relay=wss%3A%2F%2Fsecret-host%2Fws&pub=AAAA&key=BBBB"
    with pytest.raises(InvalidInvite) as info:
        Invite.parse(uri)
    assert "secret-host" not in str(info.value)
    assert "AAAA" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["ws://127.0.0.1:9/ws", "ws://localhost/ws", "ws://[::1]:80/ws", "wss://r.example/ws"]
)
def test_loopback_or_tls_relays_are_accepted(url: str) -> None:
    """wss anywhere, plain ws on loopback."""
    assert check_relay_url(url, allow_insecure=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "ws://relay.example.org/ws",
        "ws://10.0.0.5/ws",
        "http://127.0.0.1/ws",
        "wss://user:pw@r.example/ws",
        "wss:///ws",
        "wss://r.example:99999/ws",
    ],
)
def test_unsafe_relay_urls_are_refused(url: str) -> None:
    """Plain ws to another host, other schemes, credentials and bad ports are refused."""
    with pytest.raises(InvalidInvite):
        check_relay_url(url, allow_insecure=False)


def test_insecure_relay_allowed_when_asked() -> None:
    """A LAN test can opt in to plain ws."""
    assert check_relay_url("ws://10.0.0.5/ws", allow_insecure=True) == "ws://10.0.0.5/ws"


def test_repr_hides_relay_and_key() -> None:
    """An invite in a log line names neither the relay nor the counselor's key."""
    invite = Invite("wss://private-relay.example/ws", PUB, KEY)
    assert "private-relay" not in repr(invite)
    assert "private-relay" not in str(invite)
