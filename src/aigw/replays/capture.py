"""The text of an answer as the client received it (pure): OpenAI JSON or SSE chunks.

The hot path only keeps references to the bytes it sent; this runs later, in the request
log's writer or a background task, never before the client has its answer.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_CAPTURE = 1 << 20  # bytes of answer kept per request; past that the output is not kept


def output_text(chunks: list[bytes], *, streamed: bool) -> str | None:
    """The first choice's text (content, else tool-call arguments), None if unreadable."""
    raw = b"".join(chunks)
    if not raw:
        return None
    if not streamed:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return message_text(data)
    parts: list[str] = []
    for line in raw.splitlines():
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == b"[DONE]":
            continue
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        parts.append(_delta_text(event))
    return "".join(parts)


def message_text(data: Any) -> str | None:
    """The first choice's text of a whole chat completion."""
    if not isinstance(data, dict):
        return None
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, str) and content:
        return content
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        return "".join(
            str(c["function"].get("arguments") or "")
            for c in calls
            if isinstance(c, dict) and isinstance(c.get("function"), dict)
        )
    return content if isinstance(content, str) else ""


def _delta_text(event: Any) -> str:
    if not isinstance(event, dict):
        return ""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    if choices[0].get("index", 0) != 0:
        return ""
    delta = choices[0].get("delta")
    if not isinstance(delta, dict):
        return ""
    text = delta.get("content")
    out = text if isinstance(text, str) else ""
    for call in delta.get("tool_calls") or []:
        if isinstance(call, dict) and isinstance(call.get("function"), dict):
            out += str(call["function"].get("arguments") or "")
    return out
