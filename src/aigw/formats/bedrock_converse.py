"""AWS Bedrock Converse / ConverseStream wire format, both directions (pure, no I/O).

Requests: ``messages`` of ``user`` / ``assistant`` turns whose ``content`` is a list of
``text``, ``image`` (bytes, base64 in JSON), ``toolUse``, ``toolResult`` and
``reasoningContent`` blocks; ``system`` blocks; ``inferenceConfig``; ``toolConfig`` with
``toolSpec.inputSchema.json``; model-specific fields (Claude's thinking budget, ``top_k``) in
``additionalModelRequestFields``. Answers: ``output.message``, ``stopReason``, ``usage`` in
camelCase. Streams: event-stream messages named by ``:event-type`` (``messageStart``,
``contentBlockStart`` / ``Delta`` / ``Stop``, ``messageStop``, then ``metadata`` with usage),
or ``:message-type: exception`` for a failure inside the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from aigw.errors import GatewayError, InvalidRequest, UpstreamError, UpstreamSaturated
from aigw.formats.anthropic_messages import DEFAULT_MAX_TOKENS, EFFORT_BUDGET, MIN_THINKING_BUDGET
from aigw.formats.eventstream import EventStreamError, EventStreamParser
from aigw.formats.openai_translate import max_tokens_of, split_data_url, stop_list, text_of
from aigw.formats.params import Encoded, drop_warnings, unsupported

PROVIDER = "Bedrock"
CONTENT_TYPE = "application/vnd.amazon.eventstream"
STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
        "tool_use": "tool_calls", "guardrail_intervened": "content_filter",
        "content_filtered": "content_filter"}  # fmt: skip
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_SATURATED = ("throttlingException", "serviceUnavailableException", "modelNotReadyException")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def encode_request(body: Mapping[str, Any], *, max_output: int | None) -> Encoded:
    warnings = drop_warnings(PROVIDER, unsupported(body, ("top_k",), PROVIDER))
    if body.get("response_format") not in (None, {"type": "text"}):
        raise InvalidRequest(
            "Bedrock Converse has no JSON-schema output for every model; use a tool with the "
            "schema as its parameters instead.",
            param="response_format",
        )
    system, messages = _messages(body["messages"])
    out: dict[str, Any] = {"messages": messages}
    if system:
        out["system"] = [{"text": s} for s in system]
    config: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    max_tokens = max_tokens_of(body)
    effort = body.get("reasoning_effort")
    if effort not in (None, "none"):
        if effort not in EFFORT_BUDGET:
            raise InvalidRequest(
                "'reasoning_effort' is not a known level.", param="reasoning_effort"
            )
        budget = EFFORT_BUDGET[str(effort)]
        if max_tokens is None:
            max_tokens = min(budget + DEFAULT_MAX_TOKENS, max_output or budget + DEFAULT_MAX_TOKENS)
        budget = max(MIN_THINKING_BUDGET, min(budget, max_tokens - 1))
        extra["thinking"] = {"type": "enabled", "budget_tokens": budget}
    else:
        if body.get("temperature") is not None:
            config["temperature"] = body["temperature"]
        if body.get("top_p") is not None:
            config["topP"] = body["top_p"]
        if body.get("top_k") is not None:
            extra["top_k"] = body["top_k"]
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    stops = stop_list(body)
    if stops:
        config["stopSequences"] = stops
    if config:
        out["inferenceConfig"] = config
    if extra:
        out["additionalModelRequestFields"] = extra
    tools = body.get("tools") or []
    if tools:
        out["toolConfig"] = _tool_config(tools, body.get("tool_choice"), warnings)
    return Encoded(out, warnings)


def _tool_config(tools: list[Any], choice: Any, warnings: list[str]) -> dict[str, Any]:
    specs = []
    for t in tools:
        fn = t.get("function") or {}
        schema = fn.get("parameters") or {"type": "object"}
        spec: dict[str, Any] = {"name": fn.get("name"), "inputSchema": {"json": schema}}
        if fn.get("description"):
            spec["description"] = fn["description"]
        specs.append({"toolSpec": spec})
    config: dict[str, Any] = {"tools": specs}
    if choice == "required":
        config["toolChoice"] = {"any": {}}
    elif choice == "auto":
        config["toolChoice"] = {"auto": {}}
    elif isinstance(choice, dict):
        config["toolChoice"] = {"tool": {"name": (choice.get("function") or {}).get("name")}}
    elif choice == "none":
        warnings.append("dropped tool_choice 'none': Bedrock Converse cannot turn tools off")
    return config


def _messages(messages: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role, content = m["role"], m.get("content")
        if role in ("system", "developer"):
            if text_of(content):
                system.append(text_of(content))
        elif role == "user":
            _append(out, "user", _blocks(content, f"messages[{i}]"))
        elif role == "assistant":
            _append(out, "assistant", _assistant(m))
        else:
            text = content if isinstance(content, str) else text_of(content)
            result = {"toolUseId": m.get("tool_call_id"), "content": [{"text": text or " "}]}
            _append(out, "user", [{"toolResult": result}])
    return system, out


def _append(out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if not blocks:
        return
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": blocks})


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content or ()):
        kind = part.get("type")
        if kind == "text" and part.get("text"):
            blocks.append({"text": str(part["text"])})
        elif kind == "image_url":
            spec = part.get("image_url")
            url = spec.get("url") if isinstance(spec, dict) else spec
            data = split_data_url(str(url or ""))
            if data is None or data[0] not in _FORMATS:
                raise InvalidRequest(
                    "Bedrock takes images only inline (data: URLs of PNG, JPEG, GIF or WebP); "
                    "the gateway does not fetch image URLs.",
                    param=f"{where}.content[{j}]",
                )
            blocks.append({"image": {"format": _FORMATS[data[0]], "source": {"bytes": data[1]}}})
        elif kind != "text":
            raise InvalidRequest(
                f"Content parts of type {kind!r} cannot be sent to {PROVIDER} models.",
                param=f"{where}.content[{j}]",
            )
    return blocks


def _assistant(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if m.get("reasoning_signature"):
        text = {
            "text": str(m.get("reasoning_content") or ""),
            "signature": m["reasoning_signature"],
        }
        blocks.append({"reasoningContent": {"reasoningText": text}})
    blocks += _blocks(m.get("content"), "messages")
    for call in m.get("tool_calls") or ():
        fn = call.get("function") or {}
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise InvalidRequest("Tool call arguments must be a JSON object.",
                                 param="messages") from None  # fmt: skip
        blocks.append({"toolUse": {"toolUseId": call.get("id"), "name": fn.get("name"),
                                   "input": args}})  # fmt: skip
    return blocks


def usage_from_bedrock(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    cached = _int(data.get("cacheReadInputTokens"))
    prompt = _int(data.get("inputTokens")) + cached + _int(data.get("cacheWriteInputTokens"))
    return Usage(prompt, _int(data.get("outputTokens")), cached)


def completion_from_bedrock(data: Any) -> Completion:
    message = ((data or {}).get("output") or {}).get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    c = Completion(id="", model="")
    for block in message.get("content") or ():
        if "text" in block:
            c.text += str(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            args = orjson.dumps(use.get("input") or {}).decode()
            c.tool_calls.append(ToolCall(str(use.get("toolUseId")), str(use.get("name")), args))
        elif "reasoningContent" in block:
            text = block["reasoningContent"].get("reasoningText") or {}
            c.reasoning += str(text.get("text") or "")
            c.reasoning_signature = text.get("signature") or c.reasoning_signature
    c.finish_reason = STOP.get(str(data.get("stopReason")), "stop")
    c.usage = usage_from_bedrock(data.get("usage"))
    return c


def stream_error(kind: str | None) -> GatewayError:
    if kind in _SATURATED:
        return UpstreamSaturated("The upstream provider is overloaded; retry later.")
    return UpstreamError("The upstream provider failed in the middle of the answer.")


class BedrockStreamDecoder:
    """A ConverseStream event stream as neutral events."""

    __slots__ = ("_parser", "_tools", "_no_args", "done")

    def __init__(self) -> None:
        self._parser = EventStreamParser()
        self._tools: dict[int, int] = {}  # content block index -> tool ordinal
        self._no_args: set[int] = set()
        self.done = False

    def feed(self, chunk: bytes) -> list[Event]:
        try:
            messages = self._parser.feed(chunk)
        except EventStreamError:
            return [StreamFailed(UpstreamError("The upstream sent a damaged event."))]
        out: list[Event] = []
        for headers, payload in messages:
            if headers.get(":message-type") != "event":
                out.append(StreamFailed(stream_error(headers.get(":exception-type"))))
                continue
            try:
                data = orjson.loads(payload or b"{}")
            except orjson.JSONDecodeError:
                out.append(StreamFailed(UpstreamError("The upstream sent a malformed event.")))
                continue
            self._event(headers.get(":event-type"), data, out)
        return out

    def finish(self) -> list[Event]:
        return []

    def _event(self, kind: str | None, data: dict[str, Any], out: list[Event]) -> None:
        index = int(data.get("contentBlockIndex", 0))
        if kind == "contentBlockDelta":
            delta = data.get("delta") or {}
            if "text" in delta:
                out.append(TextDelta(str(delta["text"])))
            elif "toolUse" in delta and index in self._tools:
                fragment = str(delta["toolUse"].get("input") or "")
                if fragment:
                    self._no_args.discard(self._tools[index])
                    out.append(ToolArgsDelta(self._tools[index], fragment))
            elif "reasoningContent" in delta:
                reasoning = delta["reasoningContent"]
                if reasoning.get("text"):
                    out.append(ReasoningDelta(str(reasoning["text"])))
                if reasoning.get("signature"):
                    out.append(ReasoningSignature(str(reasoning["signature"])))
        elif kind == "contentBlockStart":
            use = (data.get("start") or {}).get("toolUse")
            if isinstance(use, dict):
                ordinal = len(self._tools)
                self._tools[index] = ordinal
                self._no_args.add(ordinal)
                out.append(ToolCallStart(ordinal, str(use.get("toolUseId")), str(use.get("name"))))
        elif kind == "contentBlockStop":
            tool = self._tools.get(index)
            if tool is not None and tool in self._no_args:
                self._no_args.discard(tool)
                out.append(ToolArgsDelta(tool, "{}"))
        elif kind == "messageStart":
            out.append(Started("", ""))
        elif kind == "messageStop":
            out.append(Finished(STOP.get(str(data.get("stopReason")), "stop")))
        elif kind == "metadata":
            self.done = True
            usage = usage_from_bedrock(data.get("usage"))
            if usage is not None:
                out.append(UsageReport(usage))


def error_type(headers: Mapping[str, str], body: bytes) -> str | None:
    """The exception name of a Bedrock error: ``x-amzn-ErrorType`` or the body's ``__type``."""
    raw = headers.get("x-amzn-ErrorType") or headers.get("X-Amzn-ErrorType")
    if not raw:
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        raw = data.get("__type") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        return None
    return raw.split(":", 1)[0].rsplit("#", 1)[-1]
