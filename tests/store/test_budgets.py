from __future__ import annotations

import asyncio

from aigw.store.accounts import create_account
from aigw.store.budgets import delete_budget, list_budgets, upsert_budget
from aigw.store.db import Database


async def test_upsert_creates_then_replaces_keeping_the_id(database: Database) -> None:
    acme = await create_account(database, "acme")
    first, created = await upsert_budget(database, acme.id, "team-a", 500)
    assert created and first.id.startswith("bud_")
    assert (first.account_id, first.tag, first.monthly_cap_cents) == (acme.id, "team-a", 500)
    await asyncio.sleep(0.002)
    second, created = await upsert_budget(database, acme.id, "team-a", 900)
    assert not created
    assert (second.id, second.monthly_cap_cents) == (first.id, 900)
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert await list_budgets(database, acme.id) == [second]


async def test_budgets_are_per_account(database: Database) -> None:
    acme = await create_account(database, "acme")
    other = await create_account(database, "other")
    b, _ = await upsert_budget(database, acme.id, "shared-tag", 1)
    a, _ = await upsert_budget(database, acme.id, "another", 2)
    theirs, created = await upsert_budget(database, other.id, "shared-tag", 3)
    assert created and theirs.id != b.id
    assert [x.tag for x in await list_budgets(database, acme.id)] == ["another", "shared-tag"]
    assert await delete_budget(database, other.id, b.id) is None
    assert await delete_budget(database, acme.id, "shared-tag") == b
    assert await delete_budget(database, acme.id, a.id) == a
    assert await delete_budget(database, acme.id, a.id) is None
    assert await list_budgets(database, acme.id) == []
    assert await list_budgets(database, other.id) == [theirs]
