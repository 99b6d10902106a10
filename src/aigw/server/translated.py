"""Relay a call whose client and upstream speak different wire formats.

The upstream's answer is decoded into neutral events (``aigw.core.chat``) and re-encoded for
the client, whole or as a stream, by one loop shared by every pair of formats: an OpenAI
client in front of Anthropic, Gemini, Bedrock or Cohere (``/v1/chat/completions``), and an
Anthropic client in front of anything but Anthropic (``routes/messages.py``). The router
(``routing/router.py``) has already made the call, with its retries and fallbacks; billing and
the request log are the same as on the pass-through path.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import ChainMap
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from aiohttp import web

from aigw.core.chat import Completion, Event, Started, StreamDecoder, StreamFailed
from aigw.core.usage import Usage
from aigw.errors import GatewayError, GatewayTimeout, UpstreamError
from aigw.formats import openai_translate as oai
from aigw.formats.openai_chat import prepare_upstream
from aigw.formats.params import WARNING_HEADER
from aigw.formats.upstream_json import decode_object
from aigw.net import Response, TransportError
from aigw.server.appkeys import PROVIDERS
from aigw.server.metering import CLIENT_CLOSED, Meter
from aigw.server.relay import finish_stream, meter_cost

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.config import Settings
    from aigw.providers.registry import Upstream
    from aigw.routing.router import Route

SSE = "text/event-stream"
# OpenAI's own API refuses max_tokens on reasoning models and has no top_k.
_MAX_COMPLETION_TOKENS_PROVIDERS = ("openai", "azure")


@dataclass(slots=True)
class UpstreamCall:
    """Everything needed to make one upstream call and read its answer."""

    url: str
    headers: dict[str, str]
    payload: bytes
    stream: bool
    stream_content_type: str
    decode: Callable[[bytes], Any]  # Completion, or the OpenAI pass-through's dict
    decoder: Callable[[], StreamDecoder]
    warnings: list[str] = field(default_factory=list)


def provider_options(
    app: web.Application, provider_id: str, settings: Settings
) -> Mapping[str, str]:
    """The provider's ``[providers.<id>]`` settings over the gateway's environment."""
    conf = {k: str(v) for k, v in settings.providers.get(provider_id, {}).items()}
    environ: Mapping[str, str] | None = getattr(app[PROVIDERS], "_environ", None)
    return ChainMap(conf, dict(environ) if environ is not None else dict(os.environ))


def plan_call(
    upstream: Upstream,
    model: Model,
    body: dict[str, Any],
    *,
    stream: bool,
    options: Mapping[str, str],
) -> UpstreamCall:
    """Encode an OpenAI-format request for ``upstream``, whatever format it speaks."""
    endpoint, adapter = upstream.endpoint, upstream.adapter
    url = adapter.chat_url(endpoint, model.upstream_id, stream=stream)
    translator = upstream.translator
    if translator is not None:
        encoded = translator.encode_request(body, model, stream=stream)
        payload = orjson.dumps(encoded.body)
        headers = translator.request_headers(endpoint, url, payload, options)
        return UpstreamCall(
            url,
            headers,
            payload,
            stream,
            translator.stream_content_type,
            translator.decode_response,
            translator.stream_decoder,
            encoded.warnings,
        )
    warnings: list[str] = []
    if model.provider in _MAX_COMPLETION_TOKENS_PROVIDERS:
        if "max_tokens" in body and "max_completion_tokens" not in body:
            body["max_completion_tokens"] = body.pop("max_tokens")
        if body.pop("top_k", None) is not None:
            warnings.append(f"dropped parameters {model.provider} does not take: top_k")
    payload, _ = prepare_upstream(body, model.upstream_id, stream=stream)
    return UpstreamCall(
        url,
        adapter.headers(endpoint),
        payload,
        stream,
        SSE,
        _decode_openai,
        oai.OpenAIStreamDecoder,
        warnings,
    )


def _decode_openai(raw: bytes) -> Completion:
    return oai.completion_from_openai(decode_object(raw))


class Writer(Protocol):
    usage: Usage | None

    def feed(self, events: list[Event]) -> bytes: ...

    def finish(self) -> bytes: ...


class ClientFormat(Protocol):
    """How the client wants its answer: a whole body, a stream writer, an in-stream error."""

    def body(self, completion: Completion) -> bytes: ...

    def writer(self, upstream_id: str) -> Writer: ...

    def stream_error(self, writer: Writer, err: GatewayError) -> bytes: ...


class OpenAIClient:
    def __init__(self, meter: Meter, *, include_usage: bool) -> None:
        self._meter = meter
        self._include_usage = include_usage

    def body(self, completion: Completion) -> bytes:
        assert self._meter.model is not None
        data = oai.completion_to_openai(completion, self._meter.model.id, self._meter.cost_fields())
        return orjson.dumps(data)

    def writer(self, upstream_id: str) -> Writer:
        assert self._meter.model is not None
        meter = self._meter
        return oai.OpenAIChunkWriter(
            id="chatcmpl-" + upstream_id.removeprefix("chatcmpl-"),
            model=meter.model.id if meter.model else "",
            include_usage=self._include_usage,
            usage_extras=lambda usage: {"cost": meter_cost(meter, usage)},
        )

    def stream_error(self, writer: Writer, err: GatewayError) -> bytes:
        return b"data: " + orjson.dumps(err.body()) + b"\n\n"


async def relay_answer(
    request: web.Request,
    meter: Meter,
    route: Route,
    call: UpstreamCall,
    client: ClientFormat,
    headers: dict[str, str],
) -> web.StreamResponse:
    """Relay the answer the router got for ``call``: a started stream, or a whole answer."""
    if call.warnings:
        headers[WARNING_HEADER] = "; ".join(call.warnings)
    if route.response is not None:
        return await _relay_stream(
            request, route.response, route.first, meter, call, client, headers
        )
    return await _relay_whole(route.body, meter, client, headers)


async def _relay_whole(
    completion: Completion, meter: Meter, client: ClientFormat, headers: dict[str, str]
) -> web.Response:
    meter.mark_first_byte()
    produced = len(completion.text) + len(completion.reasoning)
    produced += sum(len(c.arguments) for c in completion.tool_calls)
    meter.price(completion.usage or meter.estimate_usage(produced // 4))
    body = client.body(completion)
    meter.keep(body)  # for replays, when kept
    await meter.bill()  # committed before the answer leaves
    return web.Response(
        body=body,
        content_type="application/json",
        headers={**headers, **meter.cost_headers()},
    )


async def stream_chunks(first: bytes, response: Response) -> AsyncIterator[bytes]:
    """The stream's chunks, the first one already read by the router."""
    if first:
        yield first
    async for chunk in response.chunks():
        yield chunk


