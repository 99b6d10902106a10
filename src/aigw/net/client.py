"""``HttpClient.post``: one upstream call over a pooled keep-alive connection.

What it does: HTTP and HTTPS (the system's CA store), a pool per origin, a connect timeout,
a total timeout over the whole exchange, gzip/deflate answers, chunked and close-delimited
bodies. What it leaves out on purpose: redirects (an API answer is never one to follow),
cookies, proxies from the environment (aiohttp's client, used before, ignored them too),
HTTP/2. A failed call is not retried here: the router decides what to retry.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from aigw.net.connection import Connection
from aigw.net.errors import ConnectFailed
from aigw.net.pool import Pool
from aigw.net.response import Response

# The client writes these itself; a caller's own would contradict them.
RESERVED = frozenset({"host", "content-length", "transfer-encoding", "connection"})
TAIL = "Accept-Encoding: gzip, deflate\r\nContent-Length: "
MAX_TARGETS = 4096  # parsed URLs kept (there is one per model and operation)
SMALL_BODY = 64 * 1024  # below this, head and body go out as one buffer


@dataclass(frozen=True, slots=True)
class Target:
    """A URL parsed once: where to connect and the start of the request's head."""

    host: str
    port: int
    tls: bool
    prefix: bytes  # b"POST /path?query HTTP/1.1\r\nHost: ...\r\n"

    @property
    def origin(self) -> tuple[str, int, bool]:
        return (self.host, self.port, self.tls)


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        raise ValueError("Credentials in an upstream URL are not supported; use headers.")
    tls = scheme == "https"
    port = parts.port or (443 if tls else 80)
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        shown = f"{shown}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if any(c in path for c in " \r\n"):
        raise ValueError(f"Invalid characters in URL path: {url!r}")
    prefix = f"POST {path} HTTP/1.1\r\nHost: {shown}\r\n".encode()
    return Target(host, port, tls, prefix)


def encode_head(target: Target, headers: Mapping[str, str], length: int) -> bytes:
    """The request head; refuses header names or values that would split it."""
    text = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise ValueError("An upstream header contains a line break.")
    for name in headers:
        if name.lower() in RESERVED:
            raise ValueError(f"Header {name!r} is set by the HTTP client itself.")
    return target.prefix + f"{text}{TAIL}{length}\r\n\r\n".encode()


class HttpClient:
    """Pooled HTTP/1.1 POSTs to upstream providers, one connection per call in flight."""

    def __init__(
        self,
        *,
        connect_timeout: float | None = 10.0,
        total_timeout: float | None = None,
        keepalive: float = 30.0,
        max_idle: int = 256,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout or None
        self.total_timeout = total_timeout or None
        self._keepalive = keepalive
        self._max_idle = max_idle
        self._ssl = ssl_context
        self._targets: dict[str, Target] = {}
        self._pools: dict[tuple[str, int, bool], Pool] = {}
        self._closed = False

    async def post(self, url: str, *, data: bytes, headers: Mapping[str, str]) -> Response:
        """Send the request; returns when the status and headers have arrived. The caller
        reads the body and then calls ``release()`` (or ``close()`` to abandon it).

        Raises ``ConnectFailed`` / ``Disconnected`` / ``BadResponse`` (all ``TransportError``)
        or ``TimeoutError``."""
        if self._closed:
            raise ConnectFailed("The HTTP client is closed.")
        target = self._targets.get(url)
        if target is None:
            target = self._target(url)
        head = encode_head(target, headers, len(data))
        pool = self._pools.get(target.origin)
        if pool is None:
            pool = self._pools[target.origin] = Pool(self._keepalive, self._max_idle)
        conn = pool.take() or await self._connect(target, pool)
        loop = asyncio.get_running_loop()
        response = Response(conn, loop)
        response._start_deadline(self.total_timeout)
        conn.send(response, head + data if len(data) < SMALL_BODY else head)
        if len(data) >= SMALL_BODY:
            assert conn.transport is not None
            conn.transport.write(data)
        try:
            await response.wait_head()
        except BaseException:
            response.close()
            raise
        return response

    async def close(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def idle_connections(self) -> int:
        """Connections waiting in the pools (for tests and diagnostics)."""
        return sum(pool.idle_count for pool in self._pools.values())

    def _target(self, url: str) -> Target:
        target = parse_target(url)
        if len(self._targets) >= MAX_TARGETS:
            self._targets.clear()
        self._targets[url] = target
        return target

    async def _connect(self, target: Target, pool: Pool) -> Connection:
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if target.tls:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(pool),
                    target.host,
                    target.port,
                    ssl=context,
                    server_hostname=target.host if context is not None else None,
                )
        except OSError as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise ConnectFailed(
                f"Could not connect to {target.host}:{target.port} ({exc.strerror or exc})."
            ) from exc
        pool.opened(conn)
        return conn
