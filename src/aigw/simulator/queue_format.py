"""fal.ai's queue API and Replicate's predictions API, simulated: submit, poll status, fetch
the result and its file, cancel.

fal is served under ``/queue`` (and ``/v1/queue``), Replicate under ``/replicate/v1``. A job
takes 0.2 s unless its prompt says ``[seconds=N]``; a prompt with ``[fail]`` fails.
``X-Idempotency-Key`` makes a repeated submit return the first request id.
``GET /_sim/queue`` reports submissions, for tests that check a job was sent upstream once.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

_SECONDS = re.compile(r"\[seconds=([0-9.]+)\]")
_FILES = {"video": ("video", "mp4"), "music": ("audio_file", "mp3"), "3d": ("model_mesh", "glb")}


@dataclass
class _Request:
    id: str
    model: str
    body: dict[str, Any]
    started: float
    seconds: float
    fail: bool
    cancelled: bool = False


@dataclass
class QueueState:
    requests: dict[str, _Request] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    submits: int = 0


QUEUE_STATE = web.AppKey("sim_queue", QueueState)


def _kind(model: str) -> str:
    """What a model id makes: fal's ids name the product, not the modality."""
    if any(word in model for word in ("3d", "trellis", "mesh", "hunyuan3d")):
        return "3d"
    if any(word in model for word in ("music", "audio", "sound")):
        return "music"
    return "video"


def _status(req: _Request) -> str:
    if req.cancelled:
        return "CANCELLED"
    elapsed = time.monotonic() - req.started
    if elapsed >= req.seconds:
        return "COMPLETED"
    return "IN_PROGRESS" if elapsed >= req.seconds / 4 else "IN_QUEUE"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def queue(request: web.Request) -> web.StreamResponse:
    state = request.app[QUEUE_STATE]
    tail = request.match_info["tail"]
    if request.method == "GET" and tail.startswith("files/"):
        _, request_id, name = tail.split("/", 2)
        if request_id not in state.requests:
            raise web.HTTPNotFound()
        payload = f"simulated {name} for {request_id}\n".encode() * 64
        return web.Response(body=payload, content_type="application/octet-stream")
    model, sep, rest = tail.partition("/requests/")
    if not sep:
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        return await _submit(request, state, model)
    request_id, _, action = rest.partition("/")
    found = state.requests.get(request_id)
    if found is None or found.model != model:
        return _json({"detail": "Request not found"}, 404)
    if action == "status":
        status = _status(found)
        error = "Simulated generation failure." if status == "COMPLETED" and found.fail else None
        return _json({"status": status, "request_id": found.id, "error": error})
    if action == "cancel" and request.method == "PUT":
        found.cancelled = True
        return _json({"status": "CANCELLATION_REQUESTED"})
    if action == "":
        if _status(found) != "COMPLETED" or found.fail:
            return _json({"detail": "Request is still in progress"}, 400)
        key, ext = _FILES.get(_kind(model), ("file", "bin"))
        url = f"{request.url.origin()}/queue/files/{found.id}/output.{ext}"
        return _json({key: {"url": url, "content_type": f"application/{ext}"}, "seed": 42})
    raise web.HTTPNotFound()


async def _submit(request: web.Request, state: QueueState, model: str) -> web.Response:
    key = request.headers.get("X-Idempotency-Key")
    if key and key in state.by_key:
        return _json({"request_id": state.by_key[key], "status": "IN_QUEUE"})
    body = await request.json()
    req = _new(state, model, body, key)
    return _json({"request_id": req.id, "status": "IN_QUEUE"})


def _new(state: QueueState, model: str, body: dict[str, Any], key: str | None) -> _Request:
    prompt = str(body.get("prompt", ""))
    seconds = _SECONDS.search(prompt)
    req = _Request(
        id=secrets.token_hex(8),
        model=model,
        body=body,
        started=time.monotonic(),
        seconds=float(seconds.group(1)) if seconds else 0.2,
        fail="[fail]" in prompt,
    )
    state.requests[req.id] = req
    state.submits += 1
    if key:
        state.by_key[key] = req.id
    return req


async def replicate_submit(request: web.Request) -> web.Response:
    state = request.app[QUEUE_STATE]
    model = f"{request.match_info['owner']}/{request.match_info['name']}"
    key = request.headers.get("X-Idempotency-Key")
    if key and key in state.by_key:
        return _json({"id": state.by_key[key], "status": "starting"}, 201)
    body = await request.json()
    req = _new(state, model, body.get("input") or {}, key)
    return _json({"id": req.id, "model": model, "status": "starting"}, 201)


async def replicate_get(request: web.Request) -> web.Response:
    found = request.app[QUEUE_STATE].requests.get(request.match_info["id"])
    if found is None:
        return _json({"detail": "Not found."}, 404)
    status = {"IN_QUEUE": "starting", "IN_PROGRESS": "processing"}.get(_status(found))
    output = None
    if status is None:  # COMPLETED or CANCELLED
        status = "canceled" if found.cancelled else "failed" if found.fail else "succeeded"
    error = "Simulated generation failure." if status == "failed" else None
    if status == "succeeded":
        ext = _FILES.get(_kind(found.model), ("file", "bin"))[1]
        output = [f"{request.url.origin()}/queue/files/{found.id}/output.{ext}"]
    return _json({"id": found.id, "status": status, "output": output, "error": error})


async def replicate_cancel(request: web.Request) -> web.Response:
    found = request.app[QUEUE_STATE].requests.get(request.match_info["id"])
    if found is None:
        return _json({"detail": "Not found."}, 404)
    found.cancelled = True
    return _json({"id": found.id, "status": "canceled"})


async def queue_stats(request: web.Request) -> web.Response:
    state = request.app[QUEUE_STATE]
    return _json({"submits": state.submits, "keys": sorted(state.by_key)})


def add_queue_routes(app: web.Application) -> None:
    app[QUEUE_STATE] = QueueState()
    for prefix in ("/queue", "/v1/queue"):
        app.router.add_route("*", prefix + "/{tail:.+}", queue)
    app.router.add_post("/replicate/v1/models/{owner}/{name}/predictions", replicate_submit)
    app.router.add_get("/replicate/v1/predictions/{id}", replicate_get)
    app.router.add_post("/replicate/v1/predictions/{id}/cancel", replicate_cancel)
    app.router.add_get("/_sim/queue", queue_stats)
