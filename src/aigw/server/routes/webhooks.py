"""Webhook secret (``GET /v1/webhook-secret``, ``POST /v1/webhook-secret/rotate``), the
account's endpoints (``/v1/webhooks``) and the delivery log (``/v1/webhooks/deliveries``)."""

from __future__ import annotations

from aiohttp import web

from aigw.errors import InvalidRequest, NotFound
from aigw.server.appkeys import DATABASE, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.common import json_response, query_limit, read_object
from aigw.webhooks import store
from aigw.webhooks.signing import EVENT_TYPES, HEADER
from aigw.webhooks.urls import check_url


async def get_secret(request: web.Request) -> web.Response:
    key = await authenticate(request)
    secret = await store.get_secret(request.app[DATABASE], key.account_id)
    return json_response({"secret": secret, "header": HEADER, "algorithm": "HMAC-SHA256"})


async def rotate_secret(request: web.Request) -> web.Response:
    key = await authenticate(request)
    secret = await store.rotate_secret(request.app[DATABASE], key.account_id)
    return json_response({"secret": secret, "header": HEADER, "algorithm": "HMAC-SHA256"})


async def add_endpoint(request: web.Request) -> web.Response:
    key = await authenticate(request)
    body = await read_object(request, ("url", "events"))
    url = await check_url(
        body.get("url"), allow_private=request.app[SETTINGS].webhook_allow_private, param="url"
    )
    events = body.get("events", list(EVENT_TYPES))
    if not isinstance(events, list) or not events or any(e not in EVENT_TYPES for e in events):
        raise InvalidRequest(
            f"'events' must be a non-empty list of: {', '.join(EVENT_TYPES)}.", param="events"
        )
    found = await store.add_endpoint(
        request.app[DATABASE], key.account_id, url, list(dict.fromkeys(events))
    )
    return json_response(found.view(), status=201)


async def list_endpoints(request: web.Request) -> web.Response:
    key = await authenticate(request)
    found = await store.list_endpoints(request.app[DATABASE], key.account_id)
    return json_response({"object": "list", "data": [e.view() for e in found]})


async def delete_endpoint(request: web.Request) -> web.Response:
    key = await authenticate(request)
    endpoint_id = request.match_info["id"]
    if not await store.delete_endpoint(request.app[DATABASE], key.account_id, endpoint_id):
        raise NotFound("No such webhook endpoint.", param="id")
    return json_response({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


async def list_deliveries(request: web.Request) -> web.Response:
    key = await authenticate(request)
    limit = query_limit(request, default=50, maximum=200)
    found = await store.deliveries_for(request.app[DATABASE], key.account_id, limit)
    return json_response({"object": "list", "data": found})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/webhook-secret", get_secret)
    app.router.add_post("/v1/webhook-secret/rotate", rotate_secret)
    app.router.add_post("/v1/webhooks", add_endpoint)
    app.router.add_get("/v1/webhooks", list_endpoints)
    app.router.add_get("/v1/webhooks/deliveries", list_deliveries)
    app.router.add_delete("/v1/webhooks/{id}", delete_endpoint)
