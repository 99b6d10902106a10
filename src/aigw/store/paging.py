"""Keyset pages of an account's rows, newest first, shared by every ``GET /v1/<things>``
list (batches, evals, replays) so the cursor rule is written once.

The order is ``created_at`` descending, then ``id``: ids are random, so ``created_at`` alone
would leave ties (rows made in the same millisecond) in no stable order across pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select

from aigw.store.db import Database


async def newest_first(
    db: Database,
    table: Table,
    account_id: str,
    *,
    after: str | None,
    limit: int,
    where: Iterable[ColumnElement[bool]] = (),
) -> list[Any]:
    """Up to ``limit`` rows of ``account_id`` matching ``where``; ``after`` is the last id of
    the previous page (an unknown or foreign id starts from the newest, as OpenAI does)."""
    c = table.c
    query = select(table).where(c.account_id == account_id, *where)
    async with db.engine.connect() as conn:
        if after is not None:
            cursor = (
                await conn.execute(
                    select(c.created_at, c.id).where(c.id == after, c.account_id == account_id)
                )
            ).first()
            if cursor is not None:
                query = query.where(
                    or_(
                        c.created_at < cursor.created_at,
                        and_(c.created_at == cursor.created_at, c.id > cursor.id),
                    )
                )
        query = query.order_by(c.created_at.desc(), c.id).limit(limit)
        return list(await conn.execute(query))
