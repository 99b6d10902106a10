"""Webhook secrets, endpoints and the delivery outbox (rows written in the caller's
transaction, so an event exists exactly when the state change that caused it does)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.store import leases
from aigw.store.db import Database
from aigw.store.tables import (
    now_ms,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_secrets,
)
from aigw.webhooks.signing import new_secret


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


async def get_secret(db: Database, account_id: str) -> str:
    """The account's signing secret, created on first use (the first writer wins)."""
    stmt = db.insert(webhook_secrets).values(
        account_id=account_id, secret=new_secret(), created_at=now_ms()
    )
    async with db.write() as conn:
        found = (
            await conn.execute(
                select(webhook_secrets.c.secret).where(webhook_secrets.c.account_id == account_id)
            )
        ).scalar_one_or_none()
        if found is not None:
            return str(found)
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["account_id"]))
        return str(
            (
                await conn.execute(
                    select(webhook_secrets.c.secret).where(
                        webhook_secrets.c.account_id == account_id
                    )
                )
            ).scalar_one()
        )


async def rotate_secret(db: Database, account_id: str) -> str:
    """A new secret; the old one signs nothing from now on."""
    secret = new_secret()
    stmt = db.insert(webhook_secrets).values(
        account_id=account_id, secret=secret, created_at=now_ms()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id"], set_={"secret": secret, "created_at": now_ms()}
    )
    async with db.write() as conn:
        await conn.execute(stmt)
    return secret


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    events: list[str]
    created_at: int

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "events": self.events,
            "created_at": self.created_at // 1000,
        }


async def add_endpoint(db: Database, account_id: str, url: str, events: list[str]) -> Endpoint:
    found = Endpoint(new_id("whe_"), url, events, now_ms())
    async with db.write() as conn:
        await conn.execute(
            webhook_endpoints.insert().values(
                id=found.id,
                account_id=account_id,
                url=url,
                events=orjson.dumps(events).decode(),
                created_at=found.created_at,
            )
        )
    return found


async def list_endpoints(db: Database, account_id: str) -> list[Endpoint]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(webhook_endpoints)
            .where(webhook_endpoints.c.account_id == account_id)
            .order_by(webhook_endpoints.c.created_at)
        )
        return [Endpoint(r.id, r.url, orjson.loads(r.events), r.created_at) for r in rows]


async def delete_endpoint(db: Database, account_id: str, endpoint_id: str) -> bool:
    async with db.write() as conn:
        done = await conn.execute(
            delete(webhook_endpoints).where(
                webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.account_id == account_id
            )
        )
    return bool(done.rowcount)


async def enqueue(
    conn: AsyncConnection,
    account_id: str,
    event_type: str,
    data: dict[str, Any],
    extra_url: str | None = None,
) -> int:
    """Write one event's deliveries: to ``extra_url`` (a job's own webhook) and every endpoint
    of the account subscribed to the type. Returns how many."""
    rows = await conn.execute(
        select(webhook_endpoints.c.url, webhook_endpoints.c.events).where(
            webhook_endpoints.c.account_id == account_id
        )
    )
    urls = [r.url for r in rows if event_type in orjson.loads(r.events)]
    if extra_url:
        urls.insert(0, extra_url)
    if not urls:
        return 0
    now = now_ms()
    event_id = new_id("evt_")
    payload = orjson.dumps(
        {"id": event_id, "type": event_type, "created": now // 1000, "data": data}
    ).decode()
    await conn.execute(
        webhook_deliveries.insert(),
        [
            {
                "id": new_id("whd_"),
                "event_id": event_id,
                "account_id": account_id,
                "url": url,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for url in dict.fromkeys(urls)
        ],
    )
    return len(urls)


async def claim_due(db: Database, lease_ms: int, limit: int = 20) -> list[Any]:
    """Deliveries due now, each claimed by one process through a conditional UPDATE."""
    now = now_ms()
    return await leases.claim(
        db,
        webhook_deliveries,
        webhook_deliveries.c.status == "pending",
        webhook_deliveries.c.next_attempt_at <= now,
        worker=None,
        now=now,
        lease_ms=lease_ms,
        order_by=webhook_deliveries.c.next_attempt_at,
        limit=limit,
    )


async def record_attempt(
    db: Database,
    delivery_id: str,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: float,
    outcome: str,
    next_attempt_at: int,
) -> None:
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            webhook_attempts.insert().values(
                id=new_id("wha_"),
                delivery_id=delivery_id,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                created_at=now,
            )
        )
        await conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                status=outcome,
                attempts=webhook_deliveries.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                lease_until=None,
                updated_at=now,
            )
        )


async def deliveries_for(db: Database, account_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """Recent deliveries with their attempts (what happened to each event)."""
    async with db.engine.connect() as conn:
        rows = list(
            await conn.execute(
                select(webhook_deliveries)
                .where(webhook_deliveries.c.account_id == account_id)
                .order_by(webhook_deliveries.c.created_at.desc())
                .limit(limit)
            )
        )
        ids = [r.id for r in rows]
        attempts = list(
            await conn.execute(
                select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(ids))
                .order_by(webhook_attempts.c.created_at)
            )
        )
    out = []
    for r in rows:
        out.append(
            {
                "id": r.id,
                "event_id": r.event_id,
                "url": r.url,
                "status": r.status,
                "attempts": [
                    {
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                        "created": a.created_at // 1000,
                    }
                    for a in attempts
                    if a.delivery_id == r.id
                ],
                "created": r.created_at // 1000,
            }
        )
    return out
