"""Tag budgets: a monthly spend cap on one cost-attribution tag of an account.

One budget per (account, tag): creating it again replaces the cap and keeps the id. Deleting
removes the row (the table has no tombstone); other processes notice by comparing the set of
budgets (``Billing.refresh``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, or_, select

from aigw.store.db import Database
from aigw.store.tables import budgets, now_ms

BUDGET_ID_PREFIX = "bud_"


@dataclass(frozen=True, slots=True)
class Budget:
    id: str
    account_id: str
    tag: str
    monthly_cap_cents: int
    created_at: int  # unix ms
    updated_at: int


_COLUMNS = (
    budgets.c.id,
    budgets.c.account_id,
    budgets.c.tag,
    budgets.c.monthly_cap_cents,
    budgets.c.created_at,
    budgets.c.updated_at,
)


def _budget(row: Row[Any]) -> Budget:
    return Budget(row[0], row[1], row[2], int(row[3]), int(row[4]), int(row[5]))


async def upsert_budget(
    db: Database, account_id: str, tag: str, monthly_cap_cents: int
) -> tuple[Budget, bool]:
    """Set the cap on ``tag``: (budget, True) when it is new, (budget, False) when replaced."""
    now = now_ms()
    new_id = BUDGET_ID_PREFIX + secrets.token_hex(12)
    stmt = (
        db.insert(budgets)
        .values(
            id=new_id,
            account_id=account_id,
            tag=tag,
            monthly_cap_cents=monthly_cap_cents,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=[budgets.c.account_id, budgets.c.tag],
            set_={"monthly_cap_cents": monthly_cap_cents, "updated_at": now},
        )
        .returning(*_COLUMNS)
    )
    async with db.write() as conn:
        budget = _budget((await conn.execute(stmt)).one())
    return budget, budget.id == new_id


async def list_budgets(db: Database, account_id: str) -> list[Budget]:
    query = select(*_COLUMNS).where(budgets.c.account_id == account_id).order_by(budgets.c.tag)
    async with db.engine.connect() as conn:
        return [_budget(row) for row in await conn.execute(query)]


async def delete_budget(db: Database, account_id: str, id_or_tag: str) -> Budget | None:
    """Remove the account's budget with this id or on this tag; None when there is none."""
    match = (budgets.c.account_id == account_id) & or_(
        budgets.c.id == id_or_tag, budgets.c.tag == id_or_tag
    )
    async with db.write() as conn:
        by_id_first = (budgets.c.id == id_or_tag).desc()
        row = (await conn.execute(select(*_COLUMNS).where(match).order_by(by_id_first))).first()
        if row is None:
            return None
        await conn.execute(delete(budgets).where(budgets.c.id == row[0]))
    return _budget(row)
