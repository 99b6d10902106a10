"""OpenAI-compatible batches: ``POST /v1/batches``, ``GET /v1/batches``,
``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from aigw.batches import store
from aigw.batches.worker import ENDPOINTS
from aigw.errors import InvalidRequest, NotFound
from aigw.files import records
from aigw.server.appkeys import BATCHES, DATABASE, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.chat import read_tag
from aigw.server.routes.common import json_response, read_object
from aigw.server.routes.paging import list_page

MAX_METADATA = 16


async def create_batch(request: web.Request) -> web.Response:
    key = await authenticate(request)
    db = request.app[DATABASE]
    body = await read_object(
        request, ("input_file_id", "endpoint", "completion_window", "metadata")
    )
    endpoint = body.get("endpoint")
    if endpoint not in ENDPOINTS:
        raise InvalidRequest(
            f"'endpoint' must be one of {', '.join(ENDPOINTS)} (this gateway serves no "
            "/v1/completions).",
            param="endpoint",
        )
    if body.get("completion_window") != "24h":
        raise InvalidRequest("'completion_window' must be '24h'.", param="completion_window")
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > MAX_METADATA
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
            for k, v in metadata.items()
        )
    ):
        raise InvalidRequest(
            "'metadata' must map at most 16 keys (64 chars) to strings (512 chars).",
            param="metadata",
        )
    file_id = body.get("input_file_id")
    found = await records.get(db, key.account_id, file_id) if isinstance(file_id, str) else None
    if found is None:
        raise NotFound("No such input file.", param="input_file_id")
    if found["purpose"] != "batch":
        raise InvalidRequest("The input file's purpose must be 'batch'.", param="input_file_id")
    row = await store.create(
        db,
        {
            "id": store.new_batch_id(),
            "account_id": key.account_id,
            "key_id": key.key_id,
            "sub_account_id": key.sub_account_id,
            "tag": read_tag(request),
            "endpoint": endpoint,
            "input_file_id": file_id,
            "completion_window": "24h",
            "metadata": orjson.dumps(metadata).decode() if metadata else None,
        },
        window_s=request.app[SETTINGS].batch_completion_window_seconds,
    )
    request.app[BATCHES].wake()
    return json_response(store.view(row))


async def list_batches(request: web.Request) -> web.Response:
    key = await authenticate(request)
    db = request.app[DATABASE]

    async def fetch(after: str | None, limit: int) -> list[Any]:
        return await store.list_for(db, key.account_id, after, limit)

    return await list_page(request, fetch, store.view, default=20)


async def get_batch(request: web.Request) -> web.Response:
    key = await authenticate(request)
    row = await store.get(request.app[DATABASE], request.match_info["id"], key.account_id)
    if row is None:
        raise NotFound("No such batch.", param="id")
    return json_response(store.view(row))


async def cancel_batch(request: web.Request) -> web.Response:
    key = await authenticate(request)
    row = await store.cancel(request.app[DATABASE], request.match_info["id"], key.account_id)
    if row is None:
        raise NotFound("No such batch.", param="id")
    request.app[BATCHES].wake()
    return json_response(store.view(row))


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/batches", create_batch)
    app.router.add_get("/v1/batches", list_batches)
    app.router.add_get("/v1/batches/{id}", get_batch)
    app.router.add_post("/v1/batches/{id}/cancel", cancel_batch)
