"""Small key/value facts about this installation (the admin-key hash, schema facts)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from aigw.auth.keys import generate_admin_key, hash_key, verify_hash
from aigw.config import Secret
from aigw.store.db import Database
from aigw.store.tables import meta

log = logging.getLogger("aigw.store")

ADMIN_KEY_HASH = "admin_key_hash"


async def get_meta(db: Database, key: str) -> str | None:
    async with db.engine.connect() as conn:
        return (
            await conn.execute(select(meta.c.value).where(meta.c.key == key))
        ).scalar_one_or_none()


async def set_meta(db: Database, key: str, value: str) -> None:
    """Insert or replace one value."""
    stmt = db.insert(meta).values(key=key, value=value)
    stmt = stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
    async with db.write() as conn:
        await conn.execute(stmt)


async def ensure_admin_key(db: Database, configured: Secret | None) -> str | None:
    """Make sure an admin key exists; returns a plaintext only when one was just generated.

    A configured key always wins (its hash replaces the stored one). Otherwise the first
    process to start generates one; the insert is "if absent", so when several processes
    start at once exactly one of them generates (and prints) it.
    """
    if configured:
        await set_meta(db, ADMIN_KEY_HASH, hash_key(configured.reveal()))
        return None
    if await get_meta(db, ADMIN_KEY_HASH) is not None:
        return None
    plaintext = generate_admin_key()
    stmt = (
        db.insert(meta)
        .values(key=ADMIN_KEY_HASH, value=hash_key(plaintext))
        .on_conflict_do_nothing(index_elements=[meta.c.key])
    )
    async with db.write() as conn:
        inserted = (await conn.execute(stmt)).rowcount
    if inserted != 1:
        return None  # another process won the race and printed its key
    log.info("generated a new admin key (stored hashed)")
    return plaintext


async def check_admin_key(db: Database, token: str) -> bool:
    """Check a token against the stored admin hash (a DB read: for the CLI and tools; the
    request path uses ``KeyCache.check_admin``, which holds the hash in memory)."""
    return verify_hash(token, await get_meta(db, ADMIN_KEY_HASH))
