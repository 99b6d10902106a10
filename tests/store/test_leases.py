"""The shared lease rules on SQLite and PostgreSQL: racing workers never both win a row, an
expired lease is taken over and a live one is not, renew and release touch only the holder's
rows. Times are passed in (``now``), so expiry needs no sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from aigw.store import leases
from aigw.store.db import Database
from aigw.store.tables import jobs, webhook_deliveries

T = 1_700_000_000_000
LIVE = jobs.c.status.in_(("queued", "processing"))


async def _jobs(db: Database, count: int, status: str = "queued") -> list[str]:
    ids = [f"job_{status}_{i:04d}" for i in range(count)]
    async with db.write() as conn:
        await conn.execute(
            jobs.insert(),
            [
                {
                    "id": job_id,
                    "account_id": "acct_x",
                    "modality": "video",
                    "model": "simulator/video",
                    "status": status,
                    "request": "{}",
                    "base_url": "http://gw",
                    "created_at": i,
                    "updated_at": i,
                }
                for i, job_id in enumerate(ids)
            ],
        )
    return ids


async def _holders(db: Database) -> dict[str, tuple[str | None, int | None]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(jobs.c.id, jobs.c.claimed_by, jobs.c.lease_until))
        return {r.id: (r.claimed_by, r.lease_until) for r in rows}


async def _claim(db: Database, worker: str, now: int, lease_ms: int = 1000, limit: int = 50) -> Any:
    return await leases.claim(
        db,
        jobs,
        LIVE,
        worker=worker,
        now=now,
        lease_ms=lease_ms,
        order_by=jobs.c.created_at,
        limit=limit,
    )


async def test_two_workers_taking_the_same_rows_never_both_win(
    database: Database, database_url: str
) -> None:
    """Both workers hold the same candidate list (as two processes that read at once do);
    the conditional UPDATE gives each row to exactly one of them."""
    ids = await _jobs(database, 20)
    other = Database.from_url(database_url)  # the second worker is another process
    try:
        won_a, won_b = await asyncio.gather(
            leases.take(database, jobs, ids, LIVE, worker="a", now=T, lease_ms=1000),
            leases.take(other, jobs, ids, LIVE, worker="b", now=T, lease_ms=1000),
        )
    finally:
        await other.close()
    a = {r.id for r in won_a}
    b = {r.id for r in won_b}
    assert not a & b
    assert a | b == set(ids)
    assert all(r.claimed_by == "a" and r.lease_until == T + 1000 for r in won_a)
    assert all(r.claimed_by == "b" for r in won_b)
    holders = await _holders(database)
    assert {i for i, (who, _) in holders.items() if who == "a"} == a


async def test_racing_claims_share_the_rows_out_once(database: Database, database_url: str) -> None:
    ids = await _jobs(database, 30)
    other = Database.from_url(database_url)
    try:
        results = await asyncio.gather(
            *(_claim(database if n % 2 else other, f"w{n}", T) for n in range(5))
        )
    finally:
        await other.close()
    won = [r.id for rows in results for r in rows]
    assert sorted(won) == ids  # every row, each once
    assert await _claim(database, "late", T + 999) == []  # every lease is still live


async def test_claim_takes_free_rows_matching_where_in_order(database: Database) -> None:
    queued = await _jobs(database, 4)
    await _jobs(database, 2, status="completed")
    first = await _claim(database, "a", T, limit=2)
    assert [r.id for r in first] == queued[:2]  # order_by created_at, limit 2
    rest = await _claim(database, "b", T)
    assert [r.id for r in rest] == queued[2:]  # never a completed job, never a held one


async def test_an_expired_lease_is_taken_over(database: Database) -> None:
    (job_id,) = await _jobs(database, 1)
    await _claim(database, "dead", T, lease_ms=1000)
    assert await _claim(database, "alive", T + 1000) == []  # the lease still runs at its end
    (row,) = await _claim(database, "alive", T + 1001, lease_ms=5000)
    assert (row.id, row.claimed_by, row.lease_until) == (job_id, "alive", T + 6001)
    async with database.write() as conn:
        assert not await leases.renew(
            conn, jobs, job_id, LIVE, worker="dead", now=T + 1002, lease_ms=1000
        )
    assert (await _holders(database))[job_id] == ("alive", T + 6001)


async def test_renew_extends_only_the_holders_live_row(database: Database) -> None:
    live, done = await _jobs(database, 1), await _jobs(database, 1, status="completed")
    await _claim(database, "a", T)
    async with database.write() as conn:
        assert await leases.renew(
            conn,
            jobs,
            live[0],
            LIVE,
            worker="a",
            now=T + 500,
            lease_ms=1000,
            values={"upstream_id": "up_1", "updated_at": T + 500},
        )
        assert not await leases.renew(
            conn, jobs, live[0], LIVE, worker="b", now=T + 500, lease_ms=9000
        )
    async with database.engine.connect() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == live[0]))).one()
    assert (row.lease_until, row.upstream_id, row.updated_at) == (T + 1500, "up_1", T + 500)
    async with database.write() as conn:  # a row that stopped matching (it ended)
        await conn.execute(jobs.update().where(jobs.c.id == done[0]).values(claimed_by="a"))
        assert not await leases.renew(conn, jobs, done[0], LIVE, worker="a", now=T, lease_ms=1000)


async def test_release_frees_only_the_releasing_workers_rows(database: Database) -> None:
    ids = await _jobs(database, 4)
    (ended,) = await _jobs(database, 1, status="completed")
    await _claim(database, "a", T, limit=2)
    await _claim(database, "b", T, limit=2)
    async with database.write() as conn:  # a job "a" ended keeps its record of who ran it
        await conn.execute(jobs.update().where(jobs.c.id == ended).values(claimed_by="a"))
    assert await leases.release(database, jobs, LIVE, worker="a") == 2
    holders = await _holders(database)
    assert holders[ids[0]] == holders[ids[1]] == (None, None)
    assert holders[ids[2]] == holders[ids[3]] == ("b", T + 1000)
    assert holders[ended] == ("a", None)
    again = await _claim(database, "c", T + 1)  # before b's lease ends: only a's rows
    assert [r.id for r in again] == ids[:2]


async def test_claim_without_a_worker_writes_only_the_lease(database: Database) -> None:
    """Webhook deliveries have no ``claimed_by``: any process may deliver one."""
    async with database.write() as conn:
        await conn.execute(
            webhook_deliveries.insert(),
            [
                {
                    "id": f"whd_{i}",
                    "event_id": "evt_1",
                    "account_id": "acct_x",
                    "url": "http://hook",
                    "payload": "{}",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": T + due,
                    "created_at": T,
                    "updated_at": T,
                }
                for i, due in enumerate((30, 10, 20, 9999))
            ],
        )

    async def claim_due(now: int) -> list[str]:
        rows = await leases.claim(
            database,
            webhook_deliveries,
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at <= now,
            worker=None,
            now=now,
            lease_ms=1000,
            order_by=webhook_deliveries.c.next_attempt_at,
            limit=20,
        )
        assert all(r.lease_until == now + 1000 for r in rows)
        return [r.id for r in rows]

    assert await claim_due(T + 100) == ["whd_1", "whd_2", "whd_0"]  # due ones, soonest first
    assert await claim_due(T + 200) == []
    assert await claim_due(T + 1101) == ["whd_1", "whd_2", "whd_0"]
