"""OpenAI chat format <-> neutral answers, for translated traffic (pure, no I/O).

Same-format traffic never comes here (``openai_stream`` forwards it untouched). This module
renders answers from other upstreams as OpenAI chat completions and chunks, and reads an
OpenAI-compatible upstream's answer when the client spoke another format (Anthropic's).

Beyond OpenAI's own fields, assistant messages carry ``reasoning_content`` (the reasoning
text, as DeepSeek and xAI name it), ``reasoning_signature`` (Anthropic's thinking signature)
and, on a tool call, ``extra_content.google.thought_signature`` (Gemini's, named as Google's
own OpenAI-compatible endpoint names it). Clients send them back unchanged with the next turn
and the codecs put them where the provider wants them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from aigw.core.chat import (
    Completion,
    Event,
    Finished,
    ReasoningDelta,
    ReasoningSignature,
    Started,
    StreamFailed,
    TextDelta,
    ToolArgsDelta,
    ToolCall,
    ToolCallStart,
    UsageReport,
)
from aigw.core.usage import Usage
from aigw.errors import UpstreamError
from aigw.formats.openai_chat import usage_from_openai
from aigw.formats.stream_decoder import JsonStreamDecoder

UsageExtras = Callable[[Usage], Mapping[str, Any]]
DONE = b"data: [DONE]\n\n"


def openai_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.signature:
        out["extra_content"] = {"google": {"thought_signature": call.signature}}
    return out


def tool_call_signature(call: Mapping[str, Any]) -> str | None:
    """The Gemini thought signature a client sent back on one of its tool calls."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    sig = google.get("thought_signature") if isinstance(google, dict) else None
    return sig if isinstance(sig, str) and sig else None


def completion_to_openai(
    c: Completion, model_id: str, usage_extras: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A ``chat.completion`` body for a translated answer."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": c.text if (c.text or not c.tool_calls) else None,
    }
    if c.reasoning:
        message["reasoning_content"] = c.reasoning
    if c.reasoning_signature:
        message["reasoning_signature"] = c.reasoning_signature
    if c.tool_calls:
        message["tool_calls"] = [tool_call_json(t) for t in c.tool_calls]
    message["refusal"] = None
    body: dict[str, Any] = {
        "id": c.id if c.id.startswith("chatcmpl") else "chatcmpl-" + c.id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": c.finish_reason}
        ],
    }
    if c.usage is not None:
        body["usage"] = {**openai_usage(c.usage), **(usage_extras or {})}
    return body


