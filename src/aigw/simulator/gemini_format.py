"""Gemini wire format for the simulator: ``/v1beta/models/{model}:generateContent`` and
``:streamGenerateContent?alt=sse``.

Layouts follow tests/fixtures/gemini: ``x-goog-api-key`` (or ``?key=``), camelCase fields,
streamed JSON with a space after ``:`` and none after ``,``, CRLF frame ends, a cumulative
``usageMetadata`` on every chunk, a final chunk with an empty text part and ``finishReason``,
function calls whole in one chunk with a ``thoughtSignature`` on the first, google.rpc errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator.answer import Answer, Choice, SimRequest, ToolSpec
from aigw.simulator.content import count_tokens
from aigw.simulator.faults import ErrorReply
from aigw.simulator.formats import Frames, SimRequestError

_IMAGE_TOKENS = 258
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
           504: "DEADLINE_EXCEEDED"}  # fmt: skip
_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS"}
_ids = random.Random()


def _bad(message: str, status: int = 400) -> SimRequestError:
    return SimRequestError(ErrorReply(status, "invalid_request_error", message))


def _google_json(data: Any) -> bytes:
    """Google's streamed layout: ``{"a": 1,"b": 2}`` (space after colons only)."""
    return json.dumps(data, separators=(",", ": "), ensure_ascii=False).encode()


def _signature(text: str) -> str:
    return base64.b64encode(hashlib.blake2b(text.encode(), digest_size=32).digest() * 3).decode()


def _effort(budget: int) -> str:
    return "low" if budget <= 1024 else "medium" if budget <= 8192 else "high"


def parse(model: str, body: Any, stream: bool) -> SimRequest:
    if not isinstance(body, dict):
        raise _bad("Invalid JSON payload received.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _bad("* GenerateContentRequest.contents: contents is not specified")
    system = " ".join(str(p.get("text", "")) for p in
                      (body.get("systemInstruction") or {}).get("parts") or ())  # fmt: skip
    texts, tokens = [f"system: {system}"], count_tokens(system)
    last_role, last_user = "", ""
    for i, content in enumerate(contents):
        role = content.get("role", "user") if isinstance(content, dict) else None
        if role not in ("user", "model"):
            raise _bad(f"* GenerateContentRequest.contents[{i}].role: must be user or model")
        pieces, extra, has_result = [], 0, False
        for part in content.get("parts") or ():
            if "text" in part:
                pieces.append(str(part["text"]))
            elif "inlineData" in part or "fileData" in part:
                extra += _IMAGE_TOKENS
            elif "functionCall" in part:
                call = part["functionCall"]
                pieces.append(f"{call.get('name')}({orjson.dumps(call.get('args')).decode()})")
            elif "functionResponse" in part:
                has_result = True
                pieces.append(orjson.dumps(part["functionResponse"].get("response")).decode())
            else:
                raise _bad(f"* GenerateContentRequest.contents[{i}].parts: unknown part")
        text = "\n".join(pieces)
        tokens += count_tokens(text) + extra
        texts.append(f"{role}: {text}")
        last_role = "tool" if has_result else ("user" if role == "user" else "assistant")
        if role == "user" and not has_result:
            last_user = text
    config = body.get("generationConfig") or {}
    thinking = config.get("thinkingConfig") or {}
    budget = thinking.get("thinkingBudget")
    effort = None
    if thinking.get("includeThoughts") and isinstance(budget, int) and budget > 0:
        effort = _effort(budget)
    tools = tuple(
        _tool(d)
        for t in body.get("tools") or ()
        for d in (t.get("functionDeclarations") or () if isinstance(t, dict) else ())
    )
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = calling.get("allowedFunctionNames") or []
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    return SimRequest(
        model=model,
        prompt_text="\n".join(texts),
        last_user_text=last_user,
        last_role=last_role,
        prompt_tokens=tokens,
        max_tokens=config.get("maxOutputTokens"),
        stop=tuple(config.get("stopSequences") or ()),
        tools=tools,
        tool_choice={"ANY": "required", "NONE": "none"}.get(mode, "auto"),
        forced_tool=allowed[0] if mode == "ANY" and len(allowed) == 1 else None,
        json_mode=config.get("responseMimeType") == "application/json",
        json_schema=schema if isinstance(schema, dict) else None,
        reasoning_effort=effort,
        stream=stream,
    )


def _tool(decl: Any) -> ToolSpec:
    if not isinstance(decl, dict) or not decl.get("name"):
        raise _bad("* GenerateContentRequest.tools[0].function_declarations: name is required")
    params = (decl.get("parameters_json_schema") or decl.get("parametersJsonSchema")
              or decl.get("parameters") or {})  # fmt: skip
    return ToolSpec(str(decl["name"]), params, str(decl.get("description") or ""))


def _usage(answer: Answer, produced: int | None = None) -> dict[str, Any]:
    thoughts = answer.reasoning_tokens
    candidates = answer.completion_tokens - thoughts if produced is None else produced
    usage: dict[str, Any] = {"promptTokenCount": answer.prompt_tokens}
    if candidates:
        usage["candidatesTokenCount"] = candidates
    usage["totalTokenCount"] = answer.prompt_tokens + candidates + thoughts
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": answer.prompt_tokens}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _call_parts(choice: Choice) -> list[dict[str, Any]]:
    parts = []
    for k, call in enumerate(choice.tool_calls):
        part: dict[str, Any] = {"functionCall": {"name": call.name,
                                                 "args": orjson.loads(call.arguments)}}  # fmt: skip
        if k == 0:
            part["thoughtSignature"] = _signature(call.id)
        parts.append(part)
    return parts


def _response(parts: list[dict[str, Any]], usage: dict[str, Any], req: SimRequest, rid: str,
              finish: str | None = None) -> dict[str, Any]:  # fmt: skip
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": req.model,
            "responseId": rid}  # fmt: skip


