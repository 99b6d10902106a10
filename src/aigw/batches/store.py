"""Batch rows: create, read, list, cancel, and the lease-based claim the worker uses (the
same pattern as jobs: one conditional UPDATE decides who runs a batch)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from sqlalchemy import select, update

from aigw.store import leases
from aigw.store.db import Database
from aigw.store.paging import newest_first
from aigw.store.tables import batches, now_ms
from aigw.webhooks import store as webhooks

RUNNING = ("validating", "in_progress", "cancelling")
WINDOW_S = 24 * 3600


def new_batch_id() -> str:
    return "batch_" + secrets.token_hex(12)


def _s(ms: int | None) -> int | None:
    return None if ms is None else int(ms) // 1000


def view(r: Any) -> dict[str, Any]:
    """OpenAI's Batch object."""
    return {
        "id": r.id,
        "object": "batch",
        "endpoint": r.endpoint,
        "errors": orjson.loads(r.errors) if r.errors else None,
        "input_file_id": r.input_file_id,
        "completion_window": r.completion_window,
        "status": r.status,
        "output_file_id": r.output_file_id,
        "error_file_id": r.error_file_id,
        "created_at": _s(r.created_at),
        "in_progress_at": _s(r.in_progress_at),
        "expires_at": int(deadline_ms(r)) // 1000,
        "finalizing_at": _s(r.finalizing_at),
        "completed_at": _s(r.completed_at),
        "failed_at": _s(r.failed_at),
        "expired_at": _s(r.expired_at),
        "cancelling_at": _s(r.cancelling_at),
        "cancelled_at": _s(r.cancelled_at),
        "request_counts": {"total": r.total, "completed": r.completed, "failed": r.failed},
        "metadata": orjson.loads(r.metadata) if r.metadata else None,
    }


def deadline_ms(r: Any) -> int:
    """When the batch's completion window ends (rows made before 0009 have 24 h)."""
    return int(r.expires_at) if r.expires_at is not None else int(r.created_at) + WINDOW_S * 1000


async def create(db: Database, values: dict[str, Any], window_s: float = WINDOW_S) -> Any:
    now = now_ms()
    expires = now + int(window_s * 1000)
    async with db.write() as conn:
        await conn.execute(
            batches.insert().values(
                **values, status="validating", created_at=now, updated_at=now, expires_at=expires
            )
        )
        return (await conn.execute(select(batches).where(batches.c.id == values["id"]))).one()


async def get(db: Database, batch_id: str, account_id: str | None = None) -> Any:
    query = select(batches).where(batches.c.id == batch_id)
    if account_id is not None:
        query = query.where(batches.c.account_id == account_id)
    async with db.engine.connect() as conn:
        return (await conn.execute(query)).one_or_none()


async def list_for(db: Database, account_id: str, after: str | None, limit: int) -> list[Any]:
    return await newest_first(db, batches, account_id, after=after, limit=limit)


async def cancel(db: Database, batch_id: str, account_id: str) -> Any:
    """A batch nobody runs yet is cancelled at once; a running one is asked to stop (its
    worker finishes it as cancelled, keeping the lines already done)."""
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            update(batches)
            .where(
                batches.c.id == batch_id,
                batches.c.account_id == account_id,
                batches.c.status.in_(("validating", "in_progress")),
            )
            .values(status="cancelling", cancelling_at=now, updated_at=now)
        )
    return await get(db, batch_id, account_id)


async def claim(db: Database, worker: str, lease_ms: int, limit: int) -> list[Any]:
    return await leases.claim(
        db,
        batches,
        batches.c.status.in_(RUNNING),
        worker=worker,
        now=now_ms(),
        lease_ms=lease_ms,
        order_by=batches.c.created_at,
        limit=limit,
    )


async def renew(
    db: Database, batch_id: str, worker: str, lease_ms: int, **values: Any
) -> str | None:
    """Extend the lease and save ``values``; the batch's status, or None if it is not ours."""
    now = now_ms()
    async with db.write() as conn:
        ours = await leases.renew(
            conn,
            batches,
            batch_id,
            batches.c.status.in_(RUNNING),
            worker=worker,
            now=now,
            lease_ms=lease_ms,
            values={"updated_at": now, **values},
        )
        if not ours:
            return None
        found = await conn.execute(select(batches.c.status).where(batches.c.id == batch_id))
        return str(found.scalar_one())


async def release(db: Database, worker: str) -> None:
    await leases.release(db, batches, batches.c.status.in_(RUNNING), worker=worker)


async def end(db: Database, batch_id: str, worker: str, status: str, **values: Any) -> bool:
    """completed | failed | cancelled | expired, once; ``batch.completed`` is queued with it."""
    now = now_ms()
    stamp = {
        "completed": "completed_at",
        "failed": "failed_at",
        "cancelled": "cancelled_at",
        "expired": "expired_at",
    }
    async with db.write() as conn:
        done = await conn.execute(
            update(batches)
            .where(
                batches.c.id == batch_id,
                batches.c.claimed_by == worker,
                batches.c.status.in_(RUNNING),
            )
            .values(
                status=status, lease_until=None, updated_at=now, **{stamp[status]: now}, **values
            )
        )
        if done.rowcount != 1:
            return False
        row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).one()
        if status == "completed":
            await webhooks.enqueue(conn, row.account_id, "batch.completed", view(row))
    return True
