"""The SQLite one-hop writer: whole transactions, rollback on error, and turns with the engine."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy import func, select

from aigw.billing import ledger
from aigw.billing.ledger import Entry
from aigw.store.accounts import create_account
from aigw.store.db import Database
from aigw.store.tables import ledger_entries

USD = 100_000_000


# The direct writer exists on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class LoopTicks:
    """Counts the event loop's 10 ms sleeps from its start: proof the loop kept running."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.count += 1

    def stop(self) -> None:
        self._task.cancel()


async def test_postgresql_has_no_direct_writer(database: Database) -> None:
    assert (database.direct is None) == (database.dialect == "postgresql")


@sqlite_only
async def test_append_direct_matches_the_ledger_and_verifies(database: Database) -> None:
    assert database.direct is not None
    acme = (await create_account(database, "acme")).id
    beta = (await create_account(database, "beta")).id
    await ledger.adjust(database, "acme", 10 * USD, "opening")
    entries = [
        Entry(acme, "charge", -3, request_id="r1"),
        Entry(beta, "charge", -5, request_id="r2", tag="t"),
        Entry(acme, "charge", -4, request_id="r3"),
    ]
    states = await database.direct.run(lambda conn: ledger.append_direct(conn, entries))
    by_account = {s.account_id: s.balance_micro_cents for s in states}
    assert by_account == {acme: 10 * USD - 7, beta: -5}
    assert await ledger.verify(database) == (2, [])
    found = await ledger.entries_for(database, beta)
    assert [(e.request_id, e.tag, e.amount_micro_cents) for e in found] == [("r2", "t", -5)]


@sqlite_only
async def test_a_failing_transaction_leaves_nothing_behind(database: Database) -> None:
    assert database.direct is not None
    acme = (await create_account(database, "acme")).id

    def half_then_fail(conn: sqlite3.Connection) -> None:
        ledger.append_direct(conn, [Entry(acme, "charge", -1, request_id="r1")])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await database.direct.run(half_then_fail)
    # An unknown account breaks the foreign key: the whole batch is refused, not half of it.
    with pytest.raises(sqlite3.IntegrityError):
        await database.direct.run(
            lambda conn: ledger.append_direct(
                conn, [Entry(acme, "charge", -1), Entry("nobody", "charge", -1)]
            )
        )
    async with database.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(ledger_entries))).scalar()
    assert count == 0
    assert await ledger.verify(database) == (0, [])


@sqlite_only
async def test_direct_and_engine_writers_take_turns(database: Database) -> None:
    direct = database.direct
    assert direct is not None
    acme = (await create_account(database, "acme")).id

    async def direct_charges() -> None:
        for i in range(50):
            await direct.run(
                lambda conn, i=i: ledger.append_direct(conn, [Entry(acme, "charge", -1, f"d{i}")])
            )

    async def engine_credits() -> None:
        for _ in range(50):
            await ledger.adjust(database, "acme", 2, "credit")

    await asyncio.gather(direct_charges(), engine_credits())
    (state,) = await ledger.wallet_states(database, account_id=acme)
    assert state.balance_micro_cents == 50 and state.version == 100
    assert await ledger.verify(database) == (1, [])


@sqlite_only
async def test_a_held_write_lock_sends_the_work_to_the_thread(database: Database) -> None:
    """The event loop never waits for SQLite's lock: a busy database means the thread."""
    direct = database.direct
    assert direct is not None
    acme = (await create_account(database, "acme")).id
    await direct.run(lambda conn: ledger.append_direct(conn, [Entry(acme, "charge", -1)]))
    assert (direct.inline_runs, direct.threaded_runs) == (1, 0)

    async with database.write() as conn:  # holds the write lock (BEGIN IMMEDIATE)
        await conn.execute(select(1))
        charge = asyncio.create_task(
            direct.run(lambda conn: ledger.append_direct(conn, [Entry(acme, "charge", -2)]))
        )
        ticks = LoopTicks()
        await asyncio.sleep(0.2)
        assert not charge.done()  # waiting for the lock, in the thread
        assert ticks.count >= 10  # while the loop kept running
    await charge
    ticks.stop()
    assert (direct.inline_runs, direct.threaded_runs) == (1, 1)
    (state,) = await ledger.wallet_states(database, account_id=acme)
    assert state.balance_micro_cents == -3


@sqlite_only
async def test_a_lock_held_by_the_writers_own_thread_is_waited_for_on_the_loop(
    database: Database,
) -> None:
    """A request-log batch in the writer's thread holds the lock: a charge waits for that
    batch to end (the loop keeps running) and is then written inline, not queued behind it
    in the thread or left sleeping in SQLite's busy handler."""
    direct = database.direct
    assert direct is not None
    acme = (await create_account(database, "acme")).id
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def long_batch(conn: sqlite3.Connection) -> None:
        ledger.append_direct(conn, [Entry(acme, "charge", -1, request_id="batch")])
        loop.call_soon_threadsafe(started.set)
        time.sleep(0.2)  # the lock stays taken meanwhile

    batch = asyncio.create_task(direct.run_threaded(long_batch))
    await started.wait()
    ticks = LoopTicks()
    charge = asyncio.create_task(
        direct.run(lambda conn: ledger.append_direct(conn, [Entry(acme, "charge", -2)]))
    )
    await asyncio.sleep(0.05)
    assert not charge.done() and not batch.done()
    await charge
    assert batch.done()  # the charge went in after the batch, as soon as it ended
    ticks.stop()
    assert ticks.count >= 5  # the loop ran while the charge waited
    assert (direct.inline_runs, direct.threaded_runs, direct.waits) == (1, 1, 1)
    (state,) = await ledger.wallet_states(database, account_id=acme)
    assert state.balance_micro_cents == -3 and state.version == 2
