"""``POST /v1/messages`` (and ``/anthropic/v1/messages``): Anthropic's Messages API for every
catalog model, plus ``/v1/messages/count_tokens``.

Auth by ``x-api-key`` or Bearer; ``anthropic-version`` is accepted and not needed. A bare
Claude name (``claude-sonnet-4-5``) resolves to ``anthropic/*``. Claude models pass through
(the body goes upstream as sent, the stream is forwarded with a light tap); any other model is
translated to and from the gateway's OpenAI-format request. Errors use Anthropic's shape.
Billing, reservations and the request log are those of ``/v1/chat/completions``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from aigw.billing.estimate import typical_prompt_tokens
from aigw.core.chat import Completion
from aigw.errors import (
    GatewayError,
    GatewayTimeout,
    InvalidRequest,
    PayloadTooLarge,
    ServerError,
    UpstreamError,
)
from aigw.formats import anthropic_inbound as inbound
from aigw.formats.anthropic_messages import (
    completion_to_anthropic,
    error_body,
    usage_from_anthropic,
)
from aigw.formats.anthropic_stream import AnthropicEventWriter, AnthropicStreamTap
from aigw.net import Response, TransportError
from aigw.providers.anthropic import AnthropicAdapter
from aigw.routing import retry
from aigw.routing.auto import absorb_headers, is_auto
from aigw.routing.resolve import resolve_model
from aigw.routing.router import Route
from aigw.server.appkeys import (
    BILLING,
    BYOK,
    CATALOG,
    LIMITS,
    PROVIDERS,
    ROUTER,
    SETTINGS,
)
from aigw.server.auth import authenticate
from aigw.server.messages_cache import remember_messages, serve_messages_from_cache
from aigw.server.metering import CLIENT_CLOSED, Meter
from aigw.server.middleware import (
    REQUEST_ID,
    anthropic_error_response,
    client_request_id,
    gateway_request_id,
    request_ids,
)
from aigw.server.observe import end_request
from aigw.server.relay import finish_stream, send_now
from aigw.server.routed import MessagesCalls, adopt, first_name, reservation_ceiling
from aigw.server.routes.chat import read_tag
from aigw.server.translated import SSE, Writer, relay_answer, stream_chunks

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Model

_STOP_EVENT = b"event: message_stop"


def resolve_messages_model(catalog: Catalog, name: str) -> Model:
    """Catalog ids as on ``/v1/chat/completions``; a bare Claude name is Anthropic's model."""
    if "/" not in name and name.startswith("claude"):
        found = catalog.get("anthropic/" + name)
        if found is not None:
            return found
    return resolve_model(catalog, name)


def error_response(err: GatewayError, request: web.Request) -> web.Response:
    return anthropic_error_response(err, *request_ids(request))


def _http_error(exc: web.HTTPException) -> GatewayError:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge("Request body is too large.")
    if exc.status < 500:
        return InvalidRequest(exc.reason)
    return ServerError("Internal error.")


class AnthropicClient:
    """The answer as Anthropic's Message, stream events and errors."""

    def __init__(self, meter: Meter, request_id: str) -> None:
        self._meter = meter
        self._request_id = request_id

    def body(self, completion: Completion) -> bytes:
        assert self._meter.model is not None
        return orjson.dumps(completion_to_anthropic(completion, self._meter.model.id))

    def writer(self, upstream_id: str) -> Writer:
        assert self._meter.model is not None
        return AnthropicEventWriter(id=upstream_id, model=self._meter.model.id)

    def stream_error(self, writer: Writer, err: GatewayError) -> bytes:
        assert isinstance(writer, AnthropicEventWriter)
        return writer.error(err, self._request_id)


async def messages(request: web.Request) -> web.StreamResponse:
    meter = Meter(gateway_request_id(request), client_request_id(request))
    try:
        response = await _handle(request, meter)
        remember_messages(request, meter, response)  # a cacheable miss that ended well
        await send_now(request, response, meter)
        return response
    except GatewayError as err:
        meter.fail(err)
        return error_response(err, request)
    except web.HTTPException as exc:
        mapped = _http_error(exc)
        meter.fail(mapped)
        return error_response(mapped, request)
    except BaseException:
        meter.crashed()
        raise
    finally:
        await end_request(request.app, meter, "messages")


async def _handle(request: web.Request, meter: Meter) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    meter.key = key = await authenticate(request)
    billing = app[BILLING]
    meter.limits = app[LIMITS].for_key(key, billing.sub_rpm(key))
    meter.rate_headers = (await app[LIMITS].acquire(meter.limits)).headers()
    meter.tag = read_tag(request) or billing.default_tag(key)
    raw = await request.read()
    body = inbound.parse_request(raw)
    if is_auto(body["model"]):  # the auto-router's header forms of its body fields
        absorb_headers(body, request.headers)
    meter.model_name = first_name(body["model"])
    stream = bool(body.get("stream"))
    meter.streamed = stream
    router = app[ROUTER]
    plan = router.plan(body, key.account_id, app[BYOK], resolve_messages_model)
    meter.model = plan.candidates[0].model
    if (hit := await serve_messages_from_cache(request, meter, body, stream)) is not None:
        return hit
    translated = inbound.to_openai(body)
    meter.prompt_estimate = typical_prompt_tokens(len(raw))
    meter.billing = billing
    ceiling = reservation_ceiling(plan, translated, len(raw), settings, billing)
    meter.reservation = await billing.reserve(key, ceiling, meter.tag)
    route = Route(plan)
    beta = request.headers.get("anthropic-beta")
    calls = MessagesCalls(app, settings, body, translated, stream=stream, beta=beta)
    try:  # retries and fallbacks before the first byte
        await router.send(route, calls.prepare, stream=stream)
    finally:
        adopt(meter, route)
    assert calls.call is not None
    headers = {REQUEST_ID: client_request_id(request) or meter.request_id, **route.headers()}
    headers.update(meter.rate_headers)
    if plan.auto is not None and route.candidate is not None:
        headers.update(plan.auto.headers(route.candidate.model.id))
    if not calls.passthrough:
        client = AnthropicClient(meter, meter.request_id)
        return await relay_answer(request, meter, route, calls.call, client, headers)
    if route.response is not None:
        return await _tap_stream(request, route.response, route.first, meter, headers)
    return await _whole_message(route.body, meter, headers)


