"""The fast lane's head parser (server/lane_head.py): what it accepts it gets right; the rest
it leaves to aiohttp (None)."""

from __future__ import annotations

import pytest

from aigw.server.lane_head import parse_fields


def fields(*lines: bytes) -> bytes:
    return b"".join(line + b"\r\n" for line in lines)


def test_a_plain_head_is_read_as_aiohttp_would() -> None:
    head = parse_fields(
        fields(
            b"Host: 127.0.0.1:8080",
            b"Authorization:   Bearer sk-aig-abc  ",
            b"Content-Type: application/json",
            b"x-aig-tag: caf\xc3\xa9 \xff",
            b"Content-Length: 42",
            b"Connection: Keep-Alive",
        )
    )
    assert head is not None
    assert head.length == 42 and not head.close
    assert head.headers[1] == ("Authorization", "Bearer sk-aig-abc")
    # values are UTF-8, undecodable bytes kept as surrogates (aiohttp's decoding)
    assert head.headers[3] == ("x-aig-tag", "café \udcff")
    assert head.raw_headers[4] == (b"Content-Length", b"42")


def test_connection_close_is_noted() -> None:
    head = parse_fields(fields(b"Content-Length: 0", b"connection: close"))
    assert head is not None and head.close and head.length == 0


@pytest.mark.parametrize(
    "block",
    [
        fields(b"Host: x"),  # no Content-Length
        fields(b"Content-Length: 5", b"Transfer-Encoding: chunked"),
        fields(b"Content-Length: 5", b"Content-Encoding: gzip"),
        fields(b"Content-Length: 5", b"Expect: 100-continue"),
        fields(b"Content-Length: 5", b"Upgrade: websocket"),
        fields(b"Content-Length: 5", b"Connection: upgrade"),
        fields(b"Content-Length: 5", b"Content-Length: 5"),  # two lengths
        fields(b"Content-Length: -5"),
        fields(b"Content-Length: 5x"),
        fields(b"Content-Length: 1234567890123456"),  # absurdly long
        fields(b"Content-Length: 5", b"Bad Name: x"),  # not a token
        fields(b"Content-Length: 5", b" folded: x"),  # obs-fold
        fields(b"Content-Length: 5", b"X-Null: a\x00b"),  # control character
        fields(b"Content-Length: 5", b"no colon"),
        b"Content-Length: 5\r\nHost: x",  # a line without its CRLF
    ],
)
def test_anything_unusual_is_left_to_aiohttp(block: bytes) -> None:
    assert parse_fields(block) is None
