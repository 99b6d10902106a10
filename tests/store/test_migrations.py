from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Integer, MetaData, inspect, text

from aigw.store.db import Database, alembic_config
from aigw.store.tables import metadata


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _diff(db: Database, target: MetaData = metadata) -> list[Any]:
    def compare(conn: Connection) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, target))

    async with db.engine.connect() as conn:
        return await conn.run_sync(compare)


async def _version(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


def test_migrations_are_one_linear_chain() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].down_revision is None
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision


async def test_migrated_schema_matches_tables_and_is_idempotent(fresh_database_url: str) -> None:
    db = Database.from_url(fresh_database_url)
    try:
        await db.migrate()
        await db.migrate()  # second run: a no-op
        assert await _version(db) == _head()
        assert await _diff(db) == []

        def names(conn: Connection) -> dict[str, set[str]]:
            insp = inspect(conn)
            return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

        async with db.engine.connect() as conn:
            found = await conn.run_sync(names)
        expected = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
        assert found.pop("alembic_version") == {"version_num"}
        assert found == expected
    finally:
        await db.close()


async def test_schema_check_detects_drift(database: Database) -> None:
    drifted = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["accounts"].append_column(Column("extra", Integer))
    assert await _diff(database, drifted) != []


async def test_concurrent_migrations_are_safe(fresh_database_url: str) -> None:
    dbs = [Database.from_url(fresh_database_url) for _ in range(3)]  # like 3 processes
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        assert await _version(dbs[0]) == _head()
        assert await _diff(dbs[0]) == []
    finally:
        for db in dbs:
            await db.close()


async def test_downgrade_to_base_and_back(fresh_database_url: str) -> None:
    db = Database.from_url(fresh_database_url)
    try:
        await db.migrate()
        async with db.write() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await db.migrate()
        assert await _diff(db) == []
    finally:
        await db.close()
