"""Both cache backends: TTLs, per-account clearing, vectors; the LRU's byte bound; Redis
down or silent is a fast miss."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from aigw.cache.redis_store import RedisCache
from aigw.cache.store import MAX_VECTORS_PER_SCOPE, CacheBackend, MemoryCache
from aigw.errors import ServiceUnavailable


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make(request: pytest.FixtureRequest) -> Callable[[], CacheBackend]:
    if request.param == "memory":
        return lambda: MemoryCache(1 << 20)
    url: str = request.getfixturevalue("redis_url")
    return lambda: RedisCache(url, timeout=2.0)


def _account() -> str:
    return "acct_test_" + secrets.token_hex(6)


async def test_put_get_and_ttl(make: Callable[[], CacheBackend]) -> None:
    cache, account = make(), _account()
    assert await cache.get(account, "k") is None
    await cache.put(account, "k", b"answer", ttl=1)
    await cache.put(account, "long", b"kept", ttl=60)
    assert await cache.get(account, "k") == b"answer"
    await asyncio.sleep(1.2)
    assert await cache.get(account, "k") is None
    assert await cache.get(account, "long") == b"kept"
    await cache.close()


async def test_clear_drops_one_account_only(make: Callable[[], CacheBackend]) -> None:
    cache, mine, theirs = make(), _account(), _account()
    for account in (mine, theirs):
        await cache.put(account, "a", b"1", ttl=60)
        await cache.put(account, "b", b"2", ttl=60)
        await cache.add_vector(account, "scope", "a", b"\x00" * 8, ttl=60)
    assert await cache.clear(mine) >= 2
    assert await cache.get(mine, "a") is None and await cache.vectors(mine, "scope") == []
    assert await cache.get(theirs, "a") == b"1"
    assert await cache.vectors(theirs, "scope") == [("a", b"\x00" * 8)]
    await cache.clear(theirs)
    await cache.close()


async def test_vectors_are_per_scope_and_bounded(make: Callable[[], CacheBackend]) -> None:
    cache, account = make(), _account()
    for i in range(MAX_VECTORS_PER_SCOPE + 10):
        await cache.add_vector(account, "s1", f"k{i}", i.to_bytes(4, "little"), ttl=60)
    await cache.add_vector(account, "s2", "other", b"zzzz", ttl=60)
    found = await cache.vectors(account, "s1")
    assert len(found) == MAX_VECTORS_PER_SCOPE
    assert ("other", b"zzzz") in await cache.vectors(account, "s2")
    await cache.clear(account)
    await cache.close()


async def test_memory_lru_stays_within_its_bytes_and_keeps_recent_entries() -> None:
    cache = MemoryCache(20_000)
    value = b"x" * 1000
    for i in range(100):
        await cache.put("a", f"k{i}", value, ttl=60)
        if i >= 1:
            assert await cache.get("a", "k0") == value  # used, so never the least recent
        assert cache.bytes <= cache.max_bytes
    assert 10 <= len(cache) < 20
    assert await cache.get("a", "k1") is None  # evicted: least recently used
    assert await cache.get("a", "k99") == value
    await cache.put("a", "huge", b"y" * 30_000, ttl=60)  # bigger than the whole cache
    assert await cache.get("a", "huge") is None and cache.bytes <= cache.max_bytes
    await cache.put("a", "k99", b"z", ttl=60)  # replacing frees the old value's bytes
    assert await cache.get("a", "k99") == b"z"
    assert cache.bytes <= cache.max_bytes


async def test_memory_ttl_uses_its_clock() -> None:
    now = [100.0]
    cache = MemoryCache(10_000, clock=lambda: now[0])
    await cache.put("a", "k", b"v", ttl=10)
    now[0] = 109.9
    assert await cache.get("a", "k") == b"v"
    now[0] = 110.0
    assert await cache.get("a", "k") is None and cache.bytes == 0


@pytest.mark.redis
async def test_redis_down_is_a_fast_miss(redis_url: str) -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
    started = time.monotonic()
    assert await cache.get("a", "k") is None
    await cache.put("a", "k", b"v", ttl=60)  # a skipped write, not an error
    await cache.add_vector("a", "s", "k", b"v", ttl=60)
    assert await cache.vectors("a", "s") == []
    assert time.monotonic() - started < 1
    assert cache.failures >= 1
    with pytest.raises(ServiceUnavailable):
        await cache.clear("a")
    await cache.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts and never answers: a hung Redis."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.redis
async def test_hung_redis_is_a_bounded_miss_then_backs_off(
    redis_url: str, silent_server: int
) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{silent_server}/0", timeout=0.2, backoff=5)
    started = time.monotonic()
    assert await cache.get("a", "k") is None
    first = time.monotonic() - started
    assert 0.15 < first < 1.0, first
    started = time.monotonic()
    for _ in range(20):  # within the backoff: no more waiting at all
        assert await cache.get("a", "k") is None
    assert time.monotonic() - started < 0.05
    await cache.close()


@pytest.mark.redis
async def test_two_replicas_share_entries_through_redis(redis_url: str) -> None:
    a, b, account = RedisCache(redis_url), RedisCache(redis_url), _account()
    await a.put(account, "k", b"from-a", ttl=60)
    await a.add_vector(account, "s", "k", b"vec!", ttl=60)
    assert await b.get(account, "k") == b"from-a"
    assert await b.vectors(account, "s") == [("k", b"vec!")]
    await b.clear(account)
    assert await a.get(account, "k") is None
    await a.close()
    await b.close()
