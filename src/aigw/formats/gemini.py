"""Gemini ``generateContent`` / ``streamGenerateContent?alt=sse`` wire format (pure, no I/O).

Shapes follow tests/fixtures/gemini: ``contents`` with ``user`` / ``model`` roles and
``parts``, ``systemInstruction``, ``generationConfig``, ``toolConfig.functionCallingConfig``,
``functionDeclarations[].parameters_json_schema``; answers with camelCase ``usageMetadata``
whose ``candidatesTokenCount`` leaves out ``thoughtsTokenCount``; function calls that arrive
whole and without an id, a ``thoughtSignature`` beside the part it signs (only the first of
parallel calls carries one); SSE frames ending in CRLF, where every chunk repeats a
cumulative ``usageMetadata`` (the last one wins) and the stream just closes after the chunk
carrying ``finishReason``; errors in the google.rpc envelope.
"""

from __future__ import annotations

import math
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
from aigw.formats.openai_translate import (
    generation_params,
    split_data_url,
    text_of,
    tool_call_signature,
)
from aigw.formats.params import Encoded, drop_warnings, unsupported
from aigw.formats.stream_decoder import JsonStreamDecoder

PROVIDER = "Gemini"
THINKING_BUDGET = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576,
                   "xhigh": 32768, "max": 32768}  # fmt: skip
FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
          "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
          "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
          "IMAGE_SAFETY": "content_filter"}  # fmt: skip
_HANDLED = ("top_k", "seed", "presence_penalty", "frequency_penalty")
_CONFIG = {"temperature": "temperature", "top_p": "topP", "top_k": "topK", "seed": "seed",
           "presence_penalty": "presencePenalty",
           "frequency_penalty": "frequencyPenalty"}  # fmt: skip
_MIME = {"png": "image/png", "gif": "image/gif", "webp": "image/webp", "pdf": "application/pdf"}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# --- OpenAI request -> Gemini request -------------------------------------------------------


def encode_request(body: Mapping[str, Any]) -> Encoded:
    warnings = drop_warnings(PROVIDER, unsupported(body, (*_HANDLED, "parallel_tool_calls"),
                                                   PROVIDER))  # fmt: skip
    if body.get("parallel_tool_calls") is False:
        warnings.append("dropped parallel_tool_calls: Gemini cannot turn parallel calls off")
    system, contents = _contents(body["messages"])
    out: dict[str, Any] = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": [{"text": system}]}
    config = generation_params(body, _CONFIG, max_tokens="maxOutputTokens", stop="stopSequences")
    _response_format(body.get("response_format"), config)
    effort = body.get("reasoning_effort")
    if effort == "none":
        config["thinkingConfig"] = {"thinkingBudget": 0}
    elif effort is not None:
        if effort not in THINKING_BUDGET:
            raise InvalidRequest(
                f"'reasoning_effort' must be one of none, {', '.join(THINKING_BUDGET)}.",
                param="reasoning_effort",
            )
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGET[effort],
                                    "includeThoughts": True}  # fmt: skip
    if config:
        out["generationConfig"] = config
    tools = body.get("tools") or []
    if tools:
        out["tools"] = [{"functionDeclarations": [_declaration(t) for t in tools]}]
        tool_config = _tool_config(body.get("tool_choice"))
        if tool_config:
            out["toolConfig"] = {"functionCallingConfig": tool_config}
    return Encoded(out, warnings)


def _response_format(fmt: Any, config: dict[str, Any]) -> None:
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return
    config["responseMimeType"] = "application/json"
    if fmt.get("type") == "json_schema":
        config["responseJsonSchema"] = (fmt.get("json_schema") or {}).get("schema") or {}


