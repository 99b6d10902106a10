from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from aigw.auth.keys import KeyInfo, hash_key
from aigw.errors import InvalidRequest, NotFound
from aigw.store.accounts import create_account, set_account_disabled
from aigw.store.db import Database
from aigw.store.keys import (
    active_keys,
    changed_since,
    create_key,
    find_by_hash,
    get_key,
    list_keys,
    revoke_key,
)
from aigw.store.tables import api_keys, now_ms


async def test_create_key_stores_only_the_hash(database: Database) -> None:
    acct = await create_account(database, "acme")
    record, plaintext = await create_key(database, "acme", name="ci")
    assert re.fullmatch(r"sk-aig-[A-Za-z0-9]{32,}", plaintext)
    assert record.id.startswith("key_")
    assert record.account_id == acct.id and record.account_name == "acme"
    assert record.prefix == plaintext[:11] and record.last4 == plaintext[-4:]
    assert not record.revoked

    async with database.engine.connect() as conn:
        row = (await conn.execute(select(api_keys))).one()._mapping
    assert row["key_hash"] == hash_key(plaintext)
    assert all(plaintext not in str(value) for value in row.values())
    assert row["updated_at"] == row["created_at"]


async def test_listing_never_exposes_hash_or_plaintext(database: Database) -> None:
    await create_account(database, "acme")
    await create_account(database, "other")
    _, plaintext = await create_key(database, "acme")
    await create_key(database, "other")
    listed = await list_keys(database)
    assert len(listed) == 2
    names = {f.name for f in dataclasses.fields(listed[0])}
    assert "key_hash" not in names and "key" not in names
    for record in listed:
        values = [str(v) for v in dataclasses.astuple(record)]
        assert hash_key(plaintext) not in values and plaintext not in values
    only = await list_keys(database, "acme")
    assert [r.account_name for r in only] == ["acme"]
    with pytest.raises(NotFound):
        await list_keys(database, "ghost")


async def test_create_key_errors(database: Database) -> None:
    with pytest.raises(NotFound) as missing:
        await create_key(database, "ghost")
    assert missing.value.param == "account"
    await create_account(database, "acme")
    with pytest.raises(InvalidRequest) as bad_name:
        await create_key(database, "acme", name="x" * 129)
    assert bad_name.value.param == "name"
    await set_account_disabled(database, "acme", True)
    with pytest.raises(InvalidRequest):
        await create_key(database, "acme")


async def test_revoke(database: Database) -> None:
    await create_account(database, "acme")
    record, plaintext = await create_key(database, "acme")
    assert await find_by_hash(database, hash_key(plaintext)) == KeyInfo(
        record.id, record.account_id, "acme", None
    )
    revoked = await revoke_key(database, record.id)
    assert revoked.revoked and revoked.revoked_at is not None
    assert await find_by_hash(database, hash_key(plaintext)) is None
    again = await revoke_key(database, record.id)  # idempotent, keeps the first time
    assert again.revoked_at == revoked.revoked_at
    assert await get_key(database, record.id) == revoked
    assert [r.id for r in await list_keys(database, include_revoked=False)] == []
    with pytest.raises(NotFound) as err:
        await revoke_key(database, "key_missing")
    assert err.value.param == "key_id"


async def test_disabled_account_keys_do_not_authenticate(database: Database) -> None:
    await create_account(database, "acme")
    _, plaintext = await create_key(database, "acme")
    await set_account_disabled(database, "acme", True)
    assert await find_by_hash(database, hash_key(plaintext)) is None
    assert await active_keys(database) == []
    await set_account_disabled(database, "acme", False)
    assert await find_by_hash(database, hash_key(plaintext)) is not None


async def test_changed_since_reports_creations_and_revocations(database: Database) -> None:
    await create_account(database, "acme")
    before = now_ms() - 1
    r1, k1 = await create_key(database, "acme", name="one")
    r2, k2 = await create_key(database, "acme", name="two")
    changes = dict(await changed_since(database, before))
    assert changes[hash_key(k1)] == KeyInfo(r1.id, r1.account_id, "acme", "one")
    assert set(changes) == {hash_key(k1), hash_key(k2)}

    mark = now_ms() - 1
    await revoke_key(database, r2.id)
    changes = dict(await changed_since(database, mark))
    assert changes[hash_key(k2)] is None

    mark = now_ms() - 1
    await set_account_disabled(database, "acme", True)
    changes = dict(await changed_since(database, mark))
    assert changes == {hash_key(k1): None, hash_key(k2): None}
    assert await changed_since(database, now_ms() + 1000) == []
