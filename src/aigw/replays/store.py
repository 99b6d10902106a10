"""Replay records and shadow rules (rows, views, account-scoped reads)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update

from aigw.billing.pricing import MICRO_CENTS_PER_CENT
from aigw.store.db import Database
from aigw.store.paging import newest_first
from aigw.store.request_bodies import pack, unpack
from aigw.store.tables import now_ms, replays, shadow_rules


def new_replay_id() -> str:
    return "rpl_" + secrets.token_hex(12)


def new_rule_id() -> str:
    return "shr_" + secrets.token_hex(12)


def view(row: Any) -> dict[str, Any]:
    """The API's Replay record (costs in cents, exact to the micro-cent)."""
    return {
        "id": row.id,
        "object": "replay",
        "source_request_id": row.source_request_id,
        "target_request_id": row.target_request_id,
        "source_model": row.source_model,
        "target_model": row.target_model,
        "shadow": bool(row.shadow),
        "rule_id": row.rule_id,
        "status": row.status,
        "error": row.error,
        "cost_source_cents": row.cost_source_micro_cents / MICRO_CENTS_PER_CENT,
        "cost_target_cents": row.cost_target_micro_cents / MICRO_CENTS_PER_CENT,
        "latency_source_ms": row.latency_source_ms,
        "latency_target_ms": row.latency_target_ms,
        "score_delta": row.score_delta,
        "source_output": unpack(row.source_output),
        "target_output": unpack(row.target_output),
        "created_at": row.created_at // 1000,
        "completed_at": None if row.completed_at is None else row.completed_at // 1000,
    }


async def create(db: Database, values: dict[str, Any]) -> Any:
    row = {"id": new_replay_id(), "created_at": now_ms(), **values}
    for name in ("source_output", "target_output"):
        if name in row:
            row[name] = pack(row[name])
    async with db.write() as conn:
        await conn.execute(replays.insert().values(**row))
        return (await conn.execute(select(replays).where(replays.c.id == row["id"]))).one()


async def complete(db: Database, replay_id: str, values: dict[str, Any]) -> None:
    values = {**values, "completed_at": now_ms()}
    if "target_output" in values:
        values["target_output"] = pack(values["target_output"])
    async with db.write() as conn:
        await conn.execute(update(replays).where(replays.c.id == replay_id).values(**values))


async def get(db: Database, replay_id: str, account_id: str) -> Any:
    async with db.engine.connect() as conn:
        return (
            await conn.execute(
                select(replays).where(replays.c.id == replay_id, replays.c.account_id == account_id)
            )
        ).first()


async def list_for(
    db: Database,
    account_id: str,
    *,
    after: str | None,
    limit: int,
    shadow: bool | None = None,
    rule_id: str | None = None,
    target_model: str | None = None,
) -> list[Any]:
    """Newest first; ``after`` is the last id of the previous page."""
    where: list[ColumnElement[bool]] = []
    if shadow is not None:
        where.append(replays.c.shadow.is_(shadow))
    if rule_id is not None:
        where.append(replays.c.rule_id == rule_id)
    if target_model is not None:
        where.append(replays.c.target_model == target_model)
    return await newest_first(db, replays, account_id, after=after, limit=limit, where=where)


# -- shadow rules ---------------------------------------------------------------------------


def rule_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "shadow_rule",
        "source_model": row.source_model,
        "target_model": row.target_model,
        "share": row.share,
        "created_at": row.created_at // 1000,
    }


async def add_rule(
    db: Database, account_id: str, source_model: str, target_model: str, share: float
) -> Any:
    row = {
        "id": new_rule_id(),
        "account_id": account_id,
        "source_model": source_model,
        "target_model": target_model,
        "share": share,
        "created_at": now_ms(),
    }
    async with db.write() as conn:
        await conn.execute(shadow_rules.insert().values(**row))
        query = select(shadow_rules).where(shadow_rules.c.id == row["id"])
        return (await conn.execute(query)).one()


async def rules(db: Database, account_id: str | None = None) -> list[Any]:
    query = select(shadow_rules).order_by(shadow_rules.c.created_at, shadow_rules.c.id)
    if account_id is not None:
        query = query.where(shadow_rules.c.account_id == account_id)
    async with db.engine.connect() as conn:
        return list(await conn.execute(query))


async def delete_rule(db: Database, rule_id: str, account_id: str) -> bool:
    async with db.write() as conn:
        done = await conn.execute(
            delete(shadow_rules).where(
                shadow_rules.c.id == rule_id, shadow_rules.c.account_id == account_id
            )
        )
    return bool(done.rowcount)
