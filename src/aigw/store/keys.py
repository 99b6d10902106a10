"""API keys: only the SHA-256 of a key is stored; the plaintext is returned once at creation.

Every change bumps ``updated_at`` so ``changed_since`` lets each process's ``KeyCache`` follow
creations and revocations made elsewhere (another replica, the CLI) within seconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, false, func, select, update

from aigw.auth.keys import KeyInfo, generate_key, hash_key, key_last4, key_prefix
from aigw.errors import InvalidRequest, NotFound
from aigw.store.accounts import require_account
from aigw.store.db import Database
from aigw.store.tables import accounts, api_keys, now_ms
from aigw.webhooks.key_events import key_event

__all__ = [
    "KeyInfo",
    "KeyRecord",
    "active_keys",
    "changed_since",
    "create_key",
    "find_by_hash",
    "get_key",
    "list_keys",
    "revoke_key",
]

KEY_ID_PREFIX = "key_"
KEY_NAME_MAX = 128


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as listed to its owner: never the hash or the plaintext, only prefix + last4."""

    id: str
    account_id: str
    account_name: str
    name: str | None
    prefix: str
    last4: str
    created_at: int  # unix ms
    revoked_at: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


_RECORD_COLUMNS = (
    api_keys.c.id,
    api_keys.c.account_id,
    accounts.c.name,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.last4,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
)
_JOINED = api_keys.join(accounts, api_keys.c.account_id == accounts.c.id)


def _record(row: Row[Any]) -> KeyRecord:
    return KeyRecord(*row)


def _records_query() -> Select[Any]:
    return select(*_RECORD_COLUMNS).select_from(_JOINED)


def _info_query() -> Select[Any]:
    return select(
        api_keys.c.key_hash,
        api_keys.c.id,
        api_keys.c.account_id,
        accounts.c.name,
        api_keys.c.name,
        api_keys.c.revoked_at,
        accounts.c.disabled,
        api_keys.c.sub_account_id,
        func.coalesce(api_keys.c.rate_limit_rpm, accounts.c.rate_limit_rpm),
        func.coalesce(api_keys.c.rate_limit_tpm, accounts.c.rate_limit_tpm),
    ).select_from(_JOINED)


def _info(row: Row[Any]) -> tuple[str, KeyInfo | None]:
    """(hash, info) for an info-query row; info is None when the key must not authenticate."""
    key_hash, key_id, account_id, account_name, key_name, revoked_at, disabled, sub_id, rpm, tpm = (
        row
    )
    if revoked_at is not None or disabled:
        return key_hash, None
    return key_hash, KeyInfo(key_id, account_id, account_name, key_name, sub_id, rpm, tpm)


def _validate_key_name(name: str | None) -> None:
    if name is not None and (not name or len(name) > KEY_NAME_MAX or not name.isprintable()):
        raise InvalidRequest(
            f"Key name must be 1-{KEY_NAME_MAX} printable characters.", param="name"
        )


async def create_key(
    db: Database,
    account: str,
    name: str | None = None,
    *,
    sub_account_id: str | None = None,
    rate_limit_rpm: int | None = None,
    rate_limit_tpm: int | None = None,
) -> tuple[KeyRecord, str]:
    """Create a key for an account (id or name); returns the record and the plaintext, once.

    With ``sub_account_id`` the key belongs to that sub-account of the account."""
    _validate_key_name(name)
    owner = await require_account(db, account)
    if owner.disabled:
        raise InvalidRequest(f"Account {owner.name!r} is disabled.", param="account")
    plaintext = generate_key()
    now = now_ms()
    record = KeyRecord(
        id=KEY_ID_PREFIX + secrets.token_hex(12),
        account_id=owner.id,
        account_name=owner.name,
        name=name,
        prefix=key_prefix(plaintext),
        last4=key_last4(plaintext),
        created_at=now,
        revoked_at=None,
    )
    async with db.write() as conn:
        await conn.execute(
            api_keys.insert().values(
                id=record.id,
                account_id=record.account_id,
                name=record.name,
                key_hash=hash_key(plaintext),
                prefix=record.prefix,
                last4=record.last4,
                created_at=now,
                revoked_at=None,
                updated_at=now,
                sub_account_id=sub_account_id,
                rate_limit_rpm=rate_limit_rpm,
                rate_limit_tpm=rate_limit_tpm,
            )
        )
        await key_event(conn, record.id, "created")
    return record, plaintext


async def get_key(db: Database, key_id: str) -> KeyRecord | None:
    async with db.engine.connect() as conn:
        row = (await conn.execute(_records_query().where(api_keys.c.id == key_id))).first()
    return _record(row) if row is not None else None


async def list_keys(
    db: Database,
    account: str | None = None,
    *,
    include_revoked: bool = True,
    parent_only: bool = False,
) -> list[KeyRecord]:
    """Keys, oldest first; ``parent_only`` leaves out the keys of sub-accounts."""
    query = _records_query().order_by(api_keys.c.created_at, api_keys.c.id)
    if account is not None:
        owner = await require_account(db, account)
        query = query.where(api_keys.c.account_id == owner.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    if parent_only:
        query = query.where(api_keys.c.sub_account_id.is_(None))
    async with db.engine.connect() as conn:
        return [_record(row) for row in await conn.execute(query)]


async def revoke_key(db: Database, key_id: str) -> KeyRecord:
    """Revoke a key (idempotent: revoking twice keeps the first time); ``NotFound`` if unknown."""
    now = now_ms()
    async with db.write() as conn:
        done = await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        if done.rowcount == 1:
            await key_event(conn, key_id, "revoked")
        row = (await conn.execute(_records_query().where(api_keys.c.id == key_id))).first()
    if row is None:
        raise NotFound(f"No API key {key_id!r}.", param="key_id")
    return _record(row)


async def find_by_hash(db: Database, key_hash: str) -> KeyInfo | None:
    """The key with this hash if it may authenticate (not revoked, account not disabled)."""
    async with db.engine.connect() as conn:
        row = (await conn.execute(_info_query().where(api_keys.c.key_hash == key_hash))).first()
    return _info(row)[1] if row is not None else None


async def active_keys(db: Database) -> list[tuple[str, KeyInfo]]:
    """Every key that may authenticate, as (hash, info): the cache's full load."""
    query = _info_query().where(api_keys.c.revoked_at.is_(None), accounts.c.disabled == false())
    async with db.engine.connect() as conn:
        rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
    out: list[tuple[str, KeyInfo]] = []
    for row in rows:
        key_hash, info = _info(row)
        if info is not None:
            out.append((key_hash, info))
    return out


async def changed_since(db: Database, updated_after: int) -> list[tuple[str, KeyInfo | None]]:
    """Keys changed after ``updated_after`` (unix ms) as (hash, info); None = must not work."""
    query = _info_query().where(api_keys.c.updated_at > updated_after)
    async with db.engine.connect() as conn:
        return [_info(row) for row in await conn.execute(query)]
