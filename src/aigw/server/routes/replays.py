"""Replays and shadow rules: ``POST/GET /v1/replays``, ``GET /v1/replays/{id}``,
``POST/GET /v1/shadow-rules``, ``DELETE /v1/shadow-rules/{id}``."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.errors import InvalidRequest, NotFound
from aigw.replays import store
from aigw.replays.hooks import REPLAYS
from aigw.replays.service import CallRefused, check_model, replay
from aigw.server.appkeys import BILLING, DATABASE, LIMITS
from aigw.server.auth import authenticate
from aigw.server.routes.common import json_response, read_object, text_field
from aigw.server.routes.paging import list_page
from aigw.store.tables import MODEL_MAX


async def _admit(request: web.Request) -> KeyInfo:
    """Authenticated and counted against the key's request rate, like a chat call."""
    key = await authenticate(request)
    limits = request.app[LIMITS]
    await limits.acquire(limits.for_key(key, request.app[BILLING].sub_rpm(key)))
    return key


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{name}' must be a boolean.", param=name)
    return value


async def create_replay(request: web.Request) -> web.Response:
    key = await _admit(request)
    data = await read_object(request, ("source_request_id", "target_model", "shadow"))
    source = text_field(data, "source_request_id", max_len=128, required=True)
    target = text_field(data, "target_model", max_len=MODEL_MAX, required=True)
    assert source is not None and target is not None
    state = request.app[REPLAYS]
    try:
        row = await replay(
            request.app,
            key,
            source,
            target,
            shadow=_flag(data, "shadow"),
            tasks=state.mirror.tasks,
        )
    except CallRefused as refused:
        return json_response(refused.result.body, refused.result.status)
    return json_response(store.view(row), 201)


def _bool_query(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise InvalidRequest(f"'{name}' must be true or false.", param=name)


async def list_replays(request: web.Request) -> web.Response:
    key = await authenticate(request)
    db = request.app[DATABASE]

    async def fetch(after: str | None, limit: int) -> list[Any]:
        return await store.list_for(
            db,
            key.account_id,
            after=after,
            limit=limit,
            shadow=_bool_query(request, "shadow"),
            rule_id=request.query.get("rule_id") or None,
            target_model=request.query.get("target_model") or None,
        )

    return await list_page(request, fetch, store.view, default=50)


async def get_replay(request: web.Request) -> web.Response:
    key = await authenticate(request)
    row = await store.get(request.app[DATABASE], request.match_info["id"], key.account_id)
    if row is None:
        raise NotFound("No such replay.", param="id")
    return json_response(store.view(row))


async def create_rule(request: web.Request) -> web.Response:
    key = await authenticate(request)
    data = await read_object(request, ("source_model", "target_model", "share"))
    source = text_field(data, "source_model", max_len=MODEL_MAX, required=True)
    target = text_field(data, "target_model", max_len=MODEL_MAX, required=True)
    assert source is not None and target is not None
    check_model(request.app, source, "source_model")
    check_model(request.app, target, "target_model")
    share = data.get("share", 1.0)
    if (
        isinstance(share, bool)
        or not isinstance(share, int | float)
        or not math.isfinite(share)
        or not 0 <= share <= 1
    ):
        raise InvalidRequest("'share' must be a number from 0 to 1.", param="share")
    row = await store.add_rule(request.app[DATABASE], key.account_id, source, target, share)
    await request.app[REPLAYS].mirror.refresh()
    return json_response(store.rule_view(row), 201)


async def list_rules(request: web.Request) -> web.Response:
    key = await authenticate(request)
    rows = await store.rules(request.app[DATABASE], key.account_id)
    return json_response(
        {
            "object": "list",
            "data": [store.rule_view(r) for r in rows],
            # This process's counts since it started (mirrored calls are per process).
            "stats": request.app[REPLAYS].mirror.counters.view(),
        }
    )


async def delete_rule(request: web.Request) -> web.Response:
    key = await authenticate(request)
    rule_id = request.match_info["id"]
    if not await store.delete_rule(request.app[DATABASE], rule_id, key.account_id):
        raise NotFound("No such shadow rule.", param="id")
    await request.app[REPLAYS].mirror.refresh()
    return json_response({"id": rule_id, "object": "shadow_rule", "deleted": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/replays", create_replay)
    app.router.add_get("/v1/replays", list_replays)
    app.router.add_get("/v1/replays/{id}", get_replay)
    app.router.add_post("/v1/shadow-rules", create_rule)
    app.router.add_get("/v1/shadow-rules", list_rules)
    app.router.add_delete("/v1/shadow-rules/{id}", delete_rule)