class OpenAIChunkWriter:
    """Neutral stream events in, OpenAI ``chat.completion.chunk`` frames out."""

    __slots__ = ("_prefix", "_suffix", "_head", "_started", "_include_usage", "_extras", "usage")

    def __init__(
        self,
        *,
        id: str,
        model: str,
        include_usage: bool,
        usage_extras: UsageExtras | None = None,
    ) -> None:
        head = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self._head = head
        self._prefix = b"data: " + orjson.dumps(head)[:-1] + b',"choices":[{"index":0,"delta":'
        self._suffix = b',"logprobs":null,"finish_reason":null}]'
        self._suffix += b',"usage":null}\n\n' if include_usage else b"}\n\n"
        self._started = False
        self._include_usage = include_usage
        self._extras = usage_extras
        self.usage: Usage | None = None

    def _delta(self, delta: Mapping[str, Any]) -> bytes:
        return self._prefix + orjson.dumps(delta) + self._suffix

    def feed(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        if not self._started and events:
            self._started = True
            out.append(self._delta({"role": "assistant", "content": "", "refusal": None}))
        for event in events:
            if isinstance(event, TextDelta):
                if event.text:
                    out.append(self._delta({"content": event.text}))
            elif isinstance(event, ReasoningDelta):
                if event.text:
                    out.append(self._delta({"reasoning_content": event.text}))
            elif isinstance(event, ToolArgsDelta):
                if event.fragment:
                    call = {"index": event.index, "function": {"arguments": event.fragment}}
                    out.append(self._delta({"tool_calls": [call]}))
            elif isinstance(event, ToolCallStart):
                call = tool_call_json(ToolCall(event.id, event.name, "", event.signature))
                out.append(self._delta({"tool_calls": [{"index": event.index, **call}]}))
            elif isinstance(event, ReasoningSignature):
                out.append(self._delta({"reasoning_signature": event.signature}))
            elif isinstance(event, Finished):
                reason = orjson.dumps(event.reason)
                tail = self._suffix.replace(b'"finish_reason":null', b'"finish_reason":' + reason)
                out.append(self._prefix + b"{}" + tail)
            elif isinstance(event, UsageReport):
                self.usage = event.usage
        return b"".join(out)

    def finish(self) -> bytes:
        """The usage chunk (when the client asked for it) and ``[DONE]``."""
        if not self._include_usage or self.usage is None:
            return DONE
        usage = openai_usage(self.usage)
        if self._extras is not None:
            usage.update(self._extras(self.usage))
        chunk = {**self._head, "choices": [], "usage": usage}
        return b"data: " + orjson.dumps(chunk) + b"\n\n" + DONE


# --- reading an OpenAI-compatible upstream (for clients of other formats) ------------------


def completion_from_openai(data: Any) -> Completion:
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    choices = data["choices"]
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    calls = [
        ToolCall(
            str(c.get("id") or f"call_{i}"),
            str((c.get("function") or {}).get("name") or ""),
            str((c.get("function") or {}).get("arguments") or ""),
            tool_call_signature(c),
        )
        for i, c in enumerate(message.get("tool_calls") or [])
        if isinstance(c, dict)
    ]
    return Completion(
        id=str(data.get("id") or ""),
        model=str(data.get("model") or ""),
        text=str(message.get("content") or ""),
        reasoning=str(message.get("reasoning_content") or message.get("reasoning") or ""),
        reasoning_signature=message.get("reasoning_signature") or None,
        tool_calls=calls,
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=usage_from_openai(data.get("usage")),
    )


class OpenAIStreamDecoder(JsonStreamDecoder):
    """An OpenAI-compatible upstream's SSE stream as neutral events."""

    __slots__ = ("_started", "_open_calls")
    DONE_MARKER = b"[DONE]"

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._open_calls: set[int] = set()

    def _on_done(self) -> None:
        self.done = True

    def _object(self, obj: dict[str, Any], out: list[Event]) -> None:
        if isinstance(obj.get("error"), dict):
            out.append(StreamFailed(UpstreamError("The upstream stream failed.")))
            return
        if not self._started:
            self._started = True
            out.append(Started(str(obj.get("id") or ""), str(obj.get("model") or "")))
        for choice in obj.get("choices") or ():
            self._choice(choice, out)
        usage = usage_from_openai(obj.get("usage"))
        if usage is not None:
            out.append(UsageReport(usage))

    def _choice(self, choice: Any, out: list[Event]) -> None:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            return
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            out.append(ReasoningDelta(str(reasoning)))
        if delta.get("content"):
            out.append(TextDelta(str(delta["content"])))
        for call in delta.get("tool_calls") or ():
            index = int(call.get("index", 0))
            fn = call.get("function") or {}
            if index not in self._open_calls:
                self._open_calls.add(index)
                out.append(
                    ToolCallStart(index, str(call.get("id") or ""), str(fn.get("name") or ""), None)
                )
            if fn.get("arguments"):
                out.append(ToolArgsDelta(index, str(fn["arguments"])))
        if choice.get("finish_reason"):
            out.append(Finished(str(choice["finish_reason"])))


# --- request helpers shared by the upstream codecs -----------------------------------------


def split_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a ``data:<type>;base64,<data>`` URL, else None."""
    if not url.startswith("data:"):
        return None
    head, sep, data = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")] or "application/octet-stream", data


def text_of(content: Any) -> str:
    """The text of an OpenAI message's content (string or parts; non-text parts skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def max_tokens_of(body: Mapping[str, Any]) -> int | None:
    value = body.get("max_completion_tokens")
    if value is None:
        value = body.get("max_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def stop_list(body: Mapping[str, Any]) -> list[str]:
    stop = body.get("stop")
    if isinstance(stop, str):
        return [stop] if stop else []
    return [s for s in stop or () if isinstance(s, str) and s]


def generation_params(
    body: Mapping[str, Any], names: Mapping[str, str], *, max_tokens: str, stop: str
) -> dict[str, Any]:
    """The generation parameters the client set, under the upstream's names: the sampling
    ones in ``names`` (OpenAI name -> upstream name) in its order, then the output cap and
    the stop sequences under ``max_tokens`` and ``stop``. Unset ones are left out."""
    out = {key: body[name] for name, key in names.items() if body.get(name) is not None}
    cap = max_tokens_of(body)
    if cap is not None:
        out[max_tokens] = cap
    stops = stop_list(body)
    if stops:
        out[stop] = stops
    return out
