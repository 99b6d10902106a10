from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from aigw.store.db import Database
from aigw.store.request_log import RequestLogEntry, RequestLogWriter, get, recent
from aigw.store.tables import request_log
from tests.dbfixtures import StatementCounter, eventually


def entry(i: int, **overrides: Any) -> RequestLogEntry:
    values: dict[str, Any] = {
        "id": f"req_{i:06d}",
        "created_at": 1_700_000_000_000 + i,
        "account_id": "acct_a" if i % 2 else "acct_b",
        "key_id": "key_1",
        "tag": "batch",
        "model": "grok-4",
        "provider": "xai",
        "status": 200,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cached_tokens": 2,
        "reasoning_tokens": 1,
        "cost_micro_cents": 123_456_789_012,
        "latency_ms": 12.5,
        "ttft_ms": 3.25,
        "streamed": True,
    }
    values.update(overrides)
    return RequestLogEntry(**values)


async def count_rows(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(request_log))).scalar_one())


async def test_thousand_records_written_in_batches(database: Database) -> None:
    writer = RequestLogWriter(database, flush_seconds=60, max_batch=100)
    counter = StatementCounter(database)
    direct = database.direct  # SQLite: batches go through plain sqlite3 in the writer's thread
    before = direct.threaded_runs if direct is not None else 0
    for i in range(1000):
        writer.record(entry(i))
    await writer.flush()
    inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT")]
    if direct is not None:
        assert not inserts, "no SQLAlchemy round trip for the log on SQLite"
        assert direct.threaded_runs - before == 10  # one transaction per batch of 100
    else:
        assert len(inserts) == 10  # one statement per batch of 100
    assert await count_rows(database) == 1000
    assert writer.pending == 0
    assert await get(database, "req_000007") == entry(7)


async def test_background_task_flushes(database: Database) -> None:
    writer = RequestLogWriter(database, flush_seconds=0.02, max_batch=100)
    await writer.start()
    for i in range(1000):
        writer.record(entry(i))
    await eventually(lambda: writer.pending == 0)
    assert await count_rows(database) == 1000
    await writer.close()


async def test_close_flushes_everything(database: Database) -> None:
    writer = RequestLogWriter(database, flush_seconds=3600)
    await writer.start()
    for i in range(25):
        writer.record(entry(i))
    await writer.close()
    assert await count_rows(database) == 25
    writer.record(entry(99))  # after close: counted as dropped, never raises
    assert writer.dropped == 1


async def test_close_right_after_a_wake_up_does_not_hang(database: Database) -> None:
    """A full buffer wakes the writer in the same loop turn as ``close`` cancels it: on
    Python 3.11 ``asyncio.wait_for`` returned the wake-up and swallowed the cancellation,
    the writer went on looping and ``close`` (a deploy under traffic) waited forever."""
    writer = RequestLogWriter(database, flush_seconds=3600, max_batch=2)
    await writer.start()
    await asyncio.sleep(0.01)  # the writer waits for its wake-up
    writer.record(entry(1))
    writer.record(entry(2))  # the batch is full: wakes the writer
    closing = asyncio.create_task(writer.close())
    done, _ = await asyncio.wait({closing}, timeout=3)  # (asyncio.wait cancels nothing)
    assert closing in done, "close() is still waiting for the writer's loop"
    assert await count_rows(database) == 2


async def test_record_never_awaits_the_database(tmp_path: Any) -> None:
    assert not inspect.iscoroutinefunction(RequestLogWriter.record)
    # A database that cannot even be opened: record() must not care.
    db = Database.from_url(f"sqlite:///{tmp_path}/missing/dir/x.db")
    (tmp_path / "missing" / "dir").rmdir()
    writer = RequestLogWriter(db, flush_seconds=0.01, max_batch=10)
    await writer.start()
    started = time.perf_counter()
    for i in range(10_000):
        writer.record(entry(i))
    assert time.perf_counter() - started < 2.0  # 10,000 appends; generous for a loaded CI VM
    assert writer.pending == 10_000
    writer._close_timeout = 0.05  # the database never comes back: give up quickly
    await writer.close()
    await db.close()


