"""In-memory API-key cache: the request path authenticates without a database round trip.

All active keys are loaded at start; every ``refresh_seconds`` the keys whose ``updated_at``
moved are re-read (with an overlap window, so clock skew between processes and transactions
that commit late are still seen), which bounds how long a key revoked by another process keeps
working. A full reload every ``full_reload_seconds`` is the safety net for anything missed.

A miss (a key created elsewhere in the last seconds) costs one query, shared by concurrent
requests for the same key; unknown keys are remembered for ``negative_ttl`` and misses are
rate limited overall, so random tokens cannot turn into a flood of queries.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aigw.auth.keys import KeyInfo, hash_key, looks_like_key, verify_hash
from aigw.store.db import Database
from aigw.store.keys import active_keys, changed_since, find_by_hash
from aigw.store.meta import ADMIN_KEY_HASH, get_meta
from aigw.store.tables import now_ms

__all__ = ["KeyCache", "KeyInfo"]

log = logging.getLogger("aigw.auth")

_MAX_NEGATIVE = 10_000


class KeyCache:
    """Hash -> ``KeyInfo`` for every active key, kept fresh by a background refresh task."""

    def __init__(
        self,
        db: Database,
        refresh_seconds: float = 2.0,
        negative_ttl: float = 2.0,
        *,
        full_reload_seconds: float = 300.0,
        overlap_seconds: float = 5.0,
        max_miss_queries_per_second: float = 50.0,
        miss_timeout: float = 2.0,
    ) -> None:
        self._db = db
        self._refresh_seconds = max(0.01, refresh_seconds)
        self._negative_ttl = negative_ttl
        self._full_reload_seconds = full_reload_seconds
        self._overlap_ms = int(overlap_seconds * 1000)
        self._miss_rate = max_miss_queries_per_second
        self._miss_timeout = miss_timeout
        self._by_hash: dict[str, KeyInfo] = {}
        self._hash_by_id: dict[str, str] = {}
        self._negative: dict[str, float] = {}  # hash -> monotonic expiry
        self._misses: dict[str, asyncio.Task[KeyInfo | None]] = {}
        self._miss_tokens = max(1.0, self._miss_rate)
        self._miss_refilled = time.monotonic()
        self._admin_hash: str | None = None
        self._cursor_ms = 0
        self._last_full = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        """Number of cached keys (a property, not ``__len__``: an empty cache is not falsy)."""
        return len(self._by_hash)

    async def start(self) -> None:
        """Load all active keys and the admin hash, then start the refresh task."""
        await self.reload()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="aigw-key-cache-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for miss in list(self._misses.values()):
            miss.cancel()

    # -- the hot path -------------------------------------------------------------------

    def lookup_cached(self, token: str) -> KeyInfo | None:
        """The key's info if it is cached; never touches the database."""
        if not looks_like_key(token):
            return None
        return self._by_hash.get(hash_key(token))

    async def lookup(self, token: str) -> KeyInfo | None:
        """Cached first; on a miss at most one (shared, rate-limited) database query."""
        if not looks_like_key(token):
            return None
        key_hash = hash_key(token)
        info = self._by_hash.get(key_hash)
        if info is not None:
            return info
        now = time.monotonic()
        expiry = self._negative.get(key_hash)
        if expiry is not None and expiry > now:
            return None
        miss = self._misses.get(key_hash)
        if miss is None:
            if not self._take_miss_token(now):
                return None
            # Owned by the cache, not the caller: a client hanging up must not cancel it.
            miss = asyncio.create_task(self._query_miss(key_hash))
            self._misses[key_hash] = miss
            miss.add_done_callback(lambda _: self._misses.pop(key_hash, None))
        return await asyncio.shield(miss)

    def check_admin(self, token: str) -> bool:
        """Constant-time check against the admin-key hash held in memory."""
        return verify_hash(token, self._admin_hash)

    # -- explicit invalidation ----------------------------------------------------------

    def forget(self, key_id: str) -> None:
        """Drop a key locally at once (after revoking it in the database)."""
        key_hash = self._hash_by_id.pop(key_id, None)
        if key_hash is not None:
            self._by_hash.pop(key_hash, None)
            self._remember_unknown(key_hash)

    def remember(self, key_hash: str, info: KeyInfo) -> None:
        """Add a key locally at once (e.g. right after creating it in this process)."""
        self._by_hash[key_hash] = info
        self._hash_by_id[info.key_id] = key_hash
        self._negative.pop(key_hash, None)

    # -- refresh ------------------------------------------------------------------------

    async def reload(self) -> None:
        """Replace the whole cache with what the database holds now."""
        started = now_ms()
        rows = await active_keys(self._db)
        admin_hash = await get_meta(self._db, ADMIN_KEY_HASH)
        self._by_hash = dict(rows)
        self._hash_by_id = {info.key_id: key_hash for key_hash, info in rows}
        self._admin_hash = admin_hash
        self._cursor_ms = started
        self._last_full = time.monotonic()

    async def refresh(self) -> None:
        """Apply the keys changed since the last refresh (a full reload when one is due)."""
        if time.monotonic() - self._last_full >= self._full_reload_seconds:
            await self.reload()
            return
        started = now_ms()
        changes = await changed_since(self._db, self._cursor_ms - self._overlap_ms)
        admin_hash = await get_meta(self._db, ADMIN_KEY_HASH)
        for key_hash, info in changes:
            if info is None:
                old = self._by_hash.pop(key_hash, None)
                if old is not None:
                    self._hash_by_id.pop(old.key_id, None)
            else:
                self.remember(key_hash, info)
        self._admin_hash = admin_hash
        self._cursor_ms = started

    async def _run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:
                # Keep serving the keys we have; try again next tick.
                if not failing:
                    log.warning("key cache refresh failed, retrying: %s", exc)
                failing = True
                continue
            if failing:
                log.info("key cache refresh recovered")
                failing = False

    # -- misses -------------------------------------------------------------------------

    async def _query_miss(self, key_hash: str) -> KeyInfo | None:
        try:
            async with asyncio.timeout(self._miss_timeout):
                info = await find_by_hash(self._db, key_hash)
        except Exception as exc:
            log.warning("key lookup failed, treating the key as unknown: %s", exc)
            info = None
        if info is None:
            self._remember_unknown(key_hash)
        else:
            self.remember(key_hash, info)
        return info

    def _remember_unknown(self, key_hash: str) -> None:
        now = time.monotonic()
        if len(self._negative) >= _MAX_NEGATIVE:
            self._negative = {h: t for h, t in self._negative.items() if t > now}
            if len(self._negative) >= _MAX_NEGATIVE:
                self._negative.clear()
        self._negative[key_hash] = now + self._negative_ttl

    def _take_miss_token(self, now: float) -> bool:
        """Token bucket bounding miss queries per second across all unknown keys."""
        burst = max(1.0, self._miss_rate)
        self._miss_tokens = min(
            burst, self._miss_tokens + (now - self._miss_refilled) * self._miss_rate
        )
        self._miss_refilled = now
        if self._miss_tokens < 1.0:
            return False
        self._miss_tokens -= 1.0
        return True
