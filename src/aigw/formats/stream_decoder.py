"""The shared skeleton of the upstream stream decoders (pure, no I/O).

Every translated upstream stream is SSE frames carrying JSON objects; each decoder only
differs in what one object means. ``feed`` / ``finish`` and the frame loop live here once.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.core.chat import Event, StreamFailed
from aigw.errors import UpstreamError
from aigw.formats.sse import SSEEvent, SSEParser


class JsonStreamDecoder:
    """SSE frames → JSON objects → neutral events.

    Subclasses implement ``_object``. Formats with an end sentinel (OpenAI's, Cohere's
    ``[DONE]``) set ``DONE_MARKER`` and may override ``_on_done``; a frame that is not JSON
    becomes a ``StreamFailed`` event, and JSON that is not an object is ignored.
    """

    __slots__ = ("_sse", "done")
    DONE_MARKER: bytes | None = None

    def __init__(self) -> None:
        self._sse = SSEParser()
        self.done = False

    def feed(self, chunk: bytes) -> list[Event]:
        return self._events(self._sse.feed(chunk))

    def finish(self) -> list[Event]:
        return self._events(self._sse.finish())

    def _events(self, frames: list[SSEEvent]) -> list[Event]:
        out: list[Event] = []
        for _, data in frames:
            if self.DONE_MARKER is not None and data.strip() == self.DONE_MARKER:
                self._on_done()
                continue
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                out.append(StreamFailed(UpstreamError("The upstream sent a malformed event.")))
                continue
            if isinstance(obj, dict):
                self._object(obj, out)
        return out

    def _on_done(self) -> None:
        """The end sentinel arrived (the default: nothing to record)."""

    def _object(self, obj: dict[str, Any], out: list[Event]) -> None:
        raise NotImplementedError
