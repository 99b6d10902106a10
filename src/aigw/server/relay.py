"""Relay an upstream OpenAI-format answer to the client: whole, or as a tapped stream."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from aigw.errors import GatewayError, GatewayTimeout, UpstreamError
from aigw.formats.openai_chat import usage_from_openai
from aigw.formats.openai_stream import OpenAIStreamTap, error_event
from aigw.server.metering import CLIENT_CLOSED, Meter

log = logging.getLogger("aigw.relay")


async def relay_json(
    upstream_response: aiohttp.ClientResponse, meter: Meter, base_headers: dict[str, str]
) -> web.Response:
    """Non-streaming: add ``usage.cost`` and the gateway's model id, then answer."""
    assert meter.model is not None
    try:
        raw = await upstream_response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        if isinstance(exc, TimeoutError):
            raise GatewayTimeout("The upstream provider did not finish in time.") from None
        raise UpstreamError("The upstream provider dropped the connection.") from None
    finally:
        upstream_response.release()
    meter.mark_first_byte()
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError("The upstream provider returned a malformed response.") from None
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    usage_obj = data.get("usage")
    meter.price(usage_from_openai(usage_obj))
    if isinstance(usage_obj, dict):
        usage_obj.update(meter.cost_fields())
    data["model"] = meter.model.id
    headers = {**base_headers, **meter.cost_headers()}
    return web.Response(body=orjson.dumps(data), content_type="application/json", headers=headers)


async def relay_stream(
    request: web.Request,
    upstream_response: aiohttp.ClientResponse,
    meter: Meter,
    base_headers: dict[str, str],
    *,
    upstream_model: str,
    show_usage: bool,
) -> web.StreamResponse:
    """Streaming: forward events as they arrive; bill from the usage the upstream reports."""
    assert meter.model is not None
    response = web.StreamResponse(
        status=200,
        headers={
            **base_headers,
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
        },
    )
    tap = OpenAIStreamTap(
        upstream_model=upstream_model,
        gateway_model=meter.model.id,
        show_usage=show_usage,
        usage_extras=lambda usage: {"cost": meter_cost(meter, usage)},
    )
    await response.prepare(request)
    client_gone = False
    try:
        async for chunk in upstream_response.content.iter_any():
            out = tap.feed(chunk)
            if out:
                meter.mark_first_byte()
                await response.write(out)
        out = tap.finish()
        if out:
            await response.write(out)
        if tap.error is not None:
            meter.status, meter.error_type = 502, str(tap.error.get("type") or "server_error")
        elif not tap.done:
            await _stream_failed(response, meter, UpstreamError("The upstream stream ended early."))
    except ConnectionResetError:
        client_gone = True
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
    except asyncio.CancelledError:
        client_gone = True
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
        raise
    except TimeoutError:
        await _stream_failed(response, meter, GatewayTimeout("The upstream stream timed out."))
    except aiohttp.ClientError:
        await _stream_failed(response, meter, UpstreamError("The upstream stream broke off."))
    finally:
        if client_gone or not tap.done:
            upstream_response.close()  # cancels the upstream call
        else:
            upstream_response.release()
        if tap.usage is not None:
            meter.price(tap.usage)
    if not client_gone:
        try:
            await response.write_eof()
        except ConnectionResetError:
            meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
    return response


def meter_cost(meter: Meter, usage: Any) -> float:
    meter.price(usage)
    return float(meter.cost_fields()["cost"])


async def _stream_failed(response: web.StreamResponse, meter: Meter, err: GatewayError) -> None:
    meter.fail(err)
    try:
        await response.write(error_event(err.body()))
    except ConnectionResetError:
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
