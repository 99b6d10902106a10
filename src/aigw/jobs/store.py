"""Job rows: create (with its charge, in one transaction), read, claim, and the conditional
status changes that make a job end exactly once (completed, failed or cancelled)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.billing import ledger
from aigw.billing.ledger import Entry, WalletState
from aigw.store import leases
from aigw.store.db import Database
from aigw.store.tables import jobs, now_ms
from aigw.webhooks import store as webhooks

LIVE = ("queued", "processing")
TERMINAL = ("completed", "failed", "cancelled")


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    account_id: str
    modality: str
    model: str
    status: str
    request: dict[str, Any]
    upstream_id: str | None
    result: dict[str, Any] | None
    result_file: str | None
    error: str | None
    webhook_url: str | None
    base_url: str
    charged: int
    created_at: int
    updated_at: int
    sub_account_id: str | None = None
    tag: str | None = None

    @property
    def result_url(self) -> str | None:
        if self.result_file is None:
            return None
        return f"{self.base_url}/v1/files/jobs/{self.id}/{self.result_file}"

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "job",
            "status": self.status,
            "modality": self.modality,
            "model": self.model,
            "created_at": self.created_at // 1000,
            "updated_at": self.updated_at // 1000,
            "result_url": self.result_url,
            "result": self.result,
            "error": self.error,
            "cost": self.charged / 100_000_000,
        }


def _job(r: Any) -> Job:
    return Job(
        id=r.id,
        account_id=r.account_id,
        modality=r.modality,
        model=r.model,
        status=r.status,
        request=orjson.loads(r.request),
        upstream_id=r.upstream_id,
        result=orjson.loads(r.result) if r.result else None,
        result_file=r.result_file,
        error=r.error,
        webhook_url=r.webhook_url,
        base_url=r.base_url,
        charged=int(r.charged_micro_cents),
        created_at=int(r.created_at),
        updated_at=int(r.updated_at),
        sub_account_id=r.sub_account_id,
        tag=r.tag,
    )


def refund_of(job: Job) -> Entry:
    """The refund of a job that did not complete: it gives the charge back to the wallet
    and, carrying the job's sub-account and tag, to their monthly caps."""
    return Entry(
        job.account_id,
        "refund",
        job.charged,
        request_id=job.id,
        sub_account_id=job.sub_account_id,
        tag=job.tag,
    )


async def create(
    db: Database, values: dict[str, Any], charge: Entry | None
) -> tuple[Job, WalletState | None]:
    """Insert the job and its charge together: no job without its charge, nor the reverse."""
    now = now_ms()
    row = {**values, "status": "queued", "created_at": now, "updated_at": now}
    state = None
    async with db.write() as conn:
        await conn.execute(jobs.insert().values(**row))
        if charge is not None:
            (state,) = await ledger.append(conn, db, [charge])
        found = (await conn.execute(select(jobs).where(jobs.c.id == row["id"]))).one()
    return _job(found), state


async def get(db: Database, job_id: str, account_id: str | None = None) -> Job | None:
    query = select(jobs).where(jobs.c.id == job_id)
    if account_id is not None:
        query = query.where(jobs.c.account_id == account_id)
    async with db.engine.connect() as conn:
        found = (await conn.execute(query)).one_or_none()
    return _job(found) if found else None


async def claim(db: Database, worker: str, lease_ms: int, limit: int) -> list[Job]:
    """Live jobs nobody holds, each taken by one worker through a conditional UPDATE."""
    rows = await leases.claim(
        db,
        jobs,
        jobs.c.status.in_(LIVE),
        worker=worker,
        now=now_ms(),
        lease_ms=lease_ms,
        order_by=jobs.c.created_at,
        limit=limit,
    )
    return [_job(row) for row in rows]


async def renew(db: Database, job_id: str, worker: str, lease_ms: int, **values: Any) -> bool:
    """Extend the lease (and save ``values``); False when the job is no longer ours to run
    (cancelled meanwhile, or ended)."""
    now = now_ms()
    extra = {"updated_at": now, **values} if values else {}
    async with db.write() as conn:
        return await leases.renew(
            conn,
            jobs,
            job_id,
            jobs.c.status.in_(LIVE),
            worker=worker,
            now=now,
            lease_ms=lease_ms,
            values=extra,
        )


async def release(db: Database, worker: str) -> None:
    """On a clean stop: give our jobs back so the next process resumes them at once."""
    await leases.release(db, jobs, jobs.c.status.in_(LIVE), worker=worker)


async def finish(
    db: Database,
    job: Job,
    status: str,
    *,
    worker: str | None = None,
    result: dict[str, Any] | None = None,
    result_file: str | None = None,
    error: str | None = None,
) -> tuple[Job | None, WalletState | None, int]:
    """End a live job once: failed and cancelled jobs are refunded, and the event is queued,
    in the same transaction. Returns (the ended job or None if it had already ended, the
    wallet after a refund, deliveries queued)."""
    now = now_ms()
    where = [jobs.c.id == job.id, jobs.c.status.in_(LIVE)]
    if worker is not None:
        where.append(jobs.c.claimed_by == worker)
    values: dict[str, Any] = {"status": status, "updated_at": now, "lease_until": None}
    if result is not None:
        values["result"] = orjson.dumps(result).decode()
    if result_file is not None:
        values["result_file"] = result_file
    if error is not None:
        values["error"] = error
    state = None
    queued = 0
    async with db.write() as conn:
        done = await conn.execute(update(jobs).where(*where).values(**values))
        if done.rowcount != 1:
            return None, None, 0
        ended = _job((await conn.execute(select(jobs).where(jobs.c.id == job.id))).one())
        if status != "completed" and ended.charged:
            (state,) = await ledger.append(conn, db, [refund_of(ended)])
        queued = await _event(conn, ended)
    return ended, state, queued


async def _event(conn: AsyncConnection, job: Job) -> int:
    if job.status == "cancelled":
        return 0
    kind = "job.completed" if job.status == "completed" else "job.failed"
    return await webhooks.enqueue(conn, job.account_id, kind, job.view(), job.webhook_url)
