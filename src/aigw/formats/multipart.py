"""Encode a multipart/form-data body (the upload to an upstream's transcription endpoint).
Pure: no I/O; aiohttp's writer needs a connection, this needs only bytes."""

from __future__ import annotations

import secrets


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def encode_multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]
) -> tuple[bytes, str]:
    """(body, content type) for text ``fields`` and ``files`` of (name, filename, type, data)."""
    boundary = "aigw" + secrets.token_hex(16)
    dash = b"--" + boundary.encode()
    parts: list[bytes] = []
    for name, value in fields:
        parts += [
            dash,
            f'\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode(),
            value.encode(),
            b"\r\n",
        ]
    for name, filename, content_type, data in files:
        head = (
            f'\r\nContent-Disposition: form-data; name="{_quote(name)}"; '
            f'filename="{_quote(filename)}"\r\nContent-Type: {_quote(content_type)}\r\n\r\n'
        )
        parts += [dash, head.encode(), data, b"\r\n"]
    parts.append(dash + b"--\r\n")
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
