"""Claims are atomic: workers racing for the same jobs each get a disjoint share, on SQLite
and PostgreSQL; an expired lease is taken over, a live one is not."""

from __future__ import annotations

import asyncio

from aigw.jobs import store
from aigw.store.db import Database


def _values(i: int) -> dict[str, object]:
    return {
        "id": f"job_{i:024d}",
        "account_id": "acct_x",
        "modality": "video",
        "model": "simulator/video",
        "request": "{}",
        "base_url": "http://gw",
    }


async def test_racing_workers_claim_each_job_once(database: Database) -> None:
    await database.migrate()
    for i in range(30):
        await store.create(database, _values(i), None)
    results = await asyncio.gather(*(store.claim(database, f"w{n}", 60_000, 30) for n in range(5)))
    ids = [job.id for taken in results for job in taken]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert await store.claim(database, "late", 60_000, 30) == []  # all leases are live


async def test_expired_lease_is_taken_over_and_the_loser_cannot_finish(database: Database) -> None:
    await database.migrate()
    job, _ = await store.create(database, _values(1), None)
    (mine,) = await store.claim(database, "dead", -1, 1)  # a lease already expired
    (theirs,) = await store.claim(database, "alive", 60_000, 1)
    assert mine.id == theirs.id == job.id
    assert not await store.renew(database, job.id, "dead", 60_000)
    ended, _, _ = await store.finish(database, job, "completed", worker="dead")
    assert ended is None  # only the current holder can end it
    ended, _, _ = await store.finish(database, job, "completed", worker="alive")
    assert ended is not None and ended.status == "completed"
    ended, _, _ = await store.finish(database, job, "cancelled")
    assert ended is None  # ended exactly once
