from __future__ import annotations

import pytest
from sqlalchemy import func, select

from aigw.auth.keys import hash_key
from aigw.errors import InvalidRequest
from aigw.store.accounts import create_account, set_account_disabled
from aigw.store.db import Database
from aigw.store.keys import find_by_hash, get_key
from aigw.store.sub_accounts import (
    create_sub_account,
    delete_sub_account,
    get_sub_account,
    list_sub_accounts,
    names_of,
)
from aigw.store.tables import sub_accounts


async def test_create_makes_a_key_that_belongs_to_the_sub_account(database: Database) -> None:
    acct = await create_account(database, "acme")
    sub, record, plaintext = await create_sub_account(
        database, acct.id, name="Customer", external_ref="cus_1", spend_cap_cents=500
    )
    assert sub.id.startswith("sub_") and sub.account_id == acct.id
    assert (sub.name, sub.external_ref, sub.spend_cap_cents) == ("Customer", "cus_1", 500)
    assert sub.rate_limit_rpm is None and sub.default_tag is None and sub.deleted_at is None
    assert record.account_id == acct.id and record.name == "Customer"
    info = await find_by_hash(database, hash_key(plaintext))
    assert info is not None and info.sub_account_id == sub.id and info.account_id == acct.id
    assert await get_sub_account(database, acct.id, sub.id) == sub


async def test_list_and_get_are_scoped_to_the_account(database: Database) -> None:
    acme = await create_account(database, "acme")
    other = await create_account(database, "other")
    first, _, _ = await create_sub_account(database, acme.id, name="first")
    second, _, _ = await create_sub_account(database, acme.id, name="second")
    theirs, _, _ = await create_sub_account(database, other.id, name="theirs")
    assert [s.id for s in await list_sub_accounts(database, acme.id)] == [first.id, second.id]
    assert await get_sub_account(database, acme.id, theirs.id) is None
    assert await get_sub_account(database, other.id, theirs.id) == theirs


async def test_delete_is_soft_and_revokes_every_key_in_the_same_transaction(
    database: Database,
) -> None:
    acme = await create_account(database, "acme")
    other = await create_account(database, "other")
    sub, record, plaintext = await create_sub_account(database, acme.id, name="leaving")
    assert await delete_sub_account(database, other.id, sub.id) is None, "not theirs"
    assert await find_by_hash(database, hash_key(plaintext)) is not None

    done = await delete_sub_account(database, acme.id, sub.id)
    assert done is not None
    deleted, key_ids = done
    assert key_ids == [record.id]
    assert deleted.id == sub.id and deleted.deleted_at is not None
    assert await find_by_hash(database, hash_key(plaintext)) is None
    revoked = await get_key(database, record.id)
    assert revoked is not None and revoked.revoked_at == deleted.deleted_at
    assert await get_sub_account(database, acme.id, sub.id) is None
    assert await list_sub_accounts(database, acme.id) == []
    assert await delete_sub_account(database, acme.id, sub.id) is None, "only once"
    # Soft: reports still find the name.
    assert await names_of(database, acme.id) == {sub.id: ("leaving", True)}


async def test_no_sub_account_is_left_without_a_key(database: Database) -> None:
    acme = await create_account(database, "acme")
    await set_account_disabled(database, "acme", True)
    with pytest.raises(InvalidRequest):
        await create_sub_account(database, acme.id, name="orphan")
    async with database.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(sub_accounts))).scalar()
    assert count == 0
