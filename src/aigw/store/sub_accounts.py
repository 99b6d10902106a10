"""Sub-accounts: a customer of an account, with its own keys, spending from the account's
wallet under a monthly cap.

Deleting is a soft delete (``deleted_at``, so reports keep the name) that revokes the
sub-account's keys in the same transaction: once billing forgets the sub-account its keys
would spend uncapped, so they must never outlive it. Every change bumps ``updated_at``, which
other processes' billing refresh follows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, select, update

from aigw.store.db import Database
from aigw.store.keys import KeyRecord, create_key
from aigw.store.tables import api_keys, now_ms, sub_accounts

SUB_ACCOUNT_ID_PREFIX = "sub_"
NAME_MAX = 128  # the column widths
EXTERNAL_REF_MAX = 256


@dataclass(frozen=True, slots=True)
class SubAccount:
    id: str
    account_id: str
    name: str
    external_ref: str | None
    spend_cap_cents: int | None  # None: no cap
    rate_limit_rpm: int | None
    default_tag: str | None
    created_at: int  # unix ms
    deleted_at: int | None = None


_COLUMNS = (
    sub_accounts.c.id,
    sub_accounts.c.account_id,
    sub_accounts.c.name,
    sub_accounts.c.external_ref,
    sub_accounts.c.spend_cap_cents,
    sub_accounts.c.rate_limit_rpm,
    sub_accounts.c.default_tag,
    sub_accounts.c.created_at,
    sub_accounts.c.deleted_at,
)


def _sub(row: Row[Any]) -> SubAccount:
    return SubAccount(*row)


def new_sub_account_id() -> str:
    return SUB_ACCOUNT_ID_PREFIX + secrets.token_hex(12)


async def create_sub_account(
    db: Database,
    account_id: str,
    *,
    name: str,
    external_ref: str | None = None,
    spend_cap_cents: int | None = None,
    rate_limit_rpm: int | None = None,
    default_tag: str | None = None,
) -> tuple[SubAccount, KeyRecord, str]:
    """Create a sub-account and its first key; returns the key's plaintext, once.

    Values are trusted (the API checks them). If the key cannot be made, the sub-account is
    removed again, so no sub-account exists without a key."""
    now = now_ms()
    sub = SubAccount(
        new_sub_account_id(),
        account_id,
        name,
        external_ref,
        spend_cap_cents,
        rate_limit_rpm,
        default_tag,
        now,
    )
    async with db.write() as conn:
        await conn.execute(
            sub_accounts.insert().values(
                id=sub.id,
                account_id=account_id,
                name=name,
                external_ref=external_ref,
                spend_cap_cents=spend_cap_cents,
                rate_limit_rpm=rate_limit_rpm,
                default_tag=default_tag,
                created_at=now,
                deleted_at=None,
                updated_at=now,
            )
        )
    try:
        record, plaintext = await create_key(db, account_id, name, sub_account_id=sub.id)
    except BaseException:
        async with db.write() as conn:
            await conn.execute(delete(sub_accounts).where(sub_accounts.c.id == sub.id))
        raise
    return sub, record, plaintext


async def list_sub_accounts(db: Database, account_id: str) -> list[SubAccount]:
    """The account's live sub-accounts, oldest first."""
    query = (
        select(*_COLUMNS)
        .where(sub_accounts.c.account_id == account_id, sub_accounts.c.deleted_at.is_(None))
        .order_by(sub_accounts.c.created_at, sub_accounts.c.id)
    )
    async with db.engine.connect() as conn:
        return [_sub(row) for row in await conn.execute(query)]


async def get_sub_account(db: Database, account_id: str, sub_id: str) -> SubAccount | None:
    """A live sub-account of this account; another account's is as unknown as a missing one."""
    query = select(*_COLUMNS).where(
        sub_accounts.c.id == sub_id,
        sub_accounts.c.account_id == account_id,
        sub_accounts.c.deleted_at.is_(None),
    )
    async with db.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _sub(row) if row is not None else None


async def delete_sub_account(
    db: Database, account_id: str, sub_id: str
) -> tuple[SubAccount, list[str]] | None:
    """Soft-delete and revoke its keys in one transaction: (record, revoked key ids), or None
    when the account has no such live sub-account."""
    now = now_ms()
    async with db.write() as conn:
        row = (
            await conn.execute(
                update(sub_accounts)
                .where(
                    sub_accounts.c.id == sub_id,
                    sub_accounts.c.account_id == account_id,
                    sub_accounts.c.deleted_at.is_(None),
                )
                .values(deleted_at=now, updated_at=now)
                .returning(*_COLUMNS)
            )
        ).first()
        if row is None:
            return None
        key_ids = list(
            (
                await conn.execute(
                    update(api_keys)
                    .where(api_keys.c.sub_account_id == sub_id, api_keys.c.revoked_at.is_(None))
                    .values(revoked_at=now, updated_at=now)
                    .returning(api_keys.c.id)
                )
            ).scalars()
        )
    return _sub(row), key_ids


async def names_of(db: Database, account_id: str) -> dict[str, tuple[str, bool]]:
    """Every sub-account of the account, deleted ones too: id -> (name, deleted)."""
    query = select(sub_accounts.c.id, sub_accounts.c.name, sub_accounts.c.deleted_at).where(
        sub_accounts.c.account_id == account_id
    )
    async with db.engine.connect() as conn:
        return {r[0]: (r[1], r[2] is not None) for r in await conn.execute(query)}
