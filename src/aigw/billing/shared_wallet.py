"""Balances, holds and monthly caps shared through Redis, for many processes and replicas.

The same rule as the in-memory wallet (``available = balance − holds``), made atomic across
processes by Lua scripts on the Redis server:

- ``aigw:w:{account}`` hash ``bal`` / ``ver``: the committed balance mirrored from the
  database, moved only to newer versions;
- ``aigw:w:{account}:h`` hash hold id → µ¢ and ``:x`` zset hold id → expiry: reservations,
  then settled charges until their ledger commit. A hold expires after ``hold_ttl``, so the
  holds of a process that died are released without anyone's help;
- ``aigw:c:{cap}:{month}`` with the same ``:h`` / ``:x``: a monthly cap's committed spend
  (``spent``, loaded from the ledger when missing) and its holds.

When Redis lost its data (it keeps nothing on disk here), the scripts answer "unknown" and
the process reloads the balance or the month's spend from the database, then retries.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from aigw.billing.ledger import WalletState
from aigw.billing.wallet import Cap, Reservation, current_month, usd
from aigw.errors import BudgetExceeded, InsufficientCredits, ServiceUnavailable

log = logging.getLogger("aigw.billing")

_HELD = """
local function held(hkey, xkey, now)
  local expired = redis.call('ZRANGEBYSCORE', xkey, '-inf', now)
  if #expired > 0 then
    redis.call('HDEL', hkey, unpack(expired))
    redis.call('ZREMRANGEBYSCORE', xkey, '-inf', now)
  end
  local s = 0
  for _, v in ipairs(redis.call('HVALS', hkey)) do s = s + tonumber(v) end
  return s
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: wallet, wallet holds, wallet expiries, then per cap: cap, holds, expiries.
# ARGV: hold id, amount, ttl ms, enforce (1/0), then per cap: limit (-1 = none).
_RESERVE = (
    _HELD
    + """
local id, amount, ttl, enforce = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, 0} end
local bal = tonumber(redis.call('HGET', KEYS[1], 'bal'))
local avail = bal - held(KEYS[2], KEYS[3], now)
if enforce == '1' and amount > 0 and avail < amount then return {0, avail, 0} end
local ncaps = (#KEYS - 3) / 3
for i = 1, ncaps do
  local c = 3 + 3 * (i - 1)
  if redis.call('HEXISTS', KEYS[c + 1], 'spent') == 0 then return {-2, i, 0} end
  local limit = tonumber(ARGV[4 + i])
  local spent = tonumber(redis.call('HGET', KEYS[c + 1], 'spent'))
  local h = held(KEYS[c + 2], KEYS[c + 3], now)
  if limit >= 0 and spent + h + amount > limit then return {-3, i, spent} end
end
for k = 0, ncaps do
  redis.call('HSET', KEYS[2 + 3 * k], id, amount)
  redis.call('ZADD', KEYS[3 + 3 * k], now + ttl, id)
end
return {1, avail, 0}
"""
)

# KEYS: holds, expiries (pairs). ARGV: hold id, new amount (or -1 to drop), ttl ms.
_SET_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS, 2 do
  if ARGV[2] == '-1' then
    redis.call('HDEL', KEYS[i], ARGV[1])
    redis.call('ZREM', KEYS[i + 1], ARGV[1])
  elseif redis.call('HEXISTS', KEYS[i], ARGV[1]) == 1 then
    redis.call('HSET', KEYS[i], ARGV[1], ARGV[2])
    redis.call('ZADD', KEYS[i + 1], now + tonumber(ARGV[3]), ARGV[1])
  end
end
return 1
"""

# KEYS: wallet, wallet holds, wallet expiries, then per cap: cap, holds, expiries.
# ARGV: hold id, charged, balance, version.
_COMMITTED = """
local id, charged = ARGV[1], tonumber(ARGV[2])
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver') or '-1')
if tonumber(ARGV[4]) > ver then
  redis.call('HSET', KEYS[1], 'bal', ARGV[3], 'ver', ARGV[4])
