"""``DELETE /v1/cache``: flush the calling account's cached answers (exact and semantic)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from aigw.server.auth import authenticate
from aigw.server.cache import CACHE


async def clear_cache(request: web.Request) -> web.Response:
    key = await authenticate(request)
    body = await clear_for(request.app, key.account_id)
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def clear_for(app: web.Application, account_id: str) -> dict[str, Any]:
    """Flush one account's cached answers (MCP's ``clear_cache`` too)."""
    cache = app.get(CACHE)
    deleted = await cache.clear(account_id) if cache is not None else 0
    return {"object": "cache", "cleared": True, "deleted": deleted}


def setup_routes(app: web.Application) -> None:
    app.router.add_delete("/v1/cache", clear_cache)
