"""A cached answer: how it is stored, rebuilt from a stream, and replayed (pure, no I/O).

An entry is the answer as a whole ``chat.completion`` body (without ``usage.cost``) plus what
the original call cost in micro-cents, as JSON bytes. A streamed call is folded into the same
shape, so a hit can be served whole or as a stream whatever the cached call was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from aigw.core.chat import Completion, Finished, Started, StreamDecoder, collect, replay
from aigw.core.usage import Usage
from aigw.formats.openai_chat import usage_from_openai
from aigw.formats.openai_translate import (
    OpenAIChunkWriter,
    OpenAIStreamDecoder,
    completion_from_openai,
    completion_to_openai,
)

VERSION = 1


@dataclass(slots=True)
class Entry:
    body: dict[str, Any]  # a chat.completion object, usage without cost
    cost: int  # µ¢ the uncached call cost

    @property
    def usage(self) -> Usage | None:
        return usage_from_openai(self.body.get("usage"))


def encode(entry: Entry) -> bytes:
    return orjson.dumps({"v": VERSION, "cost": entry.cost, "body": entry.body})


def decode(raw: bytes) -> Entry | None:
    """None for anything unreadable (an older version, a foreign value): a miss."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    body, cost = data.get("body"), data.get("cost")
    if not isinstance(body, dict) or not isinstance(cost, int):
        return None
    return Entry(body, cost)


def from_whole(raw: bytes, cost: int) -> Entry | None:
    """An entry from a whole answer as the gateway sent it."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        return None
    usage = body.get("usage")
    if isinstance(usage, dict):
        usage.pop("cost", None)
    return Entry(body, cost)


def stream_body(
    decoder: StreamDecoder,
    sent: bytes,
    model_id: str,
    render: Callable[[Completion], dict[str, Any]],
) -> dict[str, Any] | None:
    """The whole answer a stream the client was sent amounts to, as ``render`` writes it,
    under the id the stream carried; None unless the stream ended well (its end marker and
    a finish reason), so a cut answer is never stored."""
    events = decoder.feed(sent) + decoder.finish()
    if not decoder.done or not any(isinstance(e, Finished) for e in events):
        return None
    body = render(collect(events, Completion(id="", model=model_id)))
    started = next((e for e in events if isinstance(e, Started)), None)
    if started is not None and started.id:
        body["id"] = started.id
    return body


def from_stream(sse: bytes, model_id: str, usage: Usage | None, cost: int) -> Entry | None:
    """An entry from the OpenAI SSE bytes the client was sent; None unless it ended well."""

    def render(completion: Completion) -> dict[str, Any]:
        completion.usage = usage or completion.usage
        return completion_to_openai(completion, model_id)

    body = stream_body(OpenAIStreamDecoder(), sse, model_id, render)
    return None if body is None else Entry(body, cost)


def whole_answer(entry: Entry, cost_usd: float) -> bytes:
    """The cached body as a hit's answer: its usage now carries the hit's cost."""
    body = entry.body
    usage = body.get("usage")
    if isinstance(usage, dict):
        body = {**body, "usage": {**usage, "cost": cost_usd}}
    return orjson.dumps(body)


def stream_answer(entry: Entry, *, include_usage: bool, cost_usd: float) -> bytes:
    """The cached answer as one burst of OpenAI chunks ending with ``[DONE]``."""
    completion = completion_from_openai(entry.body)
    writer = OpenAIChunkWriter(
        id=str(entry.body.get("id") or "chatcmpl-cache"),
        model=str(entry.body.get("model") or ""),
        include_usage=include_usage,
        usage_extras=lambda _usage: {"cost": cost_usd},
    )
    return writer.feed(replay(completion)) + writer.finish()
