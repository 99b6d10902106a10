"""Verbatim replay of recorded provider traffic (``POST /_sim/replay``, ``--replay``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SSE = "text/event-stream"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Replay:
    """A response to send as is, instead of a generated answer."""

    body: bytes
    content_type: str = JSON
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def is_stream(self) -> bool:
        return self.content_type.startswith(SSE)


def load_recording(path: str | Path, done: bool = True) -> tuple[str, bytes]:
    """Content type and body bytes of a recorded response file.

    ``*.chunks.jsonl`` holds one stream payload per line with the SSE framing stripped (Vercel
    AI SDK recordings); it is re-framed as ``data: <line>\\n\\n`` frames plus, when ``done``,
    ``data: [DONE]\\n\\n``. ``*.sse`` is replayed byte for byte; anything else is JSON unless it
    starts like an event stream.
    """
    file = Path(path)
    raw = file.read_bytes()
    if file.name.endswith(".chunks.jsonl"):
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        body = b"".join(b"data: " + line + b"\n\n" for line in lines)
        return SSE, body + (b"data: [DONE]\n\n" if done else b"")
    if file.suffix == ".sse" or raw.lstrip().startswith((b"data:", b"event:")):
        return SSE, raw
    return JSON, raw
