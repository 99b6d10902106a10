"""The response cache on the request path: two hooks for the chat route, and its lifecycle.

``serve_from_cache`` runs after auth, rate limits and model resolution, before any
reservation: a hit is answered from memory (or one Redis GET), billed at the hit price and
logged with provider ``cache`` (``cache-semantic``), with no database round trip and, by
default, no wait for the ledger commit. ``remember`` stores a finished miss: a whole answer
from its body, a streamed one from the bytes the client was sent (a tee installed on the
response when it is prepared). Every consulted answer says ``X-Cache: hit | semantic-hit |
miss``; ``bypass`` when the cache was not consulted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aigw.billing.pricing import micro_cents_to_cents_str, micro_cents_to_usd
from aigw.cache import entry as entries
from aigw.cache.keys import CacheAsk, read_ask
from aigw.cache.redis_store import RedisCache
from aigw.cache.semantic import Payer, embedder_for
from aigw.cache.service import BYPASS, HIT, MISS, SEMANTIC_HIT, Hit, Lookup, ResponseCache
from aigw.cache.store import CacheBackend, MemoryCache
from aigw.server.appkeys import BILLING, SETTINGS
from aigw.server.cache_embedder import catalog_embedder
from aigw.server.middleware import REQUEST_ID, request_id_of

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.core.usage import Usage
    from aigw.server.metering import Meter


CACHE: web.AppKey[ResponseCache] = web.AppKey("response_cache")
STATUS_HEADER = "X-Cache"
SCORE_HEADER = "X-Aig-Cache-Similarity"
_STATE: web.RequestKey[Lookup | str] = web.RequestKey("aigw_cache", object)  # type: ignore[arg-type]
_CACHED_MODELS: dict[tuple[str, str], Model] = {}


def setup(app: web.Application) -> None:
    """Wire the cache into the app: its store, the response tee, ``DELETE /v1/cache``."""
    from aigw.server.routes import cache as cache_routes

    app.cleanup_ctx.append(_lifecycle)
    app.on_response_prepare.append(_on_prepare)
    cache_routes.setup_routes(app)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.cache_enabled:
        yield
        return
    backend: CacheBackend
    if settings.redis_url:
        backend = RedisCache(settings.redis_url, timeout=settings.redis_timeout_ms / 1000)
    else:
        backend = MemoryCache(settings.cache_max_bytes)
    cache = ResponseCache(
        backend,
        default_mode=settings.cache_mode,
        ttl=settings.cache_ttl_seconds,
        similarity=settings.cache_similarity,
        hit_percent=settings.cache_hit_price_percent,
        max_entry_bytes=settings.cache_max_entry_bytes,
        embedder=embedder_for(settings.cache_embedding_model, catalog_embedder(app)),
    )
    app[CACHE] = cache
    try:
        yield
    finally:
        await cache.close()


async def serve_from_cache(
    request: web.Request, meter: Meter, body: dict[str, Any], stream: bool
) -> web.Response | None:
    """A hit's whole answer, or None (the request goes upstream; a miss is remembered)."""
    found = await find(request, meter, body, ResponseCache.plan)
    if found is None:
        return None
    cache, lookup, hit = found
    if hit is None:
        missed(request, lookup, stream)
        return None
    return await _serve_hit(request, meter, cache, hit, body, stream)


# Plans a request's lookup (chat: ResponseCache.plan; /v1/messages: cache/messages_keys.plan).
Planner = Callable[[ResponseCache, CacheAsk, str, str, dict[str, Any]], Lookup | None]


async def find(
    request: web.Request, meter: Meter, body: dict[str, Any], planner: Planner
) -> tuple[ResponseCache, Lookup, Hit | None] | None:
    """Consult the cache: (cache, lookup, the hit or None), or None when the request does not
    use it (no cache, or bypassed: recorded for the response's cache header)."""
    cache = request.app.get(CACHE)
    if cache is None or meter.key is None or meter.model is None:
        return None
    ask = read_ask(
        request.headers,
        default_mode=cache.default_mode,
        default_ttl=cache.ttl,
        default_similarity=cache.similarity,
    )
    lookup = planner(cache, ask, meter.key.account_id, meter.model.id, body)
    if lookup is None:
        consulted(request, BYPASS)
        return None
    if lookup.scope is not None:  # semantic: an upstream embedding model bills the caller
        lookup.payer = Payer(meter.key, meter.tag)
    return cache, lookup, await cache.lookup(lookup)


def missed(request: web.Request, lookup: Lookup, stream: bool) -> None:
    """The request goes upstream; its answer is stored (a stream's bytes as they are sent)."""
    lookup.status = MISS
    if stream:
        lookup.capture = []
    consulted(request, lookup)


