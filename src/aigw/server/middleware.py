"""The one middleware: request id on every response, and errors rendered in the API's shape.

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
from aigw.observability.logs import REQUEST_ID as LOG_REQUEST_ID

log = logging.getLogger("aigw.server")

REQUEST_ID = "X-Request-Id"
# (the gateway's id, the client's sane X-Request-Id or None): worked out once per request, by
# the middleware, and read from here by the handlers (the chat route's meter and headers).
_IDS_KEY = web.RequestKey("request_ids", tuple[str, str | None])
_MAX_REQUEST_ID = 128

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
        return error_response(err, rid)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http_exception(exc), rid)
    except Exception:
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, rid)
        return error_response(ServerError("Internal error."), rid)
    if not response.prepared:
        response.headers[REQUEST_ID] = rid
    return response
