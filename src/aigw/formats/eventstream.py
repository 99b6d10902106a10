"""AWS event-stream framing (``application/vnd.amazon.eventstream``), as Bedrock's
ConverseStream sends it (pure, no I/O).

Each message: total length and headers length (4 bytes each, big-endian), a CRC-32 of those
8 bytes, the headers (name length, name, value type, value), the payload, and a CRC-32 of
everything before it. Only string header values (type 7) carry meaning for Bedrock.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

_PRELUDE = 12
_STRING = 7
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # value sizes of non-string types

Message = tuple[dict[str, str], bytes]


class EventStreamError(ValueError):
    """A damaged frame (bad lengths or checksum)."""


def encode(headers: Mapping[str, str], payload: bytes) -> bytes:
    raw = b""
    for name, value in headers.items():
        n, v = name.encode(), value.encode()
        raw += struct.pack(">B", len(n)) + n + struct.pack(">BH", _STRING, len(v)) + v
    total = _PRELUDE + len(raw) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(raw):
        size = raw[i]
        name = raw[i + 1 : i + 1 + size].decode()
        kind = raw[i + 1 + size]
        i += 2 + size
        if kind in (6, _STRING):
            (length,) = struct.unpack_from(">H", raw, i)
            value = raw[i + 2 : i + 2 + length]
            i += 2 + length
            if kind == _STRING:
                out[name] = value.decode()
        elif kind in _FIXED:
            i += _FIXED[kind]
        else:
            raise EventStreamError(f"unknown header value type {kind}")
    return out


class EventStreamParser:
    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[Message]:
        self._buf += chunk
        out: list[Message] = []
        while len(self._buf) >= _PRELUDE:
            total, header_len, prelude_crc = struct.unpack_from(">III", self._buf)
            if zlib.crc32(self._buf[:8]) != prelude_crc or total < _PRELUDE + 4 + header_len:
                raise EventStreamError("damaged event-stream prelude")
            if len(self._buf) < total:
                break
            message, self._buf = self._buf[:total], self._buf[total:]
            (crc,) = struct.unpack_from(">I", message, total - 4)
            if zlib.crc32(message[:-4]) != crc:
                raise EventStreamError("event-stream checksum mismatch")
            headers = _headers(message[_PRELUDE : _PRELUDE + header_len])
            out.append((headers, message[_PRELUDE + header_len : -4]))
        return out