def _response_id() -> str:
    return "".join(
        _ids.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=23)
    )


def body(answer: Answer, req: SimRequest) -> bytes:
    choice = answer.choices[0]
    parts: list[dict[str, Any]] = []
    if choice.reasoning:
        parts.append({"text": choice.reasoning_text, "thought": True})
    if choice.content or not choice.tool_calls:
        parts.append({"text": choice.content_text})
    parts += _call_parts(choice)
    finish = _FINISH.get(choice.finish_reason, "STOP")
    return orjson.dumps(_response(parts, _usage(answer), req, _response_id(), finish))


def frames(answer: Answer, req: SimRequest) -> Frames:
    choice = answer.choices[0]
    rid = _response_id()
    out: Frames = []
    produced = 0

    def chunk(
        parts: list[dict[str, Any]], tokens: int, finish: str | None = None, visible: bool = True
    ) -> None:
        nonlocal produced
        produced += tokens if visible else 0
        usage = _usage(answer, None if finish else produced)
        data = _google_json(_response(parts, usage, req, rid, finish))
        out.append((b"data: " + data + b"\r\n\r\n", tokens))

    for piece in choice.reasoning:
        chunk([{"text": piece, "thought": True}], 1, visible=False)
    for piece in choice.content:
        chunk([{"text": piece}], 1)
    if choice.tool_calls:
        chunk(_call_parts(choice), 3)
    chunk([{"text": ""}], 0, _FINISH.get(choice.finish_reason, "STOP"))
    return out


def error(reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
    status = 503 if reply.status == 529 else reply.status
    err: dict[str, Any] = {"code": status, "message": reply.message,
                           "status": _STATUS.get(status, "UNKNOWN")}  # fmt: skip
    details: list[dict[str, Any]] = []
    if reply.code == "insufficient_quota":
        details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]})  # fmt: skip
    elif status == 429:
        details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]})  # fmt: skip
        wait = reply.retry_after if reply.retry_after is not None else 1.0
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{wait:g}s"})  # fmt: skip
    elif reply.code == "invalid_api_key":
        status, err["code"], err["status"] = 400, 400, "INVALID_ARGUMENT"
        err["message"] = "API key not valid. Please pass a valid API key."
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID", "domain": "googleapis.com"})  # fmt: skip
    elif reply.code == "context_length_exceeded":
        err["message"] = ("The input token count (130000) exceeds the maximum number of tokens "
                          "allowed (128000).")  # fmt: skip
    if details:
        err["details"] = details
    return status, json.dumps({"error": err}, indent=2).encode(), {}


class GeminiFormat:
    name = "gemini"
    stream_content_type = "text/event-stream"
    malformed_frame = b"data: {not json\r\n\r\n"

    def authenticate(self, request: web.Request) -> str | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        return key or None

    def missing_key(self) -> ErrorReply:
        return ErrorReply(403, "permission_error", "Method doesn't allow unregistered callers "
                          "(callers without established identity). Please use API Key or other "
                          "form of API consumer identity to call this API.")  # fmt: skip

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        model, _, action = request.match_info["model_action"].partition(":")
        if action not in ("generateContent", "streamGenerateContent"):
            raise _bad(f"Unknown method {action!r}.", 404)
        stream = action == "streamGenerateContent"
        if stream and request.query.get("alt") != "sse":
            raise _bad("The simulator streams only with ?alt=sse.")
        return parse(model, body, stream)

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes:
        return body(answer, req)

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames:
        return frames(answer, req)

    def stream_error_frame(self) -> bytes:
        err = {"error": {"code": 503, "message": "The model is overloaded. Please try again "
                         "later.", "status": "UNAVAILABLE"}}  # fmt: skip
        return b"data: " + _google_json(err) + b"\r\n\r\n"

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        return error(reply)

    def headers(self) -> dict[str, str]:
        return {"server": "scaffolding on HTTPServer2", "x-content-type-options": "nosniff"}
