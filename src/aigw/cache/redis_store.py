"""The cache in Redis, so every replica serves what any of them stored.

Entries are strings with a TTL (``aigw:cache:<account>:e:<digest>``); semantic vectors are a
hash per (account, scope) (``aigw:cache:<account>:s:<scope>``, digest -> float32 bytes) whose
TTL is pushed out on every write. Every call is bounded by ``timeout``; a failure counts as a
miss (or a skipped write) and Redis is then left alone for ``backoff`` seconds, so a Redis
that is down or slow costs requests nothing beyond one bounded wait per backoff period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from aigw.cache.store import MAX_VECTORS_PER_SCOPE
from aigw.errors import ServiceUnavailable

log = logging.getLogger("aigw.cache")
T = TypeVar("T")
PREFIX = "aigw:cache:"


class RedisCache:
    def __init__(self, url: str, *, timeout: float = 0.25, backoff: float = 1.0) -> None:
        self._redis: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=0,
        )
        self._timeout = timeout
        self._backoff = backoff
        self._down_until = 0.0
        self.failures = 0

    async def _call(self, make: Callable[[], Awaitable[T]], default: T) -> T:
        if self._down_until and time.monotonic() < self._down_until:
            return default
        try:
            async with asyncio.timeout(self._timeout):
                result = await make()
        except (RedisError, OSError, TimeoutError) as exc:
            self.failures += 1
            if not self._down_until or time.monotonic() >= self._down_until:
                log.warning("response cache: Redis unavailable (%s); serving misses", exc)
            self._down_until = time.monotonic() + self._backoff
            return default
        self._down_until = 0.0
        return result

    async def get(self, account_id: str, key: str) -> bytes | None:
        name = f"{PREFIX}{account_id}:e:{key}"
        value: bytes | None = await self._call(lambda: self._redis.get(name), None)
        return value

    async def put(self, account_id: str, key: str, value: bytes, ttl: int) -> None:
        name = f"{PREFIX}{account_id}:e:{key}"
        await self._call(lambda: self._redis.set(name, value, ex=ttl), None)

    async def add_vector(
        self, account_id: str, scope: str, key: str, vector: bytes, ttl: int
    ) -> None:
        name = f"{PREFIX}{account_id}:s:{scope}"

        async def write() -> None:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hset(name, key, vector)
            pipe.expire(name, ttl, gt=True)
            pipe.expire(name, ttl, nx=True)
            pipe.hlen(name)
            *_, count = await pipe.execute()
            if int(count) > MAX_VECTORS_PER_SCOPE:
                # Rare (a scope with hundreds of distinct questions): drop a few at random.
                extra = int(count) - MAX_VECTORS_PER_SCOPE
                fields = await self._redis.hrandfield(name, extra)
                if fields:
                    await self._redis.hdel(name, *fields)

        await self._call(write, None)

    async def vectors(self, account_id: str, scope: str) -> list[tuple[str, bytes]]:
        name = f"{PREFIX}{account_id}:s:{scope}"
        found: dict[bytes, bytes] = await self._call(lambda: self._redis.hgetall(name), {})
        return [(k.decode(), v) for k, v in found.items()]

    async def clear(self, account_id: str) -> int:
        """Drop every key of the account (SCAN + UNLINK in batches; rare, so not O(1))."""
        pattern = f"{PREFIX}{_glob_escape(account_id)}:*"

        async def sweep() -> int:
            removed = 0
            cursor = 0
            while True:
                cursor, names = await self._redis.scan(cursor, match=pattern, count=500)
                if names:
                    removed += int(await self._redis.unlink(*names))
                if cursor == 0:
                    return removed

        # A sweep may take longer than one call; bound it generously but still bound it.
        try:
            async with asyncio.timeout(max(5.0, self._timeout * 20)):
                return await sweep()
        except (RedisError, OSError, TimeoutError) as exc:
            raise ServiceUnavailable(f"The cache store is unavailable: {exc}") from None

    async def close(self) -> None:
        await self._redis.aclose()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
