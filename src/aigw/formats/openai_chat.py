"""OpenAI chat-completions wire format: request checks and usage (pure, no I/O).

The gateway forwards OpenAI-format requests to OpenAI-compatible upstreams almost untouched,
so this module only checks what the gateway itself relies on and the types of the common
parameters (so a client gets a 400 naming the field rather than an upstream's opaque error),
and normalises the many dialects of ``usage`` into :class:`aigw.core.usage.Usage`.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigw.core.usage import Usage
from aigw.errors import InvalidRequest

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})

# Gateway-level request fields that are never sent upstream.
GATEWAY_FIELDS = ("routing", "baseline_model", "x-routing", "provider_key_id", "cache")

_NUMBER = (int, float)
# field -> (accepted python types, human name)
_PARAM_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "temperature": (_NUMBER, "a number"),
    "top_p": (_NUMBER, "a number"),
    "frequency_penalty": (_NUMBER, "a number"),
    "presence_penalty": (_NUMBER, "a number"),
    "max_tokens": ((int,), "an integer"),
    "max_completion_tokens": ((int,), "an integer"),
    "n": ((int,), "an integer"),
    "seed": ((int,), "an integer"),
    "top_logprobs": ((int,), "an integer"),
    "logprobs": ((bool,), "a boolean"),
    "stream": ((bool,), "a boolean"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "stream_options": ((dict,), "an object"),
    "response_format": ((dict,), "an object"),
    "tools": ((list,), "an array"),
    "tool_choice": ((str, dict), "a string or an object"),
    "stop": ((str, list), "a string or an array of strings"),
    "user": ((str,), "a string"),
    "reasoning_effort": ((str,), "a string"),
    "metadata": ((dict,), "an object"),
    "logit_bias": ((dict,), "an object"),
}
_PARAM_RANK = {name: rank for rank, name in enumerate(_PARAM_TYPES)}
_NON_NEGATIVE = ("max_tokens", "max_completion_tokens", "top_logprobs")


def parse_request(raw: bytes) -> dict[str, Any]:
    """Decode and check a chat-completions body; errors name the offending field."""
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.", param="body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc.msg}.", param="body") from None
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    check_request(body)
    return body


def check_request(body: dict[str, Any]) -> None:
    model = body.get("model")
    if model is None:  # the reference API: no model at all means the auto-router
        body["model"] = model = "auto"
    if (not isinstance(model, str) or not model) and not isinstance(model, list):
        # A list is tried in order (cross-model fallback); routing/spec.py checks its items.
        raise InvalidRequest("'model' must be a non-empty string.", param="model")
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequest("'messages' is required.", param="messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    for i, message in enumerate(messages):
        _check_message(i, message)
    # Only the known parameters the body has (a few of them, usually); when several are wrong,
    # the first in _PARAM_TYPES order is named.
    wrong: str | None = None
    for name in body.keys() & _PARAM_TYPES.keys():
        value = body[name]
        if value is None:
            continue
        types = _PARAM_TYPES[name][0]
        # bool is an int subclass: only accept it where a boolean is wanted.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            if wrong is None or _PARAM_RANK[name] < _PARAM_RANK[wrong]:
                wrong = name
    if wrong is not None:
        raise InvalidRequest(f"'{wrong}' must be {_PARAM_TYPES[wrong][1]}.", param=wrong)
    for name in _NON_NEGATIVE:
        value = body.get(name)
        if isinstance(value, int) and value < 0:
            raise InvalidRequest(f"'{name}' must not be negative.", param=name)
    n = body.get("n")
    if isinstance(n, int) and n < 1:
        raise InvalidRequest("'n' must be at least 1.", param="n")
    stop = body.get("stop")
    if isinstance(stop, list) and not all(isinstance(s, str) for s in stop):
        raise InvalidRequest("'stop' must be a string or an array of strings.", param="stop")
    tools = body.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("function", {}), dict):
                raise InvalidRequest("each tool must be an object.", param=f"tools[{i}]")


def _check_message(i: int, message: Any) -> None:
    if isinstance(message, dict):
        role, content = message.get("role"), message.get("content")
        if isinstance(role, str) and role in ROLES and (content is None or type(content) is str):
            return  # the common case; anything else gets the full check below
    _explain_message(i, message)


def _explain_message(i: int, message: Any) -> None:
    """Check one message in full; the error names the offending field."""
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise InvalidRequest(f"'{where}' must be an object.", param=where)
    role = message.get("role")
    if not isinstance(role, str):
        raise InvalidRequest(f"'{where}.role' is required.", param=f"{where}.role")
    if role not in ROLES:
        raise InvalidRequest(
            f"'{where}.role' must be one of {', '.join(sorted(ROLES))}; got {role!r}.",
            param=f"{where}.role",
        )
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise InvalidRequest(
            f"'{where}.content' must be a string or an array of content parts.",
            param=f"{where}.content",
        )
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise InvalidRequest(
                    f"'{where}.content[{j}]' must be an object with a 'type'.",
                    param=f"{where}.content[{j}]",
                )


def prepare_upstream(
    body: dict[str, Any], upstream_model: str, *, stream: bool
) -> tuple[bytes, bool]:
    """Body to send upstream, and whether the client itself asked for a usage chunk.

    The gateway always asks for usage on streams (it bills from it) but remembers whether the
    client did, so the usage chunk is only shown to clients who asked.
    """
    body["model"] = upstream_model
    for name in GATEWAY_FIELDS:
        body.pop(name, None)
    client_wants_usage = False
    if stream:
        options = body.get("stream_options") or {}
        client_wants_usage = bool(options.get("include_usage"))
        if not client_wants_usage:
            body["stream_options"] = {**options, "include_usage": True}
    return orjson.dumps(body), client_wants_usage


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_from_openai(data: Any) -> Usage | None:
    """Normalise an OpenAI-style ``usage`` object (OpenAI, xAI, DeepSeek, Groq, vLLM ...).

    Dialects: OpenAI counts reasoning inside ``completion_tokens``; xAI leaves it out but counts
    it in ``total_tokens``, so the totals tell which convention was used. Cached input is
    ``prompt_tokens_details.cached_tokens`` (OpenAI, xAI) or ``prompt_cache_hit_tokens``
    (DeepSeek).
    """
    if not isinstance(data, dict):
        return None
    prompt = _int(data.get("prompt_tokens"))
    completion = _int(data.get("completion_tokens"))
    details = data.get("completion_tokens_details")
    reasoning = _int(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    pdetails = data.get("prompt_tokens_details")
    cached = _int(pdetails.get("cached_tokens")) if isinstance(pdetails, dict) else 0
    if not cached:
        cached = _int(data.get("prompt_cache_hit_tokens"))
    total = _int(data.get("total_tokens"))
    if reasoning and total and total == prompt + completion + reasoning:
        completion += reasoning
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=min(cached, prompt),
        reasoning_tokens=min(reasoning, completion),
    )
