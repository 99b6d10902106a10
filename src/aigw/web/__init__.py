"""The web UI: model pages, catalog, rankings, playground, compare and the dashboard.

Pages are server-rendered from memory (the catalog, and adoption figures cached by
``AdoptionCache``); the playground, compare and dashboard add light JavaScript that calls the
gateway's own JSON API with the user's key. Every asset is served from this package: the UI
works with no internet connection. ``setup_routes(app)`` wires it into the app factory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from aigw.server.appkeys import DATABASE
from aigw.web import api_reference, mcp_inspect, pages
from aigw.web.adoption import AdoptionCache
from aigw.web.render import static_file

__all__ = ["setup_routes"]


async def _adoption(app: web.Application) -> AsyncIterator[None]:
    """Runs after the app's own lifecycle has opened the database."""
    cache = AdoptionCache(app[DATABASE])
    app[pages.ADOPTION] = cache
    try:
        yield
    finally:
        await cache.close()


def setup_routes(app: web.Application) -> None:
    """Register the pages and static files (public: no key needed to view them)."""
    app.cleanup_ctx.append(_adoption)
    app.router.add_get("/", pages.index)
    app.router.add_get("/models", pages.catalog_page)
    app.router.add_get("/models/{model_id:.+}", pages.model_detail)
    app.router.add_get("/rankings", pages.rankings_page)
    app.router.add_get("/playground", pages.playground_page)
    app.router.add_get("/compare", pages.compare_page)
    app.router.add_get("/dashboard", pages.dashboard_page)
    app.router.add_get("/static/{name}", static_file)
    api_reference.setup_routes(app)
    app.router.add_get("/mcp/inspect", mcp_inspect.inspect_page)