def _declaration(tool: Mapping[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") or {}
    out: dict[str, Any] = {"name": fn.get("name"), "description": fn.get("description") or ""}
    if fn.get("parameters"):
        out["parameters_json_schema"] = fn["parameters"]
    return out


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if choice == "auto":
        return {"mode": "AUTO"}
    if choice == "none":
        return {"mode": "NONE"}
    if choice == "required":
        return {"mode": "ANY"}
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return {"mode": "ANY", "allowedFunctionNames": [name]}
    return None


def _contents(messages: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id -> function name (a result names its function)
    for i, m in enumerate(messages):
        role, content = m["role"], m.get("content")
        if role in ("system", "developer"):
            if text_of(content):
                system.append(text_of(content))
        elif role == "user":
            _append(out, "user", _parts(content, f"messages[{i}]"))
        elif role == "assistant":
            _append(out, "model", _model_parts(m, names))
        else:
            name = names.get(str(m.get("tool_call_id")), str(m.get("name") or ""))
            text = content if isinstance(content, str) else text_of(content)
            response = {"functionResponse": {"name": name, "response": {"result": text}}}
            _append(out, "user", [response])
    return "\n\n".join(system), out


def _append(out: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    if not parts:
        return
    if out and out[-1]["role"] == role:
        out[-1]["parts"].extend(parts)
    else:
        out.append({"parts": parts, "role": role})


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content or ()):
        kind = part.get("type")
        if kind == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif kind in ("image_url", "file"):
            spec = part.get("image_url") if kind == "image_url" else part.get("file")
            url = (spec.get("url") or spec.get("file_data")) if isinstance(spec, dict) else spec
            parts.append(_media(str(url or "")))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            mime = f"audio/{audio.get('format') or 'wav'}"
            parts.append({"inlineData": {"mimeType": mime, "data": audio.get("data")}})
        else:
            raise InvalidRequest(
                f"Content parts of type {kind!r} cannot be sent to {PROVIDER} models.",
                param=f"{where}.content[{j}]",
            )
    return parts


def _media(url: str) -> dict[str, Any]:
    data = split_data_url(url)
    if data is not None:
        return {"inlineData": {"mimeType": data[0], "data": data[1]}}
    extension = url.rsplit(".", 1)[-1].lower()
    return {"fileData": {"mimeType": _MIME.get(extension, "image/jpeg"), "fileUri": url}}


def _model_parts(m: Mapping[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    text = text_of(m.get("content"))
    signature = m.get("reasoning_signature")
    if text:
        part: dict[str, Any] = {"text": text}
        if signature and not m.get("tool_calls"):
            part["thoughtSignature"] = signature
        parts.append(part)
    for call in m.get("tool_calls") or ():
        fn = call.get("function") or {}
        names[str(call.get("id"))] = str(fn.get("name"))
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise InvalidRequest("Tool call arguments must be a JSON object.",
                                 param="messages") from None  # fmt: skip
        part = {"functionCall": {"name": fn.get("name"), "args": args}}
        sig = tool_call_signature(call)
        if sig:
            part["thoughtSignature"] = sig
        parts.append(part)
    return parts


# --- Gemini answer -> neutral answer ---------------------------------------------------------


def usage_from_gemini(data: Any) -> Usage | None:
    """``candidatesTokenCount`` leaves out thoughts; ours counts every output token."""
    if not isinstance(data, dict):
        return None
    prompt = _int(data.get("promptTokenCount")) + _int(data.get("toolUsePromptTokenCount"))
    thoughts = _int(data.get("thoughtsTokenCount"))
    completion = _int(data.get("candidatesTokenCount")) + thoughts
    cached = min(_int(data.get("cachedContentTokenCount")), prompt)
    return Usage(prompt, completion, cached, thoughts)


def _finish(reason: Any, has_calls: bool) -> str:
    if reason == "STOP" and has_calls:
        return "tool_calls"
    return FINISH.get(str(reason), "stop")


def _call_id(response_id: str, k: int, part: Mapping[str, Any]) -> str:
    given = part.get("id")
    return str(given) if given else f"call_{response_id[:12]}_{k}"


def completion_from_gemini(data: Any) -> Completion:
    if not isinstance(data, dict):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    c = Completion(id=str(data.get("responseId") or ""), model=str(data.get("modelVersion") or ""))
    candidates = data.get("candidates") or []
    candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    for part in (candidate.get("content") or {}).get("parts") or ():
        call = part.get("functionCall")
        if isinstance(call, dict):
            args = orjson.dumps(call.get("args") or {}).decode()
            call_id = _call_id(c.id, len(c.tool_calls), call)
            c.tool_calls.append(
                ToolCall(call_id, str(call.get("name")), args, part.get("thoughtSignature"))
            )
        elif part.get("thought"):
            c.reasoning += str(part.get("text") or "")
        elif "text" in part:
            c.text += str(part.get("text") or "")
            c.reasoning_signature = part.get("thoughtSignature") or c.reasoning_signature
    blocked = not candidates and (data.get("promptFeedback") or {}).get("blockReason")
    c.finish_reason = (
        "content_filter" if blocked else _finish(candidate.get("finishReason"), bool(c.tool_calls))
    )
    c.usage = usage_from_gemini(data.get("usageMetadata"))
    return c


class GeminiStreamDecoder(JsonStreamDecoder):
    """A ``streamGenerateContent?alt=sse`` stream as neutral events."""

    __slots__ = ("_started", "_calls", "_usage")

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._calls = 0
        self._usage: Any = None

    def _object(self, obj: dict[str, Any], out: list[Event]) -> None:
        if isinstance(obj.get("error"), dict):
            out.append(StreamFailed(stream_error(obj["error"].get("status"))))
            return
        if not self._started:
            self._started = True
            out.append(
                Started(str(obj.get("responseId") or ""), str(obj.get("modelVersion") or ""))
            )
        if obj.get("usageMetadata") is not None:
            self._usage = obj["usageMetadata"]  # cumulative: the last one is the total
        candidates = obj.get("candidates") or []
        candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
        for part in (candidate.get("content") or {}).get("parts") or ():
            call = part.get("functionCall")
            if isinstance(call, dict):
                call_id = _call_id(str(obj.get("responseId") or ""), self._calls, call)
                sig = part.get("thoughtSignature")
                out.append(ToolCallStart(self._calls, call_id, str(call.get("name")), sig))
                out.append(
                    ToolArgsDelta(self._calls, orjson.dumps(call.get("args") or {}).decode())
                )
                self._calls += 1
            elif part.get("thought"):
                if part.get("text"):
                    out.append(ReasoningDelta(str(part["text"])))
            else:
                if part.get("text"):
                    out.append(TextDelta(str(part["text"])))
                if part.get("thoughtSignature"):
                    out.append(ReasoningSignature(str(part["thoughtSignature"])))
        blocked = not candidates and (obj.get("promptFeedback") or {}).get("blockReason")
        reason = candidate.get("finishReason")
        if reason or blocked:
            self.done = True
            out.append(Finished("content_filter" if blocked else _finish(reason, self._calls > 0)))
            usage = usage_from_gemini(self._usage)
            if usage is not None:
                out.append(UsageReport(usage))


# --- errors ----------------------------------------------------------------------------------


def stream_error(status: Any) -> GatewayError:
    if status in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        return UpstreamSaturated("The upstream provider is overloaded; retry later.")
    return UpstreamError("The upstream provider failed in the middle of the answer.")


def error_fields(body: bytes) -> tuple[str | None, int | None, list[str], list[str]]:
    """(status, RetryInfo delay in whole seconds, QuotaFailure quota ids, ErrorInfo reasons)."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, [], []
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        err = data[0].get("error")
    if not isinstance(err, dict):
        return None, None, [], []
    delay: int | None = None
    quotas: list[str] = []
    reasons: list[str] = []
    for detail in err.get("details") or ():
        kind = str(detail.get("@type", "")) if isinstance(detail, dict) else ""
        if kind.endswith("RetryInfo"):
            raw = str(detail.get("retryDelay") or "").removesuffix("s")
            try:
                delay = max(1, math.ceil(float(raw)))
            except ValueError:
                delay = None
        elif kind.endswith("QuotaFailure"):
            quotas += [str(v.get("quotaId", "")) for v in detail.get("violations") or ()]
        elif kind.endswith("ErrorInfo"):
            reasons.append(str(detail.get("reason", "")))
    status = err.get("status")
    return (status if isinstance(status, str) else None), delay, quotas, reasons
