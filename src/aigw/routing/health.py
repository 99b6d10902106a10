"""Health of each deployment over a trailing window: success rate, p50 time to first token,
p50 latency and tokens per second, plus its circuit breaker and failure counters.

These numbers drive the ``lowest_latency`` and ``highest_throughput`` policies and
``GET /v1/health/providers``. Recording is a few appends; the percentiles are computed at
most once a second per deployment, so routing never sorts samples per request.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw.routing.breaker import CLOSED, Breaker, Window

if TYPE_CHECKING:
    from aigw.config import Settings

MAX_SAMPLES = 256  # successful calls kept per deployment for the percentiles
_STATS_TTL = 1.0  # seconds a computed snapshot is reused for routing


@dataclass(frozen=True, slots=True)
class Stats:
    """A deployment's numbers over the window (None: no data)."""

    requests: int
    success_rate: float | None
    p50_ttft_ms: float | None
    p50_latency_ms: float | None
    tokens_per_second: float | None


def _p50(values: list[float]) -> float | None:
    if not values:
        return None
    values.sort()
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


class DeploymentHealth:
    """One deployment (``provider/upstream id``): its breaker, outcomes and samples."""

    __slots__ = (
        "_computed_at",
        "_stats",
        "attempts",
        "breaker",
        "failures",
        "fallbacks",
        "key",
        "last_error",
        "last_error_at",
        "outcomes",
        "provider",
        "retries",
        "samples",
        "window_seconds",
    )

    def __init__(self, key: str, provider: str, breaker: Breaker, window: float) -> None:
        self.key = key
        self.provider = provider
        self.breaker = breaker
        self.window_seconds = window
        self.outcomes = Window(window, buckets=30)
        # (time, ttft seconds or None, latency seconds, output tokens per second or None)
        self.samples: deque[tuple[float, float | None, float, float | None]] = deque(
            maxlen=MAX_SAMPLES
        )
        self.attempts = 0
        self.retries = 0
        self.fallbacks = 0
        self.failures: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self._stats: Stats | None = None
        self._computed_at = -1.0

    def succeeded(self, now: float, ttft: float | None, latency: float, tokens: int) -> None:
        self.breaker.success(now)
        self.outcomes.add(True, now)
        generating = latency - ttft if ttft is not None else latency
        tps = tokens / generating if tokens > 0 and generating > 0.001 else None
        self.samples.append((now, ttft, latency, tps))

    def failed(self, now: float, error_type: str) -> bool:
        """Count a failure of this deployment; True when it opened the breaker."""
        self.outcomes.add(False, now)
        self.failures[error_type] = self.failures.get(error_type, 0) + 1
        self.last_error, self.last_error_at = error_type, time.time()
        return self.breaker.failure(now)

    def stats(self, now: float) -> Stats:
        """The window's numbers, recomputed at most once a second."""
        if self._stats is not None and now - self._computed_at < _STATS_TTL:
            return self._stats
        ok, fail = self.outcomes.counts(now)
        since = now - self.window_seconds
        ttfts: list[float] = []
        latencies: list[float] = []
        rates: list[float] = []
        for at, ttft, latency, tps in self.samples:
            if at < since:
                continue
            latencies.append(latency)
            if ttft is not None:
                ttfts.append(ttft)
            if tps is not None:
                rates.append(tps)
        p50_ttft, p50_latency = _p50(ttfts), _p50(latencies)
        self._stats = Stats(
            requests=ok + fail,
            success_rate=ok / (ok + fail) if ok + fail else None,
            p50_ttft_ms=None if p50_ttft is None else round(p50_ttft * 1000, 1),
            p50_latency_ms=None if p50_latency is None else round(p50_latency * 1000, 1),
            tokens_per_second=_round(_p50(rates)),
        )
        self._computed_at = now
        return self._stats

    def healthy(self, now: float) -> bool:
        """Closed breaker and, with enough data, at least half of the calls succeeding."""
        if self.breaker.state != CLOSED:
            return False
        stats = self.stats(now)
        rate = stats.success_rate
        return rate is None or stats.requests < 5 or rate >= 0.5

    def view(self, now: float) -> dict[str, Any]:
        stats = self.stats(now)
        return {
            "deployment": self.key,
            "provider": self.provider,
            "status": self._status(now, stats),
            "breaker": self.breaker.state,
            "breaker_retry_in_seconds": round(self.breaker.retry_in(now), 1),
            "requests": stats.requests,
            "success_rate": None if stats.success_rate is None else round(stats.success_rate, 4),
            "p50_ttft_ms": stats.p50_ttft_ms,
            "p50_latency_ms": stats.p50_latency_ms,
            "tokens_per_second": stats.tokens_per_second,
            "attempts": self.attempts,
            "retries": self.retries,
            "fallbacks": self.fallbacks,
            "failures": dict(sorted(self.failures.items())),
            "last_error": self.last_error,
            "last_error_at": None if self.last_error_at is None else int(self.last_error_at),
        }

    def _status(self, now: float, stats: Stats) -> str:
        if self.breaker.state != CLOSED:
            return "down"
        if stats.success_rate is None:
            return "unknown"
        return "healthy" if stats.success_rate >= 0.95 else "degraded"


def _overall(views: list[dict[str, Any]]) -> str:
    """A provider's status from its deployments': all alike, else degraded."""
    statuses = {v["status"] for v in views} - {"unknown"}
    if not statuses:
        return "unknown"
    return statuses.pop() if len(statuses) == 1 else "degraded"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class Health:
    """Every deployment's health, by ``provider/upstream id``; one per gateway process."""

    def __init__(
        self,
        *,
        window: float = 300.0,
        failure_rate: float = 0.5,
        min_requests: int = 10,
        breaker_window: float = 30.0,
        cooldown: float = 15.0,
    ) -> None:
        self.window = window
        self._breaker = (failure_rate, min_requests, breaker_window, cooldown)
        self._by_key: dict[str, DeploymentHealth] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Health:
        return cls(
            window=settings.health_window_seconds,
            failure_rate=settings.breaker_failure_rate,
            min_requests=settings.breaker_min_requests,
            breaker_window=settings.breaker_window_seconds,
            cooldown=settings.breaker_cooldown_seconds,
        )

    def of(self, key: str, provider: str) -> DeploymentHealth:
        found = self._by_key.get(key)
        if found is None:
            rate, minimum, span, cooldown = self._breaker
            breaker = Breaker(
                failure_rate=rate, min_requests=minimum, window=span, cooldown=cooldown
            )
            found = self._by_key[key] = DeploymentHealth(key, provider, breaker, self.window)
        return found

    def deployments(self) -> list[DeploymentHealth]:
        return sorted(self._by_key.values(), key=lambda d: d.key)

    def view(self) -> dict[str, Any]:
        """``GET /v1/health/providers``: providers, each with its deployments."""
        now = time.monotonic()
        providers: dict[str, list[dict[str, Any]]] = {}
        for deployment in self.deployments():
            providers.setdefault(deployment.provider, []).append(deployment.view(now))
        data = []
        for provider, views in sorted(providers.items()):
            data.append({"provider": provider, "status": _overall(views), "deployments": views})
        return {"object": "list", "window_seconds": self.window, "data": data}
