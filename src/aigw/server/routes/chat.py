"""``POST /v1/chat/completions``: the hot path.

auth (memory) → parse and check → resolve model → upstream (retries before the first byte)
→ relay (whole or streamed) → request log (buffered, off the response path).
"""

from __future__ import annotations

import time
from dataclasses import replace

from aiohttp import web

from aigw.billing.estimate import max_prompt_tokens, reserve_amount, typical_prompt_tokens
from aigw.errors import GatewayError, InvalidRequest
from aigw.formats.openai_chat import parse_request, prepare_upstream
from aigw.providers.base import translator_of
from aigw.providers.registry import ProviderRegistry
from aigw.routing import retry
from aigw.routing.resolve import resolve_model
from aigw.server.appkeys import (
    BILLING,
    BYOK,
    CATALOG,
    LIMITS,
    PROVIDERS,
    REQUEST_LOG,
    SETTINGS,
)
from aigw.server.auth import authenticate
from aigw.server.metering import MAX_TAG, Meter
from aigw.server.middleware import (
    REQUEST_ID,
    client_request_id,
    gateway_request_id,
    request_id_of,
)
from aigw.server.relay import relay_json, relay_stream
from aigw.server.translated import relay_translated

TAG_HEADER = "x-aig-tag"


def read_tag(request: web.Request) -> str | None:
    tag = request.headers.get(TAG_HEADER)
    if tag is None:
        return None
    if len(tag) > MAX_TAG or not tag.isprintable():
        raise InvalidRequest(
            f"Header '{TAG_HEADER}' must be at most {MAX_TAG} printable characters.",
            param=TAG_HEADER,
        )
    return tag or None


async def chat_completions(request: web.Request) -> web.StreamResponse:
    app = request.app
    meter = Meter(gateway_request_id(request), client_request_id(request))
    try:
        return await _handle(request, meter)
    except GatewayError as err:
        meter.fail(err)
        raise
    except BaseException:
        if meter.status == 200:
            meter.status, meter.error_type = 500, "server_error"
        raise
    finally:
        await meter.release()  # no-op once billed; a call that failed before its answer is free
        meter.write(app[REQUEST_LOG])
        if meter.limits and meter.usage is not None:
            app[LIMITS].count_tokens(meter.limits, meter.usage.total_tokens)


async def _handle(request: web.Request, meter: Meter) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    meter.key = key = await authenticate(request)
    billing = app[BILLING]
    limits = app[LIMITS]
    meter.limits = limits.for_key(key, billing.sub_rpm(key))
    meter.rate_headers = (await limits.acquire(meter.limits)).headers()
    meter.tag = read_tag(request) or billing.default_tag(key)
    raw = await request.read()
    body = parse_request(raw)
    meter.model_name = body["model"]
    model = resolve_model(app[CATALOG], body["model"])
    meter.model = model
    stream = bool(body.get("stream"))
    meter.streamed = stream
    upstream = app[PROVIDERS].upstream(model.provider)
    own_key = app[BYOK].pick(key.account_id, model.provider, body.get("provider_key_id"))
    if own_key is not None:  # the account's own provider key: the provider bills it directly
        upstream = replace(upstream, endpoint=replace(upstream.endpoint, api_key=own_key.secret))
        meter.byok = True
    ProviderRegistry.require_key(upstream.endpoint)
    meter.prompt_estimate = typical_prompt_tokens(len(raw))
    meter.billing = billing
    ceiling = reserve_amount(model, body, max_prompt_tokens(len(raw)), settings)
    if meter.byok:
        ceiling = billing.byok_ceiling(model, body, max_prompt_tokens(len(raw)), settings)
    meter.reservation = await billing.reserve(key, ceiling, meter.tag)
    if translator_of(upstream.adapter) is not None:
        return await relay_translated(request, meter, body, model, upstream, settings)
    payload, show_usage = prepare_upstream(body, model.upstream_id, stream=stream)
    url = upstream.adapter.chat_url(upstream.endpoint, model.upstream_id, stream=stream)
    upstream_response = await retry.send(
        upstream,
        url,
        upstream.adapter.headers(upstream.endpoint),
        payload,
        max_attempts=settings.upstream_max_attempts,
        deadline=time.monotonic() + settings.upstream_total_timeout,
    )
    base_headers = {
        REQUEST_ID: request_id_of(request),
        "x-aig-provider": model.provider,
        **meter.rate_headers,
    }
    if stream and upstream_response.content_type == "text/event-stream":
        return await relay_stream(
            request,
            upstream_response,
            meter,
            base_headers,
            upstream_model=model.upstream_id,
            show_usage=show_usage,
        )
    return await relay_json(upstream_response, meter, base_headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