async def test_duplicate_ids_and_long_values(database: Database) -> None:
    writer = RequestLogWriter(database, flush_seconds=60)
    writer.record(entry(1))
    writer.record(entry(1, status=500))  # a reused request id is logged once
    writer.record(entry(2, tag="t" * 200, model="m" * 500, error_type="e" * 100))
    await writer.flush()
    assert await count_rows(database) == 2
    long = await get(database, "req_000002")
    assert long is not None and long.tag == "t" * 64 and long.model == "m" * 200
    assert long.error_type == "e" * 64


async def test_rejected_row_is_dropped_alone(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    writer = RequestLogWriter(database, flush_seconds=60)
    writer.record(entry(1))
    writer.record(entry(2, status=None))  # NOT NULL violation: the database refuses it
    writer.record(entry(3))
    with caplog.at_level(logging.ERROR, "aigw.request_log"):
        await writer.flush()
    assert await count_rows(database) == 2
    assert await get(database, "req_000002") is None
    assert "req_000002" in caplog.text


@pytest.mark.postgres
async def test_invalid_value_is_dropped_alone_on_postgres(
    postgres_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncpg reports invalid input as a generic DBAPIError; it must still count as bad data.
    (SQLite stores any value in any column, so this case only exists on PostgreSQL.)"""
    db = Database.from_url(postgres_database_url)
    try:
        writer = RequestLogWriter(db, flush_seconds=60)
        for i in range(3):
            writer.record(entry(i, status="abc" if i == 1 else 200))
        with caplog.at_level(logging.ERROR, "aigw.request_log"):
            await writer.flush()
        assert await count_rows(db) == 2
        assert "req_000001" in caplog.text
    finally:
        await db.close()


async def test_buffer_is_bounded_and_drops_oldest(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    writer = RequestLogWriter(database, flush_seconds=60, max_batch=10, max_buffer=100)
    for i in range(250):
        writer.record(entry(i))
    assert writer.pending == 100 and writer.dropped == 150
    with caplog.at_level(logging.ERROR, "aigw.request_log"):
        await writer.flush()
    assert "150 records dropped" in caplog.text
    assert await get(database, "req_000149") is None
    assert await get(database, "req_000150") is not None
    assert await count_rows(database) == 100


async def test_unusable_database_keeps_records_until_it_is_fixed(fresh_database_url: str) -> None:
    """No table yet (as if the schema were broken): nothing is dropped; retried later."""
    db = Database.from_url(fresh_database_url)
    try:
        writer = RequestLogWriter(db, flush_seconds=0.01, max_batch=2, max_backoff=0.05)
        await writer.start()
        for i in range(5):
            writer.record(entry(i))
        await asyncio.sleep(0.2)
        assert writer.pending == 5 and writer.dropped == 0
        await db.migrate()
        await eventually(lambda: writer.pending == 0)
        assert await count_rows(db) == 5
        await writer.close()
    finally:
        await db.close()


async def test_locked_sqlite_is_retried(tmp_path: Any) -> None:
    path = tmp_path / "locked.db"
    db = Database.from_url(f"sqlite:///{path}", busy_timeout_ms=10)
    await db.migrate()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        writer = RequestLogWriter(db, flush_seconds=0.01, max_backoff=0.05)
        await writer.start()
        for i in range(5):
            writer.record(entry(i))
        await asyncio.sleep(0.2)
        assert writer.pending == 5
        holder.execute("COMMIT")
        await eventually(lambda: writer.pending == 0)
        assert await count_rows(db) == 5
        await writer.close()
    finally:
        holder.close()
        await db.close()


async def test_recent_and_get(database: Database) -> None:
    writer = RequestLogWriter(database)
    for i in range(10):
        writer.record(entry(i, ttft_ms=None if i == 3 else 1.0, streamed=i % 2 == 0))
    await writer.flush()
    newest = await recent(database, limit=3)
    assert [e.id for e in newest] == ["req_000009", "req_000008", "req_000007"]
    only_a = await recent(database, account_id="acct_a")
    assert len(only_a) == 5 and all(e.account_id == "acct_a" for e in only_a)
    three = await get(database, "req_000003")
    assert three is not None and three.ttft_ms is None and three.streamed is False
    assert isinstance(three.cost_micro_cents, int) and three.cost_micro_cents == 123_456_789_012
    assert await get(database, "req_missing") is None
