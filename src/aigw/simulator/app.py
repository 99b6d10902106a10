"""The simulator's aiohttp application: OpenAI routes, pacing and fault execution.

The hot path (no pacing, no fault) is: read body, orjson parse, cached answer, orjson render;
well under a millisecond. Everything slow (latency, ttft, tokens/s, hangs) is a sleep, so
thousands of concurrent requests cost no CPU while they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator import openai_format as oai
from aigw.simulator.config import RequestSettings, SimConfig, request_settings
from aigw.simulator.control import add_control_routes
from aigw.simulator.faults import ErrorReply, Fault, error_reply
from aigw.simulator.formats import RAW_BODY, OpenAIFormat, SimFormat, SimRequestError
from aigw.simulator.media_routes import add_media_routes
from aigw.simulator.queue_format import add_queue_routes
from aigw.simulator.replay import Replay
from aigw.simulator.routes import add_provider_routes
from aigw.simulator.state import SIM_STATE, SimState

_HANG_POLL_S = 0.05
OPENAI = OpenAIFormat()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(config: SimConfig | None = None) -> web.Application:
    """A fresh simulator app; its state is ``app[SIM_STATE]``."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    state = SimState(config or SimConfig())
    app[SIM_STATE] = state
    chat_completions = chat_handler(OPENAI)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/chat/completions", chat_completions)
    add_provider_routes(app, chat_handler)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/healthz", healthz)
    add_control_routes(app)
    add_queue_routes(app)
    add_media_routes(app)

    async def on_shutdown(_: web.Application) -> None:
        state.closing.set()

    app.on_shutdown.append(on_shutdown)
    return app


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _headers(fmt: SimFormat, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = fmt.headers()
    if extra:
        headers.update(extra)
    return headers


def _error(state: SimState, reply: ErrorReply, fmt: SimFormat = OPENAI) -> web.Response:
    state.stats.errors += 1
    status, body, extra = fmt.error(reply)
    return web.Response(
        status=status, body=body, content_type="application/json", headers=_headers(fmt, extra)
    )


def _check_auth(
    state: SimState, request: web.Request, fmt: SimFormat = OPENAI
) -> ErrorReply | None:
    """Open like a local vLLM or Ollama server unless ``require_key`` is set; then only that
    key passes, with the provider's 401 shapes otherwise."""
    required = state.config.require_key
    if required is None:
        return None
    key = fmt.authenticate(request)
    if key is None:
        return fmt.missing_key()
    if key != required:
        return error_reply(Fault("401"), model="", api_key=key, retry_after=0)
    return None


async def list_models(request: web.Request) -> web.Response:
    state = request.app[SIM_STATE]
    state.record(request.method, request.path, request.headers, None, request.query_string)
    denied = _check_auth(state, request)
    if denied is not None:
        return _error(state, denied)
    body = oai.models_body(state.config.models, 1_700_000_000)
    return web.Response(body=body, content_type="application/json", headers=_headers(OPENAI))


_INVALID_JSON = ErrorReply(
    400,
    "invalid_request_error",
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.",
)


def chat_handler(fmt: SimFormat) -> Handler:
    """The chat route of one wire format: bookkeeping, auth, then ``_respond``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _chat(request, fmt)

    return handler


async def _chat(request: web.Request, fmt: SimFormat) -> web.StreamResponse:
    state = request.app[SIM_STATE]
    raw = await request.read()
    request[RAW_BODY] = raw
    state.stats.requests += 1
    try:
        body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    logged = body if body is not None else raw.decode("utf-8", "replace")
    state.record(request.method, request.path, request.headers, logged, request.query_string)
    denied = _check_auth(state, request, fmt)
    if denied is not None:
        return _error(state, denied, fmt)
    try:
        settings = request_settings(state.config, request.headers)
    except ValueError as exc:
        reply = ErrorReply(400, "invalid_request_error", f"x-sim header: {exc}")
        return _error(state, reply, fmt)
    try:
        return await _respond(request, state, raw, body, settings, fmt)
    except asyncio.CancelledError:
        _count_disconnect(state, request)
        raise
    except ConnectionResetError:  # a write failed: the client is gone; nothing left to send
        state.stats.client_disconnects += 1
        return web.Response(status=499)


async def _respond(
    request: web.Request,
    state: SimState,
    raw: bytes,
    body: Any,
    settings: RequestSettings,
    fmt: SimFormat,
) -> web.StreamResponse:
    """Faults first, then a queued replay, then the generated answer."""
    config = state.config
    fault = state.faults.pick(settings.fault, config.server_fault(), config.fault_rate)
    replay = None if fault is not None else state.next_replay()
    if fault is not None:
        state.stats.faults_injected += 1
    if settings.latency_ms and not await _sleep(state, settings.latency_ms / 1000):
        return web.Response(status=503)
    if fault is not None and fault.is_error:
        model = body.get("model", "") if isinstance(body, dict) else ""
        key = fmt.authenticate(request) or ""
        reply = error_reply(fault, model=model, api_key=key, retry_after=config.retry_after)
        return _error(state, reply, fmt)
    if fault is not None and fault.name in ("reset", "timeout"):
        if fault.name == "timeout":
            await _hang(state, request, config.hang_seconds)
        _close(request, abort=True)
        return web.Response(status=504)
    if replay is not None:
        state.stats.replays_served += 1
        return await _send_replay(request, replay, settings, fault)
    if body is None:
        return _error(state, _INVALID_JSON, fmt)
    try:
        req = fmt.parse(request, body)
    except SimRequestError as exc:
        return _error(state, exc.reply, fmt)
    cache_key = raw if fmt is OPENAI else request.path.encode() + raw
    answer = state.answer_for(cache_key, req, settings.output_tokens)
    if req.stream:
        frames = fmt.frames(answer, req, settings.usage_style)
        return await _stream(request, state, frames, settings, fault, fmt)
    payload = fmt.body(answer, req, settings.usage_style)
    delay = _ttft(settings, fault, config) + _generation_s(settings, answer.completion_tokens)
    if delay and not await _sleep(state, delay):
        return web.Response(status=503)
    return await _send_body(request, state, payload, fault, fmt)


def _ttft(settings: RequestSettings, fault: Fault | None, config: SimConfig) -> float:
    delay = settings.ttft_ms
    if fault is not None and fault.name == "slow_first_token":
        delay += fault.delay_ms if fault.delay_ms is not None else config.fault_delay_ms
    return delay / 1000


def _generation_s(settings: RequestSettings, tokens: int) -> float:
    tps = settings.tokens_per_second
    return tokens / tps if tps > 0 else 0.0


def _after_chunks(fault: Fault, config: SimConfig) -> int:
    return fault.after_chunks if fault.after_chunks is not None else config.fault_after_chunks


async def _send_body(
    request: web.Request, state: SimState, payload: bytes, fault: Fault | None, fmt: SimFormat
) -> web.StreamResponse:
    """A complete JSON body, or half of one for the malformed / stall / cut faults."""
    name = fault.name if fault is not None else ""
    if name not in ("malformed", "stall", "cut"):
        state.stats.completions += 1
        return web.Response(body=payload, content_type="application/json", headers=_headers(fmt))
    half = payload[: len(payload) // 2]
    if name == "malformed":
        return web.Response(body=half, content_type="application/json", headers=_headers(fmt))
    resp = web.StreamResponse(headers=_headers(fmt))
    resp.content_type = "application/json"
    resp.content_length = len(payload)
    await resp.prepare(request)
    await resp.write(half)
    if name == "stall":
        await _hang(state, request, state.config.hang_seconds)
    _close(request, abort=False)
    return resp


async def _stream(
    request: web.Request,
    state: SimState,
    frames: list[tuple[bytes, int]],
    settings: RequestSettings,
    fault: Fault | None,
    fmt: SimFormat,
) -> web.StreamResponse:
    """Write stream frames: first after ttft, then paced at tokens/s; apply stream faults."""
    config = state.config
    name = fault.name if fault is not None else ""
    if fault is not None and name in ("stall", "cut", "malformed", "stream_error"):
        frames = frames[: _after_chunks(fault, config)]
        if name == "malformed":
            frames.append((fmt.malformed_frame, 0))
        elif name == "stream_error":
            frames.append((fmt.stream_error_frame(), 0))
    resp = web.StreamResponse(headers=_headers(fmt))
    resp.content_type = fmt.stream_content_type
    if fmt.stream_content_type.startswith("text/"):
        resp.charset = "utf-8"
    state.stats.streams_started += 1
    await resp.prepare(request)
    await _write_paced(state, resp, frames, _ttft(settings, fault, config), settings)
    if name in ("stall", "cut"):
        if name == "stall":
            await _hang(state, request, config.hang_seconds)
        _close(request, abort=False)
        return resp
    await resp.write_eof()
    state.stats.streams_completed += 1
    return resp


async def _write_paced(
    state: SimState,
    resp: web.StreamResponse,
    frames: list[tuple[bytes, int]],
    ttft: float,
    settings: RequestSettings,
) -> None:
    loop = asyncio.get_running_loop()
    tps = settings.tokens_per_second
    if ttft and not await _sleep(state, ttft):
        return
    if tps <= 0:
        await resp.write(b"".join(frame for frame, _ in frames))
        return
    start = loop.time()
    due = 0.0  # seconds after start at which the next frame is due
    batch: list[bytes] = []
    for i, (frame, tokens) in enumerate(frames):
        if i > 1:  # the first chunk goes at ttft; the first token chunk right after it
            due += tokens / tps
        wait = start + due - loop.time()
        if wait > 0.001:
            if batch:
                await resp.write(b"".join(batch))
                batch = []
            if not await _sleep(state, wait):
                return
        batch.append(frame)
    await resp.write(b"".join(batch))


async def _send_replay(
    request: web.Request, replay: Replay, settings: RequestSettings, fault: Fault | None
) -> web.StreamResponse:
    """The recorded body verbatim; an SSE recording is split into frames and paced."""
    state = request.app[SIM_STATE]
    headers = _headers(OPENAI, dict(replay.headers))
    if not replay.is_stream or replay.status != 200:
        resp = web.Response(status=replay.status, body=replay.body, headers=headers)
        resp.headers["Content-Type"] = replay.content_type
        return resp
    stream = web.StreamResponse(status=replay.status, headers=headers)
    stream.headers["Content-Type"] = replay.content_type
    state.stats.streams_started += 1
    await stream.prepare(request)
    frames = [(f, 1) for f in _split_frames(replay.body)]
    await _write_paced(state, stream, frames, _ttft(settings, fault, state.config), settings)
    await stream.write_eof()
    state.stats.streams_completed += 1
    return stream


def _split_frames(body: bytes) -> list[bytes]:
    """Split SSE bytes after each blank line (LF or CRLF), keeping every byte."""
    frames: list[bytes] = []
    start = 0
    while start < len(body):
        ends = [i + len(sep) for sep in (b"\n\n", b"\r\n\r\n") if (i := body.find(sep, start)) >= 0]
        end = min(ends) if ends else len(body)
        frames.append(body[start:end])
        start = end
    return frames


async def _sleep(state: SimState, seconds: float) -> bool:
    """Sleep unless the server is shutting down; False if it is."""
    if state.closing.is_set():
        return False
    await asyncio.sleep(seconds)
    return not state.closing.is_set()


async def _hang(state: SimState, request: web.Request, seconds: float) -> None:
    """Wait until the client leaves, the server stops, or ``seconds`` pass (never forever)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline and not state.closing.is_set():
        transport = request.transport
        if transport is None or transport.is_closing():
            state.stats.client_disconnects += 1
            return
        await asyncio.sleep(min(_HANG_POLL_S, max(0.0, deadline - loop.time())))


def _close(request: web.Request, abort: bool) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort() if abort else transport.close()


def _count_disconnect(state: SimState, request: web.Request) -> None:
    transport = request.transport
    if not state.closing.is_set() and (transport is None or transport.is_closing()):
        state.stats.client_disconnects += 1
