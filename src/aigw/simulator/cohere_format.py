"""Cohere v2 chat (``POST /v2/chat``) and Azure OpenAI deployment routes for the simulator.

Cohere: Bearer key, OpenAI-like messages and tools, ``tool_choice`` ``REQUIRED`` / ``NONE``,
answers with content parts, a ``tool_plan`` before tool calls, capitalised finish reasons and
``billed_units`` usage, streams of typed events. Azure: OpenAI's format behind an ``api-key``
header, ``/openai/deployments/{deployment}/chat/completions`` and a required ``api-version``.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator import openai_format as oai
from aigw.simulator.answer import Answer, Choice, SimRequest, ToolSpec
from aigw.simulator.content import count_tokens
from aigw.simulator.faults import ErrorReply
from aigw.simulator.formats import Frames, OpenAIFormat, SimRequestError, key_from

_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}
_IMAGE_TOKENS = 85


def _bad(message: str) -> SimRequestError:
    return SimRequestError(ErrorReply(400, "invalid_request_error", message))


def parse(body: Any) -> SimRequest:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise _bad("invalid request: model must be a string")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("invalid request: messages must not be empty")
    texts, tokens, last_role, last_user = [], 3, "", ""
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("system", "user", "assistant", "tool"):
            raise _bad(
                f"invalid request: messages[{i}].role must be system, user, assistant or tool"
            )
        content = m.get("content") or ""
        extra = 0
        if isinstance(content, list):
            extra = _IMAGE_TOKENS * sum(1 for p in content if p.get("type") == "image_url")
            content = " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
        for call in m.get("tool_calls") or ():
            fn = call.get("function") or {}
            content += f"\n{fn.get('name')}({fn.get('arguments')})"
        tokens += count_tokens(content) + extra + 4
        texts.append(f"{role}: {content}")
        last_role = role
        if role == "user":
            last_user = content
    tools = tuple(
        ToolSpec(
            str(t["function"]["name"]),
            t["function"].get("parameters") or {},
            str(t["function"].get("description") or ""),
        )  # fmt: skip
        for t in body.get("tools") or ()
    )
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("REQUIRED", "NONE"):
        raise _bad("invalid request: tool_choice must be one of REQUIRED, NONE")
    fmt = body.get("response_format") or {}
    thinking = body.get("thinking") or {}
    effort = None
    if thinking.get("type") == "enabled":
        budget = int(thinking.get("token_budget") or 4096)
        effort = "low" if budget <= 1024 else "medium" if budget <= 4096 else "high"
    return SimRequest(
        model=body["model"],
        prompt_text="\n".join(texts),
        last_user_text=last_user,
        last_role=last_role,
        prompt_tokens=tokens,
        max_tokens=body.get("max_tokens"),
        stop=tuple(body.get("stop_sequences") or ()),
        seed=body.get("seed") if isinstance(body.get("seed"), int) else None,
        tools=tools,
        tool_choice={"REQUIRED": "required", "NONE": "none"}.get(str(choice), "auto"),
        json_mode=fmt.get("type") == "json_object",
        json_schema=fmt.get("json_schema") if isinstance(fmt.get("json_schema"), dict) else None,
        reasoning_effort=effort,
        stream=body.get("stream") is True,
    )


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "billed_units": {"input_tokens": answer.prompt_tokens,
                         "output_tokens": answer.completion_tokens},
        "tokens": {"input_tokens": answer.prompt_tokens + 204,
                   "output_tokens": answer.completion_tokens + 2},
    }  # fmt: skip


def _plan(choice: Choice) -> str:
    return "I will call " + " and ".join(c.name for c in choice.tool_calls) + "."


def _calls(choice: Choice) -> list[dict[str, Any]]:
    return [{"id": c.id.replace("call_", c.name + "_", 1), "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}}
            for c in choice.tool_calls]  # fmt: skip


def body(answer: Answer) -> bytes:
    choice = answer.choices[0]
    message: dict[str, Any] = {"role": "assistant"}
    content: list[dict[str, Any]] = []
    if choice.reasoning:
        content.append({"type": "thinking", "thinking": choice.reasoning_text})
    if choice.tool_calls:
        message["tool_plan"] = _plan(choice)
        message["tool_calls"] = _calls(choice)
    else:
        content.append({"type": "text", "text": choice.content_text})
    if content:
        message["content"] = content
    return orjson.dumps({"id": str(uuid.uuid4()), "message": message,
                         "finish_reason": _FINISH.get(choice.finish_reason, "COMPLETE"),
                         "usage": _usage(answer)})  # fmt: skip


def _event(data: dict[str, Any]) -> bytes:
    return b"event: " + str(data["type"]).encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def frames(answer: Answer) -> Frames:
    choice = answer.choices[0]
    rid = str(uuid.uuid4())
    start = {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [],
                         "citations": []}}  # fmt: skip
    out: Frames = [(_event({"id": rid, "type": "message-start", "delta": start}), 0)]
    index = 0

    def content(kind: str, pieces: tuple[str, ...]) -> None:
        nonlocal index
        first = {"message": {"content": {"type": kind, kind: ""}}}
        out.append((_event({"type": "content-start", "index": index, "delta": first}), 0))
        for piece in pieces:
            delta = {"message": {"content": {kind: piece}}}
            out.append((_event({"type": "content-delta", "index": index, "delta": delta}), 1))
        out.append((_event({"type": "content-end", "index": index}), 0))
        index += 1

    if choice.reasoning:
        content("thinking", choice.reasoning)
    if choice.tool_calls:
        plan = {"message": {"tool_plan": _plan(choice)}}
        out.append((_event({"type": "tool-plan-delta", "delta": plan}), 1))
        for k, (call, spec) in enumerate(zip(choice.tool_calls, _calls(choice), strict=True)):
            head = {**spec, "function": {"name": call.name, "arguments": ""}}
            out.append((_event({"type": "tool-call-start", "index": k,
                                "delta": {"message": {"tool_calls": head}}}), 0))  # fmt: skip
            for fragment in call.fragments:
                delta = {"message": {"tool_calls": {"function": {"arguments": fragment}}}}
                out.append((_event({"type": "tool-call-delta", "index": k, "delta": delta}),
                            count_tokens(fragment)))  # fmt: skip
            out.append((_event({"type": "tool-call-end", "index": k}), 0))
    else:
        content("text", choice.content)
    end = {"finish_reason": _FINISH.get(choice.finish_reason, "COMPLETE"), "usage": _usage(answer)}
    out.append((_event({"id": rid, "type": "message-end", "delta": end}), 0))
    return out


class CohereFormat:
    name = "cohere"
    stream_content_type = "text/event-stream"
    malformed_frame = b"event: content-delta\ndata: {not json\n\n"

    def authenticate(self, request: web.Request) -> str | None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" and key.strip() else None

    def missing_key(self) -> ErrorReply:
        return ErrorReply(401, "invalid_request_error", "no api key supplied")

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        return parse(body)

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes:
        return body(answer)

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames:
        return frames(answer)

    def stream_error_frame(self) -> bytes:
        end = {"finish_reason": "ERROR", "error": "internal server error"}
        return _event({"type": "message-end", "delta": end})

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        status = 503 if reply.status == 529 else reply.status
        message = "invalid api token" if reply.code == "invalid_api_key" else reply.message
        headers = {} if reply.retry_after is None else {"retry-after": f"{reply.retry_after:g}"}
        return status, orjson.dumps({"id": str(uuid.uuid4()), "message": message}), headers

    def headers(self) -> dict[str, str]:
        return {"x-trace-id": os.urandom(8).hex(), "num_tokens": "0"}


class AzureFormat(OpenAIFormat):
    name = "azure"

    def authenticate(self, request: web.Request) -> str | None:
        return key_from(request, "api-key")

    def missing_key(self) -> ErrorReply:
        return ErrorReply(401, "invalid_request_error", "Access denied due to missing "
                          "subscription key.", code="401")  # fmt: skip

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        if not request.query.get("api-version"):
            raise _bad("Missing required query parameter: api-version")
        if isinstance(body, dict):
            body.setdefault("model", request.match_info["deployment"])
        try:
            return oai.parse_request(body)
        except oai.RequestError as exc:
            raise SimRequestError(exc.reply) from None
