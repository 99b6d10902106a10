"""``POST /v1/chat/completions``: the hot path.

auth (memory) → parse and check → plan (model or models → deployments, routing/router.py)
→ reserve the dearest candidate's maximum → send (retries and fallbacks before the first
byte) → relay (whole or streamed) → request log (buffered, off the response path), health
and metrics (server/observe.py).
"""

from __future__ import annotations

from aiohttp import web

from aigw.billing.estimate import typical_prompt_tokens
from aigw.errors import GatewayError, InvalidRequest
from aigw.formats.openai_chat import parse_request
from aigw.replays.hooks import keep_for_replay, offer_shadow
from aigw.routing.auto import absorb_headers, is_auto
from aigw.routing.router import ATTEMPTS_HEADER, POLICY_HEADER, PROVIDER_HEADER, Route
from aigw.server.appkeys import (
    BILLING,
    BYOK,
    LIMITS,
    ROUTER,
    SETTINGS,
)
from aigw.server.auth import authenticate
from aigw.server.cache import remember, serve_from_cache
from aigw.server.metering import MAX_TAG, Meter
from aigw.server.middleware import REQUEST_ID, request_ids
from aigw.server.observe import end_request
from aigw.server.relay import relay_json, relay_stream, send_now
from aigw.server.routed import ChatCalls, adopt, attempts_text, first_name, reservation_ceiling
from aigw.server.translated import OpenAIClient, relay_answer

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
    meter = Meter(*request_ids(request))  # the ids the middleware worked out
    try:
        response = await _handle(request, meter)
        remember(request, meter, response)  # a cacheable miss that ended well is stored
        await send_now(request, response, meter)
        return response
    except GatewayError as err:
        meter.fail(err)
        raise
    except BaseException:
        meter.crashed()
        raise
    finally:
        await end_request(app, meter, "chat")
        offer_shadow(app, meter)  # mirrored in the background, never awaited here


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
    if is_auto(body["model"]):  # the auto-router's header forms of its body fields
        absorb_headers(body, request.headers)
    await app[ROUTER].resolve_alias(body, key.account_id)  # eval:<run_id> → its winner
    keep_for_replay(app, meter, raw)
    meter.model_name = first_name(body["model"])
    stream = bool(body.get("stream"))
    meter.streamed = stream
    router = app[ROUTER]
    plan = router.plan(body, key.account_id, app[BYOK])  # model(s) → deployments, in order
    meter.model = plan.candidates[0].model
    if (hit := await serve_from_cache(request, meter, body, stream)) is not None:
        return hit
    meter.prompt_estimate = typical_prompt_tokens(len(raw))
    meter.billing = billing
    ceiling = reservation_ceiling(plan, body, len(raw), settings, billing)
    meter.reservation = await billing.reserve(key, ceiling, meter.tag)
    route = Route(plan)
    calls = ChatCalls(app, settings, body, stream)
    try:  # retries and fallbacks before the first byte
        await router.send(route, calls.prepare, stream=stream)
    finally:
        adopt(meter, route)  # bill and log the deployment that answered (or failed last)
    cand = route.candidate
    assert cand is not None and calls.call is not None
    headers = {
        REQUEST_ID: meter.client_request_id or meter.request_id,  # as request_id_of
        PROVIDER_HEADER: cand.model.provider,
        POLICY_HEADER: plan.policy,
        ATTEMPTS_HEADER: attempts_text(route.attempts),
        **meter.rate_headers,
    }
    if plan.auto is not None:  # X-Routing-* / X-Auto-*: also sent before a stream's first chunk
        headers.update(plan.auto.headers(cand.model.id))
    if cand.upstream.translator is not None:
        client = OpenAIClient(meter, include_usage=calls.show_usage)
        return await relay_answer(request, meter, route, calls.call, client, headers)
    if route.response is None:
        return await relay_json(route.body, meter, headers)
    return await relay_stream(
        request,
        route.response,
        meter,
        headers,
        upstream_model=cand.model.upstream_id,
        show_usage=calls.show_usage,
        first=route.first,
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
