"""Money alerts: ``balance.low`` and ``usage.threshold`` webhook events, off the request path.

Billing tells the watcher which accounts' wallets moved (``Billing.on_change``: a set insert,
the only work added to a request); every ``poll_seconds`` the watcher looks at just those
accounts in the database (balance, this month's charges, thresholds) and compares. Each
crossing is a row in ``alert_marks`` inserted with ON CONFLICT DO NOTHING in the same
transaction as the event's outbox rows, so with any number of processes an alert is sent
once: ``balance.low`` once per fall below the threshold (the mark is removed when the balance
is back at or above it, which re-arms the alert), ``usage.threshold`` once per threshold and
month.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.billing.controls import month_start_ms
from aigw.billing.pricing import micro_cents_to_usd
from aigw.billing.wallet import current_month
from aigw.store.db import Database
from aigw.store.tables import account_alerts, alert_marks, ledger_entries, now_ms, wallets
from aigw.store.usage import SPEND
from aigw.webhooks import store as webhooks

log = logging.getLogger("aigw.webhooks")

MICRO_CENTS_PER_USD = 100_000_000
MAX_THRESHOLDS = 10


def usd_to_micro_cents(value: Decimal) -> int:
    return int(value * MICRO_CENTS_PER_USD)


def parse_thresholds(text: str) -> tuple[int, ...]:
    """``"50, 100"`` (USD) as sorted micro-cents; raises ValueError on a bad amount."""
    out = set()
    for part in text.split(","):
        if part.strip():
            value = Decimal(part.strip())
            if not value.is_finite() or value <= 0:
                raise ValueError(part)
            out.add(usd_to_micro_cents(value))
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class Thresholds:
    balance_low: int  # micro-cents; 0 = off
    usage: tuple[int, ...]  # micro-cents, ascending

    @property
    def any(self) -> bool:
        return self.balance_low > 0 or bool(self.usage)


async def account_thresholds(db: Database, account_id: str) -> tuple[int | None, list[int] | None]:
    """The account's own settings (None = the gateway default)."""
    query = select(account_alerts).where(account_alerts.c.account_id == account_id)
    async with db.engine.connect() as conn:
        row = (await conn.execute(query)).one_or_none()
    if row is None:
        return None, None
    usage = orjson.loads(row.usage_thresholds) if row.usage_thresholds is not None else None
    low = row.balance_low_micro_cents
    return (None if low is None else int(low)), usage


async def save_thresholds(
    db: Database, account_id: str, balance_low: int | None, usage: list[int] | None
) -> None:
    values = {
        "balance_low_micro_cents": balance_low,
        "usage_thresholds": None if usage is None else orjson.dumps(usage).decode(),
        "updated_at": now_ms(),
    }
    stmt = db.insert(account_alerts).values(account_id=account_id, **values)
    async with db.write() as conn:
        await conn.execute(stmt.on_conflict_do_update(index_elements=["account_id"], set_=values))


class AlertWatcher:
    def __init__(
        self, db: Database, defaults: Thresholds, *, poll_seconds: float, wake: Any = None
    ) -> None:
        self.db = db
        self.defaults = defaults
        self.poll = poll_seconds
        self._wake_deliverer = wake
        self._touched: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def touched(self, account_id: str) -> None:
        """Called by billing when an account's wallet moved: cheap, no I/O."""
        self._touched.add(account_id)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aigw-alerts")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.check_now()
            except Exception:
                log.exception("checking alerts failed; retrying")

    async def check_now(self) -> int:
        """Check the accounts touched since the last look; returns the events written."""
        todo, self._touched = self._touched, set()
        sent = 0
        for account_id in todo:
            try:
                sent += await self.check(account_id)
            except Exception:
                self._touched.add(account_id)  # look again next time
                raise
        if sent and self._wake_deliverer is not None:
            self._wake_deliverer()
        return sent

    async def thresholds(self, account_id: str) -> Thresholds:
        low, usage = await account_thresholds(self.db, account_id)
        return Thresholds(
            self.defaults.balance_low if low is None else low,
            self.defaults.usage if usage is None else tuple(sorted(usage)),
        )

    async def check(self, account_id: str) -> int:
        limits = await self.thresholds(account_id)
        if not limits.any:
            return 0
        sent = 0
        async with self.db.write() as conn:
            if limits.balance_low > 0:
                sent += await self._balance(conn, account_id, limits.balance_low)
            if limits.usage:
                sent += await self._usage(conn, account_id, limits.usage)
        return sent

    async def _mark(self, conn: AsyncConnection, account_id: str, kind: str, mark: str) -> bool:
        stmt = self.db.insert(alert_marks).values(
            account_id=account_id, kind=kind, mark=mark, created_at=now_ms()
        )
        done = await conn.execute(stmt.on_conflict_do_nothing())
        return bool(done.rowcount == 1)

    async def _balance(self, conn: AsyncConnection, account_id: str, threshold: int) -> int:
        found = await conn.execute(
            select(wallets.c.balance_micro_cents).where(wallets.c.account_id == account_id)
        )
        balance = int(found.scalar() or 0)
        if balance >= threshold:
            await conn.execute(
                delete(alert_marks).where(
                    alert_marks.c.account_id == account_id, alert_marks.c.kind == "balance.low"
                )
            )
            return 0
        if not await self._mark(conn, account_id, "balance.low", "below"):
            return 0
        data = {
            "object": "balance_alert",
            "account_id": account_id,
            "balance_usd": micro_cents_to_usd(balance),
            "threshold_usd": micro_cents_to_usd(threshold),
        }
        await webhooks.enqueue(conn, account_id, "balance.low", data)
        return 1

    async def _usage(self, conn: AsyncConnection, account_id: str, marks: tuple[int, ...]) -> int:
        month = current_month()
        query = select(-func.sum(ledger_entries.c.amount_micro_cents)).where(
            ledger_entries.c.account_id == account_id,
            SPEND,  # charges less their refunds, as the caps count them
            ledger_entries.c.created_at >= month_start_ms(month),
        )
        spent = int((await conn.execute(query)).scalar() or 0)
        sent = 0
        for threshold in marks:
            if spent < threshold:
                break
            if not await self._mark(conn, account_id, "usage.threshold", f"{month}:{threshold}"):
                continue
            data = {
                "object": "usage_alert",
                "account_id": account_id,
                "month": month,
                "spent_usd": micro_cents_to_usd(spent),
                "threshold_usd": micro_cents_to_usd(threshold),
            }
            await webhooks.enqueue(conn, account_id, "usage.threshold", data)
            sent += 1
        return sent
