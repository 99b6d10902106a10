"""Spend controls (sub-account caps and tag budgets): their definitions, their cap keys, and
the database reads that feed them to the in-memory wallets.

Kept apart from ``service.py``, which decides when to read (start-up, the refresh timer, a
new budget) and what to skip; the reads here only say what the database holds.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from aigw.store.db import Database
from aigw.store.tables import budgets, ledger_entries, sub_accounts
from aigw.store.usage import SPEND


@dataclass(frozen=True, slots=True)
class SubAccountInfo:
    id: str
    account_id: str
    name: str
    spend_cap_cents: int | None
    rate_limit_rpm: int | None
    default_tag: str | None


@dataclass(frozen=True, slots=True)
class BudgetInfo:
    id: str
    account_id: str
    tag: str
    monthly_cap_cents: int


def month_start_ms(month: str) -> int:
    """Unix ms at 00:00 UTC on the first day of ``month`` ("YYYY-MM")."""
    return calendar.timegm(time.strptime(month + "-01", "%Y-%m-%d")) * 1000


def sub_key(sub_id: str) -> str:
    """The wallet cap key of a sub-account's spend cap."""
    return "sub:" + sub_id


def tag_key(account_id: str, tag: str) -> str:
    """The wallet cap key of an account's budget on a tag."""
    return f"tag:{account_id}:{tag}"


@dataclass(slots=True)
class Changed:
    """Spend controls changed since a time: sub-accounts (None: deleted) and budgets."""

    sub_accounts: dict[str, SubAccountInfo | None]
    budgets: dict[tuple[str, str], BudgetInfo]


async def changed_since(db: Database, since_ms: int) -> Changed:
    async with db.engine.connect() as conn:
        subs = await conn.execute(select(sub_accounts).where(sub_accounts.c.updated_at >= since_ms))
        found: dict[str, SubAccountInfo | None] = {}
        for r in subs:
            found[r.id] = (
                None
                if r.deleted_at is not None
                else SubAccountInfo(
                    r.id, r.account_id, r.name, r.spend_cap_cents, r.rate_limit_rpm, r.default_tag
                )
            )
        rows = await conn.execute(select(budgets).where(budgets.c.updated_at >= since_ms))
        tagged = {
            (r.account_id, r.tag): BudgetInfo(r.id, r.account_id, r.tag, int(r.monthly_cap_cents))
            for r in rows
        }
    return Changed(found, tagged)


async def month_spend(db: Database, month: str) -> dict[str, int]:
    """This month's spend under every sub-account and tag that has any, by cap key."""
    charged = -func.sum(ledger_entries.c.amount_micro_cents)
    base = select().where(SPEND, ledger_entries.c.created_at >= month_start_ms(month))
    spent: dict[str, int] = {}
    async with db.engine.connect() as conn:
        by_sub = await conn.execute(
            base.add_columns(ledger_entries.c.sub_account_id, charged)
            .where(ledger_entries.c.sub_account_id.is_not(None))
            .group_by(ledger_entries.c.sub_account_id)
        )
        for sub_id, amount in by_sub:
            spent[sub_key(sub_id)] = int(amount or 0)
        by_tag = await conn.execute(
            base.add_columns(ledger_entries.c.account_id, ledger_entries.c.tag, charged)
            .where(ledger_entries.c.tag.is_not(None))
            .group_by(ledger_entries.c.account_id, ledger_entries.c.tag)
        )
        for account_id, tag, amount in by_tag:
            spent[tag_key(account_id, tag)] = int(amount or 0)
    return spent


async def cap_spend(db: Database, cap_key: str, month: str) -> int:
    """This month's charges under one cap (by its key), less their refunds."""
    where = [SPEND, ledger_entries.c.created_at >= month_start_ms(month)]
    kind, _, rest = cap_key.partition(":")
    if kind == "sub":
        where.append(ledger_entries.c.sub_account_id == rest)
    else:
        account_id, _, tag = rest.partition(":")
        where += [ledger_entries.c.account_id == account_id, ledger_entries.c.tag == tag]
    query = select(-func.sum(ledger_entries.c.amount_micro_cents)).where(*where)
    async with db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


async def budget_ids(db: Database) -> set[str]:
    """The ids of the budgets that exist (they are deleted outright: no tombstone)."""
    async with db.engine.connect() as conn:
        return set((await conn.execute(select(budgets.c.id))).scalars())
