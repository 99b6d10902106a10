"""Adoption figures: the request log aggregated per model and bucket, cached between renders."""

from __future__ import annotations

import asyncio

from tests.dbfixtures import StatementCounter

from aigw.store.db import Database
from aigw.store.request_log import RequestLogEntry, RequestLogWriter
from aigw.store.tables import now_ms
from aigw.store.traffic import traffic
from aigw.web.adoption import DAY_MS, HOUR_MS, AdoptionCache, build_snapshot


def _entry(i: int, model: str, at: int, *, status: int = 200, tokens: int = 100) -> RequestLogEntry:
    return RequestLogEntry(
        id=f"req_{i}",
        created_at=at,
        account_id=f"acct_{i % 3}",  # every account counts
        key_id=None,
        tag=None,
        model=model,
        provider=model.split("/")[0],
        status=status,
        prompt_tokens=tokens // 2,
        completion_tokens=tokens - tokens // 2,
    )


async def _log(db: Database, entries: list[RequestLogEntry]) -> None:
    writer = RequestLogWriter(db)
    for entry in entries:
        writer.record(entry)
    await writer.flush()


async def test_windows_shares_and_providers(database: Database) -> None:
    now = now_ms()
    await _log(
        database,
        [
            _entry(1, "xai/grok-4.3", now - 1000, tokens=300),
            _entry(2, "xai/grok-4.3", now - 3 * DAY_MS, tokens=100),
            _entry(3, "openai/gpt-5", now - 2 * HOUR_MS, tokens=100),
            _entry(4, "openai/gpt-5", now - 20 * DAY_MS, tokens=500),
            _entry(5, "openai/gpt-5", now - 1000, status=500, tokens=0),  # not served
            _entry(6, "openai/gpt-5", now - 40 * DAY_MS, tokens=999),  # too old
        ],
    )
    hourly = await traffic(database, since_ms=now - 24 * HOUR_MS, bucket_ms=HOUR_MS)
    daily = await traffic(database, since_ms=now - 30 * DAY_MS, bucket_ms=DAY_MS)
    snapshot = build_snapshot(now, hourly, daily)
    day, week, month = (snapshot.window(w) for w in ("day", "week", "month"))
    assert day.usage("xai/grok-4.3").tokens == 300 and day.usage("openai/gpt-5").tokens == 100
    assert week.usage("xai/grok-4.3").requests == 2 and week.usage("openai/gpt-5").requests == 1
    assert month.usage("openai/gpt-5").tokens == 600 and month.total.requests == 4
    assert month.share("xai/grok-4.3") == 400 / 1000
    assert [m for m, _ in month.ranked("tokens")] == ["openai/gpt-5", "xai/grok-4.3"]
    assert len(day.starts) == 24 and len(month.starts) == 30
    assert month.series["xai/grok-4.3"][-1].tokens == 300  # today is the last bucket
    assert sum(u.tokens for u in month.total_series) == 1000
    totals, series = month.providers()
    assert totals["openai"].tokens == 600 and totals["xai"].requests == 2
    assert sum(u.requests for u in series["xai"]) == 2


async def test_cache_serves_stale_while_one_refresh_runs(database: Database) -> None:
    clock = [1_000_000.0]
    cache = AdoptionCache(database, ttl=5.0, clock=lambda: clock[0])
    counter = StatementCounter(database)
    try:
        first = await asyncio.gather(*(cache.get() for _ in range(10)))
        assert all(s is first[0] for s in first)  # one snapshot for ten concurrent renders
        queries = counter.count
        assert queries == 2  # the last 24 hours and the days before today, once
        assert await cache.get() is first[0] and counter.count == queries  # fresh: no query
        await _log(database, [_entry(9, "xai/grok-4.3", int(clock[0] * 1000) - 1000)])
        counter.reset()
        clock[0] += 6  # stale: the old snapshot is served, a refresh starts behind it
        assert await cache.get() is first[0]
        assert await cache.get() is first[0]
        await asyncio.sleep(0.2)
        refreshed = await cache.get()
        assert refreshed is not first[0]
        assert refreshed.window("day").usage("xai/grok-4.3").requests == 1
        # Only the last 24 hours are read again; the days before today are kept.
        assert len([s for s in counter.statements if "request_log" in s]) == 1
        clock[0] += 86_400  # a new day: the past days are aggregated again
        await cache.refresh()
        assert len([s for s in counter.statements if "request_log" in s]) == 3
    finally:
        counter.close()
        await cache.close()
