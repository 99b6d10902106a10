"""The response cache as the chat route sees it: decide, look up, store, price a hit.

``plan`` decides from the request alone whether the cache is consulted (no I/O); ``lookup``
tries the exact key, then (opted-in requests) the nearest earlier question by meaning;
``store`` keeps a finished answer. A hit costs ``hit_percent`` of what the cached call cost.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aigw.cache import entry as entries
from aigw.cache.entry import Entry
from aigw.cache.keys import (
    CacheAsk,
    cacheable,
    deterministic,
    exact_key,
    model_of,
    semantic_parts,
)
from aigw.cache.semantic import Embedder, Payer, best_match, pack
from aigw.cache.store import CacheBackend
from aigw.errors import GatewayError

log = logging.getLogger("aigw.cache")

HIT = "hit"
SEMANTIC_HIT = "semantic-hit"
MISS = "miss"
BYPASS = "bypass"


@dataclass(slots=True)
class Lookup:
    """One consulted request: its keys, and (on a miss) what its answer will be stored as."""

    account_id: str
    key: str
    ttl: int
    status: str = MISS
    scope: str | None = None  # semantic: the exact-match part
    text: str = ""  # semantic: the text compared by meaning
    similarity: float = 1.0
    vector: list[float] | None = None
    capture: list[bytes] | None = None  # a streamed miss: the bytes the client was sent
    captured: int = 0
    score: float | None = None
    payer: Payer | None = None  # semantic: who pays for the embedding (an upstream model)


@dataclass(slots=True)
class Hit:
    entry: Entry
    semantic: bool
    score: float | None = None


@dataclass
class ResponseCache:
    backend: CacheBackend
    default_mode: str = "auto"
    ttl: int = 3600
    similarity: float = 0.95
    hit_percent: Decimal = Decimal(10)
    max_entry_bytes: int = 1 << 20
    embedder: Embedder | None = None
    # Stores still running in the background (awaited at shutdown).
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    def plan(
        self, ask: CacheAsk, account_id: str, resolved_model: str, body: dict[str, Any]
    ) -> Lookup | None:
        """The request's keys, or None when the cache is bypassed (skip, or ``auto`` and the
        request is not deterministic)."""
        if ask.mode == "skip":
            return None
        if not (deterministic(body) if ask.mode == "auto" else cacheable(body)):
            return None
        model = model_of(body, resolved_model)
        lookup = Lookup(account_id, exact_key(account_id, model, body), ask.ttl)
        if ask.semantic and self.embedder is not None:
            scope, text = semantic_parts(account_id, model, body)
            if text.strip():
                lookup.scope, lookup.text, lookup.similarity = scope, text, ask.similarity
        return lookup

    async def lookup(self, lookup: Lookup) -> Hit | None:
        raw = await self.backend.get(lookup.account_id, lookup.key)
        if raw is not None:
            found = entries.decode(raw)
            if found is not None:
                lookup.status = HIT
                return Hit(found, semantic=False)
        if lookup.scope is not None:
            hit = await self._nearest(lookup)
            if hit is not None:
                lookup.status = SEMANTIC_HIT
                return hit
        return None

    async def _nearest(self, lookup: Lookup) -> Hit | None:
        assert self.embedder is not None and lookup.scope is not None
        try:
            lookup.vector = (await self.embedder.embed([lookup.text], lookup.payer))[0]
        except GatewayError as err:  # an upstream embedding model refused (402, 5xx ...)
            log.warning("semantic cache: embedding failed (%s); exact match only", err.message)
            lookup.scope = None
            return None
        except Exception:
            log.exception("semantic cache: embedding failed; exact match only")
            lookup.scope = None
            return None
        candidates = await self.backend.vectors(lookup.account_id, lookup.scope)
        best = best_match(lookup.vector, candidates)
        if best is None or best[1] < lookup.similarity:
            return None
        raw = await self.backend.get(lookup.account_id, best[0])
        found = entries.decode(raw) if raw is not None else None
        if found is None:
            return None
        return Hit(found, semantic=True, score=best[1])

    async def store(self, lookup: Lookup, entry: Entry) -> None:
        value = entries.encode(entry)
        if len(value) > self.max_entry_bytes:
            return
        await self.backend.put(lookup.account_id, lookup.key, value, lookup.ttl)
        if lookup.scope is not None and lookup.vector is not None:
            await self.backend.add_vector(
                lookup.account_id, lookup.scope, lookup.key, pack(lookup.vector), lookup.ttl
            )

    def __post_init__(self) -> None:
        # hit_percent / 100 as an exact fraction, so a hit prices in integer math.
        num, den = self.hit_percent.as_integer_ratio()
        self._ratio = (num, den * 100)

    def hit_cost(self, entry: Entry) -> int:
        """µ¢ a hit costs: ``hit_percent`` of the uncached call, rounded half up, once."""
        num, den = self._ratio
        return (2 * entry.cost * num + den) // (2 * den)

    async def clear(self, account_id: str) -> int:
        return await self.backend.clear(account_id)

    def store_soon(self, lookup: Lookup, entry: Entry) -> None:
        """Store in the background: the answer does not wait for the cache."""
        task = asyncio.create_task(self._store_logged(lookup, entry))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _store_logged(self, lookup: Lookup, entry: Entry) -> None:
        try:
            await self.store(lookup, entry)
        except Exception:
            log.exception("response cache: storing an answer failed")

    async def close(self) -> None:
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)
        await self.backend.close()
