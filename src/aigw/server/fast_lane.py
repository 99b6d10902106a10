"""The fast lane: the hot endpoints' plain requests served without aiohttp's server loop.

Measured on one core at concurrency 16 (bench/RESULTS.md), aiohttp's server side (its
per-connection task, request parsing into its message and URL objects, the application's
router, middleware chain and ``current_app`` bookkeeping) is ~25 µs of every request, about
an eighth of all the gateway's work. The lane is a protocol of our own in front of it. For
``POST /v1/chat/completions`` and ``POST /v1/messages`` in plain HTTP/1.1 with a
``Content-Length`` body (what every SDK sends), it parses the head strictly
(server/lane_head.py), builds the same ``web.Request`` aiohttp would (body already read),
runs the app's middlewares and the route's handler, and sends the response through
aiohttp's own response classes and writer: headers, framing, keep-alive and the
``on_response_prepare`` signal are aiohttp's, byte for byte.

Anything else on a connection (another path or method, an unusual head, chunked or
compressed bodies, ``Expect``) hands that connection to aiohttp for the rest of its life,
with every byte received so far: aiohttp answers it exactly as without the lane.

As in aiohttp's runner here (``handler_cancellation``), a client that disconnects cancels
its handler. Requests pipelined on one connection are served one at a time, in order. At
shutdown (the app's ``on_shutdown``) idle connections are closed, requests in flight get up
to ``shutdown_timeout`` to finish, and no new request is started. ``fast_lane = false``
turns the lane off; it is off when the access log is on (that is aiohttp's too).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpVersion11
from aiohttp.http_parser import RawRequestMessage
from aiohttp.http_writer import StreamWriter
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_urldispatcher import UrlMappingMatchInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aigw.server.lane_head import Head, parse_fields

log = logging.getLogger("aigw.server")

LANE_PATHS = ("/v1/chat/completions", "/v1/messages")
MAX_HEAD = 16 * 1024  # a longer head goes to aiohttp (which enforces its own limits)
KEEPALIVE_SECONDS = 3630.0  # as aiohttp's server, so an idle connection lives as long
_SWEEP_SECONDS = 30.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Route:
    """What serving one lane path needs, built once: the handler wrapped in the app's
    middlewares (as aiohttp wraps it), its match info and its URL."""

    __slots__ = ("handler", "match_info", "path", "url")

    def __init__(self, app: web.Application, route: web.AbstractRoute, path: str) -> None:
        handler: Handler = route.handler
        for middleware in reversed(app.middlewares):
            handler = functools.update_wrapper(
                functools.partial(middleware, handler=handler), handler
            )
        self.handler = handler
        info = UrlMappingMatchInfo({}, route)
        info.add_app(app)
        info.freeze()
        self.match_info = info
        self.path = path
        self.url = URL.build(path=path, encoded=True)


class FastLane:
    """The lane of one app: its routes, its connections, and how to hand one to aiohttp."""

    def __init__(self, app: web.Application, *, max_body: int, shutdown_timeout: float) -> None:
        self.app = app
        self.max_body = max_body
        self.shutdown_timeout = shutdown_timeout
        self.routes: dict[bytes, _Route] = {}
        self.connections: set[LaneConnection] = set()
        self.closing = False
        self.served = 0  # requests the lane took
        self.handed_off = 0  # connections given to aiohttp
        self._aiohttp: Callable[[], asyncio.Protocol] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def bind(self, runner: web.BaseRunner) -> None:
        """Once the runner is set up: the routes (from the frozen router) and aiohttp's
        protocol factory for the connections handed over."""
        server = runner.server
        assert server is not None
        self._aiohttp = server
        for resource in self.app.router.resources():
            path = resource.get_info().get("path")
            if path not in LANE_PATHS:
                continue
            for route in resource:
                if route.method == "POST":
                    self.routes[f"POST {path} HTTP/1.1".encode()] = _Route(self.app, route, path)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    def protocol(self) -> LaneConnection:
        return LaneConnection(self)

    def aiohttp_protocol(self) -> asyncio.Protocol:
        assert self._aiohttp is not None
        self.handed_off += 1
        return self._aiohttp()

    async def on_shutdown(self, _app: web.Application) -> None:
        """Close idle connections, let requests in flight finish (then cancel them)."""
        self.closing = True
        log.info(
            "fast lane: %d requests served, %d connections handed to aiohttp",
            self.served,
            self.handed_off,
        )
        if self._sweeper is not None:
            self._sweeper.cancel()
        busy = []
        for conn in list(self.connections):
            if conn.task is None:
                conn.close()
            else:
                busy.append(conn.task)
        if busy:
            _, late = await asyncio.wait(busy, timeout=self.shutdown_timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)

    async def _sweep(self) -> None:
        """Close connections idle past the keep-alive time (one task for all of them)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            horizon = loop.time() - KEEPALIVE_SECONDS
            for conn in list(self.connections):
                if conn.task is None and conn.idle_since < horizon:
                    conn.close()


