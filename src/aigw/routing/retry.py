"""Send one upstream request, retrying before the first byte on transient failures.

Retried: whatever the adapter maps to a ``retryable`` error (connection errors, 5xx, 429 /
529, timeouts), waiting for a short upstream Retry-After. Not retried: other 4xx and quota
exhaustion. Routing across providers builds on this.
"""

from __future__ import annotations

import asyncio
import random
import time

from aigw.errors import GatewayError, GatewayTimeout, UpstreamError
from aigw.net import Response, TransportError
from aigw.providers.openai_compatible import retry_after_seconds
from aigw.providers.registry import Upstream

MAX_RETRY_AFTER_WAIT = 2.0  # seconds; a longer upstream Retry-After is passed to the client


def backoff(attempt: int, base: float = 0.1, cap: float = 2.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(0, min(cap, base * 2**attempt)))


async def send(
    upstream: Upstream,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    max_attempts: int,
    deadline: float,
) -> Response:
    """The first 2xx response (caller must release it), else the mapped error."""
    last_error: GatewayError | None = None
    for attempt in range(max(1, max_attempts)):
        wait = 0.0
        try:
            response = await upstream.http.post(url, data=body, headers=headers)
        except TimeoutError:
            last_error = GatewayTimeout(
                f"Upstream provider '{upstream.endpoint.provider_id}' did not answer in time."
            )
        except TransportError:
            last_error = UpstreamError(
                f"Could not reach upstream provider '{upstream.endpoint.provider_id}'."
            )
        else:
            if response.status < 300:
                return response
            try:
                error_body = await response.read()
            except (TransportError, TimeoutError):
                error_body = b""
            finally:
                response.release()
            last_error = upstream.adapter.map_error(
                upstream.endpoint, response.status, error_body, response.headers
            )
            if not last_error.retryable:
                raise last_error
            wait = float(retry_after_seconds(response.headers) or 0)
            if wait > MAX_RETRY_AFTER_WAIT:
                raise last_error
        if attempt + 1 >= max_attempts:
            break
        wait = max(wait, backoff(attempt))
        if time.monotonic() + wait >= deadline:
            break
        await asyncio.sleep(wait)
    assert last_error is not None
    raise last_error
