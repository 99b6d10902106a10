"""Anthropic Messages streams: decode an upstream's, write a client's, tap a pass-through.

The event sequence is the recorded one (tests/fixtures/anthropic/*.sse): ``message_start``,
then per content block ``content_block_start`` / ``content_block_delta``... /
``content_block_stop`` (a ``ping`` right after the first block start), then
``message_delta`` (stop reason, cumulative usage) and ``message_stop``. An ``error`` event can
arrive inside a 200 stream, after which nothing follows. Data lines may carry trailing
padding spaces.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.core.chat import (
    Event,
    Finished,
    ReasoningDelta,
    ReasoningSignature,
    Started,
    StreamFailed,
    TextDelta,
    ToolArgsDelta,
    ToolCallStart,
    UsageReport,
)
from aigw.core.usage import Usage
from aigw.errors import GatewayError, UpstreamError, UpstreamSaturated
from aigw.formats.anthropic_messages import (
    FINISH_TO_STOP,
    STOP_TO_FINISH,
    anthropic_usage,
    error_body,
    message_id,
    usage_from_anthropic,
)
from aigw.formats.sse import SSEParser, first_malformed_event, frame
from aigw.formats.stream_decoder import JsonStreamDecoder


def stream_error(kind: Any) -> GatewayError:
    """A mid-stream ``error`` event, by its structured type."""
    if kind in ("overloaded_error", "rate_limit_error"):
        return UpstreamSaturated("The upstream provider is overloaded; retry later.")
    return UpstreamError("The upstream provider failed in the middle of the answer.")


class AnthropicStreamDecoder(JsonStreamDecoder):
    """An Anthropic upstream's stream as neutral events."""

    __slots__ = ("_blocks", "_tools", "_no_args", "_usage")

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, int] = {}  # content index -> kind (-1 text, -2 thinking) / tool
        self._tools = 0
        self._no_args: set[int] = set()  # tool calls whose arguments have not started yet
        self._usage: dict[str, Any] = {}

    def _object(self, obj: dict[str, Any], out: list[Event]) -> None:
        kind = obj.get("type")
        if kind == "content_block_delta":
            self._delta(obj, out)
        elif kind == "content_block_start":
            self._start_block(obj, out)
        elif kind == "message_start":
            message = obj.get("message") or {}
            self._usage = dict(message.get("usage") or {})
            out.append(Started(str(message.get("id") or ""), str(message.get("model") or "")))
        elif kind == "message_delta":
            delta = obj.get("delta") or {}
            later = obj.get("usage") or {}
            self._usage.update({k: v for k, v in later.items() if v is not None})
            usage = usage_from_anthropic(self._usage)
            if delta.get("stop_reason"):
                out.append(Finished(STOP_TO_FINISH.get(str(delta["stop_reason"]), "stop")))
            if usage is not None:
                out.append(UsageReport(usage))
        elif kind == "content_block_stop":
            tool = self._blocks.get(int(obj.get("index", 0)), -1)
            if tool in self._no_args:  # a tool without arguments streams a lone ""
                self._no_args.discard(tool)
                out.append(ToolArgsDelta(tool, "{}"))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            err = obj.get("error") or {}
            out.append(StreamFailed(stream_error(err.get("type"))))

    def _start_block(self, obj: dict[str, Any], out: list[Event]) -> None:
        index = int(obj.get("index", 0))
        block = obj.get("content_block") or {}
        kind = block.get("type")
        if kind == "tool_use":
            self._blocks[index] = self._tools
            self._no_args.add(self._tools)
            out.append(ToolCallStart(self._tools, str(block.get("id")), str(block.get("name"))))
            self._tools += 1
        elif kind == "text":
            self._blocks[index] = -1
            if block.get("text"):
                out.append(TextDelta(str(block["text"])))
        elif kind == "thinking":
            self._blocks[index] = -2
            if block.get("thinking"):
                out.append(ReasoningDelta(str(block["thinking"])))

    def _delta(self, obj: dict[str, Any], out: list[Event]) -> None:
        block = self._blocks.get(int(obj.get("index", 0)))
        if block is None:
            return  # a server tool's block: not the client's business
        delta = obj.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            out.append(TextDelta(str(delta.get("text") or "")))
        elif kind == "input_json_delta" and block >= 0:
            fragment = str(delta.get("partial_json") or "")
            if fragment:
                self._no_args.discard(block)
                out.append(ToolArgsDelta(block, fragment))
        elif kind == "thinking_delta":
            out.append(ReasoningDelta(str(delta.get("thinking") or "")))
        elif kind == "signature_delta":
            out.append(ReasoningSignature(str(delta.get("signature") or "")))


def _event(name: str, data: dict[str, Any]) -> bytes:
    return frame(orjson.dumps(data), name)


_PING = b'event: ping\ndata: {"type": "ping"}\n\n'