async def _relay_stream(
    request: web.Request,
    upstream_response: Response,
    first: bytes,
    meter: Meter,
    call: UpstreamCall,
    client: ClientFormat,
    headers: dict[str, str],
) -> web.StreamResponse:
    """Decode, re-encode, forward; the last frame waits until the charge is committed."""
    response = web.StreamResponse(
        status=200,
        headers={**headers, "Content-Type": SSE, "Cache-Control": "no-cache"},
    )
    decoder = call.decoder()
    writer: Writer | None = None
    await response.prepare(request)
    client_gone = False
    produced = 0
    ending = b""
    try:
        failure: GatewayError | None = None
        async for chunk in stream_chunks(first, upstream_response):
            events = decoder.feed(chunk)
            if not events:
                continue
            produced += len(events)
            failure = _failure(events)
            writer = writer or client.writer(_upstream_id(events))
            out = writer.feed(events)
            if out:
                meter.mark_first_byte()
                meter.keep(out)
                await response.write(out)
            if failure is not None:
                break
        if failure is None:
            events = decoder.finish()
            failure = _failure(events)
            writer = writer or client.writer(_new_id())
            out = writer.feed(events)
            if out:
                meter.keep(out)
                await response.write(out)
            if failure is None and not decoder.done:
                failure = UpstreamError("The upstream stream ended early.")
            if failure is None:
                ending = writer.finish()
        if failure is not None:
            ending = _stream_failed(meter, client, writer, failure)
    except ConnectionResetError:
        client_gone = True
    except asyncio.CancelledError:
        client_gone = True
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
        _produced(meter, writer, decoder, upstream_response, client_gone, produced)
        await meter.bill()  # what was produced is billed even when the client hung up
        raise
    except TimeoutError:
        ending = _stream_failed(meter, client, writer, GatewayTimeout("The upstream timed out."))
    except TransportError:
        ending = _stream_failed(meter, client, writer, UpstreamError("The upstream broke off."))
    _produced(meter, writer, decoder, upstream_response, client_gone, produced)
    return await finish_stream(response, meter, ending, client_gone=client_gone)


def _stream_failed(
    meter: Meter, client: ClientFormat, writer: Writer | None, err: GatewayError
) -> bytes:
    """Record a mid-stream failure; the client gets it as an error event of its format."""
    meter.fail(err)
    return client.stream_error(writer or client.writer(_new_id()), err)


def _produced(
    meter: Meter,
    writer: Writer | None,
    decoder: StreamDecoder,
    upstream_response: Response,
    client_gone: bool,
    produced: int,
) -> None:
    """Stop the upstream and price what it produced: its usage, or an estimate."""
    if client_gone or not decoder.done:
        upstream_response.close()  # cancels the upstream call
    else:
        upstream_response.release()
    usage = writer.usage if writer is not None else None
    meter.price(usage or meter.estimate_usage(produced))


def _new_id() -> str:
    return secrets.token_hex(12)


def _failure(events: list[Event]) -> GatewayError | None:
    for event in events:
        if isinstance(event, StreamFailed):
            return event.error
    return None


def _upstream_id(events: list[Event]) -> str:
    first = events[0]
    if isinstance(first, Started) and first.id:
        return first.id
    return _new_id()
