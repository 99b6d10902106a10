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


def _one_line_objects(ready: bytes) -> bool:
    """True when ``ready`` is nothing but ``data: {...}`` events of one line each (OpenAI's
    own framing), the last possibly ``[DONE]``: proven with a few whole-buffer counts, no
    loop over the events. Anything else (CRLF, comments, names) takes the exact check."""
    body = ready[: -len(_DONE_FRAME)] if ready.endswith(_DONE_FRAME) else ready
    if not body:
        return True
    events = body.count(b"\n\n")
    return (
        body.startswith(b"data: {")
        and body.endswith(b"}\n\n")
        and body.count(b"\n") == 2 * events  # no line inside an event but its data line
        and body.count(b"}\n\ndata: {") == events - 1  # every event starts { and ends }
    )


def first_malformed_event(ready: bytes) -> int:
    """Offset of the first event whose data is not a JSON object (nor ``[DONE]``), or -1.

    A structural check at C speed (no decoding): the payload must begin with ``{`` and end
    with ``}``. It catches truncated and garbled frames; a ``data:`` at a line start cannot
    occur inside a JSON string, whose newlines are escaped."""
    if _one_line_objects(ready):
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
