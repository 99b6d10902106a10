"""The limiter contract and the window rules every backend implements.

A limit of R requests per minute admits at most R requests in any rolling 60 seconds and at
most ``burst_requests(R)`` in any rolling 10 seconds: bursts may run at twice the average
rate for 10 s (as the reference product allows) but not faster. A tokens-per-minute limit
admits a request while the tokens of the last 60 seconds are under the limit; tokens are
counted when the call ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

WINDOW = 60.0
BURST_WINDOW = 10.0


def burst_requests(rpm: int) -> int:
    """Requests allowed in any 10 s: twice the average rate over 10 s."""
    return max(1, math.ceil(2 * rpm * BURST_WINDOW / WINDOW))


@dataclass(frozen=True, slots=True)
class Limit:
    """The limits of one subject (a key, a sub-account); ``None`` means unlimited."""

    subject: str
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # The tightest subject's view, for the x-ratelimit-* headers (None: no such limit).
    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float = 0.0
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float = 0.0
    retry_after: float = 0.0

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.limit_requests is not None:
            out["x-ratelimit-limit-requests"] = str(self.limit_requests)
            out["x-ratelimit-remaining-requests"] = str(max(0, self.remaining_requests or 0))
            out["x-ratelimit-reset-requests"] = duration(self.reset_requests)
        if self.limit_tokens is not None:
            out["x-ratelimit-limit-tokens"] = str(self.limit_tokens)
            out["x-ratelimit-remaining-tokens"] = str(max(0, self.remaining_tokens or 0))
            out["x-ratelimit-reset-tokens"] = duration(self.reset_tokens)
        return out


ALLOW_ALL = Decision(True)


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``0s``, ``250ms``, ``6s``, ``1m0s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


class RateLimiter(Protocol):
    """A backend. ``acquire`` must check every limit and, only if all allow, count the request
    against all of them, atomically (no other acquire may interleave between check and
    count). ``add_tokens`` records a finished call's tokens. Neither may block for long:
    a backend that cannot answer in time raises ``LimiterUnavailable``."""

    async def acquire(self, limits: Sequence[Limit]) -> Decision: ...

    async def add_tokens(self, limits: Sequence[Limit], tokens: int) -> None: ...

    async def close(self) -> None: ...


class LimiterUnavailable(Exception):
    """The shared store did not answer in time; the caller fails open or closed."""


def merge(views: Sequence[Decision], allowed: bool, retry_after: float) -> Decision:
    """One decision from per-subject views: the fewest remaining requests and tokens win."""
    req = [v for v in views if v.limit_requests is not None]
    tok = [v for v in views if v.limit_tokens is not None]
    r = min(req, key=lambda v: v.remaining_requests or 0) if req else None
    t = min(tok, key=lambda v: v.remaining_tokens or 0) if tok else None
    return Decision(
        allowed=allowed,
        limit_requests=r.limit_requests if r else None,
        remaining_requests=r.remaining_requests if r else None,
        reset_requests=r.reset_requests if r else 0.0,
        limit_tokens=t.limit_tokens if t else None,
        remaining_tokens=t.remaining_tokens if t else None,
        reset_tokens=t.reset_tokens if t else 0.0,
        retry_after=retry_after,
    )
