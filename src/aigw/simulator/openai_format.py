"""OpenAI Chat Completions wire format: parse requests, render answers, errors and streams.

Byte layout follows recorded OpenAI traffic (see tests/fixtures/openai): compact JSON, chunk
keys in OpenAI's order, ``data: <json>\\n\\n`` frames, ``[DONE]``. A Gemini or Anthropic module
would offer the same four functions over the same ``SimRequest``/``Answer``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from aigw.simulator.answer import Answer, Choice, SimRequest, ToolCall, ToolSpec
from aigw.simulator.content import count_tokens, seed_of
from aigw.simulator.faults import ErrorReply
from aigw.simulator.wordbank import NOUNS

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_IMAGE_TOKENS = 85
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ids = random.Random()
DONE = b"data: [DONE]\n\n"


class RequestError(ValueError):
    """A request OpenAI would reject with 400 invalid_request_error."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.reply = ErrorReply(400, "invalid_request_error", message, code=code, param=param)


def error_body(reply: ErrorReply) -> bytes:
    """OpenAI's error envelope, pretty-printed with 4 spaces as the API does."""
    error = {"message": reply.message, "type": reply.type, "param": reply.param, "code": reply.code}
    return json.dumps({"error": error}, indent=4).encode() + b"\n"


def models_body(models: tuple[str, ...], created: int) -> bytes:
    data = [
        {"id": m, "object": "model", "created": created, "owned_by": "aigw-sim"} for m in models
    ]
    return orjson.dumps({"object": "list", "data": data})


