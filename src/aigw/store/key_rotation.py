"""Rotate an API key: a new key with the old one's name, owner, sub-account and limits, and
the old one revoked, in one transaction (with its ``key.rotated`` event), so there is never a
moment with both or neither working on the database's side."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from aigw.auth.keys import generate_key, hash_key, key_last4, key_prefix
from aigw.errors import InvalidRequest, NotFound
from aigw.store.db import Database
from aigw.store.keys import KEY_ID_PREFIX, KeyRecord, get_key
from aigw.store.tables import api_keys, now_ms
from aigw.webhooks.key_events import key_event


async def rotate_key(db: Database, key_id: str) -> tuple[KeyRecord, KeyRecord, str]:
    """(old record, new record, new plaintext); 404 for an unknown key, 400 for a revoked one."""
    plaintext = generate_key()
    new_id = KEY_ID_PREFIX + secrets.token_hex(12)
    now = now_ms()
    async with db.write() as conn:
        old = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).one_or_none()
        if old is None:
            raise NotFound(f"No API key {key_id!r}.", param="id")
        done = await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        if done.rowcount != 1:
            raise InvalidRequest("A revoked key cannot be rotated.", param="id")
        await conn.execute(
            api_keys.insert().values(
                id=new_id,
                account_id=old.account_id,
                name=old.name,
                key_hash=hash_key(plaintext),
                prefix=key_prefix(plaintext),
                last4=key_last4(plaintext),
                created_at=now,
                revoked_at=None,
                updated_at=now,
                sub_account_id=old.sub_account_id,
                rate_limit_rpm=old.rate_limit_rpm,
                rate_limit_tpm=old.rate_limit_tpm,
            )
        )
        await key_event(conn, new_id, "rotated", previous_key_id=key_id)
    old_record, new_record = await get_key(db, key_id), await get_key(db, new_id)
    assert old_record is not None and new_record is not None
    return old_record, new_record, plaintext