async def _whole_message(
    answer: tuple[dict[str, Any], int], meter: Meter, headers: dict[str, str]
) -> web.Response:
    """A Claude model's whole answer, passed through with the gateway's model id."""
    assert meter.model is not None
    data, size = answer
    meter.mark_first_byte()
    meter.price(usage_from_anthropic(data.get("usage")) or meter.estimate_usage(size // 8))
    data["model"] = meter.model.id
    await meter.bill()
    return web.Response(
        body=orjson.dumps(data),
        content_type="application/json",
        headers={**headers, **meter.cost_headers()},
    )


async def _tap_stream(
    request: web.Request,
    upstream_response: Response,
    first: bytes,
    meter: Meter,
    headers: dict[str, str],
) -> web.StreamResponse:
    assert meter.model is not None
    response = web.StreamResponse(
        status=200, headers={**headers, "Content-Type": SSE, "Cache-Control": "no-cache"}
    )
    tap = AnthropicStreamTap(gateway_model=meter.model.id)
    await response.prepare(request)
    client_gone = False
    ending = b""  # message_stop (or an error) waits until the charge is committed
    events = 0
    try:
        async for chunk in stream_chunks(first, upstream_response):
            out = tap.feed(chunk)
            events += out.count(b"\n\n")
            if tap.done and _STOP_EVENT in out:
                cut = out.rindex(_STOP_EVENT)
                out, ending = out[:cut], out[cut:]
            if out:
                meter.mark_first_byte()
                await response.write(out)
            if tap.malformed:
                break
        out = b"" if tap.malformed else tap.finish()
        if out:
            await response.write(out)
        if tap.malformed:
            ending = _stream_error(
                meter, UpstreamError("The upstream sent a malformed stream event.")
            )
        elif tap.error is not None:
            meter.fail(tap.error)
        elif not tap.done:
            ending = _stream_error(meter, UpstreamError("The upstream stream ended early."))
    except ConnectionResetError:
        client_gone = True
    except asyncio.CancelledError:
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
        _tap_produced(meter, tap, upstream_response, True, events)
        await meter.bill()  # what was produced is billed even when the client hung up
        raise
    except TimeoutError:
        ending = _stream_error(meter, GatewayTimeout("The upstream stream timed out."))
    except TransportError:
        ending = _stream_error(meter, UpstreamError("The upstream stream broke off."))
    _tap_produced(meter, tap, upstream_response, client_gone, events)
    return await finish_stream(response, meter, ending, client_gone=client_gone)


def _tap_produced(
    meter: Meter,
    tap: AnthropicStreamTap,
    upstream_response: Response,
    client_gone: bool,
    events: int,
) -> None:
    if client_gone or not tap.done:
        upstream_response.close()  # cancels the upstream call
    else:
        upstream_response.release()
    meter.price(tap.usage or meter.estimate_usage(events))


def _stream_error(meter: Meter, err: GatewayError) -> bytes:
    meter.fail(err)
    data = {"type": "error", "error": error_body(err, meter.request_id)["error"]}
    return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"


async def count_tokens(request: web.Request) -> web.StreamResponse:
    """Anthropic's count for Claude models; an estimate from the text size for others."""
    try:
        await authenticate(request)
        raw = await request.read()
        body = inbound.parse_request(raw, require_max_tokens=False)
        model = resolve_messages_model(request.app[CATALOG], first_name(body["model"]) or "")
        upstream = request.app[PROVIDERS].upstream(model.provider)
        if isinstance(upstream.adapter, AnthropicAdapter) and upstream.endpoint.api_key:
            body["model"] = model.upstream_id
            body.pop("max_tokens", None)
            response = await retry.send(
                upstream,
                upstream.adapter.count_tokens_url(upstream.endpoint),
                upstream.adapter.headers(upstream.endpoint),
                orjson.dumps(body),
                max_attempts=2,
                deadline=time.monotonic() + 30,
            )
            try:
                data = orjson.loads(await response.read())
            except orjson.JSONDecodeError:
                data = None
            finally:
                response.release()
            tokens = data.get("input_tokens") if isinstance(data, dict) else None
        else:
            tokens = None
        if not isinstance(tokens, int):
            tokens = inbound.estimate_tokens(body)
        return web.Response(
            body=orjson.dumps({"input_tokens": tokens}), content_type="application/json"
        )
    except GatewayError as err:
        return error_response(err, request)
    except (TransportError, TimeoutError):
        return error_response(UpstreamError("The upstream provider did not answer."), request)
    except web.HTTPException as exc:
        return error_response(_http_error(exc), request)


def setup_routes(app: web.Application) -> None:
    for prefix in ("", "/anthropic"):
        app.router.add_post(prefix + "/v1/messages", messages)
        app.router.add_post(prefix + "/v1/messages/count_tokens", count_tokens)
