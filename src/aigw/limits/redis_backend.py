"""Redis limiter: the same windows, shared by every process and replica.

One Lua script checks every subject and counts the request only if all allow, so the check
and the count are one atomic step on the Redis server, and the server's own clock is used
so replicas with skewed clocks agree. Timeouts are short: a slow or absent Redis raises
``LimiterUnavailable`` rather than holding requests.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from aigw.limits.base import Decision, Limit, LimiterUnavailable, burst_requests, merge

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 2
local wait = 0
local out = {}
for i = 1, n do
  local rkey, tkey = KEYS[2 * i - 1], KEYS[2 * i]
  local rpm = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local tpm = tonumber(ARGV[3 * i + 1])
  local rem_r, reset_r, rem_t, reset_t = -1, 0, -1, 0
  if rpm >= 0 then
    redis.call('ZREMRANGEBYSCORE', rkey, '-inf', now - 60000)
    local count = redis.call('ZCARD', rkey)
    local recent = redis.call('ZCOUNT', rkey, '(' .. (now - 10000), '+inf')
    rem_r = math.min(rpm - count, burst - recent)
    if count >= rpm then
      local e = redis.call('ZRANGE', rkey, count - rpm, count - rpm, 'WITHSCORES')
      wait = math.max(wait, tonumber(e[2]) + 60000 - now)
    end
    if recent >= burst then
      local e = redis.call('ZRANGE', rkey, count - burst, count - burst, 'WITHSCORES')
      wait = math.max(wait, tonumber(e[2]) + 10000 - now)
    end
    local first = redis.call('ZRANGE', rkey, 0, 0, 'WITHSCORES')
    if first[2] then reset_r = tonumber(first[2]) + 60000 - now end
  end
  if tpm >= 0 then
    local fields = redis.call('HGETALL', tkey)
    local used, buckets = 0, {}
    for j = 1, #fields, 2 do
      local sec = tonumber(fields[j])
      if sec * 1000 <= now - 60000 then
        redis.call('HDEL', tkey, fields[j])
      else
        used = used + tonumber(fields[j + 1])
        table.insert(buckets, {sec, tonumber(fields[j + 1])})
      end
    end
    table.sort(buckets, function(a, b) return a[1] < b[1] end)
    rem_t = tpm - used
    if used >= tpm then
      local excess = used - tpm + 1
      for _, b in ipairs(buckets) do
        excess = excess - b[2]
        if excess <= 0 then
          wait = math.max(wait, b[1] * 1000 + 60000 - now)
          break
        end
      end
    end
    if buckets[1] then reset_t = buckets[1][1] * 1000 + 60000 - now end
  end
  out[#out + 1] = rem_r
  out[#out + 1] = reset_r
  out[#out + 1] = rem_t
  out[#out + 1] = reset_t
end
if wait <= 0 then
  for i = 1, n do
    if tonumber(ARGV[3 * i - 1]) >= 0 then
      redis.call('ZADD', KEYS[2 * i - 1], now, ARGV[1] .. ':' .. i)
      redis.call('PEXPIRE', KEYS[2 * i - 1], 61000)
    end
  end
end
table.insert(out, 1, wait)
return out
"""

_ADD_TOKENS = """
local t = redis.call('TIME')
local sec = tonumber(t[1])
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], sec, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], 61000)
end
return 1
"""

PREFIX = "aigw:rl:"


class RedisLimiter:
    def __init__(self, url: str, *, timeout: float = 0.25) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
            health_check_interval=30,
        )
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._add = self._redis.register_script(_ADD_TOKENS)

    async def acquire(self, limits: Sequence[Limit]) -> Decision:
        keys: list[str] = []
        args: list[Any] = [secrets.token_hex(8)]
        for limit in limits:
            keys += [PREFIX + limit.subject + ":r", PREFIX + limit.subject + ":t"]
            if limit.rpm is None:
                args += [-1, -1]
            else:
                args += [limit.rpm, burst_requests(limit.rpm)]
            args.append(-1 if limit.tpm is None else limit.tpm)
        try:
            raw = await self._acquire(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            raise LimiterUnavailable(str(type(exc).__name__)) from None
        wait = float(raw[0]) / 1000
        views = []
        for i, limit in enumerate(limits):
            rem_r, reset_r, rem_t, reset_t = (int(v) for v in raw[1 + 4 * i : 5 + 4 * i])
            if wait <= 0 and limit.rpm is not None:
                rem_r -= 1
            views.append(
                Decision(
                    True,
                    limit.rpm,
                    rem_r if limit.rpm is not None else None,
                    (reset_r / 1000) if reset_r else (60.0 if wait <= 0 else 0.0),
                    limit.tpm,
                    rem_t if limit.tpm is not None else None,
                    reset_t / 1000,
                )
            )
        return merge(views, wait <= 0, max(0.0, wait))

    async def add_tokens(self, limits: Sequence[Limit], tokens: int) -> None:
        keys = [PREFIX + limit.subject + ":t" for limit in limits if limit.tpm is not None]
        if tokens <= 0 or not keys:
            return
        try:
            await self._add(keys=keys, args=[tokens])
        except (RedisError, OSError, TimeoutError) as exc:
            raise LimiterUnavailable(str(type(exc).__name__)) from None

    async def close(self) -> None:
        await self._redis.aclose()
