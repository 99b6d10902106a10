"""The cache service alone: when it is consulted, and what a hit costs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import pytest

from aigw.cache.entry import Entry
from aigw.cache.keys import CacheAsk
from aigw.cache.semantic import Payer
from aigw.cache.service import HIT, SEMANTIC_HIT, ResponseCache
from aigw.cache.store import MemoryCache

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "temperature": 0}


@pytest.mark.parametrize("percent", ["10", "12.5", "0", "100", "33.333"])
def test_hit_cost_is_the_percentage_rounded_half_up(percent: str) -> None:
    cache = ResponseCache(MemoryCache(1000), hit_percent=Decimal(percent))
    rng = random.Random(7)
    for cost in [0, 1, 4, 5, 15, 11125, *(rng.randrange(10**12) for _ in range(200))]:
        exact = Decimal(cost) * Decimal(percent) / 100
        assert cache.hit_cost(Entry({}, cost)) == int(exact.to_integral_value(ROUND_HALF_UP))


def test_plan_bypasses_skip_and_non_deterministic_auto() -> None:
    cache = ResponseCache(MemoryCache(1000))
    ask = CacheAsk("auto", 60, False, 0.9)
    assert cache.plan(CacheAsk("skip", 60, False, 0.9), "a", "m", BODY) is None
    assert cache.plan(ask, "a", "m", {**BODY, "temperature": 1}) is None
    assert cache.plan(CacheAsk("force", 60, False, 0.9), "a", "m", {**BODY, "temperature": 1})
    lookup = cache.plan(CacheAsk("auto", 60, True, 0.9), "a", "m", BODY)
    assert lookup is not None and lookup.scope is None, "no embedder: exact only"


class Fixed:
    """An embedder with hand-made vectors: the service logic without the model."""

    name = "test/fixed"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls = 0

    async def embed(self, texts: Sequence[str], payer: Payer | None = None) -> list[list[float]]:
        self.calls += 1
        return [self.table[t] for t in texts]


async def test_semantic_lookup_stores_and_finds_by_threshold() -> None:
    embedder = Fixed({"hello": [1.0, 0.0], "hi": [0.96, 0.28], "bye": [0.0, 1.0]})
    cache = ResponseCache(MemoryCache(100_000), embedder=embedder)
    ask = CacheAsk("auto", 60, True, 0.95)
    first = cache.plan(ask, "a", "m", BODY)
    assert first is not None and await cache.lookup(first) is None
    await cache.store(first, Entry({"choices": []}, 100))
    near = cache.plan(ask, "a", "m", {**BODY, "messages": [{"role": "user", "content": "hi"}]})
    assert near is not None
    hit = await cache.lookup(near)
    assert hit is not None and hit.semantic and hit.score == pytest.approx(0.96)
    assert near.status == SEMANTIC_HIT
    strict = CacheAsk("auto", 60, True, 0.97)
    again = cache.plan(strict, "a", "m", {**BODY, "messages": [{"role": "user", "content": "hi"}]})
    assert again is not None and await cache.lookup(again) is None
    far = cache.plan(ask, "a", "m", {**BODY, "messages": [{"role": "user", "content": "bye"}]})
    assert far is not None and await cache.lookup(far) is None
    exact = cache.plan(ask, "a", "m", BODY)
    calls = embedder.calls
    assert exact is not None and (await cache.lookup(exact)) is not None
    assert exact.status == HIT and embedder.calls == calls, "exact hits embed nothing"
    other_account = cache.plan(
        ask, "b", "m", {**BODY, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert other_account is not None and await cache.lookup(other_account) is None
