"""The fast lane's request-head parser (server/fast_lane.py): strict, and only for what the
lane serves.

The lane takes plain HTTP/1.1 requests with a ``Content-Length`` body and nothing unusual.
Whatever this parser does not accept (a malformed or unusual head, chunked or compressed
bodies, ``Expect``, ``Upgrade``, a ``Connection`` other than ``keep-alive`` / ``close``, two
lengths) is not an error here: the connection is handed to aiohttp's own parser, which
answers it as it always has. So this parser only has to be right about what it accepts,
never complete.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Header lines as RFC 9110 has them: a token, a colon, a value of visible characters, spaces
# and tabs (and obs-text), each line ending in CRLF. No obs-fold, no control characters.
_FIELDS = re.compile(rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*")
# Headers that change how the body is framed or the connection is used: aiohttp's business.
_REFUSED = frozenset({b"transfer-encoding", b"content-encoding", b"expect", b"upgrade"})


@dataclass(slots=True)
class Head:
    """A head the lane serves: its headers (decoded as aiohttp decodes them) and framing."""

    headers: list[tuple[str, str]]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    length: int  # Content-Length
    close: bool  # Connection: close


def parse_fields(block: bytes) -> Head | None:
    """The header lines after the request line (each ending in CRLF, the blank line left
    out), or None when the lane should not serve this request."""
    if _FIELDS.fullmatch(block) is None:
        return None
    length: int | None = None
    close = False
    headers: list[tuple[str, str]] = []
    raw: list[tuple[bytes, bytes]] = []
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        value = value.strip(b" \t")
        lowered = name.lower()
        if lowered in _REFUSED:
            return None
        if lowered == b"content-length":
            if length is not None or not value.isdigit() or len(value) > 15:
                return None
            length = int(value)
        elif lowered == b"connection":
            token = value.lower()
            if token == b"close":
                close = True
            elif token != b"keep-alive":
                return None
        raw.append((name, value))
        headers.append((name.decode("ascii"), value.decode("utf-8", "surrogateescape")))
    if length is None:
        return None
    return Head(headers, tuple(raw), length, close)
