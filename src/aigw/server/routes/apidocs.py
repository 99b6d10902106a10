"""``/openapi.json``, ``/llms.txt`` and ``/llms-full.txt``: built once, at first request,
from the registered routes and the loaded catalog (neither changes while running)."""

from __future__ import annotations

import orjson
from aiohttp import web

from aigw.apidocs import llms, openapi
from aigw.server.appkeys import CATALOG

_CACHE: web.AppKey[dict[str, bytes]] = web.AppKey("apidocs_cache", dict)


def _cached(app: web.Application, name: str) -> bytes:
    cache = app[_CACHE]
    if name not in cache:
        if name == "openapi":
            cache[name] = orjson.dumps(openapi.build(app))
        elif name == "short":
            cache[name] = llms.short(app[CATALOG]).encode()
        else:
            cache[name] = llms.full(app[CATALOG]).encode()
    return cache[name]


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=_cached(request.app, "openapi"), content_type="application/json")


async def llms_txt(request: web.Request) -> web.Response:
    return web.Response(body=_cached(request.app, "short"), content_type="text/plain")


async def llms_full_txt(request: web.Request) -> web.Response:
    return web.Response(body=_cached(request.app, "full"), content_type="text/plain")


def setup_routes(app: web.Application) -> None:
    app[_CACHE] = {}
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/llms.txt", llms_txt)
    app.router.add_get("/llms-full.txt", llms_full_txt)
