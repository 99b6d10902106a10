"""BYOK: an account's own provider keys, stored encrypted, shown only by their last four."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update

from aigw.auth.secretbox import SecretBox
from aigw.config import Secret
from aigw.errors import InvalidRequest, NotFound
from aigw.store.db import Database
from aigw.store.tables import now_ms, provider_keys


@dataclass(frozen=True, slots=True)
class ProviderKeyRecord:
    """What the API shows: never the key itself."""

    id: str
    account_id: str
    provider: str
    last4: str
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """A usable key (in memory only)."""

    id: str
    account_id: str
    provider: str
    secret: Secret


def _record(r: Row[Any]) -> ProviderKeyRecord:
    return ProviderKeyRecord(r.id, r.account_id, r.provider, r.last4, r.created_at, r.revoked_at)


async def add_provider_key(
    db: Database, box: SecretBox, account_id: str, provider: str, api_key: str
) -> ProviderKeyRecord:
    api_key = api_key.strip()
    if len(api_key) < 8 or not api_key.isprintable():
        raise InvalidRequest("'api_key' does not look like a provider key.", param="api_key")
    key_id = "pkey_" + secrets.token_hex(12)
    now = now_ms()
    row = {
        "id": key_id,
        "account_id": account_id,
        "provider": provider,
        "ciphertext": box.seal(api_key, context=key_id),
        "last4": api_key[-4:],
        "created_at": now,
        "revoked_at": None,
        "updated_at": now,
    }
    async with db.write() as conn:
        await conn.execute(provider_keys.insert().values(**row))
    return ProviderKeyRecord(key_id, account_id, provider, api_key[-4:], now, None)


async def list_provider_keys(db: Database, account_id: str) -> list[ProviderKeyRecord]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(provider_keys)
            .where(provider_keys.c.account_id == account_id, provider_keys.c.revoked_at.is_(None))
            .order_by(provider_keys.c.created_at)
        )
        return [_record(r) for r in rows]


async def revoke_provider_key(db: Database, account_id: str, key_id: str) -> ProviderKeyRecord:
    now = now_ms()
    async with db.write() as conn:
        await conn.execute(
            update(provider_keys)
            .where(
                provider_keys.c.id == key_id,
                provider_keys.c.account_id == account_id,
                provider_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, updated_at=now)
        )
        row = (
            await conn.execute(
                select(provider_keys).where(
                    provider_keys.c.id == key_id, provider_keys.c.account_id == account_id
                )
            )
        ).first()
    if row is None:
        raise NotFound(f"No provider key {key_id!r}.", param="id")
    return _record(row)


async def changed_provider_keys(
    db: Database, box: SecretBox, since_ms: int
) -> list[tuple[str, ProviderKey | None]]:
    """(id, key or None when revoked) for keys changed since ``since_ms``."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(provider_keys).where(provider_keys.c.updated_at >= since_ms)
        )
        out: list[tuple[str, ProviderKey | None]] = []
        for r in rows:
            if r.revoked_at is not None:
                out.append((r.id, None))
                continue
            secret = box.open(r.ciphertext, context=r.id)
            out.append((r.id, ProviderKey(r.id, r.account_id, r.provider, secret)))
        return out
