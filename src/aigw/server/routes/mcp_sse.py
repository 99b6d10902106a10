"""MCP's legacy HTTP+SSE transport (protocol 2024-11-05), for clients that predate Streamable
HTTP: ``GET /mcp/sse`` opens an event stream whose first event (``endpoint``) names the URL to
POST to; ``POST /mcp/message?session_id=...`` takes one JSON-RPC message (or a batch), answers
202 and sends the JSON-RPC answer on the stream as a ``message`` event. Both need the bearer
key, and a session answers only the key that opened it. Messages are answered by the same
dispatcher as ``POST /mcp`` (routes/mcp.py): same tools, billing and errors."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from aiohttp import web

from aigw.errors import InvalidRequest, NotFound
from aigw.mcp.base import Ctx
from aigw.mcp.sessions import Session, SessionStore
from aigw.server.appkeys import BILLING, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes import mcp
from aigw.server.routes.chat import read_tag

SESSIONS: web.AppKey[SessionStore] = web.AppKey("mcp_sse_sessions", SessionStore)
STREAM_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}
KEEPALIVE = b": keep-alive\n\n"
log = logging.getLogger("aigw.mcp")


def _event(name: str, data: str | bytes) -> bytes:
    text = data.decode() if isinstance(data, bytes) else data
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"event: {name}\n{lines}\n".encode()


async def sse_open(request: web.Request) -> web.StreamResponse:
    key = await authenticate(request)
    store = request.app[SESSIONS]
    session = store.open(key.key_id)
    response = web.StreamResponse(headers=STREAM_HEADERS)
    try:
        await response.prepare(request)
        await response.write(_event("endpoint", f"/mcp/message?session_id={session.id}"))
        await _pump(request, response, store, session)
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client went away: its session goes with it
    finally:
        store.drop(session)
    return response


async def _pump(
    request: web.Request, response: web.StreamResponse, store: SessionStore, session: Session
) -> None:
    """Answers out as they come; a keep-alive comment when nothing came for a while (it also
    finds a client that is gone); the end after ``idle_seconds`` of nothing."""
    while True:
        idle_left = store.idle_seconds - session.idle_for(time.monotonic())
        if idle_left <= 0:
            return
        try:
            async with asyncio.timeout(min(store.keepalive_seconds, idle_left)):
                data = await session.outbox.get()
        except TimeoutError:
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await response.write(KEEPALIVE)
            continue
        if data is None:
            return
        await response.write(_event("message", data))


async def sse_message(request: web.Request) -> web.Response:
    key = await authenticate(request)
    session_id = request.query.get("session_id") or request.query.get("sessionId")
    if not session_id:
        raise InvalidRequest("Query parameter 'session_id' is required.", param="session_id")
    session = request.app[SESSIONS].get(session_id, key.key_id)
    if session is None:
        raise NotFound(
            "Unknown or expired MCP session: open a new one with GET /mcp/sse.",
            param="session_id",
        )
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise InvalidRequest(
            "Could not parse the message: send one JSON-RPC message (or a batch) as JSON.",
            param="body",
        ) from None
    tag = read_tag(request) or request.app[BILLING].default_tag(key)
    ctx = Ctx(request.app, key, f"{request.scheme}://{request.host}", tag)
    session.spawn(_answer(session, ctx, payload))
    return web.Response(status=202, text="Accepted", content_type="text/plain")


async def _answer(session: Session, ctx: Ctx, payload: Any) -> None:
    messages = payload if isinstance(payload, list) else [payload]
    answers = []
    try:
        for message in messages:
            answer = await mcp.answer(ctx, message, session.audio)
            if answer is None:
                continue
            if isinstance(message, dict) and message.get("method") == "initialize":
                version = (answer.get("result") or {}).get("protocolVersion")
                session.audio = version not in (None, mcp.NO_AUDIO)
            answers.append(answer)
    except Exception:  # the dispatcher answers tool failures itself; this is a bug
        log.exception("MCP SSE message failed")
        msg_id = messages[0].get("id") if isinstance(messages[0], dict) else None
        answers.append(
            {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32603, "message": "Internal error"}}
        )
    if answers:
        session.send(orjson.dumps(answers if isinstance(payload, list) else answers[0]))


async def _close_sessions(app: web.Application) -> None:
    """Open streams would hold up a graceful shutdown until its timeout: end them first."""
    app[SESSIONS].close_all()


def setup_routes(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[SESSIONS] = SessionStore(
        settings.mcp_sse_max_sessions,
        settings.mcp_sse_idle_seconds,
        settings.mcp_sse_keepalive_seconds,
    )
    app.on_shutdown.append(_close_sessions)
    app.router.add_get("/mcp/sse", sse_open)
    app.router.add_post("/mcp/message", sse_message)
