"""Cohere v2 chat wire format (``POST /v2/chat``), both directions (pure, no I/O).

Close to OpenAI's: ``messages`` with system / user / assistant / tool roles and OpenAI-style
``tool_calls``; differences handled here are ``p`` / ``k`` / ``stop_sequences``,
``tool_choice`` as ``REQUIRED`` / ``NONE`` (no named tool: the named one is offered alone),
``response_format`` ``json_object`` with an optional ``json_schema``, ``thinking`` with a
``token_budget``, answers whose ``message.content`` is a list of text / thinking parts and
whose ``tool_plan`` is the model's stated plan, ``finish_reason`` in capitals, usage as
``billed_units`` (what Cohere charges), and typed stream events (``message-start``,
``content-delta``, ``tool-call-start`` / ``-delta``, ``tool-plan-delta``, ``message-end``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw.core.chat import (
    Completion,
    Event,
    Finished,
    ReasoningDelta,
    Started,
    StreamFailed,
    TextDelta,
    ToolArgsDelta,
    ToolCall,
    ToolCallStart,
    UsageReport,
)
from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, UpstreamError
from aigw.formats.openai_translate import generation_params, text_of
from aigw.formats.params import Encoded, drop_warnings, unsupported
from aigw.formats.stream_decoder import JsonStreamDecoder

PROVIDER = "Cohere"
FINISH = {"COMPLETE": "stop", "STOP_SEQUENCE": "stop", "MAX_TOKENS": "length",
          "TOOL_CALL": "tool_calls", "ERROR_TOXIC": "content_filter",
          "ERROR_LIMIT": "length"}  # fmt: skip
THINKING_BUDGET = {"minimal": 512, "low": 1024, "medium": 4096, "high": 16384,
                   "xhigh": 32000, "max": 32000}  # fmt: skip
_HANDLED = ("top_k", "seed", "presence_penalty", "frequency_penalty")
_RENAMED = {"temperature": "temperature", "top_p": "p", "top_k": "k", "seed": "seed",
            "presence_penalty": "presence_penalty",
            "frequency_penalty": "frequency_penalty"}  # fmt: skip


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def encode_request(body: Mapping[str, Any], upstream_model: str, *, stream: bool) -> Encoded:
    warnings = drop_warnings(PROVIDER, unsupported(body, (*_HANDLED, "parallel_tool_calls"),
                                                   PROVIDER))  # fmt: skip
    if body.get("parallel_tool_calls") is False:
        warnings.append("dropped parallel_tool_calls: Cohere cannot turn parallel calls off")
    out: dict[str, Any] = {"model": upstream_model, "messages": _messages(body["messages"])}
    out.update(generation_params(body, _RENAMED, max_tokens="max_tokens", stop="stop_sequences"))
    tools = list(body.get("tools") or ())
    choice = body.get("tool_choice")
    if isinstance(choice, dict):  # Cohere cannot name a tool: offer the named one alone
        wanted = (choice.get("function") or {}).get("name")
        tools = [t for t in tools if (t.get("function") or {}).get("name") == wanted]
        choice = "required"
    if tools:
        out["tools"] = [{"type": "function", "function": t.get("function")} for t in tools]
        if choice in ("required", "none"):
            out["tool_choice"] = str(choice).upper()
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        rf: dict[str, Any] = {"type": "json_object"}
        if fmt.get("type") == "json_schema":
            rf["json_schema"] = (fmt.get("json_schema") or {}).get("schema") or {}
        out["response_format"] = rf
    effort = body.get("reasoning_effort")
    if effort == "none":
        out["thinking"] = {"type": "disabled"}
    elif effort is not None:
        if effort not in THINKING_BUDGET:
            raise InvalidRequest(
                f"'reasoning_effort' must be one of none, {', '.join(THINKING_BUDGET)}.",
                param="reasoning_effort",
            )
        out["thinking"] = {"type": "enabled", "token_budget": THINKING_BUDGET[effort]}
    if stream:
        out["stream"] = True
    return Encoded(out, warnings)


def _messages(messages: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role, content = m["role"], m.get("content")
        if role in ("system", "developer"):
            out.append({"role": "system", "content": text_of(content)})
        elif role == "user":
            out.append({"role": "user", "content": _content(content, f"messages[{i}]")})
        elif role == "assistant":
            message: dict[str, Any] = {"role": "assistant"}
            if text_of(content):
                message["content"] = text_of(content)
            calls = [
                {"id": c.get("id"), "type": "function", "function": c.get("function")}
                for c in m.get("tool_calls") or ()
            ]
            if calls:
                message["tool_calls"] = calls
                if m.get("reasoning_content"):
                    message["tool_plan"] = m["reasoning_content"]
            out.append(message)
        else:
            text = content if isinstance(content, str) else text_of(content)
            out.append({"role": "tool", "tool_call_id": m.get("tool_call_id"), "content": text})
    return out


def _content(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content or ()):
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            spec = part.get("image_url")
            url = spec.get("url") if isinstance(spec, dict) else spec
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            raise InvalidRequest(
                f"Content parts of type {kind!r} cannot be sent to {PROVIDER} models.",
                param=f"{where}.content[{j}]",
            )
    return parts


def usage_from_cohere(data: Any) -> Usage | None:
    """Billed units are what Cohere charges; ``tokens`` (raw counts) when they are missing."""
    if not isinstance(data, dict):
        return None
    counts = data.get("billed_units") or data.get("tokens") or {}
    prompt = _int(counts.get("input_tokens"))
    cached = min(_int(data.get("cached_tokens")), prompt)
    return Usage(prompt, _int(counts.get("output_tokens")), cached)


def completion_from_cohere(data: Any) -> Completion:
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    message = data["message"]
    c = Completion(id=str(data.get("id") or ""), model="")
    for part in message.get("content") or ():
        if part.get("type") == "text":
            c.text += str(part.get("text") or "")
        elif part.get("type") == "thinking":
            c.reasoning += str(part.get("thinking") or "")
    if message.get("tool_plan") and not c.reasoning:
        c.reasoning = str(message["tool_plan"])
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {}
        c.tool_calls.append(
            ToolCall(str(call.get("id")), str(fn.get("name")), str(fn.get("arguments") or "{}"))
        )
    c.finish_reason = FINISH.get(str(data.get("finish_reason")), "stop")
    c.usage = usage_from_cohere(data.get("usage"))
    return c


class CohereStreamDecoder(JsonStreamDecoder):
    __slots__ = ("_calls",)
    DONE_MARKER = b"[DONE]"  # skipped: the stream's end is its message-end event

    def __init__(self) -> None:
        super().__init__()
        self._calls = 0

    def _object(self, obj: dict[str, Any], out: list[Event]) -> None:
        kind = obj.get("type")
        message = (obj.get("delta") or {}).get("message") or {}
        if kind == "content-delta":
            content = message.get("content") or {}
            if content.get("text"):
                out.append(TextDelta(str(content["text"])))
            if content.get("thinking"):
                out.append(ReasoningDelta(str(content["thinking"])))
        elif kind == "tool-call-delta":
            fn = (message.get("tool_calls") or {}).get("function") or {}
            if fn.get("arguments"):
                out.append(ToolArgsDelta(self._calls - 1, str(fn["arguments"])))
        elif kind == "tool-call-start":
            call = message.get("tool_calls") or {}
            fn = call.get("function") or {}
            out.append(ToolCallStart(self._calls, str(call.get("id")), str(fn.get("name"))))
            if fn.get("arguments"):
                out.append(ToolArgsDelta(self._calls, str(fn["arguments"])))
            self._calls += 1
        elif kind == "tool-plan-delta":
            if message.get("tool_plan"):
                out.append(ReasoningDelta(str(message["tool_plan"])))
        elif kind == "message-start":
            out.append(Started(str(obj.get("id") or ""), ""))
        elif kind == "message-end":
            self.done = True
            delta = obj.get("delta") or {}
            if delta.get("error") or delta.get("finish_reason") == "ERROR":
                out.append(StreamFailed(UpstreamError("The upstream stream failed.")))
                return
            out.append(Finished(FINISH.get(str(delta.get("finish_reason")), "stop")))
            usage = usage_from_cohere(delta.get("usage"))
            if usage is not None:
                out.append(UsageReport(usage))
