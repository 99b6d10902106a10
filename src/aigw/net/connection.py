"""One keep-alive HTTP/1.1 connection to an upstream: an ``asyncio.Protocol`` whose bytes go
through httptools' response parser into the current ``Response``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

import httptools
from multidict import CIMultiDict

from aigw.net.errors import BadResponse, Disconnected, TransportError
from aigw.net.response import Response

if TYPE_CHECKING:
    from aigw.net.pool import Pool

NO_BODY = (204, 304)


class Connection(asyncio.Protocol):
    """Carries one exchange at a time; the pool hands it out and takes it back."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.response: Response | None = None
        self.closed = False
        self.idle_since = 0.0
        self._headers: list[tuple[str, str]] = []
        self._informational = False  # a 1xx answer precedes the real one
        self._until_close = False  # body delimited by the connection closing
        self._keep_alive = False

    # -- the pool's side --------------------------------------------------------------------

    def send(self, response: Response, data: bytes) -> None:
        assert self.transport is not None
        self.response = response
        self._keep_alive = False
        self.transport.write(data)

    def recycle(self) -> None:
        """The exchange is over: back to the pool if the server keeps the connection open."""
        self.response = None
        transport = self.transport
        if self.closed or not self._keep_alive or transport is None or transport.is_closing():
            self.close()
        else:
            self._pool.give_back(self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._pool.forget(self)
        if self.transport is not None:
            self.transport.close()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        if self.response is None:  # bytes nobody asked for: the connection is not trustworthy
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self._broken(cause if isinstance(cause, TransportError) else BadResponse(str(exc)))
        except httptools.HttpParserError as exc:
            self._broken(BadResponse(f"The upstream's answer is not valid HTTP/1.1 ({exc})."))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self._pool.forget(self)
        response = self.response
        if response is None:
            return
        if self._until_close and response.status:
            self._until_close = False
            response._finish()
        else:
            response._fail(Disconnected("The upstream closed the connection before answering."))

    # -- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        response = self.response
        if response is not None and response.at_eof():  # a second answer to one request
            raise BadResponse("The upstream sent more than one answer.")
        self._headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("utf-8", "surrogateescape")))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # 100 Continue, 103 Early Hints: the answer follows
            self._informational = True
            return
        headers: CIMultiDict[str] = CIMultiDict(self._headers)
        self._until_close = (
            status not in NO_BODY
            and "Content-Length" not in headers
            and "Transfer-Encoding" not in headers
        )
        assert self.response is not None
        self.response._headers_ready(status, headers)

    def on_body(self, body: bytes) -> None:
        if not self._informational and self.response is not None:
            self.response._feed(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._keep_alive = self._parser.should_keep_alive()
        self._until_close = False
        if self.response is not None:
            self.response._finish()

    def _broken(self, err: TransportError) -> None:
        response = self.response
        self.close()
        if response is not None:
            response._fail(err)
