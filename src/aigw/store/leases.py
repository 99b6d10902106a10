"""Leases: a worker holds a row until ``lease_until``; a lease that ran out means its worker
died and the row is free again. Jobs, batches and webhook deliveries all claim work this way,
so the rule that makes one worker win is written once, here.

A claim reads candidate ids without a lock, then takes each in its own write transaction with
an UPDATE that checks again that the row is free: whoever's UPDATE changes the row wins, the
others see rowcount 0. On SQLite ``db.write()`` runs those transactions one at a time; on
PostgreSQL an UPDATE of a row another transaction is changing waits for that one to commit and
then re-checks its WHERE against the new row, which is no longer free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.store.db import Database


def free(table: Table, now: int) -> ColumnElement[bool]:
    """Nobody holds the row at ``now``: no lease, or one that ended before it."""
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


async def claim(
    db: Database,
    table: Table,
    *where: ColumnElement[bool],
    worker: str | None,
    now: int,
    lease_ms: int,
    order_by: ColumnElement[Any],
    limit: int,
) -> list[Row[Any]]:
    """Up to ``limit`` free rows matching ``where`` (first by ``order_by``), leased to
    ``worker`` until ``now + lease_ms``; the rows won, as they are after the claim."""
    async with db.engine.connect() as conn:
        query = select(table.c.id).where(*where, free(table, now)).order_by(order_by).limit(limit)
        ids = list((await conn.execute(query)).scalars())
    return await take(db, table, ids, *where, worker=worker, now=now, lease_ms=lease_ms)


async def take(
    db: Database,
    table: Table,
    ids: Iterable[str],
    *where: ColumnElement[bool],
    worker: str | None,
    now: int,
    lease_ms: int,
) -> list[Row[Any]]:
    """Lease each of ``ids`` that is still free and matches ``where``, one write transaction
    per row so a slow row holds no lock on the others. ``worker`` goes to ``claimed_by``;
    None for a table without that column (any process may finish a webhook delivery)."""
    values: dict[str, Any] = {"lease_until": now + lease_ms}
    if worker is not None:
        values["claimed_by"] = worker
    ready = and_(*where, free(table, now))
    won = []
    for row_id in ids:
        async with db.write() as conn:
            done = await conn.execute(
                update(table).where(table.c.id == row_id, ready).values(**values)
            )
            if done.rowcount == 1:
                won.append((await conn.execute(select(table).where(table.c.id == row_id))).one())
    return won


async def renew(
    conn: AsyncConnection,
    table: Table,
    row_id: str,
    *where: ColumnElement[bool],
    worker: str,
    now: int,
    lease_ms: int,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Extend ``worker``'s lease on one row to ``now + lease_ms`` and save ``values`` with it,
    in the caller's transaction (so it can read the row back in the same one). False when the
    row is not ``worker``'s any more or no longer matches ``where`` (ended, cancelled)."""
    done = await conn.execute(
        update(table)
        .where(table.c.id == row_id, table.c.claimed_by == worker, *where)
        .values(lease_until=now + lease_ms, **(values or {}))
    )
    return done.rowcount == 1


async def release(db: Database, table: Table, *where: ColumnElement[bool], worker: str) -> int:
    """Give back every row ``worker`` holds that matches ``where`` (on a clean stop, so the
    next process resumes them at once instead of after the lease); how many."""
    async with db.write() as conn:
        done = await conn.execute(
            update(table)
            .where(table.c.claimed_by == worker, *where)
            .values(lease_until=None, claimed_by=None)
        )
    return done.rowcount
