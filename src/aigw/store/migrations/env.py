"""Alembic environment.

The gateway calls ``Database.migrate()``, which hands over an open connection (inside a locked
transaction) through ``config.attributes["connection"]``. Run standalone (a developer using
the ``alembic`` command with ``alembic.ini`` here), it connects to ``AIGW_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from aigw.store.db import Database
from aigw.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.write() as conn:
            await conn.run_sync(_run)
    finally:
        await db.close()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("AIGW_DATABASE_URL", "sqlite:///aigw.db")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_standalone(url))


_main()
