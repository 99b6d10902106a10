"""The one middleware: request id on every response, and errors rendered in the API's shape.

The shape is OpenAI's, except under Anthropic's Messages API (``/v1/messages`` and below, also
mounted at ``/anthropic``), where the handlers answer in Anthropic's: an error that reaches the
middleware there (a wrong method, an unknown path, a crash) is answered in Anthropic's shape
too. The path is looked at only once there is an error to render.

Kept to a single layer because every middleware costs time on the hot path.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from aigw.core.ids import unique_hex24
from aigw.errors import (
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServerError,
)
from aigw.formats.anthropic_messages import error_body as anthropic_error_body
from aigw.observability.logs import REQUEST_ID as LOG_REQUEST_ID

log = logging.getLogger("aigw.server")

REQUEST_ID = "X-Request-Id"
# (the gateway's id, the client's sane X-Request-Id or None): worked out once per request, by
# the middleware, and read from here by the handlers (the chat route's meter and headers).
_IDS_KEY = web.RequestKey("request_ids", tuple[str, str | None])
_MAX_REQUEST_ID = 128
# Anthropic's Messages API (routes/messages.py) at both its mounts: these paths and every path
# below them answer errors in Anthropic's shape.
_ANTHROPIC_PATHS = ("/v1/messages", "/anthropic/v1/messages")
_UNDER_ANTHROPIC_PATHS = tuple(path + "/" for path in _ANTHROPIC_PATHS)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_request_id() -> str:
    return "req_" + unique_hex24()  # unique per process and call; no syscall


def _ids_of(request: web.Request) -> tuple[str, str | None]:
    sent = request.headers.get(REQUEST_ID)
    client = sent if sent and len(sent) <= _MAX_REQUEST_ID and sent.isprintable() else None
    ids = (new_request_id(), client)
    request[_IDS_KEY] = ids
    return ids


def request_ids(request: web.Request) -> tuple[str, str | None]:
    """(the gateway's id: unique, the request log's key; the client's own X-Request-Id, when
    it sent a sane one), computed once per request."""
    try:
        return request[_IDS_KEY]
    except KeyError:  # a request the middleware did not see
        return _ids_of(request)


def client_request_id(request: web.Request) -> str | None:
    """The client's own X-Request-Id, when it sent a sane one."""
    return request_ids(request)[1]


def gateway_request_id(request: web.Request) -> str:
    """The gateway's id for this request (unique; the request log's key), memoised."""
    return request_ids(request)[0]


def request_id_of(request: web.Request) -> str:
    """The X-Request-Id to answer with: the client's when it sent one, else the gateway's."""
    gateway, client = request_ids(request)
    return client or gateway


def error_response(err: GatewayError, request_id: str) -> web.Response:
    headers = err.headers()
    headers[REQUEST_ID] = request_id
    return web.Response(
        body=orjson.dumps(err.body()),
        status=err.status,
        content_type="application/json",
        headers=headers,
    )


def anthropic_error_response(err: GatewayError, gateway: str, client: str | None) -> web.Response:
    """``err`` in Anthropic's error shape; the body names the gateway's id, the header the
    client's id when it sent one."""
    headers = err.headers()
    headers[REQUEST_ID] = client or gateway
    return web.Response(
        body=orjson.dumps(anthropic_error_body(err, gateway)),
        status=err.status,
        content_type="application/json",
        headers=headers,
    )


def _render(
    request: web.Request, err: GatewayError, gateway: str, client: str | None
) -> web.Response:
    """``err`` in the shape of the API the request's path belongs to (error branch only)."""
    path = request.path
    if path in _ANTHROPIC_PATHS or path.startswith(_UNDER_ANTHROPIC_PATHS):
        return anthropic_error_response(err, gateway, client)
    return error_response(err, client or gateway)


def _from_http_exception(exc: web.HTTPException) -> GatewayError:
    if isinstance(exc, web.HTTPNotFound):
        return NotFound("Unknown endpoint.")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        # aiohttp's router (the fast table defers every miss to it: server/dispatch.py)
        return MethodNotAllowed(exc.method, exc.allowed_methods)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge("Request body is too large.")
    if exc.status < 500:
        return InvalidRequest(exc.reason)
    return ServerError("Internal error.")


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    gateway, client = _ids_of(request)
    rid = client or gateway
    LOG_REQUEST_ID.set(rid)  # every log line of this request names it (observability/logs.py)
    try:
        response = await handler(request)
    except GatewayError as err:
        return _render(request, err, gateway, client)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _render(request, _from_http_exception(exc), gateway, client)
    except Exception:
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, rid)
        return _render(request, ServerError("Internal error."), gateway, client)
    if not response.prepared:
        response.headers[REQUEST_ID] = rid
    return response
