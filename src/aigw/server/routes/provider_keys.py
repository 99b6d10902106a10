"""BYOK API: ``/v1/provider-keys`` (add, list, delete an account's own provider keys)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.errors import InvalidRequest, PermissionDenied
from aigw.server.appkeys import BYOK, CATALOG, DATABASE
from aigw.server.auth import authenticate
from aigw.store import provider_keys as store


async def _owner(request: web.Request) -> KeyInfo:
    key = await authenticate(request)
    if key.sub_account_id is not None:
        raise PermissionDenied("A sub-account key cannot manage provider keys.")
    return key


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _view(record: store.ProviderKeyRecord) -> dict[str, Any]:
    data = asdict(record)
    data["object"] = "provider_key"
    return data


async def add(request: web.Request) -> web.Response:
    key = await _owner(request)
    try:
        body = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON.", param="body") from None
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    provider, api_key = body.get("provider"), body.get("api_key")
    if not isinstance(provider, str) or request.app[CATALOG].provider(provider) is None:
        raise InvalidRequest("'provider' must be a provider id from the catalog.", param="provider")
    if not isinstance(api_key, str):
        raise InvalidRequest("'api_key' is required.", param="api_key")
    byok = request.app[BYOK]
    record = await store.add_provider_key(
        request.app[DATABASE], byok.box, key.account_id, provider, api_key
    )
    await byok.refresh()
    return _json(_view(record), status=201)


async def list_keys(request: web.Request) -> web.Response:
    key = await _owner(request)
    found = await store.list_provider_keys(request.app[DATABASE], key.account_id)
    return _json({"object": "list", "data": [_view(r) for r in found]})


async def delete(request: web.Request) -> web.Response:
    key = await _owner(request)
    record = await store.revoke_provider_key(
        request.app[DATABASE], key.account_id, request.match_info["id"]
    )
    request.app[BYOK].forget(record.id)
    return _json({**_view(record), "deleted": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/provider-keys", add)
    app.router.add_get("/v1/provider-keys", list_keys)
    app.router.add_delete("/v1/provider-keys/{id}", delete)
