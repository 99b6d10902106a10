"""Anthropic Messages wire format: requests and whole answers, both directions (pure, no I/O).

Upstream direction: an OpenAI chat request becomes a Messages request, and a Message becomes
a neutral ``Completion``. Client direction (``/v1/messages``): a Messages request becomes the
gateway's OpenAI-format request, and a ``Completion`` becomes a Message. Shapes follow the
recordings in tests/fixtures/anthropic (system as a top-level field, content blocks,
``tool_use`` / ``tool_result``, thinking blocks with signatures, usage without cached tokens
in ``input_tokens``). Streams live in ``anthropic_stream``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from aigw.core.chat import Completion, ToolCall
from aigw.core.usage import Usage
from aigw.errors import GatewayError, InvalidRequest, UpstreamError
from aigw.formats.openai_translate import max_tokens_of, split_data_url, stop_list, text_of
from aigw.formats.params import Encoded, drop_warnings, unsupported

PROVIDER = "Anthropic"
DEFAULT_MAX_TOKENS = 4096
MIN_THINKING_BUDGET = 1024
EFFORT_BUDGET = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
_HANDLED = ("top_k", "parallel_tool_calls", "user")
_SAMPLING = ("temperature", "top_p", "top_k")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# --- OpenAI request -> Anthropic request ----------------------------------------------------


def encode_request(
    body: Mapping[str, Any], upstream_model: str, *, max_output: int | None, stream: bool
) -> Encoded:
    warnings = drop_warnings(PROVIDER, unsupported(body, _HANDLED, PROVIDER))
    system, messages = _messages(body["messages"])
    out: dict[str, Any] = {"model": upstream_model, "messages": messages}
    if system:
        out["system"] = system
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    forced = choice == "required" or isinstance(choice, dict)
    budget = _thinking_budget(body.get("reasoning_effort"))
    if budget and forced and tools:
        warnings.append("reasoning off: Anthropic models do not think when a tool is forced")
        budget = 0
    max_tokens = max_tokens_of(body)
    if budget:
        if max_tokens is not None and max_tokens <= MIN_THINKING_BUDGET:
            raise InvalidRequest(
                f"With 'reasoning_effort', Anthropic models need more than "
                f"{MIN_THINKING_BUDGET} output tokens; raise 'max_completion_tokens'.",
                param="max_completion_tokens",
            )
        if max_tokens is None:
            max_tokens = budget + DEFAULT_MAX_TOKENS
            if max_output:
                max_tokens = min(max_tokens, max_output)
        out["thinking"] = {
            "type": "enabled",
            "budget_tokens": max(MIN_THINKING_BUDGET, min(budget, max_tokens - 1)),
        }
        ignored = [name for name in _SAMPLING if body.get(name) is not None]
        if ignored:
            warnings.append(
                f"dropped {', '.join(ignored)}: Anthropic models take no sampling "
                "parameters while thinking"
            )
    else:
        for name in _SAMPLING:
            if body.get(name) is not None:
                out[name] = body[name]
    if max_tokens is None:
        max_tokens = min(DEFAULT_MAX_TOKENS, max_output or DEFAULT_MAX_TOKENS)
    out["max_tokens"] = max_tokens
    stops = stop_list(body)
    if stops:
        out["stop_sequences"] = stops
    if tools:
        out["tools"] = [_tool(t) for t in tools]
        tool_choice = _tool_choice(choice, body.get("parallel_tool_calls"))
        if tool_choice:
            out["tool_choice"] = tool_choice
    fmt = _output_format(body.get("response_format"))
    if fmt is not None:
        out["output_config"] = {"format": fmt}
    if isinstance(body.get("user"), str):
        out["metadata"] = {"user_id": body["user"]}
    if stream:
        out["stream"] = True
    return Encoded(out, warnings)


def _thinking_budget(effort: Any) -> int:
    if effort is None or effort == "none":
        return 0
    if effort not in EFFORT_BUDGET:
        raise InvalidRequest(
            f"'reasoning_effort' must be one of none, {', '.join(EFFORT_BUDGET)}.",
            param="reasoning_effort",
        )
    return EFFORT_BUDGET[effort]


def _messages(messages: list[Any]) -> tuple[str | list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role, content = m["role"], m.get("content")
        if role in ("system", "developer"):
            text = text_of(content)
            if text:
                system.append(text)
        elif role == "user":
            _append(out, "user", _blocks(content, f"messages[{i}]"))
        elif role == "assistant":
            _append(out, "assistant", _assistant_blocks(m, f"messages[{i}]"))
        else:  # tool / function results go back as a user turn
            result = {
                "type": "tool_result",
                "tool_use_id": str(m.get("tool_call_id") or m.get("name") or ""),
                "content": content if isinstance(content, str) else _blocks(content, f"{i}"),
            }
            _append(out, "user", [result])
    if len(system) == 1:
        return system[0], out
    return [{"type": "text", "text": s} for s in system], out


def _append(out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Anthropic wants alternating roles: consecutive turns of one role become one turn."""
    if not blocks:
        return
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": blocks})


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content or ()):
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": str(part["text"])})
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), f"{where}.content[{j}]"))
        elif kind == "file":
            blocks.append(_document(part.get("file"), f"{where}.content[{j}]"))
        else:
            raise InvalidRequest(
                f"Content parts of type {kind!r} cannot be sent to {PROVIDER} models.",
                param=f"{where}.content[{j}]",
            )
    return blocks


