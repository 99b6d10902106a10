"""A lean HTTP/1.1 client for upstream calls: keep-alive pool, httptools parser, no frills.

Why not aiohttp's client: on this hot path it cost about 100 µs of CPU per call (URL and
header handling, cookie jar, tracing hooks, timer objects) against about 25 µs for a plain
``asyncio.Protocol`` over the same parser family; upstream calls are the gateway's most
frequent operation, so that difference was a large share of its CPU (bench/RESULTS.md).
The server side and the other outbound clients (webhooks, S3, job providers) stay on aiohttp.
"""

from aigw.net.client import HttpClient
from aigw.net.errors import BadResponse, ConnectFailed, Disconnected, TransportError
from aigw.net.response import Response

__all__ = [
    "BadResponse",
    "ConnectFailed",
    "Disconnected",
    "HttpClient",
    "Response",
    "TransportError",
]
