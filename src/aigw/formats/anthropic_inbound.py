"""Anthropic Messages requests from clients, checked and turned into the gateway's OpenAI-format
request (pure, no I/O), so ``/v1/messages`` can serve any model.

Thinking blocks become ``reasoning_content`` + ``reasoning_signature`` on the assistant turn
(the Anthropic codec turns them back into thinking blocks), ``tool_result`` blocks become
``tool`` messages, images become ``image_url`` parts, and ``thinking.budget_tokens`` becomes
the nearest ``reasoning_effort``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from aigw.errors import InvalidRequest

_ROLES = ("user", "assistant")
_CLIENT_TOOL_TYPES = (None, "custom")


def parse_request(raw: bytes, *, require_max_tokens: bool = True) -> dict[str, Any]:
    """Decode and check a Messages body; errors name the offending field."""
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.", param="body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc.msg}.", param="body") from None
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    model = body.get("model")
    if (not isinstance(model, str) or not model) and not isinstance(model, list):
        # A list is tried in order (cross-model fallback); routing/spec.py checks its items.
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    max_tokens = body.get("max_tokens", 1 if not require_max_tokens else None)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InvalidRequest("'max_tokens' is required: a positive integer.", param="max_tokens")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in _ROLES:
            raise InvalidRequest(
                f"'messages[{i}].role' must be 'user' or 'assistant'.", param=f"messages[{i}].role"
            )
        if not isinstance(m.get("content"), str | list):
            raise InvalidRequest(
                f"'messages[{i}].content' must be a string or an array of content blocks.",
                param=f"messages[{i}].content",
            )
    return body


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """A rough input-token count (about 4 bytes of JSON per token) for non-Claude models."""
    parts = [body.get("system"), body.get("messages"), body.get("tools")]
    size = sum(len(orjson.dumps(p)) for p in parts if p)
    return max(1, size // 4)


def effort_for_budget(budget: int) -> str:
    if budget < 4096:
        return "low"
    if budget < 16384:
        return "medium"
    return "high"


def to_openai(body: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAI chat request with the same meaning as this Messages request."""
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        text = system if isinstance(system, str) else _text(system)
        messages.append({"role": "system", "content": text})
    for i, m in enumerate(body["messages"]):
        if m["role"] == "user":
            messages += _user(m["content"], f"messages[{i}]")
        else:
            messages.append(_assistant(m["content"]))
    out: dict[str, Any] = {"model": body["model"], "messages": messages}
    out["max_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    if body.get("stream"):
        out["stream"] = True
    tools = body.get("tools")
    if tools:
        out["tools"] = [_tool(t, i) for i, t in enumerate(tools)]
    _tool_choice(body.get("tool_choice"), out)
    effort = _effort(body)
    if effort:
        out["reasoning_effort"] = effort
    config = body.get("output_config") or {}
    fmt = config.get("format") if isinstance(config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or {}
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": schema, "strict": True},
        }
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        out["user"] = metadata["user_id"]
    return out


def _effort(body: Mapping[str, Any]) -> str | None:
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        if thinking.get("type") == "enabled":
            return effort_for_budget(int(thinking.get("budget_tokens") or 0))
        if thinking.get("type") == "adaptive":
            config = body.get("output_config") or {}
            effort = config.get("effort") if isinstance(config, dict) else None
            return str(effort) if effort else "medium"
    return None


def _text(blocks: Any) -> str:
    if isinstance(blocks, str):
        return blocks
    return "".join(
        str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text"
    )


def _part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    source = block.get("source") or {}
    if kind in ("image", "document") and source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
        if kind == "image":
            return {"type": "image_url", "image_url": {"url": url}}
        return {"type": "file", "file": {"file_data": url, "filename": "document"}}
    if kind == "image" and source.get("type") == "url":
        return {"type": "image_url", "image_url": {"url": str(source.get("url"))}}
    raise InvalidRequest(
        f"Content blocks of type {kind!r} (source {source.get('type')!r}) can only be sent to "
        "Anthropic models.",
        param=where,
    )


def _user(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        if not isinstance(block, dict):
            raise InvalidRequest("Content blocks must be objects.", param=f"{where}.content[{j}]")
        if block.get("type") == "tool_result":
            result = block.get("content")
            text = result if isinstance(result, str) else _text(result or [])
            out.append(
                {"role": "tool", "tool_call_id": str(block.get("tool_use_id")), "content": text}
            )
        else:
            parts.append(_part(block, f"{where}.content[{j}]"))
    if parts:
        out.append({"role": "user", "content": parts})
    return out


def _assistant(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    message: dict[str, Any] = {"role": "assistant"}
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            text.append(str(block.get("text", "")))
        elif kind == "thinking":
            message["reasoning_content"] = str(block.get("thinking") or "")
            if block.get("signature"):
                message["reasoning_signature"] = str(block["signature"])
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": str(block.get("id")),
                    "type": "function",
                    "function": {"name": str(block.get("name")), "arguments": arguments},
                }
            )
    message["content"] = "".join(text) if text or not calls else None
    if calls:
        message["tool_calls"] = calls
    return message


def _tool(tool: Any, i: int) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type") not in _CLIENT_TOOL_TYPES:
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise InvalidRequest(
            f"Server tools ({kind!r}) run only on Anthropic models.", param=f"tools[{i}]"
        )
    fn: dict[str, Any] = {
        "name": tool.get("name"),
        "parameters": tool.get("input_schema") or {"type": "object"},
    }
    if tool.get("description"):
        fn["description"] = tool["description"]
    return {"type": "function", "function": fn}


def _tool_choice(choice: Any, out: dict[str, Any]) -> None:
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    if choice.get("disable_parallel_tool_use") and "tools" in out:
        out["parallel_tool_calls"] = False