def _image(spec: Any, where: str) -> dict[str, Any]:
    url = spec.get("url") if isinstance(spec, dict) else spec
    if not isinstance(url, str) or not url:
        raise InvalidRequest("'image_url.url' is required.", param=where)
    data = split_data_url(url)
    if data is not None:
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": data[0], "data": data[1]},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _document(spec: Any, where: str) -> dict[str, Any]:
    data = split_data_url(str(spec.get("file_data") or "")) if isinstance(spec, dict) else None
    if data is None:
        raise InvalidRequest("Files must be sent inline as 'file.file_data'.", param=where)
    return {
        "type": "document",
        "source": {"type": "base64", "media_type": data[0], "data": data[1]},
    }


def _assistant_blocks(m: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    signature = m.get("reasoning_signature")
    if isinstance(signature, str) and signature:
        thinking = str(m.get("reasoning_content") or "")
        blocks.append({"type": "thinking", "thinking": thinking, "signature": signature})
    blocks += _blocks(m.get("content"), where)
    for k, call in enumerate(m.get("tool_calls") or ()):
        fn = call.get("function") or {}
        raw = fn.get("arguments") or "{}"
        try:
            args = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidRequest(
                "Tool call arguments must be a JSON object.",
                param=f"{where}.tool_calls[{k}].function.arguments",
            ) from None
        blocks.append(
            {
                "type": "tool_use",
                "id": str(call.get("id") or ""),
                "name": str(fn.get("name") or ""),
                "input": args if isinstance(args, dict) else {},
            }
        )
    return blocks


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") or {}
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    out: dict[str, Any] = {"name": fn.get("name"), "input_schema": schema}
    if fn.get("description"):
        out["description"] = fn["description"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice == "required":
        out = {"type": "any"}
    elif choice == "none":
        out = {"type": "none"}
    elif isinstance(choice, dict):
        out = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    elif choice == "auto" or parallel is False:
        out = {"type": "auto"}
    else:
        out = None
    if out is not None and parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _output_format(fmt: Any) -> dict[str, Any] | None:
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        return {"type": "json_schema", "schema": spec.get("schema") or {}}
    raise InvalidRequest(
        f"{PROVIDER} models take structured outputs only with a schema: use "
        "response_format type 'json_schema'.",
        param="response_format",
    )


# --- Anthropic Message -> neutral answer ----------------------------------------------------


def usage_from_anthropic(data: Any) -> Usage | None:
    """Anthropic's ``input_tokens`` leave out cache reads and writes; ours count every input."""
    if not isinstance(data, dict):
        return None
    cached = _int(data.get("cache_read_input_tokens"))
    prompt = _int(data.get("input_tokens")) + cached + _int(data.get("cache_creation_input_tokens"))
    completion = _int(data.get("output_tokens"))
    details = data.get("output_tokens_details")
    thinking = _int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    return Usage(prompt, completion, cached, min(thinking, completion))


def completion_from_anthropic(data: Any) -> Completion:
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    c = Completion(id=str(data.get("id") or ""), model=str(data.get("model") or ""))
    for block in data["content"]:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            c.text += str(block.get("text") or "")
        elif kind == "thinking":
            c.reasoning += str(block.get("thinking") or "")
            c.reasoning_signature = block.get("signature") or c.reasoning_signature
        elif kind == "tool_use":
            args = orjson.dumps(block.get("input") or {}).decode()
            c.tool_calls.append(ToolCall(str(block.get("id")), str(block.get("name")), args))
    c.finish_reason = STOP_TO_FINISH.get(str(data.get("stop_reason")), "stop")
    c.usage = usage_from_anthropic(data.get("usage"))
    return c


def error_fields(body: bytes) -> tuple[str | None, str | None]:
    """(error.type, error.details.error_code) of an Anthropic error body; never its message."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return None, None
    details = err.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    kind = err.get("type")
    return (kind if isinstance(kind, str) else None, code if isinstance(code, str) else None)


# --- client direction: Message for clients, client errors ---------------------------------

_CLIENT_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",  # a wrong method on a path of the API (server/middleware.py)
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
}


def error_body(err: GatewayError, request_id: str) -> dict[str, Any]:
    """Anthropic's error envelope for a gateway error (status stays the gateway's)."""
    kind = _CLIENT_ERROR_TYPES.get(err.status, "api_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": err.message},
        "request_id": request_id,
    }


def anthropic_usage(usage: Usage | None) -> dict[str, Any]:
    u = usage or Usage()
    out: dict[str, Any] = {
        "input_tokens": u.prompt_tokens - u.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached_tokens,
        "output_tokens": u.completion_tokens,
    }
    if u.reasoning_tokens:
        out["output_tokens_details"] = {"thinking_tokens": u.reasoning_tokens}
    return out


def message_id(raw: str) -> str:
    return raw if raw.startswith("msg_") else "msg_" + raw.removeprefix("chatcmpl-")


def completion_to_anthropic(c: Completion, model_id: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if c.reasoning or c.reasoning_signature:
        content.append(
            {"type": "thinking", "thinking": c.reasoning, "signature": c.reasoning_signature or ""}
        )
    if c.text:
        content.append({"type": "text", "text": c.text})
    for call in c.tool_calls:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError:
            args = {}
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": args})
    return {
        "id": message_id(c.id),
        "type": "message",
        "role": "assistant",
        "model": model_id,
        "content": content,
        "stop_reason": FINISH_TO_STOP.get(c.finish_reason, "end_turn"),
        "stop_sequence": None,
        "usage": anthropic_usage(c.usage),
    }