def _text_of(content: Any) -> tuple[str, int]:
    """Text of a message's content and the extra tokens its images/audio/files cost."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise RequestError("Invalid type for message content.", "messages")
    texts: list[str] = []
    extra = 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text", "refusal"):
            texts.append(str(part.get("text", part.get("refusal", ""))))
        elif kind in ("image_url", "input_image", "input_audio", "file"):
            extra += _IMAGE_TOKENS
        else:
            raise RequestError(f"Invalid content part type: {kind!r}.", "messages")
    return "\n".join(texts), extra


def parse_request(body: Any) -> SimRequest:
    """Validate a chat completion request roughly as OpenAI does; RequestError on 400 cases."""
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.")
    messages = body.get("messages")
    if messages is None:
        raise RequestError("Missing required parameter: 'messages'.", "messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages",
            "empty_array",
        )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("you must provide a model parameter")
    texts: list[str] = []
    prompt_tokens = 3
    last_role, last_user = "", ""
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in _ROLES:
            raise RequestError(f"Invalid value: {role!r}.", f"messages[{i}].role", "invalid_value")
        text, extra = _text_of(msg.get("content"))
        for call in msg.get("tool_calls") or ():
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            text += f"\n{fn.get('name', '')}({fn.get('arguments', '')})"
        prompt_tokens += count_tokens(text) + extra + 4
        texts.append(f"{role}: {text}")
        last_role = role
        if role == "user":
            last_user = text
    tools = _parse_tools(body.get("tools"))
    if tools:
        prompt_tokens += count_tokens(orjson.dumps(body["tools"]).decode())
    tool_choice, forced = _parse_tool_choice(body.get("tool_choice"), tools)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None and not stream:
        raise RequestError(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    json_mode, json_schema = _parse_response_format(body.get("response_format"))
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str | list):
        raise RequestError("Invalid type for 'stop': expected a string or an array.", "stop")
    effort = body.get("reasoning_effort")
    tier = body.get("service_tier")
    return SimRequest(
        model=model,
        prompt_text="\n".join(texts),
        last_user_text=last_user,
        last_role=last_role,
        prompt_tokens=prompt_tokens,
        n=_int_param(body, "n", 1, 1, 128) or 1,
        max_tokens=_int_param(body, "max_completion_tokens", None, 1, None)
        or _int_param(body, "max_tokens", None, 1, None),
        stop=(stop,) if isinstance(stop, str) else tuple(str(s) for s in stop or () if s),
        seed=body.get("seed") if isinstance(body.get("seed"), int) else None,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        json_mode=json_mode,
        json_schema=json_schema,
        reasoning_effort=effort if isinstance(effort, str) else None,
        logprobs=body.get("logprobs") is True,
        top_logprobs=_int_param(body, "top_logprobs", 0, 0, 20) or 0,
        stream=stream,
        include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
        service_tier=tier if tier in ("flex", "priority", "scale") else "default",
    )


def _int_param(
    body: dict[str, Any], name: str, default: int | None, lo: int, hi: int | None
) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi and value > hi):
        bound = f" and at most {hi}" if hi else ""
        raise RequestError(
            f"Invalid '{name}': expected an integer of at least {lo}{bound}.", name, "invalid_value"
        )
    return value


def _parse_tools(tools: Any) -> tuple[ToolSpec, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise RequestError("Invalid type for 'tools': expected an array.", "tools")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise RequestError(
                f"Missing required parameter: 'tools[{i}].function.name'.",
                f"tools[{i}].function.name",
                "missing_required_parameter",
            )
        params = fn.get("parameters")
        specs.append(
            ToolSpec(
                fn["name"], params if isinstance(params, dict) else {}, fn.get("description", "")
            )
        )
    return tuple(specs)


def _parse_tool_choice(choice: Any, tools: tuple[ToolSpec, ...]) -> tuple[str, str | None]:
    if choice is None:
        return "auto", None
    if not tools:
        raise RequestError(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
        )
    if choice in ("none", "auto", "required"):
        return str(choice), None
    name = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(name, str) or name not in {t.name for t in tools}:
        raise RequestError("Invalid value for 'tool_choice'.", "tool_choice", "invalid_value")
    return "required", name


def _parse_response_format(fmt: Any) -> tuple[bool, dict[str, Any] | None]:
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return False, None
    if fmt.get("type") == "json_object":
        return True, None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise RequestError(
                "Missing required parameter: 'response_format.json_schema'.",
                "response_format.json_schema",
            )
        return True, schema
    raise RequestError("Invalid value for 'response_format.type'.", "response_format.type")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The per-response constants every body or chunk repeats."""

    id: str
    created: int
    model: str
    service_tier: str
    fingerprint: str

    @classmethod
    def new(cls, req: SimRequest) -> Envelope:
        rand = "".join(_ids.choices(_ALNUM, k=29))
        fingerprint = f"fp_{seed_of(req.model) & 0xFFFFFFFFFF:010x}"
        return cls("chatcmpl-" + rand, int(time.time()), req.model, req.service_tier, fingerprint)


def usage(answer: Answer, style: str = "openai") -> dict[str, Any]:
    """OpenAI usage; completion_tokens includes reasoning (reasoning_tokens says how many)."""
    out: dict[str, Any] = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    if style == "deepseek":
        out["prompt_cache_hit_tokens"] = 0
        out["prompt_cache_miss_tokens"] = answer.prompt_tokens
    return out


