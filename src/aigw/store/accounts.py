"""Accounts: the owner of keys, usage and (later) a wallet."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Row, or_, select, update
from sqlalchemy.exc import IntegrityError

from aigw.errors import InvalidRequest, NotFound
from aigw.store.db import Database
from aigw.store.tables import accounts, api_keys, now_ms

ACCOUNT_ID_PREFIX = "acct_"
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    created_at: int  # unix ms
    disabled: bool


def new_account_id() -> str:
    return ACCOUNT_ID_PREFIX + secrets.token_hex(12)


def _validate_name(name: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise InvalidRequest(
            "Account name must be 1-64 characters of letters, digits, '-', '_' or '.'.",
            param="name",
        )
    if name.startswith(ACCOUNT_ID_PREFIX):
        # Names and ids share one lookup ("id or name"), so a name may not look like an id.
        raise InvalidRequest(
            f"Account name may not start with {ACCOUNT_ID_PREFIX!r}.", param="name"
        )


def _account(row: Row[tuple[str, str, int, bool]]) -> Account:
    return Account(id=row[0], name=row[1], created_at=row[2], disabled=bool(row[3]))


_COLUMNS = (accounts.c.id, accounts.c.name, accounts.c.created_at, accounts.c.disabled)


async def create_account(db: Database, name: str) -> Account:
    """Create an account; ``InvalidRequest(param="name")`` if the name is bad or taken."""
    _validate_name(name)
    account = Account(id=new_account_id(), name=name, created_at=now_ms(), disabled=False)
    try:
        async with db.write() as conn:
            await conn.execute(
                accounts.insert().values(
                    id=account.id,
                    name=account.name,
                    created_at=account.created_at,
                    disabled=False,
                )
            )
    except IntegrityError:
        raise InvalidRequest(f"An account named {name!r} already exists.", param="name") from None
    return account


async def get_account(db: Database, id_or_name: str) -> Account | None:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            select(*_COLUMNS).where(or_(accounts.c.id == id_or_name, accounts.c.name == id_or_name))
        )
        row = result.first()
    return _account(row) if row is not None else None


async def require_account(db: Database, id_or_name: str, *, param: str = "account") -> Account:
    """Like ``get_account`` but raises ``NotFound`` naming ``param``."""
    account = await get_account(db, id_or_name)
    if account is None:
        raise NotFound(f"No account {id_or_name!r}.", param=param)
    return account


async def list_accounts(db: Database) -> list[Account]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            select(*_COLUMNS).order_by(accounts.c.created_at, accounts.c.id)
        )
        return [_account(row) for row in result]


async def set_account_disabled(db: Database, id_or_name: str, disabled: bool) -> Account:
    """Disable or re-enable an account. Its keys' ``updated_at`` is bumped in the same
    transaction, so every process's key cache drops (or restores) them within seconds."""
    account = await require_account(db, id_or_name)
    async with db.write() as conn:
        await conn.execute(
            update(accounts).where(accounts.c.id == account.id).values(disabled=disabled)
        )
        await conn.execute(
            update(api_keys).where(api_keys.c.account_id == account.id).values(updated_at=now_ms())
        )
    return Account(account.id, account.name, account.created_at, disabled)


async def set_account_limits(
    db: Database, id_or_name: str, *, rpm: int | None, tpm: int | None
) -> Account:
    """Set an account's default limits (None: the gateway's default; 0: unlimited). Its
    keys' ``updated_at`` is bumped so every process's key cache picks the change up."""
    for name, value in (("rate_limit_rpm", rpm), ("rate_limit_tpm", tpm)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InvalidRequest(f"'{name}' must be a non-negative integer.", param=name)
    account = await require_account(db, id_or_name)
    async with db.write() as conn:
        await conn.execute(
            update(accounts)
            .where(accounts.c.id == account.id)
            .values(rate_limit_rpm=rpm, rate_limit_tpm=tpm)
        )
        await conn.execute(
            update(api_keys).where(api_keys.c.account_id == account.id).values(updated_at=now_ms())
        )
    return account


async def get_account_store_bodies(db: Database, account_id: str) -> bool:
    """Whether the account lets the gateway keep its request bodies (for replays)."""
    async with db.engine.connect() as conn:
        value = (
            await conn.execute(select(accounts.c.store_bodies).where(accounts.c.id == account_id))
        ).scalar()
    return bool(value) if value is not None else True


async def set_account_store_bodies(db: Database, id_or_name: str, store_bodies: bool) -> Account:
    """Opt the account in or out of keeping request bodies; bodies already kept stay until
    the retention pruner removes them (bodies not yet written are not written)."""
    account = await require_account(db, id_or_name)
    async with db.write() as conn:
        await conn.execute(
            update(accounts).where(accounts.c.id == account.id).values(store_bodies=store_bodies)
        )
    return account
