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
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from aiohttp import web

from aigw.billing.estimate import max_prompt_tokens, reserve_amount, typical_prompt_tokens
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
from aigw.providers.anthropic import AnthropicAdapter
from aigw.providers.registry import ProviderRegistry, Upstream
from aigw.routing import retry
from aigw.routing.resolve import resolve_model
from aigw.server.appkeys import BILLING, BYOK, CATALOG, LIMITS, PROVIDERS, REQUEST_LOG, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.metering import CLIENT_CLOSED, Meter
from aigw.server.middleware import REQUEST_ID, client_request_id, gateway_request_id
from aigw.server.routes.chat import read_tag
from aigw.server.translated import SSE, Writer, plan_call, provider_options, relay

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
    rid = gateway_request_id(request)
    headers = err.headers()
    headers[REQUEST_ID] = client_request_id(request) or rid
    return web.Response(
        body=orjson.dumps(error_body(err, rid)),
        status=err.status,
        content_type="application/json",
        headers=headers,
    )


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
        return await _handle(request, meter)
    except GatewayError as err:
        meter.fail(err)
        return error_response(err, request)
    except web.HTTPException as exc:
        mapped = _http_error(exc)
        meter.fail(mapped)
        return error_response(mapped, request)
    except BaseException:
        if meter.status == 200:
            meter.status, meter.error_type = 500, "server_error"
        raise
    finally:
        await meter.release()  # no-op once billed; a call that failed before its answer is free
        meter.write(request.app[REQUEST_LOG])
        if meter.limits and meter.usage is not None:
            request.app[LIMITS].count_tokens(meter.limits, meter.usage.total_tokens)


def _admit(request: web.Request, meter: Meter, body: dict[str, Any]) -> Upstream:
    """Model, upstream (the account's own key when it has one) and the reservation."""
    app = request.app
    assert meter.key is not None
    model = resolve_messages_model(app[CATALOG], body["model"])
    meter.model = model
    upstream = app[PROVIDERS].upstream(model.provider)
    own_key = app[BYOK].pick(meter.key.account_id, model.provider, None)
    if own_key is not None:
        upstream = replace(upstream, endpoint=replace(upstream.endpoint, api_key=own_key.secret))
        meter.byok = True
    ProviderRegistry.require_key(upstream.endpoint)
    return upstream


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
    meter.model_name = body["model"]
    stream = bool(body.get("stream"))
    meter.streamed = stream
    upstream = _admit(request, meter, body)
    model = meter.model
    assert model is not None
    translated = inbound.to_openai(body)
    meter.prompt_estimate = typical_prompt_tokens(len(raw))
    meter.billing = billing
    if meter.byok:
        ceiling = billing.byok_ceiling(model, translated, max_prompt_tokens(len(raw)), settings)
    else:
        ceiling = reserve_amount(model, translated, max_prompt_tokens(len(raw)), settings)
    meter.reservation = await billing.reserve(key, ceiling, meter.tag)
    if isinstance(upstream.adapter, AnthropicAdapter):
        return await _pass_through(request, meter, upstream, body, stream)
    options = provider_options(app, model.provider, settings)
    call = plan_call(upstream, model, translated, stream=stream, options=options)
    client = AnthropicClient(meter, meter.request_id)
    return await relay(request, meter, upstream, call, client, settings)


async def _pass_through(
    request: web.Request, meter: Meter, upstream: Upstream, body: dict[str, Any], stream: bool
) -> web.StreamResponse:
    """A Claude model: the client's body goes upstream with only the model id changed."""
    assert meter.model is not None
    settings = request.app[SETTINGS]
    adapter = upstream.adapter
    body["model"] = meter.model.upstream_id
    headers = adapter.headers(upstream.endpoint)
    beta = request.headers.get("anthropic-beta")
    if beta:
        headers["anthropic-beta"] = beta
    response = await retry.send(
        upstream,
        adapter.chat_url(upstream.endpoint, meter.model.upstream_id, stream=stream),
        headers,
        orjson.dumps(body),
        max_attempts=settings.upstream_max_attempts,
        deadline=time.monotonic() + settings.upstream_total_timeout,
    )
    base = {REQUEST_ID: client_request_id(request) or meter.request_id,
            "x-aig-provider": meter.model.provider}  # fmt: skip
    if stream and response.content_type == SSE:
        return await _tap_stream(request, response, meter, base)
    try:
        raw = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raise UpstreamError("The upstream provider dropped the connection.") from None
    finally:
        response.release()
    meter.mark_first_byte()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError("The upstream provider returned a malformed response.") from None
    if not isinstance(data, dict):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    meter.price(usage_from_anthropic(data.get("usage")) or meter.estimate_usage(len(raw) // 8))
    data["model"] = meter.model.id
    await meter.bill()
    return web.Response(
        body=orjson.dumps(data),
        content_type="application/json",
        headers={**base, **meter.cost_headers()},
    )


async def _tap_stream(
    request: web.Request,
    upstream_response: aiohttp.ClientResponse,
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
        async for chunk in upstream_response.content.iter_any():
            out = tap.feed(chunk)
            events += out.count(b"\n\n")
            if tap.done and _STOP_EVENT in out:
                cut = out.rindex(_STOP_EVENT)
                out, ending = out[:cut], out[cut:]
            if out:
                meter.mark_first_byte()
                await response.write(out)
        out = tap.finish()
        if out:
            await response.write(out)
        if tap.error is not None:
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
    except aiohttp.ClientError:
        ending = _stream_error(meter, UpstreamError("The upstream stream broke off."))
    _tap_produced(meter, tap, upstream_response, client_gone, events)
    await meter.bill()
    if not client_gone:
        try:
            if ending:
                await response.write(ending)
            await response.write_eof()
        except ConnectionResetError:
            client_gone = True
    if client_gone:
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
    return response


def _tap_produced(
    meter: Meter,
    tap: AnthropicStreamTap,
    upstream_response: aiohttp.ClientResponse,
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
        model = resolve_messages_model(request.app[CATALOG], body["model"])
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
                data = await response.json(content_type=None)
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
    except (aiohttp.ClientError, TimeoutError):
        return error_response(UpstreamError("The upstream provider did not answer."), request)
    except web.HTTPException as exc:
        return error_response(_http_error(exc), request)


def setup_routes(app: web.Application) -> None:
    for prefix in ("", "/anthropic"):
        app.router.add_post(prefix + "/v1/messages", messages)
        app.router.add_post(prefix + "/v1/messages/count_tokens", count_tokens)