end
for k = 0, (#KEYS - 3) / 3 do
  redis.call('HDEL', KEYS[2 + 3 * k], id)
  redis.call('ZREM', KEYS[3 + 3 * k], id)
  if k > 0 and redis.call('HEXISTS', KEYS[1 + 3 * k], 'spent') == 1 then
    redis.call('HINCRBY', KEYS[1 + 3 * k], 'spent', charged)
  end
end
return 1
"""

# KEYS: wallet. ARGV: balance, version. Newer versions only (or a missing wallet).
_APPLY = """
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver') or '-1')
if tonumber(ARGV[2]) > ver then redis.call('HSET', KEYS[1], 'bal', ARGV[1], 'ver', ARGV[2]) end
return 1
"""

# KEYS: cap. ARGV: refund. A refund lowers a loaded spend; a missing one is loaded later from
# the ledger, which already holds the refund.
_REFUND = """
if redis.call('HEXISTS', KEYS[1], 'spent') == 1 then
  local left = tonumber(redis.call('HGET', KEYS[1], 'spent')) - tonumber(ARGV[1])
  if left < 0 then left = 0 end
  redis.call('HSET', KEYS[1], 'spent', left)
end
return 1
"""

LoadBalance = Callable[[str], Awaitable[WalletState]]
LoadSpend = Callable[[Cap], Awaitable[int]]


class SharedWallets:
    def __init__(
        self,
        url: str,
        *,
        enforce: bool,
        load_balance: LoadBalance,
        load_spend: LoadSpend,
        hold_ttl: float = 900.0,
        timeout: float = 0.25,
    ) -> None:
        self.enforce = enforce
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._reserve = self._redis.register_script(_RESERVE)
        self._set_hold = self._redis.register_script(_SET_HOLD)
        self._committed = self._redis.register_script(_COMMITTED)
        self._apply = self._redis.register_script(_APPLY)
        self._refund = self._redis.register_script(_REFUND)
        self._load_balance = load_balance
        self._load_spend = load_spend
        self._ttl_ms = int(hold_ttl * 1000)
        self.unavailable = 0  # times Redis could not answer (a metric)

    @staticmethod
    def _wallet_keys(account_id: str) -> list[str]:
        base = "aigw:w:" + account_id
        return [base, base + ":h", base + ":x"]

    @staticmethod
    def _cap_keys(cap: Cap) -> list[str]:
        base = f"aigw:c:{cap.key}:{current_month()}"
        return [base, base + ":h", base + ":x"]

    def _keys(self, account_id: str, caps: Sequence[Cap]) -> list[str]:
        keys = self._wallet_keys(account_id)
        for cap in caps:
            keys += self._cap_keys(cap)
        return keys

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            # Budgets fail closed: without the shared store no one can tell what is left.
            self.unavailable += 1
            log.error("shared wallet store unavailable (%s); refusing", type(exc).__name__)
            raise ServiceUnavailable(
                "The shared wallet store is unavailable; retry shortly.", retry_after=1
            ) from None

    async def reserve(self, account_id: str, amount: int, caps: Sequence[Cap] = ()) -> Reservation:
        hold = secrets.token_hex(8)
        keys = self._keys(account_id, caps)
        args: list[Any] = [hold, amount, self._ttl_ms, 1 if self.enforce else 0]
        args += [-1 if cap.limit is None else cap.limit for cap in caps]
        for _ in range(3):
            status, a, b = (int(x) for x in await self._call(self._reserve, keys, args))
            if status == 1:
                return Reservation(account_id, amount, tuple(caps), hold=hold)
            if status == 0:
                raise InsufficientCredits(
                    f"Insufficient credits: this request may cost up to {usd(amount)} and the "
                    f"balance available is {usd(max(0, a))}. Top up to continue."
                )
            if status == -3:
                cap = caps[a - 1]
                raise BudgetExceeded(
                    f"Monthly spend cap of {usd(cap.limit or 0)} for {cap.label} reached "
                    f"(spent {usd(b)})."
                )
            if status == -1:
                await self.apply(await self._load_balance(account_id))
            elif status == -2:
                cap = caps[a - 1]
                spent = await self._load_spend(cap)
                try:
                    await self._redis.hsetnx(self._cap_keys(cap)[0], "spent", spent)
                except (RedisError, OSError, TimeoutError):
                    raise ServiceUnavailable("The shared wallet store is unavailable.") from None
        raise ServiceUnavailable("The shared wallet store did not settle; retry shortly.")

    def _hold_keys(self, reservation: Reservation) -> list[str]:
        keys = self._keys(reservation.account_id, reservation.caps)
        return [k for i, k in enumerate(keys) if i % 3 != 0]

    async def settle(self, reservation: Reservation, charged: int) -> None:
        """The hold becomes the actual charge until its ledger commit."""
        if reservation.open:
            reservation.open = False
            args = [reservation.hold, charged, self._ttl_ms]
            await self._call(self._set_hold, self._hold_keys(reservation), args)

    async def release(self, reservation: Reservation) -> None:
        if reservation.open:
            reservation.open = False
            await self._call(
                self._set_hold, self._hold_keys(reservation), [reservation.hold, -1, 0]
            )

    async def committed(self, reservation: Reservation, charged: int, state: WalletState) -> None:
        args = [reservation.hold, charged, state.balance_micro_cents, state.version]
        keys = self._keys(reservation.account_id, reservation.caps)
        await self._call(self._committed, keys, args)

    async def apply(self, state: WalletState) -> None:
        args = [state.balance_micro_cents, state.version]
        await self._call(self._apply, [self._wallet_keys(state.account_id)[0]], args)

    async def refund_spend(self, cap_key: str, amount: int) -> None:
        """A refund of spend counted under a cap this month (a failed job's charge)."""
        await self._call(self._refund, [f"aigw:c:{cap_key}:{current_month()}"], [amount])

    async def view(self, account_id: str) -> tuple[int, int]:
        """(committed balance, held) as Redis sees them now."""
        keys = self._wallet_keys(account_id)
        try:
            bal = await self._redis.hget(keys[0], "bal")
            holds = await self._redis.hvals(keys[1])
        except (RedisError, OSError, TimeoutError):
            raise ServiceUnavailable("The shared wallet store is unavailable.") from None
        return int(bal or 0), sum(int(v) for v in holds)

    async def close(self) -> None:
        await self._redis.aclose()
