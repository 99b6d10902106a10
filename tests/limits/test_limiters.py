"""Both limiter backends obey the same window rules; Redis ones hold across instances."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

import pytest

from aigw.auth.keys import KeyInfo
from aigw.errors import RateLimited, ServiceUnavailable
from aigw.limits.base import Limit, LimiterUnavailable, RateLimiter, burst_requests, duration
from aigw.limits.memory import MemoryLimiter
from aigw.limits.service import Limits


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make(request: pytest.FixtureRequest) -> Callable[[], RateLimiter]:
    if request.param == "memory":
        shared = MemoryLimiter()
        return lambda: shared
    url: str = request.getfixturevalue("redis_url")
    from aigw.limits.redis_backend import RedisLimiter

    return lambda: RedisLimiter(url, timeout=2.0)  # correctness here; timeouts: their own test


def _subject() -> str:
    return "test-" + secrets.token_hex(6)


def test_burst_is_twice_the_average_rate_over_ten_seconds() -> None:
    assert burst_requests(60) == 20
    assert burst_requests(100) == 34
    assert burst_requests(6) == 2
    assert burst_requests(1) == 1


def test_durations_in_openai_format() -> None:
    assert [duration(x) for x in (0, 0.25, 6, 59.2, 61)] == ["0s", "250ms", "6s", "1m0s", "1m1s"]


async def test_burst_then_refusal_with_retry_after(make: Callable[[], RateLimiter]) -> None:
    limiter = make()
    limits = [Limit(_subject(), rpm=6)]
    first = await limiter.acquire(limits)
    assert first.allowed and first.limit_requests == 6 and first.remaining_requests == 1
    assert (await limiter.acquire(limits)).allowed
    refused = await limiter.acquire(limits)
    assert not refused.allowed
    assert 9 < refused.retry_after <= 10
    assert refused.headers()["x-ratelimit-remaining-requests"] == "0"
    await limiter.close()


async def test_concurrent_acquires_admit_exactly_the_burst(make: Callable[[], RateLimiter]) -> None:
    limiters = [make(), make()]  # two instances: two replicas when the backend is Redis
    limits = [Limit(_subject(), rpm=30)]  # burst of 10 in 10 s
    results = await asyncio.gather(*(limiters[i % 2].acquire(limits) for i in range(50)))
    assert sum(r.allowed for r in results) == 10
    for limiter in limiters:
        await limiter.close()


async def test_every_subject_must_allow_and_only_then_counts(
    make: Callable[[], RateLimiter],
) -> None:
    limiter = make()
    key, sub = Limit(_subject(), rpm=60), Limit(_subject(), rpm=3)  # sub burst: 1
    assert (await limiter.acquire([key, sub])).allowed
    refused = await limiter.acquire([key, sub])
    assert not refused.allowed
    # The refused request was not counted against the key.
    # 20 in the burst window, 2 counted (the first pair and this one), not 3.
    assert (await limiter.acquire([key])).remaining_requests == 20 - 2
    await limiter.close()


async def test_tokens_per_minute(make: Callable[[], RateLimiter]) -> None:
    limiter = make()
    limits = [Limit(_subject(), tpm=1000)]
    assert (await limiter.acquire(limits)).remaining_tokens == 1000
    await limiter.add_tokens(limits, 600)
    assert (await limiter.acquire(limits)).remaining_tokens == 400
    await limiter.add_tokens(limits, 500)
    refused = await limiter.acquire(limits)
    assert not refused.allowed and 50 < refused.retry_after <= 60
    await limiter.close()


class _Down:
    async def acquire(self, limits: object) -> object:
        raise LimiterUnavailable("down")

    async def add_tokens(self, limits: object, tokens: int) -> None:
        raise LimiterUnavailable("down")

    async def close(self) -> None:
        return None


async def test_failure_policy_open_and_closed() -> None:
    limits = [Limit("x", rpm=1)]
    opened = Limits(_Down(), fail_open=True)  # type: ignore[arg-type]
    assert (await opened.acquire(limits)).allowed and opened.unavailable == 1
    closed = Limits(_Down(), fail_open=False)  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailable):
        await closed.acquire(limits)


@pytest.mark.redis
async def test_redis_down_does_not_hang(redis_url: str) -> None:
    from aigw.limits.redis_backend import RedisLimiter

    limiter = RedisLimiter("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
    started = asyncio.get_running_loop().time()
    with pytest.raises(LimiterUnavailable):
        await limiter.acquire([Limit("x", rpm=5)])
    assert asyncio.get_running_loop().time() - started < 2
    await limiter.close()


async def test_service_raises_429_with_whole_second_retry_after() -> None:
    limits = Limits(MemoryLimiter(), default_rpm=3)
    for_key = limits.for_key(KeyInfo("k1", "a1", "acme", None), None)
    await limits.acquire(for_key)
    with pytest.raises(RateLimited) as info:
        await limits.acquire(for_key)
    headers = info.value.headers()
    assert headers["Retry-After"].isdigit() and 1 <= int(headers["Retry-After"]) <= 10
    assert headers["x-ratelimit-limit-requests"] == "3"