def _tool_json(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _logprob(token: str, top: int) -> dict[str, Any]:
    value = -0.0123 - 0.21 * (len(token) % 5)
    alternatives = [
        {"token": w, "logprob": value - 1.5 * (i + 1), "bytes": list(w.encode())}
        for i, w in enumerate(NOUNS[: max(0, top - 1)])
    ]
    entry = {"token": token, "logprob": value, "bytes": list(token.encode())}
    return {**entry, "top_logprobs": [entry, *alternatives] if top else []}


def _choice_logprobs(choice: Choice, req: SimRequest) -> dict[str, Any] | None:
    if not req.logprobs:
        return None
    return {"content": [_logprob(t, req.top_logprobs) for t in choice.content], "refusal": None}


def completion_body(answer: Answer, req: SimRequest, env: Envelope, style: str) -> bytes:
    """A non-streaming ``chat.completion`` body."""
    choices = []
    for choice in answer.choices:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if choice.tool_calls else choice.content_text,
        }
        if choice.reasoning:
            message["reasoning_content"] = choice.reasoning_text
        if choice.tool_calls:
            message["tool_calls"] = [_tool_json(c) for c in choice.tool_calls]
        message["refusal"] = None
        message["annotations"] = []
        choices.append(
            {
                "index": choice.index,
                "message": message,
                "logprobs": _choice_logprobs(choice, req),
                "finish_reason": choice.finish_reason,
            }
        )
    return orjson.dumps(
        {
            "id": env.id,
            "object": "chat.completion",
            "created": env.created,
            "model": env.model,
            "choices": choices,
            "usage": usage(answer, style),
            "service_tier": env.service_tier,
            "system_fingerprint": env.fingerprint,
        }
    )


def stream_frames(
    answer: Answer, req: SimRequest, env: Envelope, style: str
) -> list[tuple[bytes, int]]:
    """Every SSE frame of the stream, with how many tokens each carries (for pacing)."""
    head = orjson.dumps(
        {
            "id": env.id,
            "object": "chat.completion.chunk",
            "created": env.created,
            "model": env.model,
            "service_tier": env.service_tier,
            "system_fingerprint": env.fingerprint,
        }
    )
    prefix = b"data: " + head[:-1] + b',"choices":['
    with_usage = req.include_usage or style == "deepseek"
    suffix = b'],"usage":null}\n\n' if with_usage else b"]}\n\n"

    def frame(index: int, delta: dict[str, Any], logprobs: Any = None, finish: Any = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return prefix + orjson.dumps(choice) + suffix

    per_choice = [list(_choice_frames(c, req, frame)) for c in answer.choices]
    frames: list[tuple[bytes, int]] = []
    for position in range(max(len(f) for f in per_choice)):
        frames += [f[position] for f in per_choice if position < len(f)]
    for choice in answer.choices:
        frames.append((frame(choice.index, {}, None, choice.finish_reason), 0))
    if style == "deepseek":
        body, _ = frames.pop()
        tail = b',"usage":' + orjson.dumps(usage(answer, style)) + b"}\n\n"
        frames.append((body[: -len(b',"usage":null}\n\n')] + tail, 0))
    elif req.include_usage:
        final = {**orjson.loads(head), "choices": [], "usage": usage(answer, style)}
        frames.append((b"data: " + orjson.dumps(final) + b"\n\n", 0))
    frames.append((DONE, 0))
    return frames


def _choice_frames(choice: Choice, req: SimRequest, frame: Any) -> Iterator[tuple[bytes, int]]:
    i = choice.index
    calls = choice.tool_calls
    first: dict[str, Any] = {"role": "assistant", "content": None if calls else ""}
    pending = list(enumerate(calls))
    if calls and not choice.reasoning:
        k, call = pending.pop(0)
        first["tool_calls"] = [_tool_header(k, call)]
    first["refusal"] = None
    yield frame(i, first), 0
    for piece in choice.reasoning:
        yield frame(i, {"reasoning_content": piece}), 1
    for piece in choice.content:
        logprobs = None
        if req.logprobs:
            logprobs = {"content": [_logprob(piece, req.top_logprobs)], "refusal": None}
        yield frame(i, {"content": piece}, logprobs), 1
    done_headers = {k for k, _ in enumerate(calls)} - {k for k, _ in pending}
    for k, call in enumerate(calls):
        if k not in done_headers:
            yield frame(i, {"tool_calls": [_tool_header(k, call)]}), 1
        for fragment in call.fragments:
            delta = {"tool_calls": [{"index": k, "function": {"arguments": fragment}}]}
            yield frame(i, delta), count_tokens(fragment)


def _tool_header(index: int, call: ToolCall) -> dict[str, Any]:
    return {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
