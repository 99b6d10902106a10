"""A cached ``/v1/messages`` answer: Anthropic's Message body plus what the call cost (pure).

Stored in the same ``Entry`` envelope as chat answers (under ``messages`` keys only), built
from a whole Message or from the Anthropic SSE bytes the client was sent, and replayed whole
or as Anthropic's event sequence (message_start ... message_stop) whatever the cached call was.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.cache.entry import Entry, stream_body
from aigw.core.chat import replay
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
    body = stream_body(
        AnthropicStreamDecoder(), sse, model_id, lambda c: completion_to_anthropic(c, model_id)
    )
    return None if body is None else Entry(body, cost)


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
    return writer.feed(replay(completion)) + writer.finish()
