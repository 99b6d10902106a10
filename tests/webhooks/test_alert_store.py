"""The alert watcher against both databases: a crossing is marked (and its event written)
once, however many watchers see it, and a balance back above its threshold re-arms it."""

from __future__ import annotations

from sqlalchemy import func, select

from aigw.billing import ledger
from aigw.billing.ledger import Entry
from aigw.store import accounts
from aigw.store.db import Database
from aigw.store.tables import webhook_deliveries
from aigw.webhooks import store as webhooks
from aigw.webhooks.alerts import AlertWatcher, Thresholds, save_thresholds

USD = 100_000_000


async def _deliveries(db: Database, kind: str) -> int:
    query = select(func.count()).where(webhook_deliveries.c.payload.contains(f'"type":"{kind}"'))
    async with db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


async def test_balance_low_and_usage_once_per_crossing(database: Database) -> None:
    db = database
    account = await accounts.create_account(db, "acme")
    await webhooks.add_endpoint(
        db, account.id, "https://example.com/h", ["balance.low", "usage.threshold"]
    )
    async with db.write() as conn:
        await ledger.append(conn, db, [Entry(account.id, "topup", 10 * USD)])
    await save_thresholds(db, account.id, 5 * USD, [1 * USD, 100 * USD])
    watchers = [AlertWatcher(db, Thresholds(0, ()), poll_seconds=1) for _ in range(3)]
    assert sum([await w.check(account.id) for w in watchers]) == 0  # $10, nothing spent
    async with db.write() as conn:
        await ledger.append(conn, db, [Entry(account.id, "charge", -6 * USD, request_id="r1")])
    assert sum([await w.check(account.id) for w in watchers]) == 2  # below $5, spent $1+
    assert await _deliveries(db, "balance.low") == 1
    assert await _deliveries(db, "usage.threshold") == 1
    async with db.write() as conn:
        await ledger.append(conn, db, [Entry(account.id, "topup", 2 * USD)])
    assert await watchers[0].check(account.id) == 0  # $6: back above, re-armed
    async with db.write() as conn:
        await ledger.append(conn, db, [Entry(account.id, "charge", -2 * USD, request_id="r2")])
    assert sum([await w.check(account.id) for w in watchers]) == 1  # the second fall
    assert await _deliveries(db, "balance.low") == 2
    assert await _deliveries(db, "usage.threshold") == 1  # $100 is far away
