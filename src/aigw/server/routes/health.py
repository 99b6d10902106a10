"""``GET /v1/health/providers`` (each deployment's breaker and trailing-window statistics) and
``GET /metrics`` (Prometheus). Like the catalog endpoints, neither needs a key: they show how
upstreams behave, never who called them."""

from __future__ import annotations

import orjson
from aiohttp import web

from aigw.observability.metrics import CONTENT_TYPE
from aigw.server.appkeys import OBSERVER, SETTINGS


async def providers_health(request: web.Request) -> web.Response:
    view = request.app[OBSERVER].health.view()
    return web.Response(body=orjson.dumps(view), content_type="application/json")


async def metrics(request: web.Request) -> web.Response:
    text = request.app[OBSERVER].exposition()
    return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/health/providers", providers_health)
    if app[SETTINGS].metrics_enabled:
        app.router.add_get("/metrics", metrics)