class LaneConnection(BaseProtocol):
    """One client connection while the lane serves it (aiohttp's ``RequestHandler`` takes
    over the connections handed to it). Also the ``protocol`` its requests name."""

    __slots__ = (
        "_lane",
        "_buf",
        "_held",
        "_waiting",
        "task",
        "idle_since",
        "peername",
        "sockname",
        "ssl_context",
    )

    def __init__(self, lane: FastLane) -> None:
        super().__init__(asyncio.get_running_loop())
        self._lane = lane
        self._buf = bytearray()
        self._held = False  # reading paused: requests pipelined far ahead of the answers
        # A request whose head is parsed and whose body is still arriving (clients often
        # send the head and the body in separate writes): (route, head, its total size).
        self._waiting: tuple[_Route, Head, int] | None = None
        self.task: asyncio.Task[None] | None = None
        self.idle_since = 0.0
        self.peername: Any = None
        self.sockname: Any = None
        self.ssl_context = None

    # -- the transport's side ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.peername = transport.get_extra_info("peername")
        self.sockname = transport.get_extra_info("sockname")
        self.idle_since = self._loop.time()
        self._lane.connections.add(self)
        if self._lane.closing:
            self.close()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self.task is None:
            self._next()
        elif not self._held and len(self._buf) > MAX_HEAD + self._lane.max_body:
            self._held = True
            self._pause_transport_reading()

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self._lane.connections.discard(self)
        if self.task is not None:
            self.task.cancel()  # as aiohttp's handler_cancellation: the client is gone

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- requests ----------------------------------------------------------------------------

    def _next(self) -> None:
        """Serve the next complete request in the buffer, hand the connection to aiohttp if
        it is not one for the lane, or wait for more bytes."""
        buf = self._buf
        if self._held and len(buf) <= MAX_HEAD + self._lane.max_body:
            self._held = False
            self._resume_transport_reading()
        if not buf or self.transport is None:
            return
        if self._lane.closing:
            self.close()
            return
        if (waiting := self._waiting) is not None:
            if len(buf) >= waiting[2]:
                self._waiting = None
                self._start(*waiting)
            return
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._hand_off()
            return
        line_end = buf.find(b"\r\n")
        route = self._lane.routes.get(bytes(buf[:line_end]))
        head = None if route is None else parse_fields(bytes(buf[line_end + 2 : end + 2]))
        if route is None or head is None or head.length > self._lane.max_body:
            self._hand_off()
            return
        total = end + 4 + head.length
        if len(buf) < total:
            self._waiting = (route, head, total)  # the rest of the body is on its way
            return
        self._start(route, head, total)

    def _start(self, route: _Route, head: Head, total: int) -> None:
        buf = self._buf
        body = bytes(buf[total - head.length : total])
        del buf[:total]
        self._lane.served += 1  # (counted as taken: tests read it as soon as they are answered)
        self.task = self._loop.create_task(self._serve(route, head, body))

    def _hand_off(self) -> None:
        """Give this connection, and every byte received on it since the last request the
        lane served, to aiohttp."""
        transport = self.transport
        if transport is None:
            return
        data, self._buf = bytes(self._buf), bytearray()
        self._lane.connections.discard(self)
        if self._held:
            self._held = False
            self._resume_transport_reading()
        self.transport = None
        protocol = self._lane.aiohttp_protocol()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)

    async def _serve(self, route: _Route, head: Head, body: bytes) -> None:
        keep_alive = False
        try:
            request = self._request(route, head, body)
            try:
                response = await route.handler(request)
            except web.HTTPException as exc:  # what aiohttp does with one the middleware let by
                response = exc
            await response.prepare(request)
            await response.write_eof()
            keep_alive = bool(response.keep_alive) and not head.close
        except (asyncio.CancelledError, ConnectionError):
            return  # the client is gone (or shutdown gave up): nothing to answer
        except Exception:
            log.exception("fast lane: serving %s failed", route.path)
        finally:
            self.task = None
            if not keep_alive or self._lane.closing:
                self.close()
            elif self.transport is not None:
                self.idle_since = self._loop.time()
                self._next()

    def _request(self, route: _Route, head: Head, body: bytes) -> web.Request:
        message = RawRequestMessage(
            "POST",
            route.path,
            HttpVersion11,
            CIMultiDictProxy(CIMultiDict(head.headers)),
            head.raw_headers,
            head.close,
            None,
            False,
            False,
            route.url,
        )
        task = asyncio.current_task()
        assert task is not None
        request = web.Request(
            message,
            EMPTY_PAYLOAD,
            self,  # type: ignore[arg-type]  # what a request reads of its protocol, we have
            StreamWriter(self, self._loop),
            task,
            self._loop,
            client_max_size=self._lane.max_body,
        )
        request._match_info = route.match_info
        request._read_bytes = body  # read() answers it; nothing left on the wire
        return request


class LaneSite(web.TCPSite):
    """``web.TCPSite`` whose connections start in the lane (see the module docstring)."""

    def __init__(self, runner: web.BaseRunner, lane: FastLane, host: str, port: int, **kw: Any):
        super().__init__(runner, host, port, **kw)
        self._lane = lane

    @property
    def lane(self) -> FastLane:
        return self._lane

    async def start(self) -> None:
        await web.BaseSite.start(self)
        self._lane.bind(self._runner)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._lane.protocol,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        with contextlib.suppress(IndexError):
            self._bound_port = self._server.sockets[0].getsockname()[1]
