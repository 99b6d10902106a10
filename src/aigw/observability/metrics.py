"""Prometheus metrics: counters and histograms kept in plain dicts, rendered in the text
exposition format (version 0.0.4) on scrape.

Written here rather than taken from ``prometheus-client`` because the hot path only needs a
dict update per sample (no locks: one event loop), and the renderer is fifty lines.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[str, ...]

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Labels, extra: str = "") -> str:
    parts = [f'{n}="{escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Counter:
    """A monotonically increasing value per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Sequence[str]) -> None:
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def samples(self) -> Iterable[str]:
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labels, labels)} {_number(value)}"


class Collected:
    """Values read at scrape time from a callback, ``[(labels, value), ...]``: gauges, or
    counters kept elsewhere (the router's per-deployment counts)."""

    def __init__(
        self,
        name: str,
        help: str,
        labels: Sequence[str],
        read: Callable[[], Iterable[tuple[Labels, float]]],
        kind: str = "gauge",
    ) -> None:
        self.name, self.help, self.labels, self.kind = name, help, tuple(labels), kind
        self._read = read

    def samples(self) -> Iterable[str]:
        for labels, value in sorted(self._read()):
            yield f"{self.name}{_labels(self.labels, labels)} {_number(value)}"


class Histogram:
    """Cumulative buckets, sum and count per label set."""

    kind = "histogram"

    def __init__(
        self, name: str, help: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        # per label set: [count in each bucket (not cumulative)..., +Inf count, sum]
        self.values: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, value: float) -> None:
        row = self.values.get(labels)
        if row is None:
            row = self.values[labels] = [0.0] * (len(self.buckets) + 2)
        observe(row, self.buckets, value)

    def samples(self) -> Iterable[str]:
        for labels, row in sorted(self.values.items()):
            cumulative = 0.0
            for bound, count in zip((*self.buckets, math.inf), row, strict=False):
                cumulative += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.labels, labels, le)} {_number(cumulative)}"
            yield f"{self.name}_sum{_labels(self.labels, labels)} {_number(row[-1])}"
            yield f"{self.name}_count{_labels(self.labels, labels)} {_number(cumulative)}"


class Series:
    """Every request-level number of one label set, updated together: one dict lookup per
    request instead of one per metric."""

    __slots__ = ("completion", "cost", "errors", "latency", "prompt", "statuses", "ttft")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.latency = [0.0] * (len(LATENCY_BUCKETS) + 2)  # buckets, +Inf, sum
        self.ttft = [0.0] * (len(TTFT_BUCKETS) + 2)
        self.prompt = 0
        self.completion = 0
        self.cost = 0.0


def observe(row: list[float], buckets: Sequence[float], value: float) -> None:
    row[bisect_left(buckets, value)] += 1
    row[-1] += value


class RequestMetrics:
    """Requests, errors, latency, time to first token, tokens and cost per
    (endpoint, provider, model), rendered as six metrics."""

    def __init__(self) -> None:
        self.series: dict[Labels, Series] = {}

    def of(self, labels: Labels) -> Series:
        found = self.series.get(labels)
        if found is None:
            found = self.series[labels] = Series()
        return found

    def metrics(self) -> list[Metric]:
        names = ("endpoint", "provider", "model")
        requests = Counter("aigw_requests_total", "Requests by status.", (*names, "status"))
        errors = Counter("aigw_request_errors_total", "Failed requests by type.", (*names, "type"))
        latency = Histogram(
            "aigw_request_duration_seconds", "Request latency.", names, LATENCY_BUCKETS
        )
        ttft = Histogram(
            "aigw_time_to_first_token_seconds",
            "Time to the first byte of streamed answers.",
            names,
            TTFT_BUCKETS,
        )
        tokens = Counter(
            "aigw_tokens_total",
            "Tokens by kind (prompt, completion).",
            ("provider", "model", "kind"),
        )
        cost = Counter(
            "aigw_cost_usd_total", "Cost of answered calls in USD at the catalog price.",
            ("provider", "model"),
        )  # fmt: skip
        for labels, s in self.series.items():
            for status, count in s.statuses.items():
                requests.inc((*labels, str(status)), count)
            for kind, count in s.errors.items():
                errors.inc((*labels, kind), count)
            latency.values[labels] = s.latency
            if any(s.ttft[:-1]):  # streams only
                ttft.values[labels] = s.ttft
            if s.prompt or s.completion:
                _, provider, model = labels
                tokens.inc((provider, model, "prompt"), s.prompt)
                tokens.inc((provider, model, "completion"), s.completion)
            if s.cost:
                cost.inc(labels[1:], s.cost)
        return [requests, errors, latency, ttft, tokens, cost]


Metric = Counter | Collected | Histogram


def render(metrics: Iterable[Metric]) -> str:
    lines: list[str] = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {escape(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        lines.extend(metric.samples())
    return "\n".join(lines) + "\n"