class AnthropicEventWriter:
    """Neutral stream events in, Anthropic's exact event sequence out."""

    __slots__ = (
        "_id", "_model", "_started", "_index", "_kind", "_pinged", "_tools", "_stop", "usage"
    )  # fmt: skip

    def __init__(self, *, id: str, model: str) -> None:
        self._id = message_id(id)
        self._model = model
        self._started = False
        self._index = -1  # content index of the open block
        self._kind = ""  # "text", "thinking", "tool", or "" when no block is open
        self._pinged = False
        self._tools: dict[int, int] = {}  # tool ordinal -> content index
        self._stop = "end_turn"
        self.usage: Usage | None = None

    def _start(self) -> bytes:
        self._started = True
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return _event("message_start", {"type": "message_start", "message": message})

    def _open(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self._index += 1
        self._kind = kind
        start = {"type": "content_block_start", "index": self._index, "content_block": block}
        out += _event("content_block_start", start)
        if not self._pinged:
            self._pinged = True
            out += _PING
        return out

    def _close(self) -> bytes:
        if not self._kind:
            return b""
        self._kind = ""
        return _event("content_block_stop", {"type": "content_block_stop", "index": self._index})

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        body = {"type": "content_block_delta", "index": index, "delta": delta}
        return _event("content_block_delta", body)

    def feed(self, events: list[Event]) -> bytes:
        out = b"" if self._started or not events else self._start()
        for event in events:
            if isinstance(event, TextDelta):
                if not event.text:
                    continue
                if self._kind != "text":
                    out += self._open("text", {"type": "text", "text": ""})
                out += self._delta(self._index, {"type": "text_delta", "text": event.text})
            elif isinstance(event, ToolArgsDelta):
                index = self._tools.get(event.index)
                if index is not None and event.fragment:
                    delta = {"type": "input_json_delta", "partial_json": event.fragment}
                    out += self._delta(index, delta)
            elif isinstance(event, ReasoningDelta):
                if self._kind != "thinking":
                    block = {"type": "thinking", "thinking": "", "signature": ""}
                    out += self._open("thinking", block)
                out += self._delta(self._index, {"type": "thinking_delta", "thinking": event.text})
            elif isinstance(event, ReasoningSignature):
                if self._kind != "thinking":
                    block = {"type": "thinking", "thinking": "", "signature": ""}
                    out += self._open("thinking", block)
                delta = {"type": "signature_delta", "signature": event.signature}
                out += self._delta(self._index, delta)
            elif isinstance(event, ToolCallStart):
                tool: dict[str, Any] = {"type": "tool_use", "id": event.id, "name": event.name}
                tool["input"] = {}
                out += self._open("tool", tool)
                self._tools[event.index] = self._index
            elif isinstance(event, Finished):
                self._stop = FINISH_TO_STOP.get(event.reason, "end_turn")
            elif isinstance(event, UsageReport):
                self.usage = event.usage
        return out

    def finish(self) -> bytes:
        out = b"" if self._started else self._start()
        out += self._close()
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop, "stop_sequence": None},
            "usage": anthropic_usage(self.usage),
        }
        out += _event("message_delta", delta)
        return out + _event("message_stop", {"type": "message_stop"})

    def error(self, err: GatewayError, request_id: str) -> bytes:
        body = error_body(err, request_id)
        body.pop("request_id", None)
        return (b"" if self._started else self._start()) + _event("error", body)


class AnthropicStreamTap:
    """Pass-through of an Anthropic upstream's stream to an Anthropic client.

    Events are forwarded as received; only ``message_start`` is rewritten (the gateway's model
    id) and ``message_start`` / ``message_delta`` / ``error`` are decoded for usage and errors.
    """

    __slots__ = ("_pending", "_model", "_usage", "usage", "done", "error", "malformed")

    def __init__(self, *, gateway_model: str) -> None:
        self._pending = b""
        self._model = gateway_model
        self._usage: dict[str, Any] = {}
        self.usage: Usage | None = None
        self.done = False
        self.error: GatewayError | None = None
        self.malformed = False  # an event whose data is not a JSON object: forwarding stops

    def feed(self, chunk: bytes) -> bytes:
        if self.malformed:
            return b""
        buf = self._pending + chunk if self._pending else chunk
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self._pending = buf
            return b""
        ready, self._pending = buf[: cut + 2], buf[cut + 2 :]
        bad = first_malformed_event(ready)
        if bad >= 0:
            self.malformed = True
            prev = ready.rfind(b"\n\n", 0, bad)  # the end of the event before the bad one
            ready = ready[: prev + 2] if prev >= 0 else b""
        if b"message_start" in ready or b"message_delta" in ready or b"event: error" in ready:
            return b"".join(self._inspect(e) for e in ready.split(b"\n\n") if e.strip())
        if b"message_stop" in ready:
            self.done = True
        return ready

    def finish(self) -> bytes:
        rest, self._pending = self._pending, b""
        return self.feed(rest + b"\n\n") if rest.strip() else b""

    def _inspect(self, event: bytes) -> bytes:
        raw = event + b"\n\n"
        name = event.split(b"\n", 1)[0]
        if name == b"event: message_stop":
            self.done = True
        if name not in (b"event: message_start", b"event: message_delta", b"event: error"):
            return raw
        events = SSEParser().feed(raw)
        if not events:
            return raw
        try:
            obj = orjson.loads(events[0][1])
        except orjson.JSONDecodeError:
            return raw
        if name == b"event: message_start":
            message = obj.get("message") or {}
            self._usage = dict(message.get("usage") or {})
            message["model"] = self._model
            self.usage = usage_from_anthropic(self._usage)
            return _event("message_start", obj)
        if name == b"event: message_delta":
            later = obj.get("usage") or {}
            self._usage.update({k: v for k, v in later.items() if v is not None})
            self.usage = usage_from_anthropic(self._usage)
            return raw
        self.error = stream_error((obj.get("error") or {}).get("type"))
        return raw
