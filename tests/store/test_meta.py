from __future__ import annotations

import asyncio

from aigw.auth.keys import hash_key
from aigw.config import Secret
from aigw.store.db import Database
from aigw.store.meta import (
    ADMIN_KEY_HASH,
    check_admin_key,
    ensure_admin_key,
    get_meta,
    set_meta,
)


async def test_get_set_upsert(database: Database) -> None:
    assert await get_meta(database, "schema.note") is None
    await set_meta(database, "schema.note", "one")
    await set_meta(database, "schema.note", "two")
    assert await get_meta(database, "schema.note") == "two"


async def test_admin_key_generated_once_and_stored_hashed(database: Database) -> None:
    plaintext = await ensure_admin_key(database, None)
    assert plaintext is not None and plaintext.startswith("sk-aig-admin-")
    assert len(plaintext) >= len("sk-aig-admin-") + 32
    assert await get_meta(database, ADMIN_KEY_HASH) == hash_key(plaintext)
    assert await ensure_admin_key(database, None) is None  # already there: nothing to print
    assert await check_admin_key(database, plaintext)
    assert not await check_admin_key(database, plaintext + "x")


async def test_configured_admin_key_replaces_stored_one(database: Database) -> None:
    generated = await ensure_admin_key(database, None)
    assert generated is not None
    assert await ensure_admin_key(database, Secret("my-configured-admin-key")) is None
    assert await check_admin_key(database, "my-configured-admin-key")
    assert not await check_admin_key(database, generated)


async def test_no_admin_key_means_no_admin(database: Database) -> None:
    assert not await check_admin_key(database, "anything")


async def test_concurrent_bootstrap_prints_exactly_one_key(database_url: str) -> None:
    dbs = [Database.from_url(database_url) for _ in range(4)]  # like 4 processes starting
    try:
        results = await asyncio.gather(*(ensure_admin_key(db, None) for db in dbs))
        printed = [r for r in results if r is not None]
        assert len(printed) == 1
        assert await check_admin_key(dbs[0], printed[0])
    finally:
        for db in dbs:
            await db.close()
