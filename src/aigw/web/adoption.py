"""Adoption and rankings data: the request log aggregated per model, cached in memory.

Pages never query per render: they read the latest ``Snapshot``. A snapshot older than
``ttl`` seconds is refreshed in the background while the old one is still served (only the
very first render waits), so a burst of page views costs at most one aggregate query per
``ttl`` however busy the pages are. Windows are rolling: the last 24 hours in hourly buckets,
the last 7 and 30 days in UTC-day buckets.

The frequent query reads only the last 24 hours (hourly buckets; they also make up today's
day bucket). The days before today are aggregated once per UTC day and again every
``past_ttl`` seconds (rows logged late): measured with 200,000 logged requests in SQLite, the
30-day scan takes ~0.5 s, which must not run every few seconds next to the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aigw.store.db import Database
from aigw.store.traffic import TrafficRow, traffic

log = logging.getLogger("aigw.web")

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
DEFAULT_TTL_SECONDS = 5.0
PAST_TTL_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    label: str
    points: int
    bucket_ms: int


WINDOWS = (
    Window("day", "last 24 hours", 24, HOUR_MS),
    Window("week", "last 7 days", 7, DAY_MS),
    Window("month", "last 30 days", 30, DAY_MS),
)
WINDOW_IDS = tuple(w.id for w in WINDOWS)


@dataclass(slots=True)
class Usage:
    requests: int = 0
    tokens: int = 0

    def add(self, requests: int, tokens: int) -> None:
        self.requests += requests
        self.tokens += tokens


def provider_of(model_id: str) -> str:
    return model_id.split("/", 1)[0]


@dataclass(slots=True)
class WindowStats:
    """One window's totals and per-bucket series, per model and in total."""

    window: Window
    starts: list[int]  # bucket starts (unix ms), oldest first
    by_model: dict[str, Usage] = field(default_factory=dict)
    series: dict[str, list[Usage]] = field(default_factory=dict)
    total: Usage = field(default_factory=Usage)
    total_series: list[Usage] = field(default_factory=list)

    def usage(self, model_id: str) -> Usage:
        return self.by_model.get(model_id) or Usage()

    def share(self, model_id: str) -> float:
        """The model's share of all tokens served in the window (of requests if no tokens)."""
        mine = self.usage(model_id)
        if self.total.tokens:
            return mine.tokens / self.total.tokens
        return mine.requests / self.total.requests if self.total.requests else 0.0

    def ranked(self, by: str = "tokens") -> list[tuple[str, Usage]]:
        return sorted(self.by_model.items(), key=lambda kv: (-getattr(kv[1], by), kv[0]))

    def providers(self) -> tuple[dict[str, Usage], dict[str, list[Usage]]]:
        """Totals and series per provider (the model id's prefix)."""
        totals: dict[str, Usage] = {}
        series: dict[str, list[Usage]] = {}
        for model_id, usage in self.by_model.items():
            pid = provider_of(model_id)
            if pid not in totals:
                totals[pid] = Usage()
                series[pid] = [Usage() for _ in self.starts]
            totals[pid].add(usage.requests, usage.tokens)
            for point, u in zip(series[pid], self.series[model_id], strict=True):
                point.add(u.requests, u.tokens)
        return totals, series


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at_ms: int
    windows: dict[str, WindowStats]

    def window(self, window_id: str) -> WindowStats:
        return self.windows[window_id]


def _stats(window: Window, first_ms: int, rows: list[TrafficRow]) -> WindowStats:
    starts = [first_ms + i * window.bucket_ms for i in range(window.points)]
    stats = WindowStats(window, starts, total_series=[Usage() for _ in starts])
    for row in rows:
        index = (row.bucket_ms - first_ms) // window.bucket_ms
        if not 0 <= index < window.points:
            continue
        usage = stats.by_model.get(row.model)
        if usage is None:  # not setdefault: it would build a series for every row
            usage = stats.by_model[row.model] = Usage()
            stats.series[row.model] = [Usage() for _ in starts]
        usage.add(row.requests, row.tokens)
        stats.series[row.model][index].add(row.requests, row.tokens)
        stats.total.add(row.requests, row.tokens)
        stats.total_series[index].add(row.requests, row.tokens)
    return stats


def build_snapshot(now_ms: int, hourly: list[TrafficRow], daily: list[TrafficRow]) -> Snapshot:
    """Windows from hourly rows (the day) and daily rows (week and month).

    ``daily`` may leave out today: the hourly rows since midnight (UTC) are added as today's
    bucket when it has none.
    """
    hour0 = now_ms - now_ms % HOUR_MS
    day0 = now_ms - now_ms % DAY_MS
    if not any(row.bucket_ms >= day0 for row in daily):
        daily = daily + [
            TrafficRow(row.model, day0, row.requests, row.tokens)
            for row in hourly
            if row.bucket_ms >= day0
        ]
    windows = {}
    for window in WINDOWS:
        current = hour0 if window.bucket_ms == HOUR_MS else day0
        first = current - (window.points - 1) * window.bucket_ms
        rows = hourly if window.bucket_ms == HOUR_MS else daily
        windows[window.id] = _stats(window, first, rows)
    return Snapshot(now_ms, windows)


def empty_snapshot(now_ms: int) -> Snapshot:
    return build_snapshot(now_ms, [], [])


class AdoptionCache:
    """The latest snapshot, refreshed at most every ``ttl`` seconds, never during a render."""

    def __init__(
        self,
        db: Database,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._ttl = ttl
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._task: asyncio.Task[Snapshot] | None = None
        self._past: list[TrafficRow] = []  # day buckets before today
        self._past_key: tuple[int, int] | None = None  # (day it was taken for, when)

    async def get(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            return await self._start_and_wait()
        if self._now_ms() - snapshot.taken_at_ms > self._ttl * 1000 and self._task is None:
            self._task = asyncio.create_task(self._refresh(), name="aigw-adoption-refresh")
        return snapshot

    async def refresh(self) -> Snapshot:
        """Aggregate now (tests and the first render); concurrent callers share one query."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return await self._start_and_wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _start_and_wait(self) -> Snapshot:
        task = self._task
        if task is None:
            task = self._task = asyncio.create_task(self._refresh(), name="aigw-adoption-refresh")
        return await asyncio.shield(task)

    async def _refresh(self) -> Snapshot:
        now = self._now_ms()
        day0 = now - now % DAY_MS
        try:
            hourly = await traffic(
                self._db, since_ms=now - now % HOUR_MS - 23 * HOUR_MS, bucket_ms=HOUR_MS
            )
            key = self._past_key
            if key is None or key[0] != day0 or now - key[1] > PAST_TTL_SECONDS * 1000:
                self._past = await traffic(
                    self._db, since_ms=day0 - 29 * DAY_MS, bucket_ms=DAY_MS, until_ms=day0
                )
                self._past_key = (day0, now)
            snapshot = build_snapshot(now, hourly, self._past)
        except Exception as exc:  # pages must render while the database is away
            log.warning("adoption: aggregate query failed (%s); serving older figures", exc)
            snapshot = self._snapshot or empty_snapshot(now)
        finally:
            self._task = None
        self._snapshot = snapshot
        return snapshot
