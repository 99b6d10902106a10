"""Which limits a request is under, and what happens when the shared store fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aigw.auth.keys import KeyInfo
from aigw.errors import RateLimited, ServiceUnavailable
from aigw.limits.base import ALLOW_ALL, Decision, Limit, LimiterUnavailable, RateLimiter
from aigw.limits.memory import MemoryLimiter

log = logging.getLogger("aigw.limits")


class Limits:
    """Front of the limiter: builds each request's limits and applies the failure policy
    (rate limits fail open by default: a Redis outage must not take the gateway down)."""

    def __init__(
        self,
        backend: RateLimiter,
        *,
        default_rpm: int | None = None,
        default_tpm: int | None = None,
        fail_open: bool = True,
    ) -> None:
        self.backend = backend
        self.default_rpm = default_rpm or None
        self.default_tpm = default_tpm or None
        self.fail_open = fail_open
        self.unavailable = 0  # times the backend could not answer (a metric)
        self._tasks: set[asyncio.Future[None]] = set()

    @classmethod
    def from_settings(
        cls, redis_url: str | None, *, rpm: int, tpm: int, fail_open: bool, timeout: float
    ) -> Limits:
        backend: RateLimiter
        if redis_url:
            from aigw.limits.redis_backend import RedisLimiter

            backend = RedisLimiter(redis_url, timeout=timeout)
        else:
            backend = MemoryLimiter()
        return cls(backend, default_rpm=rpm, default_tpm=tpm, fail_open=fail_open)

    def for_key(self, key: KeyInfo, sub_rpm: int | None) -> list[Limit]:
        """The key's limits (its own, else its account's, else the gateway's; 0 = none) and
        its sub-account's requests-per-minute limit."""
        rpm = self.default_rpm if key.rate_limit_rpm is None else (key.rate_limit_rpm or None)
        tpm = self.default_tpm if key.rate_limit_tpm is None else (key.rate_limit_tpm or None)
        limits = []
        if rpm or tpm:
            limits.append(Limit("key:" + key.key_id, rpm, tpm))
        if key.sub_account_id is not None and sub_rpm:
            limits.append(Limit("sub:" + key.sub_account_id, sub_rpm, None))
        return limits

    async def acquire(self, limits: Sequence[Limit]) -> Decision:
        """The decision, raising 429 with Retry-After (whole seconds) when refused."""
        if not limits:
            return ALLOW_ALL
        try:
            decision = await self.backend.acquire(limits)
        except LimiterUnavailable as exc:
            self.unavailable += 1
            log.error(
                "rate limiter unavailable (%s); failing %s",
                exc,
                "open" if self.fail_open else "closed",
            )
            if self.fail_open:
                return ALLOW_ALL
            raise ServiceUnavailable(
                "Rate limiting is unavailable; retry shortly.", retry_after=1
            ) from None
        if not decision.allowed:
            raise RateLimited(
                "Rate limit reached: too many requests per minute for this key; retry after "
                "the Retry-After header's seconds.",
                retry_after=max(1, int(decision.retry_after + 0.999)),
                headers=decision.headers(),
            )
        return decision

    def count_tokens(self, limits: Sequence[Limit], tokens: int) -> None:
        """Count a finished call's tokens in the background (never delays a response)."""
        if tokens <= 0 or not any(limit.tpm for limit in limits):
            return
        task = asyncio.ensure_future(self.add_tokens(limits, tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def add_tokens(self, limits: Sequence[Limit], tokens: int) -> None:
        if not limits or tokens <= 0:
            return
        try:
            await self.backend.add_tokens(limits, tokens)
        except LimiterUnavailable as exc:
            self.unavailable += 1
            log.error("rate limiter unavailable (%s) while counting tokens", exc)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.backend.close()
