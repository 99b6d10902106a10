"""Routing policies: the order in which one model's deployments are tried.

- ``weighted`` (the default): the first pick is random in proportion to the weights, the
  rest follow by weight; traffic is shared as the operator configured it.
- ``lowest_latency``: lowest p50 time to first token (p50 latency before any stream was
  measured).
- ``highest_throughput``: highest p50 output tokens per second.
- ``lowest_cost``: lowest input price, then output price.
- ``pinned``: the order of ``routing.providers``.

Under every policy, deployments whose breaker is not closed or that fail most calls go last,
and a deployment with no data yet comes first for the measured policies, so it gets measured
(its window empties again when it gets no traffic, so a slow one is re-tried now and then).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aigw.routing.deployments import Candidate

_UNKNOWN_FIRST = float("-inf")  # sorts before every measured value


def order(
    candidates: Sequence[Candidate],
    policy: str,
    now: float,
    providers: Sequence[str] = (),
) -> list[Candidate]:
    ranked = list(candidates)
    if len(ranked) < 2:
        return ranked
    if policy == "pinned":
        ranked.sort(key=lambda c: providers.index(c.model.provider))
        return ranked
    if policy == "weighted":
        return _weighted(ranked, now)
    if policy == "lowest_cost":
        ranked.sort(
            key=lambda c: (
                not c.health.healthy(now),
                c.model.price.input,
                c.model.price.output,
                -c.weight,
            )
        )
    elif policy == "lowest_latency":
        ranked.sort(key=lambda c: (not c.health.healthy(now), _latency(c, now), -c.weight))
    else:  # highest_throughput
        ranked.sort(key=lambda c: (not c.health.healthy(now), _slowness(c, now), -c.weight))
    return ranked


def _latency(c: Candidate, now: float) -> float:
    stats = c.health.stats(now)
    value = stats.p50_ttft_ms if stats.p50_ttft_ms is not None else stats.p50_latency_ms
    return _UNKNOWN_FIRST if value is None else value


def _slowness(c: Candidate, now: float) -> float:
    tps = c.health.stats(now).tokens_per_second
    return _UNKNOWN_FIRST if tps is None else -tps


def _weighted(ranked: list[Candidate], now: float) -> list[Candidate]:
    healthy = [c for c in ranked if c.health.healthy(now)]
    rest = [c for c in ranked if c not in healthy]
    healthy.sort(key=lambda c: -c.weight)
    if len(healthy) > 1:
        first = random.choices(healthy, weights=[c.weight for c in healthy])[0]
        healthy.remove(first)
        healthy.insert(0, first)
    rest.sort(key=lambda c: -c.weight)
    return healthy + rest
