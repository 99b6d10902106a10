"""Anthropic Messages wire format for the simulator: ``POST /v1/messages`` (+ count_tokens).

Layouts follow tests/fixtures/anthropic: ``x-api-key`` and ``anthropic-version`` required,
Message bodies with content blocks, streams as named events whose JSON is padded with a run
of spaces, a ``ping`` after the first block start, ``input_json_delta`` fragments starting
with ``""``, thinking blocks closed by a ``signature_delta``, and
``{"type":"error","error":{...},"request_id":...}`` errors.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator.answer import Answer, Choice, SimRequest, ToolSpec
from aigw.simulator.content import count_tokens
from aigw.simulator.faults import ErrorReply
from aigw.simulator.formats import Frames, SimRequestError, key_from

_IMAGE_TOKENS = 85
_BLOCKS = ("text", "image", "document", "tool_use", "tool_result", "thinking",
           "redacted_thinking")  # fmt: skip
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_ids = random.Random()


def _bad(message: str) -> SimRequestError:
    return SimRequestError(ErrorReply(400, "invalid_request_error", message))


def _effort(budget: int) -> str:
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


def signature_of(text: str) -> str:
    """A stable stand-in for Anthropic's opaque thinking signature."""
    digest = hashlib.blake2b(text.encode(), digest_size=48).digest()
    return "Ev" + base64.b64encode(digest * 2).decode()


def _block_text(block: dict[str, Any], where: str) -> tuple[str, int]:
    kind = block.get("type")
    if kind not in _BLOCKS:
        raise _bad(f"{where}.type: Input tag '{kind}' found using 'type' does not match any "
                   "of the expected tags")  # fmt: skip
    if kind == "text":
        if not block.get("text"):
            raise _bad(f"{where}: text content blocks must be non-empty")
        return str(block["text"]), 0
    if kind in ("image", "document"):
        return "", _IMAGE_TOKENS
    if kind == "tool_use":
        return f"{block.get('name')}({orjson.dumps(block.get('input')).decode()})", 0
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict)), 0
        return str(content or ""), 0
    if kind == "thinking" and not block.get("signature"):
        raise _bad(f"{where}.signature: Field required")
    return str(block.get("thinking", "")), 0


def parse(body: Any, *, count_only: bool = False) -> SimRequest:
    if not isinstance(body, dict):
        raise _bad("Request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model: Field required")
    max_tokens = body.get("max_tokens")
    if not count_only and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise _bad("max_tokens: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages: at least one message is required")
    system = body.get("system") or ""
    if isinstance(system, list):
        system = " ".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    texts, tokens = [f"system: {system}"], 3 + count_tokens(system)
    last_role, last_user = "", ""
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("user", "assistant"):
            raise _bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise _bad(f"messages.{i}.content: Input should be a valid list")
        parts = [_block_text(b, f"messages.{i}.content.{j}") for j, b in enumerate(blocks)]
        text = "\n".join(p for p, _ in parts)
        tokens += count_tokens(text) + sum(extra for _, extra in parts) + 4
        texts.append(f"{role}: {text}")
        has_result = any(b.get("type") == "tool_result" for b in blocks)
        last_role = "tool" if has_result else role
        if role == "user" and not has_result:
            last_user = text
    tools = tuple(_tool(t, i) for i, t in enumerate(body.get("tools") or ()))
    if tools:
        tokens += count_tokens(orjson.dumps(body["tools"]).decode())
    choice = body.get("tool_choice") or {}
    kind = choice.get("type", "auto") if isinstance(choice, dict) else "auto"
    forced = choice.get("name") if kind == "tool" else None
    thinking = body.get("thinking") or {}
    effort = None
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise _bad("thinking.enabled.budget_tokens: Input should be greater than or equal "
                       "to 1024")  # fmt: skip
        if isinstance(max_tokens, int) and budget >= max_tokens:
            raise _bad("`max_tokens` must be greater than `thinking.budget_tokens`")
        if body.get("temperature") not in (None, 1) or body.get("top_k") is not None:
            raise _bad("temperature may only be set to 1 when thinking is enabled")
        if kind in ("any", "tool"):
            raise _bad("Thinking may not be enabled when tool_choice forces tool use.")
        effort = _effort(budget)
    fmt = (body.get("output_config") or {}).get("format") or {}
    schema = fmt.get("schema") if fmt.get("type") == "json_schema" else None
    stops = body.get("stop_sequences") or ()
    return SimRequest(
        model=model,
        prompt_text="\n".join(texts),
        last_user_text=last_user,
        last_role=last_role,
        prompt_tokens=tokens,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        stop=tuple(str(s) for s in stops if s),
        tools=tools,
        tool_choice={"any": "required", "tool": "required"}.get(kind, kind),
        forced_tool=forced,
        parallel_tool_calls=not (
            isinstance(choice, dict) and choice.get("disable_parallel_tool_use")
        ),
        json_mode=schema is not None,
        json_schema=schema if isinstance(schema, dict) else None,
        reasoning_effort=effort,
        stream=body.get("stream") is True,
    )


def _tool(tool: Any, i: int) -> ToolSpec:
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
        raise _bad(f"tools.{i}.name: Field required")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise _bad(f"tools.{i}.custom.input_schema: Field required")
    return ToolSpec(tool["name"], schema, str(tool.get("description") or ""))


def _usage(answer: Answer, *, start: bool) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": answer.prompt_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    if start:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
        usage["output_tokens"] = 1
        usage["service_tier"] = "standard"
        usage["inference_geo"] = "not_available"
    else:
        usage["output_tokens"] = answer.completion_tokens
        if answer.reasoning_tokens:
            usage["output_tokens_details"] = {"thinking_tokens": answer.reasoning_tokens}
    return usage


