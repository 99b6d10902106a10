"""AWS Bedrock Converse for the simulator: ``/model/{id}/converse`` and ``/converse-stream``.

Requests must carry a SigV4 ``Authorization`` header; when the simulator is given the secret
(``aws_secret_access_key``) it recomputes the signature from the request as received and
answers 403 ``InvalidSignatureException`` on a mismatch, so a gateway's signing is checked
over a real socket. Streams are binary event-stream messages; errors carry
``x-amzn-ErrorType`` and a ``{"message"}`` body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import orjson
from aiohttp import web

from aigw.formats.eventstream import encode
from aigw.providers.aws_sigv4 import canonical_request, signing_key
from aigw.simulator.answer import Answer, Choice, SimRequest, ToolSpec
from aigw.simulator.content import count_tokens
from aigw.simulator.faults import ErrorReply
from aigw.simulator.formats import RAW_BODY, Frames, SimRequestError
from aigw.simulator.state import SIM_STATE

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})"
)
_ERRORS = {400: ("ValidationException", 400), 401: ("UnrecognizedClientException", 403),
           403: ("AccessDeniedException", 403), 404: ("ResourceNotFoundException", 404),
           429: ("ThrottlingException", 429), 500: ("InternalServerException", 500),
           503: ("ServiceUnavailableException", 503),
           529: ("ServiceUnavailableException", 503)}  # fmt: skip
_BAD_SIGNATURE = "InvalidSignatureException"


def _bad(message: str, status: int = 400, code: str = "ValidationException") -> SimRequestError:
    return SimRequestError(ErrorReply(status, "invalid_request_error", message, code=code))


def verify(request: web.Request, raw: bytes, secret: str) -> None:
    """Recompute the SigV4 signature of ``request`` as received."""
    found = _AUTH.fullmatch(request.headers.get("Authorization", ""))
    if found is None:
        raise _bad("Authorization header requires 'Credential', 'Signature' and "
                   "'SignedHeaders'.", 403, "IncompleteSignatureException")  # fmt: skip
    _, date, region, service, names, signature = found.groups()
    headers = {n: request.headers.get(n, "") for n in names.split(";")}
    url = f"http://{request.host}{request.raw_path}"
    canonical, _ = canonical_request(request.method, url, headers,
                                     hashlib.sha256(raw).hexdigest())  # fmt: skip
    amz_date = request.headers.get("X-Amz-Date", "")
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])  # fmt: skip
    key = signing_key(secret, date, region, service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise _bad("The request signature we calculated does not match the signature you "
                   "provided.", 403, _BAD_SIGNATURE)  # fmt: skip


def parse(model: str, body: Any, stream: bool) -> SimRequest:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise _bad("1 validation error detected: Value null at 'messages' failed to satisfy "
                   "constraint: Member must not be null")  # fmt: skip
    system = " ".join(str(b.get("text", "")) for b in body.get("system") or ())
    texts, tokens = [f"system: {system}"], 3 + count_tokens(system)
    last_role, last_user = "", ""
    for i, m in enumerate(body["messages"]):
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise _bad(f"messages.{i}.role: must be user or assistant")
        pieces, extra, has_result = [], 0, False
        for block in m.get("content") or ():
            if "text" in block:
                pieces.append(str(block["text"]))
            elif "image" in block:
                base64.b64decode(block["image"]["source"]["bytes"], validate=True)
                extra += 85
            elif "toolUse" in block:
                pieces.append(orjson.dumps(block["toolUse"]).decode())
            elif "toolResult" in block:
                has_result = True
                pieces.append(orjson.dumps(block["toolResult"].get("content")).decode())
            elif "reasoningContent" not in block:
                raise _bad(f"messages.{i}.content: unknown content block")
        text = "\n".join(pieces)
        tokens += count_tokens(text) + extra + 4
        texts.append(f"{role}: {text}")
        last_role = "tool" if has_result else role
        if role == "user" and not has_result:
            last_user = text
    tool_config = body.get("toolConfig") or {}
    tools = tuple(
        ToolSpec(
            str(t["toolSpec"]["name"]),
            t["toolSpec"]["inputSchema"]["json"],
            str(t["toolSpec"].get("description") or ""),
        )  # fmt: skip
        for t in tool_config.get("tools") or ()
    )
    choice = tool_config.get("toolChoice") or {}
    forced = (choice.get("tool") or {}).get("name")
    config = body.get("inferenceConfig") or {}
    thinking = (body.get("additionalModelRequestFields") or {}).get("thinking") or {}
    budget = int(thinking.get("budget_tokens") or 0)
    effort = (
        None if not budget else "low" if budget < 4096 else "medium" if budget < 16384 else "high"
    )
    return SimRequest(
        model=model,
        prompt_text="\n".join(texts),
        last_user_text=last_user,
        last_role=last_role,
        prompt_tokens=tokens,
        max_tokens=config.get("maxTokens"),
        stop=tuple(config.get("stopSequences") or ()),
        tools=tools,
        tool_choice="required" if ("any" in choice or forced) else "auto",
        forced_tool=forced,
        reasoning_effort=effort,
        stream=stream,
    )


def _signature(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest() * 2).decode()


def _usage(answer: Answer) -> dict[str, Any]:
    return {"inputTokens": answer.prompt_tokens, "outputTokens": answer.completion_tokens,
            "totalTokens": answer.prompt_tokens + answer.completion_tokens}  # fmt: skip


def _tool_id(call_id: str) -> str:
    return "tooluse_" + call_id.removeprefix("call_")


def body(answer: Answer) -> bytes:
    choice: Choice = answer.choices[0]
    content: list[dict[str, Any]] = []
    if choice.reasoning:
        text = choice.reasoning_text
        reasoning = {"text": text, "signature": _signature(text)}
        content.append({"reasoningContent": {"reasoningText": reasoning}})
    if choice.content or not choice.tool_calls:
        content.append({"text": choice.content_text})
    for call in choice.tool_calls:
        content.append({"toolUse": {"toolUseId": _tool_id(call.id), "name": call.name,
                                    "input": orjson.loads(call.arguments)}})  # fmt: skip
    return orjson.dumps({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": _STOP.get(choice.finish_reason, "end_turn"),
        "usage": _usage(answer),
        "metrics": {"latencyMs": 1},
    })  # fmt: skip


def _event(kind: str, data: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return encode(headers, orjson.dumps({**data, "p": "abcdefghijklmnopqrstuvwxyz"[: len(kind)]}))


def frames(answer: Answer) -> Frames:
    choice = answer.choices[0]
    out: Frames = [(_event("messageStart", {"role": "assistant"}), 0)]
    index = 0

    def delta(payload: dict[str, Any], tokens: int) -> None:
        out.append((_event("contentBlockDelta", {"contentBlockIndex": index, "delta": payload}),
                    tokens))  # fmt: skip

    def stop() -> None:
        nonlocal index
        out.append((_event("contentBlockStop", {"contentBlockIndex": index}), 0))
        index += 1

    if choice.reasoning:
        for piece in choice.reasoning:
            delta({"reasoningContent": {"text": piece}}, 1)
        delta({"reasoningContent": {"signature": _signature(choice.reasoning_text)}}, 0)
        stop()
    if choice.content or not choice.tool_calls:
        for piece in choice.content:
            delta({"text": piece}, 1)
        stop()
    for call in choice.tool_calls:
        start = {"toolUse": {"toolUseId": _tool_id(call.id), "name": call.name}}
        out.append((_event("contentBlockStart", {"contentBlockIndex": index, "start": start}), 0))
        for fragment in call.fragments:
            delta({"toolUse": {"input": fragment}}, count_tokens(fragment))
        stop()
    out.append((_event("messageStop", {"stopReason": _STOP.get(choice.finish_reason,
                                                                "end_turn")}), 0))  # fmt: skip
    out.append((_event("metadata", {"usage": _usage(answer), "metrics": {"latencyMs": 1}}), 0))
    return out


class BedrockFormat:
    name = "bedrock"
    stream_content_type = "application/vnd.amazon.eventstream"
    malformed_frame = b"\x00\x00\x00\x20\x00\x00\x00\x00\xde\xad\xbe\xef" + b"\x00" * 20

    def authenticate(self, request: web.Request) -> str | None:
        found = _AUTH.fullmatch(request.headers.get("Authorization", ""))
        return found.group(1) if found else None

    def missing_key(self) -> ErrorReply:
        return ErrorReply(403, "permission_error", "Missing Authentication Token",
                          code="MissingAuthenticationTokenException")  # fmt: skip

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        secret = request.app[SIM_STATE].config.aws_secret_access_key
        if secret is not None:
            verify(request, request.get(RAW_BODY, b""), secret)
        stream = request.path.endswith("/converse-stream")
        return parse(request.match_info["model_id"], body, stream)

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes:
        return body(answer)

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames:
        return frames(answer)

    def stream_error_frame(self) -> bytes:
        headers = {":exception-type": "serviceUnavailableException",
                   ":content-type": "application/json", ":message-type": "exception"}  # fmt: skip
        return encode(headers, b'{"message":"Bedrock is unable to process your request."}')

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        kind, status = _ERRORS.get(reply.status, ("InternalServerException", reply.status))
        if reply.code == "insufficient_quota":
            kind, status = "ServiceQuotaExceededException", 400
        elif reply.code and reply.code.endswith("Exception"):
            kind = reply.code
        message = "Input is too long for requested model." if reply.code == (
            "context_length_exceeded") else reply.message  # fmt: skip
        headers = {
            "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        }
        if reply.retry_after is not None and status == 429:
            headers["retry-after"] = f"{reply.retry_after:g}"
        return status, orjson.dumps({"message": message}), headers

    def headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": "0d3c1f2e-sim", "x-amzn-bedrock-invocation-latency": "1"}
