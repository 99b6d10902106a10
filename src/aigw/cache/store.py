"""Where cached answers live: the backend protocol and the in-process LRU (bounded by bytes).

Entries are opaque bytes under ``<account id>:<digest>`` so an account's entries can be
dropped together. Semantic-cache vectors are kept per (account, scope) beside them; a vector
whose entry has expired or been evicted simply leads to a miss.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class CacheBackend(Protocol):
    """Every call is bounded in time; a backend that cannot answer reports a miss."""

    async def get(self, account_id: str, key: str) -> bytes | None: ...

    async def put(self, account_id: str, key: str, value: bytes, ttl: int) -> None: ...

    async def add_vector(
        self, account_id: str, scope: str, key: str, vector: bytes, ttl: int
    ) -> None: ...

    async def vectors(self, account_id: str, scope: str) -> list[tuple[str, bytes]]: ...

    async def clear(self, account_id: str) -> int: ...

    async def close(self) -> None: ...


# Per (account, scope): most vectors compared per semantic lookup (newest kept).
MAX_VECTORS_PER_SCOPE = 256
_ENTRY_OVERHEAD = 160  # bytes an entry costs beyond its value (key, tuple, dict slot)


class MemoryCache:
    """One process's cache: least recently used entries go first once ``max_bytes`` is hit."""

    def __init__(self, max_bytes: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._now = clock
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._vectors: dict[tuple[str, str], OrderedDict[str, tuple[float, bytes]]] = {}
        self._vector_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, account_id: str, key: str) -> bytes | None:
        full = f"{account_id}:{key}"
        found = self._entries.get(full)
        if found is None:
            return None
        if found[0] <= self._now():
            self._drop(full)
            return None
        self._entries.move_to_end(full)
        return found[1]

    async def put(self, account_id: str, key: str, value: bytes, ttl: int) -> None:
        full = f"{account_id}:{key}"
        size = len(value) + len(full) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        if full in self._entries:
            self._drop(full)
        self._entries[full] = (self._now() + ttl, value)
        self.bytes += size
        self._evict()

    def _drop(self, full: str) -> None:
        _, value = self._entries.pop(full)
        self.bytes -= len(value) + len(full) + _ENTRY_OVERHEAD

    def _evict(self) -> None:
        while self.bytes + self._vector_bytes > self.max_bytes and self._entries:
            full = next(iter(self._entries))
            self._drop(full)
        while self.bytes + self._vector_bytes > self.max_bytes and self._vectors:
            self._drop_scope(next(iter(self._vectors)))

    async def add_vector(
        self, account_id: str, scope: str, key: str, vector: bytes, ttl: int
    ) -> None:
        group = self._vectors.setdefault((account_id, scope), OrderedDict())
        if key in group:
            self._vector_bytes -= len(group.pop(key)[1]) + _ENTRY_OVERHEAD
        group[key] = (self._now() + ttl, vector)
        self._vector_bytes += len(vector) + _ENTRY_OVERHEAD
        while len(group) > MAX_VECTORS_PER_SCOPE:
            _, (_, old) = group.popitem(last=False)
            self._vector_bytes -= len(old) + _ENTRY_OVERHEAD
        self._evict()

    def _drop_scope(self, scope: tuple[str, str]) -> None:
        group = self._vectors.pop(scope)
        self._vector_bytes -= sum(len(v) + _ENTRY_OVERHEAD for _, v in group.values())

    async def vectors(self, account_id: str, scope: str) -> list[tuple[str, bytes]]:
        group = self._vectors.get((account_id, scope))
        if not group:
            return []
        now = self._now()
        for key in [k for k, (expires, _) in group.items() if expires <= now]:
            self._vector_bytes -= len(group.pop(key)[1]) + _ENTRY_OVERHEAD
        return [(k, v) for k, (_, v) in group.items()]

    async def clear(self, account_id: str) -> int:
        prefix = account_id + ":"
        gone = [k for k in self._entries if k.startswith(prefix)]
        for full in gone:
            self._drop(full)
        for scope in [s for s in self._vectors if s[0] == account_id]:
            self._drop_scope(scope)
        return len(gone)

    async def close(self) -> None:
        self._entries.clear()
        self._vectors.clear()
        self.bytes = self._vector_bytes = 0
