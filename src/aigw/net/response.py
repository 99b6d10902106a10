"""One upstream answer: status and headers first, then the body, whole or chunk by chunk.

The connection's parser pushes into it (``_feed``, ``_finish``, ``_fail``); the caller pulls
(``read``, ``readany``, ``chunks``). Reading pauses the socket when more than ``HIGH_WATER``
bytes wait unread, so a slow client of a fast stream does not buffer it all in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from multidict import CIMultiDict

from aigw.net.errors import BadResponse, Disconnected

if TYPE_CHECKING:
    from aigw.net.connection import Connection

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024


def decoder_for(encoding: str | None) -> zlib._Decompress | None:
    """A decompressor for a ``Content-Encoding`` the client asked for (gzip, deflate)."""
    if not encoding:
        return None
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    if encoding == "identity":
        return None
    raise BadResponse(f"The upstream answered with an unrequested encoding {encoding!r}.")


class Response:
    """An HTTP answer being received. ``release()`` (after the body) returns the connection
    to the pool; ``close()`` drops it. Reading the whole body releases it by itself."""

    __slots__ = (
        "_chunks",
        "_conn",
        "_decoder",
        "_deadline",
        "_done",
        "_error",
        "_gap",
        "_gap_timer",
        "_head",
        "_last",
        "_loop",
        "_paused",
        "_released",
        "_size",
        "_waiter",
        "headers",
        "status",
    )

    def __init__(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop
        self.status = 0
        self.headers: CIMultiDict[str] = CIMultiDict()
        self._head: asyncio.Future[None] = loop.create_future()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._done = False
        self._error: BaseException | None = None
        self._released = False
        self._paused = False
        self._decoder: zlib._Decompress | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._gap = 0.0
        self._last = 0.0
        self._gap_timer: asyncio.TimerHandle | None = None

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type")
        if not raw:
            return "application/octet-stream"
        return raw.partition(";")[0].strip().lower()

    # -- the caller's side ------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (decompressed); the connection then goes back to the pool."""
        if self._paused:  # reading it all: never hold the socket back
            self._paused = False
            self._conn.resume_reading()
        while not self._done:
            await self._wait()
        if self._error is not None:
            raise self._error
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        self.release()
        return data

    async def readany(self) -> bytes:
        """All of the body that has arrived and not been read yet; ``b""`` at its end."""
        while True:
            chunks = self._chunks
            if chunks:  # everything that has arrived: one pass of the relay, not one per piece
                data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._size = 0
                if self._paused and self._size <= LOW_WATER:
                    self._paused = False
                    self._conn.resume_reading()
                return data
            if self._error is not None:
                raise self._error
            if self._done:
                return b""
            await self._wait()

    async def chunks(self) -> AsyncIterator[bytes]:
        while data := await self.readany():
            yield data

    def at_eof(self) -> bool:
        """The whole body has arrived (it may not all have been read yet)."""
        return self._done

    def watch_gaps(self, seconds: float | None) -> None:
        """From now on, a gap longer than ``seconds`` between two pieces of the body ends the
        answer with ``TimeoutError``. One timer, re-armed lazily: no cost per chunk."""
        if not seconds or self._done:
            return
        self._gap = seconds
        self._last = self._loop.time()
        self._gap_timer = self._loop.call_at(self._last + seconds, self._check_gap)

    def release(self) -> None:
        """Done with this answer: a complete one's connection is reused, else closed."""
        if self._released:
            return
        self._released = True
        self._stop_timers()
        if self._done and self._error is None:
            self._conn.recycle()
        else:
            self._conn.close()

    def close(self) -> None:
        """Abandon the answer (and its connection), e.g. when the client hung up."""
        if self._released:
            return
        self._released = True
        self._stop_timers()
        self._conn.close()
        self._fail(Disconnected("The upstream answer was abandoned."))

    async def wait_head(self) -> None:
        """Until the status line and headers have arrived (or the call failed)."""
        await self._head

    # -- the connection's side --------------------------------------------------------------

    def _start_deadline(self, seconds: float | None) -> None:
        if seconds:
            self._deadline = self._loop.call_later(seconds, self._timed_out)

    def _headers_ready(self, status: int, headers: CIMultiDict[str]) -> None:
        self.status = status
        self.headers = headers
        encoding = headers.get("Content-Encoding")
        if encoding is not None:
            self._decoder = decoder_for(encoding)
        if not self._head.done():
            self._head.set_result(None)

    def _feed(self, data: bytes) -> None:
        if self._done:  # abandoned or failed: late bytes are dropped
            return
        if self._decoder is not None:
            data = self._decoder.decompress(data)
            if not data:
                return
        self._chunks.append(data)
        self._size += len(data)
        if self._gap:
            self._last = self._loop.time()
        if self._size > HIGH_WATER and not self._paused and self._waiter is None:
            self._paused = True
            self._conn.pause_reading()
        self._wake()

    def _finish(self) -> None:
        if self._done:
            return
        if self._decoder is not None:
            tail = self._decoder.flush()
            if tail:
                self._chunks.append(tail)
                self._size += len(tail)
        self._done = True
        self._stop_timers()
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        if self._done:
            return
        self._error = exc
        self._done = True
        self._stop_timers()
        if not self._head.done():
            self._head.set_exception(exc)
            self._head.exception()  # retrieved: no "never retrieved" warning if unawaited
        self._wake()

    # -- internals --------------------------------------------------------------------------

    async def _wait(self) -> None:
        waiter = self._waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _stop_timers(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def _timed_out(self) -> None:
        self._deadline = None
        self._conn.close()
        self._fail(TimeoutError("The upstream call took longer than its total timeout."))

    def _check_gap(self) -> None:
        self._gap_timer = None
        if self._done:
            return
        due = self._last + self._gap
        if self._loop.time() >= due:
            self._conn.close()
            self._fail(TimeoutError("The upstream went silent for too long."))
        else:
            self._gap_timer = self._loop.call_at(due, self._check_gap)
