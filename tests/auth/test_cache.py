from __future__ import annotations

import asyncio
from pathlib import Path

from aigw.auth.cache import KeyCache, KeyInfo
from aigw.auth.keys import generate_key, hash_key
from aigw.config import Secret
from aigw.store.accounts import create_account, set_account_disabled
from aigw.store.db import Database
from aigw.store.keys import create_key, revoke_key
from aigw.store.meta import ensure_admin_key
from tests.dbfixtures import StatementCounter, eventually


async def test_hits_make_no_database_round_trip(database: Database) -> None:
    await create_account(database, "acme")
    record, key = await create_key(database, "acme", name="ci")
    cache = KeyCache(database, refresh_seconds=3600)
    await cache.start()
    counter = StatementCounter(database)
    try:
        expected = KeyInfo(record.id, record.account_id, "acme", "ci")
        for _ in range(100):
            assert cache.lookup_cached(key) == expected
            assert await cache.lookup(key) == expected
        assert cache.lookup_cached("sk-aig-" + "x" * 40) is None
        assert await cache.lookup("not a key") is None
        assert counter.statements == []
    finally:
        counter.close()
        await cache.stop()


async def test_cache_serves_with_the_database_gone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db/aigw.db"
    db = Database.from_url(url)
    await db.migrate()
    await create_account(db, "acme")
    _, key = await create_key(db, "acme")
    cache = KeyCache(db, refresh_seconds=0.02)
    await cache.start()
    try:
        await db.engine.dispose()
        (tmp_path / "db").rename(tmp_path / "gone")  # any new connection now fails
        await asyncio.sleep(0.1)  # refresh ticks fail meanwhile; the loop must survive
        assert cache.lookup_cached(key) is not None
        assert await cache.lookup(key) is not None
        assert await cache.lookup(generate_key()) is None  # unknown + DB down: rejected
        (tmp_path / "gone").rename(tmp_path / "db")
        other = Database.from_url(url)
        try:
            record, _ = await create_key(other, "acme")
            _, new_key = await create_key(other, "acme")
            await revoke_key(other, record.id)
            await eventually(lambda: cache.lookup_cached(new_key) is not None)  # recovered
        finally:
            await other.close()
        assert cache._task is not None and not cache._task.done()
    finally:
        await cache.stop()
        await db.close()


async def test_revocation_elsewhere_propagates_within_refresh(
    database: Database, database_url: str
) -> None:
    await create_account(database, "acme")
    record, key = await create_key(database, "acme")
    cache = KeyCache(database, refresh_seconds=0.1)
    await cache.start()
    other = Database.from_url(database_url)  # another process / the CLI
    try:
        assert cache.lookup_cached(key) is not None
        await revoke_key(other, record.id)
        lag = await eventually(lambda: cache.lookup_cached(key) is None)
        assert lag < 0.5
    finally:
        await other.close()
        await cache.stop()


async def test_new_key_elsewhere_found_on_miss_then_cached(
    database: Database, database_url: str
) -> None:
    await create_account(database, "acme")
    cache = KeyCache(database, refresh_seconds=3600)
    await cache.start()
    other = Database.from_url(database_url)
    counter = StatementCounter(database)
    try:
        record, key = await create_key(other, "acme")
        assert cache.lookup_cached(key) is None
        results = await asyncio.gather(*(cache.lookup(key) for _ in range(20)))
        assert all(r is not None and r.key_id == record.id for r in results)
        assert counter.count == 1  # concurrent misses share one query
        assert cache.lookup_cached(key) is not None
    finally:
        counter.close()
        await other.close()
        await cache.stop()


async def test_negative_cache(database: Database) -> None:
    cache = KeyCache(database, refresh_seconds=3600, negative_ttl=0.1)
    await cache.start()
    counter = StatementCounter(database)
    try:
        unknown = generate_key()
        assert await cache.lookup(unknown) is None
        assert counter.count == 1
        for _ in range(50):
            assert await cache.lookup(unknown) is None
        assert counter.count == 1  # remembered as unknown
        await asyncio.sleep(0.12)
        assert await cache.lookup(unknown) is None
        assert counter.count == 2  # expired: asked again
    finally:
        counter.close()
        await cache.stop()


async def test_random_keys_cannot_flood_the_database(database: Database) -> None:
    cache = KeyCache(database, refresh_seconds=3600, max_miss_queries_per_second=10)
    await cache.start()
    counter = StatementCounter(database)
    try:
        for _ in range(200):
            assert await cache.lookup(generate_key()) is None
        assert counter.count <= 12
    finally:
        counter.close()
        await cache.stop()


async def test_forget_and_remember(database: Database) -> None:
    await create_account(database, "acme")
    record, key = await create_key(database, "acme")
    cache = KeyCache(database, refresh_seconds=3600)
    await cache.start()
    try:
        info = cache.lookup_cached(key)
        assert info is not None
        await revoke_key(database, record.id)
        cache.forget(record.id)
        assert cache.lookup_cached(key) is None
        assert await cache.lookup(key) is None
        cache.remember(hash_key(key), info)
        assert cache.lookup_cached(key) == info
        assert cache.size == 1
    finally:
        await cache.stop()


async def test_disabling_an_account_drops_its_keys(database: Database, database_url: str) -> None:
    await create_account(database, "acme")
    _, key = await create_key(database, "acme")
    cache = KeyCache(database, refresh_seconds=0.05)
    await cache.start()
    other = Database.from_url(database_url)
    try:
        await set_account_disabled(other, "acme", True)
        await eventually(lambda: cache.lookup_cached(key) is None)
        await set_account_disabled(other, "acme", False)
        await eventually(lambda: cache.lookup_cached(key) is not None)
    finally:
        await other.close()
        await cache.stop()


async def test_full_reload_and_admin_key_in_memory(database: Database, database_url: str) -> None:
    admin = await ensure_admin_key(database, None)
    assert admin is not None
    cache = KeyCache(database, refresh_seconds=0.05, full_reload_seconds=0.1)
    await cache.start()
    other = Database.from_url(database_url)
    counter = StatementCounter(database)
    try:
        counter.reset()
        assert cache.check_admin(admin)
        assert not cache.check_admin(admin[:-1])
        assert not cache.check_admin("")
        assert counter.statements == []  # in memory
        await ensure_admin_key(other, Secret("rotated-admin-key"))  # rotated elsewhere
        await eventually(lambda: cache.check_admin("rotated-admin-key"))
        assert not cache.check_admin(admin)
        await create_account(other, "acme")
        _, key = await create_key(other, "acme")
        await eventually(lambda: cache.lookup_cached(key) is not None)
    finally:
        counter.close()
        await other.close()
        await cache.stop()