def _tool_id(call_id: str) -> str:
    return "toolu_01" + call_id.removeprefix("call_")[:22]


def _content(choice: Choice) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if choice.reasoning:
        text = choice.reasoning_text
        blocks.append({"type": "thinking", "thinking": text, "signature": signature_of(text)})
    if choice.content or not choice.tool_calls:
        blocks.append({"type": "text", "text": choice.content_text})
    for call in choice.tool_calls:
        args = orjson.loads(call.arguments)
        blocks.append({"type": "tool_use", "id": _tool_id(call.id), "name": call.name,
                       "input": args})  # fmt: skip
    return blocks


def _message_id() -> str:
    return "msg_01" + "".join(
        _ids.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", k=22)
    )


def body(answer: Answer, req: SimRequest) -> bytes:
    choice = answer.choices[0]
    return orjson.dumps(
        {
            "model": req.model,
            "id": _message_id(),
            "type": "message",
            "role": "assistant",
            "content": _content(choice),
            "stop_reason": _STOP.get(choice.finish_reason, "end_turn"),
            "stop_sequence": None,
            "usage": {**_usage(answer, start=True), **_usage(answer, start=False)},
        }
    )


def _frame(name: str, data: dict[str, Any], rng: random.Random) -> bytes:
    pad = b" " * rng.randint(0, 15)
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + pad + b"\n\n"


def frames(answer: Answer, req: SimRequest) -> Frames:
    rng = random.Random(answer.prompt_tokens)
    choice = answer.choices[0]
    message: dict[str, Any] = {
        "model": req.model, "id": _message_id(), "type": "message", "role": "assistant",
        "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None,
        "usage": _usage(answer, start=True),
    }  # fmt: skip
    out: Frames = [(_frame("message_start", {"type": "message_start", "message": message}, rng), 0)]
    index = -1

    def start(block: dict[str, Any]) -> None:
        nonlocal index
        index += 1
        data = {"type": "content_block_start", "index": index, "content_block": block}
        out.append((_frame("content_block_start", data, rng), 0))
        if index == 0:
            out.append((b'event: ping\ndata: {"type": "ping"}\n\n', 0))

    def delta(payload: dict[str, Any], tokens: int) -> None:
        data = {"type": "content_block_delta", "index": index, "delta": payload}
        out.append((_frame("content_block_delta", data, rng), tokens))

    def stop() -> None:
        data = {"type": "content_block_stop", "index": index}
        out.append((_frame("content_block_stop", data, rng), 0))

    if choice.reasoning:
        start({"type": "thinking", "thinking": "", "signature": ""})
        for piece in choice.reasoning:
            delta({"type": "thinking_delta", "thinking": piece}, 1)
        delta({"type": "signature_delta", "signature": signature_of(choice.reasoning_text)}, 0)
        stop()
    if choice.content or not choice.tool_calls:
        start({"type": "text", "text": ""})
        for piece in choice.content:
            delta({"type": "text_delta", "text": piece}, 1)
        stop()
    for call in choice.tool_calls:
        start({"type": "tool_use", "id": _tool_id(call.id), "name": call.name, "input": {},
               "caller": {"type": "direct"}})  # fmt: skip
        for fragment in ("", *call.fragments):
            delta({"type": "input_json_delta", "partial_json": fragment}, count_tokens(fragment))
        stop()
    end = {"stop_reason": _STOP.get(choice.finish_reason, "end_turn"), "stop_sequence": None,
           "stop_details": None}  # fmt: skip
    data = {"type": "message_delta", "delta": end, "usage": _usage(answer, start=False)}
    out.append((_frame("message_delta", data, rng), 0))
    out.append((_frame("message_stop", {"type": "message_stop"}, rng), 0))
    return out


_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
          403: "permission_error", 404: "not_found_error", 413: "request_too_large",
          429: "rate_limit_error", 504: "timeout_error", 529: "overloaded_error"}  # fmt: skip


def error(reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
    err: dict[str, Any] = {"type": _TYPES.get(reply.status, "api_error"), "message": reply.message}
    headers = {"request-id": _request_id()}
    if reply.code == "insufficient_quota":
        err["details"] = {"error_code": "enforced_spend_limit_reached"}
    elif reply.code == "context_length_exceeded":
        err["message"] = "prompt is too long: 130000 tokens > 128000 maximum"
    elif reply.code == "invalid_api_key":
        err["message"] = "invalid x-api-key"
    if reply.status in (429, 529):
        headers["x-should-retry"] = "true"
    if reply.retry_after is not None:
        headers["retry-after"] = f"{reply.retry_after:g}"
    payload = {"type": "error", "error": err, "request_id": headers["request-id"]}
    return reply.status, orjson.dumps(payload), headers


def _request_id() -> str:
    return "req_011" + os.urandom(12).hex()


class AnthropicFormat:
    name = "anthropic"
    stream_content_type = "text/event-stream"
    malformed_frame = b"event: content_block_delta\ndata: {not json\n\n"

    def authenticate(self, request: web.Request) -> str | None:
        return key_from(request, "x-api-key")

    def missing_key(self) -> ErrorReply:
        return ErrorReply(401, "authentication_error", "x-api-key header is required")

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        if not request.headers.get("anthropic-version"):
            raise _bad("anthropic-version: header is required")
        return parse(body)

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes:
        return body(answer, req)

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames:
        return frames(answer, req)

    def stream_error_frame(self) -> bytes:
        err = {"type": "error", "error": {"details": None, "type": "overloaded_error",
                                          "message": "Overloaded"}}  # fmt: skip
        return b"event: error\ndata: " + orjson.dumps(err) + b"              \n\n"

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        return error(reply)

    def headers(self) -> dict[str, str]:
        return {"request-id": _request_id(), "anthropic-organization-id": "sim-org"}
