"""The end of every chat and messages request: deployment health, metrics and the log line.

``Observer.finish`` runs once per request, synchronously (no await), after the request log
record: the answering deployment's outcome goes to its health and breaker (failures before
the first byte were recorded by the router as they happened), the request's numbers to the
Prometheus metrics, and, when ``access_log`` is on, one structured line to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aigw.billing.pricing import MICRO_CENTS_PER_USD
from aigw.observability.metrics import (
    LATENCY_BUCKETS,
    TTFT_BUCKETS,
    Collected,
    Labels,
    Metric,
    RequestMetrics,
    observe,
    render,
)
from aigw.routing.breaker import STATES
from aigw.server.appkeys import LIMITS, OBSERVER, REQUEST_LOG
from aigw.server.metering import CLIENT_CLOSED

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.routing.health import Health
    from aigw.server.metering import Meter

log = logging.getLogger("aigw.request")

_DEPLOYMENT = ("provider", "deployment")


async def end_request(app: web.Application, meter: Meter, endpoint: str) -> None:
    """What every metered call does last, however it ended: give back an unused reservation
    (a no-op once billed: a call that failed before its answer is free), queue its request
    log record, tell health and metrics, and count its tokens against the rate limits."""
    if not meter.billed:  # (a coroutine less for the usual request, billed by now)
        await meter.release()
    meter.write(app[REQUEST_LOG])
    app[OBSERVER].finish(meter, endpoint)
    if meter.limits and meter.usage is not None:
        app[LIMITS].count_tokens(meter.limits, meter.usage.total_tokens)


class Observer:
    def __init__(self, health: Health, *, metrics: bool = True, log_requests: bool = False) -> None:
        self.health = health
        self.metrics_enabled = metrics
        self.log_requests = log_requests
        self.requests = RequestMetrics()

    def finish(self, meter: Meter, endpoint: str) -> None:
        route = meter.route
        if route is not None and route.started and route.candidate is not None:
            health = route.candidate.health
            now = time.monotonic()
            status = meter.status
            if status == 200:
                tokens = meter.usage.completion_tokens if meter.usage is not None else 0
                health.succeeded(now, route.ttft, now - route.started, tokens)
            elif status >= 500 and status != CLIENT_CLOSED:  # broke off after it started
                health.failed(now, meter.error_type or "server_error")
            else:
                health.breaker.release()
        if self.metrics_enabled:
            self._count(meter, endpoint)
        if self.log_requests:
            self._log(meter, endpoint)

    def _count(self, meter: Meter, endpoint: str) -> None:
        model = meter.model
        series = self.requests.of(
            (endpoint, model.provider, model.id) if model is not None else (endpoint, "", "")
        )
        status = meter.status
        series.statuses[status] = series.statuses.get(status, 0) + 1
        if meter.error_type is not None:
            series.errors[meter.error_type] = series.errors.get(meter.error_type, 0) + 1
        observe(series.latency, LATENCY_BUCKETS, time.perf_counter() - meter.started)
        if meter.streamed and meter.first_byte is not None:
            observe(series.ttft, TTFT_BUCKETS, meter.first_byte - meter.started)
        usage = meter.usage
        if usage is not None:
            series.prompt += usage.prompt_tokens
            series.completion += usage.completion_tokens
            series.cost += meter.cost / MICRO_CENTS_PER_USD

    def _log(self, meter: Meter, endpoint: str) -> None:
        route = meter.route
        model = meter.model
        usage = meter.usage
        fields = {
            "endpoint": endpoint,
            "model": model.id if model is not None else meter.model_name,
            "provider": model.provider if model is not None else None,
            "status": meter.status,
            "error_type": meter.error_type,
            "attempts": route.attempts if route is not None else 0,
            "policy": route.plan.policy if route is not None else None,
            "streamed": meter.streamed,
            "latency_ms": round((time.perf_counter() - meter.started) * 1000, 1),
            "ttft_ms": (
                None
                if meter.first_byte is None
                else round((meter.first_byte - meter.started) * 1000, 1)
            ),
            "prompt_tokens": usage.prompt_tokens if usage is not None else 0,
            "completion_tokens": usage.completion_tokens if usage is not None else 0,
            "cost_usd": meter.cost / MICRO_CENTS_PER_USD,
        }
        log.info(
            "%s %s %s %d",
            endpoint,
            fields["model"],
            fields["provider"],
            meter.status,
            extra={"fields": fields, "request_id": meter.request_id},
        )

    # -- scrape ---------------------------------------------------------------------------

    def metrics(self) -> list[Metric]:
        health = self.health

        def per_deployment(read: str) -> Iterable[tuple[Labels, float]]:
            for d in health.deployments():
                yield (d.provider, d.key), float(getattr(d, read))

        def failures() -> Iterable[tuple[Labels, float]]:
            for d in health.deployments():
                for kind, count in d.failures.items():
                    yield (d.provider, d.key, kind), float(count)

        def breaker_state() -> Iterable[tuple[Labels, float]]:
            for d in health.deployments():
                yield (d.provider, d.key), float(STATES.index(d.breaker.state))

        def breaker_opens() -> Iterable[tuple[Labels, float]]:
            for d in health.deployments():
                yield (d.provider, d.key), float(d.breaker.opens)

        def stat(name: str) -> Iterable[tuple[Labels, float]]:
            now = time.monotonic()
            for d in health.deployments():
                value = getattr(d.stats(now), name)
                if value is not None:
                    yield (d.provider, d.key), float(value)

        return [
            *self.requests.metrics(),
            Collected(
                "aigw_upstream_attempts_total",
                "Upstream calls per deployment.",
                _DEPLOYMENT,
                lambda: per_deployment("attempts"),
                kind="counter",
            ),  # fmt: skip
            Collected(
                "aigw_upstream_failures_total",
                "Failed upstream calls by error type.",
                (*_DEPLOYMENT, "type"),
                failures,
                kind="counter",
            ),  # fmt: skip
            Collected(
                "aigw_upstream_retries_total",
                "Retries of the same deployment.",
                _DEPLOYMENT,
                lambda: per_deployment("retries"),
                kind="counter",
            ),  # fmt: skip
            Collected(
                "aigw_upstream_fallbacks_total",
                "Fallbacks from a deployment to the next one.",
                _DEPLOYMENT,
                lambda: per_deployment("fallbacks"),
                kind="counter",
            ),  # fmt: skip
            Collected(
                "aigw_breaker_state",
                "Circuit breaker: 0 closed, 1 half-open, 2 open.",
                _DEPLOYMENT,
                breaker_state,
            ),  # fmt: skip
            Collected(
                "aigw_breaker_opens_total",
                "Times a deployment's breaker opened.",
                _DEPLOYMENT,
                breaker_opens,
                kind="counter",
            ),  # fmt: skip
            Collected(
                "aigw_deployment_success_rate",
                "Share of calls that succeeded (health window).",
                _DEPLOYMENT,
                lambda: stat("success_rate"),
            ),  # fmt: skip
            Collected(
                "aigw_deployment_p50_ttft_ms",
                "p50 time to first token (health window).",
                _DEPLOYMENT,
                lambda: stat("p50_ttft_ms"),
            ),  # fmt: skip
            Collected(
                "aigw_deployment_p50_latency_ms",
                "p50 latency (health window).",
                _DEPLOYMENT,
                lambda: stat("p50_latency_ms"),
            ),  # fmt: skip
            Collected(
                "aigw_deployment_tokens_per_second",
                "p50 output tokens/s (health window).",
                _DEPLOYMENT,
                lambda: stat("tokens_per_second"),
            ),  # fmt: skip
        ]

    def exposition(self) -> str:
        return render(self.metrics())
