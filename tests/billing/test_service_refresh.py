"""The billing service's refresh (spend controls made by other processes arrive within
``refresh_seconds``) never puts back a row older than a change this process just made."""

from __future__ import annotations

import asyncio

from aigw.billing.controls import BudgetInfo, SubAccountInfo
from aigw.billing.service import Billing
from aigw.store.accounts import create_account
from aigw.store.budgets import upsert_budget
from aigw.store.db import Database
from aigw.store.sub_accounts import create_sub_account


async def test_a_refresh_that_read_before_a_local_change_does_not_undo_it(
    database: Database,
) -> None:
    account = await create_account(database, "acme")
    budget, _ = await upsert_budget(database, account.id, "exp", 2)
    sub, _, _ = await create_sub_account(database, account.id, name="team", spend_cap_cents=5)
    billing = Billing(database, refresh_seconds=3600)
    await billing.reload()
    assert billing.budgets[(account.id, "exp")].monthly_cap_cents == 2
    assert billing.sub_accounts[sub.id].spend_cap_cents == 5

    refresh = asyncio.create_task(billing.refresh())
    await asyncio.sleep(0)  # the refresh is now waiting on its first read
    # What an API call does after writing its row (here the old rows stay in the database,
    # as a write the refresh's reads do not see yet).
    billing.remember_budget(BudgetInfo(budget.id, account.id, "exp", 3))
    billing.remember_sub_account(SubAccountInfo(sub.id, account.id, "team", 9, None, None))
    await refresh
    assert billing.budgets[(account.id, "exp")].monthly_cap_cents == 3
    assert billing.sub_accounts[sub.id].spend_cap_cents == 9

    # A later refresh, begun after the change, takes the database's rows again.
    await billing.refresh()
    assert billing.budgets[(account.id, "exp")].monthly_cap_cents == 2
    assert billing.sub_accounts[sub.id].spend_cap_cents == 5


async def test_a_refresh_still_brings_other_processes_changes(database: Database) -> None:
    account = await create_account(database, "acme")
    billing = Billing(database, refresh_seconds=3600)
    await billing.reload()
    await upsert_budget(database, account.id, "exp", 7)  # another process's API call
    await billing.refresh()
    assert billing.budgets[(account.id, "exp")].monthly_cap_cents == 7