async def _serve_hit(
    request: web.Request,
    meter: Meter,
    cache: ResponseCache,
    hit: Hit,
    body: dict[str, Any],
    stream: bool,
) -> web.Response:
    headers = await bill_hit(request, meter, cache, hit, hit.entry.usage)
    headers[REQUEST_ID] = request_id_of(request)
    usd = micro_cents_to_usd(meter.cost or 0)
    if stream:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        payload = entries.stream_answer(hit.entry, include_usage=include_usage, cost_usd=usd)
        headers["Cache-Control"] = "no-cache"
        return web.Response(body=payload, content_type="text/event-stream", headers=headers)
    payload = entries.whole_answer(hit.entry, usd)
    return web.Response(body=payload, content_type="application/json", headers=headers)


async def bill_hit(
    request: web.Request, meter: Meter, cache: ResponseCache, hit: Hit, usage: Usage | None
) -> dict[str, str]:
    """Charge a hit at the hit price (402 when it does not fit) and log it as provider
    ``cache``; the answer's cache headers (the caller adds its request id)."""
    assert meter.key is not None and meter.model is not None
    billing = request.app[BILLING]
    cost = cache.hit_cost(hit.entry)
    meter.model = _as_cached(meter.model, hit.semantic)
    meter.usage, meter.cost = usage, cost
    charged, fee = billing.charge_for(cost, byok=False, total_tokens=0)
    reservation = await billing.reserve(meter.key, charged, meter.tag)  # 402 when it won't fit
    meter.billing, meter.reservation, meter.billed = billing, reservation, True
    charge = await billing.settle(
        reservation,
        meter.key,
        request_id=meter.request_id,
        charged=charged,
        fee=fee,
        tag=meter.tag,
    )
    meter.charged = charged if reservation is not None else 0
    if request.app[SETTINGS].cache_hit_wait_for_commit:
        await billing.commit(charge, reservation)
    else:
        billing.commit_soon(charge, reservation)
    headers = {
        STATUS_HEADER: SEMANTIC_HIT if hit.semantic else HIT,
        "X-Cost-Cents": micro_cents_to_cents_str(cost),
        **meter.rate_headers,
    }
    if hit.score is not None:
        headers[SCORE_HEADER] = f"{hit.score:.4f}"
    meter.mark_first_byte()
    return headers


def consulted(request: web.Request, state: Lookup | str) -> None:
    """Record how the cache treated this request (labels and tees its answer on prepare)."""
    request[_STATE] = state


def lookup_of(request: web.Request) -> Lookup | None:
    """This request's miss, when its answer is to be stored."""
    state = request.get(_STATE)
    return state if isinstance(state, Lookup) and state.status == MISS else None


def _as_cached(model: Model, semantic: bool) -> Model:
    """The model as the request log and metrics see a hit: provider ``cache``."""
    provider = "cache-semantic" if semantic else "cache"
    cached = _CACHED_MODELS.get((model.id, provider))
    if cached is None or cached.price is not model.price:
        cached = dataclasses.replace(model, provider=provider, deployments=())
        _CACHED_MODELS[(model.id, provider)] = cached
    return cached


def remember(request: web.Request, meter: Meter, response: web.StreamResponse) -> None:
    """Store a miss's finished answer (in the background), if it ended well."""
    lookup = request.get(_STATE)
    if not isinstance(lookup, Lookup) or lookup.status != MISS or meter.status != 200:
        return
    cache = request.app.get(CACHE)
    if cache is None or meter.model is None or response.status != 200:
        return
    if lookup.capture is None:
        if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return
        entry = entries.from_whole(response.body, meter.cost)
    else:
        if lookup.captured > cache.max_entry_bytes:
            return
        sse = b"".join(lookup.capture)
        entry = entries.from_stream(sse, meter.model.id, meter.usage, meter.cost)
    if entry is None:
        return
    cache.store_soon(lookup, entry)


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Label the answer; tee a streamed miss's bytes so it can be stored once complete."""
    state = request.get(_STATE)
    if state is None or response.status != 200:
        return
    if isinstance(state, str):
        response.headers[STATUS_HEADER] = state
        return
    response.headers[STATUS_HEADER] = state.status
    capture = state.capture
    if capture is None or isinstance(response, web.Response):
        return
    write, write_eof = response.write, response.write_eof
    limit = request.app[CACHE].max_entry_bytes

    def keep(data: bytes | bytearray | memoryview) -> None:
        if state.captured <= limit:
            state.captured += len(data)
            capture.append(bytes(data))

    async def tee(data: bytes | bytearray | memoryview) -> None:
        keep(data)
        await write(data)

    async def tee_eof(data: bytes = b"") -> None:  # the relays send the last frame with it
        if data:
            keep(data)
        await write_eof(data)

    response.write = tee  # type: ignore[method-assign]
    response.write_eof = tee_eof  # type: ignore[method-assign]
