"""The wire codec and signed bytes, without sockets."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from relay.exceptions import ErrorCode, FrameError
from relay.protocol import (
    ID_LEN,
    SIGN_DOMAIN,
    Ack,
    Acks,
    BadCommand,
    CodecLimits,
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
    Msg,
    New,
    Ok,
    Pid,
    Ping,
    Pong,
    Pub,
    Pubd,
    Send,
    ServerItem,
    Sub,
    Unpub,
    decode_client_frame,
    decode_server_frame,
    encode_client_frame,
    encode_server_frame,
    sign_command,
    signed_bytes,
    verify_command,
)

ids = st.binary(min_size=ID_LEN, max_size=ID_LEN)
keys = st.binary(min_size=32, max_size=32)
sigs = st.none() | st.binary(min_size=64, max_size=64)
corrs = st.integers(0, 2**63 - 1)
small = st.binary(max_size=300)

commands: st.SearchStrategy[Command] = st.one_of(
    st.builds(New, corrs, keys, sigs),
    st.builds(Key, corrs, ids, keys, sigs),
    st.builds(Send, corrs, ids, small, sigs),
    st.builds(Sub, corrs, ids, sigs),
    st.builds(Ack, corrs, ids, ids, sigs),
    st.builds(Del, corrs, ids, sigs),
    st.builds(
        Pub,
        corrs,
        keys,
        small,
        st.none() | small,
        st.lists(st.binary(min_size=1, max_size=40), max_size=5).map(tuple),
        st.none() | ids,
        sigs,
    ),
    st.builds(Unpub, corrs, ids, sigs),
    st.builds(Fetch, corrs, ids),
    st.builds(Dir, corrs, st.none() | ids, st.integers(0, 100)),
    st.builds(Ping, corrs),
)
server_items: st.SearchStrategy[ServerItem] = st.one_of(
    st.builds(Ok, corrs),
    st.builds(Ids, corrs, ids, ids),
    st.builds(Pid, corrs, ids),
    st.builds(Pubd, corrs, small, keys, st.none() | st.binary(max_size=40)),
    st.builds(
        DirList,
        corrs,
        st.lists(st.builds(DirEntry, ids, small), max_size=5).map(tuple),
        st.none() | ids,
    ),
    st.builds(Pong, corrs),
    st.builds(Err, st.none() | corrs, st.sampled_from([c.value for c in ErrorCode])),
    st.builds(Msg, ids, ids, st.integers(0, 2**40), small),
    st.builds(End, ids),
    st.builds(
        Hello,
        st.binary(min_size=32, max_size=32),
        st.just((1,)),
        st.dictionaries(st.text(max_size=10), st.integers(0, 2**40), max_size=5),
    ),
)


@given(st.lists(commands, min_size=1, max_size=10))
def test_commands_round_trip(batch: list[Command]) -> None:
    """Every command survives encode then decode unchanged, in order."""
    version, decoded = decode_client_frame(encode_client_frame(batch))
    assert version == 1
    assert decoded == batch


@given(st.lists(server_items, min_size=1, max_size=10))
def test_server_items_round_trip(batch: list[ServerItem]) -> None:
    """Every reply and push survives encode then decode unchanged, in order."""
    _, decoded = decode_server_frame(encode_server_frame(batch))
    assert decoded == batch


@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_frame_error(data: bytes) -> None:
    """Decoding arbitrary bytes returns items or raises FrameError, nothing else."""
    code = None
    items: list[object] = []
    try:
        _, items = decode_client_frame(data)  # type: ignore[assignment]
    except FrameError as exc:
        code = exc.code
    assert code in {None, ErrorCode.SYNTAX, ErrorCode.SIZE, ErrorCode.VERSION}
    assert all(isinstance(i, BadCommand | Command) for i in items)


def packed(obj: object) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def test_unknown_keys_are_ignored() -> None:
    """Extra keys in the frame and in items are ignored (forward compatibility)."""
    frame = {"v": 1, "b": [{"op": "PING", "corr": 5, "new": [1, 2]}], "later": True}
    assert decode_client_frame(packed(frame))[1] == [Ping(5)]
    srv = {"v": 1, "b": [{"op": "PONG", "corr": 5, "x": 1}, {"op": "FUTURE", "y": 2}]}
    assert decode_server_frame(packed(srv))[1] == [Pong(5)]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"op": "SEND", "corr": 1, "sid": "not bytes", "body": b""}, ErrorCode.SYNTAX),
        ({"op": "SEND", "corr": 1, "sid": b"short", "body": b""}, ErrorCode.SYNTAX),
        ({"op": "SEND", "corr": 1, "sid": b"x" * ID_LEN, "body": b"x" * 101}, ErrorCode.SIZE),
        (
            {"op": "SEND", "corr": 1, "sid": b"x" * ID_LEN, "body": b"", "sig": b"s"},
            ErrorCode.SYNTAX,
        ),
        ({"op": "NEW", "corr": 1, "key": True}, ErrorCode.SYNTAX),
        ({"op": "DIR", "corr": 1, "limit": -1}, ErrorCode.SYNTAX),
        (
            {"op": "PUB", "corr": 1, "key": b"k" * 32, "blob": b"", "prekeys": [b""]},
            ErrorCode.SYNTAX,
        ),
        ({"op": "NOPE", "corr": 1}, ErrorCode.SYNTAX),
    ],
)
def test_bad_item_yields_bad_command_with_corr(item: dict[str, object], code: ErrorCode) -> None:
    """A malformed item becomes BadCommand(corr, code); the rest of the batch still decodes."""
    lim = CodecLimits(max_body=100)
    frame = packed({"v": 1, "b": [item, {"op": "PING", "corr": 2}]})
    assert decode_client_frame(frame, lim)[1] == [BadCommand(1, code), Ping(2)]


@pytest.mark.parametrize("corr", [None, -1, "1", 2**64 - 1, 1.5, True])
def test_bad_corr_yields_bad_command_without_corr(corr: object) -> None:
    """An item whose corr is unusable is answered with ERR without a corr."""
    frame = packed({"v": 1, "b": [{"op": "PING", "corr": corr}]})
    assert decode_client_frame(frame)[1] == [BadCommand(None, ErrorCode.SYNTAX)]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xc1", ErrorCode.SYNTAX),
        (packed([1]), ErrorCode.SYNTAX),
        (packed({"b": [{"op": "PING", "corr": 1}]}), ErrorCode.SYNTAX),
        (packed({"v": 2, "b": [{"op": "PING", "corr": 1}]}), ErrorCode.VERSION),
        (packed({"v": 1, "b": []}), ErrorCode.SYNTAX),
        (packed({"v": 1, "b": [{"op": "PING", "corr": 1}] * 65}), ErrorCode.SIZE),
        (packed({"v": 1, "b": [], "pad": b"x" * 300_000}), ErrorCode.SIZE),
        (packed({1: 1}), ErrorCode.SYNTAX),
        (packed({"v": 1, "b": [1]}) + b"extra", ErrorCode.SYNTAX),
    ],
)
def test_frame_errors(frame: bytes, code: ErrorCode) -> None:
    """Unusable frames raise FrameError with the right code."""
    with pytest.raises(FrameError) as err:
        decode_client_frame(frame)
    assert err.value.code == code


def test_signed_bytes_are_pinned() -> None:
    """The signed bytes are domain || challenge || msgpack([v, op, corr, fields...])."""
    challenge = bytes(range(32))
    cmd = Ack(7, b"r" * 16, b"m" * 16, sig=b"s" * 64)
    expected = (
        b"securechat-relay/v1/command\x00"
        + challenge
        + b"\x95\x01\xa3ACK\x07\xc4\x10"
        + b"r" * 16
        + b"\xc4\x10"
        + b"m" * 16
    )
    assert signed_bytes(challenge, cmd) == expected
    assert signed_bytes(challenge, cmd).startswith(SIGN_DOMAIN)


def test_acks_signed_bytes_are_pinned() -> None:
    """ACKS signs [v, "ACKS", corr, rid, [mid, ...]] like every command."""
    challenge = bytes(range(32))
    cmd = Acks(7, b"r" * 16, (b"m" * 16, b"n" * 16), sig=b"s" * 64)
    expected = (
        b"securechat-relay/v1/command\x00"
        + challenge
        + b"\x95\x01\xa4ACKS\x07\xc4\x10"
        + b"r" * 16
        + b"\x92\xc4\x10"
        + b"m" * 16
        + b"\xc4\x10"
        + b"n" * 16
    )
    assert signed_bytes(challenge, cmd) == expected


def test_acks_round_trip_and_limits() -> None:
    """ACKS decodes back to itself; empty, malformed or too many mids are refused."""
    lim = CodecLimits(max_batch=4)
    cmd = Acks(3, b"r" * 16, (b"a" * 16, b"b" * 16))
    assert decode_client_frame(encode_client_frame([cmd]), lim)[1] == [cmd]

    def one(mids: object) -> object:
        frame = {"v": 1, "b": [{"op": "ACKS", "corr": 9, "rid": b"r" * 16, "mids": mids}]}
        return decode_client_frame(msgpack.packb(frame), lim)[1][0]

    assert one([]) == BadCommand(9, ErrorCode.SYNTAX)
    assert one([b"short"]) == BadCommand(9, ErrorCode.SYNTAX)
    assert one(b"m" * 16) == BadCommand(9, ErrorCode.SYNTAX)
    assert one([b"m" * 16] * 5) == BadCommand(9, ErrorCode.SIZE)


def test_signature_binds_challenge_key_and_fields() -> None:
    """A signature verifies only with its key, its challenge and its exact fields."""
    key, other = SigningKey.generate(), SigningKey.generate()
    challenge = b"c" * 32
    cmd = sign_command(Send(1, b"s" * 16, b"body"), challenge, key)
    pub = bytes(key.verify_key)
    assert verify_command(cmd, challenge, pub)
    assert not verify_command(cmd, b"d" * 32, pub)
    assert not verify_command(cmd, challenge, bytes(other.verify_key))
    assert isinstance(cmd, Send)
    assert not verify_command(Send(1, cmd.sid, b"bodx", cmd.sig), challenge, pub)
    assert not verify_command(Send(2, cmd.sid, cmd.body, cmd.sig), challenge, pub)
    assert not verify_command(Send(1, cmd.sid, cmd.body, None), challenge, pub)
    assert not verify_command(cmd, challenge, b"\x00" * 31)


def test_pub_signature_covers_prekeys_and_summary() -> None:
    """Changing a publication's prekeys or summary breaks its signature."""
    key = SigningKey.generate()
    challenge = b"c" * 32
    cmd = sign_command(Pub(1, bytes(key.verify_key), b"blob", b"sum", (b"a",)), challenge, key)
    assert isinstance(cmd, Pub)
    pub = bytes(key.verify_key)
    assert verify_command(cmd, challenge, pub)
    forged = Pub(1, cmd.key, cmd.blob, b"other", cmd.prekeys, None, cmd.sig)
    assert not verify_command(forged, challenge, pub)
    forged = Pub(1, cmd.key, cmd.blob, cmd.summary, (b"a", b"b"), None, cmd.sig)
    assert not verify_command(forged, challenge, pub)


def test_repr_of_records_is_redacted() -> None:
    """Queue and message records never print ids or bodies."""
    from relay.mailbox import QueueRecord, StoredMessage

    assert "redacted" in repr(QueueRecord(b"r" * 16, b"s" * 16, b"k" * 32))
    assert b"secret".hex() not in repr(StoredMessage(1, b"m" * 16, 0, b"secret"))
    assert "secret" not in repr(StoredMessage(1, b"m" * 16, 0, b"secret"))
