from __future__ import annotations

import pytest

from aigw.errors import InvalidRequest, NotFound
from aigw.store.accounts import (
    create_account,
    get_account,
    list_accounts,
    require_account,
    set_account_disabled,
)
from aigw.store.db import Database


async def test_create_get_list(database: Database) -> None:
    a = await create_account(database, "acme")
    b = await create_account(database, "beta.team_2-x")
    assert a.id.startswith("acct_") and len(a.id) == 5 + 24
    assert not a.disabled and a.created_at > 0
    assert await get_account(database, a.id) == a
    assert await get_account(database, "acme") == a
    assert await get_account(database, "nope") is None
    assert [x.name for x in await list_accounts(database)] == ["acme", "beta.team_2-x"]
    assert await require_account(database, b.name) == b
    with pytest.raises(NotFound) as err:
        await require_account(database, "ghost")
    assert err.value.param == "account"


async def test_duplicate_name_is_an_invalid_request_naming_the_param(database: Database) -> None:
    await create_account(database, "acme")
    with pytest.raises(InvalidRequest) as err:
        await create_account(database, "acme")
    assert err.value.param == "name"
    assert "already exists" in err.value.message
    assert len(await list_accounts(database)) == 1


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "semi;colon", "ünïcode", "acct_x"])
async def test_invalid_names(database: Database, name: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        await create_account(database, name)
    assert err.value.param == "name"


async def test_disable_and_enable(database: Database) -> None:
    a = await create_account(database, "acme")
    off = await set_account_disabled(database, "acme", True)
    assert off.disabled and off.id == a.id
    assert (await get_account(database, a.id)) == off
    on = await set_account_disabled(database, a.id, False)
    assert not on.disabled
