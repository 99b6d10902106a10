"""Route resolution with a dict in front: ``(method, path)`` → route for plain paths.

aiohttp's ``UrlDispatcher.resolve`` walks the path's parts backwards through its resource
index and awaits each candidate's own ``resolve`` coroutine; with the API, admin and web UI
routes registered that was ~4% of the event loop's CPU under load. Every exact-path route
(``POST /v1/chat/completions``, ``POST /v1/messages``, ``GET /v1/models`` ...) is looked up
here with one dict probe instead, built when the router freezes (at app start, after which
no route can be added).

Only a hit takes the fast path, and only where the normal walk is known to reach the same
route first: the resource is a plain one whose index entry is its own path, and every
resource registered before it under that entry is plain too (a plain resource matches one
exact path, so none of them can match first unless it has the same path and method, which
the table keeps by registration order). Everything else (a method the path does not allow,
variable paths, unknown paths, domain sub-apps) goes to aiohttp's own ``resolve``, so 404,
405, HEAD and ``match_info`` are exactly what aiohttp gives.

``web.Application(router=...)`` is deprecated in aiohttp 3.x (it warns), so ``install``
switches the app's own ``UrlDispatcher`` to this subclass, which adds no state to an
instance's layout beyond its ``__dict__``.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.web_urldispatcher import (
    AbstractRoute,
    MatchedSubAppResource,
    PlainResource,
    UrlDispatcher,
    UrlMappingMatchInfo,
)


class FastDispatcher(UrlDispatcher):
    """``UrlDispatcher`` with an exact ``(method, path)`` table consulted first."""

    _exact: dict[tuple[str, str], AbstractRoute] = {}  # replaced on freeze

    async def resolve(self, request: web.Request) -> UrlMappingMatchInfo:
        route = self._exact.get((request.method, request.rel_url.path_safe))
        if route is not None:
            return UrlMappingMatchInfo({}, route)  # what PlainResource.resolve builds
        return await super().resolve(request)

    def freeze(self) -> None:
        super().freeze()  # plain resources settle their path ("" → "/") here
        self._exact = exact_routes(self)


def exact_routes(router: UrlDispatcher) -> dict[tuple[str, str], AbstractRoute]:
    """The ``(method, path)`` pairs the normal walk resolves to a plain route at once."""
    table: dict[tuple[str, str], AbstractRoute] = {}
    # Domain sub-apps are matched before the index walk, by rules other than the path.
    if any(isinstance(r, MatchedSubAppResource) for r in router.resources()):
        return table
    first_in_entry: dict[str, bool] = {}  # index entry → only plain resources so far
    for resource in router.resources():
        path = resource.canonical
        plain = type(resource) is PlainResource
        entry = _index_key(path)
        clean = first_in_entry.get(entry, True) and plain
        first_in_entry[entry] = clean
        if not clean or entry != path:
            continue
        for route in resource:
            method = route.method
            if method == hdrs.METH_ANY:
                continue
            table.setdefault((method, path), route)
    return table


def _index_key(canonical: str) -> str:
    """The resource index entry aiohttp files a resource under (``_get_resource_index_key``)."""
    key = canonical
    if "{" in key:
        key = key.partition("{")[0].rpartition("/")[0]
    return key.rstrip("/") or "/"


def install(app: web.Application) -> None:
    """Give ``app`` the fast dispatcher (before it starts: the table is built on freeze)."""
    router = app.router
    if type(router) is UrlDispatcher:
        router.__class__ = FastDispatcher
