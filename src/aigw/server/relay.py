"""Relay an upstream OpenAI-format answer to the client: whole, or as a tapped stream."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from aigw.errors import GatewayError, GatewayTimeout, UpstreamError
from aigw.formats.openai_chat import usage_from_openai
from aigw.formats.openai_stream import OpenAIStreamTap, error_event
from aigw.formats.upstream_json import decode_object
from aigw.net import Response, TransportError
from aigw.server.metering import CLIENT_CLOSED, Meter
from aigw.server.middleware import REQUEST_ID

log = logging.getLogger("aigw.relay")

DONE_FRAME = b"data: [DONE]\n\n"


def parse_answer(raw: bytes) -> dict[str, Any]:
    """A whole OpenAI-format answer, decoded while another deployment can still be tried."""
    data = decode_object(raw)
    if not isinstance(data.get("choices"), list):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    return data


async def relay_json(
    data: dict[str, Any], meter: Meter, base_headers: dict[str, str]
) -> web.Response:
    """Non-streaming: add ``usage.cost`` and the gateway's model id, then answer."""
    assert meter.model is not None
    meter.mark_first_byte()
    usage_obj = data.get("usage")
    usage = usage_from_openai(usage_obj)
    meter.price(usage or meter.estimate_usage(_completion_chars(data) // 4))
    if isinstance(usage_obj, dict):
        usage_obj.update(meter.cost_fields())
    data["model"] = meter.model.id
    await meter.bill()  # committed before the answer leaves
    headers = {**base_headers, **meter.cost_headers()}
    body = orjson.dumps(data)
    meter.keep(body)  # for replays, when kept
    return web.Response(body=body, content_type="application/json", headers=headers)


async def send_now(request: web.Request, response: web.StreamResponse, meter: Meter) -> None:
    """Send a whole answer from the handler rather than after it returns, so the bookkeeping
    in the route's ``finally`` (request log record, health, metrics, shadow traffic) runs
    after the client has its bytes, not before. (Streams are sent as they come.)"""
    if response.prepared:
        return
    # As the middleware does for responses it sends itself (it cannot once this one is out).
    response.headers.setdefault(REQUEST_ID, meter.client_request_id or meter.request_id)
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionResetError:  # the client is gone; its charge is already committed
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
    except asyncio.CancelledError:  # it hung up mid-write (handler cancellation): the same
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
        raise


async def relay_stream(
    request: web.Request,
    upstream_response: Response,
    meter: Meter,
    base_headers: dict[str, str],
    *,
    upstream_model: str,
    show_usage: bool,
    first: bytes = b"",
) -> web.StreamResponse:
    """Streaming: forward events as they arrive; bill from the usage the upstream reports.

    ``first`` is the stream's first chunk, read by the router to know the upstream started."""
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
    ending = b""  # the last frame ([DONE] or an error) waits until the charge is committed
    try:
        # One plain loop from the router's first read on, the per-read work inline: no async
        # generator, no method call that is a no-op for most reads (the first byte is marked
        # once; answers are kept only for replays).
        readany, feed, write = upstream_response.readany, tap.feed, response.write
        chunk = first or await readany()
        while chunk:
            out = feed(chunk)
            if tap.done and out.endswith(DONE_FRAME):
                out, ending = out[: -len(DONE_FRAME)], DONE_FRAME
            if out:
                if meter.first_byte is None:
                    meter.mark_first_byte()
                if meter.output is not None:
                    meter.keep(out)
                await write(out)
            if tap.malformed:
                break
            chunk = await readany()
        out = b"" if tap.malformed else tap.finish()
        if out:
            meter.keep(out)
            await response.write(out)
        if tap.malformed:
            ending = _failure(meter, UpstreamError("The upstream sent a malformed stream event."))
        elif tap.error is not None:
            meter.status, meter.error_type = 502, str(tap.error.get("type") or "server_error")
        elif not tap.done:
            ending = _failure(meter, UpstreamError("The upstream stream ended early."))
    except ConnectionResetError:
        client_gone = True
    except asyncio.CancelledError:
        client_gone = True
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
        _produced(meter, tap, upstream_response, client_gone)
        await meter.bill()  # what was produced is billed even when the client hung up
        raise
    except TimeoutError:
        ending = _failure(meter, GatewayTimeout("The upstream stream timed out."))
    except TransportError:
        ending = _failure(meter, UpstreamError("The upstream stream broke off."))
    _produced(meter, tap, upstream_response, client_gone)
    return await finish_stream(response, meter, ending, client_gone=client_gone)


async def finish_stream(
    response: web.StreamResponse, meter: Meter, ending: bytes, *, client_gone: bool
) -> web.StreamResponse:
    """Bill, then send the held last frame ([DONE] or an error event) and end the stream: a
    completed response is never left unbilled. A client already gone gets nothing more and
    the request is logged as 499."""
    await meter.bill()
    if not client_gone:
        try:
            await response.write_eof(ending)  # the last frame and the end in one write
        except ConnectionResetError:
            client_gone = True
    if client_gone:
        meter.status, meter.error_type = CLIENT_CLOSED, "client_closed"
    return response


def _produced(
    meter: Meter,
    tap: OpenAIStreamTap,
    upstream_response: Response,
    client_gone: bool,
) -> None:
    """Stop the upstream and price what it produced: its usage, or an estimate."""
    if client_gone or not tap.done:
        upstream_response.close()  # cancels the upstream call
    else:
        upstream_response.release()
    meter.price(tap.usage or meter.estimate_usage(tap.events - 2))


def _failure(meter: Meter, err: GatewayError) -> bytes:
    """Record a mid-stream failure; the client gets it as an error event in OpenAI's framing."""
    meter.fail(err)
    return error_event(err.body())


def meter_cost(meter: Meter, usage: Any) -> float:
    meter.price(usage)
    return float(meter.cost_fields()["cost"])


def _completion_chars(data: dict[str, Any]) -> int:
    """Characters of output in a completion, for an estimate when usage is missing."""
    total = 0
    for choice in data["choices"]:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        for field in ("content", "reasoning_content"):
            if isinstance(message.get(field), str):
                total += len(message[field])
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict) and isinstance(call.get("function"), dict):
                total += len(str(call["function"].get("arguments") or ""))
    return total
