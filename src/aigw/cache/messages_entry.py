"""A cached ``/v1/messages`` answer: Anthropic's Message body plus what the call cost (pure).

Stored in the same ``Entry`` envelope as chat answers (under ``messages`` keys only), built
from a whole Message or from the Anthropic SSE bytes the client was sent, and replayed whole
or as Anthropic's event sequence (message_start ... message_stop) whatever the cached call was.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.cache.entry import Entry
from aigw.core.chat import (
    Completion,
    Event,
    Finished,
    ReasoningDelta,
    ReasoningSignature,
    Started,
    TextDelta,
    ToolArgsDelta,
    ToolCallStart,
    UsageReport,
    collect,
)
from aigw.core.usage import Usage
from aigw.errors import UpstreamError
from aigw.formats.anthropic_messages import (
    completion_from_anthropic,
    completion_to_anthropic,
    usage_from_anthropic,
)
from aigw.formats.anthropic_stream import AnthropicEventWriter, AnthropicStreamDecoder


def _is_message(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and body.get("type") == "message"
        and isinstance(body.get("content"), list)
    )


def from_whole(raw: bytes, cost: int) -> Entry | None:
    """An entry from a whole Message as the gateway sent it."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return Entry(body, cost) if _is_message(body) else None


def from_stream(sse: bytes, model_id: str, cost: int) -> Entry | None:
    """An entry from the Anthropic SSE bytes the client was sent; None unless it ended well."""
    decoder = AnthropicStreamDecoder()
    events = decoder.feed(sse) + decoder.finish()
    if not decoder.done or not any(isinstance(e, Finished) for e in events):
        return None
    completion = collect(events, Completion(id="", model=model_id))
    body = completion_to_anthropic(completion, model_id)
    started = next((e for e in events if isinstance(e, Started)), None)
    if started is not None and started.id:
        body["id"] = started.id
    return Entry(body, cost)


def usage_of(entry: Entry) -> Usage | None:
    return usage_from_anthropic(entry.body.get("usage"))


def whole_answer(entry: Entry) -> bytes | None:
    """The cached Message (None: not a Message, a miss)."""
    return orjson.dumps(entry.body) if _is_message(entry.body) else None


def stream_answer(entry: Entry) -> bytes | None:
    """The cached Message as one burst of Anthropic stream events (None: a miss)."""
    if not _is_message(entry.body):
        return None
    try:
        completion = completion_from_anthropic(entry.body)
    except UpstreamError:
        return None
    writer = AnthropicEventWriter(
        id=str(entry.body.get("id") or "msg_cache"), model=str(entry.body.get("model") or "")
    )
    events: list[Event] = []
    if completion.reasoning or completion.reasoning_signature:
        events.append(ReasoningDelta(completion.reasoning))
    if completion.reasoning_signature:
        events.append(ReasoningSignature(completion.reasoning_signature))
    if completion.text:
        events.append(TextDelta(completion.text))
    for index, call in enumerate(completion.tool_calls):
        events.append(ToolCallStart(index, call.id, call.name))
        events.append(ToolArgsDelta(index, call.arguments))
    events.append(Finished(completion.finish_reason))
    events.append(UsageReport(completion.usage or Usage()))
    return writer.feed(events) + writer.finish()
