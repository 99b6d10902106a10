"""Eval run rows: create, progress with a lease, finish once, and fail the runs whose
process died (their lease ran out)."""

from __future__ import annotations

import secrets
import zlib
from typing import Any

import orjson
from sqlalchemy import select, update

from aigw.routing.eval_alias import RunInfo
from aigw.store.db import Database
from aigw.store.paging import newest_first
from aigw.store.tables import eval_runs, now_ms

INTERRUPTED = "The gateway process running this eval stopped before it finished."


def new_run_id() -> str:
    return "eval_" + secrets.token_hex(12)


def view(row: Any, *, results: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "object": "eval_run",
        "name": row.name,
        "metric": row.metric,
        "status": row.status,
        "candidate_models": orjson.loads(row.candidate_models),
        "judge_model": row.judge_model,
        "match": row.match,
        "dataset_size": row.dataset_size,
        "progress": {"done": row.done, "total": row.total},
        "winner_model": row.winner_model,
        "summary": orjson.loads(row.summary) if row.summary else {},
        "error": row.error,
        "created_at": row.created_at // 1000,
        "completed_at": None if row.completed_at is None else row.completed_at // 1000,
    }
    if results:
        out["results"] = orjson.loads(zlib.decompress(row.results)) if row.results else []
    return out


def dataset_of(row: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = orjson.loads(zlib.decompress(row.dataset))
    return data


async def create(db: Database, values: dict[str, Any], dataset: list[Any], lease_ms: int) -> Any:
    now = now_ms()
    row = {
        **values,
        "id": new_run_id(),
        "status": "running",
        "dataset": zlib.compress(orjson.dumps(dataset), 6),
        "dataset_size": len(dataset),
        "done": 0,
        "lease_until": now + lease_ms,
        "created_at": now,
        "updated_at": now,
    }
    async with db.write() as conn:
        await conn.execute(eval_runs.insert().values(**row))
        return (await conn.execute(select(eval_runs).where(eval_runs.c.id == row["id"]))).one()


async def get(db: Database, run_id: str, account_id: str | None = None) -> Any:
    query = select(eval_runs).where(eval_runs.c.id == run_id)
    if account_id is not None:
        query = query.where(eval_runs.c.account_id == account_id)
    async with db.engine.connect() as conn:
        return (await conn.execute(query)).first()


async def info(db: Database, run_id: str) -> RunInfo | None:
    """What ``eval:<run_id>`` routing needs."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(eval_runs.c.account_id, eval_runs.c.status, eval_runs.c.winner_model).where(
                    eval_runs.c.id == run_id
                )
            )
        ).first()
    return None if row is None else RunInfo(row[0], row[1], row[2])


async def list_for(db: Database, account_id: str, after: str | None, limit: int) -> list[Any]:
    return await newest_first(db, eval_runs, account_id, after=after, limit=limit)


async def progress(db: Database, run_id: str, done: int, lease_ms: int) -> None:
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            update(eval_runs)
            .where(eval_runs.c.id == run_id, eval_runs.c.status == "running")
            .values(done=done, lease_until=now + lease_ms, updated_at=now)
        )


async def finish(db: Database, run_id: str, status: str, **values: Any) -> bool:
    """End a running run once (completed or failed); False if it had already ended."""
    now = now_ms()
    if "results" in values:
        values["results"] = zlib.compress(orjson.dumps(values["results"]), 6)
    if "summary" in values:
        values["summary"] = orjson.dumps(values["summary"]).decode()
    async with db.write() as conn:
        done = await conn.execute(
            update(eval_runs)
            .where(eval_runs.c.id == run_id, eval_runs.c.status == "running")
            .values(status=status, lease_until=None, updated_at=now, completed_at=now, **values)
        )
    return done.rowcount == 1


async def fail_stale(db: Database) -> int:
    """Runs whose process stopped renewing their lease (a crash or restart) end as failed:
    a run is not resumed, it is run again by the client."""
    now = now_ms()
    async with db.write() as conn:
        done = await conn.execute(
            update(eval_runs)
            .where(eval_runs.c.status == "running", eval_runs.c.lease_until < now)
            .values(
                status="failed",
                error=INTERRUPTED,
                lease_until=None,
                updated_at=now,
                completed_at=now,
            )
        )
    return int(done.rowcount or 0)
