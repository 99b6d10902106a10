"""Forward an OpenAI-format SSE stream with a light tap (pure, no I/O).

Same-format streams are a pass-through: whole runs of complete events are forwarded as the
bytes that arrived, with only the ``model`` field rewritten by a byte substitution. Only an
event that carries a ``usage`` object is decoded: the gateway reads usage there, adds the
cost for clients who asked for usage, and hides the chunk from clients who did not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from aigw.core.usage import Usage
from aigw.formats.openai_chat import usage_from_openai
from aigw.formats.sse import first_malformed_event, one_line_events

_EVENT_SPLIT = re.compile(rb"\r?\n\r?\n")
_USAGE_MARKER = re.compile(rb'"usage": ?\{')  # an event carrying a usage object
DONE = b"data: [DONE]"
_DONE_FRAME = DONE + b"\n\n"

UsageExtras = Callable[[Usage], Mapping[str, Any]]


def _boundary(buf: bytes) -> int:
    """Index just past the last complete event in ``buf`` (0 when there is none)."""
    if buf.endswith(b"\n\n"):  # the usual read: whole events (saves scanning it for CRLF)
        return len(buf)
    lf = buf.rfind(b"\n\n")
    crlf = buf.rfind(b"\r\n\r\n")
    return max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)


def _model_patterns(upstream: str, gateway: str, seen: bytes) -> list[tuple[bytes, bytes]]:
    """The byte substitutions that rename the model: the spelling found in ``seen`` (the
    stream's first events; a provider keeps one JSON style), else both spellings."""
    if upstream == gateway:
        return []
    up = orjson.dumps(upstream)
    gw = orjson.dumps(gateway)
    both = [(b'"model":' + up, b'"model":' + gw), (b'"model": ' + up, b'"model": ' + gw)]
    found = [pair for pair in both if pair[0] in seen]
    return found or both


class OpenAIStreamTap:
    """Feed upstream bytes in, get the bytes to send to the client out."""

    __slots__ = (
        "_pending",
        "_patterns",
        "_upstream_model",
        "_gateway_model",
        "_show_usage",
        "_usage_extras",
        "usage",
        "done",
        "events",
        "error",
        "malformed",
    )

    def __init__(
        self,
        *,
        upstream_model: str,
        gateway_model: str,
        show_usage: bool,
        usage_extras: UsageExtras | None = None,
    ) -> None:
        self._pending = b""
        # Providers answer with their own name for the model (often a dated snapshot such as
        # gpt-4o-mini-2024-07-18), learnt from the first event; until then, the requested one.
        self._patterns: list[tuple[bytes, bytes]] | None = None
        self._upstream_model = upstream_model
        self._gateway_model = gateway_model
        self._show_usage = show_usage
        self._usage_extras = usage_extras
        self.usage: Usage | None = None
        self.done = False
        self.events = 0
        self.error: dict[str, Any] | None = None
        # The upstream sent an event whose data is not a JSON object: forwarding stops there.
        self.malformed = False

    def feed(self, chunk: bytes) -> bytes:
        if self.malformed:
            return b""
        buf = self._pending + chunk if self._pending else chunk
        patterns = self._patterns
        if patterns is not None and buf.endswith(b"}\n\n") and buf.startswith(b"data: {"):
            # The usual read mid-stream: whole one-line events, none with usage or an error,
            # so the bytes go out with only the model renamed (checks inline: per read).
            events = 1 if buf.find(b"\n") == len(buf) - 2 else one_line_events(buf)
            if (
                events > 0
                and b'"error"' not in buf
                and b'"usage":{' not in buf
                and b'"usage": {' not in buf
            ):
                self._pending = b""
                for old, new in patterns:
                    buf = buf.replace(old, new)
                self.events += events
                return buf
        cut = _boundary(buf)
        if cut == 0:
            self._pending = buf
            return b""
        ready, self._pending = buf[:cut], buf[cut:]
        return self._process(ready)

    def finish(self) -> bytes:
        """Flush an unterminated last event at end of stream."""
        rest, self._pending = self._pending, b""
        if not rest.strip():
            return b""
        return self._process(rest + b"\n\n")

    def _process(self, ready: bytes) -> bytes:
        events = one_line_events(ready)
        if events < 0:  # other framing: the exact check, event by event
            bad = first_malformed_event(ready)
            if bad >= 0:
                self.malformed = True
                ready = ready[:bad]
                if not ready:
                    return b""
            events = ready.count(b"data:")
        if self._patterns is None:
            self._patterns = _model_patterns(
                _first_model(ready) or self._upstream_model, self._gateway_model, ready
            )
        for old, new in self._patterns:
            ready = ready.replace(old, new)
        self.events += events
        if ready.endswith(_DONE_FRAME) or DONE in ready:
            self.done = True
        if b'"error"' in ready:
            self._scan_errors(ready)
        if _has_usage(ready):
            return self._rewrite_usage_events(ready)
        return ready

    def _scan_errors(self, ready: bytes) -> None:
        for event in _EVENT_SPLIT.split(ready):
            payload = _data_of(event)
            if payload is None or b'"error"' not in payload:
                continue
            try:
                obj = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
                self.error = obj["error"]

    def _rewrite_usage_events(self, ready: bytes) -> bytes:
        """Rewrite the events that carry ``usage``; every other event passes as it arrived.

        Usage rides on one of the last events, usually in the same read as most of the stream,
        so only the events around a marker are located and decoded, never the whole run.
        """
        out: list[bytes] = []
        done = 0  # ready[:done] is handled
        for hit in _USAGE_MARKER.finditer(ready):
            if hit.start() < done:
                continue  # a second marker inside an event already rewritten
            start = _event_start(ready, done, hit.start())
            end = _event_end(ready, hit.end())
            out.append(ready[done:start])
            out.append(self._rewrite_usage_event(ready[start:end]))
            done = end
        out.append(ready[done:])
        return b"".join(out)

    def _rewrite_usage_event(self, event: bytes) -> bytes:
        payload = _data_of(event)
        if payload is None or _USAGE_MARKER.search(payload) is None:
            return event
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return event
        usage = usage_from_openai(obj.get("usage"))
        if usage is not None:
            self.usage = usage
        if self._show_usage:
            if usage is not None and self._usage_extras is not None:
                obj["usage"].update(self._usage_extras(usage))
        elif obj.get("choices"):
            del obj["usage"]
        else:
            return b""  # the usage-only chunk the client did not ask for
        return b"data: " + orjson.dumps(obj) + b"\n\n"


def _has_usage(buf: bytes) -> bool:
    """An event in ``buf`` carries a usage object (``"usage":null`` does not count). Searched
    from the end: usage rides on one of the last events."""
    return buf.rfind(b'"usage":{') >= 0 or buf.rfind(b'"usage": {') >= 0


def _event_start(buf: bytes, lo: int, pos: int) -> int:
    """Start of the event holding ``buf[pos]``: just past the last separator in ``buf[lo:pos]``.

    Every separator (``\\r?\\n\\r?\\n``) ends in ``\\n\\n`` or ``\\n\\r\\n``.
    """
    lf = buf.rfind(b"\n\n", lo, pos)
    crlf = buf.rfind(b"\n\r\n", lo, pos)
    return max(lf + 2 if lf >= 0 else lo, crlf + 3 if crlf >= 0 else lo)


def _event_end(buf: bytes, pos: int) -> int:
    """End of the event holding ``buf[pos]``, its separator included."""
    sep = _EVENT_SPLIT.search(buf, pos)
    return sep.end() if sep is not None else len(buf)


def _first_model(ready: bytes) -> str | None:
    """The ``model`` of the first JSON event in ``ready`` (decoded once per stream)."""
    for event in _EVENT_SPLIT.split(ready, maxsplit=1)[:1]:
        payload = _data_of(event)
        if payload is None:
            return None
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        model = obj.get("model") if isinstance(obj, dict) else None
        return model if isinstance(model, str) else None
    return None


def _data_of(event: bytes) -> bytes | None:
    """The data payload of one SSE event (multi-line data joined), or None."""
    lines = [line for line in event.splitlines() if line.startswith(b"data:")]
    if not lines:
        return None
    parts = [line[5:].lstrip(b" ") for line in lines]
    return b"\n".join(parts)


def error_event(body: Mapping[str, Any]) -> bytes:
    """An error frame in OpenAI's stream framing (the SDKs raise on a ``data`` with ``error``)."""
    return b"data: " + orjson.dumps(body) + b"\n\n"
