"""The ``/_sim/*`` control API: script faults and replays, inspect requests and counters.

Tests that reach the simulator through a gateway cannot set ``x-sim-*`` headers (the gateway
does not forward them), so they queue behaviour here before making the call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator.answer import Script
from aigw.simulator.faults import Fault
from aigw.simulator.replay import JSON, SSE, Replay, load_recording
from aigw.simulator.state import SIM_STATE, SimState


def queue_fault(state: SimState, spec: Mapping[str, Any]) -> int:
    """Queue ``spec["fault"]`` for the next ``count`` chat requests; returns the queue length."""
    fault = Fault(
        str(spec["fault"]),
        status=_opt(spec, "status", int),
        retry_after=_opt(spec, "retry_after", float),
        after_chunks=_opt(spec, "after_chunks", int),
        delay_ms=_opt(spec, "delay_ms", float),
    )
    state.faults.add(fault, int(spec.get("count", 1)))
    return len(state.faults.queued)


def queue_replay(state: SimState, spec: Mapping[str, Any]) -> int:
    """Queue a verbatim response (``body`` text/JSON or a recording ``path``); returns count."""
    if "path" in spec:
        content_type, body = load_recording(str(spec["path"]))
    elif "body" in spec:
        raw = spec["body"]
        body = raw.encode() if isinstance(raw, str) else orjson.dumps(raw)
        sniffed = SSE if body.lstrip().startswith((b"data:", b"event:")) else JSON
        content_type = sniffed
    else:
        raise ValueError("replay needs 'body' or 'path'")
    headers = tuple((str(k), str(v)) for k, v in (spec.get("headers") or {}).items())
    replay = Replay(
        body=body,
        content_type=str(spec.get("content_type") or content_type),
        status=int(spec.get("status", 200)),
        headers=headers,
    )
    state.replays.extend([replay] * int(spec.get("count", 1)))
    return len(state.replays)


def _opt(spec: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
    value = spec.get(key)
    return None if value is None else kind(value)


def config_dict(state: SimState) -> dict[str, Any]:
    return dataclasses.asdict(state.config)


def add_control_routes(app: web.Application) -> None:
    app.router.add_post("/_sim/faults", _post_faults)
    app.router.add_get("/_sim/faults", _get_faults)
    app.router.add_delete("/_sim/faults", _delete_faults)
    app.router.add_post("/_sim/replay", _post_replay)
    app.router.add_post("/_sim/reset", _post_reset)
    app.router.add_post("/_sim/answers", _post_answers)
    app.router.add_delete("/_sim/answers", _delete_answers)
    app.router.add_get("/_sim/requests", _get_requests)
    app.router.add_get("/_sim/stats", _get_stats)
    app.router.add_get("/_sim/config", _get_config)
    app.router.add_post("/_sim/config", _post_config)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": {"message": message, "type": "invalid_request_error"}}, 400)


async def _spec(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    data = orjson.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


async def _post_faults(request: web.Request) -> web.Response:
    try:
        queued = queue_fault(request.app[SIM_STATE], await _spec(request))
    except (KeyError, ValueError, TypeError) as exc:
        return _bad(f"bad fault spec: {exc}")
    return _json({"queued": queued})


async def _get_faults(request: web.Request) -> web.Response:
    queued = [dataclasses.asdict(f) for f in request.app[SIM_STATE].faults.queued]
    return _json({"queued": queued})


async def _delete_faults(request: web.Request) -> web.Response:
    request.app[SIM_STATE].faults.queued.clear()
    return _json({"queued": 0})


async def _post_replay(request: web.Request) -> web.Response:
    try:
        queued = queue_replay(request.app[SIM_STATE], await _spec(request))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        return _bad(f"bad replay spec: {exc}")
    return _json({"queued": queued})


async def _post_reset(request: web.Request) -> web.Response:
    request.app[SIM_STATE].reset()
    return _json({"reset": True})


async def _get_requests(request: web.Request) -> web.Response:
    log = list(request.app[SIM_STATE].log)
    limit = request.query.get("limit")
    if limit is not None and limit.isdigit():
        log = log[-int(limit) :] if int(limit) else []
    return _json({"requests": log})


async def _get_stats(request: web.Request) -> web.Response:
    return _json(request.app[SIM_STATE].stats.as_dict())


async def _get_config(request: web.Request) -> web.Response:
    return _json(config_dict(request.app[SIM_STATE]))


async def _post_config(request: web.Request) -> web.Response:
    state = request.app[SIM_STATE]
    try:
        state.set_config(state.config.updated(await _spec(request)))
    except (OSError, ValueError, TypeError) as exc:
        return _bad(f"bad config: {exc}")
    return _json(config_dict(state))


async def _post_answers(request: web.Request) -> web.Response:
    """Script replies: ``{"contains", "text", "model"?}`` or a list of them."""
    try:
        raw = await request.read()
        data = orjson.loads(raw)
        specs = data if isinstance(data, list) else [data]
        scripts = [
            Script(
                str(s["contains"]),
                str(s["text"]),
                None if s.get("model") is None else str(s["model"]),
            )
            for s in specs
        ]
    except (KeyError, ValueError, TypeError) as exc:
        return _bad(f"bad answers spec: {exc}")
    state = request.app[SIM_STATE]
    state.scripts.extend(scripts)
    return _json({"scripted": len(state.scripts)})


async def _delete_answers(request: web.Request) -> web.Response:
    request.app[SIM_STATE].scripts.clear()
    return _json({"scripted": 0})
