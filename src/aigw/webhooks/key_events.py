"""The ``key.rotated`` webhook event: an API key was created, revoked or rotated.

Written into the outbox in the transaction that changes the key (``store/keys.py``,
``store/key_rotation.py``), so every path that manages keys (the admin API, ``/v1/keys``,
sub-accounts, the CLI) emits it exactly once, and the CLI's events are delivered by any
running gateway. The payload never holds the key itself, only its prefix and last four.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.store.tables import api_keys
from aigw.webhooks.store import enqueue

EVENT = "key.rotated"


async def key_event(
    conn: AsyncConnection, key_id: str, action: str, previous_key_id: str | None = None
) -> None:
    """Queue ``key.rotated`` (``action``: created | revoked | rotated) for the key's account."""
    row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).one()
    data: dict[str, Any] = {
        "object": "api_key",
        "action": action,
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "last4": row.last4,
        "sub_account_id": row.sub_account_id,
        "created_at": int(row.created_at) // 1000,
        "revoked_at": None if row.revoked_at is None else int(row.revoked_at) // 1000,
    }
    if previous_key_id is not None:
        data["previous_key_id"] = previous_key_id
    await enqueue(conn, row.account_id, EVENT, data)
