"""``DELETE /v1/cache``: flush the calling account's cached answers (exact and semantic)."""

from __future__ import annotations

import orjson
from aiohttp import web

from aigw.server.auth import authenticate
from aigw.server.cache import CACHE


async def clear_cache(request: web.Request) -> web.Response:
    key = await authenticate(request)
    cache = request.app.get(CACHE)
    deleted = await cache.clear(key.account_id) if cache is not None else 0
    body = {"object": "cache", "cleared": True, "deleted": deleted}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def setup_routes(app: web.Application) -> None:
    app.router.add_delete("/v1/cache", clear_cache)
