"""Server-sent events: an incremental parser and the frame writer (pure, no I/O).

Recorded upstreams differ in framing: Anthropic names each event (``event:`` lines) and pads
its JSON with trailing spaces, Gemini ends lines with CRLF, OpenAI sends bare ``data:`` lines
and a ``[DONE]`` sentinel. The parser accepts all of them, split at any byte.
"""

from __future__ import annotations

SSEEvent = tuple[str, bytes]
"""(event name or "", data payload with multi-line data joined by newlines)."""


class SSEParser:
    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self._buf = buf
            return []
        ready, self._buf = buf[:cut], buf[cut + 2 :]
        return _parse_blocks(ready)

    def finish(self) -> list[SSEEvent]:
        rest, self._buf = self._buf, b""
        return _parse_blocks(rest) if rest.strip() else []


def _parse_blocks(ready: bytes) -> list[SSEEvent]:
    events: list[SSEEvent] = []
    for block in ready.split(b"\n\n"):
        name = ""
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                name = line[6:].strip().decode("utf-8", "replace")
        if data:
            events.append((name, b"\n".join(data)))
    return events


def frame(data: bytes, event: str | None = None) -> bytes:
    """One SSE frame; ``event`` adds an ``event:`` line (Anthropic's framing)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


_DONE_FRAME = b"data: [DONE]\n\n"


def one_line_events(ready: bytes) -> int:
    """How many events ``ready`` holds when it is nothing but ``data: {...}`` events of one
    line each (OpenAI's own framing), the last possibly ``[DONE]``; -1 for anything else
    (CRLF, comments, names, a line break inside an event), which takes the exact check.

    Proven with two whole-buffer counts, no loop over the events: when there are exactly
    twice as many ``\\n`` bytes as events, and one ``}\\n\\ndata: {`` joint fewer than
    events, every line break belongs to a joint or to the final ``}\\n\\n``, so each event is
    one line from ``{`` to ``}``."""
    if not ready:
        return 0
    if ready.endswith(_DONE_FRAME):
        body, done = ready[: -len(_DONE_FRAME)], 1
        if not body:
            return 1
    else:
        body, done = ready, 0
    if not (body.startswith(b"data: {") and body.endswith(b"}\n\n")):
        return -1
    if body.find(b"\n") == len(body) - 2:  # the usual small read: one event
        return 1 + done
    lines = body.count(b"\n")
    if lines % 2 or body.count(b"}\n\ndata: {") != lines // 2 - 1:
        return -1
    return lines // 2 + done


def first_malformed_event(ready: bytes) -> int:
    """Offset of the first event whose data is not a JSON object (nor ``[DONE]``), or -1.

    A structural check at C speed (no decoding): the payload must begin with ``{`` and end
    with ``}``. It catches truncated and garbled frames; a ``data:`` at a line start cannot
    occur inside a JSON string, whose newlines are escaped."""
    if one_line_events(ready) >= 0:
        return -1
    pos = 0
    while True:
        if ready.startswith(b"data:", pos):
            end = ready.find(b"\n", pos)
            payload = ready[pos + 5 : end if end >= 0 else len(ready)].strip()
            if payload != b"[DONE]" and not (payload[:1] == b"{" and payload[-1:] == b"}"):
                return pos
        nxt = ready.find(b"\ndata:", pos)
        if nxt < 0:
            return -1
        pos = nxt + 1
