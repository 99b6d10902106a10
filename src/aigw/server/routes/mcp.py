"""``POST /mcp``: MCP over Streamable HTTP, answered as plain JSON (no SSE stream is offered,
so ``GET /mcp`` is 405, as the transport allows). Stateless: no session id is issued; every
call carries the API key, exactly as the HTTP API does."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from aigw.errors import GatewayError
from aigw.mcp.args import check_args
from aigw.mcp.base import Ctx, Rich, ToolFailed
from aigw.mcp.tools import TOOLS
from aigw.server.appkeys import BILLING
from aigw.server.auth import authenticate
from aigw.server.routes.chat import read_tag

VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
SERVER_INFO = {"name": "aigw", "version": "1"}
PARSE_ERROR, INVALID_REQUEST, NO_METHOD, INVALID_PARAMS = -32700, -32600, -32601, -32602
VERSION_HEADER = "MCP-Protocol-Version"
NO_AUDIO = "2024-11-05"  # audio content came with 2025-03-26
log = logging.getLogger("aigw.mcp")


def _error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def mcp_post(request: web.Request) -> web.Response:
    key = await authenticate(request)
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return _json(_error(None, PARSE_ERROR, "Parse error"), 400)
    messages = payload if isinstance(payload, list) else [payload]
    tag = read_tag(request) or request.app[BILLING].default_tag(key)
    ctx = Ctx(request.app, key, f"{request.scheme}://{request.host}", tag)
    audio = request.headers.get(VERSION_HEADER) != NO_AUDIO
    answers = []
    for message in messages:
        answer = await _handle(ctx, message, audio)
        if answer is not None:
            answers.append(answer)
    if not answers:
        return web.Response(status=202)  # only notifications or responses
    return _json(answers if isinstance(payload, list) else answers[0])


async def _handle(ctx: Ctx, message: Any, audio: bool) -> dict[str, Any] | None:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(None, INVALID_REQUEST, "Invalid Request")
    if "method" not in message:
        return None  # a response to something we never ask
    msg_id, method = message.get("id"), message["method"]
    params = message.get("params") or {}
    if msg_id is None:
        return None  # notifications (initialized, cancelled ...) need no answer
    if not isinstance(params, dict):
        return _error(msg_id, INVALID_PARAMS, "params must be an object")
    if method == "initialize":
        asked = params.get("protocolVersion")
        result: dict[str, Any] = {
            "protocolVersion": asked if asked in VERSIONS else VERSIONS[-1],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": SERVER_INFO,
            "instructions": "AI gateway tools: chat with any model, embed, make images, "
            "speech and transcripts, moderate, rerank, find models, run jobs, replay past "
            "requests, run evals, read balance and usage. Every call is billed to this key.",
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": [t.listing() for t in TOOLS.values()]}
    elif method == "tools/call":
        tool = TOOLS.get(str(params.get("name")))
        args = params.get("arguments") or {}
        if tool is None or not isinstance(args, dict):
            return _error(msg_id, INVALID_PARAMS, f"Unknown tool: {params.get('name')}")
        result = await _call(ctx, tool.name, args, audio)
    else:
        return _error(msg_id, NO_METHOD, f"Method not found: {method}")
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}


async def _call(ctx: Ctx, name: str, args: dict[str, Any], audio: bool) -> dict[str, Any]:
    """Tool failures are results with ``isError`` (the model reads them), not RPC errors: the
    HTTP API's error body, ``param`` naming the bad argument."""
    tool = TOOLS[name]
    try:
        check_args(tool.schema, args)
        out = await tool.run(ctx, args)
    except GatewayError as err:
        return _failed(err.body())
    except ToolFailed as failed:
        return _failed(failed.body)
    except Exception:
        log.exception("MCP tool %s failed", name)
        return _failed({"error": {"message": "Internal error.", "type": "server_error"}})
    if isinstance(out, Rich):
        content = out.content if audio else [_no_audio(c) for c in out.content]
        return {"content": content, "structuredContent": out.structured, "isError": False}
    text = orjson.dumps(out).decode()
    structured = out if isinstance(out, dict) else {"items": out}
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": False,
    }


def _failed(body: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": orjson.dumps(body).decode()}], "isError": True}


def _no_audio(block: dict[str, Any]) -> dict[str, Any]:
    """Protocol 2024-11-05 has no audio content: the base64 travels as JSON text."""
    if block.get("type") != "audio":
        return block
    data = {"mime_type": block["mimeType"], "audio_base64": block["data"]}
    return {"type": "text", "text": orjson.dumps(data).decode()}


def setup_routes(app: web.Application) -> None:
    # POST only: GET (no server stream) and DELETE (no sessions) get the router's 405 with
    # ``Allow: POST``, which is the transport's answer for both.
    app.router.add_post("/mcp", mcp_post)


async def answer(ctx: Ctx, message: Any, audio: bool) -> dict[str, Any] | None:
    """One JSON-RPC message answered exactly as ``POST /mcp`` answers it (same tools, billing
    and errors); the legacy SSE transport (routes/mcp_sse.py) sends the answer on its stream."""
    return await _handle(ctx, message, audio)
